/*
 * The packet space as a BDD (BuDDy): every field the IR evaluator (ir/eval.c) reads becomes
 * boolean variables, so a rule's matches are one BDD and set algebra over whole policies is
 * exact (union, difference, emptiness, a witness packet). Interface and helper names are
 * finite once a ruleset is known: each class of names the rules cannot tell apart gets one
 * code (an "atom"). Dynamic-set membership is one free variable per (set, end): the analysis
 * holds for any contents. Likewise a rate budget is one free variable per limited rule
 * (IR_M_LIMIT): whether the packet is within it, so the analysis holds whatever the traffic
 * spent. BuDDy keeps global state: one pktspace at a time.
 */
#ifndef PINHOLE_PKTSPACE_H
#define PINHOLE_PKTSPACE_H

#include <bdd.h>

#include "ir.h"

struct pks_field { int first, bits; };

/* Atom names by hash (pks_atoms.c): slot[i] - 1 indexes names, 0 is an empty slot. */
struct pks_atoms {
	char **names;
	uint32_t *slot;
	size_t cap;
};

struct pktspace {
	struct pks_field hook, family, ct, frag, dnat, local, proto, iif, oif, helper, sets,
		limits, icmp, flags, dport, sport, daddr, saddr;
	VEC(char *) ifs;      /* interface atoms: [0] = no interface, [1] = a name no rule names */
	struct pks_atoms ifs_index; /* ifs by name */
	VEC(char *) helpers;  /* helper atoms: [0] = none, [1] = another */
	struct pks_atoms helpers_index; /* helpers by name */
	VEC(struct ir_setref) setv; /* one variable each (name and end) */
	const struct ir_match **limv; /* the limited rules' IR_M_LIMIT matches: one variable each */
	size_t nlim;
	BDD valid;            /* codes that stand for a packet (atoms in range, known hooks) */
#define PKS_VALID_PARTS 5
#define PKS_VALID_ICMP 4
	BDD valid_part[PKS_VALID_PARTS]; /* its conjuncts, one per field: hook, iif, oif, helper,
				   * icmp */
	int nvars;
};

/* BuDDy's work over every packet space of the process, added up as each is done (pks_done):
 * `check -v` prints it, and tests/check guards the analysis's cost by these counts, not by
 * time. */
struct pks_stats {
	long nodes_made;   /* BDD nodes BuDDy created (bdd_stats' produced) */
	long gcs;          /* its garbage collections */
	long table_peak;   /* the largest node table, in nodes */
	long name_tests;   /* interface names tested against a wildcard pattern (fnmatch) */
};
extern struct pks_stats pks_stats;

/* Starts BuDDy for the names `rs` uses. False when BuDDy cannot start. */
bool pks_init(struct pktspace *ps, const struct ir_ruleset *rs);
void pks_done(struct pktspace *ps);

/* Referenced BDDs (the caller bdd_delref's them): the packets a rule matches (within
 * `valid`), and one concrete packet (the atoms its names fall in). */
BDD pks_rule(const struct pktspace *ps, const struct ir_rule *r);
BDD pks_packet(const struct pktspace *ps, const struct ir_packet *p);
/* The variables' values for one concrete packet (vals: nvars bytes; sets empty, every budget
 * unspent, as ir_eval takes them), and whether such an
 * assignment lies in a set: a walk down the BDD, no BDD built. */
void pks_assign(const struct pktspace *ps, const struct ir_packet *p, uint8_t *vals);
bool pks_member(BDD s, const uint8_t *vals);
/* A concrete packet in a non-empty set `s` (the lowest codes; interface names as atoms,
 * "" standing for "another name"). Returns false when `s` is empty. */
bool pks_witness(const struct pktspace *ps, BDD s, struct ir_packet *out);
/* Field constraints, for queries (referenced). */
BDD pks_eq(const struct pktspace *ps, const struct pks_field *f, uint32_t v);
BDD pks_range(const struct pktspace *ps, const struct pks_field *f, uint32_t lo, uint32_t hi);
/* The packet's family is the prefix's and the address field `f` lies in it. */
BDD pks_prefix(const struct pktspace *ps, const struct pks_field *f, const struct ir_prefix *p);

/* Reference-counted helpers: r = op(a, b) referenced; old value of *acc released. */
void pks_set(BDD *acc, BDD v);     /* *acc = v (v already referenced) */
BDD pks_and(BDD a, BDD b);
BDD pks_or(BDD a, BDD b);
BDD pks_diff(BDD a, BDD b);        /* a and not b */
/* Whether a and b share a packet, no BDD built (pks_meets.c); its memory goes with pks_done. */
bool pks_meets(BDD a, BDD b);
void pks_meets_free(void);

#endif
