/* The overlap index (overlap.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "overlap.h"

static void key(const struct ir_rule *r, struct ov_entry *e)
{
	e->hook = (int)r->hook;
	const struct ir_match *p = ir_match_get(r, IR_M_L4PROTO);
	e->proto = p ? p->u.proto : -1;
	const struct ir_match *d = ir_match_get(r, IR_M_DPORT);
	e->dport = d && d->u.ports.n == 1 && d->u.ports.v[0].lo == d->u.ports.v[0].hi
		? d->u.ports.v[0].lo : -1;
	const struct ir_addrset *s = ir_rule_addrs(r, IR_M_SADDR);
	e->sfam = s && s->n == 1 ? s->v[0].family : 0;
	memset(&e->src, 0, sizeof(e->src));
	memset(e->lens, 0, sizeof(e->lens));
	if (e->sfam)
		e->src = s->v[0];
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

/* The order within one key: no single prefix first, then by family, address, length. */
static int cmp_src(const struct ov_entry *x, int fam, const uint8_t *addr, int len)
{
	if (x->sfam != fam)
		return x->sfam < fam ? -1 : 1;
	int c = memcmp(x->src.addr, addr, 16);
	if (c)
		return c;
	return x->src.len < len ? -1 : x->src.len > len;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct ov_entry *x = a, *y = b;
	int c = cmp3(x->hook, x->proto, x->dport, y->hook, y->proto, y->dport);
	if (!c)
		c = cmp_src(x, y->sfam, y->src.addr, y->src.len);
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
	for (size_t a = 0, b; a < o->n; a = b) { /* each run of one key and family */
		uint64_t lens[3] = {0, 0, 0};
		const struct ov_entry *e = &o->v[a];
		for (b = a; b < o->n && !cmp3(o->v[b].hook, o->v[b].proto, o->v[b].dport, e->hook,
					       e->proto, e->dport) && o->v[b].sfam == e->sfam; b++)
			lens[o->v[b].src.len / 64] |= (uint64_t)1 << (o->v[b].src.len % 64);
		for (size_t k = a; k < b; k++)
			memcpy(o->v[k].lens, lens, sizeof(lens));
	}
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
/* The first entry of [from, to) (one key) not below (fam, addr, len) in cmp_src's order. */
static size_t lower_src(const struct overlap *o, size_t from, size_t to, int fam, const uint8_t *addr,
			int len)
{
	while (from < to) {
		size_t mid = from + (to - from) / 2;
		if (cmp_src(&o->v[mid], fam, addr, len) < 0)
			from = mid + 1;
		else
			to = mid;
	}
	return from;
}

/* The entries of one key [from, to) that may share a source with prefix p: those without a
 * single prefix, those whose prefix starts within p (p and what it holds), and p's proper
 * ancestors (the prefixes that hold it), one lookup per shorter length. */
static void add_src(const struct overlap *o, size_t from, size_t to, const struct ir_prefix *p,
		    ov_rules *out, size_t *count)
{
	if (from == to)
		return;
	static const uint8_t z[16];
	size_t fam = lower_src(o, from, to, p->family, z, 0);
	add_range(o, from, lower_src(o, from, fam, 1, z, 0), out, count);
	int bits = p->family == IR_V6 ? 128 : 32;
	uint8_t a[16];
	memcpy(a, p->addr, 16);
	for (int k = p->len; k < bits; k++) /* the last address of p */
		a[k / 8] |= (uint8_t)(0x80 >> (k % 8));
	size_t lo = lower_src(o, fam, to, p->family, p->addr, 0);
	add_range(o, lo, lower_src(o, lo, to, p->family, a, 129), out, count);
	for (int len = 0; len < p->len && fam < lo; len++) {
		if (!(o->v[fam].lens[len / 64] & (uint64_t)1 << (len % 64)))
			continue; /* no prefix of that length here */
		memset(a, 0, 16);
		memcpy(a, p->addr, (size_t)len / 8);
		if (len % 8)
			a[len / 8] = p->addr[len / 8] & (uint8_t)(0xff << (8 - len % 8));
		if (!memcmp(a, p->addr, 16))
			continue; /* its address is p's: in the range above */
		size_t at = lower_src(o, fam, lo, p->family, a, len);
		add_range(o, at, lower_src(o, at, lo, p->family, a, len + 1), out, count);
	}
}

static void add_key(const struct overlap *o, int h, int p, int d, ov_rules *out, size_t *count,
		    const struct ov_entry *q)
{
	if (d == INT_MIN) {
		add_range(o, lower(o, h, p, INT_MIN), lower(o, h, p + 1, INT_MIN), out, count);
		return;
	}
	size_t from = lower(o, h, p, d), to = lower(o, h, p, d + 1);
	if (q && q->sfam)
		add_src(o, from, to, &q->src, out, count);
	else
		add_range(o, from, to, out, count);
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
		add_key(o, q.hook, q.proto, INT_MIN, out, &n, NULL);
		add_key(o, q.hook, -1, INT_MIN, out, &n, NULL);
		return n;
	}
	add_key(o, q.hook, q.proto, q.dport, out, &n, &q);
	add_key(o, q.hook, q.proto, -1, out, &n, &q);
	add_key(o, q.hook, -1, q.dport, out, &n, &q);
	add_key(o, q.hook, -1, -1, out, &n, &q);
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
