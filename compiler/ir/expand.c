/*
 * Expansion of resolved rules into IR.
 *
 * A flow runs from its initiator to its responder; ports are always "initiator's sport,
 * responder's dport". On a host, a flow whose initiator matches the host's role becomes an
 * output rule towards the peer, one whose responder matches becomes an input rule from the
 * peer. On a gateway, the `from` side plays client and the `to` side server, and rules land
 * in the forward chain. Rules are grouped so that built-ins come first, then deny/reject, then
 * allows, then the probes apps reject (flow option `reject`), then the log of unmatched
 * packets: deny wins over allow wherever it was written, and any allow wins over an app's
 * reject of a probe. Before them all, the established packets of control flows refresh the
 * sets that scope negotiated channels (they decide nothing).
 */
#include <stdlib.h>
#include <string.h>

#include "expand.h"
#include "expand_int.h"
#include "scope.h"

static void origin_for(struct exp *x, struct ir_origin *o, const struct dirctx *c)
{
	memset(o, 0, sizeof(*o));
	o->stmt_no = (int)(c->rr - x->r->rules.v) + 1;
	/* The path as typed, cleaned: "./fw.pin" and "fw.pin" make the same rules (and rule
	 * comments, which status and apply compare). */
	o->file = expand_file(x, c->rr->loc.src);
	o->line = c->rr->loc.first_line;
	o->col = c->rr->loc.first_column;
	o->stmt = x->rs->texts.v[o->stmt_no - 1];
	/* Flows of one app (and a port literal's app and flow) share their strings: each is
	 * interned once per pointer met, not once per rule. */
	if (c->f->app != x->last_app) {
		x->last_app = c->f->app;
		x->last_app_in = ir_intern(x->rs, c->f->app);
	}
	o->app = x->last_app_in;
	o->flow = c->f->name == c->f->app ? o->app : ir_intern(x->rs, c->f->name);
	if (c->f->file != x->last_flow_file) {
		x->last_flow_file = c->f->file;
		x->last_flow_file_in = ir_intern(x->rs, c->f->file);
	}
	o->flow_file = x->last_flow_file_in;
	o->flow_line = c->f->line;
}

const char *expand_file(struct exp *x, const struct source *src)
{
	/* the same source as the rule before: no need to clean its name again */
	if (src != x->file_src) {
		char *clean = util_path_clean(src->name);
		x->file_src = src;
		x->file = ir_intern(x->rs, clean);
		free(clean);
	}
	return x->file;
}

static size_t seen_slot(const struct seen *s, uint32_t gen, uint64_t h, size_t from)
{
	size_t i = from & (s->cap - 1);
	while (s->gen[i] == gen && s->hash[i] != h)
		i = (i + 1) & (s->cap - 1);
	return i;
}

static void seen_grow(struct seen *s, uint32_t gen)
{
	struct seen old = *s;
	s->cap = old.cap ? old.cap * 2 : 64;
	s->hash = xcalloc(s->cap, sizeof(*s->hash));
	s->idx = xcalloc(s->cap, sizeof(*s->idx));
	s->gen = xcalloc(s->cap, sizeof(*s->gen));
	s->n = 0;
	for (size_t i = 0; i < old.cap; i++) {
		if (old.gen[i] != gen)
			continue;
		size_t j = old.hash[i] & (s->cap - 1);
		while (s->gen[j] == gen)
			j = (j + 1) & (s->cap - 1);
		s->hash[j] = old.hash[i];
		s->idx[j] = old.idx[i];
		s->gen[j] = gen;
		s->n++;
	}
	free(old.hash);
	free(old.idx);
	free(old.gen);
}

/* Adds a rule to a group, unless the statement being expanded already made the same one: a
 * symmetric flow (e.g. "any <-> any ... dport same") can yield the same rule twice. Found by
 * hash, so a statement of 10,000 apps or ports costs linear time. */
void expand_push(struct exp *x, enum group g, struct ir_rule *r)
{
	struct seen *s = &x->seen[g];
	if ((s->n + 1) * 2 > s->cap)
		seen_grow(s, x->gen);
	uint64_t h = ir_rule_hash(r);
	size_t i = h & (s->cap - 1);
	for (;; i = (i + 1) & (s->cap - 1)) {
		i = seen_slot(s, x->gen, h, i);
		if (s->gen[i] != x->gen)
			break;
		struct ir_rule *old = &x->g[g].v[s->idx[i]];
		if (ir_rule_equal(old, r)) {
			/* A symmetric flow's rule and another direction's mirrored return rule can
			 * coincide: the rule is then not only return traffic. */
			old->origin.reply &= r->origin.reply;
			ir_rule_free(r);
			return;
		}
	}
	s->hash[i] = h;
	s->idx[i] = x->g[g].n;
	s->gen[i] = x->gen;
	s->n++;
	ir_rule_pack(x->rs, r);
	VEC_PUSH(x->g[g], *r);
}

