/*
 * Exposure findings on the exact analysis: an app allowed over one family only because its
 * address lists hold one family (PH113), and administration ports that public addresses can
 * reach (PH114). Both read what statements decide to accept, so a shadowed or denied part
 * does not count, and both name a witness or the reason.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "exact.h"
#include "lint.h"
#include "natview.h"
#include "packet.h"

/* ---- PH113 family parity ---- */

static bool has_addrs(const struct ir_rule *r)
{
	const struct ir_addrset *s = ir_rule_addrs(r, IR_M_SADDR), *d = ir_rule_addrs(r, IR_M_DADDR);
	return (s && s->n) || (d && d->n);
}

/* A /0 in a list: PH111 already says what it does to the other family. */
static bool has_slash0(const struct ir_rule *r)
{
	static const enum ir_match_kind k[2] = {IR_M_SADDR, IR_M_DADDR};
	for (int e = 0; e < 2; e++) {
		const struct ir_addrset *a = ir_rule_addrs(r, k[e]);
		for (size_t i = 0; a && i < a->n; i++)
			if (!a->v[i].len)
				return true;
	}
	return false;
}

struct by_app { const char *app; size_t rule; };

static int by_app_cmp(const void *a, const void *b)
{
	const struct by_app *x = a, *y = b;
	int c = strcmp(x->app, y->app);
	return c ? c : x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* One app's accept rules (v[0..n), in rule order): report when what is accepted of it is one
 * family only, every family-bound rule of it is bound by an address list, and the policy
 * names addresses of the other family elsewhere (fams: v4, v6). */
static void parity_of(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		      const struct by_app *v, size_t n, BDD v6, const bool fams[2], struct diags *d)
{
	bool by_addrs = true, any4 = false, any6 = false;
	int first_line = 0;
	const struct loc *at = NULL;
	for (size_t k = 0; k < n; k++) {
		const struct ir_rule *q = &ir->rules.v[v[k].rule];
		if ((q->family != IR_ANY && !has_addrs(q)) || has_slash0(q))
			by_addrs = false;
		BDD e = x->eff[v[k].rule];
		if (e == bddfalse)
			continue;
		if (!at) {
			at = &res->rules.v[q->origin.stmt_no - 1].loc;
			first_line = q->origin.line;
		}
		/* each rule's part of each family, not the union of all: the family bit is near
		 * the top of the order, so each test stops there */
		BDD t;
		if (!any6) {
			t = pks_and(e, v6);
			any6 = t != bddfalse;
			bdd_delref(t);
		}
		if (!any4) {
			t = pks_diff(e, v6);
			any4 = t != bddfalse;
			bdd_delref(t);
		}
	}
	bool only4 = any4 && !any6, only6 = any6 && !any4;
	if (at && by_addrs && ((only4 && fams[1]) || (only6 && fams[0])))
		diag_warning_id(d, DIAG_W_FAMILY_PARITY, at, "'%s' is allowed over %s only: the "
				"address lists of its statements (from line %d) hold no %s address, "
				"so its %s traffic is dropped", v[0].app, only4 ? "IPv4" : "IPv6", first_line,
				only4 ? "IPv6" : "IPv4", only4 ? "IPv6" : "IPv4");
}

static void family_parity(const struct resolved *res, const struct ir_ruleset *ir,
			  const struct exact *x, struct diags *d)
{
	struct by_app *v = xcalloc(ir->rules.n + 1, sizeof(*v));
	size_t n = 0;
	/* Which families the policy's address lists name: a policy that names no IPv6 address
	 * anywhere is an IPv4 policy, and an app over IPv4 only is what it says. */
	bool fams[2] = {false, false};
	static const enum ir_match_kind ends[2] = {IR_M_SADDR, IR_M_DADDR};
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		for (int e = 0; e < 2 && r->origin.stmt_no; e++) {
			const struct ir_addrset *a = ir_rule_addrs(r, ends[e]);
			for (size_t k = 0; a && k < a->n; k++)
				fams[a->v[k].family == IR_V6] = true;
		}
	}
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		if (r->origin.app && r->action == IR_ACCEPT && exact_deciding(r) && r->origin.stmt_no &&
		    (size_t)r->origin.stmt_no <= res->rules.n)
			v[n++] = (struct by_app){r->origin.app, i};
	}
	qsort(v, n, sizeof(*v), by_app_cmp);
	/* in the order of each app's first rule, so findings come in policy order */
	size_t *starts = xcalloc(n + 1, sizeof(*starts)), ng = 0;
	for (size_t k = 0; k < n; k++)
		if (!k || strcmp(v[k].app, v[k - 1].app))
			starts[ng++] = k;
	starts[ng] = n;
	size_t *order = xcalloc(ng + 1, sizeof(*order));
	for (size_t g = 0; g < ng; g++)
		order[g] = g;
	for (size_t g = 1; g < ng; g++) /* insertion sort by first rule: groups are mostly in order */
		for (size_t h = g; h > 0 && v[starts[order[h]]].rule < v[starts[order[h - 1]]].rule; h--) {
			size_t t = order[h];
			order[h] = order[h - 1];
			order[h - 1] = t;
		}
	BDD v6 = bdd_addref(bdd_ithvar(x->ps.family.first));
	for (size_t g = 0; g < ng; g++) {
		size_t a = starts[order[g]], b = starts[order[g] + 1];
		parity_of(res, ir, x, v + a, b - a, v6, fams, d);
	}
	bdd_delref(v6);
	free(order);
	free(starts);
	free(v);
}

