/* Semantic comparison of two table snapshots. Every object is reduced to a canonical line:
 * set elements become sorted ranges (the kernel returns hash sets in any order), anonymous
 * sets are inlined where rules look them up (the kernel renames them), attributes the kernel
 * fills in by itself (log level, lookup flags) are dropped when they hold the default. The
 * elements of dynamic sets (peers of control flows, learnt by the packet path) are runtime
 * state, not part of the comparison. */
#include <arpa/inet.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "backend.h"
#include "nft_nldiff.h"

#define KEY_MAX 64
#define LOG_LEVEL_DEFAULT 4 /* the kernel's default, reported back although nft never sets it */
#define SHOW_MAX 160        /* longest set or rule text quoted in a difference */

/* ---- set elements as ranges ---- */

struct elem {
	uint8_t key[KEY_MAX];
	uint32_t len;
	bool end;
	const char *jump; /* a verdict map's element: the chain (owned by the set) */
};

static int elem_cmp(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->len < y->len ? x->len : y->len);
	return c ? c : (int)x->end - (int)y->end;
}

static void put_key(struct strbuf *sb, uint32_t type, const uint8_t *k, uint32_t len)
{
	char buf[INET6_ADDRSTRLEN];
	if (type == 7 && len == 4) {
		sb_puts(sb, inet_ntop(AF_INET, k, buf, sizeof(buf)));
	} else if (type == 8 && len == 16) {
		sb_puts(sb, inet_ntop(AF_INET6, k, buf, sizeof(buf)));
	} else if (type == 13 && len == 2) {
		sb_printf(sb, "%u", k[0] << 8 | k[1]);
	} else if (type == (13 << 6 | 13) && len == 8) {
		sb_printf(sb, "%u . %u", k[0] << 8 | k[1], k[4] << 8 | k[5]);
	} else if (type == 41 && len == 16) {
		sb_putc(sb, '"');
		for (uint32_t i = 0; i < len && k[i]; i++)
			sb_putc(sb, k[i] >= 0x20 && k[i] < 0x7f && k[i] != '"' ? (char)k[i] : '?');
		sb_putc(sb, '"');
	} else {
		sb_puts(sb, "0x");
		for (uint32_t i = 0; i < len; i++)
			sb_printf(sb, "%02x", k[i]);
	}
}

/* Bits from which lo and hi differ only as a prefix (lo all zeros, hi all ones after it);
 * -1 when the range is not a prefix. */
static int prefix_len(const uint8_t *lo, const uint8_t *hi, uint32_t len)
{
	uint32_t bits = len * 8, p = 0;
	while (p < bits && ((lo[p / 8] ^ hi[p / 8]) & (0x80 >> (p % 8))) == 0)
		p++;
	for (uint32_t b = p; b < bits; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));
		if ((lo[b / 8] & m) || !(hi[b / 8] & m))
			return -1;
	}
	return (int)p;
}

static void put_range(struct strbuf *sb, uint32_t type, const uint8_t *lo, const uint8_t *hi, uint32_t len)
{
	if (!memcmp(lo, hi, len)) {
		put_key(sb, type, lo, len);
		return;
	}
	int p = prefix_len(lo, hi, len);
	if ((type == 7 || type == 8) && p >= 0) {
		put_key(sb, type, lo, len);
		sb_printf(sb, "/%d", p);
	} else if (type == 41 && p >= 0 && p % 8 == 0) {
		sb_putc(sb, '"');
		for (int i = 0; i < p / 8; i++)
			sb_putc(sb, lo[i] >= 0x20 && lo[i] < 0x7f && lo[i] != '"' ? (char)lo[i] : '?');
		sb_puts(sb, "*\"");
	} else {
		put_key(sb, type, lo, len);
		sb_putc(sb, '-');
		put_key(sb, type, hi, len);
	}
}

static void key_dec(uint8_t *k, uint32_t len)
{
	for (uint32_t i = len; i-- > 0;)
		if (k[i]-- != 0)
			return;
}

