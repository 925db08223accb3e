/* Netlink backend: build the batch for policies, parse every message back with libnftnl (as
 * the kernel would receive it) and check the attributes; the semantic diff and the re-creation
 * of a saved table. No root needed: nothing is sent. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "backend.h"
#include "nft_lower.h"
#include "nft_netlink.h"
#include "nft_nldiff.h"
#include "nft_nlsock.h"
#include "unit.h"

#define SEQ0 1000

struct msg {
	uint16_t type;  /* NFT_MSG_* or NFNL_MSG_BATCH_* */
	uint16_t flags;
	uint32_t seq;
	int obj;        /* index into parsed.rs.objs, -1 for none */
};

/* What the kernel would see: the messages, and the objects they carry after the preamble. */
struct parsed {
	VEC(struct msg) msgs;
	struct nl_ruleset rs;
};

/* libnftnl numbers the element nests 1, 2, 3... when it builds them but accepts only
 * NFTA_LIST_ELEM (1) when it parses; the kernel ignores the nest type. Parse a copy with the
 * types the parser wants. */
static int elems_parse(const struct nlmsghdr *nlh, struct nftnl_set *s)
{
	struct nlmsghdr *copy = malloc(nlh->nlmsg_len);
	memcpy(copy, nlh, nlh->nlmsg_len);
	struct nlattr *a;
	mnl_attr_for_each(a, copy, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		struct nlattr *e;
		mnl_attr_for_each_nested(e, a)
			e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	}
	nftnl_set_unset(s, NFTNL_SET_TABLE); /* libnftnl 1.2.4 would leak them (see nft_nlsock.c) */
	nftnl_set_unset(s, NFTNL_SET_NAME);
	int rc = nftnl_set_elems_nlmsg_parse(copy, s);
	free(copy);
	return rc;
}

/* libmnl 1.0.4 leaves attribute padding uninitialized and libnftnl sends a ct helper name
 * without its NUL; the kernel goes by attribute lengths, libnftnl's parser by the NUL. Zero
 * the padding (which the kernel ignores) before parsing. */
static void zero_padding(void *payload, size_t len)
{
	struct nlattr *attr;
	mnl_attr_for_each_payload(payload, len) {
		size_t plen = mnl_attr_get_payload_len(attr);
		memset((char *)mnl_attr_get_payload(attr) + plen, 0, MNL_ALIGN(plen) - plen);
		if (attr->nla_type & NLA_F_NESTED)
			zero_padding(mnl_attr_get_payload(attr), plen);
	}
}

static void parse_msg(const struct nlmsghdr *cnlh, struct parsed *p, bool *after_delete)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)cnlh; /* the test owns the batch */
	if (nlh->nlmsg_len > NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		zero_padding((char *)mnl_nlmsg_get_payload(nlh) + sizeof(struct nfgenmsg),
			     nlh->nlmsg_len - NLMSG_HDRLEN - sizeof(struct nfgenmsg));
	struct msg m = {.flags = nlh->nlmsg_flags, .seq = nlh->nlmsg_seq, .obj = -1};
	if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN || nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
		m.type = nlh->nlmsg_type;
		VEC_PUSH(p->msgs, m);
		return;
	}
	assert_int_equal(NFNL_SUBSYS_ID(nlh->nlmsg_type), NFNL_SUBSYS_NFTABLES);
	m.type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	enum nl_kind kind = NL_TABLE;
	void *o = NULL;
	switch (m.type) {
	case NFT_MSG_DELTABLE:
		*after_delete = true;
		break;
	case NFT_MSG_NEWTABLE:
		if (*after_delete) {
			o = nftnl_table_alloc();
			assert_true(nftnl_table_nlmsg_parse(nlh, o) >= 0);
		}
		break;
	case NFT_MSG_NEWOBJ:
		kind = NL_OBJ;
		o = nftnl_obj_alloc();
		assert_true(nftnl_obj_nlmsg_parse(nlh, o) >= 0);
		break;
	case NFT_MSG_NEWSET:
		kind = NL_SET;
		o = nftnl_set_alloc();
		assert_true(nftnl_set_nlmsg_parse(nlh, o) >= 0);
		break;
	case NFT_MSG_NEWSETELEM: { /* elements follow the set they belong to */
		assert_true(p->rs.objs.n > 0);
		struct nl_obj *last = &p->rs.objs.v[p->rs.objs.n - 1];
		assert_int_equal(last->kind, NL_SET);
		assert_true(elems_parse(nlh, last->o) >= 0);
		m.obj = (int)p->rs.objs.n - 1;
		break;
	}
	case NFT_MSG_NEWCHAIN:
		kind = NL_CHAIN;
		o = nftnl_chain_alloc();
		assert_true(nftnl_chain_nlmsg_parse(nlh, o) >= 0);
		break;
	case NFT_MSG_NEWRULE:
		kind = NL_RULE;
		o = nftnl_rule_alloc();
		assert_true(nftnl_rule_nlmsg_parse(nlh, o) >= 0);
		break;
	default:
		fail_msg("unexpected message type %u", m.type);
	}
	if (o) {
		m.obj = (int)p->rs.objs.n;
		VEC_PUSH(p->rs.objs, ((struct nl_obj){kind, o, NULL}));
	}
	VEC_PUSH(p->msgs, m);
}

static void parse_batch(struct nftnl_batch *b, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	nl_ruleset_init(&p->rs, NFPROTO_INET, PINHOLE_TABLE);
	int n = nftnl_batch_iovec_len(b);
	struct iovec *iov = calloc((size_t)n, sizeof(*iov));
	nftnl_batch_iovec(b, iov, (uint32_t)n);
	bool after_delete = false;
	for (int i = 0; i < n; i++) {
		int len = (int)iov[i].iov_len;
		for (const struct nlmsghdr *nlh = iov[i].iov_base; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			parse_msg(nlh, p, &after_delete);
		assert_int_equal(len, 0);
	}
	free(iov);
}

static void parsed_free(struct parsed *p)
{
	nl_ruleset_free(&p->rs);
	VEC_FREE(p->msgs);
}

/* A compiled policy, its objects and the parsed batch. */
struct fixture {
	struct compilation *c;
	struct nl_ruleset want;
	struct nl_msgmap map;
	struct parsed got;
};

static void build(struct fixture *f, struct compilation *c, bool commit)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	assert_int_equal(nl_from_ir(&c->ir, &f->want), 0);
	struct nftnl_batch *b = nl_batch_alloc();
	assert_non_null(b);
	assert_int_equal(nl_batch_replace(b, &f->want, SEQ0, commit, &f->map), 0);
	parse_batch(b, &f->got);
	nftnl_batch_free(b);
}

static void build_text(struct fixture *f, const char *policy)
{
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	if (!ok)
		diag_print(&c->diags, stderr);
	assert_true(ok);
	build(f, c, true);
}

static void build_file(struct fixture *f, const char *path, enum mode_override mode)
{
	static const char *dirs[] = {UNIT_LIBDIR};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1, .mode = mode};
	struct compilation *c = malloc(sizeof(*c));
	assert_true(compile_policy(path, &o, c));
	build(f, c, true);
}

static void fixture_free(struct fixture *f)
{
	parsed_free(&f->got);
	nl_msgmap_free(&f->map);
	nl_ruleset_free(&f->want);
	unit_free(f->c);
}

/* The parsed rule built for the first IR rule matching (hook, family, origin line). */
static struct nftnl_rule *rule_for(const struct fixture *f, enum ir_hook hook, uint8_t family, int line)
{
	for (size_t i = 0; i < f->want.objs.n; i++) {
		const struct nl_obj *o = &f->want.objs.v[i];
		if (o->kind != NL_RULE || o->rule->hook != hook || o->rule->family != family ||
		    o->rule->origin.line != line)
			continue;
		/* the same object index holds the parsed copy */
		assert_int_equal(f->got.rs.objs.v[i].kind, NL_RULE);
		return f->got.rs.objs.v[i].o;
	}
	fail_msg("no rule for line %d", line);
	return NULL;
}

static struct nftnl_expr *expr_at(const struct nftnl_rule *r, int k)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e = NULL;
	for (int i = 0; i <= k; i++)
		e = nftnl_expr_iter_next(it);
	nftnl_expr_iter_destroy(it);
	assert_non_null(e);
	return e;
}

static void expect_names(const struct nftnl_rule *r, const char *const *names)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	size_t i = 0;
	while ((e = nftnl_expr_iter_next(it))) {
		assert_non_null(names[i]);
		assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), names[i]);
		i++;
	}
	nftnl_expr_iter_destroy(it);
	assert_null(names[i]);
}

static void expect_data(const struct nftnl_expr *e, uint16_t attr, const void *want, uint32_t len)
{
	uint32_t n = 0;
	const void *d = nftnl_expr_get(e, attr, &n);
	assert_non_null(d);
	assert_int_equal(n, len);
	assert_memory_equal(d, want, len);
}

