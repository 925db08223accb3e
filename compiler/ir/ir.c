/* IR construction, copying, teardown and formatting. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

void ir_rule_init(struct ir_rule *r)
{
	memset(r, 0, sizeof(*r));
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static uint32_t str_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void pool_put(struct ir_strpool *p, char *s, uint32_t h)
{
	size_t i = h & (p->cap - 1);
	while (p->v[i])
		i = (i + 1) & (p->cap - 1);
	p->v[i] = s;
	p->hash[i] = h;
	p->n++;
}

/* s written after the strings before it, in the pool's last block or a new one. */
static char *pool_write(struct ir_strpool *p, const char *s)
{
	size_t len = strlen(s) + 1;
	if (len > p->left) { /* a new block; what the last one has left stays unused */
		size_t size = len > 16384 ? len : 16384;
		VEC_PUSH(p->blocks, xmalloc(size));
		p->at = p->blocks.v[p->blocks.n - 1];
		p->left = size;
	}
	char *copy = memcpy(p->at, s, len);
	p->at += len;
	p->left -= len;
	return copy;
}

const char *ir_intern(struct ir_ruleset *rs, const char *s)
{
	if (!s)
		return NULL;
	struct ir_strpool *p = &rs->strs;
	uint32_t h = str_hash(s);
	for (size_t i = p->cap ? h & (p->cap - 1) : 0; p->cap && p->v[i]; i = (i + 1) & (p->cap - 1))
		if (p->hash[i] == h && !strcmp(p->v[i], s))
			return p->v[i];
	if ((p->n + 1) * 2 > p->cap) {
		struct ir_strpool old = *p;
		p->cap = old.cap ? old.cap * 2 : 64;
		p->v = xcalloc(p->cap, sizeof(*p->v));
		p->hash = xcalloc(p->cap, sizeof(*p->hash));
		p->n = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i])
				pool_put(p, old.v[i], old.hash[i]);
		free(old.v);
		free(old.hash);
	}
	char *copy = pool_write(p, s);
	pool_put(p, copy, h);
	return copy;
}

const char *ir_keep(struct ir_ruleset *rs, const char *s)
{
	return pool_write(&rs->strs, s);
}

void ir_intern_done(struct ir_ruleset *rs)
{
	struct ir_strpool *p = &rs->strs;
	free(p->v);
	free(p->hash);
	p->v = NULL;
	p->hash = NULL;
	p->n = p->cap = 0;
}

static void pool_free(struct ir_strpool *p)
{
	for (size_t i = 0; i < p->blocks.n; i++)
		free(p->blocks.v[i]);
	VEC_FREE(p->blocks);
	free(p->v);
	free(p->hash);
	memset(p, 0, sizeof(*p));
}

/* The strings are the ruleset's: a copy points to the same ones. */
void ir_origin_copy(struct ir_origin *dst, const struct ir_origin *src)
{
	*dst = *src;
}

void ir_origin_free(struct ir_origin *o)
{
	memset(o, 0, sizeof(*o));
}

void ir_addrset_copy(struct ir_addrset *dst, const struct ir_addrset *src)
{
	dst->name = dup_or_null(src->name);
	dst->n = src->n;
	dst->v = NULL;
	if (src->n) {
		dst->v = xmalloc(src->n * sizeof(*src->v));
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	}
}

