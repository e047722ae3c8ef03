#include "core/err.h"

#include <stdio.h>
#include <string.h>

void
err_init(struct err *e)
{
	e->kind = ERR_NONE;
	e->msg[0] = '\0';
}

int
err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (e->kind != ERR_NONE)
		return -(int)e->kind;
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -(int)kind;
}

const char *
err_kind_name(enum err_kind kind)
{
	static const char *const names[ERR_KIND_COUNT] = {
		[ERR_NONE] = "none",
		[ERR_BAD_PARAM] = "bad_param",
		[ERR_FORBIDDEN] = "forbidden",
		[ERR_NOT_FOUND] = "not_found",
		[ERR_METHOD] = "method",
		[ERR_TOO_LARGE] = "too_large",
		[ERR_UNSUPPORTED] = "unsupported",
		[ERR_UNDECODABLE] = "undecodable",
		[ERR_NO_SLOT] = "no_slot",
		[ERR_TIMEOUT] = "timeout",
		[ERR_INTERNAL] = "internal",
		[ERR_BAD_GATEWAY] = "bad_gateway",
		[ERR_GONE] = "gone",
	};

	if ((unsigned)kind >= ERR_KIND_COUNT)
		return "internal";
	return names[kind];
}
