/*
 * multipart - parts and the closing boundary of a multipart stream. See
 * multipart.h for the contract.
 */
#include "stream/multipart.h"

#include <stdio.h>
#include <string.h>

bool
multipart_boundary_ok(const char *b)
{
	size_t n = b ? strlen(b) : 0;

	if (n == 0 || n > MULTIPART_BOUNDARY_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=?", b[i]))
			return false;
	return true;
}

int
multipart_part(struct sink *out, const char *boundary, const char *type,
    const void *body, size_t len)
{
	char head[MULTIPART_BOUNDARY_MAX + 128];
	int n = snprintf(head, sizeof(head), "--%s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\n\r\n", boundary, type, len);

	if (n < 0 || (size_t)n >= sizeof(head) ||
	    sink_write(out, head, (size_t)n) < 0 ||
	    sink_write(out, body, len) < 0 ||
	    sink_write(out, "\r\n", 2) < 0 || sink_flush(out) < 0)
		return -1;
	return 0;
}

int
multipart_close(struct sink *out, const char *boundary)
{
	char tail[MULTIPART_BOUNDARY_MAX + 8];
	int n = snprintf(tail, sizeof(tail), "--%s--\r\n", boundary);

	if (sink_write(out, tail, (size_t)n) < 0 || sink_flush(out) < 0)
		return -1;
	return 0;
}
