/* The grammar's node builders: small, no semantics beyond "said twice". */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "parse_build.h"
#include "parser.h"

struct ast_stmt *ast_stmt_new(enum stmt_kind kind)
{
	struct ast_stmt *s = xcalloc(1, sizeof(*s));
	s->kind = kind;
	return s;
}

void ast_stmt_finish(struct parse_ctx *ctx, struct ast_stmt *s, const struct loc *loc)
{
	s->loc = *loc;
	VEC_PUSH(ctx->out->stmts, s);
}

struct ast_stmt *ast_stmt_include(char *path, const struct loc *loc)
{
	struct ast_stmt *s = ast_stmt_new(STMT_INCLUDE);
	s->u.include = (struct ast_word){.loc = *loc, .text = path};
	return s;
}

struct ast_stmt *ast_stmt_negotiated(struct parse_ctx *ctx, char *word, const struct loc *loc)
{
	if (strcmp(word, "static") != 0)
		diag_error(ctx->diags, loc, "a policy says 'negotiated static;' to keep negotiated "
			   "channels as their scoped static fallback; '%s' is not a mode", word);
	free(word);
	return ast_stmt_new(STMT_NEGOTIATED_STATIC);
}

struct ast_stmt *ast_stmt_management(ast_words *addrs)
{
	struct ast_stmt *s = ast_stmt_new(STMT_MANAGEMENT);
	s->u.mgmt = *addrs;
	*addrs = (ast_words){0};
	return s;
}

struct ast_stmt *ast_stmt_define(char *name, const struct loc *loc, ast_words *addrs)
{
	struct ast_stmt *s = ast_stmt_new(STMT_DEFINE);
	s->u.define.name = (struct ast_word){.loc = *loc, .text = name};
	s->u.define.addrs = *addrs;
	return s;
}

struct ast_stmt *ast_stmt_zone(char *name, const struct loc *loc)
{
	struct ast_stmt *s = ast_stmt_new(STMT_ZONE);
	s->u.zone.name = (struct ast_word){.loc = *loc, .text = name};
	return s;
}

static void words_append(ast_words *dst, ast_words *src)
{
	if (!dst->n) { /* the list itself, not a copy of it */
		VEC_FREE(*dst);
		*dst = *src;
		memset(src, 0, sizeof(*src));
		return;
	}
	for (size_t i = 0; i < src->n; i++)
		VEC_PUSH(*dst, src->v[i]);
	VEC_FREE(*src);
}

void ast_zone_add_ifaces(struct ast_stmt *z, ast_words *ifaces)
{
	words_append(&z->u.zone.ifaces, ifaces);
}

void ast_zone_add_addrs(struct ast_stmt *z, ast_words *addrs)
{
	words_append(&z->u.zone.addrs, addrs);
}

void ast_zone_set_default(struct parse_ctx *ctx, struct ast_stmt *z, int action, const struct loc *loc)
{
	if (z->u.zone.has_default) {
		diag_error(ctx->diags, loc, "zone '%s' already has a default (line %d)",
			   z->u.zone.name.text, z->u.zone.default_loc.first_line);
		return;
	}
	z->u.zone.has_default = true;
	z->u.zone.default_action = (enum rule_action)action;
	z->u.zone.default_loc = *loc;
}

void ast_zone_bad_default(struct parse_ctx *ctx, char *word, const struct loc *loc)
{
	if (!strcmp(word, "drop"))
		diag_error(ctx->diags, loc, "a zone's default is 'deny' (drop silently) or 'reject' "
			   "(answer at once): write 'default deny;'");
	else
		diag_error(ctx->diags, loc, "a zone's default is 'deny' (drop silently) or 'reject' "
			   "(answer at once), not '%s'", word);
	free(word);
}

/* `forward owned;`: the zone's bridges belong to a container or VM manager, whose own tables
 * decide what is forwarded through them. `owned` is the only word; anything else is an error
 * (a misspelt option must not silently leave the forward chain to pinhole or to the owner). */
void ast_zone_set_owned(struct parse_ctx *ctx, struct ast_stmt *z, char *word, const struct loc *kw,
			const struct loc *loc)
{
	if (strcmp(word, "owned")) {
		diag_error(ctx->diags, loc, "a zone's forward option is 'forward owned;' (leave the "
			   "forwarded traffic of its interfaces to their owner), not 'forward %s'", word);
	} else if (z->u.zone.fwd_owned) {
		diag_error(ctx->diags, kw, "zone '%s' already says 'forward owned' (line %d)",
			   z->u.zone.name.text, z->u.zone.owned_loc.first_line);
	} else {
		z->u.zone.fwd_owned = true;
		z->u.zone.owned_loc = *kw;
	}
	free(word);
}

