/*
 * The exact analysis against a brute-force oracle: random small IR policies over a tiny
 * universe of addresses, ports, interfaces, states and flags, chosen so that every class of
 * packets the rules can tell apart has a member in the universe. Every universe packet is
 * decided by the IR evaluator and by the BDDs; each statement's class (shadowed, covered,
 * unneeded, live) is checked against evaluating the policy with the statement taken out;
 * packets that built-in rules (stmt_no 0) decide belong to no statement.
 * 0 false positives, 0 false negatives. A first corpus varies addresses, ports, flags, states
 * and input interfaces, with protocol-less rules (`allow any`) and a zone's `default reject`
 * tail rules; a second the remaining kinds (output interface, ICMP type, helper, DNAT,
 * local destination, dynamic sets, output hook); a third the first's with rate-limited rules,
 * each packet in every budget state; a fourth port forwards (DNAT rules), each packet as it
 * arrives, through exact_arriving.
 */
#include "exact.h"
#include "natview.h"
#include "overlap.h"
#include "unit.h"

static uint32_t seed = 12345;
static uint32_t rnd(uint32_t n)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 16) % n;
}

/* Universe: base+0, base+1, outside. */
static void uaddr(uint8_t family, int k, uint8_t *out)
{
	memset(out, 0, 16);
	if (family == IR_V4) {
		out[0] = k == 2 ? 11 : 10;
		out[3] = (uint8_t)(k == 2 ? 0 : k);
	} else {
		out[0] = k == 2 ? 0xfe : 0xfd;
		out[15] = (uint8_t)(k == 2 ? 0 : k);
	}
}

static void add_addrs(struct ir_rule *r, enum ir_match_kind k, uint8_t family)
{
	struct ir_match *m = ir_match_put(r, k);
	size_t n = 1 + rnd(2);
	m->u.addrs.v = xcalloc(n, sizeof(struct ir_prefix));
	m->u.addrs.n = n;
	for (size_t i = 0; i < n; i++) {
		struct ir_prefix *p = &m->u.addrs.v[i];
		p->family = family ? family : (rnd(2) ? IR_V4 : IR_V6);
		int w = (int)rnd(3); /* a host, or base/31 (/127) */
		uaddr(p->family, w == 2 ? 0 : (int)rnd(2), p->addr);
		p->len = (uint8_t)((p->family == IR_V4 ? 32 : 128) - (w == 2));
	}
}

static void random_rule(struct ir_rule *r, int stmt, enum ir_action a)
{
	ir_rule_init(r);
	r->hook = rnd(2) ? IR_INPUT : IR_FORWARD;
	r->family = (uint8_t)(rnd(3) == 0 ? IR_V4 : rnd(2) ? IR_V6 : IR_ANY);
	r->action = a;
	r->origin.stmt_no = stmt;
	r->origin.line = stmt;
	static const char *ifs[] = {"eth0", "eth*", "wlan0"};
	if (rnd(4) == 0)
		ir_rule_set_ifname(r, IR_M_IIF, ifs[rnd(3)]);
	if (rnd(3) == 0)
		add_addrs(r, IR_M_SADDR, r->family);
	if (rnd(3) == 0)
		add_addrs(r, IR_M_DADDR, r->family);
	if (rnd(8) == 0)
		ir_match_put(r, IR_M_FRAGMENT);
	if (rnd(3)) {
		ir_rule_set_proto(r, rnd(2) ? IR_TCP : IR_UDP);
		struct ir_portrange pr = {(uint16_t)(1 + rnd(2)), 0};
		pr.hi = (uint16_t)(pr.lo + rnd(3 - pr.lo));
		if (rnd(2))
			ir_rule_set_ports(r, IR_M_DPORT, &pr, 1);
		if (rnd(3) == 0) {
			pr.lo = pr.hi = (uint16_t)(1 + rnd(2));
			ir_rule_set_ports(r, rnd(4) ? IR_M_SPORT : IR_M_SAME_PORT, &pr, 1);
		}
		if (rnd(5) == 0)
			ir_rule_set_tcp_flags(r, IR_M_TCP_FLAGS, TCPF_SYN | TCPF_ACK, rnd(2) ? TCPF_SYN : 0);
		if (rnd(7) == 0)
			ir_rule_set_tcp_flags(r, IR_M_TCP_FLAGS_ANY, TCPF_SYN | TCPF_ACK, 0);
	}
	if (rnd(2))
		ir_rule_set_ct_state(r, (uint8_t)(1 + rnd(15)));
}

struct universe { struct ir_packet *v; size_t n; bool *member; /* NULL: sets empty */ };

