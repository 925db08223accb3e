/* Built-in rules every ruleset has (loopback, conntrack states, ICMP that IPv6 and path MTU
 * discovery need), the answers to rejects, and the log of unmatched packets. */
#include <stdlib.h>
#include <string.h>

#include "expand_int.h"

static void builtin(struct exp *x, enum ir_hook hook, uint8_t family, const char *what,
		    struct ir_rule *r)
{
	r->hook = hook;
	r->family = family;
	r->origin.builtin = ir_intern(x->rs, what);
	expand_push(x, G_BUILTIN, r);
}

static void builtin_icmp(struct exp *x, enum ir_hook hook, uint8_t family, const char *type,
			 const char *what, uint8_t ct_state)
{
	struct ir_rule r;
	ir_rule_init(&r);
	ir_rule_set_proto(&r, family == IR_V6 ? IR_ICMPV6 : IR_ICMP);
	ir_rule_set_icmp_type(&r, (uint8_t)icmp_type_lookup(type, family));
	if (ct_state)
		ir_rule_set_ct_state(&r, ct_state);
	builtin(x, hook, family, what, &r);
}

void expand_builtins(struct exp *x)
{
	static const enum ir_hook hooks[] = {IR_INPUT, IR_FORWARD, IR_OUTPUT};
	static const char *const nd[] = {"nd-neighbor-solicit", "nd-neighbor-advert",
					 "nd-router-solicit", "nd-router-advert"};
	static const char *const errors4[] = {"destination-unreachable", "time-exceeded"};
	static const char *const errors6[] = {"destination-unreachable", "packet-too-big", "time-exceeded"};
	for (size_t h = 0; h < 3; h++) {
		struct ir_rule r;
		enum ir_hook hook = hooks[h];
		if (hook != IR_FORWARD) {
			ir_rule_init(&r);
			r.action = IR_ACCEPT;
			ir_rule_set_ifname(&r, hook == IR_INPUT ? IR_M_IIF : IR_M_OIF, "lo");
			builtin(x, hook, IR_ANY, "loopback", &r);
		}
		if (!x->r->stateless) {
			ir_rule_init(&r);
			ir_rule_set_ct_state(&r, CT_INVALID);
			r.action = IR_DROP;
			builtin(x, hook, IR_ANY, "invalid state", &r);
			ir_rule_init(&r);
			ir_rule_set_ct_state(&r, CT_ESTABLISHED);
			r.action = IR_ACCEPT;
			builtin(x, hook, IR_ANY, "established connections", &r);
			for (int fam = IR_V4; fam <= IR_V6; fam += 2) {
				ir_rule_init(&r);
				ir_rule_set_ct_state(&r, CT_RELATED);
				ir_rule_set_proto(&r, fam == IR_V6 ? IR_ICMPV6 : IR_ICMP);
				builtin(x, hook, (uint8_t)fam, "ICMP errors of allowed connections", &r);
			}
		} else {
			/* Without conntrack, ICMP errors are admitted by type so that path MTU
			 * discovery and quick failures keep working. */
			for (size_t i = 0; i < 2; i++)
				builtin_icmp(x, hook, IR_V4, errors4[i], "ICMP errors (stateless)", 0);
			for (size_t i = 0; i < 3; i++)
				builtin_icmp(x, hook, IR_V6, errors6[i], "ICMPv6 errors (stateless)", 0);
		}
		if (hook != IR_FORWARD)
			for (size_t i = 0; i < 4; i++)
				builtin_icmp(x, hook, IR_V6, nd[i], "IPv6 neighbour discovery", 0);
		else if (!x->r->stateless)
			builtin_icmp(x, hook, IR_V6, "packet-too-big", "IPv6 path MTU discovery", 0);
	}
}

/* A reject answers with a TCP reset that the kernel sends through this host's own output
 * hook (also for a forwarded connection). Conntrack marks it related; without conntrack it is
 * a bare RST from the rejected port. Admit exactly that, or the client waits for a timeout. */
void expand_reject_answers(struct exp *x)
{
	bool any_tcp = false;
	VEC(struct ir_rule) answers = {0};
	for (int g = 0; g < G_COUNT; g++) {
		for (size_t i = 0; i < x->g[g].n; i++) {
			const struct ir_rule *r = &x->g[g].v[i];
			if (r->action != IR_REJECT || ir_rule_proto(r) != IR_TCP)
				continue;
			any_tcp = true;
			if (!x->r->stateless)
				continue;
			struct ir_rule a = ir_rule_copy(r);
			a.hook = IR_OUTPUT;
			ir_rule_mirror(&a);
			ir_match_del(&a, IR_M_IIF); /* it leaves from this host, whatever the interfaces */
			ir_match_del(&a, IR_M_OIF);
			ir_rule_set_tcp_flags(&a, IR_M_TCP_FLAGS, TCPF_RST, TCPF_RST);
			a.action = IR_ACCEPT;
			a.log = false;
			a.origin.reply = true;
			VEC_PUSH(answers, a);
		}
	}
	for (size_t i = 0; i < answers.n; i++)
		expand_push(x, G_ALLOW, &answers.v[i]);
	VEC_FREE(answers);
	if (any_tcp && !x->r->stateless) {
		struct ir_rule r;
		ir_rule_init(&r);
		ir_rule_set_proto(&r, IR_TCP);
		ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS, TCPF_RST, TCPF_RST);
		ir_rule_set_ct_state(&r, CT_RELATED);
		r.action = IR_ACCEPT;
		builtin(x, IR_OUTPUT, IR_ANY, "TCP resets answering a reject", &r);
	}
}

