#include <stdint.h>
#include <stdlib.h>
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
	/* A rule scoped to a dynamic set covers only rules scoped to the same set and end. */
	if (a->in_set.name && (!same_str(a->in_set.name, b->in_set.name) || a->in_set.src != b->in_set.src))
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
	return r->origin.stmt_no > 0 && (r->action == IR_ACCEPT || r->action == IR_DROP ||
					 r->action == IR_REJECT);
}

/*
 * Candidate index for "which rules could cover this one": a rule covers another only if it
 * has the same hook and contains the other's first destination port. Rules are filed under
 * (hook, protocol, port) for each port of small ranges, and in a per-(hook, protocol) list
 * when they have no port or a wide range. A lookup then sees a handful of rules, not all:
 * a 10,000-line policy lints in milliseconds, not hours.
 */
#define WIDE_RANGE 64

struct cand_index {
	uint32_t *keys;   /* open addressing: key + 1, 0 = empty */
	int *heads;       /* first entry of the bucket */
	size_t cap;       /* power of two */
	struct { int rule, next; } *ent;
	size_t n, ent_cap;
};

static uint32_t cand_key(enum ir_hook hook, uint8_t proto, uint32_t port, bool wide)
{
	return ((uint32_t)hook << 26) | ((uint32_t)proto << 18) | ((uint32_t)wide << 17) | port;
}

static size_t cand_slot(const struct cand_index *ix, uint32_t key)
{
	size_t i = (key * 2654435761u) & (ix->cap - 1);
	while (ix->keys[i] && ix->keys[i] != key + 1)
		i = (i + 1) & (ix->cap - 1);
	return i;
}

static void cand_add(struct cand_index *ix, uint32_t key, int rule)
{
	size_t i = cand_slot(ix, key);
	if (!ix->keys[i]) {
		ix->keys[i] = key + 1;
		ix->heads[i] = -1;
	}
	if (ix->n == ix->ent_cap) {
		ix->ent_cap = ix->ent_cap ? ix->ent_cap * 2 : 256;
		ix->ent = xrealloc(ix->ent, ix->ent_cap * sizeof(*ix->ent));
	}
	ix->ent[ix->n].rule = rule;
	ix->ent[ix->n].next = ix->heads[i];
	ix->heads[i] = (int)ix->n++;
}

static int cand_first(const struct cand_index *ix, uint32_t key)
{
	size_t i = cand_slot(ix, key);
	return ix->keys[i] ? ix->heads[i] : -1;
}

static void cand_build(struct cand_index *ix, const struct ir_ruleset *ir)
{
	size_t entries = 0;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		if (!deciding(r))
			continue;
		entries++;
		for (size_t k = 0; k < r->dport.n; k++)
			if (r->dport.v[k].hi - r->dport.v[k].lo < WIDE_RANGE)
				entries += (size_t)(r->dport.v[k].hi - r->dport.v[k].lo) + 1;
	}
	ix->cap = 16;
	while (ix->cap < entries * 2)
		ix->cap *= 2;
	ix->keys = xcalloc(ix->cap, sizeof(*ix->keys));
	ix->heads = xcalloc(ix->cap, sizeof(*ix->heads));
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		if (!deciding(r))
			continue;
		bool wide = r->dport.n == 0 || r->same_port;
		for (size_t k = 0; k < r->dport.n && !wide; k++)
			wide = r->dport.v[k].hi - r->dport.v[k].lo >= WIDE_RANGE;
		if (wide) {
			cand_add(ix, cand_key(r->hook, r->l4proto, 0, true), (int)i);
			continue;
		}
		for (size_t k = 0; k < r->dport.n; k++)
			for (uint32_t p = r->dport.v[k].lo; p <= r->dport.v[k].hi; p++)
				cand_add(ix, cand_key(r->hook, r->l4proto, p, false), (int)i);
	}
}

static void cand_free(struct cand_index *ix)
{
	free(ix->keys);
	free(ix->heads);
	free(ix->ent);
}

/* A rule of another statement that covers `b`: written earlier, or strictly broader (so of
 * two identical lines only the second is reported). Returns its line, or 0. */
static int covering_line(const struct cand_index *ix, const struct ir_ruleset *ir,
			 const struct ir_rule *b)
{
	uint32_t keys[4];
	size_t nk = 0;
	static const uint8_t any = 0;
	keys[nk++] = cand_key(b->hook, b->l4proto, 0, true);
	keys[nk++] = cand_key(b->hook, any, 0, true);
	if (b->dport.n && !b->same_port)
		keys[nk++] = cand_key(b->hook, b->l4proto, b->dport.v[0].lo, false);
	for (size_t k = 0; k < nk; k++) {
		if (k == 1 && b->l4proto == any)
			continue;
		for (int e = cand_first(ix, keys[k]); e >= 0; e = ix->ent[e].next) {
			const struct ir_rule *a = &ir->rules.v[ix->ent[e].rule];
			if (a->origin.stmt_no == b->origin.stmt_no || a->action != b->action)
				continue;
			if (ir_rule_covers(a, b) &&
			    (a->origin.stmt_no < b->origin.stmt_no || !ir_rule_covers(b, a)))
				return a->origin.line;
		}
	}
	return 0;
}

/* An allow whose every rule another statement already makes adds nothing. */
static void lint_redundant(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	size_t nstmt = res->rules.n;
	int *by_line = xcalloc(nstmt + 1, sizeof(*by_line));   /* a covering line per statement */
	bool *open = xcalloc(nstmt + 1, sizeof(*open));        /* has a rule nobody covers */
	bool *has = xcalloc(nstmt + 1, sizeof(*has));
	struct cand_index ix = {0};
	cand_build(&ix, ir);
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		int s = b->origin.stmt_no;
		if (!deciding(b) || s > (int)nstmt || open[s] || res->rules.v[s - 1].action != ACT_ALLOW)
			continue;
		has[s] = true;
		int line = covering_line(&ix, ir, b);
		if (line)
			by_line[s] = line;
		else
			open[s] = true;
	}
	for (size_t s = 1; s <= nstmt; s++)
		if (has[s] && !open[s])
			diag_warning(d, &res->rules.v[s - 1].stmt->loc, "this statement adds nothing: what it "
				     "allows is already allowed (e.g. by line %d)", by_line[s]);
	cand_free(&ix);
	free(by_line);
	free(open);
	free(has);
}

/* A deny that meets no allow closes nothing: the default policy drops it anyway. (A reject
 * still has an effect: it answers instead of staying silent.) */
static void lint_useless_deny(size_t index, const struct resolved *res, const struct ir_ruleset *ir,
			      struct diags *d)
{
	int s = (int)index + 1;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		if (b->origin.stmt_no != s || !deciding(b))
			continue;
		for (size_t j = 0; j < ir->rules.n; j++) {
			const struct ir_rule *a = &ir->rules.v[j];
			if (a->action == IR_ACCEPT && a->origin.stmt_no > 0 && ir_rules_overlap(a, b))
				return;
		}
	}
	diag_warning(d, &res->rules.v[index].stmt->loc, "this deny closes nothing: no allow lets such "
		     "traffic in, and the default policy already drops it");
}

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	lint_redundant(res, ir, d);
	for (size_t i = 0; i < res->rules.n; i++)
		if (res->rules.v[i].action == ACT_DENY)
			lint_useless_deny(i, res, ir, d);
}
