/* What the parsers of runtime/proto/ share among themselves; not the daemon's interface
 * (that is proto.h). */
#ifndef PINHOLE_RUNTIME_PROTO_INT_H
#define PINHOLE_RUNTIME_PROTO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

/* Where a parser puts its offers: at most `max`; further ones are dropped (the daemon caps
 * pinholes per connection far below PH_MAX_OFFERS anyway). */
struct ph_sink {
	struct ph_offer *out;
	size_t max, n;
};

void ph_sink_put(struct ph_sink *s, const struct ph_offer *o);

/* One protocol's parser: its state lives right after struct ph_conn, `size` bytes. */
struct ph_parser {
	size_t size;
	/* 0, or -1 when the parser has no meaning over this l4proto. */
	int (*init)(void *st, uint8_t l4proto);
	/* 0, or -1: the data can no longer be parsed (the connection dies). */
	int (*feed)(void *st, enum ph_side side, const uint8_t *data, size_t len, struct ph_sink *sink);
};

extern const struct ph_parser ph_rpc_parser, ph_irc_parser, ph_msn_parser, ph_rtsp_parser;

/* The RPC parser's program filter (ph_conn_set_rpc_filter). */
void ph_rpc_set_filter(void *st, int (*allow)(void *ctx, uint32_t program), void *ctx);

/* --- text lines (line.c) ----------------------------------------------------------------- */

/* The longest line of text a parser holds (MSN commands, MSN body lines, RTSP start and
 * header lines, IRC lines after their IRCv3 tags). */
#define PH_LINE_MAX 2048

struct ph_line {
	size_t len;
	bool done;    /* buf holds a complete line; the next take starts a new one */
	bool skip_lf; /* the last line ended with CR: a following LF belongs to it */
	char buf[PH_LINE_MAX + 2]; /* + a CR in PH_EOL_LF mode, + NUL */
};

enum ph_eol {
	PH_EOL_LF,  /* LF ends a line, a CR before it is dropped (MSNP) */
	PH_EOL_ANY, /* CR, LF or CR LF end a line (RFC 2326 section 4) */
};

/* Consumes bytes from *p up to and including a line's end. Returns 1 when l->buf holds a
 * complete line (NUL-terminated, without its end), 0 when the input ran out first, -1 when the
 * line is longer than PH_LINE_MAX or holds a NUL byte. */
int ph_line_take(struct ph_line *l, const uint8_t **p, const uint8_t *end, enum ph_eol eol);

/* Before raw bytes (a body) that follow a line ended by CR: drops the LF of a CR LF. Returns
 * true when decided, false when the input ran out before the next byte was seen. */
bool ph_line_skip_lf(struct ph_line *l, const uint8_t **p, const uint8_t *end);

/* --- small text helpers (text.c) -------------------------------------------------------- */

/* Decimal digits only (no sign, no space), value <= max. 0 or -1. */
int ph_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *v);
/* A textual IPv4 (dotted quad) or IPv6 address of n bytes: 0 and family/addr set, or -1. */
int ph_parse_ip(const char *s, size_t n, uint8_t *family, uint8_t addr[16]);
/* ASCII case-insensitive equality of s[0..n) with the NUL-terminated word. */
bool ph_word_eq(const char *s, size_t n, const char *word);
/* ASCII case-insensitive prefix test. */
bool ph_has_prefix(const char *s, size_t n, const char *prefix);

#endif