static void make_universe(struct universe *u)
{
	static const char *ifs[] = {NULL, "eth0", "eth1", "wlan0", "lo"};
	static const uint8_t protos[] = {IR_TCP, IR_UDP, IR_ICMP};
	static const uint8_t flags[] = {0, TCPF_SYN, TCPF_ACK, TCPF_SYN | TCPF_ACK};
	u->n = 0;
	u->member = NULL;
	u->v = xcalloc(2 * 2 * 9 * 3 * 16 * 4 * 5 * 2 * 4, sizeof(*u->v));
	for (int h = 0; h < 2; h++)
	for (int f = 0; f < 2; f++)
	for (int sa = 0; sa < 3; sa++)
	for (int da = 0; da < 3; da++)
	for (int pr = 0; pr < 3; pr++)
	for (int sp = 0; sp < 4; sp++)
	for (int dp = 0; dp < 4; dp++)
	for (int ct = 0; ct < 4; ct++)
	for (int i = 0; i < 5; i++)
	for (int fr = 0; fr < 2; fr++)
	for (int fl = 0; fl < 4; fl++) {
		struct ir_packet *p = &u->v[u->n++];
		p->hook = h ? IR_FORWARD : IR_INPUT;
		p->family = f ? IR_V6 : IR_V4;
		uaddr(p->family, sa, p->saddr);
		uaddr(p->family, da, p->daddr);
		p->l4proto = protos[pr];
		p->sport = (uint16_t)sp;
		p->dport = (uint16_t)dp;
		p->ct_state = (uint8_t)(1 << ct);
		p->iif = ifs[i];
		p->fragment = fr;
		p->tcp_flags = flags[fl];
		p->icmp_type = -1;
	}
}

static const char *cls_name(enum exact_class c)
{
	static const char *n[] = {"none", "live", "shadowed", "covered", "unneeded"};
	return n[c];
}

/* The budgets spent in budget state `mask` (bit k: the analysis' limited rule k). */
struct budgets { const struct ir_match *spent[8]; size_t n; };

static void budgets_of(const struct pktspace *ps, unsigned mask, struct budgets *b)
{
	b->n = 0;
	for (size_t k = 0; k < ps->nlim; k++)
		if (mask & (1u << k))
			b->spent[b->n++] = ps->limv[k];
}

/* The evaluator's verdict with every dynamic set empty, or (member) holding every address,
 * and the budgets `b` spent (NULL: none). */
static struct ir_verdict eval_as(const struct ir_ruleset *rs, const struct ir_packet *p, bool member,
				 const struct budgets *b)
{
	struct ir_state st = {.assume_member = member, .spent = b ? b->spent : NULL, .nspent = b ? b->n : 0};
	return ir_eval_state(rs, p, &st);
}

static void check_policy(struct ir_ruleset *rs, int nstmt, const struct universe *u,
			 enum ir_action *acts)
{
	struct exact x;
	assert_true(exact_analyze(&x, rs, (size_t)nstmt));
	uint8_t *vals = xcalloc((size_t)x.ps.nvars, 1);
	bool decides[16] = {0}, matched[16] = {0}, opposite[16] = {0}, changes[16] = {0};
	/* every packet in every budget state: each limited rule's budget spent or not */
	assert_true(x.ps.nlim <= 8);
	size_t states = (size_t)1 << x.ps.nlim, n = u->n * states;
	enum ir_action *base = xcalloc(n, sizeof(*base));
	for (size_t ks = 0; ks < n; ks++) {
		size_t k = ks / states;
		struct budgets b;
		budgets_of(&x.ps, (unsigned)(ks % states), &b);
		const struct ir_packet *p = &u->v[k];
		bool in_sets = u->member && u->member[k];
		struct ir_verdict v = eval_as(rs, p, in_sets, &b);
		base[ks] = v.action;
		pks_assign(&x.ps, p, vals);
		for (size_t i = 0; i < x.ps.setv.n; i++)
			vals[x.ps.sets.first + (int)i] = in_sets;
		for (size_t i = 0; i < x.ps.nlim; i++)
			vals[x.ps.limits.first + (int)i] = !((ks % states) & (1u << i));
		/* exactly the deciding rule's decided space holds the packet */
		for (size_t i = 0; i < rs->rules.n; i++) {
			bool in = pks_member(x.eff[i], vals);
			if (in != (v.rule == &rs->rules.v[i]))
				fail_msg("packet %zu (budgets %zu): rule %zu eff %d, evaluator %d", k, ks % states, i, in, v.rule == &rs->rules.v[i]);
			const struct ir_rule *r = &rs->rules.v[i];
			struct ir_state st = {.assume_member = in_sets, .spent = b.spent, .nspent = b.n};
			bool m = ir_rule_matches_state(r, p, &st);
			assert_int_equal(pks_member(x.match[i], vals), m);
			bool by_builtin = v.rule && !v.rule->origin.stmt_no;
			if (m && r->origin.stmt_no && !by_builtin) {
				matched[r->origin.stmt_no] = true;
				if (v.action != r->action)
					opposite[r->origin.stmt_no] = true;
			}
		}
		if (v.rule)
			decides[v.rule->origin.stmt_no] = true;
	}
	/* each statement taken out */
	struct ir_rule *view = xcalloc(rs->rules.n, sizeof(*view));
	for (int s = 1; s <= nstmt; s++) {
		struct ir_ruleset w = {0};
		for (size_t i = 0; i < rs->rules.n; i++)
			if (rs->rules.v[i].origin.stmt_no != s)
				view[w.rules.n++] = rs->rules.v[i];
		w.rules.v = view;
		for (size_t ks = 0; ks < n && !changes[s]; ks++) {
			struct budgets b;
			budgets_of(&x.ps, (unsigned)(ks % states), &b);
			size_t k = ks / states;
			changes[s] = eval_as(&w, &u->v[k], u->member && u->member[k], &b).action != base[ks];
		}
	}
	for (int s = 1; s <= nstmt; s++) {
		enum exact_class want = !matched[s] ? EX_NONE
			: !decides[s] ? (opposite[s] ? EX_SHADOWED : EX_COVERED)
			: changes[s] ? EX_LIVE : EX_UNNEEDED;
		if (x.st[s - 1].cls != want)
			fail_msg("seed %u statement %d (%s): exact says %s, oracle %s", seed, s,
				 ir_action_name(acts[s]), cls_name(x.st[s - 1].cls), cls_name(want));
	}
	free(view);
	free(base);
	free(vals);
	exact_free(&x);
}

