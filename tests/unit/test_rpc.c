/* The ONC RPC parser (runtime/proto/rpc.c): portmapper GETPORT and rpcbind GETADDR. */
#include "proto_feed.h"

/* --- captures ----------------------------------------------------------------------------
 * Captured on loopback in a throwaway network namespace: Debian's rpcbind 1.2.6 (-f -w), a
 * mountd (100005 v3, tcp and udp, port 20048) and nlockmgr (100021 v4, tcp 40123) registered
 * with a portmapper SET, then libtirpc 1.3.3's rpcinfo and a scripted GETPORT client; the
 * bytes are the TCP and UDP payloads as they crossed lo. */

/* rpcinfo -T tcp 127.0.0.1 100005 3: a GETADDR v4 call over TCP, one record, and its reply
 * "127.0.0.1.78.80" (port 20048). */
static const char getaddr_tcp_call[] =
	"800000581f38844b0000000000000002000186a00000000400000003000000000000000000000000000000"
	"00000186a50000000300000003746370000000000f3132372e302e302e312e302e31313100000000086c69"
	"627469727063";
static const char getaddr_tcp_reply[] =
	"8000002c1f38844b00000001000000000000000000000000000000000000000f3132372e302e302e312e37"
	"382e383000";
/* rpcinfo -T udp 127.0.0.1 100005 3: the same over UDP (no record mark). */
static const char getaddr_udp_call[] =
	"6b1e2da10000000000000002000186a0000000040000000300000000000000000000000000000000000186"
	"a50000000300000003756470000000000f3132372e302e302e312e302e31313100000000086c6962746972"
	"7063";
static const char getaddr_udp_reply[] =
	"6b1e2da100000001000000000000000000000000000000000000000f3132372e302e302e312e37382e3830"
	"00";
/* rpcinfo -T tcp6 ::1 100005 3: mountd has no tcp6 registration: the empty address. */
static const char getaddr_tcp6_call[] =
	"800000543acc80850000000000000002000186a0000000040000000300000000000000000000000000000000"
	"000186a5000000030000000474637036000000093a3a312e302e313131000000000000086c69627469727063";
static const char getaddr_tcp6_reply[] = "8000001c3acc8085000000010000000000000000000000000000000000000000";
/* rpcinfo -p 127.0.0.1: GETADDR of rpcbind itself (100000 v2), then a DUMP (v2 proc 4). */
static const char self_call[] =
	"800000588d09c1da0000000000000002000186a0000000040000000300000000000000000000000000000000"
	"000186a00000000200000003746370000000000f3132372e302e302e312e302e31313100000000086c696274"
	"69727063";
static const char self_reply[] =
	"8000002c8d09c1da00000001000000000000000000000000000000000000000f3132372e302e302e312e302e"
	"31313100";
static const char dump_call[] =
	"800000288d0939810000000000000002000186a0000000020000000400000000000000000000000000000000";
static const char dump_reply[] =
	"800000bc8d093981000000010000000000000000000000000000000000000001000186a00000000400000006"
	"0000006f00000001000186a000000003000000060000006f00000001000186a0000000020000000600000"
	"06f00000001000186a000000004000000110000006f00000001000186a000000003000000110000006f0000"
	"0001000186a000000002000000110000006f00000001000186a5000000030000000600004e500000000100"
	"0186a5000000030000001100004e5000000000";
/* A portmapper v2 GETPORT for nlockmgr v4 over TCP, the client writing the record mark and
 * the call separately (two segments), rpcbind's reply 40123; then one for udp: port 0. */
static const char getport_mark[] = "80000038";
static const char getport_call[] =
	"5eed00010000000000000002000186a0000000020000000300000000000000000000000000000000000186b5"
	"000000040000000600000000";
static const char getport_reply[] = "8000001c5eed0001000000010000000000000000000000000000000000009cbb";
static const char getport_udp_call[] =
	"800000385eed00020000000000000002000186a0000000020000000300000000000000000000000000000000"
	"000186b5000000040000001100000000";
