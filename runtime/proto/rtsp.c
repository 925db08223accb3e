/* RTSP (RFC 2326) SETUP: the client's request names the client_port pair it will receive on
 * (Transport, section 12.39), the server's "RTSP/1.0 200" reply with the same CSeq (section
 * 12.17) says which pair it will send to and names its own (server_port). The reply is
 * authoritative (it may change the ports); it opens its client_port range, UDP, on the
 * receiver (the client), and its server_port range, UDP, on the sender (the server: RTCP
 * receiver reports, RECORD media).
 *
 * Framing: a start line, header lines, an empty line, then Content-Length bytes of body
 * (section 4.3), skipped unread; between messages, interleaved binary frames ("$", channel,
 * 16-bit length, section 10.12) are skipped by their length. Lines end at CR, LF or CR LF
 * (section 4) and are bounded by PH_LINE_MAX; a header continued on lines that start with a
 * space or tab (RFC 822 folding, allowed by section 4.2's reference to RFC 2068) is joined,
 * within the same bound, because a peer that unfolds would otherwise read a Transport or
 * CSeq the parser did not. What kills the connection: a start line that is neither request
 * nor response, a header line without a name and colon, a bad or repeated CSeq, Content-Length
 * values that disagree or exceed PH_RTSP_BODY_MAX, a longer line or header.
 *
 * Transports that open nothing: a lower transport other than UDP (RTP/AVP/TCP, interleaved),
 * "multicast", a spec with two client_ports or two server_ports, a range that runs backwards
 * or holds 0. A destination parameter is ignored: the pinhole is for the receiver's own address, so data
 * sent elsewhere gains nothing here. Only RTSP/1.0 replies are read (RTSP 2.0, RFC 7826,
 * names addresses differently). */
#include <netinet/in.h>
#include <string.h>

#include "proto_int.h"

#define PH_RTSP_BODY_MAX (1u << 20) /* bodies are skipped, never held: a sanity bound */
#define RTSP_SETUPS 8               /* outstanding SETUPs per connection */

enum rtsp_mode { R_START, R_HEADERS, R_BODY, R_FRAME_HDR, R_FRAME };

struct rtsp_stream {
	struct ph_line line;
	enum rtsp_mode mode;
	uint32_t left;    /* body or frame bytes still to skip */
	uint8_t frame_hdr; /* bytes of "$" ch len16 seen */
	uint8_t frame_len[2];
	/* the message being read */
	bool request, setup, response, v10, have_cseq, have_clen;
	unsigned status;
	uint32_t cseq, clen;
	size_t hdr_len; /* the header being read (it may go on, folded) */
	char hdr[PH_LINE_MAX + 1];
	size_t tr_len; /* Transport values of a reply, comma-joined */
	char tr[PH_LINE_MAX + 1];
};

struct rtsp_setup {
	bool used;
	uint32_t cseq;
	uint64_t age;
};

struct rtsp_state {
	struct rtsp_stream dir[2];
	struct rtsp_setup setups[RTSP_SETUPS];
	uint64_t clock;
};

static int rtsp_init(void *st, uint8_t l4proto)
{
	(void)st;
	return l4proto == IPPROTO_TCP ? 0 : -1;
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
}

/* RFC 2326 section 15: token = 1*<any CHAR except CTLs or tspecials>. */
static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c))
			return false;
	}
	return true;
}

static int start_line(struct rtsp_stream *s, const char *l, size_t n)
{
	s->request = s->setup = s->response = s->v10 = s->have_cseq = s->have_clen = false;
	s->status = 0;
	s->hdr_len = s->tr_len = 0;
	const char *sp1 = memchr(l, ' ', n);
	if (!sp1)
		return -1;
	if (ph_has_prefix(l, n, "RTSP/")) {
		/* RTSP/d.d SP 3DIGIT [SP reason] */
		const char *v = l + 5;
		size_t vn = (size_t)(sp1 - v);
		const char *dot = memchr(v, '.', vn);
		uint64_t x;
		if (!dot || ph_parse_uint(v, (size_t)(dot - v), 9, &x) < 0 ||
		    ph_parse_uint(dot + 1, (size_t)(sp1 - dot - 1), 9, &x) < 0)
			return -1;
		const char *code = sp1 + 1;
		size_t rest = (size_t)(l + n - code);
		if (rest < 3 || (rest > 3 && code[3] != ' ') || ph_parse_uint(code, 3, 999, &x) < 0 || x < 100)
			return -1;
		s->response = true;
		s->v10 = vn == 3 && memcmp(v, "1.0", 3) == 0;
		s->status = (unsigned)x;
		return 0;
	}
	/* Method SP Request-URI SP RTSP-Version */
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(l + n - sp1 - 1));
	if (!sp2 || !is_token(l, (size_t)(sp1 - l)) || sp2 == sp1 + 1 ||
	    !ph_has_prefix(sp2 + 1, (size_t)(l + n - sp2 - 1), "RTSP/") ||
	    memchr(sp2 + 1, ' ', (size_t)(l + n - sp2 - 1)))
		return -1;
	s->request = true;
	s->setup = (size_t)(sp1 - l) == 5 && memcmp(l, "SETUP", 5) == 0; /* methods are case-sensitive */
	return 0;
}

