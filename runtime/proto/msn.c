/* MSNFTP file-transfer invitations (MSNP switchboard sessions): a MSG command whose payload,
 * a MIME message of Content-Type text/x-msmsgsinvite, holds the fields
 *
 *   Invitation-Command: ACCEPT      IP-Address: A    Port: P    AuthCookie: C
 *   (optional) IP-Address-Internal: B    PortX: Q
 *
 * sent by whichever side will listen. That message opens A:P; when it also names an internal
 * address, B:Q (B:P without PortX) as well: the listener accepts on both and the peer tries
 * both (the official client behind NAT names its LAN address there). The daemon keeps only
 * the addresses that are really the sender's. Sources: hypothetic.org's MSNP documentation
 * (file transfer) and the NINA wiki's MSNFTP invitation page.
 *
 * Framing (MSNP): each command is one line of a three-character command name (or a
 * three-digit error number) and its parameters, CR LF ended, bounded by PH_LINE_MAX; MSG and
 * the notification server's payload commands give their payload's length as their last
 * parameter and that many raw bytes follow. MSG payloads are read (at most PH_MSN_BODY_MAX:
 * the protocol limits them to 1664 bytes); other payloads are skipped by length (at most
 * PH_MSN_SKIP_MAX). A line that is no command, a longer line or payload kills the connection:
 * without it the parser cannot know where the next command starts. An invitation whose
 * fields repeat, or whose address or port does not parse, opens nothing. */
#include <netinet/in.h>
#include <string.h>

#include "proto_int.h"

#define PH_MSN_BODY_MAX 4096
#define PH_MSN_SKIP_MAX (1u << 20)

struct msn_stream {
	struct ph_line line;
	bool in_payload, keep;
	uint32_t left;
	size_t body_len;
	char body[PH_MSN_BODY_MAX + 1];
};

struct msn_state {
	struct msn_stream dir[2];
};

static int msn_init(void *st, uint8_t l4proto)
{
	(void)st;
	return l4proto == IPPROTO_TCP ? 0 : -1;
}

/* Commands with a payload, and how many words (the command included) they have when the last
 * is its length: "QRY 12" is the server's answer, "QRY 12 id 32" the client's challenge. */
static const struct { const char *cmd; unsigned words; } payload_cmds[] = {
	{"MSG", 4}, {"NOT", 2}, {"IPG", 2}, {"GCF", 3}, {"UBX", 3}, {"UUX", 3},
	{"ADL", 3}, {"RML", 3}, {"FQY", 3}, {"QRY", 4}, {"UBN", 4}, {"UUN", 5},
};

/* A command line: 0 (maybe entering a payload), or -1 when it is no MSNP command. */
static int command(struct msn_stream *s, const char *l, size_t n)
{
	if (n == 0)
		return 0;
	if (n < 3 || (n > 3 && l[3] != ' '))
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (!((l[i] >= 'A' && l[i] <= 'Z') || (l[i] >= '0' && l[i] <= '9')))
			return -1;
	unsigned words = 0;
	const char *last = l;
	for (size_t i = 0; i < n; i++)
		if (l[i] != ' ' && (i == 0 || l[i - 1] == ' ')) {
			words++;
			last = l + i;
		}
	for (size_t i = 0; i < sizeof(payload_cmds) / sizeof(payload_cmds[0]); i++) {
		if (memcmp(l, payload_cmds[i].cmd, 3) != 0)
			continue;
		bool msg = i == 0;
		uint64_t len;
		size_t ln = (size_t)(l + n - last);
		if (words != payload_cmds[i].words ||
		    ph_parse_uint(last, ln, msg ? PH_MSN_BODY_MAX : PH_MSN_SKIP_MAX, &len) < 0) {
			if (msg)
				return -1; /* a MSG without a length we can honour */
			return 0;  /* "ADL 7 OK": the answer, no payload */
		}
		s->in_payload = len > 0;
		s->keep = msg;
		s->left = (uint32_t)len;
		s->body_len = 0;
		return 0;
	}
	return 0;
}

/* The value of field `name` in lines [p, end), NUL-free; *count says how often it appears. */
struct field {
	const char *name;
	const char *v;
	size_t n;
	unsigned count;
};

