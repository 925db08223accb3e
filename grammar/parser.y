/* pinhole grammar: pure, reentrant, locations everywhere, thin actions.
 * Semantic checks (names, addresses, roles) live in compiler/, not here. */
%define api.pure full
%define parse.error custom
%define api.token.prefix {TOK_}
%locations
%param {yyscan_t scanner}
%parse-param {struct parse_ctx *ctx}

%code requires {
#include "ast.h"
#include "scan.h"
#define YYLTYPE struct loc
#define YYLTYPE_IS_DECLARED 1
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                               \
	do {                                                                      \
		if (N) {                                                          \
			(Cur).src = YYRHSLOC(Rhs, 1).src;                         \
			(Cur).first_line = YYRHSLOC(Rhs, 1).first_line;           \
			(Cur).first_column = YYRHSLOC(Rhs, 1).first_column;       \
			(Cur).last_line = YYRHSLOC(Rhs, N).last_line;             \
			(Cur).last_column = YYRHSLOC(Rhs, N).last_column;         \
		} else {                                                          \
			(Cur) = YYRHSLOC(Rhs, 0);                                 \
			(Cur).first_line = (Cur).last_line;                       \
			(Cur).first_column = (Cur).last_column;                   \
		}                                                                 \
	} while (0)
typedef void *yyscan_t;
struct parse_ctx {
	struct ast_policy *out;
	struct diags *diags;
	int syntax_errors;
};
}

%code {
#include <stdlib.h>
#include <string.h>
#include "scanner.h"
#include "parse_build.h"

static void yyerror(YYLTYPE *loc, yyscan_t scanner, struct parse_ctx *ctx, const char *msg)
{
	(void)scanner;
	diag_error(ctx->diags, loc, "%s", msg);
}
}

%union {
	char *str;
	struct ir_portrange range;
	struct portlit portlit;
	struct ast_stmt *stmt;
	struct ast_app *app;
	struct ast_flow *flow;
	struct ast_service service;
	ast_words words;
	struct ast_ports ports;
	struct ast_plist plist;
	enum role role;
	int num;
	struct ast_limit limit;
	struct ast_logopt logopt;
}

%token ALLOW "allow" DENY "deny" REJECT "reject" CLIENT "client" SERVER "server"
%token FROM "from" TO "to" DEFINE "define" ESTABLISHED "established" ONLY "only"
%token LOG "log" UNMATCHED "unmatched" INCLUDE "include" ZONE "zone"
%token INTERFACE "interface" ADDRESS "address" APP "app" ALIAS "alias" SOURCE "source"
%token USES "uses" MANAGEMENT "management"
%token FLOW_KW "flow" ANY "any" TCP "tcp" UDP "udp" ICMP "icmp" SPORT "sport" DPORT "dport"
%token SAME "same" TYPE "type" HELPER "helper" RELATED "related" NEGOTIATED "negotiated"
%token BROADCAST "broadcast" FRAGMENTS "fragments" UNADDRESSED "unaddressed" RELAYED "relayed" ARROW "->" BIARROW "<->"
%token ON "on" TIMEOUT "timeout"
%token MASQUERADE "masquerade" SNAT "snat" FORWARD "forward" PORT_KW "port keyword" AS "as"
%token HAIRPIN "hairpin" FAMILY "family" DEFAULT "default" EXCEPT "except"
%token LIMIT "limit" BURST "burst" PER "per" LEVEL "level" GROUP "group"
%token JUNK "invalid character"
%token <str> IDENT "name" STRING "string" ADDR "address literal" DURATION "duration" RATE "rate"
%token <str> PROGRAM "program"
%token <range> PORTRANGE "port"
%token <portlit> PORTLIT "port literal"

%type <stmt> rule rule_head define zone_head zone app_stmt
%type <app> app_head app_body
%type <flow> flow flow_head
%type <service> service
%type <words> names addrs iface_names
%type <str> addr iface opt_string
%type <ports> ports
%type <plist> plist
%type <role> role
%type <num> action protos proto arrow
%type <limit> limit
%type <logopt> log_opts

