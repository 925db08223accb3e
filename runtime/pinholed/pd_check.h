/* What an offer may open: the one place pinholed decides (anti-forgery, addresses, ports). */
#ifndef PINHOLED_CHECK_H
#define PINHOLED_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"
#include "proto.h"

/* A relayed channel's two sets (flow option `relayed`: IRC DCC, MSNFTP). The offer names a
 * third party: on the receiver, the server relays it and the receiver connects out to it; on
 * the sender, the offer goes out with its own address and a peer nobody names connects. */
enum pd_relay {
	PD_RELAY_NONE,  /* the peer is the control connection's other end */
	PD_RELAY_RECV,  /* peer . local . proto . port: the address the relayed offer names */
	PD_RELAY_SEND,  /* local . proto . port, no peer: the sender's own offer */
};

/* One set an offer may go to: a data flow's pinhole set of one family under one statement. */
struct pd_target {
	const char *set;          /* the nft plan's name, "ph_nfs_mountd_v4" */
	uint8_t family;           /* AF_INET or AF_INET6 */
	bool peer_is_server;      /* the set's first field is the server's address (else the client's) */
	bool listener_is_server;  /* the data flow's responder: who listens on the offered port */
	bool tcp, udp;            /* the data flow's protocols */
	const struct ir_portset *ports; /* its static ports: the only ports below 1024 it may open */
	uint32_t timeout;         /* seconds */
	uint32_t program;         /* the flow's ONC RPC program (`program N`); 0 = any allowed one */
	const char *where;        /* "fw.pin:3 allow nfs client (nfs flow mountd)", for the log */
	enum pd_relay relay;
	/* The statement's addresses for the peer (its `to` on a client, `from` on a server), of
	 * the set's family; NULL or empty = any. Bounds the other-address case below. */
	const struct ir_addrset *peer_scope;
};

/* An opened pinhole: the set's key fields. */
struct pd_pinhole {
	uint8_t family;
	bool peerless;            /* a PD_RELAY_SEND set's: no peer field (peer is zero) */
	uint8_t peer[16], local[16];
	uint8_t l4proto;
	uint16_t port;
};

/* The control connection as the daemon saw it: `client` opened it (PH_ORIG), `server`
 * answered. Those are the connection's ends; the app's roles are the same unless the control
 * flow runs from the app's server to its client (NFS's statd-portmap: the server asks the
 * client's portmapper), `opener_is_server`. */
struct pd_endpoints {
	uint8_t family;
	uint8_t client[16], server[16];
	bool opener_is_server;
};

/* The app's server and client among the connection's ends. */
const uint8_t *pd_app_server(const struct pd_endpoints *ep);
const uint8_t *pd_app_client(const struct pd_endpoints *ep);

enum pd_verdict { PD_OPEN, PD_SKIP /* not this target's */, PD_REFUSE };

/* This host's own addresses (pinholed reads them with getifaddrs): a relayed offer naming
 * one of them is refused. */
#define PD_MAX_OWN 64
struct pd_own {
	size_t n;
	struct { uint8_t family; uint8_t a[16]; } v[PD_MAX_OWN];
};

/* Decides offer `o` (its port `port`, one of o->port_lo..port_hi) sent by `side` of the
 * connection for target `t`: PD_OPEN with *out filled, PD_SKIP when the offer is about
 * another flow (protocol, family or listening side differ), PD_REFUSE with *why (static
 * text) when it must not open anything: an address that is not the sender's, an address
 * no pinhole may go to, a port below 1024 the flow does not name, port 0.
 *
 * An offer naming another address of its sender (rpcbind on a server with two global
 * addresses answers GETADDR with either) opens only where that address can be trusted: on
 * the sender itself when it is one of `own` (the pinhole's local address is the one named),
 * and on the receiver when t->peer_scope is not empty and holds it, and it is none of `own`
 * and no loopback, multicast, broadcast, unspecified or link-local address (the pinhole's
 * peer is the one named). Anything else is refused, as before. For a relayed
 * target (t->relay), PD_RECV takes the offers the server relays to the app's client and
 * opens towards the address named, which must be no end of the control connection, none of
 * `own` (may be NULL) and no loopback, multicast, broadcast, unspecified or link-local one;
 * PD_SEND takes the offers the app's client sends, whose address must be its own. On
 * PD_REFUSE *out holds the key the offer asked for, for the log. */
enum pd_verdict pd_check_offer(const struct pd_target *t, const struct pd_endpoints *ep,
			       const struct pd_own *own, enum ph_side side,
			       const struct ph_offer *o, uint16_t port, struct pd_pinhole *out,
			       const char **why);

/* Loopback, multicast, broadcast, unspecified, link-local: never a pinhole's end. */
bool pd_addr_refused(uint8_t family, const uint8_t *a);

#endif
