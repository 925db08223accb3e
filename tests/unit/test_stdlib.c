/* The standard library, table-driven: tests/stdlib/cases.txt lists, per policy, every rule it
 * must generate (see the file's header), and the tree-consistency checks: every app file has
 * cases, every name a case uses is an app, every flow has a source, the canonical names exist. */
#include <dirent.h>

#include "backend.h"
#include "nft_lower.h"
#include "unit.h"

#define CASES_FILE "tests/stdlib/cases.txt"

struct expect {
	char *text; /* "HOOK: RULE" */
	int line;
};

struct group {
	char *policy;
	int line; /* first line of the group */
	VEC(struct expect) want;
};

static VEC(struct group) groups;
typedef VEC(char *) strvec;

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static struct group *group_for(const char *policy, int line)
{
	for (size_t i = 0; i < groups.n; i++)
		if (!strcmp(groups.v[i].policy, policy))
			return &groups.v[i];
	struct group g = {.policy = xstrdup(policy), .line = line};
	VEC_PUSH(groups, g);
	return &groups.v[groups.n - 1];
}

/* Reads the table; false (with a message) on a malformed line. */
static bool load_cases(void)
{
	FILE *f = fopen(CASES_FILE, "r");
	if (!f) {
		print_error("cannot open %s (run from the repository root)\n", CASES_FILE);
		return false;
	}
	char buf[4096];
	int line = 0;
	bool ok = true;
	while (fgets(buf, sizeof(buf), f)) {
		line++;
		char *s = trim(buf);
		if (!*s || *s == '#')
			continue;
		char *arrow = strstr(s, " -> ");
		char *colon = arrow ? strchr(arrow + 4, ':') : NULL;
		if (!arrow || !colon) {
			print_error("%s:%d: expected 'POLICY -> HOOK: RULE'\n", CASES_FILE, line);
			ok = false;
			continue;
		}
		*arrow = '\0';
		struct group *g = group_for(trim(s), line);
		char *hook = trim(arrow + 4);
		*colon = '\0';
		char *rule = trim(colon + 1);
		struct expect e = {.text = xasprintf("%s: %s", trim(hook), rule), .line = line};
		VEC_PUSH(g->want, e);
	}
	fclose(f);
	return ok && groups.n > 0;
}

static void free_cases(void)
{
	for (size_t i = 0; i < groups.n; i++) {
		for (size_t j = 0; j < groups.v[i].want.n; j++)
			free(groups.v[i].want.v[j].text);
		VEC_FREE(groups.v[i].want);
		free(groups.v[i].policy);
	}
	VEC_FREE(groups);
}

static struct compilation *compile_group(const struct group *g, bool *ok)
{
	size_t n = strlen(g->policy);
	bool closed = n && (g->policy[n - 1] == ';' || g->policy[n - 1] == '}');
	char *text = xasprintf("%s%s\n", g->policy, closed ? "" : ";");
	struct compilation *c = unit_compile(text, ok);
	free(text);
	return c;
}

static void print_diags(const struct compilation *c)
{
	for (size_t i = 0; i < c->diags.n; i++)
		print_error("  diagnostic: %s\n", c->diags.v[i].msg);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every rule the policy generated (built-ins aside) and every helper object, as table text. */
static void actual_rules(const struct compilation *c, strvec *out)
{
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (r->origin.builtin)
			continue;
		char *t = nft_rule_text(&c->ir, r);
		VEC_PUSH(*out, xasprintf("%s: %s", ir_hook_name(r->hook), t));
		free(t);
	}
	/* The helper objects the nft table declares. */
	struct nft_plan plan;
	nft_plan_build(&c->ir, &plan);
	for (size_t i = 0; i < plan.helpers.n; i++) {
		const struct nft_helper_obj *h = &plan.helpers.v[i];
		VEC_PUSH(*out, xasprintf("helper: %s \"%s\" %s", h->name, h->type,
					 h->proto == IR_UDP ? "udp" : "tcp"));
	}
	nft_plan_free(&plan);
}

