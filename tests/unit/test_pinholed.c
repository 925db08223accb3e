/* pinholed's parts without netlink sockets: header parsing, the checks, the tables and caps,
 * and the batch of set elements (built, then parsed back with libnftnl). */
#include "unit.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "pd_check.h"
#include "pd_nft.h"
#include "pd_nl.h"
#include "pd_pkt.h"
#include "pd_reload.h"
#include "pd_table.h"

static size_t udp4(uint8_t *b, const char *src, const char *dst, uint16_t sp, uint16_t dp, size_t plen)
{
	memset(b, 0, 28 + plen);
	b[0] = 0x45;
	b[2] = (uint8_t)((28 + plen) >> 8);
	b[3] = (uint8_t)(28 + plen);
	b[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	b[20] = (uint8_t)(sp >> 8); b[21] = (uint8_t)sp;
	b[22] = (uint8_t)(dp >> 8); b[23] = (uint8_t)dp;
	b[24] = (uint8_t)((8 + plen) >> 8); b[25] = (uint8_t)(8 + plen);
	return 28 + plen;
}

static void test_pkt_udp4(void **state)
{
	(void)state;
	uint8_t b[64];
	size_t n = udp4(b, "10.0.0.1", "10.0.0.2", 700, 111, 12);
	struct pd_pkt p;
	assert_int_equal(pd_pkt_parse(b, n, &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.sport, 700);
	assert_int_equal(p.dport, 111);
	assert_int_equal(p.len, 12);
	/* cut by the snaplen, a fragment, a bad header length: refused */
	assert_int_equal(pd_pkt_parse(b, n - 1, &p), -1);
	b[6] = 0x20; /* MF */
	assert_int_equal(pd_pkt_parse(b, n, &p), -1);
	b[6] = 0;
	b[0] = 0x44;
	assert_int_equal(pd_pkt_parse(b, n, &p), -1);
	assert_int_equal(pd_pkt_parse(b, 0, &p), -1);
}

static void test_pkt_tcp6_ext(void **state)
{
	(void)state;
	uint8_t b[128] = {0};
	b[0] = 0x60;
	b[4] = 0; b[5] = 8 + 20 + 3; /* hop-by-hop (8) + TCP (20) + 3 bytes */
	b[6] = IPPROTO_HOPOPTS;
	inet_pton(AF_INET6, "fd00::1", b + 8);
	inet_pton(AF_INET6, "fd00::2", b + 24);
	b[40] = IPPROTO_TCP; /* next header after hop-by-hop, length 0 = 8 bytes */
	uint8_t *t = b + 48;
	t[0] = 0x1a; t[1] = 0x0b; t[2] = 0x00; t[3] = 0x6f; /* 6667 -> 111 */
	t[4] = 0; t[5] = 0; t[6] = 1; t[7] = 0; /* seq 256 */
	t[12] = 5 << 4;
	t[13] = 0x18;
	memcpy(t + 20, "abc", 3);
	struct pd_pkt p;
	assert_int_equal(pd_pkt_parse(b, 40 + 31, &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_int_equal(p.seq, 256);
	assert_int_equal(p.len, 3);
	assert_memory_equal(p.payload, "abc", 3);
	b[40] = IPPROTO_FRAGMENT;
	assert_int_equal(pd_pkt_parse(b, 40 + 31, &p), -1);
}

static const struct ir_portrange mountd_ports[] = {{513, 1023}, {20048, 20048}};
static const struct ir_portset mountd = {2, (struct ir_portrange *)mountd_ports};

static struct pd_target target(void)
{
	return (struct pd_target){.set = "ph_nfs_mountd_v4", .family = AF_INET, .peer_is_server = true,
				  .listener_is_server = true, .tcp = true, .udp = true, .ports = &mountd,
				  .timeout = 600, .where = "allow nfs client (nfs flow mountd)"};
}

static struct pd_endpoints ends(void)
{
	struct pd_endpoints ep = {.family = AF_INET};
	inet_pton(AF_INET, "10.0.0.1", ep.client);
	inet_pton(AF_INET, "10.0.0.2", ep.server);
	return ep;
}

/* NFS's statd: the server asks the client's portmapper (statd-portmap runs from server to
 * client), so the connection's opener is the app's server and the GETPORT reply comes from
 * the client, which listens; the set holds server . client, the port is the client's. */
static void test_check_reversed(void **state)
{
	(void)state;
	static const struct ir_portrange statd_ports[] = {{32765, 32765}};
	static const struct ir_portset statd = {1, (struct ir_portrange *)statd_ports};
	struct pd_target t = {.set = "ph_nfs_statd_v4", .family = AF_INET, .peer_is_server = true,
			      .listener_is_server = false, .udp = true, .ports = &statd,
			      .timeout = 600, .program = 100024, .where = "allow nfs client (nfs flow statd)"};
	struct pd_endpoints ep = {.family = AF_INET, .opener_is_server = true};
	inet_pton(AF_INET, "10.0.0.2", ep.client); /* the NFS server opened it */
	inet_pton(AF_INET, "10.0.0.1", ep.server); /* the NFS client's portmapper answered */
	assert_memory_equal(pd_app_server(&ep), ep.client, 4);
	assert_memory_equal(pd_app_client(&ep), ep.server, 4);
	struct ph_offer o = {.listener = PH_LISTEN_SENDER, .l4proto = IPPROTO_UDP, .port_lo = 40001,
			     .port_hi = 40001, .program = 100024};
	struct pd_pinhole ph;
	const char *why;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40001, &ph, &why), PD_OPEN);
	assert_memory_equal(ph.peer, ep.client, 4);  /* the server that asked */
	assert_memory_equal(ph.local, ep.server, 4); /* this client */
	assert_int_equal(ph.port, 40001);
	/* the server's call claiming a port of its own is not the listener's */
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 40001, &ph, &why), PD_SKIP);
	/* a reply for another program opens nothing in statd's set */
	o.program = 100005;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40001, &ph, &why), PD_SKIP);
	/* a reserved port statd's flow does not name is refused */
	o.program = 100024;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 800, &ph, &why), PD_REFUSE);
	/* the same reply read as an ordinary client -> server control flow would be the server's
	 * port: not statd's listener */
	ep.opener_is_server = false;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 40001, &ph, &why), PD_SKIP);
}

