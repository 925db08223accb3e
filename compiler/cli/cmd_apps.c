/* pinhole apps [APP]: the library, or one app's flows, roles, ports and sources. */
#include <string.h>

#include "cli.h"
#include "icmp.h"
#include "nft_lower.h"

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

static void print_role(const struct ast_app *a, const flow_refs *flows, enum role r, FILE *out)
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
	fprintf(out, "  allow %s %s: opens %s; accepts %s", a->name, ast_role_name(r),
	       opens.len ? opens.s : "nothing", accepts.len ? accepts.s : "nothing");
	if (rejects.len)
		fprintf(out, "; rejects %s", rejects.s);
	fputc('\n', out);
	sb_free(&opens);
	sb_free(&accepts);
	sb_free(&rejects);
}

/* The messages each pinholed parser reads (runtime/proto/). */
static const char *helper_messages(const char *parser)
{
	if (!strcmp(parser, "rpc"))
		return "portmapper GETPORT and rpcbind GETADDR replies (programs mountd, nlockmgr, status)";
	if (!strcmp(parser, "irc"))
		return "IRC DCC offers (SEND, CHAT, RESUME/ACCEPT), in both directions";
	if (!strcmp(parser, "msn"))
		return "MSNFTP invitations (IP-Address, Port)";
	if (!strcmp(parser, "rtsp"))
		return "RTSP SETUP requests and replies (Transport client_port, server_port)";
	return parser;
}

static void put_on_list(const struct ast_flow *f, FILE *out)
{
	for (size_t i = 0; i < f->on.n; i++)
		fprintf(out, "%s%s", i == 0 ? "" : i == f->on.n - 1 ? " or " : ", ", f->on.v[i].text);
}

/* A relayed helper channel: the offers travel through the control flows' server, so the
 * receiver's pinhole goes to the address named, the sender's takes any peer. */
static void show_relayed(const struct flow_ref *fr, const char *t, const char *set, FILE *out)
{
	const struct ast_flow *f = fr->flow;
	fprintf(out, "    %-18s relayed: the server of flow ", "");
	put_on_list(f, out);
	fprintf(out, " passes the offers between clients. On the\n");
	fprintf(out, "    %-18s receiver, an offer the server relays opens the outbound connection to the\n", "");
	fprintf(out, "    %-18s address and port it names (sets %s_v4, _v6); on the sender, its own offer\n", "", set);
	fprintf(out, "    %-18s (the address must be its own) opens that port to any peer, since nothing on\n", "");
	fprintf(out, "    %-18s its connection names who will connect (sets %s_listen_v4, _v6). For %s,\n", "", set, t);
	fprintf(out, "    %-18s within the ports above, never below 1024, never to this host, the server,\n", "");
	fprintf(out, "    %-18s loopback, multicast, broadcast or link-local addresses.\n", "");
	fprintf(out, "    %-18s Closed while pinholed does not run. ", "");
	if (!strcmp(f->negotiated.text, "irc")) {
		fprintf(out, "With 'negotiated static;' (and for the iptables\n");
		fprintf(out, "    %-18s targets, stateful) the kernel's irc helper on the control flow instead: it\n", "");
		fprintf(out, "    %-18s expects the connection to an IPv4 offer this host sends; the receiver's\n", "");
		fprintf(out, "    %-18s outbound connection and IPv6 stay closed.\n", "");
	} else {
		fprintf(out, "With 'negotiated static;' (and for the iptables\n");
		fprintf(out, "    %-18s targets) closed too: a port a third party chose has no narrow static reading.\n", "");
	}
}

/* A helper channel (scope_is_pinhole): which messages pinholed reads, and what it opens. */
static void show_helper(const struct flow_ref *fr, FILE *out)
{
	const struct ast_flow *f = fr->flow;
	char t[32];
	ir_duration_format(f->timeout ? f->timeout : SCOPE_TIMEOUT_DEFAULT, t, sizeof(t));
	if (f->relayed) {
		fprintf(out, "    %-18s helper channel: pinholed reads the %s\n", "", helper_messages(f->negotiated.text));
		fprintf(out, "    %-18s on flow ", "");
		put_on_list(f, out);
		fprintf(out, " (copies sent to NFLOG group %d).\n", NFT_PINHOLED_GROUP);
		struct strbuf rs = {0};
		sb_puts(&rs, "ph_");
		sb_put_ident(&rs, fr->app->name);
		sb_putc(&rs, '_');
		sb_put_ident(&rs, f->name);
		show_relayed(fr, t, rs.s, out);
		sb_free(&rs);
		return;
	}
	fprintf(out, "    %-18s helper channel: pinholed reads the %s\n", "", helper_messages(f->negotiated.text));
	fprintf(out, "    %-18s on flow ", "");
	put_on_list(f, out);
	fprintf(out, " (copies sent to NFLOG group %d) and opens each negotiated port\n", NFT_PINHOLED_GROUP);
	struct strbuf set = {0}; /* as scope_pinhole_set names it */
	sb_puts(&set, "ph_");
	sb_put_ident(&set, fr->app->name);
	sb_putc(&set, '_');
	sb_put_ident(&set, f->name);
	fprintf(out, "    %-18s to the peer that negotiated it only, for %s (sets %s_v4, _v6);\n", "", t, set.s);
	sb_free(&set);
	fprintf(out, "    %-18s closed while pinholed does not run. Ports below 1024 only where listed above.\n", "");
	fprintf(out, "    %-18s With 'negotiated static;' (and for the iptables targets) the ports above are\n", "");
	fprintf(out, "    %-18s the static fallback, open only to peers that used flow ", "");
	put_on_list(f, out);
	fprintf(out, "\n    %-18s with this host within the last %s\n", "", t);
}

