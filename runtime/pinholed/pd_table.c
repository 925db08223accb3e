/* Connection and pinhole tables: fixed arrays, linear scans (a few thousand entries at most,
 * which a scan walks in microseconds; no allocation after start). */
#include <netinet/in.h>
#include <string.h>

#include "pd_table.h"

static size_t alen(uint8_t family)
{
	return family == AF_INET6 ? 16 : 4;
}

struct pd_conn *pd_conn_find(struct pd_table *t, uint8_t family, uint8_t l4proto,
			     const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
			     enum ph_side *side)
{
	size_t n = alen(family);
	for (size_t i = 0; i < PD_MAX_CONNS; i++) {
		struct pd_conn *c = &t->conns[i];
		if (!c->used || c->ep.family != family || c->l4proto != l4proto)
			continue;
		if (c->cport == sport && c->sport == dport && !memcmp(c->ep.client, src, n) &&
		    !memcmp(c->ep.server, dst, n)) {
			*side = PH_ORIG;
			return c;
		}
		if (c->sport == sport && c->cport == dport && !memcmp(c->ep.server, src, n) &&
		    !memcmp(c->ep.client, dst, n)) {
			*side = PH_REPLY;
			return c;
		}
	}
	return NULL;
}

struct pd_conn *pd_conn_add(struct pd_table *t, unsigned channel, uint8_t family, uint8_t l4proto,
			    const uint8_t *src, uint16_t sport, const uint8_t *dst, uint16_t dport,
			    uint64_t now_ms, uint64_t idle_ms, struct pd_conn *evicted)
{
	struct pd_conn *slot = NULL, *oldest = NULL;
	memset(evicted, 0, sizeof(*evicted));
	for (size_t i = 0; i < PD_MAX_CONNS && !slot; i++) {
		struct pd_conn *c = &t->conns[i];
		if (!c->used)
			slot = c;
		else if (!oldest || c->last_ms < oldest->last_ms)
			oldest = c;
	}
	if (!slot) {
		if (!oldest || now_ms - oldest->last_ms < idle_ms)
			return NULL;
		*evicted = *oldest;
		slot = oldest;
	}
	memset(slot, 0, sizeof(*slot));
	slot->used = true;
	slot->id = ++t->next_id;
	slot->channel = channel;
	slot->ep.family = family;
	memcpy(slot->ep.client, src, alen(family));
	memcpy(slot->ep.server, dst, alen(family));
	slot->l4proto = l4proto;
	slot->cport = sport;
	slot->sport = dport;
	slot->last_ms = now_ms;
	return slot;
}

void pd_conn_drop(struct pd_conn *c)
{
	memset(c, 0, sizeof(*c));
}

static bool same_pinhole(const struct pd_live *l, const struct pd_target *tg, const struct pd_pinhole *ph)
{
	size_t n = alen(ph->family);
	/* by set name: each control flow's channel has targets of its own for the same set */
	return !strcmp(l->target->set, tg->set) && l->ph.family == ph->family && l->ph.l4proto == ph->l4proto &&
	       l->ph.port == ph->port && l->ph.peerless == ph->peerless && !memcmp(l->ph.peer, ph->peer, n) &&
	       !memcmp(l->ph.local, ph->local, n);
}

struct pd_live *pd_live_open(struct pd_table *t, struct pd_conn *c, const struct pd_target *tg,
			     const struct pd_pinhole *ph, uint64_t now_ms, const char **why)
{
	struct pd_live *free_slot = NULL;
	size_t per_peer = 0, n = alen(ph->family);
	for (size_t i = 0; i < PD_MAX_PINHOLES; i++) {
		struct pd_live *l = &t->live[i];
		if (!l->used) {
			if (!free_slot)
				free_slot = l;
			continue;
		}
		if (same_pinhole(l, tg, ph)) {
			l->expires_ms = now_ms + (uint64_t)tg->timeout * 1000;
			l->conn = c->id;
			return l;
		}
		if (l->ph.family == ph->family && !memcmp(l->ph.peer, ph->peer, n))
			per_peer++;
	}
	if (c->opened >= PD_MAX_PER_CONN) {
		*why = "this control connection opened its most pinholes";
		return NULL;
	}
	if (per_peer >= PD_MAX_PER_PEER) {
		*why = "this peer has its most pinholes open";
		return NULL;
	}
	if (!free_slot) {
		*why = "pinholed holds its most pinholes";
		return NULL;
	}
	free_slot->used = true;
	free_slot->conn = c->id;
	free_slot->target = tg;
	free_slot->ph = *ph;
	free_slot->expires_ms = now_ms + (uint64_t)tg->timeout * 1000;
	c->opened++;
	return free_slot;
}

void pd_live_expire(struct pd_table *t, uint64_t now_ms)
{
	for (size_t i = 0; i < PD_MAX_PINHOLES; i++)
		if (t->live[i].used && t->live[i].expires_ms <= now_ms)
			memset(&t->live[i], 0, sizeof(t->live[i]));
}

size_t pd_live_count(const struct pd_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < PD_MAX_PINHOLES; i++)
		n += t->live[i].used;
	return n;
}
