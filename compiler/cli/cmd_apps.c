/* pinhole apps [APP]: the library, or one app's flows, roles, ports and sources. */
#include <string.h>

#include "cli.h"

static bool at(enum role end, enum role r)
{
	return end == r || end == ROLE_ANY;
}

/* A flow's name as `pinhole apps` shows it: a used app's flows carry that app's name. */
static void put_flow_name(struct strbuf *sb, const struct ast_app *a, const struct flow_ref *fr)
{
	if (fr->app != a)
		sb_printf(sb, "%s/", fr->app->name);
	sb_puts(sb, fr->flow->name);
}

static void print_role(const struct ast_app *a, const flow_refs *flows, enum role r)
{
	struct strbuf opens = {0}, accepts = {0}, rejects = {0};
	for (size_t i = 0; i < flows->n; i++) {
		const struct flow_ref *fr = &flows->v[i];
		const struct ast_flow *f = fr->flow;
		bool o = at(f->from, r) || (f->both_ways && at(f->to, r));
		bool in = at(f->to, r) || (f->both_ways && at(f->from, r));
		if (f->reject) {
			if (in) { /* only the side that receives a probe answers it */
				sb_puts(&rejects, rejects.len ? ", " : "");
				put_flow_name(&rejects, a, fr);
			}
			continue;
		}
		if (o) {
			sb_puts(&opens, opens.len ? ", " : "");
			put_flow_name(&opens, a, fr);
		}
		if (in) {
			sb_puts(&accepts, accepts.len ? ", " : "");
			put_flow_name(&accepts, a, fr);
		}
	}
	printf("  allow %s %s: opens %s; accepts %s", a->name, ast_role_name(r),
	       opens.len ? opens.s : "nothing", accepts.len ? accepts.s : "nothing");
	if (rejects.len)
		printf("; rejects %s", rejects.s);
	putchar('\n');
	sb_free(&opens);
	sb_free(&accepts);
	sb_free(&rejects);
}

/* What the static fallback of a negotiated channel opens, and to whom. */
static void show_negotiated(const struct flow_ref *fr)
{
	const struct ast_flow *f = fr->flow;
	printf("    %-18s the port is negotiated at run time; the ports above are the static fallback,\n", "");
	if (f->on.n) {
		char t[32];
		ir_duration_format(f->timeout ? f->timeout : SCOPE_TIMEOUT_DEFAULT, t, sizeof(t));
		printf("    %-18s scoped: open only to peers that used flow ", "");
		for (size_t i = 0; i < f->on.n; i++)
			printf("%s%s", i == 0 ? "" : i == f->on.n - 1 ? " or " : ", ", f->on.v[i].text);
		printf(" with this host\n    %-18s within the last %s (on a gateway: to the servers its "
		       "clients used)\n", "", t);
	} else if (f->from == f->to || f->from == ROLE_ANY || f->to == ROLE_ANY) {
		printf("    %-18s not scoped: it runs between %ss, so its peer is not the peer of a control\n"
		       "    %-18s flow of %s; the fallback is open to every peer\n", "",
		       ast_role_name(f->from == ROLE_ANY ? f->to : f->from), "", fr->app->name);
	} else {
		printf("    %-18s not scoped: the definition names no control flow ('on'); the fallback\n"
		       "    %-18s is open to every peer\n", "", "");
	}
}

static void show_flow(const struct ast_app *a, const struct flow_ref *fr)
{
	const struct ast_flow *f = fr->flow;
	struct strbuf name = {0};
	put_flow_name(&name, a, fr);
	char *t = flow_format(f);
	printf("    %-18s %s\n", name.s, t);
	free(t);
	sb_free(&name);
	if (fr->app != a)
		printf("    %-18s from app %s (%s:%d)\n", "", fr->app->name, f->loc.src->name,
		       f->loc.first_line);
	if (f->source)
		printf("    %-18s source: %s\n", "", f->source);
	if (f->is_negotiated)
		show_negotiated(fr);
	if (f->related.text)
		printf("    %-18s admitted as a child of the '%s' conntrack helper (stateful mode)\n", "",
		       f->related.text);
	if (f->reject)
		printf("    %-18s answered at once (TCP reset, ICMP port unreachable) unless another rule allows it\n", "");
}

static void show_app(const struct ast_app *a, const flow_refs *flows)
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
	if (a->uses.n) {
		printf("  uses:   ");
		for (size_t i = 0; i < a->uses.n; i++)
			printf("%s%s", i ? ", " : " ", a->uses.v[i].text);
		putchar('\n');
	}
	print_role(a, flows, ROLE_CLIENT);
	print_role(a, flows, ROLE_SERVER);
	printf("  flows:\n");
	for (size_t i = 0; i < flows->n; i++)
		show_flow(a, &flows->v[i]);
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
		const flow_refs *flows = a ? library_flows(&c.lib, a) : NULL;
		if (flows) {
			show_app(a, flows);
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
			printf("%-18s %s\n", sorted[i]->name, sorted[i]->description ? sorted[i]->description : "");
		free(sorted);
	}
	compilation_free(&c);
	return rc;
}
