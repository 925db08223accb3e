/* The typed matches of an IR rule: one per kind, always in kind order; copies, equality and
 * mirroring; and the one nft lowering both nft forms consume. */
#include "unit.h"
#include "nft_lower.h"

static void test_put_keeps_kind_order(void **state)
{
	(void)state;
	struct ir_rule r;
	ir_rule_init(&r);
	ir_rule_set_ct_state(&r, CT_NEW);
	static const struct ir_portrange p22 = {22, 22};
	ir_rule_set_ports(&r, IR_M_DPORT, &p22, 1);
	ir_rule_set_proto(&r, IR_TCP);
	ir_rule_set_ifname(&r, IR_M_IIF, "eth0");
	assert_int_equal(r.match.n, 4);
	for (size_t i = 1; i < r.match.n; i++)
		assert_true(r.match.v[i - 1].kind < r.match.v[i].kind);
	assert_int_equal(r.match.v[0].kind, IR_M_IIF);
	assert_int_equal(r.match.v[3].kind, IR_M_CT_STATE);
	/* A second match of a kind replaces the first. */
	ir_rule_set_proto(&r, IR_UDP);
	assert_int_equal(r.match.n, 4);
	assert_int_equal(ir_rule_proto(&r), IR_UDP);
	ir_match_del(&r, IR_M_DPORT);
	assert_null(ir_rule_ports(&r, IR_M_DPORT));
	assert_int_equal(r.match.n, 3);
	ir_match_del(&r, IR_M_DPORT); /* absent: nothing happens */
	assert_int_equal(r.match.n, 3);
	ir_rule_free(&r);
}

static void test_copy_and_equal(void **state)
{
	(void)state;
	struct ir_rule a;
	ir_rule_init(&a);
	a.hook = IR_INPUT;
	a.family = IR_V4;
	ir_rule_set_proto(&a, IR_TCP);
	static const struct ir_portrange ports[] = {{139, 139}, {445, 445}};
	ir_rule_set_ports(&a, IR_M_DPORT, ports, 2);
	ir_match_put(&a, IR_M_CT_HELPER)->u.helper = xstrdup("ftp");
	struct ir_rule b = ir_rule_copy(&a);
	assert_true(ir_rule_equal(&a, &b));
	assert_ptr_not_equal(ir_rule_ports(&a, IR_M_DPORT)->v, ir_rule_ports(&b, IR_M_DPORT)->v);
	/* Any one difference tells them apart: a value, a kind, the action, the log. */
	ir_rule_set_tcp_flags(&b, IR_M_TCP_FLAGS_ANY, TCPF_ACK, 0);
	assert_false(ir_rule_equal(&a, &b));
	ir_match_del(&b, IR_M_TCP_FLAGS_ANY);
	assert_true(ir_rule_equal(&a, &b));
	b.log = true;
	assert_false(ir_rule_equal(&a, &b));
	b.log = false;
	static const struct ir_portrange p139 = {139, 139};
	ir_rule_set_ports(&b, IR_M_DPORT, &p139, 1);
	assert_false(ir_rule_equal(&a, &b));
	ir_rule_free(&a);
	ir_rule_free(&b);
}

static void test_mirror_swaps_ends(void **state)
{
	(void)state;
	struct ir_rule r;
	ir_rule_init(&r);
	ir_rule_set_ifname(&r, IR_M_OIF, "wan0");
	static const struct ir_portrange hi = {1024, 65535}, p80 = {80, 80};
	ir_rule_set_ports(&r, IR_M_SPORT, &hi, 1);
	ir_rule_set_ports(&r, IR_M_DPORT, &p80, 1);
	struct ir_setref *in = &ir_match_put(&r, IR_M_IN_SET)->u.set;
	in->name = xstrdup("ph_x_servers_v4");
	in->src = false;
	ir_rule_mirror(&r);
	assert_non_null(ir_match_get(&r, IR_M_IIF));
	assert_null(ir_match_get(&r, IR_M_OIF));
	assert_int_equal(ir_rule_ports(&r, IR_M_SPORT)->v[0].lo, 80);
	assert_int_equal(ir_rule_ports(&r, IR_M_DPORT)->v[0].lo, 1024);
	assert_true(ir_rule_in_set(&r)->src);
	for (size_t i = 1; i < r.match.n; i++)
		assert_true(r.match.v[i - 1].kind < r.match.v[i].kind);
	ir_rule_free(&r);
	/* "to=from" keeps its pair. */
	ir_rule_init(&r);
	static const struct ir_portrange p137 = {137, 138};
	ir_rule_set_ports(&r, IR_M_SAME_PORT, &p137, 1);
	ir_rule_mirror(&r);
	assert_non_null(ir_rule_ports(&r, IR_M_SAME_PORT));
	assert_null(ir_rule_ports(&r, IR_M_SPORT));
	ir_rule_free(&r);
}

