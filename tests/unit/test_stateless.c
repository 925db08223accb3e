/* Stateless mode (`established only;` / --stateless): what the mirrored rules admit and refuse,
 * decided by the evaluator, and the exact text of every warning the mode can emit. */
#include "packet.h"
#include "unit.h"

static void expect(const struct compilation *c, const char *pkt, enum ir_action want)
{
	struct packet_text pt;
	char *why = NULL;
	int col;
	if (!packet_parse(pkt, &pt, &why, &col))
		fail_msg("bad packet '%s': %s", pkt, why);
	struct ir_verdict v = ir_eval(&c->ir, &pt.pkt);
	if (v.action != want)
		fail_msg("%s: %s, expected %s", pkt, ir_action_name(v.action), ir_action_name(want));
}

static void test_tcp_ack_bit(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("established only;\nallow http client;\nallow ssh server;");
	/* The client's own connection: out with SYN, the server's SYN+ACK and ACKs back. */
	expect(c, "tcp 10.0.0.5:40000 -> 192.0.2.7:80 out syn", IR_ACCEPT);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in syn ack", IR_ACCEPT);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in ack", IR_ACCEPT);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in rst", IR_ACCEPT);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in fin ack", IR_ACCEPT);
	/* What opens a connection is refused, even from the service port. */
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in syn", IR_DROP);
	expect(c, "tcp 192.0.2.7:80 -> 10.0.0.5:40000 in fin", IR_DROP);
	/* ACK-carrying packets from ports no rule names are refused: not "any ACK packet". */
	expect(c, "tcp 192.0.2.7:8080 -> 10.0.0.5:40000 in syn ack", IR_DROP);
	expect(c, "tcp 192.0.2.7:12345 -> 10.0.0.5:12346 in ack", IR_DROP);
	/* The server side: SYN in to 22, replies out only with ACK or RST from 22. */
	expect(c, "tcp [2001:db8::7]:50000 -> [2001:db8::5]:22 in syn", IR_ACCEPT);
	expect(c, "tcp [2001:db8::5]:22 -> [2001:db8::7]:50000 out syn ack", IR_ACCEPT);
	expect(c, "tcp [2001:db8::5]:22 -> [2001:db8::7]:50000 out syn", IR_DROP);
	expect(c, "tcp [2001:db8::5]:23 -> [2001:db8::7]:50000 out ack", IR_DROP);
	unit_free(c);
}

static void test_udp_icmp_same_port(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("established only;\nallow dns, ping client;\n"
					   "allow smb server from 10.0.0.0/8;");
	expect(c, "udp 192.0.2.53:53 -> 10.0.0.5:40000 in", IR_ACCEPT);
	expect(c, "udp 192.0.2.53:54 -> 10.0.0.5:40000 in", IR_DROP);
	expect(c, "icmp 192.0.2.1 -> 10.0.0.5 in echo-reply", IR_ACCEPT);
	expect(c, "icmp 192.0.2.1 -> 10.0.0.5 in echo-request", IR_DROP);
	expect(c, "icmp [2001:db8::1] -> [2001:db8::5] in echo-reply", IR_ACCEPT);
	/* SMB browsing: to=from both ways, within the listed peers only. */
	expect(c, "udp 10.1.2.3:137 -> 10.0.0.5:137 in", IR_ACCEPT);
	expect(c, "udp 10.0.0.5:138 -> 10.255.255.255:138 out", IR_ACCEPT);
	expect(c, "udp 10.1.2.3:137 -> 10.0.0.5:138 in", IR_DROP);
	expect(c, "udp 192.0.2.3:137 -> 10.0.0.5:137 in", IR_DROP);
	/* Path MTU discovery and quick failures without conntrack. */
	expect(c, "icmp 192.0.2.1 -> 10.0.0.5 in destination-unreachable", IR_ACCEPT);
	expect(c, "icmp [2001:db8::1] -> [2001:db8::5] in packet-too-big", IR_ACCEPT);
	expect(c, "icmp [2001:db8::1] -> [2001:db8::5] fwd packet-too-big", IR_ACCEPT);
	for (size_t i = 0; i < c->ir.rules.n; i++)
		assert_null(ir_match_get(&c->ir.rules.v[i], IR_M_CT_STATE));
	unit_free(c);
}

