/* pinhole import's readers: each format into the model (apps, flows, ports, helpers), errors at
 * their place, notes for what is not carried over, and the written text compiling again. */
#include "import.h"
#include "import_xml.h"
#include "unit.h"

struct run {
	struct sources srcs;
	struct diags d;
	struct imp_set set;
	bool ok;
};

static struct run *run(enum import_format fmt, const char *name, const char *text)
{
	struct run *r = calloc(1, sizeof(*r));
	struct source *src = sources_add(&r->srcs, name, xstrdup(text), strlen(text));
	r->ok = import_source(fmt, src, &r->set, &r->d);
	if (r->ok)
		import_resolve(&r->set, NULL, &r->d);
	return r;
}

static void run_free(struct run *r)
{
	import_set_free(&r->set);
	diag_free(&r->d);
	sources_free(&r->srcs);
	free(r);
}

/* The first diagnostic of this severity whose message holds `part`, or NULL. */
static const struct diag *find_diag(const struct run *r, enum severity sev, const char *part)
{
	for (size_t i = 0; i < r->d.n; i++)
		if (r->d.v[i].sev == sev && strstr(r->d.v[i].msg, part))
			return &r->d.v[i];
	return NULL;
}

static const struct imp_flow *flow(const struct imp_app *a, const char *name)
{
	for (size_t i = 0; i < a->flows.n; i++)
		if (!strcmp(a->flows.v[i].name, name))
			return &a->flows.v[i];
	return NULL;
}

static void firehol_services(void **state)
{
	(void)state;
	struct run *r = run(IMPORT_FIREHOL, "s.conf",
			    "#FHVER: 1:213\n"
			    "client_ftp_ports=\"default\"\n"
			    "server_ftp_ports=\"tcp/21\"  # control\n"
			    "helper_ftp=\"ftp\"\n"
			    "server_dns_ports=\"udp/53 tcp/53\"; client_dns_ports=any\n"
			    "server_sip_ports='tcp/5060 udp/5060'\n"
			    "client_sip_ports=\"5060 default\"\n"
			    "helper_sip=sip\n");
	assert_true(r->ok);
	assert_int_equal(r->set.apps.n, 3);
	const struct imp_app *ftp = r->set.apps.v[0];
	assert_string_equal(ftp->name, "ftp");
	const struct imp_flow *c = flow(ftp, "tcp-21");
	assert_non_null(c);
	assert_int_equal(c->protos, PROTO_BIT_TCP);
	assert_int_equal(c->dport.n, 1);
	assert_int_equal(c->dport.v[0].lo, 21);
	assert_int_equal(c->sport.n, 1); /* FireHOL's default client ports */
	assert_int_equal(c->sport.v[0].lo, 1024);
	assert_int_equal(c->sport.v[0].hi, 65535);
	assert_string_equal(c->helper, "ftp");
	const struct imp_flow *back = flow(ftp, "ftp-data-to-client");
	assert_non_null(back);
	assert_true(back->to_client);
	assert_string_equal(back->related, "ftp");
	assert_non_null(flow(ftp, "ftp-data-to-server"));
	const struct imp_app *dns = r->set.apps.v[1];
	assert_int_equal(dns->flows.n, 2);
	assert_int_equal(dns->flows.v[0].protos, PROTO_BIT_TCP); /* one flow per protocol: tcp, udp, icmp */
	assert_int_equal(dns->flows.v[0].sport.n, 0);            /* any */
	const struct imp_app *sip = r->set.apps.v[2];
	assert_string_equal(flow(sip, "udp-5060")->helper, "sip");
	assert_string_equal(flow(sip, "tcp-5060")->helper, "sip");
	assert_int_equal(flow(sip, "tcp-5060")->sport.n, 2);
	assert_int_equal(flow(sip, "tcp-5060")->sport.v[0].lo, 5060);
	run_free(r);
}

static void firehol_notes_and_errors(void **state)
{
	(void)state;
	struct run *r = run(IMPORT_FIREHOL, "s.conf",
			    "rules_nfs() {\n  local x=\"}\"\n  { echo; }\n}\n"
			    "server_gre_ports=\"47/any\"\nclient_gre_ports=any\n"
			    "server_x_ports=\"tcp/$PORT\"\nclient_x_ports=default\n"
			    "FOO=1\n");
	assert_true(r->ok);
	const struct diag *g = find_diag(r, SEV_NOTE, "complex service 'nfs'");
	assert_non_null(g);
	assert_int_equal(g->loc.first_line, 1);
	assert_non_null(find_diag(r, SEV_NOTE, "protocol of '47/any'"));
	assert_non_null(find_diag(r, SEV_NOTE, "nothing of 'gre'"));
	assert_non_null(find_diag(r, SEV_NOTE, "shell expansion"));
	assert_non_null(find_diag(r, SEV_NOTE, "variable 'FOO'"));
	assert_true(r->set.apps.v[0]->skipped);
	run_free(r);

	/* A service whose every variable is left out is no service (the fuzzer found it). */
	r = run(IMPORT_FIREHOL, "x.conf", "server_x_ports=\"$P\"\n");
	assert_true(r->ok);
	assert_int_equal(r->set.apps.n, 0);
	run_free(r);

	r = run(IMPORT_FIREHOL, "e.conf", "server_x_ports=\"tcp/80\nclient_x_ports=default\n");
	assert_false(r->ok);
	g = find_diag(r, SEV_ERROR, "unterminated double quote");
	assert_non_null(g);
	assert_int_equal(g->loc.first_line, 1);
	assert_int_equal(g->loc.first_column, 16);
	run_free(r);

	r = run(IMPORT_FIREHOL, "e.conf", "server_x_ports=\"tcp/80\"\nclient_x_ports=\"sometimes\"\n");
	assert_false(r->ok);
	g = find_diag(r, SEV_ERROR, "'sometimes' is not a FireHOL client port");
	assert_non_null(g);
	assert_int_equal(g->loc.first_line, 2);
	assert_int_equal(g->loc.first_column, 17);
	run_free(r);
}

