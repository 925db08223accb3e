/* Scoped negotiated channels (`negotiated NAME on FLOW, ...`): the dynamic sets that hold the
 * peers of an app's control flows, and the words explain and warnings use for them. */
#ifndef PINHOLE_SCOPE_H
#define PINHOLE_SCOPE_H

#include "ir.h"
#include "resolve.h"

/* The role of the peers a statement's sets hold: a host's peer is the other role; a gateway
 * remembers the server side (the peer of the hosts on the client side). */
enum role scope_peer_role(const struct rrule *rr);

/* Is `f` a control flow of some scoped flow of the app that defines it (`app` is the app as a
 * statement names it, so a bundle, or that app itself)? */
bool scope_is_control(const struct rapp *app, const struct rflow *f);

/* The dynamic set of scoped flow `data` (of the app data->app) under statement `stmt_no` (its peer role and hook
 * class follow from the statement) and family, declared in `rs` on first use. Each statement
 * has sets of its own: the peers one statement's control flows met never open another
 * statement's channel (another zone's clients, say). The name is unique among the dynamic
 * sets (a backend that also names other sets moves it aside if it must). Returns the name
 * (owned by rs). */
const char *scope_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
		      enum role peer, bool forward, uint8_t family);

/* Is `f` a pinholed channel: negotiated with a parser's name ("rpc", "irc", "msn", "rtsp")
 * on control flows, in a policy that did not ask for `negotiated static;`? */
bool scope_is_pinhole(const struct resolved *r, const struct rflow *f);

/* The set pinholed fills for channel `data` under statement `stmt_no`, family `family`:
 * "ph_nfs_mountd_v4", keyed peer . local . protocol . port (ir_setref.keyed). */
const char *scope_pinhole_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
			      enum role peer, bool forward, uint8_t family);

/* A relayed channel's sender-side set: "ph_irc_dcc_listen_v4", keyed local . protocol .
 * port without a peer (the peer who will connect is not known; ir_setref.peerless). */
const char *scope_listen_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
			     uint8_t family);

/* "servers that used realplayer flow pna, rtsp or rtsp-http within 10m" */
char *scope_describe(const struct ir_dynset *ds);

#endif
