/* Runs of rules merged into sets by the nft lowering (nft_merge.c): which rules merge, the
 * set's shape, each element's provenance, and what must stay apart. */
#include "unit.h"
#include "nft_lower.h"

struct planned {
	struct compilation *c;
	struct nft_plan p;
};

static void plan_of(struct planned *pl, const char *policy)
{
	pl->c = unit_compile_ok(policy);
	nft_plan_build(&pl->c->ir, &pl->p);
	assert_null(nft_plan_rules(&pl->c->ir, &pl->p, NULL));
}

static void plan_free(struct planned *pl)
{
	nft_plan_free(&pl->p);
	unit_free(pl->c);
}

/* The rules of a hook that come from policy statements. */
static size_t policy_rules(const struct planned *pl, enum ir_hook h, const struct nft_lowered **first)
{
	size_t n = 0;
	*first = NULL;
	for (size_t i = 0; i < pl->p.rules[h].n; i++) {
		const struct nft_lowered *l = &pl->p.rules[h].v[i];
		if (!l->rule->origin.stmt_no)
			continue;
		if (!n++)
			*first = l;
	}
	return n;
}

static void test_concatenation(void **state)
{
	(void)state;
	struct planned pl;
	plan_of(&pl, "allow tcp/22 server from 10.0.0.0/24;\nallow tcp/80 server from 10.0.1.0/24;\n"
		     "allow tcp/443-445 server from 10.0.2.0/24;\n"); /* a range: intervals */
	const struct nft_lowered *l;
	assert_int_equal(policy_rules(&pl, IR_INPUT, &l), 1); /* three lines, one lookup */
	assert_int_equal(nft_lowered_members(l), 3);
	const struct nft_setmatch *m = l->setm;
	assert_non_null(m);
	assert_null(m->name); /* a concatenation: anonymous, nft keeps its ranges apart */
	assert_int_equal(m->nfields, 2);
	assert_int_equal(m->field[0], NF_SADDR);
	assert_int_equal(m->field[1], NF_DPORT);
	assert_true(m->interval);
	assert_int_equal(m->elems.n, 3);
	/* every element names its line */
	bool lines[4] = {0};
	for (size_t i = 0; i < m->elems.n; i++)
		for (int line = 1; line <= 3; line++) {
			char want[32];
			snprintf(want, sizeof(want), ".pin:%d ", line);
			if (strstr(nft_elem_comment(m, &m->elems.v[i]), want))
				lines[line] = true;
		}
	assert_true(lines[1] && lines[2] && lines[3]);
	assert_non_null(strstr(l->comment, "+2"));
	char *text = unit_rules_of(pl.c, IR_INPUT);
	free(text);
	plan_free(&pl);
}

/* Sources of one prefix length and single ports: a hash set of masked addresses; a source of
 * another length gets a rule of its own (the rules all accept, so order does not matter). */
static void test_masked_prefixes(void **state)
{
	(void)state;
	struct planned pl;
	plan_of(&pl, "allow tcp/22 server from 10.0.0.0/24;\nallow tcp/80 server from 192.0.2.7;\n"
		     "allow tcp/443 server from 10.0.1.0/24;\nallow tcp/8080 server from 2001:db8:1::/64;\n"
		     "allow tcp/8081 server from 2001:db8:2::/64;\n");
	const struct nft_lowered *l;
	assert_int_equal(policy_rules(&pl, IR_INPUT, &l), 3); /* the /24s, the /32, the /64s */
	size_t masked = 0;
	for (size_t i = 0; i < pl.p.rules[IR_INPUT].n; i++) {
		const struct nft_setmatch *m = pl.p.rules[IR_INPUT].v[i].setm;
		if (!m)
			continue;
		assert_false(m->interval);
		assert_null(m->name);
		assert_int_equal(m->elems.n, 2);
		assert_int_equal(m->masklen[0], m->family == IR_V6 ? 64 : 24);
		assert_int_equal(m->masklen[1], 0);
		masked++;
	}
	assert_int_equal(masked, 2);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct render_info info = {.policy = "p.pin", .version = "test"};
	nft_render(&pl.c->ir, &info, f);
	fclose(f);
	assert_non_null(strstr(text, "ip saddr & 255.255.255.0 . tcp dport {"));
	assert_non_null(strstr(text, "10.0.1.0 . 443 comment \""));
	assert_non_null(strstr(text, "ip6 saddr & ffff:ffff:ffff:ffff:: . tcp dport {"));
	assert_non_null(strstr(text, "ip saddr 192.0.2.7 tcp dport 80 accept"));
	free(text);
	plan_free(&pl);
}