static void ufw_profiles(void **state)
{
	(void)state;
	struct run *r = run(IMPORT_UFW, "apps",
			    "; a comment\n[MSN]\ntitle=MSN Chat\ndescription=MSN chat protocol\n"
			    "  (with file transfer)\nports=1863|6891:6900/tcp|6901\n\n"
			    "[Apache Full]\nTitle = Web Server\ndescription: Apache v2\nports=80,443/tcp\n");
	assert_true(r->ok);
	assert_int_equal(r->set.apps.n, 2);
	const struct imp_app *msn = r->set.apps.v[0];
	assert_string_equal(msn->description, "MSN chat protocol (with file transfer)");
	assert_int_equal(msn->flows.n, 3);
	assert_int_equal(msn->flows.v[0].protos, PROTO_BIT_TCP | PROTO_BIT_UDP); /* no protocol: both */
	assert_int_equal(msn->flows.v[1].dport.v[0].lo, 6891);
	assert_int_equal(msn->flows.v[1].dport.v[0].hi, 6900);
	const struct imp_app *web = r->set.apps.v[1];
	assert_string_equal(web->name, "apache-full");
	assert_string_equal(web->title, "Web Server");
	assert_int_equal(web->flows.v[0].dport.n, 2);
	run_free(r);

	static const struct { const char *text, *msg; int line, col; } bad[] = {
		{"[a]\ntitle=t\ndescription=d\nports=80:90\n", "ufw needs a protocol", 4, 7},
		{"[a]\ntitle=t\ndescription=d\nports=80/sctp\n", "'sctp' is no protocol", 4, 10},
		{"[a]\ntitle=t\ndescription=d\nports=0/tcp\n", "'0' is not a ufw port", 4, 7},
		{"[a]\ntitle=t\ndescription=d\nports=90:80/tcp\n", "'90:80' is not a ufw port", 4, 7},
		{"title=t\n", "a key before the first", 1, 1},
		{"[a]\ntitle=t\ntitle=u\n", "'title' is set twice", 3, 1},
		{"[all]\n", "'all' is reserved", 1, 2},
		{"[a]\nports=80/tcp\n", "has no title", 1, 2},
		{"[a\n", "a section header is [Name]", 1, 1},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run(IMPORT_UFW, "p", bad[i].text);
		assert_false(r->ok);
		const struct diag *g = find_diag(r, SEV_ERROR, bad[i].msg);
		if (!g)
			fail_msg("case %zu: no error '%s' (first: %s)", i, bad[i].msg, r->d.n ? r->d.v[0].msg : "none");
		assert_int_equal(g->loc.first_line, bad[i].line);
		assert_int_equal(g->loc.first_column, bad[i].col);
		run_free(r);
	}
}

