/* IRC DCC offers: CTCP "DCC" requests inside PRIVMSG and NOTICE lines (RFC 1459 section 2.3
 * for lines; the CTCP and DCC drafts, draft-oakley-irc-ctcp-02 and the DCC specification
 * clients follow, for the rest), in both directions of a client's connection to its server.
 *
 * Lines end at CR or LF (servers split at either); IRCv3 message tags ("@...") at a line's
 * start are skipped up to 8191 bytes (their bound in the message-tags specification); the
 * rest of a line is bounded by PH_LINE_MAX. A longer line, or a NUL byte, kills the
 * connection: the parser would no longer know where lines start.
 *
 *   DCC SEND file addr port [size [token]]   the sender listens on addr:port
 *   DCC CHAT chat addr port [token]          the same for a chat
 *   DCC RESUME file port position [token]    the receiver asks to resume: repeats the SEND
 *                                            offer of that port (its pinhole may be timing out)
 *   DCC ACCEPT file port position [token]    opens nothing (see dcc_accept)
 *
 * addr is the decimal 32-bit integer of an IPv4 address, or a textual IPv6 address (irssi's
 * dcc_make_address, HexChat and WeeChat write the same). Port 0 is passive (reverse) DCC: the
 * message asks the peer to listen, and the peer's answer with a real port is the offer. A file
 * name with spaces must be quoted; an unquoted one leaves the line without an offer. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "proto_int.h"

#define IRC_TAGS_MAX 8191
#define IRC_SENT 8 /* SEND offers remembered for RESUME, per connection */

struct irc_stream {
	bool mid_line, in_tags;
	uint16_t tags_len;
	size_t len;
	char buf[PH_LINE_MAX + 1];
};

struct irc_sent {
	bool used;
	uint8_t side, family;
	uint16_t port;
	uint8_t addr[16];
	uint64_t age;
};

struct irc_state {
	struct irc_stream dir[2];
	struct irc_sent sent[IRC_SENT];
	uint64_t clock;
};

static int irc_init(void *st, uint8_t l4proto)
{
	(void)st;
	return l4proto == IPPROTO_TCP ? 0 : -1;
}

/* A cursor over the words of a line. */
struct words {
	const char *s, *end;
};

static void skip_spaces(struct words *w)
{
	while (w->s < w->end && *w->s == ' ')
		w->s++;
}

static bool next_word(struct words *w, const char **word, size_t *n)
{
	skip_spaces(w);
	if (w->s == w->end)
		return false;
	*word = w->s;
	while (w->s < w->end && *w->s != ' ')
		w->s++;
	*n = (size_t)(w->s - *word);
	return true;
}

/* A DCC argument: a quoted string (may hold spaces) or one word. */
static bool next_arg(struct words *w)
{
	skip_spaces(w);
	if (w->s < w->end && *w->s == '"') {
		const char *q = memchr(w->s + 1, '"', (size_t)(w->end - w->s - 1));
		if (!q || (q + 1 < w->end && q[1] != ' '))
			return false;
		w->s = q + 1;
		return true;
	}
	const char *word;
	size_t n;
	return next_word(w, &word, &n);
}

static bool dcc_port(struct words *w, uint16_t *port)
{
	const char *word;
	size_t n;
	uint64_t v;
	if (!next_word(w, &word, &n) || ph_parse_uint(word, n, 65535, &v) < 0)
		return false;
	*port = (uint16_t)v;
	return true;
}

static bool dcc_addr(struct words *w, struct ph_offer *o)
{
	const char *word;
	size_t n;
	if (!next_word(w, &word, &n))
		return false;
	if (memchr(word, ':', n))
		return ph_parse_ip(word, n, &o->family, o->addr) == 0 && o->family == AF_INET6;
	uint64_t v;
	if (ph_parse_uint(word, n, 0xffffffffu, &v) < 0)
		return false;
	o->family = AF_INET;
	memset(o->addr, 0, sizeof(o->addr));
	o->addr[0] = (uint8_t)(v >> 24);
	o->addr[1] = (uint8_t)(v >> 16);
	o->addr[2] = (uint8_t)(v >> 8);
	o->addr[3] = (uint8_t)v;
	return true;
}

static void sent_remember(struct irc_state *st, enum ph_side side, const struct ph_offer *o)
{
	struct irc_sent *slot = NULL;
	for (size_t i = 0; i < IRC_SENT && !slot; i++)
		if (!st->sent[i].used || (st->sent[i].side == side && st->sent[i].port == o->port_lo))
			slot = &st->sent[i];
	if (!slot) {
		slot = &st->sent[0];
		for (size_t i = 1; i < IRC_SENT; i++)
			if (st->sent[i].age < slot->age)
				slot = &st->sent[i];
	}
	slot->used = true;
	slot->side = (uint8_t)side;
	slot->family = o->family;
	slot->port = o->port_lo;
	memcpy(slot->addr, o->addr, sizeof(slot->addr));
	slot->age = ++st->clock;
}

