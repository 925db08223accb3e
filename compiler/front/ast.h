/* The syntax tree the parser builds: statements with locations, nothing resolved yet. */
#ifndef PINHOLE_AST_H
#define PINHOLE_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "ir.h"

enum role { ROLE_NONE, ROLE_CLIENT, ROLE_SERVER, ROLE_ANY };

/* An identifier or literal with the place it was written. */
struct ast_word {
	struct loc loc;
	char *text;
};
typedef VEC(struct ast_word) ast_words;

/* Something a rule allows: an app name, or a port literal such as tcp/8080. */
struct ast_service {
	struct loc loc;
	char *name;       /* app name or the literal as written */
	bool is_port;
	bool is_any;       /* `any`: every protocol, every port */
	uint8_t proto;    /* IR_TCP / IR_UDP for port literals */
	struct ir_portrange ports;
};

/* What a rule's address list leaves out: `ADDRS except ADDRS`, `any except ADDRS`. */
struct ast_except {
	bool any;                  /* the list is `any`: every address of both families */
	struct loc any_loc, ex_loc;/* `any`, `except` */
	ast_words ex;              /* empty = no exception */
};

/* An address list as the grammar reads it (handed to ast_rule_set_peer). */
struct ast_plist {
	ast_words w;
	bool any;
	struct loc any_loc, ex_loc;
	ast_words ex;
};

struct ast_ports {
	struct loc loc;
	VEC(struct ir_portrange) r;
	bool same;        /* "dport same": destination port equals source port */
};

struct ast_flow {
	struct loc loc;
	char *name;
	enum role from, to;
	bool both_ways;   /* "<->": either end may initiate */
	uint8_t protos;   /* bit 0 tcp, bit 1 udp, bit 2 icmp */
	struct ast_ports sport, dport;
	ast_words icmp_types;
	struct ast_word helper;     /* conntrack helper to attach to this flow */
	struct ast_word related;    /* flow exists only as a child of this helper */
	struct ast_word negotiated; /* text may be "" when no channel name was given */
	/* `on FLOW, ...`: the app's control flows whose peers the negotiated channel is scoped
	 * to; `timeout D`: how long a peer stays eligible after its last control packet. */
	struct loc on_loc;
	ast_words on;
	struct loc timeout_loc;
	uint32_t timeout;           /* seconds; 0 = not given (the default applies) */
	/* `program N`: the ONC RPC program a `negotiated rpc` channel is (mountd 100005): only a
	 * portmapper reply for that program opens it. 0 = not given (any allowed program). */
	struct loc program_loc;
	uint32_t program;
	bool is_negotiated, broadcast, fragments;
	bool unaddressed;           /* hosts without an address yet take part (DHCP) */
	/* `relayed`: a client-to-client channel whose offers a server relays on the control
	 * flows (IRC DCC, MSN invitations): they name the third party. */
	bool relayed;
	struct loc relayed_loc;
	bool reject;                /* a probe the receiving side answers with a reset/unreachable */
	char *source;               /* citation */
};
/* ESP (IP protocol 50, IPsec) is not a keyword: a flow names it as `esp`, a word the grammar
 * hands to ast_flow_proto_word(), so no app name is taken from users. */
/* PROTO_BIT_ALL is the flow of the `any` service: every IP protocol, no port (it is alone in
 * its flow; nothing in the library's grammar writes it). */
enum { PROTO_BIT_TCP = 1, PROTO_BIT_UDP = 2, PROTO_BIT_ICMP = 4, PROTO_BIT_ESP = 8, PROTO_BIT_ALL = 16 };

/* Scoped negotiated channels: how long a peer stays eligible by default, and the bounds. */
enum { SCOPE_TIMEOUT_DEFAULT = 600, SCOPE_TIMEOUT_MIN = 1, SCOPE_TIMEOUT_MAX = 86400 };

struct ast_app {
	struct loc loc;
	char *name;
	char *description;
	ast_words aliases;
	char *source;
	VEC(struct ast_flow) flows;
	ast_words uses;                  /* `uses APP, ...;` as written (bundle.c resolves them) */
};

/* `limit RATE [burst N] [per source]` (the builders check the numbers); `limit none` only
 * where a limit is the default (`log unmatched`). */