static void test_check(void **state)
{
	(void)state;
	struct pd_target t = target();
	struct pd_endpoints ep = ends();
	struct ph_offer o = {.listener = PH_LISTEN_SENDER, .l4proto = IPPROTO_UDP, .port_lo = 20048,
			     .port_hi = 20048, .program = 100005};
	struct pd_pinhole ph;
	const char *why;
	/* the server's GETPORT reply: the server listens, the set holds server . client */
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	assert_memory_equal(ph.peer, ep.server, 4);
	assert_memory_equal(ph.local, ep.client, 4);
	/* the client claiming a port of its own: not this flow's listener */
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_ORIG, &o, 20048, &ph, &why), PD_SKIP);
	/* a port below 1024 the flow names, and one it does not */
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 700, &ph, &why), PD_OPEN);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 22, &ph, &why), PD_REFUSE);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 0, &ph, &why), PD_REFUSE);
	/* a named address: the sender's or unspecified opens; another one is refused */
	o.listener = PH_LISTEN_NAMED;
	o.family = AF_INET;
	memcpy(o.addr, ep.server, 4);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	memset(o.addr, 0, 4);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	inet_pton(AF_INET, "192.0.2.9", o.addr);
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "not the sender's"));
	/* a flow with `program 100005` (mountd): nlockmgr's reply is not its; without `program`
	 * every allowed program's reply is */
	o.listener = PH_LISTEN_SENDER;
	t.program = 100005;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	o.program = 100021;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_SKIP);
	t.program = 0;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	/* another family or protocol is another target's */
	t.udp = false;
	assert_int_equal(pd_check_offer(&t, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_SKIP);
	uint8_t a[16] = {0};
	inet_pton(AF_INET, "127.0.0.1", a);
	assert_true(pd_addr_refused(AF_INET, a));
	inet_pton(AF_INET, "224.0.0.1", a);
	assert_true(pd_addr_refused(AF_INET, a));
	inet_pton(AF_INET6, "fe80::1", a);
	assert_true(pd_addr_refused(AF_INET6, a));
	inet_pton(AF_INET6, "2001:db8::1", a);
	assert_false(pd_addr_refused(AF_INET6, a));
}

/* rpcbind on a server with two global IPv6 addresses answers GETADDR, asked at one, with the
 * other (the address of the transport it picks). The server's pinholed opens it when the
 * address is one of the host's own (its pinhole is keyed to that address); the client's only
 * when the statement's peer addresses hold it. Nothing else changes: a third party's address
 * stays refused on both ends. */
