/* IR -> nft rules as steps (see nft_lower.h): names first, then each rule. */
#include <stdlib.h>
#include <string.h>

#include "nft_lower.h"

/* ---- names: helper objects, define and zone sets, dynamic sets ---- */

static const char *fam_suffix(uint8_t family)
{
	return family == IR_V6 ? "_v6" : "_v4";
}

static const char *helper_obj(const struct nft_plan *p, const char *type, uint8_t proto)
{
	for (size_t i = 0; i < p->helpers.n; i++)
		if (!strcmp(p->helpers.v[i].type, type) && p->helpers.v[i].proto == proto)
			return p->helpers.v[i].name;
	return NULL;
}

static const char *named_set(const struct nft_plan *p, const char *ir_name, uint8_t family)
{
	for (size_t i = 0; i < p->sets.n; i++)
		if (!strcmp(p->sets.v[i].ir_name, ir_name) && p->sets.v[i].family == family)
			return p->sets.v[i].name;
	return NULL;
}

const char *nft_plan_dynset_name(const struct nft_plan *p, const char *ir_name)
{
	for (size_t i = 0; ir_name && i < p->dynsets.n; i++)
		if (!strcmp(p->dynsets.v[i].ds->name, ir_name))
			return p->dynsets.v[i].name;
	return NULL;
}

const struct nft_channel *nft_plan_channel(const struct nft_plan *p, const struct ir_rule *r)
{
	for (size_t i = 0; r->action == IR_HELPER_COPY && i < p->channels.n; i++) {
		const struct nft_channel *ch = &p->channels.v[i];
		if (ch->stmt_no == r->origin.stmt_no && util_str_equal(ch->app, r->origin.app) &&
		    util_str_equal(ch->parser, r->helper) && util_str_equal(ch->flow, r->origin.flow))
			return ch;
	}
	return NULL;
}

const struct nft_meter *nft_plan_meter(const struct nft_plan *p, const struct ir_rule *r)
{
	for (size_t i = 0; i < p->meters.n; i++)
		if (p->meters.v[i].user == r)
			return &p->meters.v[i];
	return NULL;
}

static bool name_taken(const struct nft_plan *p, const char *name)
{
	for (size_t i = 0; i < p->meters.n; i++)
		if (!strcmp(p->meters.v[i].name, name))
			return true;
	for (size_t i = 0; i < p->sets.n; i++)
		if (!strcmp(p->sets.v[i].name, name))
			return true;
	for (size_t i = 0; i < p->dynsets.n; i++)
		if (!strcmp(p->dynsets.v[i].name, name))
			return true;
	return false;
}

/* A dynamic set keeps the IR's name unless a define's or zone's set has it: then a number
 * goes before the family suffix ("ph_mms_servers_2_v4"). */
static char *dynset_name(const struct nft_plan *p, const struct ir_dynset *ds)
{
	if (!name_taken(p, ds->name))
		return xstrdup(ds->name);
	size_t n = strlen(ds->name);
	const char *fam = fam_suffix(ds->family);
	size_t base = n >= 3 && !strcmp(ds->name + n - 3, fam) ? n - 3 : n;
	for (int k = 2;; k++) {
		char *name = xasprintf("%.*s_%d%s", (int)base, ds->name, k, fam);
		if (!name_taken(p, name))
			return name;
		free(name);
	}
}

static const struct ir_rule *first_dynset_user(const struct ir_ruleset *rs, const char *name)
{
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		const struct ir_setref *in = ir_rule_in_set(r);
		if ((in && in->name && !strcmp(in->name, name)) ||
		    (r->add_set.name && !strcmp(r->add_set.name, name)))
			return r;
	}
	return NULL;
}