/* One group: the generated rules and the table's lines are the same multiset. */
static void run_case(void **state)
{
	const struct group *g = *state;
	bool ok;
	struct compilation *c = compile_group(g, &ok);
	if (!ok) {
		print_error("%s:%d: '%s' does not compile\n", CASES_FILE, g->line, g->policy);
		print_diags(c);
		unit_free(c);
		fail();
	}
	strvec got = {0};
	actual_rules(c, &got);
	VEC(const char *) want = {0};
	for (size_t i = 0; i < g->want.n; i++)
		VEC_PUSH(want, g->want.v[i].text);
	qsort(got.v, got.n, sizeof(*got.v), cmp_str);
	qsort(want.v, want.n, sizeof(*want.v), cmp_str);
	int bad = 0;
	size_t i = 0, j = 0;
	while (i < got.n || j < want.n) {
		int d = i == got.n ? 1 : j == want.n ? -1 : strcmp(got.v[i], want.v[j]);
		if (d == 0) {
			i++;
			j++;
		} else if (d < 0) {
			print_error("%s:%d: '%s' also generates  %s\n", CASES_FILE, g->line, g->policy, got.v[i++]);
			bad++;
		} else {
			int line = g->line;
			for (size_t k = 0; k < g->want.n; k++)
				if (g->want.v[k].text == want.v[j])
					line = g->want.v[k].line;
			print_error("%s:%d: '%s' does not generate  %s\n", CASES_FILE, line, g->policy, want.v[j++]);
			bad++;
		}
	}
	for (size_t k = 0; k < got.n; k++)
		free(got.v[k]);
	VEC_FREE(got);
	VEC_FREE(want);
	unit_free(c);
	assert_int_equal(bad, 0);
}

/* The library of the source tree, loaded alone. */
static struct compilation *load_library(void)
{
	static const char *dirs[] = {UNIT_LIBDIR};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1};
	struct compilation *c = malloc(sizeof(*c));
	bool ok = compile_library(&o, c);
	if (!ok)
		print_diags(c);
	assert_true(ok);
	return c;
}

/* Canonical names policies and tests rely on (issue 3). */
static const char *const canonical[] = {
	"kazaa", "bittorrent", "realplayer", "mms", "irc", "smb", "ldap", "dns", "kerberos", "ad",
	"msn", "nfs", "yim", "aim", "shareaza", "edonkey", "ftp", "ping", "ssh", "http", "https",
	"ntp", "smtp", "submission", "imap", "imaps", "pop3", "pop3s", "dhcp", "ldaps",
	"nfs-insecure", "nfs4", "ipp", "mdns", "llmnr", "wireguard", "openvpn", "ike", "rdp", "vnc",
	"postgresql", "mysql", "redis", "syslog", "snmp", "tftp", "sip", "rsync", "git",
};

static void canonical_names_exist(void **state)
{
	(void)state;
	struct compilation *c = load_library();
	for (size_t i = 0; i < sizeof(canonical) / sizeof(canonical[0]); i++) {
		const struct ast_app *a = library_find(&c->lib, canonical[i]);
		if (!a || strcmp(a->name, canonical[i]))
			print_error("canonical app '%s' is missing or only an alias\n", canonical[i]);
		assert_non_null(a);
		assert_string_equal(a->name, canonical[i]);
	}
	/* Name traps other tools fell into: no bare `dcc` (an anti-spam protocol elsewhere) and
	 * no bare `msnp` (6891 in one tool, 1863 in another). */
	assert_null(library_find(&c->lib, "dcc"));
	assert_null(library_find(&c->lib, "msnp"));
	unit_free(c);
}

