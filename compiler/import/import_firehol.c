/* FireHOL service definitions: the bash variable assignments of FireHOL's services.common and
 * of /etc/firehol/services/NAME.conf (server_NAME_ports, client_NAME_ports, helper_NAME,
 * require_NAME_modules). The file is read as assignments, comments and function definitions
 * only; shell code that would have to run is an error, and a complex service (a bash function
 * rules_NAME) is a note. */
#include <string.h>

#include "import.h"

struct pos {
	int line, col;
};

/* One assignment NAME=VALUE, the value unquoted, with the place of each of its bytes. */
struct fh_var {
	char *name;
	struct loc loc;
	struct strbuf value;
	VEC(struct pos) at;
	bool expands; /* $ or ` outside single quotes: bash would substitute something */
};

struct scan {
	const struct source *src;
	const char *p, *end;
	int line, col;
	struct diags *d;
};

static int peek(const struct scan *s)
{
	return s->p < s->end ? (unsigned char)*s->p : -1;
}

static void next(struct scan *s)
{
	if (s->p >= s->end)
		return;
	if (*s->p == '\n') {
		s->line++;
		s->col = 1;
	} else {
		s->col++;
	}
	s->p++;
}

static void error_here(struct scan *s, int len, const char *msg)
{
	struct loc at = import_loc(s->src, s->line, s->col, len);
	diag_error(s->d, &at, "%s", msg);
}

