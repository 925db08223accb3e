/* Internal to the expander (expand*.c): the expansion context and the helpers its parts
 * share. Nothing outside compiler/expand*.c includes this. */
#ifndef PINHOLE_EXPAND_INT_H
#define PINHOLE_EXPAND_INT_H

#include "expand.h"

enum group { G_SCOPE, G_BUILTIN, G_DENY, G_ALLOW, G_REJECT_FLOW, G_TAIL, G_COUNT };

/* The rules a statement made so far in one group, by hash (open addressing; an entry counts
 * only in the generation of the statement that made it, so nothing needs clearing). */
struct seen {
	uint64_t *hash;
	size_t *idx;
	uint32_t *gen;
	size_t cap, n;
};

struct exp {
	struct resolved *r;          /* consumed as it is expanded when r->consume */
	struct diags *d;
	struct ir_ruleset *rs;
	VEC(struct ir_rule) g[G_COUNT];
	size_t stmt_start[G_COUNT]; /* first rule of the statement being expanded, per group */
	struct seen seen[G_COUNT];  /* the same rules, found by hash */
	uint32_t gen;               /* the statement being expanded */
	VEC(char *) warned;         /* warnings already given for this statement */
	const struct source *file_src; /* expand_file's last source, and its name */
	const char *file;
	const char *last_app, *last_app_in;   /* origin_for's last app name, interned */
	const char *last_flow_file, *last_flow_file_in;
	size_t lit;                 /* resolved.consume: the next port literal of r->lit_apps */
	size_t errors;              /* d->errors when expansion began */
};

/* The name of a policy source as rules' origins give it (cleaned, util_path_clean; interned). */
const char *expand_file(struct exp *x, const struct source *src);

/* What one emitted direction of a flow needs to know. */
struct dirctx {
	const struct rrule *rr;
	const struct rapp *app;       /* as the statement names it (a bundle holds the flows of
				       * the apps it uses) */
	const struct rflow *f;
	enum ir_hook hook;
	const struct peer *src, *dst; /* NULL = unrestricted */
	enum role src_role, dst_role; /* the app roles at either end (for warnings) */
};

/* Adds a rule to a group, unless the statement being expanded already made the same one. */
void expand_push(struct exp *x, enum group g, struct ir_rule *r);

/* expand_push with the statement's log options (a limited log as a rule of its own before
 * it), and expand_push_decided also with its rate limit: for rules that decide. */
void expand_push_logged(struct exp *x, enum group g, struct ir_rule *r, const struct rrule *rr);
void expand_push_decided(struct exp *x, enum group g, struct ir_rule *r, const struct rrule *rr);

/* expand_stateless.c: without conntrack, answers need rules of their own. */
void expand_reply(struct exp *x, const struct ir_rule *fwd, const struct rflow *f);
void expand_warn_stateless(struct exp *x, const struct dirctx *c, const struct ir_rule *r);

/* expand_nat.c: masquerade, snat and port forwards (and the forward rules they open). */
void expand_nat(struct exp *x, const struct rrule *rr);
/* resolved.consume: rule i is expanded and given up (expand_consume.c); *lit is the next port
 * literal of r->lit_apps. */
void expand_consume(struct resolved *r, size_t i, size_t *lit);

/* expand_builtin.c: what every ruleset has, whatever the policy says. */
void expand_builtins(struct exp *x);
void expand_reject_answers(struct exp *x);
void expand_log_unmatched(struct exp *x);
void expand_zone_defaults(struct exp *x);
void expand_zone_owned(struct exp *x);

#endif
