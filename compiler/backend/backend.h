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

/* nftables text for `nft -f`: replaces table inet pinhole in one transaction. The rules must
 * pass nft_check() (nft_lower.h). */
void nft_render(const struct ir_ruleset *rs, const struct render_info *info, FILE *out);
/* The same from a plan the caller made of rs (nft_plan_build, then nft_plan_rules finding no
 * rule it cannot lower): compile lowers and merges once for both the check and the text. */
struct nft_plan;
void nft_render_plan(const struct ir_ruleset *rs, const struct nft_plan *p,
		     const struct render_info *info, FILE *out);

/* One rule's match expressions and verdict in nft syntax (no comment), for tests and explain;
 * names of sets and helper objects as the ruleset `rs` declares them. */
char *nft_rule_text(const struct ir_ruleset *rs, const struct ir_rule *r);

/* The rule of the loaded ruleset that stands for r, as `nft list ruleset` shows it: merged
 * with its neighbours into a set or behind an interface dispatch (nft_merge.c,
 * nft_dispatch.c) where it is. Each string is the caller's (free with nft_shown_free). */
struct nft_shown {
	char *rule;     /* its text with comment, an anonymous set's elements left out */
	char *chain;    /* the chain it is in */
	char *elements; /* the set's elements that are r's (those `p` hits, when some are),
			 * one a line; NULL when r is a rule of its own */
	char *via;      /* the map rule that jumps to its chain, with the element that does
			 * (chain named); NULL when r is in a base chain */
};
/* `plan`: nft_shown_plan(rs), made once for any number of rules (a batch of packets). */
void nft_shown_rule(const struct nft_plan *plan, const struct ir_ruleset *rs, const struct ir_rule *r,
		    const struct ir_packet *p, struct nft_shown *out);
void nft_shown_free(struct nft_shown *s);
/* rs lowered and merged as both forms load it; free with nft_shown_plan_free. */
struct nft_plan *nft_shown_plan(const struct ir_ruleset *rs);
void nft_shown_plan_free(struct nft_plan *p);

/* iptables-restore text of the rules of one family: IR_V4 for iptables-restore, IR_V6 for
 * ip6tables-restore, both with --noflush (pinhole's own chains only; docs/iptables.md).
 * Returns false, writing nothing, when ipt_check finds a rule it cannot render exactly. */
bool ipt_render(const struct ir_ruleset *rs, uint8_t family, const struct render_info *info,
		FILE *out);

/* The restore-file lines one rule becomes (with any chain it needs), for tests and explain;
 * the rule must pass ipt_check. */
char *ipt_rule_text(const struct ir_ruleset *rs, const struct ir_rule *r, uint8_t family);

/* Why iptables cannot take rule `r` of `family` exactly (caller frees), or NULL when it can:
 * ipt_rule_text needs NULL here. */
char *ipt_rule_check(const struct ir_ruleset *rs, const struct ir_rule *r, uint8_t family);

/* The first rule of `family` that iptables could not take exactly (an interface name it would
 * read differently, a value out of range), with *why saying what (caller frees); NULL if none. */
const struct ir_rule *ipt_check(const struct ir_ruleset *rs, uint8_t family, char **why);

/* Warnings for compiling one family only: a policy with no rules of that family, and one whose
 * other family stays unfiltered unless the other file is loaded too. */
struct diags;
void ipt_family_warnings(const struct ir_ruleset *rs, uint8_t family, const char *policy,
			 struct diags *d);

#endif
