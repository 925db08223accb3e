/* The whole front half of pinhole: file -> syntax tree -> resolved -> IR. */
#ifndef PINHOLE_COMPILE_H
#define PINHOLE_COMPILE_H

#include "expand.h"
#include "ir.h"
#include "load.h"
#include "resolve.h"

enum mode_override { MODE_AS_POLICY, MODE_STATEFUL, MODE_STATELESS };

struct compile_opts {
	const char *const *libdirs; /* -L directories, searched first */
	size_t nlibdirs;
	enum mode_override mode;
	bool negotiated_static;     /* as `negotiated static;`: the iptables targets (no pinholed) */
	const char *const *incdirs; /* -I directories: includes not found next to the including file */
	size_t nincdirs;
	bool analyze;               /* the whole-policy analysis (lint.h): `pinhole check` only */
	/* Nothing but the IR is read afterwards (compile): expansion frees each resolved rule's
	 * own parts once it is expanded (resolved.consume), so the resolved rules and the IR of a
	 * large policy are not all in memory at once. */
	bool ir_only;
	const struct ir_prefix *mgmt; /* with it, management networks besides the policy's own */
	size_t nmgmt;               /* (`check --mgmt`) */
};

struct compilation {
	struct sources srcs;
	struct diags diags;
	struct ast_policy policy;
	struct library lib;
	struct resolved res;
	struct ir_ruleset ir;
	size_t first_policy_src; /* srcs.v[first_policy_src..] are the policy and its includes */
};

/* Loads only the app library (for `pinhole apps`). */
bool compile_library(const struct compile_opts *o, struct compilation *c);
/* Compiles a policy; false when any error was reported (c->diags says which). */
bool compile_policy(const char *path, const struct compile_opts *o, struct compilation *c);
/* The same for a policy held in memory, named `name` in diagnostics (includes relative to its
 * folder). With `base` (a successful compile_library that must outlive c and stay unchanged),
 * its library is used instead of loading one: what the fuzzers do for every input. */
bool compile_policy_text(const char *name, const char *text, size_t len,
			 const struct compile_opts *o, const struct compilation *base,
			 struct compilation *c);
void compilation_free(struct compilation *c);
/* Frees what only the front half reads (the syntax trees, the library, the resolved policy)
 * and keeps the IR, the sources and the diagnostics: the IR owns its strings, so a backend
 * renders it alone. compile does this before rendering, so that the syntax tree and the nft
 * plan of a large policy are never in memory at once. */
void compilation_drop_front(struct compilation *c);

/* The loaded file that a rule's origin.file names (a cleaned path, util_path_clean), or NULL. */
const struct source *compilation_source(const struct compilation *c, const char *file);
/* The source line `line` of a loaded file, without its newline (for explain). */
char *compilation_source_line(const struct compilation *c, const char *file, int line);

#endif
