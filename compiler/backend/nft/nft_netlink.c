/* nftables netlink backend: the lowered rules (nft_lower.h) as libnftnl objects.
 *
 * Each step becomes the expressions nft 1.0.6 sends for the text nft_text.c writes for it: the
 * same payload lengths, anonymous sets with the same flags, elements and userdata, and the
 * same reject type. What a rule is made of was decided once, by the lowering; this file only
 * says how each step looks on the wire. tests/agree compares both forms for every golden
 * policy, and `pinhole status` and the kernel tests check the result against `nft -f`. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
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
#include "nft_nlset.h"

/* nft's `ct state` bits (enum ip_conntrack_info based) and ct helper name length. */
enum { NFT_CTS_INVALID = 1, NFT_CTS_ESTABLISHED = 2, NFT_CTS_RELATED = 4, NFT_CTS_NEW = 8 };
#define CT_HELPER_NAME_LEN 16
#define IFNAME_LEN NFT_IFNAME_LEN

struct build {
	struct nl_ruleset *out;
	uint32_t set_id;
	int err; /* first errno, 0 while all is well */
	const struct ir_rule *bad_rule;
	char why[128];
};

static void fail(struct build *b, int err)
{
	if (!b->err)
		b->err = err;
}

/* IR that nftables cannot express: refuse it rather than load something else. */
static void invalid(struct build *b, const struct ir_rule *r, const char *why)
{
	if (b->err)
		return;
	b->err = EINVAL;
	b->bad_rule = r;
	snprintf(b->why, sizeof(b->why), "%s", why);
}

static void push(struct build *b, enum nl_kind kind, void *o, const struct ir_rule *r)
{
	if (!o) {
		fail(b, ENOMEM);
		return;
	}
	VEC_PUSH(b->out->objs, ((struct nl_obj){kind, o, r}));
}

/* ---- expressions ---- */

/* The rule being built. */
struct rule_ctx {
	struct build *b;
	struct nftnl_rule *r;
	const struct ir_rule *ir;
};

static struct nftnl_expr *expr(struct rule_ctx *c, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (!e)
		fail(c->b, ENOMEM);
	return e;
}

static void add(struct rule_ctx *c, struct nftnl_expr *e)
{
	if (e)
		nftnl_rule_add_expr(c->r, e);
}

static void set_data(struct rule_ctx *c, struct nftnl_expr *e, uint16_t attr, const void *d, uint32_t len)
{
	if (nftnl_expr_set(e, attr, d, len) < 0)
		fail(c->b, ENOMEM);
}

static void meta_load_reg(struct rule_ctx *c, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = expr(c, "meta");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	add(c, e);
}

static void meta_load(struct rule_ctx *c, uint32_t key)
{
	meta_load_reg(c, key, NFT_REG_1);
}

static void payload_load(struct rule_ctx *c, uint32_t base, uint32_t offset, uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = expr(c, "payload");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	add(c, e);
}

static void cmp(struct rule_ctx *c, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(c, "cmp");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	set_data(c, e, NFTNL_EXPR_CMP_DATA, data, len);
	add(c, e);
}

static void cmp_u8(struct rule_ctx *c, uint8_t v)
{
	cmp(c, NFT_CMP_EQ, &v, 1);
}

/* reg = (reg & mask) ^ 0: nft's form of a masked match or key. */
static void bitwise_reg(struct rule_ctx *c, const void *mask, uint32_t len, uint32_t reg)
{
	static const uint8_t zero[NL_KEY_MAX];
	struct nftnl_expr *e = expr(c, "bitwise");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	set_data(c, e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	set_data(c, e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	add(c, e);
}

/* reg1 = (reg1 & mask) ^ 0, then compare. */
static void bitwise(struct rule_ctx *c, const void *mask, uint32_t len)
{
	bitwise_reg(c, mask, len, NFT_REG_1);
}

static void lookup(struct rule_ctx *c, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = expr(c, "lookup");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set) < 0)
		fail(c->b, ENOMEM);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	add(c, e);
}

static void ct_load(struct rule_ctx *c, uint32_t key)
{
	struct nftnl_expr *e = expr(c, "ct");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	add(c, e);
}

static void verdict(struct rule_ctx *c, uint32_t v)
{
	struct nftnl_expr *e = expr(c, "immediate");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, v);
	add(c, e);
}

/* An anonymous set for one rule, created just before it, looked up from register 1. */
static void anon_lookup(struct rule_ctx *c, const struct ir_rule *r, const struct set_spec *sp, kranges *elems)
{
	struct build *b = c->b;
	struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, sp, elems);
	if (!s) {
		fail(b, errno);
		return;
	}
	push(b, NL_SET, s, r);
	lookup(c, "__set%d", b->set_id);
}

/* ---- steps ---- */

static void ifname_key(const char *name, struct krange *k)
{
	memset(k, 0, sizeof(*k));
	size_t n = strlen(name);
	bool wild = n && name[n - 1] == '*';
	if (wild)
		n--;
	if (n > IFNAME_LEN)
		n = IFNAME_LEN;
	memcpy(k->lo, name, n);
	memcpy(k->hi, name, n);
	if (wild)
		memset(k->hi + n, 0xff, IFNAME_LEN - n);
}

