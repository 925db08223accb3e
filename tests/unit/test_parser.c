/* Parser: statements become the right nodes, errors recover at ';' and keep going. */
#include "unit.h"

static struct ast_policy parse(const char *text, struct diags *d)
{
	static struct source src;
	src = (struct source){.name = "p.pin", .text = (char *)text, .len = strlen(text)};
	struct ast_policy p = {0};
	parse_source(&src, &p, d);
	return p;
}

static void test_rule_shapes(void **state)
{
	(void)state;
	struct diags d = {0};
	struct ast_policy p = parse("allow msn, tcp/8080 client to 10.0.0.0/8, lan log;\n"
				    "reject smb server from 10.0.0.0/8;\n"
				    "allow http from lan to wan;\n", &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(p.stmts.n, 3);
	const struct ast_rule *r = &p.stmts.v[0]->u.rule;
	assert_int_equal(r->action, ACT_ALLOW);
	assert_int_equal(r->services.n, 2);
	assert_string_equal(r->services.v[0].name, "msn");
	assert_true(r->services.v[1].is_port);
	assert_int_equal(r->services.v[1].proto, IR_TCP);
	assert_int_equal(r->services.v[1].ports.lo, 8080);
	assert_int_equal(r->role, ROLE_CLIENT);
	assert_true(r->has_to);
	assert_int_equal(r->to.n, 2);
	assert_true(r->log);
	assert_int_equal(p.stmts.v[1]->u.rule.action, ACT_REJECT);
	assert_int_equal(p.stmts.v[2]->u.rule.role, ROLE_NONE);
	assert_true(p.stmts.v[2]->u.rule.has_from && p.stmts.v[2]->u.rule.has_to);
	assert_int_equal(p.stmts.v[1]->loc.first_line, 2);
	ast_policy_free(&p);
	diag_free(&d);
}

static void test_app_and_flows(void **state)
{
	(void)state;
	struct diags d = {0};
	struct ast_policy p = parse(
		"app smb \"SMB\" alias samba, cifs {\n"
		"  source \"seed 000\";\n"
		"  flow browse: any <-> any udp sport 137-138 dport same broadcast;\n"
		"  flow s: client -> server tcp, udp dport 139, 445 source \"x\";\n"
		"  flow d: server -> client tcp sport 20 related \"ftp\";\n"
		"  flow e: client -> server icmp type echo-request;\n"
		"  flow f: client -> client tcp dport 6891 negotiated msn;\n"
		"}\n", &d);
	assert_int_equal(d.errors, 0);
	assert_int_equal(p.stmts.n, 1);
	const struct ast_app *a = p.stmts.v[0]->u.app;
	assert_string_equal(a->name, "smb");
	assert_string_equal(a->description, "SMB");
	assert_int_equal(a->aliases.n, 2);
	assert_string_equal(a->source, "seed 000");
	assert_int_equal(a->flows.n, 5);
	const struct ast_flow *b = &a->flows.v[0];
	assert_true(b->both_ways && b->broadcast && b->dport.same);
	assert_int_equal(b->from, ROLE_ANY);
	assert_int_equal(b->sport.r.v[0].lo, 137);
	assert_int_equal(b->sport.r.v[0].hi, 138);
	assert_int_equal(a->flows.v[1].protos, PROTO_BIT_TCP | PROTO_BIT_UDP);
	assert_int_equal(a->flows.v[1].dport.r.n, 2);
	assert_string_equal(a->flows.v[2].related.text, "ftp");
	assert_string_equal(a->flows.v[3].icmp_types.v[0].text, "echo-request");
	assert_true(a->flows.v[4].is_negotiated);
	assert_string_equal(a->flows.v[4].negotiated.text, "msn");
	char *t = flow_format(&a->flows.v[0]);
	assert_string_equal(t, "any <-> any udp sport 137-138 dport same broadcast");
	free(t);
	ast_policy_free(&p);
	diag_free(&d);
}

static void test_recovers_and_reports_every_statement(void **state)
{
	(void)state;
	struct diags d = {0};
	struct ast_policy p = parse("allow ssh client\nallow http client;\n"
				    "allow dns client;\nallow ntp ntp;\nallow ping client;\n", &d);
	assert_int_equal(d.errors, 2);
	assert_int_equal(d.v[0].loc.first_line, 2);
	assert_non_null(strstr(d.v[0].msg, "missing ';'"));
	assert_int_equal(d.v[1].loc.first_line, 4);
	/* the good statements after each error are still there */
	assert_int_equal(p.stmts.n, 2);
	ast_policy_free(&p);
	diag_free(&d);
}

static void test_twice_given(void **state)
{
	(void)state;
	struct diags d = {0};
	struct ast_policy p = parse("allow ssh client server;\n"
				    "app x { flow a: client -> server tcp dport 1 dport 2; }\n", &d);
	assert_int_equal(d.errors, 2);
	assert_non_null(strstr(d.v[0].msg, "one role"));
	assert_non_null(strstr(d.v[1].msg, "'dport' given twice"));
	ast_policy_free(&p);
	diag_free(&d);
}

static void test_deep_error_storm_stops(void **state)
{
	(void)state;
	struct strbuf sb = {0};
	for (int i = 0; i < 200; i++)
		sb_puts(&sb, "allow = ;\n");
	struct diags d = {0};
	struct ast_policy p = parse(sb.s, &d);
	assert_true(d.errors <= MAX_ERRORS + 1);
	ast_policy_free(&p);
	diag_free(&d);
	sb_free(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_shapes),
		cmocka_unit_test(test_app_and_flows),
		cmocka_unit_test(test_recovers_and_reports_every_statement),
		cmocka_unit_test(test_twice_given),
		cmocka_unit_test(test_deep_error_storm_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
