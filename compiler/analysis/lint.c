/*
 * Whole-policy checks for `pinhole check`, on the exact analysis (exact.h): statements that
 * decide nothing (covered, shadowed), statements without which nothing changes, apps open
 * over one family only because of address lists, and administration ports open to public
 * sources. Every finding is exact; the messages name the deciding lines, or a witness packet.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exact.h"
#include "lint.h"
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

/* A packet the statement matches that an earlier rule decides otherwise. */
static char *shadow_witness(const struct exact *x, const struct ir_ruleset *ir,
			    const struct exact_stmt *s)
{
	for (size_t j = 0; j < x->n; j++) {
		if (x->eff[j] == bddfalse || ir->rules.v[j].action == s->action ||
		    !ir->rules.v[j].origin.stmt_no)
			continue;
		BDD t = pks_and(x->eff[j], s->space);
		struct ir_packet p;
		bool found = pks_witness(&x->ps, t, &p);
		bdd_delref(t);
		if (!found)
			continue;
		char *desc = packet_describe(&p);
		char *r = xasprintf("%s: %s by line %d", desc, ir_action_name(ir->rules.v[j].action),
				    ir->rules.v[j].origin.line);
		free(desc);
		return r;
	}
	return xstrdup("no witness");
}

static void lint_statements(const struct resolved *res, const struct ir_ruleset *ir,
			    const struct exact *x, struct diags *d)
{
	for (size_t i = 0; i < x->nstmt && i < res->rules.n; i++) {
		const struct exact_stmt *s = &x->st[i];
		const struct loc *at = &res->rules.v[i].loc;
		char *by = lines_text(s);
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
			char *w = shadow_witness(x, ir, s);
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

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	if (!res->rules.n)
		return;
	struct exact x;
	if (!exact_analyze(&x, ir, res->rules.n))
		return;
	lint_statements(res, ir, &x, d);
	lint_exposure(res, ir, &x, d);
	exact_free(&x);
}
