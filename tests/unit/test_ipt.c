/* iptables-restore renderer: match syntax per IR field, expansion of lists, fragment gates,
 * helpers in the raw table, range checks, family warnings and the whole-file shape. */
#include "backend.h"
#include "unit.h"

static const struct ir_ruleset no_helpers = {0};

static void expect_lines(const struct ir_rule *r, uint8_t family, const char *want)
{
	char *why = NULL;
	struct ir_ruleset rs = {0};
	rs.rules.v = (struct ir_rule *)r;
	rs.rules.n = 1;
	if (ipt_check(&rs, family, &why))
		fail_msg("ipt_check refused the rule: %s", why);
	char *got = ipt_rule_text(&no_helpers, r, family);
	if (strcmp(got, want) != 0)
		fail_msg("want:\n%sgot:\n%s", want, got);
	free(got);
}

/* A rule whose comment is "built-in rule: t" keeps expected lines short. The rule owns its
 * matches and strings: done_rule frees it. */
static void init_rule(struct ir_rule *r, enum ir_hook hook, uint8_t proto)
{
	ir_rule_init(r);
	r->hook = hook;
	if (proto)
		ir_rule_set_proto(r, proto);
	r->origin.builtin = "t";
}

static void done_rule(struct ir_rule *r)
{
	ir_rule_free(r);
}

#define C " -m comment --comment \"built-in rule: t\""

static void test_ports_and_flags(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_INPUT, IR_TCP);
	struct ir_portrange dp[2] = {{139, 139}, {445, 445}}, sp = {1024, 65535};
	ir_rule_set_ports(&r, IR_M_DPORT, dp, 2);
	ir_rule_set_ports(&r, IR_M_SPORT, &sp, 1);
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p tcp -m tcp --sport 1024:65535 -m multiport --dports 139,445" C " -j ACCEPT\n");
	/* The stateless return test: ACK or RST set, i.e. not both clear. */
	ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS_ANY, TCPF_ACK | TCPF_RST, 0);
	ir_rule_set_ports(&r, IR_M_DPORT, dp, 1);
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p tcp -m tcp --sport 1024:65535 --dport 139 ! --tcp-flags RST,ACK NONE" C " -j ACCEPT\n");
	/* Flags alone still need the tcp match; a mask test and an any test need two. */
	ir_match_del(&r, IR_M_SPORT);
	ir_match_del(&r, IR_M_DPORT);
	expect_lines(&r, IR_V6, "-A PINHOLE-INPUT -p tcp -m tcp ! --tcp-flags RST,ACK NONE" C " -j ACCEPT\n");
	ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS, TCPF_SYN | TCPF_ACK, TCPF_SYN);
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p tcp -m tcp --tcp-flags SYN,ACK SYN -m tcp ! --tcp-flags RST,ACK NONE" C " -j ACCEPT\n");
	ir_match_del(&r, IR_M_TCP_FLAGS_ANY);
	ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS, TCPF_SYN | TCPF_ACK, 0);
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p tcp -m tcp --tcp-flags SYN,ACK NONE" C " -j ACCEPT\n");
	done_rule(&r);
}

static void test_multiport_slices(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_OUTPUT, IR_UDP);
	/* 7 ranges (14 slots) and one port fill one multiport match exactly ... */
	struct ir_portrange p[9] = {{10, 11}, {20, 21}, {30, 31}, {40, 41}, {50, 51}, {60, 61}, {70, 71}, {80, 80}, {90, 90}};
	ir_rule_set_ports(&r, IR_M_DPORT, p, 8);
	expect_lines(&r, IR_V4, "-A PINHOLE-OUTPUT -p udp -m multiport --dports 10:11,20:21,30:31,40:41,50:51,60:61,70:71,80" C " -j ACCEPT\n");
	/* ... one more port starts a second line; a lone remainder uses the udp match. */
	ir_rule_set_ports(&r, IR_M_DPORT, p, 9);
	expect_lines(&r, IR_V4,
		     "-A PINHOLE-OUTPUT -p udp -m multiport --dports 10:11,20:21,30:31,40:41,50:51,60:61,70:71,80" C " -j ACCEPT\n"
		     "-A PINHOLE-OUTPUT -p udp -m udp --dport 90" C " -j ACCEPT\n");
	/* Two lists multiply. */
	struct ir_portrange s[2] = {{1, 1}, {2, 2}};
	ir_rule_set_ports(&r, IR_M_SPORT, s, 2);
	ir_rule_set_ports(&r, IR_M_DPORT, &p[7], 2);
	expect_lines(&r, IR_V4, "-A PINHOLE-OUTPUT -p udp -m multiport --sports 1,2 -m multiport --dports 80,90" C " -j ACCEPT\n");
	done_rule(&r);
}