static void test_check_other_address(void **state)
{
	(void)state;
	struct pd_endpoints ep = {.family = AF_INET6};
	inet_pton(AF_INET6, "2001:db8:1::7", ep.client);
	inet_pton(AF_INET6, "2001:db8:1::5", ep.server); /* asked here */
	struct ph_offer o = {.listener = PH_LISTEN_NAMED, .family = AF_INET6, .l4proto = IPPROTO_TCP,
			     .port_lo = 20048, .port_hi = 20048, .program = 100005};
	inet_pton(AF_INET6, "2001:db8:2::5", o.addr); /* answered with this one */
	struct pd_pinhole ph;
	const char *why;
	uint8_t want[16];
	/* the server: its own second address opens, keyed client . that address */
	struct pd_target srv = {.set = "ph_nfs_mountd_v6", .family = AF_INET6, .peer_is_server = false,
				.listener_is_server = true, .tcp = true, .ports = &mountd, .timeout = 600};
	struct pd_own own = {.n = 2};
	own.v[0].family = own.v[1].family = AF_INET6;
	memcpy(own.v[0].a, ep.server, 16);
	memcpy(own.v[1].a, o.addr, 16);
	assert_int_equal(pd_check_offer(&srv, &ep, &own, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	assert_memory_equal(ph.peer, ep.client, 16);
	assert_memory_equal(ph.local, o.addr, 16);
	/* not the host's: refused (without own addresses too) */
	own.n = 1;
	assert_int_equal(pd_check_offer(&srv, &ep, &own, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "nor one of this host's"));
	assert_int_equal(pd_check_offer(&srv, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	/* the client: no peer addresses in the statement (`allow nfs client;`): refused */
	struct pd_target cli = srv;
	cli.peer_is_server = true;
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "names no peer addresses"));
	/* `to 2001:db8::/32`: the server's other address is in it, the pinhole goes there */
	struct ir_prefix scope_v[] = {{.family = IR_V6, .len = 32, .addr = {0x20, 0x01, 0x0d, 0xb8}}};
	struct ir_addrset scope = {.n = 1, .v = scope_v};
	cli.peer_scope = &scope;
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	assert_memory_equal(ph.peer, o.addr, 16);
	assert_memory_equal(ph.local, ep.client, 16);
	/* outside the scope, this client's own address, link-local, loopback: refused */
	inet_pton(AF_INET6, "2001:db9::5", o.addr);
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "nor in the statement's peer addresses"));
	inet_pton(AF_INET6, "2001:db8:3::7", o.addr);
	own.n = 1;
	memcpy(own.v[0].a, o.addr, 16);
	assert_int_equal(pd_check_offer(&cli, &ep, &own, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	assert_non_null(strstr(why, "this host's"));
	struct ir_prefix any_v[] = {{.family = IR_V6, .len = 0}};
	struct ir_addrset any = {.n = 1, .v = any_v};
	cli.peer_scope = &any;
	inet_pton(AF_INET6, "fe80::5", o.addr);
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	inet_pton(AF_INET6, "::1", o.addr);
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	/* a port below 1024 the flow does not name stays refused at the other address too */
	inet_pton(AF_INET6, "2001:db8:2::5", o.addr);
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 22, &ph, &why), PD_REFUSE);
	/* another family than the connection's: refused */
	o.family = AF_INET;
	inet_pton(AF_INET, "192.0.2.5", o.addr);
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_REFUSE);
	/* the sender's own address still opens to the connection's ends, as before */
	o.family = AF_INET6;
	memcpy(o.addr, ep.server, 16);
	assert_int_equal(pd_check_offer(&cli, &ep, NULL, PH_REPLY, &o, 20048, &ph, &why), PD_OPEN);
	memcpy(want, ep.server, 16);
	assert_memory_equal(ph.peer, want, 16);
}

