/* Stateless mode ("established only"): the mirrored return rules, fragments, and the
 * warnings that name each hole a flow needing state opens without it. */
#include <stdlib.h>
#include <string.h>

#include "expand_int.h"
#include "scope.h"

static enum ir_hook reverse_hook(enum ir_hook h)
{
	return h == IR_INPUT ? IR_OUTPUT : h == IR_OUTPUT ? IR_INPUT : h;
}

/* Stateless mode: large datagrams arrive as fragments, and only the first one has ports.
 * Admit the non-first fragments of this flow's protocol between the same peers. */
static void emit_fragments(struct exp *x, const struct ir_rule *base)
{
	uint8_t proto = ir_rule_proto(base);
	if (proto == IR_ICMP || proto == IR_ICMPV6)
		return;
	for (int fam = IR_V4; fam <= IR_V6; fam += 2) {
		if (base->family && base->family != fam)
			continue;
		struct ir_rule fr = ir_rule_copy(base);
		fr.family = (uint8_t)fam;
		ir_match_del(&fr, IR_M_SPORT);
		ir_match_del(&fr, IR_M_DPORT);
		ir_match_del(&fr, IR_M_SAME_PORT);
		ir_match_del(&fr, IR_M_TCP_FLAGS_ANY);
		ir_match_put(&fr, IR_M_FRAGMENT);
		expand_push(x, G_ALLOW, &fr);
	}
}

/* Stateless mode: the mirrored rule that admits the responder's answers. */
void expand_reply(struct exp *x, const struct ir_rule *fwd, const struct rflow *f)
{
	struct ir_rule r = ir_rule_copy(fwd);
	r.hook = reverse_hook(fwd->hook);
	ir_rule_mirror(&r);
	r.origin.reply = true;
	r.log = false;
	uint8_t proto = ir_rule_proto(&r);
	int type = ir_rule_icmp_type(&r);
	if (proto == IR_TCP) {
		/* After the SYN every segment carries ACK; a reset carries RST. A SYN alone does not pass. */
		ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS_ANY, TCPF_ACK | TCPF_RST, 0);
	} else if (proto == IR_ICMP || proto == IR_ICMPV6) {
		int req = icmp_type_lookup("echo-request", r.family);
		if (type >= 0 && type != req) {
			ir_rule_free(&r);
			return; /* only echo has an answer of its own */
		}
		if (type >= 0)
			ir_rule_set_icmp_type(&r, (uint8_t)icmp_type_lookup("echo-reply", r.family));
	}
	if (f->fragments) {
		emit_fragments(x, fwd);
		emit_fragments(x, &r);
	}
	expand_push(x, G_ALLOW, &r);
}

/* "port 20", "ports 1024-65535", "ports 139,445"; "any port" when unrestricted. */
static void describe_ports(struct strbuf *sb, const struct ir_portset *p, bool local)
{
	if (!p || !p->n) {
		sb_puts(sb, local ? "any local port" : "any port");
		return;
	}
	sb_printf(sb, "%sport%s ", local ? "local " : "",
		  p->n > 1 || p->v[0].lo != p->v[0].hi ? "s" : "");
	for (size_t i = 0; i < p->n; i++) {
		if (p->v[i].lo == p->v[i].hi)
			sb_printf(sb, "%s%u", i ? "," : "", p->v[i].lo);
		else
			sb_printf(sb, "%s%u-%u", i ? "," : "", p->v[i].lo, p->v[i].hi);
	}
}

/* Who is at a remote end: "any server", "clients in office", "servers in 192.0.2.7", and
 * for a scoped channel "servers that used realplayer flow rtsp within 10m". Both families are
 * named at once, so the IPv4 and IPv6 rules give the same sentence. */
