/* The RTSP SETUP parser (runtime/proto/rtsp.c). */
#include "proto_feed.h"

#define UDP IPPROTO_UDP

static struct ph_offer recv_ports(uint16_t lo, uint16_t hi)
{
	return (struct ph_offer){.listener = PH_LISTEN_RECEIVER, .l4proto = UDP, .port_lo = lo,
				 .port_hi = hi, .what = "SETUP reply"};
}

/* server_port: the server (the reply's sender) receives there, RTCP receiver reports. */
static struct ph_offer send_ports(uint16_t lo, uint16_t hi)
{
	return (struct ph_offer){.listener = PH_LISTEN_SENDER, .l4proto = UDP, .port_lo = lo,
				 .port_hi = hi, .what = "SETUP reply server_port"};
}

static void test_rfc2326_example(void **state)
{
	(void)state;
	/* RFC 2326 section 10.4's SETUP example; its reply folds the Transport header. */
	struct feed f[] = {
		FEED(PH_ORIG, "SETUP rtsp://example.com/foo/bar/baz.rm RTSP/1.0\r\nCSeq: 302\r\n"
			      "Transport: RTP/AVP;unicast;client_port=4588-4589\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 302\r\nDate: 23 Jan 1997 15:35:06 GMT\r\n"
			       "Session: 47112344\r\nTransport: RTP/AVP;unicast;\r\n"
			       "  client_port=4588-4589;server_port=6256-6257\r\n\r\n"),
	};
	struct ph_offer want[] = {recv_ports(4588, 4589), send_ports(6256, 6257)};
	check_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 2, want, 2, false);
}

static void test_reply_is_authoritative(void **state)
{
	(void)state;
	/* The client offers two transports; a live555-style reply picks UDP with other ports and
	 * names destination and source. A DESCRIBE with an SDP body and interleaved frames come
	 * first; lines end with LF only in the request. */
	struct feed f[] = {
		FEED(PH_ORIG, "DESCRIBE rtsp://cam/stream RTSP/1.0\nCSeq: 1\nAccept: application/sdp\n\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 1\r\nContent-Type: application/sdp\r\n"
			       "Content-Length: 46\r\n\r\nv=0\r\nm=video 0 RTP/AVP 96\r\n"
			       "RTSP/1.0 200 OK\r\n\r\n"),
		FEED(PH_REPLY, "$\001\000\005RTSP/"),
		FEED(PH_ORIG, "SETUP rtsp://cam/stream/track1 RTSP/1.0\r\nCSeq: 2\r\n"
			      "Transport: RTP/AVP/TCP;unicast;interleaved=0-1, RTP/AVP;unicast;client_port=50000-50001\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 2\r\nTransport: RTP/AVP;unicast;destination=10.0.0.7;"
			       "source=10.0.0.1;client_port=50002-50003;server_port=6970-6971\r\nSession: 1\r\n\r\n"),
	};
	struct ph_offer want[] = {recv_ports(50002, 50003), send_ports(6970, 6971)};
	check_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 5, want, 2, false);
}

static void test_real_transports(void **state)
{
	(void)state;
	/* RealPlayer's RDT over UDP, one port; a TCP transport opens nothing. */
	struct feed f[] = {
		FEED(PH_ORIG, "SETUP rtsp://r/a.rm/streamid=0 RTSP/1.0\r\nCSeq: 3\r\nTransport: x-real-rdt/udp;client_port=6970\r\n\r\n"),
		FEED(PH_ORIG, "SETUP rtsp://r/a.rm/streamid=1 RTSP/1.0\r\nCSeq: 4\r\nTransport: x-pn-tng/tcp;mode=play\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: x-real-rdt/udp;client_port=6970;server_port=22000\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 4\r\nTransport: x-pn-tng/tcp;interleaved=0\r\n\r\n"),
	};
	struct ph_offer want[] = {recv_ports(6970, 6970), send_ports(22000, 22000)};
	check_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 4, want, 2, false);
}

