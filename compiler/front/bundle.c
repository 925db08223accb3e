/* Bundle resolution: depth first over `uses`, each app once; the path being resolved is kept
 * so that a cycle can be reported as the whole loop. The results live in the library
 * (lib->expanded), by index, because resolving one app may add entries for others. */
#include <string.h>

#include "bundle.h"

typedef VEC(const struct ast_app *) app_stack;

static size_t entry_of(struct library *lib, const struct ast_app *a)
{
	for (size_t i = 0; i < lib->expanded.n; i++)
		if (lib->expanded.v[i].app == a)
			return i;
	VEC_PUSH(lib->expanded, ((struct app_flows){.app = a, .state = USES_PENDING}));
	return lib->expanded.n - 1;
}

static void add_ref(struct library *lib, size_t into, const struct ast_app *owner,
		    const struct ast_flow *f)
{
	flow_refs *v = &lib->expanded.v[into].flows;
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].flow == f)
			return; /* reached twice (e.g. two used apps share one): one copy is enough */
	VEC_PUSH(*v, ((struct flow_ref){.app = owner, .flow = f}));
}

static void report_cycle(const app_stack *path, const struct ast_app *a, const struct ast_word *w,
			 const struct ast_app *target, struct diags *d)
{
	struct strbuf sb = {0};
	size_t start = 0;
	while (start < path->n && path->v[start] != target)
		start++;
	for (size_t i = start; i < path->n; i++)
		sb_printf(&sb, "%s -> ", path->v[i]->name);
	sb_puts(&sb, target->name);
	diag_error(d, &w->loc, "app '%s' uses '%s', which leads back to it: %s", a->name, w->text, sb.s);
	sb_free(&sb);
}

static bool resolve(struct library *lib, size_t ai, app_stack *path, struct diags *d)
{
	bool ok = true;
	const struct ast_app *a = lib->expanded.v[ai].app;
	lib->expanded.v[ai].state = USES_RESOLVING;
	VEC_PUSH(*path, a);
	for (size_t i = 0; i < a->flows.n; i++)
		add_ref(lib, ai, a, &a->flows.v[i]);
	for (size_t i = 0; i < a->uses.n; i++) {
		const struct ast_word *w = &a->uses.v[i];
		/* Library apps never see the policy's own apps: they are resolved before those
		 * are added, so a policy cannot change what a library bundle means. */
		const struct ast_app *u = library_find(lib, w->text);
		if (!u) {
			const char *s = library_suggest(lib, w->text);
			if (s)
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &w->loc, "app '%s' uses unknown app '%s'; did you mean '%s'?",
					   a->name, w->text, s);
			else
				diag_error_id(d, DIAG_E_UNKNOWN_NAME, &w->loc, "app '%s' uses unknown app '%s'", a->name, w->text);
			ok = false;
			continue;
		}
		size_t ui = entry_of(lib, u);
		if (lib->expanded.v[ui].state == USES_RESOLVING) {
			report_cycle(path, a, w, u, d);
			ok = false;
			continue;
		}
		if (lib->expanded.v[ui].state == USES_PENDING && !resolve(lib, ui, path, d))
			ok = false;
		for (size_t k = 0; k < lib->expanded.v[ui].flows.n; k++) {
			struct flow_ref fr = lib->expanded.v[ui].flows.v[k];
			add_ref(lib, ai, fr.app, fr.flow);
		}
	}
	if (!lib->expanded.v[ai].flows.n && ok) {
		diag_error(d, &a->loc, "app '%s' has no flows: give at least one 'flow' or 'uses'", a->name);
		ok = false;
	}
	path->n--;
	lib->expanded.v[ai].state = USES_DONE;
	return ok;
}

bool library_resolve_uses(struct library *lib, struct diags *d)
{
	bool ok = true;
	app_stack path = {0};
	for (size_t i = 0; i < lib->apps.n; i++) {
		size_t ai = entry_of(lib, lib->apps.v[i]);
		if (lib->expanded.v[ai].state == USES_PENDING && !resolve(lib, ai, &path, d))
			ok = false;
	}
	VEC_FREE(path);
	return ok;
}
