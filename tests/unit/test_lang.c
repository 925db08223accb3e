/* The language's gateway and multi-homed words: `any`, `except` (an exact prefix
 * difference), `on ADDRS` and a zone's `default reject`, as the IR and the evaluator see them. */
#include "addr.h"
#include "packet.h"
#include "unit.h"

static prefix_vec parse_list(const char *const *texts)
{
	prefix_vec v = {0};
	for (; *texts; texts++) {
		struct ir_prefix p;
		char *why = NULL;
		assert_true(prefix_parse(*texts, &p, &why));
		VEC_PUSH(v, p);
	}
	return v;
}

static char *format_list(const prefix_vec *v)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < v->n; i++) {
		char buf[64];
		ir_prefix_format(&v->v[i], buf, sizeof(buf));
		sb_printf(&sb, "%s%s", i ? " " : "", buf);
	}
	return sb_steal(&sb);
}

/* The difference is exact: what is left plus what was taken out is the list again, and no
 * address of an exception is left. */
static void test_subtract(void **state)
{
	(void)state;
	static const char *const base[] = {"10.0.0.0/8", "2001:db8::/32", "192.0.2.0/24", NULL};
	static const char *const ex[] = {"10.99.0.0/16", "10.1.2.3", "192.0.2.0/24", "2001:db8:ffff::/48", NULL};
	prefix_vec v = parse_list(base), e = parse_list(ex);
	prefixes_subtract(&v, &e);
	char *s = format_list(&v);
	assert_string_equal(s,
		"10.0.0.0/16 10.1.0.0/23 10.1.2.0/31 10.1.2.2 10.1.2.4/30 10.1.2.8/29 10.1.2.16/28 "
		"10.1.2.32/27 10.1.2.64/26 10.1.2.128/25 10.1.3.0/24 10.1.4.0/22 10.1.8.0/21 10.1.16.0/20 "
		"10.1.32.0/19 10.1.64.0/18 10.1.128.0/17 10.2.0.0/15 10.4.0.0/14 10.8.0.0/13 10.16.0.0/12 "
		"10.32.0.0/11 10.64.0.0/11 10.96.0.0/15 10.98.0.0/16 10.100.0.0/14 10.104.0.0/13 "
		"10.112.0.0/12 10.128.0.0/9 2001:db8::/33 2001:db8:8000::/34 2001:db8:c000::/35 "
		"2001:db8:e000::/36 2001:db8:f000::/37 2001:db8:f800::/38 2001:db8:fc00::/39 "
		"2001:db8:fe00::/40 2001:db8:ff00::/41 2001:db8:ff80::/42 2001:db8:ffc0::/43 "
		"2001:db8:ffe0::/44 2001:db8:fff0::/45 2001:db8:fff8::/46 2001:db8:fffc::/47 "
		"2001:db8:fffe::/48");
	for (size_t i = 0; i < v.n; i++)
		for (size_t k = 0; k < e.n; k++) {
			assert_false(prefix_covers(&e.v[k], &v.v[i]));
			assert_false(prefix_covers(&v.v[i], &e.v[k]));
		}
	free(s);
	VEC_FREE(v);
	VEC_FREE(e);
}

static const char *const GW =
	"zone lan { interface lan0; address 10.1.0.0/24, fd00:1::/64; }\n"
	"zone wan { interface wan0; default reject; }\n"
	"allow any from lan except 10.1.0.66 to wan;\n"
	"allow http server on 10.1.0.1, fd00:1::1 from lan;\n";

static void test_gateway_eval(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok(GW);
	/* any: every protocol from lan to wan */
	struct ir_verdict v = unit_eval_text(c, "udp 10.1.0.2:5000 -> 192.0.2.9:9999 fwd iif lan0 oif wan0 new");
	assert_int_equal(v.action, IR_ACCEPT);
	assert_int_equal(v.rule->origin.line, 3);
	v = unit_eval_text(c, "tcp [fd00:1::2]:5000 -> [2001:db8::9]:1 fwd iif lan0 oif wan0 syn new");
	assert_int_equal(v.action, IR_ACCEPT);
	/* except: the excepted host is not let out; lan has no default: the chain's drop */
	v = unit_eval_text(c, "tcp 10.1.0.66:5000 -> 192.0.2.9:443 fwd iif lan0 oif wan0 syn new");
	assert_int_equal(v.action, IR_DROP);
	assert_null(v.rule);
	/* the other way: wan's default reject, named by its line */
	v = unit_eval_text(c, "tcp 192.0.2.9:5000 -> 10.1.0.2:22 fwd iif wan0 oif lan0 syn new");
	assert_int_equal(v.action, IR_REJECT);
	assert_non_null(v.rule);
	assert_int_equal(v.rule->origin.line, 2);
	assert_int_equal(ir_rule_proto(v.rule), IR_TCP);
	v = unit_eval_text(c, "udp [2001:db8::9]:5000 -> [2001:db8:2::1]:53 in iif wan0 new");
	assert_int_equal(v.action, IR_REJECT);
	assert_int_equal(ir_rule_proto(v.rule), 0);
	/* on: http to the lan address, not to another address of the gateway */
	v = unit_eval_text(c, "tcp 10.1.0.2:5000 -> 10.1.0.1:80 in iif lan0 syn new");
	assert_int_equal(v.action, IR_ACCEPT);
	v = unit_eval_text(c, "tcp 10.1.0.2:5000 -> 203.0.113.1:80 in iif lan0 syn new");
	assert_int_equal(v.action, IR_DROP);
	v = unit_eval_text(c, "tcp [fd00:1::2]:5000 -> [fd00:1::1]:80 in iif lan0 syn new");
	assert_int_equal(v.action, IR_ACCEPT);
	unit_free(c);
}

/* Stateless `on`: the server's answers leave from the bound address only. */
static void test_on_stateless(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("established only;\n"
						"allow tcp/8080 server on 192.0.2.5 from 198.51.100.0/24;\n");
	char *out = unit_rules_of(c, IR_OUTPUT);
	assert_non_null(strstr(out, "ip saddr 192.0.2.5 ip daddr 198.51.100.0/24 tcp sport 8080"));
	struct ir_verdict v = unit_eval_text(c, "tcp 192.0.2.5:8080 -> 198.51.100.7:40000 out ack");
	assert_int_equal(v.action, IR_ACCEPT);
	v = unit_eval_text(c, "tcp 192.0.2.6:8080 -> 198.51.100.7:40000 out ack");
	assert_int_equal(v.action, IR_DROP);
	/* one family only: no IPv6 rule at all */
	v = unit_eval_text(c, "tcp [2001:db8::7]:40000 -> [2001:db8::5]:8080 in syn");
	assert_int_equal(v.action, IR_DROP);
	free(out);
	unit_free(c);
}

/* `reject any`: TCP first (a reset), then every protocol (unreachable). */
static void test_reject_any(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("zone a { interface a0; }\nzone b { interface b0; }\n"
						"reject any from a to b;\n");
	char *fwd = unit_rules_of(c, IR_FORWARD);
	assert_string_equal(fwd,
		"iifname \"a0\" oifname \"b0\" meta l4proto tcp reject with tcp reset\n"
		"iifname \"a0\" oifname \"b0\" reject\n");
	free(fwd);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subtract),
		cmocka_unit_test(test_gateway_eval),
		cmocka_unit_test(test_on_stateless),
		cmocka_unit_test(test_reject_any),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