static void step_ifname(struct rule_ctx *c, const struct ir_ifset *s, bool in)
{
	meta_load(c, in ? NFT_META_IIFNAME : NFT_META_OIFNAME);
	if (s->n == 1) {
		size_t n = strlen(s->v[0]);
		if (n && s->v[0][n - 1] == '*') { /* prefix match: compare only the prefix */
			cmp(c, NFT_CMP_EQ, s->v[0], (uint32_t)(n - 1));
		} else {
			uint8_t buf[IFNAME_LEN] = {0};
			memcpy(buf, s->v[0], n < IFNAME_LEN ? n : IFNAME_LEN);
			cmp(c, NFT_CMP_EQ, buf, IFNAME_LEN);
		}
		return;
	}
	struct set_spec sp = {.key_type = DT_IFNAME, .key_len = IFNAME_LEN, .byteorder = BO_HOST,
			      .typeof_expr = EXPR_META,
			      .tf = {{in ? NFT_META_IIFNAME : NFT_META_OIFNAME, 0}}};
	kranges v = {0};
	for (size_t i = 0; i < s->n; i++) {
		struct krange k;
		ifname_key(s->v[i], &k);
		sp.interval |= memcmp(k.lo, k.hi, IFNAME_LEN) != 0;
		VEC_PUSH(v, k);
	}
	anon_lookup(c, c->ir, &sp, &v);
	VEC_FREE(v);
}

static void prefix_range(const struct ir_prefix *p, struct krange *k, size_t len)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->lo, p->addr, len);
	memcpy(k->hi, p->addr, len);
	for (size_t bit = p->len; bit < len * 8; bit++)
		k->hi[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
}

/* The network header offset of an address, and its length. */
static uint32_t addr_offset(uint8_t family, bool src)
{
	return family == IR_V6 ? (src ? 8 : 24) : (src ? 12 : 16);
}

static uint32_t addr_len(uint8_t family)
{
	return family == IR_V6 ? 16 : 4;
}

static void step_addr(struct rule_ctx *c, const struct nft_step *st)
{
	const struct ir_addrset *a = st->u.addr.addrs;
	bool v6 = st->family == IR_V6, src = st->src;
	uint32_t len = addr_len(st->family), off = addr_offset(st->family, src);
	if (st->u.addr.set) {
		payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, off, len, NFT_REG_1);
		lookup(c, st->u.addr.set, 0); /* the set id is filled in once named sets are known */
		return;
	}
	if (a->n == 1) {
		const struct ir_prefix *p = &a->v[0];
		if (p->len && p->len % 8 == 0) { /* nft loads only the prefix bytes */
			uint32_t n = p->len / 8;
			payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, off, n, NFT_REG_1);
			cmp(c, NFT_CMP_EQ, p->addr, n);
		} else {
			uint8_t mask[NL_KEY_MAX] = {0};
			for (unsigned bit = 0; bit < p->len; bit++)
				mask[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, off, len, NFT_REG_1);
			bitwise(c, mask, len);
			cmp(c, NFT_CMP_EQ, p->addr, len);
		}
		return;
	}
	struct set_spec sp = {.key_type = v6 ? DT_IP6ADDR : DT_IPADDR, .key_len = len, .byteorder = BO_BIG,
			      .typeof_expr = EXPR_PAYLOAD,
			      .tf = {{v6 ? PD_IP6 : PD_IP,
				      v6 ? (src ? F_IP6_SADDR : F_IP6_DADDR) : (src ? F_IP_SADDR : F_IP_DADDR)}}};
	kranges v = {0};
	for (size_t i = 0; i < a->n; i++) {
		struct krange k;
		prefix_range(&a->v[i], &k, len);
		sp.interval |= a->v[i].len != len * 8;
		VEC_PUSH(v, k);
	}
	payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, off, len, NFT_REG_1);
	anon_lookup(c, c->ir, &sp, &v);
	VEC_FREE(v);
}

static void step_fragment(struct rule_ctx *c, uint8_t family)
{
	static const uint8_t zero[2];
	if (family == IR_V6) { /* frag frag-off != 0 */
		static const uint8_t mask[2] = {0xff, 0xf8};
		struct nftnl_expr *e = expr(c, "exthdr");
		if (!e)
			return;
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1);
		nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, 44 /* IPPROTO_FRAGMENT */);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, 2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, 2);
		add(c, e);
		bitwise(c, mask, 2);
	} else { /* ip frag-off & 0x1fff != 0 */
		static const uint8_t mask[2] = {0x1f, 0xff};
		payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, 6, 2, NFT_REG_1);
		bitwise(c, mask, 2);
	}
	cmp(c, NFT_CMP_NEQ, zero, 2);
}

static void port_be(uint16_t p, uint8_t *out)
{
	out[0] = (uint8_t)(p >> 8);
	out[1] = (uint8_t)p;
}

static void step_ports(struct rule_ctx *c, const struct nft_step *st)
{
	const struct ir_portset *p = st->u.ports;
	payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, st->src ? 0 : 2, 2, NFT_REG_1);
	if (p->n == 1) {
		uint8_t lo[2], hi[2];
		port_be(p->v[0].lo, lo);
		port_be(p->v[0].hi, hi);
		if (p->v[0].lo == p->v[0].hi) {
			cmp(c, NFT_CMP_EQ, lo, 2);
		} else {
			cmp(c, NFT_CMP_GTE, lo, 2);
			cmp(c, NFT_CMP_LTE, hi, 2);
		}
		return;
	}
	struct set_spec sp = {.key_type = DT_INET_SERVICE, .key_len = 2, .byteorder = BO_BIG,
			      .typeof_expr = EXPR_PAYLOAD,
			      .tf = {{st->proto == IR_UDP ? PD_UDP : PD_TCP, st->src ? F_SPORT : F_DPORT}}};
	kranges v = {0};
	for (size_t i = 0; i < p->n; i++) {
		struct krange k = {{0}, {0}, NULL, NULL};
		port_be(p->v[i].lo, k.lo);
		port_be(p->v[i].hi, k.hi);
		sp.interval |= p->v[i].lo != p->v[i].hi;
		VEC_PUSH(v, k);
	}
	anon_lookup(c, c->ir, &sp, &v);
	VEC_FREE(v);
}