/* The set's contents as text: interval sets as the ranges the start/end elements describe. */
static void put_elems(struct strbuf *sb, const struct nftnl_set *s)
{
	uint32_t type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	bool interval = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL;
	VEC(struct elem) v = {0};
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	for (struct nftnl_set_elem *e; it && (e = nftnl_set_elems_iter_next(it));) {
		struct elem x = {0};
		uint32_t n = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &n);
		if (!k)
			continue;
		x.len = n < KEY_MAX ? n : KEY_MAX;
		memcpy(x.key, k, x.len);
		x.end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
			(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
		if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)) /* a dispatch map's jump */
			x.jump = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
		VEC_PUSH(v, x);
	}
	if (it)
		nftnl_set_elems_iter_destroy(it);
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), elem_cmp);
	sb_puts(sb, "{ ");
	bool first = true, open = false;
	uint8_t start[KEY_MAX] = {0};
	uint32_t len = 0;
	for (size_t i = 0; i < v.n; i++) {
		const struct elem *x = &v.v[i];
		if (!interval) {
			sb_puts(sb, first ? "" : ", ");
			put_key(sb, type, x->key, x->len);
			if (x->jump)
				sb_printf(sb, " : jump %s", x->jump);
			first = false;
			continue;
		}
		if (open) { /* a start runs up to the next element */
			uint8_t hi[KEY_MAX];
			memcpy(hi, x->key, x->len);
			key_dec(hi, x->len);
			sb_puts(sb, first ? "" : ", ");
			put_range(sb, type, start, hi, len);
			first = false;
			open = false;
		}
		if (!x->end) {
			memcpy(start, x->key, x->len);
			len = x->len;
			open = true;
		}
	}
	if (open) {
		uint8_t hi[KEY_MAX];
		memset(hi, 0xff, len);
		sb_puts(sb, first ? "" : ", ");
		put_range(sb, type, start, hi, len);
	}
	sb_puts(sb, " }");
	VEC_FREE(v);
}

static const char *type_name(uint32_t t)
{
	switch (t) {
	case 7: return "ipv4_addr";
	case 8: return "ipv6_addr";
	case 13: return "inet_service";
	case 41: return "ifname";
	case 41 << 6 | 41: return "ifname . ifname";
	case 13 << 6 | 13: return "inet_service . inet_service";
	}
	return NULL;
}

/* A set the packet path fills (`update @set`), or pinholed (a named set with `flags timeout`):
 * its elements are the peers seen lately or the pinholes open now, state of the running
 * firewall, never drift from the policy. */
static bool is_dynamic(const struct nftnl_set *s)
{
	uint32_t f = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
	return (f & NFT_SET_EVAL) || ((f & NFT_SET_TIMEOUT) && !(f & NFT_SET_ANONYMOUS));
}

static void put_set_header(struct strbuf *sb, const struct nftnl_set *s)
{
	static const struct { uint32_t bit; const char *name; } fl[] = {
		{NFT_SET_ANONYMOUS, "anonymous"}, {NFT_SET_CONSTANT, "constant"}, {NFT_SET_INTERVAL, "interval"},
		{NFT_SET_MAP, "map"}, {NFT_SET_TIMEOUT, "timeout"}, {NFT_SET_EVAL, "dynamic"},
	};
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS), type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	if (type_name(type))
		sb_printf(sb, "type %s", type_name(type));
	else
		sb_printf(sb, "type %u", type);
	sb_printf(sb, " len %u", nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
	for (size_t i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if (flags & fl[i].bit) {
			sb_printf(sb, " %s", fl[i].name);
			flags &= ~fl[i].bit;
		}
	if (flags)
		sb_printf(sb, " flags 0x%x", flags);
	if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE) &&
	    nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) == NFT_DATA_VERDICT) /* the kernel sets the
									   * length itself */
		sb_puts(sb, " verdicts");
	else if (nftnl_set_is_set(s, NFTNL_SET_DATA_TYPE))
		sb_printf(sb, " data %u len %u", nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE),
			  nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN));
	if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
		sb_printf(sb, " timeout %llu", (unsigned long long)nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
	if (is_dynamic(s) && nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE))
		sb_printf(sb, " size %u", nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE));
	sb_putc(sb, ' ');
}

/* ---- canonical objects ---- */

