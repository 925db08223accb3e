#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void oom(void)
{
	fputs("pinhole: out of memory\n", stderr);
	exit(3);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_steal(&sb);
}

static void sb_grow(struct strbuf *sb, size_t extra)
{
	if (sb->len + extra + 1 <= sb->cap)
		return;
	size_t cap = sb->cap ? sb->cap : 64;
	while (cap < sb->len + extra + 1)
		cap *= 2;
	sb->s = xrealloc(sb->s, cap);
	sb->cap = cap;
}

void sb_putc(struct strbuf *sb, char c)
{
	sb_grow(sb, 1);
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
}

void sb_putmem(struct strbuf *sb, const void *p, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->s + sb->len, p, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

void sb_puts(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);
	sb_grow(sb, n);
	memcpy(sb->s + sb->len, s, n + 1);
	sb->len += n;
}

void sb_putu(struct strbuf *sb, unsigned long v)
{
	char buf[24];
	size_t i = sizeof(buf);
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_putmem(sb, buf + i, sizeof(buf) - i);
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	/* One vsnprintf into the room there is (most texts are short); a second only when it
	 * did not fit. */
	sb_grow(sb, 63);
	va_list ap2;
	va_copy(ap2, ap);
	size_t room = sb->cap - sb->len;
	int n = vsnprintf(sb->s + sb->len, room, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		sb->s[sb->len] = '\0';
		return;
	}
	if ((size_t)n >= room) {
		sb_grow(sb, (size_t)n);
		vsnprintf(sb->s + sb->len, (size_t)n + 1, fmt, ap);
	}
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void sb_spill(struct strbuf *sb)
{
	if (!sb->spill || sb->len < 16384)
		return;
	fwrite(sb->s, 1, sb->len, sb->spill);
	sb->len = 0;
	sb->s[0] = '\0';
}

char *sb_steal(struct strbuf *sb)
{
	char *s = sb->s ? sb->s : xstrdup("");
	if (sb->s && sb->cap > sb->len + 1 + 32) /* kept texts keep no slack */
		s = xrealloc(s, sb->len + 1);
	sb->s = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void sb_free(struct strbuf *sb)
{
	free(sb->s);
	sb->s = NULL;
	sb->len = sb->cap = 0;
}

void util_quote_safe(char *s)
{
	/* one table look-up a character (every rule's comment passes here); the NUL stops */
	static const bool stop[256] = {
		[0] = true, [1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [6] = true,
		[7] = true, [8] = true, [9] = true, [10] = true, [11] = true, [12] = true,
		[13] = true, [14] = true, [15] = true, [16] = true, [17] = true, [18] = true,
		[19] = true, [20] = true, [21] = true, [22] = true, [23] = true, [24] = true,
		[25] = true, [26] = true, [27] = true, [28] = true, [29] = true, [30] = true,
		[31] = true, ['"'] = true, ['\\'] = true, [0x7f] = true,
	};
	for (unsigned char *p = (unsigned char *)s;; p++) {
		while (!stop[*p])
			p++;
		if (!*p)
			return;
		*p = '\'';
	}
}

size_t util_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *row = xmalloc((lb + 1) * sizeof(*row));
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	size_t d = row[lb];
	free(row);
	return d;
}

char *util_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct strbuf sb = {0};
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		sb_grow(&sb, n);
		memcpy(sb.s + sb.len, buf, n);
		sb.len += n;
		sb.s[sb.len] = '\0';
	}
	int err = ferror(f) ? errno : 0;
	fclose(f);
	if (err) {
		sb_free(&sb);
		errno = err;
		return NULL;
	}
	*len = sb.len;
	return sb_steal(&sb);
}

char *util_path_clean(const char *path)
{
	char *out = xmalloc(strlen(path) + 1);
	size_t n = 0;
	const char *p = path;
	while (p[0] == '.' && p[1] == '/') {
		p += 2;
		while (*p == '/')
			p++;
	}
	while (*p) {
		if (*p == '/' && n && out[n - 1] == '/') {
			p++;
			continue;
		}
		if (*p == '.' && p[1] == '/' && n && out[n - 1] == '/') {
			p += 2;
			continue;
		}
		out[n++] = *p++;
	}
	if (!n && *path)
		out[n++] = '.';
	out[n] = 0;
	return out;
}

bool util_str_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

void sb_put_ident(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		char c = *s;
		sb_putc(sb, (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c : '_');
	}
}
