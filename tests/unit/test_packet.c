/* The PACKET argument of explain. */
#include "packet.h"
#include "unit.h"

static void test_forms(void **state)
{
	(void)state;
	struct packet_text pt;
	char *why = NULL;
	int col = 0;
	assert_true(packet_parse("tcp 192.0.2.7:40000 -> 10.0.0.5:2049 in", &pt, &why, &col));
	assert_int_equal(pt.pkt.family, IR_V4);
	assert_int_equal(pt.pkt.hook, IR_INPUT);
	assert_int_equal(pt.pkt.sport, 40000);
	assert_int_equal(pt.pkt.dport, 2049);
	assert_int_equal(pt.pkt.tcp_flags, TCPF_SYN);
	assert_int_equal(pt.pkt.ct_state, CT_NEW);
	assert_true(packet_parse("udp [fd00::7]:53 -> [fd00::5]:5353 out established", &pt, &why, &col));
	assert_int_equal(pt.pkt.family, IR_V6);
	assert_int_equal(pt.pkt.ct_state, CT_ESTABLISHED);
	assert_true(packet_parse("icmp fd00::7 -> fd00::5 fwd echo-reply iif eth0 oif eth1", &pt, &why, &col));
	assert_int_equal(pt.pkt.l4proto, IR_ICMPV6);
	assert_int_equal(pt.pkt.icmp_type, 129);
	assert_string_equal(pt.pkt.iif, "eth0");
	assert_true(packet_parse("tcp 1.2.3.4:80 -> 5.6.7.8:1049 in syn ack established", &pt, &why, &col));
	assert_int_equal(pt.pkt.tcp_flags, TCPF_SYN | TCPF_ACK);
	char *d = packet_describe(&pt.pkt);
	assert_string_equal(d, "tcp 1.2.3.4:80 -> 5.6.7.8:1049 in syn ack established");
	free(d);
}

static void test_errors_point_at_the_word(void **state)
{
	(void)state;
	static const struct { const char *pkt, *msg; int col; } bad[] = {
		{"tcp 192.0.2.7 -> 10.0.0.5:22 in", "needs a port", 5},
		{"tcp 192.0.2.7:1 -> 10.0.0.5:70000 in", "not a port", 20},
		{"sctp 1.2.3.4:1 -> 1.2.3.5:2 in", "protocol must be", 1},
		{"tcp 1.2.3.4:1 => 1.2.3.5:2 in", "expected '->'", 15},
		{"tcp 1.2.3.4:1 -> 1.2.3.5:2 sideways", "direction", 28},
		{"udp 1.2.3.4:1 -> 1.2.3.5:2 in syn", "TCP flags", 31},
		{"tcp 1.2.3.4:1 -> [fd00::1]:2 in", "different families", 18},
		{"icmp 1.2.3.4 -> 1.2.3.5 in packet-too-big", "IPv4 has no ICMP type", 28},
		{"tcp 1.2.3.4:1 -> 1.2.3.5:2 in wobble", "unknown packet attribute", 31},
		{"tcp", "a packet is", 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct packet_text pt;
		char *why = NULL;
		int col = 0;
		assert_false(packet_parse(bad[i].pkt, &pt, &why, &col));
		if (!strstr(why, bad[i].msg) || col != bad[i].col)
			fail_msg("%s: got '%s' at %d", bad[i].pkt, why, col);
		free(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_errors_point_at_the_word),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
