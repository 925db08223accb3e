/* pinhole apply [--dry-run] [--netns NAME] [--confirm SECONDS] [--allow-lockout] POLICY
 *
 * Loads the policy straight from the IR as one nf_tables transaction (no nft binary), which
 * replaces table inet pinhole and nothing else. A rejected message aborts the whole
 * transaction and is reported against the policy line it came from. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "backend.h"
#include "confirm.h"
#include "fault_inject.h"
#include "heap_hint.h"
#include "live.h"
#include "lockout.h"
#include "nft_nldiff.h"
#include "rollback.h"

#define MAX_REPORTED 10

struct apply_opts {
	const char *policy, *netns, *state_dir;
	bool dry_run, allow_lockout;
	unsigned confirm; /* seconds, 0: no confirmation */
};

static long long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- kernel errors, told against the policy ---- */

static void what_failed(struct strbuf *sb, const struct nl_obj *o)
{
	switch (o->kind) {
	case NL_TABLE:
		sb_printf(sb, "table inet %s", PINHOLE_TABLE);
		return;
	case NL_CHAIN:
		sb_printf(sb, "base chain '%s'", nftnl_chain_get_str(o->o, NFTNL_CHAIN_NAME));
		return;
	case NL_OBJ:
		sb_printf(sb, "conntrack helper object '%s' (helper \"%s\", protocol %s)",
			  nftnl_obj_get_str(o->o, NFTNL_OBJ_NAME), nftnl_obj_get_str(o->o, NFTNL_OBJ_CT_HELPER_NAME),
			  nftnl_obj_get_u8(o->o, NFTNL_OBJ_CT_HELPER_L4PROTO) == IPPROTO_UDP ? "udp" : "tcp");
		break;
	case NL_SET:
		if (nftnl_set_get_u32(o->o, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)
			sb_puts(sb, "the element list of a rule");
		else
			sb_printf(sb, "set '%s'", nftnl_set_get_str(o->o, NFTNL_SET_NAME));
		break;
	case NL_RULE:
		sb_printf(sb, "a rule in chain %s", nftnl_rule_get_str(o->o, NFTNL_RULE_CHAIN));
		break;
	}
	if (!o->rule)
		return;
	const struct ir_origin *g = &o->rule->origin;
	if (g->builtin) {
		sb_printf(sb, " (built-in rule: %s)", g->builtin);
		return;
	}
	sb_printf(sb, " for '%s'", g->stmt ? g->stmt : "?");
	if (g->app)
		sb_printf(sb, " (%s flow %s, %s:%d)", g->app, g->flow ? g->flow : "?",
			  g->flow_file ? g->flow_file : "?", g->flow_line);
}

/* Each refused message becomes a diagnostic at the policy line behind it. */
static void report_rejects(const struct live *lv, const struct nl_ruleset *rs, const struct nl_msgmap *map,
			   const nl_errors *errs, const char *doing)
{
	struct diags d = {0};
	size_t shown = 0;
	for (size_t i = 0; i < errs->n && shown < MAX_REPORTED; i++, shown++) {
		const struct nl_error *e = &errs->v[i];
		int idx = nl_msgmap_lookup(map, e->seq);
		struct strbuf sb = {0};
		sb_printf(&sb, "the kernel rejected ");
		if (idx >= 0)
			what_failed(&sb, &rs->objs.v[idx]);
		else
			sb_puts(&sb, "the transaction");
		sb_printf(&sb, ": %s", strerror(e->err));
		if (e->msg)
			sb_printf(&sb, " (%s)", e->msg);
		struct loc loc;
		const struct ir_rule *r = idx >= 0 ? rs->objs.v[idx].rule : NULL;
		bool at = r && live_origin_loc(&lv->c, &r->origin, &loc);
		diag_error(&d, at ? &loc : NULL, "%s", sb.s);
		if (r && !r->origin.builtin) {
			char *text = nft_rule_text(&lv->c.ir, r);
			diag_note(&d, NULL, "%s: %s", rs->objs.v[idx].kind == NL_RULE ? "the rule" : "first used by the rule",
				  text);
			free(text);
		}
		sb_free(&sb);
	}
	diag_print(&d, stderr);
	diag_free(&d);
	if (errs->n > shown)
		fprintf(stderr, "pinhole %s: ... and %zu more rejected message%s\n", lv->cmd, errs->n - shown,
			errs->n - shown == 1 ? "" : "s");
	fprintf(stderr, "pinhole %s: nothing was changed: the kernel aborted the whole transaction (%s)\n",
		lv->cmd, doing);
}

/* Sends `rs` as the replacement of the table. EXIT_OK, EXIT_FINDINGS when the kernel refused
 * (reported), or EXIT_INTERNAL. */
static int send_replace(struct live *lv, const struct nl_ruleset *rs, bool commit, const char *doing)
{
	struct nftnl_batch *b = nl_batch_alloc();
	struct nl_msgmap map = {0};
	nl_errors errs = {0};
	int rc = EXIT_OK;
	if (!b || nl_batch_replace(b, rs, lv->sock.seq, commit, &map) < 0) {
		rc = live_error(lv, EXIT_INTERNAL, "cannot build the batch: %s", strerror(errno));
	} else {
		lv->sock.seq += (uint32_t)map.obj.n;
		int r = nl_send_batch(&lv->sock, b, &errs);
		if (r < 0) {
			int e = errno;
			rc = live_error(lv, EXIT_INTERNAL, "cannot send the batch to the kernel: %s%s", strerror(e),
					e == EPERM ? " (needs root: CAP_NET_ADMIN)" : "");
		} else if (r > 0 && errs.v[0].err == EPERM) { /* not the policy's fault */
			rc = live_error(lv, EXIT_INTERNAL, "the kernel refused: %s (needs root: CAP_NET_ADMIN); "
					"nothing was changed", strerror(EPERM));
		} else if (r > 0) {
			report_rejects(lv, rs, &map, &errs, doing);
			rc = EXIT_FINDINGS;
		}
	}
	nl_errors_free(&errs);
	nl_msgmap_free(&map);
	if (b)
		nftnl_batch_free(b);
	return rc;
}

/* ---- lockout guard ---- */

static int lockout_guard(const struct live *lv, const struct apply_opts *o)
{
	const char *env = getenv("SSH_CONNECTION");
	if (!env || !*env)
		return EXIT_OK;
	struct ssh_session s;
	if (!ssh_session_parse(env, &s)) {
		if (o->allow_lockout)
			return EXIT_OK;
		return live_error(lv, EXIT_FINDINGS,
				  "cannot read SSH_CONNECTION='%s', so cannot check that this SSH session "
				  "survives the new policy; pass --allow-lockout to apply anyway", env);
	}
	ssh_session_route(&s); /* without it, interface-bound rules cannot match: safer */
	struct lockout_probe p[LOCKOUT_PROBES];
	int refused = lockout_check(&lv->c.ir, &s, p);
	if (!refused)
		return EXIT_OK;
	lockout_report(stderr, lv->cmd, lv->policy, &s, p, o->allow_lockout);
	return o->allow_lockout ? EXIT_OK : EXIT_FINDINGS;
}

/* ---- the command ---- */

static int dry_run(struct live *lv)
{
	struct nl_ruleset have;
	int rc = live_read(lv, &have);
	if (rc != EXIT_OK)
		return rc;
	rc = send_replace(lv, &lv->want, false, "dry run");
	if (rc == EXIT_OK) {
		struct strbuf diff = {0};
		size_t n = nl_diff(&lv->want, &have, &diff);
		printf("dry run: the kernel accepts the new ruleset for table inet %s (not committed)\n", PINHOLE_TABLE);
		if (n)
			printf("changes against the running table (%zu):\n", n);
		else
			printf("no changes: the kernel already runs %s\n", lv->policy);
		if (n)
			live_print_lines(stdout, diff.s);
		sb_free(&diff);
	}
	nl_ruleset_free(&have);
	return rc;
}

/* The batch that puts the saved table back, as bytes for the rollback file. */
static int restore_bytes(struct live *lv, const struct nl_ruleset *saved, struct strbuf *out)
{
	struct nftnl_batch *b = nl_batch_alloc();
	struct nl_msgmap map = {0};
	int r = !b || nl_batch_replace(b, saved, lv->sock.seq, true, &map) < 0 || nl_batch_bytes(b, out) < 0;
	nl_msgmap_free(&map);
	if (b)
		nftnl_batch_free(b);
	return r ? -1 : 0;
}

static int apply_confirmed(struct live *lv, const struct apply_opts *o)
{
	/* Save the table as it is, and check now that it can be re-created, before changing it. */
	struct nl_ruleset saved;
	struct confirm cf = {.sfd = -1};
	struct rollback rb = {0};
	struct strbuf bytes = {0};
	char *why = NULL;
	int rc = live_read(lv, &saved);
	if (rc != EXIT_OK)
		return rc;
	bool had_table = false;
	for (size_t i = 0; i < saved.objs.n; i++)
		had_table |= saved.objs.v[i].kind == NL_TABLE;
	const char *prev = had_table ? "table inet pinhole" : "state (no table inet pinhole)";
	if (nl_prepare_recreate(&saved) < 0) {
		rc = live_error(lv, EXIT_INTERNAL, "cannot prepare the saved ruleset: %s", strerror(errno));
	} else if ((rc = send_replace(lv, &saved, false, "checking that the current ruleset can be restored")) != EXIT_OK) {
		live_error(lv, rc, "the current table inet %s could not be restored later, so --confirm cannot "
				   "protect this change; nothing was applied", PINHOLE_TABLE);
	} else if (restore_bytes(lv, &saved, &bytes) < 0) {
		rc = live_error(lv, EXIT_INTERNAL, "cannot build the rollback batch: %s", strerror(errno));
	} else if (rollback_init(&rb, o->state_dir, o->netns, &why) < 0 ||
		   rollback_arm(&rb, bytes.s, bytes.len, o->confirm, lv->policy, &why) < 0) {
		/* Armed before the change: a death right after the commit is covered too. */
		rc = live_error(lv, rb.dir && strstr(why, "still waiting") ? EXIT_FINDINGS : EXIT_INTERNAL,
				"%s; nothing was applied", why);
	} else if (confirm_begin(&cf) < 0) {
		rc = live_error(lv, EXIT_INTERNAL, "cannot set up the confirmation signals: %s", strerror(errno));
		rollback_confirm(&rb, false, NULL, &why);
	} else if ((rc = send_replace(lv, &lv->want, true, "apply")) != EXIT_OK) {
		rollback_confirm(&rb, false, NULL, &why); /* nothing changed: nothing to roll back */
		confirm_end(&cf);
	} else {
		if (cli_verbose)
			fprintf(stderr, "pinhole apply: saved the previous ruleset as %s; watchdog pid %d\n",
				rb.batch_path, (int)rb.watchdog);
		fprintf(stderr,
			"pinhole apply: new ruleset active. Keep it? Type 'yes' within %u seconds, or run\n"
			"  pinhole confirm%s%s  (or kill -USR1 %d), e.g. from a new login; otherwise the\n"
			"  previous ruleset comes back, even if this process dies.\n",
			o->confirm, o->netns ? " --netns " : "", o->netns ? o->netns : "", (int)getpid());
		enum confirm_result res = confirm_wait(&cf, STDIN_FILENO, o->confirm, stderr);
		if (res == CONFIRM_YES) {
			rollback_confirm(&rb, false, NULL, &why);
			if (!cli_quiet)
				printf("applied %s to table inet %s (confirmed)\n", lv->policy, PINHOLE_TABLE);
		} else {
			int r = rollback_restore(&rb, &lv->sock, &why);
			if (r == 0) {
				fprintf(stderr, "pinhole apply: %s: restored the previous %s\n",
					res == CONFIRM_TIMEOUT ? "not confirmed in time" : "not confirmed", prev);
				rc = EXIT_FINDINGS;
			} else if (r == 1) {
				fprintf(stderr, "pinhole apply: nothing to roll back: confirmed or restored meanwhile "
						"(see %s)\n", rb.log_path);
				rc = EXIT_FINDINGS;
			} else {
				live_error(lv, EXIT_INTERNAL, "ROLLBACK FAILED: %s; the new ruleset is still active", why);
				rc = EXIT_INTERNAL;
			}
		}
		confirm_end(&cf); /* only now: a SIGTERM during the rollback must not cut it short */
	}
	free(why);
	sb_free(&bytes);
	rollback_free(&rb);
	nl_ruleset_free(&saved);
	return rc;
}

static const char usage[] =
	"usage: pinhole apply [OPTIONS] POLICY\n"
	"Load POLICY (- reads standard input) into the kernel in one transaction (netlink, no nft\n"
	"needed); replaces table inet pinhole and nothing else.\n"
	"  --dry-run            let the kernel check it and show what would change; commit nothing\n"
	"  --netns NAME         work in network namespace NAME (ip netns)\n"
	"  --confirm SECONDS    roll back unless confirmed in time: type 'yes', run 'pinhole confirm'\n"
	"                       or send SIGUSR1; a watchdog rolls back even if this process dies\n"
	"  --state-dir DIR      where --confirm saves the previous ruleset (default\n"
	"                       $PINHOLE_STATE_DIR or " ROLLBACK_STATE_DIR ")\n"
	"  --allow-lockout      apply even if the new policy would cut this SSH session\n"
	"  -L, --library DIR    also search DIR for app definitions\n"
	"  --stateless, --stateful  as for compile\n"
	"  -q, --quiet          print errors only\n"
	"  -v, --verbose        also say what was read, saved and how long it took\n"
	"  -h, --help           this help\n";

static int parse_opts(struct cli *cli, int argc, char **argv, struct apply_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 1; i < argc; i++) {
		if (cli_help_arg(argv[i]))
			return cli_help(usage), -1;
		const char *secs = NULL;
		int r = cli_common_option(cli, argc, argv, &i);
		if (r == 0)
			r = cli_value("apply", argc, argv, &i, NULL, "--netns", &o->netns);
		if (r == 0)
			r = cli_value("apply", argc, argv, &i, NULL, "--state-dir", &o->state_dir);
		if (r == 0)
			r = cli_value("apply", argc, argv, &i, NULL, "--confirm", &secs);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (secs) {
			char *end;
			errno = 0;
			unsigned long s = strtoul(secs, &end, 10);
			if (errno || *end || end == secs || s == 0 || s > 86400)
				return cli_usage_error("apply", "--confirm wants a number of seconds (1-86400), not '%s'", secs);
			o->confirm = (unsigned)s;
		}
		if (r)
			continue;
		const char *a = argv[i];
		if (!strcmp(a, "--dry-run")) {
			o->dry_run = true;
		} else if (!strcmp(a, "--allow-lockout")) {
			o->allow_lockout = true;
		} else if (cli_policy_arg("apply", a, &o->policy) != EXIT_OK) {
			return EXIT_BAD_INPUT;
		}
	}
	if (!o->policy)
		return cli_usage_error("apply", "which policy? pinhole apply [--dry-run] [--netns NAME] "
						"[--confirm SECONDS] [--allow-lockout] POLICY");
	if (o->dry_run && o->confirm)
		return cli_usage_error("apply", "--dry-run changes nothing, so there is nothing to --confirm");
	return EXIT_OK;
}

