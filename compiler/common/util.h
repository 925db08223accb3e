/* Small allocation, string and growable-array helpers used everywhere. */
#ifndef PINHOLE_UTIL_H
#define PINHOLE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable array of elements of one type: VEC(T) declares {T *v; size_t n, cap;}. */
#define VEC(T) struct { T *v; size_t n, cap; }
/* The first allocation holds about 64 bytes of items, and at least one: most vectors (a
 * rule's matches, a flow's ports, an app literal's one flow) stay small, and a policy has
 * tens of thousands of them, so starting at 8 items of a big struct cost kilobytes an entry. */
#define VEC_FIRST_CAP(vec) (sizeof(*(vec).v) >= 64 ? 1 : 64 / sizeof(*(vec).v))
#define VEC_PUSH(vec, item)                                                     \
	do {                                                                    \
		if ((vec).n == (vec).cap) {                                     \
			(vec).cap = (vec).cap ? (vec).cap * 2 : VEC_FIRST_CAP(vec); \
			(vec).v = xrealloc((vec).v, (vec).cap * sizeof(*(vec).v)); \
		}                                                               \
		(vec).v[(vec).n++] = (item);                                    \
	} while (0)
#define VEC_FREE(vec) do { free((vec).v); (vec).v = NULL; (vec).n = (vec).cap = 0; } while (0)

/* A string builder that grows as needed; always NUL-terminated. */
struct strbuf {
	char *s;
	size_t len, cap;
	FILE *spill; /* if set, sb_spill() writes what is there to it: long texts stream out */
};
/* With sb->spill set and more than a few kilobytes held: write them out and start over, so a
 * ruleset of 50,000 set elements is never one string in memory. */
void sb_spill(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
/* n bytes (NULs too), keeping the buffer NUL-terminated. */
void sb_putmem(struct strbuf *sb, const void *p, size_t n);
/* A number in decimal, as "%lu" would write it (without printf: once per element of a set). */
void sb_putu(struct strbuf *sb, unsigned long v);
void sb_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
char *sb_steal(struct strbuf *sb);
void sb_free(struct strbuf *sb);

/* Replaces what cannot stand inside a double-quoted nft or iptables string (quotes,
 * backslashes, control bytes, DEL) with an apostrophe, in place. */
/* Both NULL, or the same text. */
bool util_str_equal(const char *a, const char *b);
/* Appends `s` with every character but ASCII letters and digits as '_': an identifier nft and
 * iptables take as a name. */
void sb_put_ident(struct strbuf *sb, const char *s);
void util_quote_safe(char *s);

/* Edit distance, for "did you mean". */
size_t util_edit_distance(const char *a, const char *b);

/* A path as pinhole reports it, however it was typed: every leading "./" dropped, "//" and
 * "/./" collapsed ("./a//b/./c.pin" -> "a/b/c.pin"; "." alone stays). A new string. */
char *util_path_clean(const char *path);

/* Read a whole file; returns NULL with errno set on failure. */
char *util_read_file(const char *path, size_t *len);

#endif
