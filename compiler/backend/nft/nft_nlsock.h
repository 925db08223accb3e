/* Talking to nf_tables over netlink: send a batch and collect the kernel's complaints, read a
 * table back. Library style: -1 with errno on failure, nothing printed. */
#ifndef PINHOLE_NFT_NLSOCK_H
#define PINHOLE_NFT_NLSOCK_H

#include "nft_netlink.h"

struct mnl_socket;

struct nl_sock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq; /* next free sequence number */
};

/* One message the kernel refused: its sequence number, the errno and the kernel's extended
 * ack message, if it gave one. */
struct nl_error {
	uint32_t seq;
	int err;
	char *msg;
};
typedef VEC(struct nl_error) nl_errors;
void nl_errors_free(nl_errors *e);

int nl_sock_open(struct nl_sock *s);
void nl_sock_close(struct nl_sock *s);

/* Sends the whole batch in one sendmsg (the kernel handles a batch within that call) and
 * collects every error it answered. Returns 0 when the kernel reported none, 1 when it did
 * (errs filled; the transaction was aborted), -1 with errno when the batch could not be sent
 * or the answers could not be read. */
int nl_send_batch(struct nl_sock *s, struct nftnl_batch *b, nl_errors *errs);

/* The same for a batch saved as bytes (nl_batch_bytes): the rollback a watchdog restores. */
int nl_send_raw(struct nl_sock *s, const void *buf, size_t len, nl_errors *errs);
/* Appends the batch's messages to out, as nl_send_batch would send them. 0 or -1 (ENOMEM). */
int nl_batch_bytes(struct nftnl_batch *b, struct strbuf *out);

/* Reads table `table` of `family` back: table, objects, chains, sets with their elements and
 * rules, as one consistent snapshot (retried while the ruleset generation changes). A missing
 * table gives an empty ruleset (no NL_TABLE). Returns 0 or -1 with errno. */
int nl_read_table(struct nl_sock *s, uint32_t family, const char *table, struct nl_ruleset *out);

/* A batch with room for large rulesets (libnftnl pages), or NULL with errno. */
struct nftnl_batch *nl_batch_alloc(void);

#endif
