/* The flow option `reject` (SMB's probe of the server's port 80): placed after every allow,
 * answered by the side that receives the probe only, and its reset let out again. */
#include "backend.h"
#include "packet.h"
#include "unit.h"

/* Verdict of the compiled policy for one packet written as `pinhole explain` takes it. */
static enum ir_action verdict(const struct compilation *c, const char *packet, const struct ir_rule **by)
{
	struct packet_text pt;
	char *why = NULL;
	int col = 0;
	if (!packet_parse(packet, &pt, &why, &col)) {
		print_error("bad packet '%s': %s\n", packet, why);
		free(why);
		fail();
	}
	pt.pkt.ct_helper = pt.helper[0] ? pt.helper : NULL;
	pt.pkt.iif = pt.iif[0] ? pt.iif : NULL;
	pt.pkt.oif = pt.oif[0] ? pt.oif : NULL;
	struct ir_verdict v = ir_eval(&c->ir, &pt.pkt);
	if (by)
		*by = v.rule;
	return v.action;
}

static size_t count_rules(const struct compilation *c, enum ir_hook hook, enum ir_action action)
{
	size_t n = 0;
	for (size_t i = 0; i < c->ir.rules.n; i++)
		n += c->ir.rules.v[i].hook == hook && c->ir.rules.v[i].action == action;
	return n;
}

static const char *const probe4 = "tcp 10.0.0.7:40000 -> 10.0.0.5:80 in syn new";
static const char *const probe6 = "tcp [fd00:a::7]:40000 -> [fd00:a::5]:80 in syn new";

static void server_rejects_the_probe(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow smb server;\n");
	const struct ir_rule *r;
	assert_int_equal(verdict(c, probe4, &r), IR_REJECT);
	assert_non_null(r);
	assert_string_equal(r->origin.app, "smb");
	assert_string_equal(r->origin.flow, "probe-http");
	assert_int_equal(verdict(c, probe6, NULL), IR_REJECT);
	/* Only port 80, only inbound, only TCP. */
	assert_int_equal(verdict(c, "tcp 10.0.0.7:40000 -> 10.0.0.5:81 in syn new", NULL), IR_DROP);
	assert_int_equal(verdict(c, "udp 10.0.0.7:40000 -> 10.0.0.5:80 in new", NULL), IR_DROP);
	assert_int_equal(verdict(c, "tcp 10.0.0.5:40000 -> 10.0.0.7:80 out syn new", NULL), IR_DROP);
	unit_free(c);
}

/* After every allow of the policy, whichever statement comes first. */
static void an_explicit_allow_wins(void **state)
{
	(void)state;
	static const char *const policies[] = {
		"allow smb, http server;\n",
		"allow smb server;\nallow tcp/80 server;\n",
		"allow http server;\nallow smb server;\n",
	};
	for (size_t p = 0; p < 3; p++) {
		struct compilation *c = unit_compile_ok(policies[p]);
		const struct ir_rule *r;
		assert_int_equal(verdict(c, probe4, &r), IR_ACCEPT);
		assert_string_not_equal(r->origin.app, "smb");
		/* and the reject still sits after the last accept of the input chain */
		size_t last_accept = 0, reject = 0;
		for (size_t i = 0; i < c->ir.rules.n; i++) {
			const struct ir_rule *x = &c->ir.rules.v[i];
			if (x->hook != IR_INPUT)
				continue;
			if (x->action == IR_ACCEPT)
				last_accept = i;
			if (x->action == IR_REJECT)
				reject = i;
		}
		assert_true(reject > last_accept);
		unit_free(c);
	}
}

/* Deny and reject statements win over everything and ignore the probe flow. */
static void deny_statements_leave_the_probe_alone(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("deny tcp/80 server;\nallow smb server;\n");
	assert_int_equal(verdict(c, probe4, NULL), IR_DROP);
	unit_free(c);
	c = unit_compile_ok("allow http server;\ndeny smb server;\n");
	assert_int_equal(verdict(c, probe4, NULL), IR_ACCEPT);
	assert_int_equal(count_rules(c, IR_INPUT, IR_REJECT), 0);
	unit_free(c);
}

/* The client sends the probe; its own firewall has no rule for it. */
static void client_side_has_no_rule(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow smb client;\n");
	assert_int_equal(count_rules(c, IR_OUTPUT, IR_REJECT) + count_rules(c, IR_INPUT, IR_REJECT), 0);
	assert_int_equal(verdict(c, "tcp 10.0.0.5:40000 -> 10.0.0.7:80 out syn new", NULL), IR_DROP);
	unit_free(c);
}

