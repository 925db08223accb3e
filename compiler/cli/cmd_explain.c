/* pinhole explain [--brief] [--why-not LINE] POLICY PACKET|-: the verdict for one packet, down
 * to the policy line (and the nft and iptables rule that decide it); --why-not says why the
 * rules of one policy line did not take it. Exit status for one packet: 0 accepted, 1 dropped
 * or rejected, 2 bad input; for a batch (-), 0 or 2.
 * Packets read from stdin are judged in order, as the kernel would see them: a control flow's
 * packet records its peer in a dynamic set, and a later packet of the scoped channel from that
 * peer finds it there. A single packet meets empty sets. */
#include <arpa/inet.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "icmp.h"
#include "packet.h"
#include "scope.h"

static const struct ast_flow *find_flow(const struct compilation *c, const struct ir_origin *o)
{
	const struct ast_app *app = library_find(&c->lib, o->app);
	for (size_t i = 0; !app && i < c->res.port_apps.n; i++)
		if (!strcmp(c->res.port_apps.v[i]->name, o->app))
			app = c->res.port_apps.v[i];
	for (size_t i = 0; !app && i < c->res.lit_apps.n; i++)
		if (!strcmp(c->res.lit_apps.v[i]->name, o->app))
			app = resolve_lit_def(c->res.lit_apps.v[i]);
	if (!app)
		return NULL;
	for (size_t i = 0; i < app->flows.n; i++)
		if (!strcmp(app->flows.v[i].name, o->flow))
			return &app->flows.v[i];
	return NULL;
}

static void print_brief(const struct ir_verdict *v, FILE *out)
{
	if (!v->rule)
		fprintf(out, "%s default\n", ir_action_name(v->action));
	else if (v->rule->origin.builtin)
		fprintf(out, "%s built-in\n", ir_action_name(v->action));
	else
		fprintf(out, "%s %s:%d\n", ir_action_name(v->action), v->rule->origin.file, v->rule->origin.line);
}

/* The helper the kernel would attach to this connection's first packet, if any. */
static const struct ir_rule *helper_rule(const struct ir_ruleset *rs, const struct ir_packet *p)
{
	struct ir_packet q = *p;
	q.hook = p->hook == IR_INPUT ? IR_PREROUTING : p->hook;
	for (size_t i = 0; i < rs->rules.n; i++)
		if (rs->rules.v[i].action == IR_SET_HELPER && ir_rule_matches(&rs->rules.v[i], &q))
			return &rs->rules.v[i];
	return NULL;
}

static void put_addr(FILE *out, uint8_t family, const uint8_t *addr)
{
	char buf[INET6_ADDRSTRLEN];
	inet_ntop(family == IR_V6 ? AF_INET6 : AF_INET, addr, buf, sizeof(buf));
	fputs(buf, out);
}

/* The data flows a dynamic set opens: "realplayer flow data, data-realone". */
static void put_opened(const struct ir_ruleset *rs, const char *set, FILE *out)
{
	const char *app = NULL;
	const char *seen[32];
	size_t n = 0;
	for (size_t i = 0; i < rs->rules.n && n < 32; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		const struct ir_setref *in = ir_rule_in_set(r);
		if (!in || !in->name || strcmp(in->name, set) || !r->origin.flow)
			continue;
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup |= !strcmp(seen[k], r->origin.flow);
		if (dup)
			continue;
		if (!app) {
			app = r->origin.app;
			fprintf(out, "%s flow ", app);
		}
		fprintf(out, "%s%s", n ? ", " : "", r->origin.flow);
		seen[n++] = r->origin.flow;
	}
}

/* Would pinholed ever open this port for flow f? Ports below 1024 only where the flow names
 * them (runtime/pinholed/pd_check.c). */
static bool helper_may_open(const struct ast_flow *f, uint16_t port)
{
	/* a relayed channel has no static fallback: its ports bound what pinholed opens */
	if (f && f->relayed && port < 1024)
		return false;
	if (port >= 1024 && !(f && f->relayed && f->dport.r.n))
		return true;
	for (size_t i = 0; f && i < f->dport.r.n; i++)
		if (f->dport.r.v[i].lo <= port && port <= f->dport.r.v[i].hi)
			return true;
	return false;
}

/* A helper channel's data packet: the sets that would take it are pinholed's, filled at run
 * time from the control flows' messages, one exact pinhole each. Every channel of the hook
 * that could take the packet is named: its port alone does not say which one it is (mountd
 * or nlockmgr), the control message does. */
