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
/* v minus every prefix of ex, exactly: a prefix that holds an exception is split into the
 * prefixes around it (at most one per bit between the two lengths), one that an exception
 * holds is dropped. The result is normalized. */
void prefixes_subtract(prefix_vec *v, const prefix_vec *ex);

#endif