struct ast_stmt *ast_stmt_app(struct ast_app *app)
{
	struct ast_stmt *s = ast_stmt_new(STMT_APP);
	s->u.app = app;
	return s;
}

struct ast_service ast_service_app(char *name, const struct loc *loc)
{
	return (struct ast_service){.loc = *loc, .name = name};
}

struct ast_service ast_service_port(const struct portlit *p, const struct loc *loc)
{
	/* "tcp/8080", "udp/5000-5010": by hand, as a policy may write 10,000 of them */
	struct strbuf sb = {0};
	sb_puts(&sb, p->proto == IR_UDP ? "udp/" : "tcp/");
	sb_putu(&sb, p->r.lo);
	if (p->r.lo != p->r.hi) {
		sb_putc(&sb, '-');
		sb_putu(&sb, p->r.hi);
	}
	char *name = sb_steal(&sb);
	return (struct ast_service){.loc = *loc, .name = name, .is_port = true,
				    .proto = p->proto, .ports = p->r};
}

struct ast_service ast_service_any(const struct loc *loc)
{
	return (struct ast_service){.loc = *loc, .name = xstrdup("any"), .is_any = true};
}

struct ast_stmt *ast_rule_new(int action, struct ast_service *first)
{
	struct ast_stmt *s = ast_stmt_new(STMT_RULE);
	s->u.rule.action = (enum rule_action)action;
	VEC_PUSH(s->u.rule.services, *first);
	return s;
}

void ast_rule_add_service(struct ast_stmt *s, struct ast_service *svc)
{
	VEC_PUSH(s->u.rule.services, *svc);
}

struct ast_stmt *ast_rule_new_nat(int action)
{
	struct ast_stmt *s = ast_stmt_new(STMT_RULE);
	s->u.rule.action = (enum rule_action)action;
	return s;
}

void ast_rule_set_word(struct parse_ctx *ctx, struct ast_stmt *s, struct ast_word *dst, char *text,
		       const struct loc *loc, const char *what)
{
	(void)s;
	if (dst->text) {
		diag_error(ctx->diags, loc, "'%s' given twice", what);
		free(text);
		return;
	}
	dst->text = text;
	dst->loc = *loc;
}

void ast_rule_set_words(struct parse_ctx *ctx, ast_words *dst, struct loc *dst_loc, ast_words *src,
			const struct loc *loc, const char *what)
{
	if (dst->n)
		diag_error(ctx->diags, loc, "'%s' given twice; list all names in one '%s'", what, what);
	else
		*dst_loc = *loc;
	words_append(dst, src);
}

void ast_rule_set_role(struct parse_ctx *ctx, struct ast_stmt *s, enum role role, const struct loc *loc)
{
	struct ast_rule *r = &s->u.rule;
	if (r->role != ROLE_NONE)
		diag_error(ctx->diags, loc, "a rule has one role; '%s' was already given",
			   ast_role_name(r->role));
	r->role = role;
	r->role_loc = *loc;
}

void ast_rule_set_peer(struct parse_ctx *ctx, struct ast_stmt *s, enum peer_kw kw,
		       struct ast_plist *list, const struct loc *kwloc)
{
	struct ast_rule *r = &s->u.rule;
	bool *has = kw == PEER_FROM ? &r->has_from : kw == PEER_TO ? &r->has_to : &r->has_on;
	const char *name = kw == PEER_FROM ? "from" : kw == PEER_TO ? "to" : "on";
	if (*has)
		diag_error(ctx->diags, kwloc, "'%s' given twice; list all addresses in one '%s'", name, name);
	*has = true;
	if (kw != PEER_ON && !list->any && !list->ex.n) { /* the common case: nothing in `more` */
		struct loc *at = kw == PEER_FROM ? &r->from_loc : &r->to_loc;
		*at = *kwloc;
		words_append(kw == PEER_FROM ? &r->from : &r->to, &list->w);
		VEC_FREE(list->ex);
		return;
	}
	struct ast_rule_more *m = ast_rule_more_w(r);
	ast_words *dst = kw == PEER_FROM ? &r->from : kw == PEER_TO ? &r->to : &m->on;
	struct loc *at = kw == PEER_FROM ? &r->from_loc : kw == PEER_TO ? &r->to_loc : &m->on_loc;
	struct ast_except *ex = kw == PEER_FROM ? &m->from_ex : kw == PEER_TO ? &m->to_ex : &m->on_ex;
	*at = *kwloc;
	words_append(dst, &list->w);
	ex->any |= list->any;
	if (list->any)
		ex->any_loc = list->any_loc;
	if (list->ex.n)
		ex->ex_loc = list->ex_loc;
	words_append(&ex->ex, &list->ex);
}

