/* Semantic lint: statements that add nothing, denies that close nothing. */
#include "lint.h"
#include "unit.h"

static int warnings_with(const char *policy, const char *needle, int *line)
{
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	assert_true(ok);
	int n = 0;
	for (size_t i = 0; i < c->diags.n; i++) {
		if (c->diags.v[i].sev == SEV_WARNING && strstr(c->diags.v[i].msg, needle)) {
			n++;
			if (line)
				*line = c->diags.v[i].loc.first_line;
		}
	}
	unit_free(c);
	return n;
}

static void test_redundant_allow(void **state)
{
	(void)state;
	int line = 0;
	assert_int_equal(warnings_with("allow ssh client;\nallow ssh client;\n", "adds nothing", &line), 1);
	assert_int_equal(line, 2); /* the second of two identical lines */
	assert_int_equal(warnings_with("allow ssh server from 10.0.0.0/8;\nallow ssh server;\n",
				       "adds nothing", &line), 1);
	assert_int_equal(line, 1); /* narrower, even when written first */
	assert_int_equal(warnings_with("allow ssh server from 10.0.0.0/8;\nallow ssh server from 192.0.2.0/24;\n",
				       "adds nothing", NULL), 0);
	assert_int_equal(warnings_with("allow ssh client;\nallow ssh server;\n", "adds nothing", NULL), 0);
	/* one flow of https is covered by the port literal, the other (QUIC) is not */
	assert_int_equal(warnings_with("allow tcp/443 client;\nallow https client;\n", "adds nothing", NULL), 0);
	assert_int_equal(warnings_with("allow https client;\nallow tcp/443 client;\n", "adds nothing", &line), 1);
	assert_int_equal(line, 2);
}

static void test_useless_deny(void **state)
{
	(void)state;
	int line = 0;
	assert_int_equal(warnings_with("allow ssh server;\ndeny tcp/23 server;\n", "closes nothing", &line), 1);
	assert_int_equal(line, 2);
	assert_int_equal(warnings_with("allow ssh server;\ndeny ssh server from 10.9.0.0/16;\n",
				       "closes nothing", NULL), 0);
	/* a reject still answers, so it is never "useless" */
	assert_int_equal(warnings_with("allow ssh server;\nreject tcp/113 server;\n", "closes nothing", NULL), 0);
}

static void test_cover_and_overlap(void **state)
{
	(void)state;
	struct ir_rule a, b;
	ir_rule_init(&a);
	ir_rule_init(&b);
	a.hook = b.hook = IR_INPUT;
	ir_rule_set_proto(&a, IR_TCP);
	ir_rule_set_proto(&b, IR_TCP);
	struct ir_portrange wide = {1, 1000}, narrow = {22, 22}, other = {2000, 3000};
	ir_rule_set_ports(&a, IR_M_DPORT, &wide, 1);
	ir_rule_set_ports(&b, IR_M_DPORT, &narrow, 1);
	assert_true(lint_rule_covers(&a, &b));
	assert_false(lint_rule_covers(&b, &a));
	assert_true(lint_rules_overlap(&a, &b));
	ir_rule_set_ports(&b, IR_M_DPORT, &other, 1);
	assert_false(lint_rules_overlap(&a, &b));
	ir_match_del(&b, IR_M_DPORT);
	b.hook = IR_OUTPUT;
	assert_false(lint_rules_overlap(&a, &b));
	ir_rule_free(&a);
	ir_rule_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redundant_allow),
		cmocka_unit_test(test_useless_deny),
		cmocka_unit_test(test_cover_and_overlap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
