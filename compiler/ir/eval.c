/* The IR evaluator: decides one concrete packet. It is the oracle every backend is tested
 * against, and the core of `pinhole explain`. It mirrors how the kernel walks a chain: rules of
 * the packet's hook in order, non-terminal actions continue, the first verdict wins, and the
 * chain policy (drop) decides when nothing matched. Dynamic sets live in an optional state,
 * updated as the kernel updates its sets: by the packets that meet an IR_SET_ADD rule. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "ir.h"

static bool addr_in(const struct ir_addrset *set, uint8_t family, const uint8_t *addr)
{
	if (!set->n)
		return true;
	for (size_t i = 0; i < set->n; i++)
		if (ir_prefix_contains(&set->v[i], family, addr))
			return true;
	return false;
}

static bool port_in(const struct ir_portset *set, uint16_t port)
{
	if (!set->n)
		return true;
	for (size_t i = 0; i < set->n; i++)
		if (port >= set->v[i].lo && port <= set->v[i].hi)
			return true;
	return false;
}

/* nft interface names: exact, or a trailing '*' wildcard. */
static bool if_in(const struct ir_ifset *set, const char *name)
{
	if (!set->n)
		return true;
	if (!name)
		return false;
	for (size_t i = 0; i < set->n; i++)
		if (fnmatch(set->v[i], name, 0) == 0)
			return true;
	return false;
}

static const uint8_t *peer_addr(const struct ir_setref *ref, const struct ir_packet *p)
{
	return ref->src ? p->saddr : p->daddr;
}

static size_t addr_len(uint8_t family)
{
	return family == IR_V6 ? 16 : 4;
}

static struct ir_state_entry *state_find(const struct ir_state *st, const char *set,
					 uint8_t family, const uint8_t *addr)
{
	for (size_t i = 0; st && i < st->v.n; i++) {
		struct ir_state_entry *e = &st->v.v[i];
		if (e->family == family && !strcmp(e->set, set) &&
		    !memcmp(e->addr, addr, addr_len(family)))
			return e;
	}
	return NULL;
}

bool ir_state_member(const struct ir_state *st, const char *set, uint8_t family,
		     const uint8_t *addr)
{
	if (st && st->assume_member)
		return true;
	const struct ir_state_entry *e = state_find(st, set, family, addr);
	return e && st->now_ms < e->expires_ms;
}

/* nft `update @set { addr }` and xt_recent `--set`: add the address, or refresh its timer;
 * the refreshed entry moves to the end (most recent). */
static void state_record(struct ir_state *st, const struct ir_ruleset *rs, const struct ir_rule *r,
			 const struct ir_packet *p)
{
	const struct ir_dynset *ds = ir_dynset_find(rs, r->add_set.name);
	if (!st || !ds || st->assume_member)
		return;
	const uint8_t *addr = peer_addr(&r->add_set, p);
	struct ir_state_entry e = {.set = ds->name, .family = p->family,
				   .expires_ms = st->now_ms + (uint64_t)ds->timeout * 1000};
	memcpy(e.addr, addr, addr_len(p->family));
	struct ir_state_entry *old = state_find(st, ds->name, p->family, addr);
	if (old) {
		size_t i = (size_t)(old - st->v.v);
		memmove(old, old + 1, (st->v.n - i - 1) * sizeof(*old));
		st->v.n--;
	}
	VEC_PUSH(st->v, e);
}

void ir_state_free(struct ir_state *st)
{
	VEC_FREE(st->v);
}

bool ir_rule_matches(const struct ir_rule *r, const struct ir_packet *p)
{
	return ir_rule_matches_state(r, p, NULL);
}

/* One match against the packet. A non-first fragment carries no transport header: port,
 * flag and type matches fail on it. */
static bool match_test(const struct ir_match *m, const struct ir_packet *p, const struct ir_state *st)
{
	switch (m->kind) {
	case IR_M_IIF:
		return if_in(&m->u.ifs, p->iif);
	case IR_M_OIF:
		return if_in(&m->u.ifs, p->oif);
	case IR_M_SADDR:
		return addr_in(&m->u.addrs, p->family, p->saddr);
	case IR_M_DADDR:
		return addr_in(&m->u.addrs, p->family, p->daddr);
	case IR_M_DADDR_LOCAL:
		return p->dst_local;
	case IR_M_IN_SET:
		if (m->u.set.keyed) /* only pinholed adds its elements: none, unless asked what-if */
			return !m->u.set.name || (st && st->assume_member);
		return !m->u.set.name ||
		       ir_state_member(st, m->u.set.name, p->family, peer_addr(&m->u.set, p));
	case IR_M_FRAGMENT:
		return p->fragment;
	case IR_M_L4PROTO:
		return m->u.proto == p->l4proto;
	case IR_M_SPORT:
		return !p->fragment && port_in(&m->u.ports, p->sport);
	case IR_M_DPORT:
		return !p->fragment && port_in(&m->u.ports, p->dport);
	case IR_M_SAME_PORT:
		return !p->fragment && port_in(&m->u.ports, p->sport) && p->sport == p->dport;
	case IR_M_TCP_FLAGS:
		return !p->fragment && (p->tcp_flags & m->u.flags.mask) == m->u.flags.cmp;
	case IR_M_TCP_FLAGS_ANY:
		return !p->fragment && (p->tcp_flags & m->u.flags.mask);
	case IR_M_ICMP_TYPE:
		return !p->fragment && p->icmp_type == m->u.icmp_type;
	case IR_M_CT_STATE:
		return !m->u.ct_state || (m->u.ct_state & p->ct_state);
	case IR_M_CT_HELPER:
		return p->ct_helper && m->u.helper && !strcmp(m->u.helper, p->ct_helper);
	case IR_M_CT_DNAT:
		return p->dnat;
	case IR_M_LIMIT:
		/* One packet, no clock: it is taken to be within the budget unless the state
		 * says it is spent. explain says the rule is rate-limited, and that packets over
		 * it go on to the next rules. */
		for (size_t i = 0; st && i < st->nspent; i++)
			if (st->spent[i] == m)
				return false;
		return true;
	}
	return false;
}

