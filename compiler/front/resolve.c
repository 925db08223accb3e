/* Resolution: defines and zones, app checks, rules bound to apps and address lists. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "resolve.h"

#define MAX_SAME_PORTS 256

static size_t ports_count(const struct ast_ports *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->r.n; i++)
		n += (size_t)(p->r.v[i].hi - p->r.v[i].lo) + 1;
	return n;
}

/* A rejected flow is a probe answered at once, never opened: nothing that opens or widens a
 * connection goes with it. */
static void validate_reject(const struct ast_flow *f, struct diags *d)
{
	const char *what = f->helper.text ? "helper" : f->related.text ? "related"
			   : f->is_negotiated ? "negotiated" : f->broadcast ? "broadcast"
			   : f->fragments ? "fragments" : f->unaddressed ? "unaddressed"
			   : f->relayed ? "relayed" : NULL;
	if (what)
		diag_error(d, &f->loc, "flow '%s': a rejected flow is never opened; '%s' does not apply",
			   f->name, what);
	if (f->protos & (PROTO_BIT_ICMP | PROTO_BIT_ESP))
		diag_error(d, &f->loc, "flow '%s': 'reject' answers tcp and udp probes only", f->name);
	if (f->both_ways)
		diag_error(d, &f->loc, "flow '%s': a rejected probe has one direction; use '->'", f->name);
}

static bool client_server(const struct ast_flow *f)
{
	return f->from != f->to && f->from != ROLE_ANY && f->to != ROLE_ANY;
}

static const struct ast_flow *app_flow(const struct ast_app *a, const char *name)
{
	for (size_t j = 0; j < a->flows.n; j++)
		if (!strcmp(a->flows.v[j].name, name))
			return &a->flows.v[j];
	return NULL;
}

/* A control flow that is itself negotiated must be a scoped static channel whose own control
 * flows are opened for real: NFS's statd is agreed on statd-portmap (the server asks the
 * client's portmapper), which is open only to servers the client used (portmap). One step
 * only, so scopes never form a cycle; a helper channel opens pinholed's ports, not a
 * connection anyone can be remembered by. */
static void validate_scoped_control(const struct ast_app *a, const struct ast_flow *c,
				    const struct ast_word *w, struct diags *d)
{
	if (!c->on.n) {
		diag_error(d, &w->loc, "flow '%s' is negotiated itself; name the flow it is "
			   "agreed on, or scope it with 'on'", c->name);
		return;
	}
	if (c->negotiated.text && pinholed_parser_known(c->negotiated.text)) {
		diag_error(d, &w->loc, "flow '%s' is a helper channel ('negotiated %s'): pinholed "
			   "opens it, so it cannot scope another channel", c->name, c->negotiated.text);
		return;
	}
	for (size_t k = 0; k < c->on.n; k++) {
		const struct ast_flow *cc = app_flow(a, c->on.v[k].text);
		if (cc && cc->is_negotiated)
			diag_error(d, &w->loc, "flow '%s' is scoped by '%s', itself negotiated: a "
				   "control flow may be scoped by flows opened for real only", c->name,
				   cc->name);
	}
}

/* `relayed`: a channel between two clients whose offers the control flows' server relays
 * (IRC DCC, MSNFTP): pinholed opens, on the receiver, the outbound connection to the
 * address and port the offer names, and on the sender its own port to any peer. It needs a
 * parser that reads such offers and control flows to a server; nothing else is relayed. */
static bool validate_relayed(const struct ast_flow *f, struct diags *d)
{
	const char *neg = f->is_negotiated ? f->negotiated.text : NULL;
	if (!neg || !pinholed_parser_relays(neg) || !f->on.n) {
		diag_error(d, &f->relayed_loc, "flow '%s': 'relayed' needs 'negotiated irc' or "
			   "'negotiated msn' (the parsers that read relayed offers) with 'on' naming "
			   "the control flows to the server", f->name);
		return false;
	}
	if (f->from != ROLE_CLIENT || f->to != ROLE_CLIENT || f->both_ways) {
		diag_error(d, &f->relayed_loc, "flow '%s': a relayed channel runs one way between "
			   "clients ('client -> client'): the receiver of the offer connects to its sender",
			   f->name);
		return false;
	}
	if (f->protos != PROTO_BIT_TCP) {
		diag_error(d, &f->relayed_loc, "flow '%s': relayed offers (DCC, MSNFTP) are for tcp "
			   "connections only", f->name);
		return false;
	}
	return true;
}

/* `negotiated ... on FLOW, ...`: the channel is opened only to peers that used one of these
 * flows of the same app lately. That peer must be the peer of the channel: both flows run
 * between a client and a server, and the control flow is one the app opens for real. */
static void validate_scope(const struct ast_app *a, const struct ast_flow *f, struct diags *d)
{
	if (f->timeout && !f->on.n)
		diag_error(d, &f->timeout_loc, "flow '%s': 'timeout' applies to a negotiated channel "
			   "scoped with 'on'", f->name);
	if (f->program && (!f->is_negotiated || strcmp(f->negotiated.text, "rpc")))
		diag_error(d, &f->program_loc, "flow '%s': 'program' names the ONC RPC program of a "
			   "'negotiated rpc' channel", f->name);
	if (f->relayed && !validate_relayed(f, d))
		return;
	if (!f->on.n)
		return;
	if (!f->is_negotiated) {
		diag_error(d, &f->on_loc, "flow '%s': 'on' names the flows a negotiated channel is "
			   "agreed on; add 'negotiated'", f->name);
		return;
	}
	if (!f->relayed && !client_server(f)) {
		diag_error(d, &f->on_loc, "flow '%s' runs between %ss: its peer is not the peer of a "
			   "control flow, so it cannot be scoped; leave out 'on'", f->name,
			   ast_role_name(f->from == ROLE_ANY ? f->to : f->from));
		return;
	}
	if (f->broadcast)
		diag_error(d, &f->on_loc, "flow '%s': a broadcast has no single peer to scope it to",
			   f->name);
	for (size_t i = 0; i < f->on.n; i++) {
		const struct ast_word *w = &f->on.v[i];
		const struct ast_flow *c = NULL;
		for (size_t j = 0; j < a->flows.n && !c; j++)
			if (!strcmp(a->flows.v[j].name, w->text))
				c = &a->flows.v[j];
		for (size_t j = 0; j < i; j++)
			if (!strcmp(f->on.v[j].text, w->text))
				diag_error(d, &w->loc, "flow '%s' is named twice after 'on'", w->text);
		if (!c)
			diag_error(d, &w->loc, "app '%s' has no flow '%s' (a channel is scoped by a flow "
				   "of its own app)", a->name, w->text);
		else if (c == f)
			diag_error(d, &w->loc, "flow '%s' cannot be negotiated on itself", f->name);
		else if (c->related.text)
			diag_error(d, &w->loc, "flow '%s' is a child of the '%s' helper, not a control "
				   "connection of its own", c->name, c->related.text);
		else if (c->is_negotiated)
			validate_scoped_control(a, c, w, d);
		else if (c->reject)
			diag_error(d, &w->loc, "flow '%s' is a rejected probe, never opened", c->name);
		else if (c->broadcast)
			diag_error(d, &w->loc, "flow '%s' carries broadcasts: no single peer to remember",
				   c->name);
		else if (!client_server(c))
			diag_error(d, &w->loc, "flow '%s' does not run between a client and a server: "
				   "its peer cannot be told apart", c->name);
	}
}

