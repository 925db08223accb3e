/* The filter's view through the port forwards (natview.h). */
#include <stdlib.h>

#include "natview.h"

static void vars_of(const struct pks_field *f, int *v, int *n)
{
	for (int k = 0; k < f->bits; k++)
		v[(*n)++] = f->first + k;
}

static void and_in(BDD *s, BDD t)
{
	pks_set(s, pks_and(*s, t));
	bdd_delref(t);
}

BDD nat_image(const struct pktspace *ps, const struct ir_rule *r, BDD s)
{
	int *v = xcalloc((size_t)ps->nvars, sizeof(int)), n = 0;
	vars_of(&ps->daddr, v, &n);
	vars_of(&ps->hook, v, &n);
	vars_of(&ps->dnat, v, &n);
	vars_of(&ps->local, v, &n);
	if (r->nat.port)
		vars_of(&ps->dport, v, &n);
	BDD set = bdd_addref(bdd_makeset(v, n));
	BDD out = bdd_addref(bdd_exist(s, set));
	bdd_delref(set);
	free(v);
	struct ir_prefix to = r->nat.addr;
	to.len = to.family == IR_V6 ? 128 : 32;
	and_in(&out, pks_prefix(ps, &ps->daddr, &to));
	and_in(&out, pks_eq(ps, &ps->hook, IR_FORWARD));
	and_in(&out, bdd_addref(bdd_ithvar(ps->dnat.first)));
	and_in(&out, bdd_addref(bdd_nithvar(ps->local.first)));
	if (r->nat.port)
		and_in(&out, pks_eq(ps, &ps->dport, r->nat.port));
	pks_set(&out, pks_and(out, ps->valid));
	return out;
}

/* What each SRCNAT rule meets: a connection's first packet (rewritten by a forward or not)
 * that the filter accepted forwarded or on its way out; the first SRCNAT rule that matches
 * is final. */
static void source_nat(struct natview *nv, const struct pktspace *ps, const struct ir_ruleset *rs)
{
	BDD isnew = pks_eq(ps, &ps->ct, 0);
	BDD out = pks_eq(ps, &ps->hook, IR_OUTPUT), fwd = pks_eq(ps, &ps->hook, IR_FORWARD);
	BDD hooks = pks_or(out, fwd);
	BDD rest = pks_and(nv->admitted, nv->real);
	pks_set(&rest, pks_and(rest, isnew));
	pks_set(&rest, pks_and(rest, hooks));
	BDD rest0 = bdd_addref(rest);
	int v[8], n = 0;
	vars_of(&ps->hook, v, &n);
	BDD hookset = bdd_addref(bdd_makeset(v, n));
	for (size_t i = 0; i < nv->n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (r->hook != IR_SRCNAT)
			continue;
		BDD m = pks_rule(ps, r);
		BDD any = bdd_addref(bdd_exist(m, hookset)); /* the filter's hook, not SRCNAT's */
		bdd_delref(m);
		nv->wants[i] = pks_and(any, rest0);
		nv->meets[i] = pks_and(any, rest);
		pks_set(&rest, pks_diff(rest, any));
		bdd_delref(any);
	}
	bdd_delref(hookset);
	bdd_delref(rest0);
	bdd_delref(rest);
	bdd_delref(hooks);
	bdd_delref(out);
	bdd_delref(fwd);
	bdd_delref(isnew);
}

void natview_build(struct natview *nv, const struct exact *x, const struct ir_ruleset *rs)
{
	const struct pktspace *ps = &x->ps;
	nv->n = rs->rules.n;
	nv->any = nv->any_src = false;
	nv->wants = xcalloc(nv->n + 1, sizeof(BDD));
	nv->takes = xcalloc(nv->n + 1, sizeof(BDD));
	nv->image = xcalloc(nv->n + 1, sizeof(BDD));
	for (size_t i = 0; i < nv->n; i++)
		nv->image[i] = bddfalse;
	nv->any = nat_takes(ps, rs, nv->wants, nv->takes, &nv->translated);
	BDD images = bdd_addref(bddfalse);
	for (size_t i = 0; i < nv->n; i++) {
		if (nv->takes[i] == bddfalse)
			continue;
		nv->image[i] = nat_image(ps, &rs->rules.v[i], nv->takes[i]);
		pks_set(&images, pks_or(images, nv->image[i]));
	}
	/* untranslated, later packets of translated connections, and the images */
	BDD plain = pks_diff(ps->valid, bdd_ithvar(ps->dnat.first));
	pks_set(&plain, pks_diff(plain, nv->translated));
	BDD isnew = pks_eq(ps, &ps->ct, 0);
	BDD later = pks_and(ps->valid, bdd_ithvar(ps->dnat.first));
	pks_set(&later, pks_diff(later, isnew));
	bdd_delref(isnew);
	nv->real = pks_or(plain, later);
	pks_set(&nv->real, pks_or(nv->real, images));
	bdd_delref(plain);
	bdd_delref(later);
	bdd_delref(images);
	nv->meets = xcalloc(nv->n + 1, sizeof(BDD));
	for (size_t i = 0; i < nv->n; i++) {
		nv->meets[i] = bddfalse;
		nv->any_src = nv->any_src || rs->rules.v[i].hook == IR_SRCNAT;
	}
	nv->admitted = bdd_addref(bddfalse);
	nv->accepted = bdd_addref(bddfalse);
	for (size_t j = 0; j < x->n && (nv->any || nv->any_src); j++) { /* only NAT asks */
		const struct ir_rule *r = &rs->rules.v[j];
		if (r->action != IR_ACCEPT || x->eff[j] == bddfalse)
			continue;
		pks_set(&nv->admitted, pks_or(nv->admitted, x->eff[j]));
		if (!r->owned)
			pks_set(&nv->accepted, pks_or(nv->accepted, x->eff[j]));
	}
	if (nv->any_src)
		source_nat(nv, ps, rs);
}

void natview_free(struct natview *nv)
{
	for (size_t i = 0; i < nv->n; i++) {
		bdd_delref(nv->meets[i]);
		bdd_delref(nv->wants[i]);
		bdd_delref(nv->takes[i]);
		bdd_delref(nv->image[i]);
	}
	free(nv->meets);
	free(nv->wants);
	free(nv->takes);
	free(nv->image);
	bdd_delref(nv->translated);
	bdd_delref(nv->real);
	bdd_delref(nv->admitted);
	bdd_delref(nv->accepted);
	*nv = (struct natview){0};
}

bool nat_exposed(const struct ir_ruleset *rs, const struct exact *x, const struct natview *nv,
		 int stmt, BDD scope, struct ir_packet *w, struct ir_verdict *v)
{
	BDD open = pks_and(nv->accepted, scope);
	bool found = false;
	for (size_t i = 0; i < nv->n && !found && open != bddfalse; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (nv->takes[i] == bddfalse || r->origin.stmt_no != stmt)
			continue;
		BDD pre = nat_preimage(&x->ps, r, open);
		BDD e = pks_and(pre, nv->takes[i]);
		bdd_delref(pre);
		/* within every rate budget when it can be: as the evaluator takes them */
		BDD within = bdd_addref(e);
		for (size_t k = 0; k < x->ps.nlim; k++)
			pks_set(&within, pks_and(within, bdd_ithvar(x->ps.limits.first + (int)k)));
		if (pks_witness(&x->ps, within, w) || pks_witness(&x->ps, e, w)) {
			*v = ir_eval(rs, w);
			found = true;
		}
		bdd_delref(within);
		bdd_delref(e);
	}
	bdd_delref(open);
	return found;
}