/* A 'limit' after 'log' belongs to the log: "allow ssh server log limit 5/minute" limits
 * the log, "allow ssh server limit 10/minute log" the rule. Shift wins, by precedence. */
%precedence CLAUSE_END
%precedence LIMIT

%destructor { free($$); } <str>
%destructor { ast_stmt_free($$); } <stmt>
%destructor { ast_app_free($$); } <app>
%destructor { ast_flow_free($$); free($$); } <flow>
%destructor { free($$.name); } <service>
%destructor { ast_words_free(&$$); } <words>
%destructor { ast_ports_free(&$$); } <ports>
%destructor { ast_plist_free(&$$); } <plist>

%%

policy:	%empty
	| policy statement
	;

statement: rule ';'                 { ast_stmt_finish(ctx, $1, &@$); }
	| define ';'                { ast_stmt_finish(ctx, $1, &@$); }
	| zone                      { ast_stmt_finish(ctx, $1, &@$); }
	| app_stmt                  { ast_stmt_finish(ctx, $1, &@$); }
	| ESTABLISHED ONLY ';'      { ast_stmt_finish(ctx, ast_stmt_new(STMT_STATELESS), &@$); }
	| LOG UNMATCHED log_opts ';' { ast_stmt_finish(ctx, ast_stmt_log_unmatched(&$3), &@$); }
	| NEGOTIATED IDENT ';'      { ast_stmt_finish(ctx, ast_stmt_negotiated(ctx, $2, &@2), &@$); }
	| INCLUDE STRING ';'        { ast_stmt_finish(ctx, ast_stmt_include($2, &@2), &@$); }
	| MANAGEMENT FROM addrs ';' { ast_stmt_finish(ctx, ast_stmt_management(&$3), &@$); }
	| error ';'                 { yyerrok; if (ctx->syntax_errors >= MAX_ERRORS) YYABORT; }
	| error '}'                 { yyerrok; if (ctx->syntax_errors >= MAX_ERRORS) YYABORT; }
	;

action:	ALLOW     { $$ = ACT_ALLOW; }
	| DENY    { $$ = ACT_DENY; }
	| REJECT  { $$ = ACT_REJECT; }
	| FORWARD { $$ = ACT_FORWARD; }
	;

rule:	rule_head
	| rule CLIENT               { $$ = $1; ast_rule_set_role(ctx, $$, ROLE_CLIENT, &@2); }
	| rule SERVER               { $$ = $1; ast_rule_set_role(ctx, $$, ROLE_SERVER, &@2); }
	| rule FROM plist           { $$ = $1; ast_rule_set_peer(ctx, $$, PEER_FROM, &$3, &@2); }
	| rule TO plist             { $$ = $1; ast_rule_set_peer(ctx, $$, PEER_TO, &$3, &@2); }
	| rule ON plist             { $$ = $1; ast_rule_set_peer(ctx, $$, PEER_ON, &$3, &@2); }
	| rule LOG log_opts %prec CLAUSE_END { $$ = $1; ast_rule_set_log(ctx, $$, &$3, &@2); }
	| rule limit                { $$ = $1; ast_rule_set_limit(ctx, $$, &$2); }
	| rule AS addr              { $$ = $1; ast_rule_set_word(ctx, $$, &ast_rule_more_w(&$$->u.rule)->as, $3, &@3, "as"); }
	| rule PORT_KW addr            { $$ = $1; ast_rule_set_word(ctx, $$, &ast_rule_more_w(&$$->u.rule)->port, $3, &@3, "port"); }
	| rule HAIRPIN names        { $$ = $1; struct ast_rule_more *m = ast_rule_more_w(&$$->u.rule); ast_rule_set_words(ctx, &m->hairpin, &m->hairpin_loc, &$3, &@2, "hairpin"); }
	| rule FAMILY names         { $$ = $1; struct ast_rule_more *m = ast_rule_more_w(&$$->u.rule); ast_rule_set_words(ctx, &m->family, &m->family_loc, &$3, &@2, "family"); }
	;

