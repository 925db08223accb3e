/* libnftnl batches of set elements, as libnftnl's examples/nft-set-elem-add.c builds them. */
#include <netinet/in.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "pd_nft.h"

size_t pd_nft_key(const struct pd_pinhole *ph, uint8_t *key)
{
	size_t a = ph->family == AF_INET6 ? 16 : 4;
	memset(key, 0, PD_KEY_MAX);
	if (ph->peerless) { /* a relayed channel's sender: local . inet_proto . inet_service */
		memcpy(key, ph->local, a);
		key[a] = ph->l4proto;
		key[a + 4] = (uint8_t)(ph->port >> 8);
		key[a + 5] = (uint8_t)ph->port;
		return a + 8;
	}
	memcpy(key, ph->peer, a);
	memcpy(key + a, ph->local, a);
	key[2 * a] = ph->l4proto;          /* inet_proto: one byte, register padded */
	key[2 * a + 4] = (uint8_t)(ph->port >> 8); /* inet_service: big-endian */
	key[2 * a + 5] = (uint8_t)ph->port;
	return 2 * a + 8;
}

static bool put_op(struct mnl_nlmsg_batch *b, uint32_t seq, const char *table,
		   const struct pd_elem_op *op)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	bool ok = s && e;
	if (ok) {
		uint8_t key[PD_KEY_MAX];
		size_t len = pd_nft_key(&op->ph, key);
		ok = nftnl_set_set_str(s, NFTNL_SET_TABLE, table) == 0 &&
		     nftnl_set_set_str(s, NFTNL_SET_NAME, op->set) == 0 &&
		     nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len) == 0;
		if (ok && op->add)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, op->timeout_ms);
	}
	if (ok) {
		nftnl_set_elem_add(s, e);
		e = NULL; /* the set owns it now */
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(b),
			op->add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, NFPROTO_INET,
			(uint16_t)(op->add ? NLM_F_CREATE | NLM_F_ACK : NLM_F_ACK), seq);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		ok = mnl_nlmsg_batch_next(b);
	} else {
		ok = false;
	}
	if (e)
		nftnl_set_elem_free(e);
	if (s)
		nftnl_set_free(s);
	return ok;
}

size_t pd_nft_batch(void *buf, size_t cap, uint32_t seq, const char *table,
		    const struct pd_elem_op *ops, size_t n)
{
	struct mnl_nlmsg_batch *b = mnl_nlmsg_batch_start(buf, cap);
	if (!b)
		return 0;
	bool ok = true;
	nftnl_batch_begin(mnl_nlmsg_batch_current(b), seq++);
	ok = mnl_nlmsg_batch_next(b);
	for (size_t i = 0; ok && i < n; i++)
		ok = put_op(b, seq++, table, &ops[i]);
	if (ok) {
		nftnl_batch_end(mnl_nlmsg_batch_current(b), seq);
		ok = mnl_nlmsg_batch_next(b);
	}
	size_t len = ok ? mnl_nlmsg_batch_size(b) : 0;
	mnl_nlmsg_batch_stop(b);
	return len;
}