void ir_addrset_free(struct ir_addrset *a)
{
	free(a->name);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void ir_portset_copy(struct ir_portset *dst, const struct ir_portset *src)
{
	dst->n = src->n;
	dst->v = NULL;
	if (src->n) {
		dst->v = xmalloc(src->n * sizeof(*src->v));
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	}
}

void ir_ifset_copy(struct ir_ifset *dst, const struct ir_ifset *src)
{
	dst->n = src->n;
	dst->v = NULL;
	if (src->n) {
		dst->v = xmalloc(src->n * sizeof(char *));
		for (size_t i = 0; i < src->n; i++)
			dst->v[i] = xstrdup(src->v[i]);
	}
}

void ir_ifset_free(struct ir_ifset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* ---- matches ---- */

void ir_match_copy(struct ir_match *dst, const struct ir_match *src)
{
	*dst = *src;
	switch (src->kind) {
	case IR_M_IIF:
	case IR_M_OIF:
		ir_ifset_copy(&dst->u.ifs, &src->u.ifs);
		break;
	case IR_M_SADDR:
	case IR_M_DADDR:
		ir_addrset_copy(&dst->u.addrs, &src->u.addrs);
		break;
	case IR_M_IN_SET:
		dst->u.set = src->u.set;
		dst->u.set.name = dup_or_null(src->u.set.name);
		break;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		ir_portset_copy(&dst->u.ports, &src->u.ports);
		break;
	case IR_M_CT_HELPER:
		dst->u.helper = dup_or_null(src->u.helper);
		break;
	case IR_M_FRAGMENT:
	case IR_M_L4PROTO:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_ICMP_TYPE:
	case IR_M_CT_STATE:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
	case IR_M_LIMIT:
		break; /* plain values */
	}
}

void ir_match_free(struct ir_match *m)
{
	switch (m->kind) {
	case IR_M_IIF:
	case IR_M_OIF:
		ir_ifset_free(&m->u.ifs);
		break;
	case IR_M_SADDR:
	case IR_M_DADDR:
		ir_addrset_free(&m->u.addrs);
		break;
	case IR_M_IN_SET:
		free(m->u.set.name);
		break;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		free(m->u.ports.v);
		break;
	case IR_M_CT_HELPER:
		free(m->u.helper);
		break;
	case IR_M_FRAGMENT:
	case IR_M_L4PROTO:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_ICMP_TYPE:
	case IR_M_CT_STATE:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
	case IR_M_LIMIT:
		break;
	}
	memset(&m->u, 0, sizeof(m->u));
}

bool ir_ifset_equal(const struct ir_ifset *a, const struct ir_ifset *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

bool ir_addrset_equal(const struct ir_addrset *a, const struct ir_addrset *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

bool ir_portset_equal(const struct ir_portset *a, const struct ir_portset *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

static bool same_setref(const struct ir_setref *a, const struct ir_setref *b)
{
	return util_str_equal(a->name, b->name) &&
	       (!a->name || (a->src == b->src && a->keyed == b->keyed && a->port_src == b->port_src &&
			       a->peerless == b->peerless));
}

bool ir_match_equal(const struct ir_match *a, const struct ir_match *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case IR_M_IIF:
	case IR_M_OIF:
		return ir_ifset_equal(&a->u.ifs, &b->u.ifs);
	case IR_M_SADDR:
	case IR_M_DADDR:
		return ir_addrset_equal(&a->u.addrs, &b->u.addrs);
	case IR_M_IN_SET:
		return same_setref(&a->u.set, &b->u.set);
	case IR_M_FRAGMENT:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
		return true;
	case IR_M_L4PROTO:
		return a->u.proto == b->u.proto;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		return ir_portset_equal(&a->u.ports, &b->u.ports);
	case IR_M_TCP_FLAGS:
		return a->u.flags.mask == b->u.flags.mask && a->u.flags.cmp == b->u.flags.cmp;
	case IR_M_TCP_FLAGS_ANY:
		return a->u.flags.mask == b->u.flags.mask;
	case IR_M_ICMP_TYPE:
		return a->u.icmp_type == b->u.icmp_type;
	case IR_M_CT_STATE:
		return a->u.ct_state == b->u.ct_state;
	case IR_M_CT_HELPER:
		return util_str_equal(a->u.helper, b->u.helper);
	case IR_M_LIMIT:
		return a->u.limit.rate == b->u.limit.rate && a->u.limit.unit == b->u.limit.unit &&
		       a->u.limit.burst == b->u.limit.burst &&
		       a->u.limit.per_source == b->u.limit.per_source;
	}
	return false;
}

const struct ir_match *ir_match_get(const struct ir_rule *r, enum ir_match_kind k)
{
	for (size_t i = 0; i < r->match.n; i++) {
		if (r->match.v[i].kind == k)
			return &r->match.v[i];
		if (r->match.v[i].kind > k)
			break; /* sorted by kind */
	}
	return NULL;
}

struct ir_match *ir_match_put(struct ir_rule *r, enum ir_match_kind k)
{
	ir_rule_unpack(r);
	size_t i = 0;
	while (i < r->match.n && r->match.v[i].kind < k)
		i++;
	if (i < r->match.n && r->match.v[i].kind == k) {
		ir_match_free(&r->match.v[i]);
		return &r->match.v[i];
	}
	VEC_PUSH(r->match, (struct ir_match){.kind = k});
	memmove(&r->match.v[i + 1], &r->match.v[i], (r->match.n - 1 - i) * sizeof(*r->match.v));
	memset(&r->match.v[i], 0, sizeof(r->match.v[i]));
	r->match.v[i].kind = k;
	return &r->match.v[i];
}

void ir_match_del(struct ir_rule *r, enum ir_match_kind k)
{
	ir_rule_unpack(r);
	for (size_t i = 0; i < r->match.n; i++) {
		if (r->match.v[i].kind != k)
			continue;
		ir_match_free(&r->match.v[i]);
		memmove(&r->match.v[i], &r->match.v[i + 1], (r->match.n - 1 - i) * sizeof(*r->match.v));
		r->match.n--;
		return;
	}
}

uint8_t ir_rule_proto(const struct ir_rule *r)
{
	const struct ir_match *m = ir_match_get(r, IR_M_L4PROTO);
	return m ? m->u.proto : 0;
}

uint8_t ir_rule_ct_state(const struct ir_rule *r)
{
	const struct ir_match *m = ir_match_get(r, IR_M_CT_STATE);
	return m ? m->u.ct_state : 0;
}

const struct ir_portset *ir_rule_ports(const struct ir_rule *r, enum ir_match_kind k)
{
	const struct ir_match *m = ir_match_get(r, k);
	return m ? &m->u.ports : NULL;
}

const struct ir_addrset *ir_rule_addrs(const struct ir_rule *r, enum ir_match_kind k)
{
	const struct ir_match *m = ir_match_get(r, k);
	return m ? &m->u.addrs : NULL;
}

const struct ir_setref *ir_rule_in_set(const struct ir_rule *r)
{
	const struct ir_match *m = ir_match_get(r, IR_M_IN_SET);
	return m ? &m->u.set : NULL;
}

int ir_rule_icmp_type(const struct ir_rule *r)
{
	const struct ir_match *m = ir_match_get(r, IR_M_ICMP_TYPE);
	return m ? m->u.icmp_type : -1;
}

void ir_rule_set_proto(struct ir_rule *r, uint8_t proto)
{
	ir_match_put(r, IR_M_L4PROTO)->u.proto = proto;
}

void ir_rule_set_ct_state(struct ir_rule *r, uint8_t ct_state)
{
	ir_match_put(r, IR_M_CT_STATE)->u.ct_state = ct_state;
}

void ir_rule_set_icmp_type(struct ir_rule *r, uint8_t type)
{
	ir_match_put(r, IR_M_ICMP_TYPE)->u.icmp_type = type;
}

void ir_rule_set_tcp_flags(struct ir_rule *r, enum ir_match_kind k, uint8_t mask, uint8_t cmp)
{
	ir_match_put(r, k)->u.flags = (struct ir_tcpflags){mask, cmp};
}

void ir_rule_set_ports(struct ir_rule *r, enum ir_match_kind k, const struct ir_portrange *v,
		       size_t n)
{
	struct ir_portset src = {n, (struct ir_portrange *)v};
	ir_portset_copy(&ir_match_put(r, k)->u.ports, &src);
}

void ir_rule_set_ifname(struct ir_rule *r, enum ir_match_kind k, const char *name)
{
	struct ir_ifset *s = &ir_match_put(r, k)->u.ifs;
	s->n = 1;
	s->v = xmalloc(sizeof(char *));
	s->v[0] = xstrdup(name);
}

/* ---- hashing: what ir_match_equal compares, nothing more ---- */

static uint64_t mix(uint64_t h, const void *data, size_t len)
{
	const uint8_t *b = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ b[i]) * 1099511628211u; /* FNV-1a */
	return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
	return s ? mix(h, s, strlen(s) + 1) : mix(h, "", 1);
}

static uint64_t match_hash(uint64_t h, const struct ir_match *m)
{
	h = mix(h, &m->kind, sizeof(m->kind));
	switch (m->kind) {
	case IR_M_IIF:
	case IR_M_OIF:
		for (size_t i = 0; i < m->u.ifs.n; i++)
			h = mix_str(h, m->u.ifs.v[i]);
		return h;
	case IR_M_SADDR:
	case IR_M_DADDR:
		return mix(h, m->u.addrs.v, m->u.addrs.n * sizeof(*m->u.addrs.v));
	case IR_M_IN_SET:
	{
		uint8_t f[4] = {m->u.set.src, m->u.set.keyed, m->u.set.port_src, m->u.set.peerless};
		return mix(mix_str(h, m->u.set.name), f, sizeof(f));
	}
	case IR_M_FRAGMENT:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
		return h;
	case IR_M_L4PROTO:
		return mix(h, &m->u.proto, 1);
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		return mix(h, m->u.ports.v, m->u.ports.n * sizeof(*m->u.ports.v));
	case IR_M_TCP_FLAGS:
		return mix(h, &m->u.flags, sizeof(m->u.flags));
	case IR_M_TCP_FLAGS_ANY:
		return mix(h, &m->u.flags.mask, 1);
	case IR_M_ICMP_TYPE:
		return mix(h, &m->u.icmp_type, 1);
	case IR_M_CT_STATE:
		return mix(h, &m->u.ct_state, 1);
	case IR_M_CT_HELPER:
		return mix_str(h, m->u.helper);
	case IR_M_LIMIT: {
		uint32_t v[4] = {m->u.limit.rate, m->u.limit.unit, m->u.limit.burst, m->u.limit.per_source};
		return mix(h, v, sizeof(v));
	}
	}
	return h;
}

uint64_t ir_rule_hash(const struct ir_rule *r)
{
	uint64_t h = 1469598103934665603u;
	uint8_t head[8] = {(uint8_t)r->hook, r->family, (uint8_t)r->action, r->log,
			   r->logopt.level_set, r->logopt.level, r->logopt.nflog,
			   (uint8_t)(r->logopt.group & 0xff)};
	h = mix(h, head, sizeof(head));
	h = mix_str(mix_str(h, r->helper), r->add_set.name);
	if (r->add_set.name)
		h = mix(h, &r->add_set.src, sizeof(r->add_set.src));
	h = mix(h, &r->nat, sizeof(r->nat));
	for (size_t i = 0; i < r->match.n; i++)
		h = match_hash(h, &r->match.v[i]);
	return h;
}

/* ---- rules ---- */

static enum ir_match_kind mirrored_kind(enum ir_match_kind k)
{
	switch (k) {
	case IR_M_IIF: return IR_M_OIF;
	case IR_M_OIF: return IR_M_IIF;
	case IR_M_SADDR: return IR_M_DADDR;
	case IR_M_DADDR: return IR_M_SADDR;
	case IR_M_SPORT: return IR_M_DPORT;
	case IR_M_DPORT: return IR_M_SPORT;
	case IR_M_IN_SET:
	case IR_M_FRAGMENT:
	case IR_M_L4PROTO:
	case IR_M_SAME_PORT: /* "to=from" answers on the same port pair */
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_ICMP_TYPE:
	case IR_M_CT_STATE:
	case IR_M_CT_HELPER:
	case IR_M_CT_DNAT:
	case IR_M_LIMIT: /* the expander takes it off return rules: answers are not limited */
	/* Only translation rules ask for a local destination, and they are never mirrored (NAT
	 * needs connection tracking, which answers by itself). */
	case IR_M_DADDR_LOCAL:
		break;
	}
	return k;
}

static int match_cmp(const void *a, const void *b)
{
	const struct ir_match *x = a, *y = b;
	return (int)x->kind - (int)y->kind;
}

void ir_rule_mirror(struct ir_rule *r)
{
	for (size_t i = 0; i < r->match.n; i++) {
		struct ir_match *m = &r->match.v[i];
		m->kind = mirrored_kind(m->kind);
		if (m->kind == IR_M_IN_SET) {
			m->u.set.src = !m->u.set.src; /* the same peer, at the other end */
			m->u.set.port_src = !m->u.set.port_src; /* and the listener's port */
		}
	}
	qsort(r->match.v, r->match.n, sizeof(*r->match.v), match_cmp); /* kinds are unique */
}

struct ir_rule ir_rule_copy(const struct ir_rule *r)
{
	struct ir_rule c = *r;
	c.packed = false;
	c.match.v = NULL;
	c.match.n = c.match.cap = 0;
	for (size_t i = 0; i < r->match.n; i++) {
		struct ir_match m;
		ir_match_copy(&m, &r->match.v[i]);
		VEC_PUSH(c.match, m);
	}
	c.add_set.name = dup_or_null(r->add_set.name);
	c.helper = dup_or_null(r->helper);
	ir_origin_copy(&c.origin, &r->origin);
	return c;
}

void ir_rule_free(struct ir_rule *r)
{
	if (r->packed) { /* its parts are its ruleset's */
		memset(r, 0, sizeof(*r));
		return;
	}
	for (size_t i = 0; i < r->match.n; i++)
		ir_match_free(&r->match.v[i]);
	VEC_FREE(r->match);
	free(r->add_set.name);
	free(r->helper);
	ir_origin_free(&r->origin);
	memset(r, 0, sizeof(*r));
}

bool ir_rule_equal(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook || a->family != b->family || a->action != b->action ||
	    a->log != b->log || memcmp(&a->logopt, &b->logopt, sizeof(a->logopt)) ||
	    a->match.n != b->match.n || !util_str_equal(a->helper, b->helper) ||
	    !same_setref(&a->add_set, &b->add_set) || memcmp(&a->nat, &b->nat, sizeof(a->nat)))
		return false;
	for (size_t i = 0; i < a->match.n; i++)
		if (!ir_match_equal(&a->match.v[i], &b->match.v[i]))
			return false;
	return true;
}

void ir_ruleset_free(struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->rules.n; i++)
		ir_rule_free(&rs->rules.v[i]);
	VEC_FREE(rs->rules);
	for (size_t i = 0; i < rs->dynsets.n; i++)
		ir_dynset_free(&rs->dynsets.v[i]);
	VEC_FREE(rs->dynsets);
	VEC_FREE(rs->texts); /* the texts are in the pool */
	pool_free(&rs->strs);
	ir_arena_free(&rs->parts);
}

void ir_dynset_free(struct ir_dynset *s)
{
	free(s->name);
	free(s->app);
	free(s->flows);
	free(s->peer);
	free(s->parser);
	free(s->flow);
	memset(s, 0, sizeof(*s));
}

const struct ir_dynset *ir_dynset_find(const struct ir_ruleset *rs, const char *name)
{
	for (size_t i = 0; name && i < rs->dynsets.n; i++)
		if (!strcmp(rs->dynsets.v[i].name, name))
			return &rs->dynsets.v[i];
	return NULL;
}

void ir_duration_format(uint32_t seconds, char *buf, size_t len)
{
	static const struct { uint32_t n; char unit; } units[] = {{3600, 'h'}, {60, 'm'}, {1, 's'}};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < 3 && used < len; i++) {
		if (seconds / units[i].n == 0)
			continue;
		int w = snprintf(buf + used, len - used, "%u%c", seconds / units[i].n, units[i].unit);
		if (w < 0)
			break;
		used += (size_t)w;
		seconds %= units[i].n;
	}
	if (!used)
		snprintf(buf, len, "0s");
}

