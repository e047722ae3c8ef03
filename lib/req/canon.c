/*
 * canon - the canonical form of a parsed query (params.h,
 * params_canonical()): every given parameter once, in one fixed order, one
 * spelling per value (decimals as params_decimal_text() writes them), so
 * equal requests have equal ETags and signatures, and the text parses back
 * to the same parameters.
 */
#include "req/params.h"
#include "req/params_int.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void
params_decimal_text(double d, char buf[PARAMS_DECIMAL_TEXT])
{
	char *end;

	snprintf(buf, PARAMS_DECIMAL_TEXT, "%.6f", d);
	end = buf + strlen(buf);
	while (end[-1] == '0')
		*--end = '\0';
	if (end[-1] == '.')
		*--end = '\0';
}

/* Where params_canonical() writes: full once anything did not fit. */
struct canon {
	char *buf;
	size_t len, pos;
	bool full;
};

static void canon_add(struct canon *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Appends '&' (unless first) and one formatted "name=value". */
static void
canon_add(struct canon *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->full)
		return;
	if (c->pos > 0) {
		if (c->len - c->pos < 2) {
			c->full = true;
			return;
		}
		c->buf[c->pos++] = '&';
		c->buf[c->pos] = '\0';
	}
	va_start(ap, fmt);
	n = vsnprintf(c->buf + c->pos, c->len - c->pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= c->len - c->pos)
		c->full = true;
	else
		c->pos += (size_t)n;
}

/* "name=" the decimal d as params_decimal_text() writes it, then suffix. */
static void
canon_decimal(struct canon *c, const char *name, double d, const char *suffix)
{
	char num[PARAMS_DECIMAL_TEXT];

	params_decimal_text(d, num);
	canon_add(c, "%s=%s%s", name, num, suffix);
}

int
params_canonical(const struct params *p, char *buf, size_t len)
{
	struct canon c = { buf, len, 0, false };
	int rc = -1;

	if (buf == NULL || len == 0)
		goto out;
	buf[0] = '\0';
	/* The order is part of the format: ETags and signatures hash it. */
	if (p->given & P_SIZE) {
		if (p->width && p->height)
			canon_add(&c, "size=%ux%u", p->width, p->height);
		else if (p->width)
			canon_add(&c, "size=%ux", p->width);
		else
			canon_add(&c, "size=x%u", p->height);
	}
	if (p->given & P_FIT)
		canon_add(&c, "fit=%s", params_fit_name(p->fit));
	if (p->given & P_GRAVITY)
		canon_add(&c, "gravity=%s", params_gravity_name(p->gravity));
	if (p->given & P_CROP)
		canon_add(&c, "crop=%u,%u,%u,%u", p->crop_x, p->crop_y,
		    p->crop_w, p->crop_h);
	if (p->given & P_ROTATE)
		canon_add(&c, "rotate=%u", p->rotate);
	if (p->given & P_FLIP)
		canon_add(&c, "flip=%s", p->flip_h ? "h" : "v");
	if (p->given & P_FORMAT)
		canon_add(&c, "format=%s", params_format_name(p->format));
	if (p->given & P_Q)
		canon_add(&c, "q=%u", p->quality);
	if (p->given & P_BG)
		canon_add(&c, "bg=%06x", (unsigned)p->bg);
	if (p->given & P_BLUR)
		canon_decimal(&c, "blur", p->blur, "");
	if (p->given & P_SHARPEN)
		canon_decimal(&c, "sharpen", p->sharpen, "");
	if (p->given & P_WM)
		canon_add(&c, "wm=%s", p->wm);
	if (p->given & P_DPR)
		canon_decimal(&c, "dpr", p->dpr, "");
	if (p->given & P_ENLARGE)
		canon_add(&c, "enlarge=%d", p->enlarge ? 1 : 0);
	if (p->given & P_FRAME)
		canon_add(&c, "frame=%d", p->frame);
	if (p->given & P_T) {
		if (p->t_kind == T_AUTO)
			canon_add(&c, "t=auto");
		else	/* A query: the percent sign is written escaped. */
			canon_decimal(&c, "t", p->t,
			    p->t_kind == T_PERCENT ? "%25" : "");
	}
	if (p->given & P_SEEK)
		canon_add(&c, "seek=%s", p->seek == SEEK_KEY ? "key" : "accurate");
	if (p->given & P_SPRITE)
		canon_add(&c, "sprite=%ux%u", p->sprite_cols, p->sprite_rows);
	if (p->given & P_INFO)
		canon_add(&c, "info");
	if (p->given & P_PRESET)
		canon_add(&c, "preset=%s", p->preset);
	if (p->given & P_FPS)
		canon_decimal(&c, "fps", p->fps, "");
	if (p->given & P_START)
		canon_decimal(&c, "start", p->start, "");
	if (p->given & P_LOOP)
		canon_add(&c, "loop=%d", p->loop ? 1 : 0);
	if (p->given & P_SNAPSHOT)
		canon_add(&c, "snapshot");
	if (p->given & P_EXPIRES)
		canon_add(&c, "expires=%llu", (unsigned long long)p->expires);
	if (p->given & P_BX)
		canon_add(&c, "bx=%u", p->bx);
	if (p->given & P_BY)
		canon_add(&c, "by=%u", p->by);
	/* Added last: the forms above (ETags, signatures) stay as they were. */
	if (p->given & P_SEGMENT)
		canon_add(&c, "segment=%u", p->segment);
	if ((p->given & P_SEG) && p->seg == PARAMS_SEG_INIT)
		canon_add(&c, "seg=init.mp4");
	else if (p->given & P_SEG)
		canon_add(&c, "seg=%u.ts", p->seg);
	if (!c.full)
		rc = (int)c.pos;
out:
	return rc;
}
