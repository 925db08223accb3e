/* Scoped negotiated channels (`negotiated NAME on FLOW, ... [timeout D]`): the syntax, the
 * dynamic sets and rules expansion makes, how nft and iptables render them, the evaluator's
 * state, and what explain says. */
#include "backend.h"
#include "nft_lower.h"
#include "packet.h"
#include "unit.h"

static void expect_rules(const char *policy, enum ir_hook hook, const char *want)
{
	struct compilation *c = unit_compile_ok(policy);
	char *got = unit_rules_of(c, hook);
	if (strcmp(got, want) != 0)
		fail_msg("policy: %s\nhook %s\nwant:\n%s\ngot:\n%s", policy, ir_hook_name(hook), want, got);
	free(got);
	unit_free(c);
}

/* "name family timeout peer [fwd]" for every dynamic set, one per line. */
static char *dynsets_of(const struct compilation *c)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < c->ir.dynsets.n; i++) {
		const struct ir_dynset *d = &c->ir.dynsets.v[i];
		sb_printf(&sb, "%s v%u %us %s %s/%s%s\n", d->name, d->family, d->timeout, d->peer, d->app,
			  d->flows, d->forward ? " fwd" : "");
	}
	return sb_steal(&sb);
}

static void expect_dynsets(const char *policy, const char *want)
{
	struct compilation *c = unit_compile_ok(policy);
	char *got = dynsets_of(c);
	if (strcmp(got, want) != 0)
		fail_msg("policy: %s\nwant:\n%s\ngot:\n%s", policy, want, got);
	free(got);
	unit_free(c);
}

/* A small app of our own: two control flows, a scoped channel with a timeout, and one
 * without (the library's default). */
#define APP_V "app v { flow c1: client -> server tcp dport 9000;\n" \
	      "  flow c2: client -> server udp dport 9001;\n" \
	      "  flow d: server -> client udp dport 9100 negotiated vid on c1, c2 timeout 90s;\n" \
	      "  flow e: client -> server udp dport 9200 negotiated on c1; }\n"

static void test_syntax_round_trip(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(APP_V "allow v client;");
	const struct ast_app *v = NULL;
	for (size_t i = 0; i < c->policy.stmts.n && !v; i++)
		if (c->policy.stmts.v[i]->kind == STMT_APP)
			v = c->policy.stmts.v[i]->u.app;
	assert_non_null(v);
	char *d = flow_format(&v->flows.v[2]);
	assert_string_equal(d, "server -> client udp dport 9100 negotiated vid on c1, c2 timeout 1m30s");
	free(d);
	char *e = flow_format(&v->flows.v[3]);
	assert_string_equal(e, "client -> server udp dport 9200 negotiated on c1");
	free(e);
	assert_int_equal(v->flows.v[2].timeout, 90);
	assert_int_equal(v->flows.v[3].timeout, 0); /* the default applies */
	unit_free(c);
}

static void test_host_client(void **state)
{
	(void)state;
	/* The client records the servers it talks to on c1/c2, before the accept (every packet
	 * that reaches it) and before the built-ins (established packets), and admits d from
	 * those servers only; e goes to servers of c1 only, with its own set and timer. */
	expect_rules(APP_V "allow v client;", IR_OUTPUT,
		"meta nfproto ipv4 tcp dport 9000 ct state established update @ph_v_vid_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 tcp dport 9000 ct state established update @ph_v_vid_servers_v6 { ip6 daddr }\n"
		"meta nfproto ipv4 tcp dport 9000 ct state established update @ph_v_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 tcp dport 9000 ct state established update @ph_v_servers_v6 { ip6 daddr }\n"
		"meta nfproto ipv4 udp dport 9001 ct state established update @ph_v_vid_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 udp dport 9001 ct state established update @ph_v_vid_servers_v6 { ip6 daddr }\n"
		"meta nfproto ipv4 tcp dport 9000 update @ph_v_vid_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 tcp dport 9000 update @ph_v_vid_servers_v6 { ip6 daddr }\n"
		"meta nfproto ipv4 tcp dport 9000 update @ph_v_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 tcp dport 9000 update @ph_v_servers_v6 { ip6 daddr }\n"
		"tcp dport 9000 accept\n"
		"meta nfproto ipv4 udp dport 9001 update @ph_v_vid_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 udp dport 9001 update @ph_v_vid_servers_v6 { ip6 daddr }\n"
		"udp dport 9001 accept\n"
		"ip daddr @ph_v_servers_v4 udp dport 9200 accept\n"
		"ip6 daddr @ph_v_servers_v6 udp dport 9200 accept\n");
	expect_rules(APP_V "allow v client;", IR_INPUT,
		"ip saddr @ph_v_vid_servers_v4 udp dport 9100 accept\n"
		"ip6 saddr @ph_v_vid_servers_v6 udp dport 9100 accept\n");
	expect_dynsets(APP_V "allow v client;",
		"ph_v_vid_servers_v4 v4 90s server v/c1, c2\n"
		"ph_v_vid_servers_v6 v6 90s server v/c1, c2\n"
		"ph_v_servers_v4 v4 600s server v/c1\n"
		"ph_v_servers_v6 v6 600s server v/c1\n");
}

