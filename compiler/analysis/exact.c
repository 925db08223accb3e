/* Exact per-rule and per-statement analysis (exact.h). */
#include <stdlib.h>
#include <string.h>

#include "exact.h"
#include "overlap.h"

unsigned long exact_pair_tests;

bool exact_deciding(const struct ir_rule *r)
{
	bool filter = r->hook == IR_INPUT || r->hook == IR_FORWARD || r->hook == IR_OUTPUT;
	return filter && (r->action == IR_ACCEPT || r->action == IR_DROP || r->action == IR_REJECT);
}

/* Actions as indexes of the suffix unions. */
static int act(enum ir_action a)
{
	return a == IR_ACCEPT ? 0 : a == IR_DROP ? 1 : 2;
}

static void note_line(struct exact_stmt *s, const struct ir_rule *r)
{
	if (r->origin.builtin && !r->origin.stmt_no) {
		if (!s->builtin)
			s->builtin = r->origin.builtin;
		return;
	}
	for (size_t k = 0; k < s->nlines; k++)
		if (s->stmts[k] == r->origin.stmt_no)
			return;
	if (s->nlines < EXACT_LINES) {
		s->stmts[s->nlines] = r->origin.stmt_no;
		s->lines[s->nlines++] = r->origin.line;
	}
}

/* The rules that may share packets with a statement's rules (overlap.h): only those can
 * decide any of its packets (decided_before, needed). Asking the index, not a BDD test
 * against every rule of the policy, keeps the analysis from being quadratic. */
struct cands {
	const struct ir_ruleset *rs;
	struct overlap ov;
	size_t *by_stmt, *rules; /* statement s's rules: rules[by_stmt[s] .. by_stmt[s+1]) */
	ov_rules v;
	size_t of;               /* v holds statement `of`'s candidates (0: none yet) */
};

/* A bound on how many there are, without listing them. */
static size_t cands_count(const struct cands *c, size_t s)
{
	size_t n = 0;
	for (size_t k = c->by_stmt[s]; k < c->by_stmt[s + 1]; k++)
		n += overlap_count(&c->ov, &c->rs->rules.v[c->rules[k]]);
	return n;
}

static const ov_rules *cands_of(struct cands *c, size_t s)
{
	if (c->of == s) /* the unneeded test asks twice */
		return &c->v;
	c->of = s;
	c->v.n = 0;
	for (size_t k = c->by_stmt[s]; k < c->by_stmt[s + 1]; k++)
		overlap_query(&c->ov, &c->rs->rules.v[c->rules[k]], &c->v);
	overlap_sort(&c->v);
	return &c->v;
}

/* A statement that decides nothing: which earlier rules decide its packets, and do they all
 * decide them its way? */
static void decided_before(struct exact *x, const struct ir_ruleset *rs, struct exact_stmt *s,
			   size_t last, const ov_rules *cand)
{
	bool same = true;
	for (size_t c = 0; c < cand->n && cand->v[c] < last; c++) {
		size_t j = cand->v[c];
		if (x->eff[j] == bddfalse)
			continue;
		int t = rs->rules.v[j].origin.stmt_no;
		if (x->eff[j] == bddfalse || t <= 0 || (size_t)t > x->nstmt)
			continue; /* built-ins decide nothing of s->space */
		exact_pair_tests++;
		BDD hit = pks_and(x->eff[j], s->space);
		if (hit != bddfalse) {
			note_line(s, &rs->rules.v[j]);
			same = same && rs->rules.v[j].action == s->action;
		}
		bdd_delref(hit);
	}
	s->cls = same ? EX_COVERED : EX_SHADOWED;
}

size_t exact_few = 32;

/* Per action, the union of the matches of the rules from each rule on (`u[a][j]`: of rules
 * j.. with action a), built the first time a statement has too many candidates to test
 * them one by one. */
struct suffix_unions {
	bool built, need[3];
	BDD *u[3];
};

