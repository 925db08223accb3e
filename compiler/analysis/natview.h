/*
 * The exact analysis (exact.h) seen through the port forwards: which arriving connections
 * each DNAT rule rewrites (the first DSTNAT rule that matches is final, as in ir_eval), what
 * the filter then sees of them, and which packets of the filter's view can occur at all. A
 * new connection that a forward rewrites never reaches the filter as it arrived, and a
 * packet flagged `dnat` that no forward makes never reaches it either: check's findings ask
 * about the packets that can occur (lint_nat.c).
 */
#ifndef PINHOLE_NATVIEW_H
#define PINHOLE_NATVIEW_H

#include "exact.h"

struct natview {
	size_t n;          /* rules of the ruleset */
	BDD *wants;        /* per DNAT rule: the arriving first packets it matches (of its
			    * family, whatever rules before it take); per SRCNAT rule: the
			    * connections it matches as the filter let them out (below), whatever
			    * rules before it take; bddfalse for other rules */
	BDD *takes;        /* per DNAT rule: those it rewrites (no DSTNAT rule before it matched) */
	BDD *image;        /* per DNAT rule: its rewritten packets as the filter sees them */
	BDD translated;    /* arriving packets some DNAT rule rewrites */
	BDD real;          /* packets of the filter's view that can occur: untranslated ones
			    * (no `dnat`, not rewritten on arrival), the images, and later packets
			    * of translated connections */
	BDD *meets;        /* per SRCNAT rule: the connections it translates, as the filter let
			    * them out (a first packet accepted forwarded or out that no SRCNAT
			    * rule before it matched); bddfalse for other rules */
	bool any_src;      /* the ruleset has a SRCNAT rule */
	BDD admitted;      /* the filter's view that accept rules decide (when `any`, `any_src`) */
	BDD accepted;      /* the same without `forward owned` accepts (the owner decides) */
	bool any;          /* the ruleset has a DNAT rule */
};

/* All BDDs referenced; natview_free releases them. Within x's packet space. */
void natview_build(struct natview *nv, const struct exact *x, const struct ir_ruleset *rs);
void natview_free(struct natview *nv);

/* An arriving connection that a DNAT rule of statement `stmt` rewrites into `scope` and
 * that the filter then accepts (not by a `forward owned` rule): false when none is; else
 * `w` as it arrives and `v`, the evaluator's verdict on it (its DNAT rule, what the filter
 * saw, its deciding rule). */
bool nat_exposed(const struct ir_ruleset *rs, const struct exact *x, const struct natview *nv,
		 int stmt, BDD scope, struct ir_packet *w, struct ir_verdict *v);

/* exact_nat.c's two steps, shared: the packets a DSTNAT rule's match `m` takes as they
 * arrive in hook h; and the arriving packets that DNAT rule r rewrites into `filtered`. */
BDD nat_arriving_match(const struct pktspace *ps, BDD m, enum ir_hook h);
BDD nat_preimage(const struct pktspace *ps, const struct ir_rule *r, BDD filtered);
/* Per rule of rs: the arriving first packets a DNAT rule matches (`wants`, of its family,
 * whatever rules before it take; may be NULL) and rewrites (`takes`: no DSTNAT rule before it
 * matched, as in ir_eval_state), within valid; bddfalse for other rules. `translated` is the
 * union of `takes`. All referenced. True when rs has a DNAT rule. */
bool nat_takes(const struct pktspace *ps, const struct ir_ruleset *rs, BDD *wants, BDD *takes,
	       BDD *translated);
/* The arriving packets `s` after DNAT rule r rewrote them (forwarded, flagged dnat). */
BDD nat_image(const struct pktspace *ps, const struct ir_rule *r, BDD s);

#endif
