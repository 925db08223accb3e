/* The PACKET argument of `pinhole explain`:
 *   tcp 192.0.2.7:40000 -> 10.0.0.5:2049 in [syn] [ack] ... [new|established|related|invalid]
 *   udp [fd00::7]:5353 -> [fd00::5]:53 out
 *   icmp 10.0.0.7 -> 10.0.0.5 in echo-request
 * plus `iif NAME`, `oif NAME`, `helper TYPE` (for related), `fragment`. */
#ifndef PINHOLE_PACKET_H
#define PINHOLE_PACKET_H

#include "ir.h"

struct packet_text {
	struct ir_packet pkt;
	char iif[32], oif[32], helper[32];
};

/* Returns true on success; on failure *why (caller frees) and *col (1-based) say what and where. */
bool packet_parse(const char *text, struct packet_text *out, char **why, int *col);
/* One-line summary of a parsed packet, e.g. "tcp 192.0.2.7:40000 -> 10.0.0.5:2049 in syn new". */
char *packet_describe(const struct ir_packet *p);

#endif