/* The overlap index (overlap.h) leaves out no rule that shares a packet with the rule asked
 * about, and overlap_count counts what overlap_query lists. */
static void check_overlap(const struct ir_ruleset *rs, const struct exact *x)
{
	bool *want = xcalloc(rs->rules.n + 1, sizeof(bool));
	for (size_t i = 0; i < rs->rules.n; i++)
		want[i] = exact_deciding(&rs->rules.v[i]);
	struct overlap ov;
	overlap_build(&ov, rs, want);
	ov_rules v = {0};
	for (size_t i = 0; i < rs->rules.n; i++) {
		if (!want[i])
			continue;
		v.n = 0;
		overlap_query(&ov, &rs->rules.v[i], &v);
		assert_int_equal(overlap_count(&ov, &rs->rules.v[i]), v.n);
		for (size_t j = 0; j < rs->rules.n; j++) {
			if (!want[j])
				continue;
			BDD t = pks_and(x->match[i], x->match[j]);
			bool listed = false;
			for (size_t k = 0; k < v.n && !listed; k++)
				listed = v.v[k] == j;
			if (t != bddfalse && !listed)
				fail_msg("seed %u: rules %zu and %zu overlap, the index leaves the second out", seed, i, j);
			/* pks_meets (the walk that builds nothing) says what the conjunction says */
			if (pks_meets(x->match[i], x->match[j]) != (t != bddfalse))
				fail_msg("seed %u: rules %zu and %zu: pks_meets disagrees with bdd_and", seed, i, j);
			BDD e = pks_and(x->eff[i], x->match[j]);
			if (pks_meets(x->eff[i], x->match[j]) != (e != bddfalse))
				fail_msg("seed %u: rules %zu (decided) and %zu: pks_meets disagrees", seed, i, j);
			bdd_delref(e);
			bdd_delref(t);
		}
	}
	VEC_FREE(v);
	overlap_free(&ov);
	free(want);
}

/* One random policy: the oracle's checks, then its statements' classes counted; frees rs. */
static void check_and_count(struct ir_ruleset *rs, int nstmt, const struct universe *u,
			    enum ir_action *acts, int *counts)
{
	/* by the overlap index's candidates, and by the whole-policy unions: the same */
	size_t few = exact_few;
	exact_few = 0;
	check_policy(rs, nstmt, u, acts);
	exact_few = few;
	check_policy(rs, nstmt, u, acts);
	struct exact x;
	assert_true(exact_analyze(&x, rs, (size_t)nstmt));
	check_overlap(rs, &x);
	for (int s = 0; s < nstmt; s++)
		counts[x.st[s].cls]++;
	exact_free(&x);
	ir_ruleset_free(rs);
}

/* The corpus exercises every class (but `except`, if not -1), or the test proves little. */
static void require_classes(const int *counts, int except)
{
	for (int c = 0; c < 5; c++)
		if (!counts[c] && c != except)
			fail_msg("no statement of class %s in the corpus", cls_name((enum exact_class)c));
}