static void test_table_caps(void **state)
{
	(void)state;
	static struct pd_table tab;
	memset(&tab, 0, sizeof(tab));
	struct pd_endpoints ep = ends();
	struct pd_conn ev;
	struct pd_conn *c = pd_conn_add(&tab, 1, AF_INET, IPPROTO_UDP, ep.client, 700, ep.server, 111,
					0, 1000, &ev);
	assert_non_null(c);
	enum ph_side side;
	assert_ptr_equal(pd_conn_find(&tab, AF_INET, IPPROTO_UDP, ep.server, 111, ep.client, 700, &side), c);
	assert_int_equal(side, PH_REPLY);
	assert_null(pd_conn_find(&tab, AF_INET, IPPROTO_TCP, ep.server, 111, ep.client, 700, &side));
	struct pd_target t = target();
	struct pd_pinhole ph = {.family = AF_INET, .l4proto = IPPROTO_UDP};
	memcpy(ph.peer, ep.server, 4);
	memcpy(ph.local, ep.client, 4);
	const char *why;
	for (unsigned i = 0; i < PD_MAX_PER_CONN; i++) {
		ph.port = (uint16_t)(30000 + i);
		assert_non_null(pd_live_open(&tab, c, &t, &ph, 0, &why));
	}
	ph.port = 30000; /* the same pinhole again: refreshed, not counted */
	assert_non_null(pd_live_open(&tab, c, &t, &ph, 5, &why));
	ph.port = 40000;
	assert_null(pd_live_open(&tab, c, &t, &ph, 0, &why));
	assert_non_null(strstr(why, "connection"));
	assert_int_equal(pd_live_count(&tab), PD_MAX_PER_CONN);
	pd_live_expire(&tab, 600 * 1000 + 1); /* all but the refreshed one */
	assert_int_equal(pd_live_count(&tab), 1);
}

/* The per-peer cap (64 towards one address, whatever the connection) and the global one
 * (4096): each peer here gets 64 from 4 connections; the 65th peer finds the table full. */
static void test_peer_and_global_caps(void **state)
{
	(void)state;
	static struct pd_table tab;
	memset(&tab, 0, sizeof(tab));
	struct pd_target t = target();
	const char *why;
	unsigned port = 1024;
	for (unsigned peer = 0; peer <= PD_MAX_PINHOLES / PD_MAX_PER_PEER; peer++) {
		struct pd_pinhole ph = {.family = AF_INET, .l4proto = IPPROTO_UDP,
					.peer = {10, 1, (uint8_t)(peer >> 8), (uint8_t)peer},
					.local = {10, 0, 0, 1}};
		for (unsigned k = 0; k < PD_MAX_PER_PEER / PD_MAX_PER_CONN + 1; k++) {
			struct pd_conn ev;
			uint8_t client[4] = {10, 0, 0, 1};
			struct pd_conn *c = pd_conn_add(&tab, 1, AF_INET, IPPROTO_UDP, client,
							(uint16_t)(600 + peer * 8 + k), ph.peer, 111, 0, 1000, &ev);
			assert_non_null(c);
			for (unsigned i = 0; i < PD_MAX_PER_CONN; i++) {
				ph.port = (uint16_t)port++;
				struct pd_live *l = pd_live_open(&tab, c, &t, &ph, 0, &why);
				bool room = k < PD_MAX_PER_PEER / PD_MAX_PER_CONN &&
					    peer < PD_MAX_PINHOLES / PD_MAX_PER_PEER;
				assert_true(room ? l != NULL : l == NULL);
				if (!room)
					assert_non_null(strstr(why, peer < PD_MAX_PINHOLES / PD_MAX_PER_PEER
								    ? "peer" : "pinholed holds"));
			}
			pd_conn_drop(c); /* connections are not the cap here */
		}
	}
	assert_int_equal(pd_live_count(&tab), PD_MAX_PINHOLES);
}

static void test_batch_round_trip(void **state)
{
	(void)state;
	struct pd_elem_op op = {.add = true, .set = "ph_nfs_mountd_v4", .timeout_ms = 600000};
	op.ph.family = AF_INET;
	inet_pton(AF_INET, "10.0.0.2", op.ph.peer);
	inet_pton(AF_INET, "10.0.0.1", op.ph.local);
	op.ph.l4proto = IPPROTO_UDP;
	op.ph.port = 20048;
	uint8_t key[PD_KEY_MAX];
	assert_int_equal(pd_nft_key(&op.ph, key), 16);
	static const uint8_t want[16] = {10, 0, 0, 2, 10, 0, 0, 1, 17, 0, 0, 0, 0x4e, 0x50, 0, 0};
	assert_memory_equal(key, want, 16);
	static char buf[8192];
	size_t len = pd_nft_batch(buf, sizeof(buf), 100, "pinhole", &op, 1);
	assert_true(len > 0);
	/* begin, the element, end; the element parses back to the same key and timeout */
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	int msgs = 0, elems = 0;
	for (size_t rest = len; mnl_nlmsg_ok(nlh, (int)rest); nlh = mnl_nlmsg_next(nlh, (int *)&rest)) {
		msgs++;
		if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
			continue;
		struct nftnl_set *s = nftnl_set_alloc();
		assert_int_equal(nftnl_set_elems_nlmsg_parse(nlh, s), 0);
		assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), "ph_nfs_mountd_v4");
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
		for (struct nftnl_set_elem *e; (e = nftnl_set_elems_iter_next(it));) {
			uint32_t klen;
			const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
			assert_int_equal(klen, 16);
			assert_memory_equal(k, want, 16);
			assert_int_equal(nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT), 600000);
			elems++;
		}
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
	}
	assert_int_equal(msgs, 3);
	assert_int_equal(elems, 1);
}

