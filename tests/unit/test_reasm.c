/* TCP reassembly (runtime/proto/reasm.c), alone and in front of a parser. */
#include "proto_feed.h"

struct sink {
	uint8_t b[40000];
	size_t n;
	int calls, fail_after;
};

static int collect(void *ctx, const uint8_t *d, size_t len)
{
	struct sink *s = ctx;
	assert_true(len > 0 && s->n + len <= sizeof(s->b));
	memcpy(s->b + s->n, d, len);
	s->n += len;
	return ++s->calls == s->fail_after ? -1 : 0;
}

static int seg(struct ph_reasm *r, uint32_t seq, const char *d, struct sink *s)
{
	return ph_reasm_segment(r, seq, (const uint8_t *)d, strlen(d), collect, s);
}

static void test_order_retransmit_overlap(void **state)
{
	(void)state;
	static const uint32_t isns[] = {1000, 0xfffffffau}; /* the second wraps inside the text */
	for (size_t k = 0; k < 2; k++) {
		uint32_t isn = isns[k];
		struct ph_reasm *r = ph_reasm_new(isn);
		struct sink s = {0};
		/* "hello world, again": out of order, retransmitted, overlapping */
		assert_int_equal(seg(r, isn + 6, "world", &s), 0);
		assert_int_equal(s.n, 0);
		assert_int_equal(seg(r, isn + 6, "world", &s), 0); /* the same again */
		assert_int_equal(seg(r, isn + 8, "rld, ag", &s), 0); /* overlaps what waits, agrees */
		assert_int_equal(s.n, 0);
		assert_int_equal(seg(r, isn, "hello ", &s), 0);
		assert_int_equal(s.n, 15);
		assert_memory_equal(s.b, "hello world, ag", 15);
		assert_int_equal(seg(r, isn, "hello ", &s), 0); /* all old: dropped */
		assert_int_equal(seg(r, isn + 13, "again", &s), 0); /* half old, half new */
		assert_int_equal(s.n, 18);
		assert_memory_equal(s.b, "hello world, again", 18);
		assert_int_equal(seg(r, isn + 18, "", &s), 0);
		ph_reasm_free(r);
	}
}

static void test_conflicts_kill(void **state)
{
	(void)state;
	struct sink s = {0};
	/* Differs from bytes waiting; differs from bytes delivered (a low-TTL copy only the
	 * firewall saw, then the real one); lies beyond the window with a hole before it. */
	struct ph_reasm *r = ph_reasm_new(1);
	assert_int_equal(seg(r, 10, "5000", &s), 0);
	assert_int_equal(seg(r, 10, "6000", &s), -1);
	assert_int_equal(seg(r, 1, "abcdefghi", &s), -1); /* dead is forever */
	ph_reasm_free(r);
	r = ph_reasm_new(1);
	assert_int_equal(seg(r, 1, "PORT 5000", &s), 0);
	assert_int_equal(seg(r, 6, "6000", &s), -1);
	ph_reasm_free(r);
	r = ph_reasm_new(1);
	assert_int_equal(seg(r, 1 + PH_REASM_WINDOW - 2, "ab", &s), 0); /* the window's last bytes */
	assert_int_equal(seg(r, 1 + PH_REASM_WINDOW - 2, "abc", &s), -1);
	ph_reasm_free(r);
	/* The parser says stop. */
	s = (struct sink){.fail_after = 2};
	r = ph_reasm_new(1);
	assert_int_equal(seg(r, 1, "a", &s), 0);
	assert_int_equal(seg(r, 2, "b", &s), -1);
	ph_reasm_free(r);
}