/* `udp sport 67 udp dport 68` is one 4-byte compare at the transport header. */
static void step_port_pair(struct rule_ctx *c, uint16_t sport, uint16_t dport)
{
	uint8_t both[4];
	port_be(sport, both);
	port_be(dport, both + 2);
	payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4, NFT_REG_1);
	cmp(c, NFT_CMP_EQ, both, 4);
}

/* "to=from": `udp sport . udp dport { p . p, ... }`, a concatenation looked up in a set. */
static void step_same_port(struct rule_ctx *c, const struct nft_step *st)
{
	uint32_t pd = st->proto == IR_UDP ? PD_UDP : PD_TCP;
	payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, NFT_REG_1);
	payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_01);
	struct set_spec sp = {.key_type = DT_INET_SERVICE << DT_CONCAT_SHIFT | DT_INET_SERVICE,
			      .key_len = 8, .byteorder = BO_INVALID, .typeof_expr = EXPR_CONCAT,
			      .tf = {{pd, F_SPORT}, {pd, F_DPORT}}};
	kranges v = {0};
	for (size_t i = 0; i < st->u.ports->n; i++)
		for (unsigned p = st->u.ports->v[i].lo; p <= st->u.ports->v[i].hi; p++) {
			struct krange k = {{0}, {0}, NULL, NULL};
			port_be((uint16_t)p, k.lo);     /* each field padded to a 4-byte register */
			port_be((uint16_t)p, k.lo + 4);
			memcpy(k.hi, k.lo, 8);
			VEC_PUSH(v, k);
		}
	anon_lookup(c, c->ir, &sp, &v);
	VEC_FREE(v);
}

static void step_tcp_flags(struct rule_ctx *c, const struct nft_step *st)
{
	static const uint8_t zero = 0;
	payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, 13, 1, NFT_REG_1);
	bitwise(c, &st->u.flags.mask, 1);
	if (st->u.flags.any)
		cmp(c, NFT_CMP_NEQ, &zero, 1);
	else
		cmp(c, NFT_CMP_EQ, &st->u.flags.cmp, 1);
}

static void step_ct_state(struct rule_ctx *c, uint8_t st)
{
	uint32_t bits = 0, zero = 0;
	if (st & CT_NEW)
		bits |= NFT_CTS_NEW;
	if (st & CT_ESTABLISHED)
		bits |= NFT_CTS_ESTABLISHED;
	if (st & CT_RELATED)
		bits |= NFT_CTS_RELATED;
	if (st & CT_INVALID)
		bits |= NFT_CTS_INVALID;
	ct_load(c, NFT_CT_STATE);
	bitwise(c, &bits, 4);
	cmp(c, NFT_CMP_NEQ, &zero, 4);
}

static void step_ct_helper(struct rule_ctx *c, const char *type)
{
	uint8_t buf[CT_HELPER_NAME_LEN] = {0};
	size_t n = strlen(type);
	memcpy(buf, type, n < CT_HELPER_NAME_LEN ? n : CT_HELPER_NAME_LEN - 1);
	ct_load(c, NFT_CT_HELPER);
	cmp(c, NFT_CMP_EQ, buf, CT_HELPER_NAME_LEN);
}

/* `fib daddr type local`: the route type of the destination address is RTN_LOCAL. */
static void step_fib_local(struct rule_ctx *c)
{
	struct nftnl_expr *e = expr(c, "fib");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	add(c, e);
	uint32_t local = 2; /* RTN_LOCAL */
	cmp(c, NFT_CMP_EQ, &local, 4);
}

/* `ct status dnat`: the IPS_DST_NAT bit of the connection's status. */
static void step_ct_dnat(struct rule_ctx *c)
{
	uint32_t bit = 1 << 5, zero = 0; /* IPS_DST_NAT */
	ct_load(c, NFT_CT_STATUS);
	bitwise(c, &bit, 4);
	cmp(c, NFT_CMP_NEQ, &zero, 4);
}

static void immediate_data(struct rule_ctx *c, uint32_t reg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr(c, "immediate");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
	set_data(c, e, NFTNL_EXPR_IMM_DATA, data, len);
	add(c, e);
}

/* `dnat ip to ADDR:PORT`: the new address in register 1, the port in register 2. */
static void step_nat(struct rule_ctx *c, const struct nft_step *st)
{
	const struct ir_nat *n = st->u.nat.to;
	bool v6 = st->family == IR_V6;
	immediate_data(c, NFT_REG_1, n->addr.addr, v6 ? 16 : 4);
	uint16_t port = htons(n->port);
	if (n->port)
		immediate_data(c, NFT_REG_2, &port, 2);
	struct nftnl_expr *e = expr(c, "nat");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, st->u.nat.dst ? NFT_NAT_DNAT : NFT_NAT_SNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (n->port) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
	}
	add(c, e);
}

static void step_log(struct rule_ctx *c, const char *prefix, const struct ir_logopt *o)
{
	struct nftnl_expr *e = expr(c, "log");
	if (!e)
		return;
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix) < 0)
		fail(c->b, ENOMEM);
	if (o && o->nflog)
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, o->group);
	else if (o && o->level_set)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_LEVEL, o->level);
	add(c, e);
}

static struct nftnl_expr *limit_expr(struct rule_ctx *c, const struct ir_limit *l)
{
	struct nftnl_expr *e = expr(c, "limit");
	if (!e)
		return NULL;
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, l->rate);
	nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, ir_rate_unit_seconds(l->unit));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, l->burst);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
	return e;
}

