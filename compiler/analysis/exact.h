/*
 * Exact whole-policy analysis over the packet space (pktspace.h): for every rule of the
 * filter hooks, the packets it matches and the packets it decides (matched, and by no rule
 * before it); for every statement, whether it decides anything, and whether taking it out
 * would change any verdict. Every claim is exact: no sampling, no heuristic cover test.
 */
#ifndef PINHOLE_EXACT_H
#define PINHOLE_EXACT_H

#include "pktspace.h"

enum exact_class {
	EX_NONE,      /* no deciding rule in a filter hook (or they match nothing) */
	EX_LIVE,      /* it decides packets no other statement would decide the same way */
	EX_SHADOWED,  /* it decides nothing; statements before it decide some of its packets
		       * otherwise */
	EX_COVERED,   /* it decides nothing; statements before it decide all its packets the
		       * same way */
	EX_UNNEEDED,  /* it decides packets, but without it the rules after it (or the default
		       * drop) would decide each of them the same way */
};

#define EXACT_LINES 4
struct exact_stmt {
	enum exact_class cls;
	enum ir_action action;    /* of its deciding rules */
	int lines[EXACT_LINES];   /* the deciding lines (other statements), in order */
	int stmts[EXACT_LINES];   /* and their statements (stmt_no) */
	size_t nlines;
	const char *builtin;      /* a built-in rule among the deciders ("established") */
	bool by_default;          /* EX_UNNEEDED: the default drop takes some of its packets */
	BDD space;                /* packets its rules match that no built-in rule decides
				   * (loopback, established, invalid): referenced */
	BDD eff;                  /* packets it decides */
};

struct exact {
	struct pktspace ps;       /* its own, or a copy of a shared one (own false) */
	bool own;
	size_t n;                 /* rules of the ruleset */
	BDD *match, *eff;         /* per rule; bddfalse for rules that decide nothing */
	size_t nstmt;
	struct exact_stmt *st;    /* by stmt_no - 1 */
};

/* Rules that decide a verdict in a filter hook. */
bool exact_deciding(const struct ir_rule *r);
/* nstmt: the policy's statements (origin.stmt_no 1..nstmt). False when BuDDy cannot start. */
bool exact_analyze(struct exact *x, const struct ir_ruleset *rs, size_t nstmt);
/* The same in a packet space already started (for two policies at once: pks_init on a
 * ruleset holding the rules of both); exact_free then leaves it running. */
void exact_analyze_in(struct exact *x, const struct pktspace *ps, const struct ir_ruleset *rs,
		      size_t nstmt);
void exact_free(struct exact *x);
/* BDD tests of one rule against another so far (decided_before, needed), over every
 * analysis of the process: `check -v` prints it, and tests/check guards it against growing
 * quadratically with the statements. */
extern unsigned long exact_pair_tests;
/* Candidates from the overlap index (overlap.h) up to which a rule or statement is tested
 * against them one by one; beyond, against a union over the whole policy. Either way the
 * result is the same: tests set 0 to take the unions' path everywhere. */
extern size_t exact_few;
/* A set of packets as the filter hooks see them (after a port forward's DNAT) turned into
 * the packets as they arrive (exact_nat.c): a connection's first packet that a DNAT rule of
 * `rs` rewrites is in the result when its rewritten form is in `filtered`; any other packet
 * when it is itself in it. Referenced, within `valid`. */
BDD exact_arriving(const struct exact *x, const struct ir_ruleset *rs, BDD filtered);

#endif
