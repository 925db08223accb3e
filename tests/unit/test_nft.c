/* nft text renderer: rule syntax per IR field, and the whole-file shape. */
#include "backend.h"
#include "unit.h"

static void expect_text(const struct ir_rule *r, const char *want)
{
	char *got = unit_rule_text(r);
	if (strcmp(got, want) != 0)
		fail_msg("want: %s\ngot:  %s", want, got);
	free(got);
}

static void test_rule_fields(void **state)
{
	(void)state;
	struct ir_rule r;
	ir_rule_init(&r);
	r.hook = IR_INPUT;
	ir_rule_set_proto(&r, IR_TCP);
	struct ir_portrange dp[2] = {{139, 139}, {445, 445}}, sp = {1024, 65535};
	ir_rule_set_ports(&r, IR_M_DPORT, dp, 2);
	ir_rule_set_ports(&r, IR_M_SPORT, &sp, 1);
	expect_text(&r, "tcp sport 1024-65535 tcp dport { 139, 445 } accept");
	ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS_ANY, TCPF_ACK | TCPF_RST, 0);
	expect_text(&r, "tcp sport 1024-65535 tcp dport { 139, 445 } tcp flags & (rst | ack) != 0 accept");
	ir_match_del(&r, IR_M_TCP_FLAGS_ANY);
	r.action = IR_REJECT;
	expect_text(&r, "tcp sport 1024-65535 tcp dport { 139, 445 } reject with tcp reset");
	ir_match_del(&r, IR_M_SPORT);
	ir_match_del(&r, IR_M_DPORT);
	r.action = IR_ACCEPT;
	ir_rule_set_ct_state(&r, CT_RELATED);
	ir_match_put(&r, IR_M_CT_HELPER)->u.helper = xstrdup("ftp");
	expect_text(&r, "meta l4proto tcp ct state related ct helper \"ftp\" accept");
	ir_rule_free(&r);
}

static void test_family_and_icmp(void **state)
{
	(void)state;
	struct ir_rule r;
	ir_rule_init(&r);
	r.family = IR_V6;
	ir_rule_set_proto(&r, IR_ICMPV6);
	ir_rule_set_icmp_type(&r, 128);
	expect_text(&r, "icmpv6 type echo-request accept");
	r.family = IR_V4;
	ir_rule_set_proto(&r, IR_UDP);
	ir_match_del(&r, IR_M_ICMP_TYPE);
	expect_text(&r, "meta nfproto ipv4 meta l4proto udp accept");
	struct ir_prefix p = {.family = IR_V4, .len = 8, .addr = {10}};
	unit_set_addrs(&r, IR_M_SADDR, NULL, &p, 1);
	expect_text(&r, "ip saddr 10.0.0.0/8 meta l4proto udp accept");
	unit_set_addrs(&r, IR_M_SADDR, "office", &p, 1);
	expect_text(&r, "ip saddr @office_v4 meta l4proto udp accept");
	ir_match_put(&r, IR_M_FRAGMENT);
	expect_text(&r, "ip saddr @office_v4 ip frag-off & 0x1fff != 0 meta l4proto udp accept");
	ir_rule_free(&r);
}

static void test_same_port_is_a_pair_set(void **state)
{
	(void)state;
	struct ir_rule r;
	ir_rule_init(&r);
	ir_rule_set_proto(&r, IR_UDP);
	struct ir_portrange sp = {137, 138};
	ir_rule_set_ports(&r, IR_M_SAME_PORT, &sp, 1);
	expect_text(&r, "udp sport . udp dport { 137 . 137, 138 . 138 } accept");
	ir_rule_free(&r);
}

static void test_whole_file(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("define office = 10.0.0.0/8;\nallow ftp server from office;\n", &ok);
	assert_true(ok);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_info info = {.policy = "p.pin", .version = "t"};
	nft_render(&c->ir, &info, f);
	fclose(f);
	/* Replaces only pinhole's own table, atomically, on a fresh machine too. */
	assert_non_null(strstr(buf, "table inet pinhole {}\ndelete table inet pinhole\n\ntable inet pinhole {\n"));
	assert_null(strstr(buf, "flush ruleset"));
	assert_non_null(strstr(buf, "ct helper ph_ftp_tcp {\n\t\ttype \"ftp\" protocol tcp"));
	assert_non_null(strstr(buf, "set office_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\telements = { 10.0.0.0/8 }"));
	assert_non_null(strstr(buf, "chain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;"));
	assert_non_null(strstr(buf, "chain input {\n\t\ttype filter hook input priority filter; policy drop;"));
	/* every rule line carries its provenance */
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strstr(line, " accept") || strstr(line, " drop") || strstr(line, "helper set"))
			if (!strstr(line, "type filter"))
				assert_non_null(strstr(line, "comment \""));
	}
	free(buf);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule_fields),
		cmocka_unit_test(test_family_and_icmp),
		cmocka_unit_test(test_same_port_is_a_pair_set),
		cmocka_unit_test(test_whole_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
