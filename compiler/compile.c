#include <string.h>

#include "bundle.h"
#include "compile.h"
#include "lint.h"

bool compile_library(const struct compile_opts *o, struct compilation *c)
{
	memset(c, 0, sizeof(*c));
	struct libpath lp;
	libpath_init(&lp, o->libdirs, o->nlibdirs);
	c->diags.stage = DIAG_E_INPUT;
	if (!lp.dirs.n)
		diag_error(&c->diags, NULL, "no app library found: pass -L DIR or set PINHOLE_LIB");
	bool ok = lp.dirs.n && library_load(&c->lib, &lp, &c->srcs, &c->diags);
	libpath_free(&lp);
	c->diags.stage = DIAG_E_APP;
	for (size_t i = 0; i < c->lib.apps.n; i++)
		if (!resolve_validate_app(c->lib.apps.v[i], &c->diags))
			ok = false;
	if (!library_resolve_uses(&c->lib, &c->diags))
		ok = false;
	return ok;
}

/* The run's settings over the policy's. */
static void settle(const struct compile_opts *o, struct resolved *res)
{
	if (o->mode != MODE_AS_POLICY)
		res->stateless = o->mode == MODE_STATELESS;
	if (o->negotiated_static)
		res->negotiated_static = true;
	res->consume = o->ir_only;
}

/* compile_opts.ir_only: each rule is expanded (and given up) as soon as it is resolved, so
 * that the syntax tree, the resolved rules and the IR of a large policy are never all in
 * memory. The output is the same as resolving everything first: expansion's diagnostics
 * wait in `later` and follow resolve's, and are dropped with the IR if resolving fails
 * (once it has, nothing more is expanded). */
struct each {
	const struct compile_opts *o;
	struct compilation *c;
	struct exp *x;
	struct diags later;
	size_t errors;   /* c->diags.errors before resolving */
};

/* Expansion begins once: at the first rule, or at the end for a policy of none. */
static void begin_once(struct each *e, struct resolved *r)
{
	if (e->x)
		return;
	settle(e->o, r);
	e->later.stage = e->c->diags.stage;
	e->x = expand_begin(r, &e->c->ir, &e->later);
}

static void expand_resolved(void *ctx, struct resolved *r, size_t i)
{
	struct each *e = ctx;
	if (e->c->diags.errors != e->errors)
		return;
	begin_once(e, r);
	expand_rule(e->x, i);
}

static bool resolve_expanding(const struct compile_opts *o, struct compilation *c)
{
	struct each e = {.o = o, .c = c, .errors = c->diags.errors};
	struct resolve_hook h = {expand_resolved, &e};
	bool ok = resolve_policy_each(&c->policy, &c->lib, &c->res, &c->diags, &h);
	if (ok)
		begin_once(&e, &c->res); /* no rule statement */
	if (e.x && !expand_end(e.x))
		ok = false;
	if (e.c->diags.errors == e.errors)
		diag_append(&c->diags, &e.later);
	diag_free(&e.later);
	return ok;
}

/* The second half, once the library is in c->lib: the policy's sources from `first_src` on.
 * After a syntax error the remaining statements are still resolved, so that one run reports
 * every bad line; nothing is expanded then. */
static bool compile_loaded(bool ok, bool parsed, size_t first_src, const struct compile_opts *o,
			   struct compilation *c)
{
	c->diags.stage = DIAG_E_POLICY;
	if (!ok || c->srcs.n == first_src)
		return false;
	if (parsed && c->policy.stmts.n == 0) {
		struct loc at = {.src = c->srcs.v[first_src], .first_line = 1, .first_column = 1,
				 .last_line = 1, .last_column = 1};
		diag_error(&c->diags, &at, "empty policy: no statements (write at least one 'allow')");
		return false;
	}
	c->diags.stage = DIAG_E_APP;
	bool own = library_add_policy_apps(&c->lib, &c->policy, &c->diags);
	bool bundles = library_resolve_uses(&c->lib, &c->diags); /* the policy's own apps */
	c->diags.stage = DIAG_E_POLICY;
	if (o->ir_only && !o->analyze && parsed && bundles && own)
		return resolve_expanding(o, c);
	if (!resolve_policy(&c->policy, &c->lib, &c->res, &c->diags) || !parsed || !bundles || !own)
		return false;
	settle(o, &c->res);
	if (!expand_policy(&c->res, &c->ir, &c->diags))
		return false;
	if (o->analyze)
		lint_policy(&c->res, &c->ir, o->mgmt, o->nmgmt, &c->diags);
	return true;
}

