/* Whole-policy checks on the IR, exact (exact.h): statements that add nothing, shadowed
 * statements, denies that close nothing, one-family apps, admin ports open to public sources.
 * `pinhole check` runs them (compile and apply do not); findings are warnings. */
#ifndef PINHOLE_LINT_H
#define PINHOLE_LINT_H

#include "diag.h"
#include "ir.h"
#include "resolve.h"

struct exact;
/* PH113 family parity and PH114 admin ports open to public addresses (lint_exposure.c). */
void lint_exposure(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		   struct diags *d);

/* PH115: the management networks, the policy's own (`management from ADDRS;`, reported at
 * their statement) and `extra` (check --mgmt, reported without a place), must reach ssh on
 * this host (lint_mgmt.c). A network given both ways is tested once. */
void lint_mgmt(const struct exact *x, const struct resolved *res, const struct ir_ruleset *ir,
	       const struct ir_prefix *extra, size_t nextra, struct diags *d);

/* Every whole-policy check, on one exact analysis; `extra` as for lint_mgmt. */
void lint_policy(const struct resolved *res, const struct ir_ruleset *ir,
		 const struct ir_prefix *extra, size_t nextra, struct diags *d);

#endif
