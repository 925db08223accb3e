/* The one nft lowering: the IR as nft rules made of steps, decided once for both ways of
 * loading them. The text printer (nft_text.c) writes each step in nft syntax; the netlink
 * builder (nft_netlink.c) turns each into the expressions nft 1.0.6 sends for that text. So
 * the two cannot drift apart: every choice (names of sets and helper objects, the implicit
 * `meta nfproto` / `meta l4proto` dependencies, merging a port pair into one compare, one
 * value or a set, the reject type) is made here. */
#ifndef PINHOLE_NFT_LOWER_H
#define PINHOLE_NFT_LOWER_H

#include "ir.h"

/* Peers a dynamic set holds at most; further new peers are not recorded until some expire. */
#define NFT_DYNSET_SIZE 65535
/* pinholed: the NFLOG group the copies of control packets go to, and how much of each
 * packet is copied (all of it: a TCP segment cut short would be a hole in the stream). */
#define NFT_PINHOLED_GROUP 7100
#define NFT_PINHOLED_SNAPLEN 65535
/* nft's comment limit is 128 bytes; provenance is cut to fit. */
#define NFT_COMMENT_MAX 127
#define NFT_IFNAME_LEN 16 /* IFNAMSIZ, with the NUL */

/* The table's declarations, in the order both forms create them, each with the first rule
 * that uses it (netlink errors about it are reported at that rule's policy line). */
struct nft_helper_obj {
	char *name;                 /* "ph_ftp_tcp" */
	const char *type;           /* kernel helper type */
	uint8_t proto;              /* IR_TCP or IR_UDP */
	const struct ir_rule *user;
};
struct nft_named_set {              /* a define's or zone's addresses of one family */
	char *name;                 /* "office_v4" */
	const char *ir_name;
	uint8_t family;
	const struct ir_addrset *addrs;
	const struct ir_rule *user;
};
struct nft_dyn_set {                /* a set the packet path fills (IR dynsets) */
	char *name;                 /* the IR's name, moved aside if a named set has it */
	const struct ir_dynset *ds;
	const struct ir_rule *user;
};
/* A per-source rate limit's meter: a dynamic set of source addresses, each with a token
 * bucket of its own; a quiet source is forgotten once its budget would have refilled. */
struct nft_meter {
	char *name;                 /* "ph_limit_1_v4" */
	uint8_t family;
	uint32_t timeout;           /* seconds */
	const struct ir_rule *user; /* the one rule that fills it */
};
/* A helper channel: one control flow of one statement and app that pinholed reads with one
 * parser. Its copy rules log with prefix "ph<id>:" to NFT_PINHOLED_GROUP; pinholed learns
 * from the plan which channel a prefix names, so it knows which flow a packet is of, and so
 * which end opened it (NFS's statd-portmap runs from the server to the client). */
struct nft_channel {
	unsigned id;                /* 1, 2, ... */
	char *prefix;               /* "ph1:" */
	int stmt_no;
	const char *app;
	const char *parser;         /* "rpc" */
	const char *flow;           /* the control flow, "portmap" */
	const struct ir_rule *user; /* the first copy rule */
};
struct nft_lowered;
typedef VEC(struct nft_lowered) nft_rules;

/* A chain of its own for the rules of a run (nft_dispatch.c) that match one input and/or
 * output interface: the base chain jumps to it through a verdict map keyed on the
 * interfaces, so a packet walks only its interfaces' rules. */
struct nft_subchain {
	char *name;                 /* "forward_lan0_wan0" */
	enum ir_hook hook;          /* the base chain that jumps to it */
	nft_rules rules;            /* merged, their interface matches left to the map */
};

struct nft_plan {
	VEC(struct nft_helper_obj) helpers;
	VEC(struct nft_named_set) sets;
	VEC(struct nft_dyn_set) dynsets;
	VEC(struct nft_channel) channels;
	VEC(struct nft_meter) meters;
	bool chain[IR_HOOK_COUNT];  /* which base chains the table has */
	/* Filled by nft_plan_rules: each chain's rules as loaded, runs of rules that differ only
	 * in addresses or ports merged into one rule over a set (see nft_merge.c), and the
	 * named sets those need, in the order they are declared. */
	nft_rules rules[IR_HOOK_COUNT];
	VEC(const struct nft_setmatch *) merged_sets;
	/* the interface dispatch's chains, in the order both forms declare them (after the
	 * base chains) */
	VEC(struct nft_subchain) subchains;
	bool no_comments; /* nft_check: only whether each rule lowers, so no comments to word */
};

