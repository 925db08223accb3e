/*
 * pinhole explain --to PROTO/PORT POLICY: a symbolic query on the exact analysis (exact.h).
 * Which sources can open a connection to that port, in (to this host) and fwd (through it):
 * for each deciding policy line, the source prefixes it lets in, exactly, and one witness
 * packet. Exit 0 when a statement of the policy lets some source connect, 1 when none does
 * (built-in rules, loopback, are listed but do not count).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exact.h"
#include "packet.h"

/* The source prefixes of a set over (family, saddr): bdd_allsat's callback gathers them. */
static struct {
	const struct pktspace *ps;
	struct strbuf *sb;
	int shown, more;
} sat;

#define SHOW_PREFIXES 8

static void one_cube(char *vals, int size)
{
	(void)size;
	if (sat.shown >= SHOW_PREFIXES) {
		sat.more++;
		return;
	}
	const struct pks_field *f = &sat.ps->saddr;
	int fam6 = vals[sat.ps->family.first];
	/* a family left free: both */
	for (int fam = 0; fam < 2; fam++) {
		if (fam6 >= 0 && fam6 != fam)
			continue;
		struct ir_prefix p = {.family = fam ? IR_V6 : IR_V4};
		int width = fam ? 128 : 32, len = 0;
		bool exact = true;
		for (int k = 0; k < width; k++) {
			int b = vals[f->first + k];
			if (b < 0)
				continue;
			if (k != len)
				exact = false; /* a bit fixed below a free one: not one prefix */
			if (b)
				p.addr[k / 8] |= (uint8_t)(0x80 >> (k % 8));
			len = k + 1;
		}
		p.len = (uint8_t)len;
		char buf[64];
		ir_prefix_format(&p, buf, sizeof(buf));
		sb_printf(sat.sb, "%s%s%s", sat.shown ? ", " : "", buf, exact ? "" : " (in part)");
		sat.shown++;
	}
}

static char *sources_text(const struct exact *x, BDD s)
{
	int *keep = xcalloc((size_t)x->ps.nvars, sizeof(int));
	int n = 0;
	for (int v = 0; v < x->ps.nvars; v++) {
		bool src = (v >= x->ps.saddr.first && v < x->ps.saddr.first + x->ps.saddr.bits) ||
			   v == x->ps.family.first;
		if (!src)
			keep[n++] = v;
	}
	BDD others = bdd_addref(bdd_makeset(keep, n));
	BDD proj = bdd_addref(bdd_exist(s, others));
	struct strbuf sb = {0};
	sb_puts(&sb, "");
	sat.ps = &x->ps;
	sat.sb = &sb;
	sat.shown = sat.more = 0;
	bdd_allsat(proj, one_cube);
	if (sat.more)
		sb_printf(&sb, " and %d more", sat.more);
	bdd_delref(proj);
	bdd_delref(others);
	free(keep);
	return sb_steal(&sb);
}

/* "tcp/22" or "udp/53": false (with a message) otherwise. */
static bool parse_target(const char *t, uint8_t *proto, uint16_t *port)
{
	const char *slash = strchr(t, '/');
	if (!slash)
		return false;
	size_t pl = (size_t)(slash - t);
	if (pl == 3 && !strncmp(t, "tcp", 3))
		*proto = IR_TCP;
	else if (pl == 3 && !strncmp(t, "udp", 3))
		*proto = IR_UDP;
	else
		return false;
	char *end;
	long v = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || v < 1 || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

static void print_hook(const struct compilation *c, const struct exact *x, BDD q, enum ir_hook hook,
		       FILE *out, bool *any)
{
	BDD h = pks_eq(&x->ps, &x->ps.hook, hook);
	BDD qh = pks_and(q, h);
	bdd_delref(h);
	fprintf(out, "%s:\n", hook == IR_INPUT ? "in (to this host)" : "fwd (through this host)");
	bool some = false;
	for (size_t i = 0; i < x->n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (r->action != IR_ACCEPT || x->eff[i] == bddfalse)
			continue;
		BDD e = exact_arriving(x, &c->ir, x->eff[i]); /* a port forward's, as they arrive */
		BDD s = pks_and(e, qh);
		bdd_delref(e);
		struct ir_packet w;
		if (pks_witness(&x->ps, s, &w)) {
			some = true;
			if (r->origin.stmt_no)
				*any = true; /* the loopback rule lets every local program in: not news */
			char *src = sources_text(x, s);
			char *desc = packet_describe(&w);
			if (r->origin.stmt_no && (size_t)r->origin.stmt_no <= c->res.rules.n)
				fprintf(out, "  %s:%d: %s\n", r->origin.file ? r->origin.file : "?", r->origin.line,
					c->res.rules.v[r->origin.stmt_no - 1].text);
			else
				fprintf(out, "  built-in rule: %s\n", r->origin.builtin ? r->origin.builtin : "?");
			fprintf(out, "    sources: %s\n    e.g.: %s\n", src, desc);
			free(src);
			free(desc);
		}
		bdd_delref(s);
	}
	if (!some)
		fprintf(out, "  no source: every such connection is dropped or rejected\n");
	bdd_delref(qh);
}

int explain_to(const struct compilation *c, const char *target, FILE *out)
{
	uint8_t proto;
	uint16_t port;
	if (!parse_target(target, &proto, &port))
		return cli_usage_error("explain", "--to takes PROTO/PORT, tcp or udp: e.g. --to tcp/22");
	struct exact x;
	if (!exact_analyze(&x, &c->ir, c->res.rules.n)) {
		fprintf(stderr, "pinhole explain: error: the analysis could not start (out of memory)\n");
		return EXIT_BAD_INPUT;
	}
	/* a new connection's first packet: the one the policy decides on */
	BDD q = pks_eq(&x.ps, &x.ps.proto, proto);
	BDD t = pks_eq(&x.ps, &x.ps.dport, port);
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	t = pks_eq(&x.ps, &x.ps.ct, 0); /* CT_NEW is code 0 */
	pks_set(&q, pks_and(q, t));
	bdd_delref(t);
	pks_set(&q, pks_and(q, bdd_nithvar(x.ps.frag.first)));
	pks_set(&q, pks_and(q, bdd_nithvar(x.ps.dnat.first)));
	fprintf(out, "to %s/%u, new connections:\n", proto == IR_TCP ? "tcp" : "udp", port);
	bool any = false;
	print_hook(c, &x, q, IR_INPUT, out, &any);
	print_hook(c, &x, q, IR_FORWARD, out, &any);
	bdd_delref(q);
	exact_free(&x);
	return any ? EXIT_OK : EXIT_FINDINGS;
}
