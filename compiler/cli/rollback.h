/* The rollback of `apply --confirm` that outlives the apply process: the previous table saved
 * on disk as the nf_tables batch that re-creates it, and a detached watchdog process that
 * sends that batch when the window closes unless someone confirmed (docs/apply.md).
 *
 * Files, in the state directory (--state-dir, $PINHOLE_STATE_DIR, /var/lib/pinhole), named by
 * KEY: "host", or "netns-NAME" for --netns NAME:
 *   KEY.rollback  the batch (a header line, then the netlink messages); it is the token: who
 *                 renames it away first (confirm, the apply process, the watchdog) decides
 *   KEY.pending   who waits: the watchdog's and the apply process's pids, the deadline, the
 *                 policy (text, for `pinhole confirm` and for people)
 *   KEY.log       what the watchdog did, one line per event */
#ifndef PINHOLE_ROLLBACK_H
#define PINHOLE_ROLLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "nft_nlsock.h"

#define ROLLBACK_STATE_DIR "/var/lib/pinhole"
/* The watchdog acts this long after the window: the apply process, when alive, answers first. */
#define ROLLBACK_GRACE_MS 1000

struct rollback {
	char *dir, *key;
	char *batch_path, *info_path, *log_path;
	pid_t watchdog;
};

/* Paths for netns (NULL: this namespace) under state_dir (NULL: $PINHOLE_STATE_DIR or the
 * default). Returns 0, or -1 with *why (caller frees) for a bad namespace name. */
int rollback_init(struct rollback *rb, const char *state_dir, const char *netns, char **why);
void rollback_free(struct rollback *rb);

/* What KEY.pending says. */
struct rollback_info {
	long watchdog, apply;
	long long deadline; /* seconds since the epoch */
	char policy[1024];
};
/* Parses KEY.pending's text; false if it is not one. */
bool rollback_info_parse(const char *text, size_t len, struct rollback_info *out);
/* The messages of a KEY.rollback file's contents, after checking its header and length;
 * false if the file is not one. */
bool rollback_batch_parse(const char *data, size_t len, const char **msgs, size_t *msgs_len);

/* Saves `batch` (nl_batch_bytes of the batch that restores the previous table) and starts the
 * watchdog, which restores it `seconds` (+ grace) from now. Fails (-1, *why) when another
 * confirmation for this namespace is still pending, or the files cannot be written. */
int rollback_arm(struct rollback *rb, const char *batch, size_t len, unsigned seconds,
		 const char *policy, char **why);

/* Takes the saved batch and sends it through s: 0 restored, 1 nothing pending any more
 * (confirmed or restored by someone else), -1 with *why when sending failed. The watchdog is
 * told to stop. */
int rollback_restore(struct rollback *rb, struct nl_sock *s, char **why);
/* Confirms: drops the saved batch and stops the watchdog (and, from another shell, wakes the
 * waiting apply process with SIGUSR1). 0 confirmed, 1 nothing pending, -1 with *why. */
int rollback_confirm(struct rollback *rb, bool signal_apply, struct rollback_info *info, char **why);

#endif
