/* The IR evaluator: decides one concrete packet. It is the oracle every backend is tested
 * against, and the core of `pinhole explain`. It mirrors how the kernel walks a chain: rules of
 * the packet's hook in order, non-terminal actions continue, the first verdict wins, and the
 * chain policy (drop) decides when nothing matched. */
#include <fnmatch.h>
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

bool ir_rule_matches(const struct ir_rule *r, const struct ir_packet *p)
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
	return true;
}

struct ir_verdict ir_eval(const struct ir_ruleset *rs, const struct ir_packet *pkt)
{
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		if (!ir_rule_matches(r, pkt))
			continue;
		if (r->action == IR_ACCEPT || r->action == IR_DROP || r->action == IR_REJECT)
			return (struct ir_verdict){.action = r->action, .rule = r};
	}
	if (pkt->hook == IR_PREROUTING)
		return (struct ir_verdict){.action = IR_ACCEPT, .rule = NULL};
	return (struct ir_verdict){.action = IR_DROP, .rule = NULL};
}