static bool is_name_start(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_name_char(int c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

static void skip_blanks(struct scan *s)
{
	while (peek(s) == ' ' || peek(s) == '\t' || peek(s) == '\r')
		next(s);
}

static void skip_line(struct scan *s)
{
	while (peek(s) != -1 && peek(s) != '\n')
		next(s);
}

static void put(struct fh_var *v, int c, const struct scan *s)
{
	sb_putc(&v->value, (char)c);
	VEC_PUSH(v->at, ((struct pos){s->line, s->col}));
}

/* The value after '=': unquoted, "double" and 'single' quoted parts up to a blank, ';' or
 * the end of the line. */
static bool read_value(struct scan *s, struct fh_var *v)
{
	for (;;) {
		int c = peek(s);
		if (c == -1 || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ';')
			return true;
		if (c == '\'') {
			int line = s->line, col = s->col;
			next(s);
			while (peek(s) != '\'' && peek(s) != -1) {
				put(v, peek(s), s);
				next(s);
			}
			if (peek(s) == -1) {
				struct loc at = import_loc(s->src, line, col, 1);
				diag_error(s->d, &at, "unterminated single quote");
				return false;
			}
			next(s);
		} else if (c == '"') {
			int line = s->line, col = s->col;
			next(s);
			while (peek(s) != '"' && peek(s) != -1) {
				int e = peek(s);
				if (e == '\\') {
					next(s);
					int q = peek(s);
					if (q == '\n') {
						next(s); /* a line continuation: nothing */
						continue;
					}
					if (q != '$' && q != '`' && q != '"' && q != '\\')
						put(v, '\\', s);
					if (q == -1)
						break;
					put(v, q, s);
					next(s);
					continue;
				}
				if (e == '$' || e == '`')
					v->expands = true;
				put(v, e, s);
				next(s);
			}
			if (peek(s) == -1) {
				struct loc at = import_loc(s->src, line, col, 1);
				diag_error(s->d, &at, "unterminated double quote");
				return false;
			}
			next(s);
		} else if (c == '\\') {
			next(s);
			if (peek(s) == '\n') {
				next(s);
				continue;
			}
			if (peek(s) == -1)
				return true;
			put(v, peek(s), s);
			next(s);
		} else if (strchr("&|<>()", c)) {
			error_here(s, 1, "shell syntax in a value: the importer reads plain assignments, "
				   "e.g. server_web_ports=\"tcp/80 tcp/443\"");
			return false;
		} else {
			if (c == '$' || c == '`')
				v->expands = true;
			put(v, c, s);
			next(s);
		}
	}
}

/* A function body from its '{' to the matching '}', quotes and comments skipped. */
static bool skip_body(struct scan *s, const struct loc *head)
{
	skip_blanks(s);
	while (peek(s) == '\n') {
		next(s);
		skip_blanks(s);
	}
	if (peek(s) != '{') {
		error_here(s, 1, "expected '{' to start the function's body");
		return false;
	}
	int depth = 0;
	while (peek(s) != -1) {
		int c = peek(s);
		if (c == '\\') {
			next(s);
		} else if (c == '\'' || c == '"') {
			next(s);
			while (peek(s) != -1 && peek(s) != c) {
				if (c == '"' && peek(s) == '\\')
					next(s);
				next(s);
			}
		} else if (c == '#' && (s->col == 1 || s->p[-1] == ' ' || s->p[-1] == '\t')) {
			skip_line(s);
			continue;
		} else if (c == '{') {
			depth++;
		} else if (c == '}' && --depth == 0) {
			next(s);
			return true;
		}
		next(s);
	}
	diag_error(s->d, head, "this function's body has no end ('}')");
	return false;
}

static void var_free(struct fh_var *v)
{
	free(v->name);
	sb_free(&v->value);
	VEC_FREE(v->at);
}

typedef VEC(struct fh_var) fh_vars;

/* One statement from the start of a line (or after ';'): an assignment, a function
 * definition, or an error. */
static bool statement(struct scan *s, fh_vars *vars)
{
	int line = s->line, col = s->col;
	const char *w = s->p;
	while (is_name_char(peek(s)))
		next(s);
	size_t n = (size_t)(s->p - w);
	struct loc at = import_loc(s->src, line, col, (int)n);
	if (!n || !is_name_start((unsigned char)w[0])) {
		error_here(s, 1, "expected a variable assignment such as server_NAME_ports=\"tcp/80\" "
			   "(a FireHOL services file is bash; the importer reads assignments, comments "
			   "and function definitions)");
		return false;
	}
	char *word = xstrndup(w, n);
	bool function = !strcmp(word, "function");
	if (function) {
		skip_blanks(s);
		free(word);
		line = s->line, col = s->col;
		w = s->p;
		while (is_name_char(peek(s)) || peek(s) == '-')
			next(s);
		n = (size_t)(s->p - w);
		word = xstrndup(w, n);
		at = import_loc(s->src, line, col, (int)n);
		if (!n) {
			free(word);
			error_here(s, 1, "expected the function's name");
			return false;
		}
	}
	if (peek(s) == '=' && !function) {
		next(s);
		struct fh_var v = {.name = word, .loc = at};
		if (!read_value(s, &v)) {
			var_free(&v);
			return false;
		}
		VEC_PUSH(*vars, v);
		return true;
	}
	skip_blanks(s);
	if (peek(s) == '(') {
		next(s);
		skip_blanks(s);
		if (peek(s) != ')') {
			error_here(s, 1, "expected ')' of a function definition NAME()");
			free(word);
			return false;
		}
		next(s);
		function = true;
	}
	if (!function) {
		diag_error(s->d, &at, "'%s' is shell code the importer cannot run: a FireHOL services file "
			   "holds assignments such as server_NAME_ports=\"tcp/80\"", word);
		free(word);
		return false;
	}
	if (!skip_body(s, &at)) {
		free(word);
		return false;
	}
	if (!strncmp(word, "rules_", 6) && word[6])
		diag_note(s->d, &at, "complex service '%s' is a bash function (%s()), which cannot be "
			  "imported: write its flows by hand", word + 6, word);
	else
		diag_note(s->d, &at, "bash function '%s' is no service definition; ignored", word);
	free(word);
	return true;
}

/* A service: the last assignment of each of its variables (as bash keeps the last). */
struct fh_service {
	char *name;
	struct fh_var *server, *client, *helper, *modules, *nat_modules;
};

static bool has_suffix(const char *s, size_t n, const char *suffix, size_t *stem)
{
	size_t k = strlen(suffix);
	if (n <= k || strcmp(s + n - k, suffix))
		return false;
	*stem = n - k;
	return true;
}

typedef VEC(struct fh_service) fh_services;

/* Which slot of which service `v` sets; NULL when it is no service variable. */
static struct fh_var **slot(fh_services *svcs, struct fh_var *v)
{
	const char *name = v->name;
	size_t n = strlen(name), stem;
	const char *svc = NULL;
	size_t len = 0;
	int kind = -1;
	if (!strncmp(name, "server_", 7) && has_suffix(name + 7, n - 7, "_ports", &stem))
		svc = name + 7, len = stem, kind = 0;
	else if (!strncmp(name, "client_", 7) && has_suffix(name + 7, n - 7, "_ports", &stem))
		svc = name + 7, len = stem, kind = 1;
	else if (!strncmp(name, "helper_", 7) && name[7])
		svc = name + 7, len = n - 7, kind = 2;
	else if (!strncmp(name, "require_", 8) && has_suffix(name + 8, n - 8, "_nat_modules", &stem))
		svc = name + 8, len = stem, kind = 4;
	else if (!strncmp(name, "require_", 8) && has_suffix(name + 8, n - 8, "_modules", &stem))
		svc = name + 8, len = stem, kind = 3;
	if (!svc)
		return NULL;
	struct fh_service *s = NULL;
	for (size_t i = 0; i < svcs->n && !s; i++)
		if (strlen(svcs->v[i].name) == len && !strncmp(svcs->v[i].name, svc, len))
			s = &svcs->v[i];
	if (!s) {
		VEC_PUSH(*svcs, ((struct fh_service){.name = xstrndup(svc, len)}));
		s = &svcs->v[svcs->n - 1];
	}
	struct fh_var **slots[] = {&s->server, &s->client, &s->helper, &s->modules, &s->nat_modules};
	return slots[kind];
}

/* The value's words, each with its place. */
struct word {
	char *text;
	struct loc loc;
};
typedef VEC(struct word) words;

static words split(const struct source *src, const struct fh_var *v)
{
	words w = {0};
	const char *s = v->value.s ? v->value.s : "";
	for (size_t i = 0; s[i];) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++;
			continue;
		}
		size_t j = i;
		while (s[j] && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r')
			j++;
		struct pos p = v->at.v[i];
		/* A word is one run of the value; its caret covers it on its first line. */
		int len = v->at.v[j - 1].line == p.line ? v->at.v[j - 1].col - p.col + 1 : 1;
		VEC_PUSH(w, ((struct word){xstrndup(s + i, j - i), import_loc(src, p.line, p.col, len)}));
		i = j;
	}
	return w;
}

static void words_free(words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].text);
	VEC_FREE(*w);
}