static void test_oracle(void **state)
{
	(void)state;
	struct universe u;
	make_universe(&u);
	int counts[5] = {0};
	for (int round = 0; round < 30; round++) {
		struct ir_ruleset rs = {0};
		int nstmt = 3 + (int)rnd(5);
		enum ir_action acts[16];
		/* built-in rules (stmt_no 0) first, as the loopback, established and invalid ones */
		for (int k = (int)rnd(3); k > 0; k--) {
			struct ir_rule r;
			random_rule(&r, 0, rnd(2) ? IR_ACCEPT : IR_DROP);
			r.origin.builtin = "test";
			VEC_PUSH(rs.rules, r);
		}
		for (int s = 1; s <= nstmt; s++) {
			acts[s] = rnd(3) ? IR_ACCEPT : rnd(2) ? IR_DROP : IR_REJECT;
			int nr = 1 + (int)rnd(2);
			for (int k = 0; k < nr; k++) {
				struct ir_rule r;
				random_rule(&r, s, acts[s]);
				VEC_PUSH(rs.rules, r);
			}
		}
		/* a zone's `default reject` (expand_zone_defaults): after every statement, stmt_no
		 * 0 and no built-in name, TCP first then every protocol, by input interface */
		if (rnd(2)) {
			enum ir_hook h = rnd(2) ? IR_INPUT : IR_FORWARD;
			for (int tcp = 1; tcp >= 0; tcp--) {
				struct ir_rule r;
				ir_rule_init(&r);
				r.hook = h;
				r.action = IR_REJECT;
				r.origin.line = 99;
				ir_rule_set_ifname(&r, IR_M_IIF, rnd(2) ? "eth*" : "wlan0");
				if (tcp)
					ir_rule_set_proto(&r, IR_TCP);
				VEC_PUSH(rs.rules, r);
			}
		}
		check_and_count(&rs, nstmt, &u, acts, counts);
	}
	/* the corpus exercises every class, or the test proves little */
	require_classes(counts, -1);
	free(u.v);
}

/* A third corpus: the first's rules, some of them rate-limited (at most 3 a policy, each its
 * own budget), every packet checked with each budget spent or not. A limited rule never
 * decides all it matches, and a limited allow that unlimited ones undo is "unneeded". */
static void test_oracle_limits(void **state)
{
	(void)state;
	struct universe u;
	make_universe(&u);
	int counts[5] = {0}, limited = 0;
	for (int round = 0; round < 12; round++) {
		struct ir_ruleset rs = {0};
		int nstmt = 3 + (int)rnd(4), nlim = 0;
		enum ir_action acts[16];
		for (int s = 1; s <= nstmt; s++) {
			acts[s] = rnd(3) ? IR_ACCEPT : rnd(2) ? IR_DROP : IR_REJECT;
			bool lim = nlim < 3 && rnd(2);
			int nr = 1 + (int)rnd(2);
			for (int k = 0; k < nr; k++) {
				struct ir_rule r;
				random_rule(&r, s, acts[s]);
				if (lim && nlim < 3) {
					struct ir_match *m = ir_match_put(&r, IR_M_LIMIT);
					m->u.limit.rate = 10;
					m->u.limit.burst = 5;
					nlim++;
				}
				VEC_PUSH(rs.rules, r);
			}
			limited += lim;
		}
		check_and_count(&rs, nstmt, &u, acts, counts);
	}
	free(u.v);
	assert_true(limited > 0);
	/* every class but "covered" (the first corpus has it; here half the statements are
	 * limited, and a limited rule covers nothing) */
	require_classes(counts, EX_COVERED);
}

/* A limited allow before an unlimited one of the same packets decides packets (those within
 * its budget), but without it the unlimited one would decide them alike: unneeded, and the
 * unlimited one stays live (what exceeds the budget). */
static void test_limit_undone(void **state)
{
	(void)state;
	struct ir_ruleset rs = {0};
	for (int s = 1; s <= 2; s++) {
		struct ir_rule r;
		ir_rule_init(&r);
		r.hook = IR_INPUT;
		r.action = IR_ACCEPT;
		r.origin.stmt_no = r.origin.line = s;
		ir_rule_set_proto(&r, IR_TCP);
		struct ir_portrange pr = {22, 22};
		ir_rule_set_ports(&r, IR_M_DPORT, &pr, 1);
		if (s == 1) {
			struct ir_match *m = ir_match_put(&r, IR_M_LIMIT);
			m->u.limit.rate = 10;
			m->u.limit.burst = 5;
		}
		VEC_PUSH(rs.rules, r);
	}
	struct exact x;
	assert_true(exact_analyze(&x, &rs, 2));
	assert_int_equal(x.st[0].cls, EX_UNNEEDED);
	assert_int_equal(x.st[0].nlines, 1);
	assert_int_equal(x.st[0].lines[0], 2);
	assert_int_equal(x.st[1].cls, EX_LIVE);
	exact_free(&x);
	ir_ruleset_free(&rs);
}

