/* The MSNFTP invitation parser (runtime/proto/msn.c). The messages are hypothetic.org's MSNP
 * file-transfer examples (the invitation, the invitee's ACCEPT, the inviter's ACCEPT with its
 * endpoint), with payload lengths counted again for the bodies as written here. */
#include "proto_feed.h"

#define TCP IPPROTO_TCP

#define INVITE_BODY                                                                            \
	"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n"           \
	"Application-Name: File Transfer\r\nApplication-GUID: {5D3E02AB-6190-11d3-BBBB-00C04F795683}\r\n" \
	"Invitation-Command: INVITE\r\nInvitation-Cookie: 33267\r\nApplication-File: readme.txt\r\n"  \
	"Application-FileSize: 60904\r\n\r\n"
#define ACCEPT1_BODY                                                                           \
	"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n"           \
	"Invitation-Command: ACCEPT\r\nInvitation-Cookie: 33267\r\nLaunch-Application: FALSE\r\n"  \
	"Request-Data: IP-Address:\r\n\r\n"
#define ACCEPT2_BODY                                                                           \
	"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n"           \
	"Invitation-Command: ACCEPT\r\nInvitation-Cookie: 33267\r\nIP-Address: 10.44.102.65\r\n"   \
	"Port: 6891\r\nAuthCookie: 93301\r\nLaunch-Application: FALSE\r\nRequest-Data: IP-Address:\r\n\r\n"
#define NAT_BODY                                                                               \
	"MIME-Version: 1.0\r\nContent-Type: text/x-msmsgsinvite; charset=UTF-8\r\n\r\n"           \
	"Invitation-Command: ACCEPT\r\nInvitation-Cookie: 7\r\nIP-Address: 198.51.100.9\r\n"       \
	"IP-Address-Internal: 192.168.5.20\r\nPort: 6891\r\nPortX: 11178\r\nAuthCookie: 5\r\n\r\n"

/* "MSG <trid> N <len>\r\n" + body, with the length computed. */
static char bufs[8][4096];
static struct feed msg(size_t slot, enum ph_side side, const char *head, const char *body)
{
	int n = snprintf(bufs[slot], sizeof(bufs[slot]), "%s %zu\r\n%s", head, strlen(body), body);
	return (struct feed){side, bufs[slot], (size_t)n};
}

static void test_invitation_exchange(void **state)
{
	(void)state;
	struct feed f[] = {
		FEED(PH_ORIG, "USR 1 example@passport.com 17262740.1050826919.32308\r\n"),
		FEED(PH_REPLY, "USR 1 OK example@passport.com Example\r\n"),
		msg(0, PH_ORIG, "MSG 4 N", INVITE_BODY),
		FEED(PH_REPLY, "ACK 4\r\n"),
		msg(1, PH_REPLY, "MSG example@passport.com Tim", ACCEPT1_BODY),
		msg(2, PH_ORIG, "MSG 5 N", ACCEPT2_BODY),
	};
	struct ph_offer want = named("10.44.102.65", TCP, 6891, 6891, "MSNFTP invitation ACCEPT");
	check_conv(PH_PROTO_MSN, TCP, f, 6, &want, 1, false);
}

static void test_internal_address(void **state)
{
	(void)state;
	struct feed f[] = {msg(0, PH_REPLY, "MSG bob@example.com Bob", NAT_BODY)};
	struct ph_offer want[] = {named("198.51.100.9", TCP, 6891, 6891, "MSNFTP invitation ACCEPT"),
				  named("192.168.5.20", TCP, 11178, 11178,
					"MSNFTP invitation ACCEPT (internal address)")};
	check_conv(PH_PROTO_MSN, TCP, f, 1, want, 2, false);
}

