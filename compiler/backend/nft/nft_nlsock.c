/* nf_tables over netlink with libmnl: batches out, errors and dumps back. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_nlsock.h"

/* Batch pages: one message (a set's element chunk is at most 64 KiB of attributes) must fit
 * in the overrun area. */
#define BATCH_PAGE (256 * 1024)
#define BATCH_OVERRUN (128 * 1024)
#define RECV_BUF (64 * 1024)
#define ANSWER_BUF_MAX (16 * 1024 * 1024)

struct nftnl_batch *nl_batch_alloc(void)
{
	struct nftnl_batch *b = nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN);
	if (!b)
		errno = ENOMEM;
	return b;
}

int nl_sock_open(struct nl_sock *s)
{
	memset(s, 0, sizeof(*s));
	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl)
		return -1;
	if (mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int e = errno;
		mnl_socket_close(s->nl);
		s->nl = NULL;
		errno = e;
		return -1;
	}
	/* Errors carry the kernel's message but not a copy of our (possibly large) request. */
	int one = 1;
	mnl_socket_setsockopt(s->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(s->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL);
	return 0;
}

void nl_sock_close(struct nl_sock *s)
{
	if (s->nl)
		mnl_socket_close(s->nl);
	s->nl = NULL;
}

void nl_errors_free(nl_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].msg);
	VEC_FREE(*e);
}

/* Root may exceed the default socket buffer limits (as nft does); others get what they get. */
static void set_buf(int fd, int force_opt, int opt, size_t size)
{
	int v = size > (size_t)ANSWER_BUF_MAX * 16 ? ANSWER_BUF_MAX * 16 : (int)size;
	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

static char *extack_msg(const struct nlmsghdr *nlh)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	size_t off = sizeof(*err);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - sizeof(err->msg);
	if (mnl_nlmsg_get_payload_len(nlh) <= off)
		return NULL;
	const struct nlattr *attr;
	const void *tlvs = (const char *)mnl_nlmsg_get_payload(nlh) + off;
	mnl_attr_for_each_payload(tlvs, mnl_nlmsg_get_payload_len(nlh) - off) {
		if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			return strdup(mnl_attr_get_str(attr));
	}
	return NULL;
}

static void collect(const char *buf, int len, nl_errors *errs)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr))
			continue;
		const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
		if (err->error == 0)
			continue;
		VEC_PUSH(*errs, ((struct nl_error){nlh->nlmsg_seq, -err->error, extack_msg(nlh)}));
	}
}

static int send_iov(struct nl_sock *s, struct iovec *iov, int n, nl_errors *errs);

int nl_send_batch(struct nl_sock *s, struct nftnl_batch *b, nl_errors *errs)
{
	int n = nftnl_batch_iovec_len(b);
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	if (!iov)
		return -1;
	nftnl_batch_iovec(b, iov, (uint32_t)n);
	int r = send_iov(s, iov, n, errs);
	free(iov);
	return r;
}

int nl_send_raw(struct nl_sock *s, const void *buf, size_t len, nl_errors *errs)
{
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	return send_iov(s, &iov, 1, errs);
}

int nl_batch_bytes(struct nftnl_batch *b, struct strbuf *out)
{
	int n = nftnl_batch_iovec_len(b);
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	if (!iov)
		return -1;
	nftnl_batch_iovec(b, iov, (uint32_t)n);
	for (int i = 0; i < n; i++)
		sb_putmem(out, iov[i].iov_base, iov[i].iov_len);
	free(iov);
	return 0;
}

static int send_iov(struct nl_sock *s, struct iovec *iov, int n, nl_errors *errs)
{
	int fd = mnl_socket_get_fd(s->nl);
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].iov_len;
	set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, total + 4096);
	/* Room for an error per message in the worst case, capped. */
	size_t answers = total / 4 > ANSWER_BUF_MAX ? ANSWER_BUF_MAX : total / 4 + RECV_BUF;
	set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, answers);
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK};
	struct msghdr msg = {.msg_name = &snl, .msg_namelen = sizeof(snl), .msg_iov = iov,
			     .msg_iovlen = (size_t)n};
	ssize_t sent = sendmsg(fd, &msg, 0);
	if (sent < 0)
		return -1;
	/* nfnetlink processes the whole batch inside sendmsg, so every answer is already
	 * queued: read until the socket is empty. Success has no answer at all. */
	char *buf = malloc(RECV_BUF);
	if (!buf)
		return -1;
	size_t before = errs->n;
	for (;;) {
		ssize_t got = recv(fd, buf, RECV_BUF, MSG_DONTWAIT);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			errno = e;
			return -1;
		}
		collect(buf, (int)got, errs);
	}
	free(buf);
	return errs->n > before ? 1 : 0;
}

/* ---- reading a table back ---- */

struct reader {
	struct nl_ruleset *out;
	const char *table;
	uint32_t family;
	enum nl_kind kind;
	int err;
	uint32_t genid;
};

static int keep(struct reader *r, void *o, const char *table, uint32_t family)
{
	if (!table || strcmp(table, r->table) != 0 || family != r->family)
		return 0;
	VEC_PUSH(r->out->objs, ((struct nl_obj){r->kind, o, NULL}));
	return 1;
}

