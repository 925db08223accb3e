/* The packet space as BDD variables (pktspace.h): the encoding of fields and IR matches. */
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "pktspace.h"
#include "pktspace_int.h"

#define PKS_NODES_PER_RULE 100 /* the node table's first size: pks_init */
#define OTHER_NAME "?" /* a name no rule names (interface names hold no "?"): "eth?" is any
			  * eth name no rule names */

void pks_set(BDD *acc, BDD v)
{
	bdd_delref(*acc);
	*acc = v;
}

BDD pks_and(BDD a, BDD b) { return bdd_addref(bdd_and(a, b)); }
BDD pks_or(BDD a, BDD b) { return bdd_addref(bdd_or(a, b)); }
/* Not bdd_apply(a, b, bddop_diff): BuDDy's apply stops early for and/or only, so a diff
 * walks all of `a` wherever b is false, which made the running difference of
 * exact_analyze_in quadratic. ite(b, 0, a) stops as soon as b is constant or a is false. */
BDD pks_diff(BDD a, BDD b)
{
	if (!pks_meets(a, b)) /* nothing to take away: a as it is, no node rebuilt (pks_meets.c) */
		return bdd_addref(a);
	return bdd_addref(bdd_ite(b, bddfalse, a));
}

/* Variable k of a field, k = 0 its most significant bit. */
int pks_var(const struct pks_field *f, int k)
{
	return f->first + k;
}

BDD pks_bit(const struct pks_field *f, int k, bool one)
{
	return one ? bdd_ithvar(pks_var(f, k)) : bdd_nithvar(pks_var(f, k));
}

BDD pks_eq(const struct pktspace *ps, const struct pks_field *f, uint32_t v)
{
	(void)ps;
	BDD r = bdd_addref(bddtrue);
	for (int k = f->bits - 1; k >= 0; k--) /* bottom up: small intermediate BDDs */
		pks_set(&r, pks_and(r, pks_bit(f, k, (v >> (f->bits - 1 - k)) & 1)));
	return r;
}

/* x <= v (le) or x >= v, built from the least significant bit up. */
static BDD cmp(const struct pks_field *f, uint32_t v, bool le)
{
	BDD r = bdd_addref(bddtrue);
	for (int i = 0; i < f->bits; i++) {
		int k = f->bits - 1 - i;
		bool one = (v >> i) & 1;
		BDD x = bdd_ithvar(pks_var(f, k)), nx = bdd_nithvar(pks_var(f, k));
		if (le)
			pks_set(&r, one ? pks_or(nx, r) : pks_and(nx, r));
		else
			pks_set(&r, one ? pks_and(x, r) : pks_or(x, r));
	}
	return r;
}

BDD pks_range(const struct pktspace *ps, const struct pks_field *f, uint32_t lo, uint32_t hi)
{
	(void)ps;
	BDD a = cmp(f, lo, false), b = cmp(f, hi, true);
	BDD r = pks_and(a, b);
	bdd_delref(a);
	bdd_delref(b);
	return r;
}

/* The top `len` bits of an address field equal those of addr. */
BDD pks_prefix_bits(const struct pks_field *f, const uint8_t *addr, int len)
{
	BDD r = bdd_addref(bddtrue);
	for (int k = len - 1; k >= 0; k--)
		pks_set(&r, pks_and(r, pks_bit(f, k, (addr[k / 8] >> (7 - k % 8)) & 1)));
	return r;
}

static int bits_for(size_t n)
{
	int b = 1;
	while (((size_t)1 << b) < n)
		b++;
	return b;
}

/* name as an atom unless it is one; ix indexes the atoms by name */
static void atom_add(char ***v, size_t *n, size_t *cap, const char *name, struct pks_atoms *ix)
{
	if (pks_atoms_find(ix, name, strlen(name)))
		return;
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = xstrdup(name);
	pks_atoms_put(ix, *v, *n);
}

