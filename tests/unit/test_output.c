/* What the commands print, caught in memory: `apps` (the list, one app, an unknown name),
 * `status` (a match and a difference report between two snapshots built here), and explain's
 * caret under a bad packet, which is diag.c's caret printer. */
#include <linux/netfilter.h>
#include <sys/stat.h>

#include "live.h"
#include "nft_netlink.h"
#include "nft_nldiff.h"
#include "packet.h"
#include "unit.h"

/* ---- apps, against a library of two made-up apps ---- */

static const char *const test_apps =
	"app tv \"Test video\" alias television {\n"
	"    source \"made up\";\n"
	"    flow control: client -> server tcp dport 5000 source \"the control port\";\n"
	"    flow data: server -> client udp dport 6000-6001 negotiated tv on control;\n"
	"    flow probe: client -> server tcp dport 81 reject;\n"
	"}\n"
	"app suite \"A bundle\" {\n"
	"    uses tv;\n"
	"    flow mail: client -> server tcp dport 25;\n"
	"}\n";

struct lib_fixture {
	char dir[32], file[64];
	struct compilation c;
};

static void lib_open(struct lib_fixture *f)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/pinhole-unit-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->file, sizeof(f->file), "%s/test.pin", f->dir);
	FILE *w = fopen(f->file, "w");
	assert_non_null(w);
	fputs(test_apps, w);
	fclose(w);
	const char *dirs[] = {f->dir};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1};
	bool ok = compile_library(&o, &f->c);
	if (!ok)
		diag_print(&f->c.diags, stderr);
	assert_true(ok);
}

static void lib_close(struct lib_fixture *f)
{
	compilation_free(&f->c);
	unlink(f->file);
	rmdir(f->dir);
}

static void test_apps_list(void **state)
{
	(void)state;
	struct lib_fixture f;
	lib_open(&f);
	struct unit_capture out;
	apps_list(&f.c.lib, unit_capture_open(&out));
	char *text = unit_captured(&out);
	assert_string_equal(text, "suite              A bundle\n"
				  "tv                 Test video\n");
	free(text);
	lib_close(&f);
}

static void test_apps_show(void **state)
{
	(void)state;
	struct lib_fixture f;
	lib_open(&f);
	struct unit_capture out, err;
	assert_int_equal(apps_report(&f.c.lib, "suite", unit_capture_open(&out), unit_capture_open(&err)), EXIT_OK);
	char *text = unit_captured(&out), *errs = unit_captured(&err);
	struct strbuf want = {0};
	sb_printf(&want,
		  "suite: A bundle\n"
		  "  defined: %s:7\n"
		  "  uses:    tv\n"
		  "  allow suite client: opens mail, tv/control; accepts tv/data\n"
		  "  allow suite server: opens tv/data; accepts mail, tv/control; rejects tv/probe\n"
		  "  flows:\n"
		  "    mail               client -> server tcp dport 25\n"
		  "    tv/control         client -> server tcp dport 5000\n"
		  "                       from app tv (%s:3)\n"
		  "                       source: the control port\n"
		  "    tv/data            server -> client udp dport 6000-6001 negotiated tv on control\n"
		  "                       from app tv (%s:4)\n"
		  "                       the port is negotiated at run time; the ports above are the static fallback,\n"
		  "                       scoped: open only to peers that used flow control with this host\n"
		  "                       within the last 10m (on a gateway: to the servers its clients used)\n"
		  "    tv/probe           client -> server tcp dport 81 reject\n"
		  "                       from app tv (%s:5)\n"
		  "                       answered at once (TCP reset, ICMP port unreachable) unless another rule allows it\n",
		  f.file, f.file, f.file, f.file);
	assert_string_equal(text, want.s);
	assert_string_equal(errs, "");
	free(text);
	free(errs);

	/* an alias finds the app; the header shows the aliases */
	assert_int_equal(apps_report(&f.c.lib, "television", unit_capture_open(&out), unit_capture_open(&err)), EXIT_OK);
	text = unit_captured(&out);
	errs = unit_captured(&err);
	assert_true(!strncmp(text, "tv: Test video\n  aliases: television\n", 37));
	assert_non_null(strstr(text, "\n  source:  made up\n"));
	free(text);
	free(errs);
	sb_free(&want);
	lib_close(&f);
}

static void test_apps_unknown(void **state)
{
	(void)state;
	struct lib_fixture f;
	lib_open(&f);
	struct unit_capture out, err;
	assert_int_equal(apps_report(&f.c.lib, "suit", unit_capture_open(&out), unit_capture_open(&err)), EXIT_BAD_INPUT);
	char *text = unit_captured(&out), *errs = unit_captured(&err);
	assert_string_equal(text, "");
	assert_string_equal(errs, "pinhole apps: error: no app 'suit'; did you mean 'suite'?\n");
	free(text);
	free(errs);
	lib_close(&f);
}

