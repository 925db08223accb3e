/* The policy's channels, read off the IR and the nft plan (which names the sets and prefixes):
 * no rule of pinholed's own duplicates the compiler's. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pd_policy.h"

static const struct rflow *find_flow(const struct resolved *r, const char *app, const char *name)
{
	for (size_t i = 0; i < r->apps.n; i++)
		for (size_t j = 0; j < r->apps.v[i]->flows.n; j++) {
			const struct rflow *f = &r->apps.v[i]->flows.v[j];
			if (!strcmp(f->app, app) && !strcmp(f->name, name))
				return f;
		}
	return NULL;
}

/* The statement's addresses for the peer of set `ds`: those of the rules that look it up
 * (the peer's address is the key's first field, the packet's source when `src`). */
static const struct ir_addrset *peer_scope(const struct ir_ruleset *ir, const struct ir_dynset *ds)
{
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		const struct ir_setref *in = ir_rule_in_set(r);
		if (r->action == IR_ACCEPT && in && in->name && !strcmp(in->name, ds->name))
			return ir_rule_addrs(r, in->src ? IR_M_SADDR : IR_M_DADDR);
	}
	return NULL;
}

static void add_target(struct pd_policy *p, struct pd_channel *ch, const struct nft_dyn_set *d)
{
	const struct ir_dynset *ds = d->ds;
	const struct rflow *f = find_flow(&p->comp.res, ds->app, ds->flow);
	if (!f || ch->ntargets >= PD_MAX_TARGETS || p->nwhere >= sizeof(p->where_texts) / sizeof(char *))
		return;
	struct pd_target *t = &ch->targets[ch->ntargets++];
	t->set = d->name;
	t->family = ds->family == IR_V6 ? AF_INET6 : AF_INET;
	t->peer_is_server = !strcmp(ds->peer, "server");
	t->listener_is_server = f->to == ROLE_SERVER;
	t->tcp = f->protos & PROTO_BIT_TCP;
	t->udp = f->protos & PROTO_BIT_UDP;
	t->ports = &f->dport;
	t->timeout = ds->timeout;
	t->program = f->program;
	t->relay = !f->relayed ? PD_RELAY_NONE : ds->peerless ? PD_RELAY_SEND : PD_RELAY_RECV;
	t->peer_scope = peer_scope(&p->comp.ir, ds);
	const char *stmt = ds->stmt_no > 0 && (size_t)ds->stmt_no <= p->comp.ir.texts.n
			   ? p->comp.ir.texts.v[ds->stmt_no - 1] : "?";
	char *w = xasprintf("%s (%s flow %s)", stmt, ds->app, ds->flow);
	p->where_texts[p->nwhere++] = w;
	t->where = w;
}

/* Is the control flow `ctl` one that data flow `f` is agreed on? */
static bool scoped_on(const struct rflow *f, const struct rflow *ctl)
{
	for (size_t k = 0; ctl && k < f->on.n; k++)
		if (!strcmp(f->on.v[k], ctl->name))
			return true;
	return false;
}

int pd_policy_load(struct pd_policy *p, const char *path, const char *const *libdirs,
		   size_t nlibdirs, FILE *err)
{
	memset(p, 0, sizeof(*p));
	struct compile_opts o = {.libdirs = libdirs, .nlibdirs = nlibdirs};
	bool ok = compile_policy(path, &o, &p->comp);
	if (!ok) {
		cli_diag_print(&p->comp.diags, err);
		return -1;
	}
	nft_plan_build(&p->comp.ir, &p->plan);
	p->ch = xcalloc(p->plan.channels.n ? p->plan.channels.n : 1, sizeof(*p->ch));
	for (size_t i = 0; i < p->plan.channels.n; i++) {
		struct pd_channel *ch = &p->ch[p->nch];
		ch->nc = &p->plan.channels.v[i];
		ch->control = ch->nc->flow ? find_flow(&p->comp.res, ch->nc->app, ch->nc->flow) : NULL;
		if (ph_proto_by_name(ch->nc->parser, &ch->proto) < 0 || !ch->control)
			continue;
		ch->opener_is_server = ch->control->from == ROLE_SERVER;
		for (size_t k = 0; k < p->plan.dynsets.n; k++) {
			const struct ir_dynset *ds = p->plan.dynsets.v[k].ds;
			const struct rflow *f = ds->parser ? find_flow(&p->comp.res, ds->app, ds->flow) : NULL;
			if (f && ds->stmt_no == ch->nc->stmt_no && !strcmp(ds->app, ch->nc->app) &&
			    !strcmp(ds->parser, ch->nc->parser) && scoped_on(f, ch->control))
				add_target(p, ch, &p->plan.dynsets.v[k]);
		}
		p->nch++;
	}
	if (!p->nch) {
		fprintf(err, "pinholed: %s has no negotiated channel pinholed reads (a 'negotiated "
			"rpc|irc|msn|rtsp on FLOW' flow that an allow uses, without 'negotiated static;')\n",
			path);
		return -1;
	}
	return 0;
}

void pd_policy_free(struct pd_policy *p)
{
	for (size_t i = 0; i < p->nwhere; i++)
		free(p->where_texts[i]);
	free(p->ch);
	nft_plan_free(&p->plan);
	compilation_free(&p->comp);
	memset(p, 0, sizeof(*p));
}

const struct pd_channel *pd_policy_channel(const struct pd_policy *p, const char *prefix)
{
	for (size_t i = 0; i < p->nch; i++)
		if (!strcmp(p->ch[i].nc->prefix, prefix))
			return &p->ch[i];
	return NULL;
}

static bool in_ports(const struct ir_portset *ps, uint16_t port)
{
	if (!ps->n)
		return true;
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].lo <= port && port <= ps->v[i].hi)
			return true;
	return false;
}

bool pd_channel_is_client_side(const struct pd_channel *ch, uint8_t l4proto, uint16_t sport,
			       uint16_t dport)
{
	const struct rflow *f = ch->control;
	bool proto = (l4proto == IPPROTO_TCP && (f->protos & PROTO_BIT_TCP)) ||
		     (l4proto == IPPROTO_UDP && (f->protos & PROTO_BIT_UDP));
	return proto && f->dport.n && in_ports(&f->dport, dport) && in_ports(&f->sport, sport);
}
