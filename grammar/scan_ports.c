/* Port numbers as the scanner sees them: range-checked here, with the token's location,
 * because iptables would silently store 70000 as 4464. */
#include <stdlib.h>
#include <string.h>

#include "scan.h"

static bool parse_port(const char *s, const char **end, unsigned *out)
{
	unsigned long v = 0;
	const char *p = s;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9') {
		if (v <= 100000)
			v = v * 10 + (unsigned)(*p - '0');
		p++;
	}
	*end = p;
	*out = v > 100000 ? 100000 : (unsigned)v;
	return true;
}

bool scan_port_range(struct scan_extra *x, const struct loc *loc, const char *text,
		     struct ir_portrange *out)
{
	unsigned lo, hi;
	const char *p;
	*out = (struct ir_portrange){0, 0};
	if (!parse_port(text, &p, &lo))
		goto bad;
	hi = lo;
	if (*p == '-' && !parse_port(p + 1, &p, &hi))
		goto bad;
	if (*p)
		goto bad;
	if (lo > 65535 || hi > 65535) {
		diag_error(x->diags, loc, "port %u out of range (0-65535)", lo > 65535 ? lo : hi);
		return false;
	}
	if (lo > hi) {
		diag_error(x->diags, loc, "port range %u-%u is backwards; write %u-%u", lo, hi, hi, lo);
		return false;
	}
	*out = (struct ir_portrange){(uint16_t)lo, (uint16_t)hi};
	return true;
bad:
	diag_error(x->diags, loc, "'%s' is not a port or port range (e.g. 80 or 6881-6889)", text);
	return false;
}

bool scan_port_literal(struct scan_extra *x, const struct loc *loc, const char *text,
		       struct portlit *out)
{
	memset(out, 0, sizeof(*out));
	out->proto = strncmp(text, "udp", 3) == 0 ? IR_UDP : IR_TCP;
	const char *ports = strchr(text, '/') + 1;
	if (!*ports) {
		diag_error(x->diags, loc, "'%s' needs a port, e.g. %.3s/8080", text, text);
		return false;
	}
	return scan_port_range(x, loc, ports, &out->r);
}
