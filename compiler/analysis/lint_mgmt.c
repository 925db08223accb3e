/*
 * PH115 management lockout (`pinhole check --mgmt PREFIX`): every address of a declared
 * management network must be able to open ssh (tcp/22) to this host, on any interface it
 * may arrive by. Exact: the blocked part of that space, with a witness packet and the line
 * (or the default policy) that drops it, from the evaluator.
 */
#include <stdlib.h>
#include <string.h>

#include "exact.h"
#include "lint.h"
#include "packet.h"

void lint_mgmt(const struct ir_ruleset *ir, size_t nstmt, const struct ir_prefix *mgmt, size_t n,
	       struct diags *d)
{
	struct exact x;
	if (!n || !exact_analyze(&x, ir, nstmt))
		return;
	BDD acc = bdd_addref(bddfalse);
	for (size_t i = 0; i < x.n; i++)
		if (ir->rules.v[i].action == IR_ACCEPT && x.eff[i] != bddfalse)
			pks_set(&acc, pks_or(acc, x.eff[i]));
	/* a new ssh connection in, on some interface (not none), first fragment, no DNAT */
	BDD q = pks_eq(&x.ps, &x.ps.hook, IR_INPUT);
	BDD t = pks_eq(&x.ps, &x.ps.proto, IR_TCP);
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(&x.ps, &x.ps.dport, 22);
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(&x.ps, &x.ps.ct, 0); /* CT_NEW */
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(&x.ps, &x.ps.iif, 0); /* no interface: not a packet that comes in */
	pks_set(&q, pks_diff(q, t));
	bdd_delref(t);
	pks_set(&q, pks_and(q, bdd_nithvar(x.ps.frag.first)));
	pks_set(&q, pks_and(q, bdd_nithvar(x.ps.dnat.first)));
	pks_set(&q, pks_and(q, bdd_nithvar(x.ps.local.first)));
	pks_set(&q, pks_and(q, x.ps.valid));
	for (size_t k = 0; k < n; k++) {
		BDD from = pks_prefix(&x.ps, &x.ps.saddr, &mgmt[k]);
		BDD want = pks_and(q, from);
		BDD blocked = pks_diff(want, acc);
		struct ir_packet w;
		if (pks_witness(&x.ps, blocked, &w)) {
			char net[64];
			ir_prefix_format(&mgmt[k], net, sizeof(net));
			char *desc = packet_describe(&w);
			struct ir_verdict v = ir_eval(ir, &w);
			char *by = v.rule && v.rule->origin.stmt_no ? xasprintf("line %d", v.rule->origin.line)
				   : v.rule ? xasprintf("the built-in '%s' rule", v.rule->origin.builtin)
				   : xstrdup("the default policy");
			diag_warning_id(d, DIAG_W_MGMT_LOCKOUT, NULL, "the management network %s cannot "
					"always reach ssh (tcp/22) on this host: e.g. %s is %s by %s", net, desc,
					v.action == IR_REJECT ? "rejected" : "dropped", by);
			free(by);
			free(desc);
		}
		bdd_delref(blocked);
		bdd_delref(want);
		bdd_delref(from);
	}
	bdd_delref(q);
	bdd_delref(acc);
	exact_free(&x);
}