/* The second corpus: rules over the kinds the first leaves out, on all three filter hooks. */
static void random_rule_kinds(struct ir_rule *r, int stmt, enum ir_action a)
{
	ir_rule_init(r);
	static const enum ir_hook hooks[] = {IR_INPUT, IR_FORWARD, IR_OUTPUT};
	r->hook = hooks[rnd(3)];
	r->family = (uint8_t)(rnd(3) == 0 ? IR_V4 : rnd(2) ? IR_V6 : IR_ANY);
	r->action = a;
	r->origin.stmt_no = stmt;
	r->origin.line = stmt;
	if (rnd(4) == 0)
		ir_rule_set_ifname(r, IR_M_IIF, rnd(2) ? "eth0" : "eth*");
	if (rnd(3) == 0)
		ir_rule_set_ifname(r, IR_M_OIF, "eth0");
	if (rnd(3) == 0)
		ir_rule_set_proto(r, rnd(2) ? IR_TCP : IR_ICMP);
	if (rnd(4) == 0)
		ir_rule_set_icmp_type(r, 8);
	if (rnd(8) == 0)
		ir_match_put(r, IR_M_FRAGMENT);
	if (rnd(4) == 0)
		ir_match_put(r, IR_M_CT_HELPER)->u.helper = xstrdup("ftp");
	if (rnd(4) == 0)
		ir_match_put(r, IR_M_CT_DNAT);
	if (rnd(5) == 0)
		ir_match_put(r, IR_M_DADDR_LOCAL);
	if (rnd(4) == 0) {
		struct ir_match *m = ir_match_put(r, IR_M_IN_SET);
		m->u.set.name = xstrdup("peers");
		m->u.set.src = true;
		m->u.set.keyed = rnd(2);
	}
	if (rnd(2))
		ir_rule_set_ct_state(r, (uint8_t)(1 + rnd(15)));
}

/* One packet per class those rules can tell apart: interfaces eth0, eth1 (eth*), lo (any
 * other name, or none); output eth0 or another; TCP, ICMP or another protocol; ICMP type 8,
 * another or none; helper ftp, another or none; each state, DNAT, local destination,
 * fragment; sets empty or holding every address. A new packet in or forwarded is never
 * local when the filter sees it (the evaluator clears it after the DNAT chain). */
static void make_universe_kinds(struct universe *u)
{
	static const enum ir_hook hooks[] = {IR_INPUT, IR_FORWARD, IR_OUTPUT};
	static const char *iifs[] = {"eth0", "eth1", "lo"}, *oifs[] = {"eth0", "lo"};
	static const uint8_t protos[] = {IR_TCP, IR_ICMP, IR_UDP};
	static const int types[] = {-1, 8, 0};
	static const char *helpers[] = {NULL, "ftp", "irc"};
	size_t max = 3 * 2 * 3 * 3 * 3 * 2 * 3 * 4 * 2 * 2 * 2 * 2;
	u->n = 0;
	u->v = xcalloc(max, sizeof(*u->v));
	u->member = xcalloc(max, sizeof(*u->member));
	for (int h = 0; h < 3; h++)
	for (int f = 0; f < 2; f++)
	for (int pr = 0; pr < 3; pr++)
	for (int ty = 0; ty < 3; ty++)
	for (int i = 0; i < 3; i++)
	for (int o = 0; o < 2; o++)
	for (int he = 0; he < 3; he++)
	for (int ct = 0; ct < 4; ct++)
	for (int dn = 0; dn < 2; dn++)
	for (int lo = 0; lo < 2; lo++)
	for (int fr = 0; fr < 2; fr++)
	for (int me = 0; me < 2; me++) {
		bool first = (1 << ct) == CT_NEW && !dn && hooks[h] != IR_OUTPUT;
		if (first && lo)
			continue;
		struct ir_packet *p = &u->v[u->n];
		u->member[u->n++] = me;
		p->hook = hooks[h];
		p->family = f ? IR_V6 : IR_V4;
		uaddr(p->family, 0, p->saddr);
		uaddr(p->family, 1, p->daddr);
		p->l4proto = protos[pr];
		p->icmp_type = types[ty];
		p->iif = iifs[i];
		p->oif = oifs[o];
		p->ct_helper = helpers[he];
		p->ct_state = (uint8_t)(1 << ct);
		p->dnat = dn;
		p->dst_local = lo;
		p->fragment = fr;
	}
}

static void test_oracle_kinds(void **state)
{
	(void)state;
	struct universe u;
	make_universe_kinds(&u);
	int counts[5] = {0};
	for (int round = 0; round < 30; round++) {
		struct ir_ruleset rs = {0};
		int nstmt = 3 + (int)rnd(5);
		enum ir_action acts[16];
		for (int s = 1; s <= nstmt; s++) {
			acts[s] = rnd(3) ? IR_ACCEPT : rnd(2) ? IR_DROP : IR_REJECT;
			int nr = 1 + (int)rnd(2);
			for (int k = 0; k < nr; k++) {
				struct ir_rule r;
				random_rule_kinds(&r, s, acts[s]);
				VEC_PUSH(rs.rules, r);
			}
		}
		check_and_count(&rs, nstmt, &u, acts, counts);
	}
	require_classes(counts, -1);
	free(u.v);
	free(u.member);
}