static int header(struct rtsp_stream *s)
{
	const char *h = s->hdr, *end = s->hdr + s->hdr_len;
	const char *colon = memchr(h, ':', s->hdr_len);
	if (!colon || !is_token(h, (size_t)(colon - h)))
		return -1;
	size_t nn = (size_t)(colon - h);
	const char *v = colon + 1, *ve = end;
	trim(&v, &ve);
	size_t vn = (size_t)(ve - v);
	uint64_t x;
	if (ph_word_eq(h, nn, "CSeq")) {
		if (s->have_cseq || ph_parse_uint(v, vn, 0xffffffffu, &x) < 0)
			return -1;
		s->have_cseq = true;
		s->cseq = (uint32_t)x;
	} else if (ph_word_eq(h, nn, "Content-Length")) {
		if (ph_parse_uint(v, vn, PH_RTSP_BODY_MAX, &x) < 0 || (s->have_clen && x != s->clen))
			return -1;
		s->have_clen = true;
		s->clen = (uint32_t)x;
	} else if (ph_word_eq(h, nn, "Transport") && s->response) {
		if (s->tr_len + 1 + vn > PH_LINE_MAX)
			return -1;
		if (s->tr_len)
			s->tr[s->tr_len++] = ',';
		memcpy(s->tr + s->tr_len, v, vn);
		s->tr_len += vn;
	}
	return 0;
}

/* "a[-b]" after a parameter's '=': the range, or false (0, 65536+, backwards, not a number). */
static bool port_range(const char *v, const char *e, uint16_t *lo, uint16_t *hi)
{
	const char *dash = memchr(v, '-', (size_t)(e - v));
	uint64_t a, b;
	if (ph_parse_uint(v, (size_t)((dash ? dash : e) - v), 65535, &a) < 0)
		return false;
	b = a;
	if (dash && ph_parse_uint(dash + 1, (size_t)(e - dash - 1), 65535, &b) < 0)
		return false;
	if (a == 0 || b < a)
		return false;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return true;
}

/* One transport-spec of a reply: up to two offers (client_port: the client receives there;
 * server_port: the server does, RTCP receiver reports and RECORD media), their number. */
static size_t transport(const char *t, const char *e, struct ph_offer o[2])
{
	const char *semi = memchr(t, ';', (size_t)(e - t));
	const char *pe = semi ? semi : e, *ps = t;
	trim(&ps, &pe);
	/* transport/profile[/lower-transport]: RTP/AVP is UDP by default (section 12.39). */
	const char *s1 = memchr(ps, '/', (size_t)(pe - ps));
	if (!s1)
		return 0;
	const char *s2 = memchr(s1 + 1, '/', (size_t)(pe - s1 - 1));
	bool udp;
	if (s2)
		udp = ph_word_eq(s2 + 1, (size_t)(pe - s2 - 1), "UDP");
	else
		udp = ph_word_eq(ps, (size_t)(s1 - ps), "RTP") || ph_word_eq(s1 + 1, (size_t)(pe - s1 - 1), "UDP");
	if (!udp)
		return 0;
	/* [0] client_port, [1] server_port: how often given, and whether the value was good */
	unsigned seen[2] = {0, 0};
	bool good[2] = {false, false};
	uint16_t lo[2] = {0, 0}, hi[2] = {0, 0};
	static const char *const names[2] = {"client_port=", "server_port="};
	for (const char *p = semi; p && p < e;) {
		p++;
		const char *next = memchr(p, ';', (size_t)(e - p));
		const char *ae = next ? next : e, *as = p;
		trim(&as, &ae);
		size_t an = (size_t)(ae - as);
		if (ph_word_eq(as, an, "multicast") || ph_has_prefix(as, an, "interleaved="))
			return 0;
		for (int k = 0; k < 2; k++)
			if (ph_has_prefix(as, an, names[k])) {
				seen[k]++;
				good[k] = port_range(as + 12, ae, &lo[k], &hi[k]);
			}
		p = next;
	}
	/* a port given twice is ambiguous (which one does the peer use?): the spec opens nothing */
	if (seen[0] > 1 || seen[1] > 1)
		return 0;
	size_t n = 0;
	for (int k = 0; k < 2; k++)
		if (seen[k] && good[k]) {
			o[n] = (struct ph_offer){.listener = k == 0 ? PH_LISTEN_RECEIVER : PH_LISTEN_SENDER,
						 .l4proto = IPPROTO_UDP, .port_lo = lo[k], .port_hi = hi[k],
						 .what = k == 0 ? "SETUP reply" : "SETUP reply server_port"};
			n++;
		}
	return n;
}

