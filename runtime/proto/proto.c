/* Protocol names, the RPC programs reported by default, and the offer sink. */
#include <string.h>

#include "proto_int.h"

static const char *const names[] = {
	[PH_PROTO_RPC] = "rpc",
	[PH_PROTO_IRC] = "irc",
	[PH_PROTO_MSN] = "msn",
	[PH_PROTO_RTSP] = "rtsp",
};

int ph_proto_by_name(const char *name, enum ph_proto *p)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0) {
			*p = (enum ph_proto)i;
			return 0;
		}
	return -1;
}

const char *ph_proto_name(enum ph_proto p)
{
	switch (p) {
	case PH_PROTO_RPC:
	case PH_PROTO_IRC:
	case PH_PROTO_MSN:
	case PH_PROTO_RTSP:
		return names[p];
	}
	return "?";
}

int ph_rpc_program_default(uint32_t program)
{
	/* mountd, nlockmgr, status (NSM): the NFSv3 side programs whose ports rpcbind hands out. */
	return program == 100005 || program == 100021 || program == 100024;
}

void ph_sink_put(struct ph_sink *s, const struct ph_offer *o)
{
	if (s->n < s->max)
		s->out[s->n++] = *o;
}