static void test_same_port_pairs(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_OUTPUT, IR_UDP);
	struct ir_portrange sp = {137, 138};
	ir_rule_set_ports(&r, IR_M_SAME_PORT, &sp, 1);
	expect_lines(&r, IR_V4,
		     "-A PINHOLE-OUTPUT -p udp -m udp --sport 137 --dport 137" C " -j ACCEPT\n"
		     "-A PINHOLE-OUTPUT -p udp -m udp --sport 138 --dport 138" C " -j ACCEPT\n");
	done_rule(&r);
}

static void put_ifs(struct ir_rule *r, enum ir_match_kind k, char **names, size_t n)
{
	struct ir_ifset src = {n, names};
	ir_ifset_copy(&ir_match_put(r, k)->u.ifs, &src);
}

static void test_addresses_and_interfaces(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_FORWARD, 0);
	struct ir_prefix s[2] = {{IR_V4, 8, {10}}, {IR_V4, 32, {192, 0, 2, 7}}};
	struct ir_prefix d = {IR_V4, 24, {198, 51, 100, 0}};
	r.family = IR_V4;
	unit_set_addrs(&r, IR_M_SADDR, "office", s, 2);
	unit_set_addrs(&r, IR_M_DADDR, NULL, &d, 1);
	char *in[2] = {"lan0", "wlan*"}, *out[1] = {"wan0"};
	put_ifs(&r, IR_M_IIF, in, 2);
	put_ifs(&r, IR_M_OIF, out, 1);
	/* One line per prefix and per interface; '*' becomes iptables' '+'; hosts keep /32. */
	expect_lines(&r, IR_V4,
		     "-A PINHOLE-FORWARD -s 10.0.0.0/8 -d 198.51.100.0/24 -i lan0 -o wan0" C " -j ACCEPT\n"
		     "-A PINHOLE-FORWARD -s 10.0.0.0/8 -d 198.51.100.0/24 -i wlan+ -o wan0" C " -j ACCEPT\n"
		     "-A PINHOLE-FORWARD -s 192.0.2.7/32 -d 198.51.100.0/24 -i lan0 -o wan0" C " -j ACCEPT\n"
		     "-A PINHOLE-FORWARD -s 192.0.2.7/32 -d 198.51.100.0/24 -i wlan+ -o wan0" C " -j ACCEPT\n");
	done_rule(&r);
	struct ir_prefix s6 = {IR_V6, 128, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
	init_rule(&r, IR_INPUT, 0);
	r.family = IR_V6;
	unit_set_addrs(&r, IR_M_SADDR, NULL, &s6, 1);
	expect_lines(&r, IR_V6, "-A PINHOLE-INPUT -s 2001:db8::1/128" C " -j ACCEPT\n");
	done_rule(&r);
}

static void test_icmp_ct_and_targets(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_INPUT, IR_ICMP);
	r.family = IR_V4;
	ir_rule_set_icmp_type(&r, 8);
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p icmp -m icmp --icmp-type 8" C " -j ACCEPT\n");
	r.action = IR_REJECT;
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p icmp -m icmp --icmp-type 8" C " -j REJECT --reject-with icmp-port-unreachable\n");
	done_rule(&r);
	init_rule(&r, IR_OUTPUT, IR_ICMPV6);
	r.family = IR_V6;
	ir_rule_set_icmp_type(&r, 129);
	r.action = IR_DROP;
	expect_lines(&r, IR_V6, "-A PINHOLE-OUTPUT -p ipv6-icmp -m icmp6 --icmpv6-type 129" C " -j DROP\n");
	done_rule(&r);
	init_rule(&r, IR_INPUT, IR_UDP);
	r.action = IR_REJECT;
	expect_lines(&r, IR_V6, "-A PINHOLE-INPUT -p udp" C " -j REJECT --reject-with icmp6-port-unreachable\n");
	ir_rule_set_proto(&r, IR_TCP);
	expect_lines(&r, IR_V6, "-A PINHOLE-INPUT -p tcp" C " -j REJECT --reject-with tcp-reset\n");
	done_rule(&r);
	init_rule(&r, IR_INPUT, IR_TCP);
	ir_rule_set_ct_state(&r, CT_RELATED);
	ir_match_put(&r, IR_M_CT_HELPER)->u.helper = xstrdup("ftp");
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p tcp -m conntrack --ctstate RELATED -m helper --helper ftp" C " -j ACCEPT\n");
	done_rule(&r);
	init_rule(&r, IR_OUTPUT, 0);
	ir_rule_set_ct_state(&r, CT_ESTABLISHED | CT_RELATED);
	expect_lines(&r, IR_V4, "-A PINHOLE-OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED" C " -j ACCEPT\n");
	done_rule(&r);
}