static void test_host_server_restricted(void **state)
{
	(void)state;
	/* A server records its clients (the source of c1), within its restriction, which is
	 * IPv4 only here: no IPv6 set at all. */
	expect_rules("app w { flow c: client -> server tcp dport 9000;\n"
		     "flow d: server -> client udp dport 9100 negotiated on c; }\n"
		     "allow w server from 10.0.0.0/8;", IR_INPUT,
		"ip saddr 10.0.0.0/8 tcp dport 9000 ct state established update @ph_w_clients_v4 { ip saddr }\n"
		"ip saddr 10.0.0.0/8 tcp dport 9000 update @ph_w_clients_v4 { ip saddr }\n"
		"ip saddr 10.0.0.0/8 tcp dport 9000 accept\n");
	expect_rules("app w { flow c: client -> server tcp dport 9000;\n"
		     "flow d: server -> client udp dport 9100 negotiated on c; }\n"
		     "allow w server from 10.0.0.0/8;", IR_OUTPUT,
		"ip daddr 10.0.0.0/8 ip daddr @ph_w_clients_v4 udp dport 9100 accept\n");
	/* Each statement has sets of its own (client and server roles remember peers of other
	 * roles; two client statements, other peers). */
	expect_dynsets("app w { flow c: client -> server tcp dport 9000;\n"
		       "flow d: server -> client udp dport 9100 negotiated on c; }\n"
		       "allow w server from 10.0.0.0/8; allow w client; allow w client to 192.0.2.0/24;",
		"ph_w_clients_v4 v4 600s client w/c\n"
		"ph_w_servers_v4 v4 600s server w/c\n"
		"ph_w_servers_v6 v6 600s server w/c\n"
		"ph_w_servers_2_v4 v4 600s server w/c\n");
}

