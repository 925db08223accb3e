/* The checks every offer passes before it opens a pinhole (pd_check.h). Parsers report raw
 * facts (runtime/proto/proto.h); nothing they say is trusted here. */
#include <netinet/in.h>
#include <string.h>

#include "pd_check.h"

static size_t alen(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

bool pd_addr_refused(uint8_t family, const uint8_t *a)
{
	static const uint8_t zero[16];
	if (family == AF_INET) {
		return a[0] == 127 || a[0] == 0 || (a[0] >= 224) || /* multicast, class E, broadcast */
		       (a[0] == 169 && a[1] == 254);
	}
	if (!memcmp(a, zero, 16))
		return true; /* :: */
	static const uint8_t lo[16] = {[15] = 1};
	static const uint8_t v4mapped[12] = {[10] = 0xff, [11] = 0xff};
	return !memcmp(a, lo, 16) || a[0] == 0xff || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
	       !memcmp(a, v4mapped, 12);
}

const uint8_t *pd_app_server(const struct pd_endpoints *ep)
{
	return ep->opener_is_server ? ep->client : ep->server;
}

const uint8_t *pd_app_client(const struct pd_endpoints *ep)
{
	return ep->opener_is_server ? ep->server : ep->client;
}

static bool port_named(const struct ir_portset *ps, uint16_t port)
{
	for (size_t i = 0; ps && i < ps->n; i++)
		if (ps->v[i].lo <= port && port <= ps->v[i].hi)
			return true;
	return false;
}

static bool is_own(const struct pd_own *own, uint8_t family, const uint8_t *a)
{
	for (size_t i = 0; own && i < own->n && i < PD_MAX_OWN; i++)
		if (own->v[i].family == family && !memcmp(own->v[i].a, a, alen(family)))
			return true;
	return false;
}

static enum pd_verdict refuse(const char **why, const char *text)
{
	*why = text;
	return PD_REFUSE;
}

/* A relayed channel (pd_check.h): the server relays offers between two clients. The app's
 * client is this host's end (the control flow runs from client to server). */
static enum pd_verdict check_relayed(const struct pd_target *t, const struct pd_endpoints *ep,
				     const struct pd_own *own, enum ph_side side,
				     const struct ph_offer *o, uint16_t port, struct pd_pinhole *out,
				     const char **why)
{
	static const uint8_t zero[16];
	if (o->listener != PH_LISTEN_NAMED)
		return PD_SKIP; /* DCC and MSNFTP offers name their listener */
	bool sender_is_server = (side == PH_REPLY) != ep->opener_is_server;
	if (sender_is_server != (t->relay == PD_RELAY_RECV))
		return PD_SKIP; /* the receiver's set takes what the server relays, the sender's what it sends */
	const uint8_t *local = pd_app_client(ep);
	size_t n = alen(ep->family);
	out->family = ep->family;
	out->l4proto = o->l4proto;
	out->port = port;
	memcpy(out->local, local, n);
	bool unspecified = (o->family == AF_INET || o->family == AF_INET6) && !memcmp(o->addr, zero, alen(o->family));
	if (t->relay == PD_RELAY_SEND) {
		out->peerless = true;
		/* the sender's own address, or "the sender" */
		if (!unspecified && (o->family != ep->family || memcmp(o->addr, local, n)))
			return refuse(why, "the address in the message is not the sender's");
	} else {
		if (o->family != ep->family)
			return refuse(why, "the offer names an address of another family than the control connection's");
		memcpy(out->peer, o->addr, n);
		if (unspecified || pd_addr_refused(o->family, o->addr))
			return refuse(why, "a relayed offer naming a loopback, multicast, broadcast, unspecified or link-local address");
		if (!memcmp(o->addr, ep->client, n) || !memcmp(o->addr, ep->server, n) ||
		    is_own(own, o->family, o->addr))
			return refuse(why, "a relayed offer naming this host or the relaying server");
	}
	if (pd_addr_refused(ep->family, ep->client) || pd_addr_refused(ep->family, ep->server))
		return refuse(why, "loopback, multicast, broadcast, unspecified or link-local address");
	if (port == 0)
		return refuse(why, "port 0");
	if (port < 1024)
		return refuse(why, "a port below 1024");
	/* no static fallback to compare with: the flow's ports bound what an offer may open */
	if (t->ports && t->ports->n && !port_named(t->ports, port))
		return refuse(why, "a port outside the flow's ports");
	return PD_OPEN;
}

static bool in_scope(const struct ir_addrset *scope, uint8_t family, const uint8_t *a)
{
	uint8_t irfam = family == AF_INET6 ? IR_V6 : IR_V4;
	for (size_t i = 0; scope && i < scope->n; i++)
		if (ir_prefix_contains(&scope->v[i], irfam, a))
			return true;
	return false;
}

/* An offer names `a`, another address than its sender's (pd_check.h): NULL when it may open,
 * else why not. On the sender (`sender_is_local`) the host knows its own addresses; on the
 * receiver only the statement's scope for the peer says which addresses the peer may use. */
static const char *other_address(const struct pd_target *t, const struct pd_own *own,
				 bool sender_is_local, const uint8_t *a, uint8_t family)
{
	if (pd_addr_refused(family, a))
		return "the address in the message is not the sender's, and a loopback, multicast, broadcast, "
		       "unspecified or link-local one";
	if (sender_is_local)
		return is_own(own, family, a) ? NULL
		       : "the address in the message is neither the sender's nor one of this host's";
	if (!t->peer_scope || !t->peer_scope->n)
		return "the address in the message is not the sender's (the statement names no peer "
		       "addresses it could be checked against)";
	if (is_own(own, family, a))
		return "the address in the message is this host's, not the sender's";
	if (!in_scope(t->peer_scope, family, a))
		return "the address in the message is not the sender's, nor in the statement's peer addresses";
	return NULL;
}

enum pd_verdict pd_check_offer(const struct pd_target *t, const struct pd_endpoints *ep,
			       const struct pd_own *own, enum ph_side side,
			       const struct ph_offer *o, uint16_t port, struct pd_pinhole *out,
			       const char **why)
{
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (t->family != ep->family)
		return PD_SKIP;
	if (!((o->l4proto == IPPROTO_TCP && t->tcp) || (o->l4proto == IPPROTO_UDP && t->udp)))
		return PD_SKIP;
	if (t->relay != PD_RELAY_NONE)
		return check_relayed(t, ep, own, side, o, port, out, why);
	/* A GETPORT reply for nlockmgr is nlockmgr's: mountd's set never sees it. */
	if (t->program && o->program != t->program)
		return PD_SKIP;
	/* the app's roles: the sender of a reply is the connection's answerer, which is the
	 * app's client when the control flow runs from server to client */
	bool sender_is_server = (side == PH_REPLY) != ep->opener_is_server;
	const uint8_t *sender = side == PH_REPLY ? ep->server : ep->client;
	bool listener_is_server;
	const uint8_t *named = NULL; /* another address than the sender's, if the offer names one */
	switch (o->listener) {
	case PH_LISTEN_SENDER:
		listener_is_server = sender_is_server;
		break;
	case PH_LISTEN_RECEIVER:
		listener_is_server = !sender_is_server;
		break;
	case PH_LISTEN_NAMED: {
		static const uint8_t zero[16];
		listener_is_server = sender_is_server;
		bool unspecified = (o->family == AF_INET || o->family == AF_INET6) &&
				   !memcmp(o->addr, zero, alen(o->family));
		/* An offer relayed by a server names a third party: only a `relayed` channel's
		 * sets take it (check_relayed); another address of the sender only as
		 * other_address allows; anything else is refused, never widened. */
		if (!unspecified && (o->family != ep->family || memcmp(o->addr, sender, alen(ep->family))))
			named = o->addr;
		break;
	}
	default:
		*why = "an offer of an unknown kind";
		return PD_REFUSE;
	}
	if (listener_is_server != t->listener_is_server)
		return PD_SKIP;
	/* Is the sender this host, the set's local end? That end is the app's client when the
	 * set's peer is the server (on a gateway the peer is always the server side: never). */
	bool sender_is_local = sender_is_server != t->peer_is_server;
	if (named && o->family != ep->family) {
		*why = "the address in the message is not the sender's";
		return PD_REFUSE;
	}
	if (named && (*why = other_address(t, own, sender_is_local, named, ep->family)))
		return PD_REFUSE;
	if (pd_addr_refused(ep->family, ep->client) || pd_addr_refused(ep->family, ep->server)) {
		*why = "loopback, multicast, broadcast, unspecified or link-local address";
		return PD_REFUSE;
	}
	if (port == 0) {
		*why = "port 0";
		return PD_REFUSE;
	}
	if (port < 1024 && !port_named(t->ports, port)) {
		*why = "a port below 1024 the flow does not name";
		return PD_REFUSE;
	}
	memset(out, 0, sizeof(*out));
	out->family = ep->family;
	memcpy(out->peer, t->peer_is_server ? pd_app_server(ep) : pd_app_client(ep), alen(ep->family));
	memcpy(out->local, t->peer_is_server ? pd_app_client(ep) : pd_app_server(ep), alen(ep->family));
	if (named) /* the address the listener gave: its peer reaches it there */
		memcpy(sender_is_local ? out->local : out->peer, named, alen(ep->family));
	out->l4proto = o->l4proto;
	out->port = port;
	return PD_OPEN;
}
