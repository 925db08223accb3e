/* After `pinhole apply` pinholed reads its policy again (a new policy may number its copy rules'
 * prefixes differently, add channels or lose some) and moves its state over to it. */
#ifndef PINHOLED_SWAP_H
#define PINHOLED_SWAP_H

#include "pd_policy.h"
#include "pd_table.h"

struct pd_swap_ops {
	void *ctx;
	/* a live pinhole whose set the new policy does not fill: delete it, then it is forgotten */
	void (*drop)(void *ctx, struct pd_live *l);
	/* a followed connection whose channel is gone or changed: free its parser state */
	void (*release)(void *ctx, struct pd_conn *c);
};

/* Repoints every live pinhole of `t` from a target of `old` to the target of `nw` with the
 * same set name, and every followed connection to the channel of `nw` with the same prefix,
 * parser and app (else it is released and dropped: its next packets start it afresh, as for
 * a connection pinholed joins mid-way). Returns how many pinholes were dropped. */
size_t pd_swap_policy(struct pd_table *t, const struct pd_policy *old, const struct pd_policy *nw,
		      const struct pd_swap_ops *ops);

#endif
