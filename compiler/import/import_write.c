/* Imported apps as pinhole text: identifiers for their names, bundles checked, then each app
 * written with the file and line every flow comes from. */
#include <string.h>

#include "import.h"

/* Words the policy scanner always takes as keywords: never an app name (docs/language.md). */
static const char *const keywords[] = {
	"allow", "deny", "reject", "client", "server", "from", "to", "define", "established",
	"only", "log", "unmatched", "include", "zone", "interface", "address", "app", "alias",
	"uses", "source", "flow", "any", "masquerade", "snat", "forward", "port", "as", "hairpin",
	"family", "negotiated", "default", "except", "on", "limit", "burst", "per", "level", "group",
};

static bool is_keyword(const char *s)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcmp(keywords[i], s))
			return true;
	return false;
}

/* A pinhole identifier close to `orig`: lower case; letters, digits, '_', '-' and '.'; any
 * other run of characters one '-'; starting with a letter or '_' and ending with neither '-'
 * nor '.' ("MSN SSL" -> "msn-ssl", "0-AD" -> "_0-ad"). */
static char *identifier(const char *orig)
{
	struct strbuf sb = {0};
	for (const unsigned char *p = (const unsigned char *)orig; *p; p++) {
		int c = *p;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok)
			c = '-';
		if (c == '-' && (sb.len == 0 || sb.s[sb.len - 1] == '-'))
			continue;
		sb_putc(&sb, (char)c);
	}
	while (sb.len && (sb.s[sb.len - 1] == '-' || sb.s[sb.len - 1] == '.'))
		sb.s[--sb.len] = '\0';
	char *s = sb_steal(&sb);
	if (!s || !*s) {
		free(s);
		return xstrdup("imported");
	}
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_')) {
		char *t = xasprintf("_%s", s);
		free(s);
		s = t;
	}
	return s;
}

static struct imp_app *find_named(const struct imp_set *set, size_t upto, const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (set->apps.v[i]->name && !strcmp(set->apps.v[i]->name, name))
			return set->apps.v[i];
	return NULL;
}

static void name_apps(struct imp_set *set, const struct library *lib, struct diags *d)
{
	for (size_t i = 0; i < set->apps.n; i++) {
		struct imp_app *a = set->apps.v[i];
		char *base = identifier(a->orig);
		if (is_keyword(base)) {
			char *t = xasprintf("%s-app", base);
			diag_note(d, &a->loc, "'%s' is a keyword of the policy language; the app is named '%s'",
				  base, t);
			free(base);
			base = t;
		}
		char *name = xstrdup(base);
		for (unsigned k = 2; find_named(set, i, name); k++) {
			free(name);
			name = xasprintf("%s-%u", base, k);
		}
		if (strcmp(name, base)) {
			const struct imp_app *first = find_named(set, i, base);
			diag_note(d, &a->loc, "'%s' and '%s' (%s:%d) both make the app name '%s'; this one is "
				  "named '%s'", a->orig, first->orig, first->loc.src ? first->loc.src->name : "?",
				  first->loc.first_line, base, name);
		}
		free(base);
		a->name = name;
		const struct ast_app *l = lib ? library_find(lib, name) : NULL;
		if (l)
			diag_note(d, &a->loc, "app '%s' is also the library's app '%s' (%s:%d): where this "
				  "definition is used it replaces the library's (pinhole apps %s shows that one)",
				  name, l->name, l->loc.src ? l->loc.src->name : "?", l->loc.first_line, l->name);
	}
}

static struct imp_app *find_orig(const struct imp_set *set, const char *orig)
{
	for (size_t i = 0; i < set->apps.n; i++)
		if (!strcmp(set->apps.v[i]->orig, orig))
			return set->apps.v[i];
	return NULL;
}

static void bind_uses(struct imp_set *set, const struct library *lib, struct diags *d)
{
	for (size_t i = 0; i < set->apps.n; i++) {
		struct imp_app *a = set->apps.v[i];
		for (size_t j = 0; j < a->uses.n; j++) {
			struct imp_use *u = &a->uses.v[j];
			u->app = find_orig(set, u->name);
			if (u->app) {
				u->resolved = u->app->name;
				continue;
			}
			char *id = identifier(u->name);
			const struct ast_app *l = lib ? library_find(lib, id) : NULL;
			free(id);
			if (l) {
				u->resolved = l->name;
				diag_note(d, &u->loc, "service '%s' is not among the files imported: '%s' uses the "
					  "library's app '%s' (%s:%d) instead; import its file too to keep its "
					  "ports", u->name, a->name, l->name, l->loc.src ? l->loc.src->name : "?",
					  l->loc.first_line);
			} else {
				diag_note(d, &u->loc, "service '%s' is not among the files imported, nor an app "
					  "of the library; '%s' leaves it out (import its file too)", u->name, a->name);
			}
		}
	}
}

/* Depth-first over the imported uses: a use that reaches an app still on the walk closes a
 * cycle, which pinhole refuses; it is dropped. */
