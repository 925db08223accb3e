#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "lint.h"

static bool prefixes_cover(const struct ir_addrset *a, const struct ir_addrset *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		bool in = false;
		for (size_t j = 0; j < a->n && !in; j++)
			in = prefix_covers(&a->v[j], &b->v[i]);
		if (!in)
			return false;
	}
	return true;
}

static bool prefixes_overlap(const struct ir_addrset *a, const struct ir_addrset *b)
{
	if (!a->n || !b->n)
		return true;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (prefix_covers(&a->v[i], &b->v[j]) || prefix_covers(&b->v[j], &a->v[i]))
				return true;
	return false;
}

static bool ports_cover(const struct ir_portset *a, const struct ir_portset *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		bool in = false;
		for (size_t j = 0; j < a->n && !in; j++)
			in = a->v[j].lo <= b->v[i].lo && b->v[i].hi <= a->v[j].hi;
		if (!in)
			return false;
	}
	return true;
}

static bool ports_overlap(const struct ir_portset *a, const struct ir_portset *b)
{
	if (!a->n || !b->n)
		return true;
	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (a->v[i].lo <= b->v[j].hi && b->v[j].lo <= a->v[i].hi)
				return true;
	return false;
}

static bool ifs_cover(const struct ir_ifset *a, const struct ir_ifset *b)
{
	if (!a->n)
		return true;
	if (!b->n)
		return false;
	for (size_t i = 0; i < b->n; i++) {
		bool in = false;
		for (size_t j = 0; j < a->n && !in; j++)
			in = !strcmp(a->v[j], b->v[i]);
		if (!in)
			return false;
	}
	return true;
}

static bool ifs_disjoint(const struct ir_ifset *a, const struct ir_ifset *b)
{
	if (!a->n || !b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (strchr(a->v[i], '*'))
			return false;
		for (size_t j = 0; j < b->n; j++)
			if (strchr(b->v[j], '*') || !strcmp(a->v[i], b->v[j]))
				return false;
	}
	return true;
}

/* Does match `a` (NULL: the rule has none of this kind, so any packet) let through every
 * packet that `b` (NULL likewise) lets through? */
static bool match_covers(enum ir_match_kind k, const struct ir_match *a, const struct ir_match *b)
{
	if (!a)
		switch (k) {
		case IR_M_FRAGMENT: /* only rules of the same kind of packet compare */
		case IR_M_SAME_PORT:
		case IR_M_TCP_FLAGS:
		case IR_M_TCP_FLAGS_ANY:
			return !b;
		case IR_M_IIF:
		case IR_M_OIF:
		case IR_M_SADDR:
		case IR_M_DADDR:
		case IR_M_IN_SET:
		case IR_M_L4PROTO:
		case IR_M_SPORT:
		case IR_M_DPORT:
		case IR_M_ICMP_TYPE:
		case IR_M_CT_STATE:
		case IR_M_CT_HELPER:
		case IR_M_DADDR_LOCAL:
		case IR_M_CT_DNAT:
		case IR_M_LIMIT:
			return true;
		}
	if (!b)
		return false;
	switch (k) {
	case IR_M_IIF:
	case IR_M_OIF:
		return ifs_cover(&a->u.ifs, &b->u.ifs);
	case IR_M_SADDR:
	case IR_M_DADDR:
		return prefixes_cover(&a->u.addrs, &b->u.addrs);
	case IR_M_IN_SET: /* a set covers only the same set, looked up at the same end */
		return util_str_equal(a->u.set.name, b->u.set.name) && a->u.set.src == b->u.set.src;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		return ports_cover(&a->u.ports, &b->u.ports);
	case IR_M_CT_STATE:
		return !(b->u.ct_state & ~a->u.ct_state);
	case IR_M_LIMIT:
		return false; /* packets over a's budget go on: a limited rule covers nothing surely */
	case IR_M_FRAGMENT:
	case IR_M_L4PROTO:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_ICMP_TYPE:
	case IR_M_CT_HELPER:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
		return ir_match_equal(a, b);
	}
	return false;
}

