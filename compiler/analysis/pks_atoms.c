/* The names of a packet space's atoms looked up by hash (pktspace_int.h): interface atoms
 * are one per zone interface a policy names, so a scan of them per rule (or per atom added)
 * made the analysis of N zones quadratic. */
#include <stdlib.h>
#include <string.h>

#include "pktspace_int.h"

static uint32_t name_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* The slot of the first `len` bytes of name: where its atom is, or the empty slot for it. */
static size_t slot_of(const struct pks_atoms *a, const char *name, size_t len)
{
	size_t i = name_hash(name, len) & (a->cap - 1);
	for (; a->slot[i]; i = (i + 1) & (a->cap - 1)) {
		const char *s = a->names[a->slot[i] - 1];
		if (s && !strncmp(s, name, len) && s[len] == 0)
			break;
	}
	return i;
}

size_t pks_atoms_find(const struct pks_atoms *a, const char *name, size_t len)
{
	if (!a->cap)
		return 0;
	size_t i = slot_of(a, name, len);
	return a->slot[i] ? a->slot[i] - 1 : 0;
}

void pks_atoms_put(struct pks_atoms *a, char **names, size_t n)
{
	a->names = names; /* the vector may have moved */
	if ((n + 1) * 2 > a->cap) {
		free(a->slot);
		a->cap = a->cap ? a->cap * 2 : 64;
		while ((n + 1) * 2 > a->cap)
			a->cap *= 2;
		a->slot = xcalloc(a->cap, sizeof(*a->slot));
		for (size_t k = 0; k < n; k++)
			if (names[k])
				a->slot[slot_of(a, names[k], strlen(names[k]))] = (uint32_t)k + 1;
		return;
	}
	const char *s = names[n - 1];
	a->slot[slot_of(a, s, strlen(s))] = (uint32_t)n;
}

void pks_atoms_free(struct pks_atoms *a)
{
	free(a->slot);
	memset(a, 0, sizeof(*a));
}
