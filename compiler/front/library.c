/* The app library: finding its directories, loading every app file, looking names up. */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load.h"

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void libpath_init(struct libpath *lp, const char *const *extra, size_t nextra)
{
	memset(lp, 0, sizeof(*lp));
	for (size_t i = 0; i < nextra; i++)
		VEC_PUSH(lp->dirs, xstrdup(extra[i]));
	const char *env = getenv("PINHOLE_LIB");
	if (env && *env) {
		char *copy = xstrdup(env), *save = NULL;
		for (char *t = strtok_r(copy, ":", &save); t; t = strtok_r(NULL, ":", &save))
			VEC_PUSH(lp->dirs, xstrdup(t));
		free(copy);
	}
	lp->nuser = lp->dirs.n;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return;
	exe[n] = '\0';
	char *dir = dirname(exe);
	/* build/pinhole in the source tree, or PREFIX/bin/pinhole when installed. */
	char *tree = xasprintf("%s/../stdlib-apps", dir);
	char *installed = xasprintf("%s/../share/pinhole/apps", dir);
	if (is_dir(tree)) {
		VEC_PUSH(lp->dirs, tree);
		free(installed);
	} else if (is_dir(installed)) {
		VEC_PUSH(lp->dirs, installed);
		free(tree);
	} else {
		free(tree);
		free(installed);
	}
}