const char *ir_hook_name(enum ir_hook h)
{
	switch (h) {
	case IR_PREROUTING: return "prerouting";
	case IR_INPUT: return "input";
	case IR_FORWARD: return "forward";
	case IR_OUTPUT: return "output";
	case IR_DSTNAT: return "dstnat";
	case IR_SRCNAT: return "srcnat";
	case IR_HOOK_COUNT: break;
	}
	return "?";
}

const char *ir_proto_name(uint8_t p)
{
	switch (p) {
	case IR_TCP: return "tcp";
	case IR_UDP: return "udp";
	case IR_ICMP: return "icmp";
	case IR_ICMPV6: return "ipv6-icmp";
	case IR_ESP: return "esp";
	}
	return "?";
}

const char *ir_action_name(enum ir_action a)
{
	switch (a) {
	case IR_ACCEPT: return "accept";
	case IR_DROP: return "drop";
	case IR_REJECT: return "reject";
	case IR_SET_HELPER: return "set-helper";
	case IR_LOG: return "log";
	case IR_SET_ADD: return "record";
	case IR_HELPER_COPY: return "copy-to-pinholed";
	case IR_DNAT: return "dnat";
	case IR_SNAT: return "snat";
	case IR_MASQUERADE: return "masquerade";
	}
	return "?";
}