/* A rule that logs: its statement's log options; a log with a limit of its own is a rule of
 * its own (log and go on), just before, so that the limit spends no budget of the verdict. */
void expand_push_logged(struct exp *x, enum group g, struct ir_rule *r, const struct rrule *rr)
{
	if (r->log)
		r->logopt = rr->logopt;
	if (r->log && rrule_more(rr)->log_limit.rate) {
		struct ir_rule l = ir_rule_copy(r);
		l.action = IR_LOG;
		ir_match_put(&l, IR_M_LIMIT)->u.limit = rrule_more(rr)->log_limit;
		expand_push(x, g, &l);
		r->log = false;
	}
	expand_push(x, g, r);
}

/* A rule that decides, with its statement's rate limit (a reject over its budget drops).
 * Copies made before (helper
 * assignments, scope updates, return rules) stay unlimited: only the rule that admits new
 * connections spends the budget. Without conntrack every segment of a TCP connection meets
 * this rule, so the limit goes to the opening SYN alone and the connection's later segments
 * (ACK or RST set) pass as before; a UDP flow's every datagram spends the budget. */
void expand_push_decided(struct exp *x, enum group g, struct ir_rule *r, const struct rrule *rr)
{
	if (!rrule_more(rr)->limit.rate) {
		expand_push_logged(x, g, r, rr);
		return;
	}
	ir_match_put(r, IR_M_LIMIT)->u.limit = rrule_more(rr)->limit;
	if (r->action == IR_REJECT) {
		/* answers within the budget; what exceeds it must not go on to the allows */
		struct ir_rule quiet = ir_rule_copy(r);
		ir_match_del(&quiet, IR_M_LIMIT);
		quiet.action = IR_DROP;
		quiet.log = false;
		expand_push_logged(x, g, r, rr);
		expand_push(x, g, &quiet);
		return;
	}
	if (x->r->stateless && ir_rule_proto(r) == IR_TCP && r->action == IR_ACCEPT &&
	    !ir_match_get(r, IR_M_TCP_FLAGS) && !ir_match_get(r, IR_M_TCP_FLAGS_ANY)) {
		struct ir_rule rest = ir_rule_copy(r);
		ir_match_del(&rest, IR_M_LIMIT);
		ir_rule_set_tcp_flags(&rest, IR_M_TCP_FLAGS_ANY, TCPF_ACK | TCPF_RST, 0);
		ir_rule_set_tcp_flags(r, IR_M_TCP_FLAGS, TCPF_SYN | TCPF_ACK | TCPF_RST, TCPF_SYN);
		expand_push_logged(x, g, r, rr);
		expand_push_logged(x, g, &rest, rr);
		return;
	}
	expand_push_logged(x, g, r, rr);
}

/* The peer's addresses of one family as a match; none when the peer is unrestricted. */
static void put_addrs(struct ir_rule *r, enum ir_match_kind k, const struct peer *p, uint8_t family)
{
	if (!p || !p->addrs.n)
		return;
	struct ir_addrset *dst = &ir_match_put(r, k)->u.addrs;
	for (size_t i = 0; i < p->addrs.n; i++)
		if (p->addrs.v[i].family == family)
			dst->n++;
	dst->v = xmalloc(dst->n * sizeof(*dst->v));
	size_t n = 0;
	for (size_t i = 0; i < p->addrs.n; i++)
		if (p->addrs.v[i].family == family)
			dst->v[n++] = p->addrs.v[i];
	if (p->setname)
		dst->name = xstrdup(p->setname);
}

static void put_ifaces(struct ir_rule *r, enum ir_match_kind k, const struct peer *p)
{
	if (!p || !p->zone || !p->zone->ifaces.n)
		return;
	struct ir_ifset *dst = &ir_match_put(r, k)->u.ifs;
	dst->n = p->zone->ifaces.n;
	dst->v = xmalloc(dst->n * sizeof(char *));
	for (size_t i = 0; i < dst->n; i++)
		dst->v[i] = xstrdup(p->zone->ifaces.v[i]);
}

static void put_ports(struct ir_rule *r, enum ir_match_kind k, const struct ir_portset *p)
{
	if (p->n)
		ir_rule_set_ports(r, k, p->v, p->n);
}

/* Which families a direction needs: restricted peers narrow it; ICMP and broadcasts need a
 * concrete one. Returns a bit mask: 1 = v4, 2 = v6, 0 = nothing; *any = one rule for both. */
