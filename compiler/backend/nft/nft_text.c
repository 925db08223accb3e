/* nftables text backend: one table of pinhole's own, replaced atomically by `nft -f`. */
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "icmp.h"
#include "nft_lower.h"

static const char *fam_kw(uint8_t family)
{
	return family == IR_V6 ? "ip6" : "ip";
}

static void put_prefixes(struct strbuf *sb, const struct ir_prefix *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		ir_prefix_format(&v[i], buf, sizeof(buf));
		if (i)
			sb_puts(sb, ", ");
		sb_puts(sb, buf);
	}
}

static void put_range(struct strbuf *sb, const struct ir_portrange *r)
{
	sb_putu(sb, r->lo);
	if (r->lo != r->hi) {
		sb_putc(sb, '-');
		sb_putu(sb, r->hi);
	}
}

static void put_ports(struct strbuf *sb, const char *proto, const char *dir, const struct ir_portset *p)
{
	sb_printf(sb, "%s %s ", proto, dir);
	if (p->n == 1) {
		put_range(sb, &p->v[0]);
	} else {
		sb_puts(sb, "{ ");
		for (size_t i = 0; i < p->n; i++) {
			if (i)
				sb_puts(sb, ", ");
			put_range(sb, &p->v[i]);
		}
		sb_puts(sb, " }");
	}
	sb_putc(sb, ' ');
}

static void put_ifaces(struct strbuf *sb, const char *kw, const struct ir_ifset *s)
{
	sb_printf(sb, "%s ", kw);
	if (s->n > 1)
		sb_puts(sb, "{ ");
	for (size_t i = 0; i < s->n; i++)
		sb_printf(sb, "%s\"%s\"", i ? ", " : "", s->v[i]);
	sb_puts(sb, s->n > 1 ? " } " : " ");
}

static void put_flags(struct strbuf *sb, uint8_t flags)
{
	static const struct { uint8_t bit; const char *name; } names[] = {
		{TCPF_FIN, "fin"}, {TCPF_SYN, "syn"}, {TCPF_RST, "rst"},
		{TCPF_PSH, "psh"}, {TCPF_ACK, "ack"}, {TCPF_URG, "urg"},
	};
	bool first = true;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].bit))
			continue;
		sb_printf(sb, "%s%s", first ? "" : " | ", names[i].name);
		first = false;
	}
}

static void put_ct_state(struct strbuf *sb, uint8_t st)
{
	static const char *const names[] = {"new", "established", "related", "invalid"};
	bool first = true;
	sb_puts(sb, "ct state ");
	for (int i = 0; i < 4; i++) {
		if (!(st & (1 << i)))
			continue;
		sb_printf(sb, "%s%s", first ? "" : ",", names[i]);
		first = false;
	}
	sb_putc(sb, ' ');
}

static const char *proto_kw(uint8_t proto)
{
	return proto == IR_UDP ? "udp" : "tcp";
}

