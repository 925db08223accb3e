/* pinholed: reads copies of control connections' packets (NFLOG), parses them
 * (runtime/proto), and opens the exact pinholes their messages negotiate as timed elements
 * of the policy's sets. See man/pinholed.8.scd and runtime/README.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_compat.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "netns.h"
#include "pd_nft.h"
#include "pd_nl.h"
#include "pd_pkt.h"
#include "pd_policy.h"
#include "pd_reload.h"
#include "pd_swap.h"
#include "pd_table.h"

#define PD_IDLE_MS (15u * 60 * 1000) /* a followed connection silent this long may be reused */
#define PD_MAX_OPS 64
#define PD_MAX_PORTS 4               /* ports one offer's range may open (RTP + RTCP pairs) */

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

struct daemon {
	struct pd_policy *pol;           /* heap: its targets are pointed at, it never moves */
	const char *policy;              /* --policy and -L, to read it again after a reload */
	const char *const *libdirs;
	size_t nlib;
	struct pd_table *tab;
	struct mnl_socket *log, *ct, *nft, *mon;
	struct pd_reload reload;
	uint32_t seq;
	struct pd_elem_op ops[PD_MAX_OPS];
	size_t nops;
	struct pd_own own;               /* this host's addresses, for relayed offers */
	uint64_t own_ms;                 /* when they were read */
};


static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* This host's addresses, read again when an offer comes a second or more after the
 * last reading (offers are rare; an address added since then is seen). */
