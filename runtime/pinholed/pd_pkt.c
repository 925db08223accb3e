/* IP and transport headers, bounded: every length is checked against the buffer. */
#include <netinet/in.h>
#include <string.h>

#include "pd_pkt.h"

/* IPv6 extension headers pinholed steps over before giving up. */
#define PD_MAX_EXT 8

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int transport(const uint8_t *p, size_t len, uint8_t proto, struct pd_pkt *out)
{
	out->l4proto = proto;
	if (proto == IPPROTO_UDP) {
		if (len < 8 || be16(p + 4) < 8 || be16(p + 4) > len)
			return -1;
		out->sport = be16(p);
		out->dport = be16(p + 2);
		out->payload = p + 8;
		out->len = be16(p + 4) - 8u;
		return 0;
	}
	if (proto != IPPROTO_TCP || len < 20)
		return -1;
	size_t off = (size_t)(p[12] >> 4) * 4;
	if (off < 20 || off > len)
		return -1;
	out->sport = be16(p);
	out->dport = be16(p + 2);
	out->seq = be32(p + 4);
	out->tcp_flags = p[13];
	out->payload = p + off;
	out->len = len - off;
	return 0;
}

int pd_pkt_parse(const uint8_t *buf, size_t len, struct pd_pkt *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 1)
		return -1;
	if (buf[0] >> 4 == 4) {
		if (len < 20)
			return -1;
		size_t ihl = (size_t)(buf[0] & 0x0f) * 4, tot = be16(buf + 2);
		if (ihl < 20 || tot < ihl || tot > len)
			return -1; /* a copy shorter than the packet: cut by the snaplen */
		if (be16(buf + 6) & 0x3fff)
			return -1; /* a fragment (MF or an offset): no whole transport header */
		out->family = AF_INET;
		memcpy(out->saddr, buf + 12, 4);
		memcpy(out->daddr, buf + 16, 4);
		return transport(buf + ihl, tot - ihl, buf[9], out);
	}
	if (buf[0] >> 4 != 6 || len < 40)
		return -1;
	size_t tot = 40 + (size_t)be16(buf + 4);
	if (tot > len)
		return -1;
	out->family = AF_INET6;
	memcpy(out->saddr, buf + 8, 16);
	memcpy(out->daddr, buf + 24, 16);
	uint8_t next = buf[6];
	size_t off = 40;
	for (int i = 0; i < PD_MAX_EXT; i++) {
		if (next != IPPROTO_HOPOPTS && next != IPPROTO_ROUTING && next != IPPROTO_DSTOPTS)
			return transport(buf + off, tot - off, next, out);
		if (tot - off < 8)
			return -1;
		size_t elen = ((size_t)buf[off + 1] + 1) * 8;
		if (elen > tot - off)
			return -1;
		next = buf[off];
		off += elen;
	}
	return -1; /* IPPROTO_FRAGMENT lands here too: fragments are refused */
}