static const char getport_udp_reply[] = "8000001c5eed0002000000010000000000000000000000000000000000000000";

/* Bytes of hex text, kept until the test ends (a small arena). */
static uint8_t arena[1 << 16];
static size_t arena_used;

static struct feed hexfeed(enum ph_side side, const char *hex)
{
	size_t n = strlen(hex) / 2;
	assert_true(arena_used + n <= sizeof(arena));
	uint8_t *b = arena + arena_used;
	for (size_t i = 0; i < n; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &b[i]), 1);
	arena_used += n;
	return (struct feed){side, b, n};
}

static int reset(void **state)
{
	(void)state;
	arena_used = 0;
	return 0;
}

static struct ph_offer getaddr_offer(const char *addr, uint8_t l4, uint16_t port, uint32_t prog)
{
	struct ph_offer o = named(addr, l4, port, port, "GETADDR reply");
	o.program = prog;
	return o;
}

static void test_getaddr_tcp_capture(void **state)
{
	(void)state;
	struct feed f[] = {hexfeed(PH_ORIG, getaddr_tcp_call), hexfeed(PH_REPLY, getaddr_tcp_reply)};
	struct ph_offer want = getaddr_offer("127.0.0.1", IPPROTO_TCP, 20048, 100005);
	check_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 2, &want, 1, false);
}

static void test_getaddr_udp_capture(void **state)
{
	(void)state;
	struct feed f[] = {hexfeed(PH_ORIG, getaddr_udp_call), hexfeed(PH_REPLY, getaddr_udp_reply),
			   /* a duplicate reply: its call is answered already */
			   hexfeed(PH_REPLY, getaddr_udp_reply)};
	struct ph_offer want = getaddr_offer("127.0.0.1", IPPROTO_UDP, 20048, 100005);
	check_conv(PH_PROTO_RPC, IPPROTO_UDP, f, 3, &want, 1, false);
}

static void test_getaddr_unregistered(void **state)
{
	(void)state;
	struct feed f[] = {hexfeed(PH_ORIG, getaddr_tcp6_call), hexfeed(PH_REPLY, getaddr_tcp6_reply)};
	check_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 2, NULL, 0, false);
}

static void test_rpcinfo_p_opens_nothing(void **state)
{
	(void)state;
	/* rpcbind's own program is not on the default list; DUMP is no question about a port. Then
	 * the mountd question on the same connection still works. */
	struct feed f[] = {hexfeed(PH_ORIG, self_call), hexfeed(PH_REPLY, self_reply),
			   hexfeed(PH_ORIG, dump_call), hexfeed(PH_REPLY, dump_reply),
			   hexfeed(PH_ORIG, getaddr_tcp_call), hexfeed(PH_REPLY, getaddr_tcp_reply)};
	struct ph_offer want = getaddr_offer("127.0.0.1", IPPROTO_TCP, 20048, 100005);
	check_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 6, &want, 1, false);
}

static void test_getport_tcp_capture(void **state)
{
	(void)state;
	struct feed f[] = {hexfeed(PH_ORIG, getport_mark), hexfeed(PH_ORIG, getport_call),
			   hexfeed(PH_REPLY, getport_reply), hexfeed(PH_ORIG, getport_udp_call),
			   hexfeed(PH_REPLY, getport_udp_reply)};
	struct ph_offer want = {.listener = PH_LISTEN_SENDER, .l4proto = IPPROTO_TCP, .port_lo = 40123,
				.port_hi = 40123, .program = 100021, .what = "GETPORT reply"};
	check_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 5, &want, 1, false);
}

static int allow_all(void *ctx, uint32_t program)
{
	(void)program;
	return ctx != NULL;
}

