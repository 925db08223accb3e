/* ufw application profiles (/etc/ufw/applications.d/): INI sections [Name] with title=,
 * description= and ports=80,443/tcp|53/udp|6000:6007/tcp, read as ufw reads them (Python's
 * RawConfigParser and ufw/applications.py): what ufw would refuse is an error here. */
#include <string.h>

#include "import.h"

struct ini_key {
	char *key;   /* lower case, as RawConfigParser folds it */
	struct strbuf value;
	struct loc loc;   /* the key */
	int vline, vcol;  /* where the value starts */
	bool continued;   /* the value ran on over indented lines */
};

struct ini_section {
	char *name;
	struct loc loc;
	VEC(struct ini_key) keys;
};

typedef VEC(struct ini_section) ini_sections;

static const char *trim_end(const char *b, const char *e)
{
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return e;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* ufw's valid_profile_name: a letter or digit first, then letters, digits, " _-.+"; not "all",
 * not a number; at most 64 characters. */
static const char *bad_profile_name(const char *n)
{
	size_t len = strlen(n);
	if (len > 64)
		return "longer than 64 characters";
	if (!strcmp(n, "all"))
		return "'all' is reserved";
	bool digits = len > 0;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		digits &= c >= '0' && c <= '9';
		if (!alnum && (i == 0 || !strchr(" _-.+", c)))
			return "ufw takes letters, digits and ' _-.+', starting with a letter or digit";
	}
	if (digits)
		return "a number names a port, not a profile";
	return NULL;
}

static bool parse_ini(const struct source *src, ini_sections *out, struct diags *d)
{
	const char *p = src->text, *end = src->text + src->len;
	struct ini_key *last = NULL;
	for (int line = 1; p < end; line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *next_line = nl ? nl + 1 : end;
		const char *b = p, *start = p;
		while (b < e && blank(*b))
			b++;
		const char *te = trim_end(b, e);
		bool indented = b > p;
		p = next_line;
		if (b == te || *b == '#' || *b == ';')
			continue;
		int bc = 1 + (int)(b - start); /* the column of b */
		if (indented && last) {
			/* A continuation line of the value before. */
			sb_putc(&last->value, ' ');
			sb_putmem(&last->value, b, (size_t)(te - b));
			last->continued = true;
			continue;
		}
		if (*b == '[') {
			if (te[-1] != ']' || te - b < 3) {
				struct loc at = import_loc(src, line, bc, (int)(te - b));
				diag_error(d, &at, "a section header is [Name], alone on its line");
				return false;
			}
			char *name = xstrndup(b + 1, (size_t)(te - b - 2));
			struct loc at = import_loc(src, line, bc + 1, (int)(te - b - 2));
			for (size_t i = 0; i < out->n; i++)
				if (!strcmp(out->v[i].name, name)) {
					diag_error(d, &at, "profile '%s' appears twice in this file (line %d); "
						   "ufw cannot read the file", name, out->v[i].loc.first_line);
					free(name);
					return false;
				}
			const char *why = bad_profile_name(name);
			if (why) {
				diag_error(d, &at, "'%s' is no ufw profile name: %s", name, why);
				free(name);
				return false;
			}
			if (out->n >= IMPORT_MAX_APPS) {
				diag_error(d, &at, "more than %d profiles in one file", IMPORT_MAX_APPS);
				free(name);
				return false;
			}
			VEC_PUSH(*out, ((struct ini_section){.name = name, .loc = at}));
			last = NULL;
			continue;
		}
		const char *eq = b;
		while (eq < te && *eq != '=' && *eq != ':')
			eq++;
		if (eq == te) {
			struct loc at = import_loc(src, line, bc, (int)(te - b));
			diag_error(d, &at, "expected [Name] or key=value (a ufw profile is an INI file)");
			return false;
		}
		const char *ke = trim_end(b, eq);
		struct loc kat = import_loc(src, line, bc, (int)(ke - b) ? (int)(ke - b) : 1);
		if (!out->n) {
			diag_error(d, &kat, "a key before the first [Name] section");
			return false;
		}
		if (ke == b) {
			diag_error(d, &kat, "a key is missing before '%c'", *eq);
			return false;
		}
		struct ini_section *s = &out->v[out->n - 1];
		/* ufw skips a profile with a key over 64 or a value over 1024 characters. */
		if (ke - b > 64 || te - eq - 1 > 1024 || s->keys.n >= 64) {
			diag_error(d, &kat, "%s; ufw skips such a profile", ke - b > 64 ? "a key longer "
				   "than 64 characters" : s->keys.n >= 64 ? "more than 64 keys in one profile"
				   : "a value longer than 1024 characters");
			return false;
		}
		char *key = xstrndup(b, (size_t)(ke - b));
		for (char *k = key; *k; k++)
			if (*k >= 'A' && *k <= 'Z')
				*k = (char)(*k - 'A' + 'a');
		for (size_t i = 0; i < s->keys.n; i++)
			if (!strcmp(s->keys.v[i].key, key)) {
				diag_error(d, &kat, "'%s' is set twice in [%s] (line %d); ufw cannot read the "
					   "file", key, s->name, s->keys.v[i].loc.first_line);
				free(key);
				return false;
			}
		const char *vb = eq + 1;
		while (vb < te && blank(*vb))
			vb++;
		struct ini_key k = {.key = key, .loc = kat, .vline = line, .vcol = bc + (int)(vb - b)};
		sb_putmem(&k.value, vb, (size_t)(te - vb));
		VEC_PUSH(s->keys, k);
		last = &s->keys.v[s->keys.n - 1];
	}
	return true;
}