static int families(const struct dirctx *c, bool *any)
{
	int fam = 3;
	bool restricted = false;
	const struct peer *ps[2] = {c->src, c->dst};
	for (int k = 0; k < 2; k++) {
		if (!ps[k] || !ps[k]->addrs.n)
			continue;
		restricted = true;
		int here = 0;
		for (size_t i = 0; i < ps[k]->addrs.n; i++)
			here |= ps[k]->addrs.v[i].family == IR_V4 ? 1 : 2;
		fam &= here;
	}
	if (c->f->broadcast) {
		fam &= 1;
		restricted = true;
	}
	*any = !restricted && !(c->f->protos & PROTO_BIT_ICMP);
	return fam;
}

/* A scoped channel's rules, and its control flows' set updates, exist for allows only: a
 * deny or reject of the app stays as broad as written. */
static bool scoped(const struct dirctx *c)
{
	return c->f->on.n && c->rr->action == ACT_ALLOW;
}

/* The end of this direction where the statement's peer is: the role its sets hold. */
static bool peer_is_src(const struct dirctx *c)
{
	return c->src_role == scope_peer_role(c->rr);
}

/* Just before the accept of a control flow: record the peer in the set of every channel of
 * the app scoped to this flow, for exactly the packets the accept admits. With conntrack,
 * the connection's later packets pass the built-in rule for established connections before
 * they get here, so a copy for them comes before the built-ins: every packet of the
 * connection keeps the peer's timer fresh. */
/* pinholed's copies of a control connection for channel `data`: every packet of both
 * directions, before the accept of the first and, with conntrack, before the built-in that
 * admits established traffic (the parser needs the whole conversation). They decide nothing. */
static void emit_helper_copies(struct exp *x, const struct dirctx *c, const struct ir_rule *acc,
			       const struct rflow *data)
{
	struct ir_rule a = ir_rule_copy(acc);
	a.action = IR_HELPER_COPY;
	a.helper = xstrdup(data->negotiated);
	a.log = false;
	struct ir_rule back = ir_rule_copy(&a);
	ir_rule_mirror(&back);
	back.hook = c->hook == IR_INPUT ? IR_OUTPUT : c->hook == IR_OUTPUT ? IR_INPUT : c->hook;
	ir_match_del(&back, IR_M_TCP_FLAGS);
	ir_match_del(&back, IR_M_TCP_FLAGS_ANY);
	if (!x->r->stateless) {
		struct ir_rule e = ir_rule_copy(&a);
		ir_rule_set_ct_state(&e, CT_ESTABLISHED);
		expand_push(x, G_SCOPE, &e);
		ir_rule_set_ct_state(&back, CT_ESTABLISHED);
	}
	expand_push(x, G_SCOPE, &back);
	expand_push(x, G_ALLOW, &a); /* two channels of one parser: expand_push() keeps one */
}

/* A relayed IRC channel without pinholed (`negotiated static;`, the iptables targets) falls
 * back to the kernel's irc helper, in stateful mode: the IPv4 offers this host sends. */
static bool relayed_kernel_fallback(const struct exp *x, const struct rflow *f)
{
	return f->relayed && !x->r->stateless && f->negotiated && !strcmp(f->negotiated, "irc");
}

static bool family_has_v4(const struct ir_rule *r)
{
	return r->family == IR_ANY || r->family == IR_V4;
}

static void emit_scope_adds(struct exp *x, const struct dirctx *c, const struct ir_rule *acc)
{
	if (c->rr->action != ACT_ALLOW || !scope_is_control(c->app, c->f))
		return;
	for (size_t i = 0; i < c->app->flows.n; i++) {
		const struct rflow *data = &c->app->flows.v[i];
		bool on = false;
		for (size_t k = 0; data->app == c->f->app && k < data->on.n; k++)
			on |= !strcmp(data->on.v[k], c->f->name);
		if (!on)
			continue;
		if (data->relayed && c->rr->role == ROLE_SERVER)
			continue; /* the relay takes no part in the clients' channel: nothing to read */
		if (data->relayed && !scope_is_pinhole(x->r, data)) {
			/* no peers to remember; a client host's IRC control flow gets the kernel's
			 * irc helper (a gateway has no rule for the connection it would expect) */
			if (relayed_kernel_fallback(x, data) && family_has_v4(acc) && c->hook == IR_OUTPUT) {
				struct ir_rule h = ir_rule_copy(acc);
				h.hook = c->hook == IR_INPUT ? IR_PREROUTING : c->hook;
				h.action = IR_SET_HELPER;
				ir_rule_set_ct_state(&h, CT_NEW);
				h.helper = xstrdup("irc");
				h.log = false;
				expand_push(x, G_ALLOW, &h);
			}
			continue;
		}
		if (scope_is_pinhole(x->r, data)) {
			emit_helper_copies(x, c, acc, data);
			continue;
		}
		for (int fam = IR_V4; fam <= IR_V6; fam += 2) {
			if (acc->family && acc->family != fam)
				continue;
			struct ir_rule a = ir_rule_copy(acc);
			a.family = (uint8_t)fam;
			a.action = IR_SET_ADD;
			a.add_set.name = xstrdup(scope_set(x->rs, acc->origin.stmt_no, data,
							   scope_peer_role(c->rr), c->hook == IR_FORWARD,
							   (uint8_t)fam));
			a.add_set.src = peer_is_src(c);
			a.log = false;
			if (!x->r->stateless) {
				struct ir_rule e = ir_rule_copy(&a);
				ir_rule_set_ct_state(&e, CT_ESTABLISHED);
				expand_push(x, G_SCOPE, &e);
			}
			expand_push(x, G_ALLOW, &a); /* two channels on one set: expand_push() keeps one */
		}
	}
}

