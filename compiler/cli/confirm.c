/* The confirmation window of `apply --confirm`, like iptables-apply: the new ruleset stays only
 * if someone confirms through it in time. Confirmation is a line "yes" on standard input (a
 * terminal, a pipe or a FIFO) or SIGUSR1 (e.g. `kill -USR1 PID` from a new login, which also
 * proves new logins work). "no", SIGINT or SIGTERM roll back at once. A lost terminal (SIGHUP,
 * end of input) does not end the wait: the timer still rolls back. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "confirm.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t k = strspn(s, " \t");
	memmove(s, s + k, strlen(s + k) + 1);
}

static void signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
}

int confirm_begin(struct confirm *c)
{
	sigset_t set;
	signal_set(&set);
	if (sigprocmask(SIG_BLOCK, &set, &c->old_mask) < 0)
		return -1;
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGHUP, &ign, &c->old_hup);
	sigaction(SIGPIPE, &ign, &c->old_pipe);
	c->sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (c->sfd < 0) {
		int e = errno;
		confirm_end(c);
		errno = e;
		return -1;
	}
	return 0;
}

void confirm_end(struct confirm *c)
{
	if (c->sfd >= 0)
		close(c->sfd);
	c->sfd = -1;
	sigaction(SIGHUP, &c->old_hup, NULL);
	sigaction(SIGPIPE, &c->old_pipe, NULL);
	/* Signals that came after the answer must not kill us now: drain them while blocked. */
	sigset_t set;
	signal_set(&set);
	struct timespec zero = {0, 0};
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	sigprocmask(SIG_SETMASK, &c->old_mask, NULL);
}

enum confirm_result confirm_wait(struct confirm *c, int in_fd, unsigned seconds, FILE *talk)
{
	int sfd = c->sfd;
	enum confirm_result res = CONFIRM_TIMEOUT;
	long long deadline = now_ms() + (long long)seconds * 1000;
	char line[256];
	size_t used = 0;
	bool input = in_fd >= 0;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = input ? in_fd : -1, .events = POLLIN}};
		int r = poll(p, 2, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		if (r <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				res = si.ssi_signo == SIGUSR1 ? CONFIRM_YES : CONFIRM_REFUSED;
				break;
			}
		}
		if (!input || !(p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t got = read(in_fd, line + used, sizeof(line) - 1 - used);
		if (got <= 0) { /* end of input: only the signal or the timer can decide now */
			input = false;
			continue;
		}
		used += (size_t)got;
		line[used] = '\0';
		char *nl;
		while ((nl = strchr(line, '\n')) || used == sizeof(line) - 1) {
			char word[sizeof(line)];
			size_t n = nl ? (size_t)(nl - line) + 1 : used;
			memcpy(word, line, n);
			word[n] = '\0';
			memmove(line, line + n, used - n + 1);
			used -= n;
			trim(word);
			if (!strcasecmp(word, "yes"))
				return CONFIRM_YES;
			if (!strcasecmp(word, "no"))
				return CONFIRM_REFUSED;
			if (talk && *word)
				fprintf(talk, "pinhole: type 'yes' to keep the new ruleset, 'no' to roll back now\n");
		}
	}
	return res;
}
