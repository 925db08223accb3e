/* Policy files and their includes: depth-limited, cycle-checked, every error located. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "load.h"

struct include_frame {
	const struct include_frame *parent;
	char *real;              /* realpath of the file, for cycle detection */
	const struct source *src;
};

static const char *file_kind(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

char *load_read_bounded(int fd, size_t max, size_t *len, char **why)
{
	struct strbuf sb = {0};
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*why = xstrdup(strerror(errno));
			sb_free(&sb);
			return NULL;
		}
		if (n == 0)
			break;
		if (sb.len + (size_t)n > max) {
			*why = xasprintf("larger than %zu MiB (the limit for one file)", max >> 20);
			sb_free(&sb);
			return NULL;
		}
		sb_putmem(&sb, buf, (size_t)n);
	}
	*len = sb.len;
	if (!sb.s)
		return xstrdup("");
	return sb_steal(&sb);
}

char *load_read_file(const char *path, size_t *len, char **why)
{
	/* O_NONBLOCK: opening a FIFO with no writer must not wait; the type is checked first. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		*why = xstrdup(strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		*why = xstrdup(strerror(errno));
		close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = xasprintf("%s, not a regular file", file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	if ((uintmax_t)st.st_size > LOAD_MAX_FILE) {
		*why = xasprintf("larger than %d MiB (the limit for one file)", LOAD_MAX_FILE >> 20);
		close(fd);
		return NULL;
	}
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	char *text = load_read_bounded(fd, LOAD_MAX_FILE, len, why);
	close(fd);
	return text;
}

static size_t total_bytes(const struct sources *srcs, size_t first)
{
	size_t t = 0;
	for (size_t i = first; i < srcs->n; i++)
		t += srcs->v[i]->len;
	return t;
}

static struct source *read_source(const char *path, struct sources *srcs, size_t first_src,
				  struct diags *d, const struct loc *from)
{
	size_t len;
	char *why = NULL;
	char *text = load_read_file(path, &len, &why);
	if (text && total_bytes(srcs, first_src) + len > LOAD_MAX_TOTAL) {
		free(text);
		text = NULL;
		why = xasprintf("the policy and its includes would exceed %d MiB together",
				LOAD_MAX_TOTAL >> 20);
	}
	if (!text) {
		diag_error(d, from, "cannot read '%s': %s", path, why);
		free(why);
		return NULL;
	}
	return sources_add(srcs, path, text, len);
}

/* A NUL or a control byte other than white space means this is not a policy at all: one
 * error at the first such byte beats a screenful of "unexpected byte". */
bool load_source_is_text(const struct source *src, struct diags *d)
{
	/* The control characters a text file has none of, one look-up a byte; where the first
	 * one is only once there is one. */
	static const bool bad[256] = {
		[0] = true, [1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [6] = true,
		[7] = true, [8] = true, [14] = true, [15] = true, [16] = true, [17] = true,
		[18] = true, [19] = true, [20] = true, [21] = true, [22] = true, [23] = true,
		[24] = true, [25] = true, [26] = true, [27] = true, [28] = true, [29] = true,
		[30] = true, [31] = true,
	};
	const unsigned char *t = (const unsigned char *)src->text;
	size_t i = 0;
	while (i < src->len && !bad[t[i]])
		i++;
	if (i == src->len)
		return true;
	int line = 1, col = 1;
	for (size_t k = 0; k < i; k++) {
		if (t[k] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	struct loc at = {.src = src, .first_line = line, .first_column = col,
			 .last_line = line, .last_column = col};
	diag_error(d, &at, "not a text file: byte 0x%02x", t[i]);
	return false;
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
	for (size_t i = 0; ip && i < ip->n && access(p, F_OK) != 0; i++) {
		char *q = xasprintf("%s/%s", ip->dirs[i], name);
		if (access(q, F_OK) == 0) {
			free(p);
			return q;
		}
		free(q);
	}
	return p; /* found next to the including file, or named there in the error */
}

struct load_ctx {
	struct sources *srcs;
	size_t first_src; /* the policy's first source: what the total size counts from */
	struct ast_policy *out;
	struct diags *d;
	const struct incpath *ip;
};

static bool load_file(struct load_ctx *lc, const char *path, const struct loc *from,
		      const struct include_frame *parent, int depth);

/* Parses one loaded source and, in its place, the files it includes. */
static bool load_source(struct load_ctx *lc, const struct source *src, char *real,
			const struct include_frame *parent, int depth)
{
	if (!load_source_is_text(src, lc->d))
		return false;
	struct include_frame frame = {.parent = parent, .real = real, .src = src};
	struct ast_policy local = {0};
	bool ok = parse_source(src, &local, lc->d);
	for (size_t i = 0; i < local.stmts.n; i++) {
		struct ast_stmt *s = local.stmts.v[i];
		if (s->kind != STMT_INCLUDE || !ok) {
			VEC_PUSH(lc->out->stmts, s);
			continue;
		}
		char *inc = include_path(src, s->u.include.text, lc->ip);
		if (!load_file(lc, inc, &s->u.include.loc, &frame, depth + 1))
			ok = false;
		free(inc);
		ast_stmt_free(s);
	}
	VEC_FREE(local.stmts);
	return ok;
}

static bool load_file(struct load_ctx *lc, const char *path, const struct loc *from,
		      const struct include_frame *parent, int depth)
{
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		diag_error(lc->d, from, "cannot read '%s': %s", path, strerror(errno));
		return false;
	}
	for (const struct include_frame *f = parent; f; f = f->parent) {
		if (f->real && strcmp(f->real, real) == 0) {
			diag_error(lc->d, from, "include cycle: '%s' is already being read", path);
			return false;
		}
	}
	if (depth > MAX_INCLUDE_DEPTH) {
		diag_error(lc->d, from, "includes nested deeper than %d", MAX_INCLUDE_DEPTH);
		return false;
	}
	struct source *src = read_source(path, lc->srcs, lc->first_src, lc->d, from);
	if (!src)
		return false;
	return load_source(lc, src, real, parent, depth);
}

bool load_policy(const char *path, struct sources *srcs, struct ast_policy *out, struct diags *d)
{
	return load_policy_in(path, NULL, 0, srcs, out, d);
}

bool load_policy_in(const char *path, const char *const *incdirs, size_t nincdirs,
		    struct sources *srcs, struct ast_policy *out, struct diags *d)
{
	struct incpath ip = {.dirs = incdirs, .n = nincdirs};
	struct load_ctx lc = {.srcs = srcs, .first_src = srcs->n, .out = out, .d = d, .ip = &ip};
	return load_file(&lc, path, NULL, NULL, 0);
}

bool load_policy_text(const char *name, const char *text, size_t len, struct sources *srcs,
		      struct ast_policy *out, struct diags *d)
{
	struct load_ctx lc = {.srcs = srcs, .first_src = srcs->n, .out = out, .d = d};
	if (len > LOAD_MAX_FILE) {
		diag_error(d, NULL, "cannot read '%s': larger than %d MiB (the limit for one file)",
			   name, LOAD_MAX_FILE >> 20);
		return false;
	}
	char *copy = xmalloc(len + 1);
	memcpy(copy, text, len);
	copy[len] = '\0';
	const struct source *src = sources_add(srcs, name, copy, len);
	return load_source(&lc, src, NULL, NULL, 0);
}