static void test_library_channels(void **state)
{
	(void)state;
	/* NFS: mountd and nlockmgr go to the servers the client asked the portmapper (over UDP
	 * or TCP). */
	expect_rules("negotiated static;\nallow nfs client to 192.0.2.0/24;", IR_OUTPUT,
		"ip daddr 192.0.2.0/24 udp sport 665-1023 udp dport 111 ct state established update @ph_nfs_rpc_servers_v4 { ip daddr }\n"
		"ip daddr 192.0.2.0/24 tcp sport 665-1023 tcp dport 111 ct state established update @ph_nfs_rpc_servers_v4 { ip daddr }\n"
		"ip daddr 192.0.2.0/24 udp sport 665-1023 udp dport 111 update @ph_nfs_rpc_servers_v4 { ip daddr }\n"
		"ip daddr 192.0.2.0/24 udp sport 665-1023 udp dport 111 accept\n"
		"ip daddr 192.0.2.0/24 tcp sport 665-1023 tcp dport 111 update @ph_nfs_rpc_servers_v4 { ip daddr }\n"
		"ip daddr 192.0.2.0/24 tcp sport 665-1023 tcp dport 111 accept\n"
		"ip daddr 192.0.2.0/24 ip daddr @ph_nfs_rpc_servers_v4 tcp sport 665-1023 tcp dport { 513-1023, 20048 } accept\n"
		"ip daddr 192.0.2.0/24 ip daddr @ph_nfs_rpc_servers_v4 udp sport 665-1023 udp dport { 513-1023, 20048 } accept\n"
		"ip daddr 192.0.2.0/24 ip daddr @ph_nfs_rpc_servers_v4 tcp sport 665-1023 tcp dport 32768 accept\n"
		"ip daddr 192.0.2.0/24 ip daddr @ph_nfs_rpc_servers_v4 udp sport 665-1023 udp dport 32768 accept\n"
		"ip daddr 192.0.2.0/24 tcp sport 665-1023 tcp dport 2049 accept\n"
		"ip daddr 192.0.2.0/24 udp sport 665-1023 udp dport 2049 accept\n");
	/* realplayer's two statically scoped data flows (PNA, RTSP over HTTP) share one set per
	 * family; its RTSP data are pinholed's, read off the SETUP reply. */
	expect_dynsets("allow realplayer client;",
		"ph_realplayer_servers_v4 v4 600s server realplayer/pna, rtsp-http\n"
		"ph_realplayer_servers_v6 v6 600s server realplayer/pna, rtsp-http\n"
		"ph_realplayer_data_rtsp_v4 v4 600s server realplayer/rtsp\n"
		"ph_realplayer_data_rtsp_v6 v6 600s server realplayer/rtsp\n");
	/* With `negotiated static;` the RTSP data fall back to the guide's ports, scoped to the
	 * servers of flow rtsp in sets of their own. */
	expect_dynsets("negotiated static;\nallow realplayer client;",
		"ph_realplayer_servers_v4 v4 600s server realplayer/pna, rtsp-http\n"
		"ph_realplayer_servers_v6 v6 600s server realplayer/pna, rtsp-http\n"
		"ph_realplayer_rtsp_servers_v4 v4 600s server realplayer/rtsp\n"
		"ph_realplayer_rtsp_servers_v6 v6 600s server realplayer/rtsp\n");
	/* MSN's file transfer is relayed by the switchboard (hub): pinholed's sets, the sender's
	 * without a peer (tests/unit/test_relayed.c has the rest). */
	expect_rules("allow msn client;", IR_INPUT,
		     "tcp sport 1863 ct state established log prefix \"ph1:\" group 7100 snaplen 65535\n"
		     "ip daddr . meta l4proto . tcp dport @ph_msn_file_listen_v4 accept\n"
		     "ip6 daddr . meta l4proto . tcp dport @ph_msn_file_listen_v6 accept\n");
	expect_dynsets("allow msn client;",
		"ph_msn_file_v4 v4 120s client msn/hub\n"
		"ph_msn_file_v6 v6 120s client msn/hub\n"
		"ph_msn_file_listen_v4 v4 120s client msn/hub\n"
		"ph_msn_file_listen_v6 v6 120s client msn/hub\n");
}

static void test_gateway(void **state)
{
	(void)state;
	/* A gateway remembers the servers its clients used, in sets of its own. */
	const char *gw = "zone lan { interface lan0; address 10.1.0.0/24; }\nzone wan { interface wan0; }\n"
			 "allow mms from lan to wan;";
	expect_rules(gw, IR_FORWARD,
		"iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 tcp dport 1755 ct state established update @ph_mms_servers_fwd_v4 { ip daddr }\n"
		"iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 udp dport 1755 ct state established update @ph_mms_servers_fwd_v4 { ip daddr }\n"
		"iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 tcp dport 1755 update @ph_mms_servers_fwd_v4 { ip daddr }\n"
		"iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 tcp dport 1755 accept\n"
		"iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 udp dport 1755 update @ph_mms_servers_fwd_v4 { ip daddr }\n"
		"iifname \"lan0\" oifname \"wan0\" ip saddr @lan_v4 udp dport 1755 accept\n"
		"iifname \"wan0\" oifname \"lan0\" ip daddr @lan_v4 ip saddr @ph_mms_servers_fwd_v4 udp sport 1024-4999 udp dport 7000-7001 accept\n");
	expect_dynsets(gw, "ph_mms_servers_fwd_v4 v4 600s server mms/control fwd\n");
	/* A server one zone's clients used opens nothing to another zone's clients. */
	struct compilation *c = unit_compile_ok("zone lan { interface lan0; }\nzone dmz { interface dmz0; }\n"
					   "zone wan { interface wan0; }\n"
					   "allow mms from lan to wan;\nallow mms from dmz to wan;");
	struct ir_state st = {0};
	struct packet_text pt;
	char *why = NULL;
	int col;
	assert_true(packet_parse("tcp 10.1.0.2:40000 -> 203.0.113.2:1755 fwd iif lan0 oif wan0 syn",
				 &pt, &why, &col));
	assert_int_equal(ir_eval_state(&c->ir, &pt.pkt, &st).action, IR_ACCEPT);
	assert_true(packet_parse("udp 203.0.113.2:2000 -> 10.2.0.2:7000 fwd iif wan0 oif dmz0", &pt, &why,
				 &col));
	assert_int_equal(ir_eval_state(&c->ir, &pt.pkt, &st).action, IR_DROP);
	assert_true(packet_parse("udp 203.0.113.2:2000 -> 10.1.0.2:7000 fwd iif wan0 oif lan0", &pt, &why,
				 &col));
	assert_int_equal(ir_eval_state(&c->ir, &pt.pkt, &st).action, IR_ACCEPT);
	ir_state_free(&st);
	unit_free(c);
}

