#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

bool cli_quiet, cli_verbose;

int cli_value(const char *cmd, int argc, char **argv, int *i, const char *shortopt,
	      const char *longopt, const char **val)
{
	const char *a = argv[*i];
	const char *name = NULL;
	if (longopt && !strncmp(a, longopt, strlen(longopt))) {
		const char *rest = a + strlen(longopt);
		if (*rest == '=') {
			*val = rest + 1;
			return 1;
		}
		if (*rest)
			return 0;
		name = longopt;
	} else if (shortopt && !strncmp(a, shortopt, 2)) {
		if (a[2]) {
			*val = a + 2;
			return 1;
		}
		name = shortopt;
	} else {
		return 0;
	}
	if (*i + 1 >= argc)
		return cli_usage_error(cmd, "%s needs an argument", name), -1;
	*val = argv[++*i];
	return 1;
}

bool cli_help_arg(const char *a)
{
	return !strcmp(a, "-h") || !strcmp(a, "--help");
}

int cli_help(const char *usage)
{
	fputs(usage, stdout);
	return EXIT_OK;
}

int cli_common_option(struct cli *cli, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *dir;
	int r = cli_value(NULL, argc, argv, i, "-L", "--library", &dir);
	if (r < 0)
		return -1;
	if (r) {
		VEC_PUSH(cli->libdirs, dir);
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
	if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
		cli_quiet = true;
		cli_verbose = false;
		return 1;
	}
	if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
		cli_verbose = true;
		cli_quiet = false;
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
	fprintf(stderr, "\nTry 'pinhole %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
	return EXIT_BAD_INPUT;
}

bool cli_compile(struct cli *cli, const char *policy, struct compilation *c)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	bool ok;
	const char *name = policy;
	if (!strcmp(policy, "-")) {
		/* The policy on standard input, named <stdin>; includes are relative to here. */
		size_t len;
		char *why = NULL;
		char *text = load_read_bounded(STDIN_FILENO, LOAD_MAX_FILE, &len, &why);
		name = CLI_STDIN_NAME;
		if (!text) {
			memset(c, 0, sizeof(*c));
			diag_error(&c->diags, NULL, "cannot read the policy from standard input: %s", why);
			free(why);
			return false;
		}
		ok = compile_policy_text(name, text, len, &cli->copts, NULL, c);
		free(text);
	} else {
		ok = compile_policy(policy, &cli->copts, c);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (cli_verbose) {
		size_t apps = c->lib.apps.n, files = c->srcs.n;
		fprintf(stderr, "pinhole: %s: %s, %zu rules; %zu files read (policy, includes, library), "
				"%zu apps known; %lld ms\n",
			name, ok ? "compiled" : "not compiled", c->ir.rules.n, files, apps,
			(long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
	}
	return ok;
}

void cli_diag_print(const struct diags *d, FILE *out)
{
	if (!cli_quiet) {
		diag_print(d, out);
		return;
	}
	/* Quiet: errors only, each with the notes that follow it. */
	struct diags only = {0};
	bool keep = false;
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].sev != SEV_NOTE)
			keep = d->v[i].sev == SEV_ERROR;
		if (!keep)
			continue;
		if (only.n == only.cap) {
			only.cap = only.cap ? only.cap * 2 : 8;
			only.v = xrealloc(only.v, only.cap * sizeof(*only.v));
		}
		only.v[only.n++] = d->v[i];
	}
	only.errors = d->errors;
	diag_print(&only, out);
	free(only.v);
}