static const struct pd_own *own_addrs(struct daemon *d)
{
	uint64_t now = now_ms();
	if (d->own_ms && now - d->own_ms < 1000)
		return &d->own;
	d->own_ms = now;
	d->own.n = 0;
	struct ifaddrs *ifa;
	if (getifaddrs(&ifa) < 0)
		return &d->own;
	for (struct ifaddrs *i = ifa; i && d->own.n < PD_MAX_OWN; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		uint8_t fam = (uint8_t)i->ifa_addr->sa_family;
		d->own.v[d->own.n].family = fam;
		memset(d->own.v[d->own.n].a, 0, 16);
		if (fam == AF_INET)
			memcpy(d->own.v[d->own.n].a, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		else
			memcpy(d->own.v[d->own.n].a, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		d->own.n++;
	}
	freeifaddrs(ifa);
	return &d->own;
}

static void put_addr(char *buf, size_t len, uint8_t family, const uint8_t *a)
{
	inet_ntop(family, a, buf, (socklen_t)len);
}

static void log_pinhole(const char *what, const struct pd_target *t, const struct pd_pinhole *ph,
			const char *msg, const char *why)
{
	char p[INET6_ADDRSTRLEN], l[INET6_ADDRSTRLEN];
	put_addr(p, sizeof(p), ph->family, ph->peer);
	put_addr(l, sizeof(l), ph->family, ph->local);
	if (ph->peerless) { /* a relayed offer's sender: any peer may connect */
		fprintf(stderr, "pinholed: %s %s %s . %s . %u, any peer (%s) on %s%s%s\n", what, t->set, l,
			ph->l4proto == IPPROTO_UDP ? "udp" : "tcp", ph->port, msg, t->where, why ? ": " : "",
			why ? why : "");
		return;
	}
	fprintf(stderr, "pinholed: %s %s %s . %s . %s . %u (%s) on %s%s%s\n", what, t->set, p, l,
		ph->l4proto == IPPROTO_UDP ? "udp" : "tcp", ph->port, msg, t->where, why ? ": " : "", why ? why : "");
}

static void flush_ops(struct daemon *d)
{
	if (!d->nops)
		return;
	static char buf[65536];
	size_t len = pd_nft_batch(buf, sizeof(buf), d->seq, PINHOLE_TABLE, d->ops, d->nops);
	d->seq += (uint32_t)d->nops + 2;
	if (!len || mnl_socket_sendto(d->nft, buf, len) < 0)
		fprintf(stderr, "pinholed: cannot send %zu set element change(s): %s\n", d->nops,
			strerror(len ? errno : ENOBUFS));
	d->nops = 0;
}

static void queue_op(struct daemon *d, bool add, const struct pd_target *t, const struct pd_pinhole *ph,
		     uint64_t timeout_ms)
{
	if (d->nops == PD_MAX_OPS)
		flush_ops(d);
	d->ops[d->nops++] = (struct pd_elem_op){.add = add, .set = t->set, .ph = *ph,
						.timeout_ms = timeout_ms};
	if (!add)
		flush_ops(d); /* a delete of an element that already expired fails its whole batch */
}

/* One offer, one port, one target. Returns whether it opened a pinhole at another address
 * than the connection's own ends (an offer naming another address of its sender). */
static bool offer_target(struct daemon *d, const struct pd_target *t, struct pd_conn *c,
			 enum ph_side side, const struct ph_offer *o, uint16_t port)
{
	struct pd_pinhole ph;
	const char *why;
	const struct pd_own *own = t->relay == PD_RELAY_SEND ? NULL : own_addrs(d);
	enum pd_verdict v = pd_check_offer(t, &c->ep, own, side, o, port, &ph, &why);
	if (v == PD_SKIP)
		return false;
	const uint8_t *peer = t->peer_is_server ? pd_app_server(&c->ep) : pd_app_client(&c->ep);
	const uint8_t *local = t->peer_is_server ? pd_app_client(&c->ep) : pd_app_server(&c->ep);
	if (v == PD_REFUSE && t->relay != PD_RELAY_NONE) {
		log_pinhole("refused", t, &ph, o->what ? o->what : "offer", why);
		return false;
	}
	if (v == PD_REFUSE) {
		memset(&ph, 0, sizeof(ph));
		ph.family = c->ep.family;
		memcpy(ph.peer, peer, 16);
		memcpy(ph.local, local, 16);
		ph.l4proto = o->l4proto;
		ph.port = port;
		log_pinhole("refused", t, &ph, o->what ? o->what : "offer", why);
		return false;
	}
	size_t n = c->ep.family == AF_INET6 ? 16 : 4;
	bool elsewhere = t->relay == PD_RELAY_NONE && (memcmp(ph.peer, peer, n) || memcmp(ph.local, local, n));
	if (!pd_live_open(d->tab, c, t, &ph, now_ms(), &why)) {
		log_pinhole("refused", t, &ph, o->what ? o->what : "offer", why);
		return elsewhere;
	}
	log_pinhole("opened", t, &ph, o->what ? o->what : "offer", NULL);
	queue_op(d, true, t, &ph, (uint64_t)t->timeout * 1000);
	return elsewhere;
}

static void handle_offer(struct daemon *d, const struct pd_channel *ch, struct pd_conn *c,
			 enum ph_side side, const struct ph_offer *o)
{
	if (ch->proto == PH_PROTO_RPC && !ph_rpc_program_default(o->program)) {
		fprintf(stderr, "pinholed: refused %s for RPC program %u: not allowed\n",
			o->what ? o->what : "offer", o->program);
		return;
	}
	if (o->port_lo == 0 || o->port_hi < o->port_lo || o->port_hi - o->port_lo >= PD_MAX_PORTS) {
		fprintf(stderr, "pinholed: refused %s for ports %u-%u: a range wider than %d ports\n",
			o->what ? o->what : "offer", o->port_lo, o->port_hi, PD_MAX_PORTS);
		return;
	}
	/* An offer naming another address of its sender opened that one; a peer may as well use
	 * the address it asked (libnfs takes only the port of a GETADDR reply), so the same offer
	 * read as "the sender" opens the connection's own ends too. */
	struct ph_offer at_sender = *o;
	memset(at_sender.addr, 0, sizeof(at_sender.addr));
	for (unsigned port = o->port_lo; port <= o->port_hi; port++)
		for (size_t i = 0; i < ch->ntargets; i++)
			if (offer_target(d, &ch->targets[i], c, side, o, (uint16_t)port))
				offer_target(d, &ch->targets[i], c, side, &at_sender, (uint16_t)port);
}

struct feed_ctx {
	struct daemon *d;
	const struct pd_channel *ch;
	struct pd_conn *c;
	enum ph_side side;
};

static int deliver(void *ctx, const uint8_t *data, size_t len)
{
	struct feed_ctx *f = ctx;
	struct ph_offer offers[PH_MAX_OFFERS];
	int n = ph_conn_feed(f->c->parse, f->side, data, len, offers, PH_MAX_OFFERS);
	for (int i = 0; i < n; i++)
		handle_offer(f->d, f->ch, f->c, f->side, &offers[i]);
	return n < 0 ? -1 : 0;
}

static void conn_release(struct pd_conn *c)
{
	if (c->parse)
		ph_conn_free(c->parse);
	for (int s = 0; s < 2; s++)
		if (c->reasm[s])
			ph_reasm_free(c->reasm[s]);
}

static void handle_packet(struct daemon *d, const struct pd_nflog *m)
{
	const struct pd_channel *ch = pd_policy_channel(d->pol, m->prefix);
	struct pd_pkt p;
	if (!ch || pd_pkt_parse(m->payload, m->len, &p) < 0)
		return;
	enum ph_side side;
	struct pd_conn *c = pd_conn_find(d->tab, p.family, p.l4proto, p.saddr, p.sport, p.daddr,
					 p.dport, &side);
	uint64_t now = now_ms();
	if (!c) {
		if (!pd_channel_is_client_side(ch, p.l4proto, p.sport, p.dport))
			return; /* joined mid-way and this is the server's side: wait for the client's */
		struct pd_conn old;
		c = pd_conn_add(d->tab, ch->nc->id, p.family, p.l4proto, p.saddr, p.sport, p.daddr,
				p.dport, now, PD_IDLE_MS, &old);
		if (old.used)
			conn_release(&old);
		if (!c) {
			fprintf(stderr, "pinholed: not following a new control connection: %d followed already\n",
				PD_MAX_CONNS);
			return;
		}
		c->parse = ph_conn_new(ch->proto, p.l4proto);
		c->ep.opener_is_server = ch->opener_is_server;
		side = PH_ORIG;
	}
	c->last_ms = now;
	if (!c->parse)
		return;
	struct feed_ctx f = {d, ch, c, side};
	if (p.l4proto == IPPROTO_UDP) {
		deliver(&f, p.payload, p.len);
	} else {
		if (!c->reasm[side]) {
			if (p.tcp_flags & 0x04) /* RST */
				return;
			c->reasm[side] = ph_reasm_new(p.tcp_flags & 0x02 ? p.seq + 1 : p.seq);
		}
		uint32_t seq = p.tcp_flags & 0x02 ? p.seq + 1 : p.seq;
		if (c->reasm[side] && p.len)
			ph_reasm_segment(c->reasm[side], seq, p.payload, p.len, deliver, &f);
	}
	flush_ops(d);
}

/* The control connection ended: its pinholes close with it. */
static void handle_destroy(struct daemon *d, const struct pd_ct_tuple *t)
{
	enum ph_side side;
	struct pd_conn *c = pd_conn_find(d->tab, t->family, t->l4proto, t->src, t->sport, t->dst,
					 t->dport, &side);
	if (!c || side != PH_ORIG)
		return;
	uint64_t now = now_ms();
	for (size_t i = 0; i < PD_MAX_PINHOLES; i++) {
		struct pd_live *l = &d->tab->live[i];
		if (!l->used || l->conn != c->id)
			continue;
		if (l->expires_ms > now)
			queue_op(d, false, l->target, &l->ph, 0);
		memset(l, 0, sizeof(*l));
	}
	conn_release(c);
	pd_conn_drop(c);
}

static void track_sets(struct daemon *d)
{
	pd_reload_init(&d->reload, PINHOLE_TABLE);
	for (size_t i = 0; i < d->pol->nch; i++)
		for (size_t k = 0; k < d->pol->ch[i].ntargets; k++)
			pd_reload_track(&d->reload, d->pol->ch[i].targets[k].set);
}

static void swap_drop(void *ctx, struct pd_live *l)
{
	struct daemon *d = ctx;
	log_pinhole("dropped", l->target, &l->ph, "reload", "the policy no longer fills this set");
	if (l->expires_ms > now_ms())
		queue_op(d, false, l->target, &l->ph, 0);
}

static void swap_release(void *ctx, struct pd_conn *c)
{
	(void)ctx;
	conn_release(c);
}

/* The table was replaced, perhaps by another policy: read ours again (the copy rules' prefixes
 * may be numbered differently now) and move the live pinholes and connections over. A policy
 * that no longer compiles, or has no channel, leaves the one read before in use. */
static void reread_policy(struct daemon *d)
{
	struct pd_policy *np = xcalloc(1, sizeof(*np));
	if (pd_policy_load(np, d->policy, d->libdirs, d->nlib, stderr) < 0) {
		fprintf(stderr, "pinholed: keeping the policy read before: %s does not load\n", d->policy);
		pd_policy_free(np);
		free(np);
		return;
	}
	struct pd_swap_ops ops = {.ctx = d, .drop = swap_drop, .release = swap_release};
	size_t dropped = pd_swap_policy(d->tab, d->pol, np, &ops);
	flush_ops(d); /* the ops name the old policy's sets: sent before it is freed */
	pd_policy_free(d->pol);
	free(d->pol);
	d->pol = np;
	track_sets(d);
	fprintf(stderr, "pinholed: read %s again: %zu channel(s), %zu pinhole(s) it no longer has dropped\n",
		d->policy, np->nch, dropped);
}

/* A transaction replaced pinholed's sets (`pinhole apply`): live pinholes whose set is
 * declared again come back with the time they had left; the others are dropped. One batch
 * per set, so a set that failed to come back cannot take the others' elements with it. */
static void handle_reload(struct daemon *d)
{
	uint64_t now = now_ms();
	size_t readded = 0, dropped = 0;
	for (size_t k = 0; k < d->reload.n; k++) {
		const char *set = d->reload.set[k].name;
		enum pd_fate fate = pd_reload_fate(&d->reload, set);
		if (fate == PD_FATE_KEEP)
			continue;
		for (size_t i = 0; i < PD_MAX_PINHOLES; i++) {
			struct pd_live *l = &d->tab->live[i];
			if (!l->used || strcmp(l->target->set, set))
				continue;
			if (l->expires_ms <= now) {
				memset(l, 0, sizeof(*l));
			} else if (fate == PD_FATE_READD) {
				queue_op(d, true, l->target, &l->ph, l->expires_ms - now);
				readded++;
			} else {
				log_pinhole("dropped", l->target, &l->ph, "reload",
					    "the new ruleset has no such set");
				memset(l, 0, sizeof(*l));
				dropped++;
			}
		}
		flush_ops(d);
	}
	pd_reload_done(&d->reload);
	fprintf(stderr, "pinholed: the ruleset was replaced: %zu pinhole(s) re-added, %zu dropped\n",
		readded, dropped);
	reread_policy(d);
}

static int on_mon_msg(const struct nlmsghdr *nlh, void *data)
{
	struct daemon *d = data;
	struct pd_nft_event ev;
	if (pd_nft_event_parse(nlh, &ev) == 0 && pd_reload_event(&d->reload, &ev))
		handle_reload(d);
	return MNL_CB_OK;
}

static void drain_mon(struct daemon *d)
{
	static char buf[262144];
	ssize_t n;
	while ((n = recv(mnl_socket_get_fd(d->mon), buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		mnl_cb_run(buf, (size_t)n, 0, 0, on_mon_msg, d);
	if (n < 0 && errno == ENOBUFS) {
		/* Notifications were lost: the table may have been replaced unseen. Re-adding an
		 * element that exists changes nothing; a set that is gone fails its own batch. */
		fprintf(stderr, "pinholed: lost nftables notifications; re-adding live pinholes\n");
		pd_reload_assume_all_gone(&d->reload);
		handle_reload(d);
	}
}

static int on_log_msg(const struct nlmsghdr *nlh, void *data)
{
	struct pd_nflog m;
	if (pd_nflog_parse(nlh, &m) == 0)
		handle_packet(data, &m);
	return MNL_CB_OK;
}

static int on_ct_msg(const struct nlmsghdr *nlh, void *data)
{
	struct pd_ct_tuple t;
	if (pd_ct_parse(nlh, &t) == 0)
		handle_destroy(data, &t);
	return MNL_CB_OK;
}

static void drain(struct mnl_socket *s, mnl_cb_t cb, void *data)
{
	static char buf[262144];
	ssize_t n = recv(mnl_socket_get_fd(s), buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0)
		mnl_cb_run(buf, (size_t)n, 0, 0, cb, data);
	else if (n < 0 && errno == ENOBUFS)
		fprintf(stderr, "pinholed: the kernel dropped messages (socket buffer full)\n");
}

/* nftables' answers: only errors come back (no ACKs asked); each is logged. */
static int on_nft_err(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static void drain_nft(struct daemon *d)
{
	static char buf[16384];
	ssize_t n;
	while ((n = recv(mnl_socket_get_fd(d->nft), buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (mnl_cb_run(buf, (size_t)n, 0, 0, on_nft_err, d) < 0 && errno != ENOENT)
			fprintf(stderr, "pinholed: nftables refused a set element change: %s\n", strerror(errno));
	}
}

/* Keeps CAP_NET_ADMIN only, in every set (effective, permitted, inheritable, bounding). */
static int keep_net_admin(void)
{
	for (int cap = 0; cap <= 63; cap++)
		if (cap != CAP_NET_ADMIN && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL &&
		    errno != EPERM)
			return -1;
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct c[2] = {{0}};
	c[0].effective = c[0].permitted = 1u << CAP_NET_ADMIN;
	return (int)syscall(SYS_capset, &h, c);
}

static struct mnl_socket *nl_open(unsigned groups)
{
	struct mnl_socket *s = mnl_socket_open(NETLINK_NETFILTER);
	if (!s || mnl_socket_bind(s, groups, MNL_SOCKET_AUTOPID) < 0) {
		if (s)
			mnl_socket_close(s);
		return NULL;
	}
	int big = 4 << 20;
	setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return s;
}

/* Binds NFLOG group 7100 and waits for the kernel's two ACKs, so that a group another process
 * holds (EBUSY, EPERM) is an error at start, not a daemon that silently reads nothing. Packets
 * logged between the bind and its ACK are handled as usual. */
static int bind_log(struct daemon *d)
{
	static char buf[262144];
	size_t len = pd_nflog_bind_msgs(buf, sizeof(buf), NFT_PINHOLED_GROUP, 1);
	if (!len) {
		errno = ENOBUFS;
		return -1;
	}
	if (mnl_socket_sendto(d->log, buf, len) < 0)
		return -1;
	int acks = 0;
	while (acks < 2) {
		struct pollfd p = {mnl_socket_get_fd(d->log), POLLIN, 0};
		if (poll(&p, 1, 2000) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		ssize_t n = recv(p.fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -1;
		int left = (int)n;
		for (const struct nlmsghdr *nlh = (void *)buf; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type != NLMSG_ERROR) {
				on_log_msg(nlh, d);
				continue;
			}
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				continue;
			if (e->error) {
				errno = -e->error;
				return -1;
			}
			acks++;
		}
	}
	return 0;
}

static int usage(FILE *out, int rc)
{
	fprintf(out, "usage: pinholed --policy POLICY [-L DIR]... [--netns NAME]\n"
		     "       pinholed -h|--help | --version\n"
		     "Opens the exact, timed pinholes that the negotiated channels of POLICY's\n"
		     "control connections ask for (man pinholed).\n"
		     "  -p, --policy POLICY  the policy pinhole applied (compiled again here)\n"
		     "  -L, --library DIR    more app definitions, as pinhole -L (up to 16)\n"
		     "  --netns NAME         run in network namespace NAME (needs CAP_SYS_ADMIN)\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *policy = NULL, *netns = NULL;
	const char *libdirs[16];
	size_t nlib = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return usage(stdout, 0);
		if (!strcmp(argv[i], "--version")) {
			printf("pinholed %s\n", PINHOLE_VERSION);
			return 0;
		}
		if (i + 1 < argc && (!strcmp(argv[i], "--policy") || !strcmp(argv[i], "-p")))
			policy = argv[++i];
		else if (i + 1 < argc && (!strcmp(argv[i], "-L") || !strcmp(argv[i], "--library")) && nlib < 16)
			libdirs[nlib++] = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--netns"))
			netns = argv[++i];
		else {
			bool known = !strcmp(argv[i], "--policy") || !strcmp(argv[i], "-p") ||
				     !strcmp(argv[i], "-L") || !strcmp(argv[i], "--library") ||
				     !strcmp(argv[i], "--netns");
			fprintf(stderr, "pinholed: %s '%s'\n", !known ? "unknown option" :
				i + 1 < argc ? "more than 16 of" : "missing value for", argv[i]);
			return usage(stderr, 2);
		}
	}
	if (!policy)
		return usage(stderr, 2);
	if (netns && netns_enter(netns) < 0) {
		fprintf(stderr, "pinholed: cannot enter network namespace %s: %s\n", netns, strerror(errno));
		return 2;
	}
	static struct daemon d;
	d.pol = xcalloc(1, sizeof(*d.pol));
	d.policy = policy;
	d.libdirs = libdirs;
	d.nlib = nlib;
	if (pd_policy_load(d.pol, policy, libdirs, nlib, stderr) < 0) {
		free(d.pol);
		return 2;
	}
	d.tab = calloc(1, sizeof(*d.tab));
	d.log = nl_open(0);
	d.ct = nl_open(NF_NETLINK_CONNTRACK_DESTROY);
	d.nft = nl_open(0);
	d.mon = nl_open(0);
	int grp = NFNLGRP_NFTABLES;
	if (d.mon && mnl_socket_setsockopt(d.mon, NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) < 0) {
		mnl_socket_close(d.mon);
		d.mon = NULL;
	}
	if (!d.tab || !d.log || !d.ct || !d.nft || !d.mon) {
		fprintf(stderr, "pinholed: cannot open netlink sockets: %s (needs CAP_NET_ADMIN)\n", strerror(errno));
		return 1;
	}
	if (bind_log(&d) < 0) {
		fprintf(stderr, "pinholed: cannot bind NFLOG group %d: %s%s\n", NFT_PINHOLED_GROUP, strerror(errno),
			errno == EBUSY || errno == EPERM ? " (another process holds it: is pinholed running already?)" : "");
		return 1;
	}
	if (getuid() == 0 && keep_net_admin() < 0) {
		fprintf(stderr, "pinholed: cannot drop capabilities: %s\n", strerror(errno));
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	d.seq = (uint32_t)time(NULL);
	track_sets(&d);
	fprintf(stderr, "pinholed: reading %zu channel(s) of %s on NFLOG group %d\n", d.pol->nch, policy,
		NFT_PINHOLED_GROUP);
	while (!stop) {
		struct pollfd fds[4] = {{mnl_socket_get_fd(d.log), POLLIN, 0},
					{mnl_socket_get_fd(d.ct), POLLIN, 0},
					{mnl_socket_get_fd(d.nft), POLLIN, 0},
					{mnl_socket_get_fd(d.mon), POLLIN, 0}};
		if (poll(fds, 4, 1000) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN)
			drain(d.log, on_log_msg, &d);
		if (fds[1].revents & POLLIN)
			drain(d.ct, on_ct_msg, &d);
		if (fds[2].revents & POLLIN)
			drain_nft(&d);
		if (fds[3].revents & (POLLIN | POLLERR))
			drain_mon(&d);
		pd_live_expire(d.tab, now_ms());
	}
	/* Exit: close every pinhole still open, and stop following connections. */
	uint64_t now = now_ms();
	for (size_t i = 0; i < PD_MAX_PINHOLES; i++) {
		struct pd_live *l = &d.tab->live[i];
		if (l->used && l->expires_ms > now)
			queue_op(&d, false, l->target, &l->ph, 0);
	}
	flush_ops(&d);
	for (size_t i = 0; i < PD_MAX_CONNS; i++)
		if (d.tab->conns[i].used)
			conn_release(&d.tab->conns[i]);
	mnl_socket_close(d.log);
	mnl_socket_close(d.ct);
	mnl_socket_close(d.nft);
	mnl_socket_close(d.mon);
	free(d.tab);
	pd_policy_free(d.pol);
	free(d.pol);
	fprintf(stderr, "pinholed: stopped, pinholes closed\n");
	return 0;
}
