/* Evaluator: the oracle. Verdicts and deciding rules for concrete packets. */
#include "packet.h"
#include "unit.h"

static void expect(const struct compilation *c, const char *pkt, enum ir_action action, int line)
{
	struct ir_verdict v = unit_eval_text(c, pkt);
	if (v.action != action)
		fail_msg("%s: %s, expected %s", pkt, ir_action_name(v.action), ir_action_name(action));
	if (line == 0)
		assert_null(v.rule);
	else if (line < 0)
		assert_true(v.rule && v.rule->origin.builtin);
	else
		assert_true(v.rule && v.rule->origin.line == line);
}

static const char policy[] =
	"define office = 10.0.0.0/8, fd00:a::/64;\n"     /* 1 */
	"allow ssh server from office;\n"                 /* 2 */
	"allow http client;\n"                            /* 3 */
	"reject tcp/113 server;\n"                        /* 4 */
	"allow ftp client;\n"                             /* 5 */
	"allow smb server from 10.0.0.0/8;\n";            /* 6 */

static void test_stateful_verdicts(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	assert_true(ok);
	expect(c, "tcp 10.0.0.7:40000 -> 10.0.0.5:22 in", IR_ACCEPT, 2);
	expect(c, "tcp [fd00:a::7]:40000 -> [fd00:a::5]:22 in", IR_ACCEPT, 2);
	expect(c, "tcp 192.0.2.7:40000 -> 10.0.0.5:22 in", IR_DROP, 0);
	expect(c, "tcp 10.0.0.7:40000 -> 10.0.0.5:23 in", IR_DROP, 0);
	expect(c, "tcp 10.0.0.5:40000 -> 192.0.2.7:80 out", IR_ACCEPT, 3);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in", IR_DROP, 0); /* no connection: new */
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in ack established", IR_ACCEPT, -1);
	expect(c, "tcp 192.0.2.7:40000 -> 10.0.0.5:113 in", IR_REJECT, 4);
	expect(c, "tcp 192.0.2.7:20 -> 10.0.0.5:40000 in related helper ftp", IR_ACCEPT, 5);
	expect(c, "tcp 192.0.2.7:20 -> 10.0.0.5:40000 in related helper irc", IR_DROP, 0);
	expect(c, "udp 10.0.0.7:137 -> 10.255.255.255:137 in", IR_ACCEPT, 6);
	expect(c, "udp 10.0.0.7:137 -> 10.0.0.5:138 in", IR_DROP, 0); /* to=from only */
	/* From 139 to a client's high port is the session's return traffic (seed FAQ C.8):
	 * established, never a new connection. */
	expect(c, "tcp 10.0.0.5:139 -> 10.0.0.7:1030 out", IR_DROP, 0);
	expect(c, "tcp 10.0.0.5:139 -> 10.0.0.7:1030 out ack established", IR_ACCEPT, -1);
	expect(c, "tcp 10.0.0.5:445 -> 10.0.0.7:8080 out syn", IR_DROP, 0);
	/* NetBIOS name queries from an ephemeral port, unicast and broadcast, and the answer to a
	 * broadcast query (new on the answering host). */
	expect(c, "udp 10.0.0.7:40000 -> 10.0.0.5:137 in", IR_ACCEPT, 6);
	expect(c, "udp 10.0.0.7:40000 -> 10.255.255.255:137 in", IR_ACCEPT, 6);
	expect(c, "udp 10.0.0.5:137 -> 10.0.0.7:40000 out", IR_ACCEPT, 6);
	expect(c, "udp 10.0.0.5:137 -> 192.0.2.7:40000 out", IR_DROP, 0);
	expect(c, "tcp 10.0.0.5:40000 -> 10.0.0.7:22 out invalid", IR_DROP, -1);
	expect(c, "tcp 127.0.0.1:40000 -> 127.0.0.1:9 in", IR_ACCEPT, -1);
	expect(c, "icmpv6 fe80::1 -> fe80::2 in nd-neighbor-solicit", IR_ACCEPT, -1);
	expect(c, "icmp 192.0.2.7 -> 10.0.0.5 in echo-request", IR_DROP, 0);
	unit_free(c);
}

static void test_stateless_verdicts(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("established only;\nallow http client;\nallow nfs client;\n", &ok);
	assert_true(ok);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in syn ack", IR_ACCEPT, 2);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in ack", IR_ACCEPT, 2);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in rst", IR_ACCEPT, 2);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in syn", IR_DROP, 0);
	expect(c, "tcp 192.0.2.7:81 -> 10.0.0.5:40000 in ack", IR_DROP, 0);
	expect(c, "udp 192.0.2.7:2049 -> 10.0.0.5:1010 in", IR_ACCEPT, 3);
	expect(c, "udp [2001:db8::7]:0 -> [2001:db8::5]:0 in fragment", IR_ACCEPT, 3);
	expect(c, "tcp [2001:db8::7]:0 -> [2001:db8::5]:0 in fragment", IR_DROP, 0);
	unit_free(c);
}

