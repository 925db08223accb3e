/* libFuzzer target for pinholed's TCP reassembly (runtime/proto/reasm.c).
 *
 * Input: 4 bytes of initial sequence number, then segments: a 16-bit offset (minus 256, so
 * segments may start before the first byte), a length byte, and the payload. A model keeps
 * the first byte seen at every position; while the stream lives, what was delivered must be
 * exactly the model's bytes from the start up to its first hole, each byte delivered once. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SPAN (65536 + 256)

struct model {
	uint8_t byte[SPAN];
	bool known[SPAN];
	uint8_t got[SPAN + 65536];
	size_t got_n;
};

static int deliver(void *ctx, const uint8_t *d, size_t len)
{
	struct model *m = ctx;
	if (len == 0 || m->got_n + len > sizeof(m->got))
		abort();
	memcpy(m->got + m->got_n, d, len);
	m->got_n += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 4)
		return 0;
	static struct model m;
	memset(&m, 0, sizeof(m));
	uint32_t isn = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	struct ph_reasm *r = ph_reasm_new(isn);
	if (!r)
		abort();
	bool dead = false;
	for (size_t p = 4; p + 3 <= size && !dead;) {
		int32_t off = (int32_t)((uint32_t)data[p] << 8 | data[p + 1]) - 256;
		size_t n = data[p + 2];
		p += 3;
		if (n > size - p)
			n = size - p;
		uint8_t *seg = malloc(n ? n : 1);
		if (n)
			memcpy(seg, data + p, n);
		int rc = ph_reasm_segment(r, isn + (uint32_t)off, seg, n, deliver, &m);
		free(seg);
		if (rc < 0) {
			dead = true;
			if (ph_reasm_segment(r, isn, data, 1, deliver, &m) != -1)
				abort();
			break;
		}
		for (size_t k = 0; k < n; k++) {
			int64_t pos = (int64_t)off + (int64_t)k;
			if (pos >= 0 && !m.known[pos]) {
				m.known[pos] = true;
				m.byte[pos] = data[p + k];
			}
		}
		p += n;
		size_t prefix = 0;
		while (prefix < SPAN && m.known[prefix])
			prefix++;
		if (m.got_n != prefix || memcmp(m.got, m.byte, prefix) != 0)
			abort();
	}
	ph_reasm_free(r);
	return 0;
}