void nft_chain_spec(enum ir_hook h, struct nft_chain_spec *out)
{
	/* NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING, as in linux/netfilter.h */
	enum { PRE = 0, IN = 1, FWD = 2, OUT = 3, POST = 4 };
	*out = (struct nft_chain_spec){.name = ir_hook_name(h), .type = "filter",
				       .prio_name = "filter", .prio = 0, .drop = true};
	switch (h) {
	case IR_PREROUTING: out->hook = "prerouting"; out->hooknum = PRE; out->drop = false; break;
	case IR_INPUT: out->hook = "input"; out->hooknum = IN; break;
	case IR_FORWARD: out->hook = "forward"; out->hooknum = FWD; break;
	case IR_OUTPUT: out->hook = "output"; out->hooknum = OUT; break;
	case IR_DSTNAT:
	case IR_SRCNAT:
		*out = (struct nft_chain_spec){.name = ir_hook_name(h), .type = "nat",
					       .hook = h == IR_DSTNAT ? "prerouting" : "postrouting",
					       .hooknum = h == IR_DSTNAT ? PRE : POST,
					       .prio_name = h == IR_DSTNAT ? "dstnat" : "srcnat",
					       .prio = h == IR_DSTNAT ? -100 : 100, .drop = false};
		break;
	case IR_HOOK_COUNT:
		out->hook = "?";
		break;
	}
}

void nft_plan_build(const struct ir_ruleset *rs, struct nft_plan *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		p->chain[r->hook] = true;
		uint8_t proto = ir_rule_proto(r) == IR_UDP ? IR_UDP : IR_TCP;
		if (r->action == IR_SET_HELPER && r->helper && !helper_obj(p, r->helper, proto)) {
			struct strbuf sb = {0};
			sb_puts(&sb, "ph_");
			sb_put_ident(&sb, r->helper);
			sb_puts(&sb, proto == IR_UDP ? "_udp" : "_tcp");
			VEC_PUSH(p->helpers, ((struct nft_helper_obj){sb_steal(&sb), r->helper, proto, r}));
		}
		if (r->action == IR_HELPER_COPY && r->helper && r->origin.app && !nft_plan_channel(p, r)) {
			unsigned id = (unsigned)p->channels.n + 1;
			VEC_PUSH(p->channels, ((struct nft_channel){id, xasprintf("ph%u:", id),
				 r->origin.stmt_no, r->origin.app, r->helper, r->origin.flow, r}));
		}
		static const enum ir_match_kind ends[] = {IR_M_SADDR, IR_M_DADDR};
		for (int k = 0; k < 2; k++) {
			const struct ir_addrset *a = ir_rule_addrs(r, ends[k]);
			if (!a || !a->name || !a->n || named_set(p, a->name, r->family))
				continue;
			struct strbuf sb = {0};
			sb_put_ident(&sb, a->name);
			sb_puts(&sb, fam_suffix(r->family));
			VEC_PUSH(p->sets, ((struct nft_named_set){sb_steal(&sb), a->name, r->family, a, r}));
		}
	}
	/* Base chains always filter input, forward and output; prerouting only assigns helpers. */
	p->chain[IR_INPUT] = p->chain[IR_FORWARD] = p->chain[IR_OUTPUT] = true;
	for (size_t i = 0; i < rs->dynsets.n; i++) {
		const struct ir_dynset *ds = &rs->dynsets.v[i];
		struct nft_dyn_set d = {dynset_name(p, ds), ds, first_dynset_user(rs, ds->name)};
		VEC_PUSH(p->dynsets, d);
	}
	/* One meter per rule limited per source, numbered in rule order. */
	unsigned k = 0;
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		const struct ir_match *m = ir_match_get(r, IR_M_LIMIT);
		if (!m || !m->u.limit.per_source || !r->family)
			continue;
		char *name;
		do
			name = xasprintf("ph_limit_%u%s", ++k, fam_suffix(r->family));
		while (name_taken(p, name) && (free(name), 1));
		VEC_PUSH(p->meters, ((struct nft_meter){name, r->family,
						       ir_limit_refill_seconds(&m->u.limit), r}));
	}
}

static bool lower_rule(const struct nft_plan *p, const struct ir_rule *r, struct nft_lowered *out,
		       char **why, bool comment);

static void name_merged_sets(struct nft_plan *p, nft_rules *rules, enum ir_hook h, size_t *k)
{
	for (size_t i = 0; i < rules->n; i++) {
		struct nft_setmatch *m = rules->v[i].setm;
		if (!m || m->nfields != 1 || !m->interval)
			continue;
		m->name = xasprintf("ph_%s_%zu", ir_hook_name(h), ++*k);
		VEC_PUSH(p->merged_sets, m);
	}
}

