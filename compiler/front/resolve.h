/* Name resolution and validation: the step between the syntax tree and the IR. */
#ifndef PINHOLE_RESOLVE_H
#define PINHOLE_RESOLVE_H

#include "addr.h"
#include "ast.h"
#include "icmp.h"
#include "load.h"

struct zone {
	const struct ast_stmt *stmt;
	const char *name;
	prefix_vec addrs;
	VEC(const char *) ifaces;
	/* `default deny|reject;`: ACT_DENY or ACT_REJECT, and where; ACT_ALLOW = none given */
	enum rule_action deflt;
	struct loc default_loc;
	/* `forward owned;`: forwarded packets in or out of the zone's interfaces are left to
	 * their owner (see expand_zone_owned) */
	bool owned;
	struct loc owned_loc;
};

struct define {
	const struct ast_stmt *stmt;
	const char *name;
	prefix_vec addrs;
	bool used;
};

/* A resolved from/to list. `given` false = unrestricted. */
struct peer {
	bool given;
	struct loc loc;
	prefix_vec addrs;        /* both families, normalized; empty with a zone = any address */
	const char *setname;     /* the define or zone name when the list is exactly one of them */
	const struct zone *zone; /* interface restriction */
};

typedef VEC(const char *) name_list;

/* One flow of an app as expansion needs it, lowered from the app definition: who opens it
 * towards whom, protocols, ports and options, and where it was written. Strings point into
 * the syntax tree, which outlives the resolved policy. */
struct rflow {
	const char *app;            /* the app that defines it (a bundle's flows keep theirs) */
	const char *name;
	const char *file;           /* where the flow is written */
	int line;
	enum role from, to;
	bool both_ways;             /* "<->": either end may initiate */
	uint8_t protos;             /* PROTO_BIT_* */
	struct ir_portset sport, dport;
	bool same_port;             /* "dport same": the destination port equals the source port */
	name_list icmp_types;
	const char *helper;         /* conntrack helper to attach, or NULL */
	const char *related;        /* the helper whose child this flow is, or NULL */
	bool is_negotiated;
	const char *negotiated;     /* the channel's name; "" or NULL when none was given */
	name_list on;               /* control flows a negotiated channel is scoped to */
	uint32_t timeout;           /* seconds; 0 = the default */
	uint32_t program;           /* ONC RPC program of a `negotiated rpc` channel; 0 = any */
	bool broadcast, fragments, reject;
	bool unaddressed;           /* a zone restriction also matches 0.0.0.0, 255.255.255.255, link-local */
	bool relayed;               /* offers relayed by the control flows' server name the peer */
};

/* An app as a rule uses it: every flow it expands to (its own, then its bundle's). */
struct rapp {
	const char *name;
	VEC(struct rflow) flows;
	const struct ast_app *src; /* the definition it was lowered from */
};

/* What an address translation statement (masquerade, snat, forward) says beyond from/to. */
struct rnat {
	struct ir_prefix addr;   /* snat: the new source (`as`); forward: the new destination */
	uint16_t port;           /* forward: the new destination port, 0 = the same */
	uint8_t families;        /* masquerade and snat: bit 0 IPv4, bit 1 IPv6 */
	const struct zone *hairpin; /* forward: the zone whose hosts use the forward too */
	uint8_t proto;           /* forward: IR_TCP or IR_UDP, and the ports of this host */
	struct ir_portrange ports;
};

/* What few rules say, out of line: rrule_more(). */
struct rrule_more {
	struct ir_limit limit;    /* the rule's own rate limit; rate 0 = none */
	struct ir_limit log_limit;/* a limit of its log alone; rate 0 = none */
	struct peer local;       /* `on`: this host's own addresses (host rules) */
	struct rnat nat;         /* ACT_MASQUERADE, ACT_SNAT, ACT_FORWARD */
	struct loc any_loc;      /* the service `any` */
};

/* A resolved policy holds one of these per rule statement, all at once: kept small. */
struct rrule {
	struct loc loc;          /* the statement */
	char *text;              /* normalized: "allow nfs server from 10.0.0.0/8" */
	enum rule_action action;
	enum role role;          /* ROLE_NONE: gateway */
	bool log;
	bool any;                /* the service is `any` (a gateway rule of every protocol) */
	struct ir_logopt logopt;  /* how its log is written */
	VEC(const struct rapp *) apps;
	struct peer client_side; /* `from` */
	struct peer server_side; /* `to` */
	struct rrule_more *more; /* NULL: no limit, `on`, translation or `any` */
};
/* A rule's rarer parts to read (all zero when it has none), and to write (allocated on the
 * first write). */
