/* ONC RPC (RFC 5531) on the portmapper's port: portmapper v2 GETPORT and rpcbind v3/v4
 * GETADDR (RFC 1833), over UDP (a message per datagram) and TCP (record marking, RFC 5531
 * section 11). A call is remembered by xid; its accepted reply reports the port.
 *
 * What kills the connection: a message that is not RPC (message type, RPC version, an
 * authenticator over 400 bytes, a record that ends inside a field or has bytes after a GETPORT
 * or GETADDR call's arguments or reply's result), or a GETPORT/GETADDR call or a reply to one
 * in a record over PH_RPC_RECORD_MAX. What opens nothing and goes on: calls to other programs
 * or procedures (rpcinfo's DUMP), replies nobody asked for, calls for programs the filter
 * refuses, denied or unsuccessful replies, port 0 ("not registered"), ports over 65535, and
 * universal addresses that are not exactly RFC 5665's form for the call's netid family. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "proto_int.h"

/* A GETPORT/GETADDR record is under 1 KiB (two authenticators of <= 400 bytes included);
 * records over this bound are skipped unread unless they are one of those. */
#define PH_RPC_RECORD_MAX 4096
/* Outstanding calls per connection; the oldest is forgotten first. */
#define PH_RPC_CALLS 16

#define PMAP_PROG 100000u
#define PMAP_PROC_GETPORT 3u /* v2 GETPORT; v3/v4 GETADDR is procedure 3 too */
#define RPC_AUTH_MAX 400u    /* RFC 5531 section 8.2: opaque body<400> */
#define UADDR_MAX 64u        /* "ffff:...:255.255.255.255.255.255" is 53 characters */

struct rpc_call {
	uint32_t xid, program;
	uint64_t age;
	bool used, getaddr;
	uint8_t l4proto, family; /* GETPORT: the call's protocol; GETADDR: the transport's, the netid's family (0: the reply's) */
};

/* Record marking of one direction. */
struct rpc_stream {
	uint8_t hdr[4];
	uint8_t hdr_len;
	bool in_frag, last;
	uint32_t frag_left;
	uint64_t rec_total; /* the record's length so far, even past the bound */
	size_t rec_len;     /* bytes of it kept in rec */
	uint8_t rec[PH_RPC_RECORD_MAX];
};

struct rpc_state {
	uint8_t l4proto;
	int (*allow)(void *ctx, uint32_t program);
	void *allow_ctx;
	uint64_t clock;
	struct rpc_call calls[PH_RPC_CALLS];
	struct rpc_stream dir[2];
};

static int allow_default(void *ctx, uint32_t program)
{
	(void)ctx;
	return ph_rpc_program_default(program);
}

static int rpc_init(void *st, uint8_t l4proto)
{
	struct rpc_state *r = st;
	r->l4proto = l4proto;
	r->allow = allow_default;
	return 0;
}

void ph_rpc_set_filter(void *st, int (*allow)(void *ctx, uint32_t program), void *ctx)
{
	struct rpc_state *r = st;
	r->allow = allow ? allow : allow_default;
	r->allow_ctx = allow ? ctx : NULL;
}

/* --- XDR (RFC 4506) ------------------------------------------------------------------------ */

struct xdr {
	const uint8_t *p;
	size_t len, off;
};

static int x_u32(struct xdr *x, uint32_t *v)
{
	if (x->len - x->off < 4)
		return -1;
	const uint8_t *b = x->p + x->off;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	x->off += 4;
	return 0;
}

/* Variable-length opaque or string of at most `max` bytes, padded to 4. */
static int x_opaque(struct xdr *x, uint32_t max, const uint8_t **data, uint32_t *n)
{
	if (x_u32(x, n) < 0 || *n > max)
		return -1;
	size_t padded = ((size_t)*n + 3) & ~(size_t)3;
	if (x->len - x->off < padded)
		return -1;
	*data = x->p + x->off;
	x->off += padded;
	return 0;
}

static int x_auth(struct xdr *x)
{
	uint32_t flavor, n;
	const uint8_t *body;
	return x_u32(x, &flavor) < 0 || x_opaque(x, RPC_AUTH_MAX, &body, &n) < 0 ? -1 : 0;
}

/* --- calls and replies --------------------------------------------------------------------- */

static struct rpc_call *call_find(struct rpc_state *r, uint32_t xid)
{
	for (size_t i = 0; i < PH_RPC_CALLS; i++)
		if (r->calls[i].used && r->calls[i].xid == xid)
			return &r->calls[i];
	return NULL;
}