static void test_filter(void **state)
{
	(void)state;
	struct feed call = hexfeed(PH_ORIG, self_call), rep = hexfeed(PH_REPLY, self_reply);
	struct ph_conn *c = ph_conn_new(PH_PROTO_RPC, IPPROTO_TCP);
	int yes = 1;
	ph_conn_set_rpc_filter(c, allow_all, &yes);
	struct ph_offer out[PH_MAX_OFFERS];
	assert_int_equal(ph_conn_feed(c, PH_ORIG, call.data, call.len, out, PH_MAX_OFFERS), 0);
	assert_int_equal(ph_conn_feed(c, PH_REPLY, rep.data, rep.len, out, PH_MAX_OFFERS), 1);
	struct ph_offer want = getaddr_offer("127.0.0.1", IPPROTO_TCP, 111, 100000);
	assert_true(offer_equal(&out[0], &want));
	ph_conn_free(c);
	assert_true(ph_rpc_program_default(100005) && ph_rpc_program_default(100021) &&
		    ph_rpc_program_default(100024) && !ph_rpc_program_default(100003) &&
		    !ph_rpc_program_default(100000));
}

/* --- built messages ---------------------------------------------------------------------- */

struct msg {
	uint8_t b[12000];
	size_t n;
};

static void put32(struct msg *m, uint32_t v)
{
	m->b[m->n++] = (uint8_t)(v >> 24);
	m->b[m->n++] = (uint8_t)(v >> 16);
	m->b[m->n++] = (uint8_t)(v >> 8);
	m->b[m->n++] = (uint8_t)v;
}

static void putstr(struct msg *m, const char *s)
{
	size_t n = strlen(s);
	put32(m, (uint32_t)n);
	memcpy(m->b + m->n, s, n);
	m->n += n;
	while (m->n % 4)
		m->b[m->n++] = 0;
}

/* A call header: xid, CALL, rpcvers 2, program 100000, vers, proc 3, AUTH_NONE twice. */
static void call_hdr(struct msg *m, uint32_t xid, uint32_t vers)
{
	put32(m, xid), put32(m, 0), put32(m, 2), put32(m, 100000), put32(m, vers), put32(m, 3);
	put32(m, 0), put32(m, 0), put32(m, 0), put32(m, 0);
}

static struct msg getaddr_call(uint32_t xid, uint32_t prog, const char *netid)
{
	struct msg m = {0};
	call_hdr(&m, xid, 4);
	put32(&m, prog), put32(&m, 1);
	putstr(&m, netid), putstr(&m, ""), putstr(&m, "");
	return m;
}

static struct msg getport_call_of(uint32_t xid, uint32_t prog, uint32_t prot)
{
	struct msg m = {0};
	call_hdr(&m, xid, 2);
	put32(&m, prog), put32(&m, 1), put32(&m, prot), put32(&m, 0);
	return m;
}

/* An accepted, successful reply header. */
static struct msg reply_hdr(uint32_t xid)
{
	struct msg m = {0};
	put32(&m, xid), put32(&m, 1), put32(&m, 0), put32(&m, 0), put32(&m, 0), put32(&m, 0);
	return m;
}

static struct msg getaddr_reply(uint32_t xid, const char *uaddr)
{
	struct msg m = reply_hdr(xid);
	putstr(&m, uaddr);
	return m;
}

static struct msg getport_reply_of(uint32_t xid, uint32_t port)
{
	struct msg m = reply_hdr(xid);
	put32(&m, port);
	return m;
}

/* A record of one last fragment. */
static struct msg rec(struct msg in)
{
	struct msg m = {0};
	put32(&m, 0x80000000u | (uint32_t)in.n);
	memcpy(m.b + m.n, in.b, in.n);
	m.n += in.n;
	return m;
}

static struct msg conv_m[8];

static struct feed mf(size_t slot, enum ph_side side, struct msg m)
{
	conv_m[slot] = m;
	return (struct feed){side, conv_m[slot].b, conv_m[slot].n};
}