/* Rules are lowered without comments (a merge words its members' once their candidates are
 * gone): what stayed a rule of its own gets its provenance here. */
static void word_comments(const struct nft_plan *p, nft_rules *rules)
{
	for (size_t i = 0; i < rules->n; i++)
		if (!rules->v[i].comment && !rules->v[i].disp && !p->no_comments)
			rules->v[i].comment = nft_rule_comment(rules->v[i].rule);
}

const struct ir_rule *nft_plan_rules(const struct ir_ruleset *rs, struct nft_plan *p, char **why)
{
	const struct ir_rule *bad = NULL;
	if (why)
		*why = NULL;
	for (int h = 0; h < IR_HOOK_COUNT; h++) {
		if (!p->chain[h])
			continue;
		nft_rules one = {0};
		size_t here = 0;
		for (size_t i = 0; i < rs->rules.n; i++)
			here += (int)rs->rules.v[i].hook == h;
		if (here) {
			one.v = xmalloc(here * sizeof(*one.v));
			one.cap = here;
		}
		for (size_t i = 0; i < rs->rules.n; i++) {
			if ((int)rs->rules.v[i].hook != h)
				continue;
			struct nft_lowered l;
			char *w = NULL;
			/* no comment yet: a merge words its members' when their candidates are gone */
			if (!lower_rule(p, &rs->rules.v[i], &l, &w, false) && !bad) {
				bad = &rs->rules.v[i];
				if (why)
					*why = w;
				w = NULL;
			}
			free(w);
			VEC_PUSH(one, l);
		}
		size_t sub0 = p->subchains.n;
		nft_dispatch_chain(p, (enum ir_hook)h, &one, &p->rules[h]);
		word_comments(p, &p->rules[h]);
		for (size_t s = sub0; s < p->subchains.n; s++)
			word_comments(p, &p->subchains.v[s].rules);
		/* A one-field set of ranges is declared (see nft_merge.c): name it. */
		size_t k = 0;
		name_merged_sets(p, &p->rules[h], (enum ir_hook)h, &k);
		for (size_t s = sub0; s < p->subchains.n; s++)
			name_merged_sets(p, &p->subchains.v[s].rules, (enum ir_hook)h, &k);
	}
	return bad;
}

void nft_plan_free(struct nft_plan *p)
{
	for (int h = 0; h < IR_HOOK_COUNT; h++) {
		for (size_t i = 0; i < p->rules[h].n; i++)
			nft_lowered_free(&p->rules[h].v[i]);
		VEC_FREE(p->rules[h]);
	}
	nft_subchains_free(p);
	VEC_FREE(p->merged_sets);
	for (size_t i = 0; i < p->helpers.n; i++)
		free(p->helpers.v[i].name);
	for (size_t i = 0; i < p->sets.n; i++)
		free(p->sets.v[i].name);
	for (size_t i = 0; i < p->dynsets.n; i++)
		free(p->dynsets.v[i].name);
	for (size_t i = 0; i < p->channels.n; i++)
		free(p->channels.v[i].prefix);
	for (size_t i = 0; i < p->meters.n; i++)
		free(p->meters.v[i].name);
	VEC_FREE(p->meters);
	VEC_FREE(p->helpers);
	VEC_FREE(p->sets);
	VEC_FREE(p->dynsets);
	VEC_FREE(p->channels);
}

/* ---- one rule ---- */

/* Steps are written here first and then copied to a block of exactly their size: allocated
 * bigger and cut down, every rule of a plan would leave a hole behind in the heap. */
enum { LOWER_SCRATCH = 32 };

struct lower {
	const struct nft_plan *plan;
	const struct ir_rule *r;
	struct nft_lowered *out;
	struct nft_step *scratch; /* LOWER_SCRATCH steps, not zeroed for each rule */
	uint8_t nfproto;   /* network protocol matched so far (explicitly or as a dependency) */
	bool l4;           /* transport protocol matched so far */
	char *why;         /* first thing nftables cannot express */
};

