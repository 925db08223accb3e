/*
 * check's findings through the port forwards (natview.h): a forward that rewrites nothing
 * because forwards before it take all its connections (PH105 when they go to the same place,
 * PH112 otherwise) and a forward whose rewritten connections the filter drops, each of them
 * (PH116), a masquerade or snat that translates no connection the filter lets out (PH105).
 * (An administration port that a forward opens to public addresses, PH114, is
 * lint_exposure.c's, on nat_exposed.) Each names the lines and a witness, as it arrives and
 * as the filter sees it after the rewrite (ir_eval says both, from the one packet).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exact.h"
#include "lint.h"
#include "natview.h"
#include "packet.h"

/* A packet of `s` for the evaluator: within every rate budget when one is (ir_eval takes
 * budgets unspent), else any. False when `s` is empty. */
static bool witness(const struct exact *x, BDD s, struct ir_packet *w)
{
	BDD within = bdd_addref(s);
	for (size_t k = 0; k < x->ps.nlim; k++)
		pks_set(&within, pks_and(within, bdd_ithvar(x->ps.limits.first + (int)k)));
	bool ok = pks_witness(&x->ps, within, w) || pks_witness(&x->ps, s, w);
	bdd_delref(within);
	return ok;
}

/* "tcp 1.0.0.0:0 -> 0.0.0.0:2222 in new iif wan0, rewritten to tcp ... dnat" */
static char *arrival_text(const struct ir_packet *w, const struct ir_verdict *v)
{
	char *a = packet_describe(w);
	if (!v->dnat)
		return a;
	char *b = packet_describe(&v->after);
	char *r = xasprintf("%s, rewritten to %s", a, b);
	free(a);
	free(b);
	return r;
}

static void addr_port(const struct ir_prefix *addr, uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(addr->family == IR_V6 ? AF_INET6 : AF_INET, addr->addr, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, addr->family == IR_V6 ? "[%s]:%u" : "%s:%u", a, port);
}

/* Lines (up to EXACT_LINES, once each) and what else decides, as lint.c words it. */
struct deciders {
	int lines[EXACT_LINES];
	size_t n;
	const char *builtin;
	bool by_default;
};

static void add_line(struct deciders *dc, const struct ir_rule *r)
{
	if (!r->origin.stmt_no) {
		if (!dc->builtin)
			dc->builtin = r->origin.builtin ? r->origin.builtin : "built-in";
		return;
	}
	for (size_t k = 0; k < dc->n; k++)
		if (dc->lines[k] == r->origin.line)
			return;
	if (dc->n < EXACT_LINES)
		dc->lines[dc->n++] = r->origin.line;
}

static char *deciders_text(const struct deciders *dc)
{
	struct strbuf sb = {0};
	sb_puts(&sb, "");
	if (dc->n)
		sb_puts(&sb, dc->n == 1 ? "line " : "lines ");
	for (size_t k = 0; k < dc->n; k++)
		sb_printf(&sb, "%s%d", k == 0 ? "" : k + 1 == dc->n ? " and " : ", ", dc->lines[k]);
	if (dc->builtin)
		sb_printf(&sb, "%sthe built-in '%s' rule", dc->n ? " and " : "", dc->builtin);
	if (dc->by_default)
		sb_printf(&sb, "%sthe default policy", dc->n || dc->builtin ? " and " : "");
	return sb_steal(&sb);
}

static size_t decider_count(const struct deciders *dc)
{
	return dc->n + (dc->builtin != NULL) + dc->by_default;
}

/* Does DNAT rule b send the packets `hit` (as they arrive) where rule a would? */
static bool same_rewrite(const struct exact *x, const struct ir_rule *a, const struct ir_rule *b,
			 BDD hit)
{
	if (a->nat.addr.family != b->nat.addr.family ||
	    memcmp(a->nat.addr.addr, b->nat.addr.addr, a->nat.addr.family == IR_V6 ? 16 : 4))
		return false;
	if (a->nat.port == b->nat.port)
		return true;
	if (a->nat.port && b->nat.port)
		return false;
	/* one keeps the arriving port, the other sets p: the same when every port is p */
	uint16_t p = a->nat.port ? a->nat.port : b->nat.port;
	BDD eq = pks_eq(&x->ps, &x->ps.dport, p);
	BDD other = pks_diff(hit, eq);
	bool same = other == bddfalse;
	bdd_delref(other);
	bdd_delref(eq);
	return same;
}