static const struct nftnl_set *find_set(const struct nl_ruleset *rs, const char *name, uint32_t id)
{
	bool by_id = name && strchr(name, '%'); /* "__set%d": not named yet, referred to by id */
	for (size_t i = 0; i < rs->objs.n; i++) {
		if (rs->objs.v[i].kind != NL_SET)
			continue;
		const struct nftnl_set *s = rs->objs.v[i].o;
		if (by_id ? nftnl_set_get_u32(s, NFTNL_SET_ID) == id
			  : !strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name))
			return s;
	}
	return NULL;
}

static bool is_anon(const struct nftnl_set *s)
{
	return nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS;
}

static void put_set_ref(struct strbuf *sb, const struct nl_ruleset *rs, const char *name, uint32_t id)
{
	const struct nftnl_set *s = find_set(rs, name, id);
	if (s && is_anon(s)) {
		put_set_header(sb, s);
		put_elems(sb, s);
	} else {
		sb_printf(sb, "@%s", name ? name : "?");
	}
}

static void put_expr(struct strbuf *sb, const struct nl_ruleset *rs, const struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	if (!strcmp(name, "lookup")) {
		sb_printf(sb, "[ lookup reg %u ", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
		put_set_ref(sb, rs, nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET),
			    nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SET_ID));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
			sb_printf(sb, " dreg %u", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
		if (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS))
			sb_printf(sb, " flags 0x%x", nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS));
		sb_puts(sb, " ] ");
		return;
	}
	if (!strcmp(name, "dynset")) { /* the kernel reports a timeout of 0 that nft never sends */
		sb_printf(sb, "[ dynset op %u reg_key %u set %s", nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_OP),
			  nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_SREG_KEY),
			  nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_SET_NAME)
				  ? nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME) : "?");
		if (nftnl_expr_is_set(e, NFTNL_EXPR_DYNSET_SREG_DATA))
			sb_printf(sb, " sreg_data %u", nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_SREG_DATA));
		if (nftnl_expr_get_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT))
			sb_printf(sb, " timeout %llu",
				  (unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT));
		if (nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_FLAGS))
			sb_printf(sb, " flags 0x%x", nftnl_expr_get_u32(e, NFTNL_EXPR_DYNSET_FLAGS));
		sb_puts(sb, " ] ");
		return;
	}
	if (!strcmp(name, "nat")) { /* the kernel reports max registers equal to the min ones, */
		sb_printf(sb, "[ nat type %u family %u", nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE),
			  nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY));
		static const uint16_t regs[][2] = {{NFTNL_EXPR_NAT_REG_ADDR_MIN, NFTNL_EXPR_NAT_REG_ADDR_MAX},
						   {NFTNL_EXPR_NAT_REG_PROTO_MIN, NFTNL_EXPR_NAT_REG_PROTO_MAX}};
		for (int k = 0; k < 2; k++) {
			uint32_t lo = nftnl_expr_is_set(e, regs[k][0]) ? nftnl_expr_get_u32(e, regs[k][0]) : 0;
			uint32_t hi = nftnl_expr_is_set(e, regs[k][1]) ? nftnl_expr_get_u32(e, regs[k][1]) : lo;
			sb_printf(sb, k ? " proto %u" : " addr %u", lo);
			if (hi != lo)
				sb_printf(sb, "-%u", hi);
		}
		/* and sets the flags the registers imply (NF_NAT_RANGE_MAP_IPS, _PROTO_SPECIFIED) */
		uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_NAT_FLAGS) ? nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FLAGS) : 0;
		if (nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_ADDR_MIN))
			flags |= 0x1;
		if (nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_PROTO_MIN))
			flags |= 0x2;
		sb_printf(sb, " flags 0x%x ] ", flags);
		return;
	}
	if (!strcmp(name, "log")) {
		sb_puts(sb, "[ log");
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
			sb_printf(sb, " prefix \"%s\"", nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
		if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP))
			sb_printf(sb, " group %u", nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP));
		else if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) &&
			 nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL) != LOG_LEVEL_DEFAULT)
			sb_printf(sb, " level %u", nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_LEVEL));
		if (nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_FLAGS))
			sb_printf(sb, " flags 0x%x", nftnl_expr_get_u32(e, NFTNL_EXPR_LOG_FLAGS));
		sb_puts(sb, " ] ");
		return;
	}
	char buf[1024];
	nftnl_expr_snprintf(buf, sizeof(buf), e, NFTNL_OUTPUT_DEFAULT, 0);
	sb_printf(sb, "[ %s %s] ", name, buf);
}

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && nftnl_udata_len(attr) > 0) {
		const char *s = nftnl_udata_get(attr);
		if (s[nftnl_udata_len(attr) - 1] == '\0')
			*(char **)data = xstrdup(s);
	}
	return 0;
}