static void test_big_and_window(void **state)
{
	(void)state;
	/* An in-order segment larger than the window is delivered; what waited behind it too. */
	static uint8_t big[3 * PH_REASM_WINDOW];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	struct sink *s = calloc(1, sizeof(*s));
	struct ph_reasm *r = ph_reasm_new(0);
	assert_int_equal(ph_reasm_segment(r, 100, big + 100, 50, collect, s), 0);
	assert_int_equal(ph_reasm_segment(r, 0, big, 100, collect, s), 0);
	assert_int_equal(s->n, 150);
	assert_int_equal(ph_reasm_segment(r, 0, big, sizeof(big), collect, s), 0);
	assert_int_equal(s->n, sizeof(big));
	assert_memory_equal(s->b, big, sizeof(big));
	/* Its tail is the history: a retransmission of it agrees, one that differs kills. */
	assert_int_equal(ph_reasm_segment(r, sizeof(big) - 10, big + sizeof(big) - 10, 10, collect, s), 0);
	uint8_t wrong = (uint8_t)(big[sizeof(big) - 1] + 1);
	assert_int_equal(ph_reasm_segment(r, sizeof(big) - 1, &wrong, 1, collect, s), -1);
	ph_reasm_free(r);
	free(s);
}

/* In front of the IRC parser: a DCC line in three segments, arriving 3, 1, 1 (again), 2. */
struct chain {
	struct ph_conn *c;
	struct ph_offer out[16];
	size_t n;
};

static int to_parser(void *ctx, const uint8_t *d, size_t len)
{
	struct chain *ch = ctx;
	int r = ph_conn_feed(ch->c, PH_ORIG, d, len, ch->out + ch->n, 16 - ch->n);
	if (r < 0)
		return -1;
	ch->n += (size_t)r;
	return 0;
}

static void test_through_the_parser(void **state)
{
	(void)state;
	static const char line[] = "PRIVMSG bob :\001DCC SEND f 3232235777 5000 1\001\r\n";
	size_t a = 10, b = 30, n = sizeof(line) - 1;
	uint32_t isn = 0xffffffe0u;
	struct chain ch = {ph_conn_new(PH_PROTO_IRC, IPPROTO_TCP), {{0}}, 0};
	struct ph_reasm *r = ph_reasm_new(isn);
	const uint8_t *l = (const uint8_t *)line;
	assert_int_equal(ph_reasm_segment(r, isn + (uint32_t)b, l + b, n - b, to_parser, &ch), 0);
	assert_int_equal(ph_reasm_segment(r, isn, l, a, to_parser, &ch), 0);
	assert_int_equal(ph_reasm_segment(r, isn, l, a, to_parser, &ch), 0);
	assert_int_equal(ch.n, 0);
	assert_int_equal(ph_reasm_segment(r, isn + (uint32_t)a, l + a, b - a, to_parser, &ch), 0);
	assert_int_equal(ch.n, 1);
	assert_int_equal(ch.out[0].port_lo, 5000);
	/* The whole line retransmitted: nothing twice. */
	assert_int_equal(ph_reasm_segment(r, isn, l, n, to_parser, &ch), 0);
	assert_int_equal(ch.n, 1);
	ph_reasm_free(r);
	ph_conn_free(ch.c);

	/* Slipstream: the firewall sees "5000" first, then a copy claiming "6000" for the same
	 * bytes; whichever the host kept, the stream dies and nothing more is opened. */
	ch = (struct chain){ph_conn_new(PH_PROTO_IRC, IPPROTO_TCP), {{0}}, 0};
	r = ph_reasm_new(1);
	static const char other[] = "PRIVMSG bob :\001DCC SEND f 3232235777 6000 1\001\r\n";
	assert_int_equal(ph_reasm_segment(r, 1 + 20, l + 20, n - 20, to_parser, &ch), 0);
	assert_int_equal(ph_reasm_segment(r, 1 + 20, (const uint8_t *)other + 20, n - 20, to_parser, &ch), -1);
	assert_int_equal(ch.n, 0);
	ph_reasm_free(r);
	ph_conn_free(ch.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_retransmit_overlap),
		cmocka_unit_test(test_conflicts_kill),
		cmocka_unit_test(test_big_and_window),
		cmocka_unit_test(test_through_the_parser),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
