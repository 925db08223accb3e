/* Per-interface dispatch through a verdict map. A gateway's forward chain holds, zone pair
 * after zone pair, rules that each name one input and one output interface; a packet used to
 * walk all of them, though only its own pair's can match it. A run of such rules (next to
 * each other, every one naming its interfaces the same way: input, output or both, one exact
 * name each) becomes one rule
 *
 *     iifname . oifname vmap { "lan0" . "wan0" : jump forward_lan0_wan0, ... }
 *
 * and each pair's rules move, in their order, to a chain of their own without the interface
 * match the map made. The packet then meets the map's one lookup and its pair's rules only.
 *
 * Nothing changes what a packet meets: a rule of another pair never matched it, so taking
 * those away leaves the rules it did meet in the same order; a subchain that decides nothing
 * returns to the rule after the map, where the run ended; a packet of no pair in the map goes
 * on to that rule too. Rules that decide nothing (logging, helper assignment, set updates,
 * limits) are as safe in a subchain as deciding ones, and each rule stays one rule, so a
 * limit keeps its one budget. Only the filter chains dispatch; the nat and helper chains are
 * short and stay as they are. Every element's comment is its chain's first rule's provenance,
 * and the rules in the chain keep their own. */
#include <stdlib.h>
#include <string.h>

#include "nft_lower.h"


/* A rule's interface key: the exact names it matches on each end (NULL: none), and which
 * ends it names; kind 0 when it names an end with a wildcard or several names. */
struct ifkey {
	const char *iif, *oif;
	int kind; /* 1: input, 2: output, 3: both */
	uint8_t family; /* of the rule's `meta nfproto` step (implied by an address match): 0 none */
};

static bool exact_name(const struct ir_ifset *s)
{
	if (s->n != 1)
		return false;
	size_t n = strlen(s->v[0]);
	return n && n < NFT_IFNAME_LEN && s->v[0][n - 1] != '*';
}

static struct ifkey rule_key(const struct nft_lowered *l)
{
	struct ifkey k = {0};
	if (l->disp || l->setm || !l->steps.n)
		return k;
	for (size_t i = 0; i < l->steps.n; i++) {
		const struct nft_step *s = &l->steps.v[i];
		if (s->kind == NS_NFPROTO)
			k.family = s->u.nfproto;
		if (s->kind != NS_IFNAME)
			continue;
		if (!exact_name(s->u.ifs) || (s->src ? k.iif : k.oif))
			return (struct ifkey){0};
		if (s->src)
			k.iif = s->u.ifs->v[0];
		else
			k.oif = s->u.ifs->v[0];
	}
	k.kind = (k.iif ? 1 : 0) | (k.oif ? 2 : 0);
	return k;
}

static bool same_key(const struct ifkey *a, const struct ifkey *b)
{
	return a->family == b->family && util_str_equal(a->iif, b->iif) && util_str_equal(a->oif, b->oif);
}

/* The rule without its interface matches (the map makes them). */
static void strip_ifnames(struct nft_lowered *l)
{
	size_t n = 0;
	for (size_t i = 0; i < l->steps.n; i++)
		if (l->steps.v[i].kind != NS_IFNAME)
			l->steps.v[n++] = l->steps.v[i];
	l->steps.n = n;
}

static bool chain_name_taken(const struct nft_plan *p, const char *name)
{
	for (size_t i = 0; i < p->subchains.n; i++)
		if (!strcmp(p->subchains.v[i].name, name))
			return true;
	return false;
}

/* "forward_lan0_wan0": the hook and the interfaces, as an nft identifier; a second run of the
 * same interfaces in the chain gets "_2", and so on. */
static char *subchain_name(const struct nft_plan *p, enum ir_hook h, const struct ifkey *k)
{
	struct strbuf sb = {0};
	sb_puts(&sb, ir_hook_name(h));
	if (k->iif) {
		sb_putc(&sb, '_');
		sb_put_ident(&sb, k->iif);
	}
	if (k->oif) {
		sb_putc(&sb, '_');
		sb_put_ident(&sb, k->oif);
	}
	if (k->family)
		sb_puts(&sb, k->family == IR_V6 ? "_v6" : "_v4");
	return nft_subchain_unique(p, &sb);
}