bool resolve_validate_app(const struct ast_app *a, struct diags *d)
{
	size_t before = d->errors;
	enum diag_id stage = d->stage;
	d->stage = DIAG_E_APP;
	for (size_t i = 0; i < a->flows.n; i++) {
		const struct ast_flow *f = &a->flows.v[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->flows.v[j].name, f->name) == 0)
				diag_error(d, &f->loc, "app '%s' has two flows named '%s'", a->name, f->name);
		bool l4 = f->protos & (PROTO_BIT_TCP | PROTO_BIT_UDP);
		bool icmp = f->protos & PROTO_BIT_ICMP;
		if (icmp && (f->sport.r.n || f->dport.r.n || f->dport.same))
			diag_error(d, &f->loc, "flow '%s': ICMP has no ports; put ports in a tcp/udp flow",
				   f->name);
		bool esp = f->protos & PROTO_BIT_ESP;
		if (esp && (f->sport.r.n || f->dport.r.n || f->dport.same))
			diag_error(d, &f->loc, "flow '%s': ESP has no ports; put ports in a tcp/udp flow",
				   f->name);
		if (f->icmp_types.n && (l4 || esp))
			diag_error(d, &f->icmp_types.v[0].loc,
				   "flow '%s': 'type' applies to icmp only; split the flow", f->name);
		for (size_t j = 0; j < f->icmp_types.n; j++)
			if (!icmp_type_name_known(f->icmp_types.v[j].text))
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &f->icmp_types.v[j].loc, "unknown ICMP type '%s'",
					   f->icmp_types.v[j].text);
		if (f->dport.same) {
			if (!f->sport.r.n)
				diag_error(d, &f->dport.loc, "'dport same' needs 'sport' to give the ports");
			else if (ports_count(&f->sport) > MAX_SAME_PORTS)
				diag_error(d, &f->dport.loc, "'dport same' over more than %d ports",
					   MAX_SAME_PORTS);
		}
		const struct ast_word *hw[2] = {&f->helper, &f->related};
		for (int k = 0; k < 2; k++) {
			if (hw[k]->text && !helper_type_known(hw[k]->text))
				diag_error(d, &hw[k]->loc,
					   "no kernel conntrack helper '%s' (known: ftp, irc, sip, tftp, pptp, "
					   "snmp, amanda, sane, netbios-ns, Q.931, RAS)", hw[k]->text);
		}
		if (f->helper.text && f->related.text)
			diag_error(d, &f->related.loc, "a flow either attaches a helper or is its child, not both");
		if (f->helper.text && (icmp || esp || (f->protos & PROTO_BIT_TCP && f->protos & PROTO_BIT_UDP)))
			diag_error(d, &f->helper.loc, "a helper attaches to one protocol: tcp or udp");
		if (f->related.text && (icmp || esp))
			diag_error(d, &f->related.loc, "a helper's child flow is tcp or udp");
		if (f->related.text && f->both_ways)
			diag_error(d, &f->related.loc, "a helper's child flow has one direction; use '->'");
		if (f->related.text && f->is_negotiated)
			diag_error(d, &f->negotiated.loc, "'related' already says how the channel is negotiated");
		if (f->unaddressed && f->on.n)
			diag_error(d, &f->on_loc, "flow '%s': a host without an address is no peer to remember",
				   f->name);
		if (f->broadcast && (f->protos != PROTO_BIT_UDP))
			diag_error(d, &f->loc, "flow '%s': broadcasts are UDP only", f->name);
		if (f->reject)
			validate_reject(f, d);
		validate_scope(a, f, d);
	}
	d->stage = stage;
	return d->errors == before;
}

static struct define *find_define(struct resolved *r, const char *name)
{
	for (size_t i = 0; i < r->defines.n; i++)
		if (strcmp(r->defines.v[i].name, name) == 0)
			return &r->defines.v[i];
	return NULL;
}

static const struct zone *find_zone(const struct resolved *r, const char *name)
{
	for (size_t i = 0; i < r->zones.n; i++)
		if (strcmp(r->zones.v[i].name, name) == 0)
			return &r->zones.v[i];
	return NULL;
}

static const char *suggest_name(const struct resolved *r, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < r->defines.n; i++) {
		size_t dist = util_edit_distance(name, r->defines.v[i].name);
		if (dist < best_d) {
			best_d = dist;
			best = r->defines.v[i].name;
		}
	}
	for (size_t i = 0; i < r->zones.n; i++) {
		size_t dist = util_edit_distance(name, r->zones.v[i].name);
		if (dist < best_d) {
			best_d = dist;
			best = r->zones.v[i].name;
		}
	}
	return best;
}

/* Addresses written in a define or zone: literals only (names would need an order). */
static void parse_literals(const ast_words *w, prefix_vec *out, struct diags *d)
{
	for (size_t i = 0; i < w->n; i++) {
		struct ir_prefix p;
		char *why = NULL;
		if (!prefix_parse(w->v[i].text, &p, &why)) {
			diag_error(d, &w->v[i].loc, "%s", why);
			free(why);
			continue;
		}
		VEC_PUSH(*out, p);
	}
	prefixes_normalize(out);
}

static bool is_literal(const char *text)
{
	return (text[0] >= '0' && text[0] <= '9') || strchr(text, ':') != NULL;
}

/* A from/to list: literals and define names, or exactly one zone. */
/* After a syntax error: is `x` defined by a 'define X' or 'zone X' in its file that did not
 * parse? Then "unknown address name" would only repeat that error. */
