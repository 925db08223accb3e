/*
 * Whole-policy checks for `pinhole check`, on the exact analysis (exact.h): statements that
 * decide nothing (covered, shadowed), statements without which nothing changes (or whose
 * limit an unlimited allow undoes), port forwards whose connections a deny drops, apps open
 * over one family only because of address lists, and administration ports open to public
 * sources. Every finding is exact; the
 * messages name the deciding lines, or a witness packet. Allows towards masqueraded hosts
 * that no forward reaches are a check on the resolved policy (addresses and translations).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "exact.h"
#include "lint.h"
#include "natview.h"
#include "packet.h"

/* "line 3", "lines 3 and 5", "lines 3, 5 and 7" (+ "the built-in 'established' rule"). */
static char *lines_text(const struct exact_stmt *s)
{
	struct strbuf sb = {0};
	sb_puts(&sb, "");
	if (s->nlines)
		sb_puts(&sb, s->nlines == 1 ? "line " : "lines ");
	for (size_t k = 0; k < s->nlines; k++)
		sb_printf(&sb, "%s%d", k == 0 ? "" : k + 1 == s->nlines ? " and " : ", ", s->lines[k]);
	if (s->builtin)
		sb_printf(&sb, "%sthe built-in '%s' rule", s->nlines ? " and " : "", s->builtin);
	return sb_steal(&sb);
}

/* A later decider that is itself covered (by this statement, typically): of two identical
 * lines only the second is reported. */
static bool later_is_covered(const struct exact *x, const struct exact_stmt *s)
{
	for (size_t k = 0; k < s->nlines; k++) {
		int t = s->stmts[k];
		if (t > 0 && (size_t)t <= x->nstmt && x->st[t - 1].cls == EX_COVERED)
			return true;
	}
	return false;
}

/* A packet the statement matches that an earlier rule decides otherwise: one that can occur
 * (natview.h: not one a forward rewrites on arrival) when there is one. */
static char *shadow_witness(const struct exact *x, const struct ir_ruleset *ir,
			    const struct natview *nv, const struct exact_stmt *s)
{
	for (size_t j = 0; j < 2 * x->n; j++) {
		size_t k = j % x->n;
		if (x->eff[k] == bddfalse || ir->rules.v[k].action == s->action ||
		    !ir->rules.v[k].origin.stmt_no)
			continue;
		BDD t = pks_and(x->eff[k], s->space);
		if (j < x->n)
			pks_set(&t, pks_and(t, nv->real));
		struct ir_packet p;
		bool found = pks_witness(&x->ps, t, &p);
		bdd_delref(t);
		if (!found)
			continue;
		char *desc = packet_describe(&p);
		char *r = xasprintf("%s: %s by line %d", desc, ir_action_name(ir->rules.v[k].action),
				    ir->rules.v[k].origin.line);
		free(desc);
		return r;
	}
	return xstrdup("no witness");
}

static bool prefix_in(const prefix_vec *v, const struct ir_prefix *p)
{
	for (size_t i = 0; i < v->n; i++)
		if (prefix_covers(&v->v[i], p))
			return true;
	return false;
}

/* Does a source translation `m` hide the host address or prefix `p` behind zone `out`? */
static bool hidden_behind(const struct rrule *m, const struct zone *out, const struct ir_prefix *p)
{
	if ((m->action != ACT_MASQUERADE && m->action != ACT_SNAT) || m->server_side.zone != out)
		return false;
	if (!(rrule_more(m)->nat.families & (p->family == IR_V6 ? 2 : 1)))
		return false;
	return !m->client_side.given || !m->client_side.addrs.n || prefix_in(&m->client_side.addrs, p);
}

/* An allow of forwarded traffic from a zone towards hosts that a masquerade (or snat) hides
 * behind that very zone: from there nobody can address them, only a port forward reaches
 * them; when no forward leads to them, the allow most likely waits for one. */
static void lint_allow_without_forward(size_t index, const struct resolved *res, struct diags *d)
{
	const struct rrule *rr = &res->rules.v[index];
	const struct zone *from = rr->client_side.zone;
	if (rr->role != ROLE_NONE || !from || !rr->server_side.addrs.n)
		return;
	for (size_t k = 0; k < rr->server_side.addrs.n; k++) {
		const struct ir_prefix *p = &rr->server_side.addrs.v[k];
		bool hidden = false;
		for (size_t m = 0; m < res->rules.n && !hidden; m++)
			hidden = hidden_behind(&res->rules.v[m], from, p);
		if (!hidden)
			continue;
		for (size_t f = 0; f < res->rules.n; f++) {
			const struct rrule *fw = &res->rules.v[f];
			if (fw->action == ACT_FORWARD && prefix_covers(p, &rrule_more(fw)->nat.addr))
				return; /* a forward leads into the list */
		}
		char buf[64];
		ir_prefix_format(p, buf, sizeof(buf));
		diag_warning_id(d, DIAG_W_ALLOW_NO_FORWARD, &rr->server_side.loc,
				"%s is masqueraded behind zone '%s': connections from '%s' reach it only "
				"through a port forward ('forward tcp/PORT from %s to HOST'), and none "
				"leads there", buf, from->name, from->name, from->name);
		return;
	}
}

/* A gateway allow, deny or reject from or to a zone with `forward owned;`: the forwarded
 * packets of its interfaces pass pinhole's forward chain first, and the owner's tables decide
 * them, so the statement decides none of that (an allow opens nothing, a deny closes nothing).
 * Said instead of the exact analysis' shadowed/redundant, which would not say why. */
/* Interface names that can name the same interface: equal, or a "prefix*" wildcard that the
 * other name (or wildcard) starts with. */
