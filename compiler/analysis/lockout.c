/* Lockout guard: the current SSH session as packets, judged by ir_eval. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>

#include "lockout.h"

static bool parse_addr(const char *text, uint8_t *family, uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN + 16];
	snprintf(buf, sizeof(buf), "%s", text);
	char *zone = strchr(buf, '%');
	if (zone)
		*zone = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = IR_V4;
		return true;
	}
	uint8_t a6[16];
	if (inet_pton(AF_INET6, buf, a6) != 1)
		return false;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	if (!memcmp(a6, mapped, sizeof(mapped))) { /* ::ffff:a.b.c.d arrives as IPv4 */
		memcpy(addr, a6 + 12, 4);
		*family = IR_V4;
	} else {
		memcpy(addr, a6, 16);
		*family = IR_V6;
	}
	return true;
}

static bool parse_port(const char *text, uint16_t *port)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || end == text || v == 0 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

bool ssh_session_parse(const char *text, struct ssh_session *s)
{
	memset(s, 0, sizeof(*s));
	char buf[256], *f[5] = {0}, *save = NULL;
	snprintf(buf, sizeof(buf), "%s", text);
	int n = 0;
	for (char *t = strtok_r(buf, " \t", &save); t && n < 5; t = strtok_r(NULL, " \t", &save))
		f[n++] = t;
	uint8_t fc, fs;
	if (n != 4 || !parse_addr(f[0], &fc, s->client) || !parse_port(f[1], &s->cport) ||
	    !parse_addr(f[2], &fs, s->server) || !parse_port(f[3], &s->sport) || fc != fs)
		return false;
	s->family = fc;
	return true;
}

struct route_ans {
	uint32_t oif;
};

static int route_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == RTA_OIF && mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
		((struct route_ans *)data)->oif = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWROUTE)
		mnl_attr_parse(nlh, sizeof(struct rtmsg), route_attr_cb, data);
	return MNL_CB_OK;
}

int ssh_session_route(struct ssh_session *s)
{
	char buf[8192];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETROUTE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = s->family == IR_V6 ? AF_INET6 : AF_INET;
	rtm->rtm_dst_len = s->family == IR_V6 ? 128 : 32;
	mnl_attr_put(nlh, RTA_DST, s->family == IR_V6 ? 16 : 4, s->client);

	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -1;
	struct route_ans ans = {0};
	int ret = -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 && mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) >= 0) {
		uint32_t portid = mnl_socket_get_portid(nl);
		ssize_t got;
		while ((got = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
			ret = mnl_cb_run(buf, (size_t)got, nlh->nlmsg_seq, portid, route_cb, &ans);
			if (ret <= 0)
				break;
		}
	}
	int e = errno;
	mnl_socket_close(nl);
	if (ret < 0) {
		errno = e;
		return -1;
	}
	if (!ans.oif || !if_indextoname(ans.oif, s->iface)) {
		s->iface[0] = '\0';
		errno = ENODEV;
		return -1;
	}
	return 0;
}

int lockout_check(const struct ir_ruleset *rs, const struct ssh_session *s,
		  struct lockout_probe probes[LOCKOUT_PROBES])
{
	static const struct {
		const char *what;
		bool in;
		uint8_t flags, ct;
	} shape[LOCKOUT_PROBES] = {
		{"a new login (SYN in)", true, TCPF_SYN, CT_NEW},
		{"a new login's answer (SYN+ACK out)", false, TCPF_SYN | TCPF_ACK, CT_ESTABLISHED},
		{"this session's packets in (ACK)", true, TCPF_ACK | TCPF_PSH, CT_ESTABLISHED},
		{"this session's packets out (ACK)", false, TCPF_ACK | TCPF_PSH, CT_ESTABLISHED},
	};
	int refused = 0;
	for (int i = 0; i < LOCKOUT_PROBES; i++) {
		struct lockout_probe *p = &probes[i];
		memset(p, 0, sizeof(*p));
		p->what = shape[i].what;
		struct ir_packet *k = &p->pkt;
		k->hook = shape[i].in ? IR_INPUT : IR_OUTPUT;
		k->family = s->family;
		k->l4proto = IR_TCP;
		memcpy(shape[i].in ? k->saddr : k->daddr, s->client, 16);
		memcpy(shape[i].in ? k->daddr : k->saddr, s->server, 16);
		k->sport = shape[i].in ? s->cport : s->sport;
		k->dport = shape[i].in ? s->sport : s->cport;
		k->tcp_flags = shape[i].flags;
		k->icmp_type = -1;
		k->ct_state = shape[i].ct;
		const char *ifc = s->iface[0] ? s->iface : NULL;
		if (shape[i].in)
			k->iif = ifc;
		else
			k->oif = ifc;
		p->v = ir_eval(rs, k);
		refused += p->v.action != IR_ACCEPT;
	}
	return refused;
}

void ssh_session_format(const struct ssh_session *s, char *buf, size_t len)
{
	char c[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN];
	int af = s->family == IR_V6 ? AF_INET6 : AF_INET;
	inet_ntop(af, s->client, c, sizeof(c));
	inet_ntop(af, s->server, v, sizeof(v));
	snprintf(buf, len, "%s port %u -> %s port %u", c, s->cport, v, s->sport);
}
