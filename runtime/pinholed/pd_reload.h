/* Surviving `pinhole apply`: apply replaces pinholed's table in one transaction, which empties
 * its sets. pinholed follows nftables' notifications (NFNLGRP_NFTABLES) and, when a
 * transaction that deleted its sets ends (NFT_MSG_NEWGEN), re-adds each live pinhole whose
 * set the new ruleset declares again; the others are dropped. */
#ifndef PINHOLED_RELOAD_H
#define PINHOLED_RELOAD_H

#include <stdbool.h>
#include <stddef.h>

#include "pd_nl.h"

#define PD_RELOAD_MAX_SETS 256

struct pd_reload {
	const char *table;        /* "pinhole": events of other tables are ignored */
	struct {
		const char *name; /* a set some target of the policy fills */
		bool gone, back;  /* deleted, declared (again), in the current transaction */
	} set[PD_RELOAD_MAX_SETS];
	size_t n;
	bool pending;             /* a tracked set was deleted in the current transaction */
};

void pd_reload_init(struct pd_reload *r, const char *table);
/* Tracks `set` (once per name; names over the bound are not tracked: their pinholes are
 * kept as they are, which is what happened before this existed). */
void pd_reload_track(struct pd_reload *r, const char *set);
/* Feeds one event; true when it ended a transaction that deleted tracked sets: the caller
 * then asks pd_reload_fate() for each live pinhole and calls pd_reload_done(). */
bool pd_reload_event(struct pd_reload *r, const struct pd_nft_event *ev);

enum pd_fate { PD_FATE_KEEP /* its set was untouched */, PD_FATE_READD, PD_FATE_DROP };
enum pd_fate pd_reload_fate(const struct pd_reload *r, const char *set);
void pd_reload_done(struct pd_reload *r);
/* Every tracked set counts as deleted: after lost notifications (ENOBUFS) nothing is known. */
void pd_reload_assume_all_gone(struct pd_reload *r);

#endif