/* ---- status: two snapshots built from policies, as the kernel would hold them ---- */

/* Compiles `text` as file `path` (the rules' comments name it, so two snapshots of one file
 * compare equal where the policies agree). */
static struct compilation *compile_at(const char *path, const char *text)
{
	FILE *w = fopen(path, "w");
	assert_non_null(w);
	fputs(text, w);
	fclose(w);
	static const char *dirs[] = {UNIT_LIBDIR};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1};
	struct compilation *c = malloc(sizeof(*c));
	bool ok = compile_policy(path, &o, c);
	if (!ok)
		diag_print(&c->diags, stderr);
	assert_true(ok);
	return c;
}

/* A policy file's place: a fresh directory, so its name is known. */
struct policy_file {
	char dir[32], path[48];
};

static void policy_file(struct policy_file *p)
{
	snprintf(p->dir, sizeof(p->dir), "/tmp/pinhole-unit-XXXXXX");
	assert_non_null(mkdtemp(p->dir));
	snprintf(p->path, sizeof(p->path), "%s/fw.pin", p->dir);
}

static void policy_file_remove(struct policy_file *p)
{
	unlink(p->path);
	rmdir(p->dir);
}

/* The snapshot a policy compiles to; *c keeps its IR alive (the snapshot points into it). */
static void snapshot(const char *path, const char *policy, struct compilation **c, struct nl_ruleset *rs)
{
	*c = compile_at(path, policy);
	assert_int_equal(nl_from_ir(&(*c)->ir, rs), 0);
}

/* `text` with every occurrence of `path` (a temporary file name) written as "POLICY". */
static char *unpath(const char *text, const char *path)
{
	struct strbuf sb = {0};
	size_t n = strlen(path);
	for (const char *p = text, *q; *p; p = q + n) {
		q = strstr(p, path);
		if (!q) {
			sb_puts(&sb, p);
			break;
		}
		sb_printf(&sb, "%.*sPOLICY", (int)(q - p), p);
	}
	return sb.s ? sb_steal(&sb) : xstrdup("");
}

static void test_status_matches(void **state)
{
	(void)state;
	struct policy_file pf;
	policy_file(&pf);
	struct compilation *c;
	struct nl_ruleset want;
	snapshot(pf.path, "allow ssh server;\n", &c, &want);
	struct nl_counts k = nl_count(&want);
	struct unit_capture out;
	assert_int_equal(status_report(&want, &want, "fw.pin", unit_capture_open(&out)), 0);
	char *text = unit_captured(&out);
	char expect[200];
	snprintf(expect, sizeof(expect),
		 "table inet pinhole matches fw.pin (%zu rules in %zu chains, %zu sets, %zu helpers)\n", k.rules,
		 k.chains, k.sets, k.objs);
	assert_string_equal(text, expect);
	assert_true(k.rules > 0 && k.chains == 7); /* input, forward, output; the ICMP rules' 4 */
	free(text);
	nl_ruleset_free(&want);
	unit_free(c);
	policy_file_remove(&pf);
}

static void test_status_differs(void **state)
{
	(void)state;
	struct policy_file pf;
	policy_file(&pf);
	struct compilation *ca, *cb;
	struct nl_ruleset a, b;
	snapshot(pf.path, "define office = 10.0.0.0/8;\nallow ssh server from office;\nallow dns client;\n", &ca, &a);
	snapshot(pf.path, "define office = 10.0.0.0/16;\nallow ssh server from office;\n", &cb, &b);
	struct unit_capture out;
	assert_int_equal(status_report(&a, &b, "fw.pin", unit_capture_open(&out)), 3);
	char *raw = unit_captured(&out);
	char *text = unpath(raw, pf.path);
	assert_string_equal(text,
		"table inet pinhole differs from fw.pin (3 differences):\n"
		"  set office_v4 differs:\n"
		"      kernel: type ipv4_addr len 4 interval { 10.0.0.0/16 }\n"
		"      policy: type ipv4_addr len 4 interval { 10.0.0.0/8 }\n"
		"  chain output: rule missing from the kernel: udp dport 53 accept  (POLICY:3 dns flow query [dns.pin:3])\n"
		"  chain output: rule missing from the kernel: tcp dport 53 accept  (POLICY:3 dns flow query-tcp [dns.pin:5])\n");
	free(raw);
	free(text);

	/* nothing loaded at all: one difference */
	struct nl_ruleset empty;
	nl_ruleset_init(&empty, NFPROTO_INET, PINHOLE_TABLE);
	assert_int_equal(status_report(&a, &empty, "fw.pin", unit_capture_open(&out)), 1);
	text = unit_captured(&out);
	assert_string_equal(text, "table inet pinhole differs from fw.pin (1 difference):\n"
				  "  table inet pinhole is not loaded\n");
	free(text);
	nl_ruleset_free(&empty);
	nl_ruleset_free(&a);
	nl_ruleset_free(&b);
	unit_free(ca);
	unit_free(cb);
	policy_file_remove(&pf);
}

