#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <linux/netfilter.h>

#include "backend.h"
#include "live.h"
#include "netns.h"

int live_error(const struct live *lv, int status, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "pinhole %s: error: ", lv->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

void live_print_lines(FILE *out, const char *text)
{
	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, "\n");
		if (len)
			fprintf(out, "  %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

bool live_origin_loc(const struct compilation *c, const struct ir_origin *o, struct loc *loc)
{
	if (!o->file || o->line <= 0)
		return false;
	for (size_t i = 0; i < c->srcs.n; i++) {
		if (strcmp(c->srcs.v[i]->name, o->file) != 0)
			continue;
		char *line = compilation_source_line(c, o->file, o->line);
		int col = o->col > 0 ? o->col : 1;
		int width = line ? (int)strlen(line) : 1;
		free(line);
		*loc = (struct loc){.src = c->srcs.v[i], .first_line = o->line, .first_column = col,
				    .last_line = o->line, .last_column = col + (width > 0 ? width - 1 : 0)};
		return true;
	}
	return false;
}

int live_compile(struct live *lv, struct cli *cli, const char *cmd, const char *policy)
{
	memset(lv, 0, sizeof(*lv));
	lv->cmd = cmd;
	lv->policy = strcmp(policy, "-") ? policy : CLI_STDIN_NAME;
	/* Only the IR, the diagnostics and the sources are used from here on (the lockout check
	 * and the netlink build read the IR), so each rule statement is expanded and given up as
	 * it is resolved: a third of the peak memory, and of the page faults paid for it. */
	cli->copts.ir_only = true;
	bool ok = cli_compile(cli, policy, &lv->c);
	lv->compiled = true;
	cli_diag_print(&lv->c.diags, stderr);
	if (!ok)
		return EXIT_BAD_INPUT;
	/* The front's memory is reused for the netlink objects: fewer fresh pages to fault in. */
	compilation_drop_front(&lv->c);
	if (nl_from_ir(&lv->c.ir, &lv->want) < 0) {
		int e = errno;
		const struct ir_rule *r = lv->want.bad_rule;
		struct loc at;
		if (e == EINVAL && r && live_origin_loc(&lv->c, &r->origin, &at)) {
			struct diags d = {0};
			diag_error(&d, &at, "%s", lv->want.why);
			diag_print(&d, stderr);
			diag_free(&d);
			return EXIT_BAD_INPUT;
		}
		if (e == EINVAL)
			return live_error(lv, EXIT_BAD_INPUT, "%s", lv->want.why);
		return live_error(lv, EXIT_INTERNAL, "cannot build the netlink ruleset: %s", strerror(e));
	}
	lv->built = true;
	return EXIT_OK;
}

int live_connect(struct live *lv, const char *netns)
{
	if (netns && netns_enter(netns) < 0) {
		int e = errno;
		if (e == ENOENT || e == EINVAL)
			return live_error(lv, EXIT_BAD_INPUT, "no network namespace '%s' (%s/%s): %s", netns,
					  NETNS_RUN_DIR, netns, strerror(e));
		return live_error(lv, EXIT_INTERNAL, "cannot enter network namespace '%s': %s%s", netns,
				  strerror(e), e == EPERM ? " (needs root)" : "");
	}
	if (nl_sock_open(&lv->sock) < 0) {
		int e = errno;
		return live_error(lv, EXIT_INTERNAL, "cannot open an nf_tables netlink socket: %s", strerror(e));
	}
	return EXIT_OK;
}

int live_read(struct live *lv, struct nl_ruleset *have)
{
	if (nl_read_table(&lv->sock, NFPROTO_INET, PINHOLE_TABLE, have) == 0)
		return EXIT_OK;
	int e = errno;
	return live_error(lv, EXIT_INTERNAL, "cannot read table inet %s: %s%s", PINHOLE_TABLE, strerror(e),
			  e == EPERM ? " (needs root: CAP_NET_ADMIN)" : "");
}

/* Sanitizer builds free everything, so that their leak check keeps its meaning. */
#if defined(__SANITIZE_ADDRESS__)
#define LIVE_FREE_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LIVE_FREE_AT_EXIT 1
#endif
#endif
#ifndef LIVE_FREE_AT_EXIT
#define LIVE_FREE_AT_EXIT 0
#endif

/* Called as the command ends. The policy's objects are left to the process's exit, which takes
 * the whole heap back at once: freeing 10,000 rules' objects one by one took 5 ms of CPU after
 * the commit (perf), for nothing. */
void live_free(struct live *lv)
{
	nl_sock_close(&lv->sock);
	if (!LIVE_FREE_AT_EXIT)
		return;
	if (lv->built)
		nl_ruleset_free(&lv->want);
	if (lv->compiled)
		compilation_free(&lv->c);
}
