/* Numbers, addresses and words as the text protocols write them, parsed strictly. */
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "proto_int.h"

int ph_parse_uint(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	if (n == 0 || n > 20)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (max - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

int ph_parse_ip(const char *s, size_t n, uint8_t *family, uint8_t addr[16])
{
	char tmp[64];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (strlen(tmp) != n)
		return -1;
	memset(addr, 0, 16);
	if (memchr(tmp, ':', n)) {
		if (inet_pton(AF_INET6, tmp, addr) != 1)
			return -1;
		*family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, tmp, addr) != 1)
			return -1;
		*family = AF_INET;
	}
	return 0;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool ph_word_eq(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && ph_has_prefix(s, n, word);
}

bool ph_has_prefix(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	if (k > n)
		return false;
	for (size_t i = 0; i < k; i++)
		if (lower(s[i]) != lower(prefix[i]))
			return false;
	return true;
}
