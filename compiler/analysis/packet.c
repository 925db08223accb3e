#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "resolve.h"

struct tok {
	const char *s;
	size_t len;
	int col;
};

#define MAX_TOKS 32

static size_t tokenize(const char *text, struct tok *t, size_t max)
{
	size_t n = 0;
	const char *p = text;
	while (*p && n < max) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		const char *start = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		t[n++] = (struct tok){start, (size_t)(p - start), (int)(start - text) + 1};
	}
	return n;
}

static bool tok_is(const struct tok *t, const char *w)
{
	return t->len == strlen(w) && strncmp(t->s, w, t->len) == 0;
}

static bool fail(char **why, int *col, const struct tok *t, char *msg)
{
	*why = msg;
	*col = t ? t->col : 1;
	return false;
}

/* "10.0.0.5:80", "10.0.0.5", "[fd00::5]:80", "fd00::5" */
static bool parse_endpoint(const struct tok *t, bool want_port, uint8_t *family, uint8_t *addr,
			   uint16_t *port, char **why)
{
	char buf[80];
	if (t->len >= sizeof(buf)) {
		*why = xstrdup("address too long");
		return false;
	}
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	char *a = buf, *portstr = NULL;
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (!close) {
			*why = xstrdup("missing ']' after the IPv6 address");
			return false;
		}
		*close = '\0';
		a = buf + 1;
		if (close[1] == ':')
			portstr = close + 2;
		else if (close[1]) {
			*why = xasprintf("unexpected '%s' after ']'", close + 1);
			return false;
		}
	} else if (!strchr(buf, ':') || strchr(buf, ':') == strrchr(buf, ':')) {
		char *colon = strchr(buf, ':');
		if (colon) {
			*colon = '\0';
			portstr = colon + 1;
		}
	}
	if (inet_pton(AF_INET, a, addr) == 1)
		*family = IR_V4;
	else if (inet_pton(AF_INET6, a, addr) == 1)
		*family = IR_V6;
	else {
		*why = xasprintf("'%s' is not an IPv4 or IPv6 address", a);
		return false;
	}
	*port = 0;
	if (want_port) {
		if (!portstr || !*portstr) {
			*why = xasprintf("'%.*s' needs a port (ADDR:PORT, or [IPv6]:PORT)", (int)t->len, t->s);
			return false;
		}
		char *end;
		long v = strtol(portstr, &end, 10);
		if (*end || v < 0 || v > 65535) {
			*why = xasprintf("'%s' is not a port (0-65535)", portstr);
			return false;
		}
		*port = (uint16_t)v;
	} else if (portstr) {
		*why = xstrdup("ICMP and ESP have no ports");
		return false;
	}
	return true;
}

static bool copy_word(char *dst, size_t size, const struct tok *t)
{
	if (t->len >= size)
		return false;
	memcpy(dst, t->s, t->len);
	dst[t->len] = '\0';
	return true;
}