static void call_remember(struct rpc_state *r, const struct rpc_call *c)
{
	/* The same xid again (a retransmitted call): the newest wins. Else a free slot, else
	 * the oldest call is forgotten. */
	struct rpc_call *slot = call_find(r, c->xid);
	for (size_t i = 0; !slot && i < PH_RPC_CALLS; i++)
		if (!r->calls[i].used)
			slot = &r->calls[i];
	if (!slot) {
		slot = &r->calls[0];
		for (size_t i = 1; i < PH_RPC_CALLS; i++)
			if (r->calls[i].age < slot->age)
				slot = &r->calls[i];
	}
	*slot = *c;
	slot->used = true;
	slot->age = ++r->clock;
}

/* netid (RFC 5665 section 5.1) to protocol and family; false for the ones we never open. */
static bool netid_of(const uint8_t *s, uint32_t n, uint8_t *l4, uint8_t *family)
{
	static const struct { const char *id; uint8_t l4, family; } ids[] = {
		{"tcp", IPPROTO_TCP, AF_INET},
		{"udp", IPPROTO_UDP, AF_INET},
		{"tcp6", IPPROTO_TCP, AF_INET6},
		{"udp6", IPPROTO_UDP, AF_INET6},
	};
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (strlen(ids[i].id) == n && memcmp(ids[i].id, s, n) == 0) {
			*l4 = ids[i].l4;
			*family = ids[i].family;
			return true;
		}
	return false;
}

/* The call's header after xid and type; args follow. -1 on garbage. */
static int call(struct rpc_state *r, enum ph_side side, struct xdr *x, uint32_t xid, bool truncated)
{
	uint32_t rpcvers, prog, vers, proc;
	if (x_u32(x, &rpcvers) < 0 || rpcvers != 2 || x_u32(x, &prog) < 0 || x_u32(x, &vers) < 0 ||
	    x_u32(x, &proc) < 0 || x_auth(x) < 0 || x_auth(x) < 0)
		return -1;
	if (prog != PMAP_PROG || proc != PMAP_PROC_GETPORT || vers < 2 || vers > 4)
		return 0; /* not a question about a port: DUMP, SET, CALLIT, NULL, ... */
	if (truncated)
		return -1;
	struct rpc_call c = {.xid = xid, .getaddr = vers != 2};
	uint32_t v, n;
	if (x_u32(x, &c.program) < 0 || x_u32(x, &v) < 0)
		return -1;
	bool wanted;
	if (vers == 2) {
		uint32_t prot, port;
		if (x_u32(x, &prot) < 0 || x_u32(x, &port) < 0)
			return -1;
		wanted = prot == IPPROTO_TCP || prot == IPPROTO_UDP;
		c.l4proto = (uint8_t)prot;
	} else {
		const uint8_t *netid, *addr, *owner;
		if (x_opaque(x, 64, &netid, &n) < 0)
			return -1;
		/* rpcbind answers GETADDR for the transport the call came on, whatever its netid
		 * says (rpcbind 1.2.6 rpcb_svc_com.c, rpcbproc_getaddr_com: find_service(...,
		 * transp->xp_netid)): the protocol is the connection's. libnfs 4.0 sends an empty
		 * netid (its IPv6 mounts): the family is then the universal address's. */
		uint8_t l4 = 0;
		wanted = n == 0 || netid_of(netid, n, &l4, &c.family);
		c.l4proto = r->l4proto;
		if (x_opaque(x, 256, &addr, &n) < 0 || x_opaque(x, 256, &owner, &n) < 0)
			return -1;
	}
	if (x->off != x->len)
		return -1;
	/* Calls only count from the side that opened the connection: rpcbind never asks. */
	if (side == PH_ORIG && wanted && r->allow(r->allow_ctx, c.program))
		call_remember(r, &c);
	return 0;
}

/* A universal address (RFC 5665 section 5.2.3): "h1.h2.h3.h4.p1.p2" or "x:...:y.p1.p2". */
static bool uaddr_parse(const uint8_t *s, uint32_t n, struct ph_offer *o)
{
	if (n == 0 || n > UADDR_MAX || memchr(s, '\0', n))
		return false;
	const char *t = (const char *)s;
	size_t dot2 = n, dot1 = n;
	for (size_t i = n; i-- > 0;)
		if (t[i] == '.') {
			if (dot2 == n)
				dot2 = i;
			else {
				dot1 = i;
				break;
			}
		}
	uint64_t p1, p2;
	if (dot1 == n || ph_parse_uint(t + dot1 + 1, dot2 - dot1 - 1, 255, &p1) < 0 ||
	    ph_parse_uint(t + dot2 + 1, n - dot2 - 1, 255, &p2) < 0 || dot2 - dot1 - 1 > 3 ||
	    n - dot2 - 1 > 3)
		return false;
	uint8_t family;
	if (ph_parse_ip(t, dot1, &family, o->addr) < 0 || (o->family && family != o->family))
		return false;
	o->family = family;
	o->port_lo = o->port_hi = (uint16_t)(p1 << 8 | p2);
	return o->port_lo != 0;
}