static void firewalld_services(void **state)
{
	(void)state;
	struct run *r = run(IMPORT_FIREWALLD, "dir/tftp.xml",
			    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- a comment -->\n<service>\n"
			    "  <short>TFTP &amp; more</short>\n"
			    "  <description><![CDATA[Trivial <FTP>]]> &#x41;</description>\n"
			    "  <port protocol='udp' port=\"69\"/>\n"
			    "  <source-port protocol=\"udp\" port=\"5355\"/>\n"
			    "  <port protocol=\"tcp\" port=\"6000-6007\"></port>\n"
			    "  <protocol value=\"icmp\"/>\n"
			    "  <module name=\"nf_conntrack_tftp\"/>\n"
			    "  <include service=\"dns\"/>\n"
			    "</service>\n");
	assert_true(r->ok);
	const struct imp_app *a = r->set.apps.v[0];
	assert_string_equal(a->orig, "tftp");
	assert_string_equal(a->title, "TFTP & more");
	assert_string_equal(a->description, "Trivial <FTP> A");
	assert_string_equal(flow(a, "udp-69")->helper, "tftp");
	assert_int_equal(flow(a, "udp-sport-5355")->sport.v[0].lo, 5355);
	assert_int_equal(flow(a, "udp-sport-5355")->dport.n, 0);
	assert_int_equal(flow(a, "tcp-6000")->dport.v[0].hi, 6007);
	assert_int_equal(flow(a, "icmp-all")->protos, PROTO_BIT_ICMP);
	assert_non_null(flow(a, "tftp-data-to-client"));
	assert_int_equal(a->uses.n, 1);
	assert_null(a->uses.v[0].resolved); /* not imported, and no library given */
	assert_non_null(find_diag(r, SEV_NOTE, "service 'dns' is not among the files imported"));
	run_free(r);

	static const struct { const char *text, *msg; int line, col; } bad[] = {
		{"<service><port protocol=\"tcp\"/></service>", "needs the attribute port", 1, 11},
		{"<service><port protocol=\"tcp\" port=\"65536\"/></service>", "'65536' is not a port", 1, 37},
		{"<service><port protocol=\"tcp\" port=\"1\" x=\"2\"/></service>", "no attribute 'x'", 1, 40},
		{"<service>\n<short>a</short><short>b</short></service>", "<short> given twice", 2, 18},
		{"<zone/>", "<zone> is no firewalld service", 1, 2},
		{"<service>&nbsp;</service>", "unknown entity", 1, 10},
		{"<service><a></b></service>", "expected </a>", 1, 15},
		{"<service></service><x/>", "text after the root element", 1, 20},
		{"<service a=\"1\" a=\"2\"/>", "given twice", 1, 16},
		{"<service>\n<!-- x -- y -->\n</service>", "'--' inside a comment", 2, 8},
		{"<?xml version=\"1.0\" encoding=\"latin1\"?><service/>", "UTF-8 only", 1, 1},
		{"", "the file is empty", 1, 1},
		{"<a><a><a><a><a><a><a><a><a>", "deeper", 1, 25},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run(IMPORT_FIREWALLD, "x.xml", bad[i].text);
		assert_false(r->ok);
		const struct diag *g = find_diag(r, SEV_ERROR, bad[i].msg);
		if (!g)
			fail_msg("case %zu: no error '%s' (first: %s)", i, bad[i].msg, r->d.n ? r->d.v[0].msg : "none");
		if (g->loc.first_line != bad[i].line || g->loc.first_column != bad[i].col)
			fail_msg("case %zu: '%s' at %d:%d, want %d:%d", i, bad[i].msg, g->loc.first_line,
				 g->loc.first_column, bad[i].line, bad[i].col);
		run_free(r);
	}
}

/* Names: identifiers, unique, keywords avoided; and the text compiles with them. */
static void names_and_text_compile(void **state)
{
	(void)state;
	struct run *r = run(IMPORT_UFW, "p",
			    "[MSN SSL]\ntitle=a \"quoted\" title\ndescription=d\nports=443/tcp\n"
			    "[msn-ssl]\ntitle=t\ndescription=d\nports=444/tcp\n"
			    "[0 A.D.]\ntitle=t\ndescription=d\nports=20595/udp\n"
			    "[flow]\ntitle=t\ndescription=d\nports=1/tcp\n"
			    "[any]\ntitle=t\ndescription=d\nports=2/tcp\n"
			    "[default]\ntitle=t\ndescription=d\nports=3/tcp\n"
			    "[on]\ntitle=t\ndescription=d\nports=4/tcp\n"
			    "[limit]\ntitle=t\ndescription=d\nports=5/tcp\n");
	assert_true(r->ok);
	assert_string_equal(r->set.apps.v[0]->name, "msn-ssl");
	assert_string_equal(r->set.apps.v[1]->name, "msn-ssl-2");
	assert_string_equal(r->set.apps.v[2]->name, "_0-a.d");
	assert_string_equal(r->set.apps.v[3]->name, "flow-app");
	assert_string_equal(r->set.apps.v[4]->name, "any-app");     /* `any` is every app */
	assert_string_equal(r->set.apps.v[5]->name, "default-app"); /* a zone's `default` */
	assert_string_equal(r->set.apps.v[6]->name, "on-app");      /* `on LOCAL` */
	assert_string_equal(r->set.apps.v[7]->name, "limit-app");   /* a rate limit */
	assert_non_null(find_diag(r, SEV_NOTE, "both make the app name 'msn-ssl'"));
	char *text = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);
	import_write(&r->set, IMPORT_UFW, m);
	fclose(m);
	assert_non_null(strstr(text, "app msn-ssl \"a 'quoted' title\" {"));
	char *policy = xasprintf("%sallow msn-ssl, msn-ssl-2, _0-a.d, flow-app, any-app, default-app, on-app, limit-app server;\n", text);
	bool ok;
	struct compilation *c = unit_compile(policy, &ok);
	if (!ok)
		diag_print(&c->diags, stderr);
	assert_true(ok);
	unit_free(c);
	free(policy);
	free(text);
	run_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(firehol_services),
		cmocka_unit_test(firehol_notes_and_errors),
		cmocka_unit_test(ufw_profiles),
		cmocka_unit_test(firewalld_services),
		cmocka_unit_test(names_and_text_compile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
