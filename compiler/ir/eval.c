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

static bool has_ports(const struct ir_rule *r)
{
	return r->sport.n || r->dport.n || r->same_port || r->tcp_flags_mask || r->tcp_flags_any;
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

bool ir_rule_matches_state(const struct ir_rule *r, const struct ir_packet *p,
			   const struct ir_state *st)
{
	if (r->hook != p->hook)
		return false;
	if (r->family && r->family != p->family)
		return false;
	if (!if_in(&r->iif, p->iif) || !if_in(&r->oif, p->oif))
		return false;
	if (r->l4proto && r->l4proto != p->l4proto)
		return false;
	if (r->saddr.n && !addr_in(&r->saddr, p->family, p->saddr))
		return false;
	if (r->daddr.n && !addr_in(&r->daddr, p->family, p->daddr))
		return false;
	/* A non-first fragment carries no transport header: port, flag and type matches fail. */
	if (p->fragment && (has_ports(r) || r->icmp_type >= 0))
		return false;
	if (r->fragment && !p->fragment)
		return false;
	if (!p->fragment) {
		if (!port_in(&r->sport, p->sport))
			return false;
		if (!port_in(&r->dport, p->dport))
			return false;
		if (r->same_port && p->sport != p->dport)
			return false;
		if (r->tcp_flags_mask && (p->tcp_flags & r->tcp_flags_mask) != r->tcp_flags_cmp)
			return false;
		if (r->tcp_flags_any && !(p->tcp_flags & r->tcp_flags_any))
			return false;
		if (r->icmp_type >= 0 && r->icmp_type != p->icmp_type)
			return false;
	}
	if (r->ct_state && !(r->ct_state & p->ct_state))
		return false;
	if (r->ct_helper && (!p->ct_helper || strcmp(r->ct_helper, p->ct_helper) != 0))
		return false;
	if (r->in_set.name &&
	    !ir_state_member(st, r->in_set.name, p->family, peer_addr(&r->in_set, p)))
		return false;
	return true;
}

struct ir_verdict ir_eval(const struct ir_ruleset *rs, const struct ir_packet *pkt)
{
	return ir_eval_state(rs, pkt, NULL);
}

struct ir_verdict ir_eval_state(const struct ir_ruleset *rs, const struct ir_packet *pkt,
				struct ir_state *st)
{
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (!ir_rule_matches_state(r, pkt, st))
			continue;
		if (r->action == IR_ACCEPT || r->action == IR_DROP || r->action == IR_REJECT)
			return (struct ir_verdict){.action = r->action, .rule = r};
		if (r->action == IR_SET_ADD)
			state_record(st, rs, r, pkt);
	}
	if (pkt->hook == IR_PREROUTING)
		return (struct ir_verdict){.action = IR_ACCEPT, .rule = NULL};
	return (struct ir_verdict){.action = IR_DROP, .rule = NULL};
}
