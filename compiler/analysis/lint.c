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

/* Does match `a` (NULL: the rule has none of this kind, so any packet) let through every
 * packet that `b` (NULL likewise) lets through? */
static bool match_covers(enum ir_match_kind k, const struct ir_match *a, const struct ir_match *b)
{
	if (!a)
		switch (k) {
		case IR_M_FRAGMENT: /* only rules of the same kind of packet compare */
		case IR_M_SAME_PORT:
		case IR_M_TCP_FLAGS:
		case IR_M_TCP_FLAGS_ANY:
			return !b;
		case IR_M_IIF:
		case IR_M_OIF:
		case IR_M_SADDR:
		case IR_M_DADDR:
		case IR_M_IN_SET:
		case IR_M_L4PROTO:
		case IR_M_SPORT:
		case IR_M_DPORT:
		case IR_M_ICMP_TYPE:
		case IR_M_CT_STATE:
		case IR_M_CT_HELPER:
			return true;
		}
	if (!b)
		return false;
	switch (k) {
	case IR_M_IIF:
	case IR_M_OIF:
		return ifs_cover(&a->u.ifs, &b->u.ifs);
	case IR_M_SADDR:
	case IR_M_DADDR:
		return prefixes_cover(&a->u.addrs, &b->u.addrs);
	case IR_M_IN_SET: /* a set covers only the same set, looked up at the same end */
		return same_str(a->u.set.name, b->u.set.name) && a->u.set.src == b->u.set.src;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		return ports_cover(&a->u.ports, &b->u.ports);
	case IR_M_CT_STATE:
		return !(b->u.ct_state & ~a->u.ct_state);
	case IR_M_FRAGMENT:
	case IR_M_L4PROTO:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_ICMP_TYPE:
	case IR_M_CT_HELPER:
		return ir_match_equal(a, b);
	}
	return false;
}

/* Can a packet pass both `a` and `b` (either NULL: any packet)? Kinds this cannot tell
 * cheaply answer yes, so a deny is only called useless when it surely is. */
static bool match_overlaps(enum ir_match_kind k, const struct ir_match *a, const struct ir_match *b)
{
	if (!a || !b)
		return true;
	switch (k) {
	case IR_M_IIF:
	case IR_M_OIF:
		return !ifs_disjoint(&a->u.ifs, &b->u.ifs);
	case IR_M_SADDR:
	case IR_M_DADDR:
		return prefixes_overlap(&a->u.addrs, &b->u.addrs);
	case IR_M_L4PROTO:
		return a->u.proto == b->u.proto;
	case IR_M_SPORT:
	case IR_M_DPORT:
		return ports_overlap(&a->u.ports, &b->u.ports);
	case IR_M_CT_STATE:
		return (a->u.ct_state & b->u.ct_state) != 0;
	case IR_M_ICMP_TYPE:
		return a->u.icmp_type == b->u.icmp_type;
	case IR_M_IN_SET:
	case IR_M_FRAGMENT:
	case IR_M_SAME_PORT:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_CT_HELPER:
		return true;
	}
	return true;
}

bool lint_rule_covers(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook || (a->family && a->family != b->family))
		return false;
	for (int k = 0; k < IR_MATCH_KINDS; k++)
		if (!match_covers((enum ir_match_kind)k, ir_match_get(a, (enum ir_match_kind)k),
				  ir_match_get(b, (enum ir_match_kind)k)))
			return false;
	return true;
}

bool lint_rules_overlap(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook)
		return false;
	if (a->family && b->family && a->family != b->family)
		return false;
	/* A same-port rule's ports are not compared against plain port ranges. */
	bool same = ir_match_get(a, IR_M_SAME_PORT) || ir_match_get(b, IR_M_SAME_PORT);
	for (int k = 0; k < IR_MATCH_KINDS; k++) {
		enum ir_match_kind kind = (enum ir_match_kind)k;
		if (same && (kind == IR_M_SPORT || kind == IR_M_DPORT))
			continue;
		if (!match_overlaps(kind, ir_match_get(a, kind), ir_match_get(b, kind)))
			return false;
	}
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
		const struct ir_portset *dp = ir_rule_ports(r, IR_M_DPORT);
		for (size_t k = 0; dp && k < dp->n; k++)
			if (dp->v[k].hi - dp->v[k].lo < WIDE_RANGE)
				entries += (size_t)(dp->v[k].hi - dp->v[k].lo) + 1;
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
		const struct ir_portset *dp = ir_rule_ports(r, IR_M_DPORT);
		uint8_t proto = ir_rule_proto(r);
		bool wide = !dp || !dp->n || ir_match_get(r, IR_M_SAME_PORT);
		for (size_t k = 0; !wide && k < dp->n; k++)
			wide = dp->v[k].hi - dp->v[k].lo >= WIDE_RANGE;
		if (wide) {
			cand_add(ix, cand_key(r->hook, proto, 0, true), (int)i);
			continue;
		}
		for (size_t k = 0; k < dp->n; k++)
			for (uint32_t p = dp->v[k].lo; p <= dp->v[k].hi; p++)
				cand_add(ix, cand_key(r->hook, proto, p, false), (int)i);
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
	uint8_t proto = ir_rule_proto(b);
	const struct ir_portset *dp = ir_rule_ports(b, IR_M_DPORT);
	keys[nk++] = cand_key(b->hook, proto, 0, true);
	keys[nk++] = cand_key(b->hook, any, 0, true);
	if (dp && dp->n)
		keys[nk++] = cand_key(b->hook, proto, dp->v[0].lo, false);
	for (size_t k = 0; k < nk; k++) {
		if (k == 1 && proto == any)
			continue;
		for (int e = cand_first(ix, keys[k]); e >= 0; e = ix->ent[e].next) {
			const struct ir_rule *a = &ir->rules.v[ix->ent[e].rule];
			if (a->origin.stmt_no == b->origin.stmt_no || a->action != b->action)
				continue;
			if (lint_rule_covers(a, b) &&
			    (a->origin.stmt_no < b->origin.stmt_no || !lint_rule_covers(b, a)))
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
			diag_warning_id(d, DIAG_W_REDUNDANT, &res->rules.v[s - 1].loc, "this statement adds nothing: what it "
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
			if (a->action == IR_ACCEPT && a->origin.stmt_no > 0 && lint_rules_overlap(a, b))
				return;
		}
	}
	diag_warning_id(d, DIAG_W_USELESS_DENY, &res->rules.v[index].loc, "this deny closes nothing: no allow lets such "
		     "traffic in, and the default policy already drops it");
}

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	lint_redundant(res, ir, d);
	for (size_t i = 0; i < res->rules.n; i++)
		if (res->rules.v[i].action == ACT_DENY)
			lint_useless_deny(i, res, ir, d);
}