void expand_log_unmatched(struct exp *x)
{
	static const enum ir_hook hooks[] = {IR_INPUT, IR_FORWARD, IR_OUTPUT};
	for (size_t h = 0; h < 3; h++) {
		struct ir_rule r;
		ir_rule_init(&r);
		r.action = IR_LOG;
		r.log = true;
		r.logopt = x->r->log_unmatched_opt;
		r.hook = hooks[h];
		r.origin.builtin = ir_intern(x->rs, "log unmatched");
		const struct ir_limit *l = &x->r->log_unmatched_limit;
		if (l->rate && l->per_source) { /* a meter holds the sources of one family */
			for (int fam = IR_V4; fam <= IR_V6; fam += 2) {
				struct ir_rule f = ir_rule_copy(&r);
				f.family = (uint8_t)fam;
				ir_match_put(&f, IR_M_LIMIT)->u.limit = *l;
				expand_push(x, G_TAIL, &f);
			}
			ir_rule_free(&r);
			continue;
		}
		if (l->rate) /* one budget for the chain (per family with iptables) */
			ir_match_put(&r, IR_M_LIMIT)->u.limit = *l;
		expand_push(x, G_TAIL, &r); /* after every other rule: what falls through */
	}
}

/* `zone NAME { ... default reject; }`: what arrives by the zone's interfaces (input and
 * forward) and no rule decided is rejected: TCP with a reset, everything else with an ICMP
 * (ICMPv6) port unreachable; `default deny` is the chains' own drop. After every rule and the
 * log of unmatched packets, so it only ever decides what would have been dropped. */
void expand_zone_defaults(struct exp *x)
{
	static const enum ir_hook hooks[] = {IR_INPUT, IR_FORWARD};
	for (size_t z = 0; z < x->r->zones.n; z++) {
		const struct zone *zn = &x->r->zones.v[z];
		if (zn->deflt != ACT_REJECT)
			continue;
		char *own = xasprintf("zone %s default reject", zn->name);
		const char *text = ir_keep(x->rs, own);
		free(own);
		VEC_PUSH(x->rs->texts, text);
		for (size_t h = 0; h < 2; h++) {
			for (int tcp = 1; tcp >= 0; tcp--) {
				struct ir_rule r;
				ir_rule_init(&r);
				r.hook = hooks[h];
				r.family = IR_ANY;
				struct ir_ifset *ifs = &ir_match_put(&r, IR_M_IIF)->u.ifs;
				ifs->n = zn->ifaces.n;
				ifs->v = xmalloc(ifs->n * sizeof(char *));
				for (size_t i = 0; i < ifs->n; i++)
					ifs->v[i] = xstrdup(zn->ifaces.v[i]);
				if (tcp)
					ir_rule_set_proto(&r, IR_TCP);
				r.action = IR_REJECT;
				r.origin.file = expand_file(x, zn->default_loc.src);
				r.origin.line = zn->default_loc.first_line;
				r.origin.col = zn->default_loc.first_column;
				r.origin.stmt = text;
				expand_push(x, G_TAIL, &r);
			}
		}
	}
}

/* `zone NAME { interface docker0, "br-*"; forward owned; }`: the forwarded packets that come in
 * or go out by the zone's interfaces pass pinhole's forward chain, and the tables of the
 * bridges' owner (Docker's or libvirt's iptables-nft rules) decide them: in nftables a drop in
 * any base chain is final, so pinhole's drop would otherwise decide for them too. First in the
 * chain (G_SCOPE comes before every rule): exactly these packets, and nothing pinhole says
 * about the zone's forwarding applies (check warns about such rules). Input from the zone
 * stays pinhole's decision. */
void expand_zone_owned(struct exp *x)
{
	for (size_t z = 0; z < x->r->zones.n; z++) {
		const struct zone *zn = &x->r->zones.v[z];
		if (!zn->owned)
			continue;
		char *own = xasprintf("zone %s forward owned", zn->name);
		const char *text = ir_keep(x->rs, own);
		free(own);
		VEC_PUSH(x->rs->texts, text);
		for (int dir = 0; dir < 2; dir++) {
			struct ir_rule r;
			ir_rule_init(&r);
			r.hook = IR_FORWARD;
			r.family = IR_ANY;
			struct ir_ifset *ifs = &ir_match_put(&r, dir ? IR_M_OIF : IR_M_IIF)->u.ifs;
			ifs->n = zn->ifaces.n;
			ifs->v = xmalloc(ifs->n * sizeof(char *));
			for (size_t i = 0; i < ifs->n; i++)
				ifs->v[i] = xstrdup(zn->ifaces.v[i]);
			r.action = IR_ACCEPT;
			r.owned = true;
			r.origin.file = expand_file(x, zn->owned_loc.src);
			r.origin.line = zn->owned_loc.first_line;
			r.origin.col = zn->owned_loc.first_column;
			r.origin.stmt = text;
			expand_push(x, G_SCOPE, &r);
		}
	}
}