static bool ifaces_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '*' && !strncmp(a, b, la - 1))
		return true;
	if (lb && b[lb - 1] == '*' && !strncmp(b, a, lb - 1))
		return true;
	return !strcmp(a, b);
}

/* An owned zone that shares an interface with zone z (NULL: none). */
static const struct zone *owned_overlap(const struct resolved *res, const struct zone *z,
					const char **iface)
{
	for (size_t o = 0; o < res->zones.n; o++) {
		const struct zone *ow = &res->zones.v[o];
		if (!ow->owned || ow == z)
			continue;
		for (size_t i = 0; i < z->ifaces.n; i++)
			for (size_t j = 0; j < ow->ifaces.n; j++)
				if (ifaces_overlap(z->ifaces.v[i], ow->ifaces.v[j])) {
					*iface = z->ifaces.v[i];
					return ow;
				}
	}
	return NULL;
}

static bool lint_owned_forward(const struct resolved *res, const struct rrule *rr, struct diags *d)
{
	if (rr->role != ROLE_NONE ||
	    (rr->action != ACT_ALLOW && rr->action != ACT_DENY && rr->action != ACT_REJECT))
		return false;
	const struct peer *sides[2] = {&rr->client_side, &rr->server_side};
	for (int k = 0; k < 2; k++) {
		const struct zone *z = sides[k]->zone;
		const char *iface = NULL;
		const struct zone *ow = z && !z->owned ? owned_overlap(res, z, &iface) : NULL;
		if (ow) {
			diag_warning_id(d, DIAG_W_OWNED_FORWARD, &sides[k]->loc,
					"zone '%s' has interface %s, which zone '%s' leaves to its owner "
					"('forward owned', line %d): this statement decides none of the "
					"traffic forwarded in or out by that interface", z->name, iface, ow->name,
					ow->owned_loc.first_line);
			return true;
		}
		if (!z || !z->owned)
			continue;
		diag_warning_id(d, DIAG_W_OWNED_FORWARD, &sides[k]->loc,
				"zone '%s' leaves its forwarded traffic to the interfaces' owner "
				"('forward owned', line %d): this statement decides none of it; "
				"write the rule in the owner's configuration (for Docker: DOCKER-USER)",
				z->name, z->owned_loc.first_line);
		return true;
	}
	return false;
}

static void lint_statements(const struct resolved *res, const struct ir_ruleset *ir,
			    const struct exact *x, const struct natview *nv, struct diags *d)
{
	for (size_t i = 0; i < x->nstmt && i < res->rules.n; i++) {
		const struct exact_stmt *s = &x->st[i];
		const struct loc *at = &res->rules.v[i].loc;
		if (lint_forward(res, ir, x, nv, i, d) || lint_source_nat(res, ir, x, nv, i, d) ||
		    lint_owned_forward(res, &res->rules.v[i], d))
			continue;
		char *by = lines_text(s);
		if (rrule_more(&res->rules.v[i])->limit.rate && s->action == IR_ACCEPT &&
		    (s->cls == EX_COVERED || (s->cls == EX_UNNEEDED && !later_is_covered(x, s)))) {
			/* Every budget is a free variable of the analysis, so the lines named
			 * allow all of it whatever the budgets: unlimited, at least there. */
			diag_warning_id(d, DIAG_W_REDUNDANT, at, "this statement's limit has no effect: "
					"what it allows is allowed without a limit too, by %s%s", by,
					s->cls == EX_COVERED ? " before it" : " after it");
			free(by);
			continue;
		}
		switch (s->cls) {
		case EX_NONE:
		case EX_LIVE:
			break;
		case EX_COVERED:
			diag_warning_id(d, DIAG_W_REDUNDANT, at, "this statement adds nothing: %s already "
					"decide%s every packet it matches, the same way", by,
					s->nlines + (s->builtin != NULL) == 1 ? "s" : "");
			break;
		case EX_SHADOWED: {
			char *w = shadow_witness(x, ir, nv, s);
			diag_warning_id(d, DIAG_W_SHADOWED, at, "this statement is shadowed: it decides no "
					"packet, as %s decide%s every packet it matches first, not all the "
					"same way (e.g. %s)", by, s->nlines + (s->builtin != NULL) == 1 ? "s" : "", w);
			free(w);
			break;
		}
		case EX_UNNEEDED:
			if (later_is_covered(x, s))
				break;
			if (s->action == IR_DROP)
				diag_warning_id(d, DIAG_W_USELESS_DENY, at, "this deny closes nothing: without "
						"it no allow lets such traffic in, and %s%sthe default policy "
						"drops it", by, *by ? " or " : "");
			else
				diag_warning_id(d, DIAG_W_REDUNDANT, at, "this statement adds nothing: without "
						"it %s would decide every packet it decides, the same way", by);
			break;
		}
		free(by);
	}
}

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir,
		 const struct ir_prefix *extra, size_t nextra, struct diags *d)
{
	bool mgmt = res->mgmt.n || nextra; /* a policy of no rules still locks them out */
	if (!res->rules.n && !mgmt)
		return;
	for (size_t i = 0; i < res->rules.n; i++)
		if (res->rules.v[i].action == ACT_ALLOW)
			lint_allow_without_forward(i, res, d);
	struct exact x;
	if (!exact_analyze(&x, ir, res->rules.n))
		return;
	struct natview nv;
	natview_build(&nv, &x, ir);
	if (res->rules.n) {
		lint_statements(res, ir, &x, &nv, d);
		lint_exposure(res, ir, &x, &nv, d);
	}
	if (mgmt)
		lint_mgmt(&x, &nv, res, ir, extra, nextra, d);
	natview_free(&nv);
	exact_free(&x);
}