void ast_words_push(ast_words *w, char *text, const struct loc *loc)
{
	VEC_PUSH(*w, ((struct ast_word){.loc = *loc, .text = text}));
}

struct ast_app *ast_app_new(char *name, const struct loc *loc, char *description)
{
	struct ast_app *a = xcalloc(1, sizeof(*a));
	a->name = name;
	a->loc = *loc;
	a->description = description;
	return a;
}

void ast_app_add_aliases(struct ast_app *a, ast_words *names)
{
	words_append(&a->aliases, names);
}

void ast_app_add_uses(struct ast_app *a, ast_words *names)
{
	words_append(&a->uses, names);
}

void ast_app_set_source(struct parse_ctx *ctx, struct ast_app *a, char *text, const struct loc *loc)
{
	if (a->source) {
		diag_error(ctx->diags, loc, "app '%s' has its source already", a->name);
		free(text);
		return;
	}
	a->source = text;
}

void ast_app_add_flow(struct ast_app *a, struct ast_flow *f)
{
	VEC_PUSH(a->flows, *f);
	free(f);
}

struct ast_flow *ast_flow_new(char *name, const struct loc *loc, enum role from, enum role to,
			  int both_ways, int protos)
{
	struct ast_flow *f = xcalloc(1, sizeof(*f));
	f->name = name;
	f->loc = *loc;
	f->from = from;
	f->to = to;
	f->both_ways = both_ways != 0;
	f->protos = (uint8_t)protos;
	return f;
}

void ast_flow_set_ports(struct parse_ctx *ctx, struct ast_ports *dst, struct ast_ports *src,
		    const char *what)
{
	if (dst->r.n || dst->same) {
		diag_error(ctx->diags, &src->loc, "'%s' given twice in one flow", what);
		ast_ports_free(src);
		return;
	}
	*dst = *src;
}

void ast_flow_set_same(struct parse_ctx *ctx, struct ast_flow *f, const struct loc *loc)
{
	if (f->dport.r.n || f->dport.same)
		diag_error(ctx->diags, loc, "'dport' given twice in one flow");
	f->dport.same = true;
	f->dport.loc = *loc;
}

void ast_flow_add_types(struct ast_flow *f, ast_words *types)
{
	words_append(&f->icmp_types, types);
}

int ast_flow_proto_word(struct parse_ctx *ctx, char *word, const struct loc *loc)
{
	int bit = 0;
	if (strcmp(word, "esp") == 0)
		bit = PROTO_BIT_ESP;
	else
		diag_error(ctx->diags, loc, "unknown protocol '%s': a flow's protocols are tcp, udp, "
			   "icmp and esp", word);
	free(word);
	return bit;
}

void ast_flow_set_word(struct parse_ctx *ctx, struct ast_word *dst, char *text, const struct loc *loc,
		   const char *what)
{
	if (dst->text) {
		diag_error(ctx->diags, loc, "'%s' given twice in one flow", what);
		free(text);
		return;
	}
	*dst = (struct ast_word){.loc = *loc, .text = text};
}

void ast_flow_set_negotiated(struct parse_ctx *ctx, struct ast_flow *f, char *name, const struct loc *loc)
{
	if (f->is_negotiated) {
		diag_error(ctx->diags, loc, "'negotiated' given twice in one flow");
		free(name);
		return;
	}
	f->is_negotiated = true;
	f->negotiated = (struct ast_word){.loc = *loc, .text = name ? name : xstrdup("")};
}

void ast_flow_set_on(struct parse_ctx *ctx, struct ast_flow *f, ast_words *flows, const struct loc *loc)
{
	if (f->on.n) {
		diag_error(ctx->diags, loc, "'on' given twice in one flow");
		ast_words_free(flows);
		return;
	}
	f->on = *flows;
	f->on_loc = *loc;
}