static void test_one_field_ranges_are_named(void **state)
{
	(void)state;
	struct planned pl;
	plan_of(&pl, "allow tcp/22 server from 10.0.0.0/24;\nallow tcp/22 server from 10.0.1.0/24;\n");
	const struct nft_lowered *l;
	assert_int_equal(policy_rules(&pl, IR_INPUT, &l), 1);
	/* adjacent prefixes: an anonymous set would have nft merge them, losing a comment */
	assert_non_null(l->setm->name);
	assert_int_equal(pl.p.merged_sets.n, 1);
	assert_ptr_equal(pl.p.merged_sets.v[0], l->setm);
	plan_free(&pl);
}

static void test_overlap_starts_a_new_rule(void **state)
{
	(void)state;
	struct planned pl;
	plan_of(&pl, "allow tcp/22 server from 10.0.0.0/8;\nallow tcp/22 server from 10.1.0.0/16;\n"
		     "allow tcp/22 server from 192.0.2.1;\n");
	const struct nft_lowered *l;
	/* 10.1.0.0/16 lies inside 10.0.0.0/8: one set cannot hold both */
	assert_int_equal(policy_rules(&pl, IR_INPUT, &l), 2);
	assert_int_equal(nft_lowered_members(l), 0);
	plan_free(&pl);
}

static void test_exact_repeat_adds_nothing(void **state)
{
	(void)state;
	struct planned pl;
	plan_of(&pl, "allow tcp/22 server from 10.0.0.1;\nallow tcp/80 server from 10.0.0.1;\n"
		     "allow tcp/22 server from 10.0.0.1;\nallow tcp/25 server from 10.0.0.1;\n");
	const struct nft_lowered *l;
	assert_int_equal(policy_rules(&pl, IR_INPUT, &l), 1);
	assert_int_equal(nft_lowered_members(l), 4);
	assert_int_equal(l->setm->elems.n, 3); /* line 3 repeats line 1 */
	plan_free(&pl);
}

/* Only neighbours with the same verdict merge: a deny between allows keeps its place. */
static void test_verdicts_stay_apart(void **state)
{
	(void)state;
	struct planned pl;
	plan_of(&pl, "allow tcp/22 server;\nreject tcp/23 server;\nallow tcp/80 server;\n"
		     "deny tcp/24 server;\n");
	const struct nft_lowered *l;
	size_t n = policy_rules(&pl, IR_INPUT, &l);
	/* drop and reject are different verdicts: 3 rules (drop, reject, the two allows) */
	assert_int_equal(n, 3);
	bool merged_allow = false;
	for (size_t i = 0; i < pl.p.rules[IR_INPUT].n; i++) {
		const struct nft_lowered *r = &pl.p.rules[IR_INPUT].v[i];
		if (nft_lowered_members(r))
			merged_allow = r->rule->action == IR_ACCEPT && nft_lowered_members(r) == 2;
	}
	assert_true(merged_allow);
	plan_free(&pl);
}

/* The merged text is what nft reads back: fields joined by '.', one element a line. */
static void test_text(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow tcp/22 server from 10.0.0.1;\n"
						"allow tcp/80 server from 10.0.0.2;\n");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_info info = {.policy = "p.pin", .version = "test"};
	nft_render(&c->ir, &info, f);
	fclose(f);
	assert_non_null(strstr(buf, "ip saddr . tcp dport {\n"));
	assert_non_null(strstr(buf, "10.0.0.1 . 22 comment \""));
	assert_non_null(strstr(buf, "10.0.0.2 . 80 comment \""));
	free(buf);
	unit_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concatenation),
		cmocka_unit_test(test_masked_prefixes),
		cmocka_unit_test(test_one_field_ranges_are_named),
		cmocka_unit_test(test_overlap_starts_a_new_rule),
		cmocka_unit_test(test_exact_repeat_adds_nothing),
		cmocka_unit_test(test_verdicts_stay_apart),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
