/* pinhole check [OPTIONS] POLICY...: every finding of every policy (docs/check.md); exit 0
 * clean, 1 findings that fail (--fail-on, -Werror), 2 a policy with errors or a usage error. */
#include <string.h>

#include "addr.h"
#include "check.h"
#include "exact.h"
#include "lint.h"

static const char check_usage[] =
	"usage: pinhole check [OPTIONS] POLICY...\n"
	"  --format=FMT      text (default, on stderr), json, sarif or github (on stdout)\n"
	"  --fail-on=LEVEL   warning (default): exit 1 on any warning; error: only on errors\n"
	"                    (and warnings made errors with -Werror)\n"
	"  -W NAME           report warning NAME (an ID such as PH104 or a name such as\n"
	"                    unused-define; every warning is on by default)\n"
	"  -Wno-NAME         do not report warning NAME\n"
	"  -Werror=NAME      report warning NAME as an error; -Werror: every warning\n"
	"  --baseline FILE   do not report findings already in FILE (the json or sarif output\n"
	"                    of an earlier check)\n"
	"  -I DIR            look for includes in DIR when they are not next to the including file\n"
	"  --mgmt PREFIX,... management networks, besides the policy's 'management from': warn\n"
	"                    (PH115) unless every address in them can open ssh (tcp/22) here\n"
	"  -t, --target T    nft (default), iptables or ip6tables: what compile -t T cannot give\n"
	"                    (PH118: helper channels, which need pinholed and nft sets)\n"
	"  -L DIR, --stateless, --stateful   as for every command\n"
	"  -q, --quiet       print errors only;  -v, --verbose   also what was read and how long\n"
	"  -h, --help        this help\n"
	"A POLICY of - is read from standard input.\n"
	"IDs and suppression comments ('# pinhole: ignore PH104 because REASON'): docs/check.md\n";

/* The value of --opt=VALUE or --opt VALUE; NULL (after a usage error) when missing. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	size_t n = strlen(opt);
	const char *a = argv[*i];
	if (a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= argc) {
		cli_usage_error("check", "%s needs a value", opt);
		return NULL;
	}
	return argv[++*i];
}

static bool is_opt(const char *a, const char *opt)
{
	size_t n = strlen(opt);
	return !strncmp(a, opt, n) && (a[n] == 0 || a[n] == '=');
}

static int set_w(struct check_opts *o, const char *name, enum check_wstate st)
{
	enum diag_id id = diag_rule_find(name);
	if (id == DIAG_NONE)
		return cli_usage_error("check", "no warning '%s' (docs/check.md lists them)", name);
	if (diag_rule(id)->sev == SEV_ERROR)
		return cli_usage_error("check", "%s (%s) is an error, not a warning: it cannot be turned "
				       "off or made an error", diag_rule(id)->code, diag_rule(id)->name);
	o->w[id] = st;
	return EXIT_OK;
}

/* One check option at argv[*i]: 1 consumed, 0 not ours, -1 usage error (already told). */
static int check_option(struct check_opts *o, check_dirs *incdirs, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v;
	if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
		fputs(check_usage, stdout);
		return 2;
	}
	if (is_opt(a, "--format")) {
		if (!(v = opt_value(argc, argv, i, "--format")))
			return -1;
		if (!strcmp(v, "text"))
			o->format = CHECK_TEXT;
		else if (!strcmp(v, "json"))
			o->format = CHECK_JSON;
		else if (!strcmp(v, "sarif"))
			o->format = CHECK_SARIF;
		else if (!strcmp(v, "github"))
			o->format = CHECK_GITHUB;
		else
			return cli_usage_error("check", "unknown format '%s' (text, json, sarif or github)", v), -1;
		return 1;
	}
	if (is_opt(a, "--fail-on")) {
		if (!(v = opt_value(argc, argv, i, "--fail-on")))
			return -1;
		if (!strcmp(v, "warning"))
			o->fail_on_warning = true;
		else if (!strcmp(v, "error"))
			o->fail_on_warning = false;
		else
			return cli_usage_error("check", "--fail-on takes error or warning, not '%s'", v), -1;
		return 1;
	}
	if (is_opt(a, "--baseline")) {
		if (!(v = opt_value(argc, argv, i, "--baseline")))
			return -1;
		char *why = NULL;
		if (!check_read_baseline(v, o, &why)) {
			fprintf(stderr, "pinhole check: %s\n", why);
			free(why);
			return -1;
		}
		return 1;
	}
	if (is_opt(a, "--mgmt")) {
		if (!(v = opt_value(argc, argv, i, "--mgmt")))
			return -1;
		/* a comma-separated list of prefixes, both families */
		char *list = xstrdup(v), *save = NULL;
		for (char *tok = strtok_r(list, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
			struct ir_prefix p;
			char *why = NULL;
			if (!prefix_parse(tok, &p, &why)) {
				cli_usage_error("check", "--mgmt %s: %s", tok, why ? why : "not an address or prefix");
				free(why);
				free(list);
				return -1;
			}
			VEC_PUSH(o->mgmt, p);
		}
		free(list);
		return 1;
	}
	if (!strcmp(a, "-t") || is_opt(a, "--target")) {
		if (!(v = !strcmp(a, "-t") ? (*i + 1 < argc ? argv[++*i] : NULL) : opt_value(argc, argv, i, "--target")))
			return cli_usage_error("check", "%s needs a target", a), -1;
		if (strcmp(v, "nft") && strcmp(v, "iptables") && strcmp(v, "ip6tables"))
			return cli_usage_error("check", "unknown target '%s' (available: nft, iptables, "
					       "ip6tables)", v), -1;
		o->target = strcmp(v, "nft") ? v : NULL;
		return 1;
	}
	if (!strcmp(a, "-I")) {
		if (*i + 1 >= argc)
			return cli_usage_error("check", "-I needs a directory"), -1;
		VEC_PUSH(*incdirs, argv[++*i]);
		return 1;
	}
	if (!strncmp(a, "-I", 2)) {
		VEC_PUSH(*incdirs, a + 2);
		return 1;
	}
	if (!strcmp(a, "-Werror")) {
		o->werror_all = true;
		return 1;
	}
	if (!strncmp(a, "-Werror=", 8))
		return set_w(o, a + 8, W_ERROR) ? -1 : 1;
	if (!strncmp(a, "-Wno-", 5))
		return set_w(o, a + 5, W_OFF) ? -1 : 1;
	if (!strcmp(a, "-W")) {
		if (*i + 1 >= argc)
			return cli_usage_error("check", "-W needs a warning name"), -1;
		return set_w(o, argv[++*i], W_ON) ? -1 : 1;
	}
	if (!strncmp(a, "-W", 2))
		return set_w(o, a + 2, W_ON) ? -1 : 1;
	return 0;
}