/* update @set { ip daddr }: the address into register 1, then dynset; `elem_expr` (a limit,
 * for a per-source meter) rides on each element, as nft sends it (DYNSET_EXPR). */
static void addr_set_update(struct rule_ctx *c, uint8_t family, bool src, const char *set,
			    struct nftnl_expr *elem_expr)
{
	payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(family, src), addr_len(family),
		     NFT_REG_1);
	struct nftnl_expr *e = expr(c, "dynset");
	if (!e) {
		if (elem_expr)
			nftnl_expr_free(elem_expr);
		return;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_OP, NFT_DYNSET_OP_UPDATE);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_DYNSET_SET_NAME, set) < 0)
		fail(c->b, ENOMEM);
	nftnl_expr_set_u32(e, NFTNL_EXPR_DYNSET_SET_ID, 0); /* filled in with the named sets' */
	if (elem_expr)
		nftnl_expr_set(e, NFTNL_EXPR_DYNSET_EXPR, elem_expr, 0);
	add(c, e);
}

static void step_set_update(struct rule_ctx *c, const struct nft_step *st)
{
	addr_set_update(c, st->family, st->src, st->u.set, NULL);
}

/* limit rate ..., or per source: an update of the meter whose element carries the limit. */
static void step_limit(struct rule_ctx *c, const struct nft_step *st)
{
	if (!st->u.limit.meter) {
		add(c, limit_expr(c, st->u.limit.l));
		return;
	}
	struct nftnl_expr *l = limit_expr(c, st->u.limit.l);
	if (l)
		addr_set_update(c, st->family, true, st->u.limit.meter, l);
}

static void step_reject(struct rule_ctx *c, const struct nft_step *st)
{
	struct nftnl_expr *e = expr(c, "reject");
	if (!e)
		return;
	uint32_t type = NFT_REJECT_ICMPX_UNREACH;
	uint8_t code = NFT_REJECT_ICMPX_PORT_UNREACH;
	switch (st->u.reject) {
	case NFT_REJECT_TCP_RESET:
		type = NFT_REJECT_TCP_RST;
		code = 0;
		break;
	case NFT_REJECT_ICMP_PORT:
		type = NFT_REJECT_ICMP_UNREACH;
		code = st->family == IR_V6 ? 4 /* ICMPV6_PORT_UNREACH */ : 3 /* ICMP_PORT_UNREACH */;
		break;
	case NFT_REJECT_ICMPX_PORT:
		break;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	add(c, e);
}

static void step_helper_set(struct rule_ctx *c, const char *obj)
{
	struct nftnl_expr *e = expr(c, "objref");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_CT_HELPER);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, obj) < 0)
		fail(c->b, ENOMEM);
	add(c, e);
}

/* `ip saddr . ip daddr . meta l4proto . tcp dport @ph_...`: peer, local address, protocol
 * and the listener's port, each field in whole 4-byte registers, as nft loads them. */
/* The register nft names for 32-bit word `w` of the key: a 16-byte register where one
 * starts, else the 4-byte one. */
static uint32_t key_reg(uint32_t w)
{
	return w % 4 == 0 ? NFT_REG_1 + w / 4 : NFT_REG32_00 + w;
}

static void step_pinhole_lookup(struct rule_ctx *c, const struct nft_step *st)
{
	uint32_t alen = addr_len(st->family), words = alen / 4;
	if (st->u.pinhole.peerless) { /* a relayed offer's sender: local . protocol . port */
		payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(st->family, !st->src), alen,
			     NFT_REG_1);
		meta_load_reg(c, NFT_META_L4PROTO, key_reg(words));
		payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, st->u.pinhole.port_src ? 0 : 2, 2,
			     key_reg(words + 1));
		lookup(c, st->u.pinhole.set, 0);
		return;
	}
	payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(st->family, st->src), alen, NFT_REG_1);
	payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(st->family, !st->src), alen,
		     key_reg(words));
	meta_load_reg(c, NFT_META_L4PROTO, key_reg(2 * words));
	payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, st->u.pinhole.port_src ? 0 : 2, 2,
		     key_reg(2 * words + 1));
	lookup(c, st->u.pinhole.set, 0); /* the set id is filled in once the sets are known */
}

/* `log prefix "ph1:" group G snaplen S`: the packet, whole, to pinholed's NFLOG group. */
static void step_nflog(struct rule_ctx *c, const char *prefix)
{
	struct nftnl_expr *e = expr(c, "log");
	if (!e)
		return;
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix) < 0)
		fail(c->b, ENOMEM);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, NFT_PINHOLED_GROUP);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOG_SNAPLEN, NFT_PINHOLED_SNAPLEN);
	add(c, e);
}

/* ---- merged rules: several rules' fields looked up in one set ---- */

static uint32_t field_len(const struct nft_setmatch *m, enum nft_field f)
{
	return f == NF_SADDR || f == NF_DADDR ? addr_len(m->family) : 2;
}

static uint32_t field_dt(const struct nft_setmatch *m, enum nft_field f)
{
	if (f == NF_SPORT || f == NF_DPORT)
		return DT_INET_SERVICE;
	return m->family == IR_V6 ? DT_IP6ADDR : DT_IPADDR;
}

