/* nftables text backend: one table of pinhole's own, replaced atomically by `nft -f`. */
#include <string.h>

#include "backend.h"
#include "resolve.h"

/* nft's comment limit is 128 bytes; provenance is cut to fit. */
#define NFT_COMMENT_MAX 127

static const char *fam_kw(uint8_t family)
{
	return family == IR_V6 ? "ip6" : "ip";
}

/* Named sets: define and zone names, made nft-safe and suffixed with the family. */
static void set_name(struct strbuf *sb, const char *name, uint8_t family)
{
	for (const char *p = name; *p; p++) {
		char c = *p;
		sb_putc(sb, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
	}
	sb_puts(sb, family == IR_V6 ? "_v6" : "_v4");
}

static void put_prefixes(struct strbuf *sb, const struct ir_prefix *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		ir_prefix_format(&v[i], buf, sizeof(buf));
		sb_printf(sb, "%s%s", i ? ", " : "", buf);
	}
}

static void put_addrs(struct strbuf *sb, const char *dir, uint8_t family, const struct ir_addrset *a)
{
	if (!a->n)
		return;
	sb_printf(sb, "%s %s ", fam_kw(family), dir);
	if (a->name) {
		sb_putc(sb, '@');
		set_name(sb, a->name, family);
	} else if (a->n == 1) {
		put_prefixes(sb, a->v, 1);
	} else {
		sb_puts(sb, "{ ");
		put_prefixes(sb, a->v, a->n);
		sb_puts(sb, " }");
	}
	sb_putc(sb, ' ');
}

static void put_range(struct strbuf *sb, const struct ir_portrange *r)
{
	if (r->lo == r->hi)
		sb_printf(sb, "%u", r->lo);
	else
		sb_printf(sb, "%u-%u", r->lo, r->hi);
}

static void put_ports(struct strbuf *sb, const char *proto, const char *dir, const struct ir_portset *p)
{
	if (!p->n)
		return;
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
	if (!s->n)
		return;
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

static void put_verdict(struct strbuf *sb, const struct ir_rule *r)
{
	if (r->log && r->log_prefix)
		sb_printf(sb, "log prefix \"%s\" ", r->log_prefix);
	switch (r->action) {
	case IR_ACCEPT: sb_puts(sb, "accept"); break;
	case IR_DROP: sb_puts(sb, "drop"); break;
	case IR_REJECT: sb_puts(sb, r->l4proto == IR_TCP ? "reject with tcp reset" : "reject"); break;
	case IR_SET_HELPER: sb_printf(sb, "ct helper set \"%s\"", r->helper); break;
	case IR_LOG: break; /* the log statement above is the whole action */
	case IR_SET_ADD: /* add the peer, or refresh its timer; the rule decides nothing */
		sb_printf(sb, "update @%s { %s %s }", r->add_set.name, fam_kw(r->family),
			  r->add_set.src ? "saddr" : "daddr");
		break;
	}
	while (sb->len && sb->s[sb->len - 1] == ' ')
		sb->s[--sb->len] = '\0';
}

char *nft_rule_text(const struct ir_rule *r)
{
	struct strbuf sb = {0};
	put_ifaces(&sb, "iifname", &r->iif);
	put_ifaces(&sb, "oifname", &r->oif);
	bool addrs = r->saddr.n || r->daddr.n || r->in_set.name;
	if (r->family && !addrs && r->l4proto != IR_ICMP && r->l4proto != IR_ICMPV6)
		sb_printf(&sb, "meta nfproto %s ", r->family == IR_V6 ? "ipv6" : "ipv4");
	put_addrs(&sb, "saddr", r->family, &r->saddr);
	put_addrs(&sb, "daddr", r->family, &r->daddr);
	if (r->in_set.name)
		sb_printf(&sb, "%s %s @%s ", fam_kw(r->family), r->in_set.src ? "saddr" : "daddr",
			  r->in_set.name);
	if (r->fragment)
		sb_puts(&sb, r->family == IR_V6 ? "frag frag-off != 0 " : "ip frag-off & 0x1fff != 0 ");
	const char *proto = r->l4proto == IR_UDP ? "udp" : "tcp";
	bool l4_implied = false;
	if (r->same_port) {
		/* nft cannot compare two header fields, so "to=from" is a set of port pairs. */
		sb_printf(&sb, "%s sport . %s dport { ", proto, proto);
		bool first = true;
		for (size_t i = 0; i < r->sport.n; i++)
			for (unsigned p = r->sport.v[i].lo; p <= r->sport.v[i].hi; p++) {
				sb_printf(&sb, "%s%u . %u", first ? "" : ", ", p, p);
				first = false;
			}
		sb_puts(&sb, " } ");
		l4_implied = true;
	} else if (r->sport.n || r->dport.n) {
		put_ports(&sb, proto, "sport", &r->sport);
		put_ports(&sb, proto, "dport", &r->dport);
		l4_implied = true;
	}
	if (r->l4proto == IR_TCP && (r->tcp_flags_mask || r->tcp_flags_any)) {
		if (r->tcp_flags_mask) {
			sb_puts(&sb, "tcp flags & (");
			put_flags(&sb, r->tcp_flags_mask);
			sb_puts(&sb, ") == ");
			if (r->tcp_flags_cmp)
				put_flags(&sb, r->tcp_flags_cmp);
			else
				sb_puts(&sb, "0x0");
			sb_putc(&sb, ' ');
		}
		if (r->tcp_flags_any) {
			sb_puts(&sb, "tcp flags & (");
			put_flags(&sb, r->tcp_flags_any);
			sb_puts(&sb, ") != 0 ");
		}
		l4_implied = true;
	}
	if (r->icmp_type >= 0) {
		const char *name = icmp_type_name(r->icmp_type, r->family);
		const char *kw = r->l4proto == IR_ICMPV6 ? "icmpv6" : "icmp";
		if (name)
			sb_printf(&sb, "%s type %s ", kw, name);
		else
			sb_printf(&sb, "%s type %d ", kw, r->icmp_type);
		l4_implied = true;
	}
	if (r->l4proto && !l4_implied)
		sb_printf(&sb, "meta l4proto %s ", ir_proto_name(r->l4proto));
	if (r->ct_state)
		put_ct_state(&sb, r->ct_state);
	if (r->ct_helper)
		sb_printf(&sb, "ct helper \"%s\" ", r->ct_helper);
	put_verdict(&sb, r);
	return sb_steal(&sb);
}

char *nft_rule_comment(const struct ir_rule *r)
{
	char *desc = ir_origin_describe(&r->origin);
	size_t n = strlen(desc);
	if (n > NFT_COMMENT_MAX)
		desc[NFT_COMMENT_MAX] = '\0';
	quote_safe(desc);
	return desc;
}

static void put_comment(FILE *out, const struct ir_rule *r)
{
	char *desc = nft_rule_comment(r);
	fprintf(out, " comment \"%s\"", desc);
	free(desc);
}

char *nft_set_name(const char *name, uint8_t family)
{
	struct strbuf sb = {0};
	set_name(&sb, name, family);
	return sb_steal(&sb);
}

void nft_collect_sets(const struct ir_ruleset *rs, named_sets *sets)
{
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_addrset *as[2] = {&rs->rules.v[i].saddr, &rs->rules.v[i].daddr};
		for (int k = 0; k < 2; k++) {
			if (!as[k]->name || !as[k]->n)
				continue;
			bool seen = false;
			for (size_t j = 0; j < sets->n; j++)
				if (!strcmp(sets->v[j].name, as[k]->name) && sets->v[j].family == rs->rules.v[i].family)
					seen = true;
			if (!seen)
				VEC_PUSH(*sets, ((struct named_set){as[k]->name, rs->rules.v[i].family, as[k]}));
		}
	}
}

