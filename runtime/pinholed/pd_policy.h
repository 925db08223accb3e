/* What pinholed learns from the policy, compiled in-process with the compiler's own code:
 * its channels (NFLOG prefixes, one per control flow), the sets each may fill and the control
 * flow's ports and direction. */
#ifndef PINHOLED_POLICY_H
#define PINHOLED_POLICY_H

#include "compile.h"
#include "nft_lower.h"
#include "pd_check.h"
#include "proto.h"

#define PD_MAX_TARGETS 32

struct pd_channel {
	const struct nft_channel *nc;    /* prefix, statement, app, parser name */
	enum ph_proto proto;
	struct pd_target targets[PD_MAX_TARGETS];
	size_t ntargets;
	const struct rflow *control;     /* the control flow: its ports tell its opener apart */
	bool opener_is_server;           /* it runs from the app's server (NFS's statd-portmap) */
};

struct pd_policy {
	struct compilation comp;
	struct nft_plan plan;
	struct pd_channel *ch;
	size_t nch;
	char *where_texts[PD_MAX_TARGETS * 64]; /* a target per channel: one per control flow */
	size_t nwhere;
};

/* Compiles `path` (with -L dirs) and finds its channels. Returns 0, or -1 with the compiler's
 * diagnostics printed to `err`; a policy with no pinholed channel is an error too. */
int pd_policy_load(struct pd_policy *p, const char *path, const char *const *libdirs,
		   size_t nlibdirs, FILE *err);
void pd_policy_free(struct pd_policy *p);
const struct pd_channel *pd_policy_channel(const struct pd_policy *p, const char *prefix);
/* Is a packet from sport to dport of l4proto the opening side of ch's control flow? */
bool pd_channel_is_client_side(const struct pd_channel *ch, uint8_t l4proto, uint16_t sport,
			       uint16_t dport);

#endif