static const struct ini_key *key_of(const struct ini_section *s, const char *key)
{
	for (size_t i = 0; i < s->keys.n; i++)
		if (!strcmp(s->keys.v[i].key, key))
			return &s->keys.v[i];
	return NULL;
}

/* "N" (1-65535) or "N:M" (N < M), as ufw's UFWRule.set_port takes them; 1 ok, 0 a name,
 * -1 bad. */
static int one_port(const char *t, size_t n, unsigned *lo, unsigned *hi)
{
	unsigned v[2] = {0, 0};
	int k = 0;
	size_t i = 0;
	if (n && !(t[0] >= '0' && t[0] <= '9'))
		return (t[0] >= 'A' && t[0] <= 'Z') || (t[0] >= 'a' && t[0] <= 'z') || t[0] == '_' ? 0 : -1;
	for (;;) {
		if (i >= n || t[i] < '0' || t[i] > '9')
			return -1;
		unsigned long x = 0;
		while (i < n && t[i] >= '0' && t[i] <= '9') {
			x = x * 10 + (unsigned)(t[i] - '0');
			if (x > 65535)
				return -1;
			i++;
		}
		v[k] = (unsigned)x;
		if (i < n && t[i] == ':' && k == 0) {
			k = 1;
			i++;
			continue;
		}
		if (i < n)
			return -1;
		break;
	}
	*lo = v[0];
	*hi = k ? v[1] : v[0];
	if (*lo < 1 || (k && *lo >= *hi))
		return -1;
	return 1;
}