static void test_gstreamer(void **state)
{
	(void)state;
	/* GStreamer 1.22's rtspsrc (protocols=udp) and gst-rtsp-server, as they spoke through the
	 * kernel test (test_real_apps.py rtsp): OPTIONS, DESCRIBE with an SDP body, SETUP, PLAY,
	 * TEARDOWN. The reply adds server_port, ssrc and a quoted mode. */
	struct feed f[] = {
		FEED(PH_ORIG, "OPTIONS rtsp://10.0.0.5:554/test RTSP/1.0\r\nCSeq: 1\r\n"
			      "User-Agent: GStreamer/1.22.0\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 1\r\nPublic: OPTIONS, DESCRIBE, ANNOUNCE, "
			       "GET_PARAMETER, PAUSE, PLAY, RECORD, SETUP, SET_PARAMETER, TEARDOWN\r\n"
			       "Server: GStreamer RTSP server\r\nDate: Thu, 03 Dec 2026 18:54:38 GMT\r\n\r\n"),
		FEED(PH_ORIG, "DESCRIBE rtsp://10.0.0.5:554/test RTSP/1.0\r\nCSeq: 2\r\n"
			      "User-Agent: GStreamer/1.22.0\r\nAccept: application/sdp\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\n"
			       "Content-Base: rtsp://10.0.0.5:554/test/\r\nServer: GStreamer RTSP server\r\n"
			       "Content-Length: 274\r\n\r\n"
			       "v=0\r\no=- 1188340656180883 1 IN IP4 10.0.0.5\r\ns=Session streamed with GStreamer\r\ni=rtsp-server\r\nt=0 0\r\na=tool:GStreamer\r\na=type:broadcast\r\na=range:npt=now-\r\na=control:rtsp://10.0.0.5:554/test\r\nm=audio 0 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 L16/8000\r\na=control:stream=0\r\n"),
		FEED(PH_ORIG, "SETUP rtsp://10.0.0.5:554/test/stream=0 RTSP/1.0\r\nCSeq: 3\r\n"
			      "User-Agent: GStreamer/1.22.0\r\nTransport: RTP/AVP;unicast;client_port=55034-55035\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 3\r\nTransport: RTP/AVP;unicast;client_port=55034-55035;"
			       "server_port=60802-60803;ssrc=F9273D59;mode=\"PLAY\"\r\nServer: GStreamer RTSP server\r\n"
			       "Session: OlqhRO5Pam3+Afyi\r\n\r\n"),
		FEED(PH_ORIG, "PLAY rtsp://10.0.0.5:554/test/ RTSP/1.0\r\nCSeq: 4\r\nRange: npt=now-\r\n"
			      "Session: OlqhRO5Pam3+Afyi\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 4\r\nRTP-Info: url=rtsp://10.0.0.5:554/test/stream=0;"
			       "seq=2739;rtptime=2403559461\r\nRange: npt=now-\r\nSession: OlqhRO5Pam3+Afyi\r\n\r\n"),
		FEED(PH_ORIG, "TEARDOWN rtsp://10.0.0.5:554/test/ RTSP/1.0\r\nCSeq: 5\r\nSession: OlqhRO5Pam3+Afyi\r\n\r\n"),
		FEED(PH_REPLY, "RTSP/1.0 200 OK\r\nCSeq: 5\r\nSession: OlqhRO5Pam3+Afyi\r\n\r\n"),
	};
	struct ph_offer want[] = {recv_ports(55034, 55035), send_ports(60802, 60803)};
	check_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 10, want, 2, false);
}

static void test_server_port(void **state)
{
	(void)state;
	/* RECORD (the client sends): server_port alone opens the server's ports; a bad server_port
	 * leaves the client_port; a server_port given twice makes the whole spec open nothing;
	 * a second spec in the same reply is read on its own. */
	static const char setup7[] =
		"SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 7\r\nTransport: RTP/AVP;client_port=5000-5001;mode=record\r\n\r\n";
	struct {
		const char *reply;
		size_t n;
		struct ph_offer want[2];
	} cases[] = {
		{"RTSP/1.0 200 OK\r\nCSeq: 7\r\nTransport: RTP/AVP;unicast;server_port=7000-7001;mode=\"RECORD\"\r\n\r\n",
		 1, {send_ports(7000, 7001)}},
		{"RTSP/1.0 200 OK\r\nCSeq: 7\r\nTransport: RTP/AVP;client_port=5000-5001;server_port=0-1\r\n\r\n",
		 1, {recv_ports(5000, 5001)}},
		{"RTSP/1.0 200 OK\r\nCSeq: 7\r\nTransport: RTP/AVP;client_port=5000-5001;server_port=7001-7000\r\n\r\n",
		 1, {recv_ports(5000, 5001)}},
		{"RTSP/1.0 200 OK\r\nCSeq: 7\r\nTransport: RTP/AVP;client_port=5000-5001;server_port=7000;server_port=22\r\n\r\n",
		 0, {{0}}},
		{"RTSP/1.0 200 OK\r\nCSeq: 7\r\nTransport: RTP/AVP;multicast;server_port=7000-7001\r\n\r\n",
		 0, {{0}}},
		{"RTSP/1.0 200 OK\r\nCSeq: 7\r\nTransport: RTP/AVP/TCP;server_port=7000-7001,RTP/AVP;server_port=8000\r\n\r\n",
		 1, {send_ports(8000, 8000)}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct feed f[] = {{PH_ORIG, setup7, sizeof(setup7) - 1},
				   {PH_REPLY, cases[i].reply, strlen(cases[i].reply)}};
		check_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 2, cases[i].want, cases[i].n, false);
	}
}