limit:	LIMIT RATE                  { $$ = ast_limit_new(ctx, $2, &@$); }
	| LIMIT IDENT               { $$ = ast_limit_none(ctx, $2, &@$); }
	| limit BURST addr          { $$ = $1; ast_limit_burst(ctx, &$$, $3, &@3); }
	| limit PER SOURCE          { $$ = $1; ast_limit_per_source(ctx, &$$, &@3); }
	;

log_opts: %empty                    { $$ = (struct ast_logopt){0}; }
	| log_opts LEVEL IDENT      { $$ = $1; ast_logopt_level(ctx, &$$, $3, &@3); }
	| log_opts GROUP addr       { $$ = $1; ast_logopt_group(ctx, &$$, $3, &@3); }
	| log_opts limit            { $$ = $1; ast_logopt_limit(ctx, &$$, &$2); }
	;

rule_head: action service           { $$ = ast_rule_new($1, &$2); }
	| rule_head ',' service     { $$ = $1; ast_rule_add_service($$, &$3); }
	| MASQUERADE                { $$ = ast_rule_new_nat(ACT_MASQUERADE); }
	| SNAT                      { $$ = ast_rule_new_nat(ACT_SNAT); }
	;

service: IDENT                      { $$ = ast_service_app($1, &@1); }
	| PORTLIT                   { $$ = ast_service_port(&$1, &@1); }
	| ANY                       { $$ = ast_service_any(&@1); }
	;

addrs:	addr                        { $$ = (ast_words){0}; ast_words_push(&$$, $1, &@1); }
	| addrs ',' addr            { $$ = $1; ast_words_push(&$$, $3, &@3); }
	;

addr:	ADDR | IDENT ;

/* A rule's address list, and what it leaves out: `10.0.0.0/8 except 10.1.0.0/16`,
 * `any except 192.0.2.0/24` (every address of both families but those). */
plist:	addrs                       { $$ = (struct ast_plist){.w = $1}; }
	| addrs EXCEPT addrs        { $$ = (struct ast_plist){.w = $1, .ex = $3, .ex_loc = @2}; }
	| ANY EXCEPT addrs          { $$ = (struct ast_plist){.any = true, .any_loc = @1, .ex = $3, .ex_loc = @2}; }
	;

define:	DEFINE IDENT '=' addrs       { $$ = ast_stmt_define($2, &@2, &$4); }
	;

zone:	zone_head '}'
	;

zone_head: ZONE IDENT '{'           { $$ = ast_stmt_zone($2, &@2); }
	| zone_head INTERFACE iface_names ';' { $$ = $1; ast_zone_add_ifaces($$, &$3); }
	| zone_head ADDRESS addrs ';'   { $$ = $1; ast_zone_add_addrs($$, &$3); }
	| zone_head DEFAULT DENY ';'    { $$ = $1; ast_zone_set_default(ctx, $$, ACT_DENY, &@2); }
	| zone_head DEFAULT REJECT ';'  { $$ = $1; ast_zone_set_default(ctx, $$, ACT_REJECT, &@2); }
	| zone_head DEFAULT IDENT ';'   { $$ = $1; ast_zone_bad_default(ctx, $3, &@3); }
	| zone_head FORWARD IDENT ';'   { $$ = $1; ast_zone_set_owned(ctx, $$, $3, &@2, &@3); }
	| zone_head error ';'       { $$ = $1; yyerrok; }
	;

iface_names: iface                  { $$ = (ast_words){0}; ast_words_push(&$$, $1, &@1); }
	| iface_names ',' iface     { $$ = $1; ast_words_push(&$$, $3, &@3); }
	;

iface:	IDENT | STRING ;

