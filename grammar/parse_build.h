/* Node builders called from the grammar's actions (implemented in compiler/ast_build.c).
 * Each is a few lines; anything that needs more than the tokens at hand belongs to resolve. */
#ifndef PINHOLE_PARSE_BUILD_H
#define PINHOLE_PARSE_BUILD_H

#include "ast.h"
#include "scan.h"

struct parse_ctx;

struct ast_stmt *ast_stmt_new(enum stmt_kind kind);
void ast_stmt_finish(struct parse_ctx *ctx, struct ast_stmt *s, const struct loc *loc);
struct ast_stmt *ast_stmt_include(char *path, const struct loc *loc);
/* `negotiated static;`: WORD must be "static" (an error at it otherwise). */
struct ast_stmt *ast_stmt_negotiated(struct parse_ctx *ctx, char *word, const struct loc *loc);
struct ast_stmt *ast_stmt_define(char *name, const struct loc *loc, ast_words *addrs);
struct ast_stmt *ast_stmt_management(ast_words *addrs);
struct ast_stmt *ast_stmt_zone(char *name, const struct loc *loc);
void ast_zone_add_ifaces(struct ast_stmt *z, ast_words *ifaces);
void ast_zone_add_addrs(struct ast_stmt *z, ast_words *addrs);
struct ast_stmt *ast_stmt_app(struct ast_app *app);

struct ast_service ast_service_app(char *name, const struct loc *loc);
struct ast_service ast_service_port(const struct portlit *p, const struct loc *loc);
/* `any`: every protocol and port (gateway rules, docs/language.md) */
struct ast_service ast_service_any(const struct loc *loc);
/* `default deny;` / `default reject;` in a zone: what its unmatched packets meet */
void ast_zone_set_default(struct parse_ctx *ctx, struct ast_stmt *z, int action, const struct loc *loc);
void ast_zone_bad_default(struct parse_ctx *ctx, char *word, const struct loc *loc);
void ast_zone_set_owned(struct parse_ctx *ctx, struct ast_stmt *z, char *word, const struct loc *kw,
			const struct loc *loc);
struct ast_stmt *ast_rule_new(int action, struct ast_service *first);
void ast_rule_add_service(struct ast_stmt *s, struct ast_service *svc);
struct ast_stmt *ast_rule_new_nat(int action);
void ast_rule_set_word(struct parse_ctx *ctx, struct ast_stmt *s, struct ast_word *dst, char *text,
		       const struct loc *loc, const char *what);
void ast_rule_set_words(struct parse_ctx *ctx, ast_words *dst, struct loc *dst_loc, ast_words *src,
			const struct loc *loc, const char *what);
void ast_rule_set_role(struct parse_ctx *ctx, struct ast_stmt *s, enum role role, const struct loc *loc);
enum peer_kw { PEER_FROM, PEER_TO, PEER_ON };
void ast_rule_set_peer(struct parse_ctx *ctx, struct ast_stmt *s, enum peer_kw kw,
		       struct ast_plist *list, const struct loc *kwloc);

/* Rate limits and log options (checked here: units, ranges, repeats). */
struct ast_limit ast_limit_new(struct parse_ctx *ctx, char *rate, const struct loc *loc);
struct ast_limit ast_limit_none(struct parse_ctx *ctx, char *word, const struct loc *loc);
void ast_limit_burst(struct parse_ctx *ctx, struct ast_limit *l, char *n, const struct loc *loc);
void ast_limit_per_source(struct parse_ctx *ctx, struct ast_limit *l, const struct loc *loc);
void ast_logopt_level(struct parse_ctx *ctx, struct ast_logopt *o, char *name, const struct loc *loc);
void ast_logopt_group(struct parse_ctx *ctx, struct ast_logopt *o, char *n, const struct loc *loc);
void ast_logopt_limit(struct parse_ctx *ctx, struct ast_logopt *o, const struct ast_limit *l);
void ast_rule_set_limit(struct parse_ctx *ctx, struct ast_stmt *s, const struct ast_limit *l);
void ast_rule_set_log(struct parse_ctx *ctx, struct ast_stmt *s, const struct ast_logopt *o,
		      const struct loc *loc);
struct ast_stmt *ast_stmt_log_unmatched(const struct ast_logopt *o);

void ast_words_push(ast_words *w, char *text, const struct loc *loc);

struct ast_app *ast_app_new(char *name, const struct loc *loc, char *description);
void ast_app_add_aliases(struct ast_app *a, ast_words *names);
void ast_app_add_uses(struct ast_app *a, ast_words *names);
void ast_app_set_source(struct parse_ctx *ctx, struct ast_app *a, char *text, const struct loc *loc);
void ast_app_add_flow(struct ast_app *a, struct ast_flow *f);

struct ast_flow *ast_flow_new(char *name, const struct loc *loc, enum role from, enum role to,
			  int both_ways, int protos);
void ast_flow_set_ports(struct parse_ctx *ctx, struct ast_ports *dst, struct ast_ports *src,
		    const char *what);
void ast_flow_set_same(struct parse_ctx *ctx, struct ast_flow *f, const struct loc *loc);
void ast_flow_add_types(struct ast_flow *f, ast_words *types);
int ast_flow_proto_word(struct parse_ctx *ctx, char *word, const struct loc *loc);
void ast_flow_set_word(struct parse_ctx *ctx, struct ast_word *dst, char *text, const struct loc *loc,
		   const char *what);
void ast_flow_set_negotiated(struct parse_ctx *ctx, struct ast_flow *f, char *name, const struct loc *loc);
void ast_flow_set_on(struct parse_ctx *ctx, struct ast_flow *f, ast_words *flows, const struct loc *loc);
void ast_flow_set_timeout(struct parse_ctx *ctx, struct ast_flow *f, char *text, const struct loc *loc);
void ast_flow_set_program(struct parse_ctx *ctx, struct ast_flow *f, char *text, const struct loc *loc);
void ast_flow_set_source(struct parse_ctx *ctx, struct ast_flow *f, char *text, const struct loc *loc);

#endif
