/* pinhole check's printers: text (as compile prints, with the ID), GitHub workflow
 * commands, JSON (docs/check-v1.schema.json) and SARIF 2.1.0. */
#include <string.h>

#include "check.h"

#ifndef PINHOLE_VERSION
#define PINHOLE_VERSION "dev"
#endif

static bool shown(const struct finding *f)
{
	return !f->suppressed && !f->baselined;
}

void check_print_text(const struct check_policy *v, size_t n, bool errors_only, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].findings.n; k++) {
			const struct finding *f = &v[i].findings.v[k];
			if (!shown(f) || (errors_only && f->sev != SEV_ERROR))
				continue;
			diag_print_one(f->d, f->sev, true, out);
			for (size_t j = 0; j < f->nnotes; j++)
				diag_print_one(&f->notes[j], SEV_NOTE, false, out);
		}
	}
}

/* GitHub workflow commands: '%', CR and LF escaped in the message; ',' and ':' too in a
 * property. */
static void gh_escape(FILE *out, const char *s, bool property)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%')
			fputs("%25", out);
		else if (c == '\r')
			fputs("%0D", out);
		else if (c == '\n')
			fputs("%0A", out);
		else if (property && c == ':')
			fputs("%3A", out);
		else if (property && c == ',')
			fputs("%2C", out);
		else if (c < 0x20 || c == 0x7f)
			fputc('?', out);
		else
			fputc(c, out);
	}
}

static const char *gh_level(enum severity s)
{
	switch (s) {
	case SEV_ERROR: return "error";
	case SEV_WARNING: return "warning";
	case SEV_NOTE: return "notice";
	}
	return "error";
}

void check_print_github(const struct check_policy *v, size_t n, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].findings.n; k++) {
			const struct finding *f = &v[i].findings.v[k];
			if (!shown(f))
				continue;
			const struct diag *g = f->d;
			const struct diag_rule *r = diag_rule(g->id);
			fprintf(out, "::%s ", gh_level(f->sev));
			if (g->loc.src) {
				char *path = util_path_clean(g->loc.src->name);
				fputs("file=", out);
				gh_escape(out, path, true);
				free(path);
				fprintf(out, ",line=%d,col=%d", g->loc.first_line, g->loc.first_column);
				if (g->loc.last_line >= g->loc.first_line)
					fprintf(out, ",endLine=%d", g->loc.last_line);
				if (g->loc.last_line == g->loc.first_line &&
				    g->loc.last_column >= g->loc.first_column)
					fprintf(out, ",endColumn=%d", g->loc.last_column);
				fputc(',', out);
			}
			fprintf(out, "title=%s %s::", r->code, r->name);
			gh_escape(out, g->msg, false);
			for (size_t j = 0; j < f->nnotes; j++) {
				const struct diag *nt = &f->notes[j];
				fputs("%0Anote: ", out);
				if (nt->loc.src) {
					gh_escape(out, nt->loc.src->name, false);
					fprintf(out, "%%3A%d: ", nt->loc.first_line);
				}
				gh_escape(out, nt->msg, false);
			}
			fputc('\n', out);
		}
	}
}

/* A JSON string: quotes, backslashes and control bytes escaped; bytes that are not UTF-8
 * become U+FFFD so the output is always valid JSON. */
static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', out);
			fputc(c, out);
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc(c, out);
			p++;
		} else {
			int len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			bool ok = len > 0;
			for (int k = 1; k < len && ok; k++)
				ok = (p[k] & 0xc0) == 0x80;
			if (ok && len == 3 && c == 0xe0 && p[1] < 0xa0)
				ok = false;
			if (ok && len == 3 && c == 0xed && p[1] >= 0xa0)
				ok = false;
			if (ok && len == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
				ok = false;
			if (ok) {
				fwrite(p, 1, (size_t)len, out);
				p += len;
			} else {
				fputs("\\ufffd", out);
				p++;
			}
		}
	}
	fputc('"', out);
}

static const char *sev_word(enum severity s)
{
	return diag_severity_name(s);
}

