/* pinholed's checks for relayed channels (flow option `relayed`: IRC DCC, MSNFTP): the
 * receiver's outbound pinhole to the address a server relayed, the sender's peerless one,
 * and every refusal between them; the peerless key as nftables lays it out. */
#include "unit.h"

#include <arpa/inet.h>

#include "pd_check.h"
#include "pd_nft.h"
#include "pd_table.h"

static const struct ir_portrange dcc_ports[] = {{1024, 65535}};
static const struct ir_portset dcc = {1, (struct ir_portrange *)dcc_ports};

static struct pd_target relay_target(enum pd_relay relay, uint8_t family)
{
	return (struct pd_target){.set = relay == PD_RELAY_SEND ? "ph_irc_dcc_listen_v4" : "ph_irc_dcc_v4",
				  .family = family, .listener_is_server = false, .tcp = true,
				  .ports = &dcc, .timeout = 120, .relay = relay,
				  .where = "allow irc client (irc flow dcc)"};
}

/* The receiver's control connection: it (10.0.0.1) opened it to the IRC server (10.0.0.2). */
static struct pd_endpoints client_ends(void)
{
	struct pd_endpoints ep = {.family = AF_INET};
	inet_pton(AF_INET, "10.0.0.1", ep.client);
	inet_pton(AF_INET, "10.0.0.2", ep.server);
	return ep;
}

static struct ph_offer dcc_send(const char *addr)
{
	struct ph_offer o = {.listener = PH_LISTEN_NAMED, .family = AF_INET, .l4proto = IPPROTO_TCP,
			     .port_lo = 40000, .port_hi = 40000, .what = "DCC SEND"};
	inet_pton(AF_INET, addr, o.addr);
	return o;
}

/* The receiver: the server relays 192.0.2.7's offer; the pinhole is outbound, to it. */
static void test_relay_receiver(void **state)
{
	(void)state;
	struct pd_target t = relay_target(PD_RELAY_RECV, AF_INET);
	struct pd_endpoints ep = client_ends();
	struct ph_offer o = dcc_send("192.0.2.7");
	struct pd_pinhole ph;
	const char *why;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_OPEN);
	assert_false(ph.peerless);
	assert_memory_equal(ph.peer, o.addr, 4);     /* the third party the offer names */
	assert_memory_equal(ph.local, ep.client, 4); /* this host */
	assert_int_equal(ph.port, 40000);
	assert_int_equal(ph.l4proto, IPPROTO_TCP);
	/* what this host sends itself is the sender's set's, not the receiver's */
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 40000, &ph, &why), PD_SKIP);
	/* a GETPORT-like offer without an address is no relayed offer */
	o.listener = PH_LISTEN_SENDER;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_SKIP);
	/* a UDP offer is no tcp flow's; an IPv6 target does not take an IPv4 connection's */
	o = dcc_send("192.0.2.7");
	o.l4proto = IPPROTO_UDP;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_SKIP);
	struct pd_target t6 = relay_target(PD_RELAY_RECV, AF_INET6);
	o = dcc_send("192.0.2.7");
	assert_int_equal(pd_check_offer(&t6, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_SKIP);
}

/* Every address a relayed offer must not send this host to, and the ports. */
static void test_relay_receiver_refused(void **state)
{
	(void)state;
	struct pd_target t = relay_target(PD_RELAY_RECV, AF_INET);
	struct pd_endpoints ep = client_ends();
	struct pd_pinhole ph;
	const char *why;
	static const char *const bad[] = {"127.0.0.1", "0.0.0.0", "224.0.0.251", "255.255.255.255",
					  "169.254.1.1", "240.0.0.1",
					  "10.0.0.1", /* this host's end */
					  "10.0.0.2"  /* the relaying server */};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ph_offer o = dcc_send(bad[i]);
		assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_REFUSE);
		assert_non_null(why);
		assert_memory_equal(ph.peer, o.addr, 4); /* the log names what was asked */
	}
	/* another address of this host, as getifaddrs lists it */
	struct pd_own own = {.n = 1};
	own.v[0].family = AF_INET;
	inet_pton(AF_INET, "198.51.100.1", own.v[0].a);
	struct ph_offer o = dcc_send("198.51.100.1");
	assert_int_equal(pd_check_offer(&t, &ep, &own, PH_REPLY, &o, 40000, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "this host"));
	o = dcc_send("198.51.100.2");
	assert_int_equal(pd_check_offer(&t, &ep, &own, PH_REPLY, &o, 40000, &ph, &why), PD_OPEN);
	/* ports: 22 and 0 never; the flow's own floor is 1024 */
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 22, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "below 1024"));
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 0, &ph, &why), PD_REFUSE);
	/* an IPv6 address named over an IPv4 control connection: no local address of that family */
	o.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::7", o.addr);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_REFUSE);
	/* a control connection on loopback opens nothing */
	o = dcc_send("192.0.2.7");
	inet_pton(AF_INET, "127.0.0.1", ep.client);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_REFUSE);
}

/* The sender: its own offer, its own address; the set has no peer. */
static void test_relay_sender(void **state)
{
	(void)state;
	struct pd_target t = relay_target(PD_RELAY_SEND, AF_INET);
	struct pd_endpoints ep = client_ends();
	struct ph_offer o = dcc_send("10.0.0.1");
	struct pd_pinhole ph;
	const char *why;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 40000, &ph, &why), PD_OPEN);
	assert_true(ph.peerless);
	static const uint8_t zero[16];
	assert_memory_equal(ph.peer, zero, 16);
	assert_memory_equal(ph.local, ep.client, 4);
	/* the unspecified address means "the sender" */
	o = dcc_send("0.0.0.0");
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 40000, &ph, &why), PD_OPEN);
	/* another address: forged, a NAT's public one, a third party: refused */
	o = dcc_send("192.0.2.7");
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 40000, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "not the sender's"));
	/* what the server relays is the receiver's set's */
	o = dcc_send("10.0.0.1");
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40000, &ph, &why), PD_SKIP);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 1023, &ph, &why), PD_REFUSE);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 0, &ph, &why), PD_REFUSE);
}