/* A base chain as both forms declare it: the filter chains drop by default, prerouting (helper
 * assignment) and the translation chains accept. */
struct nft_chain_spec {
	const char *name;           /* the chain's name in the table */
	const char *type;           /* "filter" or "nat" */
	const char *hook;           /* the netfilter hook, as nft names it */
	int hooknum;                /* NF_INET_* */
	const char *prio_name;      /* nft's name of the priority */
	int prio;
	bool drop;                  /* policy drop, else accept */
};
void nft_chain_spec(enum ir_hook h, struct nft_chain_spec *out);

/* Names and declarations; nft_plan_rules also lowers and merges every rule, and returns the
 * first rule nftables cannot express (with *why, caller frees), or NULL. */
void nft_plan_build(const struct ir_ruleset *rs, struct nft_plan *p);
const struct ir_rule *nft_plan_rules(const struct ir_ruleset *rs, struct nft_plan *p, char **why);
void nft_plan_free(struct nft_plan *p);
const char *nft_plan_dynset_name(const struct nft_plan *p, const char *ir_name);
/* The meter of a rule with a per-source limit, or NULL. */
const struct nft_meter *nft_plan_meter(const struct nft_plan *p, const struct ir_rule *r);
/* The channel of an IR_HELPER_COPY rule (its statement, app, parser and flow), or NULL. */
const struct nft_channel *nft_plan_channel(const struct nft_plan *p, const struct ir_rule *r);

/* A field a merged set is keyed on, and one element's value of it. */
enum nft_field { NF_SADDR, NF_DADDR, NF_SPORT, NF_DPORT };
union nft_value {
	struct ir_prefix prefix;    /* NF_SADDR, NF_DADDR */
	struct ir_portrange ports;  /* NF_SPORT, NF_DPORT */
};
#define NFT_CONCAT_MAX 3

struct nft_elem {                   /* (60 bytes: a merge holds one for each member) */
	union nft_value v[NFT_CONCAT_MAX];
	uint32_t member;            /* the rule it stands for: its set's members.v[member] */
};
/* A member of a merged rule: its IR rule and its provenance, the comment of its elements. */
struct nft_member {
	const struct ir_rule *rule;
	char *comment;
};

/* One rule's worth of several: a set keyed on up to NFT_CONCAT_MAX fields (a concatenation
 * when more than one), each element commented with the rule it came from. */
struct nft_setmatch {
	char *name;                 /* a named set of the table, or NULL: anonymous */
	size_t nfields;
	enum nft_field field[NFT_CONCAT_MAX];
	uint8_t family;             /* of address fields */
	uint8_t proto;              /* of port fields: IR_TCP or IR_UDP */
	bool interval;              /* some element is a prefix or a range */
	/* A concatenation whose address field f holds prefixes of one length only, and whose
	 * other fields hold single values, is looked up as `ip saddr & MASK . tcp dport` in a
	 * hash set of the masked addresses (masklen[f] = the length, 0 = no mask): the kernel's
	 * hash is O(1) where a set of intervals of concatenations (pipapo) walks bit groups. */
	uint8_t masklen[NFT_CONCAT_MAX];
	VEC(struct nft_elem) elems;
	struct { struct nft_member *v; uint32_t n, cap; } members; /* the comments owned here */
	const struct ir_rule *user; /* the first rule it stands for */
};

