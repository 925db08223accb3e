/* The strict XML subset of import_xml.h: a recursive reader bounded in depth and size. */
#include <string.h>
#include <strings.h>

#include "import.h"
#include "import_xml.h"

struct xr {
	const struct source *src;
	const char *p, *end;
	int line, col;
	struct diags *d;
	size_t elements;
};

static int peek(const struct xr *x)
{
	return x->p < x->end ? (unsigned char)*x->p : -1;
}

static bool at(const struct xr *x, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(x->end - x->p) >= n && !memcmp(x->p, s, n);
}

static void adv(struct xr *x)
{
	if (x->p >= x->end)
		return;
	/* Columns count bytes, as the policy scanner's do. */
	if (*x->p == '\n') {
		x->line++;
		x->col = 1;
	} else {
		x->col++;
	}
	x->p++;
}

static void advn(struct xr *x, size_t n)
{
	while (n--)
		adv(x);
}

static struct loc here(const struct xr *x, int len)
{
	return import_loc(x->src, x->line, x->col, len);
}

static bool fail(struct xr *x, int len, const char *msg)
{
	struct loc l = here(x, len);
	diag_error(x->d, &l, "%s", msg);
	return false;
}

static bool is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void skip_ws(struct xr *x)
{
	while (is_ws(peek(x)))
		adv(x);
}

static bool name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':';
}