static void break_cycles(struct imp_app *a, struct diags *d)
{
	a->mark = 1;
	for (size_t j = 0; j < a->uses.n; j++) {
		struct imp_use *u = &a->uses.v[j];
		if (!u->resolved || !u->app)
			continue;
		if (u->app->mark == 1) {
			diag_note(d, &u->loc, "'%s' using '%s' would close a cycle of includes; left out",
				  a->name, u->app->name);
			u->resolved = NULL;
		} else if (u->app->mark == 0) {
			break_cycles(u->app, d);
		}
	}
	a->mark = 2;
}

/* An app with nothing left to write is skipped, and so is every use of it. */
static void skip_empty(struct imp_set *set, struct diags *d)
{
	for (bool changed = true; changed;) {
		changed = false;
		for (size_t i = 0; i < set->apps.n; i++) {
			struct imp_app *a = set->apps.v[i];
			if (a->skipped)
				continue;
			size_t uses = 0;
			for (size_t j = 0; j < a->uses.n; j++) {
				struct imp_use *u = &a->uses.v[j];
				if (u->resolved && u->app && u->app->skipped) {
					diag_note(d, &u->loc, "'%s' uses '%s', which is not imported; left out",
						  a->name, u->app->name);
					u->resolved = NULL;
				}
				uses += u->resolved != NULL;
			}
			if (!a->flows.n && !uses) {
				diag_note(d, &a->loc, "nothing of '%s' can be written in pinhole; not imported",
					  a->orig);
				a->skipped = true;
				changed = true;
			}
		}
	}
}

void import_resolve(struct imp_set *set, const struct library *lib, struct diags *d)
{
	name_apps(set, lib, d);
	bind_uses(set, lib, d);
	for (size_t i = 0; i < set->apps.n; i++)
		if (!set->apps.v[i]->mark)
			break_cycles(set->apps.v[i], d);
	skip_empty(set, d);
}

static void put_ports(FILE *out, const char *what, const imp_ports *p)
{
	if (!p->n)
		return;
	fprintf(out, " %s ", what);
	for (size_t i = 0; i < p->n; i++) {
		fprintf(out, "%s%u", i ? ", " : "", p->v[i].lo);
		if (p->v[i].hi != p->v[i].lo)
			fprintf(out, "-%u", p->v[i].hi);
	}
}

static void put_string(FILE *out, const char *s)
{
	char *c = import_clean_text(s);
	fprintf(out, "\"%s\"", c);
	free(c);
}

/* A description as comment lines of at most about 90 columns. */
static void put_comment(FILE *out, const char *text)
{
	char *c = import_clean_text(text);
	const char *p = c;
	while (*p) {
		size_t n = strlen(p);
		if (n > 88) {
			n = 88;
			while (n > 20 && p[n] != ' ')
				n--;
			if (p[n] != ' ')
				n = 88;
		}
		fprintf(out, "# %.*s\n", (int)n, p);
		p += n;
		while (*p == ' ')
			p++;
	}
	free(c);
}

static void put_flow(FILE *out, const struct imp_flow *f)
{
	fprintf(out, "    flow %s: %s ->", f->name, f->to_client ? "server" : "client");
	fprintf(out, " %s", f->to_client ? "client" : "server");
	const char *sep = " ";
	static const struct { unsigned bit; const char *name; } protos[] = {
		{PROTO_BIT_TCP, "tcp"}, {PROTO_BIT_UDP, "udp"}, {PROTO_BIT_ICMP, "icmp"}, {PROTO_BIT_ESP, "esp"}};
	for (int k = 0; k < 4; k++)
		if (f->protos & protos[k].bit) {
			fprintf(out, "%s%s", sep, protos[k].name);
			sep = ", ";
		}
	put_ports(out, "sport", &f->sport);
	put_ports(out, "dport", &f->dport);
	if (f->helper)
		fprintf(out, " helper \"%s\"", f->helper);
	if (f->related)
		fprintf(out, " related \"%s\"", f->related);
	if (f->source) {
		fputs("\n        source ", out);
		put_string(out, f->source);
	}
	fputs(";\n", out);
}

void import_write(const struct imp_set *set, enum import_format fmt, FILE *out)
{
	fprintf(out, "# App definitions imported from %s by pinhole import. Each flow names the file "
		"and\n# line it comes from; docs/migrating.md says how %s's terms map to pinhole's.\n",
		import_format_name(fmt), import_format_name(fmt));
	for (size_t i = 0; i < set->apps.n; i++) {
		const struct imp_app *a = set->apps.v[i];
		if (a->skipped)
			continue;
		fputc('\n', out);
		if (a->description && *a->description)
			put_comment(out, a->description);
		fprintf(out, "app %s ", a->name);
		if (a->title && *a->title) {
			put_string(out, a->title);
		} else {
			char *t = xasprintf("%s service %s", import_format_name(fmt), a->orig);
			put_string(out, t);
			free(t);
		}
		fputs(" {\n", out);
		if (a->source) {
			fputs("    source ", out);
			put_string(out, a->source);
			fputs(";\n", out);
		}
		bool any = false;
		for (size_t j = 0; j < a->uses.n; j++) {
			if (!a->uses.v[j].resolved)
				continue;
			fprintf(out, "%s%s", any ? ", " : "    uses ", a->uses.v[j].resolved);
			any = true;
		}
		if (any)
			fputs(";\n", out);
		for (size_t j = 0; j < a->flows.n; j++)
			put_flow(out, &a->flows.v[j]);
		fputs("}\n", out);
	}
}
