/* resolved.consume (compile, where only the IR is read afterwards): each resolved rule is
 * given up once it is expanded, so that the resolved rules and the IR of a large policy are
 * never both in memory. What a rule owns is freed; the pages of the rules array that hold only
 * given-up rules go back to the system as well (they read as zeros afterwards, and nothing
 * reads them: resolved_free skips the first resolved.consumed rules). */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "expand_int.h"

void expand_consume(struct resolved *r, size_t i, size_t *lit)
{
	struct rrule *rr = &r->rules.v[i];
	/* its port literals are the next ones of r->lit_apps, which resolve wrote in rule order */
	for (size_t a = 0; a < rr->apps.n; a++) {
		if (*lit >= r->lit_apps.n || &r->lit_apps.v[*lit]->app != rr->apps.v[a])
			continue;
		struct lit_app *l = r->lit_apps.v[*lit];
		if (l->def)
			ast_app_free(l->def);
		free(l->name);
		free(l);
		r->lit_apps.v[(*lit)++] = NULL;
	}
	free(rr->text); /* the ruleset has its copy */
	rr->text = NULL;
	VEC_FREE(rr->apps);
	VEC_FREE(rr->client_side.addrs);
	VEC_FREE(rr->server_side.addrs);
	rrule_more_free(rr);
	r->consumed = i + 1;
	/* Whole pages only, and a few hundred kilobytes at a time (one system call each). */
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)r->rules.v + page - 1) & ~(page - 1);
	uintptr_t hi = (uintptr_t)(r->rules.v + r->consumed) & ~(page - 1);
	if (lo < r->released)
		lo = r->released;
	/* (cap: compile hands the rules over as they are resolved, into an array sized for all) */
	if (hi >= lo + 64 * page || (r->consumed == r->rules.cap && hi > lo)) {
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
		r->released = hi;
	}
}
