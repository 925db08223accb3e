/* Shared by the runtime parser tests: feed a conversation to a fresh connection whole, split
 * in two at every byte of every message, and byte by byte, and check each way gives the
 * same offers. */
#ifndef PINHOLE_PROTO_FEED_H
#define PINHOLE_PROTO_FEED_H

#include <arpa/inet.h>
#include <netinet/in.h>

#include "proto.h"
#include "unit.h"

struct feed {
	enum ph_side side;
	const void *data;
	size_t len;
};

#define FEED(side, s) {side, s, sizeof(s) - 1} /* a string literal, its NUL left out */
#define FEEDB(side, a) {side, a, sizeof(a)}   /* a byte array */

#define MAX_SEEN 64

struct seen {
	struct ph_offer v[MAX_SEEN];
	size_t n;
	bool dead;
};

/* Feeds one message to c in pieces: at `cut` (0: whole; SIZE_MAX: a byte at a time). */
static inline void feed_piecewise(struct ph_conn *c, const struct feed *f, size_t cut, struct seen *s)
{
	const uint8_t *d = f->data;
	size_t pos = 0;
	while (pos < f->len && !s->dead) {
		size_t n = f->len - pos;
		if (cut == SIZE_MAX)
			n = 1;
		else if (cut && pos < cut)
			n = cut - pos;
		/* An exact-size copy, so ASan sees a read past the piece. */
		uint8_t *piece = malloc(n);
		memcpy(piece, d + pos, n);
		struct ph_offer out[PH_MAX_OFFERS];
		int r = ph_conn_feed(c, f->side, piece, n, out, PH_MAX_OFFERS);
		free(piece);
		if (r < 0) {
			s->dead = true;
			break;
		}
		for (int i = 0; i < r && s->n < MAX_SEEN; i++)
			s->v[s->n++] = out[i];
		pos += n;
	}
}

/* Runs the conversation; message `which` is cut at `cut`, every other fed whole (which ==
 * SIZE_MAX: every message cut the same way). */
static inline struct seen run_conv(enum ph_proto p, uint8_t l4, const struct feed *f, size_t nf,
				   size_t which, size_t cut)
{
	struct seen s = {0};
	struct ph_conn *c = ph_conn_new(p, l4);
	assert_non_null(c);
	for (size_t i = 0; i < nf && !s.dead; i++)
		feed_piecewise(c, &f[i], which == SIZE_MAX || which == i ? cut : 0, &s);
	if (!s.dead) {
		/* Once dead, always dead: checked where the test expects death. */
		struct ph_offer out[1];
		assert_true(ph_conn_feed(c, PH_ORIG, (const uint8_t *)"", 0, out, 1) == 0);
	}
	ph_conn_free(c);
	return s;
}

static inline bool offer_equal(const struct ph_offer *a, const struct ph_offer *b)
{
	return a->listener == b->listener && a->family == b->family &&
	       memcmp(a->addr, b->addr, 16) == 0 && a->l4proto == b->l4proto &&
	       a->port_lo == b->port_lo && a->port_hi == b->port_hi && a->program == b->program &&
	       (!a->what || !b->what || strcmp(a->what, b->what) == 0);
}

static inline void assert_seen(const struct seen *got, const struct ph_offer *want, size_t n, bool dead,
			       const char *how)
{
	if (got->dead != dead)
		fail_msg("%s: connection %s", how, got->dead ? "died" : "lived");
	if (got->n != n)
		fail_msg("%s: %zu offers, expected %zu", how, got->n, n);
	for (size_t i = 0; i < n; i++)
		if (!offer_equal(&got->v[i], &want[i]))
			fail_msg("%s: offer %zu is %s port %u-%u l4 %u listener %d, expected %s %u-%u", how, i,
				 got->v[i].what ? got->v[i].what : "?", got->v[i].port_lo, got->v[i].port_hi,
				 got->v[i].l4proto, got->v[i].listener, want[i].what ? want[i].what : "?",
				 want[i].port_lo, want[i].port_hi);
}

/* The conversation gives `want` (then lives, or dies) whole, cut at every byte of every
 * message, and byte by byte. For UDP only whole: a datagram is never split. */
static inline void check_conv(enum ph_proto p, uint8_t l4, const struct feed *f, size_t nf,
			      const struct ph_offer *want, size_t n, bool dead)
{
	struct seen s = run_conv(p, l4, f, nf, SIZE_MAX, 0);
	assert_seen(&s, want, n, dead, "whole");
	if (l4 == IPPROTO_UDP)
		return;
	s = run_conv(p, l4, f, nf, SIZE_MAX, SIZE_MAX);
	assert_seen(&s, want, n, dead, "byte by byte");
	for (size_t i = 0; i < nf; i++)
		for (size_t cut = 1; cut < f[i].len; cut++) {
			char how[64];
			snprintf(how, sizeof(how), "message %zu cut at %zu", i, cut);
			s = run_conv(p, l4, f, nf, i, cut);
			assert_seen(&s, want, n, dead, how);
		}
}

static inline struct ph_offer named(const char *addr, uint8_t l4, uint16_t lo, uint16_t hi,
				    const char *what)
{
	struct ph_offer o = {.listener = PH_LISTEN_NAMED, .l4proto = l4, .port_lo = lo, .port_hi = hi,
			     .what = what};
	if (strchr(addr, ':')) {
		o.family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, o.addr), 1);
	} else {
		o.family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, o.addr), 1);
	}
	return o;
}

#endif
