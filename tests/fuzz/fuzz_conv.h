/* The body of the parser fuzz targets (fuzz_rpc.c, fuzz_irc.c, fuzz_msn.c, fuzz_rtsp.c): each
 * defines FUZZ_PROTO and includes this.
 *
 * Input: one flags byte (bit 0: UDP, for RPC), then chunks, each a header byte (high bit: the
 * reply side; low 7 bits: the length, 127 meaning "the rest") and its bytes. The chunks are fed
 * three ways to fresh connections: as given, byte by byte, and with runs of one side's chunks
 * joined. Invariants: every offer is well formed; all three agree on whether the connection
 * dies; a finer feed reports the coarser feed's offers first, in order (a feed that dies
 * loses the offers of its last call), and exactly the same ones when nothing dies. */
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX 256

struct fz_run {
	struct ph_offer v[FZ_MAX];
	size_t n;
	bool dead, saturated;
};

static void fz_check_offer(const struct ph_offer *o)
{
	bool named = o->listener == PH_LISTEN_NAMED;
	if (o->listener != PH_LISTEN_SENDER && o->listener != PH_LISTEN_RECEIVER && !named)
		abort();
	if (named ? (o->family != AF_INET && o->family != AF_INET6) : o->family != 0)
		abort();
	if (o->port_lo == 0 || o->port_lo > o->port_hi || !o->what)
		abort();
	if (o->l4proto != IPPROTO_TCP && o->l4proto != IPPROTO_UDP)
		abort();
	if ((FUZZ_PROTO == PH_PROTO_RPC) != (o->program != 0))
		abort();
}

static void fz_feed(struct ph_conn *c, enum ph_side side, const uint8_t *d, size_t n, struct fz_run *r)
{
	if (r->dead)
		return;
	uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
	if (n)
		memcpy(copy, d, n);
	struct ph_offer out[PH_MAX_OFFERS];
	int k = ph_conn_feed(c, side, copy, n, out, PH_MAX_OFFERS);
	free(copy);
	if (k < 0) {
		r->dead = true;
		if (ph_conn_feed(c, side, (const uint8_t *)"x", 1, out, PH_MAX_OFFERS) != -1)
			abort(); /* dead is forever */
		return;
	}
	if (k > PH_MAX_OFFERS)
		abort();
	if (k == PH_MAX_OFFERS)
		r->saturated = true;
	for (int i = 0; i < k; i++) {
		fz_check_offer(&out[i]);
		if (r->n < FZ_MAX)
			r->v[r->n++] = out[i];
		else
			r->saturated = true;
	}
}

struct fz_chunk {
	enum ph_side side;
	const uint8_t *d;
	size_t n;
};

enum fz_way { FZ_AS_GIVEN, FZ_BYTES, FZ_JOINED };

static void fz_run(const struct fz_chunk *ch, size_t nch, uint8_t l4, enum fz_way way, struct fz_run *r)
{
	struct ph_conn *c = ph_conn_new(FUZZ_PROTO, l4);
	if (!c)
		abort();
	for (size_t i = 0; i < nch && !r->dead; i++) {
		if (way == FZ_BYTES) {
			for (size_t k = 0; k < ch[i].n; k++)
				fz_feed(c, ch[i].side, ch[i].d + k, 1, r);
		} else if (way == FZ_JOINED) {
			/* the chunks are consecutive in the input: join a run of one side's chunks */
			size_t j = i, total = 0;
			uint8_t *buf = NULL;
			while (j < nch && ch[j].side == ch[i].side) {
				buf = realloc(buf, total + ch[j].n + 1);
				memcpy(buf + total, ch[j].d, ch[j].n);
				total += ch[j].n;
				j++;
			}
			fz_feed(c, ch[i].side, buf, total, r);
			free(buf);
			i = j - 1;
		} else {
			fz_feed(c, ch[i].side, ch[i].d, ch[i].n, r);
		}
	}
	ph_conn_free(c);
}

static bool fz_offer_eq(const struct ph_offer *a, const struct ph_offer *b)
{
	return a->listener == b->listener && a->family == b->family && !memcmp(a->addr, b->addr, 16) &&
	       a->l4proto == b->l4proto && a->port_lo == b->port_lo && a->port_hi == b->port_hi &&
	       a->program == b->program && !strcmp(a->what, b->what);
}

/* `coarse` fed in bigger pieces than `fine`: its offers come first in fine's, in order. */
static void fz_compare(const struct fz_run *coarse, const struct fz_run *fine)
{
	if (coarse->dead != fine->dead)
		abort();
	if (coarse->saturated || fine->saturated)
		return;
	if (coarse->n > fine->n || (!coarse->dead && coarse->n != fine->n))
		abort();
	for (size_t i = 0; i < coarse->n; i++)
		if (!fz_offer_eq(&coarse->v[i], &fine->v[i]))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t l4 = FUZZ_PROTO == PH_PROTO_RPC && (data[0] & 1) ? IPPROTO_UDP : IPPROTO_TCP;
	struct fz_chunk ch[512];
	size_t nch = 0;
	for (size_t p = 1; p < size && nch < 512;) {
		uint8_t h = data[p++];
		size_t n = h & 0x7f;
		if (n == 0x7f || n > size - p)
			n = size - p;
		ch[nch++] = (struct fz_chunk){h & 0x80 ? PH_REPLY : PH_ORIG, data + p, n};
		p += n;
	}
	static struct fz_run given, bytes, joined;
	memset(&given, 0, sizeof(given));
	fz_run(ch, nch, l4, FZ_AS_GIVEN, &given);
	if (l4 == IPPROTO_UDP)
		return 0; /* a datagram is never split */
	memset(&bytes, 0, sizeof(bytes));
	memset(&joined, 0, sizeof(joined));
	fz_run(ch, nch, l4, FZ_BYTES, &bytes);
	fz_run(ch, nch, l4, FZ_JOINED, &joined);
	fz_compare(&given, &bytes);
	fz_compare(&joined, &given);
	return 0;
}