char *nl_rule_comment(const void *rule)
{
	uint32_t len = 0;
	const void *ud = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &len);
	char *comment = NULL;
	if (ud && len)
		nftnl_udata_parse(ud, len, comment_cb, &comment);
	return comment;
}

static char *canon_rule(const struct nl_ruleset *rs, const struct nftnl_rule *r)
{
	struct strbuf sb = {0};
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	for (struct nftnl_expr *e; it && (e = nftnl_expr_iter_next(it));)
		put_expr(&sb, rs, e);
	if (it)
		nftnl_expr_iter_destroy(it);
	char *comment = nl_rule_comment(r);
	if (comment)
		sb_printf(&sb, "comment \"%s\"", comment);
	free(comment);
	return sb_steal(&sb);
}

static char *canon_chain(const struct nftnl_chain *c)
{
	struct strbuf sb = {0};
	if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
		sb_printf(&sb, "type %s hook %u priority %d policy %s",
			  nftnl_chain_is_set(c, NFTNL_CHAIN_TYPE) ? nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE) : "?",
			  nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM), nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO),
			  nftnl_chain_is_set(c, NFTNL_CHAIN_POLICY) &&
					  nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_DROP ? "drop" : "accept");
		if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEV))
			sb_printf(&sb, " device %s", nftnl_chain_get_str(c, NFTNL_CHAIN_DEV));
	} else {
		sb_puts(&sb, "regular");
	}
	return sb_steal(&sb);
}

static char *canon_obj(struct nftnl_obj *o)
{
	struct strbuf sb = {0};
	uint32_t type = nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE);
	if (type == NFT_OBJECT_CT_HELPER) {
		/* Asked for inet, the kernel keeps ip or ip6 when it has that helper for one family
		 * only (irc, snmp, ...): all three mean "wherever the kernel can". */
		uint16_t l3 = nftnl_obj_get_u16(o, NFTNL_OBJ_CT_HELPER_L3PROTO);
		bool inet = l3 == NFPROTO_INET || l3 == NFPROTO_IPV4 || l3 == NFPROTO_IPV6;
		sb_printf(&sb, "ct helper type \"%s\" protocol %u", nftnl_obj_get_str(o, NFTNL_OBJ_CT_HELPER_NAME),
			  nftnl_obj_get_u8(o, NFTNL_OBJ_CT_HELPER_L4PROTO));
		if (!inet)
			sb_printf(&sb, " l3proto %u", l3);
	} else { /* pinhole makes only helpers; others are compared by type and name */
		sb_printf(&sb, "object type %u", type);
	}
	return sb_steal(&sb);
}

static char *canon_set(const struct nftnl_set *s)
{
	struct strbuf sb = {0};
	put_set_header(&sb, s);
	if (is_dynamic(s))
		sb_puts(&sb, "{ filled at run time }");
	else
		put_elems(&sb, s);
	return sb_steal(&sb);
}

/* ---- comparing ---- */

static const char *obj_name(const struct nl_obj *o)
{
	switch (o->kind) {
	case NL_TABLE: return nftnl_table_get_str(o->o, NFTNL_TABLE_NAME);
	case NL_OBJ: return nftnl_obj_get_str(o->o, NFTNL_OBJ_NAME);
	case NL_SET: return nftnl_set_get_str(o->o, NFTNL_SET_NAME);
	case NL_CHAIN: return nftnl_chain_get_str(o->o, NFTNL_CHAIN_NAME);
	case NL_RULE: return nftnl_rule_get_str(o->o, NFTNL_RULE_CHAIN);
	}
	return "?";
}