static int parse_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	void *o = NULL;
	int kept = 0;
	switch (r->kind) {
	case NL_TABLE:
		if ((o = nftnl_table_alloc()) && nftnl_table_nlmsg_parse(nlh, o) >= 0)
			kept = keep(r, o, nftnl_table_get_str(o, NFTNL_TABLE_NAME), nftnl_table_get_u32(o, NFTNL_TABLE_FAMILY));
		if (!kept)
			nftnl_table_free(o);
		break;
	case NL_OBJ:
		if ((o = nftnl_obj_alloc()) && nftnl_obj_nlmsg_parse(nlh, o) >= 0)
			kept = keep(r, o, nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), nftnl_obj_get_u32(o, NFTNL_OBJ_FAMILY));
		if (!kept)
			nftnl_obj_free(o);
		break;
	case NL_CHAIN:
		if ((o = nftnl_chain_alloc()) && nftnl_chain_nlmsg_parse(nlh, o) >= 0)
			kept = keep(r, o, nftnl_chain_get_str(o, NFTNL_CHAIN_TABLE), nftnl_chain_get_u32(o, NFTNL_CHAIN_FAMILY));
		if (!kept)
			nftnl_chain_free(o);
		break;
	case NL_SET:
		if ((o = nftnl_set_alloc()) && nftnl_set_nlmsg_parse(nlh, o) >= 0)
			kept = keep(r, o, nftnl_set_get_str(o, NFTNL_SET_TABLE), nftnl_set_get_u32(o, NFTNL_SET_FAMILY));
		if (!kept)
			nftnl_set_free(o);
		break;
	case NL_RULE:
		if ((o = nftnl_rule_alloc()) && nftnl_rule_nlmsg_parse(nlh, o) >= 0)
			kept = keep(r, o, nftnl_rule_get_str(o, NFTNL_RULE_TABLE), nftnl_rule_get_u32(o, NFTNL_RULE_FAMILY));
		if (!kept)
			nftnl_rule_free(o);
		break;
	}
	if (!o)
		r->err = ENOMEM;
	return MNL_CB_OK;
}

/* Elements arrive into the set object they belong to. libnftnl 1.2.4 overwrites the set's
 * table and name from each message without freeing them: drop them first (it restores them). */
static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	nftnl_set_unset(data, NFTNL_SET_TABLE);
	nftnl_set_unset(data, NFTNL_SET_NAME);
	if (nftnl_set_elems_nlmsg_parse(nlh, data) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	struct nftnl_gen *g = nftnl_gen_alloc();
	if (!g)
		return MNL_CB_ERROR;
	if (nftnl_gen_nlmsg_parse(nlh, g) >= 0)
		r->genid = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
	nftnl_gen_free(g);
	return MNL_CB_OK;
}

/* Sends one request and runs cb over the answers until the dump ends or the ack arrives. */
static int request(struct nl_sock *s, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	char *buf = malloc(RECV_BUF);
	if (!buf)
		return -1;
	int ret;
	do {
		ret = (int)mnl_socket_recvfrom(s->nl, buf, RECV_BUF);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(buf, (size_t)ret, nlh->nlmsg_seq, s->portid, cb, data);
	} while (ret > 0);
	int e = errno;
	free(buf);
	errno = e;
	return ret < 0 ? -1 : 0;
}

static uint32_t get_gen(struct nl_sock *s, struct reader *r, int *rc)
{
	char buf[256];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, s->seq++);
	r->genid = 0;
	if (request(s, nlh, gen_cb, r) < 0)
		*rc = -1;
	return r->genid;
}

static int read_once(struct nl_sock *s, uint32_t family, const char *table, struct nl_ruleset *out)
{
	char buf[1024];
	struct reader r = {.out = out, .table = table, .family = family};
	struct nlmsghdr *nlh;

	/* The table itself: a plain get, ENOENT when there is none. */
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t)
		return -1;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETTABLE, (uint16_t)family, NLM_F_ACK, s->seq++);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r.kind = NL_TABLE;
	if (request(s, nlh, parse_cb, &r) < 0)
		return errno == ENOENT ? 0 : -1;

	static const struct {
		enum nl_kind kind;
		uint16_t msg;
	} dumps[] = {{NL_OBJ, NFT_MSG_GETOBJ}, {NL_CHAIN, NFT_MSG_GETCHAIN}, {NL_SET, NFT_MSG_GETSET},
		     {NL_RULE, NFT_MSG_GETRULE}};
	for (size_t i = 0; i < sizeof(dumps) / sizeof(dumps[0]); i++) {
		nlh = nftnl_nlmsg_build_hdr(buf, dumps[i].msg, (uint16_t)family, NLM_F_DUMP, s->seq++);
		/* NFTA_*_TABLE is attribute 1 for every object type: the kernel dumps one table. */
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
		r.kind = dumps[i].kind;
		size_t first = out->objs.n;
		if (request(s, nlh, parse_cb, &r) < 0)
			return -1;
		if (dumps[i].kind != NL_SET)
			continue;
		for (size_t k = first; k < out->objs.n; k++) {
			struct nftnl_set *set = out->objs.v[k].o;
			nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, (uint16_t)family, NLM_F_DUMP, s->seq++);
			nftnl_set_elems_nlmsg_build_payload(nlh, set);
			if (request(s, nlh, elems_cb, set) < 0)
				return -1;
		}
	}
	if (r.err) {
		errno = r.err;
		return -1;
	}
	return 0;
}

int nl_read_table(struct nl_sock *s, uint32_t family, const char *table, struct nl_ruleset *out)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		nl_ruleset_init(out, family, table);
		struct reader r = {0};
		int rc = 0;
		uint32_t before = get_gen(s, &r, &rc);
		if (rc == 0)
			rc = read_once(s, family, table, out);
		uint32_t after = rc == 0 ? get_gen(s, &r, &rc) : before;
		if (rc < 0) {
			int e = errno;
			nl_ruleset_free(out);
			errno = e;
			return -1;
		}
		if (before == after)
			return 0;
		nl_ruleset_free(out); /* changed while we read: read again */
	}
	errno = EAGAIN;
	return -1;
}
