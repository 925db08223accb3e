/* Address translation: what expansion makes of masquerade, snat and forward, and how the
 * evaluator runs a packet through DNAT, the filter and SNAT. */
#include "packet.h"
#include "unit.h"

static const char *const GW =
	"zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }\n"
	"zone wan { interface wan0; }\n"
	"allow https from lan to wan;\n"
	"masquerade from lan to wan;\n"
	"forward tcp/8443 from wan to 10.1.0.3 port 443 hairpin lan;\n"
	"forward udp/53 from wan to fd00:1::3;\n";

static void test_nat_rules(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(GW);
	char *dst = unit_rules_of(c, IR_DSTNAT), *src = unit_rules_of(c, IR_SRCNAT);
	assert_string_equal(dst,
		"iifname \"wan0\" meta nfproto ipv4 fib daddr type local tcp dport 8443 dnat ip to 10.1.0.3:443\n"
		"iifname \"lan0\" ip saddr @lan_v4 fib daddr type local tcp dport 8443 dnat ip to 10.1.0.3:443\n"
		"iifname \"wan0\" meta nfproto ipv6 fib daddr type local udp dport 53 dnat ip6 to fd00:1::3\n");
	/* IPv4 only: IPv6 stays untranslated unless `family` asks */
	assert_string_equal(src,
		"oifname \"wan0\" ip saddr @lan_v4 masquerade\n"
		"oifname \"lan0\" ip saddr @lan_v4 ip daddr 10.1.0.3 tcp dport 443 ct status dnat masquerade\n");
	free(dst);
	free(src);
	unit_free(c);
}

static void test_nat_eval(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(GW);
	/* to this host's port: rewritten, then admitted by the forward's own rule */
	struct ir_verdict v = unit_eval_text(c, "tcp 203.0.113.2:40000 -> 203.0.113.1:8443 in iif wan0");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_non_null(v.dnat);
	assert_int_equal(v.dnat->action, IR_DNAT);
	assert_int_equal(v.after.hook, IR_FORWARD);
	assert_int_equal(v.after.dport, 443);
	assert_true(v.after.dnat);
	assert_non_null(v.rule);
	assert_int_equal(v.rule->origin.line, 5);
	/* the inside host addressed directly from wan: no translation, nothing admits it */
	v = unit_eval_text(c, "tcp 203.0.113.2:40000 -> 10.1.0.3:443 fwd iif wan0 oif lan0");
	assert_int_equal(v.action, IR_DROP);
	assert_null(v.dnat);
	/* a forwarded packet to port 8443 of another host is not this host's port */
	v = unit_eval_text(c, "tcp 203.0.113.2:40000 -> 10.1.0.9:8443 fwd iif wan0 oif lan0");
	assert_null(v.dnat);
	assert_int_equal(v.action, IR_DROP);
	/* an established packet of the translated connection: conntrack, not the nat chain */
	v = unit_eval_text(c, "tcp 203.0.113.2:40000 -> 10.1.0.3:443 fwd ack established iif wan0");
	assert_null(v.dnat);
	assert_int_equal(v.action, IR_ACCEPT);
	/* lan to the internet: accepted, then masqueraded */
	v = unit_eval_text(c, "tcp 10.1.0.2:40000 -> 192.0.2.9:443 fwd iif lan0 oif wan0");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_non_null(v.snat);
	assert_int_equal(v.snat->action, IR_MASQUERADE);
	/* IPv6 from lan leaves untranslated */
	v = unit_eval_text(c, "tcp [fd00:1::2]:40000 -> [2001:db8::9]:443 fwd iif lan0 oif wan0");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_null(v.snat);
	/* hairpin: a lan host by the public address, masqueraded back into lan */
	v = unit_eval_text(c, "tcp 10.1.0.2:40000 -> 203.0.113.1:8443 in iif lan0 oif lan0");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_non_null(v.dnat);
	assert_non_null(v.snat);
	/* IPv6 port forward, udp */
	v = unit_eval_text(c, "udp [2001:db8:2::2]:5000 -> [2001:db8:2::1]:53 in iif wan0");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_non_null(v.dnat);
	unit_free(c);
}

static void test_nat_snat_family(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("zone wan { interface wan0; }\n"
						"snat from 10.2.0.0/24, fd00:2::/64 to wan as 198.51.100.7;\n"
						"masquerade to wan family ipv6;\n");
	char *src = unit_rules_of(c, IR_SRCNAT);
	assert_string_equal(src,
		"oifname \"wan0\" ip saddr 10.2.0.0/24 snat ip to 198.51.100.7\n"
		"oifname \"wan0\" meta nfproto ipv6 masquerade\n");
	free(src);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nat_rules),
		cmocka_unit_test(test_nat_eval),
		cmocka_unit_test(test_nat_snat_family),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