static const char *const chain_prio = "filter";

void nft_render(const struct ir_ruleset *rs, const struct render_info *info, FILE *out)
{
	fprintf(out, "# Generated by pinhole %s from %s (%s mode). Do not edit: change the policy.\n",
		info->version, info->policy, rs->stateless ? "stateless" : "stateful");
	fprintf(out, "# Load with: nft -f FILE. Replaces table inet %s in one transaction;\n"
		     "# other tables are left alone.\n", PINHOLE_TABLE);
	fprintf(out, "table inet %s {}\ndelete table inet %s\n\ntable inet %s {\n",
		PINHOLE_TABLE, PINHOLE_TABLE, PINHOLE_TABLE);
	for (size_t i = 0; i < rs->helpers.n; i++) {
		const struct ir_helper *h = &rs->helpers.v[i];
		fprintf(out, "\tct helper %s {\n\t\ttype \"%s\" protocol %s\n\t\tl3proto inet\n\t}\n\n",
			h->name, h->type, h->l4proto == IR_UDP ? "udp" : "tcp");
	}
	named_sets sets = {0};
	nft_collect_sets(rs, &sets);
	for (size_t i = 0; i < sets.n; i++) {
		struct strbuf sb = {0};
		set_name(&sb, sets.v[i].name, sets.v[i].family);
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n\t\telements = { ", sb.s,
			sets.v[i].family == IR_V6 ? "ipv6_addr" : "ipv4_addr");
		sb_free(&sb);
		put_prefixes(&sb, sets.v[i].set->v, sets.v[i].set->n);
		fprintf(out, "%s }\n\t}\n\n", sb.s);
		sb_free(&sb);
	}
	VEC_FREE(sets);
	for (size_t i = 0; i < rs->dynsets.n; i++) {
		/* Filled from the packet path (`update`); each peer expires `timeout` after its
		 * last control packet. */
		const struct ir_dynset *ds = &rs->dynsets.v[i];
		char t[32];
		ir_duration_format(ds->timeout, t, sizeof(t));
		fprintf(out, "\tset %s {\n\t\ttype %s\n\t\tsize %d\n\t\tflags dynamic,timeout\n"
			"\t\ttimeout %s\n\t}\n\n", ds->name, ds->family == IR_V6 ? "ipv6_addr" : "ipv4_addr",
			NFT_DYNSET_SIZE, t);
	}
	static const enum ir_hook order[] = {IR_PREROUTING, IR_INPUT, IR_FORWARD, IR_OUTPUT};
	bool first_chain = true;
	for (size_t h = 0; h < 4; h++) {
		enum ir_hook hook = order[h];
		bool any = false;
		for (size_t i = 0; i < rs->rules.n && !any; i++)
			any = rs->rules.v[i].hook == hook;
		if (hook == IR_PREROUTING && !any)
			continue; /* only needed for helper assignment */
		fprintf(out, "%s\tchain %s {\n\t\ttype filter hook %s priority %s; policy %s;\n",
			first_chain ? "" : "\n", ir_hook_name(hook), ir_hook_name(hook),
			chain_prio, hook == IR_PREROUTING ? "accept" : "drop");
		for (size_t i = 0; i < rs->rules.n; i++) {
			const struct ir_rule *r = &rs->rules.v[i];
			if (r->hook != hook)
				continue;
			char *text = nft_rule_text(r);
			fprintf(out, "\t\t%s", text);
			free(text);
			put_comment(out, r);
			fputc('\n', out);
		}
		fputs("\t}\n", out);
		first_chain = false;
	}
	fputs("}\n", out);
}