enum nft_step_kind {
	/* matches */
	NS_NFPROTO,    /* meta nfproto ipv4|ipv6 */
	NS_L4PROTO,    /* meta l4proto P */
	NS_IFNAME,     /* iifname / oifname: one name (trailing '*' = prefix) or a set */
	NS_ADDR,       /* ip|ip6 saddr|daddr: one prefix, an anonymous set, or @named */
	NS_SET_LOOKUP, /* ip|ip6 saddr|daddr @dynamic */
	NS_PINHOLE_LOOKUP, /* ip saddr . ip daddr . meta l4proto . tcp dport @ph_..: pinholed's */
	NS_FRAGMENT,   /* a non-first fragment */
	NS_PORTS,      /* tcp|udp sport|dport: one port or range, or a set */
	NS_PORT_PAIR,  /* one sport and one dport, compared as one 4-byte value */
	NS_SAME_PORT,  /* tcp|udp sport . dport { p . p, ... } */
	NS_TCP_FLAGS,  /* tcp flags & mask == cmp, or != 0 */
	NS_ICMP_TYPE,  /* icmp|icmpv6 type T */
	NS_CT_STATE,
	NS_CT_HELPER,  /* ct helper "type" */
	NS_FIB_LOCAL,  /* fib daddr type local */
	NS_CT_DNAT,    /* ct status dnat */
	NS_SET_MATCH,  /* ip saddr . tcp dport { ... }: several rules' fields looked up at once */
	NS_LIMIT,      /* limit rate R/U burst B packets, or per source:
			* update @meter { ip saddr limit rate R/U burst B packets } */
	/* statements */
	NS_LOG,        /* log prefix "..." */
	NS_NFLOG,      /* log prefix "ph1:" group G snaplen S: a copy for pinholed */
	NS_ACCEPT,
	NS_DROP,
	NS_REJECT,
	NS_HELPER_SET, /* ct helper set "object" */
	NS_SET_UPDATE, /* update @set { ip saddr } */
	NS_NAT,        /* dnat|snat ip|ip6 to ADDR[:PORT] */
	NS_MASQUERADE, /* masquerade */
};

enum nft_reject { NFT_REJECT_TCP_RESET, NFT_REJECT_ICMP_PORT, NFT_REJECT_ICMPX_PORT };

struct nft_step {
	enum nft_step_kind kind;
	/* NS_NFPROTO / NS_L4PROTO: a dependency nft adds by itself in front of a header match;
	 * the text leaves it out, the netlink form sends it. */
	bool implicit;
	bool src;               /* addresses, set lookups and updates, ports: which end */
	uint8_t family;         /* IR_V4 / IR_V6 where the step reads a network header */
	uint8_t proto;          /* transport protocol of port, flag and ICMP steps */
	union {                 /* (a plan holds several steps an IR rule: 24 bytes each) */
		uint8_t nfproto;                 /* NS_NFPROTO: IR_V4 / IR_V6 */
		uint8_t l4proto;                 /* NS_L4PROTO */
		const struct ir_ifset *ifs;      /* NS_IFNAME (src: input interface) */
		struct {
			const struct ir_addrset *addrs;
			const char *set;         /* named set, or NULL: the prefixes themselves */
		} addr;                          /* NS_ADDR */
		const char *set;                 /* NS_SET_LOOKUP, NS_SET_UPDATE */
		struct {
			const char *set;
			bool port_src;           /* the source port; else the destination port */
			bool peerless;           /* local . protocol . port: no peer field */
		} pinhole;                       /* NS_PINHOLE_LOOKUP (src: the peer is the source) */
		const struct ir_portset *ports;  /* NS_PORTS, NS_SAME_PORT */
		struct { uint16_t sport, dport; } pair;
		struct { uint8_t mask, cmp; bool any; } flags; /* any: (flags & mask) != 0 */
		uint8_t icmp_type;
		uint8_t ct_state;
		const char *ct_helper;
		struct {
			const char *log_prefix;  /* NS_LOG, NS_NFLOG (owned by the lowered rule
						  * or, for NS_NFLOG, by the plan's channel) */
			const struct ir_logopt *logopt; /* NS_LOG: level or group (NULL: the
							 * defaults) */
		};
		enum nft_reject reject;          /* NS_REJECT */
		const char *helper_obj;          /* NS_HELPER_SET */
		const struct nft_setmatch *setm; /* NS_SET_MATCH (owned by the lowered rule) */
		struct {
			const struct ir_limit *l;
			const char *meter;       /* per source: the meter's name */
		} limit;                         /* NS_LIMIT */
		struct {
			const struct ir_nat *to;
			bool dst;                /* dnat; else snat */
		} nat;                           /* NS_NAT */
	} u;
};

/* One element of an interface dispatch map: packets of these interfaces jump to `chain`. */
struct nft_jump {
	uint8_t family;             /* IR_V4 / IR_V6; 0 when the map is not keyed on it */
	const char *iif, *oif;      /* NULL when the map is not keyed on that end */
	const char *chain;          /* the subchain's name (owned by the plan) */
	char *comment;              /* the first of its rules' provenance, and how many more */
	const struct ir_rule *first;
	uint8_t l4proto;            /* IR_ICMP / IR_ICMPV6 when the map is keyed on it, else 0 */
};
/* `meta nfproto . iifname . oifname vmap { ipv4 . "lan0" . "wan0" : jump forward_lan0_wan0_v4 }` */
struct nft_dispatch {
	bool family;                /* keyed on the network protocol too (`meta nfproto`) */
	bool iif, oif;              /* the key: input interface, output interface or both */
	bool l4proto;               /* or the transport protocol alone (nft_dispatch_proto.c) */
	VEC(struct nft_jump) jumps;
};

