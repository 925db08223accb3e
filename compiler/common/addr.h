/* Address literals: strict parsing (no silent widening) and list normalization. */
#ifndef PINHOLE_ADDR_H
#define PINHOLE_ADDR_H

#include "ir.h"

typedef VEC(struct ir_prefix) prefix_vec;

/* Parses "10.0.0.0/8", "192.0.2.7", "2001:db8::/32". On failure returns false and sets *why
 * to a message (caller frees). Host bits under the prefix are an error. */
bool prefix_parse(const char *text, struct ir_prefix *out, char **why);

/* Sorts, and drops prefixes covered by another. Returns how many were dropped. */
size_t prefixes_normalize(prefix_vec *v);
bool prefix_covers(const struct ir_prefix *outer, const struct ir_prefix *inner);

#endif