static void invalid(struct lower *l, char *why)
{
	if (!l->why)
		l->why = why;
	else
		free(why);
}

static struct nft_step *step(struct lower *l, enum nft_step_kind kind)
{
	if (l->out->steps.n == l->out->steps.cap && l->out->steps.v == l->scratch) {
		struct nft_step *v = xmalloc(2 * LOWER_SCRATCH * sizeof(*v)); /* a rare long rule */
		memcpy(v, l->scratch, LOWER_SCRATCH * sizeof(*v));
		l->out->steps.v = v;
		l->out->steps.cap = 2 * LOWER_SCRATCH;
	}
	VEC_PUSH(l->out->steps, ((struct nft_step){.kind = kind, .family = l->r->family}));
	return &l->out->steps.v[l->out->steps.n - 1];
}

/* nft puts the implied network protocol in front of a header match, once per rule. */
static void need_nfproto(struct lower *l)
{
	if (l->nfproto)
		return;
	if (!l->r->family) {
		invalid(l, xstrdup("a network header match in a rule without a family"));
		return;
	}
	struct nft_step *s = step(l, NS_NFPROTO);
	s->implicit = true;
	s->u.nfproto = l->r->family;
	l->nfproto = l->r->family;
}

static void need_l4(struct lower *l, uint8_t proto)
{
	if (l->l4)
		return;
	struct nft_step *s = step(l, NS_L4PROTO);
	s->implicit = true;
	s->u.l4proto = proto;
	l->l4 = true;
}

/* The transport protocol that port and flag matches read: what the rule says, else TCP. */
static uint8_t port_proto(const struct ir_rule *r)
{
	return ir_rule_proto(r) == IR_UDP ? IR_UDP : IR_TCP;
}

static bool single_port(const struct ir_portset *p)
{
	return p && p->n == 1 && p->v[0].lo == p->v[0].hi;
}

/* Does a later header match already imply `meta l4proto`? */
static bool l4_implied(const struct ir_rule *r)
{
	const struct ir_setref *in = ir_rule_in_set(r);
	return (in && in->keyed) || ir_match_get(r, IR_M_SPORT) || ir_match_get(r, IR_M_DPORT) ||
	       ir_match_get(r, IR_M_SAME_PORT) || ir_match_get(r, IR_M_ICMP_TYPE) ||
	       (ir_rule_proto(r) == IR_TCP &&
		(ir_match_get(r, IR_M_TCP_FLAGS) || ir_match_get(r, IR_M_TCP_FLAGS_ANY)));
}

static void lower_ifname(struct lower *l, const struct ir_match *m)
{
	for (size_t i = 0; i < m->u.ifs.n; i++)
		if (strlen(m->u.ifs.v[i]) >= NFT_IFNAME_LEN) { /* nft: "String exceeds maximum length of 16" */
			invalid(l, xasprintf("interface name '%.40s' is longer than %d characters",
					     m->u.ifs.v[i], NFT_IFNAME_LEN - 1));
			return;
		}
	struct nft_step *s = step(l, NS_IFNAME);
	s->src = m->kind == IR_M_IIF;
	s->u.ifs = &m->u.ifs;
}

