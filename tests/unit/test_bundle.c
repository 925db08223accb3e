/* Bundles: `uses APP, ...;` expands to the flows of those apps; provenance names the app
 * that defines each flow; unknown names and cycles are errors at the name. */
#include "backend.h"
#include "unit.h"

/* The rule of this hook whose nft text is `text`, or NULL. */
static const struct ir_rule *find_rule(const struct compilation *c, enum ir_hook hook, const char *text)
{
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (r->hook != hook || r->origin.builtin)
			continue;
		char *t = nft_rule_text(&c->ir, r);
		bool same = !strcmp(t, text);
		free(t);
		if (same)
			return r;
	}
	return NULL;
}

static size_t app_rules(const struct compilation *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->ir.rules.n; i++)
		n += !c->ir.rules.v[i].origin.builtin;
	return n;
}

static void ad_names_the_real_apps(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ad client;\n");
	static const struct { const char *rule, *app, *flow, *file; } want[] = {
		{"tcp dport 389 accept", "ldap", "query", "ldap.pin"},
		{"udp dport 389 accept", "ldap", "query-udp", "ldap.pin"},
		{"udp dport 53 accept", "dns", "query", "dns.pin"},
		{"tcp dport 53 accept", "dns", "query-tcp", "dns.pin"},
		{"udp dport 88 accept", "kerberos", "kdc", "kerberos.pin"},
		{"tcp dport 88 accept", "kerberos", "kdc", "kerberos.pin"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct ir_rule *r = find_rule(c, IR_OUTPUT, want[i].rule);
		if (!r)
			print_error("allow ad client: no output rule '%s'\n", want[i].rule);
		assert_non_null(r);
		assert_string_equal(r->origin.app, want[i].app);
		assert_string_equal(r->origin.flow, want[i].flow);
		assert_string_equal(r->origin.flow_file, want[i].file);
		assert_string_equal(r->origin.stmt, "allow ad client");
	}
	unit_free(c);
}

/* A policy's own bundle of library apps, with a flow of its own; apps reached twice (ad uses
 * dns, and so does the bundle) give their flows once. */
static void policy_bundle(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(
		"app office \"office services\" {\n"
		"    flow print: client -> server tcp dport 631 source \"RFC 8010\";\n"
		"    uses ad, dns, https;\n"
		"}\n"
		"allow office client;\n");
	/* ipp 631 + ldap 2 + dns 2 + kerberos 4 + https 2 */
	assert_int_equal(app_rules(c), 11);
	const struct ir_rule *r = find_rule(c, IR_OUTPUT, "tcp dport 631 accept");
	assert_non_null(r);
	assert_string_equal(r->origin.app, "office");
	r = find_rule(c, IR_OUTPUT, "udp dport 443 accept");
	assert_non_null(r);
	assert_string_equal(r->origin.app, "https");
	unit_free(c);
}

/* A bundle resolves aliases, and the server role is the bundle's apps' server role. */
static void aliases_and_roles(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(
		"app chat \"chat\" { uses msn-messenger, irc-dcc; }\n"
		"allow chat server from 10.0.0.0/8;\n");
	assert_non_null(find_rule(c, IR_INPUT, "ip saddr 10.0.0.0/8 tcp dport 1863 accept"));
	assert_non_null(find_rule(c, IR_INPUT, "ip saddr 10.0.0.0/8 tcp dport 6667 accept"));
	assert_null(find_rule(c, IR_INPUT, "ip saddr 10.0.0.0/8 tcp dport 6891 accept"));
	unit_free(c);
}

static void expect_error(const char *text, const char *msg, int line, int col)
{
	bool ok;
	struct compilation *c = unit_compile(text, &ok);
	assert_false(ok);
	const struct diag *d = unit_find_diag(c, msg);
	if (!d) {
		print_error("no diagnostic containing \"%s\"; got:\n", msg);
		for (size_t i = 0; i < c->diags.n; i++)
			print_error("  %s\n", c->diags.v[i].msg);
	}
	assert_non_null(d);
	assert_int_equal(d->sev, SEV_ERROR);
	assert_non_null(d->loc.src);
	assert_int_equal(d->loc.first_line, line);
	assert_int_equal(d->loc.first_column, col);
	unit_free(c);
}

static void unknown_names(void **state)
{
	(void)state;
	expect_error("app web \"w\" {\n    uses https, htttp;\n}\nallow web client;\n",
		     "app 'web' uses unknown app 'htttp'; did you mean 'http'?", 2, 17);
	expect_error("app web \"w\" { uses zzzzzz; }\nallow web client;\n",
		     "app 'web' uses unknown app 'zzzzzz'", 1, 20);
}

static void cycles(void **state)
{
	(void)state;
	expect_error("app a \"a\" { uses b; }\napp b \"b\" { uses c; }\napp c \"c\" { uses a; }\n"
		     "allow a client;\n",
		     "app 'c' uses 'a', which leads back to it: a -> b -> c -> a", 3, 18);
	expect_error("app a \"a\" { uses a; }\nallow a client;\n",
		     "app 'a' uses 'a', which leads back to it: a -> a", 1, 18);
	/* a cycle is reported once, not once per app in it */
	bool ok;
	struct compilation *c = unit_compile("app a \"a\" { uses b; }\napp b \"b\" { uses a; }\n"
					     "allow a client;\n", &ok);
	assert_false(ok);
	size_t n = 0;
	for (size_t i = 0; i < c->diags.n; i++)
		n += strstr(c->diags.v[i].msg, "leads back") != NULL;
	assert_int_equal(n, 1);
	unit_free(c);
}

static void empty_app(void **state)
{
	(void)state;
	expect_error("app nothing \"n\" { source \"x\"; }\nallow nothing client;\n",
		     "app 'nothing' has no flows", 1, 5);
}

/* `uses` is a keyword of the app body only as a statement; the library's bundle is resolved
 * against the library alone, so a policy app named like a used app does not change it. */
static void policy_cannot_change_library_bundles(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(
		"app dns \"my dns\" { flow q: client -> server udp dport 5353 source \"x\"; }\n"
		"allow ad client;\n");
	assert_non_null(find_rule(c, IR_OUTPUT, "udp dport 53 accept"));
	assert_null(find_rule(c, IR_OUTPUT, "udp dport 5353 accept"));
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ad_names_the_real_apps),
		cmocka_unit_test(policy_bundle),
		cmocka_unit_test(aliases_and_roles),
		cmocka_unit_test(unknown_names),
		cmocka_unit_test(cycles),
		cmocka_unit_test(empty_app),
		cmocka_unit_test(policy_cannot_change_library_bundles),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
