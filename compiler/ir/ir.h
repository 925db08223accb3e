/*
 * The IR: a flat, ordered list of normalized rules, each a conjunction of typed matches plus
 * an action and its provenance. It is the single source of truth: backends only render it,
 * and explain/check only evaluate it (ir_eval). A match that is absent means "any".
 */
#ifndef PINHOLE_IR_H
#define PINHOLE_IR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Where a rule sits. PREROUTING carries only conntrack-helper assignments for inbound flows
 * (the kernel wants helpers set before input); it never decides a verdict. DSTNAT and SRCNAT
 * hold address translation only (the first packet of a connection, before routing and on its
 * way out); they never decide a verdict either. */
enum ir_hook { IR_PREROUTING, IR_INPUT, IR_FORWARD, IR_OUTPUT, IR_DSTNAT, IR_SRCNAT,
	       IR_HOOK_COUNT };

enum ir_family { IR_ANY = 0, IR_V4 = 4, IR_V6 = 6 };

/* IANA protocol numbers; 0 = any. IR_ICMP is ICMP on IPv4 and IR_ICMPV6 on IPv6: a rule with
 * an ICMP protocol always has a concrete family. */
enum { IR_ICMP = 1, IR_TCP = 6, IR_UDP = 17, IR_ESP = 50, IR_ICMPV6 = 58 };

enum ir_action {
	IR_ACCEPT,
	IR_DROP,
	IR_REJECT,     /* TCP reset for TCP, ICMP port unreachable otherwise */
	IR_SET_HELPER, /* attach conntrack helper `helper` and continue */
	IR_LOG,        /* log and continue (e.g. before the default drop) */
	IR_SET_ADD,    /* record an address of the packet in a dynamic set (or refresh its
			* timer) and continue: the peers of a control flow */
	IR_HELPER_COPY,/* hand a copy of the packet to pinholed and continue: a control
			* connection whose messages pinholed reads (`helper` names the parser);
			* the channel is the rule's statement and app (origin) */
	IR_DNAT,       /* IR_DSTNAT: rewrite the destination to `nat.addr` (and `nat.port`) */
	IR_SNAT,       /* IR_SRCNAT: rewrite the source to `nat.addr` */
	IR_MASQUERADE, /* IR_SRCNAT: rewrite the source to the output interface's address */
};


enum {
	CT_NEW = 1 << 0,
	CT_ESTABLISHED = 1 << 1,
	CT_RELATED = 1 << 2,
	CT_INVALID = 1 << 3,
};

enum {
	TCPF_FIN = 0x01, TCPF_SYN = 0x02, TCPF_RST = 0x04,
	TCPF_PSH = 0x08, TCPF_ACK = 0x10, TCPF_URG = 0x20,
};

struct ir_prefix {
	uint8_t family;  /* IR_V4 or IR_V6 */
	uint8_t len;     /* prefix length */
	uint8_t addr[16];/* network order; IPv4 uses the first 4 bytes; host bits are zero */
};

/* Addresses of one family (rules are split per family). n == 0 means any. `name` is the
 * define or zone the list came from, so backends can render a named set. */
struct ir_addrset {
	char *name;
	size_t n;
	struct ir_prefix *v;
};

struct ir_portrange { uint16_t lo, hi; };
struct ir_portset {
	size_t n; /* 0 = any */
	struct ir_portrange *v;
};

struct ir_ifset {
	size_t n; /* 0 = any */
	char **v;
};

/* Provenance: the policy statement and the app flow a rule was made from. Its strings are
 * the ruleset's (ir_intern: each file, app and flow name is kept once, however many rules name
 * it), or, for a rule made outside a ruleset, anything that outlives the rule (a literal). */
struct ir_origin {
	const char *file;      /* policy file, NULL for built-in rules */
	int line, col;
	const char *stmt;/* the statement, normalized, e.g. "allow nfs server from 10.0.0.0/8";
			  * the ruleset's (texts), as one statement makes many rules */
	const char *app;       /* app name, NULL for built-ins */
	const char *flow;      /* flow name inside the app */
	const char *flow_file; /* where the flow is defined */
	int flow_line;
	const char *builtin;   /* e.g. "loopback", "established", "icmpv6-nd"; NULL otherwise */
	bool reply;      /* stateless mode: the mirrored return rule of the flow */
	int stmt_no;     /* 1-based index of the rule statement in the policy; 0 for built-ins */
};

