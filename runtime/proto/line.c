/* Bounded assembly of text lines from a byte stream that may split them anywhere. */
#include <string.h>

#include "proto_int.h"

int ph_line_take(struct ph_line *l, const uint8_t **p, const uint8_t *end, enum ph_eol eol)
{
	if (l->done) {
		l->len = 0;
		l->done = false;
	}
	const uint8_t *s = *p;
	if (l->skip_lf && s < end) {
		if (*s == '\n')
			s++;
		l->skip_lf = false;
	}
	while (s < end) {
		uint8_t c = *s++;
		if (c == '\n' || (c == '\r' && eol == PH_EOL_ANY)) {
			if (eol == PH_EOL_LF && l->len > 0 && l->buf[l->len - 1] == '\r')
				l->len--;
			if (l->len > PH_LINE_MAX) {
				*p = s;
				return -1;
			}
			l->skip_lf = c == '\r';
			l->buf[l->len] = '\0';
			l->done = true;
			*p = s;
			return 1;
		}
		/* PH_EOL_LF lines hold their CR until the LF shows it ends the line: one byte more. */
		if (c == '\0' || l->len >= PH_LINE_MAX + (eol == PH_EOL_LF)) {
			*p = s;
			return -1;
		}
		l->buf[l->len++] = (char)c;
	}
	*p = s;
	return 0;
}

bool ph_line_skip_lf(struct ph_line *l, const uint8_t **p, const uint8_t *end)
{
	if (!l->skip_lf)
		return true;
	if (*p == end)
		return false;
	if (**p == '\n')
		(*p)++;
	l->skip_lf = false;
	return true;
}
