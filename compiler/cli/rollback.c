/* apply --confirm's rollback on disk and its watchdog (rollback.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load.h"
#include "rollback.h"

#define BATCH_MAGIC "pinhole-rollback 1 "
#define INFO_MAGIC "pinhole-pending 1\n"
#define MAX_BATCH_FILE (1024u << 20)

int rollback_init(struct rollback *rb, const char *state_dir, const char *netns, char **why)
{
	memset(rb, 0, sizeof(*rb));
	if (!state_dir || !*state_dir)
		state_dir = getenv("PINHOLE_STATE_DIR");
	if (!state_dir || !*state_dir)
		state_dir = ROLLBACK_STATE_DIR;
	if (netns && (!*netns || strchr(netns, '/') || !strcmp(netns, ".") || !strcmp(netns, "..") ||
		      strlen(netns) > 200)) {
		*why = xasprintf("'%s' is not a network namespace name", netns);
		return -1;
	}
	rb->dir = xstrdup(state_dir);
	rb->key = netns ? xasprintf("netns-%s", netns) : xstrdup("host");
	rb->batch_path = xasprintf("%s/%s.rollback", rb->dir, rb->key);
	rb->info_path = xasprintf("%s/%s.pending", rb->dir, rb->key);
	rb->log_path = xasprintf("%s/%s.log", rb->dir, rb->key);
	return 0;
}

void rollback_free(struct rollback *rb)
{
	free(rb->dir);
	free(rb->key);
	free(rb->batch_path);
	free(rb->info_path);
	free(rb->log_path);
	memset(rb, 0, sizeof(*rb));
}

/* ---- the two files ---- */

bool rollback_info_parse(const char *text, size_t len, struct rollback_info *out)
{
	memset(out, 0, sizeof(*out));
	size_t ml = strlen(INFO_MAGIC);
	if (len < ml || memcmp(text, INFO_MAGIC, ml) != 0)
		return false;
	const char *p = text + ml, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		const char *sp = memchr(p, ' ', (size_t)(stop - p));
		if (sp) {
			size_t klen = (size_t)(sp - p), vlen = (size_t)(stop - sp - 1);
			char val[sizeof(out->policy)];
			if (vlen >= sizeof(val))
				vlen = sizeof(val) - 1;
			memcpy(val, sp + 1, vlen);
			val[vlen] = '\0';
			char *e;
			if (klen == 6 && !memcmp(p, "policy", 6)) {
				memcpy(out->policy, val, vlen + 1);
			} else if (klen == 8 && !memcmp(p, "watchdog", 8)) {
				out->watchdog = strtol(val, &e, 10);
				if (*e || out->watchdog < 0)
					out->watchdog = 0;
			} else if (klen == 5 && !memcmp(p, "apply", 5)) {
				out->apply = strtol(val, &e, 10);
				if (*e || out->apply < 0)
					out->apply = 0;
			} else if (klen == 8 && !memcmp(p, "deadline", 8)) {
				out->deadline = strtoll(val, &e, 10);
				if (*e)
					out->deadline = 0;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return out->watchdog > 0;
}

bool rollback_batch_parse(const char *data, size_t len, const char **msgs, size_t *msgs_len)
{
	size_t ml = strlen(BATCH_MAGIC);
	if (len < ml || memcmp(data, BATCH_MAGIC, ml) != 0)
		return false;
	const char *nl = memchr(data + ml, '\n', len - ml);
	if (!nl || nl == data + ml || nl - (data + ml) > 20)
		return false;
	size_t n = 0;
	for (const char *p = data + ml; p < nl; p++) {
		if (*p < '0' || *p > '9' || n > (SIZE_MAX - 9) / 10)
			return false;
		n = n * 10 + (size_t)(*p - '0');
	}
	size_t head = (size_t)(nl + 1 - data);
	if (n != len - head || n == 0)
		return false;
	*msgs = nl + 1;
	*msgs_len = n;
	return true;
}

static int write_atomic(const char *path, const char *a, size_t alen, const char *b, size_t blen)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int ok = fd >= 0;
	const char *parts[2] = {a, b};
	size_t lens[2] = {alen, blen};
	for (int k = 0; ok && k < 2; k++) {
		for (size_t off = 0; ok && off < lens[k];) {
			ssize_t w = write(fd, parts[k] + off, lens[k] - off);
			if (w < 0 && errno == EINTR)
				continue;
			ok = w > 0;
			off += ok ? (size_t)w : 0;
		}
	}
	int e = errno;
	if (fd >= 0 && (fsync(fd) < 0 || close(fd) < 0))
		ok = 0, e = errno;
	if (ok && rename(tmp, path) < 0)
		ok = 0, e = errno;
	if (!ok)
		unlink(tmp);
	free(tmp);
	errno = e;
	return ok ? 0 : -1;
}

static char *read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	struct stat st;
	char *why = NULL, *text = NULL;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		text = load_read_bounded(fd, max, len, &why);
	free(why);
	close(fd);
	return text;
}

