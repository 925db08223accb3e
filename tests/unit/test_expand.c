/* Expander: roles -> hooks, families, helpers, gateway zones, deny precedence, stateless. */
#include "backend.h"
#include "nft_lower.h"
#include "unit.h"

static void expect_rules(const char *policy, enum ir_hook hook, const char *want)
{
	struct compilation *c = unit_compile_ok(policy);
	char *got = unit_rules_of(c, hook);
	if (strcmp(got, want) != 0)
		fail_msg("policy: %s\nhook %s\nwant:\n%s\ngot:\n%s", policy, ir_hook_name(hook), want, got);
	free(got);
	unit_free(c);
}

static void test_client_opens_server_accepts(void **state)
{
	(void)state;
	expect_rules("allow ssh client;", IR_OUTPUT, "tcp dport 22 accept\n");
	expect_rules("allow ssh client;", IR_INPUT, "");
	expect_rules("allow ssh server;", IR_INPUT, "tcp dport 22 accept\n");
	expect_rules("allow ssh server;", IR_OUTPUT, "");
}

static void test_restriction_splits_families(void **state)
{
	(void)state;
	expect_rules("allow ssh server from 10.0.0.0/8, fd00::/8;", IR_INPUT,
		     "ip saddr 10.0.0.0/8 tcp dport 22 accept\n"
		     "ip6 saddr fd00::/8 tcp dport 22 accept\n");
	expect_rules("allow ssh client to 192.0.2.1;", IR_OUTPUT, "ip daddr 192.0.2.1 tcp dport 22 accept\n");
}

static void test_from_restricts_callbacks(void **state)
{
	(void)state;
	/* LANGUAGE.md: `from` limits SMB's server-to-client callbacks too. */
	expect_rules("allow smb server from 10.0.0.0/8;", IR_OUTPUT,
		     "ip daddr 10.0.0.0/8 udp sport . udp dport { 137 . 137, 138 . 138 } accept\n"
		     "ip daddr 10.0.0.0/8 tcp dport { 139, 445 } accept\n"
		     "ip daddr 10.0.0.0/8 tcp sport { 139, 445 } tcp dport 1024-65535 accept\n");
}

static void test_helper_assignment(void **state)
{
	(void)state;
	expect_rules("allow ftp client;", IR_OUTPUT,
		     "tcp dport 21 ct state new ct helper set \"ph_ftp_tcp\"\n"
		     "tcp dport 21 accept\n"
		     "meta l4proto tcp ct state related ct helper \"ftp\" accept\n");
	expect_rules("allow ftp client;", IR_INPUT, "meta l4proto tcp ct state related ct helper \"ftp\" accept\n");
	/* A server assigns the helper before input, in prerouting. */
	expect_rules("allow ftp server;", IR_PREROUTING, "tcp dport 21 ct state new ct helper set \"ph_ftp_tcp\"\n");
	struct compilation *c = unit_compile_ok("allow ftp server; allow ftp client;");
	/* One helper object for both: the nft backend declares it. */
	struct nft_plan plan;
	nft_plan_build(&c->ir, &plan);
	assert_int_equal(plan.helpers.n, 1);
	assert_string_equal(plan.helpers.v[0].type, "ftp");
	assert_string_equal(plan.helpers.v[0].name, "ph_ftp_tcp");
	assert_int_equal(plan.helpers.v[0].proto, IR_TCP);
	nft_plan_free(&plan);
	unit_free(c);
}

static void test_gateway_zones(void **state)
{
	(void)state;
	expect_rules("zone lan { interface lan0; address 10.1.0.0/24; }\nzone wan { interface wan0; }\n"
		     "allow ssh from lan to wan;", IR_FORWARD,
		     "iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 tcp dport 22 accept\n");
}

static void test_deny_wins_wherever_written(void **state)
{
	(void)state;
	expect_rules("allow tcp/23 server;\nreject tcp/23 server from 10.0.0.0/8;", IR_INPUT,
		     "ip saddr 10.0.0.0/8 tcp dport 23 reject with tcp reset\n"
		     "tcp dport 23 accept\n");
}

static void test_stateless_mirrors_returns(void **state)
{
	(void)state;
	expect_rules("established only;\nallow http client;", IR_INPUT,
		     "tcp sport 80 tcp flags & (rst | ack) != 0 accept\n");
	expect_rules("established only;\nallow ping client;", IR_INPUT,
		     "icmp type echo-reply accept\nicmpv6 type echo-reply accept\n");
	expect_rules("established only;\nallow dns client;", IR_INPUT,
		     "udp sport 53 accept\ntcp sport 53 tcp flags & (rst | ack) != 0 accept\n");
	/* No conntrack in stateless mode, not even built in. */
	struct compilation *c = unit_compile_ok("established only;\nallow ssh server;");
	for (size_t i = 0; i < c->ir.rules.n; i++)
		assert_null(ir_match_get(&c->ir.rules.v[i], IR_M_CT_STATE));
	unit_free(c);
}

static void test_stateless_fallback_warns(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("established only;\nallow ftp client;", &ok);
	assert_true(ok);
	const struct diag *d = unit_find_diag(c, "flow 'data-active' needs connection tracking");
	assert_non_null(d);
	assert_int_equal(d->sev, SEV_WARNING);
	assert_non_null(strstr(d->msg, "admits TCP from port 20 of any server to local ports 1024-65535"));
	unit_free(c);
}

static void test_log_unmatched_is_last(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ssh client;\nlog unmatched;");
	const struct ir_rule *last = &c->ir.rules.v[c->ir.rules.n - 1];
	assert_int_equal(last->action, IR_LOG);
	unit_free(c);
}

static void test_provenance(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("# x\nallow nfs server from 10.0.0.0/8;");
	bool seen = false;
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_origin *o = &c->ir.rules.v[i].origin;
		if (o->builtin)
			continue;
		assert_int_equal(o->line, 2);
		assert_string_equal(o->app, "nfs");
		assert_string_equal(o->stmt, "allow nfs server from 10.0.0.0/8");
		assert_string_equal(o->flow_file, "nfs.pin");
		assert_true(o->flow_line > 0);
		seen = true;
	}
	assert_true(seen);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_opens_server_accepts),
		cmocka_unit_test(test_restriction_splits_families),
		cmocka_unit_test(test_from_restricts_callbacks),
		cmocka_unit_test(test_helper_assignment),
		cmocka_unit_test(test_gateway_zones),
		cmocka_unit_test(test_deny_wins_wherever_written),
		cmocka_unit_test(test_stateless_mirrors_returns),
		cmocka_unit_test(test_stateless_fallback_warns),
		cmocka_unit_test(test_log_unmatched_is_last),
		cmocka_unit_test(test_provenance),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