/* A dynamic set and which address of the packet goes with it (the peer's). */
struct ir_setref {
	char *name;      /* NULL = none */
	bool src;        /* the packet's source address; else its destination address */
	/* A set pinholed fills (ir_dynset.parser): the key is the peer's address . the other
	 * address . the transport protocol . the listener's port, the source port when
	 * `port_src` (a mirrored return rule), else the destination port. */
	bool keyed;
	bool port_src;
	/* keyed without the peer: local address . protocol . port (a relayed channel's sender,
	 * whose peer is not known); `src` still says where the peer would be. */
	bool peerless;
};

struct ir_tcpflags {
	uint8_t mask;    /* TCP_FLAGS: (flags & mask) == cmp; TCP_FLAGS_ANY: flags & mask != 0 */
	uint8_t cmp;
};

/*
 * One condition on a packet. A rule holds at most one match of each kind, sorted by kind:
 * the enum's order is the canonical order every renderer writes them in. Each consumer
 * (copy, free, equality, eval, lint, every backend) switches on the kind with no `default`,
 * and the build uses -Wswitch-enum, so a new kind names every place that must learn it.
 */
enum ir_match_kind {
	IR_M_IIF,           /* .ifs: the input interface is one of these (trailing '*' = prefix) */
	IR_M_OIF,           /* .ifs: the output interface */
	IR_M_SADDR,         /* .addrs: source address in one of these prefixes */
	IR_M_DADDR,         /* .addrs: destination address */
	IR_M_DADDR_LOCAL,   /* (none): addressed to this host (nft fib daddr type local) */
	IR_M_IN_SET,        /* .set: that address of the packet is in a dynamic set (not expired) */
	IR_M_FRAGMENT,      /* (none): a non-first fragment (no transport header) */
	IR_M_L4PROTO,       /* .proto: IR_TCP, IR_UDP, IR_ESP, IR_ICMP or IR_ICMPV6 */
	IR_M_SPORT,         /* .ports: source port in these ranges */
	IR_M_DPORT,         /* .ports: destination port */
	IR_M_SAME_PORT,     /* .ports: source port in these ranges and destination port equal to it */
	IR_M_TCP_FLAGS,     /* .flags: (flags & mask) == cmp */
	IR_M_TCP_FLAGS_ANY, /* .flags.mask: at least one of these flags set */
	IR_M_ICMP_TYPE,     /* .icmp_type, per the rule's family */
	IR_M_CT_STATE,      /* .ct_state: a CT_* mask; the connection is in one of these states */
	IR_M_CT_HELPER,     /* .helper: the connection was expected by this helper type (related) */
	IR_M_CT_DNAT,       /* (none): the connection's destination was translated (ct status dnat) */
	IR_M_LIMIT,         /* .limit: the packet is within the rule's rate budget. Last, so that
			     * only packets every other match took spend the budget */
};
enum { IR_MATCH_KINDS = IR_M_LIMIT + 1 };

/* A rate budget (a token bucket): `rate` packets per `unit`, `burst` at once after a quiet
 * spell. Each rule has a budget of its own (the expander makes one rule per flow and family);
 * `per_source` gives every source address a budget of its own. */
enum ir_rate_unit { IR_PER_SECOND, IR_PER_MINUTE, IR_PER_HOUR, IR_PER_DAY };
struct ir_limit {
	uint32_t rate;   /* > 0 */
	uint8_t unit;    /* enum ir_rate_unit */
	uint32_t burst;  /* > 0 */
	bool per_source;
};
/* Seconds in a unit, and its name ("minute"). */
uint32_t ir_rate_unit_seconds(uint8_t unit);
const char *ir_rate_unit_name(uint8_t unit);
/* "10/minute burst 5" (", per source" when it is) */
void ir_limit_format(const struct ir_limit *l, char *buf, size_t len);
/* How long a quiet source's budget takes to refill: a per-source entry may be forgotten then. */
uint32_t ir_limit_refill_seconds(const struct ir_limit *l);

/* How a rule's log is written: to the kernel log at a syslog level (the backend's default,
 * warn, unless `level_set`), or to an NFLOG group (`nflog`). All zero = the defaults. */
struct ir_logopt {
	bool level_set;
	uint8_t level;   /* 0 emerg .. 7 debug */
	bool nflog;
	uint16_t group;
};
/* "warn", or NULL for a level outside 0..7; and the other way, -1 when unknown. */
const char *ir_log_level_name(uint8_t level);
int ir_log_level_lookup(const char *name);

