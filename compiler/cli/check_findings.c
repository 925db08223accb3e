/* pinhole check: from a compilation's diagnostics to findings (-W options, inline
 * suppressions, the baseline, fingerprints). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "check.h"

/* One '# pinhole: ignore ID... because REASON' comment. */
struct suppression {
	struct loc loc;           /* the comment */
	int target;               /* the line it applies to (0: none) */
	enum diag_id ids[8];
	size_t nids;
	const char *reason;       /* owned by the policy's reasons */
	bool used;
};
typedef VEC(struct suppression) suppressions;

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* The '#' that starts a comment on [p, end), or NULL (a '#' inside "..." is no comment). */
static const char *comment_start(const char *p, const char *end)
{
	bool str = false;
	for (; p < end; p++) {
		if (*p == '"')
			str = !str;
		else if (*p == '#' && !str)
			return p;
	}
	return NULL;
}

/* Parses the comment text after "pinhole:"; returns NULL when it is a good suppression,
 * else why not. */
static const char *parse_directive(const char *p, const char *end, struct suppression *s,
				   struct check_policy *pol)
{
	p = skip_space(p, end);
	if ((size_t)(end - p) < 6 || strncmp(p, "ignore", 6) != 0 ||
	    (p + 6 < end && !isspace((unsigned char)p[6])))
		return "unknown directive: write '# pinhole: ignore ID because REASON'";
	p += 6;
	for (;;) {
		p = skip_space(p, end);
		while (p < end && *p == ',')
			p = skip_space(p + 1, end);
		const char *w = p;
		while (p < end && !isspace((unsigned char)*p) && *p != ',')
			p++;
		if (w == p)
			break;
		size_t len = (size_t)(p - w);
		if (len == 7 && !strncmp(w, "because", 7)) {
			const char *r = skip_space(p, end);
			const char *re = end;
			while (re > r && isspace((unsigned char)re[-1]))
				re--;
			if (r == re)
				return "a suppression needs a reason after 'because'";
			char *reason = xstrndup(r, (size_t)(re - r));
			VEC_PUSH(pol->reasons, reason);
			s->reason = reason;
			break;
		}
		char *word = xstrndup(w, len);
		enum diag_id id = diag_rule_find(word);
		free(word);
		static char why[96];
		if (id == DIAG_NONE) {
			snprintf(why, sizeof(why), "unknown finding ID '%.*s' (docs/check.md lists them)",
				 len > 40 ? 40 : (int)len, w);
			return why;
		}
		if (diag_rule(id)->sev == SEV_ERROR)
			return "errors cannot be suppressed, only warnings and notes";
		if (s->nids < sizeof(s->ids) / sizeof(s->ids[0]))
			s->ids[s->nids++] = id;
	}
	if (!s->nids)
		return "which finding? write '# pinhole: ignore ID because REASON'";
	if (!s->reason)
		return "a suppression needs a reason: '# pinhole: ignore ID because REASON'";
	return NULL;
}

static void find_suppressions(struct check_policy *pol, suppressions *out)
{
	struct compilation *c = &pol->c;
	for (size_t i = c->first_policy_src; i < c->srcs.n; i++) {
		const struct source *src = c->srcs.v[i];
		const char *p = src->text, *end = src->text + src->len;
		int line = 1;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *eol = nl ? nl : end;
			const char *hash = comment_start(p, eol);
			const char *t = hash ? skip_space(hash + 1, eol) : NULL;
			if (t && (size_t)(eol - t) >= 8 && !strncmp(t, "pinhole:", 8)) {
				struct suppression s = {
					.loc = {.src = src, .first_line = line, .last_line = line,
						.first_column = (int)(hash - p) + 1,
						.last_column = (int)(eol - p)}};
				const char *why = parse_directive(t + 8, eol, &s, pol);
				if (why) {
					diag_warning_id(&c->diags, DIAG_W_BAD_SUPPRESSION, &s.loc, "%s", why);
				} else {
					/* A comment alone on its line speaks for the next line that is not
					 * a comment; a trailing one for its own line. */
					if (skip_space(p, eol) == hash) {
						const char *q = nl ? nl + 1 : end;
						int tl = line + 1;
						while (q < end) {
							const char *qn = memchr(q, '\n', (size_t)(end - q));
							const char *qe = qn ? qn : end;
							const char *qs = skip_space(q, qe);
							if (qs == qe || *qs != '#')
								break;
							q = qn ? qn + 1 : end;
							tl++;
						}
						s.target = tl;
					} else {
						s.target = line;
					}
					VEC_PUSH(*out, s);
				}
			}
			p = nl ? nl + 1 : end;
			line++;
		}
	}
}