static BDD *const *suffix_unions(struct exact *x, const struct ir_ruleset *rs, struct suffix_unions *su)
{
	if (su->built)
		return su->u;
	su->built = true;
	for (int a = 0; a < 3; a++) {
		su->u[a] = xcalloc(x->n + 2, sizeof(BDD));
		su->u[a][x->n] = su->u[a][x->n + 1] = bdd_addref(bddfalse);
		for (size_t j = x->n; j-- > 0;) {
			if (!su->need[a]) {
				su->u[a][j] = bdd_addref(bddfalse);
				continue;
			}
			const struct ir_rule *r = &rs->rules.v[j];
			su->u[a][j] = x->match[j] != bddfalse && act(r->action) == a
				? pks_or(su->u[a][j + 1], x->match[j]) : bdd_addref(su->u[a][j + 1]);
		}
	}
	return su->u;
}

static void suffix_unions_free(struct exact *x, struct suffix_unions *su)
{
	for (int a = 0; su->built && a < 3; a++) {
		for (size_t j = 0; j <= x->n; j++)
			bdd_delref(su->u[a][j]);
		free(su->u[a]);
	}
}

/* The cheap test of needed(): for a drop, does a rule after `first` with another verdict
 * match any of `rem`; for an accept or reject, does some of `rem` meet no rule after
 * `first` with its verdict. Over the statement's candidates when they are few (the others
 * are disjoint from it), else over the suffix unions. */
static bool precheck(struct exact *x, const struct ir_ruleset *rs, BDD rem, int a, size_t first,
		     int stmt_no, struct cands *cs, struct suffix_unions *su)
{
	if (cands_count(cs, (size_t)stmt_no) > exact_few) {
		BDD *const *u = suffix_unions(x, rs, su);
		if (a == 1) {
			bool other = false;
			for (int b = 0; b < 3 && !other; b++) {
				if (b == a)
					continue;
				BDD t = pks_and(rem, u[b][first + 1]);
				other = t != bddfalse;
				bdd_delref(t);
			}
			return other;
		}
		BDD left = pks_diff(rem, u[a][first + 1]);
		bool stuck = left != bddfalse;
		bdd_delref(left);
		return stuck;
	}
	const ov_rules *cand = cands_of(cs, (size_t)stmt_no);
	BDD left = bdd_addref(rem);
	bool other = false;
	for (size_t c = 0; c < cand->n && !other && left != bddfalse; c++) {
		size_t j = cand->v[c];
		if (j <= first || x->match[j] == bddfalse)
			continue;
		bool same = act(rs->rules.v[j].action) == a;
		if (a == 1 && !same) {
			exact_pair_tests++;
			BDD t = pks_and(rem, x->match[j]);
			other = t != bddfalse;
			bdd_delref(t);
		} else if (a != 1 && same) {
			exact_pair_tests++;
			pks_set(&left, pks_diff(left, x->match[j]));
		}
	}
	bool stuck = left != bddfalse;
	bdd_delref(left);
	return a == 1 ? other : stuck;
}

/* A statement that decides packets: would every one of them get the same verdict from the
 * first other rule that matches it (or the default drop)? Those packets match no rule
 * before the statement's first rule, so that is the first such rule after it. */
