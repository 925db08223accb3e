/* build/pinhole-faults only (see fault_inject.h): a rule the kernel rejects, on demand. */
#include <stdio.h> /* before libnftnl, which uses FILE */
#include <stdlib.h>

#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "fault_inject.h"

void fault_inject(struct nl_ruleset *rs)
{
	const char *env = getenv("PINHOLE_TEST_REJECT_LINE");
	if (!env || !*env)
		return;
	int line = atoi(env);
	for (size_t i = 0; i < rs->objs.n; i++) {
		struct nl_obj *o = &rs->objs.v[i];
		if (o->kind != NL_RULE || !o->rule || o->rule->origin.builtin || o->rule->origin.line != line)
			continue;
		struct nftnl_expr *e = nftnl_expr_alloc("immediate");
		if (!e)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NFT_JUMP);
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, "pinhole-test-no-such-chain");
		nftnl_rule_add_expr(o->o, e);
		return;
	}
}
