#include "req/pct.h"

#include <stdbool.h>

int
pct_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
decode(const char *s, size_t n, char *out, size_t cap, bool lone_literal)
{
	size_t i, o = 0;
	int c, hi, lo;

	if (cap == 0)
		return PCT_LONG;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i >= 3 && (hi = pct_hexval(s[i + 1])) >= 0 &&
			    (lo = pct_hexval(s[i + 2])) >= 0) {
				c = hi << 4 | lo;
				i += 2;
			} else if (!lone_literal) {
				return PCT_BAD;
			}
		}
		if (c == '\0')
			return PCT_NUL;
		if (o + 1 >= cap)
			return PCT_LONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

int
pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	return decode(s, n, out, cap, false);
}

int
pct_decode_query(const char *s, size_t n, char *out, size_t cap)
{
	return decode(s, n, out, cap, true);
}
