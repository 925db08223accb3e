/* nftables netlink backend: the IR as libnftnl objects, and the single nf_tables batch that
 * replaces pinhole's table with them. Library style (like libnftnl's examples): the caller owns
 * every buffer, failures return -1 with errno set, nothing is printed. */
#ifndef PINHOLE_NFT_NETLINK_H
#define PINHOLE_NFT_NETLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "ir.h"

struct nftnl_batch;

enum nl_kind { NL_TABLE, NL_OBJ, NL_SET, NL_CHAIN, NL_RULE };

/* One object of a table. A set carries its elements. */
struct nl_obj {
	enum nl_kind kind;
	void *o;                    /* struct nftnl_table, nftnl_obj, nftnl_set, nftnl_chain or nftnl_rule */
	const struct ir_rule *rule; /* the IR rule behind it: a rule's own, an anonymous set's rule, the
				     * first user of a named set or helper; NULL for table and chains
				     * and for objects read from the kernel */
};

/* A table's objects in the order they are created: table, helper objects, named sets, chains,
 * then every rule preceded by its anonymous sets. No NL_TABLE object means "no table". */
struct nl_ruleset {
	VEC(struct nl_obj) objs;
	uint32_t family;            /* NFPROTO_INET */
	const struct ir_ruleset *ir;/* what nl_from_ir built it from; NULL when read from the kernel */
	char table[64];
	/* Set by nl_from_ir on EINVAL: the rule nftables cannot express, and why. */
	const struct ir_rule *bad_rule;
	char why[128];
};

/* Builds the objects for the IR: the same table, helpers, sets, chains and rules (comments as
 * rule userdata) that the nft text backend writes, each rule's expressions in the order nft
 * 1.0.6 emits for that text, so both ways of loading give the same kernel ruleset.
 * Returns 0, or -1 with errno (ENOMEM; EINVAL for IR nftables cannot express, with
 * out->bad_rule and out->why saying which and why). */
int nl_from_ir(const struct ir_ruleset *rs, struct nl_ruleset *out);
void nl_ruleset_init(struct nl_ruleset *nl, uint32_t family, const char *table);
void nl_ruleset_free(struct nl_ruleset *nl);

/* Which object each batch message was built from: message k (sequence number first_seq + k,
 * counting BATCH_BEGIN as 0) came from objs.v[obj.v[k]], or from none (-1: batch control and
 * the table replacement preamble). */
struct nl_msgmap {
	uint32_t first_seq;
	VEC(int) obj;
};
void nl_msgmap_free(struct nl_msgmap *m);
/* The object index behind sequence number seq, or -1. */
int nl_msgmap_lookup(const struct nl_msgmap *m, uint32_t seq);

/* Appends to b one transaction that replaces table `rs->table` with rs: create it if absent,
 * delete it, create it again with every object (or leave it deleted when rs has no NL_TABLE).
 * With commit false the batch has no BATCH_END, so the kernel checks every message and the
 * result, then aborts (how `nft -c` validates). Sequence numbers start at seq. */
int nl_batch_replace(struct nftnl_batch *b, const struct nl_ruleset *rs, uint32_t seq, bool commit,
		     struct nl_msgmap *map);

/* Turns objects read from the kernel into objects that re-create them: drops handles, use
 * counts and counters, gives every set a transaction id and points the rules' set references
 * at it. Returns 0 or -1 with errno. */
int nl_prepare_recreate(struct nl_ruleset *rs);

#endif