/* "80" or "6881:6999" (FireHOL writes ranges with ':'), each 0-65535, low to high. */
static bool port_range(const char *t, unsigned *lo, unsigned *hi)
{
	unsigned v[2] = {0, 0};
	int k = 0;
	const char *p = t;
	for (;;) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned long x = 0;
		while (*p >= '0' && *p <= '9') {
			x = x * 10 + (unsigned)(*p - '0');
			if (x > 65535)
				return false;
			p++;
		}
		v[k] = (unsigned)x;
		if (*p == ':' && k == 0) {
			k = 1;
			p++;
			continue;
		}
		if (*p)
			return false;
		break;
	}
	*lo = v[0];
	*hi = k ? v[1] : v[0];
	return *lo <= *hi;
}

/* What the server ports name, per protocol: tcp, udp, icmp, esp. */
struct proto_ports {
	bool used, any;
	imp_ports ports;
	struct strbuf words;
};

static void proto_use(struct proto_ports *pp, const char *word, bool any, unsigned lo, unsigned hi)
{
	pp->used = true;
	if (any)
		pp->any = true;
	else
		import_ports_add(&pp->ports, lo, hi);
	if (pp->words.len)
		sb_putc(&pp->words, ' ');
	sb_puts(&pp->words, word);
}

static bool server_word(const struct word *w, struct proto_ports pp[4], struct diags *d)
{
	char *slash = strchr(w->text, '/');
	if (!slash) {
		diag_error(d, &w->loc, "'%s' is not a FireHOL server port: write PROTOCOL/PORT, e.g. "
			   "tcp/80 or udp/6881:6889", w->text);
		return false;
	}
	char *proto = xstrndup(w->text, (size_t)(slash - w->text));
	const char *port = slash + 1;
	int k = !strcmp(proto, "tcp") || !strcmp(proto, "6") ? 0
		: !strcmp(proto, "udp") || !strcmp(proto, "17") ? 1
		: !strcmp(proto, "icmp") || !strcmp(proto, "1") ? 2
		: !strcmp(proto, "icmpv6") || !strcmp(proto, "58") || !strcmp(proto, "ipv6-icmp") ? 3
		: !strcmp(proto, "any") || !strcmp(proto, "all") ? 4
		: !strcmp(proto, "esp") || !strcmp(proto, "50") ? 5 : -1;
	free(proto);
	unsigned lo = 0, hi = 0;
	bool any = !strcmp(port, "any");
	if (k < 0) {
		diag_note(d, &w->loc, "protocol of '%s' cannot be written in pinhole (its flows are tcp, "
			  "udp, icmp and esp); left out", w->text);
		return true;
	}
	if (k >= 2 && !any) {
		diag_note(d, &w->loc, "'%s': FireHOL takes no port for this protocol; left out", w->text);
		return true;
	}
	if (k < 2 && !any && !port_range(port, &lo, &hi)) {
		bool name = is_name_start((unsigned char)port[0]);
		if (name) {
			diag_note(d, &w->loc, "'%s' names a port by /etc/services; write the number "
				  "(left out)", w->text);
			return true;
		}
		diag_error(d, &w->loc, "'%s' is not a port or range (e.g. tcp/80 or tcp/6881:6889, "
			   "0-65535, low to high)", w->text);
		return false;
	}
	if (k == 3)
		diag_note(d, &w->loc, "'%s' becomes an icmp flow, which pinhole applies as ICMP on IPv4 "
			  "and ICMPv6 on IPv6: restrict the rule's family with addresses if that matters",
			  w->text);
	if (k == 4) {
		diag_note(d, &w->loc, "'%s' is every protocol in FireHOL; pinhole's flows cover tcp, "
			  "udp, icmp and esp only", w->text);
		for (int j = 0; j < 4; j++)
			proto_use(&pp[j], w->text, true, 0, 0);
		return true;
	}
	proto_use(&pp[k == 3 ? 2 : k == 5 ? 3 : k], w->text, any, lo, hi);
	return true;
}

