/* Whole-policy checks on the IR, exact (exact.h): statements that add nothing, shadowed
 * statements, denies that close nothing, one-family apps, admin ports open to public sources.
 * `pinhole check` runs them (compile and apply do not); findings are warnings. */
#ifndef PINHOLE_LINT_H
#define PINHOLE_LINT_H

#include "diag.h"
#include "ir.h"
#include "resolve.h"

struct exact;
struct natview;
/* PH113 family parity and PH114 admin ports open to public addresses, directly or through a
 * port forward (lint_exposure.c). */
void lint_exposure(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		   const struct natview *nv, struct diags *d);

/* Through the port forwards (lint_nat.c). lint_forward: statement `index` is a forward (true)
 * and gets the findings of one: it rewrites nothing (PH105/PH112), or nothing it rewrites is
 * admitted (PH116); the filter's view alone judges no forward. */
bool lint_forward(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		  const struct natview *nv, size_t index, struct diags *d);
/* A masquerade or snat statement (true) that translates nothing: the filter lets out no
 * connection it matches, or translations before it take them all (PH105). */
bool lint_source_nat(const struct resolved *res, const struct ir_ruleset *ir, const struct exact *x,
		     const struct natview *nv, size_t index, struct diags *d);

/* PH115: the management networks, the policy's own (`management from ADDRS;`, reported at
 * their statement) and `extra` (check --mgmt, reported without a place), must reach ssh on
 * this host (lint_mgmt.c), neither dropped nor taken elsewhere by a port forward (`nv`).
 * A network given both ways is tested once. */
void lint_mgmt(const struct exact *x, const struct natview *nv, const struct resolved *res,
	       const struct ir_ruleset *ir, const struct ir_prefix *extra, size_t nextra,
	       struct diags *d);

/* Every whole-policy check, on one exact analysis; `extra` as for lint_mgmt. */
void lint_policy(const struct resolved *res, const struct ir_ruleset *ir,
		 const struct ir_prefix *extra, size_t nextra, struct diags *d);

#endif