static void test_deny_stays_broad(void **state)
{
	(void)state;
	/* A deny of the app closes the fallback for everyone and records nothing. */
	expect_rules("deny realplayer client; allow ssh client;", IR_INPUT,
		     "udp dport { 6970, 7000 } drop\nudp dport 7000 drop\nudp dport 6970 drop\n");
	expect_dynsets("deny realplayer client; allow ssh client;", "");
}

static void test_stateless(void **state)
{
	(void)state;
	/* No conntrack: every packet of the control flow reaches the update; the channel's
	 * mirrored replies are scoped to the same peer, at the other end. */
	expect_rules("established only; allow mms client;", IR_INPUT,
		"tcp sport 1755 tcp flags & (rst | ack) != 0 accept\n"
		"udp sport 1755 accept\n"
		"ip saddr @ph_mms_servers_v4 udp sport 1024-4999 udp dport 7000-7001 accept\n"
		"ip6 saddr @ph_mms_servers_v6 udp sport 1024-4999 udp dport 7000-7001 accept\n");
	expect_rules("established only; allow mms client;", IR_OUTPUT,
		"meta nfproto ipv4 tcp dport 1755 update @ph_mms_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 tcp dport 1755 update @ph_mms_servers_v6 { ip6 daddr }\n"
		"tcp dport 1755 accept\n"
		"meta nfproto ipv4 udp dport 1755 update @ph_mms_servers_v4 { ip daddr }\n"
		"meta nfproto ipv6 udp dport 1755 update @ph_mms_servers_v6 { ip6 daddr }\n"
		"udp dport 1755 accept\n"
		"ip daddr @ph_mms_servers_v4 udp sport 7000-7001 udp dport 1024-4999 accept\n"
		"ip6 daddr @ph_mms_servers_v6 udp sport 7000-7001 udp dport 1024-4999 accept\n");
}

static void test_set_names_avoid_defines(void **state)
{
	(void)state;
	/* A define's set would be rendered ph_mms_servers_v4 too. The IR keeps the dynamic set's
	 * own name (unique among dynamic sets); nft, which names both, moves it aside. */
	const char *policy = "define ph_mms_servers = 192.0.2.0/24;\nallow mms client to ph_mms_servers;";
	expect_dynsets(policy, "ph_mms_servers_v4 v4 600s server mms/control\n");
	struct compilation *c = unit_compile_ok(policy);
	struct nft_plan plan;
	nft_plan_build(&c->ir, &plan);
	assert_int_equal(plan.dynsets.n, 1);
	assert_string_equal(plan.dynsets.v[0].name, "ph_mms_servers_2_v4");
	assert_string_equal(nft_plan_dynset_name(&plan, "ph_mms_servers_v4"), "ph_mms_servers_2_v4");
	bool define_set = false;
	for (size_t i = 0; i < plan.sets.n; i++)
		define_set |= !strcmp(plan.sets.v[i].name, "ph_mms_servers_v4");
	assert_true(define_set);
	nft_plan_free(&plan);
	/* The rules that fill and read the set name it so; the define's set keeps its name. */
	char *out = unit_rules_of(c, IR_OUTPUT), *in = unit_rules_of(c, IR_INPUT);
	assert_non_null(strstr(out, "update @ph_mms_servers_2_v4 { ip daddr }"));
	assert_non_null(strstr(out, "ip daddr @ph_mms_servers_v4 "));
	assert_non_null(strstr(in, "ip saddr @ph_mms_servers_2_v4 "));
	free(out);
	free(in);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_info info = {.version = "test", .policy = "p.pin"};
	nft_render(&c->ir, &info, f);
	fclose(f);
	assert_non_null(strstr(buf, "\tset ph_mms_servers_2_v4 {\n\t\ttype ipv4_addr\n\t\tsize 65535\n"
				    "\t\tflags dynamic,timeout\n"));
	assert_non_null(strstr(buf, "\tset ph_mms_servers_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n"
				    "\t\telements = { 192.0.2.0/24 }"));
	free(buf);
	unit_free(c);
	/* Two channels of one app on other control flows get sets of their own. */
	expect_dynsets("app x { flow a: client -> server tcp dport 1; flow b: client -> server tcp dport 2;\n"
		       "flow d1: server -> client udp dport 3 negotiated x on a;\n"
		       "flow d2: server -> client udp dport 4 negotiated x on b; }\n"
		       "allow x client to 192.0.2.1;",
		       "ph_x_servers_v4 v4 600s server x/a\n"
		       "ph_x_servers_2_v4 v4 600s server x/b\n");
}