static bool lost_to_syntax_error(const struct diags *d, const struct ast_word *x)
{
	bool syntax = false;
	for (size_t i = 0; i < d->n && !syntax; i++)
		syntax = d->v[i].sev == SEV_ERROR && d->v[i].id == DIAG_E_SYNTAX;
	const struct source *src = x->loc.src;
	if (!syntax || !src)
		return false;
	size_t n = strlen(x->text);
	for (const char *p = src->text, *end = src->text + src->len; p < end; p++) {
		const char *w = NULL;
		if ((size_t)(end - p) > 7 && !strncmp(p, "define", 6) && (p[6] == ' ' || p[6] == '\t'))
			w = p + 6;
		else if ((size_t)(end - p) > 5 && !strncmp(p, "zone", 4) && (p[4] == ' ' || p[4] == '\t'))
			w = p + 4;
		if (!w || (p > src->text && !isspace((unsigned char)p[-1]) && p[-1] != ';'))
			continue;
		while (w < end && (*w == ' ' || *w == '\t'))
			w++;
		if ((size_t)(end - w) >= n && !strncmp(w, x->text, n) &&
		    (w + n == end || !(isalnum((unsigned char)w[n]) || strchr("_.-", w[n]))))
			return true;
	}
	return false;
}

static void resolve_peer_word(struct resolved *r, const ast_words *w, const struct ast_word *x,
			      struct peer *out, struct diags *d);

static void apply_except(struct resolved *r, const struct ast_except *ex, struct peer *out,
			 struct diags *d);

static void resolve_peer(struct resolved *r, const ast_words *w, const struct ast_except *ex,
			 const struct loc *kw, struct peer *out, struct diags *d)
{
	memset(out, 0, sizeof(*out));
	out->given = true;
	out->loc = *kw;
	if (w->n)
		out->loc.last_column = w->v[w->n - 1].loc.last_column;
	const struct loc *whole[2] = {NULL, NULL}; /* where 0.0.0.0/0 and ::/0 came in */
	for (size_t i = 0; i < w->n; i++) {
		const struct ast_word *x = &w->v[i];
		size_t before = out->addrs.n;
		resolve_peer_word(r, w, x, out, d);
		for (size_t j = before; j < out->addrs.n; j++)
			if (out->addrs.v[j].len == 0 && !whole[out->addrs.v[j].family == IR_V6])
				whole[out->addrs.v[j].family == IR_V6] = &x->loc;
	}
	bool fam[2] = {false, false};
	for (size_t j = 0; j < out->addrs.n; j++)
		fam[out->addrs.v[j].family == IR_V6] = true;
	for (int f = 0; f < 2; f++)
		if (whole[f] && !fam[!f])
			diag_warning_id(d, DIAG_W_FAMILY_NARROWING, whole[f],
					"%s is every %s address, and only those: this rule matches no %s "
					"traffic; leave the address list out for every address of both "
					"families, or add %s", f ? "::/0" : "0.0.0.0/0", f ? "IPv6" : "IPv4",
					f ? "IPv4" : "IPv6", f ? "0.0.0.0/0" : "::/0");
	if (prefixes_normalize(&out->addrs) && !out->setname)
		diag_warning_id(d, DIAG_W_OVERLAP, &out->loc, "overlapping addresses in this list; the narrower ones are redundant");
	if (ex && (ex->any || ex->ex.n))
		apply_except(r, ex, out, d);
}

/* `ADDRS except ADDRS`, `any except ADDRS`: the list becomes exactly its addresses minus the
 * exceptions (prefixes_subtract), so every backend, explain and check see the same plain
 * list and nothing can widen. A zone keeps its interfaces. */
static void apply_except(struct resolved *r, const struct ast_except *ex, struct peer *out,
			 struct diags *d)
{
	if (ex->any || !out->addrs.n) {
		/* `any`, or a zone without addresses: every address of both families */
		static const char *const all[] = {"0.0.0.0/0", "::/0"};
		VEC_FREE(out->addrs);
		for (int i = 0; i < 2; i++) {
			struct ir_prefix p;
			char *why = NULL;
			if (prefix_parse(all[i], &p, &why))
				VEC_PUSH(out->addrs, p);
			free(why);
		}
	}
	if (ex->any)
		out->loc.last_column = ex->ex.n ? ex->ex.v[ex->ex.n - 1].loc.last_column : out->loc.last_column;
	prefix_vec left_out = {0};
	for (size_t i = 0; i < ex->ex.n; i++) {
		const struct ast_word *x = &ex->ex.v[i];
		struct peer one = {0};
		ast_words single = {.n = 1, .v = (struct ast_word *)x};
		resolve_peer_word(r, &single, x, &one, d);
		if (one.zone) {
			diag_error(d, &x->loc, "'except' takes addresses or defines; '%s' is a zone", x->text);
		} else {
			bool inside = one.addrs.n == 0;
			for (size_t k = 0; k < one.addrs.n; k++)
				for (size_t j = 0; j < out->addrs.n; j++)
					inside |= prefix_covers(&out->addrs.v[j], &one.addrs.v[k]) ||
						  prefix_covers(&one.addrs.v[k], &out->addrs.v[j]);
			if (!inside)
				diag_error(d, &x->loc, "'%s' is not inside the list before 'except': there "
					   "is nothing of it to leave out", x->text);
			for (size_t k = 0; k < one.addrs.n; k++)
				VEC_PUSH(left_out, one.addrs.v[k]);
		}
		VEC_FREE(one.addrs);
	}
	prefixes_subtract(&out->addrs, &left_out);
	VEC_FREE(left_out);
	out->setname = NULL; /* no longer the define's or the zone's own list */
	if (!out->addrs.n)
		diag_error(d, &ex->ex_loc, "'except' leaves no address: the rule would match nothing");
}

/* One word of an address list: a literal, a define, a zone, or an unknown name. */
static void resolve_peer_word(struct resolved *r, const ast_words *w, const struct ast_word *x,
			      struct peer *out, struct diags *d)
{
	if (is_literal(x->text)) {
		struct ir_prefix p;
		char *why = NULL;
		if (!prefix_parse(x->text, &p, &why)) {
			diag_error(d, &x->loc, "%s", why);
			free(why);
		} else {
			VEC_PUSH(out->addrs, p);
		}
		return;
	}
	struct define *def = find_define(r, x->text);
	const struct zone *z = find_zone(r, x->text);
	if (def) {
		def->used = true;
		for (size_t j = 0; j < def->addrs.n; j++)
			VEC_PUSH(out->addrs, def->addrs.v[j]);
		if (w->n == 1)
			out->setname = def->name;
	} else if (z) {
		if (w->n != 1) {
			diag_error(d, &x->loc, "zone '%s' cannot be mixed with other addresses in one list",
				   z->name);
			return;
		}
		out->zone = z;
		out->setname = z->name;
		for (size_t j = 0; j < z->addrs.n; j++)
			VEC_PUSH(out->addrs, z->addrs.v[j]);
	} else if (lost_to_syntax_error(d, x)) {
		return; /* its define or zone did not parse: that error is the one to fix */
	} else {
		const char *s = suggest_name(r, x->text);
		if (s)
			diag_error_id(d, DIAG_E_UNKNOWN_NAME, &x->loc, "unknown address name '%s'; did you mean '%s'?", x->text, s);
		else
			diag_error_id(d, DIAG_E_UNKNOWN_NAME, &x->loc, "unknown address name '%s' (not a define or zone)", x->text);
	}
}