/* Over UDP and TCP: the GETADDR exchange for `uaddr` gives `n` offers. */
static void check_uaddr(const char *netid, const char *uaddr, const struct ph_offer *want, size_t n)
{
	/* the protocol is the transport's, whatever the netid says (rpcbind answers for it) */
	struct ph_offer w = want ? *want : (struct ph_offer){0};
	w.l4proto = IPPROTO_UDP;
	struct feed u[] = {mf(0, PH_ORIG, getaddr_call(7, 100005, netid)), mf(1, PH_REPLY, getaddr_reply(7, uaddr))};
	struct seen s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, u, 2, SIZE_MAX, 0);
	assert_seen(&s, want ? &w : NULL, n, false, uaddr);
	w.l4proto = IPPROTO_TCP;
	struct feed t[] = {mf(2, PH_ORIG, rec(getaddr_call(7, 100005, netid))),
			   mf(3, PH_REPLY, rec(getaddr_reply(7, uaddr)))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_TCP, t, 2, SIZE_MAX, SIZE_MAX);
	assert_seen(&s, want ? &w : NULL, n, false, uaddr);
}

/* libnfs 4.0 asks rpcbind v3 GETADDR with an empty netid over IPv6 (measured against
 * rpcbind 1.2.6, tests/kernel/test_real_apps.py): rpcbind answers for the call's transport,
 * and the family is the universal address's. */
static void test_empty_netid(void **state)
{
	(void)state;
	struct ph_offer o = getaddr_offer("2001:db8:b::5", IPPROTO_TCP, 30048, 100005);
	check_uaddr("", "2001:db8:b::5.117.96", &o, 1);
	o = getaddr_offer("10.0.0.5", IPPROTO_TCP, 30048, 100005);
	check_uaddr("", "10.0.0.5.117.96", &o, 1);
	static const char *bad[] = {"/run/rpcbind.sock", "10.0.0.5.117", "fd00::5%eth0.1.1", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_uaddr("", bad[i], NULL, 0);
}

static void test_universal_addresses(void **state)
{
	(void)state;
	struct ph_offer o = getaddr_offer("fd00::5", IPPROTO_TCP, 20048, 100005);
	check_uaddr("tcp6", "fd00::5.78.80", &o, 1);
	o = getaddr_offer("::", IPPROTO_UDP, 1025, 100005); /* unspecified: the daemon reads "the sender" */
	check_uaddr("udp6", "::.4.1", &o, 1);
	o = getaddr_offer("0.0.0.0", IPPROTO_TCP, 65535, 100005);
	check_uaddr("tcp", "0.0.0.0.255.255", &o, 1);
	o = getaddr_offer("::ffff:10.0.0.1", IPPROTO_TCP, 2049, 100005);
	check_uaddr("tcp6", "::ffff:10.0.0.1.8.1", &o, 1);
	static const struct { const char *netid, *uaddr; } bad[] = {
		{"tcp", "127.0.0.1.256.1"},  {"tcp", "127.0.0.1.1.256"}, {"tcp", "127.0.0.1.78"},
		{"tcp", "1.2.3.4.5.0.1"},    {"tcp", "127.0.0.01.1.1"},  {"tcp", "127.0.0.1.0.0"},
		{"tcp", "127.0.0.1.-1.5"},   {"tcp", "127.0.0.1.+1.5"},  {"tcp", "127.0.0.1.0001.5"},
		{"tcp", "::1.1.1"},          {"tcp6", "10.0.0.1.1.1"},   {"tcp", "4294967296.1.1"},
		{"tcp", ".1.1"},             {"tcp", "1.1"},             {"tcp", "...."},
		{"tcp6", "fd00::5%eth0.1.1"}, {"tcp", "127.0.0.1 .1.1"}, {"local", "/run/rpcbind.sock"},
		{"rdma", "10.0.0.1.1.1"},    {"tcp", "127.0.0.1.1.1."},
		{"tcp", "1111111111111111111111111111111111111111111111111111111111111.1.1"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		check_uaddr(bad[i].netid, bad[i].uaddr, NULL, 0);
}

static void test_getport_values(void **state)
{
	(void)state;
	struct ph_offer o = {.listener = PH_LISTEN_SENDER, .l4proto = IPPROTO_UDP, .port_lo = 4045,
			     .port_hi = 4045, .program = 100021, .what = "GETPORT reply"};
	struct feed f[] = {mf(0, PH_ORIG, getport_call_of(9, 100021, IPPROTO_UDP)),
			   mf(1, PH_REPLY, getport_reply_of(9, 4045))};
	struct seen s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, f, 2, SIZE_MAX, 0);
	assert_seen(&s, &o, 1, false, "getport udp");
	static const uint32_t bad_ports[] = {0, 65536, 70000, 0xffffffffu};
	for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++) {
		f[1] = mf(1, PH_REPLY, getport_reply_of(9, bad_ports[i]));
		s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, f, 2, SIZE_MAX, 0);
		assert_seen(&s, NULL, 0, false, "bad port");
	}
	/* A protocol other than TCP or UDP (SCTP), and a program not on the list (nfs itself). */
	f[0] = mf(0, PH_ORIG, getport_call_of(9, 100021, 132));
	f[1] = mf(1, PH_REPLY, getport_reply_of(9, 4045));
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, f, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "sctp");
	f[0] = mf(0, PH_ORIG, getport_call_of(9, 100003, IPPROTO_UDP));
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, f, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "nfs");
}