static void explain_helper_channel(const struct compilation *c, const struct ir_packet *p,
				   const struct ir_rule *first, FILE *out)
{
	struct ir_state any = {.assume_member = true};
	const struct ir_rule *cand[8];
	const struct ast_flow *flows[8];
	size_t n = 0;
	for (size_t i = 0; i < c->ir.rules.n && n < 8; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		const struct ir_setref *in = ir_rule_in_set(r);
		const struct ir_dynset *ds = in ? ir_dynset_find(&c->ir, in->name) : NULL;
		if (r->hook != first->hook || r->action != IR_ACCEPT || !ds || !ds->parser ||
		    !ir_rule_matches_state(r, p, &any))
			continue;
		const struct ast_flow *f = find_flow(c, &r->origin);
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(cand[k]->origin.app, r->origin.app) &&
			       !strcmp(cand[k]->origin.flow, r->origin.flow);
		if (!seen && helper_may_open(f, p->dport)) {
			flows[n] = f;
			cand[n++] = r;
		}
	}
	if (!n) {
		fprintf(out, p->dport < 1024 ? "pinholed: never opens port %u here: below 1024, and no "
			"helper channel names it\n" : "pinholed: never opens port %u here: outside the "
			"ports of the relayed channel that could take it\n", p->dport);
		return;
	}
	const struct ir_dynset *ds0 = ir_dynset_find(&c->ir, ir_rule_in_set(cand[0])->name);
	fprintf(out, "pinholed: would be accepted once pinholed opens it (%s:%d, a helper channel: ",
		cand[0]->origin.file, cand[0]->origin.line);
	for (size_t k = 0; k < n; k++) {
		const struct ir_dynset *ds = ir_dynset_find(&c->ir, ir_rule_in_set(cand[k])->name);
		fprintf(out, "%s%s flow %s, set %s", k ? "; or " : "", cand[k]->origin.app,
			cand[k]->origin.flow, ds->name);
		if (flows[k] && flows[k]->program)
			fprintf(out, ", ONC RPC program %u", flows[k]->program);
	}
	fputs(")\n          its port is negotiated on flow ", out);
	const char *last = strrchr(ds0->flows, ',');
	if (last)
		fprintf(out, "%.*s or%s", (int)(last - ds0->flows), ds0->flows, last + 1);
	else
		fputs(ds0->flows, out);
	char t[32];
	ir_duration_format(ds0->timeout, t, sizeof(t));
	const struct ir_setref *in0 = ir_rule_in_set(cand[0]);
	if (ds0->peerless) {
		/* a relayed channel's sender: its own offer names no peer */
		fprintf(out, ": pinholed opens it at run time, after this host's own offer there (%s) "
			"names this port, to any peer (nothing on this host's connection names who will "
			"connect), this protocol and port only, for %s or until the control connection "
			"ends; without pinholed running it stays closed\n", ds0->parser, t);
		return;
	}
	fprintf(out, ": pinholed opens it at run time, after a control message there (%s) names this "
		"port%s%s, for %s ", ds0->parser, in0->keyed && flows[0] && flows[0]->relayed ?
		" and this address (an offer the server relays)" : "", n > 1 ? " for that channel" : "",
		ds0->peer);
	put_addr(out, p->family, in0->src ? p->saddr : p->daddr);
	fprintf(out, " only, this protocol and port only, for %s or until the control connection "
		"ends; without pinholed running it stays closed\n", t);
}

/* Scoped channels: the peers this packet records (rules met before the verdict), and, when
 * it is not accepted, whether it would be had its peer used a control flow lately. */
/* The packet would be accepted by r if r's set held it: how that set gets filled (pinholed,
 * or a scoped channel's earlier flow). False when r reads no dynamic set. */
static bool put_hint(const struct compilation *c, const struct ir_packet *p, const struct ir_rule *r,
		     bool alternative, FILE *out)
{
	const struct ir_setref *in = ir_rule_in_set(r);
	const struct ir_dynset *ds = in ? ir_dynset_find(&c->ir, in->name) : NULL;
	if (!ds)
		return false;
	if (ds->parser) {
		explain_helper_channel(c, p, r, out);
		return true;
	}
	char t[32];
	ir_duration_format(ds->timeout, t, sizeof(t));
	fputs(alternative ? "scoped:  or would be accepted after " : "scoped:  would be accepted after ", out);
	put_addr(out, p->family, in->src ? p->saddr : p->daddr);
	const char *last = strrchr(ds->flows, ',');
	if (last)
		fprintf(out, " used flow %.*s or%s", (int)(last - ds->flows), ds->flows, last + 1);
	else
		fprintf(out, " used flow %s", ds->flows);
	fprintf(out, " of %s within %s (%s:%d, %s flow %s; set %s)\n", ds->app, t, r->origin.file,
		r->origin.line, r->origin.app, r->origin.flow, ds->name);
	return true;
}