static void test_log(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_INPUT, IR_TCP);
	r.origin.builtin = NULL;
	/* The backend words the prefix from the origin: "pinhole FILE:LINE ". */
	r.origin.file = "some/long/directory/examples/a-rather-long-policy-name.pin";
	r.origin.line = 1234;
	r.log = true;
	char *got = ipt_rule_text(&no_helpers, &r, IR_V4);
	/* Same matches twice: LOG first, then the verdict. The prefix keeps the line number
	 * and fits the LOG target's 29 characters. */
	const char *log_target = " -j LOG --log-prefix \"pinhole policy-name.pin:1234 \"\n";
	assert_int_equal(strlen("pinhole policy-name.pin:1234 "), 29);
	char *second = strchr(got, '\n') + 1;
	size_t matches = (size_t)(second - got) - strlen(log_target);
	assert_memory_equal(got + matches, log_target, strlen(log_target));
	assert_memory_equal(second, got, matches);
	assert_string_equal(second + matches, " -j ACCEPT\n");
	assert_non_null(strstr(got, "-A PINHOLE-INPUT -p tcp -m comment --comment \"some/long/"));
	free(got);
	/* nft has room for the whole prefix the IR once carried. */
	got = unit_rule_text(&r);
	assert_string_equal(got, "meta l4proto tcp log prefix "
			    "\"pinhole some/long/directory/examples/a-rather-long-policy-name.pin:1234 \" accept");
	free(got);
	done_rule(&r);
	/* A short prefix is kept as it is; an IR_LOG rule is the LOG line alone. What falls
	 * through (no policy file) logs as "pinhole drop HOOK ". */
	init_rule(&r, IR_FORWARD, 0);
	r.action = IR_LOG;
	r.log = true;
	expect_lines(&r, IR_V4, "-A PINHOLE-FORWARD" C " -j LOG --log-prefix \"pinhole drop forward \"\n");
	got = unit_rule_text(&r);
	assert_string_equal(got, "log prefix \"pinhole drop forward \"");
	free(got);
	done_rule(&r);
}

static void test_fragments(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_INPUT, IR_UDP);
	ir_match_put(&r, IR_M_FRAGMENT);
	r.family = IR_V4;
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -p udp -f" C " -j ACCEPT\n");
	/* IPv6: no -f, and the frag match cannot say "not first": a gate chain does. */
	r.family = IR_V6;
	expect_lines(&r, IR_V6,
		     ":PINHOLE-FRAG-1 - [0:0]\n"
		     "-A PINHOLE-INPUT -p udp -m frag" C " -j PINHOLE-FRAG-1\n"
		     "-A PINHOLE-FRAG-1 -m frag --fragfirst" C " -j RETURN\n"
		     "-A PINHOLE-FRAG-1 -p udp" C " -j ACCEPT\n");
	done_rule(&r);
}

static void test_helpers_in_raw(void **state)
{
	(void)state;
	/* The IR names the kernel helper type; iptables' CT target takes it as it is. */
	struct ir_rule r;
	init_rule(&r, IR_FORWARD, IR_TCP);
	struct ir_portrange dp = {21, 21};
	ir_rule_set_ports(&r, IR_M_DPORT, &dp, 1);
	r.action = IR_SET_HELPER;
	r.helper = xstrdup("ftp");
	ir_rule_set_ct_state(&r, CT_NEW);
	ir_rule_set_ifname(&r, IR_M_IIF, "lan0");
	ir_rule_set_ifname(&r, IR_M_OIF, "wan0");
	struct ir_ruleset rs = unit_ruleset_of(&r);
	/* Raw prerouting: no state match (conntrack has not run) and no output interface yet. */
	char *got = ipt_rule_text(&rs, &r, IR_V4);
	assert_string_equal(got, "-A PINHOLE-PREROUTING -i lan0 -p tcp -m tcp --dport 21" C " -j CT --helper ftp\n");
	free(got);
	r.hook = IR_OUTPUT;
	ir_match_del(&r, IR_M_IIF);
	got = ipt_rule_text(&rs, &r, IR_V6);
	assert_string_equal(got, "-A PINHOLE-OUTPUT -o wan0 -p tcp -m tcp --dport 21" C " -j CT --helper ftp\n");
	free(got);
	/* The kernel's irc helper is IPv4 only: ip6tables could not load its assignment. */
	free(r.helper);
	r.helper = xstrdup("irc");
	got = ipt_rule_text(&rs, &r, IR_V4);
	assert_string_equal(got, "-A PINHOLE-OUTPUT -o wan0 -p tcp -m tcp --dport 21" C " -j CT --helper irc\n");
	free(got);
	got = ipt_rule_text(&rs, &r, IR_V6);
	assert_string_equal(got, "# not on IPv6, the kernel's irc helper is IPv4 only: built-in rule: t\n");
	free(got);
	done_rule(&r);
}