/* Interface atoms: each name a rule names, and for each wildcard "p*" the name p + OTHER_NAME
 * (a name whose longest wildcard prefix is p and that no rule names), and OTHER_NAME. Every
 * name falls in the class of one of them. */
static void collect_ifs(struct pktspace *ps, const struct ir_ruleset *rs)
{
	VEC_PUSH(ps->ifs, NULL);
	atom_add(&ps->ifs.v, &ps->ifs.n, &ps->ifs.cap, OTHER_NAME, &ps->ifs_index);
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		for (size_t m = 0; m < r->match.n; m++) {
			const struct ir_match *x = &r->match.v[m];
			if (x->kind != IR_M_IIF && x->kind != IR_M_OIF)
				continue;
			for (size_t k = 0; k < x->u.ifs.n; k++) {
				const char *n = x->u.ifs.v[k];
				size_t len = strlen(n);
				if (len && n[len - 1] == '*') {
					char *rep = xasprintf("%.*s%s", (int)(len - 1), n, OTHER_NAME);
					atom_add(&ps->ifs.v, &ps->ifs.n, &ps->ifs.cap, rep, &ps->ifs_index);
					free(rep);
				} else {
					atom_add(&ps->ifs.v, &ps->ifs.n, &ps->ifs.cap, n, &ps->ifs_index);
				}
			}
		}
	}
}

static void collect_names(struct pktspace *ps, const struct ir_ruleset *rs)
{
	VEC_PUSH(ps->helpers, NULL);
	atom_add(&ps->helpers.v, &ps->helpers.n, &ps->helpers.cap, OTHER_NAME, &ps->helpers_index);
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_rule *r = &rs->rules.v[i];
		const struct ir_match *h = ir_match_get(r, IR_M_CT_HELPER);
		if (h && h->u.helper)
			atom_add(&ps->helpers.v, &ps->helpers.n, &ps->helpers.cap, h->u.helper, &ps->helpers_index);
		const struct ir_setref *s = ir_rule_in_set(r);
		if (!s || !s->name)
			continue;
		bool seen = false;
		for (size_t k = 0; k < ps->setv.n && !seen; k++)
			seen = !strcmp(ps->setv.v[k].name, s->name) && ps->setv.v[k].src == s->src;
		if (!seen) {
			struct ir_setref c = *s;
			c.name = xstrdup(s->name);
			VEC_PUSH(ps->setv, c);
		}
	}
}

/* Every limited rule's budget is its own (a hashlimit or meter per rule): its own variable,
 * found by the address of its IR_M_LIMIT match. */
static void collect_limits(struct pktspace *ps, const struct ir_ruleset *rs)
{
	for (size_t i = 0; i < rs->rules.n; i++)
		if (ir_match_get(&rs->rules.v[i], IR_M_LIMIT))
			ps->nlim++;
	ps->limv = xcalloc(ps->nlim + 1, sizeof(*ps->limv));
	size_t k = 0;
	for (size_t i = 0; i < rs->rules.n; i++) {
		const struct ir_match *m = ir_match_get(&rs->rules.v[i], IR_M_LIMIT);
		if (m)
			ps->limv[k++] = m;
	}
}

static void field(struct pktspace *ps, struct pks_field *f, int bits)
{
	f->first = ps->nvars;
	f->bits = bits;
	ps->nvars += bits;
}

static BDD below(const struct pktspace *ps, const struct pks_field *f, uint32_t n)
{
	return pks_range(ps, f, 0, n - 1);
}

