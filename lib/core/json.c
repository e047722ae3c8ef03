#include "core/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>

static void
append(struct membuf *m, const char *s, size_t n)
{
	struct sink k;

	sink_init_membuf(&k, m);
	(void)sink_write(&k, s, n);
}

void
json_raw(struct membuf *m, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		append(m, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void
json_str(struct membuf *m, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	if (s == NULL) {
		append(m, "null", 4);
		return;
	}
	append(m, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			append(m, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			append(m, esc, 6);
		} else {
			append(m, (const char *)&c, 1);
		}
	}
	append(m, "\"", 1);
}

void
json_num(struct membuf *m, double v)
{
	if (!isfinite(v))
		json_raw(m, "null");
	else if (v == floor(v) && fabs(v) < 1e15)
		json_raw(m, "%.0f", v);
	else
		json_raw(m, "%.6g", v);
}