/* Can a packet pass both `a` and `b` (either NULL: any packet)? Kinds this cannot tell
 * cheaply answer yes, so a deny is only called useless when it surely is. */
static bool match_overlaps(enum ir_match_kind k, const struct ir_match *a, const struct ir_match *b)
{
	if (!a || !b)
		return true;
	switch (k) {
	case IR_M_IIF:
	case IR_M_OIF:
		return !ifs_disjoint(&a->u.ifs, &b->u.ifs);
	case IR_M_SADDR:
	case IR_M_DADDR:
		return prefixes_overlap(&a->u.addrs, &b->u.addrs);
	case IR_M_L4PROTO:
		return a->u.proto == b->u.proto;
	case IR_M_SPORT:
	case IR_M_DPORT:
		return ports_overlap(&a->u.ports, &b->u.ports);
	case IR_M_CT_STATE:
		return (a->u.ct_state & b->u.ct_state) != 0;
	case IR_M_ICMP_TYPE:
		return a->u.icmp_type == b->u.icmp_type;
	case IR_M_IN_SET:
	case IR_M_FRAGMENT:
	case IR_M_SAME_PORT:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_CT_HELPER:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
	case IR_M_LIMIT:
		return true;
	}
	return true;
}

bool lint_rule_covers(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook || (a->family && a->family != b->family))
		return false;
	/* Both match lists are sorted by kind: walk them side by side. */
	size_t i = 0, j = 0;
	for (int k = 0; k < IR_MATCH_KINDS; k++) {
		const struct ir_match *ma = i < a->match.n && (int)a->match.v[i].kind == k ? &a->match.v[i++] : NULL;
		const struct ir_match *mb = j < b->match.n && (int)b->match.v[j].kind == k ? &b->match.v[j++] : NULL;
		if ((ma || mb) && !match_covers((enum ir_match_kind)k, ma, mb))
			return false;
	}
	return true;
}

bool lint_rules_overlap(const struct ir_rule *a, const struct ir_rule *b)
{
	if (a->hook != b->hook)
		return false;
	if (a->family && b->family && a->family != b->family)
		return false;
	/* A same-port rule's ports are not compared against plain port ranges. */
	bool same = ir_match_get(a, IR_M_SAME_PORT) || ir_match_get(b, IR_M_SAME_PORT);
	for (int k = 0; k < IR_MATCH_KINDS; k++) {
		enum ir_match_kind kind = (enum ir_match_kind)k;
		if (same && (kind == IR_M_SPORT || kind == IR_M_DPORT))
			continue;
		if (!match_overlaps(kind, ir_match_get(a, kind), ir_match_get(b, kind)))
			return false;
	}
	return true;
}

/* Rules that decide a verdict for a statement (helper assignment and logs are not). */
static bool deciding(const struct ir_rule *r)
{
	return r->origin.stmt_no > 0 && (r->action == IR_ACCEPT || r->action == IR_DROP ||
					 r->action == IR_REJECT);
}

/*
 * Candidate index for "which rules could cover this one": a rule covers another only if it
 * has the same hook and holds the other's ports and addresses. A rule is filed under
 * (hook, protocol, port) for each destination port it has (a small range), else for each
 * source port, else under (hook, protocol, "wide"); and under each source prefix it has, else
 * each destination prefix, else "any address". A lookup probes its own first destination
 * and source port and "wide", each with "any address" and with its first source and
 * destination prefix cut to each prefix length the index holds. It sees a handful of rules,
 * not all: 10,000 lines, 10,000 sources to one port, or their stateless return rules lint
 * in milliseconds.
 */
#define WIDE_RANGE 64

struct cand_key {
	uint32_t port;         /* hook, protocol, which port (or wide) and its number */
	uint8_t fam, len;      /* the prefix: family, plus ADDR_DST for a destination; 0: any */
	uint8_t addr[16];
};
enum { ADDR_DST = 0x10 };

