/* Shared helpers for the cmocka unit tests: compile policy text in memory. */
#ifndef PINHOLE_UNIT_H
#define PINHOLE_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "compile.h"
#include "packet.h"

/* The library of the source tree, whatever the test's working directory. */
#ifndef UNIT_LIBDIR
#define UNIT_LIBDIR "stdlib-apps"
#endif

/* Writes `text` to a temporary policy file and compiles it; returns the compilation
 * (caller frees with unit_free). *ok says whether compilation succeeded. */
static inline struct compilation *unit_compile_with(const char *text, bool *ok, bool analyze)
{
	char path[] = "/tmp/pinhole-unit-XXXXXX.pin";
	int fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	size_t len = strlen(text);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	static const char *dirs[] = {UNIT_LIBDIR};
	struct compile_opts o = {.libdirs = dirs, .nlibdirs = 1, .analyze = analyze};
	struct compilation *c = malloc(sizeof(*c));
	*ok = compile_policy(path, &o, c);
	unlink(path);
	return c;
}

/* As `pinhole compile` does: no whole-policy analysis. */
static inline struct compilation *unit_compile(const char *text, bool *ok)
{
	return unit_compile_with(text, ok, false);
}

static inline void unit_free(struct compilation *c)
{
	compilation_free(c);
	free(c);
}

/* Compiles `text` and fails the test (printing the diagnostics) unless it compiles. */
static inline struct compilation *unit_compile_ok(const char *text)
{
	bool ok;
	struct compilation *c = unit_compile(text, &ok);
	if (!ok)
		diag_print(&c->diags, stderr);
	assert_true(ok);
	return c;
}

/* The rules of one hook, built-ins left out, as nft text, one per line (caller frees). */
static inline char *unit_rules_of(const struct compilation *c, enum ir_hook hook)
{
	struct strbuf sb = {0};
	for (size_t i = 0; i < c->ir.rules.n; i++) {
		const struct ir_rule *r = &c->ir.rules.v[i];
		if (r->hook != hook || r->origin.builtin)
			continue;
		char *t = nft_rule_text(&c->ir, r);
		sb_printf(&sb, "%s\n", t);
		free(t);
	}
	return sb_steal(&sb);
}

/* A ruleset that is a view of one rule (nothing of it is owned: never ir_ruleset_free it). */
static inline struct ir_ruleset unit_ruleset_of(struct ir_rule *r)
{
	struct ir_ruleset rs = {0};
	rs.rules.v = r;
	rs.rules.n = rs.rules.cap = 1;
	return rs;
}

/* The nft text of a hand-built rule, named as a ruleset of that rule alone declares it. */
static inline char *unit_rule_text(const struct ir_rule *r)
{
	struct ir_ruleset rs = unit_ruleset_of((struct ir_rule *)r);
	return nft_rule_text(&rs, r);
}

/* Puts an address match (IR_M_SADDR / IR_M_DADDR) of copies of `v`, named `name` (or NULL). */
static inline void unit_set_addrs(struct ir_rule *r, enum ir_match_kind k, const char *name,
				  const struct ir_prefix *v, size_t n)
{
	struct ir_addrset src = {(char *)name, n, (struct ir_prefix *)v};
	ir_addrset_copy(&ir_match_put(r, k)->u.addrs, &src);
}

/* First diagnostic message containing `needle`, or NULL. */
static inline const struct diag *unit_find_diag(const struct compilation *c, const char *needle)
{
	for (size_t i = 0; i < c->diags.n; i++)
		if (strstr(c->diags.v[i].msg, needle))
			return &c->diags.v[i];
	return NULL;
}

/* Output caught in memory: unit_capture_open gives a printer its stream, unit_captured closes
 * it and returns what was written (caller frees). */
struct unit_capture {
	FILE *f;
	char *buf;
	size_t len;
};

static inline FILE *unit_capture_open(struct unit_capture *c)
{
	c->buf = NULL;
	c->len = 0;
	c->f = open_memstream(&c->buf, &c->len);
	assert_non_null(c->f);
	return c->f;
}

static inline char *unit_captured(struct unit_capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->buf;
}

/* The verdict of the compiled IR for one packet written as explain reads it
 * ("tcp 10.0.0.1:40000 -> 10.0.0.2:22 in"). */
static inline struct ir_verdict unit_eval_text(const struct compilation *c, const char *pkt)
{
	static struct packet_text pt; /* static: the packet points into it */
	char *why = NULL;
	int col;
	if (!packet_parse(pkt, &pt, &why, &col))
		fail_msg("bad packet '%s': %s", pkt, why);
	return ir_eval(&c->ir, &pt.pkt);
}

#endif
