/* pinhole status [--netns NAME] POLICY: does the kernel run what the policy compiles to?
 * Exit 0 when table inet pinhole matches, 1 when it differs (each difference is listed). */
#include <string.h>

#include "backend.h"
#include "live.h"
#include "nft_nldiff.h"

size_t status_report(const struct nl_ruleset *want, const struct nl_ruleset *have, const char *policy,
		     FILE *out)
{
	struct strbuf diff = {0};
	size_t n = nl_diff(want, have, &diff);
	if (!out) {
		/* -q: the exit status says it */
	} else if (n == 0) {
		struct nl_counts k = nl_count(want);
		fprintf(out, "table inet %s matches %s (%zu rules in %zu chains, %zu sets, %zu helpers)\n",
			PINHOLE_TABLE, policy, k.rules, k.chains, k.sets, k.objs);
	} else {
		fprintf(out, "table inet %s differs from %s (%zu difference%s):\n", PINHOLE_TABLE, policy, n,
			n == 1 ? "" : "s");
		live_print_lines(out, diff.s);
	}
	sb_free(&diff);
	return n;
}

static const char usage[] =
	"usage: pinhole status [OPTIONS] POLICY\n"
	"Does the kernel run POLICY (- reads standard input)? Exit 0 when table inet pinhole\n"
	"matches it, 1 when it differs (each difference is listed). For a policy with helper\n"
	"channels, also whether pinholed is attached (NFLOG group 7100) and the live pinholes.\n"
	"  --netns NAME         look in network namespace NAME (ip netns)\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless, --stateful  as for compile\n"
	"  -q, --quiet          print errors only: the exit status says it\n"
	"  -v, --verbose        also say what was read and how long it took\n"
	"  -h, --help           this help\n";

int cmd_status(struct cli *cli, int argc, char **argv)
{
	const char *policy = NULL, *netns = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i]))
			return cli_help(usage);
		int r = cli_common_option(cli, argc, argv, &i);
		if (r == 0)
			r = cli_value("status", argc, argv, &i, NULL, "--netns", &netns);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r)
			continue;
		if (cli_policy_arg("status", argv[i], &policy) != EXIT_OK)
			return EXIT_BAD_INPUT;
	}
	if (!policy)
		return cli_usage_error("status", "which policy? pinhole status [--netns NAME] POLICY");
	struct live lv;
	int rc = live_compile(&lv, cli, "status", policy);
	if (rc == EXIT_OK)
		rc = live_connect(&lv, netns);
	struct nl_ruleset have;
	if (rc == EXIT_OK && (rc = live_read(&lv, &have)) == EXIT_OK) {
		if (status_report(&lv.want, &have, lv.policy, cli_quiet ? NULL : stdout))
			rc = EXIT_FINDINGS;
		if (!cli_quiet)
			status_pinholed_report(&lv.c.ir, &have, stdout);
		nl_ruleset_free(&have);
	}
	live_free(&lv);
	return rc;
}