names:	IDENT                       { $$ = (ast_words){0}; ast_words_push(&$$, $1, &@1); }
	| names ',' IDENT           { $$ = $1; ast_words_push(&$$, $3, &@3); }
	;

opt_string: %empty                  { $$ = NULL; }
	| STRING
	;

app_stmt: app_body '}'              { $$ = ast_stmt_app($1); }
	;

app_head: APP IDENT opt_string      { $$ = ast_app_new($2, &@2, $3); }
	| app_head ALIAS names      { $$ = $1; ast_app_add_aliases($$, &$3); }
	;

app_body: app_head '{'              { $$ = $1; }
	| app_body SOURCE STRING ';' { $$ = $1; ast_app_set_source(ctx, $$, $3, &@3); }
	| app_body USES names ';'   { $$ = $1; ast_app_add_uses($$, &$3); }
	| app_body flow ';'         { $$ = $1; ast_app_add_flow($$, $2); }
	| app_body error ';'        { $$ = $1; yyerrok; }
	;

flow:	flow_head
	| flow SPORT ports          { $$ = $1; ast_flow_set_ports(ctx, &$$->sport, &$3, "sport"); }
	| flow DPORT ports          { $$ = $1; ast_flow_set_ports(ctx, &$$->dport, &$3, "dport"); }
	| flow DPORT SAME           { $$ = $1; ast_flow_set_same(ctx, $$, &@3); }
	| flow TYPE names           { $$ = $1; ast_flow_add_types($$, &$3); }
	| flow HELPER STRING        { $$ = $1; ast_flow_set_word(ctx, &$$->helper, $3, &@3, "helper"); }
	| flow RELATED STRING       { $$ = $1; ast_flow_set_word(ctx, &$$->related, $3, &@3, "related"); }
	| flow NEGOTIATED           { $$ = $1; ast_flow_set_negotiated(ctx, $$, NULL, &@2); }
	| flow NEGOTIATED IDENT     { $$ = $1; ast_flow_set_negotiated(ctx, $$, $3, &@3); }
	| flow ON names             { $$ = $1; ast_flow_set_on(ctx, $$, &$3, &@2); }
	| flow TIMEOUT DURATION     { $$ = $1; ast_flow_set_timeout(ctx, $$, $3, &@3); }
	| flow PROGRAM              { $$ = $1; ast_flow_set_program(ctx, $$, $2, &@2); }
	| flow BROADCAST            { $$ = $1; $$->broadcast = true; }
	| flow FRAGMENTS            { $$ = $1; $$->fragments = true; }
	| flow UNADDRESSED          { $$ = $1; $$->unaddressed = true; }
	| flow RELAYED              { $$ = $1; $$->relayed = true; $$->relayed_loc = @2; }
	| flow REJECT               { $$ = $1; $$->reject = true; }
	| flow SOURCE STRING        { $$ = $1; ast_flow_set_source(ctx, $$, $3, &@3); }
	;

flow_head: FLOW_KW IDENT ':' role arrow role protos
	                            { $$ = ast_flow_new($2, &@2, $4, $6, $5, $7); }
	;

role:	CLIENT   { $$ = ROLE_CLIENT; }
	| SERVER { $$ = ROLE_SERVER; }
	| ANY    { $$ = ROLE_ANY; }
	;

arrow:	ARROW    { $$ = 0; }
	| BIARROW { $$ = 1; }
	;

protos:	proto
	| protos ',' proto          { $$ = $1 | $3; }
	;

proto:	TCP      { $$ = PROTO_BIT_TCP; }
	| UDP    { $$ = PROTO_BIT_UDP; }
	| ICMP   { $$ = PROTO_BIT_ICMP; }
	| IDENT  { $$ = ast_flow_proto_word(ctx, $1, &@1); }
	;

ports:	PORTRANGE                   { $$ = (struct ast_ports){.loc = @1}; VEC_PUSH($$.r, $1); }
	| ports ',' PORTRANGE       { $$ = $1; $$.loc.last_column = @3.last_column; VEC_PUSH($$.r, $3); }
	;