/* `program N`: an ONC RPC program number (RFC 5531 section 9: 32 bits; 0 is the portmapper's
 * own NULL program, never a channel). */
void ast_flow_set_program(struct parse_ctx *ctx, struct ast_flow *f, char *text, const struct loc *loc)
{
	char *end = NULL;
	errno = 0;
	unsigned long long n = text ? strtoull(text, &end, 10) : 0;
	if (!text)
		diag_error(ctx->diags, loc, "'program' needs an ONC RPC program number (e.g. program 100005)");
	else if (f->program)
		diag_error(ctx->diags, loc, "'program' given twice in one flow");
	else if (errno || *end || n == 0 || n > 0xffffffffull)
		diag_error(ctx->diags, loc, "program %s is out of range (1 to 4294967295)", text);
	else {
		f->program = (uint32_t)n;
		f->program_loc = *loc;
	}
	free(text);
}

/* "30s", "10m", "1h": seconds, within the bounds a scoped channel's timer may have. */
void ast_flow_set_timeout(struct parse_ctx *ctx, struct ast_flow *f, char *text, const struct loc *loc)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(text, &end, 10);
	unsigned long unit = !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 0;
	if (f->timeout) {
		diag_error(ctx->diags, loc, "'timeout' given twice in one flow");
	} else if (!unit) {
		diag_error(ctx->diags, loc, "'%s' is not a duration: write a number with s, m or h "
			   "(e.g. 30s, 10m, 1h)", text);
	} else if (errno || n > SCOPE_TIMEOUT_MAX / unit || n * unit < SCOPE_TIMEOUT_MIN) {
		diag_error(ctx->diags, loc, "timeout %s is out of range (1s to 24h)", text);
	} else {
		f->timeout = (uint32_t)(n * unit);
		f->timeout_loc = *loc;
	}
	free(text);
}

void ast_flow_set_source(struct parse_ctx *ctx, struct ast_flow *f, char *text, const struct loc *loc)
{
	if (f->source) {
		diag_error(ctx->diags, loc, "flow '%s' has its source already", f->name);
		free(text);
		return;
	}
	f->source = text;
}

/* ---- rate limits and log options ---- */

/* A whole number in 1..max, or -1. */
static long small_number(const char *text, long min, long max)
{
	char *end;
	errno = 0;
	long n = strtol(text, &end, 10);
	return errno || *end || end == text || n < min || n > max ? -1 : n;
}

struct ast_limit ast_limit_new(struct parse_ctx *ctx, char *rate, const struct loc *loc)
{
	struct ast_limit l = {.loc = *loc, .given = true};
	l.v.burst = AST_LIMIT_BURST;
	static const struct { const char *name; uint8_t unit; } units[] = {
		{"second", IR_PER_SECOND}, {"seconds", IR_PER_SECOND}, {"minute", IR_PER_MINUTE},
		{"minutes", IR_PER_MINUTE}, {"hour", IR_PER_HOUR}, {"hours", IR_PER_HOUR},
		{"day", IR_PER_DAY}, {"days", IR_PER_DAY},
	};
	char *slash = strchr(rate, '/');
	*slash = '\0';
	const char *unit = slash + 1;
	size_t u = 0;
	while (u < sizeof(units) / sizeof(units[0]) && strcmp(units[u].name, unit))
		u++;
	long n = small_number(rate, 0, AST_LIMIT_MAX);
	if (u == sizeof(units) / sizeof(units[0])) {
		diag_error(ctx->diags, loc, "unknown unit '%s' in rate '%s/%s': write second, minute, hour "
			   "or day (e.g. 'limit 10/minute')", unit, rate, unit);
		l.given = false;
	} else if (n == 0) {
		diag_error(ctx->diags, loc, "a rate of 0 admits nothing: write 'deny' to close it, or a "
			   "rate of at least 1");
		l.given = false;
	} else if (n < 0) {
		diag_error(ctx->diags, loc, "rate %s/%s is out of range (1 to %d per %s)", rate, unit,
			   AST_LIMIT_MAX, units[u].name);
		l.given = false;
	} else {
		l.v.rate = (uint32_t)n;
		l.v.unit = units[u].unit;
	}
	free(rate);
	return l;
}