void explain_scope(const struct compilation *c, const struct ir_packet *p,
		   const struct ir_verdict *v, FILE *out)
{
	for (size_t i = 0; i < c->ir.rules.n && &c->ir.rules.v[i] != v->rule; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		const struct ir_dynset *ds = ir_dynset_find(&c->ir, r->add_set.name);
		if (r->action != IR_SET_ADD || !ds || !ir_rule_matches(r, p))
			continue;
		char t[32];
		ir_duration_format(ds->timeout, t, sizeof(t));
		fprintf(out, "records: %s ", ds->peer);
		put_addr(out, p->family, r->add_set.src ? p->saddr : p->daddr);
		fprintf(out, " in set %s for %s (it opens ", ds->name, t);
		put_opened(&c->ir, ds->name, out);
		fputs(" to it)\n", out);
	}
	if (v->action == IR_ACCEPT)
		return;
	struct ir_state any = {.assume_member = true};
	struct ir_verdict w = ir_eval_state(&c->ir, p, &any);
	if (w.action != IR_ACCEPT || !put_hint(c, p, w.rule, false, out))
		return;
	/* Sets are filled independently: when w.rule's set lacks the packet, a later rule's set
	 * may hold it (realplayer's UDP 7000: pinholed's RTSP pinhole, or the PNA static scope).
	 * Name those too, up to the first rule that decides the packet without any set. */
	for (const struct ir_rule *r = w.rule + 1; r < c->ir.rules.v + c->ir.rules.n; r++) {
		if (r->hook != w.rule->hook)
			continue;
		if (ir_rule_matches_state(r, p, NULL)) {
			if (r->action == IR_ACCEPT || r->action == IR_DROP || r->action == IR_REJECT)
				break;
			continue;
		}
		if (r->action == IR_ACCEPT && ir_rule_matches_state(r, p, &any))
			put_hint(c, p, r, true, out);
	}
}

/* The nft plan the rules are shown from: made on first use, once for a whole batch of
 * packets (lowering and merging a large policy costs more than explaining a packet), freed
 * when cmd_explain returns. */
static struct nft_plan *shown_plan;

/* The rule as the loaded ruleset has it (`nft list ruleset` shows the same): merged into a
 * set, the element(s) that stand for r; behind an interface dispatch, the map that jumps to
 * its chain. `label` starts the first line, `indent` the others. */
static void put_nft(const struct compilation *c, const struct ir_rule *r, const struct ir_packet *p,
		    const char *label, const char *indent, FILE *out)
{
	struct nft_shown s;
	if (!shown_plan)
		shown_plan = nft_shown_plan(&c->ir);
	nft_shown_rule(shown_plan, &c->ir, r, p, &s);
	fprintf(out, "%s%s  (chain %s)\n", label, s.rule, s.chain);
	for (const char *e = s.elements, *nl; e && *e; e = nl ? nl + 1 : "") {
		nl = strchr(e, '\n');
		fprintf(out, "%s%s %.*s\n", indent, e == s.elements ? "element:" : "        ",
			(int)(nl ? (size_t)(nl - e) : strlen(e)), e);
	}
	if (s.via)
		fprintf(out, "%sjumped to from: %s\n", indent, s.via);
	nft_shown_free(&s);
}

/* The iptables-restore lines of the deciding rule, for the packet's family. */
static void put_ipt(const struct compilation *c, const struct ir_rule *r, uint8_t family, FILE *out)
{
	const char *label = family == IR_V6 ? "ip6tables:" : "iptables:";
	char *why = ipt_rule_check(&c->ir, r, family);
	if (why) {
		fprintf(out, "%s (iptables cannot say this rule exactly: %s)\n", label, why);
		free(why);
		return;
	}
	char *text = ipt_rule_text(&c->ir, r, family);
	const char *p = text;
	bool first = true;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(out, "%-9s %.*s\n", first ? label : "", (int)len, p);
		first = false;
		p += len + (nl ? 1 : 0);
	}
	free(text);
}

/* The statement a translation rule came from, and how it rewrote the packet. */
static void put_nat(const struct compilation *c, const char *label, const struct ir_rule *r,
		    const struct ir_packet *p, FILE *out)
{
	char *line = compilation_source_line(c, r->origin.file, r->origin.line);
	fprintf(out, "%-8s %s:%d: %s\n", label, r->origin.file, r->origin.line,
		line ? line : r->origin.stmt);
	free(line);
	if (r->action == IR_MASQUERADE) {
		fputs("         the source becomes the address of the interface the packet leaves by\n", out);
	} else {
		struct ir_packet q = *p;
		if (r->action == IR_SNAT)
			ir_nat_rewrite(q.saddr, &q.sport, &r->nat);
		char *desc = packet_describe(&q);
		fprintf(out, "         %s: %s\n", r->action == IR_DNAT ? "filtered as" : "leaves as", desc);
		free(desc);
	}
	put_nft(c, r, p, "         nft: ", "              ", out);
}

/* A rate-limited rule decides only while its budget lasts: say so, and what the packet meets
 * once the statement's budgets are spent (its limited rules out of the way). */
