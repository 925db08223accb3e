/* State shared between the flex scanner and the bison parser of one source. */
#ifndef PINHOLE_SCAN_H
#define PINHOLE_SCAN_H

#include <stdbool.h>

#include "ast.h"
#include "diag.h"

struct scan_extra {
	const struct source *src;
	struct diags *diags;
	int line, col;
	int end_line, end_col; /* just past the last token (not blank or comment) */
};

struct portlit {
	uint8_t proto;
	struct ir_portrange r;
};

bool scan_port_range(struct scan_extra *x, const struct loc *loc, const char *text,
		     struct ir_portrange *out);
bool scan_port_literal(struct scan_extra *x, const struct loc *loc, const char *text,
		       struct portlit *out);

#endif
