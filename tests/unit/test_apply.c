/* apply's safety nets without a kernel: the lockout guard (SSH_CONNECTION parsed and judged by
 * the IR evaluator, and the message it prints) and the confirmation window (stdin lines,
 * signals, timeout). */
#include <signal.h>
#include <time.h>

#include "confirm.h"
#include "lockout.h"
#include "unit.h"

static void test_ssh_connection_parsing(void **state)
{
	(void)state;
	struct ssh_session s;
	assert_true(ssh_session_parse("10.0.0.7 40000 10.0.0.5 22", &s));
	assert_int_equal(s.family, IR_V4);
	assert_int_equal(s.cport, 40000);
	assert_int_equal(s.sport, 22);
	assert_memory_equal(s.client, ((uint8_t[]){10, 0, 0, 7}), 4);
	assert_memory_equal(s.server, ((uint8_t[]){10, 0, 0, 5}), 4);
	char buf[128];
	ssh_session_format(&s, buf, sizeof(buf));
	assert_string_equal(buf, "10.0.0.7 port 40000 -> 10.0.0.5 port 22");

	assert_true(ssh_session_parse("fd00:a::7 50000 fd00:a::5 2222", &s));
	assert_int_equal(s.family, IR_V6);
	assert_int_equal(s.client[15], 7);
	assert_int_equal(s.sport, 2222);
	/* an IPv4 client on a dual-stack socket arrives as IPv4 */
	assert_true(ssh_session_parse("::ffff:192.0.2.7 1234 ::ffff:192.0.2.5 22", &s));
	assert_int_equal(s.family, IR_V4);
	assert_memory_equal(s.client, ((uint8_t[]){192, 0, 2, 7}), 4);
	assert_true(ssh_session_parse("fe80::7%eth0 1234 fe80::5%eth0 22", &s));
	assert_int_equal(s.family, IR_V6);

	assert_false(ssh_session_parse("", &s));
	assert_false(ssh_session_parse("10.0.0.7 40000 10.0.0.5", &s));
	assert_false(ssh_session_parse("10.0.0.7 40000 10.0.0.5 22 extra", &s));
	assert_false(ssh_session_parse("10.0.0.7 0 10.0.0.5 22", &s));
	assert_false(ssh_session_parse("10.0.0.7 40000 10.0.0.5 65536", &s));
	assert_false(ssh_session_parse("10.0.0.7 4x 10.0.0.5 22", &s));
	assert_false(ssh_session_parse("10.0.0.7 40000 fd00::5 22", &s)); /* mixed families */
	assert_false(ssh_session_parse("host 40000 10.0.0.5 22", &s));
}

/* Returns how many probes were refused; first_line: the policy line that decided the first
 * probe (0: the default policy). */
static int judge_line(const char *policy, const char *ssh, const char *iface, struct lockout_probe *p,
		      int *first_line)
{
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	assert_true(ok);
	struct ssh_session s;
	assert_true(ssh_session_parse(ssh, &s));
	snprintf(s.iface, sizeof(s.iface), "%s", iface);
	int refused = lockout_check(&c->ir, &s, p);
	*first_line = p[0].v.rule ? p[0].v.rule->origin.line : 0;
	for (int i = 0; i < LOCKOUT_PROBES; i++) {
		p[i].v.rule = NULL; /* freed with the compilation */
		if (p[i].pkt.iif)
			p[i].pkt.iif = "(set)";
		if (p[i].pkt.oif)
			p[i].pkt.oif = "(set)";
	}
	unit_free(c);
	return refused;
}

static int judge(const char *policy, const char *ssh, const char *iface, struct lockout_probe *p)
{
	int line;
	return judge_line(policy, ssh, iface, p, &line);
}

