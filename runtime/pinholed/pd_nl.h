/* Reading what the kernel tells pinholed: NFLOG packet messages and conntrack events. */
#ifndef PINHOLED_NL_H
#define PINHOLED_NL_H

#include <stddef.h>
#include <stdint.h>

struct nlmsghdr;

/* One NFULNL_MSG_PACKET: the log prefix ("ph1:") and the packet from its network header. */
struct pd_nflog {
	char prefix[64];
	const uint8_t *payload;
	size_t len;
};

/* 0 for a packet message (into *out), -1 for anything else or a malformed one. */
int pd_nflog_parse(const struct nlmsghdr *nlh, struct pd_nflog *out);

/* The original tuple of a conntrack event (IPCTNL_MSG_CT_DELETE: the connection ended). */
struct pd_ct_tuple {
	uint8_t family;             /* AF_INET, AF_INET6 */
	uint8_t src[16], dst[16];
	uint8_t l4proto;
	uint16_t sport, dport;      /* host order */
};

/* 0 for a conntrack DELETE event (into *out), 1 for another conntrack message, -1 when
 * malformed or not ctnetlink. */
int pd_ct_parse(const struct nlmsghdr *nlh, struct pd_ct_tuple *out);

/* Messages pinholed sends to NFLOG: bind `group` with the packet copied whole and a queue
 * threshold of 1 (or delivery is batched and late), or unbind it. Return the length. */
size_t pd_nflog_bind_msgs(void *buf, size_t cap, uint16_t group, uint32_t seq);

/* An nftables notification (NFNLGRP_NFTABLES) as pd_reload.c needs it. */
enum pd_nft_ev { PD_EV_OTHER, PD_EV_DELTABLE, PD_EV_NEWSET, PD_EV_DELSET, PD_EV_NEWGEN };
struct pd_nft_event {
	enum pd_nft_ev type;
	uint8_t family;             /* nfgen_family: NFPROTO_INET for pinhole's table */
	char table[64], set[64];    /* "" when absent */
};

/* 0 with *out filled for an nftables message (type PD_EV_OTHER for the ones not listed),
 * -1 when malformed or not nftables. */
int pd_nft_event_parse(const struct nlmsghdr *nlh, struct pd_nft_event *out);

#endif