/* The payload field, as the set's "typeof" userdata names it. */
static void field_desc(const struct nft_setmatch *m, enum nft_field f, uint32_t tf[2])
{
	bool v6 = m->family == IR_V6;
	switch (f) {
	case NF_SADDR: tf[0] = v6 ? PD_IP6 : PD_IP; tf[1] = v6 ? F_IP6_SADDR : F_IP_SADDR; break;
	case NF_DADDR: tf[0] = v6 ? PD_IP6 : PD_IP; tf[1] = v6 ? F_IP6_DADDR : F_IP_DADDR; break;
	case NF_SPORT: tf[0] = m->proto == IR_UDP ? PD_UDP : PD_TCP; tf[1] = F_SPORT; break;
	case NF_DPORT: tf[0] = m->proto == IR_UDP ? PD_UDP : PD_TCP; tf[1] = F_DPORT; break;
	}
}

static void load_field(struct rule_ctx *c, const struct nft_setmatch *m, size_t i, uint32_t reg)
{
	enum nft_field f = m->field[i];
	switch (f) {
	case NF_SADDR:
	case NF_DADDR:
		payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(m->family, f == NF_SADDR),
			     addr_len(m->family), reg);
		if (m->masklen[i]) { /* a masked key (nft_setmatch.masklen) */
			uint8_t mask[NL_KEY_MAX] = {0};
			for (unsigned bit = 0; bit < m->masklen[i]; bit++)
				mask[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
			bitwise_reg(c, mask, addr_len(m->family), reg);
		}
		break;
	case NF_SPORT:
	case NF_DPORT:
		payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, f == NF_SPORT ? 0 : 2, 2, reg);
		break;
	}
}

/* A value as a key range: an address prefix to its first and last address, a port range as
 * is, big-endian. */
static void value_key(const struct nft_setmatch *m, enum nft_field f, const union nft_value *v,
		      uint8_t *lo, uint8_t *hi)
{
	switch (f) {
	case NF_SADDR:
	case NF_DADDR: {
		struct krange k;
		prefix_range(&v->prefix, &k, addr_len(m->family));
		memcpy(lo, k.lo, addr_len(m->family));
		memcpy(hi, k.hi, addr_len(m->family));
		break;
	}
	case NF_SPORT:
	case NF_DPORT:
		port_be(v->ports.lo, lo);
		port_be(v->ports.hi, hi);
		break;
	}
}

/* The set's spec and elements: one field as is, a concatenation with each field in whole
 * 4-byte registers. */
static void merged_spec(const struct nft_setmatch *m, struct set_spec *sp, kranges *v)
{
	memset(sp, 0, sizeof(*sp));
	sp->name = m->name;
	sp->interval = m->interval;
	uint32_t len = 0;
	for (size_t f = 0; f < m->nfields; f++) {
		uint32_t fl = field_len(m, m->field[f]);
		sp->key_type = sp->key_type << DT_CONCAT_SHIFT | field_dt(m, m->field[f]);
		sp->field_len[f] = (uint8_t)fl;
		field_desc(m, m->field[f], sp->tf[f]);
		len += m->nfields > 1 ? (fl + 3) / 4 * 4 : fl;
	}
	sp->key_len = len;
	if (m->nfields > 1) {
		sp->nconcat = (uint32_t)m->nfields;
		sp->byteorder = BO_INVALID;
		sp->typeof_expr = EXPR_CONCAT;
	} else {
		sp->byteorder = BO_BIG;
		sp->typeof_expr = EXPR_PAYLOAD;
	}
	for (size_t i = 0; i < m->elems.n; i++) {
		struct krange k;
		memset(&k, 0, sizeof(k));
		uint32_t off = 0;
		for (size_t f = 0; f < m->nfields; f++) {
			value_key(m, m->field[f], &m->elems.v[i].v[f], k.lo + off, k.hi + off);
			uint32_t fl = field_len(m, m->field[f]);
			off += m->nfields > 1 ? (fl + 3) / 4 * 4 : fl;
		}
		k.comment = nft_elem_comment(m, &m->elems.v[i]);
		VEC_PUSH(*v, k);
	}
}

static void step_set_match(struct rule_ctx *c, const struct nft_setmatch *m)
{
	uint32_t words = 0;
	for (size_t f = 0; f < m->nfields; f++) {
		/* nft names a register by its 16-byte number where the offset allows it */
		uint32_t reg = words % 4 == 0 ? NFT_REG_1 + words / 4 : NFT_REG32_00 + words;
		load_field(c, m, f, reg);
		words += (field_len(m, m->field[f]) + 3) / 4;
	}
	if (m->name) {
		lookup(c, m->name, 0); /* the set id is filled in once named sets are known */
		return;
	}
	struct set_spec sp;
	kranges v = {0};
	merged_spec(m, &sp, &v);
	anon_lookup(c, c->ir, &sp, &v);
	VEC_FREE(v);
}