/* Both nft forms get their dependencies from the lowering: implicit ones are in the steps
 * (for netlink) and left out of the text. */
static void test_lowering_dependencies(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ssh server from 10.0.0.0/8;\nallow dhcp client;");
	struct nft_plan p;
	nft_plan_build(&c->ir, &p);
	bool saw_addr = false, saw_explicit_nfproto = false, saw_pair = false;
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (!r->origin.app)
			continue;
		struct nft_lowered l;
		char *why = NULL;
		assert_true(nft_lower_rule(&p, r, &l, &why));
		assert_null(why);
		for (size_t k = 0; k < l.steps.n; k++) {
			const struct nft_step *s = &l.steps.v[k];
			if (s->kind == NS_ADDR) {
				/* an address needs the family first: nft adds it, so it is implicit */
				assert_true(k > 0 && l.steps.v[k - 1].kind == NS_NFPROTO && l.steps.v[k - 1].implicit);
				saw_addr = true;
			}
			if (s->kind == NS_NFPROTO && !s->implicit)
				saw_explicit_nfproto = true;
			if (s->kind == NS_PORT_PAIR) /* dhcp: sport 68 dport 67 as one compare */
				saw_pair |= s->u.pair.sport == 68 && s->u.pair.dport == 67;
		}
		char *text = nft_rule_text(&c->ir, r);
		bool explicit = false;
		for (size_t k = 0; k < l.steps.n; k++)
			explicit |= l.steps.v[k].kind == NS_NFPROTO && !l.steps.v[k].implicit;
		/* the text says `meta nfproto` exactly when the step is explicit */
		assert_int_equal(strstr(text, "meta nfproto") != NULL, explicit);
		free(text);
		nft_lowered_free(&l);
	}
	assert_true(saw_addr);
	assert_true(saw_pair);
	assert_true(saw_explicit_nfproto); /* dhcp's IPv4 broadcast flows: the family alone */
	nft_plan_free(&p);
	unit_free(c);
}

/* IR nftables cannot express is refused by the lowering, for both forms alike. */
static void test_lowering_refuses(void **state)
{
	(void)state;
	struct ir_rule r;
	ir_rule_init(&r);
	r.hook = IR_INPUT;
	ir_rule_set_ifname(&r, IR_M_IIF, "a-very-long-interface-name");
	struct ir_ruleset rs = unit_ruleset_of(&r);
	char *why = NULL;
	assert_ptr_equal(nft_check(&rs, &why), &rs.rules.v[0]);
	assert_non_null(strstr(why, "longer than 15"));
	free(why);
	ir_rule_free(&r);
	/* A set lookup without a family has no header offset to read. */
	ir_rule_init(&r);
	r.hook = IR_INPUT;
	struct ir_setref *in = &ir_match_put(&r, IR_M_IN_SET)->u.set;
	in->name = xstrdup("ph_nowhere_v4");
	rs = unit_ruleset_of(&r);
	assert_non_null(nft_check(&rs, &why));
	free(why);
	ir_rule_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_keeps_kind_order),
		cmocka_unit_test(test_copy_and_equal),
		cmocka_unit_test(test_mirror_swaps_ends),
		cmocka_unit_test(test_lowering_dependencies),
		cmocka_unit_test(test_lowering_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