bool pks_init(struct pktspace *ps, const struct ir_ruleset *rs)
{
	memset(ps, 0, sizeof(*ps));
	collect_ifs(ps, rs);
	collect_names(ps, rs);
	collect_limits(ps, rs);
	/* The order is the BDD's: fields most rules test first, addresses last. */
	field(ps, &ps->hook, 3);
	field(ps, &ps->family, 1);
	field(ps, &ps->ct, 2);
	field(ps, &ps->frag, 1);
	field(ps, &ps->dnat, 1);
	field(ps, &ps->local, 1);
	field(ps, &ps->proto, 8);
	field(ps, &ps->iif, bits_for(ps->ifs.n));
	field(ps, &ps->oif, bits_for(ps->ifs.n));
	field(ps, &ps->helper, bits_for(ps->helpers.n));
	field(ps, &ps->sets, ps->setv.n ? (int)ps->setv.n : 1);
	field(ps, &ps->limits, ps->nlim ? (int)ps->nlim : 1);
	field(ps, &ps->icmp, 9); /* 256: no ICMP type */
	field(ps, &ps->flags, 8);
	field(ps, &ps->dport, 16);
	field(ps, &ps->sport, 16);
	field(ps, &ps->daddr, 128);
	field(ps, &ps->saddr, 128);
	/* The node table sized for the ruleset from the start: every rule's BDDs stay live for
	 * the findings (about 70 nodes a rule of `gen.py pin entries`), so a table grown on
	 * demand went through garbage collections that free nothing and rehashes of everything
	 * (3 passes over it at 50,000 rules, none at 5,000). Operator caches of 1/32 of it: at
	 * 1/8 the six caches took more memory than the node table, and at 50,000 rules memory,
	 * not the number of steps, made check superlinear. */
	size_t want = rs->rules.n < (size_t)INT_MAX / 128 ? rs->rules.n * PKS_NODES_PER_RULE : INT_MAX / 128;
	if (bdd_init(want > 1000000 ? (int)want : 1000000, 200000) < 0)
		return false;
	bdd_gbc_hook(NULL);
	bdd_setmaxincrease(2000000);
	bdd_setcacheratio(32);
	bdd_setvarnum(ps->nvars);
	ps->valid = bdd_addref(bddtrue);
	BDD *c = ps->valid_part;
	c[0] = below(ps, &ps->hook, IR_HOOK_COUNT);
	c[1] = below(ps, &ps->iif, (uint32_t)ps->ifs.n);
	c[2] = below(ps, &ps->oif, (uint32_t)ps->ifs.n);
	c[3] = below(ps, &ps->helper, (uint32_t)ps->helpers.n);
	c[4] = below(ps, &ps->icmp, 257);
	for (int i = PKS_VALID_PARTS; i-- > 0;)
		pks_set(&ps->valid, pks_and(c[i], ps->valid));
	return true;
}

struct pks_stats pks_stats;

void pks_done(struct pktspace *ps)
{
	bdd_delref(ps->valid);
	for (int i = 0; i < PKS_VALID_PARTS; i++)
		bdd_delref(ps->valid_part[i]);
	bddStat st;
	bdd_stats(&st);
	pks_stats.nodes_made += st.produced;
	pks_stats.gcs += st.gbcnum;
	if (st.nodenum > pks_stats.table_peak)
		pks_stats.table_peak = st.nodenum;
	bdd_done();
	pks_meets_free();
	for (size_t i = 0; i < ps->ifs.n; i++)
		free(ps->ifs.v[i]);
	for (size_t i = 0; i < ps->helpers.n; i++)
		free(ps->helpers.v[i]);
	for (size_t i = 0; i < ps->setv.n; i++)
		free(ps->setv.v[i].name);
	VEC_FREE(ps->ifs);
	pks_atoms_free(&ps->ifs_index);
	pks_atoms_free(&ps->helpers_index);
	VEC_FREE(ps->helpers);
	VEC_FREE(ps->setv);
	free(ps->limv);
}

static bool if_matches(const struct ir_ifset *s, const char *name)
{
	if (!name)
		return false;
	for (size_t i = 0; i < s->n; i++) {
		pks_stats.name_tests++;
		if (fnmatch(s->v[i], name, 0) == 0)
			return true;
	}
	return false;
}

