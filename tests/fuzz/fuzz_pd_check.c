/* libFuzzer target for pinholed's offer check (runtime/pinholed/pd_check.c): the one place
 * that decides whether a parser's offer opens a pinhole. The input is a target, the control
 * connection's ends, this host's addresses, the side that sent the offer, the offer and the
 * port. Whatever it is, a decision must keep the promises of pd_check.h, checked here against
 * a reference written apart from pd_check.c:
 *
 *   - a verdict is OPEN, SKIP or REFUSE; REFUSE says why; the same input decides the same;
 *   - OPEN is of the target's family and protocol and the offer's protocol and port; never
 *     port 0; below 1024 only a port the flow names (a relayed flow: never, and only its ports);
 *   - no opened end is loopback, multicast, broadcast, unspecified or link-local, and neither
 *     end is the control connection's unless the pinhole is on that connection's ends;
 *   - an ordinary channel's pinhole is keyed to the connection's ends, the peer the app's
 *     role the set names; or, for an offer naming another address of its sender, that
 *     address on the side that may trust it: one of this host's on the sender, one inside the
 *     statement's peer scope (and not this host's) on the receiver;
 *   - a relayed receiver's pinhole goes to the address named, never this host, the relaying
 *     server or the client itself; a relayed sender's has no peer and its own address only;
 *   - pd_addr_refused agrees with the reference on every address seen. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pd_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t byte(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static uint16_t u16(struct reader *r)
{
	uint16_t hi = byte(r);
	return (uint16_t)(hi << 8 | byte(r));
}

/* Addresses from a small pool, so that equal addresses (the sender's, this host's) are found
 * often: the connection's ends, this host's, special ones, or raw bytes. */
static void addr(struct reader *r, uint8_t family, const uint8_t pool[][16], size_t npool, uint8_t *out)
{
	uint8_t k = byte(r);
	memset(out, 0, 16);
	if (k < 0x80 && npool) {
		memcpy(out, pool[k % npool], 16);
	} else if (k < 0xc0) {
		static const uint8_t special4[][4] = {{127, 0, 0, 1}, {0, 0, 0, 0}, {224, 0, 0, 1},
						      {255, 255, 255, 255}, {169, 254, 1, 1}, {10, 0, 0, 1}};
		static const uint8_t special6[][16] = {{0}, {[15] = 1}, {0xff, 0x02, [15] = 1},
						       {0xfe, 0x80, [15] = 1},
						       {[10] = 0xff, [11] = 0xff, 10, 0, 0, 1},
						       {0x20, 0x01, 0x0d, 0xb8, [15] = 5}};
		if (family == AF_INET6)
			memcpy(out, special6[k % 6], 16);
		else
			memcpy(out, special4[k % 6], 4);
	} else {
		for (size_t i = 0; i < (family == AF_INET6 ? 16u : 4u); i++)
			out[i] = byte(r);
	}
}

static size_t alen(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

/* Loopback, multicast, broadcast, unspecified, link-local (IPv4: 0/8, 127/8, 224/3 with
 * 255.255.255.255, 169.254/16; IPv6: ::, ::1, ff00::/8, fe80::/10, IPv4-mapped). */
static bool ref_refused(uint8_t family, const uint8_t *a)
{
	if (family == AF_INET)
		return a[0] == 0 || a[0] == 127 || a[0] >= 224 || (a[0] == 169 && a[1] == 254);
	bool zero = true;
	for (int i = 0; i < 15; i++)
		zero = zero && a[i] == 0;
	if (zero && (a[15] == 0 || a[15] == 1))
		return true;
	bool mapped = a[10] == 0xff && a[11] == 0xff;
	for (int i = 0; i < 10; i++)
		mapped = mapped && a[i] == 0;
	return a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) || mapped;
}

static bool ref_own(const struct pd_own *own, uint8_t family, const uint8_t *a)
{
	for (size_t i = 0; own && i < own->n; i++)
		if (own->v[i].family == family && !memcmp(own->v[i].a, a, alen(family)))
			return true;
	return false;
}

static bool ref_in(const struct ir_addrset *s, uint8_t family, const uint8_t *a)
{
	for (size_t i = 0; s && i < s->n; i++) {
		const struct ir_prefix *p = &s->v[i];
		if (p->family != (family == AF_INET6 ? IR_V6 : IR_V4))
			continue;
		bool in = true;
		for (unsigned b = 0; b < p->len && in; b++)
			in = ((p->addr[b / 8] ^ a[b / 8]) & (0x80 >> (b % 8))) == 0;
		if (in)
			return true;
	}
	return false;
}