/* Dotted decimal by hand: a ruleset prints one per set element, and inet_ntop plus snprintf
 * cost more than the rest of the element together. */
static void v4_format(const struct ir_prefix *p, char *buf, size_t len)
{
	char a[24], *o = a;
	for (int i = 0; i < 4; i++) {
		unsigned b = p->addr[i];
		if (i)
			*o++ = '.';
		if (b >= 100)
			*o++ = (char)('0' + b / 100);
		if (b >= 10)
			*o++ = (char)('0' + b / 10 % 10);
		*o++ = (char)('0' + b % 10);
	}
	if (p->len != 32) {
		*o++ = '/';
		if (p->len >= 10)
			*o++ = (char)('0' + p->len / 10);
		*o++ = (char)('0' + p->len % 10);
	}
	*o = '\0';
	size_t n = (size_t)(o - a);
	if (len) {
		if (n >= len)
			n = len - 1;
		memcpy(buf, a, n);
		buf[n] = '\0';
	}
}

void ir_prefix_format(const struct ir_prefix *p, char *buf, size_t len)
{
	if (p->family != IR_V6 && p->len <= 32) {
		v4_format(p, buf, len);
		return;
	}
	char a[INET6_ADDRSTRLEN];
	inet_ntop(p->family == IR_V6 ? AF_INET6 : AF_INET, p->addr, a, sizeof(a));
	unsigned full = p->family == IR_V6 ? 128 : 32;
	if (p->len == full)
		snprintf(buf, len, "%s", a);
	else
		snprintf(buf, len, "%s/%u", a, p->len);
}

