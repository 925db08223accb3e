/* Expansion: resolved rules -> IR rules (one per hook, family, protocol and flow direction). */
#ifndef PINHOLE_EXPAND_H
#define PINHOLE_EXPAND_H

#include "ir.h"
#include "resolve.h"

bool expand_policy(struct resolved *r, struct ir_ruleset *out, struct diags *d);

#endif
