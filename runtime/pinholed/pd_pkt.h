/* The headers of a packet NFLOG copied to pinholed: IPv4 or IPv6, then TCP or UDP. */
#ifndef PINHOLED_PKT_H
#define PINHOLED_PKT_H

#include <stddef.h>
#include <stdint.h>

struct pd_pkt {
	uint8_t family;          /* AF_INET or AF_INET6 */
	uint8_t saddr[16], daddr[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t l4proto;         /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t sport, dport;   /* host order */
	uint32_t seq;            /* TCP: sequence number of the first payload byte (SYN: ISN) */
	uint8_t tcp_flags;       /* TCP: FIN 0x01, SYN 0x02, RST 0x04, ... */
	const uint8_t *payload;  /* into the buffer given to pd_pkt_parse */
	size_t len;
};

/* Parses `buf` (the packet from its network header on). Returns 0, or -1 for anything but a
 * whole, unfragmented IPv4/IPv6 TCP/UDP packet (short, truncated by the snaplen, a fragment,
 * too many IPv6 extension headers, bad header lengths). */
int pd_pkt_parse(const uint8_t *buf, size_t len, struct pd_pkt *out);

#endif