static struct rtsp_setup *setup_find(struct rtsp_state *st, uint32_t cseq)
{
	for (size_t i = 0; i < RTSP_SETUPS; i++)
		if (st->setups[i].used && st->setups[i].cseq == cseq)
			return &st->setups[i];
	return NULL;
}

static void end_of_headers(struct rtsp_state *st, struct rtsp_stream *s, enum ph_side side,
			   struct ph_sink *sink)
{
	if (!s->have_cseq)
		return;
	if (s->request && s->setup && side == PH_ORIG) {
		struct rtsp_setup *slot = setup_find(st, s->cseq);
		for (size_t i = 0; !slot && i < RTSP_SETUPS; i++)
			if (!st->setups[i].used)
				slot = &st->setups[i];
		if (!slot) {
			slot = &st->setups[0];
			for (size_t i = 1; i < RTSP_SETUPS; i++)
				if (st->setups[i].age < slot->age)
					slot = &st->setups[i];
		}
		*slot = (struct rtsp_setup){true, s->cseq, ++st->clock};
		return;
	}
	struct rtsp_setup *su = s->response && side == PH_REPLY ? setup_find(st, s->cseq) : NULL;
	if (!su)
		return;
	su->used = false;
	if (!s->v10 || s->status != 200)
		return;
	for (const char *t = s->tr, *e = s->tr + s->tr_len; t < e;) {
		const char *comma = memchr(t, ',', (size_t)(e - t));
		const char *te = comma ? comma : e;
		struct ph_offer o[2];
		size_t n = transport(t, te, o);
		for (size_t i = 0; i < n; i++)
			ph_sink_put(sink, &o[i]);
		t = comma ? comma + 1 : e;
	}
}

/* A line while reading headers: folded into the header before it, or a new header. */
static int header_line(struct rtsp_state *st, struct rtsp_stream *s, enum ph_side side,
		       struct ph_sink *sink)
{
	const char *l = s->line.buf;
	size_t n = s->line.len;
	if (n > 0 && (l[0] == ' ' || l[0] == '\t')) {
		const char *b = l, *e = l + n;
		trim(&b, &e);
		if (s->hdr_len == 0 || s->hdr_len + 1 + (size_t)(e - b) > PH_LINE_MAX)
			return -1;
		s->hdr[s->hdr_len++] = ' ';
		memcpy(s->hdr + s->hdr_len, b, (size_t)(e - b));
		s->hdr_len += (size_t)(e - b);
		return 0;
	}
	if (s->hdr_len && header(s) < 0)
		return -1;
	s->hdr_len = n;
	memcpy(s->hdr, l, n);
	if (n == 0) {
		end_of_headers(st, s, side, sink);
		s->left = s->have_clen ? s->clen : 0;
		s->mode = s->left ? R_BODY : R_START;
	}
	return 0;
}

static int rtsp_feed(void *stp, enum ph_side side, const uint8_t *data, size_t len, struct ph_sink *sink)
{
	struct rtsp_state *st = stp;
	struct rtsp_stream *s = &st->dir[side];
	const uint8_t *p = data, *end = data + len;
	while (p < end) {
		switch (s->mode) {
		case R_BODY:
		case R_FRAME: {
			if (!ph_line_skip_lf(&s->line, &p, end))
				return 0;
			size_t n = (size_t)(end - p) < s->left ? (size_t)(end - p) : s->left;
			p += n;
			s->left -= (uint32_t)n;
			if (s->left == 0)
				s->mode = R_START;
			continue;
		}
		case R_FRAME_HDR: {
			uint8_t b = *p++; /* after "$": the channel, then the length */
			if (s->frame_hdr > 0)
				s->frame_len[s->frame_hdr - 1] = b;
			if (++s->frame_hdr == 3) {
				s->left = (uint32_t)s->frame_len[0] << 8 | s->frame_len[1];
				s->mode = s->left ? R_FRAME : R_START;
			}
			continue;
		}
		case R_START:
			if (s->line.done || s->line.len == 0) { /* between lines */
				if (!ph_line_skip_lf(&s->line, &p, end))
					return 0;
				if (p < end && *p == '$') {
					p++;
					s->line.done = false;
					s->line.len = 0;
					s->frame_hdr = 0;
					s->mode = R_FRAME_HDR;
					continue;
				}
			}
			break;
		case R_HEADERS:
			break;
		}
		int r = ph_line_take(&s->line, &p, end, PH_EOL_ANY);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		if (s->mode == R_START) {
			if (s->line.len == 0)
				continue; /* an empty line between messages */
			if (start_line(s, s->line.buf, s->line.len) < 0)
				return -1;
			s->mode = R_HEADERS;
		} else if (header_line(st, s, side, sink) < 0) {
			return -1;
		}
	}
	return 0;
}

const struct ph_parser ph_rtsp_parser = {sizeof(struct rtsp_state), rtsp_init, rtsp_feed};
