/*
 * PH115 management lockout (`management from ADDRS;` in the policy, `pinhole check --mgmt
 * PREFIX`): every address of a management network must be able to open ssh (tcp/22) to this
 * host, on any interface it may arrive by. Exact: the blocked part of that space, with a
 * witness packet and the line (or the default policy) that drops it, from the evaluator. A
 * port forward that rewrites such a connection (natview.h) takes it away from this host's
 * sshd as surely as a drop: those count as blocked, whatever the filter says of them.
 */
#include <stdlib.h>
#include <string.h>

#include "exact.h"
#include "lint.h"
#include "natview.h"
#include "packet.h"

/* A new ssh connection in, on some interface (not none), first fragment, no DNAT. */
static BDD ssh_in(const struct pktspace *ps)
{
	BDD q = pks_eq(ps, &ps->hook, IR_INPUT);
	BDD t = pks_eq(ps, &ps->proto, IR_TCP);
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(ps, &ps->dport, 22);
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(ps, &ps->ct, 0); /* CT_NEW */
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(ps, &ps->iif, 0); /* no interface: not a packet that comes in */
	pks_set(&q, pks_diff(q, t));
	bdd_delref(t);
	pks_set(&q, pks_and(q, bdd_nithvar(ps->frag.first)));
	pks_set(&q, pks_and(q, bdd_nithvar(ps->dnat.first)));
	pks_set(&q, pks_and(q, bdd_nithvar(ps->local.first)));
	pks_set(&q, pks_and(q, ps->valid));
	return q;
}

static void one_net(const struct exact *x, const struct natview *nv, const struct ir_ruleset *ir,
		    BDD q, BDD acc, const struct ir_prefix *net, const struct loc *at, struct diags *d)
{
	BDD from = pks_prefix(&x->ps, &x->ps.saddr, net);
	BDD want = pks_and(q, from);
	BDD blocked = pks_diff(want, acc);
	if (nv && nv->any) {
		BDD moved = pks_and(want, nv->translated);
		pks_set(&blocked, pks_or(blocked, moved));
		bdd_delref(moved);
	}
	struct ir_packet w;
	if (pks_witness(&x->ps, blocked, &w)) {
		char text[64];
		ir_prefix_format(net, text, sizeof(text));
		char *desc = packet_describe(&w);
		struct ir_verdict v = ir_eval(ir, &w);
		const struct ir_rule *r = v.dnat ? v.dnat : v.rule;
		char *by = r && r->origin.stmt_no ? xasprintf("line %d", r->origin.line)
			   : r ? xasprintf("the built-in '%s' rule", r->origin.builtin)
			   : xstrdup("the default policy");
		diag_warning_id(d, DIAG_W_MGMT_LOCKOUT, at, "the management network %s cannot "
				"always reach ssh (tcp/22) on this host: e.g. %s is %s by %s", text, desc,
				v.dnat ? "forwarded to another host" : v.action == IR_REJECT ? "rejected"
				: "dropped", by);
		free(by);
		free(desc);
	}
	bdd_delref(blocked);
	bdd_delref(want);
	bdd_delref(from);
}

static bool same_prefix(const struct ir_prefix *a, const struct ir_prefix *b)
{
	return a->family == b->family && a->len == b->len && !memcmp(a->addr, b->addr, sizeof(a->addr));
}

void lint_mgmt(const struct exact *x, const struct natview *nv, const struct resolved *res,
	       const struct ir_ruleset *ir, const struct ir_prefix *extra, size_t nextra,
	       struct diags *d)
{
	BDD acc = bdd_addref(bddfalse);
	for (size_t i = 0; i < x->n; i++)
		if (ir->rules.v[i].action == IR_ACCEPT && x->eff[i] != bddfalse)
			pks_set(&acc, pks_or(acc, x->eff[i]));
	BDD q = ssh_in(&x->ps);
	for (size_t k = 0; k < res->mgmt.n; k++)
		one_net(x, nv, ir, q, acc, &res->mgmt.v[k].p, &res->mgmt.v[k].loc, d);
	for (size_t k = 0; k < nextra; k++) {
		bool declared = false;
		for (size_t j = 0; j < res->mgmt.n && !declared; j++)
			declared = same_prefix(&extra[k], &res->mgmt.v[j].p);
		if (!declared)
			one_net(x, nv, ir, q, acc, &extra[k], NULL, d);
	}
	bdd_delref(q);
	bdd_delref(acc);
}
