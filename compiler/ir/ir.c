/* IR construction, copying, teardown and formatting. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

void ir_rule_init(struct ir_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->icmp_type = -1;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

void ir_origin_copy(struct ir_origin *dst, const struct ir_origin *src)
{
	*dst = *src;
	dst->file = dup_or_null(src->file);
	dst->stmt = dup_or_null(src->stmt);
	dst->app = dup_or_null(src->app);
	dst->flow = dup_or_null(src->flow);
	dst->flow_file = dup_or_null(src->flow_file);
	dst->builtin = dup_or_null(src->builtin);
}

void ir_origin_free(struct ir_origin *o)
{
	free(o->file);
	free(o->stmt);
	free(o->app);
	free(o->flow);
	free(o->flow_file);
	free(o->builtin);
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

static void portset_copy(struct ir_portset *dst, const struct ir_portset *src)
{
	dst->n = src->n;
	dst->v = NULL;
	if (src->n) {
		dst->v = xmalloc(src->n * sizeof(*src->v));
		memcpy(dst->v, src->v, src->n * sizeof(*src->v));
	}
}

static void ifset_copy(struct ir_ifset *dst, const struct ir_ifset *src)
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

void ir_rule_mirror(struct ir_rule *r)
{
	struct ir_ifset ti = r->iif;
	r->iif = r->oif;
	r->oif = ti;
	struct ir_addrset ta = r->saddr;
	r->saddr = r->daddr;
	r->daddr = ta;
	if (!r->same_port) { /* "to=from" answers on the same port pair */
		struct ir_portset tp = r->sport;
		r->sport = r->dport;
		r->dport = tp;
	}
	r->in_set.src = !r->in_set.src; /* the same peer, at the other end */
}

struct ir_rule ir_rule_copy(const struct ir_rule *r)
{
	struct ir_rule c = *r;
	ifset_copy(&c.iif, &r->iif);
	ifset_copy(&c.oif, &r->oif);
	ir_addrset_copy(&c.saddr, &r->saddr);
	ir_addrset_copy(&c.daddr, &r->daddr);
	portset_copy(&c.sport, &r->sport);
	portset_copy(&c.dport, &r->dport);
	c.in_set.name = dup_or_null(r->in_set.name);
	c.add_set.name = dup_or_null(r->add_set.name);
	c.ct_helper = dup_or_null(r->ct_helper);
	c.helper = dup_or_null(r->helper);
	c.log_prefix = dup_or_null(r->log_prefix);
	ir_origin_copy(&c.origin, &r->origin);
	return c;
}

void ir_rule_free(struct ir_rule *r)
{
	ir_ifset_free(&r->iif);
	ir_ifset_free(&r->oif);
	ir_addrset_free(&r->saddr);
	ir_addrset_free(&r->daddr);
	free(r->sport.v);
	free(r->dport.v);
	free(r->in_set.name);
	free(r->add_set.name);
	free(r->ct_helper);
	free(r->helper);
	free(r->log_prefix);
	ir_origin_free(&r->origin);
	memset(r, 0, sizeof(*r));
}

void ir_ruleset_free(struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->rules.n; i++)
		ir_rule_free(&rs->rules.v[i]);
	VEC_FREE(rs->rules);
	for (size_t i = 0; i < rs->helpers.n; i++) {
		free(rs->helpers.v[i].name);
		free(rs->helpers.v[i].type);
	}
	VEC_FREE(rs->helpers);
	for (size_t i = 0; i < rs->dynsets.n; i++)
		ir_dynset_free(&rs->dynsets.v[i]);
	VEC_FREE(rs->dynsets);
}

void ir_dynset_free(struct ir_dynset *s)
{
	free(s->name);
	free(s->app);
	free(s->flows);
	free(s->peer);
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
	}
	return "?";
}

void ir_prefix_format(const struct ir_prefix *p, char *buf, size_t len)
{
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

char *ir_origin_describe(const struct ir_origin *o)
{
	if (o->builtin)
		return xasprintf("built-in rule: %s", o->builtin);
	struct strbuf sb = {0};
	sb_printf(&sb, "%s:%d", o->file ? o->file : "?", o->line);
	if (o->app)
		sb_printf(&sb, " %s flow %s", o->app, o->flow ? o->flow : "?");
	if (o->reply)
		sb_puts(&sb, " (return traffic)");
	if (o->flow_file)
		sb_printf(&sb, " [%s:%d]", o->flow_file, o->flow_line);
	return sb_steal(&sb);
}
