/* Policy files and their includes: depth-limited, cycle-checked, every error located. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

struct include_frame {
	const struct include_frame *parent;
	char *real;              /* realpath of the file, for cycle detection */
	const struct source *src;
};

static struct source *read_source(const char *path, struct sources *srcs, struct diags *d,
				  const struct loc *from)
{
	size_t len;
	char *text = util_read_file(path, &len);
	if (!text) {
		if (from)
			diag_error(d, from, "cannot read '%s': %s", path, strerror(errno));
		else
			diag_error(d, NULL, "cannot read '%s': %s", path, strerror(errno));
		return NULL;
	}
	return sources_add(srcs, path, text, len);
}

/* A NUL or a control byte other than white space means this is not a policy at all: one
 * error at the first such byte beats a screenful of "unexpected byte". */
bool load_source_is_text(const struct source *src, struct diags *d)
{
	int line = 1, col = 1;
	for (size_t i = 0; i < src->len; i++) {
		unsigned char c = (unsigned char)src->text[i];
		if (c == '\n') {
			line++;
			col = 1;
			continue;
		}
		if (c < 0x20 && c != '\t' && c != '\r' && c != '\f' && c != '\v') {
			struct loc at = {.src = src, .first_line = line, .first_column = col,
					 .last_line = line, .last_column = col};
			diag_error(d, &at, "not a text file: byte 0x%02x", c);
			return false;
		}
		col++;
	}
	return true;
}

/* -I: where includes not found next to the including file are looked for, in order. */
struct incpath {
	const char *const *dirs;
	size_t n;
};

static char *include_path(const struct source *including, const char *name, const struct incpath *ip)
{
	if (name[0] == '/')
		return xstrdup(name);
	char *copy = xstrdup(including->name);
	char *dir = dirname(copy);
	char *p = strcmp(dir, ".") == 0 ? xstrdup(name) : xasprintf("%s/%s", dir, name);
	free(copy);
	for (size_t i = 0; i < ip->n && access(p, F_OK) != 0; i++) {
		char *q = xasprintf("%s/%s", ip->dirs[i], name);
		if (access(q, F_OK) == 0) {
			free(p);
			return q;
		}
		free(q);
	}
	return p; /* found next to the including file, or named there in the error */
}

static bool load_file(const char *path, const struct loc *from, const struct include_frame *parent,
		      int depth, const struct incpath *ip, struct sources *srcs, struct ast_policy *out,
		      struct diags *d)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		if (from)
			diag_error(d, from, "cannot read '%s': %s", path, strerror(errno));
		else
			diag_error(d, NULL, "cannot read '%s': %s", path, strerror(errno));
		return false;
	}
	for (const struct include_frame *f = parent; f; f = f->parent) {
		if (strcmp(f->real, real) == 0) {
			diag_error(d, from, "include cycle: '%s' is already being read", path);
			return false;
		}
	}
	if (depth > MAX_INCLUDE_DEPTH) {
		diag_error(d, from, "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
		return false;
	}
	struct source *src = read_source(path, srcs, d, from);
	if (!src)
		return false;
	if (!load_source_is_text(src, d))
		return false;
	struct include_frame frame = {.parent = parent, .real = real, .src = src};
	struct ast_policy local = {0};
	bool ok = parse_source(src, &local, d);
	for (size_t i = 0; i < local.stmts.n; i++) {
		struct ast_stmt *s = local.stmts.v[i];
		if (s->kind != STMT_INCLUDE || !ok) {
			VEC_PUSH(out->stmts, s);
			continue;
		}
		char *inc = include_path(src, s->u.include.text, ip);
		if (!load_file(inc, &s->u.include.loc, &frame, depth + 1, ip, srcs, out, d))
			ok = false;
		free(inc);
		ast_stmt_free(s);
	}
	VEC_FREE(local.stmts);
	return ok;
}

bool load_policy(const char *path, struct sources *srcs, struct ast_policy *out, struct diags *d)
{
	return load_policy_in(path, NULL, 0, srcs, out, d);
}

bool load_policy_in(const char *path, const char *const *incdirs, size_t nincdirs,
		    struct sources *srcs, struct ast_policy *out, struct diags *d)
{
	struct incpath ip = {.dirs = incdirs, .n = nincdirs};
	return load_file(path, NULL, NULL, 0, &ip, srcs, out, d);
}