/* One entry of ports=, "80,443/tcp" or "53", at column `col`: one flow. */
static bool port_entry(const struct source *src, struct imp_app *a, const char *e, size_t n,
		       int line, int col, struct diags *d)
{
	struct loc at = import_loc(src, line, col, (int)n ? (int)n : 1);
	const char *slash = memchr(e, '/', n);
	size_t pn = slash ? (size_t)(slash - e) : n;
	unsigned protos = PROTO_BIT_TCP | PROTO_BIT_UDP;
	if (slash) {
		const char *pr = slash + 1;
		size_t prn = n - pn - 1;
		if (memchr(pr, '/', prn)) {
			diag_error(d, &at, "'%.*s': one '/' at most (PORTS/PROTOCOL)", (int)n, e);
			return false;
		}
		if (prn == 3 && !memcmp(pr, "tcp", 3))
			protos = PROTO_BIT_TCP;
		else if (prn == 3 && !memcmp(pr, "udp", 3))
			protos = PROTO_BIT_UDP;
		else {
			struct loc pat = import_loc(src, line, col + (int)pn + 1, prn ? (int)prn : 1);
			diag_error(d, &pat, "'%.*s' is no protocol a ufw profile's ports take (tcp or udp)",
				   (int)prn, pr);
			return false;
		}
	}
	bool list = memchr(e, ',', pn) || memchr(e, ':', pn);
	if (!slash && list) {
		diag_error(d, &at, "'%.*s': ufw needs a protocol for a port list or range (e.g. %.*s/tcp)",
			   (int)n, e, (int)n, e);
		return false;
	}
	size_t seps = 0;
	for (size_t i = 0; i < pn; i++)
		seps += e[i] == ',' || e[i] == ':';
	if (seps > 14) {
		diag_error(d, &at, "'%.*s': more than 15 ports in one entry, which ufw refuses "
			   "(iptables' multiport limit)", (int)n, e);
		return false;
	}
	imp_ports ports = {0};
	for (size_t i = 0; i <= pn;) {
		size_t j = i;
		while (j < pn && e[j] != ',')
			j++;
		unsigned lo, hi;
		struct loc pat = import_loc(src, line, col + (int)i, j > i ? (int)(j - i) : 1);
		int r = one_port(e + i, j - i, &lo, &hi);
		if (r < 0) {
			diag_error(d, &pat, "'%.*s' is not a ufw port: 1-65535, or a range N:M from low to "
				   "high", (int)(j - i), e + i);
			VEC_FREE(ports);
			return false;
		}
		if (r == 0)
			diag_note(d, &pat, "'%.*s' names a port by /etc/services, which ufw looks up on the "
				  "machine it runs on; write the number (left out)", (int)(j - i), e + i);
		else
			import_ports_add(&ports, lo, hi);
		i = j + 1;
	}
	if (!ports.n)
		return true;
	char *base = xasprintf("%s-%u", protos == PROTO_BIT_TCP ? "tcp" : protos == PROTO_BIT_UDP ? "udp"
			       : "tcp-udp", ports.v[0].lo);
	struct imp_flow *f = import_flow_add(a, base, protos);
	free(base);
	f->dport = ports;
	f->source = xasprintf("%s:%d: ports %.*s%s", src->name, line, (int)n, e,
			      slash ? "" : " (no protocol: tcp and udp)");
	return true;
}

static bool profile_app(const struct source *src, const struct ini_section *s, struct imp_set *set,
			struct diags *d)
{
	static const char *const need[] = {"title", "description", "ports"};
	for (int k = 0; k < 3; k++) {
		const struct ini_key *v = key_of(s, need[k]);
		if (!v || !v->value.len) {
			diag_error(d, &s->loc, "profile '%s' has no %s%s, which ufw needs", s->name, need[k],
				   v ? " value" : "");
			return false;
		}
	}
	for (size_t i = 0; i < s->keys.n; i++) {
		const char *k = s->keys.v[i].key;
		if (s->keys.v[i].value.len > 1024) {
			diag_error(d, &s->keys.v[i].loc, "a value longer than 1024 characters; ufw skips "
				   "such a profile");
			return false;
		}
		if (strcmp(k, "title") && strcmp(k, "description") && strcmp(k, "ports"))
			diag_note(d, &s->keys.v[i].loc, "'%s' is no field of a ufw profile; ignored", k);
	}
	const struct ini_key *ports = key_of(s, "ports");
	if (ports->continued) {
		diag_error(d, &ports->loc, "ports= runs on over several lines, which ufw cannot read");
		return false;
	}
	struct imp_app *a = import_app_new(set, s->name, &s->loc);
	a->title = xstrdup(key_of(s, "title")->value.s);
	a->description = xstrdup(key_of(s, "description")->value.s);
	a->source = xasprintf("ufw profile '%s', %s:%d", s->name, src->name, s->loc.first_line);
	const char *v = ports->value.s;
	size_t n = ports->value.len;
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && v[j] != '|')
			j++;
		if (!port_entry(src, a, v + i, j - i, ports->vline, ports->vcol + (int)i, d))
			return false;
		i = j + 1;
	}
	return true;
}

bool import_ufw(const struct source *src, struct imp_set *set, struct diags *d)
{
	ini_sections secs = {0};
	bool ok = parse_ini(src, &secs, d);
	if (ok && !secs.n) {
		struct loc at = import_loc(src, 1, 1, 1);
		diag_error(d, &at, "no [Name] profile in this file");
		ok = false;
	}
	for (size_t i = 0; ok && i < secs.n; i++)
		ok = profile_app(src, &secs.v[i], set, d);
	for (size_t i = 0; i < secs.n; i++) {
		for (size_t j = 0; j < secs.v[i].keys.n; j++) {
			free(secs.v[i].keys.v[j].key);
			sb_free(&secs.v[i].keys.v[j].value);
		}
		VEC_FREE(secs.v[i].keys);
		free(secs.v[i].name);
	}
	VEC_FREE(secs);
	return ok;
}
