/* pinhole compile [-t nft] [-o FILE] POLICY */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"

#ifndef PINHOLE_VERSION
#define PINHOLE_VERSION "dev"
#endif

/* Writes to FILE.tmp and renames, so a failed run never leaves a partial or stale file. */
static int write_output(const struct compilation *c, const char *policy, const char *path)
{
	struct render_info info = {.policy = policy, .version = PINHOLE_VERSION};
	if (!path) {
		nft_render(&c->ir, &info, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
	}
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
		free(tmp);
		return EXIT_BAD_INPUT;
	}
	nft_render(&c->ir, &info, f);
	int failed = ferror(f);
	failed |= fclose(f) != 0;
	if (failed || rename(tmp, path) != 0) {
		fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return EXIT_INTERNAL;
	}
	free(tmp);
	return EXIT_OK;
}

int cmd_compile(struct cli *cli, int argc, char **argv)
{
	const char *out = NULL, *target = "nft", *policy = NULL;
	for (int i = 1; i < argc; i++) {
		int r = cli_common_option(cli, argc, argv, &i);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r)
			continue;
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "-t")) {
			if (i + 1 >= argc)
				return cli_usage_error("compile", "%s needs an argument", argv[i]);
			*(argv[i][1] == 'o' ? &out : &target) = argv[i + 1];
			i++;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return cli_usage_error("compile", "unknown option '%s'", argv[i]);
		} else if (policy) {
			return cli_usage_error("compile", "one policy at a time ('%s' and '%s')", policy, argv[i]);
		} else {
			policy = argv[i];
		}
	}
	if (!policy)
		return cli_usage_error("compile", "which policy? pinhole compile [-t nft] [-o FILE] POLICY");
	if (strcmp(target, "nft") != 0)
		return cli_usage_error("compile", "unknown target '%s' (available: nft)", target);
	struct compilation c;
	bool ok = compile_policy(policy, &cli->copts, &c);
	diag_print(&c.diags, stderr);
	int rc = ok ? write_output(&c, policy, out) : EXIT_BAD_INPUT;
	compilation_free(&c);
	return rc;
}