static int reply(struct rpc_state *r, enum ph_side side, struct xdr *x, uint32_t xid, bool truncated,
		 struct ph_sink *sink)
{
	struct rpc_call *c = side == PH_REPLY ? call_find(r, xid) : NULL;
	if (!c)
		return 0; /* nobody here asked: not ours to read */
	struct rpc_call call = *c;
	c->used = false; /* answered: a second reply (a UDP duplicate) finds nothing */
	if (truncated)
		return -1;
	uint32_t stat, accept;
	if (x_u32(x, &stat) < 0)
		return -1;
	if (stat == 1)
		return 0; /* MSG_DENIED */
	if (stat != 0 || x_auth(x) < 0 || x_u32(x, &accept) < 0)
		return -1;
	if (accept != 0)
		return 0; /* PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS, ... */
	struct ph_offer o = {.program = call.program, .l4proto = call.l4proto};
	bool open;
	if (!call.getaddr) {
		uint32_t port;
		if (x_u32(x, &port) < 0 || x->off != x->len)
			return -1;
		o.listener = PH_LISTEN_SENDER;
		o.port_lo = o.port_hi = (uint16_t)port;
		o.what = "GETPORT reply";
		open = port != 0 && port <= 65535;
	} else {
		const uint8_t *ua;
		uint32_t n;
		if (x_opaque(x, PH_RPC_RECORD_MAX, &ua, &n) < 0 || x->off != x->len)
			return -1;
		o.listener = PH_LISTEN_NAMED;
		o.family = call.family;
		o.what = "GETADDR reply";
		open = uaddr_parse(ua, n, &o);
	}
	if (open)
		ph_sink_put(sink, &o);
	return 0;
}

/* One whole message (a datagram, or a record of which `len` bytes were kept). */
static int message(struct rpc_state *r, enum ph_side side, const uint8_t *m, size_t len,
		   bool truncated, struct ph_sink *sink)
{
	struct xdr x = {m, len, 0};
	uint32_t xid, type;
	if (x_u32(&x, &xid) < 0 || x_u32(&x, &type) < 0)
		return -1;
	if (type == 0)
		return call(r, side, &x, xid, truncated);
	if (type == 1)
		return reply(r, side, &x, xid, truncated, sink);
	return -1;
}

/* Record marking: a 4-byte header per fragment (high bit: last fragment; 31 bits: length). */
static int stream(struct rpc_state *r, enum ph_side side, const uint8_t *p, const uint8_t *end,
		  struct ph_sink *sink)
{
	struct rpc_stream *s = &r->dir[side];
	while (p < end) {
		if (!s->in_frag) {
			s->hdr[s->hdr_len++] = *p++;
			if (s->hdr_len < 4)
				continue;
			s->hdr_len = 0;
			uint32_t h = (uint32_t)s->hdr[0] << 24 | (uint32_t)s->hdr[1] << 16 |
				     (uint32_t)s->hdr[2] << 8 | s->hdr[3];
			s->last = h >> 31;
			s->frag_left = h & 0x7fffffffu;
			s->in_frag = true;
		} else {
			size_t n = (size_t)(end - p) < s->frag_left ? (size_t)(end - p) : s->frag_left;
			size_t room = PH_RPC_RECORD_MAX - s->rec_len;
			size_t keep = n < room ? n : room;
			memcpy(s->rec + s->rec_len, p, keep);
			s->rec_len += keep;
			s->rec_total += n;
			s->frag_left -= (uint32_t)n;
			p += n;
		}
		if (s->in_frag && s->frag_left == 0) {
			s->in_frag = false;
			if (s->last) {
				bool truncated = s->rec_total > PH_RPC_RECORD_MAX;
				size_t len = s->rec_len;
				s->rec_len = 0;
				s->rec_total = 0;
				if (message(r, side, s->rec, len, truncated, sink) < 0)
					return -1;
			}
		}
	}
	return 0;
}

static int rpc_feed(void *st, enum ph_side side, const uint8_t *data, size_t len, struct ph_sink *sink)
{
	struct rpc_state *r = st;
	if (r->l4proto == IPPROTO_UDP)
		return message(r, side, data, len, false, sink);
	return stream(r, side, data, data + len, sink);
}

const struct ph_parser ph_rpc_parser = {sizeof(struct rpc_state), rpc_init, rpc_feed};