static void test_fragments(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("established only;\nallow nfs client to 10.0.0.0/8, fd00::/8;");
	expect(c, "udp [fd00::9]:0 -> [fd00::5]:0 in fragment", IR_ACCEPT);
	expect(c, "udp 10.0.0.9:0 -> 10.0.0.5:0 in fragment", IR_ACCEPT);
	expect(c, "udp [2001:db8::9]:0 -> [fd00::5]:0 in fragment", IR_DROP);
	expect(c, "tcp [fd00::9]:0 -> [fd00::5]:0 in fragment", IR_DROP);
	expect(c, "udp [fd00::5]:0 -> [fd00::9]:0 out fragment", IR_ACCEPT);
	unit_free(c);
	/* Only flows marked `fragments` get them. */
	c = unit_compile_ok("established only;\nallow dns client;");
	expect(c, "udp 192.0.2.53:0 -> 10.0.0.5:0 in fragment", IR_DROP);
	unit_free(c);
}

static void test_reject_answers(void **state)
{
	(void)state;
	/* Without conntrack, the reset a TCP reject sends (through this host's output hook, even
	 * for forwarded traffic) needs a rule of its own; ICMP unreachables have the built-ins. */
	struct compilation *c = unit_compile_ok("established only;\nreject tcp/113 server from 10.0.0.0/8;\n"
					   "reject udp/69 server;");
	expect(c, "tcp 10.1.2.3:40000 -> 10.0.0.5:113 in syn", IR_REJECT);
	expect(c, "tcp 10.0.0.5:113 -> 10.1.2.3:40000 out rst ack", IR_ACCEPT);
	expect(c, "tcp 10.0.0.5:113 -> 10.1.2.3:40000 out syn ack", IR_DROP);
	expect(c, "tcp 10.0.0.5:113 -> 192.0.2.3:40000 out rst", IR_DROP);
	expect(c, "icmp 10.0.0.5 -> 192.0.2.3 out destination-unreachable", IR_ACCEPT);
	unit_free(c);
	c = unit_compile_ok("established only;\nzone lan { interface lan0; address 10.1.0.0/24; }\n"
		       "zone wan { interface wan0; }\nreject tcp/113 from wan to lan;");
	expect(c, "tcp 203.0.113.2:40000 -> 10.1.0.2:113 fwd iif wan0 oif lan0 syn", IR_REJECT);
	expect(c, "tcp 10.1.0.2:113 -> 203.0.113.2:40000 out oif wan0 rst ack", IR_ACCEPT);
	expect(c, "tcp 10.1.0.2:113 -> 203.0.113.2:40000 out oif wan0 ack", IR_DROP);
	unit_free(c);
}

/* Every warning of one compilation, in order, one per line. */
static char *warnings(const char *policy)
{
	struct compilation *c = unit_compile_ok(policy);
	struct strbuf sb = {0};
	for (size_t i = 0; i < c->diags.n; i++)
		if (c->diags.v[i].sev == SEV_WARNING)
			sb_printf(&sb, "%s\n", c->diags.v[i].msg);
	unit_free(c);
	return sb_steal(&sb);
}

static void expect_warnings(const char *policy, const char *want)
{
	char *got = warnings(policy);
	if (strcmp(got, want) != 0)
		fail_msg("policy:\n%s\nwant:\n%sgot:\n%s", policy, want, got);
	free(got);
}

static void test_warnings_helper(void **state)
{
	(void)state;
	expect_warnings("established only;\nallow ftp client;",
		"ftp client in stateless mode admits TCP from port 20 of any server to local ports "
		"1024-65535 (and replies with ACK or RST set): flow 'data-active' needs connection "
		"tracking (the 'ftp' helper)\n"
		"ftp client in stateless mode admits TCP from local ports 1024-65535 to ports "
		"1024-65535 of any server (and replies with ACK or RST set): flow 'data-passive' needs "
		"connection tracking (the 'ftp' helper)\n");
	expect_warnings("established only;\ndefine office = 10.0.0.0/8, fd00::/8;\nallow ftp server from office;",
		"ftp server in stateless mode admits TCP from local port 20 to ports 1024-65535 of "
		"clients in office (and replies with ACK or RST set): flow 'data-active' needs "
		"connection tracking (the 'ftp' helper)\n"
		"ftp server in stateless mode admits TCP from ports 1024-65535 of clients in office to "
		"local ports 1024-65535 (and replies with ACK or RST set): flow 'data-passive' needs "
		"connection tracking (the 'ftp' helper)\n");
	expect_warnings("established only;\nzone lan { interface lan0; address 10.1.0.0/24; }\n"
			"zone wan { interface wan0; }\nallow ftp from lan to wan;",
		"ftp gateway rule in stateless mode admits TCP from port 20 of servers in wan to ports "
		"1024-65535 of clients in lan (and replies with ACK or RST set): flow 'data-active' "
		"needs connection tracking (the 'ftp' helper)\n"
		"ftp gateway rule in stateless mode admits TCP from ports 1024-65535 of clients in lan "
		"to ports 1024-65535 of servers in wan (and replies with ACK or RST set): flow "
		"'data-passive' needs connection tracking (the 'ftp' helper)\n");
	/* Stateful: the helper does it exactly, nothing to say. */
	expect_warnings("allow ftp client;", "");
}