/* Internal to the expansion of `any`: its TCP part (see emit_direction_once). */
enum { PROTO_BIT_ALL_TCP = 32 };

static void emit_one(struct exp *x, const struct dirctx *c, uint8_t family, int protobit)
{
	const struct rflow *f = c->f;
	bool stateless = x->r->stateless;
	struct ir_rule r;
	ir_rule_init(&r);
	r.hook = c->hook;
	r.family = family;
	put_ifaces(&r, IR_M_IIF, c->src);
	put_ifaces(&r, IR_M_OIF, c->dst);
	if (family) {
		put_addrs(&r, IR_M_SADDR, c->src, family);
		put_addrs(&r, IR_M_DADDR, c->dst, family);
	}
	if (protobit == PROTO_BIT_ALL_TCP)
		ir_rule_set_proto(&r, IR_TCP); /* `reject any`: TCP first, to answer with a reset */
	else if (protobit != PROTO_BIT_ALL)
		ir_rule_set_proto(&r, protobit == PROTO_BIT_TCP ? IR_TCP : protobit == PROTO_BIT_UDP ? IR_UDP
				  : protobit == PROTO_BIT_ESP ? IR_ESP : family == IR_V6 ? IR_ICMPV6 : IR_ICMP);
	origin_for(x, &r.origin, c);
	bool pinhole = scoped(c) && scope_is_pinhole(x->r, f);
	if (scoped(c) && f->relayed && !pinhole) {
		/* A port a third party chose, offered through a server: no static reading of it
		 * is narrow (the peer is nobody this host talked to). IRC's fallback is the
		 * kernel's irc helper (attached to the control flow in emit_scope_adds): it
		 * expects the connection to an offer this host sends, IPv4 only. Otherwise, and
		 * on the receiver's side, the channel stays closed. */
		if (relayed_kernel_fallback(x, f) && c->hook == IR_INPUT && family == IR_V4) {
			ir_match_del(&r, IR_M_SPORT);
			ir_match_del(&r, IR_M_DPORT);
			ir_rule_set_ct_state(&r, CT_RELATED);
			ir_match_put(&r, IR_M_CT_HELPER)->u.helper = xstrdup("irc");
			r.action = IR_ACCEPT;
			r.log = c->rr->log;
			expand_push_logged(x, G_ALLOW, &r, c->rr);
			return;
		}
		ir_rule_free(&r);
		return;
	}
	if (pinhole && f->relayed) {
		/* The receiver connects out to the address the relayed offer named (peer .
		 * local . protocol . port); the sender listens for a peer nobody named (local .
		 * protocol . port). A gateway's rule runs from the client side out: a receiver's. */
		struct ir_setref *in = &ir_match_put(&r, IR_M_IN_SET)->u.set;
		bool sender = c->hook == IR_INPUT;
		in->name = xstrdup(sender ? scope_listen_set(x->rs, r.origin.stmt_no, f, family)
				   : scope_pinhole_set(x->rs, r.origin.stmt_no, f, ROLE_CLIENT,
						       c->hook == IR_FORWARD, family));
		in->src = sender;
		in->keyed = true;
		in->peerless = sender;
	} else if (pinhole) {
		/* pinholed opens the exact port to the exact peer: the set holds both */
		struct ir_setref *in = &ir_match_put(&r, IR_M_IN_SET)->u.set;
		in->name = xstrdup(scope_pinhole_set(x->rs, r.origin.stmt_no, f, scope_peer_role(c->rr),
						     c->hook == IR_FORWARD, family));
		in->src = peer_is_src(c);
		in->keyed = true;
	} else if (scoped(c)) {
		struct ir_setref *in = &ir_match_put(&r, IR_M_IN_SET)->u.set;
		in->name = xstrdup(scope_set(x->rs, r.origin.stmt_no, f,
					     scope_peer_role(c->rr), c->hook == IR_FORWARD, family));
		in->src = peer_is_src(c);
	}
	r.log = c->rr->log;
	bool is_icmp = protobit == PROTO_BIT_ICMP;
	if (pinhole) {
		/* The listener's port is in the set; the flow's ports were the static fallback.
		 * The initiator's source ports stay (a reserved port, say). */
		if (!f->same_port)
			put_ports(&r, IR_M_SPORT, &f->sport);
	} else if (!is_icmp && protobit != PROTO_BIT_ALL && protobit != PROTO_BIT_ALL_TCP) {
		if (f->same_port) {
			put_ports(&r, IR_M_SAME_PORT, &f->sport);
		} else {
			put_ports(&r, IR_M_SPORT, &f->sport);
			put_ports(&r, IR_M_DPORT, &f->dport);
		}
	}
	if (is_icmp && f->icmp_types.n) {
		/* One rule per type the family has. */
		for (size_t i = 0; i < f->icmp_types.n; i++) {
			int t = icmp_type_lookup(f->icmp_types.v[i], family);
			if (t < 0)
				continue;
			struct ir_rule t_r = ir_rule_copy(&r);
			ir_rule_set_icmp_type(&t_r, (uint8_t)t);
			if (c->rr->action != ACT_ALLOW) {
				t_r.action = c->rr->action == ACT_DENY ? IR_DROP : IR_REJECT;
				expand_push_decided(x, G_DENY, &t_r, c->rr);
				continue;
			}
			t_r.action = IR_ACCEPT;
			if (stateless)
				expand_reply(x, &t_r, f);
			emit_scope_adds(x, c, &t_r);
			expand_push_decided(x, G_ALLOW, &t_r, c->rr);
		}
		ir_rule_free(&r);
		return;
	}
	if (f->reject) {
		/* Only the side that receives the probe answers it, after every allow (an explicit
		 * allow of that port still wins). Deny and reject statements leave it alone: the
		 * probe is not something the app allows. */
		if (c->rr->action != ACT_ALLOW || c->hook == IR_OUTPUT) {
			ir_rule_free(&r);
			return;
		}
		r.action = IR_REJECT;
		expand_push(x, G_REJECT_FLOW, &r);
		return;
	}
	if (c->rr->action != ACT_ALLOW) {
		if (f->related) {
			ir_rule_free(&r);
			return; /* a helper's child cannot start on its own; nothing to deny */
		}
		r.action = c->rr->action == ACT_DENY ? IR_DROP : IR_REJECT;
		expand_push_decided(x, G_DENY, &r, c->rr);
		return;
	}
	r.action = IR_ACCEPT;
	/* A broadcast helper's answers are related only where the query was sent: the host
	 * that answers (this output rule) sees its answer as a new packet on the flow's ports. */
	bool answer_of_broadcast = f->related && helper_expects_at_sender_only(f->related) &&
				   c->hook == IR_OUTPUT;
	if (f->related && !stateless && !answer_of_broadcast) {
		/* Only what the helper expects: the exact address and port it read off the control
		 * connection. The flow's ports are the stateless fallback, not needed here. */
		ir_match_del(&r, IR_M_SPORT);
		ir_match_del(&r, IR_M_DPORT);
		ir_match_del(&r, IR_M_SAME_PORT);
		ir_rule_set_ct_state(&r, CT_RELATED);
		ir_match_put(&r, IR_M_CT_HELPER)->u.helper = xstrdup(f->related);
		expand_push_logged(x, G_ALLOW, &r, c->rr); /* a helper's child is no new connection to limit */
		return;
	}
	if (f->helper && !stateless) {
		struct ir_rule h = ir_rule_copy(&r);
		h.hook = c->hook == IR_INPUT ? IR_PREROUTING : c->hook;
		h.action = IR_SET_HELPER;
		ir_rule_set_ct_state(&h, CT_NEW);
		h.helper = xstrdup(f->helper);
		h.log = false;
		expand_push(x, G_ALLOW, &h);
	}
	if (stateless) {
		if (!pinhole) /* the mirrored return rule looks up the same pinhole */
			expand_warn_stateless(x, c, &r);
		expand_reply(x, &r, f);
	}
	emit_scope_adds(x, c, &r);
	expand_push_decided(x, G_ALLOW, &r, c->rr);
}