/* The NAT corpus: DNAT rules (port forwards: input interface, protocol, port, this host's
 * address or not; new address of either family and maybe a new port; now and then a DSTNAT
 * rule that translates nothing), then the first corpus's rules, half of them forwarded
 * accepts of translated connections (`ct status dnat`), then masquerade and snat rules
 * (output interface, sources). Returns the statements. */
static int nat_corpus(struct ir_ruleset *rs)
{
	for (int k = 1 + (int)rnd(3); k > 0; k--) {
		struct ir_rule r;
		ir_rule_init(&r);
		r.hook = IR_DSTNAT;
		r.action = rnd(5) ? IR_DNAT : IR_ACCEPT;
		r.origin.line = 50 + k;
		if (rnd(2))
			ir_rule_set_ifname(&r, IR_M_IIF, rnd(2) ? "eth0" : "eth*");
		if (rnd(3))
			ir_match_put(&r, IR_M_DADDR_LOCAL);
		ir_rule_set_proto(&r, rnd(2) ? IR_TCP : IR_UDP);
		struct ir_portrange pr = {(uint16_t)(1 + rnd(3)), 0};
		pr.hi = pr.lo;
		ir_rule_set_ports(&r, IR_M_DPORT, &pr, 1);
		r.nat.addr.family = rnd(2) ? IR_V4 : IR_V6;
		uaddr(r.nat.addr.family, (int)rnd(2), r.nat.addr.addr);
		r.nat.addr.len = r.nat.addr.family == IR_V6 ? 128 : 32;
		r.nat.port = (uint16_t)rnd(4);
		VEC_PUSH(rs->rules, r);
	}
	int nstmt = 3 + (int)rnd(4);
	for (int s = 1; s <= nstmt; s++) {
		struct ir_rule r;
		random_rule(&r, s, rnd(3) ? IR_ACCEPT : IR_DROP);
		if (rnd(2)) {
			r.hook = IR_FORWARD;
			ir_match_put(&r, IR_M_CT_DNAT);
		}
		VEC_PUSH(rs->rules, r);
	}
	/* source translation last: the filter's verdicts do not see it */
	for (int k = (int)rnd(3); k > 0; k--) {
		struct ir_rule r;
		ir_rule_init(&r);
		r.hook = IR_SRCNAT;
		r.family = rnd(2) ? IR_V4 : IR_V6;
		r.origin.line = 60 + k;
		if (rnd(2))
			ir_rule_set_ifname(&r, IR_M_OIF, "eth0");
		if (rnd(2))
			add_addrs(&r, IR_M_SADDR, r.family);
		r.action = rnd(2) ? IR_MASQUERADE : IR_SNAT;
		if (r.action == IR_SNAT) {
			r.nat.addr.family = r.family;
			uaddr(r.family, 2, r.nat.addr.addr);
			r.nat.addr.len = r.family == IR_V6 ? 128 : 32;
		}
		VEC_PUSH(rs->rules, r);
	}
	return nstmt;
}

/* A fourth corpus: the first's rules, forwarded accepts of translated connections
 * (`ct status dnat`), and DNAT rules (port forwards: input interface, protocol, port, this
 * host's address or not; new address of either family and maybe a new port). Every universe
 * packet as it arrives: exact_arriving of each rule's decided space holds it exactly when the
 * evaluator, DNAT first, has that rule decide it, and of the accepted space when it accepts. */
static void test_oracle_nat(void **state)
{
	(void)state;
	struct universe u;
	make_universe(&u);
	int translated = 0, accepted_translated = 0;
	for (int round = 0; round < 30; round++) {
		struct ir_ruleset rs = {0};
		int nstmt = nat_corpus(&rs);
		struct exact x;
		assert_true(exact_analyze(&x, &rs, (size_t)nstmt));
		uint8_t *vals = xcalloc((size_t)x.ps.nvars, 1);
		BDD *arr = xcalloc(rs.rules.n, sizeof(BDD));
		BDD acc = bdd_addref(bddfalse);
		for (size_t i = 0; i < rs.rules.n; i++) {
			arr[i] = exact_arriving(&x, &rs, x.eff[i]);
			if (rs.rules.v[i].action == IR_ACCEPT && exact_deciding(&rs.rules.v[i]))
				pks_set(&acc, pks_or(acc, arr[i]));
		}
		for (size_t k = 0; k < u.n; k++) {
			const struct ir_packet *p = &u.v[k];
			struct ir_verdict v = ir_eval(&rs, p);
			pks_assign(&x.ps, p, vals);
			if (v.dnat) {
				translated++;
				accepted_translated += v.action == IR_ACCEPT;
			}
			for (size_t i = 0; i < rs.rules.n; i++)
				if (exact_deciding(&rs.rules.v[i]) &&
				    pks_member(arr[i], vals) != (v.rule == &rs.rules.v[i]))
					fail_msg("round %d packet %zu: rule %zu arriving %d, evaluator %d", round, k,
						 i, pks_member(arr[i], vals), v.rule == &rs.rules.v[i]);
			if (pks_member(acc, vals) != (v.action == IR_ACCEPT))
				fail_msg("round %d packet %zu: accepted %d, evaluator %s", round, k,
					 pks_member(acc, vals), ir_action_name(v.action));
		}
		for (size_t i = 0; i < rs.rules.n; i++)
			bdd_delref(arr[i]);
		bdd_delref(acc);
		free(arr);
		free(vals);
		exact_free(&x);
		ir_ruleset_free(&rs);
	}
	/* the corpus translates packets and accepts some of them, or it proves little */
	assert_true(translated > 0);
	assert_true(accepted_translated > 0);
	free(u.v);
}