struct ast_limit {
	struct loc loc;            /* the clause, from 'limit' on */
	bool given, none;
	bool burst_given;
	struct ir_limit v;         /* burst defaults to AST_LIMIT_BURST */
};
enum { AST_LIMIT_BURST = 5, AST_LIMIT_MAX = 10000 };

/* What follows `log`: `level NAME`, `group N`, `limit ...`. */
struct ast_logopt {
	struct ir_logopt opt;
	struct loc level_loc, group_loc;
	struct ast_limit limit;
};

/* ACT_MASQUERADE, ACT_SNAT and ACT_FORWARD translate addresses (docs/language.md, "Address
 * translation"); a port forward also opens its forwarded connections. */
enum rule_action { ACT_ALLOW, ACT_DENY, ACT_REJECT, ACT_MASQUERADE, ACT_SNAT, ACT_FORWARD };

/* The parts of a rule statement most statements leave out, out of line: a policy of tens of
 * thousands of plain `allow P server from A;` lines holds about 200 bytes of syntax tree a
 * statement, not 800 (ast_rule_more: these, or all zero when none was written). */
struct ast_rule_more {
	struct ast_limit limit;    /* the rule's own rate limit */
	struct ast_except from_ex, to_ex, on_ex;
	/* `on ADDRS`: this host's own addresses its side of the app uses (a server's
	 * listening address, a client's source) */
	struct loc on_loc;
	ast_words on;
	struct ast_logopt logopt;  /* options of its log */
	/* address translation: `as ADDR` (snat), `port N` (forward), `hairpin ZONE` (forward),
	 * `family NAME, ...` (masquerade); text NULL = not given */
	struct ast_word as, port;
	ast_words hairpin, family;
	struct loc hairpin_loc, family_loc;
};

struct ast_rule {
	enum rule_action action;
	VEC(struct ast_service) services;
	enum role role;            /* ROLE_NONE: gateway rule between zones */
	struct loc role_loc;
	bool has_from, has_to;
	bool has_on;               /* `on ADDRS` (in `more`) */
	bool log;                  /* its options in `more` */
	struct loc from_loc, to_loc;
	ast_words from, to;        /* addresses, define names or zone names */
	struct ast_rule_more *more;/* NULL: none of those parts written */
};
/* A rule's rarer parts to read (all zero when none was written), and to write (allocated on
 * the first write). */
const struct ast_rule_more *ast_rule_more(const struct ast_rule *r);
struct ast_rule_more *ast_rule_more_w(struct ast_rule *r);

enum stmt_kind {
	STMT_RULE,
	STMT_DEFINE,
	STMT_ZONE,
	STMT_STATELESS,       /* established only; */
	STMT_LOG_UNMATCHED,   /* log unmatched; */
	STMT_NEGOTIATED_STATIC, /* negotiated static; */
	STMT_INCLUDE,
	STMT_APP,
	STMT_MANAGEMENT,      /* management from ADDRS; */
};

struct ast_stmt {
	enum stmt_kind kind;
	struct loc loc;                 /* the whole statement */
	union {
		struct ast_rule rule;
		struct {
			struct ast_word name;
			ast_words addrs;
		} define;
		struct {
			struct ast_word name;
			ast_words ifaces;
			ast_words addrs;
			/* `default deny;` or `default reject;`: what the packets arriving by
			 * the zone's interfaces meet when no rule decided them */
			bool has_default;
			enum rule_action default_action;
			struct loc default_loc;
			bool fwd_owned;   /* `forward owned;` */
			struct loc owned_loc;
		} zone;
		struct ast_word include;  /* path as written */
		struct ast_logopt log_unmatched; /* STMT_LOG_UNMATCHED: its options */
		struct ast_app *app;
		ast_words mgmt;           /* STMT_MANAGEMENT: its addresses and define names */
	} u;
};

struct ast_policy {
	VEC(struct ast_stmt *) stmts;
};

void ast_words_free(ast_words *w);
void ast_word_free(struct ast_word *w);
void ast_ports_free(struct ast_ports *p);
void ast_plist_free(struct ast_plist *p);
void ast_flow_free(struct ast_flow *f);
void ast_app_free(struct ast_app *a);
void ast_stmt_free(struct ast_stmt *s);
void ast_policy_free(struct ast_policy *p);

const char *ast_role_name(enum role r);

/* Parse one source into `out` (statements appended). Errors go to `diags`.
 * Returns false if any error was reported. */
bool parse_source(const struct source *src, struct ast_policy *out, struct diags *diags);

#endif
