/* The one transaction that replaces a table: BATCH_BEGIN, "add table" (so that the delete
 * works on a machine that never had it), "delete table", the new table and everything in it,
 * BATCH_END. The kernel applies all of it or nothing. Without BATCH_END the kernel checks
 * every message and then aborts: a dry run. */
#include <errno.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_netlink.h"

struct emit {
	struct nftnl_batch *b;
	struct nl_msgmap *map;
	uint32_t family;
	uint32_t seq;
};

static struct nlmsghdr *hdr(struct emit *e, uint16_t type, uint16_t flags, int obj)
{
	VEC_PUSH(e->map->obj, obj);
	return nftnl_nlmsg_build_hdr(nftnl_batch_buffer(e->b), type, (uint16_t)e->family, flags, e->seq++);
}

static int next(struct emit *e)
{
	return nftnl_batch_update(e->b) < 0 ? -1 : 0;
}

/* A table object holding only family and name, for the add/delete preamble. */
static int table_msg(struct emit *e, const char *name, uint16_t type, uint16_t flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (!t || nftnl_table_set_str(t, NFTNL_TABLE_NAME, name) < 0) {
		nftnl_table_free(t);
		errno = ENOMEM;
		return -1;
	}
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, e->family);
	if (type == NFT_MSG_NEWTABLE)
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nftnl_table_nlmsg_build_payload(hdr(e, type, flags, -1), t);
	nftnl_table_free(t);
	return next(e);
}

/* Elements go in as many NEWSETELEM messages as their attribute nests need. */
static int elems_msgs(struct emit *e, struct nftnl_set *s, int obj)
{
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	if (!it) {
		errno = ENOMEM;
		return -1;
	}
	int rc = 0;
	while (nftnl_set_elems_iter_cur(it)) {
		struct nlmsghdr *nlh = hdr(e, NFT_MSG_NEWSETELEM, NLM_F_CREATE, obj);
		int more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		if (next(e) < 0) {
			rc = -1;
			break;
		}
		if (more <= 0)
			break;
	}
	nftnl_set_elems_iter_destroy(it);
	return rc;
}

static int obj_msgs(struct emit *e, const struct nl_obj *o, int idx)
{
	switch (o->kind) {
	case NL_TABLE:
		nftnl_table_nlmsg_build_payload(hdr(e, NFT_MSG_NEWTABLE, NLM_F_CREATE, idx), o->o);
		return next(e);
	case NL_OBJ:
		nftnl_obj_nlmsg_build_payload(hdr(e, NFT_MSG_NEWOBJ, NLM_F_CREATE, idx), o->o);
		return next(e);
	case NL_SET:
		nftnl_set_nlmsg_build_payload(hdr(e, NFT_MSG_NEWSET, NLM_F_CREATE, idx), o->o);
		if (next(e) < 0)
			return -1;
		return elems_msgs(e, o->o, idx);
	case NL_CHAIN:
		nftnl_chain_nlmsg_build_payload(hdr(e, NFT_MSG_NEWCHAIN, NLM_F_CREATE, idx), o->o);
		return next(e);
	case NL_RULE:
		nftnl_rule_nlmsg_build_payload(hdr(e, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, idx), o->o);
		return next(e);
	}
	errno = EINVAL;
	return -1;
}

int nl_batch_replace(struct nftnl_batch *b, const struct nl_ruleset *rs, uint32_t seq, bool commit,
		     struct nl_msgmap *map)
{
	struct emit e = {.b = b, .map = map, .family = rs->family, .seq = seq};
	map->first_seq = seq;
	map->obj.n = 0;
	VEC_PUSH(map->obj, -1);
	nftnl_batch_begin(nftnl_batch_buffer(b), e.seq++);
	if (next(&e) < 0)
		return -1;
	if (table_msg(&e, rs->table, NFT_MSG_NEWTABLE, NLM_F_CREATE) < 0 ||
	    table_msg(&e, rs->table, NFT_MSG_DELTABLE, 0) < 0)
		return -1;
	for (size_t i = 0; i < rs->objs.n; i++)
		if (obj_msgs(&e, &rs->objs.v[i], (int)i) < 0)
			return -1;
	if (commit) {
		VEC_PUSH(map->obj, -1);
		nftnl_batch_end(nftnl_batch_buffer(b), e.seq++);
		if (next(&e) < 0)
			return -1;
	}
	return 0;
}

int nl_msgmap_lookup(const struct nl_msgmap *m, uint32_t seq)
{
	uint32_t k = seq - m->first_seq;
	return k < m->obj.n ? m->obj.v[k] : -1;
}

void nl_msgmap_free(struct nl_msgmap *m)
{
	VEC_FREE(m->obj);
}
