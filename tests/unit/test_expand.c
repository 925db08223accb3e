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
		     "ip daddr 10.0.0.0/8 udp sport 137 udp dport 1024-65535 accept\n"
		     "ip daddr 10.0.0.0/8 tcp dport { 139, 445 } accept\n");
}

/* `unaddressed`: a zone that restricts a side also admits, on its interfaces only, what a
 * host without an address uses there; an address list cannot, and a note says so. */
static void test_unaddressed_zone(void **state)
{
	(void)state;
	const char *pol = "zone lan { interface lan0; address 10.1.0.0/16; }\n"
			  "app d { source \"t\"; flow q: client -> server udp sport 68 dport 67 unaddressed source \"t\";\n"
			  "flow a: server -> client udp sport 67 dport 68 unaddressed source \"t\"; }\n"
			  "allow d server from lan;";
	expect_rules(pol, IR_INPUT,
		     "iifname \"lan0\" ip saddr @lan_v4 udp sport 68 udp dport 67 accept\n"
		     "iifname \"lan0\" ip saddr 0.0.0.0 udp sport 68 udp dport 67 accept\n");
	expect_rules(pol, IR_OUTPUT,
		     "oifname \"lan0\" ip daddr @lan_v4 udp sport 67 udp dport 68 accept\n"
		     "oifname \"lan0\" ip daddr 255.255.255.255 udp sport 67 udp dport 68 accept\n");
	/* A client restricted to a zone's servers may broadcast its request there. */
	expect_rules("zone srv { interface lan0; address 10.1.0.1, fd00:1::1; }\nallow dhcp client to srv;",
		     IR_OUTPUT,
		     "oifname \"lan0\" ip daddr @srv_v4 udp sport 68 udp dport 67 accept\n"
		     "oifname \"lan0\" ip daddr 255.255.255.255 udp sport 68 udp dport 67 accept\n"
		     "oifname \"lan0\" ip daddr @srv_v4 udp sport 546 udp dport 547 accept\n"
		     "oifname \"lan0\" ip6 daddr @srv_v6 udp sport 546 udp dport 547 accept\n"
		     "oifname \"lan0\" ip daddr 255.255.255.255 udp sport 546 udp dport 547 accept\n"
		     "oifname \"lan0\" ip6 daddr { fe80::/10, ff02::/16 } udp sport 546 udp dport 547 accept\n");
	/* A deny stays as written; an address list gets a note and nothing more. */
	expect_rules("zone lan { interface lan0; address 10.1.0.0/16; }\ndeny dhcp server from lan;\nallow ssh server;",
		     IR_OUTPUT, "oifname \"lan0\" ip daddr @lan_v4 udp sport 67 udp dport 68 drop\n"
		     "oifname \"lan0\" ip daddr @lan_v4 udp sport 547 udp dport 546 drop\n");
	struct compilation *c = unit_compile_ok("allow dhcp server from 10.1.0.0/16;");
	int notes = 0;
	for (size_t i = 0; i < c->diags.n; i++)
		notes += strstr(c->diags.v[i].msg, "an address list cannot match them") != NULL;
	assert_int_equal(notes, 1);
	char *in = unit_rules_of(c, IR_INPUT);
	assert_null(strstr(in, "0.0.0.0"));
	free(in);
	unit_free(c);
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
		cmocka_unit_test(test_unaddressed_zone),
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