static void expect_refused(const struct ir_rule *r, uint8_t family, const char *why_part)
{
	struct ir_ruleset rs = {0};
	rs.rules.v = (struct ir_rule *)r;
	rs.rules.n = 1;
	char *why = NULL;
	assert_ptr_equal(ipt_check(&rs, family, &why), r);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("want a reason containing '%s', got '%s'", why_part, why);
	free(why);
	/* Nothing is written for a ruleset that fails the check. */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_info info = {.policy = "p.pin", .version = "test"};
	assert_false(ipt_render(&rs, family, &info, f));
	fclose(f);
	assert_int_equal(len, 0);
	free(buf);
}

static void test_range_checks(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_INPUT, IR_TCP);
	ir_rule_set_ifname(&r, IR_M_IIF, "sixteen-chars-ab");
	expect_refused(&r, IR_V4, "longer than 15");
	ir_rule_set_ifname(&r, IR_M_IIF, "eth+");  /* iptables would read it as a wildcard */
	expect_refused(&r, IR_V4, "no literal '+'");
	ir_rule_set_ifname(&r, IR_M_IIF, "e*th");
	expect_refused(&r, IR_V4, "trailing '*'");
	ir_rule_set_ifname(&r, IR_M_IIF, "a b");
	expect_refused(&r, IR_V4, "character");
	ir_rule_set_ifname(&r, IR_M_IIF, "fifteen-chars-a"); /* the longest name passes */
	expect_lines(&r, IR_V4, "-A PINHOLE-INPUT -i fifteen-chars-a -p tcp" C " -j ACCEPT\n");
	ir_match_del(&r, IR_M_IIF);
	struct ir_portrange back = {90, 80};
	ir_rule_set_ports(&r, IR_M_DPORT, &back, 1);
	expect_refused(&r, IR_V4, "backwards");
	ir_match_del(&r, IR_M_DPORT);
	/* An ICMP type is a byte in the IR now (256 cannot be built); the type check still
	 * refuses a type iptables cannot match: one without ICMP. */
	ir_rule_set_proto(&r, IR_UDP);
	r.family = IR_V4;
	ir_rule_set_icmp_type(&r, 8);
	expect_refused(&r, IR_V4, "ICMP type 8");
	ir_match_del(&r, IR_M_ICMP_TYPE);
	ir_rule_set_proto(&r, 47);
	expect_refused(&r, IR_V4, "protocol 47");
	ir_rule_set_proto(&r, IR_UDP);
	ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS_ANY, TCPF_ACK, 0);
	expect_refused(&r, IR_V4, "TCP flags without TCP");
	ir_match_del(&r, IR_M_TCP_FLAGS_ANY);
	struct ir_prefix wrong = {IR_V4, 33, {10}};
	unit_set_addrs(&r, IR_M_SADDR, NULL, &wrong, 1);
	expect_refused(&r, IR_V4, "prefix length");
	done_rule(&r);
}