static const struct nftnl_set *set_with_id(const struct fixture *f, uint32_t id)
{
	for (size_t i = 0; i < f->got.rs.objs.n; i++)
		if (f->got.rs.objs.v[i].kind == NL_SET && nftnl_set_get_u32(f->got.rs.objs.v[i].o, NFTNL_SET_ID) == id)
			return f->got.rs.objs.v[i].o;
	fail_msg("no set with id %u", id);
	return NULL;
}

/* The forward chain's interface map rule as sent: metas, then the lookup as expression k. */
static const struct nftnl_rule *forward_map_rule(const struct fixture *f, int k)
{
	for (size_t i = 0; i < f->got.rs.objs.n; i++) {
		const struct nl_obj *o = &f->got.rs.objs.v[i];
		if (o->kind == NL_RULE && !strcmp(nftnl_rule_get_str(o->o, NFTNL_RULE_CHAIN), "forward") &&
		    !strcmp(nftnl_expr_get_str(expr_at(o->o, 0), NFTNL_EXPR_NAME), "meta") &&
		    expr_at(o->o, k) && !strcmp(nftnl_expr_get_str(expr_at(o->o, k), NFTNL_EXPR_NAME), "lookup"))
			return o->o;
	}
	fail_msg("no forward rule with a lookup as expression %d", k);
	return NULL;
}

/* Elements of a set as "key[/end]" hex strings, in the order they were sent. */
static char *elems_text(const struct nftnl_set *s)
{
	struct strbuf sb = {0};
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	struct nftnl_set_elem *e;
	while ((e = nftnl_set_elems_iter_next(it))) {
		uint32_t n;
		const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &n);
		if (sb.len)
			sb_putc(&sb, ' ');
		for (uint32_t i = 0; i < n; i++)
			sb_printf(&sb, "%02x", k[i]);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		    (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END))
			sb_puts(&sb, "/end");
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA))
			sb_puts(&sb, "/open");
	}
	nftnl_set_elems_iter_destroy(it);
	return sb.s ? sb_steal(&sb) : xstrdup("");
}

static void expect_elems(const struct nftnl_set *s, const char *want)
{
	char *got = elems_text(s);
	if (strcmp(got, want) != 0)
		fail_msg("elements\nwant: %s\ngot:  %s", want, got);
	free(got);
}

/* ---- the batch as a whole ---- */

static void check_shape(const struct fixture *f, bool commit)
{
	const struct parsed *p = &f->got;
	assert_true(p->msgs.n >= 4);
	assert_int_equal(p->msgs.v[0].type, NFNL_MSG_BATCH_BEGIN);
	assert_int_equal(p->msgs.v[1].type, NFT_MSG_NEWTABLE); /* create if absent ... */
	assert_int_equal(p->msgs.v[2].type, NFT_MSG_DELTABLE); /* ... so this delete never fails */
	assert_int_equal(p->msgs.v[3].type, NFT_MSG_NEWTABLE);
	assert_int_equal(p->msgs.v[p->msgs.n - 1].type == NFNL_MSG_BATCH_END, commit);
	assert_int_equal(f->map.obj.n, p->msgs.n);
	size_t rules = 0;
	/* The rules as the lowering gives them (runs merged into sets), in chain order. */
	struct nft_plan plan;
	nft_plan_build(&f->c->ir, &plan);
	assert_null(nft_plan_rules(&f->c->ir, &plan, NULL));
	VEC(const struct nft_lowered *) lowered = {0};
	for (int h = 0; h < IR_HOOK_COUNT; h++)
		for (size_t i = 0; i < plan.rules[h].n; i++)
			VEC_PUSH(lowered, &plan.rules[h].v[i]);
	for (size_t s = 0; s < plan.subchains.n; s++) /* the dispatch's chains come last */
		for (size_t i = 0; i < plan.subchains.v[s].rules.n; i++)
			VEC_PUSH(lowered, &plan.subchains.v[s].rules.v[i]);
	for (size_t i = 0; i < p->msgs.n; i++) {
		const struct msg *m = &p->msgs.v[i];
		assert_int_equal(m->seq, SEQ0 + i); /* one sequence number per message */
		int idx = nl_msgmap_lookup(&f->map, m->seq);
		assert_int_equal(idx, m->obj);
		if (m->type != NFT_MSG_NEWRULE)
			continue;
		assert_true(rules < lowered.n);
		const struct nft_lowered *low = lowered.v[rules++];
		assert_true(m->flags & NLM_F_APPEND);
		assert_true(m->flags & NLM_F_CREATE);
		const struct nl_obj *w = &f->want.objs.v[idx];
		assert_int_equal(w->kind, NL_RULE);
		assert_ptr_equal(w->rule, low->rule); /* told against its (first) IR rule */
		const struct nftnl_rule *r = p->rs.objs.v[idx].o;
		assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), "pinhole");
		assert_int_equal(nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY), NFPROTO_INET);
		assert_string_equal(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
				    low->chain ? low->chain : ir_hook_name(w->rule->hook));
		/* provenance travels as the rule's comment: the one the lowering gives it */
		char *got = nl_rule_comment(r);
		assert_non_null(got);
		assert_string_equal(got, low->comment);
		free(got);
	}
	assert_int_equal(rules, lowered.n);
	VEC_FREE(lowered);
	nft_plan_free(&plan);
	assert_int_equal(nl_msgmap_lookup(&f->map, SEQ0 - 1), -1);
	assert_int_equal(nl_msgmap_lookup(&f->map, SEQ0 + (uint32_t)p->msgs.n), -1);
}

static void test_examples_round_trip(void **state)
{
	(void)state;
	static const char *const files[] = {"examples/fileserver.pin", "examples/gateway.pin",
					    "examples/workstation.pin"};
	for (size_t i = 0; i < 3; i++)
		for (int stateless = 0; stateless < 2; stateless++) {
			struct fixture f;
			build_file(&f, files[i], stateless ? MODE_STATELESS : MODE_STATEFUL);
			check_shape(&f, true);
			/* what the kernel would be sent means the same as what was built */
			struct strbuf d = {0};
			size_t n = nl_diff(&f.want, &f.got.rs, &d);
			if (n)
				fail_msg("%s: %zu differences after parsing back:\n%s", files[i], n, d.s);
			sb_free(&d);
			fixture_free(&f);
		}
}

static void test_dry_run_has_no_batch_end(void **state)
{
	(void)state;
	bool ok;
	struct compilation *c = unit_compile("allow ssh server;\n", &ok);
	assert_true(ok);
	struct fixture f;
	build(&f, c, false);
	check_shape(&f, false);
	fixture_free(&f);
}

static void test_chains_and_table(void **state)
{
	(void)state;
	struct fixture f;
	build_file(&f, "examples/gateway.pin", MODE_AS_POLICY);
	const char *names[4] = {0}, *regular[8] = {0};
	size_t n = 0, nreg = 0, nproto = 0;
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind == NL_TABLE) {
			assert_string_equal(nftnl_table_get_str(o->o, NFTNL_TABLE_NAME), "pinhole");
			assert_int_equal(nftnl_table_get_u32(o->o, NFTNL_TABLE_FAMILY), NFPROTO_INET);
		}
		if (o->kind != NL_CHAIN)
			continue;
		if (!nftnl_chain_is_set(o->o, NFTNL_CHAIN_HOOKNUM)) { /* a dispatch's chain */
			assert_false(nftnl_chain_is_set(o->o, NFTNL_CHAIN_POLICY));
			const char *cn = nftnl_chain_get_str(o->o, NFTNL_CHAIN_NAME);
			if (strstr(cn, "_icmp")) { /* the protocol dispatch's (test_protocol_dispatch) */
				nproto++;
				continue;
			}
			assert_true(nreg < 8);
			regular[nreg++] = cn;
			continue;
		}
		assert_int_equal(nreg, 0); /* declared after the base chains */
		assert_true(n < 4);
		names[n++] = nftnl_chain_get_str(o->o, NFTNL_CHAIN_NAME);
		assert_string_equal(nftnl_chain_get_str(o->o, NFTNL_CHAIN_TYPE), "filter");
		assert_int_equal(nftnl_chain_get_s32(o->o, NFTNL_CHAIN_PRIO), 0);
		assert_int_equal(nftnl_chain_get_u32(o->o, NFTNL_CHAIN_POLICY), NF_DROP);
	}
	/* no inbound helper flow: no prerouting chain */
	assert_int_equal(n, 3);
	assert_string_equal(names[0], "input");
	assert_string_equal(names[1], "forward");
	assert_string_equal(names[2], "output");
	/* the forward chain's zone pairs (both directions: the stateful return rules), each
	 * family apart (every rule matches lan's addresses of one family) */
	assert_int_equal(nreg, 4);
	assert_string_equal(regular[0], "forward_wan0_lan0_v4");
	assert_string_equal(regular[1], "forward_wan0_lan0_v6");
	assert_string_equal(regular[2], "forward_lan0_wan0_v4");
	assert_string_equal(regular[3], "forward_lan0_wan0_v6");
	assert_true(nproto > 0);
	fixture_free(&f);

	build_text(&f, "allow ftp server;\n");
	n = 0;
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind != NL_CHAIN || strcmp(nftnl_chain_get_str(o->o, NFTNL_CHAIN_NAME), "prerouting") != 0)
			continue;
		n++;
		assert_int_equal(nftnl_chain_get_u32(o->o, NFTNL_CHAIN_HOOKNUM), NF_INET_PRE_ROUTING);
		assert_int_equal(nftnl_chain_get_u32(o->o, NFTNL_CHAIN_POLICY), NF_ACCEPT);
	}
	assert_int_equal(n, 1);
	fixture_free(&f);
}