struct ir_match {
	enum ir_match_kind kind;
	union {
		struct ir_ifset ifs;
		struct ir_addrset addrs;
		struct ir_setref set;
		uint8_t proto;
		struct ir_portset ports;
		struct ir_tcpflags flags;
		uint8_t icmp_type;
		uint8_t ct_state;
		char *helper;
		struct ir_limit limit;
	} u;
};

/* The new address (and port, 0 = unchanged) of a DNAT or SNAT rule. */
struct ir_nat {
	struct ir_prefix addr; /* a host: len 32 or 128 */
	uint16_t port;
};

/* (The fields in an order that leaves little padding: a ruleset holds tens of thousands.) */
struct ir_rule {
	enum ir_hook hook;
	enum ir_action action;
	VEC(struct ir_match) match; /* a conjunction; empty = every packet of the hook */
	struct ir_setref add_set;/* IR_SET_ADD: record that address in the dynamic set */
	char *helper;            /* IR_SET_HELPER: the kernel helper type ("ftp"), for the rule's
				  * protocol; each backend declares and names its own objects */
	struct ir_nat nat;       /* IR_DNAT, IR_SNAT */
	struct ir_logopt logopt; /* how, for `log` and IR_LOG (ir_rule_init: defaults) */
	uint8_t family;          /* enum ir_family; IR_ANY = one rule for both */
	bool log;                /* also log the packet (each backend words its prefix) */
	/* IR_ACCEPT of a zone's `forward owned;`: pinhole lets the packet pass and the tables of
	 * the bridge's owner (Docker, libvirt) decide: nft accept (not final across tables),
	 * iptables RETURN (ACCEPT would be final within the filter table) */
	bool owned;
	/* Its matches and their arrays and strings are in its ruleset's parts (ir_rule_pack):
	 * nothing of it is freed alone, and a change gives it parts of its own first. */
	bool packed;
	struct ir_origin origin;
};

/* A set the packet path fills (IR_SET_ADD) and scoped rules look up: the peers that used an
 * app's control flows lately. Each address expires `timeout` seconds after its last refresh. */
struct ir_dynset {
	char *name;      /* e.g. "ph_realplayer_servers_v4"; one family per set */
	uint8_t family;
	uint32_t timeout;/* seconds */
	char *app;       /* what fills it, for explain and comments: app, */
	char *flows;     /* its control flows ("pna, rtsp, rtsp-http"), */
	char *peer;      /* and the role the recorded peers play ("server", "client") */
	bool forward;    /* filled and read by forwarded traffic (a gateway rule) */
	int stmt_no;     /* the statement (origin.stmt_no) whose control flows fill it */
	/* A helper channel's set (NULL for a set of peers): pinholed's parser ("rpc") reads the
	 * control flows and adds exact pinholes, keyed as ir_setref.keyed says, for the data
	 * flow `flow` of `app`. */
	char *parser;
	char *flow;
	/* A relayed channel's sender side: keyed local address . protocol . port, any peer. */
	bool peerless;
};

/* Strings interned once each (open addressing over their hashes), written one after the
 * other into blocks the pool owns: a policy of tens of thousands of port literals names as
 * many apps, and one allocation each would cost more than the names. */
struct ir_strpool {
	char **v;
	uint32_t *hash;
	size_t n, cap;
	VEC(char *) blocks;
	char *at;        /* room left in the last block: [at, at + left) */
	size_t left;
};

/* Blocks that packed rules' parts are written into one after the other, freed as a whole
 * with the ruleset: a ruleset of tens of thousands of rules would otherwise hold three small
 * allocations a rule (matches, addresses, ports), each with malloc's overhead and rounding,
 * scattered between the front's freed blocks so that their pages cannot go back. */
struct ir_arena {
	VEC(char *) blocks;
	char *at;        /* room left in the last block: [at, at + left) */
	size_t left;
};

struct ir_ruleset {
	VEC(struct ir_rule) rules;  /* evaluation order within each hook */
	struct ir_arena parts;      /* what packed rules point to (ir_rule_pack) */
	struct ir_strpool strs;     /* what the rules' origins point to (ir_intern) */
	VEC(const char *) texts;    /* each statement's text, by stmt_no - 1 (in strs: ir_keep) */
	VEC(struct ir_dynset) dynsets;
	bool stateless;
};

