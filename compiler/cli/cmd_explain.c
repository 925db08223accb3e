/* pinhole explain [--brief] POLICY PACKET|-: the verdict for one packet, down to the policy line.
 * Packets read from stdin are judged in order, as the kernel would see them: a control flow's
 * packet records its peer in a dynamic set, and a later packet of the scoped channel from that
 * peer finds it there. A single packet meets empty sets. */
#include <arpa/inet.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "packet.h"
#include "scope.h"

static const struct ast_flow *find_flow(const struct compilation *c, const struct ir_origin *o)
{
	const struct ast_app *app = library_find(&c->lib, o->app);
	for (size_t i = 0; !app && i < c->res.port_apps.n; i++)
		if (!strcmp(c->res.port_apps.v[i]->name, o->app))
			app = c->res.port_apps.v[i];
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

/* Scoped channels: the peers this packet records (rules met before the verdict), and, when
 * it is not accepted, whether it would be had its peer used a control flow lately. */
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
	const struct ir_setref *in = w.rule ? ir_rule_in_set(w.rule) : NULL;
	const struct ir_dynset *ds = in ? ir_dynset_find(&c->ir, in->name) : NULL;
	if (w.action != IR_ACCEPT || !ds)
		return;
	char t[32];
	ir_duration_format(ds->timeout, t, sizeof(t));
	fputs("scoped:  would be accepted after ", out);
	put_addr(out, p->family, in->src ? p->saddr : p->daddr);
	const char *last = strrchr(ds->flows, ',');
	if (last)
		fprintf(out, " used flow %.*s or%s", (int)(last - ds->flows), ds->flows, last + 1);
	else
		fprintf(out, " used flow %s", ds->flows);
	fprintf(out, " of %s within %s (%s:%d, %s flow %s; set %s)\n", ds->app, t, w.rule->origin.file,
		w.rule->origin.line, w.rule->origin.app, w.rule->origin.flow, ds->name);
}

static void print_full(const struct compilation *c, const struct ir_packet *p,
		       const struct ir_verdict *v, FILE *out)
{
	char *desc = packet_describe(p);
	fprintf(out, "packet:  %s\n", desc);
	free(desc);
	fprintf(out, "mode:    %s\n", c->ir.stateless ? "stateless (established only)" : "stateful");
	fprintf(out, "verdict: %s\n", ir_action_name(v->action));
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
		const struct ast_flow *f = find_flow(c, &r->origin);
		char *ft = f ? flow_format(f) : NULL;
		fprintf(out, "flow:    %s flow %s%s: %s (%s:%d)\n", r->origin.app, r->origin.flow,
			r->origin.reply ? " (return traffic)" : "", ft ? ft : "?", r->origin.flow_file,
			r->origin.flow_line);
		free(ft);
		if (f && f->source)
			fprintf(out, "source:  %s\n", f->source);
	}
	char *nft = nft_rule_text(&c->ir, r);
	fprintf(out, "nft:     %s  (chain %s)\n", nft, ir_hook_name(r->hook));
	free(nft);
	const struct ir_rule *h = v->action == IR_ACCEPT ? helper_rule(&c->ir, p) : NULL;
	if (h && p->ct_state == CT_NEW)
		fprintf(out, "helper:  conntrack helper '%s' attached to this connection\n", h->helper);
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

int explain_packet(const struct compilation *c, struct ir_state *st, const char *text, bool brief,
		   const char *where, int lineno, FILE *out, FILE *err)
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
	struct ir_verdict v = ir_eval_state(&c->ir, &pt.pkt, st);
	if (brief)
		print_brief(&v, out);
	else
		print_full(c, &pt.pkt, &v, out);
	return EXIT_OK;
}

int explain_batch(const struct compilation *c, FILE *in, const char *where, bool brief, FILE *out,
		  FILE *err)
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
		if (explain_packet(c, &st, line, brief, where, lineno, out, err) != EXIT_OK)
			rc = EXIT_BAD_INPUT;
		if (!brief)
			fputc('\n', out);
	}
	free(line);
	ir_state_free(&st);
	return rc;
}

static const char usage[] =
	"usage: pinhole explain [OPTIONS] POLICY PACKET|-\n"
	"The verdict for one packet and the policy line that decided it. PACKET - reads one\n"
	"packet per line from standard input (then POLICY cannot be - as well).\n"
	"  PACKET: PROTO SRC -> DST DIR [flags...], e.g. 'tcp 192.0.2.7:40000 -> 10.0.0.5:22 in syn'\n"
	"  --brief              one line per packet: the verdict and the deciding line\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless, --stateful  as for compile\n"
	"  -q, --quiet          print errors only (the verdicts are still printed)\n"
	"  -v, --verbose        also say what was read and how long it took\n"
	"  -h, --help           this help\n";

int cmd_explain(struct cli *cli, int argc, char **argv)
{
	bool brief = false;
	const char *policy = NULL;
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
		} else if (!policy && argv[i][0] == '-' && argv[i][1]) {
			sb_free(&packet);
			return cli_usage_error("explain", "unknown option '%s'", argv[i]);
		} else if (!policy) {
			policy = argv[i];
		} else {
			sb_printf(&packet, "%s%s", packet.len ? " " : "", argv[i]);
		}
	}
	if (!policy || !packet.len) {
		sb_free(&packet);
		return cli_usage_error("explain", "usage: pinhole explain [--brief] POLICY PACKET|-\n"
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
	if (ok && strcmp(packet.s, "-") != 0) {
		struct ir_state st = {0};
		rc = explain_packet(&c, &st, packet.s, brief, NULL, 0, stdout, stderr);
		ir_state_free(&st);
	} else if (ok) {
		rc = explain_batch(&c, stdin, "<stdin>", brief, stdout, stderr);
	}
	compilation_free(&c);
	sb_free(&packet);
	return rc;
}