static void lower_match(struct lower *l, const struct ir_match *m)
{
	const struct ir_rule *r = l->r;
	struct nft_step *s;
	switch (m->kind) {
	case IR_M_IIF:
	case IR_M_OIF:
		lower_ifname(l, m);
		break;
	case IR_M_SADDR:
	case IR_M_DADDR:
		need_nfproto(l);
		s = step(l, NS_ADDR);
		s->src = m->kind == IR_M_SADDR;
		s->u.addr.addrs = &m->u.addrs;
		s->u.addr.set = m->u.addrs.name ? named_set(l->plan, m->u.addrs.name, r->family) : NULL;
		break;
	case IR_M_IN_SET:
		need_nfproto(l);
		if (m->u.set.keyed) {
			/* peer . local . protocol . port: the tcp/udp port brings its dependency */
			need_l4(l, port_proto(r));
			s = step(l, NS_PINHOLE_LOOKUP);
			s->src = m->u.set.src;
			s->proto = port_proto(r);
			s->u.pinhole.port_src = m->u.set.port_src;
			s->u.pinhole.peerless = m->u.set.peerless;
			s->u.pinhole.set = nft_plan_dynset_name(l->plan, m->u.set.name);
			if (!s->u.pinhole.set)
				invalid(l, xasprintf("pinhole set '%s' is not declared", m->u.set.name));
			if (ir_rule_proto(r) != IR_TCP && ir_rule_proto(r) != IR_UDP)
				invalid(l, xstrdup("a pinhole lookup without tcp or udp"));
			break;
		}
		s = step(l, NS_SET_LOOKUP);
		s->src = m->u.set.src;
		s->u.set = nft_plan_dynset_name(l->plan, m->u.set.name);
		if (!s->u.set)
			invalid(l, xasprintf("dynamic set '%s' is not declared", m->u.set.name));
		break;
	case IR_M_FRAGMENT:
		need_nfproto(l);
		step(l, NS_FRAGMENT);
		break;
	case IR_M_L4PROTO:
		if (!l4_implied(r)) { /* `meta l4proto X` */
			s = step(l, NS_L4PROTO);
			s->u.l4proto = m->u.proto;
			l->l4 = true;
		}
		break;
	case IR_M_SPORT:
	case IR_M_DPORT: {
		need_l4(l, port_proto(r));
		const struct ir_portset *sp = ir_rule_ports(r, IR_M_SPORT), *dp = ir_rule_ports(r, IR_M_DPORT);
		if (single_port(sp) && single_port(dp)) {
			/* nft merges equality matches on adjacent header fields into one load when
			 * the result fits 32 bits: `udp sport 67 udp dport 68`. */
			if (m->kind == IR_M_DPORT)
				break; /* the pair was lowered with the source port */
			s = step(l, NS_PORT_PAIR);
			s->u.pair.sport = sp->v[0].lo;
			s->u.pair.dport = dp->v[0].lo;
		} else {
			s = step(l, NS_PORTS);
			s->src = m->kind == IR_M_SPORT;
			s->u.ports = &m->u.ports;
		}
		s->proto = port_proto(r);
		break;
	}
	case IR_M_SAME_PORT:
		/* nft cannot compare two header fields, so "to=from" is a set of port pairs. */
		need_l4(l, port_proto(r));
		s = step(l, NS_SAME_PORT);
		s->proto = port_proto(r);
		s->u.ports = &m->u.ports;
		break;
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
		if (ir_rule_proto(r) != IR_TCP) {
			invalid(l, xstrdup("TCP flags without TCP"));
			break;
		}
		need_l4(l, IR_TCP);
		s = step(l, NS_TCP_FLAGS);
		s->proto = IR_TCP;
		s->u.flags.mask = m->u.flags.mask;
		s->u.flags.cmp = m->u.flags.cmp;
		s->u.flags.any = m->kind == IR_M_TCP_FLAGS_ANY;
		break;
	case IR_M_ICMP_TYPE: {
		uint8_t proto = ir_rule_proto(r) == IR_ICMPV6 ? IR_ICMPV6 : IR_ICMP;
		need_nfproto(l);
		need_l4(l, proto);
		s = step(l, NS_ICMP_TYPE);
		s->proto = proto;
		s->u.icmp_type = m->u.icmp_type;
		break;
	}
	case IR_M_CT_STATE:
		step(l, NS_CT_STATE)->u.ct_state = m->u.ct_state;
		break;
	case IR_M_CT_HELPER:
		step(l, NS_CT_HELPER)->u.ct_helper = m->u.helper;
		break;
	case IR_M_DADDR_LOCAL:
		step(l, NS_FIB_LOCAL);
		break;
	case IR_M_CT_DNAT:
		step(l, NS_CT_DNAT);
		break;
	case IR_M_LIMIT:
		s = step(l, NS_LIMIT);
		s->u.limit.l = &m->u.limit;
		if (m->u.limit.per_source) {
			/* the source address is the meter's key: its family must be known */
			need_nfproto(l);
			const struct nft_meter *mt = nft_plan_meter(l->plan, r);
			s->u.limit.meter = mt ? mt->name : NULL;
			s->src = true;
			if (!mt)
				invalid(l, xstrdup("a per-source limit without its meter"));
		}
		break;
	}
}

