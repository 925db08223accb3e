/* Bundle resolution: depth first over `uses`, each app once; the path being resolved is kept
 * so that a cycle can be reported as the whole loop. */
#include <string.h>

#include "bundle.h"

typedef VEC(const struct ast_app *) app_stack;

static void add_ref(struct ast_app *a, const struct ast_app *owner, const struct ast_flow *f)
{
	for (size_t i = 0; i < a->all_flows.n; i++)
		if (a->all_flows.v[i].flow == f)
			return; /* reached twice (e.g. two used apps share one): one copy is enough */
	VEC_PUSH(a->all_flows, ((struct flow_ref){.app = owner, .flow = f}));
}

void app_own_flows(struct ast_app *a)
{
	for (size_t i = 0; i < a->flows.n; i++)
		add_ref(a, a, &a->flows.v[i]);
	a->uses_state = USES_DONE;
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

static bool resolve(struct ast_app *a, const struct library *lib, app_stack *path, struct diags *d)
{
	bool ok = true;
	a->uses_state = USES_RESOLVING;
	VEC_PUSH(*path, a);
	for (size_t i = 0; i < a->flows.n; i++)
		add_ref(a, a, &a->flows.v[i]);
	for (size_t i = 0; i < a->uses.n; i++) {
		const struct ast_word *w = &a->uses.v[i];
		/* Library apps never see the policy's own apps: they are resolved before those
		 * are added, so a policy cannot change what a library bundle means. */
		const struct ast_app *found = library_find(lib, w->text);
		if (!found) {
			const char *s = library_suggest(lib, w->text);
			if (s)
				diag_error(d, &w->loc, "app '%s' uses unknown app '%s'; did you mean '%s'?",
					   a->name, w->text, s);
			else
				diag_error(d, &w->loc, "app '%s' uses unknown app '%s'", a->name, w->text);
			ok = false;
			continue;
		}
		/* The library owns its apps; it hands them out const for everyone but us. */
		struct ast_app *u = (struct ast_app *)found;
		if (u->uses_state == USES_RESOLVING) {
			report_cycle(path, a, w, u, d);
			ok = false;
			continue;
		}
		if (u->uses_state == USES_PENDING && !resolve(u, lib, path, d))
			ok = false;
		for (size_t k = 0; k < u->all_flows.n; k++)
			add_ref(a, u->all_flows.v[k].app, u->all_flows.v[k].flow);
	}
	if (!a->all_flows.n && ok) {
		diag_error(d, &a->loc, "app '%s' has no flows: give at least one 'flow' or 'uses'", a->name);
		ok = false;
	}
	path->n--;
	a->uses_state = USES_DONE;
	return ok;
}

bool library_resolve_uses(struct library *lib, struct diags *d)
{
	bool ok = true;
	app_stack path = {0};
	for (size_t i = 0; i < lib->apps.n; i++) {
		struct ast_app *a = (struct ast_app *)lib->apps.v[i];
		if (a->uses_state == USES_PENDING && !resolve(a, lib, &path, d))
			ok = false;
	}
	VEC_FREE(path);
	return ok;
}