static void build_step(struct rule_ctx *c, const struct nft_step *st)
{
	switch (st->kind) {
	case NS_NFPROTO:
		meta_load(c, NFT_META_NFPROTO);
		cmp_u8(c, st->u.nfproto == IR_V6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		break;
	case NS_L4PROTO:
		meta_load(c, NFT_META_L4PROTO);
		cmp_u8(c, st->u.l4proto);
		break;
	case NS_IFNAME:
		step_ifname(c, st->u.ifs, st->src);
		break;
	case NS_ADDR:
		step_addr(c, st);
		break;
	case NS_SET_LOOKUP: /* `ip saddr @ph_..._v4`: the peer's address looked up */
		payload_load(c, NFT_PAYLOAD_NETWORK_HEADER, addr_offset(st->family, st->src),
			     addr_len(st->family), NFT_REG_1);
		lookup(c, st->u.set, 0); /* the set id is filled in once named sets are known */
		break;
	case NS_PINHOLE_LOOKUP:
		step_pinhole_lookup(c, st);
		break;
	case NS_FRAGMENT:
		step_fragment(c, st->family);
		break;
	case NS_PORTS:
		step_ports(c, st);
		break;
	case NS_PORT_PAIR:
		step_port_pair(c, st->u.pair.sport, st->u.pair.dport);
		break;
	case NS_SAME_PORT:
		step_same_port(c, st);
		break;
	case NS_TCP_FLAGS:
		step_tcp_flags(c, st);
		break;
	case NS_ICMP_TYPE:
		payload_load(c, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, NFT_REG_1);
		cmp_u8(c, st->u.icmp_type);
		break;
	case NS_CT_STATE:
		step_ct_state(c, st->u.ct_state);
		break;
	case NS_CT_HELPER:
		step_ct_helper(c, st->u.ct_helper);
		break;
	case NS_FIB_LOCAL:
		step_fib_local(c);
		break;
	case NS_CT_DNAT:
		step_ct_dnat(c);
		break;
	case NS_NAT:
		step_nat(c, st);
		break;
	case NS_MASQUERADE:
		add(c, expr(c, "masq"));
		break;
	case NS_SET_MATCH:
		step_set_match(c, st->u.setm);
		break;
	case NS_LOG:
		step_log(c, st->u.log_prefix, st->u.logopt);
		break;
	case NS_NFLOG:
		step_nflog(c, st->u.log_prefix);
		break;
	case NS_ACCEPT:
		verdict(c, NF_ACCEPT);
		break;
	case NS_DROP:
		verdict(c, NF_DROP);
		break;
	case NS_REJECT:
		step_reject(c, st);
		break;
	case NS_HELPER_SET:
		step_helper_set(c, st->u.helper_obj);
		break;
	case NS_SET_UPDATE:
		step_set_update(c, st);
		break;
	case NS_LIMIT:
		step_limit(c, st);
		break;
	}
}

/* `meta nfproto . iifname . oifname vmap { ... }`: each key field loaded into the next
 * registers (the protocol's byte padded to 4, each name 16 bytes), looked up in an anonymous
 * verdict map whose elements jump to the subchains (nft_dispatch.c). */
static void build_dispatch(struct rule_ctx *c, const struct nft_dispatch *d)
{
	struct build *b = c->b;
	uint32_t keys[3], lens[3], types[3], nf = 0;
	if (d->l4proto) { /* `meta l4proto vmap`: the protocol's byte alone */
		keys[nf] = NFT_META_L4PROTO;
		lens[nf] = 1;
		types[nf++] = DT_INET_PROTOCOL;
	}
	if (d->family) {
		keys[nf] = NFT_META_NFPROTO;
		lens[nf] = 1;
		types[nf++] = DT_NFPROTO;
	}
	if (d->iif) {
		keys[nf] = NFT_META_IIFNAME;
		lens[nf] = IFNAME_LEN;
		types[nf++] = DT_IFNAME;
	}
	if (d->oif) {
		keys[nf] = NFT_META_OIFNAME;
		lens[nf] = IFNAME_LEN;
		types[nf++] = DT_IFNAME;
	}
	struct set_spec sp = {.vmap = true};
	uint32_t off[3], words = 0;
	for (uint32_t f = 0; f < nf; f++) {
		/* nft names a register by its 16-byte number where the offset allows it */
		uint32_t reg = words % 4 == 0 ? NFT_REG_1 + words / 4 : NFT_REG32_00 + words;
		meta_load_reg(c, keys[f], reg);
		off[f] = words * 4;
		words += (lens[f] + 3) / 4;
		sp.key_type = sp.key_type << DT_CONCAT_SHIFT | types[f];
		sp.field_len[f] = (uint8_t)lens[f];
		sp.tf[f][0] = keys[f];
	}
	sp.key_len = nf > 1 ? words * 4 : lens[0];
	if (nf > 1) {
		sp.byteorder = BO_INVALID;
		sp.typeof_expr = EXPR_CONCAT;
		sp.nconcat = nf;
	} else {
		/* nft's meta l4proto has no byte order; nfproto and the names are host's */
		sp.byteorder = d->l4proto ? BO_INVALID : BO_HOST;
		sp.typeof_expr = EXPR_META;
	}
	kranges v = {0};
	for (size_t i = 0; i < d->jumps.n; i++) {
		const struct nft_jump *j = &d->jumps.v[i];
		struct krange k;
		memset(&k, 0, sizeof(k));
		for (uint32_t f = 0; f < nf; f++) {
			if (keys[f] == NFT_META_L4PROTO)
				k.lo[off[f]] = j->l4proto;
			else if (keys[f] == NFT_META_NFPROTO)
				k.lo[off[f]] = j->family == IR_V6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
			else
				memcpy(k.lo + off[f], keys[f] == NFT_META_IIFNAME ? j->iif : j->oif,
				       strlen(keys[f] == NFT_META_IIFNAME ? j->iif : j->oif));
		}
		memcpy(k.hi, k.lo, sizeof(k.lo));
		k.comment = j->comment;
		k.jump = j->chain;
		VEC_PUSH(v, k);
	}
	struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, &sp, &v);
	VEC_FREE(v);
	if (!s) {
		fail(b, errno);
		return;
	}
	push(b, NL_SET, s, c->ir);
	struct nftnl_expr *e = expr(c, "lookup");
	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	if (nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__map%d") < 0)
		fail(b, ENOMEM);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, b->set_id);
	add(c, e);
}

static void rule_comment(struct build *b, struct nftnl_rule *nr, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);
	if (!u || !nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment) ||
	    nftnl_rule_set_data(nr, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u)) < 0)
		fail(b, ENOMEM);
	if (u)
		nftnl_udata_buf_free(u);
}

