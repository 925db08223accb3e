/* A rule's parts moved into blocks its ruleset owns (ir_rule_pack): exactly their size, one
 * after the other, freed together with the ruleset. */
#include <stdint.h>
#include <string.h>

#include "ir.h"

/* About a page: blocks fit in the holes the front leaves as it is freed. */
enum { ARENA_BLOCK = 4096 - 32 };

static void *take(struct ir_arena *a, size_t n, size_t align)
{
	if (!n)
		return NULL;
	size_t pad = a->at ? (align - ((uintptr_t)a->at & (align - 1))) & (align - 1) : 0;
	if (!a->at || pad + n > a->left) {
		if (n > ARENA_BLOCK / 4) { /* a long list: a block of its own, the last one kept */
			VEC_PUSH(a->blocks, xmalloc(n));
			return a->blocks.v[a->blocks.n - 1];
		}
		VEC_PUSH(a->blocks, xmalloc(ARENA_BLOCK));
		a->at = a->blocks.v[a->blocks.n - 1];
		a->left = ARENA_BLOCK;
		pad = 0; /* malloc's blocks are aligned for anything */
	}
	char *p = a->at + pad;
	a->at = p + n;
	a->left -= pad + n;
	return p;
}

static void *move(struct ir_arena *a, void *v, size_t n, size_t align)
{
	void *p = take(a, n, align);
	if (n)
		memcpy(p, v, n);
	free(v);
	return p;
}

static char *move_str(struct ir_arena *a, char *s)
{
	return s ? move(a, s, strlen(s) + 1, 1) : NULL;
}

static void pack_match(struct ir_arena *a, struct ir_match *m)
{
	switch (m->kind) {
	case IR_M_IIF:
	case IR_M_OIF:
		for (size_t i = 0; i < m->u.ifs.n; i++)
			m->u.ifs.v[i] = move_str(a, m->u.ifs.v[i]);
		m->u.ifs.v = move(a, m->u.ifs.v, m->u.ifs.n * sizeof(char *), _Alignof(char *));
		break;
	case IR_M_SADDR:
	case IR_M_DADDR:
		m->u.addrs.name = move_str(a, m->u.addrs.name);
		m->u.addrs.v = move(a, m->u.addrs.v, m->u.addrs.n * sizeof(*m->u.addrs.v),
				    _Alignof(struct ir_prefix));
		break;
	case IR_M_IN_SET:
		m->u.set.name = move_str(a, m->u.set.name);
		break;
	case IR_M_SPORT:
	case IR_M_DPORT:
	case IR_M_SAME_PORT:
		m->u.ports.v = move(a, m->u.ports.v, m->u.ports.n * sizeof(*m->u.ports.v),
				    _Alignof(struct ir_portrange));
		break;
	case IR_M_CT_HELPER:
		m->u.helper = move_str(a, m->u.helper);
		break;
	case IR_M_FRAGMENT:
	case IR_M_L4PROTO:
	case IR_M_TCP_FLAGS:
	case IR_M_TCP_FLAGS_ANY:
	case IR_M_ICMP_TYPE:
	case IR_M_CT_STATE:
	case IR_M_DADDR_LOCAL:
	case IR_M_CT_DNAT:
	case IR_M_LIMIT:
		break; /* plain values */
	}
}

void ir_rule_pack(struct ir_ruleset *rs, struct ir_rule *r)
{
	if (r->packed)
		return;
	struct ir_arena *a = &rs->parts;
	r->match.v = move(a, r->match.v, r->match.n * sizeof(*r->match.v), _Alignof(struct ir_match));
	r->match.cap = r->match.n;
	for (size_t i = 0; i < r->match.n; i++)
		pack_match(a, &r->match.v[i]);
	r->helper = move_str(a, r->helper);
	r->add_set.name = move_str(a, r->add_set.name);
	r->packed = true;
}

void ir_rule_unpack(struct ir_rule *r)
{
	if (r->packed)
		*r = ir_rule_copy(r); /* the packed parts stay in the arena, unused */
}

void ir_arena_free(struct ir_arena *a)
{
	for (size_t i = 0; i < a->blocks.n; i++)
		free(a->blocks.v[i]);
	VEC_FREE(a->blocks);
	memset(a, 0, sizeof(*a));
}