const struct rrule_more *rrule_more(const struct rrule *rr);
struct rrule_more *rrule_more_w(struct rrule *rr);
/* Frees a rule's rarer parts (resolved_free, and expansion as it consumes the rules). */
void rrule_more_free(struct rrule *rr);

/* A port literal (tcp/8080) as a rule uses it: an app of one client-to-server flow, in one
 * allocation (a policy may write tens of thousands). Its definition as an app (what explain
 * shows, as for any app) is written only when asked for: resolve_lit_def. */
struct lit_app {
	struct rapp app;         /* app.flows.v is &flow; the names are `name` */
	struct rflow flow;       /* flow.dport.v is &ports */
	struct ir_portrange ports;
	uint8_t proto;           /* IR_TCP or IR_UDP */
	struct loc loc;          /* the literal */
	char *name;              /* "tcp/8080", the app's name and its flow's */
	struct ast_app *def;     /* NULL until resolve_lit_def */
};

/* A management network (`management from ADDRS;`): `pinhole check` warns (PH115) unless
 * every address of it can open ssh to this host. Nothing is compiled from it. */
struct mgmt_net {
	struct ir_prefix p;
	struct loc loc;          /* the address or define name in the statement */
};

struct resolved {
	VEC(struct rrule) rules;
	VEC(struct zone) zones;
	VEC(struct define) defines;
	VEC(struct rapp *) apps; /* every app the rules use, once each, owned here */
	VEC(struct ast_app *) port_apps; /* `any` written as an app, owned here */
	VEC(struct lit_app *) lit_apps;  /* port literals, owned here */
	bool stateless;
	bool said_stateless;     /* the policy says `established only;` (stateless may be overridden
				  * by the caller: resolve's own checks go by this) */
	bool log_unmatched;
	struct ir_logopt log_unmatched_opt;
	struct ir_limit log_unmatched_limit; /* rate 0: every packet (`limit none`) */
	/* `negotiated static;`: every negotiated channel is its (scoped) static fallback, none
	 * a pinholed channel */
	bool negotiated_static;
	/* expand_policy gives up each rule once it is expanded (compile_opts.ir_only): its apps
	 * list, addresses and port literals are freed, and the rules array's pages that hold
	 * only given-up rules are released (expand_consume.c) */
	bool consume;
	size_t consumed;         /* rules [0, consumed) given up: nothing of them to free */
	uintptr_t released;      /* the rules array's pages below this address are released */
	VEC(struct mgmt_net) mgmt; /* of every `management` statement, in order */
};

/* `log unmatched;` without a limit logs at most this (docs/language.md, "Logging"). */
enum { LOG_UNMATCHED_RATE = 5, LOG_UNMATCHED_UNIT = IR_PER_MINUTE, LOG_UNMATCHED_BURST = 10 };

bool resolve_validate_app(const struct ast_app *a, struct diags *d);
/* Resolves every statement of p. Each rule statement is freed (and dropped from p) as soon as
 * it is resolved: the resolved rule owns or copies all it needs, and nothing after resolve
 * reads a rule's syntax tree, so a policy of 10,000 rules never holds both forms of them. The
 * other statements (defines, zones, apps) stay: the resolved policy points into them. */
bool resolve_policy(struct ast_policy *p, const struct library *lib, struct resolved *out,
		    struct diags *d);
/* The same, calling `rule` with each rule's index in out->rules as soon as it is resolved
 * (compile expands it there and then: expand_rule). */
struct resolve_hook {
	void (*rule)(void *ctx, struct resolved *r, size_t i);
	void *ctx;
};
bool resolve_policy_each(struct ast_policy *p, const struct library *lib, struct resolved *out,
			 struct diags *d, const struct resolve_hook *h);
/* Normalized text of a rule statement, e.g. "allow nfs server from 10.0.0.0/8". */
char *resolve_stmt_text(const struct ast_stmt *s);
void resolved_free(struct resolved *r);
/* The definition a port literal stands for (owned by l, written on the first call): the app
 * `tcp/8080` of one flow `tcp/8080: client -> server tcp dport 8080`. */
const struct ast_app *resolve_lit_def(struct lit_app *l);

#endif