static void json_loc(FILE *out, const struct loc *l)
{
	if (!l->src) {
		fputs("null", out);
		return;
	}
	char *path = util_path_clean(l->src->name);
	fputs("{\"file\": ", out);
	json_str(out, path);
	free(path);
	int end_line = l->last_line >= l->first_line ? l->last_line : l->first_line;
	int end_col = l->last_line == l->first_line && l->last_column >= l->first_column
			      ? l->last_column : l->first_column;
	if (l->last_line > l->first_line)
		end_col = l->last_column > 0 ? l->last_column : 1;
	fprintf(out, ", \"line\": %d, \"column\": %d, \"endLine\": %d, \"endColumn\": %d}",
		l->first_line, l->first_column, end_line, end_col);
}

static void summary_counts(const struct check_policy *v, size_t n, size_t c[5])
{
	memset(c, 0, 5 * sizeof(c[0]));
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].findings.n; k++) {
			const struct finding *f = &v[i].findings.v[k];
			if (f->suppressed)
				c[3]++;
			else if (f->baselined)
				c[4]++;
			else
				c[f->sev == SEV_ERROR ? 0 : f->sev == SEV_WARNING ? 1 : 2]++;
		}
	}
}

void check_print_json(const struct check_policy *v, size_t n, int status, FILE *out)
{
	fprintf(out, "{\n  \"format\": \"pinhole-check\",\n  \"version\": %d,\n", CHECK_JSON_VERSION);
	fputs("  \"tool\": {\"name\": \"pinhole\", \"version\": ", out);
	json_str(out, PINHOLE_VERSION);
	fputs("},\n  \"policies\": [", out);
	for (size_t i = 0; i < n; i++) {
		char *path = util_path_clean(v[i].file);
		fputs(i ? ",\n    {\"file\": " : "\n    {\"file\": ", out);
		json_str(out, path);
		free(path);
		fprintf(out, ", \"compiled\": %s, \"exitStatus\": %d}", v[i].ok ? "true" : "false",
			v[i].status);
	}
	fputs(n ? "\n  ],\n  \"findings\": [" : "],\n  \"findings\": [", out);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].findings.n; k++) {
			const struct finding *f = &v[i].findings.v[k];
			const struct diag_rule *r = diag_rule(f->d->id);
			fputs(first ? "\n    {" : ",\n    {", out);
			first = false;
			fprintf(out, "\"id\": \"%s\", \"name\": \"%s\", \"severity\": \"%s\", "
				"\"defaultSeverity\": \"%s\",\n     \"message\": ",
				r->code, r->name, sev_word(f->sev), sev_word(r->sev));
			json_str(out, f->d->msg);
			fputs(",\n     \"location\": ", out);
			json_loc(out, &f->d->loc);
			fprintf(out, ",\n     \"fingerprint\": \"%s\"", f->fingerprint);
			fputs(",\n     \"suppressed\": ", out);
			if (f->suppressed) {
				fputs("{\"kind\": \"inSource\", \"reason\": ", out);
				json_str(out, f->suppressed);
				fputc('}', out);
			} else if (f->baselined) {
				fputs("{\"kind\": \"baseline\"}", out);
			} else {
				fputs("null", out);
			}
			fputs(",\n     \"notes\": [", out);
			for (size_t j = 0; j < f->nnotes; j++) {
				fputs(j ? ", {\"message\": " : "{\"message\": ", out);
				json_str(out, f->notes[j].msg);
				fputs(", \"location\": ", out);
				json_loc(out, &f->notes[j].loc);
				fputc('}', out);
			}
			fputs("]}", out);
		}
	}
	size_t c[5];
	summary_counts(v, n, c);
	fprintf(out, "%s],\n  \"summary\": {\"errors\": %zu, \"warnings\": %zu, \"notes\": %zu, "
		"\"suppressed\": %zu, \"baselined\": %zu},\n  \"exitStatus\": %d\n}\n",
		first ? "" : "\n  ", c[0], c[1], c[2], c[3], c[4], status);
}

/* A relative path as a URI reference (RFC 3986): unreserved bytes and '/' kept, the rest
 * percent-encoded; an absolute path as a file:// URI. */