static void test_gateway_interfaces(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("zone lan { interface lan0; }\nzone wan { interface \"wan*\"; }\n"
					     "allow https from lan to wan;\n", &ok);
	assert_true(ok);
	expect(c, "tcp 10.1.0.2:40000 -> 203.0.113.2:443 fwd iif lan0 oif wan0", IR_ACCEPT, 3);
	expect(c, "tcp 10.1.0.2:40000 -> 203.0.113.2:443 fwd iif lan0 oif wan7", IR_ACCEPT, 3);
	expect(c, "tcp 203.0.113.2:40000 -> 10.1.0.2:443 fwd iif wan0 oif lan0", IR_DROP, 0);
	expect(c, "tcp 10.1.0.2:40000 -> 203.0.113.2:443 fwd", IR_DROP, 0);
	unit_free(c);
}

/* `forward owned`: what is forwarded in or out by the zone's interfaces is accepted by the
 * owned rule (and marked so: explain and the iptables RETURN read the mark), before any
 * gateway rule; input from the zone stays the policy's; the exact analysis sees the same
 * verdicts, so the deny it makes moot is said to decide nothing (PH119, not a second
 * shadowed warning). */
static void test_owned_forward(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile_with("zone wan { interface wan0; }\n"                  /* 1 */
						  "zone ctr { interface docker0, \"br-*\"; forward owned; }\n"
						  "allow dns server from ctr;\n"                  /* 3 */
						  "deny ssh from wan to ctr;\n", &ok, true);       /* 4 */
	assert_true(ok);
	expect(c, "tcp 172.17.0.2:40000 -> 203.0.113.2:443 fwd iif docker0 oif wan0 syn", IR_ACCEPT, 2);
	expect(c, "tcp 203.0.113.2:40000 -> 172.18.0.2:22 fwd iif wan0 oif br-1a2b syn", IR_ACCEPT, 2);
	struct ir_verdict v = unit_eval_text(c, "udp 172.17.0.2:40000 -> 203.0.113.2:53 fwd iif docker0 oif wan0");
	assert_true(v.rule && v.rule->owned);
	expect(c, "udp 172.17.0.2:40000 -> 172.17.0.1:53 in iif docker0", IR_ACCEPT, 3);
	v = unit_eval_text(c, "udp 172.17.0.2:40000 -> 172.17.0.1:53 in iif docker0");
	assert_false(v.rule->owned);
	expect(c, "tcp 172.17.0.2:40000 -> 172.17.0.1:22 in iif docker0 syn", IR_DROP, 0);
	expect(c, "tcp 10.0.0.2:40000 -> 203.0.113.2:443 fwd iif lan0 oif wan0 syn", IR_DROP, 0);
	const struct diag *d = unit_find_diag(c, "leaves its forwarded traffic");
	assert_non_null(d);
	assert_int_equal(d->loc.first_line, 4);
	assert_null(unit_find_diag(c, "shadowed"));
	unit_free(c);
}

/* ir_rule_first_mismatch: matches agree with ir_rule_matches; the failing one is the first in
 * kind order; hook and family come before any match. */
static void test_first_mismatch(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	assert_true(ok);
	static struct packet_text pt;
	char *why = NULL;
	int col;
	assert_true(packet_parse("tcp 192.0.2.7:40000 -> 10.0.0.5:23 in", &pt, &why, &col));
	bool saw_addr = false, saw_hook = false, saw_family = false;
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		const struct ir_match *m = NULL;
		enum ir_miss miss = ir_rule_first_mismatch(r, &pt.pkt, NULL, &m);
		assert_int_equal(miss == IR_MISS_NONE, ir_rule_matches(r, &pt.pkt));
		assert_int_equal(miss == IR_MISS_MATCH, m != NULL);
		saw_hook |= miss == IR_MISS_HOOK;
		saw_family |= miss == IR_MISS_FAMILY;
		if (miss == IR_MISS_MATCH) {
			/* every match before the failing one passes */
			for (const struct ir_match *k = r->match.v; k < m; k++) {
				struct ir_rule one = *r;
				one.match.v = (struct ir_match *)k;
				one.match.n = 1;
				assert_true(ir_rule_matches(&one, &pt.pkt));
			}
		}
		if (r->origin.line == 2 && r->hook == IR_INPUT && r->family == IR_V4) {
			assert_int_equal(miss, IR_MISS_MATCH);
			assert_int_equal(m->kind, IR_M_SADDR); /* before the port, which fails too */
			saw_addr = true;
		}
	}
	assert_true(saw_addr && saw_hook && saw_family);
	unit_free(c);
}

static void test_path_clean(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"b.pin", "b.pin"}, {"./b.pin", "b.pin"}, {".//b.pin", "b.pin"}, {"././b.pin", "b.pin"},
		{"a//b.pin", "a/b.pin"}, {"a/./b.pin", "a/b.pin"}, {"/etc//pinhole/./fw.pin", "/etc/pinhole/fw.pin"},
		{"../b.pin", "../b.pin"}, {".", "."}, {"./", "."}, {"", ""}, {".hidden.pin", ".hidden.pin"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = util_path_clean(cases[i][0]);
		if (strcmp(got, cases[i][1]))
			fail_msg("util_path_clean('%s') = '%s', want '%s'", cases[i][0], got, cases[i][1]);
		free(got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stateful_verdicts),
		cmocka_unit_test(test_first_mismatch),
		cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_stateless_verdicts),
		cmocka_unit_test(test_gateway_interfaces),
		cmocka_unit_test(test_owned_forward),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