static BDD ifs_bdd(const struct pktspace *ps, const struct pks_field *f, const struct ir_ifset *s)
{
	if (!s->n)
		return bdd_addref(bddtrue);
	bool plain = true; /* no wildcard: the names' own atoms, found by name, not by a scan */
	for (size_t i = 0; i < s->n && plain; i++)
		plain = !strpbrk(s->v[i], "*?[\\");
	BDD r = bdd_addref(bddfalse);
	for (size_t i = 0; plain && i < s->n; i++) {
		size_t a = pks_atoms_find(&ps->ifs_index, s->v[i], strlen(s->v[i]));
		if (a) {
			BDD e = pks_eq(ps, f, (uint32_t)a);
			pks_set(&r, pks_or(r, e));
			bdd_delref(e);
		}
	}
	if (plain)
		return r;
	for (size_t a = 0; a < ps->ifs.n; a++) {
		if (!if_matches(s, ps->ifs.v[a]))
			continue;
		BDD e = pks_eq(ps, f, (uint32_t)a);
		pks_set(&r, pks_or(r, e));
		bdd_delref(e);
	}
	return r;
}

BDD pks_prefix(const struct pktspace *ps, const struct pks_field *f, const struct ir_prefix *p)
{
	BDD a = pks_prefix_bits(f, p->addr, p->len);
	BDD r = pks_and(a, pks_bit(&ps->family, 0, p->family == IR_V6));
	bdd_delref(a);
	return r;
}

BDD pks_addrs(const struct pktspace *ps, const struct pks_field *f, const struct ir_addrset *s)
{
	if (!s->n)
		return bdd_addref(bddtrue);
	BDD r = bdd_addref(bddfalse);
	for (size_t i = 0; i < s->n; i++) {
		BDD t = pks_prefix(ps, f, &s->v[i]);
		pks_set(&r, pks_or(r, t));
		bdd_delref(t);
	}
	return r;
}

BDD pks_ports(const struct pktspace *ps, const struct pks_field *f, const struct ir_portset *s)
{
	if (!s->n)
		return bdd_addref(bddtrue);
	BDD r = bdd_addref(bddfalse);
	for (size_t i = 0; i < s->n; i++) {
		BDD t = pks_range(ps, f, s->v[i].lo, s->v[i].hi);
		pks_set(&r, pks_or(r, t));
		bdd_delref(t);
	}
	return r;
}

static BDD set_var(const struct pktspace *ps, const struct ir_setref *s)
{
	for (size_t k = 0; k < ps->setv.n; k++)
		if (!strcmp(ps->setv.v[k].name, s->name) && ps->setv.v[k].src == s->src)
			return bdd_addref(bdd_ithvar(pks_var(&ps->sets, (int)k)));
	return bdd_addref(bddfalse); /* not collected: cannot happen for a rule of the ruleset */
}

static BDD limit_var(const struct pktspace *ps, const struct ir_match *m)
{
	for (size_t k = 0; k < ps->nlim; k++)
		if (ps->limv[k] == m)
			return bdd_addref(bdd_ithvar(pks_var(&ps->limits, (int)k)));
	return bdd_addref(bddfalse); /* not collected: cannot happen for a rule of the ruleset */
}

