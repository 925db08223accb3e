/* Whether two BDDs share a packet, by a walk that builds no node (pktspace.h). A difference
 * a \ b by ite rebuilds every node of a above the point where b becomes constant, even when
 * b takes nothing away: each rebuilt node a look-up in BuDDy's unique table, which at
 * 50,000 rules no longer fits in the processor's caches. Most differences the analysis asks
 * (a rule minus a built-in ICMP rule, say) take nothing away, and this walk tells first. */
#include <stdlib.h>
#include <string.h>

#include "pktspace.h"

/* The pairs found disjoint in this walk: open addressing, cleared by a new stamp. */
static struct seen {
	BDD a, b;
	unsigned stamp;
} *seen;
static size_t seen_cap, seen_n;
static unsigned stamp;

static size_t slot(BDD a, BDD b)
{
	size_t h = ((size_t)(unsigned)a * 0x9e3779b1u) ^ ((size_t)(unsigned)b * 0x85ebca77u);
	size_t i = (h ^ (h >> 15)) & (seen_cap - 1);
	while (seen[i].stamp == stamp && (seen[i].a != a || seen[i].b != b))
		i = (i + 1) & (seen_cap - 1);
	return i;
}

static void remember(BDD a, BDD b)
{
	if ((seen_n + 1) * 2 > seen_cap) { /* grow, keeping this walk's pairs */
		struct seen *old = seen;
		size_t n = seen_cap;
		seen_cap = seen_cap ? seen_cap * 2 : 1024;
		seen = calloc(seen_cap, sizeof(*seen));
		if (!seen)
			abort();
		seen_n = 0;
		for (size_t i = 0; i < n; i++)
			if (old[i].stamp == stamp) {
				seen[slot(old[i].a, old[i].b)] = old[i];
				seen_n++;
			}
		free(old);
	}
	size_t i = slot(a, b);
	seen[i] = (struct seen){a, b, stamp};
	seen_n++;
}

static bool meets(BDD a, BDD b)
{
	if (a == bddfalse || b == bddfalse)
		return false;
	if (a == bddtrue || b == bddtrue || a == b)
		return true;
	if (a > b) { /* the pair in one order */
		BDD t = a;
		a = b;
		b = t;
	}
	if (seen_cap && seen[slot(a, b)].stamp == stamp)
		return false;
	int la = bdd_var2level(bdd_var(a)), lb = bdd_var2level(bdd_var(b));
	bool m;
	if (la == lb)
		m = meets(bdd_low(a), bdd_low(b)) || meets(bdd_high(a), bdd_high(b));
	else if (la < lb)
		m = meets(bdd_low(a), b) || meets(bdd_high(a), b);
	else
		m = meets(a, bdd_low(b)) || meets(a, bdd_high(b));
	if (!m)
		remember(a, b);
	return m;
}

bool pks_meets(BDD a, BDD b)
{
	if (++stamp == 0) { /* wrapped: every old stamp would match again */
		memset(seen, 0, seen_cap * sizeof(*seen));
		stamp = 1;
	}
	seen_n = 0;
	return meets(a, b);
}

void pks_meets_free(void)
{
	free(seen);
	seen = NULL;
	seen_cap = seen_n = 0;
}