/* "pinhole FILE:LINE " for a statement's log, "pinhole drop HOOK " for what falls through. */
static char *log_prefix(const struct ir_rule *r)
{
	if (r->origin.file)
		return xasprintf("pinhole %s:%d ", r->origin.file, r->origin.line);
	return xasprintf("pinhole drop %s ", ir_hook_name(r->hook));
}

static void lower_action(struct lower *l)
{
	const struct ir_rule *r = l->r;
	struct nft_step *s;
	if (r->log || r->action == IR_LOG) {
		s = step(l, NS_LOG);
		s->u.log_prefix = log_prefix(r);
		if (r->logopt.level_set || r->logopt.nflog)
			s->u.logopt = &r->logopt;
		if (r->logopt.nflog && r->logopt.group == NFT_PINHOLED_GROUP)
			invalid(l, xasprintf("log group %d is pinholed's", NFT_PINHOLED_GROUP));
	}
	switch (r->action) {
	case IR_ACCEPT:
		step(l, NS_ACCEPT);
		break;
	case IR_DROP:
		step(l, NS_DROP);
		break;
	case IR_REJECT:
		/* nft picks the ICMP flavour from the network protocol the rule already matched. */
		step(l, NS_REJECT)->u.reject = ir_rule_proto(r) == IR_TCP ? NFT_REJECT_TCP_RESET
					       : l->nfproto ? NFT_REJECT_ICMP_PORT : NFT_REJECT_ICMPX_PORT;
		break;
	case IR_SET_HELPER: {
		const char *obj = r->helper ? helper_obj(l->plan, r->helper, port_proto(r)) : NULL;
		if (!obj) {
			invalid(l, xstrdup("a helper assignment without a helper"));
			break;
		}
		step(l, NS_HELPER_SET)->u.helper_obj = obj;
		break;
	}
	case IR_LOG:
		break; /* the log statement is the whole action */
	case IR_HELPER_COPY: { /* a copy for pinholed; the rule decides nothing */
		const struct nft_channel *ch = nft_plan_channel(l->plan, r);
		if (!ch) {
			invalid(l, xstrdup("a copy for pinholed without its channel"));
			break;
		}
		step(l, NS_NFLOG)->u.log_prefix = ch->prefix;
		break;
	}
	case IR_SET_ADD: { /* add the peer, or refresh its timer; the rule decides nothing */
		const char *set = nft_plan_dynset_name(l->plan, r->add_set.name);
		if (!set || !r->family) {
			invalid(l, xstrdup("a dynamic set update without its set or family"));
			break;
		}
		need_nfproto(l);
		s = step(l, NS_SET_UPDATE);
		s->src = r->add_set.src;
		s->u.set = set;
		break;
	}
	case IR_DNAT:
	case IR_SNAT:
		/* `dnat ip to`: the family of the new address, which the rule must already match */
		if ((r->hook != IR_DSTNAT) == (r->action == IR_DNAT) || !r->family ||
		    r->nat.addr.family != r->family) {
			invalid(l, xstrdup("an address translation outside its chain or family"));
			break;
		}
		need_nfproto(l);
		s = step(l, NS_NAT);
		s->u.nat.to = &r->nat;
		s->u.nat.dst = r->action == IR_DNAT;
		s->proto = ir_rule_proto(r);
		if (r->nat.port && s->proto != IR_TCP && s->proto != IR_UDP)
			invalid(l, xstrdup("a port translation without TCP or UDP"));
		break;
	case IR_MASQUERADE:
		if (r->hook != IR_SRCNAT) {
			invalid(l, xstrdup("a masquerade outside the srcnat chain"));
			break;
		}
		step(l, NS_MASQUERADE);
		break;
	}
}

char *nft_rule_comment(const struct ir_rule *r)
{
	char *desc = ir_origin_describe(&r->origin);
	if (strlen(desc) > NFT_COMMENT_MAX)
		desc[NFT_COMMENT_MAX] = '\0';
	util_quote_safe(desc);
	return desc;
}