/* The packets one match lets through (pktspace_int.h). */
BDD pks_match(const struct pktspace *ps, const struct ir_match *m)
{
	BDD nofrag = bdd_nithvar(pks_var(&ps->frag, 0));
	BDD r = bddfalse, t;
	switch (m->kind) {
	case IR_M_IIF:
		return ifs_bdd(ps, &ps->iif, &m->u.ifs);
	case IR_M_OIF:
		return ifs_bdd(ps, &ps->oif, &m->u.ifs);
	case IR_M_SADDR:
		return pks_addrs(ps, &ps->saddr, &m->u.addrs);
	case IR_M_DADDR:
		return pks_addrs(ps, &ps->daddr, &m->u.addrs);
	case IR_M_DADDR_LOCAL:
		return bdd_addref(bdd_ithvar(pks_var(&ps->local, 0)));
	case IR_M_IN_SET:
		return m->u.set.name ? set_var(ps, &m->u.set) : bdd_addref(bddtrue);
	case IR_M_FRAGMENT:
		return bdd_addref(bdd_ithvar(pks_var(&ps->frag, 0)));
	case IR_M_L4PROTO:
		return pks_eq(ps, &ps->proto, m->u.proto);
	case IR_M_SPORT:
	case IR_M_DPORT:
		t = pks_ports(ps, m->kind == IR_M_SPORT ? &ps->sport : &ps->dport, &m->u.ports);
		r = pks_and(t, nofrag);
		bdd_delref(t);
		return r;
	case IR_M_SAME_PORT:
		r = pks_ports(ps, &ps->sport, &m->u.ports);
		pks_set(&r, pks_and(r, nofrag));
		for (int k = 15; k >= 0; k--) {
			t = bdd_addref(bdd_biimp(bdd_ithvar(pks_var(&ps->sport, k)), bdd_ithvar(pks_var(&ps->dport, k))));
			pks_set(&r, pks_and(r, t));
			bdd_delref(t);
		}
		return r;
	case IR_M_TCP_FLAGS:
		if (m->u.flags.cmp & ~m->u.flags.mask)
			return bdd_addref(bddfalse);
		r = bdd_addref(nofrag);
		for (int b = 0; b < 8; b++)
			if (m->u.flags.mask & (1 << b))
				pks_set(&r, pks_and(r, pks_bit(&ps->flags, 7 - b, (m->u.flags.cmp >> b) & 1)));
		return r;
	case IR_M_TCP_FLAGS_ANY:
		r = bdd_addref(bddfalse);
		for (int b = 0; b < 8; b++)
			if (m->u.flags.mask & (1 << b))
				pks_set(&r, pks_or(r, pks_bit(&ps->flags, 7 - b, true)));
		pks_set(&r, pks_and(r, nofrag));
		return r;
	case IR_M_ICMP_TYPE:
		t = pks_eq(ps, &ps->icmp, m->u.icmp_type);
		r = pks_and(t, nofrag);
		bdd_delref(t);
		return r;
	case IR_M_CT_STATE:
		if (!m->u.ct_state)
			return bdd_addref(bddtrue);
		r = bdd_addref(bddfalse);
		for (uint32_t c = 0; c < 4; c++) {
			if (!(m->u.ct_state & (1u << c)))
				continue;
			t = pks_eq(ps, &ps->ct, c);
			pks_set(&r, pks_or(r, t));
			bdd_delref(t);
		}
		return r;
	case IR_M_CT_HELPER:
		r = bdd_addref(bddfalse);
		for (size_t a = 1; m->u.helper && a < ps->helpers.n; a++) {
			if (strcmp(ps->helpers.v[a], m->u.helper))
				continue;
			t = pks_eq(ps, &ps->helper, (uint32_t)a);
			pks_set(&r, pks_or(r, t));
			bdd_delref(t);
		}
		return r;
	case IR_M_CT_DNAT:
		return bdd_addref(bdd_ithvar(pks_var(&ps->dnat, 0)));
	case IR_M_LIMIT:
		return limit_var(ps, m);
	}
	return bdd_addref(r);
}

/* The atom a concrete name falls in. */
static uint32_t if_atom(const struct pktspace *ps, const char *name)
{
	if (!name)
		return 0;
	size_t len = strlen(name), a = pks_atoms_find(&ps->ifs_index, name, len);
	if (a >= 2)
		return (uint32_t)a;
	if (!strcmp(name, OTHER_NAME))
		return 1;
	/* else the atom of the longest wildcard prefix p ("p?" for "p*"): p + OTHER_NAME */
	char *probe = xmalloc(len + 2);
	for (size_t l = len; l > 0; l--) {
		memcpy(probe, name, l);
		memcpy(probe + l, OTHER_NAME, 2);
		if ((a = pks_atoms_find(&ps->ifs_index, probe, l + 1)) >= 2)
			break;
	}
	free(probe);
	return a >= 2 ? (uint32_t)a : 1;
}

