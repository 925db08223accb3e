/* One control connection: its protocol's parser state, and death after bad data. */
#include <netinet/in.h>
#include <stdlib.h>

#include "proto_int.h"

struct ph_conn {
	const struct ph_parser *parser;
	bool dead;
	_Alignas(max_align_t) unsigned char state[];
};

static const struct ph_parser *parser_of(enum ph_proto p)
{
	switch (p) {
	case PH_PROTO_RPC:
		return &ph_rpc_parser;
	case PH_PROTO_IRC:
		return &ph_irc_parser;
	case PH_PROTO_MSN:
		return &ph_msn_parser;
	case PH_PROTO_RTSP:
		return &ph_rtsp_parser;
	}
	return NULL;
}

struct ph_conn *ph_conn_new(enum ph_proto p, uint8_t l4proto)
{
	const struct ph_parser *ops = parser_of(p);
	if (!ops || (l4proto != IPPROTO_TCP && l4proto != IPPROTO_UDP))
		return NULL;
	struct ph_conn *c = calloc(1, sizeof(*c) + ops->size);
	if (!c)
		return NULL;
	c->parser = ops;
	if (ops->init(c->state, l4proto) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void ph_conn_free(struct ph_conn *c)
{
	free(c);
}

int ph_conn_feed(struct ph_conn *c, enum ph_side side, const uint8_t *data, size_t len,
		 struct ph_offer *out, size_t max)
{
	if (c->dead || (side != PH_ORIG && side != PH_REPLY))
		return -1;
	struct ph_sink sink = {out, max < PH_MAX_OFFERS ? max : PH_MAX_OFFERS, 0};
	if (len == 0)
		return 0;
	if (c->parser->feed(c->state, side, data, len, &sink) < 0) {
		c->dead = true;
		return -1;
	}
	return (int)sink.n;
}

void ph_conn_set_rpc_filter(struct ph_conn *c, int (*allow)(void *ctx, uint32_t program), void *ctx)
{
	if (c->parser == &ph_rpc_parser)
		ph_rpc_set_filter(c->state, allow, ctx);
}
