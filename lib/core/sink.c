#include "core/sink.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

int
sink_write(struct sink *s, const void *buf, size_t len)
{
	if (len == 0)
		return 0;
	if (s->write(s->ctx, buf, len) < 0)
		return -1;
	s->written += len;
	return 0;
}

int
sink_flush(struct sink *s)
{
	return s->flush ? s->flush(s->ctx) : 0;
}

static ssize_t
cookie_write(void *cookie, const char *buf, size_t len)
{
	/* stdio treats a short count as an error, so all or nothing. */
	return sink_write(cookie, buf, len) < 0 ? -1 : (ssize_t)len;
}

FILE *
sink_fopen(struct sink *s)
{
	cookie_io_functions_t io = { .write = cookie_write };

	return fopencookie(s, "w", io);
}

void
membuf_init(struct membuf *m)
{
	m->data = NULL;
	m->len = m->cap = 0;
}

void
membuf_cleanup(struct membuf *m)
{
	free(m->data);
	membuf_init(m);
}

static int
membuf_write(void *ctx, const void *buf, size_t len)
{
	struct membuf *m = ctx;

	if (len > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 4096;
		unsigned char *p;

		while (cap - m->len < len) {
			if (cap > ((size_t)-1) / 2)
				return -1;
			cap *= 2;
		}
		if ((p = realloc(m->data, cap)) == NULL)
			return -1;
		m->data = p;
		m->cap = cap;
	}
	memcpy(m->data + m->len, buf, len);
	m->len += len;
	return 0;
}

void
sink_init_membuf(struct sink *s, struct membuf *m)
{
	s->write = membuf_write;
	s->flush = NULL;
	s->ctx = m;
	s->written = 0;
}
