/* Backends render the IR; they never decide anything the IR did not say. */
#ifndef PINHOLE_BACKEND_H
#define PINHOLE_BACKEND_H

#include <stdio.h>

#include "ir.h"

#define PINHOLE_TABLE "pinhole"

struct render_info {
	const char *policy;   /* policy file name, for the header comment */
	const char *version;
};

/* nftables text for `nft -f`: replaces table inet pinhole in one transaction. */
void nft_render(const struct ir_ruleset *rs, const struct render_info *info, FILE *out);

/* One rule's match expressions and verdict in nft syntax (no comment), for tests and explain. */
char *nft_rule_text(const struct ir_rule *r);

/* The pieces both nft backends (text and netlink) must agree on: a rule's comment (its
 * provenance, cut and sanitized), the name of a define's or zone's set, and the named sets
 * in the order they are declared. */
char *nft_rule_comment(const struct ir_rule *r);
char *nft_set_name(const char *name, uint8_t family);
struct named_set {
	const char *name;
	uint8_t family;
	const struct ir_addrset *set;
};
typedef VEC(struct named_set) named_sets;
void nft_collect_sets(const struct ir_ruleset *rs, named_sets *sets);

#endif
