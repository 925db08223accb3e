/* The importers' shared model: apps, flows, ports, and the kernel helpers the three formats
 * name, mapped to pinhole's helper types. */
#include <string.h>

#include "import.h"

struct imp_app *import_app_new(struct imp_set *set, const char *orig, const struct loc *loc)
{
	struct imp_app *a = xcalloc(1, sizeof(*a));
	a->orig = xstrdup(orig);
	a->loc = *loc;
	VEC_PUSH(set->apps, a);
	return a;
}

struct imp_flow *import_flow_add(struct imp_app *a, const char *base, unsigned protos)
{
	/* A flow name is an identifier the flow's scanner never takes for a keyword: base names
	 * here always hold a '-' ("tcp-80"), so they never equal one. Repeats get -2, -3, ... */
	char *name = xstrdup(base);
	for (unsigned k = 2;; k++) {
		bool taken = false;
		for (size_t i = 0; i < a->flows.n && !taken; i++)
			taken = !strcmp(a->flows.v[i].name, name);
		if (!taken)
			break;
		free(name);
		name = xasprintf("%s-%u", base, k);
	}
	struct imp_flow f = {.name = name, .protos = protos};
	VEC_PUSH(a->flows, f);
	return &a->flows.v[a->flows.n - 1];
}

void import_ports_add(imp_ports *p, unsigned lo, unsigned hi)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].lo == lo && p->v[i].hi == hi)
			return;
	VEC_PUSH(*p, ((struct ir_portrange){(uint16_t)lo, (uint16_t)hi}));
}

struct loc import_loc(const struct source *src, int line, int col, int len)
{
	return (struct loc){.src = src, .first_line = line, .first_column = col, .last_line = line,
			    .last_column = col + (len > 0 ? len - 1 : 0)};
}

char *import_clean_text(const char *s)
{
	struct strbuf sb = {0};
	bool space = false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= ' ' || c == 0x7f) {
			space = sb.len > 0;
			continue;
		}
		if (space)
			sb_putc(&sb, ' ');
		space = false;
		sb_putc(&sb, c == '"' ? '\'' : (char)c);
	}
	if (!sb.s)
		sb_puts(&sb, "");
	return sb_steal(&sb);
}

/* The helpers the formats name (FireHOL's helper_X, firewalld's <helper>, and the kernel
 * modules both name), with the pinhole helper type attached to tcp and to udp flows and the
 * protocols of the connections the helper expects. `none` says why pinhole has no helper. */
struct helper_map {
	const char *name;
	const char *tcp, *udp;
	unsigned related;
	const char *none;
};

static const struct helper_map helpers[] = {
	{"ftp", "ftp", NULL, PROTO_BIT_TCP, NULL},
	{"irc", "irc", NULL, PROTO_BIT_TCP, NULL},
	{"sip", "sip", "sip", PROTO_BIT_TCP | PROTO_BIT_UDP, NULL},
	{"tftp", NULL, "tftp", PROTO_BIT_UDP, NULL},
	{"amanda", NULL, "amanda", PROTO_BIT_TCP, NULL},
	{"sane", "sane", NULL, PROTO_BIT_TCP, NULL},
	{"snmp", NULL, "snmp", PROTO_BIT_UDP, NULL},
	{"netbios-ns", NULL, "netbios-ns", PROTO_BIT_UDP, NULL},
	{"netbios_ns", NULL, "netbios-ns", PROTO_BIT_UDP, NULL},
	/* nf_conntrack_h323 is two helpers: Q.931 call signalling (tcp) and RAS (udp). */
	{"h323", "Q.931", "RAS", PROTO_BIT_TCP | PROTO_BIT_UDP, NULL},
	{"Q.931", "Q.931", NULL, PROTO_BIT_TCP | PROTO_BIT_UDP, NULL},
	{"RAS", NULL, "RAS", PROTO_BIT_TCP | PROTO_BIT_UDP, NULL},
	/* pptp's data is a GRE tunnel: the helper is attached, the tunnel cannot be written. */
	{"pptp", "pptp", NULL, 0,
	 "the GRE tunnel the pptp helper expects cannot be written in pinhole (its flows are tcp, udp, "
	 "icmp and esp); the helper is attached to the control connection only"},
	{"proto_gre", NULL, NULL, 0, "GRE connection tracking is no helper pinhole has: pinhole's "
	 "flows are tcp, udp, icmp and esp"},
	{"proto-gre", NULL, NULL, 0, "GRE connection tracking is no helper pinhole has: pinhole's "
	 "flows are tcp, udp, icmp and esp"},
	{"gre", NULL, NULL, 0, "GRE connection tracking is no helper pinhole has: pinhole's flows "
	 "are tcp, udp, icmp and esp"},
	{"mms", NULL, NULL, 0, "the mainline kernel has no mms helper; pinhole's library app 'mms' "
	 "opens its data channel by a scoped static fallback (pinhole apps mms)"},
	{"snmp_basic", NULL, NULL, 0, "snmp_basic is NAT's SNMP rewriter, not a conntrack helper"},
};

static const struct helper_map *helper_find(const char *name)
{
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		if (!strcmp(helpers[i].name, name))
			return &helpers[i];
	return NULL;
}