static char *render_policy(const char *policy, uint8_t family, bool stateless, struct compilation **cp)
{
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	if (!ok)
		diag_print(&c->diags, stderr);
	assert_true(ok);
	if (stateless != c->ir.stateless)
		fail_msg("policy mode");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_info info = {.policy = "p.pin", .version = "test"};
	assert_true(ipt_render(&c->ir, family, &info, f));
	fclose(f);
	*cp = c;
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

static void test_file_shape(void **state)
{
	(void)state;
	struct compilation *c;
	char *text = render_policy("allow ssh server from 10.0.0.0/8, fd00::/8;\nallow ftp client;", IR_V4, false, &c);
	/* Header with the exact load commands; --noflush, never a table flush. */
	assert_non_null(strstr(text, "(stateful mode, IPv4 rules)"));
	/* legacy: the one restore of a reload; otherwise (nft, or the first load) the file without
	 * its jump lines, each jump moved or added only where listing its chain shows it is not
	 * first (`-C` and -D read the whole table) */
	assert_non_null(strstr(text, "#   { iptables -V | grep -q legacy && iptables-restore -w --noflush FILE 2>/dev/null; } || {\n"));
	assert_non_null(strstr(text, "#     grep -v '^-[DI] ' FILE | iptables-restore -w --noflush &&\n"));
	assert_non_null(strstr(text, "do iptables -w -S $c | sed -n 2p | grep -qxF -- \"-A $c -j PINHOLE-$c\" || {\n"
				     "#       iptables -w -S $c | grep -qxF -- \"-A $c -j PINHOLE-$c\" && iptables -w -D $c -j PINHOLE-$c\n"
				     "#       iptables -w -I $c 1 -j PINHOLE-$c; }; done &&\n"));
	/* each table moves its jumps to the top as it commits; no other -D or -I */
	assert_non_null(strstr(text, "\n-D PREROUTING -j PINHOLE-PREROUTING\n-I PREROUTING 1 -j PINHOLE-PREROUTING\n"
				     "-D OUTPUT -j PINHOLE-OUTPUT\n-I OUTPUT 1 -j PINHOLE-OUTPUT\nCOMMIT\n*filter\n"));
	assert_non_null(strstr(text, "\n-D INPUT -j PINHOLE-INPUT\n-I INPUT 1 -j PINHOLE-INPUT\n-D FORWARD -j PINHOLE-FORWARD\n"
				     "-I FORWARD 1 -j PINHOLE-FORWARD\n-D OUTPUT -j PINHOLE-OUTPUT\n-I OUTPUT 1 -j PINHOLE-OUTPUT\nCOMMIT\n"));
	assert_int_equal(count(text, "\n-D "), 5);
	assert_int_equal(count(text, "\n-I "), 5);
	assert_null(strstr(text, "\n-F"));
	assert_null(strstr(text, "\n-X"));
	assert_null(strstr(text, ":INPUT"));
	/* raw first (helpers), then filter; chains declared before use; default drop last. */
	const char *raw = strstr(text, "\n*raw\n:PINHOLE-PREROUTING - [0:0]\n:PINHOLE-OUTPUT - [0:0]\n");
	const char *filter = strstr(text, "COMMIT\n*filter\n:PINHOLE-INPUT - [0:0]\n:PINHOLE-FORWARD - [0:0]\n:PINHOLE-OUTPUT - [0:0]\n");
	assert_non_null(raw);
	assert_non_null(filter);
	assert_true(raw < filter);
	assert_non_null(strstr(text, "-A PINHOLE-OUTPUT -p tcp -m tcp --dport 21 -m comment"));
	assert_non_null(strstr(text, "-j CT --helper ftp\n-D PREROUTING"));
	assert_non_null(strstr(text, "-A PINHOLE-INPUT -m comment --comment \"default policy: drop\" -j DROP\n-A PINHOLE-FORWARD"));
	assert_non_null(strstr(text, "-A PINHOLE-OUTPUT -m comment --comment \"default policy: drop\" -j DROP\n-D INPUT"));
	/* IPv4 only: the IPv6 prefix stays out; every rule line carries its provenance. */
	assert_non_null(strstr(text, "-s 10.0.0.0/8 -p tcp -m tcp --dport 22"));
	assert_null(strstr(text, "fd00"));
	assert_int_equal(count(text, "\n-A "), count(text, "-m comment --comment \""));
	assert_non_null(strstr(text, ":1 ssh flow session [ssh.pin:"));
	/* Rendering the same IR twice gives the same bytes. */
	char *again = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&again, &len);
	struct render_info info = {.policy = "p.pin", .version = "test"};
	assert_true(ipt_render(&c->ir, IR_V4, &info, f));
	fclose(f);
	assert_string_equal(text, again);
	free(again);
	free(text);
	unit_free(c);

	text = render_policy("established only;\nallow ssh server from fd00::/8;", IR_V6, true, &c);
	assert_non_null(strstr(text, "(stateless mode, IPv6 rules)"));
	assert_non_null(strstr(text, "#   { ip6tables -V | grep -q legacy && ip6tables-restore -w --noflush FILE 2>/dev/null; } || {\n"));
	assert_null(strstr(text, "conntrack"));
	assert_non_null(strstr(text, "-A PINHOLE-OUTPUT -d fd00::/8 -p tcp -m tcp --sport 22 ! --tcp-flags RST,ACK NONE"));
	free(text);
	unit_free(c);
}

