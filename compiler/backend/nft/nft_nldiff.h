/* Comparing two snapshots of a table (what the policy compiles to, what the kernel holds) by
 * meaning: the same objects, set contents, chains and rules in the same order, whatever
 * handles, counters or anonymous set numbers the kernel assigned. */
#ifndef PINHOLE_NFT_NLDIFF_H
#define PINHOLE_NFT_NLDIFF_H

#include "nft_netlink.h"

/* Appends one line per difference to out ("chain input: rule missing: ..."), describing rules
 * of `want` through their IR rule when they have one. Returns the number of differences. */
size_t nl_diff(const struct nl_ruleset *want, const struct nl_ruleset *have, struct strbuf *out);

/* Counts of a snapshot's objects, for summaries. */
struct nl_counts {
	size_t chains, rules, sets, objs;
};
struct nl_counts nl_count(const struct nl_ruleset *rs);

/* The comment a rule carries in its userdata, or NULL (caller frees). */
char *nl_rule_comment(const void *nftnl_rule);

#endif
