/* The lockout guard of `pinhole apply`: before a new ruleset replaces the old one on a host
 * reached over SSH, ask the IR evaluator whether the session this command runs in (and a new
 * login from the same place) would still get through. The rules decide, not the parent
 * process. */
#ifndef PINHOLE_LOCKOUT_H
#define PINHOLE_LOCKOUT_H

#include <net/if.h>
#include <stdio.h>

#include "ir.h"

struct ssh_session {
	uint8_t family;               /* IR_V4 or IR_V6 */
	uint8_t client[16], server[16];
	uint16_t cport, sport;
	char iface[IF_NAMESIZE];      /* interface towards the client, "" if unknown */
};

/* Parses $SSH_CONNECTION: "CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT" (IPv4-mapped IPv6
 * addresses count as IPv4, a %zone suffix is ignored). False when it is not of that form. */
bool ssh_session_parse(const char *text, struct ssh_session *s);

/* Fills s->iface with the interface the route to the client leaves by, in the current network
 * namespace (rtnetlink). Returns 0, or -1 with errno. */
int ssh_session_route(struct ssh_session *s);

/* The packets the guard evaluates: a new login (SYN in, SYN+ACK out) and the running session
 * (ACK in, ACK out). */
#define LOCKOUT_PROBES 4
struct lockout_probe {
	const char *what;
	struct ir_packet pkt;
	struct ir_verdict v;
};

/* Evaluates every probe against the ruleset; returns how many would not be accepted. */
int lockout_check(const struct ir_ruleset *rs, const struct ssh_session *s,
		  struct lockout_probe probes[LOCKOUT_PROBES]);

/* The guard's message on `out` when probes are refused: each probe's verdict and the rule
 * behind it, then what to do (or, with allow_lockout, that apply goes ahead). */
void lockout_report(FILE *out, const char *cmd, const char *policy, const struct ssh_session *s,
		    const struct lockout_probe probes[LOCKOUT_PROBES], bool allow_lockout);

/* "10.0.0.7 port 40000 -> 10.0.0.5 port 22" */
void ssh_session_format(const struct ssh_session *s, char *buf, size_t len);

#endif