char *resolve_stmt_text(const struct ast_stmt *s)
{
	const struct ast_rule *r = &s->u.rule;
	const struct ast_rule_more *m = ast_rule_more(r);
	static const char *const act[] = {"allow", "deny", "reject", "masquerade", "snat", "forward"};
	struct strbuf sb = {0};
	sb_puts(&sb, act[r->action]);
	for (size_t i = 0; i < r->services.n; i++) {
		sb_puts(&sb, i ? ", " : " ");
		sb_puts(&sb, r->services.v[i].name);
	}
	if (r->role != ROLE_NONE) {
		sb_putc(&sb, ' ');
		sb_puts(&sb, ast_role_name(r->role));
	}
	const ast_words *lists[3] = {&m->on, &r->from, &r->to};
	const struct ast_except *exs[3] = {&m->on_ex, &m->from_ex, &m->to_ex};
	const bool has[3] = {r->has_on, r->has_from, r->has_to};
	static const char *const kws[3] = {" on", " from", " to"};
	for (int k = 0; k < 3; k++) {
		if (!has[k])
			continue;
		sb_puts(&sb, kws[k]);
		if (exs[k]->any)
			sb_puts(&sb, " any");
		for (size_t i = 0; i < lists[k]->n; i++) {
			sb_puts(&sb, i ? ", " : " ");
			sb_puts(&sb, lists[k]->v[i].text);
		}
		for (size_t i = 0; i < exs[k]->ex.n; i++) {
			sb_puts(&sb, i ? ", " : " except ");
			sb_puts(&sb, exs[k]->ex.v[i].text);
		}
	}
	if (m->as.text)
		sb_printf(&sb, " as %s", m->as.text);
	if (m->port.text)
		sb_printf(&sb, " port %s", m->port.text);
	const ast_words *more[2] = {&m->hairpin, &m->family};
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < more[k]->n; i++)
			sb_printf(&sb, "%s%s", i ? ", " : k ? " family " : " hairpin ", more[k]->v[i].text);
	char lim[64];
	if (m->limit.given) {
		ir_limit_format(&m->limit.v, lim, sizeof(lim));
		sb_printf(&sb, " limit %s", lim);
	}
	if (r->log)
		sb_puts(&sb, " log");
	if (r->log && m->logopt.opt.level_set)
		sb_printf(&sb, " level %s", ir_log_level_name(m->logopt.opt.level));
	if (r->log && m->logopt.opt.nflog)
		sb_printf(&sb, " group %u", m->logopt.opt.group);
	if (r->log && m->logopt.limit.given) {
		ir_limit_format(&m->logopt.limit.v, lim, sizeof(lim));
		sb_printf(&sb, " limit %s", m->logopt.limit.none ? "none" : lim);
	}
	/* Exactly its size: the IR keeps every statement's text (sb_steal leaves some room). */
	size_t len = sb.len;
	return xrealloc(sb_steal(&sb), len + 1);
}

/* ---- apps and flows, lowered for expansion ---- */

static void copy_ports(struct ir_portset *dst, const struct ast_ports *p)
{
	struct ir_portset src = {p->r.n, p->r.v};
	ir_portset_copy(dst, &src);
}

static void copy_words(name_list *dst, const ast_words *w)
{
	for (size_t i = 0; i < w->n; i++)
		VEC_PUSH(*dst, w->v[i].text);
}

static struct rflow lower_flow(const struct ast_app *owner, const struct ast_flow *f)
{
	/* Only the file name: generated rulesets must not depend on where the library lives
	 * (`pinhole apps APP` gives the full path). */
	const char *slash = strrchr(f->loc.src->name, '/');
	struct rflow rf = {
		.app = owner->name, .name = f->name, .file = slash ? slash + 1 : f->loc.src->name,
		.line = f->loc.first_line, .from = f->from, .to = f->to, .both_ways = f->both_ways,
		.protos = f->protos, .same_port = f->dport.same, .helper = f->helper.text,
		.related = f->related.text, .is_negotiated = f->is_negotiated,
		.negotiated = f->negotiated.text, .timeout = f->timeout, .program = f->program, .broadcast = f->broadcast,
		.fragments = f->fragments, .reject = f->reject, .unaddressed = f->unaddressed, .relayed = f->relayed,
	};
	copy_ports(&rf.sport, &f->sport);
	copy_ports(&rf.dport, &f->dport);
	copy_words(&rf.icmp_types, &f->icmp_types);
	copy_words(&rf.on, &f->on);
	return rf;
}

/* One rapp per app the rules use, whatever the number of statements naming it. */
static const struct rapp *lower_app(struct resolved *r, const struct library *lib,
				    const struct ast_app *a)
{
	for (size_t i = 0; i < r->apps.n; i++)
		if (r->apps.v[i]->src == a)
			return r->apps.v[i];
	struct rapp *ra = xcalloc(1, sizeof(*ra));
	ra->name = a->name;
	ra->src = a;
	const flow_refs *fl = library_flows(lib, a);
	for (size_t i = 0; fl && i < fl->n; i++)
		VEC_PUSH(ra->flows, lower_flow(fl->v[i].app, fl->v[i].flow));
	VEC_PUSH(r->apps, ra);
	return ra;
}

/* An app the policy writes itself (a port literal, `any`): kept in res->port_apps, so that
 * explain can show it like any app, and lowered like a library app of that one flow. */
static const struct rapp *one_flow_app(struct resolved *r, struct ast_app *a)
{
	VEC_PUSH(r->port_apps, a);
	struct rapp *ra = xcalloc(1, sizeof(*ra));
	ra->name = a->name;
	ra->src = a;
	VEC_PUSH(ra->flows, lower_flow(a, &a->flows.v[0]));
	VEC_PUSH(r->apps, ra);
	return ra;
}

/* A port literal (tcp/8080) is an app of one client-to-server flow, lowered as lower_flow
 * would lower its definition (resolve_lit_def), without writing that definition: one
 * allocation (and its name) per literal. */
