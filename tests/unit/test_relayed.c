/* Relayed channels (flow option `relayed`: IRC DCC, MSNFTP): what the language accepts, the
 * sets and rules expansion makes on each side, and the fallbacks without pinholed. */
#include "cli.h"
#include "unit.h"

#define APP_R(opts) "app r { flow c: client -> server tcp dport 7000;\n" \
		    "  flow d: " opts "; }\n"

static void expect_error(const char *text, const char *needle, int line, int col)
{
	bool ok;
	struct compilation *c = unit_compile(text, &ok);
	assert_false(ok);
	const struct diag *d = unit_find_diag(c, needle);
	if (!d) {
		diag_print(&c->diags, stderr);
		fail_msg("no diagnostic containing '%s'", needle);
	}
	assert_int_equal(d->sev, SEV_ERROR);
	assert_int_equal(d->loc.first_line, line);
	assert_int_equal(d->loc.first_column, col);
	unit_free(c);
}

static void expect_rules(const char *policy, enum ir_hook hook, const char *want)
{
	struct compilation *c = unit_compile_ok(policy);
	char *got = unit_rules_of(c, hook);
	if (strcmp(got, want) != 0)
		fail_msg("policy: %s\nhook %s\nwant:\n%s\ngot:\n%s", policy, ir_hook_name(hook), want, got);
	free(got);
	unit_free(c);
}

static void test_syntax(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(APP_R("client -> client tcp dport 1024-65535 negotiated irc on c relayed timeout 2m")
						"allow r client;");
	const struct ast_app *r = NULL;
	for (size_t i = 0; i < c->policy.stmts.n && !r; i++)
		if (c->policy.stmts.v[i]->kind == STMT_APP)
			r = c->policy.stmts.v[i]->u.app;
	assert_non_null(r);
	assert_true(r->flows.v[1].relayed);
	char *d = flow_format(&r->flows.v[1]);
	assert_string_equal(d, "client -> client tcp dport 1024-65535 negotiated irc on c timeout 2m relayed");
	free(d);
	unit_free(c);
}

static void test_errors(void **state)
{
	(void)state;
	/* a parser that reads no relayed offers, no parser, no `on` */
	expect_error(APP_R("client -> client tcp dport 1024-65535 negotiated rtsp on c relayed") "allow r client;\n",
		     "'relayed' needs 'negotiated irc' or 'negotiated msn'", 2, 70);
	expect_error(APP_R("client -> client tcp dport 1024-65535 relayed") "allow r client;\n",
		     "'relayed' needs", 2, 49);
	expect_error(APP_R("client -> client tcp dport 1024-65535 negotiated irc relayed") "allow r client;\n",
		     "'relayed' needs", 2, 64);
	/* it runs one way between clients, over TCP */
	expect_error(APP_R("client -> server tcp dport 1024-65535 negotiated irc on c relayed") "allow r client;\n",
		     "runs one way between clients", 2, 69);
	expect_error(APP_R("client <-> client tcp dport 1024-65535 negotiated irc on c relayed") "allow r client;\n",
		     "runs one way between clients", 2, 70);
	expect_error(APP_R("client -> client udp dport 1024-65535 negotiated irc on c relayed") "allow r client;\n",
		     "tcp connections only", 2, 69);
	/* without `relayed` a client-to-client channel still cannot be scoped */
	expect_error(APP_R("client -> client tcp dport 1024-65535 negotiated irc on c") "allow r client;\n",
		     "runs between clients", 2, 64);
	/* a rejected probe is never relayed */
	expect_error(APP_R("client -> client tcp dport 1024-65535 negotiated irc on c relayed reject") "allow r client;\n",
		     "a rejected flow is never opened", 2, 8);
}

#define IRC_R APP_R("client -> client tcp dport 1024-65535 negotiated irc on c relayed timeout 2m")

