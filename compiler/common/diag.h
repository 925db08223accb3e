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

struct diag {
	enum severity sev;
	struct loc loc;    /* src may be NULL for diagnostics without a place */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t errors, warnings;
};

#define MAX_ERRORS 20

void diag_add(struct diags *d, enum severity sev, const struct loc *loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, loc, ...) diag_add((d), SEV_ERROR, (loc), __VA_ARGS__)
#define diag_warning(d, loc, ...) diag_add((d), SEV_WARNING, (loc), __VA_ARGS__)
#define diag_note(d, loc, ...) diag_add((d), SEV_NOTE, (loc), __VA_ARGS__)
bool diag_too_many(const struct diags *d);

/* Prints every diagnostic as FILE:LINE:COL: error: MSG, the source line and a caret. */
void diag_print(const struct diags *d, FILE *out);
void diag_free(struct diags *d);
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