/* The mask of a prefix length, as nft writes it (255.255.255.0, ffff:ffff::). */
static void put_mask(struct strbuf *sb, uint8_t family, uint8_t len)
{
	struct ir_prefix p = {.family = family, .len = family == IR_V6 ? 128 : 32};
	for (unsigned bit = 0; bit < len; bit++)
		p.addr[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
	put_prefixes(sb, &p, 1);
}

static void put_field(struct strbuf *sb, const struct nft_setmatch *m, size_t i)
{
	enum nft_field f = m->field[i];
	switch (f) {
	case NF_SADDR: sb_printf(sb, "%s saddr", fam_kw(m->family)); break;
	case NF_DADDR: sb_printf(sb, "%s daddr", fam_kw(m->family)); break;
	case NF_SPORT: sb_printf(sb, "%s sport", proto_kw(m->proto)); break;
	case NF_DPORT: sb_printf(sb, "%s dport", proto_kw(m->proto)); break;
	}
	if (m->masklen[i]) {
		sb_puts(sb, " & ");
		put_mask(sb, m->family, m->masklen[i]);
	}
}

static void put_value(struct strbuf *sb, enum nft_field f, const union nft_value *v, bool masked)
{
	switch (f) {
	case NF_SADDR:
	case NF_DADDR:
		if (masked) { /* the network address alone: the mask is in the key */
			struct ir_prefix p = v->prefix;
			p.len = p.family == IR_V6 ? 128 : 32;
			put_prefixes(sb, &p, 1);
		} else {
			put_prefixes(sb, &v->prefix, 1);
		}
		break;
	case NF_SPORT:
	case NF_DPORT:
		put_range(sb, &v->ports);
		break;
	}
}

/* The elements of a merged set, one a line, each with the rule it stands for. */
static void put_elems(struct strbuf *sb, const struct nft_setmatch *m, const char *indent)
{
	for (size_t i = 0; i < m->elems.n; i++) {
		const struct nft_elem *e = &m->elems.v[i];
		sb_puts(sb, i ? ",\n" : "\n");
		sb_puts(sb, indent);
		for (size_t f = 0; f < m->nfields; f++) {
			if (f)
				sb_puts(sb, " . ");
			put_value(sb, m->field[f], &e->v[f], m->masklen[f] != 0);
		}
		sb_puts(sb, " comment \"");
		sb_puts(sb, nft_elem_comment(m, e));
		sb_putc(sb, '"');
		sb_spill(sb);
	}
}

/* nft_shown_rule lists at most this many of a rule's elements. */
#define SHOWN_ELEMS_MAX 8
/* Set while nft_shown_rule renders one rule: an anonymous set is written "{ ... N elements }"
 * (one line; the elements that matter are listed apart); clear while a ruleset is rendered. */
static bool elide_elems;

static void put_set_match(struct strbuf *sb, const struct nft_setmatch *m)
{
	for (size_t f = 0; f < m->nfields; f++) {
		if (f)
			sb_puts(sb, " . ");
		put_field(sb, m, f);
	}
	if (m->name) {
		sb_printf(sb, " @%s ", m->name);
		return;
	}
	if (elide_elems) {
		sb_printf(sb, " { ... %zu elements } ", m->elems.n);
		return;
	}
	sb_puts(sb, " {");
	put_elems(sb, m, "\t\t\t");
	sb_puts(sb, "\n\t\t} ");
}

/* One step in nft syntax, followed by a blank. The dependencies nft adds by itself are left
 * out, as nft itself would print them. */
static void put_step(struct strbuf *sb, const struct nft_step *s)
{
	switch (s->kind) {
	case NS_NFPROTO:
		if (!s->implicit)
			sb_printf(sb, "meta nfproto %s ", s->u.nfproto == IR_V6 ? "ipv6" : "ipv4");
		break;
	case NS_L4PROTO:
		if (!s->implicit)
			sb_printf(sb, "meta l4proto %s ", ir_proto_name(s->u.l4proto));
		break;
	case NS_IFNAME:
		put_ifaces(sb, s->src ? "iifname" : "oifname", s->u.ifs);
		break;
	case NS_ADDR:
		sb_printf(sb, "%s %s ", fam_kw(s->family), s->src ? "saddr" : "daddr");
		if (s->u.addr.set) {
			sb_printf(sb, "@%s", s->u.addr.set);
		} else if (s->u.addr.addrs->n == 1) {
			put_prefixes(sb, s->u.addr.addrs->v, 1);
		} else {
			sb_puts(sb, "{ ");
			put_prefixes(sb, s->u.addr.addrs->v, s->u.addr.addrs->n);
			sb_puts(sb, " }");
		}
		sb_putc(sb, ' ');
		break;
	case NS_SET_LOOKUP:
		sb_printf(sb, "%s %s @%s ", fam_kw(s->family), s->src ? "saddr" : "daddr", s->u.set);
		break;
	case NS_PINHOLE_LOOKUP: {
		const char *fk = fam_kw(s->family), *pk = proto_kw(s->proto);
		if (s->u.pinhole.peerless) { /* a relayed offer's sender: any peer */
			sb_printf(sb, "%s %s . meta l4proto . %s %s @%s ", fk, s->src ? "daddr" : "saddr",
				  pk, s->u.pinhole.port_src ? "sport" : "dport", s->u.pinhole.set);
			break;
		}
		sb_printf(sb, "%s %s . %s %s . meta l4proto . %s %s @%s ", fk, s->src ? "saddr" : "daddr",
			  fk, s->src ? "daddr" : "saddr", pk, s->u.pinhole.port_src ? "sport" : "dport",
			  s->u.pinhole.set);
		break;
	}
	case NS_FRAGMENT:
		sb_puts(sb, s->family == IR_V6 ? "frag frag-off != 0 " : "ip frag-off & 0x1fff != 0 ");
		break;
	case NS_PORTS:
		put_ports(sb, proto_kw(s->proto), s->src ? "sport" : "dport", s->u.ports);
		break;
	case NS_PORT_PAIR:
		sb_printf(sb, "%s sport %u %s dport %u ", proto_kw(s->proto), s->u.pair.sport,
			  proto_kw(s->proto), s->u.pair.dport);
		break;
	case NS_SAME_PORT: {
		const char *pr = proto_kw(s->proto);
		sb_printf(sb, "%s sport . %s dport { ", pr, pr);
		bool first = true;
		for (size_t i = 0; i < s->u.ports->n; i++)
			for (unsigned p = s->u.ports->v[i].lo; p <= s->u.ports->v[i].hi; p++) {
				sb_printf(sb, "%s%u . %u", first ? "" : ", ", p, p);
				first = false;
			}
		sb_puts(sb, " } ");
		break;
	}
	case NS_TCP_FLAGS:
		sb_puts(sb, "tcp flags & (");
		put_flags(sb, s->u.flags.mask);
		if (s->u.flags.any) {
			sb_puts(sb, ") != 0 ");
			break;
		}
		sb_puts(sb, ") == ");
		if (s->u.flags.cmp)
			put_flags(sb, s->u.flags.cmp);
		else
			sb_puts(sb, "0x0");
		sb_putc(sb, ' ');
		break;
	case NS_ICMP_TYPE: {
		const char *name = icmp_type_name(s->u.icmp_type, s->family);
		const char *kw = s->proto == IR_ICMPV6 ? "icmpv6" : "icmp";
		if (name)
			sb_printf(sb, "%s type %s ", kw, name);
		else
			sb_printf(sb, "%s type %d ", kw, s->u.icmp_type);
		break;
	}
	case NS_CT_STATE:
		put_ct_state(sb, s->u.ct_state);
		break;
	case NS_CT_HELPER:
		sb_printf(sb, "ct helper \"%s\" ", s->u.ct_helper);
		break;
	case NS_FIB_LOCAL:
		sb_puts(sb, "fib daddr type local ");
		break;
	case NS_CT_DNAT:
		sb_puts(sb, "ct status dnat ");
		break;
	case NS_SET_MATCH:
		put_set_match(sb, s->u.setm);
		break;
	case NS_LOG:
		sb_printf(sb, "log prefix \"%s\" ", s->u.log_prefix);
		if (s->u.logopt && s->u.logopt->nflog)
			sb_printf(sb, "group %u ", s->u.logopt->group);
		else if (s->u.logopt && s->u.logopt->level_set)
			sb_printf(sb, "level %s ", ir_log_level_name(s->u.logopt->level));
		break;
	case NS_LIMIT: {
		const struct ir_limit *lim = s->u.limit.l;
		if (s->u.limit.meter)
			sb_printf(sb, "update @%s { %s saddr ", s->u.limit.meter, fam_kw(s->family));
		sb_printf(sb, "limit rate %u/%s burst %u packets ", lim->rate, ir_rate_unit_name(lim->unit),
			  lim->burst);
		if (s->u.limit.meter)
			sb_puts(sb, "} ");
		break;
	}
	case NS_NFLOG:
		sb_printf(sb, "log prefix \"%s\" group %d snaplen %d ", s->u.log_prefix,
			  NFT_PINHOLED_GROUP, NFT_PINHOLED_SNAPLEN);
		break;
	case NS_ACCEPT:
		sb_puts(sb, "accept ");
		break;
	case NS_DROP:
		sb_puts(sb, "drop ");
		break;
	case NS_REJECT:
		sb_puts(sb, s->u.reject == NFT_REJECT_TCP_RESET ? "reject with tcp reset " : "reject ");
		break;
	case NS_HELPER_SET:
		sb_printf(sb, "ct helper set \"%s\" ", s->u.helper_obj);
		break;
	case NS_SET_UPDATE:
		sb_printf(sb, "update @%s { %s %s } ", s->u.set, fam_kw(s->family),
			  s->src ? "saddr" : "daddr");
		break;
	case NS_NAT: {
		char a[64];
		const struct ir_nat *n = s->u.nat.to;
		ir_prefix_format(&n->addr, a, sizeof(a));
		sb_printf(sb, "%s %s to ", s->u.nat.dst ? "dnat" : "snat", fam_kw(s->family));
		if (!n->port)
			sb_printf(sb, "%s ", a);
		else if (s->family == IR_V6)
			sb_printf(sb, "[%s]:%u ", a, n->port);
		else
			sb_printf(sb, "%s:%u ", a, n->port);
		break;
	}
	case NS_MASQUERADE:
		sb_puts(sb, "masquerade ");
		break;
	}
}

/* A dispatch map's key expression, and one element's key. */
static void put_dispatch_key(struct strbuf *sb, const struct nft_dispatch *d)
{
	if (d->l4proto) {
		sb_puts(sb, "meta l4proto");
		return;
	}
	if (d->family)
		sb_puts(sb, d->iif || d->oif ? "meta nfproto . " : "meta nfproto");
	sb_puts(sb, d->iif && d->oif ? "iifname . oifname" : d->iif ? "iifname" : "oifname");
}

static void put_jump_key(struct strbuf *sb, const struct nft_jump *j)
{
	if (j->l4proto)
		sb_puts(sb, ir_proto_name(j->l4proto));
	if (j->family)
		sb_puts(sb, j->family == IR_V6 ? "ipv6 . " : "ipv4 . ");
	if (j->iif)
		sb_printf(sb, "\"%s\"%s", j->iif, j->oif ? " . " : "");
	if (j->oif)
		sb_printf(sb, "\"%s\"", j->oif);
}

/* A dispatch (interfaces or protocol): the key, then one element a line, each with its chain's first rule. */
static void put_dispatch(struct strbuf *sb, const struct nft_dispatch *d)
{
	put_dispatch_key(sb, d);
	sb_puts(sb, " vmap {");
	for (size_t i = 0; i < d->jumps.n; i++) {
		const struct nft_jump *j = &d->jumps.v[i];
		sb_puts(sb, i ? ",\n\t\t\t" : "\n\t\t\t");
		sb_spill(sb);
		put_jump_key(sb, j);
		sb_printf(sb, " comment \"%s\" : jump %s", j->comment, j->chain);
	}
	sb_puts(sb, "\n\t\t} ");
}

/* The rule's steps into sb, without the trailing blank. With sb->spill set, the elements of a
 * big set have been written out on the way (the verdict after them is never cut). */
static void put_lowered(struct strbuf *sb, const struct nft_lowered *l)
{
	if (l->disp)
		put_dispatch(sb, l->disp);
	for (size_t i = 0; i < l->steps.n; i++)
		put_step(sb, &l->steps.v[i]);
	while (sb->len && sb->s[sb->len - 1] == ' ')
		sb->s[--sb->len] = '\0';
}

static char *lowered_text(const struct nft_lowered *l)
{
	struct strbuf sb = {0};
	put_lowered(&sb, l);
	return sb_steal(&sb);
}

char *nft_rule_text(const struct ir_ruleset *rs, const struct ir_rule *r)
{
	struct nft_plan p;
	nft_plan_build(rs, &p);
	struct nft_lowered l;
	nft_lower_rule(&p, r, &l, NULL);
	char *text = lowered_text(&l);
	nft_lowered_free(&l);
	nft_plan_free(&p);
	return text;
}

/* Does element e (of m) hold packet p's values? */
static bool elem_hits(const struct nft_setmatch *m, const struct nft_elem *e, const struct ir_packet *p)
{
	for (size_t f = 0; f < m->nfields; f++) {
		const union nft_value *v = &e->v[f];
		switch (m->field[f]) {
		case NF_SADDR:
			if (!ir_prefix_contains(&v->prefix, p->family, p->saddr))
				return false;
			break;
		case NF_DADDR:
			if (!ir_prefix_contains(&v->prefix, p->family, p->daddr))
				return false;
			break;
		case NF_SPORT:
			if (p->sport < v->ports.lo || p->sport > v->ports.hi)
				return false;
			break;
		case NF_DPORT:
			if (p->dport < v->ports.lo || p->dport > v->ports.hi)
				return false;
			break;
		}
	}
	return true;
}

static void put_elem(struct strbuf *sb, const struct nft_setmatch *m, const struct nft_elem *e)
{
	for (size_t f = 0; f < m->nfields; f++) {
		if (f)
			sb_puts(sb, " . ");
		put_value(sb, m->field[f], &e->v[f], m->masklen[f] != 0);
	}
	sb_printf(sb, " comment \"%s\"", nft_elem_comment(m, e));
}

/* r's elements of m, those p hits if any does (a rule of several ports: the one it used). */
static char *shown_elements(const struct nft_setmatch *m, const struct ir_rule *r, const struct ir_packet *p)
{
	bool any_hit = false;
	for (size_t i = 0; p && i < m->elems.n; i++)
		any_hit |= nft_elem_rule(m, &m->elems.v[i]) == r && elem_hits(m, &m->elems.v[i], p);
	struct strbuf sb = {0};
	size_t shown = 0, more = 0;
	for (size_t i = 0; i < m->elems.n; i++) {
		const struct nft_elem *e = &m->elems.v[i];
		if (nft_elem_rule(m, e) != r || (any_hit && !elem_hits(m, e, p)))
			continue;
		if (shown++ >= SHOWN_ELEMS_MAX) {
			more++;
			continue;
		}
		if (sb.len)
			sb_putc(&sb, '\n');
		put_elem(&sb, m, e);
	}
	if (more)
		sb_printf(&sb, "\n... and %zu more", more);
	if (m->name)
		sb_printf(&sb, "%s(in set %s)", sb.len ? "  " : "", m->name);
	return sb_steal(&sb);
}

static char *shown_via(const struct nft_lowered *via, const char *chain, enum ir_hook h)
{
	const struct nft_dispatch *d = via->disp;
	struct strbuf sb = {0};
	put_dispatch_key(&sb, d);
	sb_puts(&sb, " vmap { ");
	for (size_t i = 0; i < d->jumps.n; i++) {
		const struct nft_jump *j = &d->jumps.v[i];
		if (strcmp(j->chain, chain) != 0)
			continue;
		put_jump_key(&sb, j);
		sb_printf(&sb, " comment \"%s\" : jump %s", j->comment, j->chain);
	}
	if (d->jumps.n > 1)
		sb_printf(&sb, ", ... %zu more", d->jumps.n - 1);
	sb_printf(&sb, " } comment \"%s\"  (chain %s)", via->comment, ir_hook_name(h));
	return sb_steal(&sb);
}

struct nft_plan *nft_shown_plan(const struct ir_ruleset *rs)
{
	struct nft_plan *plan = xmalloc(sizeof(*plan));
	nft_plan_build(rs, plan);
	nft_plan_rules(rs, plan, NULL);
	return plan;
}

void nft_shown_plan_free(struct nft_plan *p)
{
	if (!p)
		return;
	nft_plan_free(p);
	free(p);
}

void nft_shown_rule(const struct nft_plan *plan, const struct ir_ruleset *rs, const struct ir_rule *r,
		    const struct ir_packet *p, struct nft_shown *out)
{
	memset(out, 0, sizeof(*out));
	const struct nft_lowered *via, *l = nft_plan_find(plan, r, &via);
	if (!l) { /* not loaded as such (cannot happen for a vetted ruleset): the rule alone */
		out->rule = nft_rule_text(rs, r);
		out->chain = xstrdup(ir_hook_name(r->hook));
		return;
	}
	struct strbuf sb = {0};
	elide_elems = true;
	put_lowered(&sb, l);
	elide_elems = false;
	sb_printf(&sb, " comment \"%s\"", l->comment);
	out->rule = sb_steal(&sb);
	out->chain = xstrdup(l->chain ? l->chain : ir_hook_name(r->hook));
	if (l->setm)
		out->elements = shown_elements(l->setm, r, p);
	if (via)
		out->via = shown_via(via, l->chain, r->hook);
}

void nft_shown_free(struct nft_shown *s)
{
	free(s->rule);
	free(s->chain);
	free(s->elements);
	free(s->via);
	memset(s, 0, sizeof(*s));
}

void nft_render(const struct ir_ruleset *rs, const struct render_info *info, FILE *out)
{
	struct nft_plan p;
	nft_plan_build(rs, &p);
	nft_plan_rules(rs, &p, NULL); /* nft_check() has vetted the rules */
	nft_render_plan(rs, &p, info, out);
	nft_plan_free(&p);
}

static void put_rule_line(FILE *out, const struct nft_lowered *l)
{
	struct strbuf sb = {.spill = out};
	fputs("\t\t", out);
	put_lowered(&sb, l);
	fprintf(out, "%s comment \"%s\"\n", sb.s, l->comment);
	sb_free(&sb);
}

void nft_render_plan(const struct ir_ruleset *rs, const struct nft_plan *pp,
		     const struct render_info *info, FILE *out)
{
	const struct nft_plan p = *pp; /* shallow: read only */
	fprintf(out, "# Generated by pinhole %s from %s (%s mode). Do not edit: change the policy.\n",
		info->version, info->policy, rs->stateless ? "stateless" : "stateful");
	fprintf(out, "# Load with: nft -f FILE. Replaces table inet %s in one transaction;\n"
		     "# other tables are left alone.\n", PINHOLE_TABLE);
	fprintf(out, "table inet %s {}\ndelete table inet %s\n\ntable inet %s {\n",
		PINHOLE_TABLE, PINHOLE_TABLE, PINHOLE_TABLE);
	for (size_t i = 0; i < p.helpers.n; i++) {
		const struct nft_helper_obj *h = &p.helpers.v[i];
		fprintf(out, "\tct helper %s {\n\t\ttype \"%s\" protocol %s\n\t\tl3proto inet\n\t}\n\n",
			h->name, h->type, h->proto == IR_UDP ? "udp" : "tcp");
	}
	for (size_t i = 0; i < p.sets.n; i++) {
		const struct nft_named_set *ns = &p.sets.v[i];
		struct strbuf sb = {0};
		put_prefixes(&sb, ns->addrs->v, ns->addrs->n);
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { %s }\n\t}\n\n",
			ns->name, ns->family == IR_V6 ? "ipv6_addr" : "ipv4_addr", sb.s);
		sb_free(&sb);
	}
	for (size_t i = 0; i < p.dynsets.n; i++) {
		/* Filled from the packet path (`update`); each peer expires `timeout` after its
		 * last control packet. */
		const struct ir_dynset *ds = p.dynsets.v[i].ds;
		char t[32];
		ir_duration_format(ds->timeout, t, sizeof(t));
		if (ds->parser) { /* pinholed adds exact pinholes with this timeout */
			const char *a = ds->family == IR_V6 ? "ipv6_addr" : "ipv4_addr";
			if (ds->peerless) /* a relayed offer's sender: local . protocol . port */
				fprintf(out, "\tset %s {\n\t\ttype %s . inet_proto . inet_service\n"
					"\t\tsize %d\n\t\tflags timeout\n\t\ttimeout %s\n\t}\n\n",
					p.dynsets.v[i].name, a, NFT_DYNSET_SIZE, t);
			else
				fprintf(out, "\tset %s {\n\t\ttype %s . %s . inet_proto . inet_service\n"
					"\t\tsize %d\n\t\tflags timeout\n\t\ttimeout %s\n\t}\n\n",
					p.dynsets.v[i].name, a, a, NFT_DYNSET_SIZE, t);
			continue;
		}
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tsize %d\n\t\tflags dynamic,timeout\n"
			"\t\ttimeout %s\n\t}\n\n", p.dynsets.v[i].name,
			ds->family == IR_V6 ? "ipv6_addr" : "ipv4_addr", NFT_DYNSET_SIZE, t);
	}
	for (size_t i = 0; i < p.meters.n; i++) {
		/* A per-source limit: each source's budget; forgotten once it would have refilled. */
		char t[32];
		ir_duration_format(p.meters.v[i].timeout, t, sizeof(t));
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tsize %d\n\t\tflags dynamic,timeout\n"
			"\t\ttimeout %s\n\t}\n\n", p.meters.v[i].name,
			p.meters.v[i].family == IR_V6 ? "ipv6_addr" : "ipv4_addr", NFT_DYNSET_SIZE, t);
	}
	for (size_t i = 0; i < p.merged_sets.n; i++) {
		/* Rules merged into one lookup; each element's comment names the rule it was. */
		const struct nft_setmatch *m = p.merged_sets.v[i];
		bool addr = m->field[0] == NF_SADDR || m->field[0] == NF_DADDR;
		struct strbuf sb = {.spill = out};
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = {",
			m->name, !addr ? "inet_service" : m->family == IR_V6 ? "ipv6_addr" : "ipv4_addr");
		put_elems(&sb, m, "\t\t\t");
		fprintf(out, "%s\n\t\t}\n\t}\n\n", sb.s);
		sb_free(&sb);
	}
	bool first_chain = true;
	for (int hook = 0; hook < IR_HOOK_COUNT; hook++) {
		if (!p.chain[hook])
			continue;
		struct nft_chain_spec cs;
		nft_chain_spec((enum ir_hook)hook, &cs);
		fprintf(out, "%s\tchain %s {\n\t\ttype %s hook %s priority %s; policy %s;\n",
			first_chain ? "" : "\n", cs.name, cs.type, cs.hook, cs.prio_name,
			cs.drop ? "drop" : "accept");
		for (size_t i = 0; i < p.rules[hook].n; i++)
			put_rule_line(out, &p.rules[hook].v[i]);
		fputs("\t}\n", out);
		first_chain = false;
	}
	for (size_t s = 0; s < p.subchains.n; s++) {
		/* an interface's rules of a dispatched run (nft_dispatch.c) */
		const struct nft_subchain *sc = &p.subchains.v[s];
		fprintf(out, "\n\tchain %s {\n", sc->name);
		for (size_t i = 0; i < sc->rules.n; i++)
			put_rule_line(out, &sc->rules.v[i]);
		fputs("\t}\n", out);
	}
	fputs("}\n", out);
}