static uint32_t helper_atom(const struct pktspace *ps, const char *name)
{
	if (!name)
		return 0;
	size_t a = pks_atoms_find(&ps->helpers_index, name, strlen(name));
	return a >= 2 ? (uint32_t)a : 1;
}

static uint32_t ct_code(uint8_t ct)
{
	for (uint32_t c = 0; c < 4; c++)
		if (ct & (1u << c))
			return c;
	return 0;
}

static void and_eq(const struct pktspace *ps, BDD *s, const struct pks_field *f, uint32_t v)
{
	BDD e = pks_eq(ps, f, v);
	pks_set(s, pks_and(*s, e));
	bdd_delref(e);
}

BDD pks_packet(const struct pktspace *ps, const struct ir_packet *p)
{
	BDD s = bdd_addref(ps->valid);
	and_eq(ps, &s, &ps->hook, (uint32_t)p->hook);
	and_eq(ps, &s, &ps->family, p->family == IR_V6);
	and_eq(ps, &s, &ps->ct, ct_code(p->ct_state));
	and_eq(ps, &s, &ps->frag, p->fragment);
	and_eq(ps, &s, &ps->dnat, p->dnat);
	and_eq(ps, &s, &ps->local, p->dst_local);
	and_eq(ps, &s, &ps->proto, p->l4proto);
	and_eq(ps, &s, &ps->iif, if_atom(ps, p->iif));
	and_eq(ps, &s, &ps->oif, if_atom(ps, p->oif));
	and_eq(ps, &s, &ps->helper, helper_atom(ps, p->ct_helper));
	for (size_t k = 0; k < ps->setv.n; k++) /* sets empty, as ir_eval without a state */
		pks_set(&s, pks_and(s, bdd_nithvar(pks_var(&ps->sets, (int)k))));
	for (size_t k = 0; k < ps->nlim; k++) /* within every budget, as ir_eval takes it */
		pks_set(&s, pks_and(s, bdd_ithvar(pks_var(&ps->limits, (int)k))));
	and_eq(ps, &s, &ps->icmp, p->icmp_type < 0 || p->icmp_type > 255 ? 256 : (uint32_t)p->icmp_type);
	and_eq(ps, &s, &ps->flags, p->tcp_flags);
	and_eq(ps, &s, &ps->dport, p->dport);
	and_eq(ps, &s, &ps->sport, p->sport);
	int alen = p->family == IR_V6 ? 128 : 32;
	BDD a = pks_prefix_bits(&ps->saddr, p->saddr, alen);
	pks_set(&s, pks_and(s, a));
	bdd_delref(a);
	a = pks_prefix_bits(&ps->daddr, p->daddr, alen);
	pks_set(&s, pks_and(s, a));
	bdd_delref(a);
	return s;
}

static void put(uint8_t *vals, const struct pks_field *f, uint32_t v)
{
	for (int k = 0; k < f->bits; k++)
		vals[f->first + k] = (v >> (f->bits - 1 - k)) & 1;
}

static void put_addr(uint8_t *vals, const struct pks_field *f, const uint8_t *addr, int len)
{
	for (int k = 0; k < 128; k++)
		vals[f->first + k] = k < len ? (addr[k / 8] >> (7 - k % 8)) & 1 : 0;
}

