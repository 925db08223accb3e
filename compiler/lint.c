#include <string.h>

#include "addr.h"
#include "lint.h"

static bool prefixes_cover(const struct ir_addrset *a, const struct ir_addrset *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		bool in = false;
		for (size_t j = 0; j < a->n && !in; j++)
			in = prefix_covers(&a->v[j], &b->v[i]);
		if (!in)
			return false;
	}
	return true;
}

static bool prefixes_overlap(const struct ir_addrset *a, const struct ir_addrset *b)
{
	if (!a->n || !b->n)
		return true;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (prefix_covers(&a->v[i], &b->v[j]) || prefix_covers(&b->v[j], &a->v[i]))
				return true;
	return false;
}

static bool ports_cover(const struct ir_portset *a, const struct ir_portset *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		bool in = false;
		for (size_t j = 0; j < a->n && !in; j++)
			in = a->v[j].lo <= b->v[i].lo && b->v[i].hi <= a->v[j].hi;
		if (!in)
			return false;
	}
	return true;
}

static bool ports_overlap(const struct ir_portset *a, const struct ir_portset *b)
{
	if (!a->n || !b->n)
		return true;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (a->v[i].lo <= b->v[j].hi && b->v[j].lo <= a->v[i].hi)
				return true;
	return false;
}

static bool ifs_cover(const struct ir_ifset *a, const struct ir_ifset *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		bool in = false;
		for (size_t j = 0; j < a->n && !in; j++)
			in = !strcmp(a->v[j], b->v[i]);
		if (!in)
			return false;
	}
	return true;
}

static bool ifs_disjoint(const struct ir_ifset *a, const struct ir_ifset *b)
{
	if (!a->n || !b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (strchr(a->v[i], '*'))
			return false;
		for (size_t j = 0; j < b->n; j++)
			if (strchr(b->v[j], '*') || !strcmp(a->v[i], b->v[j]))
				return false;
	}
	return true;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool ir_rule_covers(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook || (a->family && a->family != b->family))
		return false;
	if (a->l4proto && a->l4proto != b->l4proto)
		return false;
	if (!ifs_cover(&a->iif, &b->iif) || !ifs_cover(&a->oif, &b->oif))
		return false;
	if (!prefixes_cover(&a->saddr, &b->saddr) || !prefixes_cover(&a->daddr, &b->daddr))
		return false;
	if (a->same_port != b->same_port || a->fragment != b->fragment)
		return false;
	if (!ports_cover(&a->sport, &b->sport) || !ports_cover(&a->dport, &b->dport))
		return false;
	if (a->tcp_flags_mask != b->tcp_flags_mask || a->tcp_flags_cmp != b->tcp_flags_cmp ||
	    a->tcp_flags_any != b->tcp_flags_any)
		return false;
	if (a->ct_state && (!b->ct_state || (b->ct_state & ~a->ct_state)))
		return false;
	if (a->ct_helper && !same_str(a->ct_helper, b->ct_helper))
		return false;
	return a->icmp_type < 0 || a->icmp_type == b->icmp_type;
}

bool ir_rules_overlap(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook)
		return false;
	if (a->family && b->family && a->family != b->family)
		return false;
	if (a->l4proto && b->l4proto && a->l4proto != b->l4proto)
		return false;
	if (ifs_disjoint(&a->iif, &b->iif) || ifs_disjoint(&a->oif, &b->oif))
		return false;
	if (!prefixes_overlap(&a->saddr, &b->saddr) || !prefixes_overlap(&a->daddr, &b->daddr))
		return false;
	if (!a->same_port && !b->same_port &&
	    (!ports_overlap(&a->sport, &b->sport) || !ports_overlap(&a->dport, &b->dport)))
		return false;
	if (a->ct_state && b->ct_state && !(a->ct_state & b->ct_state))
		return false;
	if (a->icmp_type >= 0 && b->icmp_type >= 0 && a->icmp_type != b->icmp_type)
		return false;
	return true;
}

/* Rules that decide a verdict for a statement (helper assignment and logs are not). */
static bool deciding(const struct ir_rule *r)
{
	return !r->origin.builtin && (r->action == IR_ACCEPT || r->action == IR_DROP ||
				      r->action == IR_REJECT);
}

static bool from_stmt(const struct ir_rule *r, const struct ast_stmt *s)
{
	return r->origin.file && !strcmp(r->origin.file, s->loc.src->name) &&
	       r->origin.line == s->loc.first_line && r->origin.col == s->loc.first_column;
}

/* An allow whose every rule another statement already makes: it adds nothing. The other
 * statement must be written earlier, or be strictly broader, so that of two identical lines
 * only the second is reported. */
static void lint_redundant(const struct rrule *rr, size_t index, const struct resolved *res,
			   const struct ir_ruleset *ir, struct diags *d)
{
	const struct ast_stmt *s = rr->stmt;
	int by_line = 0;
	size_t mine = 0;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		if (!deciding(b) || !from_stmt(b, s))
			continue;
		mine++;
		bool covered = false;
		for (size_t j = 0; j < ir->rules.n && !covered; j++) {
			const struct ir_rule *a = &ir->rules.v[j];
			if (!deciding(a) || a->action != b->action || from_stmt(a, s) || !a->origin.file)
				continue;
			bool earlier = false;
			for (size_t k = 0; k < index; k++)
				earlier |= from_stmt(a, res->rules.v[k].stmt);
			if (ir_rule_covers(a, b) && (earlier || !ir_rule_covers(b, a))) {
				covered = true;
				by_line = a->origin.line;
			}
		}
		if (!covered)
			return;
	}
	if (mine)
		diag_warning(d, &s->loc, "this statement adds nothing: what it allows is already allowed "
			     "(e.g. by line %d)", by_line);
}

/* A deny that meets no allow closes nothing: the default policy drops it anyway. (A reject
 * still has an effect: it answers instead of staying silent.) */
static void lint_useless_deny(const struct rrule *rr, const struct ir_ruleset *ir, struct diags *d)
{
	const struct ast_stmt *s = rr->stmt;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		if (!deciding(b) || !from_stmt(b, s))
			continue;
		for (size_t j = 0; j < ir->rules.n; j++) {
			const struct ir_rule *a = &ir->rules.v[j];
			if (a->action == IR_ACCEPT && !a->origin.builtin && ir_rules_overlap(a, b))
				return;
		}
	}
	diag_warning(d, &s->loc, "this deny closes nothing: no allow lets such traffic in, and the "
		     "default policy already drops it");
}

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	for (size_t i = 0; i < res->rules.n; i++) {
		const struct rrule *rr = &res->rules.v[i];
		if (rr->action == ACT_ALLOW)
			lint_redundant(rr, i, res, ir, d);
		else if (rr->action == ACT_DENY)
			lint_useless_deny(rr, ir, d);
	}
}