static bool name_char(int c)
{
	return name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static char *read_name(struct xr *x)
{
	const char *b = x->p;
	if (!name_start(peek(x)))
		return NULL;
	while (name_char(peek(x)))
		adv(x);
	return xstrndup(b, (size_t)(x->p - b));
}

static void put_utf8(struct strbuf *sb, unsigned long c)
{
	if (c < 0x80) {
		sb_putc(sb, (char)c);
	} else if (c < 0x800) {
		sb_putc(sb, (char)(0xc0 | (c >> 6)));
		sb_putc(sb, (char)(0x80 | (c & 0x3f)));
	} else if (c < 0x10000) {
		sb_putc(sb, (char)(0xe0 | (c >> 12)));
		sb_putc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		sb_putc(sb, (char)(0x80 | (c & 0x3f)));
	} else {
		sb_putc(sb, (char)(0xf0 | (c >> 18)));
		sb_putc(sb, (char)(0x80 | ((c >> 12) & 0x3f)));
		sb_putc(sb, (char)(0x80 | ((c >> 6) & 0x3f)));
		sb_putc(sb, (char)(0x80 | (c & 0x3f)));
	}
}

/* An entity or character reference at '&', appended to sb. */
static bool reference(struct xr *x, struct strbuf *sb)
{
	static const struct { const char *name; char c; } named[] = {
		{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
	for (size_t i = 0; i < 5; i++)
		if (at(x, named[i].name)) {
			sb_putc(sb, named[i].c);
			advn(x, strlen(named[i].name));
			return true;
		}
	if (at(x, "&#")) {
		const char *q = x->p + 2;
		bool hex = q < x->end && *q == 'x';
		q += hex;
		unsigned long c = 0;
		size_t digits = 0;
		for (; q < x->end && *q != ';' && digits < 8; q++, digits++) {
			int v = *q >= '0' && *q <= '9' ? *q - '0'
				: hex && *q >= 'a' && *q <= 'f' ? *q - 'a' + 10
				: hex && *q >= 'A' && *q <= 'F' ? *q - 'A' + 10 : -1;
			if (v < 0)
				break;
			c = c * (hex ? 16 : 10) + (unsigned long)v;
		}
		bool ok = digits && q < x->end && *q == ';' && c <= 0x10ffff &&
			  !(c >= 0xd800 && c <= 0xdfff) && (c >= 0x20 || c == '\t' || c == '\n' || c == '\r');
		if (!ok)
			return fail(x, 2, "a character reference is &#N; or &#xH; for a character XML allows");
		put_utf8(sb, c);
		advn(x, (size_t)(q - x->p) + 1);
		return true;
	}
	return fail(x, 1, "unknown entity: this reader takes &lt; &gt; &amp; &quot; &apos; and "
		    "character references (&#N;); no DTD");
}

static bool comment(struct xr *x)
{
	struct loc start = here(x, 4);
	advn(x, 4);
	while (!at(x, "--")) {
		if (peek(x) == -1) {
			diag_error(x->d, &start, "this comment has no end ('-->')");
			return false;
		}
		adv(x);
	}
	if (!at(x, "-->"))
		return fail(x, 2, "'--' inside a comment");
	advn(x, 3);
	return true;
}

/* The things allowed around the root element: white space and comments. */
static bool misc(struct xr *x)
{
	for (;;) {
		skip_ws(x);
		if (at(x, "<!--")) {
			if (!comment(x))
				return false;
		} else if (at(x, "<!DOCTYPE") || at(x, "<!doctype")) {
			return fail(x, 9, "a DTD (<!DOCTYPE) is outside the XML this reader takes");
		} else if (at(x, "<?")) {
			return fail(x, 2, "a processing instruction is outside the XML this reader takes "
				    "(only the XML declaration, first)");
		} else {
			return true;
		}
	}
}

static bool attr_value(struct xr *x, struct strbuf *sb)
{
	int q = peek(x);
	if (q != '"' && q != '\'')
		return fail(x, 1, "an attribute value is quoted: name=\"value\"");
	struct loc start = here(x, 1);
	adv(x);
	while (peek(x) != q) {
		int c = peek(x);
		if (c == -1) {
			diag_error(x->d, &start, "this attribute value has no closing quote");
			return false;
		}
		if (c == '<')
			return fail(x, 1, "'<' inside an attribute value (write &lt;)");
		if (c == '&') {
			if (!reference(x, sb))
				return false;
			continue;
		}
		sb_putc(sb, is_ws(c) ? ' ' : (char)c); /* attribute values normalise white space */
		adv(x);
	}
	adv(x);
	if (!sb->s)
		sb_puts(sb, "");
	return true;
}

static bool element(struct xr *x, struct xml_node **out, int depth);

static bool content(struct xr *x, struct xml_node *n, int depth)
{
	for (;;) {
		int c = peek(x);
		if (c == -1) {
			diag_error(x->d, &n->loc, "<%s> is never closed (</%s>)", n->name, n->name);
			return false;
		}
		if (at(x, "</"))
			return true;
		if (at(x, "<!--")) {
			if (!comment(x))
				return false;
			continue;
		}
		if (at(x, "<![CDATA[")) {
			advn(x, 9);
			while (!at(x, "]]>")) {
				if (peek(x) == -1)
					return fail(x, 1, "a CDATA section has no end (']]>')");
				if (!n->has_text && !is_ws(peek(x))) {
					n->has_text = true;
					n->text_loc = here(x, 1);
				}
				sb_putc(&n->text, (char)peek(x));
				adv(x);
			}
			advn(x, 3);
			continue;
		}
		if (at(x, "<!") || at(x, "<?"))
			return fail(x, 2, "markup outside the XML this reader takes (elements, comments, "
				    "CDATA)");
		if (c == '<') {
			struct xml_node *k;
			if (!element(x, &k, depth + 1)) {
				xml_free(k);
				return false;
			}
			VEC_PUSH(n->kids, k);
			continue;
		}
		if (!n->has_text && !is_ws(c)) {
			n->has_text = true;
			n->text_loc = here(x, 1);
		}
		if (c == '&') {
			if (!reference(x, &n->text))
				return false;
			continue;
		}
		sb_putc(&n->text, (char)c);
		adv(x);
	}
}

static bool element(struct xr *x, struct xml_node **out, int depth)
{
	*out = NULL;
	if (depth > XML_MAX_DEPTH)
		return fail(x, 1, "elements nest deeper than this reader takes (8 levels)");
	if (++x->elements > XML_MAX_ELEMENTS)
		return fail(x, 1, "more than 4096 elements: larger than any service file");
	adv(x); /* '<' */
	struct xml_node *n = xcalloc(1, sizeof(*n));
	*out = n;
	int line = x->line, col = x->col;
	n->name = read_name(x);
	if (!n->name)
		return fail(x, 1, "expected an element name after '<'");
	n->loc = import_loc(x->src, line, col, (int)strlen(n->name));
	for (;;) {
		bool ws = is_ws(peek(x));
		skip_ws(x);
		if (at(x, "/>")) {
			advn(x, 2);
			return true;
		}
		if (peek(x) == '>') {
			adv(x);
			break;
		}
		if (!ws)
			return fail(x, 1, "expected white space, an attribute, '>' or '/>'");
		int aline = x->line, acol = x->col;
		char *an = read_name(x);
		if (!an)
			return fail(x, 1, "expected an attribute name, '>' or '/>'");
		struct xml_attr a = {.name = an, .loc = import_loc(x->src, aline, acol, (int)strlen(an))};
		VEC_PUSH(n->attrs, a);
		if (n->attrs.n > XML_MAX_ATTRS)
			return fail(x, 1, "more than 16 attributes on one element");
		for (size_t i = 0; i + 1 < n->attrs.n; i++)
			if (!strcmp(n->attrs.v[i].name, an)) {
				diag_error(x->d, &n->attrs.v[n->attrs.n - 1].loc, "attribute '%s' given twice", an);
				return false;
			}
		skip_ws(x);
		if (peek(x) != '=')
			return fail(x, 1, "expected '=' after the attribute name");
		adv(x);
		skip_ws(x);
		struct strbuf v = {0};
		int vline = x->line, vcol = x->col + 1;
		bool ok = attr_value(x, &v);
		n->attrs.v[n->attrs.n - 1].vloc = import_loc(x->src, vline, vcol,
			x->line == vline && x->col - vcol > 1 ? x->col - vcol - 1 : 1);
		n->attrs.v[n->attrs.n - 1].value = sb_steal(&v);
		if (!ok)
			return false;
	}
	if (!content(x, n, depth))
		return false;
	advn(x, 2); /* "</" */
	int cline = x->line, ccol = x->col;
	char *close = read_name(x);
	bool same = close && !strcmp(close, n->name);
	if (!same) {
		struct loc l = import_loc(x->src, cline, ccol, close ? (int)strlen(close) : 1);
		diag_error(x->d, &l, "expected </%s> to close <%s> of line %d", n->name, n->name,
			   n->loc.first_line);
		free(close);
		return false;
	}
	free(close);
	skip_ws(x);
	if (peek(x) != '>')
		return fail(x, 1, "expected '>'");
	adv(x);
	return true;
}

/* The XML declaration: version 1.0, and UTF-8 (or ASCII) if an encoding is named. */
static bool declaration(struct xr *x)
{
	if (!at(x, "<?xml") || !(x->p + 5 < x->end && is_ws((unsigned char)x->p[5])))
		return true;
	struct loc start = here(x, 5);
	const char *b = x->p;
	while (!at(x, "?>")) {
		if (peek(x) == -1) {
			diag_error(x->d, &start, "the XML declaration has no end ('?>')");
			return false;
		}
		adv(x);
	}
	char *decl = xstrndup(b, (size_t)(x->p - b));
	advn(x, 2);
	const char *enc = strstr(decl, "encoding");
	bool ok = true;
	if (enc) {
		enc += 8;
		while (*enc == ' ' || *enc == '=' || *enc == '"' || *enc == '\'')
			enc++;
		ok = !strncasecmp(enc, "utf-8", 5) || !strncasecmp(enc, "us-ascii", 8);
	}
	free(decl);
	if (!ok)
		diag_error(x->d, &start, "the document is not UTF-8; this reader takes UTF-8 only");
	return ok;
}

struct xml_node *xml_parse(const struct source *src, struct diags *d)
{
	struct xr x = {.src = src, .p = src->text, .end = src->text + src->len, .line = 1, .col = 1, .d = d};
	if (at(&x, "\xef\xbb\xbf"))
		x.p += 3; /* a UTF-8 byte order mark */
	if (!declaration(&x) || !misc(&x))
		return NULL;
	if (peek(&x) != '<') {
		fail(&x, 1, peek(&x) == -1 ? "no root element: the file is empty"
					   : "expected the root element (<service>)");
		return NULL;
	}
	struct xml_node *root;
	if (!element(&x, &root, 1)) {
		xml_free(root);
		return NULL;
	}
	if (!misc(&x) || peek(&x) != -1) {
		if (peek(&x) != -1)
			fail(&x, 1, "text after the root element");
		xml_free(root);
		return NULL;
	}
	return root;
}

void xml_free(struct xml_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->attrs.n; i++) {
		free(n->attrs.v[i].name);
		free(n->attrs.v[i].value);
	}
	VEC_FREE(n->attrs);
	for (size_t i = 0; i < n->kids.n; i++)
		xml_free(n->kids.v[i]);
	VEC_FREE(n->kids);
	sb_free(&n->text);
	free(n->name);
	free(n);
}

const struct xml_attr *xml_attr(const struct xml_node *n, const char *name)
{
	for (size_t i = 0; i < n->attrs.n; i++)
		if (!strcmp(n->attrs.v[i].name, name))
			return &n->attrs.v[i];
	return NULL;
}