/* The pinhole helper name in a flow name: "Q.931" -> "q-931". */
static char *helper_word(const char *type)
{
	struct strbuf sb = {0};
	for (const char *p = type; *p; p++)
		sb_putc(&sb, (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a')
			: ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) ? *p : '-');
	return sb_steal(&sb);
}

static void add_children(struct imp_app *a, const struct helper_map *h, const char *type,
			 const char *where)
{
	/* One child flow each way: FireHOL and firewalld accept every connection a helper
	 * expects (RELATED), whichever side opens it. */
	for (size_t i = 0; i < a->flows.n; i++)
		if (a->flows.v[i].related && !strcmp(a->flows.v[i].related, type))
			return;
	char *w = helper_word(type);
	for (int back = 1; back >= 0; back--) {
		char *base = xasprintf("%s-data-to-%s", w, back ? "client" : "server");
		struct imp_flow *f = import_flow_add(a, base, h->related);
		free(base);
		f->related = type;
		f->to_client = back;
		f->source = xasprintf("%s: the connections the %s helper expects, %s, as this "
				      "database's tool accepts them (RELATED)", where, type,
				      back ? "opened towards the client" : "opened towards the server");
	}
	free(w);
}

void import_helper(struct imp_app *a, const char *name, bool is_module, const struct loc *loc,
		   const char *where, struct diags *d)
{
	const char *key = name;
	if (is_module) {
		if (!strncmp(name, "nf_nat_", 7)) {
			diag_note(d, loc, "module '%s' serves NAT, which pinhole does not do; left out", name);
			return;
		}
		if (!strncmp(name, "nf_conntrack_", 13))
			key = name + 13;
		else if (!strncmp(name, "ip_conntrack_", 13))
			key = name + 13;
		else {
			diag_note(d, loc, "module '%s' is no conntrack helper pinhole knows; left out", name);
			return;
		}
	}
	const struct helper_map *h = helper_find(key);
	if (!h) {
		diag_note(d, loc, "no kernel conntrack helper '%s' that pinhole knows (it has ftp, irc, "
			  "sip, tftp, pptp, snmp, amanda, sane, netbios-ns, Q.931, RAS); left out", key);
		return;
	}
	if (h->none) {
		diag_note(d, loc, "helper '%s': %s", key, h->none);
		if (!h->tcp && !h->udp)
			return;
	}
	const char *types[2] = {h->tcp, h->udp};
	const unsigned bits[2] = {PROTO_BIT_TCP, PROTO_BIT_UDP};
	bool found = false;
	for (int k = 0; k < 2; k++) {
		if (!types[k])
			continue;
		bool attached = false;
		for (size_t i = 0; i < a->flows.n; i++) {
			struct imp_flow *f = &a->flows.v[i];
			if (f->related || f->protos != bits[k])
				continue;
			found = true;
			if (f->helper && strcmp(f->helper, types[k])) {
				diag_note(d, loc, "flow %s already has the %s helper and a flow takes one; "
					  "helper '%s' left out of it", f->name, f->helper, types[k]);
				continue;
			}
			f->helper = types[k];
			attached = true;
		}
		if (attached && h->related)
			add_children(a, h, types[k], where);
	}
	if (!found)
		diag_note(d, loc, "helper '%s' reads %s connections and '%s' has no such port of its "
			  "own; left out", key, h->tcp && h->udp ? "tcp or udp" : h->tcp ? "tcp" : "udp",
			  a->orig);
}

bool import_format_parse(const char *name, enum import_format *fmt)
{
	static const char *const names[] = {"firehol", "ufw", "firewalld"};
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, names[i])) {
			*fmt = (enum import_format)i;
			return true;
		}
	return false;
}

const char *import_format_name(enum import_format fmt)
{
	switch (fmt) {
	case IMPORT_FIREHOL: return "FireHOL";
	case IMPORT_UFW: return "ufw";
	case IMPORT_FIREWALLD: return "firewalld";
	}
	return "?";
}

bool import_source(enum import_format fmt, const struct source *src, struct imp_set *set,
		   struct diags *d)
{
	if (!load_source_is_text(src, d))
		return false;
	switch (fmt) {
	case IMPORT_FIREHOL: return import_firehol(src, set, d);
	case IMPORT_UFW: return import_ufw(src, set, d);
	case IMPORT_FIREWALLD: return import_firewalld(src, set, d);
	}
	return false;
}

void import_set_free(struct imp_set *set)
{
	for (size_t i = 0; i < set->apps.n; i++) {
		struct imp_app *a = set->apps.v[i];
		for (size_t j = 0; j < a->flows.n; j++) {
			struct imp_flow *f = &a->flows.v[j];
			free(f->name);
			free(f->source);
			VEC_FREE(f->sport);
			VEC_FREE(f->dport);
		}
		VEC_FREE(a->flows);
		for (size_t j = 0; j < a->uses.n; j++)
			free(a->uses.v[j].name);
		VEC_FREE(a->uses);
		free(a->orig);
		free(a->name);
		free(a->title);
		free(a->description);
		free(a->source);
		free(a);
	}
	VEC_FREE(set->apps);
}