/* What the static fallback of a negotiated channel opens, and to whom. */
static void show_negotiated(const struct flow_ref *fr, FILE *out)
{
	const struct ast_flow *f = fr->flow;
	if (f->on.n && pinholed_parser_known(f->negotiated.text)) {
		show_helper(fr, out);
		return;
	}
	fprintf(out, "    %-18s the port is negotiated at run time; the ports above are the static fallback,\n", "");
	if (f->on.n) {
		char t[32];
		ir_duration_format(f->timeout ? f->timeout : SCOPE_TIMEOUT_DEFAULT, t, sizeof(t));
		fprintf(out, "    %-18s scoped: open only to peers that used flow ", "");
		for (size_t i = 0; i < f->on.n; i++)
			fprintf(out, "%s%s", i == 0 ? "" : i == f->on.n - 1 ? " or " : ", ", f->on.v[i].text);
		fprintf(out, " with this host\n    %-18s within the last %s (on a gateway: to the servers its "
		       "clients used)\n", "", t);
	} else if (f->from == f->to || f->from == ROLE_ANY || f->to == ROLE_ANY) {
		fprintf(out, "    %-18s not scoped: it runs between %ss, so its peer is not the peer of a control\n"
		       "    %-18s flow of %s; the fallback is open to every peer\n", "",
		       ast_role_name(f->from == ROLE_ANY ? f->to : f->from), "", fr->app->name);
	} else {
		fprintf(out, "    %-18s not scoped: the definition names no control flow ('on'); the fallback\n"
		       "    %-18s is open to every peer\n", "", "");
	}
}

static void show_flow(const struct ast_app *a, const struct flow_ref *fr, FILE *out)
{
	const struct ast_flow *f = fr->flow;
	struct strbuf name = {0};
	put_flow_name(&name, a, fr);
	char *t = flow_format(f);
	fprintf(out, "    %-18s %s\n", name.s, t);
	free(t);
	sb_free(&name);
	if (fr->app != a)
		fprintf(out, "    %-18s from app %s (%s:%d)\n", "", fr->app->name, f->loc.src->name,
		       f->loc.first_line);
	if (f->source)
		fprintf(out, "    %-18s source: %s\n", "", f->source);
	if (f->is_negotiated)
		show_negotiated(fr, out);
	if (f->related.text)
		fprintf(out, "    %-18s admitted as a child of the '%s' conntrack helper (stateful mode)\n", "",
		       f->related.text);
	if (f->reject)
		fprintf(out, "    %-18s answered at once (TCP reset, ICMP port unreachable) unless another rule allows it\n", "");
}

void apps_show(const struct library *lib, const struct ast_app *a, FILE *out)
{
	const flow_refs *flows = library_flows(lib, a);
	fprintf(out, "%s: %s\n", a->name, a->description ? a->description : "");
	if (a->aliases.n) {
		fprintf(out, "  aliases:");
		for (size_t i = 0; i < a->aliases.n; i++)
			fprintf(out, "%s%s", i ? ", " : " ", a->aliases.v[i].text);
		fputc('\n', out);
	}
	fprintf(out, "  defined: %s:%d\n", a->loc.src->name, a->loc.first_line);
	if (a->source)
		fprintf(out, "  source:  %s\n", a->source);
	if (a->uses.n) {
		fprintf(out, "  uses:   ");
		for (size_t i = 0; i < a->uses.n; i++)
			fprintf(out, "%s%s", i ? ", " : " ", a->uses.v[i].text);
		fputc('\n', out);
	}
	if (!flows)
		return; /* a bundle that did not resolve: its errors are reported */
	print_role(a, flows, ROLE_CLIENT, out);
	print_role(a, flows, ROLE_SERVER, out);
	fprintf(out, "  flows:\n");
	for (size_t i = 0; i < flows->n; i++)
		show_flow(a, &flows->v[i], out);
}

static int cmp_app(const void *a, const void *b)
{
	return strcmp((*(const struct ast_app *const *)a)->name, (*(const struct ast_app *const *)b)->name);
}

void apps_list(const struct library *lib, FILE *out)
{
	const struct ast_app **sorted = xmalloc(lib->apps.n * sizeof(*sorted));
	memcpy(sorted, lib->apps.v, lib->apps.n * sizeof(*sorted));
	qsort(sorted, lib->apps.n, sizeof(*sorted), cmp_app);
	for (size_t i = 0; i < lib->apps.n; i++)
		fprintf(out, "%-18s %s\n", sorted[i]->name, sorted[i]->description ? sorted[i]->description : "");
	free(sorted);
}

int apps_report(const struct library *lib, const char *name, FILE *out, FILE *err)
{
	if (!name) {
		apps_list(lib, out);
		return EXIT_OK;
	}
	const struct ast_app *a = library_find(lib, name);
	if (a) {
		apps_show(lib, a, out);
		return EXIT_OK;
	}
	const char *s = library_suggest(lib, name);
	fprintf(err, "pinhole apps: error: no app '%s'%s%s%s\n", name, s ? "; did you mean '" : "", s ? s : "",
		s ? "'?" : "");
	return EXIT_BAD_INPUT;
}

static const char usage[] =
	"usage: pinhole apps [OPTIONS] [APP]\n"
	"List the app library, or show one app's roles, flows, ports and where it is defined.\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  -q, --quiet          print errors only (the list itself is still printed)\n"
	"  -v, --verbose        also say what was read\n"
	"  -h, --help           this help\n";

int cmd_apps(struct cli *cli, int argc, char **argv)
{
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i]))
			return cli_help(usage);
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
	cli_diag_print(&c.diags, stderr);
	int rc = ok ? apps_report(&c.lib, name, stdout, stderr) : EXIT_BAD_INPUT;
	compilation_free(&c);
	return rc;
}
