/*
 * Address translation statements as IR (docs/language.md, "Address translation"):
 *
 *   masquerade / snat  one SRCNAT rule per family: leaving by the `to` zone's interfaces, from
 *                      the `from` addresses (all when none are given). Masquerade is IPv4 only
 *                      unless `family` says otherwise: IPv6 needs no translation.
 *   forward            a DSTNAT rule that rewrites new connections to this host's port (`fib
 *                      daddr type local`) arriving from `from`, and the one forward rule that
 *                      admits exactly those rewritten connections (`ct status dnat`) to the
 *                      new address and port; nothing else reaches the inside host. With
 *                      `hairpin ZONE`, hosts of that zone may use the forward too: the same two
 *                      rules for them, and a masquerade of their rewritten connections, so the
 *                      inside host answers through this gateway and not straight back.
 *
 * The rules carry the statement as their provenance (they come from no app flow).
 */
#include <string.h>

#include "expand_int.h"

static void nat_origin(struct exp *x, const struct rrule *rr, struct ir_origin *o)
{
	memset(o, 0, sizeof(*o));
	o->stmt_no = (int)(rr - x->r->rules.v) + 1;
	o->file = expand_file(x, rr->loc.src);
	o->line = rr->loc.first_line;
	o->col = rr->loc.first_column;
	o->stmt = x->rs->texts.v[o->stmt_no - 1];
}

static void put_ifaces(struct ir_rule *r, enum ir_match_kind k, const struct zone *z)
{
	if (!z || !z->ifaces.n)
		return;
	struct ir_ifset *dst = &ir_match_put(r, k)->u.ifs;
	dst->n = z->ifaces.n;
	dst->v = xmalloc(dst->n * sizeof(char *));
	for (size_t i = 0; i < dst->n; i++)
		dst->v[i] = xstrdup(z->ifaces.v[i]);
}

/* The addresses of one family of a list as a match (with the define's or zone's name, for
 * a named set); false when the list has addresses, but none of this family. */
static bool put_addrs(struct ir_rule *r, enum ir_match_kind k, const prefix_vec *v, const char *name,
		      uint8_t family)
{
	size_t n = 0;
	for (size_t i = 0; i < v->n; i++)
		n += v->v[i].family == family;
	if (!n)
		return !v->n;
	struct ir_addrset *dst = &ir_match_put(r, k)->u.addrs;
	dst->v = xmalloc(n * sizeof(*dst->v));
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].family == family)
			dst->v[dst->n++] = v->v[i];
	if (name)
		dst->name = xstrdup(name);
	return true;
}

static void source_nat(struct exp *x, const struct rrule *rr)
{
	for (int fam = IR_V4; fam <= IR_V6; fam += 2) {
		if (!(rrule_more(rr)->nat.families & (fam == IR_V4 ? 1 : 2)))
			continue;
		struct ir_rule r;
		ir_rule_init(&r);
		r.hook = IR_SRCNAT;
		r.family = (uint8_t)fam;
		put_ifaces(&r, IR_M_OIF, rr->server_side.zone);
		if (!put_addrs(&r, IR_M_SADDR, &rr->client_side.addrs, rr->client_side.setname, (uint8_t)fam)) {
			ir_rule_free(&r);
			continue; /* `from` names no address of this family */
		}
		r.action = rr->action == ACT_SNAT ? IR_SNAT : IR_MASQUERADE;
		if (rr->action == ACT_SNAT)
			r.nat.addr = rrule_more(rr)->nat.addr;
		nat_origin(x, rr, &r.origin);
		expand_push(x, G_ALLOW, &r);
	}
}

/* The rewrite and the forward rule of a port forward, for clients arriving from `zone` (its
 * interfaces) and `addrs` (NULL or empty: any source). */
static void forward_from(struct exp *x, const struct rrule *rr, const struct zone *zone,
			 const prefix_vec *addrs, const char *setname, bool hairpin)
{
	uint8_t fam = rrule_more(rr)->nat.addr.family;
	struct ir_rule d;
	ir_rule_init(&d);
	d.hook = IR_DSTNAT;
	d.family = fam;
	put_ifaces(&d, IR_M_IIF, zone);
	if (addrs && !put_addrs(&d, IR_M_SADDR, addrs, setname, fam)) {
		ir_rule_free(&d);
		return;
	}
	ir_match_put(&d, IR_M_DADDR_LOCAL);
	ir_rule_set_proto(&d, rrule_more(rr)->nat.proto);
	ir_rule_set_ports(&d, IR_M_DPORT, &rrule_more(rr)->nat.ports, 1);
	d.action = IR_DNAT;
	d.nat.addr = rrule_more(rr)->nat.addr;
	d.nat.port = rrule_more(rr)->nat.port;
	nat_origin(x, rr, &d.origin);

	/* What the rewritten connection looks like: to the inside host's port. */
	struct ir_rule f = ir_rule_copy(&d);
	f.hook = IR_FORWARD;
	f.action = IR_ACCEPT;
	memset(&f.nat, 0, sizeof(f.nat));
	f.log = rr->log;
	ir_match_del(&f, IR_M_DADDR_LOCAL);
	struct ir_addrset *to = &ir_match_put(&f, IR_M_DADDR)->u.addrs;
	to->n = 1;
	to->v = xmalloc(sizeof(*to->v));
	to->v[0] = rrule_more(rr)->nat.addr;
	if (rrule_more(rr)->nat.port) {
		struct ir_portrange p = {rrule_more(rr)->nat.port, rrule_more(rr)->nat.port};
		ir_rule_set_ports(&f, IR_M_DPORT, &p, 1);
	}
	ir_match_put(&f, IR_M_CT_DNAT);

	struct ir_rule m = {0};
	if (hairpin) {
		/* the answer must come back through this host to be translated back */
		m = ir_rule_copy(&f);
		m.hook = IR_SRCNAT;
		m.action = IR_MASQUERADE;
		m.log = false;
		ir_match_del(&m, IR_M_IIF);
		put_ifaces(&m, IR_M_OIF, zone);
	}
	expand_push(x, G_ALLOW, &d);
	expand_push_decided(x, G_ALLOW, &f, rr); /* the forward's limit is its filter rule's */
	if (hairpin)
		expand_push(x, G_ALLOW, &m);
}

void expand_nat(struct exp *x, const struct rrule *rr)
{
	if (rr->action != ACT_FORWARD) {
		source_nat(x, rr);
		return;
	}
	if (!rrule_more(rr)->nat.proto)
		return; /* resolve reported it */
	const struct peer *from = &rr->client_side;
	forward_from(x, rr, from->zone, &from->addrs, from->setname, false);
	const struct zone *h = rrule_more(rr)->nat.hairpin;
	if (h)
		forward_from(x, rr, h, &h->addrs, h->name, true);
}