/* A concrete packet as this firewall sees it. */
struct ir_packet {
	enum ir_hook hook;
	uint8_t family;
	uint8_t l4proto;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint8_t tcp_flags;
	int icmp_type;
	uint8_t ct_state;        /* one CT_* bit */
	const char *ct_helper;   /* helper type of the master connection, for related packets */
	const char *iif, *oif;   /* NULL = unknown / not loopback */
	bool fragment;           /* a non-first fragment */
	bool dnat;               /* the connection's destination was translated (ct status dnat) */
	bool dst_local;          /* addressed to this host (DSTNAT rules ask; set by the evaluator) */
};

/* The evaluator models NAT as the kernel runs it: a new packet coming in (in or fwd) meets the
 * DSTNAT rules first; a DNAT there rewrites its destination, and the rewritten packet is
 * forwarded (the new destination is another host) and filtered as such. A new packet the
 * filter accepts on its way out (fwd or out) meets the SRCNAT rules. */
struct ir_verdict {
	enum ir_action action;     /* IR_ACCEPT, IR_DROP or IR_REJECT */
	const struct ir_rule *rule;/* deciding rule; NULL when the default policy decided */
	const struct ir_rule *dnat;/* the DNAT rule that rewrote the packet first, or NULL */
	const struct ir_rule *snat;/* the SNAT or masquerade rule its way out meets, or NULL */
	struct ir_packet after;    /* the packet as the filter saw it (after a DNAT) */
};
/* A translation rule's new address (and port) written over addr (and port). */
void ir_nat_rewrite(uint8_t *addr, uint16_t *port, const struct ir_nat *n);

/* What the packet path has recorded in dynamic sets so far, for evaluating packets in order
 * (`explain POLICY -`, the differential test): addresses with their expiry, least recently
 * refreshed first. No wall clock: `now_ms` is whatever the caller says (0 throughout = no
 * element ever expires). */
struct ir_state_entry {
	const char *set;         /* a dynset name of the ruleset evaluated */
	uint8_t family;
	uint8_t addr[16];
	uint64_t expires_ms;
};
struct ir_state {
	VEC(struct ir_state_entry) v;
	uint64_t now_ms;
	bool assume_member;      /* what-if: every address is in every set (explain's hint) */
	/* what-if: the rules whose budget is spent (their IR_M_LIMIT matches); every other
	 * budget is taken to have room, as without a state */
	const struct ir_match *const *spent;
	size_t nspent;
};

/* ir_eval decides with empty sets; ir_eval_state reads and updates `st` (NULL = empty sets,
 * nothing recorded): IR_SET_ADD rules met before the verdict record the packet's peer. */
struct ir_verdict ir_eval(const struct ir_ruleset *rs, const struct ir_packet *pkt);
struct ir_verdict ir_eval_state(const struct ir_ruleset *rs, const struct ir_packet *pkt,
				struct ir_state *st);
bool ir_rule_matches(const struct ir_rule *r, const struct ir_packet *pkt);
bool ir_rule_matches_state(const struct ir_rule *r, const struct ir_packet *pkt,
			   const struct ir_state *st);
/* Why a rule does not take a packet (explain --why-not): not its hook, not its family, or
 * `*failed`, the first of its matches (in kind order) the packet fails; IR_MISS_NONE when
 * the rule matches. */
enum ir_miss { IR_MISS_NONE, IR_MISS_HOOK, IR_MISS_FAMILY, IR_MISS_MATCH };
enum ir_miss ir_rule_first_mismatch(const struct ir_rule *r, const struct ir_packet *pkt,
				    const struct ir_state *st, const struct ir_match **failed);
bool ir_state_member(const struct ir_state *st, const char *set, uint8_t family,
		     const uint8_t *addr);
void ir_state_free(struct ir_state *st);
const struct ir_dynset *ir_dynset_find(const struct ir_ruleset *rs, const char *name);

/* The ruleset's one copy of s (NULL for NULL): for the strings of rules' origins. */
const char *ir_intern(struct ir_ruleset *rs, const char *s);
/* A copy of s in the ruleset's strings, not looked up (a statement's text: one of each). */
const char *ir_keep(struct ir_ruleset *rs, const char *s);
/* Expansion is done interning: the look-up table goes, the strings stay. (Interning again
 * starts a new table, which does not find the strings from before.) */
void ir_intern_done(struct ir_ruleset *rs);

/* Construction and teardown. */
void ir_rule_init(struct ir_rule *r);
/* Moves r's matches (exactly as many as it has), their arrays and strings, and its helper
 * and set names into rs->parts: r owns nothing afterwards (r->packed). For a rule that goes
 * into rs as it is; ir_rule_free then frees nothing of it, and ir_match_put or ir_match_del
 * first copy its parts back out. */