static const struct rapp *port_app(struct resolved *r, const struct ast_service *s)
{
	struct lit_app *l = xcalloc(1, sizeof(*l));
	l->name = xstrdup(s->name);
	l->loc = s->loc;
	l->proto = s->proto;
	l->ports = s->ports;
	const char *slash = strrchr(s->loc.src->name, '/');
	l->flow = (struct rflow){
		.app = l->name, .name = l->name, .file = slash ? slash + 1 : s->loc.src->name,
		.line = s->loc.first_line, .from = ROLE_CLIENT, .to = ROLE_SERVER,
		.protos = s->proto == IR_UDP ? PROTO_BIT_UDP : PROTO_BIT_TCP,
		.dport = {1, &l->ports},
	};
	l->app.name = l->name;
	l->app.flows.v = &l->flow;
	l->app.flows.n = l->app.flows.cap = 1;
	VEC_PUSH(r->lit_apps, l);
	return &l->app;
}

const struct ast_app *resolve_lit_def(struct lit_app *l)
{
	if (l->def)
		return l->def;
	struct ast_app *a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(l->name);
	a->loc = l->loc;
	a->description = xasprintf("port literal %s", l->name);
	struct ast_flow f = {0};
	f.name = xstrdup(l->name);
	f.loc = l->loc;
	f.from = ROLE_CLIENT;
	f.to = ROLE_SERVER;
	f.protos = l->proto == IR_UDP ? PROTO_BIT_UDP : PROTO_BIT_TCP;
	f.dport.loc = l->loc;
	VEC_PUSH(f.dport.r, l->ports);
	VEC_PUSH(a->flows, f);
	l->def = a;
	return a;
}

/* `any` is an app of one client-to-server flow of every protocol and port, written like a
 * port literal's (kept in res->port_apps). */
static const struct rapp *any_app(struct resolved *r, const struct ast_service *s)
{
	struct ast_app *a = xcalloc(1, sizeof(*a));
	a->name = xstrdup("any");
	a->loc = s->loc;
	a->description = xstrdup("every protocol and port");
	struct ast_flow f = {0};
	f.name = xstrdup("any");
	f.loc = s->loc;
	f.from = ROLE_CLIENT;
	f.to = ROLE_SERVER;
	f.protos = PROTO_BIT_ALL;
	VEC_PUSH(a->flows, f);
	return one_flow_app(r, a);
}

static void rflow_free(struct rflow *f)
{
	free(f->sport.v);
	free(f->dport.v);
	VEC_FREE(f->icmp_types);
	VEC_FREE(f->on);
}

static bool is_nat(enum rule_action a)
{
	return a == ACT_MASQUERADE || a == ACT_SNAT || a == ACT_FORWARD;
}

/* One host address: a literal or a define of exactly one address, /32 or /128. */
static bool host_address(struct resolved *r, const struct ast_word *w, struct ir_prefix *out,
			 const char *what, struct diags *d)
{
	struct define *def = is_literal(w->text) ? NULL : find_define(r, w->text);
	if (def) {
		def->used = true;
		if (def->addrs.n != 1) {
			diag_error(d, &w->loc, "%s is one address; define '%s' has %zu", what, w->text,
				   def->addrs.n);
			return false;
		}
		*out = def->addrs.v[0];
	} else {
		char *why = NULL;
		if (!is_literal(w->text) || !prefix_parse(w->text, out, &why)) {
			diag_error(d, &w->loc, "%s is one address, not '%s'%s%s", what, w->text,
				   why ? ": " : "", why ? why : "");
			free(why);
			return false;
		}
	}
	if (out->len != (out->family == IR_V6 ? 128 : 32)) {
		diag_error(d, &w->loc, "%s is one host address, not the prefix '%s'", what, w->text);
		return false;
	}
	return true;
}

/* The parts of a statement that only address translation takes, refused elsewhere. */
static void refuse_nat_words(const struct ast_rule *ar, struct diags *d)
{
	const struct ast_rule_more *xm = ast_rule_more(ar);
	if (xm->as.text && ar->action != ACT_SNAT)
		diag_error(d, &xm->as.loc, "'as' gives the new source address of 'snat'");
	if (xm->port.text && ar->action != ACT_FORWARD)
		diag_error(d, &xm->port.loc, "'port' gives the new destination port of a 'forward'");
	if (xm->hairpin.n && ar->action != ACT_FORWARD)
		diag_error(d, &xm->hairpin_loc, "'hairpin' belongs to a 'forward'");
	if (xm->family.n && ar->action != ACT_MASQUERADE)
		diag_error(d, &xm->family_loc, "'family' belongs to 'masquerade' (snat and forward take "
			   "the family of their address)");
}

/* A rate limit opens what is within it and lets the rest go on to later rules: on a deny that
 * would let the excess through to the allows, and a source translation decides nothing. */
static void resolve_limits(const struct ast_rule *ar, struct rrule *rr, struct diags *d)
{
	const struct ast_rule_more *xm = ast_rule_more(ar);
	static const char *const kw[] = {"allow", "deny", "reject", "masquerade", "snat", "forward"};
	if (xm->limit.given && (ar->action == ACT_DENY || ar->action == ACT_MASQUERADE ||
				ar->action == ACT_SNAT))
		diag_error(d, &xm->limit.loc, "'limit' on '%s': %s", kw[ar->action],
			   ar->action == ACT_DENY ? "packets over the limit would go on to the allow "
			   "rules; a deny closes without a limit" : "a translation decides no verdict; "
			   "limit the allow rules of the traffic instead");
	else if (xm->limit.given)
		rrule_more_w(rr)->limit = xm->limit.v;
	if (ar->log && xm->logopt.limit.given && !xm->logopt.limit.none)
		rrule_more_w(rr)->log_limit = xm->logopt.limit.v;
	else if (ar->log && xm->logopt.limit.none)
		diag_error(d, &xm->logopt.limit.loc, "a rule's log has no limit unless it says so: "
			   "leave out 'limit none'");
}