static void test_refused(void **state)
{
	(void)state;
	/* Not 200; another CSeq; a reply with no SETUP; a SETUP from the server's side; multicast;
	 * a backwards range; port 70000; two client_ports; RTSP/2.0; the reply twice. */
	static const char setup5[] =
		"SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=5000-5001\r\n\r\n";
	static const char *const replies[] = {
		"RTSP/1.0 461 Unsupported Transport\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=5000-5001\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 6\r\nTransport: RTP/AVP;client_port=5000-5001\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;multicast;client_port=5000-5001\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=5001-5000\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=70000-70001\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=5000;client_port=22\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=0-1\r\n\r\n",
		"RTSP/2.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=5000-5001\r\n\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=-5\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct feed f[] = {{PH_ORIG, setup5, sizeof(setup5) - 1}, {PH_REPLY, replies[i], strlen(replies[i])}};
		struct seen s = run_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 2, SIZE_MAX, SIZE_MAX);
		if (s.dead || s.n)
			fail_msg("reply %zu: %zu offers, dead %d", i, s.n, s.dead);
	}
	static const char ok5[] = "RTSP/1.0 200 OK\r\nCSeq: 5\r\nTransport: RTP/AVP;client_port=5000-5001\r\n\r\n";
	struct feed f[] = {{PH_REPLY, ok5, sizeof(ok5) - 1}};
	assert_int_equal(run_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 1, SIZE_MAX, 0).n, 0);
	struct feed g[] = {{PH_REPLY, setup5, sizeof(setup5) - 1}, {PH_ORIG, ok5, sizeof(ok5) - 1}};
	assert_int_equal(run_conv(PH_PROTO_RTSP, IPPROTO_TCP, g, 2, SIZE_MAX, 0).n, 0);
	struct ph_offer want = recv_ports(5000, 5001);
	struct feed h[] = {{PH_ORIG, setup5, sizeof(setup5) - 1}, {PH_REPLY, ok5, sizeof(ok5) - 1},
			   {PH_REPLY, ok5, sizeof(ok5) - 1}};
	check_conv(PH_PROTO_RTSP, IPPROTO_TCP, h, 3, &want, 1, false);
}

static void test_kills(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"HELLO\r\n",
		"SETUP rtsp://h/s HTTP/1.1\r\n",
		"RTSP/1.0 2000 OK\r\n",
		"RTSP/x.0 200 OK\r\n",
		"SETUP rtsp://h/s RTSP/1.0\r\nno colon here\r\n\r\n",
		"SETUP rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nCSeq: 2\r\n\r\n",
		"SETUP rtsp://h/s RTSP/1.0\r\nCSeq: -1\r\n\r\n",
		"SETUP rtsp://h/s RTSP/1.0\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"SETUP rtsp://h/s RTSP/1.0\r\nContent-Length: 99999999999\r\n\r\n",
		"SETUP rtsp://h/s RTSP/1.0\r\n continued without a header\r\n",
		"RTSP/1.0 200 OK\r\nCSeq: 1\r\nX\0: y\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = i == 10 ? 33 : strlen(bad[i]);
		struct feed f[] = {{PH_ORIG, bad[i], n}};
		struct seen s = run_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 1, SIZE_MAX, 0);
		if (!s.dead)
			fail_msg("message %zu did not kill", i);
	}
	static char longline[2100];
	memset(longline, 'A', sizeof(longline) - 1);
	struct feed f[] = {{PH_ORIG, longline, sizeof(longline) - 1}};
	assert_true(run_conv(PH_PROTO_RTSP, IPPROTO_TCP, f, 1, SIZE_MAX, 0).dead);
	assert_null(ph_conn_new(PH_PROTO_RTSP, IPPROTO_UDP));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc2326_example),
		cmocka_unit_test(test_reply_is_authoritative),
		cmocka_unit_test(test_real_transports),
		cmocka_unit_test(test_gstreamer),
		cmocka_unit_test(test_server_port),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_kills),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