static void uri(FILE *out, const char *name)
{
	char *path = util_path_clean(name);
	fputc('"', out);
	if (path[0] == '/')
		fputs("file://", out);
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~/", *p))
			fputc(*p, out);
		else
			fprintf(out, "%%%02X", *p);
	}
	fputc('"', out);
	free(path);
}

static const char *sarif_level(enum severity s)
{
	switch (s) {
	case SEV_ERROR: return "error";
	case SEV_WARNING: return "warning";
	case SEV_NOTE: return "note";
	}
	return "error";
}

/* SARIF regions: 1-based lines and columns, endColumn one past the last character. */
static void sarif_phys(FILE *out, const struct loc *l)
{
	fputs("{\"artifactLocation\": {\"uri\": ", out);
	uri(out, l->src->name);
	fprintf(out, "}, \"region\": {\"startLine\": %d, \"startColumn\": %d", l->first_line,
		l->first_column > 0 ? l->first_column : 1);
	if (l->last_line == l->first_line && l->last_column >= l->first_column)
		fprintf(out, ", \"endLine\": %d, \"endColumn\": %d", l->last_line, l->last_column + 1);
	fputs("}}", out);
}

void check_print_sarif(const struct check_policy *v, size_t n, int status, FILE *out)
{
	fputs("{\n  \"$schema\": \"https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/"
	      "sarif-schema-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [{\n"
	      "    \"tool\": {\"driver\": {\"name\": \"pinhole\", \"version\": ", out);
	json_str(out, PINHOLE_VERSION);
	fputs(", \"semanticVersion\": ", out);
	json_str(out, PINHOLE_VERSION);
	fputs(",\n      \"rules\": [", out);
	for (int id = DIAG_NONE + 1; id < DIAG_ID_COUNT; id++) {
		const struct diag_rule *r = diag_rule((enum diag_id)id);
		fprintf(out, "%s\n        {\"id\": \"%s\", \"name\": \"%s\", \"shortDescription\": {\"text\": ",
			id == DIAG_NONE + 1 ? "" : ",", r->code, r->name);
		json_str(out, r->summary);
		fprintf(out, "}, \"defaultConfiguration\": {\"level\": \"%s\"}}", sarif_level(r->sev));
	}
	fputs("]}},\n    \"results\": [", out);
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < v[i].findings.n; k++) {
			const struct finding *f = &v[i].findings.v[k];
			if (f->baselined)
				continue;
			const struct diag *g = f->d;
			const struct diag_rule *r = diag_rule(g->id);
			fprintf(out, "%s\n      {\"ruleId\": \"%s\", \"ruleIndex\": %d, \"level\": \"%s\", "
				"\"message\": {\"text\": ", first ? "" : ",", r->code,
				(int)g->id - 1, sarif_level(f->sev));
			first = false;
			json_str(out, g->msg);
			fputc('}', out);
			if (g->loc.src) {
				fputs(",\n       \"locations\": [{\"physicalLocation\": ", out);
				sarif_phys(out, &g->loc);
				fputs("}]", out);
			}
			fprintf(out, ",\n       \"partialFingerprints\": {\"pinhole/v1\": \"%s\"}",
				f->fingerprint);
			bool any = false;
			for (size_t j = 0; j < f->nnotes; j++) {
				const struct diag *nt = &f->notes[j];
				if (!nt->loc.src)
					continue;
				fprintf(out, "%s{\"id\": %zu, \"physicalLocation\": ",
					any ? ", " : ",\n       \"relatedLocations\": [", j);
				any = true;
				sarif_phys(out, &nt->loc);
				fputs(", \"message\": {\"text\": ", out);
				json_str(out, nt->msg);
				fputs("}}", out);
			}
			if (any)
				fputc(']', out);
			if (f->suppressed) {
				fputs(",\n       \"suppressions\": [{\"kind\": \"inSource\", \"justification\": ", out);
				json_str(out, f->suppressed);
				fputs("}]", out);
			}
			fputc('}', out);
		}
	}
	fprintf(out, "%s],\n    \"invocations\": [{\"executionSuccessful\": true, \"exitCode\": %d}]\n"
		"  }]\n}\n", first ? "" : "\n    ", status);
}