/* IPv6 DCC: a textual IPv6 address over an IPv6 control connection. */
static void test_relay_v6(void **state)
{
	(void)state;
	struct pd_target r = relay_target(PD_RELAY_RECV, AF_INET6), s = relay_target(PD_RELAY_SEND, AF_INET6);
	struct pd_endpoints ep = {.family = AF_INET6};
	inet_pton(AF_INET6, "2001:db8:1::1", ep.client);
	inet_pton(AF_INET6, "2001:db8:2::2", ep.server);
	struct ph_offer o = {.listener = PH_LISTEN_NAMED, .family = AF_INET6, .l4proto = IPPROTO_TCP,
			     .port_lo = 5000, .port_hi = 5000};
	inet_pton(AF_INET6, "2001:db8:3::3", o.addr);
	struct pd_pinhole ph;
	const char *why;
	assert_int_equal(pd_check_offer(&r, &ep, NULL, PH_REPLY, &o, 5000, &ph, &why), PD_OPEN);
	assert_memory_equal(ph.peer, o.addr, 16);
	assert_int_equal(pd_check_offer(&s, &ep, NULL, PH_ORIG, &o, 5000, &ph, &why), PD_REFUSE);
	memcpy(o.addr, ep.client, 16);
	assert_int_equal(pd_check_offer(&s, &ep, NULL, PH_ORIG, &o, 5000, &ph, &why), PD_OPEN);
	static const char *const bad[] = {"::1", "::", "ff02::1", "fe80::1", "::ffff:10.0.0.1",
					  "2001:db8:1::1", "2001:db8:2::2"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		inet_pton(AF_INET6, bad[i], o.addr);
		assert_int_equal(pd_check_offer(&r, &ep, NULL, PH_REPLY, &o, 5000, &ph, &why), PD_REFUSE);
	}
}

/* The peerless key: local . inet_proto . inet_service in 4-byte registers. */
static void test_peerless_key(void **state)
{
	(void)state;
	struct pd_pinhole ph = {.family = AF_INET, .peerless = true, .l4proto = IPPROTO_TCP, .port = 40000};
	inet_pton(AF_INET, "10.0.0.1", ph.local);
	uint8_t key[PD_KEY_MAX];
	assert_int_equal(pd_nft_key(&ph, key), 12);
	static const uint8_t want[12] = {10, 0, 0, 1, 6, 0, 0, 0, 0x9c, 0x40, 0, 0};
	assert_memory_equal(key, want, 12);
	ph.family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", ph.local);
	assert_int_equal(pd_nft_key(&ph, key), 24);
	assert_memory_equal(key, ph.local, 16);
	assert_int_equal(key[16], 6);
	assert_int_equal(key[20], 0x9c);
	assert_int_equal(key[21], 0x40);
}

/* A flood of relayed offers on one control connection opens at most the per-connection cap;
 * a peerless pinhole is not the same element as a peer's for the same port. */
static void test_relay_caps(void **state)
{
	(void)state;
	static struct pd_table tab;
	memset(&tab, 0, sizeof(tab));
	struct pd_target t = relay_target(PD_RELAY_RECV, AF_INET), s = relay_target(PD_RELAY_SEND, AF_INET);
	struct pd_endpoints ep = client_ends();
	uint8_t a[16] = {0}, b[16] = {0};
	memcpy(a, ep.client, 4);
	memcpy(b, ep.server, 4);
	struct pd_conn *c = pd_conn_add(&tab, 1, AF_INET, IPPROTO_TCP, a, 50000, b, 6667, 0, 1000, &(struct pd_conn){0});
	assert_non_null(c);
	c->ep = ep;
	size_t opened = 0;
	for (unsigned i = 0; i < 200; i++) {
		struct ph_offer o = dcc_send("192.0.2.7");
		struct pd_pinhole ph;
		const char *why;
		uint16_t port = (uint16_t)(2000 + i);
		if (pd_check_offer(&t, &c->ep, NULL, PH_REPLY, &o, port, &ph, &why) == PD_OPEN &&
		    pd_live_open(&tab, c, &t, &ph, 0, &why))
			opened++;
	}
	assert_int_equal(opened, PD_MAX_PER_CONN);
	assert_int_equal(pd_live_count(&tab), PD_MAX_PER_CONN);
	struct pd_conn *c2 = pd_conn_add(&tab, 1, AF_INET, IPPROTO_TCP, a, 50001, b, 6667, 0, 1000, &(struct pd_conn){0});
	c2->ep = ep;
	struct ph_offer o = dcc_send("10.0.0.1");
	struct pd_pinhole ph;
	const char *why;
	assert_int_equal(pd_check_offer(&s, &c2->ep, NULL, PH_ORIG, &o, 2000, &ph, &why), PD_OPEN);
	assert_non_null(pd_live_open(&tab, c2, &s, &ph, 0, &why));
	assert_int_equal(pd_live_count(&tab), PD_MAX_PER_CONN + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_receiver),
		cmocka_unit_test(test_relay_receiver_refused),
		cmocka_unit_test(test_relay_sender),
		cmocka_unit_test(test_relay_v6),
		cmocka_unit_test(test_peerless_key),
		cmocka_unit_test(test_relay_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