%%

/* Keywords and punctuation quoted ('allow', ';'); token classes described (name, port). */
static const char *token_desc(yysymbol_kind_t k)
{
	static char buf[8][48];
	static int slot;
	switch (k) {
	case YYSYMBOL_YYEOF: return "end of file";
	case YYSYMBOL_IDENT: return "name";
	case YYSYMBOL_STRING: return "string";
	case YYSYMBOL_ADDR: return "address";
	case YYSYMBOL_PORTRANGE: return "port";
	case YYSYMBOL_PORTLIT: return "port literal";
	case YYSYMBOL_DURATION: return "duration";
	case YYSYMBOL_RATE: return "rate";
	case YYSYMBOL_PORT_KW: return "'port'";
	case YYSYMBOL_JUNK: return "invalid character";
	default: break;
	}
	const char *name = yysymbol_name(k);
	char *b = buf[slot++ % 8];
	if (name[0] == '\'')
		return name; /* punctuation already reads ';' */
	snprintf(b, sizeof(buf[0]), "'%s'", name);
	return b;
}

/* The text under `loc` on its first line (the token the parser stopped at), and in *before
 * the word just before it, if it touches it. Both new strings; "" when not found. */
static char *token_text(const struct loc *loc, char **before)
{
	*before = xstrdup("");
	const struct source *src = loc->src;
	if (!src || loc->first_line < 1)
		return xstrdup("");
	const char *p = src->text, *end = src->text + src->len;
	for (int l = 1; l < loc->first_line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	size_t len = (size_t)((nl ? nl : end) - p);
	size_t a = (size_t)(loc->first_column - 1);
	if (a > len)
		return xstrdup("");
	size_t b = a;
	while (b > 0 && (p[b - 1] == '_' || (p[b - 1] >= 'a' && p[b - 1] <= 'z') ||
			 (p[b - 1] >= 'A' && p[b - 1] <= 'Z')))
		b--;
	free(*before);
	*before = xstrndup(p + b, a - b);
	size_t w = loc->last_line == loc->first_line && loc->last_column >= loc->first_column
			   ? (size_t)(loc->last_column - loc->first_column + 1) : 1;
	if (a + w > len)
		w = len - a;
	return xstrndup(p + a, w);
}

static bool one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcmp(s, *words))
			return true;
	return false;
}

/* The common mistakes, told as what to write instead; NULL when none fits. */
static char *syntax_hint(yysymbol_kind_t got, const char *text, const char *before,
			 const yysymbol_kind_t *expected, int n)
{
	bool rule = false; /* the parser is inside a rule, after its app names */
	for (int i = 0; i < n; i++)
		rule |= expected[i] == YYSYMBOL_SERVER || expected[i] == YYSYMBOL_FROM;
	static const char *const directions[] = {"in", "out", "inbound", "outbound", "incoming",
						 "outgoing", "input", "output", "ingress", "egress", NULL};
	static const char *const ifaces[] = {"on", "via", "iface", "dev", "device", "iif", "oif", NULL};
	if (rule && got == YYSYMBOL_IDENT && one_of(text, directions))
		return xasprintf("a rule has no '%s': its role gives the direction. 'allow APP server;' "
				 "lets others reach this host's APP, 'allow APP client;' lets this host "
				 "reach theirs", text);
	if (rule && ((got == YYSYMBOL_IDENT && one_of(text, ifaces)) || got == YYSYMBOL_INTERFACE))
		return xasprintf("a rule names no interface itself: put the interface in a zone "
				 "('zone lan { interface eth0; }') and write 'from lan' (or 'to lan')");
	bool rate = false; /* right after 'limit' */
	for (int i = 0; i < n; i++)
		rate |= expected[i] == YYSYMBOL_RATE;
	if (rate && got == YYSYMBOL_ADDR)
		return xasprintf("a rate is a count per second, minute, hour or day: e.g. 'limit %s/minute'",
				 text);
	bool name_expected = false;
	for (int i = 0; i < n; i++)
		name_expected |= expected[i] == YYSYMBOL_IDENT;
	if (got == YYSYMBOL_ANY && name_expected)
		return xasprintf("'any' is a keyword (every app, in a gateway rule): it cannot name "
				 "an app, a define or a zone");
	if (!strcmp(yysymbol_name(got), "':'") && (!strcmp(before, "tcp") || !strcmp(before, "udp")))
		return xasprintf("a port is written %s/PORT, with '/': e.g. 'allow %s/8080 server;'",
				 before, before);
	if (got == YYSYMBOL_IDENT && text[0]) {
		const char *best = NULL;
		size_t best_d = 3;
		for (int i = 0; i < n; i++) {
			const char *kw = yysymbol_name(expected[i]);
			if (expected[i] < YYSYMBOL_ALLOW || expected[i] > YYSYMBOL_GROUP ||
			    !(kw[0] >= 'a' && kw[0] <= 'z'))
				continue; /* keywords only */
			size_t d = util_edit_distance(text, kw);
			size_t limit = strlen(kw) <= 3 ? 1 : 2;
			if (d <= limit && d < best_d) {
				best_d = d;
				best = kw;
			}
		}
		if (best)
			return xasprintf("unexpected name '%s'; did you mean '%s'?", text, best);
	}
	return NULL;
}