/* The input chain's rules in order: "map" for a dispatch, a built-in's name, else the app. */
static void input_order(const char *policy, char *out, size_t size)
{
	struct fixture f;
	build_text(&f, policy);
	struct nft_plan plan;
	nft_plan_build(&f.c->ir, &plan);
	assert_null(nft_plan_rules(&f.c->ir, &plan, NULL));
	const nft_rules *in = &plan.rules[IR_INPUT];
	size_t w = 0;
	out[0] = 0;
	for (size_t i = 0; i < in->n; i++) {
		const struct ir_origin *o = &in->v[i].rule->origin;
		const char *what = in->v[i].disp ? "map" : o->builtin ? o->builtin : o->app;
		w += (size_t)snprintf(out + w, size - w, "%s%s", i ? "," : "", what);
		assert_true(w < size);
	}
	nft_plan_free(&plan);
	fixture_free(&f);
}

/* nft_sink.c: loopback and the ICMP map move down only past rules they cannot change the
 * verdict of: loopback past accepts alone, the map past rules of another protocol. */
static void test_rare_rules_sink(void **state)
{
	(void)state;
	char got[256];
	/* a log is no mere accept: loopback stops there; the map passes both TCP rules */
	input_order("established only;\nallow tcp/22 server;\nallow tcp/80 server log;\n", got, sizeof got);
	assert_string_equal(got, "tcp/22,loopback,tcp/80,map");
	/* a drop stops loopback where it was */
	input_order("established only;\ndeny tcp/23 server;\nallow tcp/22 server;\n", got, sizeof got);
	assert_string_equal(got, "loopback,tcp/23,tcp/22,map");
	/* so does a limit (it takes from its bucket) */
	input_order("established only;\nallow tcp/22 server limit 10/minute;\nallow tcp/25 server;\n", got,
		    sizeof got);
	assert_string_equal(got, "loopback,tcp/22,tcp/22,tcp/22,tcp/22,tcp/25,map");
	/* an ICMP rule stops the map, and the map stops loopback */
	input_order("established only;\nallow tcp/22 server;\nallow ping server;\nallow tcp/25 server;\n", got,
		    sizeof got);
	assert_string_equal(got, "tcp/22,loopback,map,ping,ping,tcp/25");
	/* with connection tracking: invalid's drop stops loopback; the map of the ICMP errors
	 * of allowed connections goes after the policy's new TCP connections */
	input_order("allow tcp/22 server;\n", got, sizeof got);
	assert_string_equal(got, "loopback,invalid state,established connections,tcp/22,map");
}

/* ---- expressions ---- */

static void test_address_and_port_match(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "allow ssh server from 10.0.0.0/8, fd00:a::/64;\n");
	const struct nftnl_rule *r = rule_for(&f, IR_INPUT, IR_V4, 1);
	static const char *const names[] = {"meta", "cmp", "payload", "cmp", "meta", "cmp", "payload", "cmp",
					    "immediate", NULL};
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 0), NFTNL_EXPR_META_KEY), NFT_META_NFPROTO);
	expect_data(expr_at(r, 1), NFTNL_EXPR_CMP_DATA, (uint8_t[]){NFPROTO_IPV4}, 1);
	/* a byte-aligned prefix loads only its bytes, as nft does */
	const struct nftnl_expr *pl = expr_at(r, 2);
	assert_int_equal(nftnl_expr_get_u32(pl, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_NETWORK_HEADER);
	assert_int_equal(nftnl_expr_get_u32(pl, NFTNL_EXPR_PAYLOAD_OFFSET), 12);
	assert_int_equal(nftnl_expr_get_u32(pl, NFTNL_EXPR_PAYLOAD_LEN), 1);
	expect_data(expr_at(r, 3), NFTNL_EXPR_CMP_DATA, (uint8_t[]){10}, 1);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 4), NFTNL_EXPR_META_KEY), NFT_META_L4PROTO);
	expect_data(expr_at(r, 5), NFTNL_EXPR_CMP_DATA, (uint8_t[]){IPPROTO_TCP}, 1);
	pl = expr_at(r, 6);
	assert_int_equal(nftnl_expr_get_u32(pl, NFTNL_EXPR_PAYLOAD_BASE), NFT_PAYLOAD_TRANSPORT_HEADER);
	assert_int_equal(nftnl_expr_get_u32(pl, NFTNL_EXPR_PAYLOAD_OFFSET), 2);
	assert_int_equal(nftnl_expr_get_u32(pl, NFTNL_EXPR_PAYLOAD_LEN), 2);
	expect_data(expr_at(r, 7), NFTNL_EXPR_CMP_DATA, (uint8_t[]){0, 22}, 2);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 8), NFTNL_EXPR_IMM_DREG), NFT_REG_VERDICT);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 8), NFTNL_EXPR_IMM_VERDICT), NF_ACCEPT);

	r = rule_for(&f, IR_INPUT, IR_V6, 1);
	expect_data(expr_at(r, 1), NFTNL_EXPR_CMP_DATA, (uint8_t[]){NFPROTO_IPV6}, 1);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_PAYLOAD_OFFSET), 8);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_PAYLOAD_LEN), 8);
	expect_data(expr_at(r, 3), NFTNL_EXPR_CMP_DATA, (uint8_t[]){0xfd, 0, 0, 0x0a, 0, 0, 0, 0}, 8);
	fixture_free(&f);
}

/* nft joins equality matches on adjacent header fields into one load when the result fits a
 * 32-bit register: both single ports become one 4-byte compare; two IPv4 addresses do not. */
static void test_adjacent_fields(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "app dh \"d\" { flow a: client -> server udp sport 68 dport 67; }\n"
		       "allow dh client to 192.0.2.1;\n");
	const struct nftnl_rule *r = rule_for(&f, IR_OUTPUT, IR_V4, 2);
	static const char *const names[] = {"meta", "cmp", "payload", "cmp", "meta", "cmp", "payload", "cmp",
					    "immediate", NULL};
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_PAYLOAD_OFFSET), 16); /* daddr */
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_PAYLOAD_LEN), 4);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 6), NFTNL_EXPR_PAYLOAD_OFFSET), 0);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 6), NFTNL_EXPR_PAYLOAD_LEN), 4);
	expect_data(expr_at(r, 7), NFTNL_EXPR_CMP_DATA, ((uint8_t[]){0, 68, 0, 67}), 4);
	fixture_free(&f);
}

static void test_unaligned_and_zero_prefix(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "allow ssh server from 10.16.0.0/12;\nallow ssh server from 0.0.0.0/0;\n");
	const struct nftnl_rule *r = rule_for(&f, IR_INPUT, IR_V4, 1);
	static const char *const names[] = {"meta", "cmp", "payload", "bitwise", "cmp", "meta", "cmp", "payload",
					    "cmp", "immediate", NULL};
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_PAYLOAD_LEN), 4);
	expect_data(expr_at(r, 3), NFTNL_EXPR_BITWISE_MASK, (uint8_t[]){0xff, 0xf0, 0, 0}, 4);
	expect_data(expr_at(r, 3), NFTNL_EXPR_BITWISE_XOR, (uint8_t[]){0, 0, 0, 0}, 4);
	expect_data(expr_at(r, 4), NFTNL_EXPR_CMP_DATA, (uint8_t[]){10, 16, 0, 0}, 4);
	/* /0 is a zero mask over the whole address, never a zero-length load */
	r = rule_for(&f, IR_INPUT, IR_V4, 2);
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_PAYLOAD_LEN), 4);
	expect_data(expr_at(r, 3), NFTNL_EXPR_BITWISE_MASK, (uint8_t[]){0, 0, 0, 0}, 4);
	fixture_free(&f);
}