static bool read_info(const struct rollback *rb, struct rollback_info *info)
{
	size_t len;
	char *text = read_file(rb->info_path, 64 << 10, &len);
	bool ok = text && rollback_info_parse(text, len, info);
	free(text);
	if (!ok)
		memset(info, 0, sizeof(*info));
	return ok;
}

/* Only a pinhole process is signalled: a pid from a file may have been reused since. */
static bool is_pinhole(long pid)
{
	if (pid <= 0 || pid == (long)getpid())
		return false;
	char path[64], comm[64] = "";
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(comm, sizeof(comm), f) && !strncmp(comm, "pinhole", 7);
	fclose(f);
	return ok;
}

/* Renames the batch away: whoever succeeds owns the decision. The new name, or NULL when no
 * batch is pending. */
static char *claim(const struct rollback *rb)
{
	char *mine = xasprintf("%s.claimed.%d", rb->batch_path, (int)getpid());
	if (rename(rb->batch_path, mine) == 0)
		return mine;
	free(mine);
	return NULL;
}

/* ---- the watchdog ---- */

static void wlog(const struct rollback *rb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(const struct rollback *rb, const char *fmt, ...)
{
	char when[64];
	time_t t = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "%s pinhole watchdog[%d] %s: %s\n", when, (int)getpid(), rb->key, msg);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void __attribute__((noreturn)) watchdog_main(struct rollback *rb, long long deadline)
{
	int null = open("/dev/null", O_RDWR);
	int log = open(rb->log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(log >= 0 ? log : null, STDOUT_FILENO);
		dup2(log >= 0 ? log : null, STDERR_FILENO);
	}
	/* Nothing of the caller's: not its terminal, not the pipes a caller waits on. */
	close_range(3, ~0u, 0);
	if (chdir("/") < 0)
		_exit(1);
	struct sigaction ign = {.sa_handler = SIG_IGN};
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, 0);
	int signo = 0;
	wlog(rb, "waiting %lld ms for a confirmation", deadline - now_ms());
	while (sfd >= 0) {
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd p = {.fd = sfd, .events = POLLIN};
		int r = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (r < 0 && errno != EINTR)
			break;
		struct signalfd_siginfo si;
		if (r > 0 && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			signo = (int)si.ssi_signo;
			break;
		}
	}
	char *why = NULL;
	if (signo == SIGUSR1) {
		int r = rollback_confirm(rb, false, NULL, &why);
		wlog(rb, "%s", r == 0 ? "confirmed (SIGUSR1): the new ruleset stays"
			       : "stopped: confirmed or restored by someone else");
		_exit(0);
	}
	struct nl_sock s;
	if (nl_sock_open(&s) < 0) {
		wlog(rb, "ROLLBACK FAILED: cannot open nf_tables: %s; the saved table stays in %s",
		     strerror(errno), rb->batch_path);
		_exit(1);
	}
	int r = rollback_restore(rb, &s, &why);
	if (r == 0)
		wlog(rb, "not confirmed%s: restored the previous ruleset",
		     signo ? " (told to roll back by a signal)" : " in time");
	else if (r == 1)
		wlog(rb, "stopped: confirmed or restored by someone else");
	else
		wlog(rb, "ROLLBACK FAILED: %s", why);
	_exit(r < 0 ? 1 : 0);
}

/* Double fork: the watchdog is in a session of its own, no child of the caller, so neither the
 * caller's death nor a signal to its process group or terminal reaches it. */
static pid_t spawn_watchdog(struct rollback *rb, long long deadline)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (child == 0) {
		close(pfd[0]);
		setsid();
		pid_t w = fork();
		if (w == 0) {
			pid_t me = getpid();
			if (write(pfd[1], &me, sizeof(me)) != (ssize_t)sizeof(me))
				_exit(1);
			close(pfd[1]);
			watchdog_main(rb, deadline);
		}
		_exit(w < 0 ? 1 : 0);
	}
	close(pfd[1]);
	pid_t w = -1;
	ssize_t got;
	while ((got = read(pfd[0], &w, sizeof(w))) < 0 && errno == EINTR)
		;
	close(pfd[0]);
	int st;
	while (waitpid(child, &st, 0) < 0 && errno == EINTR)
		;
	if (got != (ssize_t)sizeof(w)) {
		errno = ECHILD;
		return -1;
	}
	return w;
}