/* ---- PH114 administration ports open to public addresses ---- */

static const struct admin_port {
	uint8_t proto;
	uint16_t lo, hi;
	const char *name;
} admin_ports[] = {
	{IR_TCP, 22, 22, "ssh"},     {IR_TCP, 23, 23, "telnet"},  {IR_TCP, 3389, 3389, "rdp"},
	{IR_TCP, 5900, 5900, "vnc"}, {IR_TCP, 5985, 5986, "winrm"}, {IR_UDP, 161, 161, "snmp"},
};

/* Addresses that are not public: IPv4 private, shared, loopback, link-local, multicast,
 * reserved, documentation and benchmarking ranges; for IPv6 everything outside global unicast
 * 2000::/3, and the documentation range 2001:db8::/32. */
static BDD public_sources(const struct exact *x)
{
	static const char *const private4[] = {"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10",
		"127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3",
		"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15"};
	BDD pub4 = bdd_addref(bdd_nithvar(x->ps.family.first));
	for (size_t i = 0; i < sizeof(private4) / sizeof(private4[0]); i++) {
		struct ir_prefix p;
		char *why = NULL;
		if (!prefix_parse(private4[i], &p, &why)) {
			free(why);
			continue;
		}
		BDD t = pks_prefix(&x->ps, &x->ps.saddr, &p);
		pks_set(&pub4, pks_diff(pub4, t));
		bdd_delref(t);
	}
	struct ir_prefix g = {.family = IR_V6, .len = 3, .addr = {0x20}}; /* 2000::/3 */
	BDD pub6 = pks_prefix(&x->ps, &x->ps.saddr, &g);
	struct ir_prefix doc = {.family = IR_V6, .len = 32, .addr = {0x20, 0x01, 0x0d, 0xb8}};
	BDD t = pks_prefix(&x->ps, &x->ps.saddr, &doc);
	pks_set(&pub6, pks_diff(pub6, t));
	bdd_delref(t);
	BDD r = pks_or(pub4, pub6);
	bdd_delref(pub6);
	bdd_delref(pub4);
	return r;
}

/* The administration port a packet of the scope goes to (a forward's witness, rewritten). */
static const struct admin_port *admin_port_of(const struct ir_packet *p)
{
	size_t n = sizeof(admin_ports) / sizeof(admin_ports[0]);
	for (size_t k = 0; k < n; k++)
		if (p->l4proto == admin_ports[k].proto && p->dport >= admin_ports[k].lo &&
		    p->dport <= admin_ports[k].hi)
			return &admin_ports[k];
	return &admin_ports[0]; /* not reached: the scope holds admin ports only */
}

/* A port forward that leads public sources to an administration port of an inside host:
 * the witness as it arrives and as the filter admits it. */