static void describe_peer(struct strbuf *sb, const struct peer *p, enum role role,
			  const struct ir_dynset *scope)
{
	const char *who = role == ROLE_CLIENT ? "client" : role == ROLE_SERVER ? "server" : "peer";
	char *sc = scope ? scope_describe(scope) : NULL;
	if (!p || (!p->addrs.n && !p->setname)) {
		if (sc)
			sb_puts(sb, sc);
		else
			sb_printf(sb, "any %s", who);
		free(sc);
		return;
	}
	sb_printf(sb, "%ss in ", who);
	if (p->setname) {
		sb_puts(sb, p->setname);
	} else {
		for (size_t i = 0; i < p->addrs.n; i++) {
			char buf[64];
			ir_prefix_format(&p->addrs.v[i], buf, sizeof(buf));
			sb_printf(sb, "%s%s", i ? ", " : "", buf);
		}
	}
	if (sc) /* "servers in office" + "servers that used ..." */
		sb_printf(sb, " %s", sc + strlen(who) + 2);
	free(sc);
}

static void describe_end(struct strbuf *sb, const struct ir_portset *ports, const struct peer *p,
			 enum role role, bool local, const struct ir_dynset *scope)
{
	describe_ports(sb, ports, local);
	if (!local) {
		sb_puts(sb, " of ");
		describe_peer(sb, p, role, scope);
	}
}

/* Stateless fallback for a flow that cannot be filtered exactly without state: say exactly
 * what the static rule (and its mirrored return rule) opens, once per statement. */
static void warn_fallback(struct exp *x, const struct dirctx *c, const struct ir_rule *r,
			  const char *why)
{
	struct strbuf sb = {0};
	sb_printf(&sb, "%s %s in stateless mode admits %s from ", c->f->app,
		  c->rr->role == ROLE_NONE ? "gateway rule" : ast_role_name(c->rr->role),
		  ir_rule_proto(r) == IR_UDP ? "UDP" : "TCP");
	const struct ir_setref *in = ir_rule_in_set(r);
	const struct ir_dynset *scope = in ? ir_dynset_find(x->rs, in->name) : NULL;
	const struct ir_portset *same = ir_rule_ports(r, IR_M_SAME_PORT);
	describe_end(&sb, same ? same : ir_rule_ports(r, IR_M_SPORT), c->src, c->src_role,
		     c->hook == IR_OUTPUT, scope && in->src ? scope : NULL);
	sb_puts(&sb, " to ");
	if (same)
		sb_puts(&sb, "the same port");
	else
		describe_end(&sb, ir_rule_ports(r, IR_M_DPORT), c->dst, c->dst_role, c->hook == IR_INPUT,
			     scope && !in->src ? scope : NULL);
	sb_printf(&sb, " (and replies%s): flow '%s' %s",
		  ir_rule_proto(r) == IR_TCP ? " with ACK or RST set" : "", c->f->name, why);
	for (size_t i = 0; i < x->warned.n; i++) {
		if (!strcmp(x->warned.v[i], sb.s)) {
			sb_free(&sb);
			return; /* the other family's rule opens the same hole */
		}
	}
	diag_warning_id(x->d, DIAG_W_STATELESS, &c->rr->loc, "%s", sb.s);
	VEC_PUSH(x->warned, sb_steal(&sb));
}

/* Stateless mode: every flow that needs state says what its static rules open instead. */
void expand_warn_stateless(struct exp *x, const struct dirctx *c, const struct ir_rule *r)
{
	const struct rflow *f = c->f;
	/* A broadcast helper's answer is a plain rule on the answering host in both modes. */
	if (f->related && helper_expects_at_sender_only(f->related) && c->hook == IR_OUTPUT)
		return;
	if (f->related) {
		char *why = xasprintf("needs connection tracking (the '%s' helper)", f->related);
		warn_fallback(x, c, r, why);
		free(why);
	} else if (f->is_negotiated) {
		struct strbuf why = {0};
		sb_puts(&why, "negotiates its port at run time");
		if (f->negotiated && f->negotiated[0])
			sb_printf(&why, " (%s)", f->negotiated);
		warn_fallback(x, c, r, why.s);
		sb_free(&why);
	} else if (!ir_rule_ports(r, IR_M_DPORT) && !ir_rule_ports(r, IR_M_SAME_PORT) &&
		   (ir_rule_proto(r) == IR_TCP || ir_rule_proto(r) == IR_UDP)) {
		/* The return rule's source port is the responder's port: without one, replies
		 * are bound to no service port. */
		warn_fallback(x, c, r, "names no responder port, so its replies come from any port");
	}
}
