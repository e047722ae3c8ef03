#include "pct.h"

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

int
pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	int c, hi, lo;

	if (cap == 0)
		return PCT_LONG;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3 || (hi = pct_hexval(s[i + 1])) < 0 ||
			    (lo = pct_hexval(s[i + 2])) < 0)
				return PCT_BAD;
			c = hi << 4 | lo;
			i += 2;
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