bool packet_parse(const char *text, struct packet_text *out, char **why, int *col)
{
	struct tok t[MAX_TOKS];
	size_t n = tokenize(text, t, MAX_TOKS);
	memset(out, 0, sizeof(*out));
	struct ir_packet *p = &out->pkt;
	p->icmp_type = -1;
	if (n < 5)
		return fail(why, col, n ? &t[n - 1] : NULL,
			    xstrdup("a packet is: PROTO SRC -> DST in|out|fwd [flags] "
				    "(e.g. tcp 192.0.2.7:40000 -> 10.0.0.5:22 in)"));
	bool icmp = false;
	if (tok_is(&t[0], "tcp"))
		p->l4proto = IR_TCP;
	else if (tok_is(&t[0], "udp"))
		p->l4proto = IR_UDP;
	else if (tok_is(&t[0], "esp"))
		p->l4proto = IR_ESP;
	else if (tok_is(&t[0], "icmp") || tok_is(&t[0], "icmpv6"))
		icmp = true;
	else
		return fail(why, col, &t[0], xstrdup("protocol must be tcp, udp, esp, icmp or icmpv6"));
	bool ports = !icmp && p->l4proto != IR_ESP; /* ESP has an SPI, no ports */
	uint8_t sfam, dfam;
	char *msg = NULL;
	if (!parse_endpoint(&t[1], ports, &sfam, p->saddr, &p->sport, &msg))
		return fail(why, col, &t[1], msg);
	if (!tok_is(&t[2], "->"))
		return fail(why, col, &t[2], xstrdup("expected '->' between source and destination"));
	if (!parse_endpoint(&t[3], ports, &dfam, p->daddr, &p->dport, &msg))
		return fail(why, col, &t[3], msg);
	if (sfam != dfam)
		return fail(why, col, &t[3], xstrdup("source and destination are of different families"));
	p->family = sfam;
	if (icmp)
		p->l4proto = sfam == IR_V6 ? IR_ICMPV6 : IR_ICMP;
	if (tok_is(&t[4], "in"))
		p->hook = IR_INPUT;
	else if (tok_is(&t[4], "out"))
		p->hook = IR_OUTPUT;
	else if (tok_is(&t[4], "fwd"))
		p->hook = IR_FORWARD;
	else
		return fail(why, col, &t[4], xstrdup("direction must be in, out or fwd"));
	static const struct { const char *w; uint8_t bit; } flags[] = {
		{"fin", TCPF_FIN}, {"syn", TCPF_SYN}, {"rst", TCPF_RST},
		{"psh", TCPF_PSH}, {"ack", TCPF_ACK}, {"urg", TCPF_URG},
	};
	static const struct { const char *w; uint8_t bit; } states[] = {
		{"new", CT_NEW}, {"established", CT_ESTABLISHED},
		{"related", CT_RELATED}, {"invalid", CT_INVALID},
	};
	bool have_flags = false;
	for (size_t i = 5; i < n; i++) {
		bool known = false;
		for (size_t k = 0; k < 6 && !known; k++)
			if (tok_is(&t[i], flags[k].w)) {
				if (p->l4proto != IR_TCP)
					return fail(why, col, &t[i], xstrdup("TCP flags on a non-TCP packet"));
				p->tcp_flags |= flags[k].bit;
				have_flags = known = true;
			}
		for (size_t k = 0; k < 4 && !known; k++)
			if (tok_is(&t[i], states[k].w)) {
				if (p->ct_state)
					return fail(why, col, &t[i], xstrdup("give one conntrack state"));
				p->ct_state = states[k].bit;
				known = true;
			}
		if (known)
			continue;
		if (tok_is(&t[i], "fragment")) {
			p->fragment = true;
			continue;
		}
		if (tok_is(&t[i], "iif") || tok_is(&t[i], "oif") || tok_is(&t[i], "helper")) {
			if (i + 1 >= n)
				return fail(why, col, &t[i], xasprintf("'%.*s' needs a name", (int)t[i].len, t[i].s));
			char *dst = tok_is(&t[i], "iif") ? out->iif : tok_is(&t[i], "oif") ? out->oif : out->helper;
			size_t size = sizeof(out->iif);
			if (!copy_word(dst, size, &t[i + 1]))
				return fail(why, col, &t[i + 1], xstrdup("name too long"));
			i++;
			continue;
		}
		char word[40];
		if (icmp && copy_word(word, sizeof(word), &t[i]) && icmp_type_name_known(word)) {
			p->icmp_type = icmp_type_lookup(word, p->family);
			if (p->icmp_type < 0)
				return fail(why, col, &t[i], xasprintf("%s has no ICMP type '%s'",
								     p->family == IR_V6 ? "IPv6" : "IPv4", word));
			continue;
		}
		return fail(why, col, &t[i], xasprintf("unknown packet attribute '%.*s'", (int)t[i].len, t[i].s));
	}
	if (n == MAX_TOKS)
		return fail(why, col, &t[n - 1], xstrdup("too many words in the packet"));
	if (!p->ct_state)
		p->ct_state = CT_NEW;
	if (p->l4proto == IR_TCP && !have_flags)
		p->tcp_flags = p->ct_state == CT_NEW ? TCPF_SYN : TCPF_ACK;
	if (icmp && p->icmp_type < 0)
		p->icmp_type = icmp_type_lookup("echo-request", p->family);
	if (p->hook == IR_INPUT && !out->iif[0] && (p->family == IR_V4 ? p->daddr[0] == 127
						   : !memcmp(p->daddr, &in6addr_loopback, 16)))
		strcpy(out->iif, "lo");
	if (p->hook == IR_OUTPUT && !out->oif[0] && (p->family == IR_V4 ? p->daddr[0] == 127
						    : !memcmp(p->daddr, &in6addr_loopback, 16)))
		strcpy(out->oif, "lo");
	p->iif = out->iif[0] ? out->iif : NULL;
	p->oif = out->oif[0] ? out->oif : NULL;
	p->ct_helper = out->helper[0] ? out->helper : NULL;
	return true;
}

static void put_endpoint(struct strbuf *sb, uint8_t family, const uint8_t *addr, int port)
{
	char a[INET6_ADDRSTRLEN];
	inet_ntop(family == IR_V6 ? AF_INET6 : AF_INET, addr, a, sizeof(a));
	if (port < 0)
		sb_puts(sb, a);
	else if (family == IR_V6)
		sb_printf(sb, "[%s]:%d", a, port);
	else
		sb_printf(sb, "%s:%d", a, port);
}

char *packet_describe(const struct ir_packet *p)
{
	struct strbuf sb = {0};
	bool icmp = p->l4proto == IR_ICMP || p->l4proto == IR_ICMPV6;
	bool ports = p->l4proto == IR_TCP || p->l4proto == IR_UDP;
	sb_puts(&sb, p->l4proto == IR_TCP ? "tcp " : p->l4proto == IR_UDP ? "udp "
		: p->l4proto == IR_ESP ? "esp " : "icmp ");
	put_endpoint(&sb, p->family, p->saddr, ports ? p->sport : -1);
	sb_puts(&sb, " -> ");
	put_endpoint(&sb, p->family, p->daddr, ports ? p->dport : -1);
	sb_printf(&sb, " %s", p->hook == IR_INPUT ? "in" : p->hook == IR_OUTPUT ? "out" : "fwd");
	if (icmp && p->icmp_type >= 0) {
		const char *name = icmp_type_name(p->icmp_type, p->family);
		sb_printf(&sb, " %s", name ? name : "?");
	}
	static const char *const fl[] = {"fin", "syn", "rst", "psh", "ack", "urg"};
	for (int i = 0; i < 6; i++)
		if (p->tcp_flags & (1 << i))
			sb_printf(&sb, " %s", fl[i]);
	static const char *const st[] = {"new", "established", "related", "invalid"};
	for (int i = 0; i < 4; i++)
		if (p->ct_state & (1 << i))
			sb_printf(&sb, " %s", st[i]);
	if (p->iif)
		sb_printf(&sb, " iif %s", p->iif);
	if (p->oif)
		sb_printf(&sb, " oif %s", p->oif);
	if (p->ct_helper)
		sb_printf(&sb, " helper %s", p->ct_helper);
	if (p->fragment)
		sb_puts(&sb, " fragment");
	return sb_steal(&sb);
}