static void ports_copy(imp_ports *dst, const imp_ports *src)
{
	for (size_t i = 0; i < src->n; i++)
		import_ports_add(dst, src->v[i].lo, src->v[i].hi);
}

static bool service_app(const struct source *src, struct fh_service *s, struct imp_set *set,
			struct diags *d)
{
	if (!s->server && !s->client && !s->helper && !s->modules && !s->nat_modules)
		return true; /* every variable of it was left out, with a note */
	if (!s->server || !s->client) {
		const struct fh_var *v = s->server ? s->server : s->client ? s->client
				       : s->helper ? s->helper : s->modules ? s->modules : s->nat_modules;
		if (s->server || s->client)
			diag_note(d, &v->loc, "service '%s' has %s ports but no %s_%s_ports; FireHOL refuses "
				  "it too: not imported", s->name, s->server ? "server" : "client",
				  s->server ? "client" : "server", s->name);
		else
			diag_note(d, &v->loc, "'%s' belongs to no service with server and client ports in "
				  "this file; ignored", v->name);
		return true;
	}
	bool ok = true;
	imp_ports sport = {0};
	bool any_sport = false;
	words cw = split(src, s->client), sw = split(src, s->server);
	if (cw.n > IMPORT_MAX_WORDS || sw.n > IMPORT_MAX_WORDS) {
		diag_error(d, cw.n > IMPORT_MAX_WORDS ? &s->client->loc : &s->server->loc,
			   "more than %d ports in one variable", IMPORT_MAX_WORDS);
		words_free(&cw);
		words_free(&sw);
		return false;
	}
	for (size_t i = 0; i < cw.n; i++) {
		unsigned lo, hi;
		if (!strcmp(cw.v[i].text, "any"))
			any_sport = true;
		else if (!strcmp(cw.v[i].text, "default"))
			import_ports_add(&sport, 1024, 65535); /* FireHOL's DEFAULT_CLIENT_PORTS */
		else if (port_range(cw.v[i].text, &lo, &hi))
			import_ports_add(&sport, lo, hi);
		else {
			diag_error(d, &cw.v[i].loc, "'%s' is not a FireHOL client port: 'default', 'any', "
				   "a port or a range such as 1024:65535", cw.v[i].text);
			ok = false;
		}
	}
	if (!cw.n) {
		diag_error(d, &s->client->loc, "%s is empty; FireHOL's client ports are 'default', "
			   "'any' or ports", s->client->name);
		ok = false;
	}
	if (any_sport)
		VEC_FREE(sport);
	words_free(&cw);
	struct proto_ports pp[4] = {0};
	for (size_t i = 0; i < sw.n; i++)
		ok &= server_word(&sw.v[i], pp, d);
	if (!sw.n) {
		diag_error(d, &s->server->loc, "%s is empty", s->server->name);
		ok = false;
	}
	words_free(&sw);
	if (ok) {
		struct imp_app *a = import_app_new(set, s->name, &s->server->loc);
		a->source = xasprintf("FireHOL service %s, %s:%d", s->name, src->name,
				      s->server->loc.first_line);
		static const char *const pname[4] = {"tcp", "udp", "icmp", "esp"};
		static const unsigned pbit[4] = {PROTO_BIT_TCP, PROTO_BIT_UDP, PROTO_BIT_ICMP, PROTO_BIT_ESP};
		for (int k = 0; k < 4; k++) {
			if (!pp[k].used)
				continue;
			char *base = pp[k].any || !pp[k].ports.n ? xasprintf("%s-any", pname[k])
				     : xasprintf("%s-%u", pname[k], pp[k].ports.v[0].lo);
			struct imp_flow *f = import_flow_add(a, base, pbit[k]);
			free(base);
			if (k < 2) {
				ports_copy(&f->sport, &sport);
				if (!pp[k].any)
					ports_copy(&f->dport, &pp[k].ports);
			}
			f->source = xasprintf("%s:%d: %s %s", src->name, s->server->loc.first_line,
					      s->server->name, pp[k].words.s);
		}
		struct fh_var *hv[2] = {s->helper, s->modules};
		for (int k = 0; k < 2; k++) {
			if (!hv[k])
				continue;
			words hw = split(src, hv[k]);
			if (hw.n > IMPORT_MAX_WORDS) {
				diag_error(d, &hv[k]->loc, "more than %d words in one variable", IMPORT_MAX_WORDS);
				words_free(&hw);
				ok = false;
				break;
			}
			char *where = xasprintf("%s:%d: %s", src->name, hv[k]->loc.first_line, hv[k]->name);
			for (size_t i = 0; i < hw.n; i++)
				import_helper(a, hw.v[i].text, k == 1, &hw.v[i].loc, where, d);
			free(where);
			words_free(&hw);
		}
		if (s->nat_modules)
			diag_note(d, &s->nat_modules->loc, "%s: NAT modules serve NAT, which pinhole does "
				  "not do; left out", s->nat_modules->name);
	}
	for (int k = 0; k < 4; k++) {
		VEC_FREE(pp[k].ports);
		sb_free(&pp[k].words);
	}
	VEC_FREE(sport);
	return ok;
}