static void needed(struct exact *x, const struct ir_ruleset *rs, struct exact_stmt *s, int stmt_no,
		   size_t first, struct suffix_unions *su, struct cands *cs)
{
	int a = act(s->action);
	BDD rem = bdd_addref(s->eff);
	s->cls = EX_LIVE;
	/* A cheap test first: no other action after it can take any of them, or (for a
	 * verdict the default does not give) some of them meet no rule of its action at all. */
	bool pre = precheck(x, rs, rem, a, first, stmt_no, cs, su);
	if (s->action == IR_DROP && !pre) {
		s->cls = EX_UNNEEDED;
		s->by_default = true;
		bdd_delref(rem);
		return;
	}
	if (s->action != IR_DROP && pre) {
		bdd_delref(rem);
		return;
	}
	const ov_rules *cand = cands_of(cs, (size_t)stmt_no);
	for (size_t c = 0; c < cand->n && rem != bddfalse; c++) {
		size_t j = cand->v[c];
		if (j <= first)
			continue;
		const struct ir_rule *r = &rs->rules.v[j];
		if (x->match[j] == bddfalse || r->origin.stmt_no == stmt_no)
			continue;
		exact_pair_tests++;
		BDD hit = pks_and(rem, x->match[j]);
		if (hit != bddfalse) {
			if (r->action != s->action) {
				bdd_delref(hit);
				bdd_delref(rem);
				s->nlines = 0;
				s->builtin = NULL;
				return;
			}
			note_line(s, r);
			pks_set(&rem, pks_diff(rem, hit));
		}
		bdd_delref(hit);
	}
	if (rem == bddfalse || s->action == IR_DROP) {
		s->cls = EX_UNNEEDED;
		s->by_default = rem != bddfalse;
	} else {
		s->nlines = 0;
		s->builtin = NULL;
	}
	bdd_delref(rem);
}

bool exact_analyze(struct exact *x, const struct ir_ruleset *rs, size_t nstmt)
{
	struct pktspace ps;
	if (!pks_init(&ps, rs))
		return false;
	exact_analyze_in(x, &ps, rs, nstmt);
	x->own = true;
	return true;
}

/* What rule i decides: what it matches and no rule before it matched. Its candidates in
 * the overlap index are the only earlier rules that can match any of it; when they are many,
 * the union of every earlier rule's match (`before`, grown as far as asked) answers. */
static BDD decides(struct exact *x, const struct ir_ruleset *rs, size_t i, struct cands *cs,
		   BDD *before, size_t *upto)
{
	cs->of = 0; /* v is this rule's now */
	if (overlap_count(&cs->ov, &rs->rules.v[i]) > exact_few) {
		for (; *upto < i; ++*upto)
			if (x->match[*upto] != bddfalse)
				pks_set(before, pks_or(*before, x->match[*upto]));
		return pks_diff(x->match[i], *before);
	}
	cs->v.n = 0;
	overlap_query(&cs->ov, &rs->rules.v[i], &cs->v);
	size_t k = 0;
	for (size_t c = 0; c < cs->v.n; c++)
		if (cs->v.v[c] < i && x->match[cs->v.v[c]] != bddfalse)
			cs->v.v[k++] = cs->v.v[c];
	cs->v.n = k;
	overlap_sort(&cs->v);
	BDD e = bdd_addref(x->match[i]);
	for (size_t c = 0; c < cs->v.n && e != bddfalse; c++)
		pks_set(&e, pks_diff(e, x->match[cs->v.v[c]]));
	return e;
}

