/* Which live pinholes to re-add after nftables replaced pinholed's table (pd_reload.h). */
#include <linux/netfilter.h>
#include <string.h>

#include "pd_reload.h"

void pd_reload_init(struct pd_reload *r, const char *table)
{
	memset(r, 0, sizeof(*r));
	r->table = table;
}

static long find(const struct pd_reload *r, const char *set)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->set[i].name, set))
			return (long)i;
	return -1;
}

void pd_reload_track(struct pd_reload *r, const char *set)
{
	if (find(r, set) < 0 && r->n < PD_RELOAD_MAX_SETS)
		r->set[r->n++].name = set;
}

bool pd_reload_event(struct pd_reload *r, const struct pd_nft_event *ev)
{
	if (ev->type == PD_EV_NEWGEN)
		return r->pending;
	if (ev->family != NFPROTO_INET || strcmp(ev->table, r->table))
		return false;
	long i;
	switch (ev->type) {
	case PD_EV_DELTABLE:
		for (size_t k = 0; k < r->n; k++)
			r->set[k].gone = true;
		r->pending = r->n > 0;
		break;
	case PD_EV_DELSET:
		if ((i = find(r, ev->set)) >= 0) {
			r->set[i].gone = true;
			r->set[i].back = false;
			r->pending = true;
		}
		break;
	case PD_EV_NEWSET:
		if ((i = find(r, ev->set)) >= 0)
			r->set[i].back = true;
		break;
	case PD_EV_NEWGEN:
	case PD_EV_OTHER:
		break;
	}
	return false;
}

enum pd_fate pd_reload_fate(const struct pd_reload *r, const char *set)
{
	long i = find(r, set);
	if (i < 0 || !r->set[i].gone)
		return PD_FATE_KEEP;
	return r->set[i].back ? PD_FATE_READD : PD_FATE_DROP;
}

void pd_reload_done(struct pd_reload *r)
{
	for (size_t k = 0; k < r->n; k++)
		r->set[k].gone = r->set[k].back = false;
	r->pending = false;
}

void pd_reload_assume_all_gone(struct pd_reload *r)
{
	for (size_t k = 0; k < r->n; k++)
		r->set[k].gone = r->set[k].back = true;
	r->pending = r->n > 0;
}
