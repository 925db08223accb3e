/* Inside the packet space (pktspace.c, pks_rule.c): the encoding's building blocks. */
#ifndef PINHOLE_PKTSPACE_INT_H
#define PINHOLE_PKTSPACE_INT_H

#include "pktspace.h"

/* Variable k of a field, k = 0 its most significant bit; that variable (or its negation). */
int pks_var(const struct pks_field *f, int k);
BDD pks_bit(const struct pks_field *f, int k, bool one);
/* Referenced: the top `len` bits of an address field equal those of addr (family not
 * tested); the union of an address set's prefixes (with their families); of a port set's
 * ranges; the packets one match lets through (transport fields: first fragments only). */
BDD pks_prefix_bits(const struct pks_field *f, const uint8_t *addr, int len);
BDD pks_addrs(const struct pktspace *ps, const struct pks_field *f, const struct ir_addrset *s);
BDD pks_ports(const struct pktspace *ps, const struct pks_field *f, const struct ir_portset *s);
BDD pks_match(const struct pktspace *ps, const struct ir_match *m);

/* The atom named by the first `len` bytes of name (0: none; atom 0 has no name), and
 * names[n - 1] just added to the names (names[0 .. n) indexed, as the vector may move). */
size_t pks_atoms_find(const struct pks_atoms *a, const char *name, size_t len);
void pks_atoms_put(struct pks_atoms *a, char **names, size_t n);
void pks_atoms_free(struct pks_atoms *a);

#endif