static void restriction_applies(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow smb server from 10.0.0.0/24;\n");
	assert_int_equal(verdict(c, probe4, NULL), IR_REJECT);
	assert_int_equal(verdict(c, "tcp 192.0.2.7:40000 -> 192.0.2.5:80 in syn new", NULL), IR_DROP);
	assert_int_equal(verdict(c, probe6, NULL), IR_DROP); /* an IPv4-only restriction */
	unit_free(c);
}

/* Stateful: a reset leaves as ct state related; a built-in admits it only when some rule
 * rejects TCP. */
static void stateful_reset_builtin(void **state)
{
	(void)state;
	static const char *const rst = "tcp 10.0.0.5:80 -> 10.0.0.7:40000 out rst ack related";
	struct compilation *c = unit_compile_ok("allow ssh server;\n");
	assert_int_equal(verdict(c, rst, NULL), IR_DROP);
	unit_free(c);
	c = unit_compile_ok("allow smb server;\n");
	const struct ir_rule *r;
	assert_int_equal(verdict(c, rst, &r), IR_ACCEPT);
	assert_non_null(r->origin.builtin);
	/* resets only: a related SYN/ACK is not admitted by it */
	assert_int_equal(verdict(c, "tcp 10.0.0.5:80 -> 10.0.0.7:40000 out syn ack related", NULL), IR_DROP);
	unit_free(c);
	/* a reject statement needs it as well, forwarded traffic too (the gateway sends it) */
	c = unit_compile_ok("zone lan { interface lan0; }\nzone wan { interface wan0; }\n"
			 "reject tcp/113 from wan to lan;\n");
	assert_int_equal(verdict(c, "tcp 10.1.0.2:113 -> 203.0.113.2:40000 out rst ack related", NULL),
			 IR_ACCEPT);
	unit_free(c);
}

/* Stateless: the mirrored rule admits the reset, to the probing peer, and nothing else. */
static void stateless_reset_reply(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("established only;\nallow smb server from 10.0.0.0/24;\n");
	assert_int_equal(verdict(c, "tcp 10.0.0.5:80 -> 10.0.0.7:40000 out rst ack", NULL), IR_ACCEPT);
	assert_int_equal(verdict(c, "tcp 10.0.0.5:80 -> 10.0.0.7:40000 out syn ack", NULL), IR_DROP);
	assert_int_equal(verdict(c, "tcp 10.0.0.5:80 -> 10.0.0.7:40000 out ack", NULL), IR_DROP);
	assert_int_equal(verdict(c, "tcp 10.0.0.5:80 -> 192.0.2.7:40000 out rst ack", NULL), IR_DROP);
	unit_free(c);
	c = unit_compile_ok("established only;\nreject tcp/113 server;\n");
	assert_int_equal(verdict(c, "tcp 10.0.0.5:113 -> 10.0.0.7:40000 out rst ack", NULL), IR_ACCEPT);
	unit_free(c);
}

static void bad_reject_flows(void **state)
{
	(void)state;
	static const struct {
		const char *flow, *msg;
	} cases[] = {
		{"flow p: client -> server tcp dport 80 reject helper \"ftp\";", "'helper' does not apply"},
		{"flow p: client -> server tcp dport 80 reject negotiated;", "'negotiated' does not apply"},
		{"flow p: client -> server icmp type echo-request reject;", "tcp and udp probes only"},
		{"flow p: client <-> server tcp dport 80 reject;", "one direction"},
		{"flow p: any -> any udp sport 137 dport same broadcast reject;", "'broadcast' does not apply"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = xasprintf("app probe \"p\" {\n    source \"test\";\n    %s\n}\nallow probe server;\n",
				       cases[i].flow);
		bool ok;
		struct compilation *c = unit_compile(text, &ok);
		free(text);
		assert_false(ok);
		const struct diag *d = unit_find_diag(c, cases[i].msg);
		if (!d)
			print_error("no diagnostic '%s' for: %s\n", cases[i].msg, cases[i].flow);
		assert_non_null(d);
		assert_int_equal(d->loc.first_line, 3);
		assert_int_equal(d->loc.first_column, 10); /* the flow's name */
		unit_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(server_rejects_the_probe),
		cmocka_unit_test(an_explicit_allow_wins),
		cmocka_unit_test(deny_statements_leave_the_probe_alone),
		cmocka_unit_test(client_side_has_no_rule),
		cmocka_unit_test(restriction_applies),
		cmocka_unit_test(stateful_reset_builtin),
		cmocka_unit_test(stateless_reset_reply),
		cmocka_unit_test(bad_reject_flows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
