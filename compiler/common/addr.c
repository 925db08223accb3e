#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

bool prefix_parse(const char *text, struct ir_prefix *out, char **why)
{
	memset(out, 0, sizeof(*out));
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen > 45) {
		*why = xasprintf("'%s' is not an IP address", text);
		return false;
	}
	char addr[46];
	memcpy(addr, text, alen);
	addr[alen] = '\0';
	unsigned maxlen;
	if (strchr(addr, ':')) {
		if (inet_pton(AF_INET6, addr, out->addr) != 1) {
			*why = xasprintf("'%s' is not an IPv6 address", addr);
			return false;
		}
		out->family = IR_V6;
		maxlen = 128;
	} else {
		struct in_addr a4;
		if (inet_pton(AF_INET, addr, &a4) != 1) {
			*why = xasprintf("'%s' is not an IPv4 address (four numbers 0-255, dot separated)", addr);
			return false;
		}
		memcpy(out->addr, &a4, 4);
		out->family = IR_V4;
		maxlen = 32;
	}
	unsigned len = maxlen;
	if (slash) {
		const char *p = slash + 1;
		if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 3) {
			*why = xasprintf("'%s': prefix length must be a number", text);
			return false;
		}
		len = (unsigned)atoi(p);
		if (len > maxlen) {
			*why = xasprintf("'%s': prefix length /%u is longer than %u bits", text, len, maxlen);
			return false;
		}
	}
	out->len = (uint8_t)len;
	/* Host bits must be clear: 10.0.0.1/8 is a typo, not 10.0.0.0/8. */
	struct ir_prefix masked = *out;
	for (unsigned bit = len; bit < maxlen; bit++)
		masked.addr[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
	if (memcmp(masked.addr, out->addr, 16) != 0) {
		char fixed[64];
		ir_prefix_format(&masked, fixed, sizeof(fixed));
		*why = xasprintf("'%s' has host bits set under the /%u prefix (did you mean %s?)", text,
				 len, fixed);
		return false;
	}
	return true;
}

bool prefix_covers(const struct ir_prefix *outer, const struct ir_prefix *inner)
{
	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	return ir_prefix_contains(outer, inner->family, inner->addr);
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct ir_prefix *x = a, *y = b;
	if (x->family != y->family)
		return x->family - y->family;
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return x->len - y->len;
}

size_t prefixes_normalize(prefix_vec *v)
{
	if (v->n <= 1) /* most lists are one address: nothing to sort or drop (qsort allocates) */
		return 0;
	qsort(v->v, v->n, sizeof(*v->v), prefix_cmp);
	size_t out = 0, dropped = 0;
	for (size_t i = 0; i < v->n; i++) {
		/* Sorted by address then length: a covering prefix sorts before what it covers. */
		if (out > 0 && prefix_covers(&v->v[out - 1], &v->v[i])) {
			dropped++;
			continue;
		}
		v->v[out++] = v->v[i];
	}
	v->n = out;
	return dropped;
}

static void prefix_split_around(prefix_vec *out, const struct ir_prefix *b, const struct ir_prefix *e)
{
	/* For each length between b's and e's: e's prefix of that length with its last bit
	 * flipped, the half that does not hold e. */
	for (unsigned l = (unsigned)b->len + 1; l <= e->len; l++) {
		struct ir_prefix p = {.family = e->family, .len = (uint8_t)l};
		for (unsigned i = 0; i < l; i++)
			if (e->addr[i / 8] & (0x80 >> (i % 8)))
				p.addr[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		p.addr[(l - 1) / 8] ^= (uint8_t)(0x80 >> ((l - 1) % 8));
		VEC_PUSH(*out, p);
	}
}

void prefixes_subtract(prefix_vec *v, const prefix_vec *ex)
{
	for (size_t k = 0; k < ex->n; k++) {
		const struct ir_prefix *e = &ex->v[k];
		prefix_vec next = {0};
		for (size_t i = 0; i < v->n; i++) {
			const struct ir_prefix *b = &v->v[i];
			if (prefix_covers(e, b))
				continue;
			if (prefix_covers(b, e))
				prefix_split_around(&next, b, e);
			else
				VEC_PUSH(next, *b);
		}
		VEC_FREE(*v);
		*v = next;
	}
	prefixes_normalize(v);
}
