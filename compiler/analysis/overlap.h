/*
 * Which rules can match a packet in common with a given rule: an index on the fields most
 * rules pin to one value (hook, protocol, destination port), and within one such key on the
 * source prefix of the rules that have exactly one (10,000 sources to one port). Rules
 * whose keys or prefixes cannot meet are disjoint for certain, so the exact analysis (exact.c) asks its BDDs only about the
 * others, instead of about every rule of the policy for every statement (which made check
 * quadratic in the statements). Sound: it never leaves out a rule that can overlap.
 */
#ifndef PINHOLE_OVERLAP_H
#define PINHOLE_OVERLAP_H

#include <stdbool.h>
#include <stddef.h>

#include "ir.h"

struct ov_entry {
	int hook, proto, dport; /* -1: not pinned to one value */
	int sfam;               /* 0: no single source prefix; else IR_V4 or IR_V6, of src */
	struct ir_prefix src;
	uint64_t lens[3];       /* the prefix lengths (bit k: /k) of every entry with its key
				 * and family: which ancestors of a prefix are worth looking up */
	size_t rule;
};

struct overlap {
	struct ov_entry *v; /* sorted by (hook, proto, dport, sfam, src address, src length) */
	size_t n;
};

typedef VEC(size_t) ov_rules;

/* Index the rules i for which want[i] holds. */
void overlap_build(struct overlap *o, const struct ir_ruleset *rs, const bool *want);
/* Append to out the indexed rules that may overlap rule `rule` (in no particular order,
 * possibly with repeats: overlap_sort puts them in rule order, once each). */
void overlap_query(const struct overlap *o, const struct ir_rule *r, ov_rules *out);
/* How many overlap_query would append (repeats and the rule itself included), without
 * listing them: a bound that costs two binary searches a key. */
size_t overlap_count(const struct overlap *o, const struct ir_rule *r);
void overlap_sort(ov_rules *v);
void overlap_free(struct overlap *o);

#endif
