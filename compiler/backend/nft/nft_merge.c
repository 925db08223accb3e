/* Rulesets that stay fast at 10,000 entries: runs of rules next to each other in a chain that
 * have the same verdict and the same steps except for the values of a few address and port
 * fields become one rule over a set of those values (a concatenation when several fields
 * vary: `ip saddr . tcp dport { 10.0.0.1 . 22, ... }`). A packet then costs one set lookup
 * instead of a walk over every rule.
 *
 * Only neighbours merge, so no rule moves past another, and only rules that decide (accept,
 * drop, reject), so every merged rule decides exactly as its members did. Each element carries
 * its member's comment: the provenance of every element stays in the ruleset. Elements must
 * not overlap (nft refuses overlapping intervals): a member whose elements would overlap an
 * earlier member's starts a new rule; one whose element repeats an earlier one exactly adds
 * nothing there. A one-field set of prefixes or ranges is a named set, because nft merges
 * adjacent ranges of anonymous sets and so would lose their comments. */
#include <stdlib.h>
#include <string.h>

#include "nft_lower.h"

/* The fields a step can give a set, or 0 when it cannot vary in a merge. */
static int key_fields(const struct nft_step *s, enum nft_field f[2])
{
	switch (s->kind) {
	case NS_ADDR:
		if (s->u.addr.set)
			return 0; /* a define's or zone's set stays a set of its own */
		f[0] = s->src ? NF_SADDR : NF_DADDR;
		return 1;
	case NS_PORTS:
		f[0] = s->src ? NF_SPORT : NF_DPORT;
		return 1;
	case NS_PORT_PAIR:
		f[0] = NF_SPORT;
		f[1] = NF_DPORT;
		return 2;
	case NS_NFPROTO:
	case NS_L4PROTO:
	case NS_IFNAME:
	case NS_SET_LOOKUP:
	case NS_PINHOLE_LOOKUP:
	case NS_FRAGMENT:
	case NS_SAME_PORT:
	case NS_TCP_FLAGS:
	case NS_ICMP_TYPE:
	case NS_CT_STATE:
	case NS_CT_HELPER:
	case NS_FIB_LOCAL:
	case NS_CT_DNAT:
	case NS_NAT:
	case NS_MASQUERADE:
	case NS_SET_MATCH:
	case NS_LOG:
	case NS_NFLOG:
	case NS_ACCEPT:
	case NS_DROP:
	case NS_REJECT:
	case NS_HELPER_SET:
	case NS_SET_UPDATE:
	case NS_LIMIT:
		break;
	}
	return 0;
}

