/* firewalld service files (/usr/lib/firewalld/services/NAME.xml): <service> with <short>,
 * <description>, <port>, <source-port>, <protocol>, <helper>, <module>, <destination> and
 * <include>. The service is named by its file, as firewalld names it. */
#include <string.h>

#include "import.h"
#include "import_xml.h"

static char *service_name(const char *path)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	if (n > 4 && !strcmp(b + n - 4, ".xml"))
		n -= 4;
	return xstrndup(b, n);
}

/* The attributes an element must have and may have; anything else is an error. */
static bool check_attrs(const struct xml_node *n, const char *const *need, const char *const *may,
			struct diags *d)
{
	bool ok = true;
	for (const char *const *k = need; *k; k++)
		if (!xml_attr(n, *k)) {
			diag_error(d, &n->loc, "<%s> needs the attribute %s=\"...\"", n->name, *k);
			ok = false;
		}
	for (size_t i = 0; i < n->attrs.n; i++) {
		bool known = false;
		for (const char *const *k = need; *k && !known; k++)
			known = !strcmp(*k, n->attrs.v[i].name);
		for (const char *const *k = may; *k && !known; k++)
			known = !strcmp(*k, n->attrs.v[i].name);
		if (!known) {
			diag_error(d, &n->attrs.v[i].loc, "<%s> has no attribute '%s' in a firewalld service",
				   n->name, n->attrs.v[i].name);
			ok = false;
		}
	}
	if (n->kids.n) {
		diag_error(d, &n->kids.v[0]->loc, "<%s> holds no elements in a firewalld service", n->name);
		ok = false;
	}
	return ok;
}