static void expect_warning(const char *policy, uint8_t family, const char *want, size_t nwarn)
{
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	assert_true(ok);
	size_t before = c->diags.warnings;
	ipt_family_warnings(&c->ir, family, "p.pin", &c->diags);
	assert_int_equal(c->diags.warnings - before, nwarn);
	if (want) {
		bool found = false;
		for (size_t i = 0; i < c->diags.n; i++)
			found |= !strcmp(c->diags.v[i].msg, want) && c->diags.v[i].sev == SEV_WARNING;
		if (!found)
			fail_msg("no warning '%s'", want);
	}
	unit_free(c);
}

static void test_family_warnings(void **state)
{
	(void)state;
	const char *v6only = "allow ssh server from fd00::/8;";
	expect_warning(v6only, IR_V4, "p.pin has no IPv4 rules: the iptables file holds only the built-in "
		       "rules and drops all other IPv4 traffic", 2);
	expect_warning(v6only, IR_V4, "p.pin also has IPv6 rules: IPv6 traffic stays unfiltered unless the "
		       "ip6tables file (pinhole compile -t ip6tables) is loaded too", 2);
	expect_warning(v6only, IR_V6, NULL, 0);
	const char *v4only = "allow ssh server from 10.0.0.0/8;";
	expect_warning(v4only, IR_V4, NULL, 0);
	expect_warning(v4only, IR_V6, "p.pin has no IPv6 rules: the ip6tables file holds only the built-in "
		       "rules and drops all other IPv6 traffic", 2);
	/* Dual stack: no addresses means both families. */
	expect_warning("allow ssh server;", IR_V4, "p.pin also has IPv6 rules: IPv6 traffic stays "
		       "unfiltered unless the ip6tables file (pinhole compile -t ip6tables) is loaded too", 1);
	expect_warning("allow ssh server;", IR_V6, "p.pin also has IPv4 rules: IPv4 traffic stays "
		       "unfiltered unless the iptables file (pinhole compile -t iptables) is loaded too", 1);
}

static void test_empty_family_file_is_valid(void **state)
{
	(void)state;
	struct compilation *c;
	char *text = render_policy("allow ssh server from fd00::/8;", IR_V4, false, &c);
	/* Built-ins and the default drops only: the IR drops IPv4, so does the file. */
	assert_null(strstr(text, "ssh"));
	assert_int_equal(count(text, "-j DROP\n"), 3 + 3); /* invalid state + default, per chain */
	assert_non_null(strstr(text, "COMMIT\n*filter\n"));
	free(text);
	unit_free(c);
}

static void test_comment_sanitized_and_cut(void **state)
{
	(void)state;
	struct ir_rule r;
	init_rule(&r, IR_INPUT, 0);
	r.origin.builtin = NULL;
	char file[400];
	memset(file, 'a', sizeof(file) - 1);
	file[sizeof(file) - 1] = '\0';
	file[0] = '"';
	file[1] = '\\';
	file[2] = '\n';
	r.origin.file = file; /* outlives r */
	char *got = ipt_rule_text(&no_helpers, &r, IR_V4);
	const char *open = strstr(got, "--comment \"");
	assert_non_null(open);
	open += strlen("--comment \"");
	const char *close = strchr(open, '"');
	assert_non_null(close);
	assert_int_equal(close - open, 255);
	assert_memory_equal(open, "'''aaa", 6);
	assert_string_equal(close, "\" -j ACCEPT\n");
	free(got);
	done_rule(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports_and_flags),
		cmocka_unit_test(test_multiport_slices),
		cmocka_unit_test(test_same_port_pairs),
		cmocka_unit_test(test_addresses_and_interfaces),
		cmocka_unit_test(test_icmp_ct_and_targets),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_helpers_in_raw),
		cmocka_unit_test(test_range_checks),
		cmocka_unit_test(test_file_shape),
		cmocka_unit_test(test_family_warnings),
		cmocka_unit_test(test_empty_family_file_is_valid),
		cmocka_unit_test(test_comment_sanitized_and_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