struct cand_index {
	struct cand_key *keys;
	bool *used;
	int *heads, *tails; /* first and last entry of the bucket: entries in rule order, so a
			     * lookup meets earlier statements first */
	size_t cap;       /* power of two */
	struct { int rule, next; } *ent;
	size_t n, ent_cap;
	uint64_t lens[2][2][3]; /* prefix lengths present: source/destination, v4/v6, bits 0..128 */
};

enum port_class { PK_DPORT, PK_SPORT, PK_WIDE };

static uint32_t port_key(enum ir_hook hook, uint8_t proto, enum port_class c, uint32_t port)
{
	return ((uint32_t)hook << 26) | ((uint32_t)proto << 18) | ((uint32_t)c << 16) | port;
}

static struct cand_key cand_key(uint32_t port, const struct ir_prefix *p, bool dst, unsigned len)
{
	struct cand_key k;
	memset(&k, 0, sizeof(k));
	k.port = port;
	if (!p)
		return k;
	k.fam = (uint8_t)(p->family | (dst ? ADDR_DST : 0));
	k.len = (uint8_t)len;
	for (unsigned bit = 0; bit < len; bit++)
		k.addr[bit / 8] |= p->addr[bit / 8] & (uint8_t)(0x80 >> (bit % 8));
	return k;
}

static size_t cand_slot(const struct cand_index *ix, const struct cand_key *key)
{
	uint64_t h = 1469598103934665603u; /* FNV-1a */
	const uint8_t *b = (const uint8_t *)key;
	for (size_t i = 0; i < sizeof(*key); i++)
		h = (h ^ b[i]) * 1099511628211u;
	size_t i = (size_t)h & (ix->cap - 1);
	while (ix->used[i] && memcmp(&ix->keys[i], key, sizeof(*key)))
		i = (i + 1) & (ix->cap - 1);
	return i;
}

static void cand_add(struct cand_index *ix, const struct cand_key *key, int rule)
{
	size_t i = cand_slot(ix, key);
	if (!ix->used[i]) {
		ix->used[i] = true;
		ix->keys[i] = *key;
		ix->heads[i] = ix->tails[i] = -1;
	}
	if (ix->n == ix->ent_cap) {
		ix->ent_cap = ix->ent_cap ? ix->ent_cap * 2 : 256;
		ix->ent = xrealloc(ix->ent, ix->ent_cap * sizeof(*ix->ent));
	}
	ix->ent[ix->n].rule = rule;
	ix->ent[ix->n].next = -1;
	if (ix->tails[i] >= 0)
		ix->ent[ix->tails[i]].next = (int)ix->n;
	else
		ix->heads[i] = (int)ix->n;
	ix->tails[i] = (int)ix->n++;
}

static int cand_first(const struct cand_index *ix, const struct cand_key *key)
{
	size_t i = cand_slot(ix, key);
	return ix->used[i] ? ix->heads[i] : -1;
}

static bool narrow(const struct ir_portset *p)
{
	if (!p || !p->n)
		return false;
	for (size_t k = 0; k < p->n; k++)
		if (p->v[k].hi - p->v[k].lo >= WIDE_RANGE)
			return false;
	return true;
}

/* The port keys a rule is filed under (`out` NULL: just count them). */
static size_t rule_port_keys(const struct ir_rule *r, uint32_t *out)
{
	const struct ir_portset *dp = ir_rule_ports(r, IR_M_DPORT), *sp = ir_rule_ports(r, IR_M_SPORT);
	uint8_t proto = ir_rule_proto(r);
	const struct ir_portset *by = narrow(dp) ? dp : narrow(sp) ? sp : NULL;
	if (!by) {
		if (out)
			out[0] = port_key(r->hook, proto, PK_WIDE, 0);
		return 1;
	}
	enum port_class c = by == dp ? PK_DPORT : PK_SPORT;
	size_t n = 0;
	for (size_t k = 0; k < by->n; k++)
		for (uint32_t p = by->v[k].lo; p <= by->v[k].hi; p++, n++)
			if (out)
				out[n] = port_key(r->hook, proto, c, p);
	return n;
}

