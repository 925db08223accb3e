/* Writes an app flow back in the policy language (for `pinhole apps` and `explain`). */
#include "cli.h"

static void put_ports(struct strbuf *sb, const char *kw, const struct ast_ports *p)
{
	if (p->same) {
		sb_printf(sb, " %s same", kw);
		return;
	}
	if (!p->r.n)
		return;
	sb_printf(sb, " %s ", kw);
	for (size_t i = 0; i < p->r.n; i++) {
		const struct ir_portrange *r = &p->r.v[i];
		if (r->lo == r->hi)
			sb_printf(sb, "%s%u", i ? ", " : "", r->lo);
		else
			sb_printf(sb, "%s%u-%u", i ? ", " : "", r->lo, r->hi);
	}
}

char *flow_format(const struct ast_flow *f)
{
	struct strbuf sb = {0};
	sb_printf(&sb, "%s %s %s", ast_role_name(f->from), f->both_ways ? "<->" : "->", ast_role_name(f->to));
	const char *sep = " ";
	if (f->protos & PROTO_BIT_TCP) {
		sb_printf(&sb, "%stcp", sep);
		sep = ", ";
	}
	if (f->protos & PROTO_BIT_UDP) {
		sb_printf(&sb, "%sudp", sep);
		sep = ", ";
	}
	if (f->protos & PROTO_BIT_ESP) {
		sb_printf(&sb, "%sesp", sep);
		sep = ", ";
	}
	if (f->protos & PROTO_BIT_ICMP)
		sb_printf(&sb, "%sicmp", sep);
	if (f->protos & PROTO_BIT_ALL)
		sb_printf(&sb, "%severy protocol", sep);
	put_ports(&sb, "sport", &f->sport);
	put_ports(&sb, "dport", &f->dport);
	for (size_t i = 0; i < f->icmp_types.n; i++)
		sb_printf(&sb, "%s%s", i ? ", " : " type ", f->icmp_types.v[i].text);
	if (f->helper.text)
		sb_printf(&sb, " helper \"%s\"", f->helper.text);
	if (f->related.text)
		sb_printf(&sb, " related \"%s\"", f->related.text);
	if (f->is_negotiated)
		sb_printf(&sb, " negotiated%s%s", f->negotiated.text[0] ? " " : "", f->negotiated.text);
	for (size_t i = 0; i < f->on.n; i++)
		sb_printf(&sb, "%s%s", i ? ", " : " on ", f->on.v[i].text);
	if (f->program)
		sb_printf(&sb, " program %u", f->program);
	if (f->timeout) {
		char t[32];
		ir_duration_format(f->timeout, t, sizeof(t));
		sb_printf(&sb, " timeout %s", t);
	}
	if (f->broadcast)
		sb_puts(&sb, " broadcast");
	if (f->fragments)
		sb_puts(&sb, " fragments");
	if (f->unaddressed)
		sb_puts(&sb, " unaddressed");
	if (f->relayed)
		sb_puts(&sb, " relayed");
	if (f->reject)
		sb_puts(&sb, " reject");
	return sb_steal(&sb);
}