static void every_flow_has_a_source(void **state)
{
	(void)state;
	struct compilation *c = load_library();
	int missing = 0;
	for (size_t i = 0; i < c->lib.apps.n; i++) {
		const struct ast_app *a = c->lib.apps.v[i];
		if (!a->source || !a->description) {
			print_error("%s:%d: app '%s' needs a description and a source\n", a->loc.src->name,
				    a->loc.first_line, a->name);
			missing++;
		}
		for (size_t k = 0; k < a->flows.n; k++) {
			const struct ast_flow *f = &a->flows.v[k];
			if (!f->source || !*f->source) {
				print_error("%s:%d: flow '%s' of app '%s' has no source\n", f->loc.src->name,
					    f->loc.first_line, f->name, a->name);
				missing++;
			}
		}
	}
	unit_free(c);
	assert_int_equal(missing, 0);
}

/* A server's port seen as the source of a new TCP connection to a client's high port is the
 * return traffic of the client's own connection (seed 001, FAQ section C.8): no flow of the
 * library may open one, except a helper's child (FTP's active data from port 20, which the
 * helper expects). */
static void no_tcp_opened_from_well_known_ports(void **state)
{
	(void)state;
	struct compilation *c = load_library();
	int bad = 0;
	for (size_t i = 0; i < c->lib.apps.n; i++) {
		const struct ast_app *a = c->lib.apps.v[i];
		for (size_t k = 0; k < a->flows.n; k++) {
			const struct ast_flow *f = &a->flows.v[k];
			/* A client opening from a reserved port (NFS) is not a server's port. */
			bool server_opens = f->from != ROLE_CLIENT || (f->both_ways && f->to != ROLE_CLIENT);
			if (!(f->protos & PROTO_BIT_TCP) || !f->sport.r.n || f->related.text || !server_opens)
				continue;
			bool all_low = true, high_dst = !f->dport.r.n;
			for (size_t r = 0; r < f->sport.r.n; r++)
				all_low &= f->sport.r.v[r].hi < 1024;
			for (size_t r = 0; r < f->dport.r.n; r++)
				high_dst |= f->dport.r.v[r].hi >= 1024;
			if (all_low && high_dst) {
				print_error("%s:%d: flow '%s' of app '%s' opens TCP from a well-known port "
					    "to high ports: that is return traffic (seed FAQ C.8)\n",
					    f->loc.src->name, f->loc.first_line, f->name, a->name);
				bad++;
			}
		}
	}
	unit_free(c);
	assert_int_equal(bad, 0);
}

static bool same_ports(const struct ast_ports *x, const struct ast_ports *y)
{
	if (x->same != y->same || x->r.n != y->r.n)
		return false;
	for (size_t i = 0; i < x->r.n; i++)
		if (x->r.v[i].lo != y->r.v[i].lo || x->r.v[i].hi != y->r.v[i].hi)
			return false;
	return true;
}

/* nfs-insecure is nfs without the reserved client port range: flow for flow. */
static void nfs_insecure_is_nfs_from_any_port(void **state)
{
	(void)state;
	struct compilation *c = load_library();
	const struct ast_app *n = library_find(&c->lib, "nfs"), *i = library_find(&c->lib, "nfs-insecure");
	assert_non_null(n);
	assert_non_null(i);
	assert_int_equal(n->flows.n, i->flows.n);
	for (size_t k = 0; k < n->flows.n; k++) {
		const struct ast_flow *a = &n->flows.v[k], *b = &i->flows.v[k];
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->from, b->from);
		assert_int_equal(a->to, b->to);
		assert_int_equal(a->protos, b->protos);
		assert_true(same_ports(&a->dport, &b->dport));
		assert_int_equal(a->is_negotiated, b->is_negotiated);
		assert_int_equal(a->fragments, b->fragments);
		assert_int_equal(a->on.n, b->on.n);
		assert_int_equal(b->sport.r.n, 0);
		if (a->from == ROLE_CLIENT) {
			assert_int_equal(a->sport.r.n, 1);
			assert_int_equal(a->sport.r.v[0].lo, 665);
			assert_int_equal(a->sport.r.v[0].hi, 1023);
		}
	}
	unit_free(c);
}