/* masquerade / snat / forward: see docs/language.md, "Address translation". */
static void resolve_nat(struct resolved *r, const struct ast_rule *ar, struct rrule *rr,
			const struct ast_stmt *s, struct diags *d)
{
	const struct ast_rule_more *xm = ast_rule_more(ar);
	struct rnat *nat = &rrule_more_w(rr)->nat;
	const char *kw = ar->action == ACT_MASQUERADE ? "masquerade" : ar->action == ACT_SNAT ? "snat"
			 : "forward";
	if (ar->role != ROLE_NONE)
		diag_error(d, &ar->role_loc, "'%s' takes no role: it translates forwarded traffic", kw);
	if (ar->log && ar->action != ACT_FORWARD)
		diag_error(d, &s->loc, "'log' on '%s': log the allow rules of the traffic instead", kw);
	if (ar->has_on)
		diag_error(d, &xm->on_loc, "'on' gives this host's own addresses in a host rule; '%s' "
			   "translates forwarded traffic", kw);
	const struct ast_except *exs[2] = {&xm->from_ex, &xm->to_ex};
	for (int k = 0; k < 2; k++)
		if (exs[k]->any || exs[k]->ex.n)
			diag_error(d, exs[k]->ex.n ? &exs[k]->ex_loc : &exs[k]->any_loc,
				   "'%s' takes no 'except': list the addresses it translates", kw);
	if (ar->has_from)
		resolve_peer(r, &ar->from, NULL, &ar->from_loc, &rr->client_side, d);
	if (ar->has_to)
		resolve_peer(r, &ar->to, NULL, &ar->to_loc, &rr->server_side, d);
	if (ar->action != ACT_FORWARD) {
		if (!ar->has_to || !rr->server_side.zone) {
			diag_error(d, ar->has_to ? &ar->to_loc : &s->loc, "'%s' needs 'to ZONE': the zone "
				   "whose interfaces the translated traffic leaves by", kw);
			return;
		}
		if (ar->has_from && rr->client_side.zone && !rr->client_side.addrs.n)
			diag_error(d, &ar->from_loc, "zone '%s' has no addresses: a source translation "
				   "matches sources by address (give the zone an 'address', or list them)",
				   rr->client_side.zone->name);
		if (ar->action == ACT_SNAT) {
			if (!xm->as.text) {
				diag_error(d, &s->loc, "'snat' needs 'as ADDRESS', the new source address");
				return;
			}
			if (!host_address(r, &xm->as, &nat->addr, "the new source address", d))
				return;
			nat->families = nat->addr.family == IR_V6 ? 2 : 1;
		} else {
			nat->families = 1; /* IPv4 unless asked: IPv6 needs no translation */
			for (size_t i = 0; i < xm->family.n; i++) {
				const struct ast_word *w = &xm->family.v[i];
				if (i == 0)
					nat->families = 0;
				if (!strcmp(w->text, "ipv4"))
					nat->families |= 1;
				else if (!strcmp(w->text, "ipv6"))
					nat->families |= 2;
				else
					diag_error(d, &w->loc, "unknown family '%s' (ipv4 or ipv6)", w->text);
			}
		}
		return;
	}
	if (ar->services.n != 1 || !ar->services.v[0].is_port) {
		diag_error(d, ar->services.n ? &ar->services.v[0].loc : &s->loc, "a 'forward' forwards one "
			   "port literal (tcp/PORT or udp/PORT) of this host, not an app");
		return;
	}
	const struct ast_service *svc = &ar->services.v[0];
	nat->proto = svc->proto;
	nat->ports = svc->ports;
	if (!ar->has_from || !ar->has_to) {
		diag_error(d, &s->loc, "a 'forward' needs 'from' (the zone or addresses it is open to) "
			   "and 'to ADDRESS' (the host it forwards to)");
		return;
	}
	if (ar->to.n != 1 || !host_address(r, &ar->to.v[0], &nat->addr, "the host a forward goes to", d))
		return;
	VEC_FREE(rr->server_side.addrs);
	memset(&rr->server_side, 0, sizeof(rr->server_side));
	rr->server_side.given = true;
	rr->server_side.loc = ar->to_loc;
	VEC_PUSH(rr->server_side.addrs, nat->addr);
	nat->families = nat->addr.family == IR_V6 ? 2 : 1;
	if (xm->port.text) {
		char *end;
		long port = strtol(xm->port.text, &end, 10);
		if (*end || port < 1 || port > 65535)
			diag_error(d, &xm->port.loc, "port '%s' is not a port number (1-65535)", xm->port.text);
		else if (svc->ports.lo != svc->ports.hi)
			diag_error(d, &xm->port.loc, "a port range forwards to the same ports; leave out "
				   "'port', or forward one port");
		else
			nat->port = (uint16_t)port;
	}
	bool fam_ok = !rr->client_side.addrs.n;
	for (size_t i = 0; i < rr->client_side.addrs.n; i++)
		fam_ok |= rr->client_side.addrs.v[i].family == nat->addr.family;
	if (!fam_ok)
		diag_error(d, &ar->from_loc, "no address of this list is of the family of %s", ar->to.v[0].text);
	if (xm->hairpin.n) {
		const struct ast_word *w = &xm->hairpin.v[0];
		nat->hairpin = find_zone(r, w->text);
		if (xm->hairpin.n > 1)
			diag_error(d, &xm->hairpin.v[1].loc, "'hairpin' names one zone");
		if (!nat->hairpin)
			diag_error(d, &w->loc, "'hairpin' names a zone; '%s' is none", w->text);
	}
}