static void build_rule(struct build *b, const struct nft_lowered *l)
{
	const struct ir_rule *r = l->rule;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	if (!nr) {
		fail(b, ENOMEM);
		return;
	}
	nftnl_rule_set_u32(nr, NFTNL_RULE_FAMILY, b->out->family);
	if (nftnl_rule_set_str(nr, NFTNL_RULE_TABLE, b->out->table) < 0 ||
	    nftnl_rule_set_str(nr, NFTNL_RULE_CHAIN, l->chain ? l->chain : ir_hook_name(r->hook)) < 0)
		fail(b, ENOMEM);
	struct rule_ctx c = {.b = b, .r = nr, .ir = r};
	if (l->disp)
		build_dispatch(&c, l->disp);
	for (size_t i = 0; i < l->steps.n; i++)
		build_step(&c, &l->steps.v[i]);
	rule_comment(b, nr, l->comment);
	push(b, NL_RULE, nr, r);
}

/* ---- table, helpers, named sets, chains ---- */

static void build_table(struct build *b)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (t) {
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, b->out->family);
		if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, b->out->table) < 0)
			fail(b, ENOMEM);
		nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	}
	push(b, NL_TABLE, t, NULL);
}

static void build_helper(struct build *b, const struct nft_helper_obj *h)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	if (o) {
		nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, b->out->family);
		nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_CT_HELPER);
		nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, b->out->table);
		nftnl_obj_set_str(o, NFTNL_OBJ_NAME, h->name);
		nftnl_obj_set_str(o, NFTNL_OBJ_CT_HELPER_NAME, h->type);
		if (!nftnl_obj_is_set(o, NFTNL_OBJ_NAME) || !nftnl_obj_is_set(o, NFTNL_OBJ_CT_HELPER_NAME))
			fail(b, ENOMEM);
		nftnl_obj_set_u16(o, NFTNL_OBJ_CT_HELPER_L3PROTO, NFPROTO_INET);
		nftnl_obj_set_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO, h->proto == IR_UDP ? IPPROTO_UDP : IPPROTO_TCP);
	}
	push(b, NL_OBJ, o, h->user);
}

static void build_named_set(struct build *b, const struct nft_named_set *ns)
{
	bool v6 = ns->family == IR_V6;
	struct set_spec sp = {.name = ns->name, .key_type = v6 ? DT_IP6ADDR : DT_IPADDR,
			      .key_len = v6 ? 16 : 4, .byteorder = BO_BIG, .interval = true};
	kranges v = {0};
	for (size_t i = 0; i < ns->addrs->n; i++) {
		struct krange k;
		prefix_range(&ns->addrs->v[i], &k, sp.key_len);
		VEC_PUSH(v, k);
	}
	struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, &sp, &v);
	if (!s)
		fail(b, errno);
	else
		push(b, NL_SET, s, ns->user);
	VEC_FREE(v);
}

/* A set the packet path fills: empty, with a timeout for what it learns. */
static void build_dynset(struct build *b, const struct nft_dyn_set *d)
{
	bool v6 = d->ds->family == IR_V6;
	if (d->ds->parser) { /* pinholed's: peer . local . inet_proto . inet_service, timeout */
		uint32_t a = v6 ? DT_IP6ADDR : DT_IPADDR;
		struct set_spec ks = {.name = d->name, .key_len = v6 ? 40 : 16, .byteorder = BO_INVALID,
				      .keyed = true, .timeout = (uint64_t)d->ds->timeout * 1000,
				      .size = NFT_DYNSET_SIZE};
		ks.key_type = ((a << DT_CONCAT_SHIFT | a) << DT_CONCAT_SHIFT | DT_INET_PROTOCOL)
			      << DT_CONCAT_SHIFT | DT_INET_SERVICE;
		if (d->ds->peerless) { /* a relayed offer's sender: local . inet_proto . inet_service */
			ks.key_len = v6 ? 24 : 12;
			ks.key_type = (a << DT_CONCAT_SHIFT | DT_INET_PROTOCOL) << DT_CONCAT_SHIFT |
				      DT_INET_SERVICE;
		}
		kranges none = {0};
		struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, &ks, &none);
		if (!s)
			fail(b, errno);
		else
			push(b, NL_SET, s, d->user);
		return;
	}
	struct set_spec sp = {.name = d->name, .key_type = v6 ? DT_IP6ADDR : DT_IPADDR,
			      .key_len = v6 ? 16 : 4, .byteorder = BO_BIG, .dynamic = true,
			      .timeout = (uint64_t)d->ds->timeout * 1000, .size = NFT_DYNSET_SIZE};
	kranges none = {0};
	struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, &sp, &none);
	if (!s)
		fail(b, errno);
	else
		push(b, NL_SET, s, d->user);
}

/* A per-source limit's meter: empty, dynamic, each source forgotten after `timeout`. */
static void build_meter(struct build *b, const struct nft_meter *m)
{
	bool v6 = m->family == IR_V6;
	struct set_spec sp = {.name = m->name, .key_type = v6 ? DT_IP6ADDR : DT_IPADDR,
			      .key_len = v6 ? 16 : 4, .byteorder = BO_BIG, .dynamic = true,
			      .timeout = (uint64_t)m->timeout * 1000, .size = NFT_DYNSET_SIZE};
	kranges none = {0};
	struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, &sp, &none);
	if (!s)
		fail(b, errno);
	else
		push(b, NL_SET, s, m->user);
}

/* A merged rule's one-field set of ranges, declared in the table (see nft_merge.c). */
static void build_merged_set(struct build *b, const struct nft_setmatch *m)
{
	struct set_spec sp;
	kranges v = {0};
	merged_spec(m, &sp, &v);
	sp.typeof_expr = 0; /* a named set is declared by type, not typeof */
	struct nftnl_set *s = nl_set_new(b->out->family, b->out->table, ++b->set_id, &sp, &v);
	if (!s)
		fail(b, errno);
	else
		push(b, NL_SET, s, m->user);
	VEC_FREE(v);
}