static void forward_access(const struct resolved *res, const struct ir_ruleset *ir,
			   const struct exact *x, const struct natview *nv, size_t s, BDD scope,
			   struct diags *d)
{
	struct ir_packet w;
	struct ir_verdict v;
	if (!nat_exposed(ir, x, nv, (int)s + 1, scope, &w, &v))
		return;
	const struct admin_port *ap = admin_port_of(&v.after);
	char *before = packet_describe(&w), *after = packet_describe(&v.after);
	char host[64] = "", by[48] = "";
	inet_ntop(v.after.family == IR_V6 ? AF_INET6 : AF_INET, v.after.daddr, host, sizeof(host));
	if (v.action == IR_ACCEPT && v.rule && v.rule->origin.stmt_no && v.rule->origin.stmt_no != (int)s + 1)
		snprintf(by, sizeof(by), ", which line %d accepts", v.rule->origin.line);
	diag_warning_id(d, DIAG_W_ADMIN_PORT, &res->rules.v[s].loc, "this forward opens %s (%s/%u) "
			"of %s to public addresses, e.g. %s, rewritten to %s%s: restrict its sources "
			"with 'from ADDRS' (a management network, a VPN)", ap->name,
			ap->proto == IR_TCP ? "tcp" : "udp", v.after.dport, host, before, after, by);
	free(before);
	free(after);
}

static void admin_access(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
			 const struct natview *nv, struct diags *d)
{
	BDD pub = public_sources(x);
	BDD in = pks_eq(&x->ps, &x->ps.hook, IR_INPUT), fwd = pks_eq(&x->ps, &x->ps.hook, IR_FORWARD);
	BDD hooks = pks_or(in, fwd);
	bdd_delref(in);
	bdd_delref(fwd);
	BDD scope = pks_and(pub, hooks);
	bdd_delref(pub);
	bdd_delref(hooks);
	/* every admin port at once first: most statements open none, and one AND says so */
	BDD ports = bdd_addref(bddfalse);
	for (size_t k = 0; k < sizeof(admin_ports) / sizeof(admin_ports[0]); k++) {
		BDD pr = pks_eq(&x->ps, &x->ps.proto, admin_ports[k].proto);
		BDD pt = pks_range(&x->ps, &x->ps.dport, admin_ports[k].lo, admin_ports[k].hi);
		BDD t = pks_and(pr, pt);
		pks_set(&ports, pks_or(ports, t));
		bdd_delref(t);
		bdd_delref(pt);
		bdd_delref(pr);
	}
	pks_set(&scope, pks_and(scope, ports));
	bdd_delref(ports);
	/* What is open with every dynamic set empty: their members are peers this host talked to
	 * a moment ago (scoped channels) and pinholed's per-peer pinholes, never the public at
	 * large (a statd pinhole names one server and a port pinholed checked). */
	for (size_t k = 0; k < x->ps.setv.n; k++)
		pks_set(&scope, pks_and(scope, bdd_nithvar(x->ps.sets.first + (int)k)));
	/* What reaches the filter as it arrived: no forward rewrote it (a forward's exposure is
	 * its own finding, below, with the packet before and after the rewrite). */
	BDD direct = pks_diff(scope, bdd_ithvar(x->ps.dnat.first));
	pks_set(&direct, pks_diff(direct, nv->translated));
	for (size_t s = 0; s < x->nstmt && s < res->rules.n; s++) {
		const struct exact_stmt *st = &x->st[s];
		if (res->rules.v[s].action == ACT_FORWARD) {
			forward_access(res, ir, x, nv, s, scope, d);
			continue;
		}
		if (st->action != IR_ACCEPT || st->eff == bddfalse)
			continue;
		BDD open = pks_and(st->eff, direct);
		for (size_t k = 0; open != bddfalse && k < sizeof(admin_ports) / sizeof(admin_ports[0]); k++) {
			const struct admin_port *ap = &admin_ports[k];
			BDD pr = pks_eq(&x->ps, &x->ps.proto, ap->proto);
			BDD pt = pks_range(&x->ps, &x->ps.dport, ap->lo, ap->hi);
			BDD t = pks_and(pr, pt);
			BDD hit = pks_and(open, t);
			struct ir_packet w;
			if (pks_witness(&x->ps, hit, &w)) {
				char *desc = packet_describe(&w);
				diag_warning_id(d, DIAG_W_ADMIN_PORT, &res->rules.v[s].loc, "%s (%s/%u) is open to "
						"public addresses, e.g. %s: restrict its sources with 'from' (a management "
						"network, a VPN)", ap->name, ap->proto == IR_TCP ? "tcp" : "udp",
						ap->lo, desc);
				free(desc);
				k = sizeof(admin_ports); /* one finding per statement */
			}
			bdd_delref(hit);
			bdd_delref(t);
			bdd_delref(pt);
			bdd_delref(pr);
		}
		bdd_delref(open);
	}
	bdd_delref(direct);
	bdd_delref(scope);
}

void lint_exposure(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		   const struct natview *nv, struct diags *d)
{
	family_parity(res, ir, x, d);
	admin_access(res, ir, x, nv, d);
}
