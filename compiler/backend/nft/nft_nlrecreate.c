/* Objects read back from the kernel, made ready to be sent again (the saved ruleset that
 * `apply --confirm` restores). The kernel's own bookkeeping goes (handles, use counts,
 * counters, table ownership). Every set gets a fresh transaction id and every rule expression
 * that names it gets that id too. Anonymous sets keep the names the kernel gave them
 * ("__set3"): the table is new, so they cannot clash, and rules still find them by name
 * (renaming expressions in place would leak in libnftnl 1.2.4, whose setters do not free). */
#include <errno.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_netlink.h"

struct set_ref {
	const char *name;
	uint32_t id;
};
typedef VEC(struct set_ref) set_refs;

static const struct set_ref *ref_of(const set_refs *refs, const char *name)
{
	for (size_t i = 0; name && i < refs->n; i++)
		if (!strcmp(refs->v[i].name, name))
			return &refs->v[i];
	return NULL;
}

/* Expressions that name a set: (attribute of the name, attribute of the id). */
static const struct {
	const char *expr;
	uint16_t name, id;
} set_users[] = {
	{"lookup", NFTNL_EXPR_LOOKUP_SET, NFTNL_EXPR_LOOKUP_SET_ID},
	{"dynset", NFTNL_EXPR_DYNSET_SET_NAME, NFTNL_EXPR_DYNSET_SET_ID},
	{"objref", NFTNL_EXPR_OBJREF_SET_NAME, NFTNL_EXPR_OBJREF_SET_ID},
};

static int relink_rule(struct nftnl_rule *r, const set_refs *refs)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	if (!it)
		return -1;
	for (struct nftnl_expr *e; (e = nftnl_expr_iter_next(it));) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		for (size_t k = 0; k < sizeof(set_users) / sizeof(set_users[0]); k++) {
			if (strcmp(name, set_users[k].expr) != 0 || !nftnl_expr_is_set(e, set_users[k].name))
				continue;
			const struct set_ref *ref = ref_of(refs, nftnl_expr_get_str(e, set_users[k].name));
			if (ref)
				nftnl_expr_set_u32(e, set_users[k].id, ref->id);
		}
	}
	nftnl_expr_iter_destroy(it);
	return 0;
}

int nl_prepare_recreate(struct nl_ruleset *rs)
{
	set_refs refs = {0};
	uint32_t id = 0;
	int rc = 0;
	for (size_t i = 0; i < rs->objs.n; i++) {
		void *o = rs->objs.v[i].o;
		switch (rs->objs.v[i].kind) {
		case NL_TABLE:
			nftnl_table_unset(o, NFTNL_TABLE_HANDLE);
			nftnl_table_unset(o, NFTNL_TABLE_USE);
			nftnl_table_unset(o, NFTNL_TABLE_OWNER);
			/* An owned table would vanish with our socket. */
			nftnl_table_set_u32(o, NFTNL_TABLE_FLAGS,
					    nftnl_table_get_u32(o, NFTNL_TABLE_FLAGS) & ~(uint32_t)NFT_TABLE_F_OWNER);
			break;
		case NL_OBJ:
			/* libnftnl 1.2.4 exports no nftnl_obj_unset; the kernel ignores an object's
			 * handle and use count when creating it. */
			break;
		case NL_CHAIN:
			nftnl_chain_unset(o, NFTNL_CHAIN_HANDLE);
			nftnl_chain_unset(o, NFTNL_CHAIN_USE);
			nftnl_chain_unset(o, NFTNL_CHAIN_BYTES);
			nftnl_chain_unset(o, NFTNL_CHAIN_PACKETS);
			nftnl_chain_unset(o, NFTNL_CHAIN_ID);
			/* The kernel reports NFT_CHAIN_BASE, which it derives from the hook itself. */
			if (nftnl_chain_is_set(o, NFTNL_CHAIN_FLAGS)) {
				uint32_t f = nftnl_chain_get_u32(o, NFTNL_CHAIN_FLAGS) & ~(uint32_t)NFT_CHAIN_BASE;
				if (f)
					nftnl_chain_set_u32(o, NFTNL_CHAIN_FLAGS, f);
				else
					nftnl_chain_unset(o, NFTNL_CHAIN_FLAGS);
			}
			break;
		case NL_SET:
			VEC_PUSH(refs, ((struct set_ref){nftnl_set_get_str(o, NFTNL_SET_NAME), ++id}));
			nftnl_set_unset(o, NFTNL_SET_HANDLE);
			nftnl_set_set_u32(o, NFTNL_SET_ID, id);
			break;
		case NL_RULE:
			nftnl_rule_unset(o, NFTNL_RULE_HANDLE);
			nftnl_rule_unset(o, NFTNL_RULE_POSITION);
			nftnl_rule_unset(o, NFTNL_RULE_ID);
			nftnl_rule_unset(o, NFTNL_RULE_POSITION_ID);
			if (relink_rule(o, &refs) < 0)
				rc = -1;
			break;
		}
	}
	VEC_FREE(refs);
	if (rc < 0)
		errno = ENOMEM;
	return rc;
}
