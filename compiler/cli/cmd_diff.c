/*
 * pinhole diff [OPTIONS] OLD NEW: what changes between two policies, exactly (exact.h):
 * the traffic NEW accepts that OLD does not, and the traffic OLD accepts that NEW does not,
 * per deciding line, with a witness packet each that the evaluator confirms. Drop and reject
 * count alike (not accepted). Exit 0 when both accept the same packets, 1 when they differ,
 * 2 on bad input.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "exact.h"
#include "packet.h"

static const char usage[] =
	"usage: pinhole diff [OPTIONS] OLD NEW\n"
	"The traffic NEW newly allows and newly denies compared with OLD, exactly, per deciding\n"
	"line, with a witness packet each.\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless, --stateful  as for compile (both policies)\n"
	"  -q, --quiet          print errors only (the differences are still printed)\n"
	"  -h, --help           this help\n"
	"Exit status: 0 the same traffic is allowed, 1 it differs, 2 bad input.\n";

/* What a policy accepts, of packets as they arrive: a port forward's connection by the
 * verdict on it rewritten (exact_arriving). */
static BDD accepted(const struct exact *x, const struct ir_ruleset *rs)
{
	BDD a = bdd_addref(bddfalse);
	for (size_t i = 0; i < x->n; i++)
		if (rs->rules.v[i].action == IR_ACCEPT && x->eff[i] != bddfalse)
			pks_set(&a, pks_or(a, x->eff[i]));
	BDD arr = exact_arriving(x, rs, a);
	bdd_delref(a);
	return arr;
}

static void rule_line(const struct compilation *c, const struct ir_rule *r, struct strbuf *sb)
{
	if (r->origin.stmt_no && (size_t)r->origin.stmt_no <= c->res.rules.n)
		sb_printf(sb, "%s:%d: %s", r->origin.file ? r->origin.file : "?", r->origin.line,
			  c->res.rules.v[r->origin.stmt_no - 1].text);
	else
		sb_printf(sb, "built-in rule: %s", r->origin.builtin ? r->origin.builtin : "?");
}

/* For each accepting rule of `by` whose decided packets meet `change`: the line, a witness,
 * and what the other policy does with it. */
static int report(const char *title, const struct compilation *by, const struct exact *xb,
		  const struct compilation *other, BDD change, FILE *out)
{
	int n = 0;
	for (size_t i = 0; i < xb->n && change != bddfalse; i++) {
		const struct ir_rule *r = &by->ir.rules.v[i];
		if (r->action != IR_ACCEPT || xb->eff[i] == bddfalse)
			continue;
		BDD e = exact_arriving(xb, &by->ir, xb->eff[i]);
		BDD s = pks_and(e, change);
		bdd_delref(e);
		struct ir_packet w;
		if (pks_witness(&xb->ps, s, &w)) {
			if (!n++)
				fprintf(out, "%s:\n", title);
			struct strbuf sb = {0};
			rule_line(by, r, &sb);
			char *desc = packet_describe(&w);
			struct ir_verdict v = ir_eval(&other->ir, &w);
			struct strbuf ob = {0};
			if (v.rule)
				rule_line(other, v.rule, &ob);
			else
				sb_puts(&ob, "the default policy");
			fprintf(out, "  %s\n    e.g.: %s\n", sb.s, desc);
			struct ir_verdict vb = ir_eval(&by->ir, &w);
			if (vb.dnat)
				fprintf(out, "    rewritten by: %s:%d: %s\n",
					vb.dnat->origin.file ? vb.dnat->origin.file : "?", vb.dnat->origin.line,
					vb.dnat->origin.stmt_no && (size_t)vb.dnat->origin.stmt_no <= by->res.rules.n
					? by->res.rules.v[vb.dnat->origin.stmt_no - 1].text : "?");
			fprintf(out, "    the other policy: %s, by %s\n", ir_action_name(v.action), ob.s);
			free(desc);
			sb_free(&sb);
			sb_free(&ob);
		}
		bdd_delref(s);
	}
	return n;
}

int cmd_diff(struct cli *cli, int argc, char **argv)
{
	const char *files[2] = {NULL, NULL};
	int nf = 0;
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i]))
			return cli_help(usage);
		int r = cli_common_option(cli, argc, argv, &i);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1])
			return cli_usage_error("diff", "unknown option '%s'", argv[i]);
		if (nf == 2)
			return cli_usage_error("diff", "two policies: pinhole diff OLD NEW");
		files[nf++] = argv[i];
	}
	if (nf != 2)
		return cli_usage_error("diff", "two policies: pinhole diff OLD NEW");
	if (!strcmp(files[0], "-") && !strcmp(files[1], "-"))
		return cli_usage_error("diff", "only one policy can come from standard input");
	struct compilation c[2];
	bool ok = true;
	for (int k = 0; k < 2; k++) {
		ok = cli_compile(cli, files[k], &c[k]) && ok;
		cli_diag_print(&c[k].diags, stderr);
	}
	int rc = EXIT_BAD_INPUT;
	if (ok) {
		/* one packet space for both: the interface and helper names of either */
		struct ir_ruleset both = {0};
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < c[k].ir.rules.n; i++)
				VEC_PUSH(both.rules, c[k].ir.rules.v[i]);
		struct pktspace ps;
		bool started = pks_init(&ps, &both);
		VEC_FREE(both.rules); /* a view: the rules are the compilations' */
		if (!started) {
			fprintf(stderr, "pinhole diff: error: the analysis could not start (out of memory)\n");
		} else {
			struct exact x[2];
			for (int k = 0; k < 2; k++)
				exact_analyze_in(&x[k], &ps, &c[k].ir, c[k].res.rules.n);
			BDD a0 = accepted(&x[0], &c[0].ir), a1 = accepted(&x[1], &c[1].ir);
			BDD added = pks_diff(a1, a0), removed = pks_diff(a0, a1);
			int n = report("newly allowed (NEW accepts, OLD does not)", &c[1], &x[1], &c[0], added, stdout);
			n += report("newly denied (OLD accepts, NEW does not)", &c[0], &x[0], &c[1], removed, stdout);
			if (!n)
				printf("no difference: both policies accept exactly the same packets\n");
			rc = n ? EXIT_FINDINGS : EXIT_OK;
			bdd_delref(added);
			bdd_delref(removed);
			bdd_delref(a0);
			bdd_delref(a1);
			for (int k = 0; k < 2; k++)
				exact_free(&x[k]);
			pks_done(&ps);
		}
	}
	for (int k = 0; k < 2; k++)
		compilation_free(&c[k]);
	return rc;
}