static void test_replies_must_match_a_call(void **state)
{
	(void)state;
	struct seen s;
	/* A reply nobody asked for; a reply to another xid; a reply from the side that called;
	 * a "call" from the server's side answered by the client. */
	struct feed alone[] = {mf(0, PH_REPLY, getport_reply_of(9, 4045))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, alone, 1, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "alone");
	struct feed other[] = {mf(0, PH_ORIG, getport_call_of(9, 100021, 6)), mf(1, PH_REPLY, getport_reply_of(10, 4045))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, other, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "xid");
	struct feed back[] = {mf(0, PH_ORIG, getport_call_of(9, 100021, 6)), mf(1, PH_ORIG, getport_reply_of(9, 4045))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, back, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "same side");
	struct feed rev[] = {mf(0, PH_REPLY, getport_call_of(9, 100021, 6)), mf(1, PH_ORIG, getport_reply_of(9, 4045))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, rev, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "reversed");
	/* Denied, and accepted but PROG_UNAVAIL. */
	struct msg d = {0};
	put32(&d, 9), put32(&d, 1), put32(&d, 1), put32(&d, 1), put32(&d, 1);
	struct feed denied[] = {mf(0, PH_ORIG, getport_call_of(9, 100021, 6)), mf(1, PH_REPLY, d)};
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, denied, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "denied");
	struct msg u = {0};
	put32(&u, 9), put32(&u, 1), put32(&u, 0), put32(&u, 0), put32(&u, 0), put32(&u, 1);
	denied[1] = mf(1, PH_REPLY, u);
	s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, denied, 2, SIZE_MAX, 0);
	assert_seen(&s, NULL, 0, false, "prog unavail");
}