/* nft_lower_rule, with its comment or without (the plan words them after merging). */
static bool lower_rule(const struct nft_plan *p, const struct ir_rule *r, struct nft_lowered *out,
		       char **why, bool comment)
{
	memset(out, 0, sizeof(*out));
	out->rule = r;
	/* The steps in the scratch, and at the end exactly what they took in a block of their
	 * own: a plan holds one lowered rule per IR rule. */
	struct nft_step scratch[LOWER_SCRATCH];
	struct lower l = {.plan = p, .r = r, .out = out, .scratch = scratch};
	out->steps.v = l.scratch;
	out->steps.cap = LOWER_SCRATCH;
	bool addrs = ir_match_get(r, IR_M_SADDR) || ir_match_get(r, IR_M_DADDR) ||
		     ir_match_get(r, IR_M_IN_SET);
	uint8_t proto = ir_rule_proto(r);
	bool nfproto_first = r->family && !addrs && proto != IR_ICMP && proto != IR_ICMPV6;
	for (size_t i = 0; i < r->match.n; i++) {
		const struct ir_match *m = &r->match.v[i];
		/* `meta nfproto` when the family is all that says it: after the interfaces. */
		if (nfproto_first && m->kind > IR_M_OIF && !l.nfproto) {
			struct nft_step *s = step(&l, NS_NFPROTO);
			s->u.nfproto = r->family;
			l.nfproto = r->family;
		}
		lower_match(&l, m);
	}
	if (nfproto_first && !l.nfproto) {
		struct nft_step *s = step(&l, NS_NFPROTO);
		s->u.nfproto = r->family;
		l.nfproto = r->family;
	}
	lower_action(&l);
	if (out->steps.v == l.scratch) {
		out->steps.v = out->steps.n ? xmalloc(out->steps.n * sizeof(*out->steps.v)) : NULL;
		if (out->steps.n)
			memcpy(out->steps.v, l.scratch, out->steps.n * sizeof(*out->steps.v));
		out->steps.cap = out->steps.n;
	} else if (out->steps.n < out->steps.cap) {
		out->steps.v = xrealloc(out->steps.v, out->steps.n * sizeof(*out->steps.v));
		out->steps.cap = out->steps.n;
	}
	if (comment)
		out->comment = nft_rule_comment(r);
	if (why)
		*why = l.why;
	else
		free(l.why);
	return !l.why;
}

bool nft_lower_rule(const struct nft_plan *p, const struct ir_rule *r, struct nft_lowered *out,
		    char **why)
{
	return lower_rule(p, r, out, why, !p->no_comments);
}

void nft_lowered_free(struct nft_lowered *l)
{
	for (size_t i = 0; i < l->steps.n; i++)
		if (l->steps.v[i].kind == NS_LOG)
			free((char *)l->steps.v[i].u.log_prefix);
	VEC_FREE(l->steps);
	free(l->comment);
	if (l->setm) {
		free(l->setm->name);
		VEC_FREE(l->setm->elems);
		for (size_t i = 0; i < l->setm->members.n; i++)
			free(l->setm->members.v[i].comment);
		VEC_FREE(l->setm->members);
		free(l->setm);
	}
	if (l->disp) {
		for (size_t i = 0; i < l->disp->jumps.n; i++)
			free(l->disp->jumps.v[i].comment);
		VEC_FREE(l->disp->jumps);
		free(l->disp);
	}
	memset(l, 0, sizeof(*l));
}

const struct ir_rule *nft_check(const struct ir_ruleset *rs, char **why)
{
	struct nft_plan p;
	nft_plan_build(rs, &p);
	p.no_comments = true;
	const struct ir_rule *bad = NULL;
	*why = NULL;
	for (size_t i = 0; i < rs->rules.n && !bad; i++) {
		struct nft_lowered lr;
		if (!nft_lower_rule(&p, &rs->rules.v[i], &lr, why))
			bad = &rs->rules.v[i];
		nft_lowered_free(&lr);
	}
	nft_plan_free(&p);
	return bad;
}
