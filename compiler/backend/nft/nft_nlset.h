/* Sets for the netlink backend: keys as big-endian ranges, turned into the elements, flags and
 * userdata nft 1.0.6 sends for the same set (named or anonymous). */
#ifndef PINHOLE_NFT_NLSET_H
#define PINHOLE_NFT_NLSET_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* nft's datatype numbers (set key types) and protocol descriptors (set "typeof" userdata),
 * from nftables' datatype.h and proto.h; they are part of what nft stores in the kernel. */
enum {
	DT_NFPROTO = 2, DT_IPADDR = 7, DT_IP6ADDR = 8, DT_INET_PROTOCOL = 12, DT_INET_SERVICE = 13, DT_IFNAME = 41,
	DT_CONCAT_SHIFT = 6,
};
enum { BO_INVALID = 0, BO_HOST = 1, BO_BIG = 2 };           /* enum byteorder */
enum { EXPR_PAYLOAD = 7, EXPR_META = 9, EXPR_CONCAT = 13 }; /* enum expr_types */
enum { PD_UDP = 6, PD_TCP = 8, PD_IP = 12, PD_IP6 = 13 };    /* enum proto_desc_id */
enum { F_SPORT = 1, F_DPORT = 2, F_IP_SADDR = 11, F_IP_DADDR = 12, F_IP6_SADDR = 8, F_IP6_DADDR = 9 };

/* Longest key: a concatenation of two IPv6 addresses and a port (each field in whole 4-byte
 * registers). */
#define NL_KEY_MAX 40
#define NL_CONCAT_MAX 3

/* One key or range of keys, inclusive, big-endian, NL_KEY_MAX bytes of which key_len count;
 * with the comment nft keeps with the element (NULL: none). */
struct krange {
	uint8_t lo[NL_KEY_MAX], hi[NL_KEY_MAX];
	const char *comment;
	const char *jump;   /* a verdict map's element: the chain it jumps to */
};
typedef VEC(struct krange) kranges;

struct set_spec {
	const char *name;   /* NULL: anonymous (constant, bound to one rule) */
	uint32_t key_type, key_len;
	uint32_t byteorder;
	bool interval;
	bool dynamic;       /* filled from the packet path: `flags dynamic,timeout` */
	bool vmap;          /* a verdict map (anonymous): each element jumps to its chain */
	bool keyed;         /* filled by pinholed: `flags timeout` (no dynamic), elements expire */
	uint64_t timeout;   /* dynamic, keyed: milliseconds */
	uint32_t size;      /* dynamic: most elements */
	/* typeof userdata of anonymous sets: an expression type and its fields */
	uint32_t typeof_expr;
	uint32_t tf[NL_CONCAT_MAX][2]; /* payload: {desc, field}; meta: {key}; concat: payload pairs */
	uint32_t nconcat;   /* concatenation: how many fields (2 when 0); with `interval` a
			     * range set of concatenations (elements as key and key end) */
	uint8_t field_len[NL_CONCAT_MAX]; /* concatenation: each field's length in bytes */
};

/* A set of table `table` with transaction id `id` and the elements for `elems` (sorted, and
 * merged for anonymous interval sets, in place). NULL with errno on failure. */
struct nftnl_set *nl_set_new(uint32_t family, const char *table, uint32_t id, const struct set_spec *sp,
			     kranges *elems);

#endif