void pks_assign(const struct pktspace *ps, const struct ir_packet *p, uint8_t *vals)
{
	memset(vals, 0, (size_t)ps->nvars);
	put(vals, &ps->hook, (uint32_t)p->hook);
	put(vals, &ps->family, p->family == IR_V6);
	put(vals, &ps->ct, ct_code(p->ct_state));
	put(vals, &ps->frag, p->fragment);
	put(vals, &ps->dnat, p->dnat);
	put(vals, &ps->local, p->dst_local);
	put(vals, &ps->proto, p->l4proto);
	put(vals, &ps->iif, if_atom(ps, p->iif));
	put(vals, &ps->oif, if_atom(ps, p->oif));
	put(vals, &ps->helper, helper_atom(ps, p->ct_helper));
	for (size_t k = 0; k < ps->nlim; k++) /* within every budget, as ir_eval takes it */
		vals[pks_var(&ps->limits, (int)k)] = 1;
	put(vals, &ps->icmp, p->icmp_type < 0 || p->icmp_type > 255 ? 256 : (uint32_t)p->icmp_type);
	put(vals, &ps->flags, p->tcp_flags);
	put(vals, &ps->dport, p->dport);
	put(vals, &ps->sport, p->sport);
	int alen = p->family == IR_V6 ? 128 : 32;
	put_addr(vals, &ps->saddr, p->saddr, alen);
	put_addr(vals, &ps->daddr, p->daddr, alen);
}

bool pks_member(BDD s, const uint8_t *vals)
{
	while (s != bddtrue && s != bddfalse)
		s = vals[bdd_var(s)] ? bdd_high(s) : bdd_low(s);
	return s == bddtrue;
}

static uint32_t get(const uint8_t *vals, const struct pks_field *f)
{
	uint32_t v = 0;
	for (int k = 0; k < f->bits && k < 32; k++)
		v = (v << 1) | vals[f->first + k];
	return v;
}

static void get_addr(const uint8_t *vals, const struct pks_field *f, uint8_t *out)
{
	memset(out, 0, 16);
	for (int k = 0; k < 128; k++)
		if (vals[f->first + k])
			out[k / 8] |= (uint8_t)(0x80 >> (k % 8));
}

bool pks_witness(const struct pktspace *ps, BDD s, struct ir_packet *out)
{
	if (s == bddfalse)
		return false;
	uint8_t *vals = xcalloc((size_t)ps->nvars, 1);
	BDD n = bdd_addref(bdd_satone(s));
	for (BDD x = n; x != bddtrue && x != bddfalse;) {
		bool one = bdd_low(x) == bddfalse;
		vals[bdd_var(x)] = one;
		x = one ? bdd_high(x) : bdd_low(x);
	}
	bdd_delref(n);
	memset(out, 0, sizeof(*out));
	out->hook = (enum ir_hook)get(vals, &ps->hook);
	out->family = get(vals, &ps->family) ? IR_V6 : IR_V4;
	out->ct_state = (uint8_t)(1u << get(vals, &ps->ct));
	out->fragment = get(vals, &ps->frag);
	out->dnat = get(vals, &ps->dnat);
	out->dst_local = get(vals, &ps->local);
	out->l4proto = (uint8_t)get(vals, &ps->proto);
	uint32_t a = get(vals, &ps->iif);
	out->iif = a && a < ps->ifs.n ? ps->ifs.v[a] : NULL;
	a = get(vals, &ps->oif);
	out->oif = a && a < ps->ifs.n ? ps->ifs.v[a] : NULL;
	a = get(vals, &ps->helper);
	out->ct_helper = a && a < ps->helpers.n ? ps->helpers.v[a] : NULL;
	uint32_t t = get(vals, &ps->icmp);
	out->icmp_type = t > 255 ? -1 : (int)t;
	out->tcp_flags = (uint8_t)get(vals, &ps->flags);
	out->dport = (uint16_t)get(vals, &ps->dport);
	out->sport = (uint16_t)get(vals, &ps->sport);
	get_addr(vals, &ps->daddr, out->daddr);
	get_addr(vals, &ps->saddr, out->saddr);
	free(vals);
	return true;
}
