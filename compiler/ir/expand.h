/* Expansion: resolved rules -> IR rules (one per hook, family, protocol and flow direction). */
#ifndef PINHOLE_EXPAND_H
#define PINHOLE_EXPAND_H

#include "ir.h"
#include "resolve.h"

bool expand_policy(struct resolved *r, struct ir_ruleset *out, struct diags *d);

/* The same a statement at a time, as resolve hands the rules over (compile: the syntax tree,
 * the resolved rules and the IR of a large policy are then never all in memory): begin (the
 * built-in rules), each rule of r in order once it is resolved, and end (what comes after
 * every statement; false when expansion reported an error). r's settings (stateless,
 * consume, ...) must be final when it begins. */
struct exp;
struct exp *expand_begin(struct resolved *r, struct ir_ruleset *out, struct diags *d);
void expand_rule(struct exp *x, size_t i);
bool expand_end(struct exp *x);

#endif