bool compile_policy(const char *path, const struct compile_opts *o, struct compilation *c)
{
	bool ok = compile_library(o, c);
	size_t first_src = c->srcs.n;
	c->diags.stage = DIAG_E_INPUT;
	c->first_policy_src = first_src;
	bool parsed = load_policy_in(path, o->incdirs, o->nincdirs, &c->srcs, &c->policy, &c->diags);
	return compile_loaded(ok, parsed, first_src, o, c);
}

/* c->lib as a copy of base's: its own lists of apps and expansions (the policy adds to both),
 * the syntax trees and sources still base's. */
static void library_lend(const struct library *base, struct library *lib)
{
	for (size_t i = 0; i < base->apps.n; i++)
		VEC_PUSH(lib->apps, base->apps.v[i]);
	for (size_t i = 0; i < base->expanded.n; i++) {
		const struct app_flows *from = &base->expanded.v[i];
		struct app_flows af = {.app = from->app, .state = from->state};
		for (size_t k = 0; k < from->flows.n; k++)
			VEC_PUSH(af.flows, from->flows.v[k]);
		VEC_PUSH(lib->expanded, af);
	}
}

bool compile_policy_text(const char *name, const char *text, size_t len,
			 const struct compile_opts *o, const struct compilation *base,
			 struct compilation *c)
{
	bool ok;
	if (base) {
		memset(c, 0, sizeof(*c));
		library_lend(&base->lib, &c->lib);
		ok = true;
	} else {
		ok = compile_library(o, c);
	}
	size_t first_src = c->srcs.n;
	c->diags.stage = DIAG_E_INPUT;
	c->first_policy_src = first_src;
	bool parsed = load_policy_text(name, text, len, &c->srcs, &c->policy, &c->diags);
	return compile_loaded(ok, parsed, first_src, o, c);
}

void compilation_drop_front(struct compilation *c)
{
	resolved_free(&c->res);
	library_free(&c->lib);
	ast_policy_free(&c->policy);
	memset(&c->res, 0, sizeof(c->res));
	memset(&c->lib, 0, sizeof(c->lib));
	memset(&c->policy, 0, sizeof(c->policy));
}

void compilation_free(struct compilation *c)
{
	ir_ruleset_free(&c->ir);
	compilation_drop_front(c);
	diag_free(&c->diags);
	sources_free(&c->srcs);
}

const struct source *compilation_source(const struct compilation *c, const char *file)
{
	for (size_t i = 0; file && i < c->srcs.n; i++) {
		char *name = util_path_clean(c->srcs.v[i]->name);
		bool same = !strcmp(name, file) || !strcmp(c->srcs.v[i]->name, file);
		free(name);
		if (same)
			return c->srcs.v[i];
	}
	return NULL;
}

char *compilation_source_line(const struct compilation *c, const char *file, int line)
{
	const struct source *s = compilation_source(c, file);
	if (s) {
		const char *p = s->text, *end = s->text + s->len;
		for (int l = 1; l < line && p < end; l++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			if (!nl)
				return NULL;
			p = nl + 1;
		}
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		while (p < stop && (*p == ' ' || *p == '\t'))
			p++;
		return xstrndup(p, (size_t)(stop - p));
	}
	return NULL;
}