/* ---- explain's caret ---- */

static void test_explain_bad_packet(void **state)
{
	(void)state;
	struct compilation *c = unit_compile_ok("allow ssh server;\n");
	struct ir_state st = {0};
	struct unit_capture out, err;
	assert_int_equal(explain_packet(c, &st, "tcp 1.2.3.4:1 -> 1.2.3.5:2 up", false, NULL, 0, unit_capture_open(&out),
					unit_capture_open(&err)),
			 EXIT_BAD_INPUT);
	char *text = unit_captured(&out), *errs = unit_captured(&err);
	assert_string_equal(text, "");
	assert_string_equal(errs, "pinhole explain: error: packet: direction must be in, out or fwd\n"
				  "  tcp 1.2.3.4:1 -> 1.2.3.5:2 up\n"
				  "                             ^\n");
	free(text);
	free(errs);
	ir_state_free(&st);
	unit_free(c);
}

static void test_explain_batch_errors(void **state)
{
	(void)state;
	struct policy_file pf;
	policy_file(&pf);
	struct compilation *c = compile_at(pf.path, "allow ssh server;\n");
	static const char input[] = "tcp 1.2.3.4:1 -> 1.2.3.5:22 in\n"
				    "# a comment, then a bad line and a tab-separated bad line\n"
				    "bad packet\n"
				    "\ttcp\t1.2.3.4:x -> 1.2.3.5:2 in\n"
				    "udp 1.2.3.4:1 -> 1.2.3.5:2 in\n";
	FILE *in = fmemopen((void *)input, sizeof(input) - 1, "r");
	assert_non_null(in);
	struct unit_capture out, err;
	assert_int_equal(explain_batch(c, in, "<stdin>", true, unit_capture_open(&out), unit_capture_open(&err)),
			 EXIT_BAD_INPUT);
	fclose(in);
	char *text = unit_captured(&out), *errs = unit_captured(&err);
	char *brief = unpath(text, pf.path);
	/* one answer per packet line, errors included, so the answers stay in step */
	assert_string_equal(brief, "accept POLICY:1\nerror\nerror\ndrop default\n");
	/* the caret stays under the column: a tab is quoted as one space */
	assert_string_equal(errs, "<stdin>:3:5: error: a packet is: PROTO SRC -> DST in|out|fwd [flags] "
				  "(e.g. tcp 192.0.2.7:40000 -> 10.0.0.5:22 in)\n"
				  "bad packet\n"
				  "    ^\n"
				  "<stdin>:4:6: error: 'x' is not a port (0-65535)\n"
				  " tcp 1.2.3.4:x -> 1.2.3.5:2 in\n"
				  "     ^\n");
	free(text);
	free(brief);
	free(errs);
	unit_free(c);
	policy_file_remove(&pf);
}

/* diag_caret is the one caret line: long text is cut around the column as for policy lines. */
static void test_caret_long_packet(void **state)
{
	(void)state;
	struct strbuf line = {0};
	for (int i = 0; i < 30; i++)
		sb_puts(&line, "abcd ");
	struct unit_capture out;
	diag_caret(unit_capture_open(&out), "  ", line.s, line.len, 121, 3);
	char *text = unit_captured(&out);
	/* 150 columns, caret at 121: the quote is cut to columns 71-150, after "..." */
	struct strbuf want = {0};
	sb_printf(&want, "  ...%s\n  %53s^~~\n", line.s + 70, "");
	assert_string_equal(text, want.s);
	sb_free(&want);
	free(text);
	sb_free(&line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apps_list),
		cmocka_unit_test(test_apps_show),
		cmocka_unit_test(test_apps_unknown),
		cmocka_unit_test(test_status_matches),
		cmocka_unit_test(test_status_differs),
		cmocka_unit_test(test_explain_bad_packet),
		cmocka_unit_test(test_explain_batch_errors),
		cmocka_unit_test(test_caret_long_packet),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