static void fields(const char *p, const char *end, struct field *f, size_t nf)
{
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *te = le > p && le[-1] == '\r' ? le - 1 : le;
		const char *colon = memchr(p, ':', (size_t)(te - p));
		for (size_t i = 0; colon && i < nf; i++) {
			if (!ph_word_eq(p, (size_t)(colon - p), f[i].name))
				continue;
			const char *v = colon + 1;
			while (v < te && (*v == ' ' || *v == '\t'))
				v++;
			const char *ve = te;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			f[i].v = v;
			f[i].n = (size_t)(ve - v);
			f[i].count++;
		}
		p = eol ? eol + 1 : end;
	}
}

static bool endpoint(const struct field *addr, const struct field *port, struct ph_offer *o)
{
	uint64_t v;
	if (addr->count != 1 || port->count != 1 || ph_parse_uint(port->v, port->n, 65535, &v) < 0 ||
	    v == 0 || ph_parse_ip(addr->v, addr->n, &o->family, o->addr) < 0)
		return false;
	o->port_lo = o->port_hi = (uint16_t)v;
	return true;
}

/* A whole MSG payload. */
static void payload(const char *b, size_t n, struct ph_sink *sink)
{
	const char *start = b, *end = b + n, *hdr_end = NULL;
	/* The MIME headers end at the first empty line. */
	for (const char *p = b; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			return;
		if (eol == p || (eol == p + 1 && *p == '\r')) {
			hdr_end = p;
			b = eol + 1;
			break;
		}
		p = eol + 1;
	}
	if (!hdr_end)
		return;
	struct field ct = {"Content-Type", NULL, 0, 0};
	fields(start, hdr_end, &ct, 1);
	const char *type = "text/x-msmsgsinvite";
	size_t tl = strlen(type);
	if (ct.count != 1 || !ph_has_prefix(ct.v, ct.n, type) ||
	    (ct.n > tl && ct.v[tl] != ';' && ct.v[tl] != ' '))
		return;
	enum { CMD, IP, PORT, COOKIE, IP_INT, PORTX, NF };
	struct field f[NF] = {
		[CMD] = {"Invitation-Command", NULL, 0, 0}, [IP] = {"IP-Address", NULL, 0, 0},
		[PORT] = {"Port", NULL, 0, 0},		    [COOKIE] = {"AuthCookie", NULL, 0, 0},
		[IP_INT] = {"IP-Address-Internal", NULL, 0, 0}, [PORTX] = {"PortX", NULL, 0, 0},
	};
	fields(b, end, f, NF);
	for (size_t i = 0; i < NF; i++)
		if (f[i].count > 1)
			return; /* which one would the peer use? */
	if (f[CMD].count != 1 || !ph_word_eq(f[CMD].v, f[CMD].n, "ACCEPT") || f[COOKIE].count != 1)
		return; /* INVITE, CANCEL, or the invitee's ACCEPT without an endpoint */
	struct ph_offer o = {.listener = PH_LISTEN_NAMED, .l4proto = IPPROTO_TCP,
			     .what = "MSNFTP invitation ACCEPT"};
	if (!endpoint(&f[IP], &f[PORT], &o))
		return;
	ph_sink_put(sink, &o);
	struct ph_offer o2 = o;
	o2.what = "MSNFTP invitation ACCEPT (internal address)";
	if (f[IP_INT].count == 1 && endpoint(&f[IP_INT], f[PORTX].count ? &f[PORTX] : &f[PORT], &o2) &&
	    (o2.family != o.family || memcmp(o2.addr, o.addr, 16) != 0 || o2.port_lo != o.port_lo))
		ph_sink_put(sink, &o2);
}

static int msn_feed(void *stp, enum ph_side side, const uint8_t *data, size_t len, struct ph_sink *sink)
{
	struct msn_state *st = stp;
	struct msn_stream *s = &st->dir[side];
	const uint8_t *p = data, *end = data + len;
	while (p < end) {
		if (s->in_payload) {
			size_t n = (size_t)(end - p) < s->left ? (size_t)(end - p) : s->left;
			if (s->keep) {
				memcpy(s->body + s->body_len, p, n);
				s->body_len += n;
			}
			p += n;
			s->left -= (uint32_t)n;
			if (s->left == 0) {
				s->in_payload = false;
				if (s->keep)
					payload(s->body, s->body_len, sink);
			}
			continue;
		}
		int r = ph_line_take(&s->line, &p, end, PH_EOL_LF);
		if (r < 0 || (r == 1 && command(s, s->line.buf, s->line.len) < 0))
			return -1;
	}
	return 0;
}

const struct ph_parser ph_msn_parser = {sizeof(struct msn_state), msn_init, msn_feed};
