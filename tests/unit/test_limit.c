/* Rate limits and log options: the grammar's numbers, what expansion makes of them (per
 * family, stateless SYN only, a limited log as a rule of its own), both renderers, the
 * evaluator and lint. */
#include "backend.h"
#include "exact.h"
#include "lint.h"
#include "packet.h"
#include "unit.h"

static void test_rule_limit_per_family(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ssh server limit 10/minute burst 3;\n");
	char *in = unit_rules_of(c, IR_INPUT);
	assert_string_equal(in,
		"meta nfproto ipv4 tcp dport 22 limit rate 10/minute burst 3 packets accept\n"
		"meta nfproto ipv6 tcp dport 22 limit rate 10/minute burst 3 packets accept\n");
	free(in);
	/* the answers are established traffic: never limited */
	char *out = unit_rules_of(c, IR_OUTPUT);
	assert_null(strstr(out, "limit"));
	free(out);
	unit_free(c);
}

static void test_per_source_meter(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow http server from 10.0.0.0/8 limit 2/second per source burst 4;\n");
	char *in = unit_rules_of(c, IR_INPUT);
	assert_string_equal(in, "ip saddr 10.0.0.0/8 tcp dport 80 update @ph_limit_1_v4 "
				"{ ip saddr limit rate 2/second burst 4 packets } accept\n");
	free(in);
	struct unit_capture cap;
	FILE *f = unit_capture_open(&cap);
	struct render_info info = {.version = "t", .policy = "p"};
	nft_render(&c->ir, &info, f);
	char *text = unit_captured(&cap);
	/* the meter forgets a source once its budget (4 at 2/second) would have refilled */
	assert_non_null(strstr(text, "set ph_limit_1_v4 {\n\t\ttype ipv4_addr\n\t\tsize 65535\n"
				     "\t\tflags dynamic,timeout\n\t\ttimeout 2s\n\t}"));
	free(text);
	const struct ir_rule *r = NULL;
	for (size_t i = 0; i < c->ir.rules.n && !r; i++)
		if (ir_match_get(&c->ir.rules.v[i], IR_M_LIMIT))
			r = &c->ir.rules.v[i];
	assert_non_null(r);
	char *ipt = ipt_rule_text(&c->ir, r, IR_V4);
	assert_non_null(strstr(ipt, " -m hashlimit --hashlimit-upto 2/sec --hashlimit-burst 4 "
				    "--hashlimit-mode srcip --hashlimit-name ph"));
	assert_non_null(strstr(ipt, "_2s4s --hashlimit-htable-expire 2000 -j ACCEPT\n"));
	free(ipt);
	unit_free(c);
}

static void test_ipt_rate_units(void **state)
{
	(void)state;
	/* written as iptables-save prints it back: the shortest unit holding the rate whole */
	struct compilation *c = unit_compile_ok("allow ssh server from 10.0.0.0/8, 192.168.0.0/16 limit 120/minute;\n");
	const struct ir_rule *r = NULL;
	for (size_t i = 0; i < c->ir.rules.n && !r; i++)
		if (ir_match_get(&c->ir.rules.v[i], IR_M_LIMIT) && c->ir.rules.v[i].family == IR_V4)
			r = &c->ir.rules.v[i];
	assert_non_null(r);
	char *ipt = ipt_rule_text(&c->ir, r, IR_V4);
	/* two lines (one per prefix), one shared table: one budget */
	char *first = strstr(ipt, "--hashlimit-upto 2/sec --hashlimit-burst 5 --hashlimit-name ph");
	assert_non_null(first);
	char *name = strstr(first, "--hashlimit-name ");
	char *end = strchr(name + 17, ' ');
	assert_non_null(end);
	char *tag = xstrndup(name, (size_t)(end - name));
	assert_non_null(strstr(end, tag)); /* the second line names the same table */
	free(tag);
	free(ipt);
	unit_free(c);
}

static void test_stateless_syn_only(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("established only;\nallow ssh server limit 5/second;\n");
	char *in = unit_rules_of(c, IR_INPUT);
	assert_string_equal(in,
		"meta nfproto ipv4 tcp dport 22 tcp flags & (syn | rst | ack) == syn limit rate 5/second burst 5 packets accept\n"
		"meta nfproto ipv4 tcp dport 22 tcp flags & (rst | ack) != 0 accept\n"
		"meta nfproto ipv6 tcp dport 22 tcp flags & (syn | rst | ack) == syn limit rate 5/second burst 5 packets accept\n"
		"meta nfproto ipv6 tcp dport 22 tcp flags & (rst | ack) != 0 accept\n");
	free(in);
	unit_free(c);
}

static void test_reject_over_budget_drops(void **state)
{
	(void)state;
	/* over its budget a reject must not fall through to the allow of the same port */
	struct compilation *c = unit_compile_ok("reject tcp/113 server limit 1/second;\nallow tcp/113 server;\n");
	char *in = unit_rules_of(c, IR_INPUT);
	assert_non_null(strstr(in, "meta nfproto ipv4 tcp dport 113 limit rate 1/second burst 5 packets "
				   "reject with tcp reset\nmeta nfproto ipv4 tcp dport 113 drop\n"));
	free(in);
	unit_free(c);
}