static void test_payload_framing(void **state)
{
	(void)state;
	/* A plain-text MSG whose body looks like an invitation command line by line is no
	 * invitation; a binary P2P payload with NUL bytes is skipped by its length; NOT's payload
	 * is skipped too; "ADL 7 OK" has none. Then the real one. */
	static const char p2p[] = "MSG 6 D 70\r\nMIME-Version: 1.0\r\nContent-Type: application/x-msnmsgrp2p\r\n\r\n\0\0\0\0\0\0\0\0\0";
	struct feed f[] = {
		msg(0, PH_ORIG, "MSG 5 N", "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
					   "Invitation-Command: ACCEPT\r\nIP-Address: 1.2.3.4\r\nPort: 6891\r\nAuthCookie: 1\r\n"),
		{PH_ORIG, p2p, sizeof(p2p) - 1},
		FEED(PH_REPLY, "NOT 29\r\nMSG 1 N 9999\r\nPORT: 1234567\r\n"),
		FEED(PH_REPLY, "ADL 7 OK\r\n"),
		msg(1, PH_REPLY, "MSG a@b c", ACCEPT2_BODY),
	};
	struct ph_offer want = named("10.44.102.65", TCP, 6891, 6891, "MSNFTP invitation ACCEPT");
	check_conv(PH_PROTO_MSN, TCP, f, 5, &want, 1, false);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		/* port 70000, port 0, a bad address, the field twice, no AuthCookie, CANCEL */
		"Content-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: ACCEPT\r\nIP-Address: 10.0.0.1\r\nPort: 70000\r\nAuthCookie: 1\r\n",
		"Content-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: ACCEPT\r\nIP-Address: 10.0.0.1\r\nPort: 0\r\nAuthCookie: 1\r\n",
		"Content-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: ACCEPT\r\nIP-Address: 10.0.0.256\r\nPort: 6891\r\nAuthCookie: 1\r\n",
		"Content-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: ACCEPT\r\nIP-Address: 10.0.0.1\r\nPort: 6891\r\nPort: 22\r\nAuthCookie: 1\r\n",
		"Content-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: ACCEPT\r\nIP-Address: 10.0.0.1\r\nPort: 6891\r\n",
		"Content-Type: text/x-msmsgsinvite\r\n\r\nInvitation-Command: CANCEL\r\nIP-Address: 10.0.0.1\r\nPort: 6891\r\nAuthCookie: 1\r\n",
		"Content-Type: text/x-msmsgsinvitex\r\n\r\nInvitation-Command: ACCEPT\r\nIP-Address: 10.0.0.1\r\nPort: 6891\r\nAuthCookie: 1\r\n",
		"Invitation-Command: ACCEPT\r\nIP-Address: 10.0.0.1\r\nPort: 6891\r\nAuthCookie: 1\r\n",
	};
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct feed f[] = {msg(0, PH_ORIG, "MSG 1 N", bodies[i])};
		struct seen s = run_conv(PH_PROTO_MSN, TCP, f, 1, SIZE_MAX, SIZE_MAX);
		if (s.dead || s.n)
			fail_msg("body %zu: %zu offers, dead %d", i, s.n, s.dead);
	}
}

static void test_kills(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"MSG 1 N 4097\r\n",   /* a body over the bound */
		"MSG 1 N -5\r\n",     /* no length we can honour */
		"MSG 1 N\r\n",
		"hello world\r\n",    /* no command */
		"MS\r\n",
		"MSGX 1 N 5\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct feed f[] = {{PH_ORIG, bad[i], strlen(bad[i])}};
		struct seen s = run_conv(PH_PROTO_MSN, TCP, f, 1, SIZE_MAX, 0);
		if (!s.dead)
			fail_msg("'%s' did not kill", bad[i]);
	}
	static char longline[2200];
	memset(longline, 'A', sizeof(longline) - 1);
	struct feed f[] = {{PH_ORIG, longline, sizeof(longline) - 1}};
	assert_true(run_conv(PH_PROTO_MSN, TCP, f, 1, SIZE_MAX, 0).dead);
	assert_null(ph_conn_new(PH_PROTO_MSN, IPPROTO_UDP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invitation_exchange),
		cmocka_unit_test(test_internal_address),
		cmocka_unit_test(test_payload_framing),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