static void test_bundle_keeps_the_defining_app(void **state)
{
	(void)state;
	/* A bundle's statement scopes the used app's channel by that app's own control flow. */
	expect_rules("app media { uses mms; }\nallow media client to 192.0.2.7;", IR_INPUT,
		     "ip saddr 192.0.2.7 ip saddr @ph_mms_servers_v4 udp sport 1024-4999 udp dport 7000-7001 accept\n");
}

static void test_nft_render(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(APP_V "allow v client;");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_info info = {.version = "test", .policy = "p.pin"};
	nft_render(&c->ir, &info, f);
	fclose(f);
	assert_non_null(strstr(buf, "\tset ph_v_vid_servers_v4 {\n\t\ttype ipv4_addr\n\t\tsize 65535\n"
				    "\t\tflags dynamic,timeout\n\t\ttimeout 1m30s\n\t}\n"));
	assert_non_null(strstr(buf, "\tset ph_v_servers_v6 {\n\t\ttype ipv6_addr\n\t\tsize 65535\n"
				    "\t\tflags dynamic,timeout\n\t\ttimeout 10m\n\t}\n"));
	free(buf);
	unit_free(c);
}

/* The first rule of the ruleset that records into / matches the set `name`. */
static const struct ir_rule *rule_with(const struct compilation *c, const char *name, bool add,
				       uint8_t family)
{
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		const struct ir_setref *ref = add ? &r->add_set : ir_rule_in_set(r);
		if (ref && ref->name && !strcmp(ref->name, name) && r->family == family &&
		    !ir_rule_ct_state(r))
			return r;
	}
	fail_msg("no rule with set %s", name);
	return NULL;
}

static void test_ipt_render(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(APP_V "allow v client;");
	char *t = ipt_rule_text(&c->ir, rule_with(c, "ph_v_vid_servers_v4", false, IR_V4), IR_V4);
	assert_non_null(strstr(t, "-A PINHOLE-INPUT -p udp -m udp --dport 9100 -m recent --rcheck "
				  "--seconds 90 --name ph_v_vid_servers_v4 --mask 255.255.255.255 "
				  "--rsource -m comment"));
	assert_non_null(strstr(t, " -j ACCEPT\n"));
	free(t);
	t = ipt_rule_text(&c->ir, rule_with(c, "ph_v_vid_servers_v6", true, IR_V6), IR_V6);
	assert_non_null(strstr(t, "-A PINHOLE-OUTPUT -p tcp -m tcp --dport 9000 -m recent --set --name "
				  "ph_v_vid_servers_v6 --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
				  "--rdest -m comment"));
	assert_null(strstr(t, " -j ")); /* no target: the chain goes on */
	free(t);
	/* An IPv4 set in the IPv6 file is refused, not rendered. */
	char *why = NULL;
	assert_null(ipt_check(&c->ir, IR_V6, &why));
	struct ir_rule *r = (struct ir_rule *)rule_with(c, "ph_v_vid_servers_v6", false, IR_V6);
	ir_rule_unpack(r); /* its own parts, to change one */
	struct ir_match *m = (struct ir_match *)ir_match_get(r, IR_M_IN_SET);
	assert_non_null(m);
	free(m->u.set.name);
	m->u.set.name = xstrdup("ph_v_vid_servers_v4");
	assert_ptr_equal(ipt_check(&c->ir, IR_V6, &why), r);
	assert_non_null(strstr(why, "not a set of this family"));
	free(why);
	unit_free(c);
}