static void build_chain(struct build *b, enum ir_hook hook)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nft_chain_spec cs;
	nft_chain_spec(hook, &cs);
	if (ch) {
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, b->out->family);
		if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, b->out->table) < 0 ||
		    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, cs.name) < 0 ||
		    nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, cs.type) < 0)
			fail(b, ENOMEM);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, (uint32_t)cs.hooknum);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, cs.prio);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, cs.drop ? NF_DROP : NF_ACCEPT);
	}
	push(b, NL_CHAIN, ch, NULL);
}

/* A dispatch's chain: no hook, no policy (nft_dispatch.c). */
static void build_subchain(struct build *b, const struct nft_subchain *sc)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	if (ch) {
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_FAMILY, b->out->family);
		if (nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, b->out->table) < 0 ||
		    nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, sc->name) < 0)
			fail(b, ENOMEM);
	}
	push(b, NL_CHAIN, ch, NULL);
}

/* Named-set lookups and dynamic set updates were built before the sets had ids; give them
 * the ids now. */
static void link_named_sets(struct nl_ruleset *out)
{
	for (size_t i = 0; i < out->objs.n; i++) {
		if (out->objs.v[i].kind != NL_RULE)
			continue;
		struct nftnl_expr_iter *it = nftnl_expr_iter_create(out->objs.v[i].o);
		if (!it)
			continue;
		for (struct nftnl_expr *e; (e = nftnl_expr_iter_next(it));) {
			bool dyn = !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "dynset");
			uint16_t name_attr = dyn ? NFTNL_EXPR_DYNSET_SET_NAME : NFTNL_EXPR_LOOKUP_SET;
			uint16_t id_attr = dyn ? NFTNL_EXPR_DYNSET_SET_ID : NFTNL_EXPR_LOOKUP_SET_ID;
			if ((!dyn && strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "lookup") != 0) ||
			    nftnl_expr_get_u32(e, id_attr) != 0)
				continue;
			const char *name = nftnl_expr_get_str(e, name_attr);
			for (size_t j = 0; j < out->objs.n; j++)
				if (out->objs.v[j].kind == NL_SET &&
				    !strcmp(nftnl_set_get_str(out->objs.v[j].o, NFTNL_SET_NAME), name))
					nftnl_expr_set_u32(e, id_attr,
							   nftnl_set_get_u32(out->objs.v[j].o, NFTNL_SET_ID));
		}
		nftnl_expr_iter_destroy(it);
	}
}

void nl_ruleset_init(struct nl_ruleset *nl, uint32_t family, const char *table)
{
	memset(nl, 0, sizeof(*nl));
	nl->family = family;
	snprintf(nl->table, sizeof(nl->table), "%s", table);
}

int nl_from_ir(const struct ir_ruleset *rs, struct nl_ruleset *out)
{
	nl_ruleset_init(out, NFPROTO_INET, PINHOLE_TABLE);
	out->ir = rs;
	struct build b = {.out = out};
	struct nft_plan p;
	nft_plan_build(rs, &p);
	build_table(&b);
	for (size_t i = 0; i < p.helpers.n; i++)
		build_helper(&b, &p.helpers.v[i]);
	for (size_t i = 0; i < p.sets.n; i++)
		build_named_set(&b, &p.sets.v[i]);
	for (size_t i = 0; i < p.dynsets.n; i++)
		build_dynset(&b, &p.dynsets.v[i]);
	for (size_t i = 0; i < p.meters.n; i++)
		build_meter(&b, &p.meters.v[i]);
	char *why = NULL;
	const struct ir_rule *bad = nft_plan_rules(rs, &p, &why);
	if (bad) /* what nft cannot say, at its rule */
		invalid(&b, bad, why);
	free(why);
	for (size_t i = 0; i < p.merged_sets.n; i++)
		build_merged_set(&b, p.merged_sets.v[i]);
	for (int h = 0; h < IR_HOOK_COUNT; h++)
		if (p.chain[h])
			build_chain(&b, (enum ir_hook)h);
	for (size_t s = 0; s < p.subchains.n; s++)
		build_subchain(&b, &p.subchains.v[s]);
	for (int h = 0; h < IR_HOOK_COUNT; h++)
		for (size_t i = 0; i < p.rules[h].n; i++)
			build_rule(&b, &p.rules[h].v[i]);
	for (size_t s = 0; s < p.subchains.n; s++) /* in the order the text declares them */
		for (size_t i = 0; i < p.subchains.v[s].rules.n; i++)
			build_rule(&b, &p.subchains.v[s].rules.v[i]);
	nft_plan_free(&p);
	link_named_sets(out);
	if (b.err) {
		nl_ruleset_free(out);
		out->bad_rule = b.bad_rule;
		snprintf(out->why, sizeof(out->why), "%s", b.why);
		errno = b.err;
		return -1;
	}
	return 0;
}

void nl_ruleset_free(struct nl_ruleset *nl)
{
	for (size_t i = 0; i < nl->objs.n; i++) {
		void *o = nl->objs.v[i].o;
		switch (nl->objs.v[i].kind) {
		case NL_TABLE: nftnl_table_free(o); break;
		case NL_OBJ: nftnl_obj_free(o); break;
		case NL_SET: nftnl_set_free(o); break;
		case NL_CHAIN: nftnl_chain_free(o); break;
		case NL_RULE: nftnl_rule_free(o); break;
		}
	}
	VEC_FREE(nl->objs);
}