bool ir_prefix_contains(const struct ir_prefix *p, uint8_t family, const uint8_t *addr)
{
	if (p->family != family)
		return false;
	unsigned full = p->len / 8, rest = p->len % 8;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		if ((p->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

/* A line number in decimal (negative too, as %d), NUL-terminated; returns its length. */
static size_t put_int(char buf[16], int v)
{
	char tmp[16];
	size_t n = 0;
	unsigned long u = v < 0 ? (unsigned long)-(long)v : (unsigned long)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	size_t k = 0;
	if (v < 0)
		buf[k++] = '-';
	while (n)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
	return k;
}

char *ir_origin_describe(const struct ir_origin *o)
{
	if (o->builtin)
		return xasprintf("built-in rule: %s", o->builtin);
	/* Once per rule of the ruleset: the pieces measured, then copied into one allocation of
	 * exactly their size (no printf, no growing). */
	char line[16], fline[16];
	size_t nline = put_int(line, o->line), nfline = put_int(fline, o->flow_line);
	const char *part[12];
	size_t np = 0;
	part[np++] = o->file ? o->file : "?";
	part[np++] = ":";
	part[np++] = line;
	if (o->app) {
		part[np++] = " ";
		part[np++] = o->app;
		part[np++] = " flow ";
		part[np++] = o->flow ? o->flow : "?";
	} else if (o->stmt) { /* address translation: no app flow, the statement says it all */
		part[np++] = " ";
		part[np++] = o->stmt;
	}
	if (o->reply)
		part[np++] = " (return traffic)";
	size_t len[12], total = 0;
	for (size_t i = 0; i < np; i++)
		total += len[i] = part[i] == line ? nline : strlen(part[i]);
	size_t ff = o->flow_file ? strlen(o->flow_file) : 0;
	if (o->flow_file)
		total += 2 + ff + 1 + nfline + 1; /* " [" FILE ":" LINE "]" */
	char *s = xmalloc(total + 1), *w = s;
	for (size_t i = 0; i < np; i++) {
		memcpy(w, part[i], len[i]);
		w += len[i];
	}
	if (o->flow_file) {
		*w++ = ' ';
		*w++ = '[';
		memcpy(w, o->flow_file, ff);
		w += ff;
		*w++ = ':';
		memcpy(w, fline, nfline);
		w += nfline;
		*w++ = ']';
	}
	*w = '\0';
	return s;
}

uint32_t ir_rate_unit_seconds(uint8_t unit)
{
	switch (unit) {
	case IR_PER_SECOND: return 1;
	case IR_PER_MINUTE: return 60;
	case IR_PER_HOUR: return 3600;
	case IR_PER_DAY: return 86400;
	}
	return 1;
}

const char *ir_rate_unit_name(uint8_t unit)
{
	switch (unit) {
	case IR_PER_SECOND: return "second";
	case IR_PER_MINUTE: return "minute";
	case IR_PER_HOUR: return "hour";
	case IR_PER_DAY: return "day";
	}
	return "?";
}

void ir_limit_format(const struct ir_limit *l, char *buf, size_t len)
{
	snprintf(buf, len, "%u/%s burst %u%s", l->rate, ir_rate_unit_name(l->unit), l->burst,
		 l->per_source ? " per source" : "");
}

uint32_t ir_limit_refill_seconds(const struct ir_limit *l)
{
	uint64_t s = ((uint64_t)l->burst * ir_rate_unit_seconds(l->unit) + l->rate - 1) / l->rate;
	return s < 1 ? 1 : s > 86400 ? 86400 : (uint32_t)s;
}

static const char *const log_levels[] = {"emerg", "alert", "crit", "err", "warn", "notice",
					 "info", "debug"};

const char *ir_log_level_name(uint8_t level)
{
	return level < 8 ? log_levels[level] : NULL;
}

int ir_log_level_lookup(const char *name)
{
	for (int i = 0; i < 8; i++)
		if (!strcmp(name, log_levels[i]))
			return i;
	return -1;
}
