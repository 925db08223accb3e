/* Expansion: resolved rules -> IR rules (one per hook, family, protocol and flow direction). */
#ifndef PINHOLE_EXPAND_H
#define PINHOLE_EXPAND_H

#include "ir.h"
#include "resolve.h"

bool expand_policy(const struct resolved *r, struct ir_ruleset *out, struct diags *d);

/* Normalized text of a rule statement, e.g. "allow nfs server from 10.0.0.0/8". */
char *stmt_text(const struct ast_stmt *s);

#endif
