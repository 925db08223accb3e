/* The overlap index (overlap.h). */
#include <limits.h>
#include <stdlib.h>

#include "overlap.h"

static void key(const struct ir_rule *r, struct ov_entry *e)
{
	e->hook = (int)r->hook;
	const struct ir_match *p = ir_match_get(r, IR_M_L4PROTO);
	e->proto = p ? p->u.proto : -1;
	const struct ir_match *d = ir_match_get(r, IR_M_DPORT);
	e->dport = d && d->u.ports.n == 1 && d->u.ports.v[0].lo == d->u.ports.v[0].hi
		? d->u.ports.v[0].lo : -1;
}

static int cmp3(int h1, int p1, int d1, int h2, int p2, int d2)
{
	if (h1 != h2)
		return h1 < h2 ? -1 : 1;
	if (p1 != p2)
		return p1 < p2 ? -1 : 1;
	if (d1 != d2)
		return d1 < d2 ? -1 : 1;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ov_entry *x = a, *y = b;
	int c = cmp3(x->hook, x->proto, x->dport, y->hook, y->proto, y->dport);
	return c ? c : x->rule < y->rule ? -1 : x->rule > y->rule;
}

void overlap_build(struct overlap *o, const struct ir_ruleset *rs, const bool *want)
{
	o->n = 0;
	o->v = xcalloc(rs->rules.n + 1, sizeof(*o->v));
	for (size_t i = 0; i < rs->rules.n; i++) {
		if (!want[i])
			continue;
		key(&rs->rules.v[i], &o->v[o->n]);
		o->v[o->n++].rule = i;
	}
	qsort(o->v, o->n, sizeof(*o->v), cmp_entry);
}

/* The first entry not below (h, p, d); a p or d of INT_MIN/INT_MAX bounds a whole range. */
static size_t lower(const struct overlap *o, int h, int p, int d)
{
	size_t lo = 0, hi = o->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ov_entry *e = &o->v[mid];
		if (cmp3(e->hook, e->proto, e->dport, h, p, d) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* out NULL: only count them (the ranges' sizes) in *count. */
static void add_range(const struct overlap *o, size_t from, size_t to, ov_rules *out, size_t *count)
{
	*count += to - from;
	for (size_t i = from; out && i < to; i++)
		VEC_PUSH(*out, o->v[i].rule);
}

/* Every entry with key (h, p, d), or with (h, p, any dport) when d is INT_MIN. */
static void add_key(const struct overlap *o, int h, int p, int d, ov_rules *out, size_t *count)
{
	if (d == INT_MIN)
		add_range(o, lower(o, h, p, INT_MIN), lower(o, h, p + 1, INT_MIN), out, count);
	else
		add_range(o, lower(o, h, p, d), lower(o, h, p, d + 1), out, count);
}

static size_t query(const struct overlap *o, const struct ir_rule *r, ov_rules *out)
{
	struct ov_entry q;
	size_t n = 0;
	key(r, &q);
	if (q.proto < 0) { /* any protocol: every rule of the hook */
		add_range(o, lower(o, q.hook, INT_MIN, INT_MIN), lower(o, q.hook + 1, INT_MIN, INT_MIN),
			  out, &n);
		return n;
	}
	if (q.dport < 0) { /* any port of its protocol: those, and the rules of no protocol */
		add_key(o, q.hook, q.proto, INT_MIN, out, &n);
		add_key(o, q.hook, -1, INT_MIN, out, &n);
		return n;
	}
	add_key(o, q.hook, q.proto, q.dport, out, &n);
	add_key(o, q.hook, q.proto, -1, out, &n);
	add_key(o, q.hook, -1, q.dport, out, &n);
	add_key(o, q.hook, -1, -1, out, &n);
	return n;
}

void overlap_query(const struct overlap *o, const struct ir_rule *r, ov_rules *out)
{
	query(o, r, out);
}

size_t overlap_count(const struct overlap *o, const struct ir_rule *r)
{
	return query(o, r, NULL);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

void overlap_sort(ov_rules *v)
{
	if (v->n > 16)
		qsort(v->v, v->n, sizeof(*v->v), cmp_size);
	else /* most answers are a few rules: insertion sort, without qsort's setup */
		for (size_t i = 1; i < v->n; i++)
			for (size_t j = i; j > 0 && v->v[j] < v->v[j - 1]; j--) {
				size_t t = v->v[j];
				v->v[j] = v->v[j - 1];
				v->v[j - 1] = t;
			}
	size_t k = 0;
	for (size_t i = 0; i < v->n; i++)
		if (!k || v->v[k - 1] != v->v[i])
			v->v[k++] = v->v[i];
	v->n = k;
}

void overlap_free(struct overlap *o)
{
	free(o->v);
	o->v = NULL;
	o->n = 0;
}