int cmd_apply(struct cli *cli, int argc, char **argv)
{
	struct apply_opts o;
	int rc = parse_opts(cli, argc, argv, &o);
	if (rc < 0)
		return EXIT_OK; /* --help */
	if (rc != EXIT_OK)
		return rc;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct stat st;
	heap_hint_large(heap_hint_for_policy(strcmp(o.policy, "-") && stat(o.policy, &st) == 0 ? (size_t)st.st_size : 0));
	struct live lv;
	rc = live_compile(&lv, cli, "apply", o.policy);
	if (rc == EXIT_OK) {
		fault_inject(&lv.want); /* test build only; nothing in build/pinhole */
		rc = live_connect(&lv, o.netns);
	}
	if (rc == EXIT_OK)
		rc = lockout_guard(&lv, &o);
	if (rc == EXIT_OK && o.dry_run) {
		rc = dry_run(&lv);
	} else if (rc == EXIT_OK && o.confirm) {
		rc = apply_confirmed(&lv, &o);
	} else if (rc == EXIT_OK && (rc = send_replace(&lv, &lv.want, true, "apply")) == EXIT_OK && !cli_quiet) {
		struct nl_counts k = nl_count(&lv.want);
		printf("applied %s to table inet %s: %zu rules in %zu chains, %zu sets, %zu helpers (%lld ms)\n",
		       lv.policy, PINHOLE_TABLE, k.rules, k.chains, k.sets, k.objs, ms_since(&t0));
	}
	live_free(&lv);
	return rc;
}
