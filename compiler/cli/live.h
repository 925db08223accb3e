/* What `apply` and `status` share: the policy compiled into netlink objects, the network
 * namespace entered, an nf_tables socket, and messages that say what went wrong. */
#ifndef PINHOLE_LIVE_H
#define PINHOLE_LIVE_H

#include "cli.h"
#include "nft_nlsock.h"

struct live {
	const char *cmd;          /* "apply" or "status", for messages */
	const char *policy;
	struct compilation c;
	struct nl_ruleset want;   /* what the policy compiles to */
	struct nl_sock sock;
	bool compiled, built;
};

/* Compiles the policy and builds its objects; returns EXIT_OK or the exit status to give. */
int live_compile(struct live *lv, struct cli *cli, const char *cmd, const char *policy);
/* Enters namespace `netns` (if not NULL) and opens nf_tables; EXIT_OK or an exit status. */
int live_connect(struct live *lv, const char *netns);
/* Reads table inet pinhole as the kernel holds it; EXIT_OK or an exit status. */
int live_read(struct live *lv, struct nl_ruleset *have);
void live_free(struct live *lv);

/* Each line of `text` (a list of differences) on `out`, indented by two; empty lines skipped. */
void live_print_lines(FILE *out, const char *text);

/* status's report on `out`: that table inet pinhole matches `policy` (with counts), or how many
 * differences there are and each of them. Returns the number of differences. */
size_t status_report(const struct nl_ruleset *want, const struct nl_ruleset *have, const char *policy,
		     FILE *out);

/* For a policy with helper channels: whether pinholed holds NFLOG group 7100 in the current
 * network namespace, and the live pinholes of `have` (the elements of the helper channels'
 * sets, each with its time left and what opened it). Prints nothing for other policies. */
void status_pinholed_report(const struct ir_ruleset *ir, const struct nl_ruleset *have, FILE *out);
/* The netlink port bound to NFLOG `group` in `path` (the nfnetlink_log proc file's format);
 * 0 when none is (or the file is absent: the module is not loaded). */
long status_nflog_portid(const char *path, unsigned group);

/* Where a rule's policy statement is, for diagnostics; false for built-in rules. */
bool live_origin_loc(const struct compilation *c, const struct ir_origin *o, struct loc *loc);

/* "pinhole CMD: error: ..." on stderr; returns `status`. */
int live_error(const struct live *lv, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