static void resolve_rule(struct resolved *r, const struct ast_stmt *s, const struct library *lib,
			 struct diags *d)
{
	const struct ast_rule *ar = &s->u.rule;
	const struct ast_rule_more *xm = ast_rule_more(ar);
	struct rrule rr = {.loc = s->loc, .text = resolve_stmt_text(s), .action = ar->action, .role = ar->role,
			   .log = ar->log, .logopt = xm->logopt.opt};
	refuse_nat_words(ar, d);
	resolve_limits(ar, &rr, d);
	if (is_nat(ar->action)) {
		if (r->said_stateless)
			diag_error(d, &s->loc, "address translation needs connection tracking; "
				   "'established only' has none");
		resolve_nat(r, ar, &rr, s, d);
		VEC_PUSH(r->rules, rr);
		return;
	}
	if (ar->services.n) { /* at most one app per service: room for exactly those */
		rr.apps.v = xmalloc(ar->services.n * sizeof(*rr.apps.v));
		rr.apps.cap = ar->services.n;
	}
	for (size_t i = 0; i < ar->services.n; i++) {
		const struct ast_service *svc = &ar->services.v[i];
		if (svc->is_port) {
			VEC_PUSH(rr.apps, port_app(r, svc));
			continue;
		}
		if (svc->is_any) {
			if (ar->role != ROLE_NONE)
				diag_error(d, &svc->loc, "'any' is every app between zones: a gateway rule "
					   "('allow any from lan to wan;'); a host rule names its apps");
			else if (ar->services.n > 1)
				diag_error(d, &svc->loc, "'any' already is every app: write it alone");
			rr.any = true;
			rrule_more_w(&rr)->any_loc = svc->loc;
			VEC_PUSH(rr.apps, any_app(r, svc));
			continue;
		}
		const struct ast_app *a = library_find(lib, svc->name);
		if (!a) {
			const char *sug = library_suggest(lib, svc->name);
			bool icmp = !strcmp(svc->name, "icmp") || !strcmp(svc->name, "icmpv6") ||
				    !strcmp(svc->name, "icmp6");
			if (icmp && library_find(lib, "ping"))
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &svc->loc,
					      "'%s' is a protocol, not an app: 'allow ping server;' answers "
					      "echo requests (IPv4 and IPv6); ICMP errors of allowed connections "
					      "and IPv6 neighbour discovery pass without a rule", svc->name);
			else if (sug)
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &svc->loc, "unknown app '%s'; did you mean '%s'?", svc->name, sug);
			else if (!strcmp(svc->name, "tcp") || !strcmp(svc->name, "udp"))
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &svc->loc, "'%s' needs a port: %s/PORT", svc->name, svc->name);
			else
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &svc->loc, "unknown app '%s' (see 'pinhole apps')", svc->name);
			continue;
		}
		VEC_PUSH(rr.apps, lower_app(r, lib, a));
	}
	if (ar->role == ROLE_CLIENT && ar->has_from)
		diag_error(d, &ar->from_loc, "with 'client' this host is the client side; "
			   "use 'to' to restrict the servers it may reach");
	if (ar->role == ROLE_SERVER && ar->has_to)
		diag_error(d, &ar->to_loc, "with 'server' this host is the server side; "
			   "use 'from' to restrict the clients it serves");
	if (ar->role == ROLE_NONE && (!ar->has_from || !ar->has_to))
		diag_error(d, &s->loc, "a rule needs a role ('client' or 'server'), "
			   "or both 'from' and 'to' for traffic forwarded between zones");
	if (ar->has_on && ar->role == ROLE_NONE)
		diag_error(d, &xm->on_loc, "'on' gives this host's own addresses in a host rule "
			   "('allow http server on 192.0.2.10;'); a gateway rule's sides are its zones");
	if (ar->has_from)
		resolve_peer(r, &ar->from, &xm->from_ex, &ar->from_loc, &rr.client_side, d);
	if (ar->has_to)
		resolve_peer(r, &ar->to, &xm->to_ex, &ar->to_loc, &rr.server_side, d);
	bool on_ok = true;
	for (size_t i = 0; ar->has_on && i < xm->on.n; i++) {
		const struct ast_word *w = &xm->on.v[i];
		if (is_literal(w->text) || find_define(r, w->text))
			continue;
		if (find_zone(r, w->text))
			diag_error(d, &w->loc, "'on' takes this host's own addresses, not a zone: a zone "
				   "restricts the other side ('from %s')", w->text);
		else
			diag_error(d, &w->loc, "'on' takes this host's own addresses (or a define of them); "
			   "'%s' is neither. An interface goes in a zone ('zone lan { interface "
			   "eth0; }'), and the rule says 'from lan'", w->text);
		on_ok = false;
	}
	if (ar->has_on && ar->role != ROLE_NONE && on_ok) {
		resolve_peer(r, &xm->on, &xm->on_ex, &xm->on_loc, &rrule_more_w(&rr)->local, d);
	}
	VEC_PUSH(r->rules, rr);
}

/* Linux interface names hold at most 15 bytes (IFNAMSIZ - 1); a trailing '*' matches a
 * prefix. Anything else could never match, or would be cut by the kernel. */
static void check_ifname(const struct ast_word *w, struct diags *d)
{
	size_t len = strlen(w->text);
	const char *star = strchr(w->text, '*');
	if (len == 0)
		diag_error(d, &w->loc, "empty interface name");
	else if (len > 15)
		diag_error(d, &w->loc, "interface name '%s' is longer than 15 characters", w->text);
	else if (star && star != w->text + len - 1)
		diag_error(d, &w->loc, "interface name '%s': only a trailing '*' wildcard is possible", w->text);
	else if (strpbrk(w->text, " /\"\t"))
		diag_error(d, &w->loc, "interface name '%s' has a character no interface name can have", w->text);
}

static void collect_names(struct resolved *r, const struct ast_policy *p, struct diags *d)
{
	const struct ast_stmt *stateless = NULL, *logu = NULL, *nstatic = NULL;
	for (size_t i = 0; i < p->stmts.n; i++) {
		const struct ast_stmt *s = p->stmts.v[i];
		const struct ast_word *name = NULL;
		if (s->kind == STMT_DEFINE)
			name = &s->u.define.name;
		else if (s->kind == STMT_ZONE)
			name = &s->u.zone.name;
		else if (s->kind == STMT_STATELESS) {
			if (stateless)
				diag_warning_id(d, DIAG_W_REPEATED, &s->loc, "'established only' is already given (line %d)",
					     stateless->loc.first_line);
			stateless = s;
			r->stateless = r->said_stateless = true;
		} else if (s->kind == STMT_LOG_UNMATCHED) {
			if (logu)
				diag_warning_id(d, DIAG_W_REPEATED, &s->loc, "'log unmatched' is already given (line %d)",
					     logu->loc.first_line);
			logu = s;
			r->log_unmatched = true;
			const struct ast_logopt *o = &s->u.log_unmatched;
			r->log_unmatched_opt = o->opt;
			if (!o->limit.given)
				r->log_unmatched_limit = (struct ir_limit){LOG_UNMATCHED_RATE,
					LOG_UNMATCHED_UNIT, LOG_UNMATCHED_BURST, false};
			else
				r->log_unmatched_limit = o->limit.none ? (struct ir_limit){0} : o->limit.v;
		} else if (s->kind == STMT_NEGOTIATED_STATIC) {
			if (nstatic)
				diag_warning_id(d, DIAG_W_REPEATED, &s->loc, "'negotiated static' is already given (line %d)",
					     nstatic->loc.first_line);
			nstatic = s;
			r->negotiated_static = true;
		}
		if (!name)
			continue;
		const struct define *od = find_define(r, name->text);
		const struct zone *oz = find_zone(r, name->text);
		if (od || oz) {
			const struct loc *prev = od ? &od->stmt->u.define.name.loc : &oz->stmt->u.zone.name.loc;
			diag_error(d, &name->loc, "'%s' is already defined at %s:%d", name->text,
				   prev->src->name, prev->first_line);
			continue;
		}
		if (s->kind == STMT_DEFINE) {
			struct define def = {.stmt = s, .name = name->text};
			parse_literals(&s->u.define.addrs, &def.addrs, d);
			VEC_PUSH(r->defines, def);
		} else {
			struct zone z = {.stmt = s, .name = name->text,
					 .deflt = s->u.zone.has_default ? s->u.zone.default_action : ACT_ALLOW,
					 .default_loc = s->u.zone.default_loc,
					 .owned = s->u.zone.fwd_owned, .owned_loc = s->u.zone.owned_loc};
			if (!s->u.zone.ifaces.n)
				diag_error(d, &name->loc, "zone '%s' names no interface", name->text);
			for (size_t k = 0; k < s->u.zone.ifaces.n; k++) {
				check_ifname(&s->u.zone.ifaces.v[k], d);
				VEC_PUSH(z.ifaces, s->u.zone.ifaces.v[k].text);
			}
			parse_literals(&s->u.zone.addrs, &z.addrs, d);
			VEC_PUSH(r->zones, z);
		}
	}
}