bool import_firehol(const struct source *src, struct imp_set *set, struct diags *d)
{
	struct scan s = {.src = src, .p = src->text, .end = src->text + src->len, .line = 1, .col = 1, .d = d};
	fh_vars vars = {0};
	bool ok = true;
	while (ok && peek(&s) != -1) {
		skip_blanks(&s);
		int c = peek(&s);
		if (c == -1)
			break;
		if (c == '\n' || c == ';') {
			next(&s);
			continue;
		}
		if (c == '#') {
			skip_line(&s);
			continue;
		}
		ok = statement(&s, &vars);
		if (!ok)
			break;
		skip_blanks(&s);
		c = peek(&s);
		if (c == '#')
			skip_line(&s);
		else if (c != -1 && c != '\n' && c != ';') {
			error_here(&s, 1, "unexpected text after the assignment (quote a value with blanks: "
				   "NAME=\"tcp/80 tcp/443\")");
			ok = false;
		}
	}
	fh_services svcs = {0};
	for (size_t i = 0; ok && i < vars.n; i++) {
		struct fh_var *v = &vars.v[i];
		if (svcs.n >= IMPORT_MAX_APPS) {
			diag_error(d, &v->loc, "more than %d services in one file: larger than any "
				   "services database", IMPORT_MAX_APPS);
			ok = false;
			break;
		}
		struct fh_var **sl = slot(&svcs, v);
		if (!sl) {
			diag_note(d, &v->loc, "variable '%s' is no service definition; ignored", v->name);
			continue;
		}
		if (v->expands) {
			diag_note(d, &v->loc, "%s uses shell expansion ($ or `), which the importer does not "
				  "run; ignored", v->name);
			continue;
		}
		if (*sl)
			diag_note(d, &v->loc, "%s is set again (line %d before); the last value counts, as "
				  "in bash", v->name, (*sl)->loc.first_line);
		*sl = v;
	}
	for (size_t i = 0; ok && i < svcs.n; i++)
		ok &= service_app(src, &svcs.v[i], set, d);
	for (size_t i = 0; i < svcs.n; i++)
		free(svcs.v[i].name);
	VEC_FREE(svcs);
	for (size_t i = 0; i < vars.n; i++)
		var_free(&vars.v[i]);
	VEC_FREE(vars);
	return ok;
}