static void test_outstanding_calls_are_bounded(void **state)
{
	(void)state;
	/* 17 calls: the first is forgotten, the 17th is answered. */
	struct ph_conn *c = ph_conn_new(PH_PROTO_RPC, IPPROTO_UDP);
	struct ph_offer out[PH_MAX_OFFERS];
	for (uint32_t x = 100; x < 117; x++) {
		struct msg m = getport_call_of(x, 100005, 6);
		assert_int_equal(ph_conn_feed(c, PH_ORIG, m.b, m.n, out, PH_MAX_OFFERS), 0);
	}
	struct msg r = getport_reply_of(100, 635);
	assert_int_equal(ph_conn_feed(c, PH_REPLY, r.b, r.n, out, PH_MAX_OFFERS), 0);
	r = getport_reply_of(101, 635);
	assert_int_equal(ph_conn_feed(c, PH_REPLY, r.b, r.n, out, PH_MAX_OFFERS), 1);
	r = getport_reply_of(116, 636);
	assert_int_equal(ph_conn_feed(c, PH_REPLY, r.b, r.n, out, PH_MAX_OFFERS), 1);
	assert_int_equal(out[0].port_lo, 636);
	/* A retransmitted call (same xid) takes no second slot and is answered once. */
	struct msg m = getport_call_of(200, 100005, 6);
	assert_int_equal(ph_conn_feed(c, PH_ORIG, m.b, m.n, out, PH_MAX_OFFERS), 0);
	assert_int_equal(ph_conn_feed(c, PH_ORIG, m.b, m.n, out, PH_MAX_OFFERS), 0);
	r = getport_reply_of(200, 637);
	assert_int_equal(ph_conn_feed(c, PH_REPLY, r.b, r.n, out, PH_MAX_OFFERS), 1);
	assert_int_equal(ph_conn_feed(c, PH_REPLY, r.b, r.n, out, PH_MAX_OFFERS), 0);
	ph_conn_free(c);
}

static void test_fragments(void **state)
{
	(void)state;
	/* The GETADDR call in three fragments (only the last has the high bit), the reply in two. */
	struct msg call = getaddr_call(0x42, 100024, "udp"), fc = {0};
	size_t cuts[] = {0, 5, 40, call.n};
	for (size_t i = 0; i < 3; i++) {
		size_t len = cuts[i + 1] - cuts[i];
		put32(&fc, (i == 2 ? 0x80000000u : 0) | (uint32_t)len);
		memcpy(fc.b + fc.n, call.b + cuts[i], len);
		fc.n += len;
	}
	/* The reply: an empty fragment, then 8 bytes, then the rest. */
	struct msg rep = getaddr_reply(0x42, "10.1.2.3.3.232"), fr2 = {0};
	put32(&fr2, 0);
	put32(&fr2, 8);
	memcpy(fr2.b + fr2.n, rep.b, 8), fr2.n += 8;
	put32(&fr2, 0x80000000u | (uint32_t)(rep.n - 8));
	memcpy(fr2.b + fr2.n, rep.b + 8, rep.n - 8), fr2.n += rep.n - 8;
	struct feed f[] = {mf(0, PH_ORIG, fc), mf(1, PH_REPLY, fr2)};
	/* asked over TCP: rpcbind answers for TCP, whatever the netid ("udp") says */
	struct ph_offer want = getaddr_offer("10.1.2.3", IPPROTO_TCP, 1000, 100024);
	check_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 2, &want, 1, false);
}

