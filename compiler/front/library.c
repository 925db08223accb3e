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
					diag_error(d, &s->loc, "an app library file holds only 'app' definitions");
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

static void add_app(struct library *lib, const struct ast_app *a, struct diags *d)
{
	const char *names[1 + 64];
	size_t nn = 0;
	names[nn++] = a->name;
	for (size_t i = 0; i < a->aliases.n && nn < 65; i++)
		names[nn++] = a->aliases.v[i].text;
	for (size_t i = 0; i < nn; i++) {
		const struct ast_app *prev = library_find(lib, names[i]);
		if (!prev)
			continue;
		diag_error(d, &a->loc, "app name '%s' is already used by app '%s' (%s:%d)", names[i],
			   prev->name, prev->loc.src->name, prev->loc.first_line);
		diag_note(d, &prev->loc, "'%s' defined here", prev->name);
		return;
	}
	VEC_PUSH(lib->apps, a);
}

bool library_load(struct library *lib, const struct libpath *lp, struct sources *srcs,
		  struct diags *d)
{
	bool ok = true;
	for (size_t i = 0; i < lp->dirs.n; i++)
		if (!load_dir(lib, lp->dirs.v[i], srcs, d))
			ok = false;
	for (size_t i = 0; i < lib->files.stmts.n; i++)
		if (lib->files.stmts.v[i]->kind == STMT_APP)
			add_app(lib, lib->files.stmts.v[i]->u.app, d);
	return ok;
}

void library_add_policy_apps(struct library *lib, const struct ast_policy *p, struct diags *d)
{
	/* Policy apps go first so that lookups find them before a library app of that name. */
	VEC(const struct ast_app *) mine = {0};
	for (size_t i = 0; i < p->stmts.n; i++) {
		if (p->stmts.v[i]->kind != STMT_APP)
			continue;
		const struct ast_app *a = p->stmts.v[i]->u.app;
		for (size_t j = 0; j < mine.n; j++)
			if (app_answers_to(mine.v[j], a->name))
				diag_error(d, &a->loc, "app '%s' is defined twice in the policy", a->name);
		VEC_PUSH(mine, a);
	}
	for (size_t i = 0; i < lib->apps.n; i++)
		VEC_PUSH(mine, lib->apps.v[i]);
	VEC_FREE(lib->apps);
	lib->apps.v = mine.v;
	lib->apps.n = mine.n;
	lib->apps.cap = mine.cap;
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
