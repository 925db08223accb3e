/* The IRC DCC parser (runtime/proto/irc.c). */
#include "proto_feed.h"

#define TCP IPPROTO_TCP

static void test_send_both_directions(void **state)
{
	(void)state;
	/* irssi's form (dcc_make_address: the IPv4 address as a decimal integer), sent by this
	 * host; then a relayed offer from a peer, with IRCv3 tags, arriving from the server. */
	struct feed f[] = {
		FEED(PH_ORIG, "PRIVMSG bob :\001DCC SEND notes.txt 3232235777 5000 1234\001\r\n"),
		FEED(PH_REPLY, "@time=2026-01-01T00:00:00.000Z;msgid=abc :alice!a@host PRIVMSG carol "
			       ":\001DCC SEND \"my file.tar.gz\" 167772161 40000 99\001\r\n"),
	};
	struct ph_offer want[] = {named("192.168.1.1", TCP, 5000, 5000, "DCC SEND"),
				  named("10.0.0.1", TCP, 40000, 40000, "DCC SEND")};
	check_conv(PH_PROTO_IRC, TCP, f, 2, want, 2, false);
}

static void test_ipv6_chat_and_notice(void **state)
{
	(void)state;
	struct feed f[] = {
		FEED(PH_REPLY, ":dave!d@h PRIVMSG me :\001DCC CHAT chat 2001:db8::7 6000\001\n"),
		FEED(PH_ORIG, "notice dave :\001dcc send x.bin fd00::1 7000 10\001\r\n"),
		/* no closing \001 at the line's end */
		FEED(PH_REPLY, ":e PRIVMSG me :\001DCC SEND y 16909060 7001"),
		FEED(PH_REPLY, "\r\n"),
	};
	struct ph_offer want[] = {named("2001:db8::7", TCP, 6000, 6000, "DCC CHAT"),
				  named("fd00::1", TCP, 7000, 7000, "DCC SEND"),
				  named("1.2.3.4", TCP, 7001, 7001, "DCC SEND")};
	check_conv(PH_PROTO_IRC, TCP, f, 4, want, 3, false);
}

static void test_passive_dcc(void **state)
{
	(void)state;
	/* The sender asks with port 0 and a token: nothing; the receiver's answer with its own
	 * address and port opens. */
	struct feed f[] = {
		FEED(PH_ORIG, "PRIVMSG bob :\001DCC SEND big.iso 3232235777 0 4096 17\001\r\n"),
		FEED(PH_REPLY, ":bob!b@h PRIVMSG me :\001DCC SEND big.iso 3232235778 45000 4096 17\001\r\n"),
	};
	struct ph_offer want = named("192.168.1.2", TCP, 45000, 45000, "DCC SEND");
	check_conv(PH_PROTO_IRC, TCP, f, 2, &want, 1, false);
}

static void test_resume_and_accept(void **state)
{
	(void)state;
	/* RESUME from the receiver repeats the SEND offer of that port; ACCEPT opens nothing; a
	 * RESUME for a port no SEND of the other side offered opens nothing either. */
	struct feed f[] = {
		FEED(PH_ORIG, "PRIVMSG bob :\001DCC SEND a.bin 3232235777 5000 100\001\r\n"),
		FEED(PH_REPLY, ":bob PRIVMSG me :\001DCC RESUME a.bin 5000 50\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG bob :\001DCC ACCEPT a.bin 5000 50\001\r\n"),
		FEED(PH_REPLY, ":bob PRIVMSG me :\001DCC RESUME a.bin 5001 50\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG bob :\001DCC RESUME a.bin 5000 50\001\r\n"),
	};
	struct ph_offer want[] = {named("192.168.1.1", TCP, 5000, 5000, "DCC SEND"),
				  named("192.168.1.1", TCP, 5000, 5000, "DCC RESUME")};
	check_conv(PH_PROTO_IRC, TCP, f, 5, want, 2, false);
}