/* `management from ADDRS;`: address literals and define names (a zone is interfaces too,
 * and an interface is no network to reach ssh from). */
static void resolve_management(struct resolved *r, const struct ast_stmt *s, struct diags *d)
{
	for (size_t i = 0; i < s->u.mgmt.n; i++) {
		const struct ast_word *x = &s->u.mgmt.v[i];
		struct ir_prefix p;
		char *why = NULL;
		struct define *def = is_literal(x->text) ? NULL : find_define(r, x->text);
		if (is_literal(x->text)) {
			if (!prefix_parse(x->text, &p, &why)) {
				diag_error(d, &x->loc, "%s", why);
				free(why);
				continue;
			}
			VEC_PUSH(r->mgmt, ((struct mgmt_net){p, x->loc}));
		} else if (def) {
			def->used = true;
			for (size_t k = 0; k < def->addrs.n; k++)
				VEC_PUSH(r->mgmt, ((struct mgmt_net){def->addrs.v[k], x->loc}));
		} else if (find_zone(r, x->text)) {
			diag_error(d, &x->loc, "a management network is addresses or a define of them, not "
				   "the zone '%s'", x->text);
		} else if (!lost_to_syntax_error(d, x)) {
			const char *sug = suggest_name(r, x->text);
			if (sug)
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &x->loc, "unknown address name '%s'; "
					      "did you mean '%s'?", x->text, sug);
			else
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &x->loc, "unknown address name '%s' "
					      "(not a define)", x->text);
		}
	}
}

bool resolve_policy(struct ast_policy *p, const struct library *lib, struct resolved *out,
		    struct diags *d)
{
	return resolve_policy_each(p, lib, out, d, NULL);
}

bool resolve_policy_each(struct ast_policy *p, const struct library *lib, struct resolved *out,
			 struct diags *d, const struct resolve_hook *h)
{
	size_t before = d->errors;
	memset(out, 0, sizeof(*out));
	collect_names(out, p, d);
	/* One rule per rule statement: room for exactly those, not up to twice as many. */
	size_t nrules = 0;
	for (size_t i = 0; i < p->stmts.n; i++)
		nrules += p->stmts.v[i]->kind == STMT_RULE;
	if (nrules) {
		out->rules.v = xrealloc(out->rules.v, nrules * sizeof(*out->rules.v));
		out->rules.cap = nrules;
	}
	bool any_rule = false;
	size_t kept = 0;
	for (size_t i = 0; i < p->stmts.n; i++) {
		struct ast_stmt *s = p->stmts.v[i];
		if (s->kind == STMT_APP)
			resolve_validate_app(s->u.app, d);
		if (s->kind == STMT_MANAGEMENT)
			resolve_management(out, s, d);
		if (s->kind == STMT_RULE) {
			resolve_rule(out, s, lib, d);
			any_rule = true;
			ast_stmt_free(s);
			if (h)
				h->rule(h->ctx, out, out->rules.n - 1);
			continue;
		}
		p->stmts.v[kept++] = s;
	}
	p->stmts.n = kept;
	/* Whole-policy warnings only about a policy without errors: after a syntax error some
	 * statements are missing, and these would be follow-on noise. */
	if (!any_rule && !d->errors && p->stmts.n)
		diag_warning_id(d, DIAG_W_ALLOWS_NOTHING, &p->stmts.v[0]->loc,
				"the policy allows nothing: every packet will be dropped");
	for (size_t i = 0; i < out->defines.n && !d->errors; i++)
		if (!out->defines.v[i].used)
			diag_warning_id(d, DIAG_W_UNUSED_DEFINE, &out->defines.v[i].stmt->u.define.name.loc,
					"define '%s' is never used",
				     out->defines.v[i].name);
	return d->errors == before;
}

const struct rrule_more *rrule_more(const struct rrule *rr)
{
	static const struct rrule_more none;
	return rr->more ? rr->more : &none;
}

struct rrule_more *rrule_more_w(struct rrule *rr)
{
	if (!rr->more)
		rr->more = xcalloc(1, sizeof(*rr->more));
	return rr->more;
}

void rrule_more_free(struct rrule *rr)
{
	if (rr->more)
		VEC_FREE(rr->more->local.addrs);
	free(rr->more);
	rr->more = NULL;
}

void resolved_free(struct resolved *r)
{
	for (size_t i = r->consumed; i < r->rules.n; i++) { /* never touching released pages */
		free(r->rules.v[i].text);
		VEC_FREE(r->rules.v[i].apps);
		VEC_FREE(r->rules.v[i].client_side.addrs);
		VEC_FREE(r->rules.v[i].server_side.addrs);
		rrule_more_free(&r->rules.v[i]);
	}
	VEC_FREE(r->rules);
	for (size_t i = 0; i < r->zones.n; i++) {
		VEC_FREE(r->zones.v[i].addrs);
		VEC_FREE(r->zones.v[i].ifaces);
	}
	VEC_FREE(r->zones);
	for (size_t i = 0; i < r->defines.n; i++)
		VEC_FREE(r->defines.v[i].addrs);
	VEC_FREE(r->defines);
	VEC_FREE(r->mgmt);
	for (size_t i = 0; i < r->apps.n; i++) {
		for (size_t k = 0; k < r->apps.v[i]->flows.n; k++)
			rflow_free(&r->apps.v[i]->flows.v[k]);
		VEC_FREE(r->apps.v[i]->flows);
		free(r->apps.v[i]);
	}
	VEC_FREE(r->apps);
	for (size_t i = 0; i < r->port_apps.n; i++)
		ast_app_free(r->port_apps.v[i]);
	VEC_FREE(r->port_apps);
	for (size_t i = 0; i < r->lit_apps.n; i++) {
		if (!r->lit_apps.v[i])
			continue; /* consumed by expansion */
		if (r->lit_apps.v[i]->def)
			ast_app_free(r->lit_apps.v[i]->def);
		free(r->lit_apps.v[i]->name);
		free(r->lit_apps.v[i]);
	}
	VEC_FREE(r->lit_apps);
}