static void emit_direction_once(struct exp *x, const struct dirctx *c)
{
	bool any;
	int fams = families(c, &any);
	if (scoped(c) || rrule_more(c->rr)->limit.rate || rrule_more(c->rr)->log_limit.rate)
		any = false; /* a set holds addresses of one family; a budget is one family's */
	static const int protobits[] = {PROTO_BIT_TCP, PROTO_BIT_UDP, PROTO_BIT_ESP, PROTO_BIT_ICMP,
					PROTO_BIT_ALL_TCP, PROTO_BIT_ALL};
	for (size_t i = 0; i < sizeof protobits / sizeof protobits[0]; i++) {
		bool want = c->f->protos & protobits[i];
		/* `reject any`: its TCP rule first (a reset), then every protocol (unreachable) */
		if (protobits[i] == PROTO_BIT_ALL_TCP)
			want = (c->f->protos & PROTO_BIT_ALL) && c->rr->action == ACT_REJECT;
		if (!want)
			continue;
		if (any) {
			emit_one(x, c, IR_ANY, protobits[i]);
			continue;
		}
		if (fams & 1)
			emit_one(x, c, IR_V4, protobits[i]);
		if (fams & 2)
			emit_one(x, c, IR_V6, protobits[i]);
	}
}

/* The addresses a host without an address of its zone uses on the zone's link (flow option
 * `unaddressed`): as source, 0.0.0.0 and fe80::/10; as destination, the limited broadcast
 * 255.255.255.255, fe80::/10 and link-scope multicast ff02::/16. Only of the families the
 * zone itself has. */
