/* Moving pinholed's tables from the policy read at start to the one read after a reload. */
#include <string.h>

#include "pd_swap.h"

static const struct pd_target *target_named(const struct pd_policy *p, const char *set)
{
	for (size_t i = 0; i < p->nch; i++)
		for (size_t k = 0; k < p->ch[i].ntargets; k++)
			if (!strcmp(p->ch[i].targets[k].set, set))
				return &p->ch[i].targets[k];
	return NULL;
}

static const struct pd_channel *channel_by_id(const struct pd_policy *p, unsigned id)
{
	for (size_t i = 0; i < p->nch; i++)
		if (p->ch[i].nc->id == id)
			return &p->ch[i];
	return NULL;
}

size_t pd_swap_policy(struct pd_table *t, const struct pd_policy *old, const struct pd_policy *nw,
		      const struct pd_swap_ops *ops)
{
	size_t dropped = 0;
	for (size_t i = 0; i < PD_MAX_PINHOLES; i++) {
		struct pd_live *l = &t->live[i];
		if (!l->used)
			continue;
		const struct pd_target *tg = target_named(nw, l->target->set);
		if (tg) {
			l->target = tg;
			continue;
		}
		ops->drop(ops->ctx, l);
		memset(l, 0, sizeof(*l));
		dropped++;
	}
	for (size_t i = 0; i < PD_MAX_CONNS; i++) {
		struct pd_conn *c = &t->conns[i];
		if (!c->used)
			continue;
		const struct pd_channel *was = channel_by_id(old, c->channel), *now = NULL;
		for (size_t k = 0; was && k < nw->nch && !now; k++)
			if (!strcmp(nw->ch[k].nc->prefix, was->nc->prefix) && nw->ch[k].proto == was->proto &&
			    !strcmp(nw->ch[k].nc->app, was->nc->app))
				now = &nw->ch[k];
		if (now) {
			c->channel = now->nc->id;
			continue;
		}
		ops->release(ops->ctx, c);
		pd_conn_drop(c);
	}
	return dropped;
}
