/* Reading policy files (with their includes) and the app library into syntax trees. */
#ifndef PINHOLE_LOAD_H
#define PINHOLE_LOAD_H

#include "ast.h"
#include "diag.h"

#define MAX_INCLUDE_DEPTH 16

/* Parses `path` and every file it includes (includes are replaced by the included
 * statements, so `out` holds no STMT_INCLUDE). Returns false on any error. */
bool load_policy(const char *path, struct sources *srcs, struct ast_policy *out, struct diags *d);

bool source_is_text(const struct source *src, struct diags *d);

/* The app library: every *.pin file of each directory, in name order. */
struct library {
	struct ast_policy files;         /* owns the app statements */
	VEC(const struct ast_app *) apps;/* library apps, then the policy's own */
};

/* Directories searched, in order: extra (from -L), $PINHOLE_LIB (colon separated), and the
 * first of <exe>/../stdlib-apps (source tree) and <exe>/../share/pinhole/apps that exists. */
struct libpath {
	VEC(char *) dirs;
};
void libpath_init(struct libpath *lp, const char *const *extra, size_t nextra);
void libpath_free(struct libpath *lp);

bool library_load(struct library *lib, const struct libpath *lp, struct sources *srcs,
		  struct diags *d);
void library_add_policy_apps(struct library *lib, const struct ast_policy *p, struct diags *d);
const struct ast_app *library_find(const struct library *lib, const char *name);
/* Closest app name or alias within a small edit distance, or NULL. */
const char *library_suggest(const struct library *lib, const char *name);
void library_free(struct library *lib);

#endif
