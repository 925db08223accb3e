/* TCP reassembly of one direction: each stream byte delivered once, in order.
 *
 * One ring of 2 * PH_REASM_WINDOW bytes, indexed by sequence number modulo its size, holds
 * both the bytes waiting beyond the next expected one (at most PH_REASM_WINDOW ahead) and the
 * last PH_REASM_WINDOW bytes delivered. Every byte of a new segment that falls on a byte the
 * ring knows is compared with it: a retransmission that differs from what was delivered, or
 * an overlap that differs from what waits, kills the stream. The parser must never see a
 * message the receiving host did not (a segment only the firewall saw, a low-TTL copy).
 * Bytes older than the history are dropped unchecked. Memory: 18 KiB per direction, fixed. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

#define RING (2 * PH_REASM_WINDOW)
#define MASK (RING - 1u)
_Static_assert((RING & (RING - 1)) == 0, "PH_REASM_WINDOW must be a power of two");

struct ph_reasm {
	uint32_t next;      /* sequence number of the next byte to deliver */
	uint32_t hist;      /* how many bytes before `next` the ring still holds (<= WINDOW) */
	bool dead;
	uint8_t have[RING / 8]; /* bit set: the byte at this index waits (is ahead of next) */
	uint8_t ring[RING];
};

struct ph_reasm *ph_reasm_new(uint32_t next_seq)
{
	struct ph_reasm *r = calloc(1, sizeof(*r));
	if (r)
		r->next = next_seq;
	return r;
}

void ph_reasm_free(struct ph_reasm *r)
{
	free(r);
}

static bool waiting(const struct ph_reasm *r, uint32_t seq)
{
	uint32_t i = seq & MASK;
	return r->have[i / 8] & (1u << (i % 8));
}

static void set_waiting(struct ph_reasm *r, uint32_t seq, bool on)
{
	uint32_t i = seq & MASK;
	if (on)
		r->have[i / 8] |= (uint8_t)(1u << (i % 8));
	else
		r->have[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* Does every byte of the segment agree with what the ring knows, and fit the window? */
static bool segment_ok(const struct ph_reasm *r, uint32_t seq, const uint8_t *data, size_t len,
		       bool in_order)
{
	for (size_t k = 0; k < len; k++) {
		uint32_t s = seq + (uint32_t)k;
		int32_t d = (int32_t)(s - r->next);
		if (d < 0) {
			if ((uint32_t)-(int64_t)d <= r->hist && r->ring[s & MASK] != data[k])
				return false;
		} else if (d < PH_REASM_WINDOW) {
			if (waiting(r, s) && r->ring[s & MASK] != data[k])
				return false;
		} else if (!in_order) {
			return false; /* beyond the window, with a hole before it */
		} else {
			break; /* delivered directly: nothing waits this far ahead */
		}
	}
	return true;
}

/* Delivers `len` bytes at r->next, from `data` (or from the ring when data is NULL), and
 * keeps them as history. */
static int deliver_run(struct ph_reasm *r, const uint8_t *data, size_t len, ph_deliver_fn deliver,
		       void *ctx)
{
	if (data) {
		if (deliver(ctx, data, len) < 0)
			return -1;
		size_t keep = len < PH_REASM_WINDOW ? len : PH_REASM_WINDOW;
		for (size_t k = len - keep; k < len; k++)
			r->ring[(r->next + (uint32_t)k) & MASK] = data[k];
		for (size_t k = 0; k < len && k < PH_REASM_WINDOW; k++)
			set_waiting(r, r->next + (uint32_t)k, false);
	} else {
		uint32_t at = r->next & MASK;
		size_t first = RING - at < len ? RING - at : len;
		if (deliver(ctx, r->ring + at, first) < 0 ||
		    (len > first && deliver(ctx, r->ring, len - first) < 0))
			return -1;
		for (size_t k = 0; k < len; k++)
			set_waiting(r, r->next + (uint32_t)k, false);
	}
	r->next += (uint32_t)len;
	r->hist = r->hist + len > PH_REASM_WINDOW ? PH_REASM_WINDOW : (uint32_t)(r->hist + len);
	return 0;
}

int ph_reasm_segment(struct ph_reasm *r, uint32_t seq, const uint8_t *data, size_t len,
		     ph_deliver_fn deliver, void *ctx)
{
	if (r->dead)
		return -1;
	if (len == 0)
		return 0;
	if (len > 0x10000000u) { /* no TCP segment is this long: a caller's bug, not a stream */
		r->dead = true;
		return -1;
	}
	int32_t off = (int32_t)(seq - r->next);
	/* A segment that starts before next but reaches past it is in order from next on. */
	bool in_order = off <= 0 && (int64_t)len > -(int64_t)off;
	if (!segment_ok(r, seq, data, len, in_order)) {
		r->dead = true;
		return -1;
	}
	if (off < 0 && !in_order)
		return 0; /* all of it delivered before */
	if (!in_order) {
		for (size_t k = 0; k < len; k++) {
			r->ring[(seq + (uint32_t)k) & MASK] = data[k];
			set_waiting(r, seq + (uint32_t)k, true);
		}
		return 0;
	}
	size_t skip = (size_t)-(int64_t)off;
	if (deliver_run(r, data + skip, len - skip, deliver, ctx) < 0) {
		r->dead = true;
		return -1;
	}
	/* What waited right behind it is in order now. */
	size_t run = 0;
	while (run < PH_REASM_WINDOW && waiting(r, r->next + (uint32_t)run))
		run++;
	if (run && deliver_run(r, NULL, run, deliver, ctx) < 0) {
		r->dead = true;
		return -1;
	}
	return 0;
}