static char *canon(const struct nl_ruleset *rs, const struct nl_obj *o)
{
	switch (o->kind) {
	case NL_TABLE: return xasprintf("flags 0x%x", nftnl_table_get_u32(o->o, NFTNL_TABLE_FLAGS));
	case NL_OBJ: return canon_obj(o->o);
	case NL_SET: return canon_set(o->o);
	case NL_CHAIN: return canon_chain(o->o);
	case NL_RULE: return canon_rule(rs, o->o);
	}
	return xstrdup("?");
}

static const struct nl_obj *find(const struct nl_ruleset *rs, enum nl_kind kind, const char *name)
{
	for (size_t i = 0; i < rs->objs.n; i++) {
		const struct nl_obj *o = &rs->objs.v[i];
		if (o->kind == kind && !strcmp(obj_name(o), name) &&
		    !(kind == NL_SET && is_anon(o->o)))
			return o;
	}
	return NULL;
}

static const char *kind_word(enum nl_kind k)
{
	static const char *const w[] = {"table", "object", "set", "chain", "rule"};
	return w[k];
}

static void shorten(char *s)
{
	if (strlen(s) > SHOW_MAX)
		strcpy(s + SHOW_MAX - 3, "...");
}

/* Table, helper objects, named sets and chains, matched by name. */
static size_t diff_named(const struct nl_ruleset *want, const struct nl_ruleset *have, enum nl_kind kind,
			 struct strbuf *out)
{
	size_t n = 0;
	for (size_t i = 0; i < want->objs.n; i++) {
		const struct nl_obj *w = &want->objs.v[i];
		if (w->kind != kind || (kind == NL_SET && is_anon(w->o)))
			continue;
		const struct nl_obj *h = find(have, kind, obj_name(w));
		if (!h) {
			sb_printf(out, "%s %s: missing from the kernel\n", kind_word(kind), obj_name(w));
			n++;
			continue;
		}
		char *a = canon(want, w), *b = canon(have, h);
		if (strcmp(a, b) != 0) {
			shorten(a);
			shorten(b);
			sb_printf(out, "%s %s differs:\n    kernel: %s\n    policy: %s\n", kind_word(kind), obj_name(w), b, a);
			n++;
		}
		free(a);
		free(b);
	}
	for (size_t i = 0; i < have->objs.n; i++) {
		const struct nl_obj *h = &have->objs.v[i];
		if (h->kind != kind || (kind == NL_SET && is_anon(h->o)) || find(want, kind, obj_name(h)))
			continue;
		sb_printf(out, "%s %s: in the kernel but not in the policy\n", kind_word(kind), obj_name(h));
		n++;
	}
	return n;
}

struct crule {
	const struct nl_obj *o;
	char *text;
	const struct ir_ruleset *ir; /* what the policy side was built from */
};
typedef VEC(struct crule) crules;

static void chain_rules(const struct nl_ruleset *rs, const char *chain, crules *out)
{
	for (size_t i = 0; i < rs->objs.n; i++) {
		const struct nl_obj *o = &rs->objs.v[i];
		if (o->kind == NL_RULE && !strcmp(obj_name(o), chain))
			VEC_PUSH(*out, ((struct crule){o, canon_rule(rs, o->o), rs->ir}));
	}
}

static void describe_rule(struct strbuf *out, const char *chain, const char *what, const struct crule *r)
{
	sb_printf(out, "chain %s: rule %s: ", chain, what);
	if (r->o->rule && r->ir) {
		char *text = nft_rule_text(r->ir, r->o->rule);
		char *where = ir_origin_describe(&r->o->rule->origin);
		sb_printf(out, "%s  (%s)\n", text, where);
		free(text);
		free(where);
		return;
	}
	char *comment = nl_rule_comment(r->o->o);
	if (nftnl_rule_is_set(r->o->o, NFTNL_RULE_HANDLE))
		sb_printf(out, "handle %llu ", (unsigned long long)nftnl_rule_get_u64(r->o->o, NFTNL_RULE_HANDLE));
	if (comment) {
		sb_printf(out, "comment \"%s\"\n", comment);
	} else {
		char *t = xstrdup(r->text);
		shorten(t);
		sb_printf(out, "%s\n", t);
		free(t);
	}
	free(comment);
}

/* Rules of one chain in order: common head and tail are skipped, the rest is aligned by a
 * longest common subsequence when small enough, else reported position by position. */
