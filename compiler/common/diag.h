/* Source locations and diagnostics: queued as values, printed once with a caret line. */
#ifndef PINHOLE_DIAG_H
#define PINHOLE_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* One loaded source file; kept alive for the whole run so diagnostics can quote it. */
struct source {
	char *name;    /* as the user (or an include) named it */
	char *text;    /* whole contents, NUL-terminated (may contain other NULs) */
	size_t len;
};

struct loc {
	const struct source *src;
	int first_line, first_column, last_line, last_column; /* 1-based, inclusive */
};

enum severity { SEV_ERROR, SEV_WARNING, SEV_NOTE };

/* Stable IDs, one per kind of finding (docs/check.md lists them; never renumber, never reuse).
 * PH0xx are errors (the policy does not compile), PH1xx warnings, PH2xx notes. A diagnostic
 * queued without an ID takes its queue's `stage` (errors), DIAG_W_OTHER (warnings), or
 * belongs to the diagnostic before it (notes). */
enum diag_id {
	DIAG_NONE,
	DIAG_E_SYNTAX,       /* PH001 syntax */
	DIAG_E_INPUT,        /* PH002 input: unreadable, not text, include cycle or depth */
	DIAG_E_UNKNOWN_NAME, /* PH003 unknown-name: app, address name, ICMP type */
	DIAG_E_POLICY,       /* PH004 policy: a statement that cannot mean anything */
	DIAG_E_APP,          /* PH005 app-definition: an app or flow definition is wrong */
	DIAG_E_BACKEND,      /* PH006 backend: the target cannot say a rule */
	DIAG_W_OTHER,        /* PH100 warning */
	DIAG_W_OVERLAP,      /* PH101 overlapping-addresses */
	DIAG_W_REPEATED,     /* PH102 repeated-setting */
	DIAG_W_ALLOWS_NOTHING, /* PH103 allows-nothing */
	DIAG_W_UNUSED_DEFINE,  /* PH104 unused-define */
	DIAG_W_REDUNDANT,      /* PH105 redundant-statement */
	DIAG_W_USELESS_DENY,   /* PH106 useless-deny */
	DIAG_W_STATELESS,      /* PH107 stateless-fallback */
	DIAG_W_FAMILY,         /* PH108 family-without-rules (iptables targets) */
	DIAG_W_BAD_SUPPRESSION,    /* PH109 bad-suppression */
	DIAG_W_UNUSED_SUPPRESSION, /* PH110 unused-suppression */
	DIAG_W_FAMILY_NARROWING,   /* PH111 family-narrowing */
	DIAG_W_SHADOWED,           /* PH112 shadowed-statement */
	DIAG_W_FAMILY_PARITY,      /* PH113 family-parity */
	DIAG_W_ADMIN_PORT,         /* PH114 broad-admin-access */
	DIAG_W_MGMT_LOCKOUT,       /* PH115 management-lockout */
	DIAG_W_FORWARD_DENIED,     /* PH116 forward-denied */
	DIAG_W_ALLOW_NO_FORWARD,   /* PH117 allow-without-forward */
	DIAG_W_TARGET_HELPER,      /* PH118 target-lacks-helper */
	DIAG_W_OWNED_FORWARD,      /* PH119 owned-forward */
	DIAG_N_PEER_RESTRICTION,   /* PH201 restriction-hits-peers */
	DIAG_N_BROADCAST_RESTRICTION, /* PH202 restriction-hits-broadcasts */
	DIAG_N_NEEDS_PINHOLED,     /* PH203 needs-pinholed */
	DIAG_ID_COUNT
};

struct diag_rule {
	const char *code;    /* "PH105" */
	const char *name;    /* "redundant-statement": for -W, -Wno-, -Werror= */
	enum severity sev;   /* its default severity */
	const char *summary; /* one line, for SARIF's rule table and docs/check.md */
};
const struct diag_rule *diag_rule(enum diag_id id);
/* By code (any case) or name; DIAG_NONE when neither. */
enum diag_id diag_rule_find(const char *code_or_name);

struct diag {
	enum severity sev;
	enum diag_id id;
	struct loc loc;    /* src may be NULL for diagnostics without a place */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;
	enum diag_id stage; /* the ID of errors queued without one (DIAG_NONE: PH004) */
};

#define MAX_ERRORS 20

void diag_add(struct diags *d, enum severity sev, const struct loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_add_id(struct diags *d, enum diag_id id, enum severity sev, const struct loc *loc,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define diag_error(d, loc, ...) diag_add((d), SEV_ERROR, (loc), __VA_ARGS__)
#define diag_warning(d, loc, ...) diag_add((d), SEV_WARNING, (loc), __VA_ARGS__)
#define diag_note(d, loc, ...) diag_add((d), SEV_NOTE, (loc), __VA_ARGS__)
#define diag_error_id(d, id, loc, ...) diag_add_id((d), (id), SEV_ERROR, (loc), __VA_ARGS__)
#define diag_warning_id(d, id, loc, ...) diag_add_id((d), (id), SEV_WARNING, (loc), __VA_ARGS__)
/* A note with an ID stands alone (a finding of its own); without one it explains the
 * diagnostic before it. */
#define diag_note_id(d, id, loc, ...) diag_add_id((d), (id), SEV_NOTE, (loc), __VA_ARGS__)
bool diag_too_many(const struct diags *d);

/* Prints every diagnostic as FILE:LINE:COL: error: MSG, the source line and a caret. */
void diag_print(const struct diags *d, FILE *out);
/* One diagnostic the same way, `sev` as given (check's -Werror), " [PH105]" after the message
 * when `tag`. */
void diag_print_one(const struct diag *g, enum severity sev, bool tag, FILE *out);
const char *diag_severity_name(enum severity s);
void diag_free(struct diags *d);
/* Moves every diagnostic of `from` to the end of `to`, counts too (`from` is left empty). */
void diag_append(struct diags *to, struct diags *from);
/* The one caret printer: `line` (len bytes, no newline) quoted after `indent`, then `indent`
 * and a caret under `column` (1-based), '~' under the rest of `width` columns. Long lines are
 * cut around the column. For text that is not a loaded source (explain's packets). */
void diag_caret(FILE *out, const char *indent, const char *line, size_t len, int column, int width);

/* Sources owned by one compilation. */
struct sources {
	struct source **v;
	size_t n, cap;
};
struct source *sources_add(struct sources *s, const char *name, char *text, size_t len);
void sources_free(struct sources *s);

#endif
