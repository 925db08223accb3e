/* Scoped negotiated channels: naming and declaring the dynamic sets of peers. */
#include <string.h>

#include "icmp.h"
#include "scope.h"

enum role scope_peer_role(const struct rrule *rr)
{
	return rr->role == ROLE_CLIENT || rr->role == ROLE_NONE ? ROLE_SERVER : ROLE_CLIENT;
}

bool scope_is_control(const struct rapp *app, const struct rflow *f)
{
	for (size_t i = 0; i < app->flows.n; i++) {
		const struct rflow *g = &app->flows.v[i];
		for (size_t k = 0; g->app == f->app && k < g->on.n; k++)
			if (!strcmp(g->on.v[k], f->name))
				return true;
	}
	return false;
}

bool scope_is_pinhole(const struct resolved *r, const struct rflow *f)
{
	return !r->negotiated_static && f->is_negotiated && f->on.n && f->negotiated &&
	       pinholed_parser_known(f->negotiated);
}

/* The control flows as written, "pna, rtsp, rtsp-http". */
static char *flow_list(const struct rflow *f)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < f->on.n; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", f->on.v[i]);
	return sb_steal(&sb);
}

const char *scope_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
		      enum role peer, bool forward, uint8_t family)
{
	uint32_t timeout = data->timeout ? data->timeout : SCOPE_TIMEOUT_DEFAULT;
	char *flows = flow_list(data);
	const char *peer_name = ast_role_name(peer);
	for (size_t i = 0; i < rs->dynsets.n; i++) {
		const struct ir_dynset *ds = &rs->dynsets.v[i];
		if (ds->family == family && ds->timeout == timeout && ds->forward == forward &&
		    ds->stmt_no == stmt_no && !strcmp(ds->app, data->app) && !strcmp(ds->flows, flows) &&
		    !strcmp(ds->peer, peer_name)) {
			free(flows);
			return ds->name;
		}
	}
	/* ph_APP[_CHANNEL]_servers[_fwd]_v4; a number before the family when taken */
	struct strbuf base = {0};
	sb_puts(&base, "ph_");
	sb_put_ident(&base, data->app);
	const char *chan = data->negotiated;
	if (chan && chan[0] && strcmp(chan, data->app)) {
		sb_putc(&base, '_');
		sb_put_ident(&base, chan);
	}
	sb_printf(&base, "_%ss%s", peer_name, forward ? "_fwd" : "");
	const char *fam = family == IR_V6 ? "_v6" : "_v4";
	char *name = xasprintf("%s%s", base.s, fam);
	for (int k = 2; ir_dynset_find(rs, name); k++) {
		free(name);
		name = xasprintf("%s_%d%s", base.s, k, fam);
	}
	sb_free(&base);
	struct ir_dynset ds = {.name = name, .family = family, .timeout = timeout,
			       .app = xstrdup(data->app), .flows = flows, .peer = xstrdup(peer_name),
			       .forward = forward, .stmt_no = stmt_no};
	VEC_PUSH(rs->dynsets, ds);
	return name;
}

static const char *pinhole_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
			       enum role peer, bool forward, uint8_t family, bool peerless)
{
	uint32_t timeout = data->timeout ? data->timeout : SCOPE_TIMEOUT_DEFAULT;
	for (size_t i = 0; i < rs->dynsets.n; i++) {
		const struct ir_dynset *ds = &rs->dynsets.v[i];
		if (ds->parser && ds->family == family && ds->forward == forward &&
		    ds->peerless == peerless && ds->stmt_no == stmt_no && !strcmp(ds->app, data->app) &&
		    !strcmp(ds->flow, data->name))
			return ds->name;
	}
	struct strbuf base = {0};
	sb_puts(&base, "ph_");
	sb_put_ident(&base, data->app);
	sb_putc(&base, '_');
	sb_put_ident(&base, data->name);
	if (peerless)
		sb_puts(&base, "_listen");
	if (forward)
		sb_puts(&base, "_fwd");
	const char *fam = family == IR_V6 ? "_v6" : "_v4";
	char *name = xasprintf("%s%s", base.s, fam);
	for (int k = 2; ir_dynset_find(rs, name); k++) {
		free(name);
		name = xasprintf("%s_%d%s", base.s, k, fam);
	}
	sb_free(&base);
	struct ir_dynset ds = {.name = name, .family = family, .timeout = timeout,
			       .app = xstrdup(data->app), .flows = flow_list(data),
			       .peer = xstrdup(ast_role_name(peer)), .forward = forward,
			       .stmt_no = stmt_no, .parser = xstrdup(data->negotiated),
			       .flow = xstrdup(data->name), .peerless = peerless};
	VEC_PUSH(rs->dynsets, ds);
	return name;
}

const char *scope_pinhole_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
			      enum role peer, bool forward, uint8_t family)
{
	return pinhole_set(rs, stmt_no, data, peer, forward, family, false);
}

const char *scope_listen_set(struct ir_ruleset *rs, int stmt_no, const struct rflow *data,
			     uint8_t family)
{
	return pinhole_set(rs, stmt_no, data, ROLE_CLIENT, false, family, true);
}

char *scope_describe(const struct ir_dynset *ds)
{
	if (ds->parser) {
		struct strbuf sb = {0};
		sb_printf(&sb, "pinholed opened it from a%s %s message on %s flow ",
			  strchr("aeiou", ds->parser[0]) ? "n" : "", ds->parser, ds->app);
		const char *last = strrchr(ds->flows, ',');
		if (last)
			sb_printf(&sb, "%.*s or%s", (int)(last - ds->flows), ds->flows, last + 1);
		else
			sb_puts(&sb, ds->flows);
		return sb_steal(&sb);
	}
	char t[32];
	ir_duration_format(ds->timeout, t, sizeof(t));
	struct strbuf sb = {0};
	sb_printf(&sb, "%ss that used %s flow ", ds->peer, ds->app);
	/* "a, b, c" -> "a, b or c" */
	const char *last = strrchr(ds->flows, ',');
	if (last)
		sb_printf(&sb, "%.*s or%s", (int)(last - ds->flows), ds->flows, last + 1);
	else
		sb_puts(&sb, ds->flows);
	sb_printf(&sb, " within %s", t);
	return sb_steal(&sb);
}
