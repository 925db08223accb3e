/* Packets as they arrive, before a port forward rewrites them (exact.h: exact_arriving). */
#include <stdlib.h>

#include "exact.h"
#include "natview.h"

static void vars_of(const struct pks_field *f, int *v, int *n)
{
	for (int k = 0; k < f->bits; k++)
		v[(*n)++] = f->first + k;
}

/* `filtered` seen from before the rewrite of DNAT rule r: the arriving packets whose
 * rewritten form (new destination and port, forwarded, flagged dnat, not local) is in it. */
BDD nat_preimage(const struct pktspace *ps, const struct ir_rule *r, BDD filtered)
{
	struct ir_prefix to = r->nat.addr;
	to.len = to.family == IR_V6 ? 128 : 32;
	BDD s = pks_prefix(ps, &ps->daddr, &to);
	BDD t = pks_eq(ps, &ps->hook, IR_FORWARD);
	pks_set(&s, pks_and(s, t));
	bdd_delref(t);
	pks_set(&s, pks_and(s, bdd_ithvar(ps->dnat.first)));
	pks_set(&s, pks_and(s, bdd_nithvar(ps->local.first)));
	int *v = xcalloc((size_t)ps->nvars, sizeof(int)), n = 0;
	vars_of(&ps->daddr, v, &n);
	vars_of(&ps->hook, v, &n);
	vars_of(&ps->dnat, v, &n);
	vars_of(&ps->local, v, &n);
	if (r->nat.port) {
		t = pks_eq(ps, &ps->dport, r->nat.port);
		pks_set(&s, pks_and(s, t));
		bdd_delref(t);
		vars_of(&ps->dport, v, &n);
	}
	pks_set(&s, pks_and(s, filtered));
	BDD set = bdd_addref(bdd_makeset(v, n));
	BDD out = bdd_addref(bdd_exist(s, set));
	bdd_delref(set);
	bdd_delref(s);
	free(v);
	return out;
}

/* The packets a DSTNAT rule matches, as they arrive in hook h (local: addressed to this
 * host, which is what input means before the DNAT chain). */
BDD nat_arriving_match(const struct pktspace *ps, BDD m, enum ir_hook h)
{
	BDD s = pks_and(m, h == IR_INPUT ? bdd_ithvar(ps->local.first) : bdd_nithvar(ps->local.first));
	int v[4], n = 0;
	vars_of(&ps->hook, v, &n);
	vars_of(&ps->local, v, &n);
	BDD set = bdd_addref(bdd_makeset(v, n));
	BDD e = bdd_addref(bdd_exist(s, set));
	bdd_delref(set);
	bdd_delref(s);
	BDD t = pks_eq(ps, &ps->hook, h);
	BDD out = pks_and(e, t);
	bdd_delref(t);
	bdd_delref(e);
	return out;
}

bool nat_takes(const struct pktspace *ps, const struct ir_ruleset *rs, BDD *wants, BDD *takes,
	       BDD *translated)
{
	bool any = false;
	for (size_t i = 0; i < rs->rules.n; i++) {
		takes[i] = bddfalse;
		if (wants)
			wants[i] = bddfalse;
	}
	/* a connection's first packet, in or forwarded, not yet translated (ir_eval_state) */
	BDD first = pks_eq(ps, &ps->ct, 0);
	pks_set(&first, pks_and(first, bdd_nithvar(ps->dnat.first)));
	pks_set(&first, pks_and(first, ps->valid));
	BDD rest = bdd_addref(first);
	*translated = bdd_addref(bddfalse);
	/* what is left takes nothing; only `wants` asks about the rules after that */
	for (size_t i = 0; i < rs->rules.n && (wants || rest != bddfalse); i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (r->hook != IR_DSTNAT)
			continue;
		BDD m = pks_rule(ps, r);
		BDD in = nat_arriving_match(ps, m, IR_INPUT), fwd = nat_arriving_match(ps, m, IR_FORWARD);
		bdd_delref(m);
		BDD pre = pks_or(in, fwd);
		bdd_delref(in);
		bdd_delref(fwd);
		pks_set(&pre, pks_and(pre, first));
		BDD take = pks_and(pre, rest);
		pks_set(&rest, pks_diff(rest, pre)); /* a NAT chain's first match is final */
		if (r->action == IR_DNAT) {
			any = true;
			BDD fam = r->nat.addr.family == IR_V6 ? bdd_ithvar(ps->family.first)
							  : bdd_nithvar(ps->family.first);
			if (wants)
				wants[i] = pks_and(pre, fam);
			takes[i] = pks_and(take, fam);
			pks_set(translated, pks_or(*translated, takes[i]));
		}
		bdd_delref(take);
		bdd_delref(pre);
	}
	bdd_delref(rest);
	bdd_delref(first);
	return any;
}

BDD exact_arriving(const struct exact *x, const struct ir_ruleset *rs, BDD filtered)
{
	const struct pktspace *ps = &x->ps;
	BDD *takes = xcalloc(rs->rules.n + 1, sizeof(BDD)), translated;
	nat_takes(ps, rs, NULL, takes, &translated);
	BDD out = bdd_addref(bddfalse);
	for (size_t i = 0; i < rs->rules.n; i++) {
		if (takes[i] == bddfalse)
			continue;
		BDD img = nat_preimage(ps, &rs->rules.v[i], filtered);
		BDD got = pks_and(takes[i], img);
		pks_set(&out, pks_or(out, got));
		bdd_delref(got);
		bdd_delref(img);
		bdd_delref(takes[i]);
	}
	free(takes);
	BDD kept = pks_diff(filtered, translated);
	pks_set(&out, pks_or(out, kept));
	bdd_delref(kept);
	pks_set(&out, pks_and(out, ps->valid));
	bdd_delref(translated);
	return out;
}