static void test_client_sets(void **state)
{
	(void)state;
	/* the receiver connects out to the address named: peer . local . proto . port */
	expect_rules(IRC_R "allow r client;", IR_OUTPUT,
		     "tcp dport 7000 ct state established log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "tcp dport 7000 log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "tcp dport 7000 accept\n"
		     "ip daddr . ip saddr . meta l4proto . tcp dport @ph_r_d_v4 accept\n"
		     "ip6 daddr . ip6 saddr . meta l4proto . tcp dport @ph_r_d_v6 accept\n");
	/* the sender listens for any peer: local . proto . port */
	expect_rules(IRC_R "allow r client;", IR_INPUT,
		     "tcp sport 7000 ct state established log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "ip daddr . meta l4proto . tcp dport @ph_r_d_listen_v4 accept\n"
		     "ip6 daddr . meta l4proto . tcp dport @ph_r_d_listen_v6 accept\n");
	struct compilation *c = unit_compile_ok(IRC_R "allow r client;");
	int peerless = 0, keyed = 0;
	for (size_t i = 0; i < c->ir.dynsets.n; i++) {
		const struct ir_dynset *d = &c->ir.dynsets.v[i];
		assert_string_equal(d->parser, "irc");
		assert_int_equal(d->timeout, 120);
		peerless += d->peerless;
		keyed += !d->peerless;
	}
	assert_int_equal(peerless, 2);
	assert_int_equal(keyed, 2);
	unit_free(c);
}

static void test_server_takes_no_part(void **state)
{
	(void)state;
	/* the relay has no rule of the clients' channel and nothing to copy to pinholed */
	expect_rules(IRC_R "allow r server;", IR_INPUT, "tcp dport 7000 accept\n");
	expect_rules(IRC_R "allow r server;", IR_OUTPUT, "");
}

static void test_fallbacks(void **state)
{
	(void)state;
	/* IRC without pinholed: the kernel's irc helper on the control flow, the sender's side
	 * over IPv4; the receiver's outbound connection stays closed */
	expect_rules("negotiated static;\n" IRC_R "allow r client;", IR_OUTPUT,
		     "tcp dport 7000 ct state new ct helper set \"ph_irc_tcp\"\n"
		     "tcp dport 7000 accept\n");
	expect_rules("negotiated static;\n" IRC_R "allow r client;", IR_INPUT,
		     "meta nfproto ipv4 meta l4proto tcp ct state related ct helper \"irc\" accept\n");
	/* stateless: no helper, closed */
	expect_rules("negotiated static;\nestablished only;\n" IRC_R "allow r client;", IR_INPUT,
		     "tcp sport 7000 tcp flags & (rst | ack) != 0 accept\n");
	/* MSN: closed */
	expect_rules("negotiated static;\n" APP_R("client -> client tcp dport 6891 negotiated msn on c relayed")
		     "allow r client;", IR_INPUT, "");
}

static void test_gateway(void **state)
{
	(void)state;
	/* a gateway's rule runs from the client side out: the receiver's keyed set */
	expect_rules("zone lan { interface lan0; }\nzone wan { interface wan0; }\n" IRC_R
		     "allow r from lan to wan;", IR_FORWARD,
		     "iifname \"lan0\" oifname \"wan0\" tcp dport 7000 ct state established log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "iifname \"wan0\" oifname \"lan0\" tcp sport 7000 ct state established log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "iifname \"lan0\" oifname \"wan0\" tcp dport 7000 log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "iifname \"lan0\" oifname \"wan0\" tcp dport 7000 accept\n"
		     "iifname \"lan0\" oifname \"wan0\" ip daddr . ip saddr . meta l4proto . tcp dport @ph_r_d_fwd_v4 accept\n"
		     "iifname \"lan0\" oifname \"wan0\" ip6 daddr . ip6 saddr . meta l4proto . tcp dport @ph_r_d_fwd_v6 accept\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_client_sets),
		cmocka_unit_test(test_server_takes_no_part),
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_gateway),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