/* The addresses a rule is filed under: its source prefixes, else its destination ones. */
static const struct ir_addrset *filed_addrs(const struct ir_rule *r, bool *dst)
{
	const struct ir_addrset *a = ir_rule_addrs(r, IR_M_SADDR);
	*dst = false;
	if (a && a->n)
		return a;
	*dst = true;
	a = ir_rule_addrs(r, IR_M_DADDR);
	return a && a->n ? a : NULL;
}

static void cand_build(struct cand_index *ix, const struct ir_ruleset *ir)
{
	size_t entries = 0;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		bool dst;
		const struct ir_addrset *fa = filed_addrs(r, &dst);
		if (deciding(r))
			entries += rule_port_keys(r, NULL) * (fa ? fa->n : 1);
	}
	ix->cap = 16;
	while (ix->cap < entries * 2)
		ix->cap *= 2;
	ix->keys = xcalloc(ix->cap, sizeof(*ix->keys));
	ix->used = xcalloc(ix->cap, sizeof(*ix->used));
	ix->heads = xcalloc(ix->cap, sizeof(*ix->heads));
	ix->tails = xcalloc(ix->cap, sizeof(*ix->tails));
	VEC(uint32_t) ports = {0};
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *r = &ir->rules.v[i];
		if (!deciding(r))
			continue;
		size_t np = rule_port_keys(r, NULL);
		while (ports.cap < np)
			VEC_PUSH(ports, 0);
		rule_port_keys(r, ports.v);
		bool dst;
		const struct ir_addrset *fa = filed_addrs(r, &dst);
		for (size_t k = 0; k < np; k++) {
			if (!fa) {
				struct cand_key key = cand_key(ports.v[k], NULL, false, 0);
				cand_add(ix, &key, (int)i);
				continue;
			}
			for (size_t a = 0; a < fa->n; a++) {
				const struct ir_prefix *p = &fa->v[a];
				struct cand_key key = cand_key(ports.v[k], p, dst, p->len);
				cand_add(ix, &key, (int)i);
				ix->lens[dst][p->family == IR_V6][p->len / 64] |= (uint64_t)1 << (p->len % 64);
			}
		}
	}
	VEC_FREE(ports);
}

static void cand_free(struct cand_index *ix)
{
	free(ix->keys);
	free(ix->used);
	free(ix->heads);
	free(ix->tails);
	free(ix->ent);
}

/* The first rule among the candidates under `key` that covers `b` as covering_line() says,
 * or NULL. */
static const struct ir_rule *cand_cover(const struct cand_index *ix, const struct ir_ruleset *ir,
					const struct cand_key *key, const struct ir_rule *b)
{
	for (int e = cand_first(ix, key); e >= 0; e = ix->ent[e].next) {
		const struct ir_rule *a = &ir->rules.v[ix->ent[e].rule];
		if (a->origin.stmt_no == b->origin.stmt_no || a->action != b->action)
			continue;
		if (lint_rule_covers(a, b) &&
		    (a->origin.stmt_no < b->origin.stmt_no || !lint_rule_covers(b, a)))
			return a;
	}
	return NULL;
}

/* The candidates under `port` that may cover `b`, through every address key they may be
 * filed under; the first that does, or NULL. */
static const struct ir_rule *cover_at(const struct cand_index *ix, const struct ir_ruleset *ir,
				      uint32_t port, const struct ir_rule *b)
{
	struct cand_key key = cand_key(port, NULL, false, 0);
	const struct ir_rule *a = cand_cover(ix, ir, &key, b);
	static const enum ir_match_kind ends[2] = {IR_M_SADDR, IR_M_DADDR};
	for (int dst = 0; dst < 2 && !a; dst++) {
		const struct ir_addrset *ba = ir_rule_addrs(b, ends[dst]);
		const struct ir_prefix *p = ba && ba->n ? &ba->v[0] : NULL;
		for (unsigned len = 0; !a && p && len <= p->len; len++) {
			if (!(ix->lens[dst][p->family == IR_V6][len / 64] & ((uint64_t)1 << (len % 64))))
				continue;
			key = cand_key(port, p, dst, len);
			a = cand_cover(ix, ir, &key, b);
		}
	}
	return a;
}

