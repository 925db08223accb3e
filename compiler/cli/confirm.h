/* Waiting for the user to confirm a new ruleset (apply --confirm). */
#ifndef PINHOLE_CONFIRM_H
#define PINHOLE_CONFIRM_H

#include <stdio.h>

enum confirm_result {
	CONFIRM_YES,     /* "yes" on input, or SIGUSR1 */
	CONFIRM_TIMEOUT, /* nobody confirmed in time */
	CONFIRM_REFUSED, /* "no" on input, SIGINT or SIGTERM */
};

#include <signal.h>

/* Signal state while a confirmation is pending. */
struct confirm {
	int sfd;
	sigset_t old_mask;
	struct sigaction old_hup, old_pipe;
};

/* Takes over SIGUSR1, SIGINT and SIGTERM (blocked, read through a signalfd) and ignores SIGHUP
 * and SIGPIPE. Call it before changing the ruleset: a signal that arrives between the change
 * and the wait then counts as an answer instead of killing the process before it can roll
 * back. Returns 0, or -1 with errno. */
int confirm_begin(struct confirm *c);
/* Waits up to `seconds`. in_fd is read line by line for "yes"/"no" (-1: signals only); talk
 * (may be NULL) gets a hint when a line is neither. */
enum confirm_result confirm_wait(struct confirm *c, int in_fd, unsigned seconds, FILE *talk);
/* Gives the signals back (discarding any that are still pending). */
void confirm_end(struct confirm *c);

#endif
