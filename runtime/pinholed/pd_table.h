/* pinholed's state: control connections it follows and the pinholes it opened, both bounded. */
#ifndef PINHOLED_TABLE_H
#define PINHOLED_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pd_check.h"

#define PD_MAX_CONNS 1024        /* control connections followed at once */
#define PD_MAX_PINHOLES 4096     /* live pinholes, all sets */
#define PD_MAX_PER_CONN 16       /* pinholes one control connection may open */
#define PD_MAX_PER_PEER 64       /* pinholes open towards one peer address */

struct pd_conn {
	bool used;
	uint32_t id;             /* never reused while the daemon runs */
	unsigned channel;        /* the nft plan's channel id */
	struct pd_endpoints ep;
	uint8_t l4proto;
	uint16_t cport, sport;   /* client's and server's port */
	uint64_t last_ms;
	unsigned opened;         /* pinholes opened by this connection so far */
	void *parse;             /* struct ph_conn *, owned by the caller */
	void *reasm[2];          /* struct ph_reasm * per side (TCP), owned by the caller */
};

struct pd_live {
	bool used;
	uint32_t conn;           /* the pd_conn id that opened it */
	const struct pd_target *target;
	struct pd_pinhole ph;
	uint64_t expires_ms;
};

struct pd_table {
	struct pd_conn conns[PD_MAX_CONNS];
	struct pd_live live[PD_MAX_PINHOLES];
	uint32_t next_id;
};

/* The connection a packet from (src, sport) to (dst, dport) belongs to, and which side sent
 * it; NULL when none is followed. */
struct pd_conn *pd_conn_find(struct pd_table *t, uint8_t family, uint8_t l4proto,
			     const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
			     enum ph_side *side);
/* Follows a new connection opened by the client (src, sport); NULL when the table is full
 * of connections seen within `idle_ms` (the least recently seen older one is reused; the
 * caller frees what `*evicted` held first when *evicted is set). */
struct pd_conn *pd_conn_add(struct pd_table *t, unsigned channel, uint8_t family, uint8_t l4proto,
			    const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
			    uint64_t now_ms, uint64_t idle_ms, struct pd_conn *evicted);
void pd_conn_drop(struct pd_conn *c);

/* Records a pinhole `c` opened: returns the entry (an existing one for the same set and key
 * is refreshed), or NULL with *why when a cap says no. */
struct pd_live *pd_live_open(struct pd_table *t, struct pd_conn *c, const struct pd_target *tg,
			     const struct pd_pinhole *ph, uint64_t now_ms, const char **why);
/* Forgets expired pinholes (the kernel removed them itself). */
void pd_live_expire(struct pd_table *t, uint64_t now_ms);
size_t pd_live_count(const struct pd_table *t);

#endif