static void explain_limit(const struct compilation *c, const struct ir_packet *given,
			  const struct ir_rule *r, FILE *out)
{
	const struct ir_match *m = ir_match_get(r, IR_M_LIMIT);
	if (!m)
		return;
	char lim[64];
	ir_limit_format(&m->u.limit, lim, sizeof(lim));
	fprintf(out, "limit:   the rule is rate-limited: %s (this packet is taken to be within %s)\n",
		lim, m->u.limit.per_source ? "its source's budget" : "the budget");
	struct ir_ruleset spent = c->ir; /* shallow: the same rules, minus the statement's limited ones */
	spent.rules.v = xmalloc((c->ir.rules.n + 1) * sizeof(*spent.rules.v));
	spent.rules.n = 0;
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *o = &c->ir.rules.v[i];
		if (o->origin.stmt_no == r->origin.stmt_no && ir_match_get(o, IR_M_LIMIT))
			continue;
		spent.rules.v[spent.rules.n++] = *o;
	}
	struct ir_verdict v = ir_eval(&spent, given);
	fprintf(out, "         over the budget: %s (", ir_action_name(v.action));
	if (!v.rule)
		fputs("default policy", out);
	else if (v.rule->origin.builtin)
		fprintf(out, "built-in: %s", v.rule->origin.builtin);
	else
		fprintf(out, "%s:%d", v.rule->origin.file, v.rule->origin.line);
	fputs(")\n", out);
	free(spent.rules.v);
}

static void print_full(const struct compilation *c, const struct ir_packet *given,
		       const struct ir_verdict *v, FILE *out)
{
	char *desc = packet_describe(given);
	fprintf(out, "packet:  %s\n", desc);
	free(desc);
	fprintf(out, "mode:    %s\n", c->ir.stateless ? "stateless (established only)" : "stateful");
	fprintf(out, "verdict: %s\n", ir_action_name(v->action));
	if (v->rule && v->rule->owned)
		fprintf(out, "owner:   left to the interface's owner: pinhole lets the packet pass and "
			"the owner's own rules (Docker's, libvirt's iptables) decide it\n");
	if (v->dnat)
		put_nat(c, "dnat:", v->dnat, &v->after, out);
	if (v->snat)
		put_nat(c, "snat:", v->snat, &v->after, out);
	/* the packet as the filter saw it: after a DNAT, forwarded to its new destination */
	const struct ir_packet *p = &v->after;
	explain_scope(c, p, v, out);
	const struct ir_rule *r = v->rule;
	if (!r) {
		fprintf(out, "rule:    default (no rule matched; the %s chain's policy is drop)\n",
			ir_hook_name(p->hook));
		return;
	}
	if (r->origin.builtin) {
		fprintf(out, "rule:    built-in: %s\n", r->origin.builtin);
	} else {
		char *line = compilation_source_line(c, r->origin.file, r->origin.line);
		fprintf(out, "rule:    %s:%d: %s\n", r->origin.file, r->origin.line,
			line ? line : r->origin.stmt);
		free(line);
		/* a port forward's rule comes from the statement, not from an app flow */
		const struct ast_flow *f = r->origin.app ? find_flow(c, &r->origin) : NULL;
		char *ft = f ? flow_format(f) : NULL;
		if (r->origin.app)
			fprintf(out, "flow:    %s flow %s%s: %s (%s:%d)\n", r->origin.app, r->origin.flow,
				r->origin.reply ? " (return traffic)" : "", ft ? ft : "?", r->origin.flow_file,
				r->origin.flow_line);
		free(ft);
		if (f && f->source)
			fprintf(out, "source:  %s\n", f->source);
	}
	put_nft(c, r, p, "nft:     ", "         ", out);
	put_ipt(c, r, p->family, out);
	explain_limit(c, given, r, out);
	const struct ir_rule *h = v->action == IR_ACCEPT ? helper_rule(&c->ir, p) : NULL;
	if (h && p->ct_state == CT_NEW)
		fprintf(out, "helper:  conntrack helper '%s' attached to this connection\n", h->helper);
}

/* ---- --why-not: the first match of each rule of a line that the packet fails ---- */

struct why_not {
	const struct source *src; /* the policy file the line is in */
	char *file;               /* its name as rules carry it (origin.file) */
	int line;
};

static void put_addrs(FILE *out, const struct ir_addrset *a)
{
	if (a->name)
		fprintf(out, "%s (", a->name);
	for (size_t i = 0; i < a->n && i < 4; i++) {
		char buf[64];
		ir_prefix_format(&a->v[i], buf, sizeof(buf));
		fprintf(out, "%s%s", i ? ", " : "", buf);
	}
	if (a->n > 4)
		fprintf(out, ", ... %zu in all", a->n);
	if (a->name)
		fputc(')', out);
}