enum ir_miss ir_rule_first_mismatch(const struct ir_rule *r, const struct ir_packet *p,
				    const struct ir_state *st, const struct ir_match **failed)
{
	*failed = NULL;
	if (r->hook != p->hook)
		return IR_MISS_HOOK;
	if (r->family && r->family != p->family)
		return IR_MISS_FAMILY;
	for (size_t i = 0; i < r->match.n; i++) {
		if (!match_test(&r->match.v[i], p, st)) {
			*failed = &r->match.v[i];
			return IR_MISS_MATCH;
		}
	}
	return IR_MISS_NONE;
}

bool ir_rule_matches_state(const struct ir_rule *r, const struct ir_packet *p,
			   const struct ir_state *st)
{
	const struct ir_match *m;
	return ir_rule_first_mismatch(r, p, st, &m) == IR_MISS_NONE;
}

struct ir_verdict ir_eval(const struct ir_ruleset *rs, const struct ir_packet *pkt)
{
	return ir_eval_state(rs, pkt, NULL);
}

/* The first translation rule of `hook` the packet meets (a NAT chain's first match is final),
 * or NULL. */
static const struct ir_rule *nat_rule(const struct ir_ruleset *rs, const struct ir_packet *pkt,
				      enum ir_hook hook)
{
	struct ir_packet q = *pkt;
	q.hook = hook;
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (r->hook == hook && ir_rule_matches_state(r, &q, NULL))
			return r;
	}
	return NULL;
}

void ir_nat_rewrite(uint8_t *addr, uint16_t *port, const struct ir_nat *n)
{
	memcpy(addr, n->addr.addr, n->addr.family == IR_V6 ? 16 : 4);
	if (n->port)
		*port = n->port;
}

/* The filter chain of the packet's hook. */
static struct ir_verdict filter(const struct ir_ruleset *rs, const struct ir_packet *pkt,
				struct ir_state *st)
{
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (!ir_rule_matches_state(r, pkt, st))
			continue;
		switch (r->action) {
		case IR_ACCEPT:
		case IR_DROP:
		case IR_REJECT:
			return (struct ir_verdict){.action = r->action, .rule = r};
		case IR_SET_ADD:
			state_record(st, rs, r, pkt);
			break;
		case IR_SET_HELPER: /* decide nothing: the chain goes on */
		case IR_LOG:
		case IR_HELPER_COPY:
		case IR_DNAT:       /* translation rules sit in chains of their own */
		case IR_SNAT:
		case IR_MASQUERADE:
			break;
		}
	}
	if (pkt->hook == IR_PREROUTING || pkt->hook == IR_DSTNAT || pkt->hook == IR_SRCNAT)
		return (struct ir_verdict){.action = IR_ACCEPT, .rule = NULL};
	return (struct ir_verdict){.action = IR_DROP, .rule = NULL};
}

struct ir_verdict ir_eval_state(const struct ir_ruleset *rs, const struct ir_packet *pkt,
				struct ir_state *st)
{
	struct ir_packet p = *pkt;
	const struct ir_rule *dnat = NULL, *snat = NULL;
	/* Only a connection's first packet meets the NAT chains; conntrack translates the rest. */
	bool first = p.ct_state == CT_NEW && !p.dnat;
	if (first && (p.hook == IR_INPUT || p.hook == IR_FORWARD)) {
		p.dst_local = p.hook == IR_INPUT;
		dnat = nat_rule(rs, &p, IR_DSTNAT);
		if (dnat && dnat->action == IR_DNAT && dnat->nat.addr.family == p.family) {
			ir_nat_rewrite(p.daddr, &p.dport, &dnat->nat);
			p.dnat = true;
			p.hook = IR_FORWARD; /* the new destination is another host */
		} else {
			dnat = NULL;
		}
		p.dst_local = false;
	}
	struct ir_verdict v = filter(rs, &p, st);
	v.dnat = dnat;
	v.after = p;
	if (first && v.action == IR_ACCEPT && (p.hook == IR_FORWARD || p.hook == IR_OUTPUT)) {
		snat = nat_rule(rs, &p, IR_SRCNAT);
		bool rewrites = snat && ((snat->action == IR_SNAT && snat->nat.addr.family == p.family) ||
					 snat->action == IR_MASQUERADE);
		v.snat = rewrites ? snat : NULL;
	}
	return v;
}
