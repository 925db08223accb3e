#include <stdarg.h>
#include <string.h>

#include "cli.h"

int cli_common_option(struct cli *cli, int argc, char **argv, int *i)
{
	const char *a = argv[*i];
	if (!strcmp(a, "-L") || !strcmp(a, "--library")) {
		if (*i + 1 >= argc)
			return cli_usage_error(NULL, "%s needs a directory", a), -1;
		VEC_PUSH(cli->libdirs, argv[++*i]);
		cli->copts.libdirs = cli->libdirs.v;
		cli->copts.nlibdirs = cli->libdirs.n;
		return 1;
	}
	if (!strncmp(a, "-L", 2) && a[2]) {
		VEC_PUSH(cli->libdirs, a + 2);
		cli->copts.libdirs = cli->libdirs.v;
		cli->copts.nlibdirs = cli->libdirs.n;
		return 1;
	}
	if (!strcmp(a, "--stateless")) {
		cli->copts.mode = MODE_STATELESS;
		return 1;
	}
	if (!strcmp(a, "--stateful")) {
		cli->copts.mode = MODE_STATEFUL;
		return 1;
	}
	return 0;
}

int cli_policy_arg(const char *cmd, const char *arg, const char **policy)
{
	if (arg[0] == '-' && arg[1])
		return cli_usage_error(cmd, "unknown option '%s'", arg);
	if (*policy)
		return cli_usage_error(cmd, "one policy at a time ('%s' and '%s')", *policy, arg);
	*policy = arg;
	return EXIT_OK;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pinhole%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'pinhole --help'.\n");
	return EXIT_BAD_INPUT;
}