static void unaddressed_peer(const struct peer *zp, bool as_src, struct peer *out)
{
	static const struct { const char *text; bool src, dst; } extra[] = {
		{"0.0.0.0", true, false}, {"255.255.255.255", false, true},
		{"fe80::/10", true, true}, {"ff02::/16", false, true},
	};
	memset(out, 0, sizeof(*out));
	out->given = true;
	out->loc = zp->loc;
	out->zone = zp->zone;
	bool fam[3] = {false, false, false};
	for (size_t i = 0; i < zp->addrs.n; i++)
		fam[zp->addrs.v[i].family == IR_V4 ? 1 : 2] = true;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		struct ir_prefix p;
		char *why = NULL;
		if (!(as_src ? extra[i].src : extra[i].dst) || !prefix_parse(extra[i].text, &p, &why)) {
			free(why);
			continue;
		}
		if (fam[p.family == IR_V4 ? 1 : 2])
			VEC_PUSH(out->addrs, p);
	}
}

static bool zone_with_addrs(const struct peer *p)
{
	return p && p->zone && p->zone->ifaces.n && p->addrs.n;
}

/* A flow that hosts without an address take part in (DHCP): a zone that restricts one side
 * also admits, on the zone's interfaces, the addresses such a host uses there; an address
 * list cannot (there is no interface to hold it to), which a note says. */
static void emit_direction(struct exp *x, const struct dirctx *c)
{
	emit_direction_once(x, c);
	/* Forwarded: 0.0.0.0 and the limited broadcast are never routed; a relay is a host. */
	if (!c->f->unaddressed || c->rr->action != ACT_ALLOW || c->hook == IR_FORWARD)
		return;
	const struct peer *sides[2] = {c->src, c->dst};
	for (int k = 0; k < 2; k++) {
		const struct peer *p = sides[k];
		if (!p || !p->given || !p->addrs.n)
			continue;
		if (p == &rrule_more(c->rr)->local) {
			/* `on ADDRS` is this host's own end: it stays as written, and says so once */
			bool said = false;
			for (size_t i = 0; i < x->warned.n && !said; i++)
				said = !strcmp(x->warned.v[i], "unaddressed on");
			if (k == 1 && c->hook == IR_INPUT && !said) {
				VEC_PUSH(x->warned, xstrdup("unaddressed on"));
				diag_note(x->d, &p->loc,
					  "%s flow '%s' is also used by hosts without an address yet, which send "
					  "to 255.255.255.255 or ff02::/16: 'on' admits only what is addressed "
					  "to these addresses", c->f->app, c->f->name);
			}
			continue;
		}
		if (!zone_with_addrs(p)) {
			char *key = xasprintf("unaddressed %s", c->f->app);
			bool seen = false;
			for (size_t i = 0; i < x->warned.n && !seen; i++)
				seen = !strcmp(x->warned.v[i], key);
			if (seen) {
				free(key);
				continue;
			}
			VEC_PUSH(x->warned, key);
			diag_note(x->d, &p->loc,
				  "%s flow '%s' (and any other 'unaddressed' flow of it) is also used by hosts "
				  "without an address yet (from 0.0.0.0, to 255.255.255.255, link-local): an "
				  "address list cannot match them; a zone with interfaces can",
				  c->f->app, c->f->name);
			continue;
		}
		struct peer extra;
		unaddressed_peer(p, k == 0, &extra);
		if (extra.addrs.n) {
			struct dirctx v = *c;
			if (k == 0)
				v.src = &extra;
			else
				v.dst = &extra;
			emit_direction_once(x, &v);
		}
		VEC_FREE(extra.addrs);
	}
}

static bool role_at(enum role end, enum role host)
{
	return end == host || end == ROLE_ANY;
}

/* A list of IPv4 hosts only (every prefix a /32, none the limited broadcast): it holds no
 * broadcast address, so this host's broadcasts to the list go nowhere. */