static bool name_listed(char **names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Every file holds the one app it is named after, and every app appears in some case as
 * client and as server; every case's policy names only apps (it compiles, and what it names
 * resolves). */
static void every_app_file_has_cases(void **state)
{
	(void)state;
	strvec covered = {0};
	int bad = 0;
	for (size_t i = 0; i < groups.n; i++) {
		bool ok;
		struct compilation *c = compile_group(&groups.v[i], &ok);
		if (!ok) {
			print_error("%s:%d: '%s' names something that is not an app, or does not compile\n",
				    CASES_FILE, groups.v[i].line, groups.v[i].policy);
			print_diags(c);
			bad++;
		}
		for (size_t r = 0; ok && r < c->res.rules.n; r++)
			for (size_t a = 0; a < c->res.rules.v[r].apps.n; a++) {
				/* "APP ROLE": each app is wanted in both roles */
				char *key = xasprintf("%s %s", c->res.rules.v[r].apps.v[a]->name,
						      ast_role_name(c->res.rules.v[r].role));
				if (!name_listed(covered.v, covered.n, key))
					VEC_PUSH(covered, key);
				else
					free(key);
			}
		unit_free(c);
	}
	struct compilation *lib = load_library();
	DIR *dh = opendir(UNIT_LIBDIR);
	assert_non_null(dh);
	struct dirent *e;
	size_t files = 0;
	while ((e = readdir(dh))) {
		size_t len = strlen(e->d_name);
		if (len <= 4 || strcmp(e->d_name + len - 4, ".pin") || e->d_name[0] == '.')
			continue;
		files++;
		char *name = xstrndup(e->d_name, len - 4);
		const struct ast_app *a = library_find(&lib->lib, name);
		const char *slash = a ? strrchr(a->loc.src->name, '/') : NULL;
		if (!a || strcmp(a->name, name) || !slash || strcmp(slash + 1, e->d_name)) {
			print_error("%s/%s: should define the app '%s'\n", UNIT_LIBDIR, e->d_name, name);
			bad++;
		} else {
			static const char *const roles[] = {"client", "server"};
			for (int k = 0; k < 2; k++) {
				char *key = xasprintf("%s %s", name, roles[k]);
				if (!name_listed(covered.v, covered.n, key)) {
					print_error("%s/%s: no line in %s allows '%s'\n", UNIT_LIBDIR,
						    e->d_name, CASES_FILE, key);
					bad++;
				}
				free(key);
			}
		}
		free(name);
	}
	closedir(dh);
	/* One app per file: as many apps as files. */
	if (lib->lib.apps.n != files) {
		print_error("%zu apps in %zu files of %s\n", lib->lib.apps.n, files, UNIT_LIBDIR);
		bad++;
	}
	unit_free(lib);
	for (size_t i = 0; i < covered.n; i++)
		free(covered.v[i]);
	VEC_FREE(covered);
	assert_int_equal(bad, 0);
}

int main(void)
{
	if (!load_cases()) {
		free_cases();
		return 1;
	}
	VEC(struct CMUnitTest) tests = {0};
	for (size_t i = 0; i < groups.n; i++) {
		struct CMUnitTest t = {.name = groups.v[i].policy, .test_func = run_case,
				       .initial_state = &groups.v[i]};
		VEC_PUSH(tests, t);
	}
	static const struct CMUnitTest checks[] = {
		cmocka_unit_test(canonical_names_exist),
		cmocka_unit_test(every_flow_has_a_source),
		cmocka_unit_test(no_tcp_opened_from_well_known_ports),
		cmocka_unit_test(nfs_insecure_is_nfs_from_any_port),
		cmocka_unit_test(every_app_file_has_cases),
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		VEC_PUSH(tests, checks[i]);
	int rc = _cmocka_run_group_tests("stdlib", tests.v, tests.n, NULL, NULL);
	VEC_FREE(tests);
	free_cases();
	return rc;
}
