/* Whole-policy checks on the IR (never on a backend's output): statements that add nothing,
 * and denies that close nothing. Findings are warnings, so `pinhole check` exits 1. */
#ifndef PINHOLE_LINT_H
#define PINHOLE_LINT_H

#include "diag.h"
#include "ir.h"
#include "resolve.h"

/* Does every packet `b` matches also match `a`? (conservative: false when unsure) */
bool lint_rule_covers(const struct ir_rule *a, const struct ir_rule *b);
/* Can one packet match both? (conservative: true when unsure) */
bool lint_rules_overlap(const struct ir_rule *a, const struct ir_rule *b);

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d);

#endif