static void put_ports(FILE *out, const struct ir_portset *ps)
{
	for (size_t i = 0; i < ps->n && i < 8; i++) {
		fprintf(out, "%s%u", i ? ", " : "", ps->v[i].lo);
		if (ps->v[i].hi != ps->v[i].lo)
			fprintf(out, "-%u", ps->v[i].hi);
	}
	if (ps->n > 8)
		fprintf(out, ", ... %zu ranges in all", ps->n);
}

static const char *proto_name(uint8_t proto)
{
	switch (proto) {
	case IR_TCP: return "tcp";
	case IR_UDP: return "udp";
	case IR_ICMP: return "icmp";
	case IR_ICMPV6: return "icmpv6";
	case IR_ESP: return "esp";
	default: return "another protocol";
	}
}

static void put_flags(FILE *out, uint8_t flags)
{
	static const char *const names[] = {"fin", "syn", "rst", "psh", "ack", "urg"};
	bool any = false;
	for (int i = 0; i < 6; i++) {
		if (flags & (1u << i)) {
			fprintf(out, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	}
	if (!any)
		fputs("none", out);
}

static void put_ct(FILE *out, uint8_t ct)
{
	static const char *const names[] = {"new", "established", "related", "invalid"};
	bool any = false;
	for (int i = 0; i < 4; i++) {
		if (ct & (1u << i)) {
			fprintf(out, "%s%s", any ? "," : "", names[i]);
			any = true;
		}
	}
	if (!any)
		fputs("none", out);
}

/* What the packet has, and what the match wants instead. */
static void put_miss(FILE *out, const struct ir_match *m, const struct ir_packet *p)
{
	const char *nofrag = "a non-first fragment carries no transport header";
	switch (m->kind) {
	case IR_M_IIF:
		fprintf(out, "input interface %s is not ", p->iif ? p->iif : "(none given: add iif NAME)");
		for (size_t i = 0; i < m->u.ifs.n; i++)
			fprintf(out, "%s%s", i ? ", " : "", m->u.ifs.v[i]);
		break;
	case IR_M_OIF:
		fprintf(out, "output interface %s is not ", p->oif ? p->oif : "(none given: add oif NAME)");
		for (size_t i = 0; i < m->u.ifs.n; i++)
			fprintf(out, "%s%s", i ? ", " : "", m->u.ifs.v[i]);
		break;
	case IR_M_SADDR:
	case IR_M_DADDR:
		fprintf(out, "%s address ", m->kind == IR_M_SADDR ? "source" : "destination");
		put_addr(out, p->family, m->kind == IR_M_SADDR ? p->saddr : p->daddr);
		fputs(" is not in ", out);
		put_addrs(out, &m->u.addrs);
		break;
	case IR_M_IN_SET:
		fprintf(out, "%s address ", m->u.set.src ? "source" : "destination");
		put_addr(out, p->family, m->u.set.src ? p->saddr : p->daddr);
		fprintf(out, " is not in dynamic set %s (its peers have not used the control flow lately)",
			m->u.set.name);
		break;
	case IR_M_FRAGMENT:
		fputs("the rule takes non-first fragments only", out);
		break;
	case IR_M_L4PROTO:
		fprintf(out, "protocol %s is not %s", proto_name(p->l4proto), proto_name(m->u.proto));
		break;
	case IR_M_SPORT:
	case IR_M_DPORT:
		if (p->fragment) {
			fputs(nofrag, out);
			break;
		}
		fprintf(out, "%s port %u is not ", m->kind == IR_M_SPORT ? "source" : "destination",
			m->kind == IR_M_SPORT ? p->sport : p->dport);
		put_ports(out, &m->u.ports);
		break;
	case IR_M_SAME_PORT:
		if (p->fragment) {
			fputs(nofrag, out);
			break;
		}
		fprintf(out, "ports %u -> %u are not one port of ", p->sport, p->dport);
		put_ports(out, &m->u.ports);
		fputs(" on both ends", out);
		break;
	case IR_M_TCP_FLAGS:
		if (p->fragment) {
			fputs(nofrag, out);
			break;
		}
		fputs("TCP flags ", out);
		put_flags(out, p->tcp_flags);
		fputs(": the rule wants exactly ", out);
		put_flags(out, m->u.flags.cmp);
		fputs(" of ", out);
		put_flags(out, m->u.flags.mask);
		break;
	case IR_M_TCP_FLAGS_ANY:
		if (p->fragment) {
			fputs(nofrag, out);
			break;
		}
		fputs("TCP flags ", out);
		put_flags(out, p->tcp_flags);
		fputs(": the rule wants one of ", out);
		put_flags(out, m->u.flags.mask);
		break;
	case IR_M_ICMP_TYPE: {
		if (p->fragment) {
			fputs(nofrag, out);
			break;
		}
		const char *have = p->icmp_type >= 0 ? icmp_type_name(p->icmp_type, p->family) : NULL;
		const char *want = icmp_type_name(m->u.icmp_type, p->family);
		if (have)
			fprintf(out, "ICMP type %s is not ", have);
		else
			fprintf(out, "ICMP type %d is not ", p->icmp_type);
		if (want)
			fputs(want, out);
		else
			fprintf(out, "%u", m->u.icmp_type);
		break;
	}
	case IR_M_CT_STATE:
		fputs("conntrack state ", out);
		put_ct(out, p->ct_state);
		fputs(" is not ", out);
		put_ct(out, m->u.ct_state);
		break;
	case IR_M_CT_HELPER:
		if (p->ct_helper)
			fprintf(out, "the connection was expected by helper '%s', not '%s'", p->ct_helper,
				m->u.helper);
		else
			fprintf(out, "the packet is no channel expected by helper '%s' (add: related helper %s)",
				m->u.helper, m->u.helper);
		break;
	case IR_M_DADDR_LOCAL:
		fputs("the destination is not an address of this host (the packet is not 'in')", out);
		break;
	case IR_M_CT_DNAT:
		fputs("the connection's destination was not translated by a port forward (add: dnat)", out);
		break;
	case IR_M_LIMIT: {
		char lim[64];
		ir_limit_format(&m->u.limit, lim, sizeof(lim));
		fprintf(out, "the rule's rate budget (%s) is spent", lim);
		break;
	}
	}
}

static void put_rule_name(FILE *out, const struct ir_rule *r)
{
	if (r->origin.app)
		fprintf(out, "%s flow %s%s (", r->origin.app, r->origin.flow ? r->origin.flow : "?",
			r->origin.reply ? " return traffic" : "");
	else
		fputs("rule (", out); /* address translation: no app flow */
	fprintf(out, "%s, %s",
		ir_hook_name(r->hook), r->family == IR_V4 ? "IPv4" : r->family == IR_V6 ? "IPv6" : "IPv4 and IPv6");
	if (r->action != IR_ACCEPT && r->action != IR_DROP && r->action != IR_REJECT)
		fprintf(out, ", %s", ir_action_name(r->action));
	fputc(')', out);
}

static bool rule_of_line(const struct ir_rule *r, const struct why_not *w)
{
	return r->origin.file && !r->origin.builtin && r->origin.line == w->line &&
	       !strcmp(r->origin.file, w->file);
}

static void print_why_not(const struct compilation *c, const struct ir_packet *p,
			  const struct ir_verdict *v, const struct ir_state *st, const struct why_not *w,
			  FILE *out)
{
	char *text = compilation_source_line(c, w->file, w->line);
	fprintf(out, "why-not: %s:%d: %s\n", w->file, w->line, text ? text : "");
	free(text);
	size_t other_hook = 0, other_family = 0, shown = 0;
	bool matched = false;
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (!rule_of_line(r, w))
			continue;
		const struct ir_match *m;
		enum ir_miss miss = ir_rule_first_mismatch(r, p, st, &m);
		if (miss == IR_MISS_HOOK) {
			other_hook++;
			continue;
		}
		if (miss == IR_MISS_FAMILY) {
			other_family++;
			continue;
		}
		shown++;
		fputs("  ", out);
		put_rule_name(out, r);
		if (miss == IR_MISS_MATCH) {
			fputs(": ", out);
			put_miss(out, m, p);
			fputc('\n', out);
			continue;
		}
		matched = true;
		if (r == v->rule)
			fprintf(out, ": matches; this rule decided (%s)\n", ir_action_name(v->action));
		else if (r->action != IR_ACCEPT && r->action != IR_DROP && r->action != IR_REJECT)
			fputs(": matches; it decides nothing, the chain goes on\n", out);
		else if (v->rule && (size_t)(v->rule - c->ir.rules.v) < i)
			fprintf(out, ": matches, but an earlier rule decided first (%s)\n",
				v->rule->origin.builtin ? v->rule->origin.builtin : v->rule->origin.stmt);
		else
			fputs(": matches\n", out);
	}
	if (other_hook || other_family) {
		fprintf(out, "  %s%zu rule%s of this line %s for ", shown ? "and " : "",
			other_hook + other_family, other_hook + other_family == 1 ? "" : "s",
			other_hook + other_family == 1 ? "is" : "are");
		if (other_hook)
			fprintf(out, "other chains than %s%s", ir_hook_name(p->hook), other_family ? ", or " : "");
		if (other_family)
			fprintf(out, "%s only", p->family == IR_V6 ? "IPv4" : "IPv6");
		fputc('\n', out);
	}
	if (!shown && !matched)
		fprintf(out, "  none of its rules is for a packet %s on %s\n",
			p->hook == IR_INPUT ? "coming in" : p->hook == IR_OUTPUT ? "going out" : "forwarded",
			p->family == IR_V6 ? "IPv6" : "IPv4");
}

/* A packet that does not parse: the reason, then the text with a caret under the fault. */
static void packet_error(FILE *err, const char *text, const char *why, int col, const char *where,
			 int lineno)
{
	if (lineno) {
		fprintf(err, "%s:%d:%d: error: %s\n", where, lineno, col, why);
		diag_caret(err, "", text, strlen(text), col, 1);
	} else {
		fprintf(err, "pinhole explain: error: packet: %s\n", why);
		diag_caret(err, "  ", text, strlen(text), col, 1);
	}
}

/* explain_packet, and --why-not's lines (when w), the verdict in *action. */
static int explain_one(const struct compilation *c, struct ir_state *st, const char *text, bool brief,
		       const struct why_not *w, const char *where, int lineno, enum ir_action *action,
		       FILE *out, FILE *err)
{
	struct packet_text pt;
	char *why = NULL;
	int col = 1;
	if (!packet_parse(text, &pt, &why, &col)) {
		packet_error(err, text, why, col, where, lineno);
		free(why);
		if (brief && lineno)
			fputs("error\n", out);
		return EXIT_BAD_INPUT;
	}
	/* --why-not reads the sets as they were before this packet, as its rules did. */
	struct ir_state before = {0};
	if (w && st) {
		before = *st;
		before.v.v = st->v.n ? xmalloc(st->v.n * sizeof(*st->v.v)) : NULL;
		before.v.cap = st->v.n;
		if (st->v.n)
			memcpy(before.v.v, st->v.v, st->v.n * sizeof(*st->v.v));
	}
	struct ir_verdict v = ir_eval_state(&c->ir, &pt.pkt, st);
	if (brief)
		print_brief(&v, out);
	else
		print_full(c, &pt.pkt, &v, out);
	if (w)
		print_why_not(c, &pt.pkt, &v, st ? &before : NULL, w, out);
	ir_state_free(&before);
	if (action)
		*action = v.action;
	return EXIT_OK;
}

int explain_packet(const struct compilation *c, struct ir_state *st, const char *text, bool brief,
		   const char *where, int lineno, FILE *out, FILE *err)
{
	return explain_one(c, st, text, brief, NULL, where, lineno, NULL, out, err);
}

static int batch(const struct compilation *c, FILE *in, const char *where, bool brief,
		 const struct why_not *w, FILE *out, FILE *err)
{
	struct ir_state st = {0};
	int rc = EXIT_OK;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0;
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!line[strspn(line, " \t")] || line[strspn(line, " \t")] == '#')
			continue;
		if (explain_one(c, &st, line, brief, w, where, lineno, NULL, out, err) != EXIT_OK)
			rc = EXIT_BAD_INPUT;
		if (!brief)
			fputc('\n', out);
	}
	free(line);
	ir_state_free(&st);
	return rc;
}