static bool same_step(const struct nft_step *a, const struct nft_step *b)
{
	if (a->kind != b->kind || a->implicit != b->implicit || a->src != b->src ||
	    a->family != b->family || a->proto != b->proto)
		return false;
	switch (a->kind) {
	case NS_NFPROTO: return a->u.nfproto == b->u.nfproto;
	case NS_L4PROTO: return a->u.l4proto == b->u.l4proto;
	case NS_IFNAME: return ir_ifset_equal(a->u.ifs, b->u.ifs);
	case NS_ADDR:
		return util_str_equal(a->u.addr.set, b->u.addr.set) &&
		       (a->u.addr.set || ir_addrset_equal(a->u.addr.addrs, b->u.addr.addrs));
	case NS_SET_LOOKUP:
	case NS_SET_UPDATE:
		return util_str_equal(a->u.set, b->u.set);
	case NS_PINHOLE_LOOKUP:
		return util_str_equal(a->u.pinhole.set, b->u.pinhole.set) &&
		       a->u.pinhole.port_src == b->u.pinhole.port_src &&
		       a->u.pinhole.peerless == b->u.pinhole.peerless;
	case NS_FRAGMENT:
	case NS_FIB_LOCAL:
	case NS_CT_DNAT:
	case NS_MASQUERADE:
	case NS_ACCEPT:
	case NS_DROP:
		return true;
	case NS_PORTS:
	case NS_SAME_PORT:
		return ir_portset_equal(a->u.ports, b->u.ports);
	case NS_PORT_PAIR:
		return a->u.pair.sport == b->u.pair.sport && a->u.pair.dport == b->u.pair.dport;
	case NS_TCP_FLAGS:
		return a->u.flags.mask == b->u.flags.mask && a->u.flags.cmp == b->u.flags.cmp &&
		       a->u.flags.any == b->u.flags.any;
	case NS_ICMP_TYPE: return a->u.icmp_type == b->u.icmp_type;
	case NS_CT_STATE: return a->u.ct_state == b->u.ct_state;
	case NS_CT_HELPER: return util_str_equal(a->u.ct_helper, b->u.ct_helper);
	case NS_LOG:
		return util_str_equal(a->u.log_prefix, b->u.log_prefix) &&
		       (a->u.logopt == b->u.logopt ||
			(a->u.logopt && b->u.logopt && !memcmp(a->u.logopt, b->u.logopt, sizeof(*a->u.logopt))));
	case NS_NFLOG: return util_str_equal(a->u.log_prefix, b->u.log_prefix);
	case NS_LIMIT: return false; /* every limited rule keeps its own budget: never merged */
	case NS_REJECT: return a->u.reject == b->u.reject;
	case NS_HELPER_SET: return util_str_equal(a->u.helper_obj, b->u.helper_obj);
	case NS_NAT:
		return a->u.nat.dst == b->u.nat.dst && !memcmp(a->u.nat.to, b->u.nat.to, sizeof(*a->u.nat.to));
	case NS_SET_MATCH: return false; /* merged already */
	}
	return false;
}

/* Only rules that decide merge; the verdict is their last step. A limited rule does not
 * decide every packet it matches (those over its budget go on), and the packets that reach it
 * spend its budget: it neither merges nor lets a rule of its run move past it. */
static bool decides(const struct nft_lowered *l)
{
	if (!l->steps.n || l->steps.n > 64 || l->setm)
		return false;
	for (size_t k = 0; k < l->steps.n; k++)
		if (l->steps.v[k].kind == NS_LIMIT)
			return false;
	enum nft_step_kind k = l->steps.v[l->steps.n - 1].kind;
	return k == NS_ACCEPT || k == NS_DROP || k == NS_REJECT;
}

/* Steps where `b` differs from `a` in a field value only, as a bit mask; false when they
 * differ otherwise. */
static bool differ_in_keys(const struct nft_lowered *a, const struct nft_lowered *b, uint64_t *mask)
{
	if (a->steps.n != b->steps.n || !decides(b))
		return false;
	*mask = 0;
	for (size_t k = 0; k < a->steps.n; k++) {
		const struct nft_step *x = &a->steps.v[k], *y = &b->steps.v[k];
		if (same_step(x, y))
			continue;
		enum nft_field fx[2], fy[2];
		int nx = key_fields(x, fx), ny = key_fields(y, fy);
		if (!nx || nx != ny || x->kind != y->kind || x->src != y->src || x->family != y->family ||
		    x->proto != y->proto)
			return false;
		*mask |= (uint64_t)1 << k;
	}
	return true;
}

static size_t fields_in(const struct nft_lowered *l, uint64_t mask)
{
	size_t n = 0;
	for (size_t k = 0; k < l->steps.n; k++) {
		enum nft_field f[2];
		if (mask & ((uint64_t)1 << k))
			n += (size_t)key_fields(&l->steps.v[k], f);
	}
	return n;
}

/* ---- elements ---- */

/* A field value as an inclusive range of big-endian bytes, for overlap tests. */
struct span {
	uint8_t lo[16], hi[16];
	uint8_t len;
};