static void test_anonymous_port_sets(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "app p \"p\" {\n"
		       "  flow a: client -> server tcp dport 5000, 5005-5010, 6000;\n"
		       "  flow b: client -> server udp dport 1000, 65535;\n"
		       "  flow c: client -> server udp dport 7, 60000-65535;\n"
		       "}\n"
		       "allow p server;\n");
	/* flow a: an interval set; each range is start + (end+1) flagged as an end */
	const struct nftnl_rule *r = NULL;
	for (size_t i = 0; i < f.want.objs.n; i++)
		if (f.want.objs.v[i].kind == NL_RULE && f.want.objs.v[i].rule->origin.flow &&
		    !strcmp(f.want.objs.v[i].rule->origin.flow, "a"))
			r = f.got.rs.objs.v[i].o;
	assert_non_null(r);
	static const char *const names[] = {"meta", "cmp", "payload", "lookup", "immediate", NULL};
	expect_names(r, names);
	const struct nftnl_expr *lk = expr_at(r, 3);
	assert_string_equal(nftnl_expr_get_str(lk, NFTNL_EXPR_LOOKUP_SET), "__set%d");
	assert_int_equal(nftnl_expr_get_u32(lk, NFTNL_EXPR_LOOKUP_SREG), NFT_REG_1);
	const struct nftnl_set *s = set_with_id(&f, nftnl_expr_get_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID));
	assert_string_equal(nftnl_set_get_str(s, NFTNL_SET_NAME), "__set%d");
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 13); /* inet_service */
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 2);
	expect_elems(s, "0000/end 1388 1389/end 138d 1393/end 1770 1771/end");
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE), 7);
	/* userdata: key byte order (big endian), automerge, and typeof "tcp dport" */
	uint32_t n;
	const uint8_t *ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &n);
	static const uint8_t want_ud[] = {0, 4, 2, 0, 0, 0, 2, 4, 1, 0, 0, 0, 3, 20, 0, 4, 7, 0, 0, 0,
					  1, 12, 0, 4, 8, 0, 0, 0, 1, 4, 2, 0, 0, 0};
	assert_int_equal(n, sizeof(want_ud));
	assert_memory_equal(ud, want_ud, n);

	for (size_t i = 0; i < f.want.objs.n; i++) {
		const struct nl_obj *o = &f.want.objs.v[i];
		if (o->kind != NL_RULE || !o->rule->origin.flow || o->rule->hook != IR_INPUT)
			continue;
		const struct nftnl_expr *e = expr_at(f.got.rs.objs.v[i].o, 3);
		s = set_with_id(&f, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID));
		if (!strcmp(o->rule->origin.flow, "b")) {
			/* single ports only: a plain set, elements in policy order */
			assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
			expect_elems(s, "03e8 ffff");
			assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE), 2);
		} else if (!strcmp(o->rule->origin.flow, "c")) {
			/* a range up to 65535 is open: no end element, flagged in element userdata */
			expect_elems(s, "0000/end 0007 0008/end ea60/open");
			assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE), 5);
		}
	}
	fixture_free(&f);
}

static void test_named_sets(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "define office = 10.0.0.0/8, 192.168.2.0/24, 192.168.1.0/24, fd00:a::/64;\n"
		       "allow ssh server from office;\n");
	const struct nftnl_set *v4 = NULL, *v6 = NULL;
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind != NL_SET)
			continue;
		if (!strcmp(nftnl_set_get_str(o->o, NFTNL_SET_NAME), "office_v4"))
			v4 = o->o;
		if (!strcmp(nftnl_set_get_str(o->o, NFTNL_SET_NAME), "office_v6"))
			v6 = o->o;
		/* an error on a set is told against the first rule that uses it */
		assert_non_null(f.want.objs.v[i].rule);
		if (nftnl_set_get_u32(o->o, NFTNL_SET_FLAGS) & NFT_SET_MAP)
			continue; /* the ICMP rules' protocol dispatch */
		const struct ir_addrset *sa = ir_rule_addrs(f.want.objs.v[i].rule, IR_M_SADDR);
		assert_non_null(sa);
		assert_string_equal(sa->name, "office");
	}
	assert_non_null(v4);
	assert_non_null(v6);
	assert_int_equal(nftnl_set_get_u32(v4, NFTNL_SET_FLAGS), NFT_SET_INTERVAL);
	assert_int_equal(nftnl_set_get_u32(v4, NFTNL_SET_KEY_TYPE), 7); /* ipv4_addr */
	assert_false(nftnl_set_is_set(v4, NFTNL_SET_DESC_SIZE));
	/* sorted; adjacent prefixes stay separate in a named set (nft merges only anonymous ones) */
	expect_elems(v4, "00000000/end 0a000000 0b000000/end c0a80100 c0a80200/end c0a80200 c0a80300/end");
	assert_int_equal(nftnl_set_get_u32(v6, NFTNL_SET_KEY_TYPE), 8);
	expect_elems(v6, "00000000000000000000000000000000/end fd00000a000000000000000000000000 "
			 "fd00000a000000010000000000000000/end");
	/* rules find the set by name, and by its id inside the transaction */
	const struct nftnl_rule *r = rule_for(&f, IR_INPUT, IR_V4, 2);
	const struct nftnl_expr *lk = expr_at(r, 3);
	assert_string_equal(nftnl_expr_get_str(lk, NFTNL_EXPR_NAME), "lookup");
	assert_string_equal(nftnl_expr_get_str(lk, NFTNL_EXPR_LOOKUP_SET), "office_v4");
	assert_int_equal(nftnl_expr_get_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID), nftnl_set_get_u32(v4, NFTNL_SET_ID));
	fixture_free(&f);
}

/* Scoped channels: an empty set the packet path fills (timeout, size, dynamic), updated by
 * the control flow's rules and looked up by the channel's. */
static void test_dynamic_sets(void **state)
{
	(void)state;
	struct fixture f;
	/* realplayer's PNA flow and its two statically scoped data flows (stdlib-apps/realplayer.pin,
	 * whose RTSP data are pinholed's) */
	build_text(&f, "app rp { flow pna: client -> server tcp dport 7070;\n"
		       "  flow data: server -> client udp dport 7000 negotiated on pna;\n"
		       "  flow data-realone: server -> client udp dport 6970 negotiated on pna; }\n"
		       "allow rp client to 192.0.2.7;\n");
	const struct nftnl_set *ds = NULL;
	size_t sets = 0;
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind != NL_SET || (nftnl_set_get_u32(o->o, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
			continue;
		sets++;
		ds = o->o;
		assert_non_null(f.want.objs.v[i].rule); /* told against its first user */
	}
	assert_int_equal(sets, 1); /* IPv4 peers only: no IPv6 set */
	assert_string_equal(nftnl_set_get_str(ds, NFTNL_SET_NAME), "ph_rp_servers_v4");
	assert_int_equal(nftnl_set_get_u32(ds, NFTNL_SET_FLAGS), NFT_SET_TIMEOUT | NFT_SET_EVAL);
	assert_int_equal(nftnl_set_get_u32(ds, NFTNL_SET_KEY_TYPE), 7);
	assert_int_equal(nftnl_set_get_u32(ds, NFTNL_SET_KEY_LEN), 4);
	assert_int_equal(nftnl_set_get_u64(ds, NFTNL_SET_TIMEOUT), 600000);
	assert_int_equal(nftnl_set_get_u32(ds, NFTNL_SET_DESC_SIZE), NFT_DYNSET_SIZE);
	expect_elems(ds, "");
	/* The first output rule of the allow: established pna packets refresh the server. */
	const struct nftnl_rule *r = rule_for(&f, IR_OUTPUT, IR_V4, 4);
	static const char *const upd[] = {"meta", "cmp", "payload", "cmp", "meta", "cmp", "payload", "cmp",
					  "ct", "bitwise", "cmp", "payload", "dynset", NULL};
	expect_names(r, upd);
	const struct nftnl_expr *ld = expr_at(r, 11), *dy = expr_at(r, 12);
	assert_int_equal(nftnl_expr_get_u32(ld, NFTNL_EXPR_PAYLOAD_OFFSET), 16); /* ip daddr */
	assert_int_equal(nftnl_expr_get_u32(ld, NFTNL_EXPR_PAYLOAD_LEN), 4);
	assert_int_equal(nftnl_expr_get_u32(dy, NFTNL_EXPR_DYNSET_OP), NFT_DYNSET_OP_UPDATE);
	assert_int_equal(nftnl_expr_get_u32(dy, NFTNL_EXPR_DYNSET_SREG_KEY), NFT_REG_1);
	assert_string_equal(nftnl_expr_get_str(dy, NFTNL_EXPR_DYNSET_SET_NAME), "ph_rp_servers_v4");
	assert_int_equal(nftnl_expr_get_u32(dy, NFTNL_EXPR_DYNSET_SET_ID), nftnl_set_get_u32(ds, NFTNL_SET_ID));
	assert_false(nftnl_expr_is_set(dy, NFTNL_EXPR_DYNSET_TIMEOUT)); /* the set's timeout applies */
	/* The data flows: the source address looked up in the set (the two flows' ports merged
	 * into one set of their own). */
	r = rule_for(&f, IR_INPUT, IR_V4, 4);
	static const char *const look[] = {"meta", "cmp", "payload", "cmp", "payload", "lookup", "meta",
					   "cmp", "payload", "lookup", "immediate", NULL};
	expect_names(r, look);
	const struct nftnl_expr *lk = expr_at(r, 5);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 4), NFTNL_EXPR_PAYLOAD_OFFSET), 12); /* ip saddr */
	assert_string_equal(nftnl_expr_get_str(lk, NFTNL_EXPR_LOOKUP_SET), "ph_rp_servers_v4");
	assert_int_equal(nftnl_expr_get_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID), nftnl_set_get_u32(ds, NFTNL_SET_ID));
	/* status: peers the set learnt, and the timeout of 0 the kernel reports on each update,
	 * are no drift; another set timeout is. */
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	static const uint8_t peer[4] = {192, 0, 2, 7};
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, peer, 4);
	nftnl_set_elem_add((struct nftnl_set *)ds, e);
	nftnl_expr_set_u64((struct nftnl_expr *)dy, NFTNL_EXPR_DYNSET_TIMEOUT, 0);
	struct strbuf d = {0};
	assert_int_equal(nl_diff(&f.want, &f.got.rs, &d), 0);
	nftnl_set_set_u64((struct nftnl_set *)ds, NFTNL_SET_TIMEOUT, 60000);
	assert_int_equal(nl_diff(&f.want, &f.got.rs, &d), 1);
	assert_non_null(strstr(d.s, "set ph_rp_servers_v4 differs"));
	assert_non_null(strstr(d.s, "{ filled at run time }"));
	sb_free(&d);
	fixture_free(&f);
}

