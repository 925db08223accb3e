/* The netlink messages pinholed sends nftables: one batch adding or deleting set elements. */
#ifndef PINHOLED_NFT_H
#define PINHOLED_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pd_check.h"

#define PD_KEY_MAX 40

/* The element key of a pinhole as the set's type lays it out: peer . local . inet_proto .
 * inet_service, each field in whole 4-byte registers (16 bytes for IPv4, 40 for IPv6); a
 * peerless one (a relayed channel's sender) local . inet_proto . inet_service (12, 24). */
size_t pd_nft_key(const struct pd_pinhole *ph, uint8_t *key);

struct pd_elem_op {
	bool add;                /* else delete */
	const char *set;
	struct pd_pinhole ph;
	uint64_t timeout_ms;     /* add: the element's own timeout */
};

/* Builds one batch (begin, a NEWSETELEM or DELSETELEM per op, end) for table inet `table` into
 * buf; returns its length, or 0 when it does not fit or libnftnl fails. Sequence numbers
 * start at `seq`. */
size_t pd_nft_batch(void *buf, size_t cap, uint32_t seq, const char *table,
		    const struct pd_elem_op *ops, size_t n);

#endif