static void value_span(enum nft_field f, const union nft_value *v, struct span *s)
{
	memset(s, 0, sizeof(*s));
	switch (f) {
	case NF_SADDR:
	case NF_DADDR: {
		const struct ir_prefix *p = &v->prefix;
		s->len = p->family == IR_V6 ? 16 : 4;
		memcpy(s->lo, p->addr, s->len);
		memcpy(s->hi, p->addr, s->len);
		for (size_t bit = p->len; bit < s->len * 8; bit++)
			s->hi[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
		break;
	}
	case NF_SPORT:
	case NF_DPORT:
		s->len = 2;
		s->lo[0] = (uint8_t)(v->ports.lo >> 8);
		s->lo[1] = (uint8_t)v->ports.lo;
		s->hi[0] = (uint8_t)(v->ports.hi >> 8);
		s->hi[1] = (uint8_t)v->ports.hi;
		break;
	}
}

static bool is_interval(enum nft_field f, const union nft_value *v)
{
	struct span s;
	value_span(f, v, &s);
	return memcmp(s.lo, s.hi, s.len) != 0;
}

struct cand {             /* one for each element of every member of a run: kept small */
	struct nft_elem e;  /* e.member: which member of the run it comes from */
	bool dropped;       /* repeats an earlier member's element */
};

/* merge_run writes a run's elements over its candidates */
_Static_assert(sizeof(struct cand) >= sizeof(struct nft_elem), "an element fits in its candidate's place");

struct build_ctx {
	const struct nft_setmatch *shape;
	VEC(struct cand) c;
};

/* The values one step gives its fields, for member m: the cross product goes to `c`. */
static void add_member_elems(struct build_ctx *b, const struct nft_lowered *l, uint64_t mask, uint32_t m)
{
	/* At most NFT_CONCAT_MAX fields, each with its list of values. */
	union nft_value *vals[NFT_CONCAT_MAX] = {0};
	size_t nvals[NFT_CONCAT_MAX] = {0}, nf = 0;
	/* most steps hold one value: kept here, not allocated (once per member of a run) */
	union nft_value one[NFT_CONCAT_MAX + 1];
	for (size_t k = 0; k < l->steps.n; k++) {
		if (!(mask & ((uint64_t)1 << k)))
			continue;
		const struct nft_step *s = &l->steps.v[k];
		switch (s->kind) {
		case NS_ADDR:
			vals[nf] = s->u.addr.addrs->n == 1 ? &one[nf]
				   : xmalloc(s->u.addr.addrs->n * sizeof(union nft_value));
			for (size_t i = 0; i < s->u.addr.addrs->n; i++)
				vals[nf][i].prefix = s->u.addr.addrs->v[i];
			nvals[nf++] = s->u.addr.addrs->n;
			break;
		case NS_PORTS:
			vals[nf] = s->u.ports->n == 1 ? &one[nf]
				   : xmalloc(s->u.ports->n * sizeof(union nft_value));
			for (size_t i = 0; i < s->u.ports->n; i++)
				vals[nf][i].ports = s->u.ports->v[i];
			nvals[nf++] = s->u.ports->n;
			break;
		case NS_PORT_PAIR:
			vals[nf] = &one[nf];
			vals[nf][0].ports = (struct ir_portrange){s->u.pair.sport, s->u.pair.sport};
			nvals[nf++] = 1;
			vals[nf] = &one[nf];
			vals[nf][0].ports = (struct ir_portrange){s->u.pair.dport, s->u.pair.dport};
			nvals[nf++] = 1;
			break;
		case NS_NFPROTO:
		case NS_L4PROTO:
		case NS_IFNAME:
		case NS_SET_LOOKUP:
		case NS_PINHOLE_LOOKUP:
		case NS_FRAGMENT:
		case NS_SAME_PORT:
		case NS_TCP_FLAGS:
		case NS_ICMP_TYPE:
		case NS_CT_STATE:
		case NS_CT_HELPER:
		case NS_FIB_LOCAL:
		case NS_CT_DNAT:
		case NS_NAT:
		case NS_MASQUERADE:
		case NS_SET_MATCH:
		case NS_LOG:
		case NS_NFLOG:
		case NS_ACCEPT:
		case NS_DROP:
		case NS_REJECT:
		case NS_HELPER_SET:
		case NS_SET_UPDATE:
		case NS_LIMIT:
			break; /* never varies (key_fields) */
		}
	}
	size_t idx[NFT_CONCAT_MAX] = {0};
	for (;;) {
		struct cand c = {.e.member = m};
		for (size_t f = 0; f < nf; f++)
			c.e.v[f] = vals[f][idx[f]];
		VEC_PUSH(b->c, c);
		size_t f = nf;
		while (f-- > 0) { /* next combination, last field fastest */
			if (++idx[f] < nvals[f])
				break;
			idx[f] = 0;
		}
		if (f == (size_t)-1)
			break;
	}
	for (size_t f = 0; f < nf; f++)
		if (vals[f] != &one[f])
			free(vals[f]);
}

/* By where field 0 starts (an address prefix's host bits are zero), then by member. */
static int cand_cmp(const void *a, const void *b, void *field0)
{
	const struct cand *x = a, *y = b;
	enum nft_field f = *(const enum nft_field *)field0;
	const union nft_value *u = &x->e.v[0], *v = &y->e.v[0];
	int c = f == NF_SADDR || f == NF_DADDR
		? memcmp(u->prefix.addr, v->prefix.addr, u->prefix.family == IR_V6 ? 16 : 4)
		: (u->ports.lo > v->ports.lo) - (u->ports.lo < v->ports.lo);
	if (c)
		return c;
	return x->e.member < y->e.member ? -1 : x->e.member > y->e.member;
}

/* Do two elements meet in every field; are they the same in every field? */
static bool cand_meets(const struct nft_setmatch *shape, const struct cand *a, const struct cand *b,
		       bool *same)
{
	*same = true;
	for (size_t f = 0; f < shape->nfields; f++) {
		struct span x, y;
		value_span(shape->field[f], &a->e.v[f], &x);
		value_span(shape->field[f], &b->e.v[f], &y);
		if (memcmp(x.hi, y.lo, x.len) < 0 || memcmp(y.hi, x.lo, x.len) < 0)
			return false;
		*same &= !memcmp(x.lo, y.lo, x.len) && !memcmp(x.hi, y.hi, x.len);
	}
	return true;
}

/* The first member whose elements overlap an earlier member's (without repeating them
 * exactly), or `n` when there is none. Exact repeats are marked dropped. Sorted by the first
 * field, only elements whose first fields meet are compared. */
static size_t first_overlap(struct build_ctx *b, size_t n)
{
	enum nft_field f0 = b->shape->field[0];
	qsort_r(b->c.v, b->c.n, sizeof(*b->c.v), cand_cmp, &f0);
	size_t worst = n;
	struct act { size_t idx; struct span first; }; /* field 0 of those still open */
	VEC(struct act) active = {0};
	for (size_t i = 0; i < b->c.n; i++) {
		struct cand *e = &b->c.v[i];
		struct span first;
		value_span(f0, &e->e.v[0], &first);
		size_t keep = 0;
		for (size_t a = 0; a < active.n; a++) {
			struct cand *o = &b->c.v[active.v[a].idx];
			if (memcmp(active.v[a].first.hi, first.lo, first.len) < 0)
				continue; /* ends before e starts: done with it */
			active.v[keep++] = active.v[a];
			bool same;
			if (o->dropped || o->e.member == e->e.member || !cand_meets(b->shape, o, e, &same))
				continue;
			struct cand *later = o->e.member > e->e.member ? o : e;
			if (same)
				later->dropped = true;
			else if (later->e.member < worst)
				worst = later->e.member;
		}
		active.n = keep;
		VEC_PUSH(active, ((struct act){i, first}));
	}
	VEC_FREE(active);
	return worst;
}

/* ---- building the merged rule ---- */

static void take_fields(struct nft_setmatch *m, const struct nft_lowered *l, uint64_t mask)
{
	for (size_t k = 0; k < l->steps.n; k++) {
		if (!(mask & ((uint64_t)1 << k)))
			continue;
		const struct nft_step *s = &l->steps.v[k];
		enum nft_field f[2];
		int n = key_fields(s, f);
		for (int i = 0; i < n; i++)
			m->field[m->nfields++] = f[i];
		if (s->kind == NS_ADDR)
			m->family = s->family;
		else
			m->proto = s->proto;
	}
}

static bool is_addr(enum nft_field f)
{
	return f == NF_SADDR || f == NF_DADDR;
}

/* A concatenation of ranges that only its address prefixes make ranges, all of one length
 * per field: masked addresses in a hash set instead (nft_setmatch.masklen). */
static void mask_prefixes(struct nft_setmatch *m)
{
	if (!m->interval || m->nfields < 2 || !m->elems.n)
		return;
	uint8_t len[NFT_CONCAT_MAX] = {0};
	for (size_t f = 0; f < m->nfields; f++) {
		if (!is_addr(m->field[f]))
			continue;
		len[f] = m->elems.v[0].v[f].prefix.len;
		for (size_t i = 1; i < m->elems.n; i++)
			if (m->elems.v[i].v[f].prefix.len != len[f])
				return;
	}
	for (size_t i = 0; i < m->elems.n; i++)
		for (size_t f = 0; f < m->nfields; f++)
			if (!is_addr(m->field[f]) && is_interval(m->field[f], &m->elems.v[i].v[f]))
				return;
	for (size_t f = 0; f < m->nfields; f++)
		if (is_addr(m->field[f]) && len[f] < (m->family == IR_V6 ? 128 : 32))
			m->masklen[f] = len[f];
	m->interval = false;
}

/* Members [0, n) of `run` into one rule over a set; frees what the members leave. */
static struct nft_lowered merge_run(struct nft_lowered *run, size_t n, uint64_t mask,
				    struct build_ctx *b)
{
	struct nft_lowered out = {0};
	struct nft_lowered *base = &run[0];
	out.rule = base->rule;
	struct nft_setmatch *m = xcalloc(1, sizeof(*m));
	*m = *b->shape;
	m->user = base->rule;
	/* The elements take their candidates' place in the candidates' block, which is then cut to
	 * their size: the elements and the candidates of a run are never in memory side by side.
	 * An element is smaller than a candidate, so element k is written over candidates
	 * already read (each is copied out before anything is written). */
	struct nft_elem *ev = (struct nft_elem *)(void *)b->c.v;
	size_t nelems = 0;
	for (size_t i = 0; i < b->c.n; i++) {
		struct cand c = b->c.v[i];
		if (c.e.member >= n || c.dropped)
			continue;
		for (size_t f = 0; f < m->nfields; f++)
			m->interval |= is_interval(m->field[f], &c.e.v[f]);
		memcpy(&ev[nelems++], &c.e, sizeof(c.e));
	}
	m->elems.v = nelems ? xrealloc(ev, nelems * sizeof(*ev)) : (free(ev), NULL);
	m->elems.n = m->elems.cap = nelems;
	b->c.v = NULL;
	b->c.n = b->c.cap = 0;
	out.steps.v = xmalloc(base->steps.n * sizeof(*out.steps.v)); /* exactly what it keeps */
	out.steps.cap = base->steps.n;
	m->members.v = xmalloc(n * sizeof(*m->members.v));
	m->members.cap = (uint32_t)n;
	mask_prefixes(m);
	out.setm = m;
	/* The base's steps, the varying ones replaced by one lookup where the last was: every
	 * dependency of every field comes before it. */
	size_t last = 0;
	for (size_t k = 0; k < base->steps.n; k++)
		if (mask & ((uint64_t)1 << k))
			last = k;
	for (size_t k = 0; k < base->steps.n; k++) {
		if (k == last) {
			struct nft_step s = {.kind = NS_SET_MATCH, .family = base->steps.v[k].family};
			s.u.setm = m;
			VEC_PUSH(out.steps, s);
		} else if (!(mask & ((uint64_t)1 << k))) {
			VEC_PUSH(out.steps, base->steps.v[k]);
		}
	}
	for (size_t k = 0; k < base->steps.n; k++) /* a log step's prefix is out's now */
		if (base->steps.v[k].kind == NS_LOG)
			base->steps.v[k].u.log_prefix = NULL;
	/* The members' comments, worded now that the candidates are gone, each member's steps
	 * freed as its comment is written. */
	for (size_t i = 0; i < n; i++) {
		char *c = run[i].comment ? run[i].comment : nft_rule_comment(run[i].rule);
		run[i].comment = NULL;
		VEC_PUSH(m->members, ((struct nft_member){run[i].rule, c}));
		nft_lowered_free(&run[i]);
	}
	const char *first = m->members.v[0].comment;
	out.comment = xasprintf("%s +%zu", first, n - 1);
	if (strlen(out.comment) > NFT_COMMENT_MAX) { /* keep the count, cut the first's words */
		char *tail = xasprintf(".. +%zu", n - 1);
		size_t room = NFT_COMMENT_MAX - strlen(tail);
		free(out.comment);
		out.comment = xasprintf("%.*s%s", (int)room, first, tail);
		free(tail);
	}
	return out;
}

/* The steps that may vary in a merge hashed by kind only, the others by value: rules that
 * can merge share the shape. */
static uint64_t shape_hash(const struct nft_lowered *l)
{
	uint64_t h = 1469598103934665603u;
	for (size_t k = 0; k < l->steps.n; k++) {
		const struct nft_step *s = &l->steps.v[k];
		enum nft_field f[2];
		uint8_t head[6] = {(uint8_t)s->kind, s->implicit, s->src, s->family, s->proto,
				   (uint8_t)key_fields(s, f)};
		for (size_t i = 0; i < sizeof(head); i++)
			h = (h ^ head[i]) * 1099511628211u;
		if (key_fields(s, f))
			continue;
		/* the value of a fixed step: its text is what must be equal */
		const void *v = NULL;
		size_t len = 0;
		switch (s->kind) {
		case NS_NFPROTO: v = &s->u.nfproto; len = 1; break;
		case NS_L4PROTO: v = &s->u.l4proto; len = 1; break;
		case NS_ICMP_TYPE: v = &s->u.icmp_type; len = 1; break;
		case NS_CT_STATE: v = &s->u.ct_state; len = 1; break;
		case NS_REJECT: v = &s->u.reject; len = sizeof(s->u.reject); break;
		case NS_TCP_FLAGS: v = &s->u.flags; len = sizeof(s->u.flags); break;
		case NS_PORT_PAIR: v = &s->u.pair; len = sizeof(s->u.pair); break;
		case NS_SET_LOOKUP:
		case NS_SET_UPDATE: v = s->u.set; len = v ? strlen(v) : 0; break;
		case NS_CT_HELPER: v = s->u.ct_helper; len = v ? strlen(v) : 0; break;
		case NS_LOG:
		case NS_NFLOG: v = s->u.log_prefix; len = v ? strlen(v) : 0; break;
		case NS_PINHOLE_LOOKUP: /* the port end is in the step's flags (same_step) */
			v = s->u.pinhole.set; len = v ? strlen(v) : 0; break;
		case NS_HELPER_SET: v = s->u.helper_obj; len = v ? strlen(v) : 0; break;
		case NS_ADDR: v = s->u.addr.set; len = v ? strlen(v) : 0; break;
		case NS_NAT: v = s->u.nat.to; len = sizeof(*s->u.nat.to); break;
		case NS_IFNAME:
		case NS_PORTS:
		case NS_SAME_PORT:
		case NS_FRAGMENT:
		case NS_FIB_LOCAL:
		case NS_CT_DNAT:
		case NS_MASQUERADE:
		case NS_SET_MATCH:
		case NS_ACCEPT:
		case NS_DROP:
		case NS_LIMIT:
			break; /* equal kinds, or compared by same_step() */
		}
		for (size_t i = 0; i < len; i++)
			h = (h ^ ((const uint8_t *)v)[i]) * 1099511628211u;
	}
	return h;
}

/* Rules g[0..n) of one shape, in policy order, into as few rules as their fields and
 * overlaps allow; ownership moves to `out`. */
static void emit_part(nft_rules *out, struct nft_lowered *g, size_t n)
{
	while (n) {
		uint64_t mask = 0, m;
		size_t take = 1;
		while (take < n && differ_in_keys(&g[0], &g[take], &m) &&
		       fields_in(&g[0], mask | m) <= NFT_CONCAT_MAX) {
			mask |= m;
			take++;
		}
		size_t ok = 1;
		if (take >= 2 && mask) {
			struct nft_setmatch shape = {0};
			take_fields(&shape, &g[0], mask);
			struct build_ctx b = {.shape = &shape};
			b.c.v = xmalloc(take * sizeof(*b.c.v)); /* one element a member, mostly */
			b.c.cap = take;
			for (size_t k = 0; k < take; k++)
				add_member_elems(&b, &g[k], mask, (uint32_t)k);
			ok = first_overlap(&b, take);
			if (ok >= 2)
				VEC_PUSH(*out, merge_run(g, ok, mask, &b));
			else
				ok = 1;
			VEC_FREE(b.c);
		}
		if (ok == 1)
			VEC_PUSH(*out, g[0]);
		g += ok;
		n -= ok;
	}
}

/* The prefix lengths of a rule's single-prefix address steps, packed; UINT64_MAX when an
 * address step holds several prefixes. */
static uint64_t addr_lengths(const struct nft_lowered *l)
{
	uint64_t sig = 0;
	for (size_t k = 0; k < l->steps.n; k++) {
		const struct nft_step *s = &l->steps.v[k];
		if (s->kind != NS_ADDR || s->u.addr.set)
			continue;
		if (s->u.addr.addrs->n != 1)
			return UINT64_MAX;
		sig = sig << 8 | s->u.addr.addrs->v[0].len;
	}
	return sig;
}

/* v[k] = the old v[from[k]] for every k, in place (following each cycle once); `from` is used
 * up. */
static void permute(struct nft_lowered *v, size_t *from, size_t n)
{
	for (size_t s = 0; s < n; s++) {
		if (from[s] == (size_t)-1 || from[s] == s)
			continue;
		struct nft_lowered first = v[s];
		size_t j = s;
		while (from[j] != s) {
			size_t f = from[j];
			v[j] = v[f];
			from[j] = (size_t)-1;
			j = f;
		}
		v[j] = first;
		from[j] = (size_t)-1;
	}
}

struct by_len {
	uint64_t sig;
	size_t idx;
};

static int by_len_cmp(const void *a, const void *b)
{
	const struct by_len *x = a, *y = b;
	if (x->sig != y->sig)
		return x->sig < y->sig ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* A group whose rules would become a concatenation over addresses of several prefix lengths
 * is split by length first (the rules all decide alike, so their order does not matter): each part can then be a hash set of masked addresses
 * (nft_setmatch.masklen) rather than a set of intervals of concatenations. */
static void emit_group(nft_rules *out, struct nft_lowered *g, size_t n)
{
	uint64_t mask = 0, m;
	bool mixed = false;
	uint64_t sig0 = n ? addr_lengths(&g[0]) : 0;
	for (size_t k = 1; k < n; k++) {
		if (differ_in_keys(&g[0], &g[k], &m))
			mask |= m;
		mixed |= addr_lengths(&g[k]) != sig0;
	}
	if (!mixed || fields_in(&g[0], mask) < 2 || sig0 == UINT64_MAX) {
		emit_part(out, g, n);
		return;
	}
	struct by_len *o = xmalloc(n * sizeof(*o));
	for (size_t k = 0; k < n; k++)
		o[k] = (struct by_len){addr_lengths(&g[k]), k};
	qsort(o, n, sizeof(*o), by_len_cmp); /* by lengths, each part in policy order */
	size_t *from = xmalloc(n * sizeof(*from));
	for (size_t k = 0; k < n; k++)
		from[k] = o[k].idx;
	free(o);
	permute(g, from, n); /* the parts in place, not in a copy of the group */
	free(from);          /* gone before the parts build their elements */
	for (size_t k = 0; k < n;) {
		uint64_t sig = addr_lengths(&g[k]);
		size_t j = k + 1;
		while (j < n && addr_lengths(&g[j]) == sig)
			j++;
		emit_part(out, g + k, j - k);
		k = j;
	}
}

/* One chain's lowered rules, merged where they can be; `in` is emptied. Within a run of
 * neighbours that decide alike (all accept, say), order does not matter: rules of one shape
 * gather where the first of them stood, so interleaved policies (a server rule, a client's
 * return rule, ...) merge too. Nothing moves past a rule that decides otherwise or decides
 * nothing. */
void nft_merge_chain(nft_rules *in, nft_rules *out)
{
	size_t i = 0;
	while (i < in->n) {
		const struct nft_lowered *first = &in->v[i];
		if (!decides(first)) {
			VEC_PUSH(*out, in->v[i]);
			i++;
			continue;
		}
		const struct nft_step *verdict = &first->steps.v[first->steps.n - 1];
		size_t e = i + 1;
		while (e < in->n && decides(&in->v[e]) &&
		       same_step(&in->v[e].steps.v[in->v[e].steps.n - 1], verdict))
			e++;
		/* shapes in order of first appearance; members of each in policy order */
		size_t n = e - i;
		uint64_t *hash = xmalloc(n * sizeof(*hash));
		size_t *shape_of = xmalloc(n * sizeof(*shape_of)); /* index of its shape's first rule */
		size_t cap = 16;
		while (cap < n * 2)
			cap *= 2;
		size_t *slot = xmalloc(cap * sizeof(*slot)); /* first rules of shapes, by hash */
		for (size_t k = 0; k < cap; k++)
			slot[k] = (size_t)-1;
		for (size_t k = 0; k < n; k++) {
			hash[k] = shape_hash(&in->v[i + k]);
			size_t j = hash[k] & (cap - 1);
			uint64_t m;
			for (; slot[j] != (size_t)-1; j = (j + 1) & (cap - 1))
				if (hash[slot[j]] == hash[k] &&
				    differ_in_keys(&in->v[i + slot[j]], &in->v[i + k], &m))
					break;
			if (slot[j] == (size_t)-1)
				slot[j] = k;
			shape_of[k] = slot[j];
		}
		/* each shape's members as a list threaded through `next`, from its first rule */
		size_t *next = xmalloc(n * sizeof(*next)), *tail = xmalloc(n * sizeof(*tail));
		for (size_t k = 0; k < n; k++) {
			next[k] = (size_t)-1;
			if (shape_of[k] == k)
				tail[k] = k;
			else {
				next[tail[shape_of[k]]] = k;
				tail[shape_of[k]] = k;
			}
		}
		/* The run rearranged in place, each shape's members together (a copy of the run
		 * would be a second lowered rule for each); `tail` is done with and becomes the
		 * order, `hash` the size of each shape. */
		size_t *from = tail, pos = 0, nshapes = 0;
		for (size_t k = 0; k < n; k++) {
			if (shape_of[k] != k)
				continue; /* gathered with its shape's first rule */
			size_t start = pos;
			for (size_t x = k; x != (size_t)-1; x = next[x])
				from[pos++] = x;
			hash[nshapes++] = pos - start;
		}
		free(next);
		free(slot);
		free(shape_of);
		permute(&in->v[i], from, n);
		free(tail); /* only the shapes' sizes are left while their elements are built */
		for (size_t g = 0, at = i; g < nshapes; g++) {
			emit_group(out, &in->v[at], hash[g]);
			at += hash[g];
		}
		free(hash);
		i = e;
	}
	VEC_FREE(*in);
}
