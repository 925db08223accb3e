/* Rules that rare traffic needs, placed after the rules bulk traffic meets. Every filter
 * chain starts with the built-in rules: loopback, then the ICMP ones (one verdict-map lookup
 * when dispatched by protocol). Without connection tracking (`established only;`) every TCP
 * and UDP packet used to meet them before its own rule, in input and output: on the 2-core
 * test machine that cost about a tenth of a veth's throughput (tests/perf/README.md).
 *
 * A rule moves down past the rules after it only where that cannot change what any packet
 * meets: past a rule that can match none of its packets (an ICMP rule or map past a rule of
 * another transport protocol), or, for a rule that only accepts, past a rule that only
 * accepts (whichever of the two a packet meets first, it is accepted, and neither does
 * anything else: no log, no limit, no set update). So a drop, a log, a limit, a jump or a
 * rule of every protocol stops it, and the chain decides every packet as the IR's order
 * does (explain, check and the iptables backend keep that order). Only built-in rules move:
 * the policy's own stay where its author wrote them. */
#include <string.h>

#include "nft_lower.h"

/* The transport protocol a rule matches, 0 if it matches every one. */
static uint8_t l4proto_of(const struct nft_lowered *l)
{
	for (size_t i = 0; i < l->steps.n; i++)
		if (l->steps.v[i].kind == NS_L4PROTO)
			return l->steps.v[i].u.l4proto;
	return 0;
}

static bool is_icmp(uint8_t proto)
{
	return proto == IR_ICMP || proto == IR_ICMPV6;
}

/* Matches, then accept, and nothing else. */
static bool only_accepts(const struct nft_lowered *l)
{
	if (l->disp || !l->steps.n || l->steps.v[l->steps.n - 1].kind != NS_ACCEPT)
		return false;
	for (size_t i = 0; i + 1 < l->steps.n; i++) {
		switch (l->steps.v[i].kind) {
		case NS_NFPROTO:
		case NS_L4PROTO:
		case NS_IFNAME:
		case NS_ADDR:
		case NS_SET_LOOKUP:
		case NS_PINHOLE_LOOKUP:
		case NS_FRAGMENT:
		case NS_PORTS:
		case NS_PORT_PAIR:
		case NS_SAME_PORT:
		case NS_TCP_FLAGS:
		case NS_ICMP_TYPE:
		case NS_CT_STATE:
		case NS_CT_HELPER:
		case NS_FIB_LOCAL:
		case NS_CT_DNAT:
		case NS_SET_MATCH:
			break;
		case NS_LIMIT: /* takes from its bucket: which packets meet it matters */
		case NS_LOG:
		case NS_NFLOG:
		case NS_ACCEPT:
		case NS_DROP:
		case NS_REJECT:
		case NS_HELPER_SET:
		case NS_SET_UPDATE:
		case NS_NAT:
		case NS_MASQUERADE:
			return false;
		}
	}
	return true;
}

/* A built-in rule only rare traffic meets: loopback, ICMP, or the ICMP protocol map. */
static bool rare(const struct nft_lowered *l)
{
	if (l->disp)
		return l->disp->l4proto;
	if (!l->rule->origin.builtin || l->setm)
		return false;
	return is_icmp(l4proto_of(l)) || !strcmp(l->rule->origin.builtin, "loopback");
}

static bool may_pass(const struct nft_lowered *r, const struct nft_lowered *x)
{
	if (x->disp || rare(x))
		return false; /* an interface map's chains may hold anything; the built-ins keep
			       * their order among themselves */
	bool r_icmp = r->disp || is_icmp(l4proto_of(r));
	uint8_t xp = l4proto_of(x);
	if (r_icmp && xp && !is_icmp(xp))
		return true; /* no packet meets both */
	return only_accepts(r) && only_accepts(x);
}

void nft_sink_rare(nft_rules *chain)
{
	/* from the last rule up, so a rare rule never passes one that was above it */
	for (size_t i = chain->n; i-- > 0;) {
		if (!rare(&chain->v[i]))
			continue;
		size_t to = i;
		while (to + 1 < chain->n && may_pass(&chain->v[i], &chain->v[to + 1]))
			to++;
		if (to == i)
			continue;
		struct nft_lowered moving = chain->v[i];
		memmove(&chain->v[i], &chain->v[i + 1], (to - i) * sizeof(chain->v[0]));
		chain->v[to] = moving;
	}
}