static size_t diff_rules(const struct nl_ruleset *want, const struct nl_ruleset *have, const char *chain,
			 struct strbuf *out)
{
	crules a = {0}, b = {0};
	chain_rules(want, chain, &a);
	chain_rules(have, chain, &b);
	size_t lo = 0, ea = a.n, eb = b.n, n = 0;
	while (lo < ea && lo < eb && !strcmp(a.v[lo].text, b.v[lo].text))
		lo++;
	while (ea > lo && eb > lo && !strcmp(a.v[ea - 1].text, b.v[eb - 1].text))
		ea--, eb--;
	size_t na = ea - lo, nb = eb - lo;
	if (na && nb && na * nb <= 4u * 1024 * 1024) {
		size_t w = nb + 1;
		unsigned *L = xcalloc((na + 1) * w, sizeof(*L));
		for (size_t i = na; i-- > 0;)
			for (size_t j = nb; j-- > 0;)
				L[i * w + j] = !strcmp(a.v[lo + i].text, b.v[lo + j].text)
						       ? L[(i + 1) * w + j + 1] + 1
						       : (L[(i + 1) * w + j] > L[i * w + j + 1] ? L[(i + 1) * w + j]
											       : L[i * w + j + 1]);
		size_t i = 0, j = 0;
		while (i < na || j < nb) {
			if (i < na && j < nb && !strcmp(a.v[lo + i].text, b.v[lo + j].text)) {
				i++, j++;
			} else if (j < nb && (i == na || L[i * w + j + 1] >= L[(i + 1) * w + j])) {
				describe_rule(out, chain, "in the kernel but not in the policy", &b.v[lo + j++]);
				n++;
			} else {
				describe_rule(out, chain, "missing from the kernel", &a.v[lo + i++]);
				n++;
			}
		}
		free(L);
	} else {
		for (size_t i = 0; i < na; i++, n++)
			describe_rule(out, chain, "missing from the kernel", &a.v[lo + i]);
		for (size_t j = 0; j < nb; j++, n++)
			describe_rule(out, chain, "in the kernel but not in the policy", &b.v[lo + j]);
	}
	for (size_t i = 0; i < a.n; i++)
		free(a.v[i].text);
	for (size_t i = 0; i < b.n; i++)
		free(b.v[i].text);
	VEC_FREE(a);
	VEC_FREE(b);
	return n;
}

size_t nl_diff(const struct nl_ruleset *want, const struct nl_ruleset *have, struct strbuf *out)
{
	bool want_table = false, have_table = false;
	for (size_t i = 0; i < want->objs.n; i++)
		want_table |= want->objs.v[i].kind == NL_TABLE;
	for (size_t i = 0; i < have->objs.n; i++)
		have_table |= have->objs.v[i].kind == NL_TABLE;
	if (want_table != have_table) {
		sb_printf(out, "table inet %s %s\n", want->table,
			  have_table ? "is loaded but the policy has none" : "is not loaded");
		return 1;
	}
	size_t n = 0;
	static const enum nl_kind kinds[] = {NL_TABLE, NL_OBJ, NL_SET, NL_CHAIN};
	for (size_t k = 0; k < 4; k++)
		n += diff_named(want, have, kinds[k], out);
	/* Rules of every chain either side has. */
	for (int side = 0; side < 2; side++) {
		const struct nl_ruleset *rs = side ? have : want;
		for (size_t i = 0; i < rs->objs.n; i++) {
			const struct nl_obj *o = &rs->objs.v[i];
			if (o->kind != NL_CHAIN || (side && find(want, NL_CHAIN, obj_name(o))))
				continue;
			n += diff_rules(want, have, obj_name(o), out);
		}
	}
	return n;
}

struct nl_counts nl_count(const struct nl_ruleset *rs)
{
	struct nl_counts c = {0};
	for (size_t i = 0; i < rs->objs.n; i++) {
		const struct nl_obj *o = &rs->objs.v[i];
		c.chains += o->kind == NL_CHAIN;
		c.rules += o->kind == NL_RULE;
		c.objs += o->kind == NL_OBJ;
		c.sets += o->kind == NL_SET && !is_anon(o->o);
	}
	return c;
}