/* A forward none of whose DNAT rules rewrites anything: the forwards before it take every
 * connection it matches. */
static void forward_shadowed(const struct resolved *res, const struct ir_ruleset *ir,
			     const struct exact *x, const struct natview *nv, size_t index, BDD wants,
			     struct diags *d)
{
	int stmt = (int)index + 1;
	struct deciders by = {0};
	bool same = true;
	BDD cover = bdd_addref(bddfalse), elsewhere = bdd_addref(bddfalse);
	const struct ir_rule *mine = NULL;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		if (r->hook != IR_DSTNAT || r->origin.stmt_no != stmt || nv->wants[i] == bddfalse)
			continue;
		mine = r;
		for (size_t j = 0; j < i; j++) {
			if (nv->takes[j] == bddfalse || ir->rules.v[j].origin.stmt_no == stmt)
				continue;
			BDD hit = pks_and(nv->takes[j], nv->wants[i]);
			if (hit != bddfalse) {
				add_line(&by, &ir->rules.v[j]);
				pks_set(&cover, pks_or(cover, hit));
				if (!same_rewrite(x, r, &ir->rules.v[j], hit)) {
					same = false;
					pks_set(&elsewhere, pks_or(elsewhere, hit));
				}
			}
			bdd_delref(hit);
		}
	}
	/* every connection it matches, rewritten by those (not by a rule that translates
	 * nothing), or this is not the finding */
	BDD left = pks_diff(wants, cover);
	bool all = left == bddfalse && mine && by.n;
	bdd_delref(left);
	/* Its filter rule may still admit connections the others rewrote (one of them over
	 * its budget), and its hairpin masquerade translate them: then it is not without
	 * effect. */
	bool admits = false;
	for (size_t j = 0; j < x->n && same && all && !admits; j++) {
		if (ir->rules.v[j].origin.stmt_no != stmt)
			continue;
		admits = ir->rules.v[j].hook == IR_SRCNAT;
		if (admits || x->eff[j] == bddfalse)
			continue;
		BDD t = pks_and(x->eff[j], nv->real);
		admits = t != bddfalse;
		bdd_delref(t);
	}
	if (all) {
		char *lines = deciders_text(&by);
		const char *s = decider_count(&by) == 1 ? "s" : "";
		struct ir_packet w;
		if (same && !admits) {
			diag_warning_id(d, DIAG_W_REDUNDANT, &res->rules.v[index].loc, "this forward adds "
					"nothing: %s already rewrite%s every connection it matches, to the same "
					"address and port", lines, s);
		} else if (witness(x, same ? cover : elsewhere, &w)) {
			struct ir_verdict v = ir_eval(ir, &w); /* a rule before it rewrites w */
			char *arr = arrival_text(&w, &v);
			char want[64];
			uint16_t port = mine->nat.port ? mine->nat.port : w.dport;
			addr_port(&mine->nat.addr, port, want, sizeof(want));
			if (v.dnat)
				diag_warning_id(d, DIAG_W_SHADOWED, &res->rules.v[index].loc, "this forward is "
						"shadowed: it rewrites no connection, as %s rewrite%s every connection "
						"it matches first (e.g. %s by line %d; this forward would send it to %s)",
						lines, s, arr, v.dnat->origin.line, want);
			free(arr);
		}
		free(lines);
	}
	bdd_delref(cover);
	bdd_delref(elsewhere);
}

