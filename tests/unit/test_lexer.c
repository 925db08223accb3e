/* Lexer: token kinds, locations, flow-only vocabulary, and range checks at the token. */
#include "unit.h"
#include "parser.h"
#include "scanner.h"

struct lexed {
	int kind[32];
	struct loc loc[32];
	int n;
	struct diags diags;
	struct source src;
};

static void lex(const char *text, struct lexed *out)
{
	memset(out, 0, sizeof(*out));
	out->src = (struct source){.name = "t.pin", .text = (char *)text, .len = strlen(text)};
	struct scan_extra x = {.src = &out->src, .diags = &out->diags, .line = 1, .col = 1};
	yyscan_t sc;
	assert_int_equal(yylex_init_extra(&x, &sc), 0);
	YY_BUFFER_STATE b = yy_scan_bytes(text, (int)strlen(text), sc);
	YYSTYPE v;
	YYLTYPE l;
	int k;
	while ((k = yylex(&v, &l, sc)) != 0 && out->n < 32) {
		out->kind[out->n] = k;
		out->loc[out->n++] = l;
		if (k == TOK_IDENT || k == TOK_STRING || k == TOK_ADDR)
			free(v.str);
	}
	yy_delete_buffer(b, sc);
	yylex_destroy(sc);
}

static void test_keywords_and_names(void **state)
{
	(void)state;
	struct lexed t;
	lex("allow msn, nfs-3 client to 10.0.0.0/8;", &t);
	int want[] = {TOK_ALLOW, TOK_IDENT, ',', TOK_IDENT, TOK_CLIENT, TOK_TO, TOK_ADDR, ';'};
	assert_int_equal(t.n, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(t.kind[i], want[i]);
	assert_int_equal(t.loc[3].first_column, 12);
	assert_int_equal(t.loc[3].last_column, 16);
	assert_int_equal(t.diags.errors, 0);
	diag_free(&t.diags);
}

static void test_locations_across_lines_and_comments(void **state)
{
	(void)state;
	struct lexed t;
	lex("# comment\n  allow ssh server; # trailing\n\tdeny tcp/23 server;", &t);
	assert_int_equal(t.kind[0], TOK_ALLOW);
	assert_int_equal(t.loc[0].first_line, 2);
	assert_int_equal(t.loc[0].first_column, 3);
	assert_int_equal(t.kind[4], TOK_DENY);
	assert_int_equal(t.loc[4].first_line, 3);
	assert_int_equal(t.loc[4].first_column, 2);
	assert_int_equal(t.kind[5], TOK_PORTLIT);
	diag_free(&t.diags);
}

static void test_flow_vocabulary_only_inside_flow(void **state)
{
	(void)state;
	struct lexed t;
	/* Outside a flow, "tcp" and "source"-like words of the flow are plain names... */
	lex("allow tcp client;", &t);
	assert_int_equal(t.kind[1], TOK_IDENT);
	diag_free(&t.diags);
	/* ...inside, they are keywords until the ';'. */
	lex("flow a: client -> server tcp dport 21 helper \"ftp\"; allow tcp client;", &t);
	int want[] = {TOK_FLOW_KW, TOK_IDENT, ':', TOK_CLIENT, TOK_ARROW, TOK_SERVER, TOK_TCP,
		      TOK_DPORT, TOK_PORTRANGE, TOK_HELPER, TOK_STRING, ';', TOK_ALLOW, TOK_IDENT};
	assert_int_equal(t.n, 16);
	for (int i = 0; i < 14; i++)
		assert_int_equal(t.kind[i], want[i]);
	diag_free(&t.diags);
}

static void test_port_range_checked_at_token(void **state)
{
	(void)state;
	struct lexed t;
	lex("allow tcp/70000 server;", &t);
	assert_int_equal(t.diags.errors, 1);
	assert_non_null(strstr(t.diags.v[0].msg, "70000 out of range"));
	assert_int_equal(t.diags.v[0].loc.first_column, 7);
	diag_free(&t.diags);
	lex("flow a: client -> server udp dport 6889-6881;", &t);
	assert_int_equal(t.diags.errors, 1);
	assert_non_null(strstr(t.diags.v[0].msg, "backwards"));
	diag_free(&t.diags);
}

static void test_addresses(void **state)
{
	(void)state;
	struct lexed t;
	lex("define a = 10.0.0.0/8, fd00:a::/64, ::1, 10.0.0.300;", &t);
	int want[] = {TOK_DEFINE, TOK_IDENT, '=', TOK_ADDR, ',', TOK_ADDR, ',', TOK_ADDR, ',', TOK_ADDR, ';'};
	assert_int_equal(t.n, 11);
	for (int i = 0; i < 11; i++)
		assert_int_equal(t.kind[i], want[i]);
	diag_free(&t.diags);
}

static void test_junk_reported(void **state)
{
	(void)state;
	struct lexed t;
	lex("allow ssh @ client;", &t);
	assert_int_equal(t.diags.errors, 1);
	assert_non_null(strstr(t.diags.v[0].msg, "unexpected character '@'"));
	assert_int_equal(t.diags.v[0].loc.first_column, 11);
	diag_free(&t.diags);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keywords_and_names),
		cmocka_unit_test(test_locations_across_lines_and_comments),
		cmocka_unit_test(test_flow_vocabulary_only_inside_flow),
		cmocka_unit_test(test_port_range_checked_at_token),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_junk_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