/* Stateless mode's built-in ICMP rules (2 ICMP, 7 ICMPv6 in input): one `meta l4proto vmap`
 * rule, a chain per protocol with its rules in order, each keeping its own protocol match. */
static void test_protocol_dispatch(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "established only;\nallow tcp/22 server;\n");
	struct nft_plan plan;
	nft_plan_build(&f.c->ir, &plan);
	assert_null(nft_plan_rules(&f.c->ir, &plan, NULL));
	const nft_rules *in = &plan.rules[IR_INPUT];
	const struct nft_lowered *map = NULL;
	for (size_t i = 0; i < in->n; i++) {
		if (!in->v[i].disp)
			continue;
		assert_null(map); /* one run, one map */
		map = &in->v[i];
		/* after the policy's rule and loopback (nft_sink.c): a TCP packet meets its own
		 * rule first, and no lookup */
		assert_int_equal(i, 2);
		assert_string_equal(in->v[0].rule->origin.app, "tcp/22");
		assert_string_equal(in->v[1].rule->origin.builtin, "loopback");
	}
	assert_non_null(map);
	const struct nft_dispatch *d = map->disp;
	assert_true(d->l4proto && !d->family && !d->iif && !d->oif);
	assert_int_equal(d->jumps.n, 2);
	assert_int_equal(d->jumps.v[0].l4proto, IR_ICMP);
	assert_string_equal(d->jumps.v[0].chain, "input_icmp");
	assert_int_equal(d->jumps.v[1].l4proto, IR_ICMPV6);
	assert_string_equal(d->jumps.v[1].chain, "input_icmpv6");
	assert_non_null(strstr(d->jumps.v[1].comment, "ICMPv6 errors (stateless) +6"));
	const struct nft_subchain *c4 = NULL, *c6 = NULL;
	for (size_t i = 0; i < plan.subchains.n; i++) {
		if (!strcmp(plan.subchains.v[i].name, "input_icmp"))
			c4 = &plan.subchains.v[i];
		if (!strcmp(plan.subchains.v[i].name, "input_icmpv6"))
			c6 = &plan.subchains.v[i];
	}
	assert_non_null(c4);
	assert_non_null(c6);
	assert_int_equal(c4->rules.n, 2);
	assert_int_equal(c6->rules.n, 7);
	for (size_t i = 0; i < c6->rules.n; i++) {
		const struct nft_lowered *l = &c6->rules.v[i];
		assert_string_equal(l->chain, "input_icmpv6");
		bool l4 = false;
		for (size_t k = 0; k < l->steps.n; k++)
			l4 |= l->steps.v[k].kind == NS_L4PROTO && l->steps.v[k].u.l4proto == IR_ICMPV6;
		assert_true(l4); /* the rule is whole: nothing left to the map */
		const struct nft_lowered *via;
		assert_ptr_equal(nft_plan_find(&plan, l->rule, &via), l);
		assert_ptr_equal(via, map);
	}
	nft_plan_free(&plan);

	/* netlink: meta l4proto into register 1, a lookup into the verdict register */
	const struct nftnl_rule *r = NULL;
	for (size_t i = 0; i < f.got.rs.objs.n && !r; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind != NL_RULE || strcmp(nftnl_rule_get_str(o->o, NFTNL_RULE_CHAIN), "input") != 0)
			continue;
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(o->o);
		const struct nftnl_expr *first = nftnl_expr_iter_next(it), *second = nftnl_expr_iter_next(it);
		if (second && !nftnl_expr_iter_next(it) && !strcmp(nftnl_expr_get_str(second, NFTNL_EXPR_NAME), "lookup") &&
		    nftnl_expr_get_u32(first, NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO)
			r = o->o;
		nftnl_expr_iter_destroy(it);
	}
	assert_non_null(r);
	static const char *const names[] = {"meta", "lookup", NULL};
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 0), NFTNL_EXPR_META_KEY), NFT_META_L4PROTO);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 1), NFTNL_EXPR_LOOKUP_DREG), NFT_REG_VERDICT);
	const struct nftnl_set *s = set_with_id(&f, nftnl_expr_get_u32(expr_at(r, 1), NFTNL_EXPR_LOOKUP_SET_ID));
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 12); /* inet_proto */
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 1);
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create((struct nftnl_set *)s);
	size_t n = 0;
	for (struct nftnl_set_elem *e; (e = nftnl_set_elems_iter_next(it)); n++) {
		uint32_t len;
		const uint8_t *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
		assert_int_equal(len, 1);
		assert_int_equal(key[0], n ? 58 : 1);
		assert_string_equal(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN), n ? "input_icmpv6" : "input_icmp");
	}
	nftnl_set_elems_iter_destroy(it);
	assert_int_equal(n, 2);
	fixture_free(&f);
}

static void test_interfaces(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "zone lan { interface lan0, \"wl*\"; }\nzone wan { interface \"wan*\"; }\n"
		       "allow ssh from lan to wan;\n");
	const struct nftnl_rule *r = rule_for(&f, IR_FORWARD, 0, 3);
	static const char *const names[] = {"meta", "lookup", "meta", "cmp", "meta", "cmp", "payload", "cmp",
					    "immediate", NULL};
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 0), NFTNL_EXPR_META_KEY), NFT_META_IIFNAME);
	const struct nftnl_set *s = set_with_id(&f, nftnl_expr_get_u32(expr_at(r, 1), NFTNL_EXPR_LOOKUP_SET_ID));
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 41); /* ifname */
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_INTERVAL);
	/* "lan0" is [lan0, lan0] -> end lan0+1; "wl*" is [wl\0.., wl\xff..] -> end "wm" */
	expect_elems(s, "00000000000000000000000000000000/end 6c616e30000000000000000000000000 "
			"6c616e30000000000000000000000001/end 776c0000000000000000000000000000 "
			"776d0000000000000000000000000000/end");
	/* a single wildcard compares only its prefix */
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_META_KEY), NFT_META_OIFNAME);
	expect_data(expr_at(r, 3), NFTNL_EXPR_CMP_DATA, "wan", 3);
	fixture_free(&f);
}

/* A run of rules each naming one input and one output interface: one verdict-map rule in
 * the forward chain, a chain per pair with the rules in order (their interface matches left
 * to the map), the wildcard zone's rules where they were. */
