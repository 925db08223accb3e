/* pinhole apps [APP]: the library, or one app's flows, roles, ports and sources. */
#include <string.h>

#include "cli.h"

static bool at(enum role end, enum role r)
{
	return end == r || end == ROLE_ANY;
}

static void print_role(const struct ast_app *a, enum role r)
{
	struct strbuf opens = {0}, accepts = {0};
	for (size_t i = 0; i < a->flows.n; i++) {
		const struct ast_flow *f = &a->flows.v[i];
		bool o = at(f->from, r) || (f->both_ways && at(f->to, r));
		bool in = at(f->to, r) || (f->both_ways && at(f->from, r));
		if (o)
			sb_printf(&opens, "%s%s", opens.len ? ", " : "", f->name);
		if (in)
			sb_printf(&accepts, "%s%s", accepts.len ? ", " : "", f->name);
	}
	printf("  allow %s %s: opens %s; accepts %s\n", a->name, role_name(r),
	       opens.len ? opens.s : "nothing", accepts.len ? accepts.s : "nothing");
	sb_free(&opens);
	sb_free(&accepts);
}

static void show_app(const struct ast_app *a)
{
	printf("%s: %s\n", a->name, a->description ? a->description : "");
	if (a->aliases.n) {
		printf("  aliases:");
		for (size_t i = 0; i < a->aliases.n; i++)
			printf("%s%s", i ? ", " : " ", a->aliases.v[i].text);
		putchar('\n');
	}
	printf("  defined: %s:%d\n", a->loc.src->name, a->loc.first_line);
	if (a->source)
		printf("  source:  %s\n", a->source);
	print_role(a, ROLE_CLIENT);
	print_role(a, ROLE_SERVER);
	printf("  flows:\n");
	for (size_t i = 0; i < a->flows.n; i++) {
		const struct ast_flow *f = &a->flows.v[i];
		char *t = flow_format(f);
		printf("    %-12s %s\n", f->name, t);
		free(t);
		if (f->source)
			printf("    %-12s source: %s\n", "", f->source);
		if (f->is_negotiated)
			printf("    %-12s the port is negotiated at run time; the ports above are the static fallback\n", "");
		if (f->related.text)
			printf("    %-12s admitted as a child of the '%s' conntrack helper (stateful mode)\n", "",
			       f->related.text);
	}
}

static int cmp_app(const void *a, const void *b)
{
	return strcmp((*(const struct ast_app *const *)a)->name, (*(const struct ast_app *const *)b)->name);
}

int cmd_apps(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		int r = cli_common_option(cli, argc, argv, &i);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r)
			continue;
		if (argv[i][0] == '-' || name)
			return cli_usage_error("apps", "usage: pinhole apps [APP]");
		name = argv[i];
	}
	struct compilation c;
	bool ok = compile_library(&cli->copts, &c);
	diag_print(&c.diags, stderr);
	int rc = ok ? EXIT_OK : EXIT_BAD_INPUT;
	if (ok && name) {
		const struct ast_app *a = library_find(&c.lib, name);
		if (a) {
			show_app(a);
		} else {
			const char *s = library_suggest(&c.lib, name);
			fprintf(stderr, "pinhole apps: error: no app '%s'%s%s%s\n", name,
				s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
			rc = EXIT_BAD_INPUT;
		}
	} else if (ok) {
		const struct ast_app **sorted = xmalloc(c.lib.apps.n * sizeof(*sorted));
		memcpy(sorted, c.lib.apps.v, c.lib.apps.n * sizeof(*sorted));
		qsort(sorted, c.lib.apps.n, sizeof(*sorted), cmp_app);
		for (size_t i = 0; i < c.lib.apps.n; i++)
			printf("%-14s %s\n", sorted[i]->name, sorted[i]->description ? sorted[i]->description : "");
		free(sorted);
	}
	compilation_free(&c);
	return rc;
}
