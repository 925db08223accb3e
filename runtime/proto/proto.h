/* The parsers pinholed runs on copies of control connections' packets (NFLOG).
 *
 * Pure code: no I/O, no globals, no printing; every buffer bounded. The daemon owns one
 * `struct ph_conn` per control connection (a TCP connection, or a UDP "connection": one
 * 5-tuple) and hands it, per direction, the payload bytes in order. For TCP the bytes come
 * from `struct ph_reasm` (below), which delivers each stream byte exactly once, in order,
 * whatever retransmissions, overlaps or reordering the wire shows; for UDP each datagram is
 * fed whole.
 *
 * A parser reports what a message asks to open as `struct ph_offer`s: raw facts only. The
 * daemon decides (anti-forgery, own addresses, port floors, caps, the policy's sets), so
 * the parsers stay small and the rules about what may be opened live in one place.
 */
#ifndef PINHOLE_RUNTIME_PROTO_H
#define PINHOLE_RUNTIME_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* The protocols a `negotiated NAME` flow can name, by NAME: "rpc" (portmap/rpcbind),
 * "irc" (DCC), "msn" (MSNFTP invitations), "rtsp" (SETUP). */
enum ph_proto {
	PH_PROTO_RPC,
	PH_PROTO_IRC,
	PH_PROTO_MSN,
	PH_PROTO_RTSP,
};

/* Returns 0 and sets *p for a known name, -1 otherwise. */
int ph_proto_by_name(const char *name, enum ph_proto *p);
const char *ph_proto_name(enum ph_proto p);

/* Direction of a message within its control connection. */
enum ph_side {
	PH_ORIG = 0,  /* from the side that opened the connection (the client) */
	PH_REPLY = 1, /* from the side that accepted it (the server) */
};

/* Who listens for the data channel an offer describes. */
enum ph_listener {
	/* The message's sender, at the address it sent from (a portmapper GETPORT reply: the
	 * server; no address is carried). */
	PH_LISTEN_SENDER,
	/* The message's receiver, at the address it received on (an RTSP SETUP reply: the
	 * client's client_port; the sender, the server, is the peer). */
	PH_LISTEN_RECEIVER,
	/* The address named in the message (`family`, `addr`): a DCC or MSNFTP offer, an rpcbind
	 * GETADDR reply. It may be the sender's own address, the unspecified address (0.0.0.0 or
	 * ::, meaning "the sender"), or a third party's (an offer relayed by an IRC server). */
	PH_LISTEN_NAMED,
};

struct ph_offer {
	enum ph_listener listener;
	uint8_t family;   /* AF_INET or AF_INET6 for PH_LISTEN_NAMED; 0 otherwise */
	uint8_t addr[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t l4proto;  /* IPPROTO_TCP or IPPROTO_UDP: the data channel's protocol */
	uint16_t port_lo; /* host order, inclusive, 1 <= port_lo <= port_hi */
	uint16_t port_hi;
	uint32_t program; /* ONC RPC program number for RPC offers (100005 mountd, ...); 0 otherwise */
	const char *what; /* static text for logs: "GETPORT reply", "DCC SEND", "SETUP reply", ... */
};

/* The most offers one call to ph_conn_feed can report. */
#define PH_MAX_OFFERS 8

/* Parse state of one control connection, both directions (RPC matches calls and replies
 * by xid, RTSP requests and replies by CSeq). Opaque; its size is fixed and small (it holds
 * bounded per-direction message buffers), so a caller can cap memory by capping connections. */
struct ph_conn;

/* l4proto: IPPROTO_TCP (a byte stream: RPC record marking, IRC/MSN/RTSP lines) or
 * IPPROTO_UDP (one message per datagram: RPC only). NULL on a bad combination or no memory. */
struct ph_conn *ph_conn_new(enum ph_proto p, uint8_t l4proto);
void ph_conn_free(struct ph_conn *c);

/* Feed the next in-order bytes of one direction (TCP), or one whole datagram (UDP).
 * Writes at most `max` offers to `out` and returns how many; returns -1 when the
 * connection's data can no longer be parsed (garbage, a message over the bound, a broken
 * record): the connection is then dead and every later call returns -1 without reading.
 * A message split across calls is reassembled; nothing is reported twice. */
int ph_conn_feed(struct ph_conn *c, enum ph_side side, const uint8_t *data, size_t len,
		 struct ph_offer *out, size_t max);

/* The RPC programs whose ports an RPC parser reports (the daemon's allowlist is applied
 * again on top; this is the parser's default: mountd 100005, nlockmgr 100021, status 100024). */
int ph_rpc_program_default(uint32_t program);

/* Replaces that default for one RPC connection: `allow(ctx, program)` non-zero means report
 * it. Calls for other programs are not even remembered. NULL restores the default. No effect
 * on connections of other protocols. */
void ph_conn_set_rpc_filter(struct ph_conn *c, int (*allow)(void *ctx, uint32_t program), void *ctx);

/* --- TCP reassembly, one direction ------------------------------------------------------- */

/* Segments that arrive ahead of the next expected byte wait in a bounded buffer; bytes before
 * it (retransmissions, overlaps) are dropped; a segment that disagrees with bytes already
 * buffered for the same sequence numbers kills the stream (an attacker's overlapping
 * segments must not make the parser see a different message than the receiver). */
#define PH_REASM_WINDOW 8192 /* bytes beyond the next expected one that may wait */

struct ph_reasm;

/* next_seq: the sequence number of the first payload byte (ISN + 1 after a SYN, or the first
 * segment's seq when the daemon joined an established connection). */
struct ph_reasm *ph_reasm_new(uint32_t next_seq);
void ph_reasm_free(struct ph_reasm *r);

/* Called with each new run of in-order bytes; return 0 to go on, -1 to stop (the stream dies). */
typedef int (*ph_deliver_fn)(void *ctx, const uint8_t *data, size_t len);

/* One segment's payload at sequence number `seq` (wrapping arithmetic). Returns 0, or -1 when
 * the stream is dead (window overflow, conflicting overlap, or `deliver` returned -1). */
int ph_reasm_segment(struct ph_reasm *r, uint32_t seq, const uint8_t *data, size_t len,
		     ph_deliver_fn deliver, void *ctx);

#endif