char *nft_subchain_unique(const struct nft_plan *p, struct strbuf *sb)
{
	size_t base = sb->len;
	for (unsigned n = 2; chain_name_taken(p, sb->s); n++) {
		sb->len = base;
		sb->s[base] = '\0';
		sb_printf(sb, "_%u", n);
	}
	return sb_steal(sb);
}

/* "FIRST +N", cut to nft's comment length with the count kept (as merged rules are). */
static char *first_and_count(const char *first, size_t more)
{
	if (!more)
		return xstrdup(first);
	char *c = xasprintf("%s +%zu", first, more);
	if (strlen(c) > NFT_COMMENT_MAX) {
		char *tail = xasprintf(".. +%zu", more);
		size_t room = NFT_COMMENT_MAX - strlen(tail);
		free(c);
		c = xasprintf("%.*s%s", (int)room, first, tail);
		free(tail);
	}
	return c;
}

/* A map element's comment: its first rule's provenance and the count of the others. Rules
 * are lowered without comments (nft_plan_rules words them after merging), so it is worded
 * from the IR rule here; none when the plan words none (nft_check). */
char *nft_dispatch_comment(const struct nft_plan *p, const struct nft_lowered *first, size_t more)
{
	if (p->no_comments)
		return NULL;
	if (first->comment)
		return first_and_count(first->comment, more);
	char *c = nft_rule_comment(first->rule);
	char *out = first_and_count(c, more);
	free(c);
	return out;
}

/* The rule's key for a run: with its family when the whole run is keyed on it. */
static struct ifkey run_key(const struct nft_lowered *l, bool family)
{
	struct ifkey k = rule_key(l);
	if (!family)
		k.family = 0;
	return k;
}

/* Rules run[0..n) (one key kind) into subchains and the map rule that jumps to them; keyed on
 * the family too when every rule of the run matches one (`meta nfproto`, an address): a
 * dual-stack zone's IPv4 packets then skip its IPv6 rules. A rule that says no family
 * (`tcp dport 22`) matches both, so a run with one is keyed on interfaces only. */
static struct nft_lowered dispatch_run(struct nft_plan *p, enum ir_hook h, struct nft_lowered *run,
				       size_t n)
{
	bool family = true;
	for (size_t i = 0; i < n && family; i++)
		family = rule_key(&run[i]).family != 0;
	struct nft_lowered out = {0};
	out.rule = run[0].rule;
	out.comment = nft_dispatch_comment(p, &run[0], n - 1);
	struct nft_dispatch *d = xcalloc(1, sizeof(*d));
	out.disp = d;
	struct ifkey k0 = rule_key(&run[0]);
	d->family = family;
	d->iif = k0.iif != NULL;
	d->oif = k0.oif != NULL;
	/* each rule's map element, in order of first appearance */
	size_t *elem_of = xmalloc(n * sizeof(*elem_of));
	VEC(struct ifkey) keys = {0};
	VEC(nft_rules) members = {0};
	VEC(size_t) count = {0}; /* each element's rules */
	size_t last = 0;
	for (size_t i = 0; i < n; i++) {
		struct ifkey k = run_key(&run[i], family);
		size_t e = last < keys.n && same_key(&keys.v[last], &k) ? last : keys.n;
		for (size_t j = 0; e == keys.n && j < keys.n; j++)
			if (same_key(&keys.v[j], &k))
				e = j;
		if (e == keys.n) {
			VEC_PUSH(keys, k);
			VEC_PUSH(members, ((nft_rules){0}));
			VEC_PUSH(count, 0);
		}
		count.v[e]++;
		elem_of[i] = last = e;
	}
	size_t first_sub = p->subchains.n;
	for (size_t e = 0; e < keys.n; e++) {
		char *name = subchain_name(p, h, &keys.v[e]); /* before the push: it reads the list */
		VEC_PUSH(p->subchains, ((struct nft_subchain){name, h, {0}}));
	}
	for (size_t i = 0; i < n; i++) {
		size_t e = elem_of[i];
		if (!members.v[e].n) { /* the element: the first rule's provenance, before the move */
			struct nft_jump j = {keys.v[e].family, keys.v[e].iif, keys.v[e].oif,
					     p->subchains.v[first_sub + e].name, NULL, run[i].rule, 0};
			j.comment = nft_dispatch_comment(p, &run[i], count.v[e] - 1);
			VEC_PUSH(d->jumps, j);
		}
		strip_ifnames(&run[i]);
		run[i].chain = p->subchains.v[first_sub + e].name;
		VEC_PUSH(members.v[e], run[i]);
	}
	for (size_t e = 0; e < keys.n; e++) {
		struct nft_subchain *sc = &p->subchains.v[first_sub + e];
		nft_merge_chain(&members.v[e], &sc->rules);
		for (size_t i = 0; i < sc->rules.n; i++) /* merged rules are new: name their chain */
			sc->rules.v[i].chain = sc->name;
	}
	for (size_t i = 0; i < n; i++) /* the strings moved to the members are theirs now */
		run[i] = (struct nft_lowered){0};
	VEC_FREE(members);
	VEC_FREE(count);
	VEC_FREE(keys);
	free(elem_of);
	return out;
}