static void test_interface_dispatch(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "zone lan { interface lan0; }\nzone wan { interface wan0; }\n"
		       "zone dmz { interface \"dmz*\"; }\n"
		       "allow tcp/22 from lan to wan;\nallow udp/53 from lan to wan;\n"
		       "allow tcp/25 from wan to lan;\nallow tcp/443 from lan to wan;\n"
		       "allow tcp/80 from dmz to wan;\nallow tcp/8080 from lan to dmz;\n");
	struct nft_plan plan;
	nft_plan_build(&f.c->ir, &plan);
	assert_null(nft_plan_rules(&f.c->ir, &plan, NULL));
	const nft_rules *fwd = &plan.rules[IR_FORWARD];
	const struct nft_lowered *map = NULL;
	size_t wild = 0;
	for (size_t i = 0; i < fwd->n; i++) {
		if (fwd->v[i].disp && fwd->v[i].disp->l4proto)
			continue; /* the built-in ICMP rules' (test_protocol_dispatch) */
		if (fwd->v[i].disp) {
			assert_null(map); /* one run, one map */
			map = &fwd->v[i];
			continue;
		}
		for (size_t k = 0; k < fwd->v[i].steps.n; k++)
			wild += fwd->v[i].steps.v[k].kind == NS_IFNAME;
	}
	assert_non_null(map);
	assert_int_equal(wild, 4); /* dmz* rules keep both interface matches */
	const struct nft_dispatch *d = map->disp;
	assert_true(d->iif && d->oif);
	assert_int_equal(d->jumps.n, 2);
	assert_string_equal(d->jumps.v[0].iif, "lan0");
	assert_string_equal(d->jumps.v[0].oif, "wan0");
	assert_string_equal(d->jumps.v[0].chain, "forward_lan0_wan0");
	assert_string_equal(d->jumps.v[1].chain, "forward_wan0_lan0");
	const struct nft_subchain *lw = NULL, *wl = NULL;
	size_t nif = 0;
	for (size_t i = 0; i < plan.subchains.n; i++) {
		const struct nft_subchain *sc = &plan.subchains.v[i];
		if (strstr(sc->name, "_icmp"))
			continue;
		nif++;
		if (!strcmp(sc->name, "forward_lan0_wan0"))
			lw = sc;
		if (!strcmp(sc->name, "forward_wan0_lan0"))
			wl = sc;
	}
	assert_int_equal(nif, 2);
	assert_non_null(lw);
	assert_non_null(wl);
	/* lan->wan: tcp/22 and tcp/443 merged now that they are neighbours, then udp/53 */
	assert_string_equal(lw->name, "forward_lan0_wan0");
	assert_int_equal(lw->rules.n, 2);
	assert_non_null(lw->rules.v[0].setm);
	assert_int_equal(lw->rules.v[0].setm->elems.n, 2);
	for (size_t i = 0; i < lw->rules.n; i++) {
		assert_string_equal(lw->rules.v[i].chain, lw->name);
		for (size_t k = 0; k < lw->rules.v[i].steps.n; k++)
			assert_int_not_equal(lw->rules.v[i].steps.v[k].kind, NS_IFNAME);
	}
	/* every element leads back to its rule, and explain finds it behind the map */
	const struct nft_elem *e443 = &lw->rules.v[0].setm->elems.v[1];
	const struct ir_rule *r443 = nft_elem_rule(lw->rules.v[0].setm, e443);
	assert_int_equal(r443->origin.line, 7);
	const struct nft_lowered *via;
	assert_ptr_equal(nft_plan_find(&plan, r443, &via), &lw->rules.v[0]);
	assert_ptr_equal(via, map);
	assert_int_equal(wl->rules.n, 1);
	nft_plan_free(&plan);

	/* netlink: iifname, oifname, a lookup into the verdict register; the map jumps */
	const struct nftnl_rule *r = forward_map_rule(&f, 2);
	static const char *const names[] = {"meta", "meta", "lookup", NULL};
	expect_names(r, names);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 1), NFTNL_EXPR_META_DREG), NFT_REG_2);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_LOOKUP_DREG), NFT_REG_VERDICT);
	const struct nftnl_set *s = set_with_id(&f, nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_LOOKUP_SET_ID));
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_FLAGS), NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 32);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE), NFT_DATA_VERDICT);
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create((struct nftnl_set *)s);
	size_t n = 0;
	for (struct nftnl_set_elem *e; (e = nftnl_set_elems_iter_next(it)); n++) {
		assert_int_equal(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT), (uint32_t)NFT_JUMP);
		assert_string_equal(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN),
				    n ? "forward_wan0_lan0" : "forward_lan0_wan0");
	}
	nftnl_set_elems_iter_destroy(it);
	assert_int_equal(n, 2);
	fixture_free(&f);

	/* every rule of the run matches one family (the zones' addresses): keyed on it too */
	build_text(&f, "zone lan { interface lan0; address 10.0.0.0/8, fd00::/8; }\n"
		       "zone wan { interface wan0; }\n"
		       "allow tcp/22 from lan to wan;\nallow udp/53 from lan to wan;\n");
	nft_plan_build(&f.c->ir, &plan);
	assert_null(nft_plan_rules(&f.c->ir, &plan, NULL));
	map = NULL;
	for (size_t i = 0; i < plan.rules[IR_FORWARD].n; i++)
		if (plan.rules[IR_FORWARD].v[i].disp)
			map = &plan.rules[IR_FORWARD].v[i];
	assert_non_null(map);
	assert_true(map->disp->family && map->disp->iif && map->disp->oif);
	assert_int_equal(map->disp->jumps.n, 2);
	assert_int_equal(map->disp->jumps.v[0].family, IR_V4);
	assert_string_equal(map->disp->jumps.v[0].chain, "forward_lan0_wan0_v4");
	assert_int_equal(map->disp->jumps.v[1].family, IR_V6);
	assert_string_equal(map->disp->jumps.v[1].chain, "forward_lan0_wan0_v6");
	nft_plan_free(&plan);
	r = forward_map_rule(&f, 3);
	static const char *const names3[] = {"meta", "meta", "meta", "lookup", NULL};
	expect_names(r, names3);
	/* the protocol's byte padded to a register, then the two names */
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 0), NFTNL_EXPR_META_KEY), NFT_META_NFPROTO);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 0), NFTNL_EXPR_META_DREG), NFT_REG_1);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 1), NFTNL_EXPR_META_DREG), NFT_REG32_01);
	assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_META_DREG), NFT_REG32_05);
	s = set_with_id(&f, nftnl_expr_get_u32(expr_at(r, 3), NFTNL_EXPR_LOOKUP_SET_ID));
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 36);
	assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 2 << 12 | 41 << 6 | 41);
	fixture_free(&f);

	/* three rules are walked as cheaply as a jump: no map */
	build_text(&f, "zone lan { interface lan0; }\nzone wan { interface wan0; }\n"
		       "allow tcp/22 from lan to wan;\nallow udp/53 from lan to wan;\n"
		       "allow tcp/25 from wan to lan;\n");
	nft_plan_build(&f.c->ir, &plan);
	assert_null(nft_plan_rules(&f.c->ir, &plan, NULL));
	for (size_t i = 0; i < plan.subchains.n; i++)
		assert_non_null(strstr(plan.subchains.v[i].name, "_icmp")); /* the ICMP rules' only */
	nft_plan_free(&plan);
	fixture_free(&f);
}

static void test_helpers_and_ct(void **state)
{
	(void)state;
	struct fixture f;
	build_file(&f, "examples/gateway.pin", MODE_AS_POLICY);
	size_t helpers = 0;
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind != NL_OBJ)
			continue;
		helpers++;
		assert_int_equal(nftnl_obj_get_u32(o->o, NFTNL_OBJ_TYPE), NFT_OBJECT_CT_HELPER);
		assert_string_equal(nftnl_obj_get_str(o->o, NFTNL_OBJ_NAME), "ph_ftp_tcp");
		assert_string_equal(nftnl_obj_get_str(o->o, NFTNL_OBJ_CT_HELPER_NAME), "ftp");
		assert_int_equal(nftnl_obj_get_u16(o->o, NFTNL_OBJ_CT_HELPER_L3PROTO), NFPROTO_INET);
		assert_int_equal(nftnl_obj_get_u8(o->o, NFTNL_OBJ_CT_HELPER_L4PROTO), IPPROTO_TCP);
		/* an error on this object is told against the first rule that uses it */
		assert_non_null(f.want.objs.v[i].rule);
		const struct ir_rule *user = f.want.objs.v[i].rule;
		assert_int_equal(user->action, IR_SET_HELPER);
		assert_string_equal(user->helper, "ftp"); /* the IR names the type, nft the object */
		char *t = nft_rule_text(&f.c->ir, user);
		assert_non_null(strstr(t, "ct helper set \"ph_ftp_tcp\""));
		free(t);
	}
	assert_int_equal(helpers, 1);
	bool set_helper = false, match_helper = false, est = false;
	for (size_t i = 0; i < f.want.objs.n; i++) {
		const struct nl_obj *o = &f.want.objs.v[i];
		if (o->kind != NL_RULE)
			continue;
		const struct nftnl_rule *r = f.got.rs.objs.v[i].o;
		if (o->rule->action == IR_SET_HELPER && !set_helper) {
			set_helper = true;
			/* ... ct state new, then the objref statement */
			struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
			struct nftnl_expr *e, *last = NULL;
			while ((e = nftnl_expr_iter_next(it)))
				last = e;
			nftnl_expr_iter_destroy(it);
			assert_string_equal(nftnl_expr_get_str(last, NFTNL_EXPR_NAME), "objref");
			assert_int_equal(nftnl_expr_get_u32(last, NFTNL_EXPR_OBJREF_IMM_TYPE), NFT_OBJECT_CT_HELPER);
			assert_string_equal(nftnl_expr_get_str(last, NFTNL_EXPR_OBJREF_IMM_NAME), "ph_ftp_tcp");
		}
		if (ir_match_get(o->rule, IR_M_CT_HELPER) && !match_helper) {
			match_helper = true;
			static const uint8_t ftp[16] = "ftp";
			size_t k = 0;
			for (; k < 20; k++) {
				const struct nftnl_expr *e = expr_at(r, (int)k);
				if (!strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "ct") &&
				    nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) == NFT_CT_HELPER)
					break;
			}
			expect_data(expr_at(r, (int)k + 1), NFTNL_EXPR_CMP_DATA, ftp, 16);
		}
		if (o->rule->origin.builtin && !strcmp(o->rule->origin.builtin, "established connections") && !est) {
			est = true;
			static const char *const names[] = {"ct", "bitwise", "cmp", "immediate", NULL};
			expect_names(r, names);
			assert_int_equal(nftnl_expr_get_u32(expr_at(r, 0), NFTNL_EXPR_CT_KEY), NFT_CT_STATE);
			uint32_t bit = 2, zero = 0; /* nft's "established" bit, host order */
			expect_data(expr_at(r, 1), NFTNL_EXPR_BITWISE_MASK, &bit, 4);
			assert_int_equal(nftnl_expr_get_u32(expr_at(r, 2), NFTNL_EXPR_CMP_OP), NFT_CMP_NEQ);
			expect_data(expr_at(r, 2), NFTNL_EXPR_CMP_DATA, &zero, 4);
		}
	}
	assert_true(set_helper && match_helper && est);
	fixture_free(&f);
}