struct ast_limit ast_limit_none(struct parse_ctx *ctx, char *word, const struct loc *loc)
{
	struct ast_limit l = {.loc = *loc, .given = true, .none = true};
	if (strcmp(word, "none")) {
		diag_error(ctx->diags, loc, "a limit is a rate such as '10/minute' (or 'none' where a "
			   "limit is the default), not '%s'", word);
		l.given = false;
	}
	free(word);
	return l;
}

void ast_limit_burst(struct parse_ctx *ctx, struct ast_limit *l, char *n, const struct loc *loc)
{
	long b = small_number(n, 1, AST_LIMIT_MAX);
	if (l->none)
		diag_error(ctx->diags, loc, "'limit none' has no burst");
	else if (l->burst_given)
		diag_error(ctx->diags, loc, "'burst' given twice");
	else if (b < 0)
		diag_error(ctx->diags, loc, "burst '%s' is not a number of packets from 1 to %d", n,
			   AST_LIMIT_MAX);
	else {
		l->v.burst = (uint32_t)b;
		l->burst_given = true;
	}
	l->loc.last_line = loc->last_line;
	l->loc.last_column = loc->last_column;
	free(n);
}

void ast_limit_per_source(struct parse_ctx *ctx, struct ast_limit *l, const struct loc *loc)
{
	if (l->none)
		diag_error(ctx->diags, loc, "'limit none' has no 'per source'");
	else if (l->v.per_source)
		diag_error(ctx->diags, loc, "'per source' given twice");
	l->v.per_source = !l->none;
	l->loc.last_line = loc->last_line;
	l->loc.last_column = loc->last_column;
}

void ast_logopt_level(struct parse_ctx *ctx, struct ast_logopt *o, char *name, const struct loc *loc)
{
	int lv = ir_log_level_lookup(name);
	if (o->opt.level_set)
		diag_error(ctx->diags, loc, "'level' given twice");
	else if (lv < 0)
		diag_error(ctx->diags, loc, "unknown log level '%s' (emerg, alert, crit, err, warn, "
			   "notice, info or debug)", name);
	else {
		o->opt.level_set = true;
		o->opt.level = (uint8_t)lv;
		o->level_loc = *loc;
	}
	free(name);
}

void ast_logopt_group(struct parse_ctx *ctx, struct ast_logopt *o, char *n, const struct loc *loc)
{
	long g = small_number(n, 0, 65535);
	if (o->opt.nflog)
		diag_error(ctx->diags, loc, "'group' given twice");
	else if (g < 0)
		diag_error(ctx->diags, loc, "log group '%s' is not a number from 0 to 65535", n);
	else if (g == 7100) /* NFT_PINHOLED_GROUP */
		diag_error(ctx->diags, loc, "log group 7100 is the one pinholed reads; pick another");
	else {
		o->opt.nflog = true;
		o->opt.group = (uint16_t)g;
		o->group_loc = *loc;
	}
	free(n);
}

void ast_logopt_limit(struct parse_ctx *ctx, struct ast_logopt *o, const struct ast_limit *l)
{
	if (o->limit.given)
		diag_error(ctx->diags, &l->loc, "the log's 'limit' given twice");
	else if (l->given)
		o->limit = *l;
}

void ast_rule_set_limit(struct parse_ctx *ctx, struct ast_stmt *s, const struct ast_limit *l)
{
	struct ast_rule *r = &s->u.rule;
	if (ast_rule_more(r)->limit.given)
		diag_error(ctx->diags, &l->loc, "'limit' given twice (a log's limit is written after 'log')");
	else if (l->given && l->none)
		diag_error(ctx->diags, &l->loc, "a rule has no limit unless it says so: leave out 'limit none'");
	else if (l->given)
		ast_rule_more_w(r)->limit = *l;
}

void ast_rule_set_log(struct parse_ctx *ctx, struct ast_stmt *s, const struct ast_logopt *o,
		      const struct loc *loc)
{
	struct ast_rule *r = &s->u.rule;
	if (r->log)
		diag_error(ctx->diags, loc, "'log' given twice; put all its options after one 'log'");
	r->log = true;
	if (o->opt.level_set || o->opt.nflog || o->limit.given || r->more) /* options, or a repeat */
		ast_rule_more_w(r)->logopt = *o;
}

struct ast_stmt *ast_stmt_log_unmatched(const struct ast_logopt *o)
{
	struct ast_stmt *s = ast_stmt_new(STMT_LOG_UNMATCHED);
	s->u.log_unmatched = *o;
	return s;
}