static void test_warnings_negotiated(void **state)
{
	(void)state;
	/* A relayed channel (msn's file) is pinholed's: the mirrored return rules look up the
	 * same pinholes, nothing is admitted beyond them. With `negotiated static;` it is
	 * closed, so there is nothing to warn about either. */
	expect_warnings("established only;\nallow msn client;", "");
	expect_warnings("negotiated static;\nestablished only;\nallow msn client;", "");
	/* A scoped channel names who may use the hole: the peers of its control flow. */
	char *nw = warnings("negotiated static;\nestablished only;\nallow nfs client to 192.0.2.0/24, 2001:db8::/32;");
	assert_non_null(strstr(nw, "nfs client in stateless mode admits UDP from local ports 665-1023 to "
				   "ports 513-1023,20048 of servers in 192.0.2.0/24, 2001:db8::/32 that used "
				   "nfs flow portmap or portmap-tcp within 10m (and replies): flow 'mountd' "
				   "negotiates its port at run time (rpc)\n"));
	free(nw);
	expect_warnings("established only;\nallow mms client;",
		"mms client in stateless mode admits UDP from ports 1024-4999 of servers that used mms "
		"flow control within 10m to local ports 7000-7001 (and replies): flow 'data' "
		"negotiates its port at run time (mms)\n");
	expect_warnings("established only;\napp v { flow c1: client -> server tcp dport 9000;\n"
			"flow c2: client -> server udp dport 9001;\n"
			"flow d: server -> client udp dport 9100 negotiated on c1, c2 timeout 90s; }\n"
			"allow v client;",
		"v client in stateless mode admits UDP from any port of servers that used v flow c1 "
		"or c2 within 1m30s to local port 9100 (and replies): flow 'd' negotiates its port at "
		"run time\n");
	/* A channel without a name, and a same-port flow. */
	expect_warnings("established only;\n"
			"app x { flow f: client -> server udp sport 5000-5001 dport same negotiated; }\n"
			"allow x server;",
		"x server in stateless mode admits UDP from ports 5000-5001 of any client to the same "
		"port (and replies): flow 'f' negotiates its port at run time\n");
	/* Once per statement and hole, not once per family. */
	char *w = warnings("negotiated static;\nestablished only;\nallow nfs server from 10.0.0.0/8, fd00::/8;");
	assert_non_null(strstr(w, "nfs server in stateless mode admits UDP from ports 665-1023 of "
				  "clients in 10.0.0.0/8, fd00::/8 that used nfs flow portmap or portmap-tcp "
				  "within 10m to local ports 513-1023,20048 (and replies): flow 'mountd' "
				  "negotiates its port at run time (rpc)\n"));
	/* Six holes (mountd and nlockmgr over TCP and UDP, statd's portmapper and statd), each
	 * once. */
	int lines = 0;
	for (const char *p = w; (p = strchr(p, '\n')); p++)
		lines++;
	assert_int_equal(lines, 6);
	free(w);
}

static void test_warnings_unbound_replies(void **state)
{
	(void)state;
	expect_warnings("established only;\napp y { flow f: client -> server tcp sport 7000; }\nallow y client;",
		"y client in stateless mode admits TCP from local port 7000 to any port of any server "
		"(and replies with ACK or RST set): flow 'f' names no responder port, so its replies "
		"come from any port\n");
	/* A responder port binds the replies: nothing to say. ICMP has no ports. */
	expect_warnings("established only;\napp z { flow f: client -> server tcp dport 7000; "
			"flow g: client -> server icmp; }\nallow z client;", "");
	/* The library apps other than ftp, msn and nfs are exact without state, and smb but for
	 * the answers to broadcast name queries, which the client gets from the helper. */
	expect_warnings("established only;\nallow dns, http, https, ntp, ping, ssh client;\n"
			"allow dns, http, https, ntp, ping, smb, ssh server;", "");
	expect_warnings("established only;\nallow smb client;",
		"smb client in stateless mode admits UDP from port 137 of any server to local ports "
		"1024-65535 (and replies): flow 'name-answer' needs connection tracking (the "
		"'netbios-ns' helper)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_ack_bit),
		cmocka_unit_test(test_udp_icmp_same_port),
		cmocka_unit_test(test_fragments),
		cmocka_unit_test(test_reject_answers),
		cmocka_unit_test(test_warnings_helper),
		cmocka_unit_test(test_warnings_negotiated),
		cmocka_unit_test(test_warnings_unbound_replies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
