/* pinhole compile [-t nft|iptables|ip6tables] [-o FILE] POLICY (POLICY and FILE may be -) */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "nft_lower.h"

#ifndef PINHOLE_VERSION
#define PINHOLE_VERSION "dev"
#endif

/* family: 0 for nft (both families, from the plan check_target made), IR_V4 / IR_V6 for
 * iptables / ip6tables. */
static void render(const struct compilation *c, uint8_t family, const struct nft_plan *plan,
		   const struct render_info *info, FILE *out)
{
	if (!family)
		nft_render_plan(&c->ir, plan, info, out);
	else
		ipt_render(&c->ir, family, info, out); /* both checked by check_target() before */
}

/* A regular file is written to FILE.tmp and renamed, so a failed run never leaves a partial
 * or stale file; a device or FIFO is written in place. */
static int write_output(const struct compilation *c, uint8_t family, const struct nft_plan *plan,
			const char *policy, const char *path)
{
	struct render_info info = {.policy = policy, .version = PINHOLE_VERSION};
	if (!path || !strcmp(path, "-")) {
		render(c, family, plan, &info, stdout);
		return fflush(stdout) == 0 ? EXIT_OK : EXIT_INTERNAL;
	}
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* A device or FIFO (-o /dev/null, a pipe): written in place, never replaced by a
		 * file. The ruleset is complete before the first byte is written. */
		FILE *f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
			return EXIT_BAD_INPUT;
		}
		render(c, family, plan, &info, f);
		int failed = ferror(f);
		failed |= fclose(f) != 0;
		if (failed) {
			fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
			return EXIT_INTERNAL;
		}
		return EXIT_OK;
	}
	/* A file: written next to it and renamed, so a failed run never leaves a partial one. */
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "pinhole: error: cannot write '%s': %s\n", path, strerror(errno));
		free(tmp);
		return EXIT_BAD_INPUT;
	}
	render(c, family, plan, &info, f);
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

/* What the target could not say exactly, reported at the policy statement the rule came from;
 * for the iptables targets also what this family's file leaves out. */
static bool check_target(struct compilation *c, uint8_t family, const char *policy,
			 struct nft_plan *plan)
{
	if (family)
		ipt_family_warnings(&c->ir, family, policy, &c->diags);
	char *why = NULL;
	const struct ir_rule *r;
	if (family) {
		r = ipt_check(&c->ir, family, &why);
	} else {
		/* The plan the text is rendered from lowers every rule: only if some rule does not
		 * lower is nft_check asked which (the first in ruleset order), to report it. */
		nft_plan_build(&c->ir, plan);
		r = nft_plan_rules(&c->ir, plan, NULL) ? nft_check(&c->ir, &why) : NULL;
	}
	if (!r)
		return true;
	struct loc at = {0};
	const struct source *src = compilation_source(c, r->origin.file);
	if (src)
		at = (struct loc){.src = src, .first_line = r->origin.line, .first_column = r->origin.col,
				  .last_line = r->origin.line, .last_column = r->origin.col};
	diag_error_id(&c->diags, DIAG_E_BACKEND, at.src ? &at : NULL, "cannot write this rule for %s: %s",
		   family == IR_V6 ? "ip6tables" : family ? "iptables" : "nftables", why);
	free(why);
	return false;
}

static const char usage[] =
	"usage: pinhole compile [OPTIONS] POLICY\n"
	"Compile POLICY (- reads standard input) to a ruleset.\n"
	"  -t, --target TARGET  nft (default), iptables or ip6tables\n"
	"  -o, --output FILE    write FILE (- or none: standard output); on error it is left alone\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless          compile as if the policy said 'established only;'\n"
	"  --stateful           compile with connection tracking even if it says so\n"
	"  -q, --quiet          print errors only\n"
	"  -v, --verbose        also say what was read and how long it took\n"
	"  -h, --help           this help\n";

int cmd_compile(struct cli *cli, int argc, char **argv)
{
	const char *out = NULL, *target = "nft", *policy = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i]))
			return cli_help(usage);
		int r = cli_common_option(cli, argc, argv, &i);
		if (r == 0)
			r = cli_value("compile", argc, argv, &i, "-o", "--output", &out);
		if (r == 0)
			r = cli_value("compile", argc, argv, &i, "-t", "--target", &target);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r)
			continue;
		if (cli_policy_arg("compile", argv[i], &policy) != EXIT_OK)
			return EXIT_BAD_INPUT;
	}
	if (!policy)
		return cli_usage_error("compile", "which policy? pinhole compile [-t nft|iptables|ip6tables] [-o FILE] POLICY");
	uint8_t family;
	if (!strcmp(target, "nft"))
		family = 0;
	else if (!strcmp(target, "iptables"))
		family = IR_V4;
	else if (!strcmp(target, "ip6tables"))
		family = IR_V6;
	else
		return cli_usage_error("compile", "unknown target '%s' (available: nft, iptables, ip6tables)", target);
	/* pinholed fills nft sets: iptables has none (no ipset here), so its files keep the
	 * scoped static fallback of negotiated channels (docs/iptables.md). */
	cli->copts.negotiated_static = family != 0;
	cli->copts.ir_only = true; /* the front half is dropped once the IR is there */
	struct compilation c;
	bool ok = cli_compile(cli, policy, &c);
	const char *name = strcmp(policy, "-") ? policy : CLI_STDIN_NAME;
	if (ok) {
		compilation_drop_front(&c); /* only the IR and the sources from here on */
#ifdef __GLIBC__
		/* The front's blocks lie between the IR's in the heap: their whole free pages go
		 * back to the system before the plan is built (glibc keeps them otherwise). */
		malloc_trim(0);
#endif
	}
	struct nft_plan plan;
	bool planned = ok && !family;
	if (ok)
		ok = check_target(&c, family, name, &plan);
	cli_diag_print(&c.diags, stderr);
	int rc = ok ? write_output(&c, family, planned ? &plan : NULL, name, out) : EXIT_BAD_INPUT;
	if (planned)
		nft_plan_free(&plan);
	compilation_free(&c);
	return rc;
}