static const struct nftnl_expr *last_expr(const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e, *last = NULL;
	while ((e = nftnl_expr_iter_next(it)))
		last = e;
	nftnl_expr_iter_destroy(it);
	return last;
}

static void test_reject_flavours(void **state)
{
	(void)state;
	struct fixture f;
	build_text(&f, "reject tcp/113 server;\nreject udp/54 server;\nreject udp/53 server from 192.0.2.7, 2001:db8::7;\n");
	const struct nftnl_expr *e = last_expr(rule_for(&f, IR_INPUT, 0, 1));
	assert_string_equal(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "reject");
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE), NFT_REJECT_TCP_RST);
	/* no family known: the inet "icmpx" flavour */
	e = last_expr(rule_for(&f, IR_INPUT, 0, 2));
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE), NFT_REJECT_ICMPX_UNREACH);
	assert_int_equal(nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE), NFT_REJECT_ICMPX_PORT_UNREACH);
	/* family matched first: the family's own port unreachable */
	e = last_expr(rule_for(&f, IR_INPUT, IR_V4, 3));
	assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE), NFT_REJECT_ICMP_UNREACH);
	assert_int_equal(nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE), 3);
	e = last_expr(rule_for(&f, IR_INPUT, IR_V6, 3));
	assert_int_equal(nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE), 4);
	fixture_free(&f);
}

/* Fields the policy language has no words for yet: a hand-made IR. */
static void test_hand_made_ir(void **state)
{
	(void)state;
	struct compilation *c = calloc(1, sizeof(*c));
	struct ir_rule r;
	ir_rule_init(&r);
	r.hook = IR_INPUT;
	ir_rule_set_proto(&r, IR_TCP);
	ir_rule_set_tcp_flags(&r, IR_M_TCP_FLAGS, TCPF_SYN | TCPF_ACK, TCPF_SYN);
	r.origin.builtin = "test: syn only";
	VEC_PUSH(c->ir.rules, r);
	ir_rule_init(&r);
	r.hook = IR_OUTPUT;
	r.family = IR_V6;
	ir_rule_set_proto(&r, IR_UDP);
	ir_match_put(&r, IR_M_FRAGMENT);
	r.origin.builtin = "test: fragments";
	VEC_PUSH(c->ir.rules, r);
	ir_rule_init(&r);
	r.hook = IR_OUTPUT;
	ir_rule_set_proto(&r, IR_UDP);
	ir_rule_set_ports(&r, IR_M_SAME_PORT, &(struct ir_portrange){137, 138}, 1);
	r.origin.builtin = "test: same port";
	VEC_PUSH(c->ir.rules, r);
	struct fixture f;
	build(&f, c, true);
	const struct nftnl_rule *nr = NULL;
	for (size_t i = 0; i < f.want.objs.n; i++)
		if (f.want.objs.v[i].kind == NL_RULE && f.want.objs.v[i].rule == &c->ir.rules.v[0])
			nr = f.got.rs.objs.v[i].o;
	assert_non_null(nr);
	static const char *const syn[] = {"meta", "cmp", "payload", "bitwise", "cmp", "immediate", NULL};
	expect_names(nr, syn);
	assert_int_equal(nftnl_expr_get_u32(expr_at(nr, 2), NFTNL_EXPR_PAYLOAD_OFFSET), 13);
	expect_data(expr_at(nr, 3), NFTNL_EXPR_BITWISE_MASK, (uint8_t[]){0x12}, 1);
	expect_data(expr_at(nr, 4), NFTNL_EXPR_CMP_DATA, (uint8_t[]){0x02}, 1);
	for (size_t i = 0; i < f.want.objs.n; i++) {
		const struct nl_obj *o = &f.want.objs.v[i];
		if (o->kind != NL_RULE)
			continue;
		nr = f.got.rs.objs.v[i].o;
		if (o->rule == &c->ir.rules.v[1]) { /* meta nfproto ipv6 frag frag-off != 0 meta l4proto udp */
			static const char *const fr[] = {"meta", "cmp", "exthdr", "bitwise", "cmp", "meta", "cmp",
							 "immediate", NULL};
			expect_names(nr, fr);
			const struct nftnl_expr *x = expr_at(nr, 2);
			assert_int_equal(nftnl_expr_get_u8(x, NFTNL_EXPR_EXTHDR_TYPE), 44);
			assert_int_equal(nftnl_expr_get_u32(x, NFTNL_EXPR_EXTHDR_OFFSET), 2);
			assert_int_equal(nftnl_expr_get_u32(x, NFTNL_EXPR_EXTHDR_LEN), 2);
			expect_data(expr_at(nr, 3), NFTNL_EXPR_BITWISE_MASK, (uint8_t[]){0xff, 0xf8}, 2);
			assert_int_equal(nftnl_expr_get_u32(expr_at(nr, 4), NFTNL_EXPR_CMP_OP), NFT_CMP_NEQ);
		}
		if (o->rule == &c->ir.rules.v[2]) { /* udp sport . udp dport { 137 . 137, 138 . 138 } */
			static const char *const sp[] = {"meta", "cmp", "payload", "payload", "lookup", "immediate", NULL};
			expect_names(nr, sp);
			assert_int_equal(nftnl_expr_get_u32(expr_at(nr, 3), NFTNL_EXPR_PAYLOAD_DREG), NFT_REG32_01);
			const struct nftnl_set *s =
				set_with_id(&f, nftnl_expr_get_u32(expr_at(nr, 4), NFTNL_EXPR_LOOKUP_SET_ID));
			assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), 13 << 6 | 13);
			assert_int_equal(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), 8);
			/* each 2-byte port padded to a 4-byte register */
			expect_elems(s, "0089000000890000 008a0000008a0000");
		}
	}
	/* nothing in the IR asks for it, so no prerouting chain and no table-level extras */
	struct strbuf d = {0};
	assert_int_equal(nl_diff(&f.want, &f.got.rs, &d), 0);
	sb_free(&d);
	fixture_free(&f);
}

/* ---- differences and re-creation ---- */

static void test_diff_finds_differences(void **state)
{
	(void)state;
	struct fixture a, b;
	build_text(&a, "define office = 10.0.0.0/8;\nallow ssh server from office;\nallow dns client;\n");
	build_text(&b, "define office = 10.0.0.0/16;\nallow ssh server from office;\nallow ntp client;\n");
	struct strbuf d = {0};
	size_t n = nl_diff(&a.want, &b.got.rs, &d);
	assert_true(n >= 3);
	assert_non_null(strstr(d.s, "set office_v4 differs"));
	assert_non_null(strstr(d.s, "10.0.0.0/16"));
	/* a's dns rules are missing from "the kernel" (b), told with their policy line */
	assert_non_null(strstr(d.s, "chain output: rule missing from the kernel: udp dport 53 accept"));
	assert_non_null(strstr(d.s, ":3 dns flow query"));
	assert_non_null(strstr(d.s, "chain output: rule in the kernel but not in the policy"));
	sb_free(&d);
	/* nothing loaded at all */
	struct nl_ruleset empty;
	nl_ruleset_init(&empty, NFPROTO_INET, PINHOLE_TABLE);
	assert_int_equal(nl_diff(&a.want, &empty, &d), 1);
	assert_non_null(strstr(d.s, "is not loaded"));
	sb_free(&d);
	fixture_free(&a);
	fixture_free(&b);
}

/* A lookup as the kernel dumps it: the set under its kernel name, no transaction id. (A new
 * expression: libnftnl's setters do not free the string they replace.) */
static struct nftnl_expr *dumped_lookup(const struct nftnl_expr *e, const char *name)
{
	struct nftnl_expr *n = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(n, NFTNL_EXPR_LOOKUP_SREG, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)) /* a verdict map's lookup */
		nftnl_expr_set_u32(n, NFTNL_EXPR_LOOKUP_DREG, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
	nftnl_expr_set_u32(n, NFTNL_EXPR_LOOKUP_FLAGS, 0);
	nftnl_expr_set_str(n, NFTNL_EXPR_LOOKUP_SET, name);
	return n;
}