int rollback_arm(struct rollback *rb, const char *batch, size_t len, unsigned seconds,
		 const char *policy, char **why)
{
	if (mkdir(rb->dir, 0700) < 0 && errno != EEXIST) {
		*why = xasprintf("cannot create the state directory '%s': %s", rb->dir, strerror(errno));
		return -1;
	}
	struct rollback_info old;
	if (read_info(rb, &old) && access(rb->batch_path, F_OK) == 0 && is_pinhole(old.watchdog)) {
		*why = xasprintf("another 'apply --confirm' (%s) is still waiting for its confirmation "
				 "(watchdog pid %ld); run 'pinhole confirm%s%s' or wait for its rollback",
				 old.policy, old.watchdog, strcmp(rb->key, "host") ? " --netns " : "",
				 strcmp(rb->key, "host") ? rb->key + 6 : "");
		return -1;
	}
	unlink(rb->info_path); /* what is left of a watchdog that is gone (a reboot) */
	char head[64];
	int hl = snprintf(head, sizeof(head), BATCH_MAGIC "%zu\n", len);
	if (write_atomic(rb->batch_path, head, (size_t)hl, batch, len) < 0) {
		*why = xasprintf("cannot save the current ruleset as '%s': %s", rb->batch_path, strerror(errno));
		return -1;
	}
	long long deadline = now_ms() + (long long)seconds * 1000 + ROLLBACK_GRACE_MS;
	pid_t w = spawn_watchdog(rb, deadline);
	if (w < 0) {
		*why = xasprintf("cannot start the rollback watchdog: %s", strerror(errno));
		unlink(rb->batch_path);
		return -1;
	}
	rb->watchdog = w;
	struct strbuf info = {0};
	sb_puts(&info, INFO_MAGIC);
	sb_printf(&info, "watchdog %d\napply %d\ndeadline %lld\npolicy ", (int)w, (int)getpid(),
		  (long long)time(NULL) + seconds);
	for (const char *p = policy; *p; p++)
		sb_putc(&info, *p == '\n' ? '?' : *p);
	sb_putc(&info, '\n');
	int r = write_atomic(rb->info_path, info.s, info.len, "", 0);
	sb_free(&info);
	if (r < 0) { /* the watchdog works without it; only `pinhole confirm` cannot wake apply */
		*why = xasprintf("cannot write '%s': %s", rb->info_path, strerror(errno));
		rollback_confirm(rb, false, NULL, &(char *){NULL});
		return -1;
	}
	return 0;
}

/* Stops the watchdog named in `info`, unless that is this process. */
static void stop_watchdog(const struct rollback *rb, const struct rollback_info *info)
{
	long w = info->watchdog ? info->watchdog : rb->watchdog;
	if (is_pinhole(w))
		kill((pid_t)w, SIGUSR1);
}

int rollback_restore(struct rollback *rb, struct nl_sock *s, char **why)
{
	struct rollback_info info;
	read_info(rb, &info);
	char *mine = claim(rb);
	if (!mine)
		return 1;
	size_t len;
	const char *msgs;
	size_t mlen;
	char *data = read_file(mine, MAX_BATCH_FILE, &len);
	int rc = 0;
	if (!data || !rollback_batch_parse(data, len, &msgs, &mlen)) {
		*why = xasprintf("the saved ruleset '%s' is unreadable or damaged", mine);
		rc = -1;
	} else {
		nl_errors errs = {0};
		int r = nl_send_raw(s, msgs, mlen, &errs);
		if (r < 0)
			*why = xasprintf("cannot send the saved ruleset to the kernel: %s", strerror(errno)), rc = -1;
		else if (r > 0)
			*why = xasprintf("the kernel refused the saved ruleset: %s%s%s", strerror(errs.v[0].err),
					 errs.v[0].msg ? ": " : "", errs.v[0].msg ? errs.v[0].msg : ""),
			rc = -1;
		nl_errors_free(&errs);
	}
	free(data);
	if (rc == 0) {
		unlink(mine);
	} else { /* kept for whoever repairs it by hand */
		char *failed = xasprintf("%s.failed", rb->batch_path);
		rename(mine, failed);
		free(failed);
	}
	free(mine);
	unlink(rb->info_path);
	stop_watchdog(rb, &info);
	return rc;
}

int rollback_confirm(struct rollback *rb, bool signal_apply, struct rollback_info *out, char **why)
{
	(void)why;
	struct rollback_info info;
	read_info(rb, &info);
	if (out)
		*out = info;
	char *mine = claim(rb);
	if (!mine)
		return 1;
	unlink(mine);
	free(mine);
	unlink(rb->info_path);
	stop_watchdog(rb, &info);
	if (signal_apply && is_pinhole(info.apply))
		kill((pid_t)info.apply, SIGUSR1);
	return 0;
}