void exact_analyze_in(struct exact *x, const struct pktspace *ps, const struct ir_ruleset *rs,
		      size_t nstmt)
{
	memset(x, 0, sizeof(*x));
	x->ps = *ps;
	x->n = rs->rules.n;
	x->match = xcalloc(x->n + 1, sizeof(BDD));
	x->eff = xcalloc(x->n + 1, sizeof(BDD));
	x->nstmt = nstmt;
	x->st = xcalloc(nstmt + 1, sizeof(*x->st));
	for (size_t s = 0; s < nstmt; s++)
		x->st[s].space = x->st[s].eff = bdd_addref(bddfalse);
	bool *want = xcalloc(x->n + 1, sizeof(bool));
	struct cands cs = {.rs = rs, .by_stmt = xcalloc(nstmt + 2, sizeof(size_t)),
			   .rules = xcalloc(x->n + 1, sizeof(size_t))};
	for (size_t i = 0; i < x->n; i++)
		want[i] = exact_deciding(&rs->rules.v[i]);
	overlap_build(&cs.ov, rs, want);
	/* Forward: what each rule matches (within `valid`, the codes that stand for a packet)
	 * and what it decides. */
	BDD before = bdd_addref(bddfalse), builtin = bdd_addref(bddfalse);
	size_t upto = 0;
	size_t *first = xcalloc(nstmt + 1, sizeof(size_t)), *last = xcalloc(nstmt + 1, sizeof(size_t));
	bool *mixed = xcalloc(nstmt + 1, sizeof(bool)), *seen = xcalloc(nstmt + 1, sizeof(bool));
	for (size_t i = 0; i < x->n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		x->match[i] = x->eff[i] = bddfalse;
		if (!want[i])
			continue;
		x->match[i] = pks_rule(&x->ps, r);
		x->eff[i] = decides(x, rs, i, &cs, &before, &upto);
		int s = r->origin.stmt_no;
		if (s <= 0 || (size_t)s > nstmt) {
			pks_set(&builtin, pks_or(builtin, x->eff[i]));
			continue;
		}
		struct exact_stmt *st = &x->st[s - 1];
		if (!seen[s]) {
			seen[s] = true;
			first[s] = i;
			st->action = r->action;
		} else if (st->action != r->action) {
			mixed[s] = true;
		}
		last[s] = i;
		pks_set(&st->space, pks_or(st->space, x->match[i]));
		pks_set(&st->eff, pks_or(st->eff, x->eff[i]));
	}
	bdd_delref(before);
	/* What built-in rules (loopback, established, invalid) decide is no statement's business:
	 * a statement's space is what it matches outside of that. */
	for (size_t s = 0; s < nstmt; s++)
		pks_set(&x->st[s].space, pks_diff(x->st[s].space, builtin));
	bdd_delref(builtin);
	/* Backward, for the statements with many candidates: per action, the union of the
	 * matches from each rule on. A drop statement asks about the other verdicts, an accept
	 * or reject one about its own; none asks about drops. */
	struct suffix_unions su = {0};
	for (size_t s = 1; s <= nstmt; s++) {
		if (!seen[s] || mixed[s] || x->st[s - 1].eff == bddfalse)
			continue;
		int a = act(x->st[s - 1].action);
		if (a == 1)
			su.need[0] = su.need[2] = true;
		else
			su.need[a] = true;
	}
	for (size_t i = 0; i < x->n; i++) {
		want[i] = x->match[i] != bddfalse;
		int t = rs->rules.v[i].origin.stmt_no;
		if (want[i] && t > 0 && (size_t)t <= nstmt)
			cs.by_stmt[t]++;
	}
	for (size_t s = 1; s <= nstmt + 1; s++)
		cs.by_stmt[s] += cs.by_stmt[s - 1];
	for (size_t i = x->n; i-- > 0;) { /* a counting sort, each statement's rules in order */
		int t = rs->rules.v[i].origin.stmt_no;
		if (want[i] && t > 0 && (size_t)t <= nstmt)
			cs.rules[--cs.by_stmt[t]] = i;
	}
	free(want);
	for (size_t s = 1; s <= nstmt; s++) {
		struct exact_stmt *st = &x->st[s - 1];
		if (!seen[s] || st->space == bddfalse || mixed[s])
			st->cls = seen[s] && st->space != bddfalse ? EX_LIVE : EX_NONE;
		else if (st->eff == bddfalse)
			decided_before(x, rs, st, last[s], cands_of(&cs, s));
		else
			needed(x, rs, st, (int)s, first[s], &su, &cs);
	}
	VEC_FREE(cs.v);
	overlap_free(&cs.ov);
	free(cs.by_stmt);
	free(cs.rules);
	suffix_unions_free(x, &su);
	free(first);
	free(last);
	free(mixed);
	free(seen);
}

void exact_free(struct exact *x)
{
	if (!x->match)
		return;
	for (size_t i = 0; i < x->n; i++) {
		bdd_delref(x->match[i]);
		bdd_delref(x->eff[i]);
	}
	for (size_t s = 0; s < x->nstmt; s++) {
		bdd_delref(x->st[s].space);
		bdd_delref(x->st[s].eff);
	}
	free(x->match);
	free(x->eff);
	free(x->st);
	if (x->own)
		pks_done(&x->ps);
	memset(x, 0, sizeof(*x));
}