/* An nftables notification as the kernel sends it: nfgenmsg, then table and set names. */
static const struct nlmsghdr *nft_event(char *buf, int type, const char *table, const char *set)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | type);
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_INET;
	if (table)
		mnl_attr_put_strz(nlh, type == NFT_MSG_DELTABLE ? NFTA_TABLE_NAME : NFTA_SET_TABLE, table);
	if (set)
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, set);
	return nlh;
}

static bool feed(struct pd_reload *r, int type, const char *table, const char *set)
{
	static char buf[512];
	struct pd_nft_event ev;
	assert_int_equal(pd_nft_event_parse(nft_event(buf, type, table, set), &ev), 0);
	return pd_reload_event(r, &ev);
}

static void test_reload(void **state)
{
	(void)state;
	struct pd_reload r;
	pd_reload_init(&r, "pinhole");
	pd_reload_track(&r, "ph_nfs_mountd_v4");
	pd_reload_track(&r, "ph_nfs_nlockmgr_v4");
	pd_reload_track(&r, "ph_nfs_mountd_v4");
	assert_int_equal(r.n, 2);
	/* pinholed's own element batches end in NEWGEN too: nothing to do */
	assert_false(feed(&r, NFT_MSG_NEWGEN, NULL, NULL));
	/* another table replaced: nothing */
	assert_false(feed(&r, NFT_MSG_DELTABLE, "other", NULL));
	assert_false(feed(&r, NFT_MSG_NEWGEN, NULL, NULL));
	/* apply: the table goes, mountd's set comes back, nlockmgr's does not */
	assert_false(feed(&r, NFT_MSG_DELSET, "pinhole", "ph_nfs_mountd_v4"));
	assert_false(feed(&r, NFT_MSG_DELTABLE, "pinhole", NULL));
	assert_false(feed(&r, NFT_MSG_NEWSET, "pinhole", "ph_nfs_mountd_v4"));
	assert_false(feed(&r, NFT_MSG_NEWSET, "pinhole", "ph_other_v4"));
	assert_true(feed(&r, NFT_MSG_NEWGEN, NULL, NULL));
	assert_int_equal(pd_reload_fate(&r, "ph_nfs_mountd_v4"), PD_FATE_READD);
	assert_int_equal(pd_reload_fate(&r, "ph_nfs_nlockmgr_v4"), PD_FATE_DROP);
	assert_int_equal(pd_reload_fate(&r, "ph_other_v4"), PD_FATE_KEEP);
	pd_reload_done(&r);
	assert_int_equal(pd_reload_fate(&r, "ph_nfs_mountd_v4"), PD_FATE_KEEP);
	assert_false(feed(&r, NFT_MSG_NEWGEN, NULL, NULL));
	/* one set deleted on its own (nft delete set) */
	assert_false(feed(&r, NFT_MSG_DELSET, "pinhole", "ph_nfs_nlockmgr_v4"));
	assert_true(feed(&r, NFT_MSG_NEWGEN, NULL, NULL));
	assert_int_equal(pd_reload_fate(&r, "ph_nfs_nlockmgr_v4"), PD_FATE_DROP);
	assert_int_equal(pd_reload_fate(&r, "ph_nfs_mountd_v4"), PD_FATE_KEEP);
	pd_reload_done(&r);
	/* not nftables: refused by the parser */
	static char buf[512];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | 1;
	mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
	struct pd_nft_event ev;
	assert_int_equal(pd_nft_event_parse(nlh, &ev), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt_udp4),
		cmocka_unit_test(test_pkt_tcp6_ext),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_other_address),
		cmocka_unit_test(test_check_reversed),
		cmocka_unit_test(test_table_caps),
		cmocka_unit_test(test_peer_and_global_caps),
		cmocka_unit_test(test_batch_round_trip),
		cmocka_unit_test(test_reload),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
