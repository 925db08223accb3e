/* Reading policy files (with their includes) and the app library into syntax trees. */
#ifndef PINHOLE_LOAD_H
#define PINHOLE_LOAD_H

#include "ast.h"
#include "diag.h"

#define MAX_INCLUDE_DEPTH 16
/* Bounds on what is read (docs/language.md): one policy, include or library file, and a policy
 * with all its includes together. Only regular files are read. */
#define LOAD_MAX_FILE (16 << 20)
#define LOAD_MAX_TOTAL (64 << 20)

/* Parses `path` and every file it includes (includes are replaced by the included
 * statements, so `out` holds no STMT_INCLUDE). Returns false on any error. */
bool load_policy(const char *path, struct sources *srcs, struct ast_policy *out, struct diags *d);
/* The same, an include that is not next to the including file looked for in each of
 * `incdirs` in turn (-I). */
bool load_policy_in(const char *path, const char *const *incdirs, size_t nincdirs,
		    struct sources *srcs, struct ast_policy *out, struct diags *d);

/* The same for a policy held in memory (stdin, the fuzzers): `name` names it in diagnostics,
 * includes are relative to its folder. The text is copied. */
bool load_policy_text(const char *name, const char *text, size_t len, struct sources *srcs,
		      struct ast_policy *out, struct diags *d);

/* A regular file of at most LOAD_MAX_FILE bytes, NUL-terminated; NULL with *why (caller
 * frees) for anything else: a device, a FIFO, a directory, too large, unreadable. */
char *load_read_file(const char *path, size_t *len, char **why);
/* Everything fd gives up to `max` bytes (stdin); NULL with *why beyond that. */
char *load_read_bounded(int fd, size_t max, size_t *len, char **why);

bool load_source_is_text(const struct source *src, struct diags *d);

/* One flow an app expands to: its own, or one of an app it uses (provenance names that app). */
struct flow_ref {
	const struct ast_app *app;
	const struct ast_flow *flow;
};
typedef VEC(struct flow_ref) flow_refs;

enum uses_state { USES_PENDING, USES_RESOLVING, USES_DONE };

/* An app's flows with its bundle expanded (bundle.c): own flows, then those of the used apps,
 * each once. Expansion and `pinhole apps` read these, never an app's `flows` alone. The
 * syntax tree itself is never written. */
struct app_flows {
	const struct ast_app *app;
	flow_refs flows;
	enum uses_state state;
};

/* The app library: every *.pin file of each directory, in name order. */
struct library {
	struct ast_policy files;         /* owns the app statements */
	VEC(const struct ast_app *) apps;/* the policy's own apps, then the library's */
	VEC(struct app_flows) expanded;  /* one per app, in the order bundle.c met them */
};

/* Directories searched, in order: extra (from -L), $PINHOLE_LIB (colon separated), and the
 * first of <exe>/../stdlib-apps (source tree) and <exe>/../share/pinhole/apps that exists. */
struct libpath {
	VEC(char *) dirs;
	size_t nuser; /* the first nuser dirs are the user's (-L, $PINHOLE_LIB); the rest, the library */
};
void libpath_init(struct libpath *lp, const char *const *extra, size_t nextra);
void libpath_free(struct libpath *lp);

bool library_load(struct library *lib, const struct libpath *lp, struct sources *srcs,
		  struct diags *d);
/* A policy's own apps come first: an app of the policy named like a library app replaces it
 * (with a note naming both places); two apps of the policy with one name are an error. */
bool library_add_policy_apps(struct library *lib, const struct ast_policy *p, struct diags *d);
const struct ast_app *library_find(const struct library *lib, const char *name);
/* The app's flows with its bundle expanded; NULL before bundle.c resolved the app. */
const flow_refs *library_flows(const struct library *lib, const struct ast_app *a);
/* Closest app name or alias within a small edit distance, or NULL. */
const char *library_suggest(const struct library *lib, const char *name);
void library_free(struct library *lib);

#endif