/* A forward that rewrites connections none of which the filter then admits. */
static void forward_dead(const struct resolved *res, const struct ir_ruleset *ir,
			 const struct exact *x, const struct natview *nv, BDD takes, BDD img,
			 size_t index, struct diags *d)
{
	BDD ok = pks_and(img, nv->admitted);
	bool dead = ok == bddfalse;
	bdd_delref(ok);
	if (!dead)
		return;
	struct deciders by = {0};
	BDD left = bdd_addref(img);
	for (size_t j = 0; j < x->n && left != bddfalse; j++) {
		BDD hit = pks_and(left, x->eff[j]);
		if (hit != bddfalse) {
			add_line(&by, &ir->rules.v[j]);
			pks_set(&left, pks_diff(left, hit));
		}
		bdd_delref(hit);
	}
	by.by_default = left != bddfalse;
	bdd_delref(left);
	struct ir_packet w;
	if (witness(x, takes, &w)) {
		struct ir_verdict v = ir_eval(ir, &w);
		char *lines = deciders_text(&by), *arr = arrival_text(&w, &v);
		diag_warning_id(d, DIAG_W_FORWARD_DENIED, &res->rules.v[index].loc,
				"the connections this forward rewrites are all dropped by %s: it forwards "
				"nothing (e.g. %s)", lines, arr);
		free(arr);
		free(lines);
	}
}

bool lint_forward(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		  const struct natview *nv, size_t index, struct diags *d)
{
	if (res->rules.v[index].action != ACT_FORWARD)
		return false;
	int stmt = (int)index + 1;
	BDD wants = bdd_addref(bddfalse), takes = bdd_addref(bddfalse), img = bdd_addref(bddfalse);
	for (size_t i = 0; i < ir->rules.n; i++) {
		if (ir->rules.v[i].hook != IR_DSTNAT || ir->rules.v[i].origin.stmt_no != stmt)
			continue;
		pks_set(&wants, pks_or(wants, nv->wants[i]));
		pks_set(&takes, pks_or(takes, nv->takes[i]));
		pks_set(&img, pks_or(img, nv->image[i]));
	}
	if (wants != bddfalse && takes == bddfalse)
		forward_shadowed(res, ir, x, nv, index, wants, d);
	else if (takes != bddfalse)
		forward_dead(res, ir, x, nv, takes, img, index, d);
	bdd_delref(wants);
	bdd_delref(takes);
	bdd_delref(img);
	return true; /* the filter's view alone says nothing true of a forward */
}

bool lint_source_nat(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		     const struct natview *nv, size_t index, struct diags *d)
{
	const struct rrule *rr = &res->rules.v[index];
	if (rr->action != ACT_MASQUERADE && rr->action != ACT_SNAT)
		return false;
	int stmt = (int)index + 1;
	bool mine = false, meets = false;
	BDD wants = bdd_addref(bddfalse);
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		if (r->hook != IR_SRCNAT || r->origin.stmt_no != stmt)
			continue;
		mine = true;
		meets = meets || nv->meets[i] != bddfalse;
		pks_set(&wants, pks_or(wants, nv->wants[i]));
	}
	const char *what = rr->action == ACT_SNAT ? "snat" : "masquerade";
	const char *zone = rr->server_side.zone ? rr->server_side.zone->name : "?";
	struct ir_packet w;
	if (mine && !meets && wants == bddfalse) {
		diag_warning_id(d, DIAG_W_REDUNDANT, &rr->loc, "this %s adds nothing: the filter lets "
				"out no new connection it matches (none from its sources leaves by zone '%s')",
				what, zone);
	} else if (mine && !meets && witness(x, wants, &w)) {
		struct deciders by = {0};
		for (size_t j = 0; j < ir->rules.n; j++) {
			if (ir->rules.v[j].hook != IR_SRCNAT || nv->meets[j] == bddfalse)
				continue;
			BDD t = pks_and(nv->meets[j], wants);
			if (t != bddfalse)
				add_line(&by, &ir->rules.v[j]);
			bdd_delref(t);
		}
		char *lines = deciders_text(&by), *desc = packet_describe(&w);
		diag_warning_id(d, DIAG_W_REDUNDANT, &rr->loc, "this %s adds nothing: %s translate%s "
				"every connection it matches first (e.g. %s)", what, lines,
				decider_count(&by) == 1 ? "s" : "", desc);
		free(desc);
		free(lines);
	}
	bdd_delref(wants);
	return true;
}