/* A rule of another statement that covers `b`: written earlier, or strictly broader (so of
 * two identical lines only the second is reported). Returns its line, or 0. */
static int covering_line(const struct cand_index *ix, const struct ir_ruleset *ir,
			 const struct ir_rule *b)
{
	uint32_t keys[5];
	size_t nk = 0;
	static const uint8_t any = 0;
	uint8_t proto = ir_rule_proto(b);
	const struct ir_portset *dp = ir_rule_ports(b, IR_M_DPORT), *sp = ir_rule_ports(b, IR_M_SPORT);
	keys[nk++] = port_key(b->hook, proto, PK_WIDE, 0);
	if (proto != any)
		keys[nk++] = port_key(b->hook, any, PK_WIDE, 0);
	if (dp && dp->n)
		keys[nk++] = port_key(b->hook, proto, PK_DPORT, dp->v[0].lo);
	if (sp && sp->n)
		keys[nk++] = port_key(b->hook, proto, PK_SPORT, sp->v[0].lo);
	for (size_t k = 0; k < nk; k++) {
		const struct ir_rule *a = cover_at(ix, ir, keys[k], b);
		if (a)
			return a->origin.line;
	}
	return 0;
}

/* An allow whose every rule another statement already makes adds nothing. */
static void lint_redundant(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	size_t nstmt = res->rules.n;
	int *by_line = xcalloc(nstmt + 1, sizeof(*by_line));   /* a covering line per statement */
	bool *open = xcalloc(nstmt + 1, sizeof(*open));        /* has a rule nobody covers */
	bool *has = xcalloc(nstmt + 1, sizeof(*has));
	struct cand_index ix = {0};
	cand_build(&ix, ir);
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		int s = b->origin.stmt_no;
		if (!deciding(b) || s > (int)nstmt || open[s] || res->rules.v[s - 1].action != ACT_ALLOW)
			continue;
		has[s] = true;
		int line = covering_line(&ix, ir, b);
		if (line)
			by_line[s] = line;
		else
			open[s] = true;
	}
	for (size_t s = 1; s <= nstmt; s++)
		if (has[s] && !open[s] && res->rules.v[s - 1].limit.rate)
			/* packets over its budget go on to the rule that allows them anyway */
			diag_warning_id(d, DIAG_W_REDUNDANT, &res->rules.v[s - 1].loc, "this statement's "
				     "limit has no effect: what it allows is allowed without a limit too "
				     "(e.g. by line %d)", by_line[s]);
		else if (has[s] && !open[s])
			diag_warning_id(d, DIAG_W_REDUNDANT, &res->rules.v[s - 1].loc, "this statement adds nothing: what it "
				     "allows is already allowed (e.g. by line %d)", by_line[s]);
	cand_free(&ix);
	free(by_line);
	free(open);
	free(has);
}

/* A deny that meets no allow closes nothing: the default policy drops it anyway. (A reject
 * still has an effect: it answers instead of staying silent.) */
static void lint_useless_deny(size_t index, const struct resolved *res, const struct ir_ruleset *ir,
			      struct diags *d)
{
	int s = (int)index + 1;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		if (b->origin.stmt_no != s || !deciding(b))
			continue;
		for (size_t j = 0; j < ir->rules.n; j++) {
			const struct ir_rule *a = &ir->rules.v[j];
			if (a->action == IR_ACCEPT && a->origin.stmt_no > 0 && lint_rules_overlap(a, b))
				return;
		}
	}
	diag_warning_id(d, DIAG_W_USELESS_DENY, &res->rules.v[index].loc, "this deny closes nothing: no allow lets such "
		     "traffic in, and the default policy already drops it");
}

