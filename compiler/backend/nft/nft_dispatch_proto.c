/* Dispatch by transport protocol through a verdict map. Every filter chain starts with the
 * built-in ICMP and ICMPv6 rules (errors, neighbour discovery, related ICMP): without
 * connection tracking (`established only;`) every TCP packet used to walk them all, in input
 * and output, before reaching the policy's own rules. A run of such rules (next to each
 * other, each matching ICMP or ICMPv6, at least DISPATCH_MIN) becomes one rule
 *
 *     meta l4proto vmap { icmp : jump input_icmp, ipv6-icmp : jump input_icmpv6 }
 *
 * and each protocol's rules move, in their order, to a chain of their own. The rules keep all
 * their matches, the protocol's too: `icmp type X` needs it (nft adds it), and a rule stays the
 * same rule wherever it is loaded. A packet of another protocol meets one lookup and goes on to
 * the rule after the map; an ICMP packet meets only the ICMP rules, in their order (an ICMPv6
 * rule never matched it), and returns after the map when none decides. Interface dispatch
 * (nft_dispatch.c) comes first: this one takes only rules outside its runs. */
#include <stdlib.h>
#include <string.h>

#include "nft_lower.h"

/* The protocol a rule's dispatch is keyed on: the one it matches, ICMP or ICMPv6; 0 none. */
static uint8_t proto_key(const struct nft_lowered *l)
{
	if (l->disp || l->setm)
		return 0;
	for (size_t i = 0; i < l->steps.n; i++) {
		const struct nft_step *s = &l->steps.v[i];
		if (s->kind == NS_L4PROTO)
			return s->u.l4proto == IR_ICMP || s->u.l4proto == IR_ICMPV6 ? s->u.l4proto : 0;
	}
	return 0;
}

size_t nft_proto_run_end(const nft_rules *in, size_t i)
{
	size_t e = i;
	while (e < in->n && proto_key(&in->v[e]))
		e++;
	return e;
}

/* "input_icmp", "input_icmpv6" (nft's name of the protocol is ipv6-icmp, not an identifier). */
static char *subchain_name(const struct nft_plan *p, enum ir_hook h, uint8_t proto)
{
	struct strbuf sb = {0};
	sb_printf(&sb, "%s_%s", ir_hook_name(h), proto == IR_ICMPV6 ? "icmpv6" : "icmp");
	return nft_subchain_unique(p, &sb);
}

struct nft_lowered nft_dispatch_proto_run(struct nft_plan *p, enum ir_hook h, struct nft_lowered *run,
					  size_t n)
{
	struct nft_lowered out = {0};
	out.rule = run[0].rule;
	out.comment = nft_dispatch_comment(p, &run[0], n - 1);
	struct nft_dispatch *d = xcalloc(1, sizeof(*d));
	out.disp = d;
	d->l4proto = true;
	/* the protocols in order of first appearance, and each one's count of rules */
	uint8_t protos[2] = {0};
	size_t count[2] = {0}, np = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t k = proto_key(&run[i]);
		size_t e = 0;
		while (e < np && protos[e] != k)
			e++;
		if (e == np)
			protos[np++] = k;
		count[e]++;
	}
	nft_rules members[2] = {{0}};
	size_t first_sub = p->subchains.n;
	for (size_t e = 0; e < np; e++) {
		char *name = subchain_name(p, h, protos[e]); /* before the push: it reads the list */
		VEC_PUSH(p->subchains, ((struct nft_subchain){name, h, {0}}));
	}
	for (size_t i = 0; i < n; i++) {
		size_t e = protos[0] == proto_key(&run[i]) ? 0 : 1;
		const char *chain = p->subchains.v[first_sub + e].name;
		if (!members[e].n) { /* the element: the first rule's provenance, before the move */
			struct nft_jump j = {0, NULL, NULL, chain, NULL, run[i].rule, protos[e]};
			j.comment = nft_dispatch_comment(p, &run[i], count[e] - 1);
			VEC_PUSH(d->jumps, j);
		}
		run[i].chain = chain;
		VEC_PUSH(members[e], run[i]);
		run[i] = (struct nft_lowered){0}; /* its strings are the member's now */
	}
	for (size_t e = 0; e < np; e++) {
		struct nft_subchain *sc = &p->subchains.v[first_sub + e];
		nft_merge_chain(&members[e], &sc->rules);
		for (size_t i = 0; i < sc->rules.n; i++) /* merged rules are new: name their chain */
			sc->rules.v[i].chain = sc->name;
	}
	return out;
}
