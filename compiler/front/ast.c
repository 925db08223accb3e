#include "ast.h"

#include <stdlib.h>

void ast_word_free(struct ast_word *w)
{
	free(w->text);
	w->text = NULL;
}

void ast_words_free(ast_words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i].text);
	VEC_FREE(*w);
}

void ast_ports_free(struct ast_ports *p)
{
	VEC_FREE(p->r);
}

void ast_flow_free(struct ast_flow *f)
{
	free(f->name);
	ast_ports_free(&f->sport);
	ast_ports_free(&f->dport);
	ast_words_free(&f->icmp_types);
	ast_word_free(&f->helper);
	ast_word_free(&f->related);
	ast_word_free(&f->negotiated);
	ast_words_free(&f->on);
	free(f->source);
}

void ast_app_free(struct ast_app *a)
{
	if (!a)
		return;
	free(a->name);
	free(a->description);
	ast_words_free(&a->aliases);
	free(a->source);
	for (size_t i = 0; i < a->flows.n; i++)
		ast_flow_free(&a->flows.v[i]);
	VEC_FREE(a->flows);
	ast_words_free(&a->uses);
	free(a);
}

const struct ast_rule_more *ast_rule_more(const struct ast_rule *r)
{
	static const struct ast_rule_more none;
	return r->more ? r->more : &none;
}

struct ast_rule_more *ast_rule_more_w(struct ast_rule *r)
{
	if (!r->more)
		r->more = xcalloc(1, sizeof(*r->more));
	return r->more;
}

void ast_stmt_free(struct ast_stmt *s)
{
	if (!s)
		return;
	switch (s->kind) {
	case STMT_RULE:
		for (size_t i = 0; i < s->u.rule.services.n; i++)
			free(s->u.rule.services.v[i].name);
		VEC_FREE(s->u.rule.services);
		ast_words_free(&s->u.rule.from);
		ast_words_free(&s->u.rule.to);
		if (s->u.rule.more) {
			struct ast_rule_more *m = s->u.rule.more;
			ast_word_free(&m->as);
			ast_word_free(&m->port);
			ast_words_free(&m->hairpin);
			ast_words_free(&m->family);
			ast_words_free(&m->on);
			ast_words_free(&m->from_ex.ex);
			ast_words_free(&m->to_ex.ex);
			ast_words_free(&m->on_ex.ex);
			free(m);
		}
		break;
	case STMT_DEFINE:
		ast_word_free(&s->u.define.name);
		ast_words_free(&s->u.define.addrs);
		break;
	case STMT_ZONE:
		ast_word_free(&s->u.zone.name);
		ast_words_free(&s->u.zone.ifaces);
		ast_words_free(&s->u.zone.addrs);
		break;
	case STMT_INCLUDE:
		ast_word_free(&s->u.include);
		break;
	case STMT_APP:
		ast_app_free(s->u.app);
		break;
	case STMT_MANAGEMENT:
		ast_words_free(&s->u.mgmt);
		break;
	case STMT_STATELESS:
	case STMT_LOG_UNMATCHED:
	case STMT_NEGOTIATED_STATIC:
		break;
	}
	free(s);
}

void ast_policy_free(struct ast_policy *p)
{
	for (size_t i = 0; i < p->stmts.n; i++)
		ast_stmt_free(p->stmts.v[i]);
	VEC_FREE(p->stmts);
}

const char *ast_role_name(enum role r)
{
	switch (r) {
	case ROLE_CLIENT: return "client";
	case ROLE_SERVER: return "server";
	case ROLE_ANY: return "any";
	case ROLE_NONE: break;
	}
	return "none";
}

void ast_plist_free(struct ast_plist *p)
{
	ast_words_free(&p->w);
	ast_words_free(&p->ex);
}