static void test_log_options(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ssh server limit 10/minute log level info;\n"
						"allow dns server log limit 5/minute group 3;\n"
						"log unmatched;\n");
	char *in = unit_rules_of(c, IR_INPUT);
	/* (the log prefix names the policy file, a temporary one here) */
	assert_non_null(strstr(in, "meta nfproto ipv4 tcp dport 22 limit rate 10/minute burst 5 packets "
				   "log prefix \"pinhole /tmp/"));
	assert_non_null(strstr(in, ".pin:1 \" level info accept\n"));
	/* a limited log is a rule of its own, just before the verdict, which stays unlimited */
	assert_non_null(strstr(in, "meta nfproto ipv4 udp dport 53 limit rate 5/minute burst 5 packets "
				   "log prefix \"pinhole /tmp/"));
	assert_non_null(strstr(in, ".pin:2 \" group 3\nmeta nfproto ipv4 udp dport 53 accept\n"));
	free(in);
	/* log unmatched is limited by default */
	bool found = false;
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (r->action != IR_LOG || !r->origin.builtin)
			continue;
		const struct ir_match *m = ir_match_get(r, IR_M_LIMIT);
		assert_non_null(m);
		assert_int_equal(m->u.limit.rate, LOG_UNMATCHED_RATE);
		assert_int_equal(m->u.limit.burst, LOG_UNMATCHED_BURST);
		found = true;
	}
	assert_true(found);
	unit_free(c);
	c = unit_compile_ok("log unmatched limit none;\n");
	for (size_t i = 0; i < c->ir.rules.n; i++)
		assert_null(ir_match_get(&c->ir.rules.v[i], IR_M_LIMIT));
	unit_free(c);
}

static void test_bad_limits(void **state)
{
	(void)state;
	static const struct { const char *text, *needle; } bad[] = {
		{"allow ssh server limit 10/minit;\n", "unknown unit 'minit'"},
		{"allow ssh server limit 0/second;\n", "a rate of 0 admits nothing"},
		{"allow ssh server limit 10/second burst 0;\n", "burst '0'"},
		{"allow ssh server limit 10;\n", "a rate is a count per"},
		{"deny ssh server limit 1/second;\n", "'limit' on 'deny'"},
		{"allow ssh server log level loud;\n", "unknown log level 'loud'"},
		{"allow ssh server log group 7100;\n", "pinholed reads"},
		{"allow ssh server limit none;\n", "leave out 'limit none'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bool ok;
		struct compilation *c = unit_compile(bad[i].text, &ok);
		if (ok || !unit_find_diag(c, bad[i].needle))
			fail_msg("'%s' should fail with '%s'", bad[i].text, bad[i].needle);
		unit_free(c);
	}
}

static void test_eval_and_lint(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ssh server limit 10/minute;\nallow ssh server from 10.0.0.0/8;\n");
	/* within the budget the limited rule decides; lint does not call the second rule dead,
	 * since what exceeds the budget goes on to it */
	struct ir_verdict v = unit_eval_text(c, "tcp 10.1.2.3:40000 -> 10.0.0.5:22 in syn");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_non_null(v.rule);
	assert_non_null(ir_match_get(v.rule, IR_M_LIMIT));
	const struct ir_rule *limited = v.rule, *plain = NULL;
	for (size_t i = 0; i < c->ir.rules.n && !plain; i++)
		if (c->ir.rules.v[i].origin.line == 2 && c->ir.rules.v[i].hook == IR_INPUT &&
		    c->ir.rules.v[i].family == limited->family)
			plain = &c->ir.rules.v[i];
	assert_non_null(plain);
	/* over the budget, the same packet goes on to the unlimited line */
	struct packet_text pt;
	char *why = NULL;
	int col;
	assert_true(packet_parse("tcp 10.1.2.3:40000 -> 10.0.0.5:22 in syn", &pt, &why, &col));
	const struct ir_match *spent = ir_match_get(limited, IR_M_LIMIT);
	struct ir_state st = {.spent = &spent, .nspent = 1};
	struct ir_verdict over = ir_eval_state(&c->ir, &pt.pkt, &st);
	assert_ptr_equal(over.rule, plain);
	/* the exact analysis: the first line is live (it decides what is within its budget
	 * from outside 10/8), the second too (what exceeds the budget) */
	struct exact x;
	assert_true(exact_analyze(&x, &c->ir, 2));
	assert_int_equal(x.st[0].cls, EX_LIVE);
	assert_int_equal(x.st[1].cls, EX_LIVE);
	exact_free(&x);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_limit_per_family),
		cmocka_unit_test(test_per_source_meter),
		cmocka_unit_test(test_ipt_rate_units),
		cmocka_unit_test(test_stateless_syn_only),
		cmocka_unit_test(test_reject_over_budget_drops),
		cmocka_unit_test(test_log_options),
		cmocka_unit_test(test_bad_limits),
		cmocka_unit_test(test_eval_and_lint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