/* A plan lowers every IR rule before merging (56 bytes each): its steps count in 32 bits
 * (VEC_PUSH and VEC_FREE take them as they take a VEC), and what only a merged rule has is in
 * its set. */
struct nft_lowered {
	const struct ir_rule *rule; /* the IR rule; for a merged rule, its first */
	const char *chain;          /* a subchain's name; NULL: the base chain of rule->hook */
	struct nft_dispatch *disp;  /* a dispatch rule (no steps): its map, owned here */
	struct { struct nft_step *v; uint32_t n, cap; } steps; /* matches in canonical order,
								  * then statements (an NS_LOG step's
								  * prefix is owned here) */
	char *comment;              /* the provenance, cut and quote-safe */
	struct nft_setmatch *setm;  /* a merged rule's set (and its members' provenance) */
};

/* The rules a merged rule stands for; 0 for any other rule. */
static inline size_t nft_lowered_members(const struct nft_lowered *l)
{
	return l->setm ? l->setm->members.n : 0;
}
/* The rule an element of m stands for, and its provenance (the element's comment). */
static inline const struct ir_rule *nft_elem_rule(const struct nft_setmatch *m, const struct nft_elem *e)
{
	return m->members.v[e->member].rule;
}
static inline const char *nft_elem_comment(const struct nft_setmatch *m, const struct nft_elem *e)
{
	return m->members.v[e->member].comment;
}

/* Lowers one rule. Returns false (with *why, caller frees) for IR nftables cannot express;
 * `out` is then still complete enough to free. */
bool nft_lower_rule(const struct nft_plan *p, const struct ir_rule *r, struct nft_lowered *out,
		    char **why);
void nft_lowered_free(struct nft_lowered *l);
/* A rule's provenance as its nft comment (cut to NFT_COMMENT_MAX, quote-safe); caller frees. */
char *nft_rule_comment(const struct ir_rule *r);

/* nft_merge.c: one chain's lowered rules, runs of them merged into set lookups. */
void nft_merge_chain(nft_rules *in, nft_rules *out);

/* nft_dispatch.c: runs of a filter chain's rules that each match one input and/or output
 * interface by name become one verdict-map rule jumping to a subchain per interface (or
 * pair); every chain is then merged (nft_merge_chain). `in` is emptied. */
void nft_dispatch_chain(struct nft_plan *p, enum ir_hook h, nft_rules *in, nft_rules *out);
void nft_subchains_free(struct nft_plan *p);
/* nft_sink.c: a filter chain's built-in loopback and ICMP rules moved down past the rules
 * they cannot change the verdict of, so bulk traffic meets its own rules first. */
void nft_sink_rare(nft_rules *chain);
/* Below this many rules, walking them costs no more than the jump. */
#define DISPATCH_MIN 4
/* For both dispatches: a map element's comment (its first rule's provenance, "+N" more), and
 * sb's name made unique among the plan's subchains ("_2", ...); both return new strings. */
char *nft_dispatch_comment(const struct nft_plan *p, const struct nft_lowered *first, size_t more);
struct strbuf;
char *nft_subchain_unique(const struct nft_plan *p, struct strbuf *sb);
/* nft_dispatch_proto.c: the end of the run of ICMP/ICMPv6 rules at in->v[i] (i: none), and
 * such a run as one `meta l4proto vmap` rule jumping to a subchain per protocol. */
size_t nft_proto_run_end(const nft_rules *in, size_t i);
struct nft_lowered nft_dispatch_proto_run(struct nft_plan *p, enum ir_hook h, struct nft_lowered *run,
					  size_t n);

/* The loaded rule that stands for IR rule r (a merged rule for any of its members), and the
 * dispatch rule that jumps to its chain (NULL: r is in its base chain). NULL if none. */
const struct nft_lowered *nft_plan_find(const struct nft_plan *p, const struct ir_rule *r,
					const struct nft_lowered **via);

/* The first rule nftables could not take, with *why (caller frees); NULL if none. */
const struct ir_rule *nft_check(const struct ir_ruleset *rs, char **why);

#endif