static bool hosts_only_v4(const struct peer *p)
{
	bool v4 = false;
	for (size_t i = 0; i < p->addrs.n; i++) {
		const struct ir_prefix *a = &p->addrs.v[i];
		if (a->family != IR_V4)
			continue;
		static const uint8_t all[4] = {255, 255, 255, 255};
		if (a->len != 32 || !memcmp(a->addr, all, 4))
			return false;
		v4 = true;
	}
	return v4;
}

static void expand_host_flow(struct exp *x, const struct rrule *rr, const struct rapp *app,
			     const struct rflow *f)
{
	const struct peer *peer = rr->role == ROLE_CLIENT ? &rr->server_side : &rr->client_side;
	enum role restricted = rr->role == ROLE_CLIENT ? ROLE_SERVER : ROLE_CLIENT;
	enum role ends[2][2] = {{f->from, f->to}, {f->to, f->from}};
	int ndirs = f->both_ways && f->from != f->to ? 2 : 1;
	bool done[IR_HOOK_COUNT] = {0};
	bool noted = false;
	for (int k = 0; k < ndirs; k++) {
		enum role init = ends[k][0], resp = ends[k][1];
		for (int side = 0; side < 2; side++) {
			bool host_here = role_at(side == 0 ? init : resp, rr->role);
			if (!host_here)
				continue;
			enum ir_hook hook = side == 0 ? IR_OUTPUT : IR_INPUT;
			if (done[hook])
				continue;
			done[hook] = true;
			enum role other = side == 0 ? resp : init;
			if (peer->given && other != restricted && other != ROLE_ANY && !noted) {
				diag_note_id(x->d, DIAG_N_PEER_RESTRICTION, &peer->loc,
					  "%s flow '%s' runs between %ss; this restriction applies to those peers too",
					  f->app, f->name, ast_role_name(other));
				noted = true;
			}
			if (side == 0 && peer->given && f->broadcast && rr->action == ACT_ALLOW &&
			    hosts_only_v4(peer))
				diag_note_id(x->d, DIAG_N_BROADCAST_RESTRICTION, &peer->loc,
					     "%s flow '%s' carries broadcasts: this restriction also limits this "
					     "host's broadcasts to the hosts listed, and no broadcast address is "
					     "among them (add the subnet's, e.g. 10.0.0.255, or a subnet)",
					     f->app, f->name);
			/* `on ADDRS`: this host's end, the source of what it sends and the
			 * destination of what it receives */
			const struct peer *local = rrule_more(rr)->local.given ? &rrule_more(rr)->local : NULL;
			struct dirctx c = {.rr = rr, .app = app, .f = f, .hook = hook,
					   .src = side == 1 ? (peer->given ? peer : NULL) : local,
					   .dst = side == 0 ? (peer->given ? peer : NULL) : local,
					   .src_role = init, .dst_role = resp};
			emit_direction(x, &c);
		}
	}
}

static const struct peer *gw_side(const struct rrule *rr, enum role r)
{
	return r == ROLE_SERVER ? &rr->server_side : &rr->client_side;
}

static const struct peer *gw_other(const struct rrule *rr, enum role r)
{
	return r == ROLE_SERVER ? &rr->client_side : &rr->server_side;
}

static void expand_gateway_flow(struct exp *x, const struct rrule *rr, const struct rapp *app,
				const struct rflow *f)
{
	const struct peer *src, *dst;
	if (f->from == f->to) {
		src = &rr->client_side; /* peers: from the `from` zone to the `to` zone */
		dst = &rr->server_side;
	} else if (f->from == ROLE_ANY) {
		src = gw_other(rr, f->to);
		dst = gw_side(rr, f->to);
	} else if (f->to == ROLE_ANY) {
		src = gw_side(rr, f->from);
		dst = gw_other(rr, f->from);
	} else {
		src = gw_side(rr, f->from);
		dst = gw_side(rr, f->to);
	}
	struct dirctx c = {.rr = rr, .app = app, .f = f, .hook = IR_FORWARD, .src = src, .dst = dst,
			   .src_role = f->from, .dst_role = f->to};
	emit_direction(x, &c);
	if (f->both_ways) {
		c.src = dst;
		c.dst = src;
		c.src_role = f->to;
		c.dst_role = f->from;
		emit_direction(x, &c);
	}
}

struct exp *expand_begin(struct resolved *r, struct ir_ruleset *out, struct diags *d)
{
	struct exp *x = xcalloc(1, sizeof(*x));
	*x = (struct exp){.r = r, .d = d, .rs = out, .gen = 1, .errors = d->errors};
	memset(out, 0, sizeof(*out));
	out->stateless = r->stateless;
	/* one text per rule statement: resolve has room for exactly those */
	if (r->rules.cap) {
		out->texts.v = xmalloc(r->rules.cap * sizeof(*out->texts.v));
		out->texts.cap = r->rules.cap;
	}
	expand_builtins(x);
	return x;
}