static int yyreport_syntax_error(const yypcontext_t *pctx, yyscan_t scanner, struct parse_ctx *ctx)
{
	(void)scanner;
	ctx->syntax_errors++;
	yysymbol_kind_t got = yypcontext_token(pctx);
	/* The scanner already described an invalid character; one message is enough. */
	if (got == YYSYMBOL_JUNK)
		return 0;
	yysymbol_kind_t expected[YYNTOKENS];
	int n = yypcontext_expected_tokens(pctx, expected, YYNTOKENS);
	char *before;
	char *text = token_text(yypcontext_location(pctx), &before);
	char *hint = syntax_hint(got, text, before, expected, n > 0 ? n : 0);
	free(text);
	free(before);
	if (hint) {
		diag_error(ctx->diags, yypcontext_location(pctx), "%s", hint);
		free(hint);
		return 0;
	}
	struct strbuf sb = {0};
	sb_printf(&sb, "unexpected %s", token_desc(got));
	bool semicolon = false;
	for (int i = 0; i < n; i++)
		semicolon |= strcmp(yysymbol_name(expected[i]), "';'") == 0;
	if (semicolon && n > 5)
		sb_puts(&sb, "; missing ';' at the end of the statement?");
	if (n > 0 && n <= 5) {
		for (int i = 0; i < n; i++)
			sb_printf(&sb, "%s%s", i == 0 ? ", expecting " : i == n - 1 ? " or " : ", ",
				  token_desc(expected[i]));
	}
	diag_error(ctx->diags, yypcontext_location(pctx), "%s", sb.s);
	sb_free(&sb);
	return 0;
}

bool parse_source(const struct source *src, struct ast_policy *out, struct diags *diags)
{
	struct scan_extra extra = {.src = src, .diags = diags, .line = 1, .col = 1};
	struct parse_ctx ctx = {.out = out, .diags = diags};
	size_t errors_before = diags->errors;
	enum diag_id stage = diags->stage;
	diags->stage = DIAG_E_SYNTAX;
	yyscan_t scanner;
	if (yylex_init_extra(&extra, &scanner) != 0) {
		diag_error(diags, NULL, "cannot start the scanner");
		diags->stage = stage;
		return false;
	}
	YY_BUFFER_STATE buf = yy_scan_bytes(src->text, (int)src->len, scanner);
	yyparse(scanner, &ctx);
	yy_delete_buffer(buf, scanner);
	yylex_destroy(scanner);
	diags->stage = stage;
	return diags->errors == errors_before;
}