static bool in_ports(const struct ir_portset *ps, uint16_t port)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (ps->v[i].lo <= port && port <= ps->v[i].hi)
			return true;
	return false;
}

static bool eq(const uint8_t *a, const uint8_t *b, uint8_t family)
{
	return !memcmp(a, b, alen(family));
}

static bool zero_addr(const uint8_t *a, uint8_t family)
{
	static const uint8_t z[16];
	return eq(a, z, family);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	uint8_t flags = byte(&r), flags2 = byte(&r);
	uint8_t family = flags & 1 ? AF_INET6 : AF_INET;
	struct ir_portrange pr[3];
	struct ir_portset ports = {.n = byte(&r) % 4, .v = pr};
	for (size_t i = 0; i < ports.n; i++) {
		uint16_t a = u16(&r), b = u16(&r);
		pr[i] = (struct ir_portrange){a < b ? a : b, a < b ? b : a};
	}
	struct ir_prefix sv[2];
	struct ir_addrset scope = {.n = byte(&r) % 3, .v = sv};
	struct pd_endpoints ep = {.family = flags & 2 ? (family == AF_INET ? AF_INET6 : AF_INET) : family,
				  .opener_is_server = flags & 4};
	uint8_t pool[8][16];
	size_t npool = 0;
	addr(&r, ep.family, NULL, 0, ep.client);
	addr(&r, ep.family, NULL, 0, ep.server);
	memcpy(pool[npool++], ep.client, 16);
	memcpy(pool[npool++], ep.server, 16);
	struct pd_own own = {.n = byte(&r) % 4};
	for (size_t i = 0; i < own.n; i++) {
		own.v[i].family = byte(&r) & 1 ? AF_INET : ep.family;
		addr(&r, own.v[i].family, NULL, 0, own.v[i].a);
		memcpy(pool[npool++], own.v[i].a, 16);
	}
	for (size_t i = 0; i < scope.n; i++) {
		sv[i].family = byte(&r) & 1 ? IR_V4 : (ep.family == AF_INET6 ? IR_V6 : IR_V4);
		sv[i].len = (uint8_t)(byte(&r) % (sv[i].family == IR_V6 ? 129 : 33));
		uint8_t a[16];
		addr(&r, ep.family, (const uint8_t (*)[16])pool, npool, a);
		memset(sv[i].addr, 0, 16);
		for (unsigned b = 0; b < sv[i].len; b++) /* host bits zero, as the IR keeps them */
			sv[i].addr[b / 8] |= (uint8_t)(a[b / 8] & (0x80 >> (b % 8)));
	}
	struct pd_target t = {.set = "ph_fuzz_v4", .family = family, .peer_is_server = flags & 8,
			      .listener_is_server = flags & 16, .tcp = flags & 32, .udp = flags & 64,
			      .ports = flags2 & 1 ? NULL : &ports, .timeout = 60,
			      .program = flags2 & 2 ? 100005 : 0, .where = "fuzz",
			      .relay = (enum pd_relay)((flags2 >> 2) % 3),
			      .peer_scope = flags2 & 16 ? NULL : &scope};
	enum ph_side side = flags & 128 ? PH_REPLY : PH_ORIG;
	struct ph_offer o = {.listener = (enum ph_listener)(byte(&r) % 4), .l4proto = byte(&r) & 1 ? IPPROTO_UDP : IPPROTO_TCP,
			     .program = byte(&r) & 1 ? 100005 : 100021, .what = "fuzz"};
	uint8_t of = byte(&r);
	o.family = of % 3 == 0 ? AF_INET : of % 3 == 1 ? AF_INET6 : 0;
	addr(&r, o.family ? o.family : ep.family, (const uint8_t (*)[16])pool, npool, o.addr);
	uint16_t port = u16(&r);
	o.port_lo = o.port_hi = port;
	bool use_own = flags2 & 32;

	struct pd_pinhole ph, ph2;
	const char *why = NULL, *why2 = NULL;
	enum pd_verdict v = pd_check_offer(&t, &ep, use_own ? &own : NULL, side, &o, port, &ph, &why);
	enum pd_verdict v2 = pd_check_offer(&t, &ep, use_own ? &own : NULL, side, &o, port, &ph2, &why2);
	if (v != v2 || (v == PD_OPEN && memcmp(&ph, &ph2, sizeof(ph))) || why != why2)
		abort(); /* pure: the same input decides the same */
	if (v != PD_OPEN && v != PD_SKIP && v != PD_REFUSE)
		abort();
	if (v == PD_REFUSE && !why)
		abort();
	if (v == PD_OPEN && why)
		abort();
	const uint8_t *seen[] = {ep.client, ep.server, o.addr};
	for (size_t i = 0; i < 3; i++)
		if (pd_addr_refused(i < 2 ? ep.family : (o.family ? o.family : ep.family), seen[i]) !=
		    ref_refused(i < 2 ? ep.family : (o.family ? o.family : ep.family), seen[i]))
			abort();
	if (v != PD_OPEN)
		return 0;
	const struct pd_own *ownp = use_own ? &own : NULL;
	uint8_t f = ep.family;
	/* family, protocol, port */
	if (ph.family != f || t.family != f || ph.l4proto != o.l4proto || ph.port != port || port == 0)
		abort();
	if (!((o.l4proto == IPPROTO_TCP && t.tcp) || (o.l4proto == IPPROTO_UDP && t.udp)))
		abort();
	if (t.relay != PD_RELAY_NONE) {
		if (port < 1024 || (t.ports && t.ports->n && !in_ports(t.ports, port)))
			abort();
	} else if (port < 1024 && !in_ports(t.ports, port)) {
		abort();
	}
	/* the app's roles among the connection's ends */
	const uint8_t *app_server = ep.opener_is_server ? ep.client : ep.server;
	const uint8_t *app_client = ep.opener_is_server ? ep.server : ep.client;
	const uint8_t *sender = side == PH_REPLY ? ep.server : ep.client;
	bool sender_is_server = (side == PH_REPLY) != ep.opener_is_server;
	if (ref_refused(f, ep.client) || ref_refused(f, ep.server) || ref_refused(f, ph.local))
		abort();
	if (o.listener != PH_LISTEN_NAMED && t.relay != PD_RELAY_NONE)
		abort(); /* relayed offers name their listener */
	switch (t.relay) {
	case PD_RELAY_SEND:
		/* the app's client's own offer: no peer, its own address (or unspecified) */
		if (!ph.peerless || !zero_addr(ph.peer, f) || !eq(ph.local, app_client, f) || sender_is_server)
			abort();
		if (!zero_addr(o.addr, o.family ? o.family : f) && (o.family != f || !eq(o.addr, app_client, f)))
			abort();
		break;
	case PD_RELAY_RECV:
		/* relayed by the server to the app's client: to the address named, a third party's */
		if (ph.peerless || !sender_is_server || o.family != f || !eq(ph.peer, o.addr, f) ||
		    !eq(ph.local, app_client, f) || ref_refused(f, ph.peer) || eq(ph.peer, ep.client, f) ||
		    eq(ph.peer, ep.server, f) || ref_own(ownp, f, ph.peer))
			abort();
		break;
	case PD_RELAY_NONE: {
		if (ph.peerless)
			abort();
		if (t.program && o.program != t.program)
			abort();
		bool listener_is_server = o.listener == PH_LISTEN_RECEIVER ? !sender_is_server : sender_is_server;
		if (o.listener > PH_LISTEN_NAMED || listener_is_server != t.listener_is_server)
			abort();
		const uint8_t *peer = t.peer_is_server ? app_server : app_client;
		const uint8_t *local = t.peer_is_server ? app_client : app_server;
		bool named_other = o.listener == PH_LISTEN_NAMED && !zero_addr(o.addr, o.family ? o.family : f) &&
				   (o.family != f || !eq(o.addr, sender, f));
		if (!named_other) {
			if (!eq(ph.peer, peer, f) || !eq(ph.local, local, f) || ref_refused(f, ph.peer))
				abort();
			break;
		}
		/* another address of the sender: only where it can be trusted */
		if (o.family != f || ref_refused(f, o.addr))
			abort();
		bool sender_is_local = sender_is_server != t.peer_is_server;
		if (sender_is_local) {
			if (!ref_own(ownp, f, o.addr) || !eq(ph.local, o.addr, f) || !eq(ph.peer, peer, f))
				abort();
		} else {
			if (!t.peer_scope || !ref_in(t.peer_scope, f, o.addr) || ref_own(ownp, f, o.addr) ||
			    !eq(ph.peer, o.addr, f) || !eq(ph.local, local, f))
				abort();
		}
		break;
	}
	default:
		abort();
	}
	return 0;
}