/* "80" or "6000-6007" (1-65535, low to high); 0 when it is a name, -1 when bad. */
static int port_range(const char *t, unsigned *lo, unsigned *hi)
{
	if (!(t[0] >= '0' && t[0] <= '9'))
		return (t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z') ? 0 : -1;
	unsigned v[2] = {0, 0};
	int k = 0;
	const char *p = t;
	for (;;) {
		if (*p < '0' || *p > '9')
			return -1;
		unsigned long x = 0;
		while (*p >= '0' && *p <= '9') {
			x = x * 10 + (unsigned)(*p - '0');
			if (x > 65535)
				return -1;
			p++;
		}
		v[k] = (unsigned)x;
		if (*p == '-' && k == 0) {
			k = 1;
			p++;
			continue;
		}
		if (*p)
			return -1;
		break;
	}
	*lo = v[0];
	*hi = k ? v[1] : v[0];
	return *lo >= 1 && *lo <= *hi ? 1 : -1;
}

/* <port> (destination ports) or <source-port>: one flow. */
static bool port_element(const struct source *src, struct imp_app *a, const struct xml_node *n,
			 bool source_port, struct diags *d)
{
	static const char *const need[] = {"port", "protocol", NULL}, *const may[] = {NULL};
	if (!check_attrs(n, need, may, d))
		return false;
	const struct xml_attr *port = xml_attr(n, "port"), *proto = xml_attr(n, "protocol");
	unsigned bit = !strcmp(proto->value, "tcp") ? PROTO_BIT_TCP
		       : !strcmp(proto->value, "udp") ? PROTO_BIT_UDP : 0;
	if (!source_port && !strcmp(proto->value, "esp") && !*port->value) {
		/* firewalld's ipsec service: <port protocol="esp" port=""/>, the whole protocol */
		struct imp_flow *f = import_flow_add(a, "esp-all", PROTO_BIT_ESP);
		f->source = xasprintf("%s:%d: <port protocol=esp port=''>", src->name, n->loc.first_line);
		return true;
	}
	if (!bit) {
		diag_note(d, &proto->vloc, "protocol '%s' cannot be written in pinhole (its flows are tcp, "
			  "udp, icmp and esp); <%s> left out", proto->value, n->name);
		return true;
	}
	unsigned lo, hi;
	int r = port_range(port->value, &lo, &hi);
	if (r == 0) {
		diag_note(d, &port->vloc, "'%s' names a port by /etc/services; write the number "
			  "(<%s> left out)", port->value, n->name);
		return true;
	}
	if (r < 0) {
		diag_error(d, &port->vloc, "'%s' is not a port or range (1-65535, e.g. 80 or 6000-6007)",
			   port->value);
		return false;
	}
	char *base = xasprintf("%s-%s%u", proto->value, source_port ? "sport-" : "", lo);
	struct imp_flow *f = import_flow_add(a, base, bit);
	free(base);
	import_ports_add(source_port ? &f->sport : &f->dport, lo, hi);
	f->source = xasprintf("%s:%d: <%s protocol=%s port=%s>", src->name, n->loc.first_line,
			      n->name, proto->value, port->value);
	return true;
}

static bool protocol_element(const struct source *src, struct imp_app *a, const struct xml_node *n,
			     struct diags *d)
{
	static const char *const need[] = {"value", NULL}, *const may[] = {NULL};
	if (!check_attrs(n, need, may, d))
		return false;
	const struct xml_attr *v = xml_attr(n, "value");
	bool v4 = !strcmp(v->value, "icmp"), v6 = !strcmp(v->value, "ipv6-icmp");
	if (!strcmp(v->value, "esp")) {
		struct imp_flow *f = import_flow_add(a, "esp-all", PROTO_BIT_ESP);
		f->source = xasprintf("%s:%d: <protocol value=esp>", src->name, n->loc.first_line);
		return true;
	}
	if (!v4 && !v6) {
		diag_note(d, &v->vloc, "protocol '%s' cannot be written in pinhole (its flows are tcp, udp, "
			  "icmp and esp); left out", v->value);
		return true;
	}
	diag_note(d, &v->vloc, "'%s' becomes an icmp flow, which pinhole applies as ICMP on IPv4 and "
		  "ICMPv6 on IPv6: restrict the rule's family with addresses if that matters", v->value);
	struct imp_flow *f = import_flow_add(a, v4 ? "icmp-all" : "icmpv6-all", PROTO_BIT_ICMP);
	f->source = xasprintf("%s:%d: <protocol value=%s>", src->name, n->loc.first_line, v->value);
	return true;
}

static bool text_element(const struct xml_node *n, char **out, struct diags *d)
{
	static const char *const none[] = {NULL};
	if (!check_attrs(n, none, none, d))
		return false;
	if (*out) {
		diag_error(d, &n->loc, "<%s> given twice", n->name);
		return false;
	}
	*out = import_clean_text(n->text.s ? n->text.s : "");
	return true;
}

bool import_firewalld(const struct source *src, struct imp_set *set, struct diags *d)
{
	struct xml_node *root = xml_parse(src, d);
	if (!root)
		return false;
	bool ok = true;
	if (strcmp(root->name, "service")) {
		diag_error(d, &root->loc, "<%s> is no firewalld service (the root element is <service>)",
			   root->name);
		xml_free(root);
		return false;
	}
	static const char *const none[] = {NULL}, *const svc_may[] = {"version", "name", NULL};
	for (size_t i = 0; i < root->attrs.n; i++) {
		bool known = false;
		for (const char *const *k = svc_may; *k && !known; k++)
			known = !strcmp(*k, root->attrs.v[i].name);
		if (!known) {
			diag_error(d, &root->attrs.v[i].loc, "<service> has no attribute '%s'",
				   root->attrs.v[i].name);
			ok = false;
		}
	}
	if (root->has_text) {
		diag_error(d, &root->text_loc, "text directly inside <service>: put it in <description>");
		ok = false;
	}
	char *name = service_name(src->name);
	struct imp_app *a = import_app_new(set, name, &root->loc);
	a->source = xasprintf("firewalld service %s, %s", name, src->name);
	free(name);
	/* Helpers attach to the ports: read them after every <port>. */
	VEC(const struct xml_node *) helpers = {0};
	for (size_t i = 0; ok && i < root->kids.n; i++) {
		const struct xml_node *n = root->kids.v[i];
		if (n->has_text && strcmp(n->name, "short") && strcmp(n->name, "description")) {
			diag_error(d, &n->text_loc, "<%s> holds no text in a firewalld service", n->name);
			ok = false;
		} else if (!strcmp(n->name, "short")) {
			ok = text_element(n, &a->title, d);
		} else if (!strcmp(n->name, "description")) {
			ok = text_element(n, &a->description, d);
		} else if (!strcmp(n->name, "port") || !strcmp(n->name, "source-port")) {
			ok = port_element(src, a, n, n->name[0] == 's', d);
		} else if (!strcmp(n->name, "protocol")) {
			ok = protocol_element(src, a, n, d);
		} else if (!strcmp(n->name, "helper") || !strcmp(n->name, "module")) {
			static const char *const need[] = {"name", NULL};
			ok = check_attrs(n, need, none, d);
			VEC_PUSH(helpers, n);
		} else if (!strcmp(n->name, "destination")) {
			static const char *const may[] = {"ipv4", "ipv6", NULL};
			ok = check_attrs(n, none, may, d);
			if (ok && !n->attrs.n) {
				diag_error(d, &n->loc, "<destination> needs ipv4=\"...\" or ipv6=\"...\"");
				ok = false;
			}
			for (size_t k = 0; ok && k < n->attrs.n; k++)
				diag_note(d, &n->attrs.v[k].vloc, "firewalld limits this service to the "
					  "destination %s %s; pinhole apps carry no addresses, so the flows "
					  "are imported for every destination: narrow the rule that uses the "
					  "app yourself", n->attrs.v[k].name, n->attrs.v[k].value);
		} else if (!strcmp(n->name, "include")) {
			static const char *const need[] = {"service", NULL};
			ok = check_attrs(n, need, none, d);
			if (ok) {
				const struct xml_attr *s = xml_attr(n, "service");
				struct imp_use u = {.name = xstrdup(s->value), .loc = n->loc};
				VEC_PUSH(a->uses, u);
			}
		} else {
			diag_error(d, &n->loc, "<%s> is outside what pinhole import reads of a firewalld "
				   "service (short, description, port, source-port, protocol, helper, module, "
				   "destination, include)", n->name);
			ok = false;
		}
	}
	for (size_t i = 0; ok && i < helpers.n; i++) {
		const struct xml_node *n = helpers.v[i];
		const struct xml_attr *h = xml_attr(n, "name");
		char *where = xasprintf("%s:%d: <%s name=%s>", src->name, n->loc.first_line, n->name, h->value);
		import_helper(a, h->value, n->name[0] == 'm', &h->vloc, where, d);
		free(where);
	}
	VEC_FREE(helpers);
	xml_free(root);
	return ok;
}
