/* ICMP type names for both families, and the kernel's conntrack helper types: tables the front
 * end checks policies against and the backends render with. */
#ifndef PINHOLE_ICMP_H
#define PINHOLE_ICMP_H

#include <stdbool.h>
#include <stdint.h>

/* Known kernel conntrack helper types (case matters). */
bool helper_type_known(const char *type);
/* Helpers that read a broadcast query this host sends and expect the answers from any host
 * of the subnet (nf_conntrack_broadcast: netbios-ns, snmp). Only the sender of the query
 * has the expectation: the host that answers a query it received sees its answer as new. */
bool helper_expects_at_sender_only(const char *type);

/* ICMP type by name for a family; -1 when that family has no such type. */
int icmp_type_lookup(const char *name, uint8_t family);
bool icmp_type_name_known(const char *name);
const char *icmp_type_name(int type, uint8_t family);

/* The protocols pinholed has a parser for, by the name a `negotiated NAME` flow gives:
 * rpc, irc, msn, rtsp (runtime/proto/proto.h). */
bool pinholed_parser_known(const char *name);

/* The parsers whose offers a server relays between two clients, naming the third party
 * (IRC DCC, MSNFTP invitations): the ones a `relayed` channel may name. */
bool pinholed_parser_relays(const char *name);

#endif