void nft_dispatch_chain(struct nft_plan *p, enum ir_hook h, nft_rules *in, nft_rules *out)
{
	if (h != IR_INPUT && h != IR_FORWARD && h != IR_OUTPUT) {
		nft_merge_chain(in, out);
		return;
	}
	/* The chain with each dispatched run as its map rule, written over `in` itself: a run
	 * becomes one rule, so the write position never passes the rules still to be read (a
	 * copy would be a second lowered rule for each, at the plan's peak). */
	size_t i = 0, w = 0;
	while (i < in->n) {
		struct ifkey k = rule_key(&in->v[i]);
		size_t e = i + 1;
		while (k.kind && e < in->n && rule_key(&in->v[e]).kind == k.kind)
			e++;
		size_t pe = k.kind ? i : nft_proto_run_end(in, i);
		struct nft_lowered staged;
		if (k.kind && e - i >= DISPATCH_MIN) {
			staged = dispatch_run(p, h, &in->v[i], e - i);
		} else if (pe - i >= DISPATCH_MIN) { /* rules of no interface run: by protocol */
			staged = nft_dispatch_proto_run(p, h, &in->v[i], pe - i);
			e = pe;
		} else {
			e = i + 1; /* the next rule may start a protocol run */
			staged = in->v[i];
		}
		in->v[w++] = staged;
		i = e;
	}
	in->n = w;
	/* a map rule decides nothing itself: no merge moves a rule past it */
	nft_merge_chain(in, out);
	nft_sink_rare(out);
}

void nft_subchains_free(struct nft_plan *p)
{
	for (size_t i = 0; i < p->subchains.n; i++) {
		struct nft_subchain *sc = &p->subchains.v[i];
		for (size_t j = 0; j < sc->rules.n; j++)
			nft_lowered_free(&sc->rules.v[j]);
		VEC_FREE(sc->rules);
		free(sc->name);
	}
	VEC_FREE(p->subchains);
}

static bool stands_for(const struct nft_lowered *l, const struct ir_rule *r)
{
	if (l->rule == r)
		return !l->disp;
	if (!l->setm)
		return false;
	for (size_t i = 0; i < l->setm->members.n; i++)
		if (l->setm->members.v[i].rule == r)
			return true;
	return false;
}

const struct nft_lowered *nft_plan_find(const struct nft_plan *p, const struct ir_rule *r,
					const struct nft_lowered **via)
{
	*via = NULL;
	if (r->hook >= IR_HOOK_COUNT)
		return NULL;
	const nft_rules *base = &p->rules[r->hook];
	for (size_t i = 0; i < base->n; i++)
		if (stands_for(&base->v[i], r))
			return &base->v[i];
	for (size_t s = 0; s < p->subchains.n; s++) {
		const struct nft_subchain *sc = &p->subchains.v[s];
		if (sc->hook != r->hook)
			continue;
		for (size_t i = 0; i < sc->rules.n; i++) {
			if (!stands_for(&sc->rules.v[i], r))
				continue;
			for (size_t j = 0; j < base->n; j++) {
				const struct nft_dispatch *d = base->v[j].disp;
				for (size_t x = 0; d && x < d->jumps.n; x++)
					if (d->jumps.v[x].chain == sc->name)
						*via = &base->v[j];
			}
			return &sc->rules.v[i];
		}
	}
	return NULL;
}