void ir_rule_pack(struct ir_ruleset *rs, struct ir_rule *r);
/* A packed rule made one that owns its parts again (a copy of them); others stay as they are. */
void ir_rule_unpack(struct ir_rule *r);
void ir_arena_free(struct ir_arena *a);
struct ir_rule ir_rule_copy(const struct ir_rule *r);
void ir_rule_free(struct ir_rule *r);
/* Same conditions, action, statements and log: the rule is the same (provenance aside). */
bool ir_rule_equal(const struct ir_rule *a, const struct ir_rule *b);
/* A hash that equal rules (ir_rule_equal) share. */
uint64_t ir_rule_hash(const struct ir_rule *r);
/* The same packets seen coming back: interfaces, addresses and ports swap ends (a same-port
 * match keeps its pair), and a dynamic-set match looks at the other end. The hook is the
 * caller's to choose. */
void ir_rule_mirror(struct ir_rule *r);

/* Matches of a rule, by kind. */
const struct ir_match *ir_match_get(const struct ir_rule *r, enum ir_match_kind k);
/* A fresh, zeroed match of kind k in its place (an existing one of that kind is freed). */
struct ir_match *ir_match_put(struct ir_rule *r, enum ir_match_kind k);
void ir_match_del(struct ir_rule *r, enum ir_match_kind k);
void ir_match_copy(struct ir_match *dst, const struct ir_match *src);
void ir_match_free(struct ir_match *m);
bool ir_match_equal(const struct ir_match *a, const struct ir_match *b);
/* Shorthands for the matches most code asks about: 0 / NULL when the rule has none. */
uint8_t ir_rule_proto(const struct ir_rule *r);
uint8_t ir_rule_ct_state(const struct ir_rule *r);
const struct ir_portset *ir_rule_ports(const struct ir_rule *r, enum ir_match_kind k);
const struct ir_addrset *ir_rule_addrs(const struct ir_rule *r, enum ir_match_kind k);
const struct ir_setref *ir_rule_in_set(const struct ir_rule *r);
int ir_rule_icmp_type(const struct ir_rule *r); /* -1 = none */
/* Setters for the simple kinds. */
void ir_rule_set_proto(struct ir_rule *r, uint8_t proto);
void ir_rule_set_ct_state(struct ir_rule *r, uint8_t ct_state);
void ir_rule_set_icmp_type(struct ir_rule *r, uint8_t type);
void ir_rule_set_tcp_flags(struct ir_rule *r, enum ir_match_kind k, uint8_t mask, uint8_t cmp);
void ir_rule_set_ports(struct ir_rule *r, enum ir_match_kind k, const struct ir_portrange *v,
		       size_t n);
void ir_rule_set_ifname(struct ir_rule *r, enum ir_match_kind k, const char *name);

void ir_ifset_copy(struct ir_ifset *dst, const struct ir_ifset *src);
/* Equal lists, in order; addresses compare by prefix only (the set name is how a backend
 * may render them). */
bool ir_ifset_equal(const struct ir_ifset *a, const struct ir_ifset *b);
bool ir_addrset_equal(const struct ir_addrset *a, const struct ir_addrset *b);
bool ir_portset_equal(const struct ir_portset *a, const struct ir_portset *b);
void ir_ifset_free(struct ir_ifset *s);
void ir_portset_copy(struct ir_portset *dst, const struct ir_portset *src);
void ir_origin_copy(struct ir_origin *dst, const struct ir_origin *src);
void ir_origin_free(struct ir_origin *o);
void ir_addrset_copy(struct ir_addrset *dst, const struct ir_addrset *src);
void ir_addrset_free(struct ir_addrset *a);
void ir_ruleset_free(struct ir_ruleset *rs);
void ir_dynset_free(struct ir_dynset *s);

/* Formatting helpers shared by backends, explain and tests. */
const char *ir_hook_name(enum ir_hook h);
const char *ir_action_name(enum ir_action a);
const char *ir_proto_name(uint8_t l4proto); /* nft's names: tcp, udp, icmp, ipv6-icmp */
void ir_prefix_format(const struct ir_prefix *p, char *buf, size_t len); /* "10.0.0.0/8" */
bool ir_prefix_contains(const struct ir_prefix *p, uint8_t family, const uint8_t *addr);
/* "policy.pin:3 allow nfs server (nfs flow data, nfs.pin:12)" */
char *ir_origin_describe(const struct ir_origin *o);
/* "10m", "1h30m", "45s" */
void ir_duration_format(uint32_t seconds, char *buf, size_t len);

#endif