int explain_batch(const struct compilation *c, FILE *in, const char *where, bool brief, FILE *out,
		  FILE *err)
{
	return batch(c, in, where, brief, NULL, out, err);
}

/* --why-not [FILE:]LINE: the policy file (the main one without FILE) and a line that made
 * rules; else an error at that place. */
static bool why_not_target(const struct compilation *c, const char *arg, struct why_not *w)
{
	const char *colon = strrchr(arg, ':');
	const char *num = colon ? colon + 1 : arg;
	char *end;
	long line = strtol(num, &end, 10);
	if (!*num || *end || line < 1 || line > 1000000000) {
		fprintf(stderr, "pinhole explain: error: --why-not takes a policy line: LINE or FILE:LINE, "
			"not '%s'\n", arg);
		return false;
	}
	w->line = (int)line;
	if (colon) {
		char *file = xstrndup(arg, (size_t)(colon - arg));
		char *clean = util_path_clean(file);
		w->src = compilation_source(c, clean);
		free(file);
		free(clean);
		if (!w->src) {
			fprintf(stderr, "pinhole explain: error: --why-not %s: no such file in the policy or "
				"its includes\n", arg);
			return false;
		}
	} else {
		w->src = c->srcs.v[c->first_policy_src];
	}
	w->file = util_path_clean(w->src->name);
	for (size_t i = 0; i < c->ir.rules.n; i++)
		if (rule_of_line(&c->ir.rules.v[i], w))
			return true;
	struct diag g = {.sev = SEV_ERROR, .id = DIAG_NONE,
			 .loc = {.src = w->src, .first_line = w->line, .first_column = 1,
				 .last_line = w->line, .last_column = 1},
			 .msg = xasprintf("--why-not %s: this line makes no rules (give the first line of "
					  "an allow, deny or reject statement)", arg)};
	diag_print_one(&g, SEV_ERROR, false, stderr);
	free(g.msg);
	free(w->file);
	w->file = NULL;
	return false;
}