/* ---- the evaluator's state ---- */

static struct ir_verdict run(const struct compilation *c, struct ir_state *st, const char *pkt)
{
	struct packet_text pt;
	char *why = NULL;
	int col;
	if (!packet_parse(pkt, &pt, &why, &col))
		fail_msg("bad packet '%s': %s", pkt, why);
	return ir_eval_state(&c->ir, &pt.pkt, st);
}

static void expect_v(const struct compilation *c, struct ir_state *st, const char *pkt,
		     enum ir_action want)
{
	struct ir_verdict v = run(c, st, pkt);
	if (v.action != want)
		fail_msg("%s: %s, expected %s", pkt, ir_action_name(v.action), ir_action_name(want));
}

static void test_state_records_in_order(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow realplayer client;");
	struct ir_state st = {0};
	/* Nobody used a control flow yet; without a state, nobody ever has. */
	expect_v(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7000 in", IR_DROP);
	expect_v(c, NULL, "udp 192.0.2.7:5000 -> 10.0.0.5:7000 in", IR_DROP);
	/* An RTSP request records nothing: its data are pinholed's (SETUP reply). */
	expect_v(c, &st, "tcp 10.0.0.5:40000 -> 192.0.2.7:554 out syn", IR_ACCEPT);
	assert_int_equal(st.v.n, 0);
	expect_v(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7000 in", IR_DROP);
	expect_v(c, &st, "tcp 10.0.0.5:40002 -> 192.0.2.7:7070 out syn", IR_ACCEPT);
	assert_int_equal(st.v.n, 1);
	assert_string_equal(st.v.v[0].set, "ph_realplayer_servers_v4");
	expect_v(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7000 in", IR_ACCEPT);
	expect_v(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:6970 in", IR_ACCEPT);
	/* Only that peer, only that family, only the channel's ports. */
	expect_v(c, &st, "udp 192.0.2.8:5000 -> 10.0.0.5:7000 in", IR_DROP);
	expect_v(c, &st, "udp [2001:db8::7]:5000 -> [fd00::5]:7000 in", IR_DROP);
	expect_v(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7001 in", IR_DROP);
	/* Another peer, then the first again: a refresh moves it to the end. */
	expect_v(c, &st, "tcp [fd00::5]:40000 -> [2001:db8::7]:7070 out syn", IR_ACCEPT);
	expect_v(c, &st, "tcp 10.0.0.5:40001 -> 192.0.2.7:80 out syn", IR_ACCEPT);
	assert_int_equal(st.v.n, 2);
	assert_string_equal(st.v.v[0].set, "ph_realplayer_servers_v6");
	assert_string_equal(st.v.v[1].set, "ph_realplayer_servers_v4");
	expect_v(c, &st, "udp [2001:db8::7]:5000 -> [fd00::5]:7000 in", IR_ACCEPT);
	ir_state_free(&st);
	unit_free(c);
}

static void test_state_expires(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(APP_V "allow v client;");
	struct ir_state st = {0};
	expect_v(c, &st, "udp 10.0.0.5:40000 -> 192.0.2.7:9001 out", IR_ACCEPT);
	st.now_ms = 89999;
	expect_v(c, &st, "udp 192.0.2.7:1 -> 10.0.0.5:9100 in", IR_ACCEPT);
	st.now_ms = 90000; /* 90s after the last control packet */
	expect_v(c, &st, "udp 192.0.2.7:1 -> 10.0.0.5:9100 in", IR_DROP);
	/* An established control packet refreshes the timer (the rule before the built-ins). */
	expect_v(c, &st, "tcp 10.0.0.5:40000 -> 192.0.2.7:9000 out ack established", IR_ACCEPT);
	st.now_ms = 179999;
	expect_v(c, &st, "udp 192.0.2.7:1 -> 10.0.0.5:9100 in", IR_ACCEPT);
	/* c1 also fills e's set (timeout 10m): it is still there at 179.999s. */
	expect_v(c, &st, "udp 10.0.0.5:1 -> 192.0.2.7:9200 out", IR_ACCEPT);
	ir_state_free(&st);
	unit_free(c);
}

static void test_state_only_admitted_packets_record(void **state)
{
	(void)state;
	/* A control packet the policy drops records nothing: the update sits right before the
	 * accept, after every deny. Invalid packets stop at the built-ins. */
	struct compilation *c = unit_compile_ok("deny tcp/554 client to 192.0.2.9;\nallow realplayer client;");
	struct ir_state st = {0};
	expect_v(c, &st, "tcp 10.0.0.5:40000 -> 192.0.2.9:554 out syn", IR_DROP);
	expect_v(c, &st, "tcp 10.0.0.5:40000 -> 192.0.2.9:554 out ack invalid", IR_DROP);
	assert_int_equal(st.v.n, 0);
	expect_v(c, &st, "udp 192.0.2.9:5000 -> 10.0.0.5:7000 in", IR_DROP);
	/* Server side: the client's packets record the client. */
	unit_free(c);
	c = unit_compile_ok("negotiated static;\nallow nfs server from 10.0.0.0/8;");
	expect_v(c, &st, "udp 10.0.0.7:1010 -> 10.0.0.5:700 in", IR_DROP);
	expect_v(c, &st, "udp 10.0.0.7:1010 -> 10.0.0.5:111 in", IR_ACCEPT);
	expect_v(c, &st, "udp 10.0.0.7:1010 -> 10.0.0.5:700 in", IR_ACCEPT);
	expect_v(c, &st, "udp 10.0.0.8:1010 -> 10.0.0.5:700 in", IR_DROP);
	ir_state_free(&st);
	unit_free(c);
}

/* ---- explain ---- */

static char *explain_text(const struct compilation *c, struct ir_state *st, const char *pkt)
{
	struct packet_text pt;
	char *why = NULL;
	int col;
	if (!packet_parse(pkt, &pt, &why, &col))
		fail_msg("bad packet '%s': %s", pkt, why);
	struct ir_verdict v = ir_eval_state(&c->ir, &pt.pkt, st);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	explain_scope(c, &pt.pkt, &v, f);
	fclose(f);
	return buf;
}

static void test_explain_wording_lines(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("negotiated static;\nallow realplayer client;\nallow nfs server;", &ok);
	assert_true(ok);
	struct ir_state st = {0};
	char *t = explain_text(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7000 in");
	assert_non_null(strstr(t, "scoped:  would be accepted after 192.0.2.7 used flow rtsp of realplayer "
				  "within 10m ("));
	assert_non_null(strstr(t, ":2, realplayer flow data-rtsp; set ph_realplayer_rtsp_servers_v4)\n"));
	free(t);
	/* The server side: the client must have asked the portmapper. */
	t = explain_text(c, &st, "udp [fd00::7]:1010 -> [fd00::5]:700 in");
	assert_non_null(strstr(t, "would be accepted after fd00::7 used flow portmap or portmap-tcp of nfs within "
				  "10m"));
	free(t);
	t = explain_text(c, &st, "tcp 10.0.0.5:40000 -> 192.0.2.7:554 out syn");
	assert_string_equal(t, "records: server 192.0.2.7 in set ph_realplayer_rtsp_servers_v4 for 10m "
			       "(it opens realplayer flow data-rtsp to it)\n");
	free(t);
	t = explain_text(c, &st, "tcp 10.0.0.5:40001 -> 192.0.2.7:7070 out syn");
	assert_string_equal(t, "records: server 192.0.2.7 in set ph_realplayer_servers_v4 for 10m "
			       "(it opens realplayer flow data, data-realone to it)\n");
	free(t);
	/* Recorded: accepted, nothing to add. A port no rule opens: no hint either. */
	t = explain_text(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7000 in");
	assert_string_equal(t, "");
	free(t);
	t = explain_text(c, &st, "udp 192.0.2.7:5000 -> 10.0.0.5:7002 in");
	assert_string_equal(t, "");
	free(t);
	ir_state_free(&st);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syntax_round_trip),
		cmocka_unit_test(test_host_client),
		cmocka_unit_test(test_host_server_restricted),
		cmocka_unit_test(test_library_channels),
		cmocka_unit_test(test_gateway),
		cmocka_unit_test(test_deny_stays_broad),
		cmocka_unit_test(test_stateless),
		cmocka_unit_test(test_set_names_avoid_defines),
		cmocka_unit_test(test_bundle_keeps_the_defining_app),
		cmocka_unit_test(test_nft_render),
		cmocka_unit_test(test_ipt_render),
		cmocka_unit_test(test_state_records_in_order),
		cmocka_unit_test(test_state_expires),
		cmocka_unit_test(test_state_only_admitted_packets_record),
		cmocka_unit_test(test_explain_wording_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