void expand_rule(struct exp *x, size_t i)
{
	struct resolved *r = x->r;
	const struct rrule *rr = &r->rules.v[i];
	/* Each statement's text is copied into the ruleset's strings (a consumed rule's own copy
	 * goes with it): written one after the other, not one allocation each between the
	 * front's. */
	VEC_PUSH(x->rs->texts, ir_keep(x->rs, rr->text));
	for (int g = 0; g < G_COUNT; g++) {
		x->stmt_start[g] = x->g[g].n;
		x->seen[g].n = 0;
	}
	x->gen++;
	for (size_t w = 0; w < x->warned.n; w++)
		free(x->warned.v[w]);
	x->warned.n = 0;
	/* A consumed statement's names may be freed and their memory reused by the next one's:
	 * the look-up caches start again. */
	x->last_app = x->last_flow_file = NULL;
	if (rr->action == ACT_MASQUERADE || rr->action == ACT_SNAT || rr->action == ACT_FORWARD) {
		expand_nat(x, rr);
	} else if (rr->any && rr->action == ACT_ALLOW && r->stateless) {
		/* Without conntrack, the answers of "every protocol" would be every packet
		 * back: refuse rather than open the other direction too. */
		diag_error(x->d, &rrule_more(rr)->any_loc, "'allow any' needs connection tracking: without it "
			   "the answers would be every packet the other way ('established only' "
			   "has none); name the apps instead");
	} else {
		for (size_t a = 0; a < rr->apps.n; a++) {
			const struct rapp *app = rr->apps.v[a];
			/* A bundle's flows keep the app that defines them, for provenance. */
			for (size_t k = 0; k < app->flows.n; k++) {
				if (rr->role == ROLE_NONE)
					expand_gateway_flow(x, rr, app, &app->flows.v[k]);
				else
					expand_host_flow(x, rr, app, &app->flows.v[k]);
			}
		}
	}
	if (r->consume)
		expand_consume(r, i, &x->lit);
}

bool expand_end(struct exp *x)
{
	struct ir_ruleset *out = x->rs;
	for (size_t w = 0; w < x->warned.n; w++)
		free(x->warned.v[w]);
	VEC_FREE(x->warned);
	for (int g = 0; g < G_COUNT; g++) {
		x->stmt_start[g] = x->g[g].n;
		x->seen[g].n = 0;
	}
	x->gen++;
	if (x->r->log_unmatched)
		expand_log_unmatched(x); /* logs first: a zone's default reject decides after it */
	expand_zone_defaults(x);
	expand_zone_owned(x);
	expand_reject_answers(x);
	/* The groups one after the other, in a vector of exactly their size: the largest group's
	 * own (resized, its rules moved up), so that the rules are never all there twice. */
	size_t total = 0, ahead = 0;
	int big = 0;
	for (int g = 0; g < G_COUNT; g++) {
		total += x->g[g].n;
		if (x->g[g].n > x->g[big].n)
			big = g;
	}
	for (int g = 0; g < big; g++)
		ahead += x->g[g].n;
	if (x->g[big].n) {
		size_t nbig = x->g[big].n;
		out->rules.v = xrealloc(x->g[big].v, total * sizeof(*out->rules.v));
		memmove(out->rules.v + ahead, out->rules.v, nbig * sizeof(*out->rules.v));
		out->rules.cap = total;
		x->g[big].v = NULL;
		x->g[big].n = x->g[big].cap = 0;
		for (int g = 0; g < big; g++) {
			if (x->g[g].n)
				memcpy(out->rules.v + out->rules.n, x->g[g].v, x->g[g].n * sizeof(*x->g[g].v));
			out->rules.n += x->g[g].n;
			VEC_FREE(x->g[g]);
		}
		out->rules.n += nbig;
	}
	for (int g = big + 1; g < G_COUNT; g++) {
		if (x->g[g].n)
			memcpy(out->rules.v + out->rules.n, x->g[g].v, x->g[g].n * sizeof(*x->g[g].v));
		out->rules.n += x->g[g].n;
	}
	for (int g = 0; g < G_COUNT; g++) {
		VEC_FREE(x->g[g]);
		free(x->seen[g].hash);
		free(x->seen[g].idx);
		free(x->seen[g].gen);
	}
	ir_intern_done(out); /* only expansion interns: its table is a tenth of the IR's size */
	bool ok = x->d->errors == x->errors;
	free(x);
	return ok;
}

bool expand_policy(struct resolved *r, struct ir_ruleset *out, struct diags *d)
{
	struct exp *x = expand_begin(r, out, d);
	for (size_t i = 0; i < r->rules.n; i++)
		expand_rule(x, i);
	return expand_end(x);
}
