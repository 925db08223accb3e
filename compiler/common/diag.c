#include "diag.h"
#include "util.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Longest stretch of a source line quoted under a diagnostic: long lines are cut around the column. */
#define QUOTE_WIDTH 100

void diag_add(struct diags *d, enum severity sev, const struct loc *loc, const char *fmt, ...)
{
	struct diag item = {.sev = sev};
	if (loc)
		item.loc = *loc;
	struct strbuf sb = {0};
	va_list ap;
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	item.msg = sb_steal(&sb);
	VEC_PUSH(*d, item);
	if (sev == SEV_ERROR)
		d->errors++;
	else if (sev == SEV_WARNING)
		d->warnings++;
}

bool diag_too_many(const struct diags *d)
{
	return d->errors >= MAX_ERRORS;
}

static const char *sev_name(enum severity s)
{
	switch (s) {
	case SEV_ERROR: return "error";
	case SEV_WARNING: return "warning";
	case SEV_NOTE: return "note";
	}
	return "error";
}

/* Finds line `line` (1-based) of src; returns its start and sets *len. */
static const char *find_line(const struct source *src, int line, size_t *len)
{
	const char *p = src->text, *end = src->text + src->len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p > end)
		return NULL;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*len = (size_t)((nl ? nl : end) - p);
	return p;
}

/* Control bytes and non-ASCII are shown as '?' so junk input cannot garble the terminal. */
void diag_caret(FILE *out, const char *indent, const char *line, size_t len, int column, int width)
{
	size_t col = column > 0 ? (size_t)column - 1 : 0;
	size_t w = width > 0 ? (size_t)width : 1;
	size_t start = 0;
	if (col > QUOTE_WIDTH / 2 && len > QUOTE_WIDTH)
		start = col - QUOTE_WIDTH / 2;
	size_t stop = len < start + QUOTE_WIDTH ? len : start + QUOTE_WIDTH;
	fputs(indent, out);
	fputs(start ? "..." : "", out);
	for (size_t i = start; i < stop; i++) {
		unsigned char c = (unsigned char)line[i];
		fputc(c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : c, out);
	}
	fputs(stop < len ? "...\n" : "\n", out);
	fputs(indent, out);
	size_t pad = (start ? 3 : 0) + (col >= start ? col - start : 0);
	for (size_t i = 0; i < pad; i++)
		fputc(' ', out);
	fputc('^', out);
	if (w > QUOTE_WIDTH)
		w = QUOTE_WIDTH;
	for (size_t i = 1; i < w && col + i < stop; i++)
		fputc('~', out);
	fputc('\n', out);
}

static void quote_line(FILE *out, const struct loc *loc)
{
	size_t len;
	const char *line = find_line(loc->src, loc->first_line, &len);
	if (!line)
		return;
	int width = 1;
	if (loc->last_line == loc->first_line && loc->last_column >= loc->first_column)
		width = loc->last_column - loc->first_column + 1;
	diag_caret(out, "", line, len, loc->first_column, width);
}

void diag_print(const struct diags *d, FILE *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		if (g->loc.src) {
			fprintf(out, "%s:%d:%d: %s: %s\n", g->loc.src->name, g->loc.first_line,
				g->loc.first_column, sev_name(g->sev), g->msg);
			quote_line(out, &g->loc);
		} else {
			fprintf(out, "pinhole: %s: %s\n", sev_name(g->sev), g->msg);
		}
	}
}

void diag_free(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

struct source *sources_add(struct sources *s, const char *name, char *text, size_t len)
{
	struct source *src = xcalloc(1, sizeof(*src));
	src->name = xstrdup(name);
	src->text = text;
	src->len = len;
	VEC_PUSH(*s, src);
	return src;
}

void sources_free(struct sources *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i]->name);
		free(s->v[i]->text);
		free(s->v[i]);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
