/* Name resolution and validation: the step between the syntax tree and the IR. */
#ifndef PINHOLE_RESOLVE_H
#define PINHOLE_RESOLVE_H

#include "addr.h"
#include "ast.h"
#include "icmp.h"
#include "load.h"

struct zone {
	const struct ast_stmt *stmt;
	const char *name;
	prefix_vec addrs;
};

struct define {
	const struct ast_stmt *stmt;
	const char *name;
	prefix_vec addrs;
	bool used;
};

/* A resolved from/to list. `given` false = unrestricted. */
struct peer {
	bool given;
	struct loc loc;
	prefix_vec addrs;        /* both families, normalized; empty with a zone = any address */
	const char *setname;     /* the define or zone name when the list is exactly one of them */
	const struct zone *zone; /* interface restriction */
};

struct rrule {
	const struct ast_stmt *stmt;
	enum rule_action action;
	enum role role;          /* ROLE_NONE: gateway */
	bool log;
	VEC(const struct ast_app *) apps;
	struct peer client_side; /* `from` */
	struct peer server_side; /* `to` */
};

struct resolved {
	VEC(struct rrule) rules;
	VEC(struct zone) zones;
	VEC(struct define) defines;
	VEC(struct ast_app *) port_apps; /* apps made from port literals, owned here */
	bool stateless;
	bool log_unmatched;
};

bool validate_app(const struct ast_app *a, struct diags *d);
bool resolve_policy(const struct ast_policy *p, const struct library *lib, struct resolved *out,
		    struct diags *d);
void resolved_free(struct resolved *r);

#endif