void libpath_free(struct libpath *lp)
{
	for (size_t i = 0; i < lp->dirs.n; i++)
		free(lp->dirs.v[i]);
	VEC_FREE(lp->dirs);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool load_dir(struct library *lib, const char *dir, struct sources *srcs, struct diags *d)
{
	DIR *dh = opendir(dir);
	if (!dh) {
		diag_error(d, NULL, "cannot read app library '%s': %s", dir, strerror(errno));
		return false;
	}
	VEC(char *) names = {0};
	struct dirent *e;
	while ((e = readdir(dh))) {
		size_t len = strlen(e->d_name);
		if (len > 4 && strcmp(e->d_name + len - 4, ".pin") == 0 && e->d_name[0] != '.')
			VEC_PUSH(names, xstrdup(e->d_name));
	}
	closedir(dh);
	qsort(names.v, names.n, sizeof(*names.v), cmp_str);
	bool ok = true;
	for (size_t i = 0; i < names.n; i++) {
		char *path = xasprintf("%s/%s", dir, names.v[i]);
		size_t len;
		char *why = NULL;
		char *text = load_read_file(path, &len, &why);
		if (!text) {
			diag_error(d, NULL, "cannot read '%s': %s", path, why);
			free(why);
			ok = false;
		} else {
			struct source *src = sources_add(srcs, path, text, len);
			struct ast_policy local = {0};
			if (!load_source_is_text(src, d) || !parse_source(src, &local, d))
				ok = false;
			for (size_t j = 0; j < local.stmts.n; j++) {
				struct ast_stmt *s = local.stmts.v[j];
				if (s->kind != STMT_APP) {
					diag_error_id(d, DIAG_E_APP, &s->loc, "an app library file holds only 'app' definitions");
					ok = false;
				}
				VEC_PUSH(lib->files.stmts, s);
			}
			VEC_FREE(local.stmts);
		}
		free(path);
		free(names.v[i]);
	}
	VEC_FREE(names);
	return ok;
}

/* All names an app answers to: its name and aliases. */
static bool app_answers_to(const struct ast_app *a, const char *name)
{
	if (strcmp(a->name, name) == 0)
		return true;
	for (size_t i = 0; i < a->aliases.n; i++)
		if (strcmp(a->aliases.v[i].text, name) == 0)
			return true;
	return false;
}

/* Where an app is defined, for notes: "stdlib-apps/nfs.pin:3". */
static char *app_place(const struct ast_app *a)
{
	return xasprintf("%s:%d", a->loc.src->name, a->loc.first_line);
}

/* An app in lib->apps[from..] that answers to one of a's names (name, then aliases), and
 * that name. */
static const struct ast_app *find_clash(const struct library *lib, size_t from,
					const struct ast_app *a, const char **name)
{
	for (size_t k = 0; k <= a->aliases.n; k++) {
		const char *n = k == 0 ? a->name : a->aliases.v[k - 1].text;
		for (size_t i = from; i < lib->apps.n; i++)
			if (app_answers_to(lib->apps.v[i], n)) {
				*name = n;
				return lib->apps.v[i];
			}
	}
	return NULL;
}

/* Directories are loaded in order, the user's (-L, then $PINHOLE_LIB) first. An app that
 * answers to a name an app of an earlier directory has is overridden by it, with a note
 * naming both places; two apps of one directory with one name are an error. `dir_start` is
 * where this directory's apps begin in lib->apps. */
static bool add_app(struct library *lib, size_t dir_start, const struct ast_app *a,
		    bool user_dir, struct diags *d)
{
	const char *name = NULL;
	const struct ast_app *prev = find_clash(lib, dir_start, a, &name);
	if (prev) {
		diag_error_id(d, DIAG_E_APP, &a->loc, "app name '%s' is already used by app '%s' (%s:%d)", name,
			   prev->name, prev->loc.src->name, prev->loc.first_line);
		diag_note(d, &prev->loc, "'%s' defined here", prev->name);
		return false;
	}
	prev = find_clash(lib, 0, a, &name);
	if (prev) {
		char *mine = app_place(prev), *theirs = app_place(a);
		diag_note(d, &prev->loc, "app '%s' (%s) overrides %s app '%s' (%s)", prev->name, mine,
			  user_dir ? "the later -L directory's" : "the library's", a->name, theirs);
		free(mine);
		free(theirs);
		return true;
	}
	VEC_PUSH(lib->apps, a);
	return true;
}

bool library_load(struct library *lib, const struct libpath *lp, struct sources *srcs,
		  struct diags *d)
{
	bool ok = true;
	for (size_t i = 0; i < lp->dirs.n; i++) {
		size_t first_stmt = lib->files.stmts.n, dir_start = lib->apps.n;
		if (!load_dir(lib, lp->dirs.v[i], srcs, d))
			ok = false;
		for (size_t j = first_stmt; j < lib->files.stmts.n; j++)
			if (lib->files.stmts.v[j]->kind == STMT_APP &&
			    !add_app(lib, dir_start, lib->files.stmts.v[j]->u.app, i < lp->nuser, d))
				ok = false;
	}
	return ok;
}

bool library_add_policy_apps(struct library *lib, const struct ast_policy *p, struct diags *d)
{
	/* Policy apps go first so that lookups find them; a library app that answers to a name
	 * of a policy app is left out, with a note naming both places. */
	bool ok = true;
	VEC(const struct ast_app *) mine = {0};
	for (size_t i = 0; i < p->stmts.n; i++) {
		if (p->stmts.v[i]->kind != STMT_APP)
			continue;
		const struct ast_app *a = p->stmts.v[i]->u.app;
		for (size_t j = 0; j < mine.n; j++)
			if (app_answers_to(mine.v[j], a->name)) {
				diag_error_id(d, DIAG_E_APP, &a->loc, "app '%s' is defined twice in the policy", a->name);
				ok = false;
			}
		VEC_PUSH(mine, a);
	}
	size_t npolicy = mine.n;
	for (size_t i = 0; i < lib->apps.n; i++) {
		const struct ast_app *a = lib->apps.v[i];
		const struct ast_app *over = NULL;
		for (size_t j = 0; j < npolicy && !over; j++) {
			if (app_answers_to(mine.v[j], a->name))
				over = mine.v[j];
			for (size_t k = 0; k < a->aliases.n && !over; k++)
				if (app_answers_to(mine.v[j], a->aliases.v[k].text))
					over = mine.v[j];
		}
		if (over) {
			char *p1 = app_place(over), *p2 = app_place(a);
			diag_note(d, &over->loc, "app '%s' (%s) overrides the library's app '%s' (%s)",
				  over->name, p1, a->name, p2);
			free(p1);
			free(p2);
			continue;
		}
		VEC_PUSH(mine, a);
	}
	VEC_FREE(lib->apps);
	lib->apps.v = mine.v;
	lib->apps.n = mine.n;
	lib->apps.cap = mine.cap;
	return ok;
}

const struct ast_app *library_find(const struct library *lib, const char *name)
{
	for (size_t i = 0; i < lib->apps.n; i++)
		if (app_answers_to(lib->apps.v[i], name))
			return lib->apps.v[i];
	return NULL;
}

const char *library_suggest(const struct library *lib, const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strlen(name) <= 3 ? 1 : strlen(name) <= 6 ? 2 : 3;
	for (size_t i = 0; i < lib->apps.n; i++) {
		const struct ast_app *a = lib->apps.v[i];
		size_t dist = util_edit_distance(name, a->name);
		if (dist < best_d) {
			best_d = dist;
			best = a->name;
		}
		for (size_t j = 0; j < a->aliases.n; j++) {
			dist = util_edit_distance(name, a->aliases.v[j].text);
			if (dist < best_d) {
				best_d = dist;
				best = a->aliases.v[j].text;
			}
		}
	}
	return best_d <= limit ? best : NULL;
}

const flow_refs *library_flows(const struct library *lib, const struct ast_app *a)
{
	for (size_t i = 0; i < lib->expanded.n; i++)
		if (lib->expanded.v[i].app == a)
			return lib->expanded.v[i].state == USES_DONE ? &lib->expanded.v[i].flows : NULL;
	return NULL;
}

void library_free(struct library *lib)
{
	ast_policy_free(&lib->files);
	VEC_FREE(lib->apps);
	for (size_t i = 0; i < lib->expanded.n; i++)
		VEC_FREE(lib->expanded.v[i].flows);
	VEC_FREE(lib->expanded);
}