/* Objects as a kernel dump returns them: anonymous sets numbered, handles, no transaction ids. */
static void as_kernel_dump(struct nl_ruleset *rs)
{
	VEC(struct { uint32_t id; char name[16]; }) anon = {0};
	size_t nsets = 0, nmaps = 0;
	for (size_t i = 0; i < rs->objs.n; i++) {
		struct nl_obj *o = &rs->objs.v[i];
		if (o->kind != NL_SET)
			continue;
		if (nftnl_set_get_u32(o->o, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) {
			/* the kernel numbers sets and (dispatch) maps apart: __set0.., __map0.. */
			bool map = nftnl_set_get_u32(o->o, NFTNL_SET_FLAGS) & NFT_SET_MAP;
			VEC_PUSH(anon, ((__typeof__(*anon.v)){nftnl_set_get_u32(o->o, NFTNL_SET_ID), ""}));
			snprintf(anon.v[anon.n - 1].name, 16, map ? "__map%zu" : "__set%zu", map ? nmaps++ : nsets++);
			nftnl_set_set_str(o->o, NFTNL_SET_NAME, anon.v[anon.n - 1].name);
		}
		nftnl_set_unset(o->o, NFTNL_SET_ID);
	}
	for (size_t i = 0; i < rs->objs.n; i++) {
		struct nl_obj *o = &rs->objs.v[i];
		if (o->kind != NL_RULE)
			continue;
		nftnl_rule_set_u64(o->o, NFTNL_RULE_HANDLE, 100 + i);
		VEC(struct nftnl_expr *) ex = {0};
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(o->o);
		struct nftnl_expr *e;
		while ((e = nftnl_expr_iter_next(it)))
			VEC_PUSH(ex, e);
		nftnl_expr_iter_destroy(it);
		for (size_t k = 0; k < ex.n; k++) {
			nftnl_rule_del_expr(ex.v[k]);
			if (strcmp(nftnl_expr_get_str(ex.v[k], NFTNL_EXPR_NAME), "lookup") != 0) {
				nftnl_rule_add_expr(o->o, ex.v[k]);
				continue;
			}
			const char *name = nftnl_expr_get_str(ex.v[k], NFTNL_EXPR_LOOKUP_SET);
			for (size_t a = 0; a < anon.n; a++)
				if (anon.v[a].id == nftnl_expr_get_u32(ex.v[k], NFTNL_EXPR_LOOKUP_SET_ID) &&
				    (!strcmp(name, "__set%d") || !strcmp(name, "__map%d")))
					name = anon.v[a].name;
			nftnl_rule_add_expr(o->o, dumped_lookup(ex.v[k], name));
			nftnl_expr_free(ex.v[k]);
		}
		VEC_FREE(ex);
	}
	VEC_FREE(anon);
}

static void test_recreate_saved_table(void **state)
{
	(void)state;
	struct fixture f;
	build_file(&f, "examples/fileserver.pin", MODE_AS_POLICY);
	as_kernel_dump(&f.got.rs);
	/* the "dump" still means the same (diff resolves __setN by name) */
	struct strbuf d = {0};
	assert_int_equal(nl_diff(&f.want, &f.got.rs, &d), 0);
	assert_int_equal(nl_prepare_recreate(&f.got.rs), 0);
	uint32_t seen[256] = {0};
	size_t nseen = 0;
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind == NL_RULE)
			assert_false(nftnl_rule_is_set(o->o, NFTNL_RULE_HANDLE));
		if (o->kind != NL_SET)
			continue;
		uint32_t id = nftnl_set_get_u32(o->o, NFTNL_SET_ID);
		for (size_t k = 0; k < nseen; k++)
			assert_int_not_equal(seen[k], id); /* fresh, distinct transaction ids */
		assert_true(nseen < 256);
		seen[nseen++] = id;
		if (nftnl_set_get_u32(o->o, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) /* the table is new: */
			assert_true(!strncmp(nftnl_set_get_str(o->o, NFTNL_SET_NAME), "__", 2)); /* names kept */
	}
	/* every lookup carries its set's new id */
	for (size_t i = 0; i < f.got.rs.objs.n; i++) {
		const struct nl_obj *o = &f.got.rs.objs.v[i];
		if (o->kind != NL_RULE)
			continue;
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(o->o);
		struct nftnl_expr *e;
		while ((e = nftnl_expr_iter_next(it))) {
			if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") != 0)
				continue;
			const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
			bool found = false;
			for (size_t j = 0; j < f.got.rs.objs.n; j++)
				if (f.got.rs.objs.v[j].kind == NL_SET &&
				    !strcmp(nftnl_set_get_str(f.got.rs.objs.v[j].o, NFTNL_SET_NAME), name)) {
					assert_int_equal(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID),
							 nftnl_set_get_u32(f.got.rs.objs.v[j].o, NFTNL_SET_ID));
					found = true;
				}
			assert_true(found);
		}
		nftnl_expr_iter_destroy(it);
	}
	/* same meaning as built */
	assert_int_equal(nl_diff(&f.want, &f.got.rs, &d), 0);
	/* and it serializes into a replacement batch */
	struct nftnl_batch *b = nl_batch_alloc();
	struct nl_msgmap map = {0};
	assert_int_equal(nl_batch_replace(b, &f.got.rs, SEQ0, true, &map), 0);
	struct parsed again;
	parse_batch(b, &again);
	assert_int_equal(nl_diff(&f.want, &again.rs, &d), 0);
	parsed_free(&again);
	nl_msgmap_free(&map);
	nftnl_batch_free(b);
	sb_free(&d);
	fixture_free(&f);
}

/* What nftables cannot express is refused at its policy line, never cut down to fit. */
static void test_refuses_what_nft_cannot_express(void **state)
{
	(void)state;
	bool ok;
	/* The resolver refuses such names at the zone; the backend must refuse them on its own
	 * too, so put one straight into the IR. */
	struct compilation *c = unit_compile("zone a { interface abcdefghijklmno; }\nzone b { interface eth0; }\n"
					     "allow ssh from a to b;\n", &ok);
	assert_true(ok);
	struct ir_rule *victim = NULL;
	struct ir_match *iif = NULL;
	for (size_t i = 0; i < c->ir.rules.n && !victim; i++)
		if (ir_match_get(&c->ir.rules.v[i], IR_M_IIF) && c->ir.rules.v[i].origin.line == 3)
			victim = &c->ir.rules.v[i];
	assert_non_null(victim);
	ir_rule_unpack(victim); /* its own parts, to change one */
	iif = (struct ir_match *)ir_match_get(victim, IR_M_IIF);
	assert_true(iif->u.ifs.n > 0);
	free(iif->u.ifs.v[0]);
	iif->u.ifs.v[0] = xstrdup("abcdefghijklmnop");
	struct nl_ruleset rs;
	assert_int_equal(nl_from_ir(&c->ir, &rs), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(rs.bad_rule);
	assert_int_equal(rs.bad_rule->origin.line, 3);
	assert_non_null(strstr(rs.why, "'abcdefghijklmnop' is longer than 15 characters"));
	assert_int_equal(rs.objs.n, 0);
	unit_free(c);
	/* 15 characters is fine */
	c = unit_compile("zone a { interface abcdefghijklmno; }\nzone b { interface eth0; }\n"
			 "allow ssh from a to b;\n", &ok);
	assert_true(ok);
	assert_int_equal(nl_from_ir(&c->ir, &rs), 0);
	nl_ruleset_free(&rs);
	unit_free(c);
}

/* Restoring "no table": the batch only creates and deletes it. */
static void test_replace_with_nothing(void **state)
{
	(void)state;
	struct nl_ruleset none;
	nl_ruleset_init(&none, NFPROTO_INET, PINHOLE_TABLE);
	struct nftnl_batch *b = nl_batch_alloc();
	struct nl_msgmap map = {0};
	assert_int_equal(nl_batch_replace(b, &none, SEQ0, true, &map), 0);
	struct parsed p;
	parse_batch(b, &p);
	assert_int_equal(p.msgs.n, 4);
	assert_int_equal(p.msgs.v[1].type, NFT_MSG_NEWTABLE);
	assert_int_equal(p.msgs.v[2].type, NFT_MSG_DELTABLE);
	assert_int_equal(p.msgs.v[3].type, NFNL_MSG_BATCH_END);
	assert_int_equal(p.rs.objs.n, 0);
	parsed_free(&p);
	nl_msgmap_free(&map);
	nftnl_batch_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples_round_trip),
		cmocka_unit_test(test_dry_run_has_no_batch_end),
		cmocka_unit_test(test_chains_and_table),
		cmocka_unit_test(test_address_and_port_match),
		cmocka_unit_test(test_unaligned_and_zero_prefix),
		cmocka_unit_test(test_adjacent_fields),
		cmocka_unit_test(test_anonymous_port_sets),
		cmocka_unit_test(test_named_sets),
		cmocka_unit_test(test_dynamic_sets),
		cmocka_unit_test(test_interfaces),
		cmocka_unit_test(test_interface_dispatch),
		cmocka_unit_test(test_protocol_dispatch),
		cmocka_unit_test(test_rare_rules_sink),
		cmocka_unit_test(test_helpers_and_ct),
		cmocka_unit_test(test_reject_flavours),
		cmocka_unit_test(test_hand_made_ir),
		cmocka_unit_test(test_diff_finds_differences),
		cmocka_unit_test(test_recreate_saved_table),
		cmocka_unit_test(test_replace_with_nothing),
		cmocka_unit_test(test_refuses_what_nft_cannot_express),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