static void test_lockout_verdicts(void **state)
{
	(void)state;
	struct lockout_probe p[LOCKOUT_PROBES];
	const char *me = "10.0.0.7 40000 10.0.0.5 22";
	assert_int_equal(judge("allow ssh server;\n", me, "eth0", p), 0);
	assert_int_equal(judge("allow ssh server from 10.0.0.0/8;\n", me, "eth0", p), 0);
	/* the session survives (established), but a new login would not */
	assert_int_equal(judge("allow ssh server from 192.0.2.0/24;\n", me, "eth0", p), 1);
	assert_int_equal(p[0].pkt.hook, IR_INPUT);
	assert_int_equal(p[0].pkt.ct_state, CT_NEW);
	assert_int_equal(p[0].pkt.tcp_flags, TCPF_SYN);
	int line;
	assert_int_equal(judge_line("allow ssh server from 192.0.2.0/24;\n", me, "eth0", p, &line), 1);
	assert_int_equal(p[0].v.action, IR_DROP);
	assert_int_equal(line, 0); /* the default drop decided */
	assert_int_equal(p[2].v.action, IR_ACCEPT);
	/* stateless: nothing of port 22 passes either way */
	assert_int_equal(judge("allow http client;\nestablished only;\n", me, "eth0", p), LOCKOUT_PROBES);
	assert_int_equal(judge("allow ssh server;\nestablished only;\n", me, "eth0", p), 0);
	/* an explicit deny of the session's client wins over the allow */
	assert_int_equal(judge_line("allow ssh server;\ndeny ssh server from 10.0.0.7;\n", me, "eth0", p, &line), 1);
	assert_int_equal(p[0].v.action, IR_DROP);
	assert_int_equal(line, 2);
	/* sshd on another port: the policy must allow that port */
	assert_int_equal(judge("allow ssh server;\n", "10.0.0.7 40000 10.0.0.5 2222", "eth0", p), 1);
	assert_int_equal(judge("allow ssh server;\nallow tcp/2222 server;\n", "10.0.0.7 40000 10.0.0.5 2222", "eth0", p), 0);
	/* IPv6 sessions are judged as IPv6 */
	assert_int_equal(judge("allow ssh server from fd00:a::/64;\n", "fd00:a::7 40000 fd00:a::5 22", "eth0", p), 0);
	assert_int_equal(judge("allow ssh server from 10.0.0.0/8;\n", "fd00:a::7 40000 fd00:a::5 22", "eth0", p), 1);
}

static void test_lockout_interfaces(void **state)
{
	(void)state;
	struct lockout_probe p[LOCKOUT_PROBES];
	const char *zone = "zone lan { interface eth1; address 10.0.0.0/8; }\nallow ssh server from lan;\n";
	const char *me = "10.0.0.7 40000 10.0.0.5 22";
	assert_int_equal(judge(zone, me, "eth1", p), 0);
	assert_non_null(p[0].pkt.iif); /* incoming probes carry the interface as iif ... */
	assert_null(p[0].pkt.oif);
	assert_non_null(p[1].pkt.oif); /* ... outgoing ones as oif */
	assert_null(p[1].pkt.iif);
	/* arriving on another interface, or on one we could not find: a new login is refused */
	assert_int_equal(judge(zone, me, "eth0", p), 1);
	assert_int_equal(judge(zone, me, "", p), 1);
	assert_null(p[0].pkt.iif);
	/* a client on this host itself comes in over loopback, which is always allowed */
	assert_int_equal(judge("allow http client;\n", "10.0.0.5 40000 10.0.0.5 22", "lo", p), 0);
}

/* The guard's message for `policy` and the session, as lockout_report prints it (caller frees);
 * the policy's temporary file name is written "POLICY". */
static char *guard_message(const char *policy, const char *iface, bool allow)
{
	struct compilation *c = unit_compile_ok(policy);
	struct ssh_session s;
	assert_true(ssh_session_parse("10.0.0.7 40000 10.0.0.5 22", &s));
	snprintf(s.iface, sizeof(s.iface), "%s", iface);
	struct lockout_probe p[LOCKOUT_PROBES];
	assert_true(lockout_check(&c->ir, &s, p) > 0);
	struct unit_capture out;
	lockout_report(unit_capture_open(&out), "apply", "fw.pin", &s, p, allow);
	char *text = unit_captured(&out);
	const char *path = NULL;
	for (size_t i = 0; i < c->srcs.n; i++)
		if (!strncmp(c->srcs.v[i]->name, "/tmp/pinhole-unit-", 18))
			path = c->srcs.v[i]->name;
	struct strbuf sb = {0};
	for (const char *t = text, *q; *t; t = q + strlen(path)) {
		if (!path || !(q = strstr(t, path))) {
			sb_puts(&sb, t);
			break;
		}
		sb_printf(&sb, "%.*sPOLICY", (int)(q - t), t);
	}
	free(text);
	unit_free(c);
	return sb_steal(&sb);
}