static bool suppressible(const struct diag *g)
{
	return g->sev != SEV_ERROR && g->id != DIAG_NONE && g->id != DIAG_W_BAD_SUPPRESSION &&
	       g->id != DIAG_W_UNUSED_SUPPRESSION;
}

static struct suppression *suppression_for(suppressions *sv, const struct diag *g)
{
	if (!g->loc.src || !suppressible(g))
		return NULL;
	for (size_t i = 0; i < sv->n; i++) {
		struct suppression *s = &sv->v[i];
		if (s->loc.src != g->loc.src || s->target != g->loc.first_line)
			continue;
		for (size_t k = 0; k < s->nids; k++)
			if (s->ids[k] == g->id)
				return s;
	}
	return NULL;
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff; /* a separator no text holds */
	return h * 0x100000001b3ULL;
}

/* Where each line of a source starts, built once per source: finding the line of each of N
 * findings by walking the text from its start made check quadratic in the findings. */
struct line_index {
	const struct source *src;
	VEC(size_t) start; /* start.v[l - 1]: offset of line l */
};

static void line_index_for(struct line_index *li, const struct source *src)
{
	if (li->src == src)
		return;
	li->src = src;
	li->start.n = 0;
	VEC_PUSH(li->start, (size_t)0);
	for (const char *p = src->text, *end = src->text + src->len;
	     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		VEC_PUSH(li->start, (size_t)(p + 1 - src->text));
}

/* Hash of the ID, the cleaned path and the trimmed source line (or the message when the
 * finding has no place): it survives lines moving up or down, and changes when the line does. */
static uint64_t fingerprint_hash(const struct diag *g, struct line_index *li)
{
	const char *code = diag_rule(g->id)->code;
	uint64_t h = fnv(0xcbf29ce484222325ULL, code, strlen(code));
	if (!g->loc.src)
		return fnv(h, g->msg, strlen(g->msg));
	char *path = util_path_clean(g->loc.src->name);
	h = fnv(h, path, strlen(path));
	free(path);
	const struct source *src = g->loc.src;
	line_index_for(li, src);
	const char *end = src->text + src->len, *p = end;
	if (g->loc.first_line < 1)
		p = src->text;
	else if ((size_t)g->loc.first_line <= li->start.n)
		p = src->text + li->start.v[g->loc.first_line - 1];
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	const char *e = nl ? nl : end;
	p = skip_space(p, e);
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	return fnv(h, p, (size_t)(e - p));
}

/* How many times each hash was seen: an open-addressing table that doubles, so the
 * occurrence numbers of N findings take linear time. */
struct hash_count {
	uint64_t *key;
	int *count;
	size_t cap, n;
};

static int hash_count_next(struct hash_count *t, uint64_t h)
{
	if (2 * (t->n + 1) > t->cap) {
		struct hash_count o = *t;
		t->cap = o.cap ? 2 * o.cap : 64;
		t->key = xcalloc(t->cap, sizeof(*t->key));
		t->count = xcalloc(t->cap, sizeof(*t->count));
		t->n = 0;
		for (size_t i = 0; i < o.cap; i++)
			if (o.count[i]) {
				size_t k = (size_t)(o.key[i] * 0x9e3779b97f4a7c15ULL >> 7) & (t->cap - 1);
				while (t->count[k])
					k = (k + 1) & (t->cap - 1);
				t->key[k] = o.key[i];
				t->count[k] = o.count[i];
				t->n++;
			}
		free(o.key);
		free(o.count);
	}
	size_t k = (size_t)(h * 0x9e3779b97f4a7c15ULL >> 7) & (t->cap - 1);
	while (t->count[k] && t->key[k] != h)
		k = (k + 1) & (t->cap - 1);
	if (!t->count[k]) {
		t->key[k] = h;
		t->n++;
	}
	return t->count[k]++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* baseline: sorted copy of the baseline's fingerprints. */
static bool in_baseline(char **baseline, size_t n, const char *fp)
{
	return n && bsearch(&fp, baseline, n, sizeof(*baseline), cmp_str);
}

void check_findings(struct check_policy *p, const struct check_opts *o)
{
	suppressions sv = {0};
	struct diags *d = &p->c.diags;
	find_suppressions(p, &sv);
	for (size_t i = 0; i < d->n; i++) {
		struct suppression *s = suppression_for(&sv, &d->v[i]);
		if (s)
			s->used = true;
	}
	/* Whether a suppression is used is only known of a policy that compiled. */
	for (size_t i = 0; i < sv.n && p->ok; i++)
		if (!sv.v[i].used)
			diag_warning_id(d, DIAG_W_UNUSED_SUPPRESSION, &sv.v[i].loc,
					"this suppression matches no finding on line %d", sv.v[i].target);
	struct hash_count seen = {0};
	struct line_index li = {0};
	char **base = xcalloc(o->baseline.n + 1, sizeof(*base));
	for (size_t i = 0; i < o->baseline.n; i++)
		base[i] = o->baseline.v[i];
	qsort(base, o->baseline.n, sizeof(*base), cmp_str);
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		size_t nn = 0;
		while (i + 1 + nn < d->n && d->v[i + 1 + nn].sev == SEV_NOTE && d->v[i + 1 + nn].id == DIAG_NONE)
			nn++;
		size_t next = i + nn;
		if (g->sev == SEV_NOTE && g->id == DIAG_NONE) /* a note with nothing before it */
			nn = 0;
		enum check_wstate st = o->w[g->id];
		if (g->sev != SEV_ERROR && st == W_OFF) {
			i = next;
			continue;
		}
		struct finding f = {.d = g, .sev = g->sev, .notes = nn ? g + 1 : NULL, .nnotes = nn};
		if (g->sev != SEV_ERROR && (st == W_ERROR || (o->werror_all && g->sev == SEV_WARNING)))
			f.sev = SEV_ERROR;
		struct suppression *s = suppression_for(&sv, g);
		f.suppressed = s ? s->reason : NULL;
		uint64_t h = fingerprint_hash(g, &li);
		int occ = hash_count_next(&seen, h);
		snprintf(f.fingerprint, sizeof(f.fingerprint), "%016" PRIx64 ":%d", h, occ);
		f.baselined = g->sev != SEV_ERROR && !f.suppressed && in_baseline(base, o->baseline.n, f.fingerprint);
		VEC_PUSH(p->findings, f);
		i = next;
	}
	free(seen.key);
	free(seen.count);
	VEC_FREE(li.start);
	free(base);
	VEC_FREE(sv);
	p->status = p->ok ? EXIT_OK : EXIT_BAD_INPUT;
	for (size_t i = 0; i < p->findings.n && p->ok; i++) {
		const struct finding *f = &p->findings.v[i];
		if (f->suppressed || f->baselined)
			continue;
		if (f->sev == SEV_ERROR || (f->sev == SEV_WARNING && o->fail_on_warning))
			p->status = EXIT_FINDINGS;
	}
}

/* A JSON string starting at p (just after its opening quote): its value with the common
 * escapes undone; *endp after the closing quote. NULL if it never closes. */
static char *json_string(const char *p, const char *end, const char **endp)
{
	struct strbuf sb = {0};
	sb_puts(&sb, "");
	while (p < end && *p != '"') {
		if (*p == '\\' && p + 1 < end) {
			p++;
			sb_putc(&sb, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
		} else {
			sb_putc(&sb, *p);
		}
		p++;
	}
	if (p >= end) {
		sb_free(&sb);
		return NULL;
	}
	*endp = p + 1;
	return sb_steal(&sb);
}

/* The baseline is a file `pinhole check` wrote: JSON ("fingerprint": "...") or SARIF
 * (partialFingerprints "pinhole/v1": "..."). Every such key's value is a fingerprint. */
bool check_read_baseline(const char *path, struct check_opts *o, char **why)
{
	size_t len;
	char *text = util_read_file(path, &len);
	if (!text) {
		*why = xasprintf("cannot read baseline '%s': %s", path, strerror(errno));
		return false;
	}
	const char *p = text, *end = text + len;
	p = skip_space(p, end);
	while (p < end && (*p == '\n' || isspace((unsigned char)*p)))
		p++;
	if (p >= end || *p != '{') {
		free(text);
		*why = xasprintf("baseline '%s' is not the JSON or SARIF output of pinhole check", path);
		return false;
	}
	char *key = NULL;
	while (p < end) {
		if (*p != '"') {
			if (*p != ':' && !isspace((unsigned char)*p)) {
				free(key);
				key = NULL;
			}
			p++;
			continue;
		}
		const char *after;
		char *s = json_string(p + 1, end, &after);
		if (!s)
			break;
		p = after;
		const char *q = p;
		while (q < end && isspace((unsigned char)*q))
			q++;
		if (q < end && *q == ':') {
			free(key);
			key = s;
			p = q + 1;
			continue;
		}
		if (key && (!strcmp(key, "fingerprint") || !strcmp(key, "pinhole/v1")))
			VEC_PUSH(o->baseline, s);
		else
			free(s);
		free(key);
		key = NULL;
	}
	free(key);
	free(text);
	o->have_baseline = true;
	return true;
}

void check_policy_free(struct check_policy *p)
{
	compilation_free(&p->c);
	VEC_FREE(p->findings);
	for (size_t i = 0; i < p->reasons.n; i++)
		free(p->reasons.v[i]);
	VEC_FREE(p->reasons);
}