/* The packet a DNAT rule makes of an arriving one, as the filter sees it. */
static struct ir_packet rewritten(const struct ir_packet *p, const struct ir_rule *r)
{
	struct ir_packet q = *p;
	ir_nat_rewrite(q.daddr, &q.dport, &r->nat);
	q.hook = IR_FORWARD;
	q.dnat = true;
	q.dst_local = false;
	return q;
}

/* check's view through the forwards (natview.h), on the NAT corpus, packet by packet against
 * the evaluator: each DNAT rule takes exactly the arriving packets the evaluator has it
 * rewrite, and wants those it matches; every rewritten packet is in that rule's image, and
 * a packet of the image has an arriving packet the rule rewrites into it; whatever the
 * filter sees of an arriving packet is in `real` (a finding about packets outside it is
 * about none that occur); `admitted` is what the filter accepts; each SRCNAT rule wants the
 * connections the filter lets out that it matches, and meets those it is the first for. */
static void test_oracle_natview(void **state)
{
	(void)state;
	struct universe u;
	make_universe(&u);
	int taken = 0, imaged = 0, unreal = 0, met = 0;
	for (int round = 0; round < 20; round++) {
		struct ir_ruleset rs = {0};
		int nstmt = nat_corpus(&rs);
		struct exact x;
		assert_true(exact_analyze(&x, &rs, (size_t)nstmt));
		struct natview nv;
		natview_build(&nv, &x, &rs);
		uint8_t *vals = xcalloc((size_t)x.ps.nvars, 1);
		for (size_t k = 0; k < u.n; k++) {
			const struct ir_packet *p = &u.v[k];
			struct ir_verdict v = ir_eval(&rs, p);
			pks_assign(&x.ps, p, vals);
			bool first = p->ct_state == CT_NEW && !p->dnat;
			assert_int_equal(pks_member(nv.translated, vals), v.dnat != NULL);
			for (size_t i = 0; i < rs.rules.n; i++) {
				const struct ir_rule *r = &rs.rules.v[i];
				if (r->hook != IR_DSTNAT || r->action != IR_DNAT)
					continue;
				struct ir_packet q = *p;
				q.hook = IR_DSTNAT;
				q.dst_local = p->hook == IR_INPUT;
				bool wants = first && ir_rule_matches(r, &q) &&
					     r->nat.addr.family == p->family;
				if (pks_member(nv.wants[i], vals) != wants)
					fail_msg("round %d packet %zu: rule %zu wants %d, evaluator %d", round, k, i,
						 pks_member(nv.wants[i], vals), wants);
				if (pks_member(nv.takes[i], vals) != (v.dnat == r))
					fail_msg("round %d packet %zu: rule %zu takes %d, evaluator %d", round, k, i,
						 pks_member(nv.takes[i], vals), v.dnat == r);
				taken += v.dnat == r;
				/* the image, the other way: this packet's rewrite by r is in it only when
				 * some arriving packet (another destination, port or hook) r takes makes it
				 * (every 8th packet: 24 evaluations each) */
				if (k % 8)
					continue;
				struct ir_packet t = rewritten(p, r);
				uint8_t *tv = xcalloc((size_t)x.ps.nvars, 1);
				pks_assign(&x.ps, &t, tv);
				bool in_image = pks_member(nv.image[i], tv);
				free(tv);
				bool made = false;
				for (int h = 0; h < 2 && !made; h++)
				for (int da = 0; da < 3 && !made; da++)
				for (int dp = 0; dp < 4 && !made; dp++) {
					struct ir_packet a = *p;
					a.hook = h ? IR_FORWARD : IR_INPUT;
					uaddr(a.family, da, a.daddr);
					if (r->nat.port)
						a.dport = (uint16_t)dp;
					struct ir_verdict va = ir_eval(&rs, &a);
					made = va.dnat == r && !memcmp(va.after.daddr, t.daddr, 16) &&
					       va.after.dport == t.dport;
				}
				if (in_image != made)
					fail_msg("round %d packet %zu: rule %zu image %d, evaluator %d", round, k, i,
						 in_image, made);
				imaged += made;
			}
			pks_assign(&x.ps, &v.after, vals);
			/* source translation: which SRCNAT rule the connection meets first, if the
			 * filter lets it out (forwarded) */
			bool out = first && v.action == IR_ACCEPT && v.after.hook == IR_FORWARD;
			const struct ir_rule *meets = NULL;
			for (size_t i = 0; i < rs.rules.n; i++) {
				const struct ir_rule *r = &rs.rules.v[i];
				if (r->hook != IR_SRCNAT)
					continue;
				struct ir_packet q = v.after;
				q.hook = IR_SRCNAT;
				bool m = out && ir_rule_matches(r, &q);
				if (m && !meets)
					meets = r;
				if (pks_member(nv.wants[i], vals) != m)
					fail_msg("round %d packet %zu: SRCNAT rule %zu wants %d, evaluator %d", round,
						 k, i, pks_member(nv.wants[i], vals), m);
				if (pks_member(nv.meets[i], vals) != (meets == r && m))
					fail_msg("round %d packet %zu: SRCNAT rule %zu meets %d, evaluator %d", round,
						 k, i, pks_member(nv.meets[i], vals), meets == r && m);
				if (meets == r && m && v.snat != r && (r->action == IR_MASQUERADE ||
								    r->nat.addr.family == q.family))
					fail_msg("round %d packet %zu: the evaluator's SRCNAT rule differs", round, k);
				met += meets == r && m;
			}
			if (v.dnat && !pks_member(nv.image[v.dnat - rs.rules.v], vals))
				fail_msg("round %d packet %zu: rewritten, not in its rule's image", round, k);
			if (!pks_member(nv.real, vals))
				fail_msg("round %d packet %zu: the filter sees it, not in real", round, k);
			if (pks_member(nv.admitted, vals) != (v.action == IR_ACCEPT))
				fail_msg("round %d packet %zu: admitted %d, evaluator %s", round, k,
					 pks_member(nv.admitted, vals), ir_action_name(v.action));
			/* as it arrived, a packet a forward rewrites does not occur in the filter */
			if (v.dnat) {
				struct ir_packet raw = *p;
				raw.dst_local = false;
				pks_assign(&x.ps, &raw, vals);
				unreal += !pks_member(nv.real, vals);
				if (pks_member(nv.real, vals))
					fail_msg("round %d packet %zu: rewritten on arrival, yet real", round, k);
			}
		}
		free(vals);
		natview_free(&nv);
		exact_free(&x);
		ir_ruleset_free(&rs);
	}
	/* the corpus rewrites packets, or it proves little */
	assert_true(taken > 0);
	assert_true(imaged > 0);
	assert_true(unreal > 0);
	assert_true(met > 0);
	free(u.v);
}

