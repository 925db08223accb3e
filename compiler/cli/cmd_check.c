/* pinhole check POLICY...: every diagnostic of every policy; exit 0 clean, 1 findings, 2 errors. */
#include <string.h>

#include "cli.h"

static const char usage[] =
	"usage: pinhole check [OPTIONS] POLICY...\n"
	"Parse, resolve and lint each POLICY (- reads standard input); report every finding.\n"
	"Exit 0 clean, 1 warnings, 2 errors.\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless, --stateful  as for compile\n"
	"  -q, --quiet          print errors only\n"
	"  -v, --verbose        also say what was read and how long it took\n"
	"  -h, --help           this help\n";

int cmd_check(struct cli *cli, int argc, char **argv)
{
	VEC(const char *) files = {0};
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i])) {
			VEC_FREE(files);
			return cli_help(usage);
		}
		int r = cli_common_option(cli, argc, argv, &i);
		if (r < 0) {
			VEC_FREE(files);
			return EXIT_BAD_INPUT;
		}
		if (r)
			continue;
		if (argv[i][0] == '-' && argv[i][1]) {
			VEC_FREE(files);
			return cli_usage_error("check", "unknown option '%s'", argv[i]);
		}
		VEC_PUSH(files, argv[i]);
	}
	if (!files.n)
		return cli_usage_error("check", "which policies? pinhole check POLICY...");
	int rc = EXIT_OK;
	for (size_t i = 0; i < files.n; i++) {
		struct compilation c;
		bool ok = cli_compile(cli, files.v[i], &c);
		cli_diag_print(&c.diags, stderr);
		if (!ok)
			rc = EXIT_BAD_INPUT;
		else if (c.diags.warnings && rc == EXIT_OK)
			rc = EXIT_FINDINGS;
		compilation_free(&c);
	}
	VEC_FREE(files);
	return rc;
}
