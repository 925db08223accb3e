/* Waiting for the user to confirm a new ruleset (apply --confirm). */
#ifndef PINHOLE_CONFIRM_H
#define PINHOLE_CONFIRM_H

#include <stdio.h>

enum confirm_result {
	CONFIRM_YES,     /* "yes" on input, or SIGUSR1 */
	CONFIRM_TIMEOUT, /* nobody confirmed in time */
	CONFIRM_REFUSED, /* "no" on input, SIGINT or SIGTERM */
};

/* Waits up to `seconds`. in_fd is read line by line for "yes"/"no" (-1: signals only); talk
 * (may be NULL) gets a hint when a line is neither. */
enum confirm_result confirm_wait(int in_fd, unsigned seconds, FILE *talk);

#endif