/* PH203: each statement with helper channels (their sets carry the parser's name) says that
 * pinholed must run, naming the channels once each. Only check says it: compile and apply
 * output stays as it was. With an iptables target (PH118) they cannot be had at all: pinholed
 * fills nft sets, so `compile -t iptables` writes their static fallback instead. */
static void note_helper_channels(struct compilation *c, const char *target)
{
	for (size_t i = 0; i < c->ir.dynsets.n; i++) {
		const struct ir_dynset *ds = &c->ir.dynsets.v[i];
		bool first = ds->parser != NULL;
		for (size_t k = 0; first && k < i; k++)
			first = !(c->ir.dynsets.v[k].parser && c->ir.dynsets.v[k].stmt_no == ds->stmt_no);
		if (!first || ds->stmt_no < 1 || (size_t)ds->stmt_no > c->res.rules.n)
			continue;
		struct strbuf flows = {0};
		for (size_t k = i; k < c->ir.dynsets.n; k++) {
			const struct ir_dynset *o = &c->ir.dynsets.v[k];
			bool seen = false;
			for (size_t j = i; j < k && !seen; j++)
				seen = c->ir.dynsets.v[j].parser && c->ir.dynsets.v[j].stmt_no == o->stmt_no &&
				       !strcmp(c->ir.dynsets.v[j].app, o->app) &&
				       !strcmp(c->ir.dynsets.v[j].flow, o->flow);
			if (o->parser && o->stmt_no == ds->stmt_no && !seen)
				sb_printf(&flows, "%s%s flow %s (%s)", flows.len ? ", " : "", o->app, o->flow,
					  o->parser);
		}
		const struct loc *at = &c->res.rules.v[ds->stmt_no - 1].loc;
		bool relayed = false;
		for (size_t k = i; k < c->ir.dynsets.n; k++)
			relayed |= c->ir.dynsets.v[k].parser && c->ir.dynsets.v[k].stmt_no == ds->stmt_no &&
				   c->ir.dynsets.v[k].peerless;
		if (target)
			diag_warning_id(&c->diags, DIAG_W_TARGET_HELPER, at, "%s cannot give helper "
					"channels %s: pinholed opens them in nft sets only, so 'pinhole "
					"compile -t %s' opens their static fallback ports instead "
					"(docs/iptables.md)%s", target, flows.s, target,
					relayed ? "; a relayed channel has none (closed), but IRC DCC's is "
					"the kernel's irc helper" : "");
		else
			diag_note_id(&c->diags, DIAG_N_NEEDS_PINHOLED, at,
				     "helper channels %s open only while pinholed runs with this policy "
				     "(pinholed --policy FILE); without it they stay closed ('negotiated static;' "
				     "opens their static fallback instead%s)", flows.s,
				     relayed ? "; a relayed channel has none, but IRC DCC's is the kernel's irc "
				     "helper, IPv4 offers this host sends" : "");
		sb_free(&flows);
	}
}