/* A port forward opens the connections it rewrote (its own forward-chain accept); a deny or
 * reject that covers that accept leaves the forward rewriting connections that go nowhere. */
static void lint_forward_denied(size_t index, const struct resolved *res, const struct ir_ruleset *ir,
				struct diags *d)
{
	int s = (int)index + 1;
	for (size_t i = 0; i < ir->rules.n; i++) {
		const struct ir_rule *b = &ir->rules.v[i];
		if (b->origin.stmt_no != s || b->hook != IR_FORWARD || b->action != IR_ACCEPT)
			continue;
		for (size_t j = 0; j < ir->rules.n; j++) {
			const struct ir_rule *a = &ir->rules.v[j];
			if (a->hook != IR_FORWARD || (a->action != IR_DROP && a->action != IR_REJECT) ||
			    a->origin.stmt_no <= 0 || !lint_rule_covers(a, b))
				continue;
			diag_warning_id(d, DIAG_W_FORWARD_DENIED, &res->rules.v[index].loc,
					"the connections this forward rewrites are all dropped by line %d: "
					"it forwards nothing", a->origin.line);
			return;
		}
	}
}

static bool prefix_in(const prefix_vec *v, const struct ir_prefix *p)
{
	for (size_t i = 0; i < v->n; i++)
		if (prefix_covers(&v->v[i], p))
			return true;
	return false;
}

/* Does a source translation `m` hide the host address or prefix `p` behind zone `out`? */
static bool hidden_behind(const struct rrule *m, const struct zone *out, const struct ir_prefix *p)
{
	if ((m->action != ACT_MASQUERADE && m->action != ACT_SNAT) || m->server_side.zone != out)
		return false;
	if (!(m->nat.families & (p->family == IR_V6 ? 2 : 1)))
		return false;
	return !m->client_side.given || !m->client_side.addrs.n || prefix_in(&m->client_side.addrs, p);
}

/* An allow of forwarded traffic from a zone towards hosts that a masquerade (or snat) hides
 * behind that very zone: from there nobody can address them, only a port forward reaches
 * them; when no forward leads to them, the allow most likely waits for one. */
static void lint_allow_without_forward(size_t index, const struct resolved *res, struct diags *d)
{
	const struct rrule *rr = &res->rules.v[index];
	const struct zone *from = rr->client_side.zone;
	if (rr->role != ROLE_NONE || !from || !rr->server_side.addrs.n)
		return;
	for (size_t k = 0; k < rr->server_side.addrs.n; k++) {
		const struct ir_prefix *p = &rr->server_side.addrs.v[k];
		bool hidden = false;
		for (size_t m = 0; m < res->rules.n && !hidden; m++)
			hidden = hidden_behind(&res->rules.v[m], from, p);
		if (!hidden)
			continue;
		for (size_t f = 0; f < res->rules.n; f++) {
			const struct rrule *fw = &res->rules.v[f];
			if (fw->action == ACT_FORWARD && prefix_covers(p, &fw->nat.addr))
				return; /* a forward leads into the list */
		}
		char buf[64];
		ir_prefix_format(p, buf, sizeof(buf));
		diag_warning_id(d, DIAG_W_ALLOW_NO_FORWARD, &rr->server_side.loc,
				"%s is masqueraded behind zone '%s': connections from '%s' reach it only "
				"through a port forward ('forward tcp/PORT from %s to HOST'), and none "
				"leads there", buf, from->name, from->name, from->name);
		return;
	}
}

void lint_policy(const struct resolved *res, const struct ir_ruleset *ir, struct diags *d)
{
	for (size_t i = 0; i < res->rules.n; i++) {
		if (res->rules.v[i].action == ACT_FORWARD)
			lint_forward_denied(i, res, ir, d);
		if (res->rules.v[i].action == ACT_ALLOW)
			lint_allow_without_forward(i, res, d);
	}
	lint_redundant(res, ir, d);
	for (size_t i = 0; i < res->rules.n; i++)
		if (res->rules.v[i].action == ACT_DENY)
			lint_useless_deny(i, res, ir, d);
}