/* One CTCP message's text after "DCC ". */
static void dcc(struct irc_state *st, enum ph_side side, const char *s, size_t n, struct ph_sink *sink)
{
	struct words w = {s, s + n};
	const char *type;
	size_t tn;
	if (!next_word(&w, &type, &tn) || !next_arg(&w))
		return;
	struct ph_offer o = {.listener = PH_LISTEN_NAMED, .l4proto = IPPROTO_TCP};
	if (ph_word_eq(type, tn, "SEND") || ph_word_eq(type, tn, "CHAT")) {
		bool send = ph_word_eq(type, tn, "SEND");
		if (!dcc_addr(&w, &o) || !dcc_port(&w, &o.port_lo) || o.port_lo == 0)
			return; /* malformed, or passive: the peer's answer names the port */
		o.port_hi = o.port_lo;
		o.what = send ? "DCC SEND" : "DCC CHAT";
		if (send)
			sent_remember(st, side, &o);
		ph_sink_put(sink, &o);
	} else if (ph_word_eq(type, tn, "RESUME")) {
		/* The receiver answers a SEND of the other side: that offer again, so the daemon can
		 * renew its pinhole; RESUME names no address, so it never opens anything new. */
		if (!dcc_port(&w, &o.port_lo) || o.port_lo == 0)
			return;
		for (size_t i = 0; i < IRC_SENT; i++) {
			const struct irc_sent *e = &st->sent[i];
			if (e->used && e->side != side && e->port == o.port_lo) {
				o.family = e->family;
				memcpy(o.addr, e->addr, sizeof(o.addr));
				o.port_hi = o.port_lo;
				o.what = "DCC RESUME";
				ph_sink_put(sink, &o);
				return;
			}
		}
	}
	/* dcc_accept: ACCEPT is the sender's yes to a RESUME. The connection it leads to goes to
	 * the port of the SEND that RESUME already repeated; it names no address, and an ACCEPT
	 * of a port nobody offered must not open one. */
}

/* One complete line (tags removed). */
static void line(struct irc_state *st, enum ph_side side, const char *s, size_t n, struct ph_sink *sink)
{
	struct words w = {s, s + n};
	const char *word;
	size_t wn;
	skip_spaces(&w);
	if (w.s < w.end && *w.s == ':' && !next_word(&w, &word, &wn))
		return;
	if (!next_word(&w, &word, &wn) ||
	    !(ph_word_eq(word, wn, "PRIVMSG") || ph_word_eq(word, wn, "NOTICE")))
		return;
	if (!next_word(&w, &word, &wn)) /* the target */
		return;
	skip_spaces(&w);
	if (w.s == w.end || *w.s != ':')
		return; /* a DCC has spaces: only a trailing parameter can hold one */
	const char *t = w.s + 1, *end = w.end;
	/* Each \001...\001 is a CTCP message; the closing \001 may be missing at the line's end. */
	while ((t = memchr(t, '\001', (size_t)(end - t))) != NULL) {
		t++;
		const char *close = memchr(t, '\001', (size_t)(end - t));
		const char *stop = close ? close : end;
		if (ph_has_prefix(t, (size_t)(stop - t), "DCC "))
			dcc(st, side, t + 4, (size_t)(stop - t - 4), sink);
		if (!close)
			break;
		t = close + 1;
	}
}

static int irc_feed(void *stp, enum ph_side side, const uint8_t *data, size_t len, struct ph_sink *sink)
{
	struct irc_state *st = stp;
	struct irc_stream *s = &st->dir[side];
	for (size_t i = 0; i < len; i++) {
		char c = (char)data[i];
		if (c == '\r' || c == '\n') {
			if (s->len > 0) {
				s->buf[s->len] = '\0';
				line(st, side, s->buf, s->len, sink);
			}
			s->len = 0;
			s->mid_line = s->in_tags = false;
			continue;
		}
		if (c == '\0')
			return -1;
		if (!s->mid_line) {
			s->mid_line = true;
			if (c == '@') {
				s->in_tags = true;
				s->tags_len = 1;
				continue;
			}
		}
		if (s->in_tags) {
			if (c == ' ')
				s->in_tags = false;
			else if (++s->tags_len > IRC_TAGS_MAX)
				return -1;
			continue;
		}
		if (s->len >= PH_LINE_MAX)
			return -1;
		s->buf[s->len++] = c;
	}
	return 0;
}

const struct ph_parser ph_irc_parser = {sizeof(struct irc_state), irc_init, irc_feed};