/* A witness is a packet of the set, as the evaluator sees it. */
static void test_witness(void **state)
{
	(void)state;
	struct ir_ruleset rs = {0};
	struct ir_rule r;
	ir_rule_init(&r);
	r.hook = IR_INPUT;
	r.family = IR_V6;
	r.action = IR_ACCEPT;
	ir_rule_set_ifname(&r, IR_M_IIF, "eth*");
	add_addrs(&r, IR_M_SADDR, IR_V6);
	ir_rule_set_proto(&r, IR_TCP);
	struct ir_portrange pr = {22, 22};
	ir_rule_set_ports(&r, IR_M_DPORT, &pr, 1);
	ir_rule_set_ct_state(&r, CT_NEW);
	VEC_PUSH(rs.rules, r);
	struct pktspace ps;
	assert_true(pks_init(&ps, &rs));
	BDD m = pks_rule(&ps, &rs.rules.v[0]);
	pks_set(&m, pks_and(m, ps.valid));
	struct ir_packet p;
	assert_true(pks_witness(&ps, m, &p));
	assert_true(ir_rule_matches(&rs.rules.v[0], &p));
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.family, IR_V6);
	BDD none = bdd_addref(bddfalse);
	assert_false(pks_witness(&ps, none, &p));
	bdd_delref(none);
	bdd_delref(m);
	pks_done(&ps);
	ir_ruleset_free(&rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oracle),
		cmocka_unit_test(test_oracle_kinds),
		cmocka_unit_test(test_oracle_limits),
		cmocka_unit_test(test_limit_undone),
		cmocka_unit_test(test_oracle_nat),
		cmocka_unit_test(test_oracle_natview),
		cmocka_unit_test(test_witness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
