/* pinhole import: FireHOL services, ufw application profiles and firewalld service XML read
 * into one small model of apps and flows, then written as pinhole app definitions. Each
 * format's reader (import_firehol.c, import_ufw.c, import_firewalld.c) fills the model and
 * queues a note for whatever it cannot carry over; import_write.c checks names and writes the
 * text. docs/migrating.md says how each format's concepts map. */
#ifndef PINHOLE_IMPORT_H
#define PINHOLE_IMPORT_H

#include "ast.h"
#include "diag.h"
#include "load.h"

enum import_format { IMPORT_FIREHOL, IMPORT_UFW, IMPORT_FIREWALLD };

typedef VEC(struct ir_portrange) imp_ports; /* empty: any port */

/* One flow of an imported app. Every flow runs client -> server (the databases describe what a
 * server listens on), except the helpers' child flows, which run either way (`to_client`). */
struct imp_flow {
	char *name;      /* a flow name (import_flow_name makes it unique in its app) */
	unsigned protos; /* PROTO_BIT_* */
	imp_ports sport, dport;
	const char *helper;  /* a kernel helper type attached to the flow (static string) */
	const char *related; /* the helper whose expected connections this flow is */
	bool to_client;      /* server -> client */
	char *source;        /* where it comes from: "FILE:LINE: what" */
};

struct imp_use {
	char *name;       /* the service named, as the input spells it */
	struct loc loc;
	/* Set by import_resolve: the app used (NULL for a library app) and the name written;
	 * `resolved` NULL when the use is dropped. */
	struct imp_app *app;
	const char *resolved;
};

struct imp_app {
	char *orig;       /* the name as the input spells it */
	char *name;       /* a pinhole identifier, set by import_write */
	char *title;      /* may be NULL */
	char *description;/* may be NULL */
	char *source;     /* "firewalld service FILE" and the like */
	struct loc loc;   /* where it is defined (the header of a profile, the variable, the file) */
	VEC(struct imp_flow) flows;
	VEC(struct imp_use) uses; /* firewalld's <include service=...>: bundled apps */
	bool skipped;     /* import_resolve: nothing of it can be written */
	int mark;         /* import_resolve's walk */
};

struct imp_set {
	VEC(struct imp_app *) apps;
};

/* Readers: one loaded source (a regular file read with load_read_file, or text in memory)
 * into `set`; errors and notes into `d`. False when an error was reported. */
bool import_firehol(const struct source *src, struct imp_set *set, struct diags *d);
bool import_ufw(const struct source *src, struct imp_set *set, struct diags *d);
bool import_firewalld(const struct source *src, struct imp_set *set, struct diags *d);
bool import_source(enum import_format fmt, const struct source *src, struct imp_set *set,
		   struct diags *d);
/* "firehol", "ufw", "firewalld" -> the format; false for anything else. */
bool import_format_parse(const char *name, enum import_format *fmt);
const char *import_format_name(enum import_format fmt);

/* Model helpers shared by the readers. */
struct imp_app *import_app_new(struct imp_set *set, const char *orig, const struct loc *loc);
struct imp_flow *import_flow_add(struct imp_app *a, const char *base, unsigned protos);
void import_ports_add(imp_ports *p, unsigned lo, unsigned hi);
/* "ftp", "nf_conntrack_ftp" (modules), FireHOL's and firewalld's spellings: attaches the
 * kernel helper to every flow of `a` of the protocol it reads and adds the child flows for the
 * connections it expects, in both directions, as FireHOL and firewalld accept them
 * (RELATED). What pinhole has no helper for is a note at `loc`. `is_module`: the name is a
 * kernel module (nf_conntrack_X; nf_nat_X are NAT only). */
void import_helper(struct imp_app *a, const char *name, bool is_module, const struct loc *loc,
		   const char *where, struct diags *d);
/* A location inside one line of `src`: line (1-based), columns [col, col + len). */
struct loc import_loc(const struct source *src, int line, int col, int len);
/* Text fit for a pinhole string or comment: quotes become apostrophes, control bytes and
 * runs of white space one space, trimmed. A new string. */
char *import_clean_text(const char *s);

/* Names every app (a pinhole identifier; unique; a keyword or a library app's name gets a
 * note), drops `uses` that name nothing imported or the library or would close a cycle (a
 * note each), then writes every app with flows or uses. `lib` may be NULL. */
void import_resolve(struct imp_set *set, const struct library *lib, struct diags *d);
void import_write(const struct imp_set *set, enum import_format fmt, FILE *out);
void import_set_free(struct imp_set *set);

/* Bounds beyond any real database (firewalld ships 221 services, FireHOL 200), so that no
 * input makes the importer's small linear searches slow: apps in one import, and words (ports,
 * helpers) in one FireHOL variable. Files are bounded as policies are (LOAD_MAX_FILE). */
#define IMPORT_MAX_APPS 4096
#define IMPORT_MAX_WORDS 4096

#endif