static void test_refused_offers(void **state)
{
	(void)state;
	/* Port 70000, address 2^32, a negative number, a dotted IPv4 (clients send integers), an
	 * unquoted name with a space, an unclosed quote, DCC outside PRIVMSG/NOTICE, no trailing
	 * parameter, a textual IPv4 in IPv6's place, leading '+': all open nothing and the
	 * connection lives on. */
	struct feed f[] = {
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 3232235777 70000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 4294967296 5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f -1 5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 192.168.0.1 5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND my file 3232235777 5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND \"my file 3232235777 5000 1\001\r\n"),
		FEED(PH_ORIG, "TOPIC #c :\001DCC SEND f 3232235777 5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b \001DCC\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 3232235777 +5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f ::ffff:1.2.3.4x 5000 1\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :DCC SEND f 3232235777 5000 1\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 3232235777\001\r\n"),
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 3232235777 99999999999999999999999\001\r\n"),
		/* and then a good one still works */
		FEED(PH_ORIG, "PRIVMSG b :\001DCC CHAT chat 3232235777 5002\001\r\n"),
	};
	struct ph_offer want = named("192.168.1.1", TCP, 5002, 5002, "DCC CHAT");
	check_conv(PH_PROTO_IRC, TCP, f, sizeof(f) / sizeof(f[0]), &want, 1, false);
}

static void test_bounds_kill(void **state)
{
	(void)state;
	static char longline[PH_MAX_OFFERS * 0 + 2100];
	memset(longline, 'a', sizeof(longline) - 1);
	memcpy(longline, "PRIVMSG b :", 11);
	struct feed f[] = {
		FEED(PH_ORIG, "PRIVMSG b :\001DCC SEND f 3232235777 5000 1\001\r\n"),
		{PH_ORIG, longline, sizeof(longline) - 1},
		FEED(PH_ORIG, "\r\nPRIVMSG b :\001DCC SEND g 3232235777 5001 1\001\r\n"),
	};
	struct ph_offer want = named("192.168.1.1", TCP, 5000, 5000, "DCC SEND");
	check_conv(PH_PROTO_IRC, TCP, f, 3, &want, 1, true);
	/* 2,000 bytes of tags are fine (IRCv3 allows 8191); 9,000 are not. */
	static char tags[2100], bigtags[9100];
	memset(tags, 'x', sizeof(tags) - 1);
	tags[0] = '@';
	memset(bigtags, 'x', sizeof(bigtags) - 1);
	bigtags[0] = '@';
	struct feed g[] = {{PH_REPLY, tags, sizeof(tags) - 1},
			   FEED(PH_REPLY, " :a PRIVMSG me :\001DCC SEND f 3232235777 5000 1\001\r\n")};
	check_conv(PH_PROTO_IRC, TCP, g, 2, &want, 1, false);
	struct feed h[] = {{PH_REPLY, bigtags, sizeof(bigtags) - 1}};
	struct seen s = run_conv(PH_PROTO_IRC, TCP, h, 1, SIZE_MAX, 0);
	assert_true(s.dead);
	/* A NUL byte. */
	struct feed n[] = {{PH_ORIG, "PRIVMSG b :\0\r\n", 15}};
	s = run_conv(PH_PROTO_IRC, TCP, n, 1, SIZE_MAX, 0);
	assert_true(s.dead);
	assert_null(ph_conn_new(PH_PROTO_IRC, IPPROTO_UDP));
}

static void test_many_offers_in_one_feed(void **state)
{
	(void)state;
	/* More offers than the caller has room for: the first `max` are reported. */
	struct ph_conn *c = ph_conn_new(PH_PROTO_IRC, TCP);
	static const char two[] = "PRIVMSG b :\001DCC SEND f 1 5000 1\001\001DCC SEND g 2 5001 1\001\r\n";
	struct ph_offer out[2];
	assert_int_equal(ph_conn_feed(c, PH_ORIG, (const uint8_t *)two, sizeof(two) - 1, out, 1), 1);
	assert_int_equal(out[0].port_lo, 5000);
	assert_int_equal(ph_conn_feed(c, PH_ORIG, (const uint8_t *)two, sizeof(two) - 1, out, 2), 2);
	assert_int_equal(out[1].port_lo, 5001);
	ph_conn_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_both_directions),
		cmocka_unit_test(test_ipv6_chat_and_notice),
		cmocka_unit_test(test_passive_dcc),
		cmocka_unit_test(test_resume_and_accept),
		cmocka_unit_test(test_refused_offers),
		cmocka_unit_test(test_bounds_kill),
		cmocka_unit_test(test_many_offers_in_one_feed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