static void test_lockout_message(void **state)
{
	(void)state;
	char *m = guard_message("allow ssh server;\ndeny ssh server from 10.0.0.7;\n", "eth0", false);
	assert_string_equal(m,
		"pinhole apply: refusing: fw.pin would cut the SSH session this command runs in\n"
		"  (SSH_CONNECTION: 10.0.0.7 port 40000 -> 10.0.0.5 port 22, interface eth0):\n"
		"    a new login (SYN in)                 drop (POLICY:2 ssh flow session [ssh.pin:4])\n"
		"    a new login's answer (SYN+ACK out)   accept (built-in rule: established connections)\n"
		"    this session's packets in (ACK)      accept (built-in rule: established connections)\n"
		"    this session's packets out (ACK)     accept (built-in rule: established connections)\n"
		"  Allow ssh from where you are (e.g. 'allow ssh server from ADDRESS;'), or pass\n"
		"  --allow-lockout (best with --confirm SECONDS, which rolls back unless you confirm).\n");
	free(m);
	/* --allow-lockout: the same account, then apply goes ahead; no interface found, none shown */
	m = guard_message("allow http client;\nestablished only;\n", "", true);
	assert_string_equal(m,
		"pinhole apply: warning: fw.pin would cut the SSH session this command runs in\n"
		"  (SSH_CONNECTION: 10.0.0.7 port 40000 -> 10.0.0.5 port 22):\n"
		"    a new login (SYN in)                 drop (no rule matched: the input chain's policy is drop)\n"
		"    a new login's answer (SYN+ACK out)   drop (no rule matched: the output chain's policy is drop)\n"
		"    this session's packets in (ACK)      drop (no rule matched: the input chain's policy is drop)\n"
		"    this session's packets out (ACK)     drop (no rule matched: the output chain's policy is drop)\n"
		"  --allow-lockout given: applying anyway.\n");
	free(m);
}

/* ---- the confirmation window ---- */

static long long ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static enum confirm_result answer(const char *input, bool close_input, unsigned secs, long long *took)
{
	int fd[2];
	assert_int_equal(pipe(fd), 0);
	if (input)
		assert_int_equal(write(fd[1], input, strlen(input)), (ssize_t)strlen(input));
	if (close_input)
		close(fd[1]);
	FILE *talk = tmpfile();
	long long t0 = ms_now();
	struct confirm c;
	assert_int_equal(confirm_begin(&c), 0);
	enum confirm_result r = confirm_wait(&c, fd[0], secs, talk);
	confirm_end(&c);
	*took = ms_now() - t0;
	fclose(talk);
	close(fd[0]);
	if (!close_input)
		close(fd[1]);
	return r;
}

static void test_confirm_by_input(void **state)
{
	(void)state;
	long long took;
	assert_int_equal(answer("yes\n", false, 5, &took), CONFIRM_YES);
	assert_true(took < 2000);
	assert_int_equal(answer("  YES \r\n", false, 5, &took), CONFIRM_YES);
	assert_int_equal(answer("maybe\nno\n", false, 5, &took), CONFIRM_REFUSED);
	assert_true(took < 2000);
	/* "yes" must be a whole line */
	assert_int_equal(answer("yesterday\n", true, 1, &took), CONFIRM_TIMEOUT);
	/* end of input (a lost terminal) is not a "no": the timer decides */
	assert_int_equal(answer(NULL, true, 1, &took), CONFIRM_TIMEOUT);
	assert_true(took >= 900);
	/* nothing typed */
	assert_int_equal(answer(NULL, false, 1, &took), CONFIRM_TIMEOUT);
	assert_true(took >= 900 && took < 3000);
}

static void test_confirm_by_signal(void **state)
{
	(void)state;
	struct confirm c;
	/* a SIGUSR1 (kill -USR1 PID) confirms, even one that came before the wait began: between
	 * confirm_begin and confirm_wait is where the ruleset changes */
	assert_int_equal(confirm_begin(&c), 0);
	raise(SIGUSR1);
	long long t0 = ms_now();
	assert_int_equal(confirm_wait(&c, -1, 5, NULL), CONFIRM_YES);
	assert_true(ms_now() - t0 < 2000);
	confirm_end(&c);
	/* SIGTERM and SIGINT roll back at once */
	assert_int_equal(confirm_begin(&c), 0);
	raise(SIGTERM);
	assert_int_equal(confirm_wait(&c, -1, 5, NULL), CONFIRM_REFUSED);
	confirm_end(&c);
	assert_int_equal(confirm_begin(&c), 0);
	raise(SIGINT);
	assert_int_equal(confirm_wait(&c, -1, 5, NULL), CONFIRM_REFUSED);
	/* a second signal after the answer is discarded, and a lost terminal is ignored */
	raise(SIGTERM);
	raise(SIGHUP);
	confirm_end(&c);
	sigset_t pending;
	sigpending(&pending);
	assert_false(sigismember(&pending, SIGUSR1));
	assert_false(sigismember(&pending, SIGTERM));
	assert_false(sigismember(&pending, SIGINT));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ssh_connection_parsing),
		cmocka_unit_test(test_lockout_verdicts),
		cmocka_unit_test(test_lockout_interfaces),
		cmocka_unit_test(test_lockout_message),
		cmocka_unit_test(test_confirm_by_input),
		cmocka_unit_test(test_confirm_by_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