static void test_garbage_kills(void **state)
{
	(void)state;
	struct msg m;
	struct seen s;
	/* message type 7; RPC version 3; a credential of 401 bytes; a record that ends inside the
	 * call; bytes after a GETPORT call's arguments; an empty record. */
	struct msg bad[6];
	memset(bad, 0, sizeof(bad));
	put32(&bad[0], 1), put32(&bad[0], 7);
	call_hdr(&bad[1], 1, 2);
	bad[1].b[11] = 3;
	m = (struct msg){0};
	put32(&m, 1), put32(&m, 0), put32(&m, 2), put32(&m, 100000), put32(&m, 2), put32(&m, 3);
	put32(&m, 1), put32(&m, 401);
	memset(m.b + m.n, 0, 404), m.n += 404;
	put32(&m, 0), put32(&m, 0);
	bad[2] = m;
	bad[3] = getport_call_of(1, 100005, 6);
	bad[3].n -= 4;
	bad[4] = getport_call_of(1, 100005, 6);
	put32(&bad[4], 0);
	for (size_t i = 0; i < 6; i++) {
		struct feed f[] = {mf(0, PH_ORIG, rec(bad[i]))};
		s = run_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 1, SIZE_MAX, 0);
		if (!s.dead)
			fail_msg("record %zu did not kill", i);
		struct feed u[] = {mf(0, PH_ORIG, bad[i])};
		s = run_conv(PH_PROTO_RPC, IPPROTO_UDP, u, 1, SIZE_MAX, 0);
		if (i < 5 && !s.dead) /* an empty datagram is no message at all: nothing to read */
			fail_msg("datagram %zu did not kill", i);
	}
	/* Dead is forever: the good exchange after it is not read. */
	struct ph_conn *c = ph_conn_new(PH_PROTO_RPC, IPPROTO_TCP);
	struct ph_offer out[PH_MAX_OFFERS];
	m = rec(bad[0]);
	assert_int_equal(ph_conn_feed(c, PH_ORIG, m.b, m.n, out, PH_MAX_OFFERS), -1);
	m = rec(getport_call_of(5, 100005, 6));
	assert_int_equal(ph_conn_feed(c, PH_ORIG, m.b, m.n, out, PH_MAX_OFFERS), -1);
	ph_conn_free(c);
}

static void test_records_over_the_bound(void **state)
{
	(void)state;
	/* A DUMP reply of 8 KiB nobody tracks is skipped; the next exchange is read. */
	struct msg big = reply_hdr(77);
	for (int i = 0; i < 2048; i++)
		put32(&big, 1);
	struct feed f[] = {mf(0, PH_REPLY, rec(big)), mf(1, PH_ORIG, rec(getport_call_of(3, 100005, 6))),
			   mf(2, PH_REPLY, rec(getport_reply_of(3, 892)))};
	struct ph_offer want = {.listener = PH_LISTEN_SENDER, .l4proto = IPPROTO_TCP, .port_lo = 892,
				.port_hi = 892, .program = 100005, .what = "GETPORT reply"};
	struct seen s = run_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 3, SIZE_MAX, 0);
	assert_seen(&s, &want, 1, false, "big dump");
	s = run_conv(PH_PROTO_RPC, IPPROTO_TCP, f, 3, SIZE_MAX, SIZE_MAX);
	assert_seen(&s, &want, 1, false, "big dump bytewise");
	/* A GETPORT call padded past the bound, and a reply to a tracked xid past it: dead. */
	struct msg call = getport_call_of(3, 100005, 6);
	for (int i = 0; i < 1100; i++)
		put32(&call, 0);
	struct feed g[] = {mf(0, PH_ORIG, rec(call))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_TCP, g, 1, SIZE_MAX, 0);
	assert_true(s.dead);
	struct msg rep = getport_reply_of(3, 892);
	for (int i = 0; i < 1100; i++)
		put32(&rep, 0);
	struct feed h[] = {mf(0, PH_ORIG, rec(getport_call_of(3, 100005, 6))), mf(1, PH_REPLY, rec(rep))};
	s = run_conv(PH_PROTO_RPC, IPPROTO_TCP, h, 2, SIZE_MAX, 0);
	assert_true(s.dead && s.n == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_getaddr_tcp_capture, reset),
		cmocka_unit_test_setup(test_getaddr_udp_capture, reset),
		cmocka_unit_test_setup(test_getaddr_unregistered, reset),
		cmocka_unit_test_setup(test_rpcinfo_p_opens_nothing, reset),
		cmocka_unit_test_setup(test_getport_tcp_capture, reset),
		cmocka_unit_test_setup(test_filter, reset),
		cmocka_unit_test(test_universal_addresses),
		cmocka_unit_test(test_getport_values),
		cmocka_unit_test(test_replies_must_match_a_call),
		cmocka_unit_test(test_outstanding_calls_are_bounded),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_empty_netid),
		cmocka_unit_test(test_garbage_kills),
		cmocka_unit_test(test_records_over_the_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
