/* Resolver: names, defines, zones, roles, addresses; every error located. */
#include "unit.h"

static void expect_error(const char *text, const char *needle, int line, int col)
{
	bool ok;
	struct compilation *c = unit_compile(text, &ok);
	assert_false(ok);
	const struct diag *d = unit_find_diag(c, needle);
	if (!d) {
		diag_print(&c->diags, stderr);
		fail_msg("no diagnostic containing '%s'", needle);
	}
	assert_int_equal(d->sev, SEV_ERROR);
	assert_int_equal(d->loc.first_line, line);
	assert_int_equal(d->loc.first_column, col);
	unit_free(c);
}

static void test_did_you_mean(void **state)
{
	(void)state;
	expect_error("allow shh client;\n", "did you mean 'ssh'", 1, 7);
	expect_error("define office = 10.0.0.0/8;\nallow ssh server from offce;\n", "did you mean 'office'", 2, 23);
}

static void test_addresses_strict(void **state)
{
	(void)state;
	expect_error("allow ssh server from 10.0.0.300;\n", "not an IPv4 address", 1, 23);
	expect_error("allow ssh server from 10.0.0.0/33;\n", "longer than 32", 1, 23);
	expect_error("allow ssh server from 10.1.2.3/16;\n", "did you mean 10.1.0.0/16", 1, 23);
	expect_error("allow ssh server from 2001:db8::1/32;\n", "host bits", 1, 23);
	expect_error("allow ssh server from fd00::/200;\n", "longer than 128", 1, 23);
}

static void test_roles_and_sides(void **state)
{
	(void)state;
	expect_error("allow ssh client from 10.0.0.0/8;\n", "use 'to'", 1, 18);
	expect_error("allow ssh server to 10.0.0.0/8;\n", "use 'from'", 1, 18);
	expect_error("allow ssh;\n", "needs a role", 1, 1);
	expect_error("zone lan { interface eth0; }\nallow ssh server from lan, 10.0.0.1;\n", "cannot be mixed", 2, 23);
}

static void test_duplicates(void **state)
{
	(void)state;
	expect_error("define a = 10.0.0.0/8;\nzone a { interface eth0; }\nallow ssh server from a;\n",
		     "'a' is already defined", 2, 6);
	expect_error("app x { flow f: client -> server tcp dport 1; flow f: client -> server tcp dport 2; }\n"
		     "allow x client;\n", "two flows named 'f'", 1, 52);
}

static void test_flow_validation(void **state)
{
	(void)state;
	expect_error("app x { flow f: client -> server tcp dport 21 helper \"rtsp\"; }\nallow x client;\n",
		     "no kernel conntrack helper 'rtsp'", 1, 54);
	expect_error("app x { flow f: client -> server icmp type echo-request dport 1; }\nallow x client;\n",
		     "ICMP has no ports", 1, 14);
	expect_error("app x { flow f: client -> server icmp type echo; }\nallow x client;\n",
		     "unknown ICMP type 'echo'", 1, 44);
}

static void test_defines_normalized_and_unused_warned(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("define a = 10.1.0.0/16, 10.0.0.0/8, fd00::/8;\n"
					     "define unused = 192.0.2.0/24;\n"
					     "allow ssh server from a;\n", &ok);
	assert_true(ok);
	assert_int_equal(c->res.defines.v[0].addrs.n, 2); /* 10.1/16 lies inside 10/8 */
	const struct diag *d = unit_find_diag(c, "define 'unused' is never used");
	assert_non_null(d);
	assert_int_equal(d->sev, SEV_WARNING);
	unit_free(c);
}

/* `management from`: literals and defines, both families, in order with their places; a
 * zone or an unknown name is an error at the word; the define counts as used. */
static void test_management(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("define admins = 192.0.2.0/24, 2001:db8:1::/48;\n"
					     "management from 10.0.0.0/8, admins;\n"
					     "management from fd00::/8;\n"
					     "allow ssh server from 10.0.0.0/8;\n", &ok);
	assert_true(ok);
	assert_int_equal(c->res.mgmt.n, 4);
	assert_int_equal(c->res.mgmt.v[0].p.len, 8);
	assert_int_equal(c->res.mgmt.v[0].loc.first_column, 17);
	assert_int_equal(c->res.mgmt.v[1].p.family, IR_V4);
	assert_int_equal(c->res.mgmt.v[2].p.family, IR_V6);
	assert_int_equal(c->res.mgmt.v[2].loc.first_column, 29); /* the define's name */
	assert_int_equal(c->res.mgmt.v[3].loc.first_line, 3);
	assert_null(unit_find_diag(c, "never used"));
	assert_int_equal(c->res.rules.n, 1); /* a declaration, no rule */
	unit_free(c);
	expect_error("zone lan { interface eth1; }\nmanagement from lan;\nallow ssh server;\n",
		     "not the zone 'lan'", 2, 17);
	expect_error("define admins = 192.0.2.0/24;\nmanagement from admin;\nallow ssh server;\n",
		     "did you mean 'admins'", 2, 17);
	expect_error("management from 10.0.0.0/33;\nallow ssh server;\n", "/33", 1, 17);
	expect_error("management 10.0.0.0/8;\nallow ssh server;\n", "expecting 'from'", 1, 12);
}

static void test_policy_app_shadows_library(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("app ssh \"my ssh\" { flow s: client -> server tcp dport 2222; }\n"
					     "allow ssh server;\n", &ok);
	assert_true(ok);
	assert_string_equal(c->res.rules.v[0].apps.v[0]->src->description, "my ssh");
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_did_you_mean),
		cmocka_unit_test(test_addresses_strict),
		cmocka_unit_test(test_roles_and_sides),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_flow_validation),
		cmocka_unit_test(test_defines_normalized_and_unused_warned),
		cmocka_unit_test(test_policy_app_shadows_library),
		cmocka_unit_test(test_management),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