int cmd_check(struct cli *cli, int argc, char **argv)
{
	struct check_opts o = {.format = CHECK_TEXT, .fail_on_warning = true};
	VEC(const char *) files = {0};
	check_dirs incdirs = {0};
	int rc = EXIT_OK;
	for (int i = 1; i < argc && rc == EXIT_OK; i++) {
		int r = cli_common_option(cli, argc, argv, &i);
		if (r == 0)
			r = check_option(&o, &incdirs, argc, argv, &i);
		if (r < 0)
			rc = EXIT_BAD_INPUT;
		else if (r == 2)
			rc = -1; /* --help */
		else if (r == 0 && argv[i][0] == '-' && argv[i][1])
			rc = cli_usage_error("check", "unknown option '%s'", argv[i]);
		else if (r == 0)
			VEC_PUSH(files, argv[i]);
	}
	if (rc == EXIT_OK && !files.n)
		rc = cli_usage_error("check", "which policies? pinhole check POLICY...");
	struct check_policy *pols = rc == EXIT_OK ? xcalloc(files.n, sizeof(*pols)) : NULL;
	cli->copts.incdirs = incdirs.v;
	cli->copts.nincdirs = incdirs.n;
	cli->copts.analyze = true;
	cli->copts.mgmt = o.mgmt.v; /* with the policy's own management networks (lint.h) */
	cli->copts.nmgmt = o.mgmt.n;
	for (size_t i = 0; pols && i < files.n; i++) {
		struct check_policy *p = &pols[i];
		p->file = files.v[i];
		unsigned long tests0 = exact_pair_tests;
		struct pks_stats bdd0 = pks_stats;
		p->ok = cli_compile(cli, p->file, &p->c);
		if (p->ok)
			note_helper_channels(&p->c, o.target);
		if (cli_verbose)
			fprintf(stderr, "pinhole: %s: exact analysis: %lu rule pairs tested, %ld BDD nodes "
				"made, %ld garbage collections, node table of %ld, %ld interface name "
				"tests\n", p->file, exact_pair_tests - tests0,
				pks_stats.nodes_made - bdd0.nodes_made, pks_stats.gcs - bdd0.gcs,
				pks_stats.table_peak, pks_stats.name_tests - bdd0.name_tests);
		check_findings(p, &o);
		if (p->status > rc)
			rc = p->status;
	}
	if (pols) {
		switch (o.format) {
		case CHECK_TEXT: check_print_text(pols, files.n, cli_quiet, stderr); break;
		case CHECK_GITHUB: check_print_github(pols, files.n, stdout); break;
		case CHECK_JSON: check_print_json(pols, files.n, rc, stdout); break;
		case CHECK_SARIF: check_print_sarif(pols, files.n, rc, stdout); break;
		}
		for (size_t i = 0; i < files.n; i++)
			check_policy_free(&pols[i]);
		free(pols);
	}
	cli->copts.incdirs = NULL;
	cli->copts.nincdirs = 0;
	cli->copts.analyze = false;
	cli->copts.mgmt = NULL;
	cli->copts.nmgmt = 0;
	for (size_t i = 0; i < o.baseline.n; i++)
		free(o.baseline.v[i]);
	VEC_FREE(o.baseline);
	VEC_FREE(o.mgmt);
	VEC_FREE(incdirs);
	VEC_FREE(files);
	return rc < 0 ? EXIT_OK : rc;
}
