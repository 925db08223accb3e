/* Whole-policy lint (exact): statements that add nothing, shadowed ones, denies that close nothing. */
#include "lint.h"
#include "unit.h"

static int warnings_with(const char *policy, const char *needle, int *line)
{
	bool ok;
	struct compilation *c = unit_compile_with(policy, &ok, true);
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
	/* https's flows hold tcp/443 (and QUIC): the port literal before it is unneeded */
	assert_int_equal(warnings_with("allow tcp/443 client;\nallow https client;\n", "adds nothing", &line), 1);
	assert_int_equal(line, 1);
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

static void test_shadowed(void **state)
{
	(void)state;
	int line = 0;
	/* union-aware: two denies together hide the allow, neither alone */
	assert_int_equal(warnings_with("deny ssh server from 10.0.0.0/9;\ndeny ssh server from 10.128.0.0/9;\n"
				       "allow ssh server from 10.0.0.0/8;\nallow http server;\n", "shadowed", &line), 1);
	assert_int_equal(line, 3);
	assert_int_equal(warnings_with("deny ssh server from 10.0.0.0/9;\nallow ssh server from 10.0.0.0/8;\n"
				       "allow http server;\n", "shadowed", NULL), 0);
	/* the message names both blocking lines and a witness */
	assert_int_equal(warnings_with("deny ssh server from 10.0.0.0/9;\ndeny ssh server from 10.128.0.0/9;\n"
				       "allow ssh server from 10.0.0.0/8;\nallow http server;\n",
				       "lines 1 and 2 decide", NULL), 1);
	assert_int_equal(warnings_with("deny ssh server;\nallow ssh server from 10.0.0.0/8;\nallow http server;\n",
				       "e.g. tcp 10.0.0.0:", NULL), 1);
}

static void test_compile_does_not_analyze(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("allow ssh client;\nallow ssh client;\n", &ok);
	assert_true(ok);
	for (size_t i = 0; i < c->diags.n; i++)
		assert_null(strstr(c->diags.v[i].msg, "adds nothing"));
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redundant_allow),
		cmocka_unit_test(test_useless_deny),
		cmocka_unit_test(test_shadowed),
		cmocka_unit_test(test_compile_does_not_analyze),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