static const char usage[] =
	"usage: pinhole explain [OPTIONS] POLICY PACKET|-\n"
	"The verdict for one packet and the policy line that decided it. PACKET - reads one\n"
	"packet per line from standard input (then POLICY cannot be - as well).\n"
	"  PACKET: PROTO SRC -> DST DIR [flags...], e.g. 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in syn'\n"
	"  --brief              one line per packet: the verdict and the deciding line\n"
	"  --why-not [FILE:]LINE  why the rules of that policy line do not match the packet\n"
	"  --to PROTO/PORT      no PACKET: which sources can open a connection to that port\n"
	"                       (e.g. tcp/22), per deciding line, with a witness packet each\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless, --stateful  as for compile\n"
	"  -q, --quiet          print errors only (the verdicts are still printed)\n"
	"  -v, --verbose        also say what was read and how long it took\n"
	"  -h, --help           this help\n"
	"Exit status for one packet: 0 accept, 1 drop or reject, 2 bad input; for --to: 0 some\n"
	"policy line lets a source connect, 1 none does.\n";

int cmd_explain(struct cli *cli, int argc, char **argv)
{
	bool brief = false;
	const char *policy = NULL, *why_not = NULL, *to = NULL;
	struct strbuf packet = {0};
	for (int i = 1; i < argc; i++) {
		if (!policy && cli_help_arg(argv[i])) {
			sb_free(&packet);
			return cli_help(usage);
		}
		int r = policy ? 0 : cli_common_option(cli, argc, argv, &i);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r)
			continue;
		if (!policy && !strcmp(argv[i], "--brief")) {
			brief = true;
		} else if (!policy && !strncmp(argv[i], "--why-not=", 10)) {
			why_not = argv[i] + 10;
		} else if (!policy && !strcmp(argv[i], "--why-not")) {
			if (i + 1 >= argc) {
				sb_free(&packet);
				return cli_usage_error("explain", "--why-not needs a policy line: LINE or FILE:LINE");
			}
			why_not = argv[++i];
		} else if (!policy && !strncmp(argv[i], "--to=", 5)) {
			to = argv[i] + 5;
		} else if (!policy && !strcmp(argv[i], "--to")) {
			if (i + 1 >= argc) {
				sb_free(&packet);
				return cli_usage_error("explain", "--to needs PROTO/PORT: e.g. --to tcp/22");
			}
			to = argv[++i];
		} else if (!policy && argv[i][0] == '-' && argv[i][1]) {
			sb_free(&packet);
			return cli_usage_error("explain", "unknown option '%s'", argv[i]);
		} else if (!policy) {
			policy = argv[i];
		} else {
			sb_printf(&packet, "%s%s", packet.len ? " " : "", argv[i]);
		}
	}
	if (to && policy && strcmp(policy, "-") && !packet.len && !why_not) {
		struct compilation c;
		bool ok = cli_compile(cli, policy, &c);
		cli_diag_print(&c.diags, stderr);
		int rc = ok ? explain_to(&c, to, stdout) : EXIT_BAD_INPUT;
		compilation_free(&c);
		return rc;
	}
	if (to) {
		sb_free(&packet);
		return cli_usage_error("explain", "--to takes a policy file and no packet (and no --why-not)");
	}
	if (!policy || !packet.len) {
		sb_free(&packet);
		return cli_usage_error("explain", "usage: pinhole explain [--brief] [--why-not LINE] POLICY PACKET|-\n"
				       "  e.g. pinhole explain fw.pin 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in'");
	}
	if (!strcmp(policy, "-") && !strcmp(packet.s, "-")) {
		sb_free(&packet);
		return cli_usage_error("explain", "the policy and the packets cannot both come from standard input");
	}
	struct compilation c;
	bool ok = cli_compile(cli, policy, &c);
	cli_diag_print(&c.diags, stderr);
	int rc = ok ? EXIT_OK : EXIT_BAD_INPUT;
	struct why_not w = {0};
	if (ok && why_not && !why_not_target(&c, why_not, &w))
		ok = false, rc = EXIT_BAD_INPUT;
	if (ok && strcmp(packet.s, "-") != 0) {
		struct ir_state st = {0};
		enum ir_action action = IR_DROP;
		rc = explain_one(&c, &st, packet.s, brief, why_not ? &w : NULL, NULL, 0, &action, stdout,
				 stderr);
		/* One packet: the status says the verdict (docs: 0 accept, 1 drop or reject). */
		if (rc == EXIT_OK && action != IR_ACCEPT)
			rc = EXIT_FINDINGS;
		ir_state_free(&st);
	} else if (ok) {
		rc = batch(&c, stdin, "<stdin>", brief, why_not ? &w : NULL, stdout, stderr);
	}
	free(w.file);
	nft_shown_plan_free(shown_plan); /* it points into the compilation's IR */
	shown_plan = NULL;
	compilation_free(&c);
	sb_free(&packet);
	return rc;
}
