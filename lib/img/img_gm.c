/*
 * img_gm - GraphicsMagick's exceptions turned into the library's errors
 * (see img_gm.h).
 */
#include "img/img_gm.h"

int
img_fail(const ExceptionInfo *ex, struct err *e, const char *what)
{
	const char *reason = ex->reason ? ex->reason : "unknown error";
	const char *desc = ex->description ? ex->description : "";
	enum err_kind kind;

	/* The severity's last two digits name the class (warnings 3xx,
	 * errors 4xx, fatal 7xx). */
	switch (ex->severity % 100) {
	case ResourceLimitError % 100:
		/* Without a disk cache, "disk space" means memory ran out. */
		return err_set(e, ERR_TOO_LARGE, "%s: over the memory or pixel "
		    "limits of a worker (max_memory, max_source_pixels)", what);
	case MissingDelegateError % 100:
		kind = ERR_UNSUPPORTED;
		break;
	case CorruptImageError % 100:
	case CoderError % 100:
	case BlobError % 100:
	case ImageError % 100:
	case StreamError % 100:
		kind = ERR_UNDECODABLE;
		break;
	default:
		kind = ex->severity == UndefinedException ? ERR_UNDECODABLE :
		    ERR_INTERNAL;
		break;
	}
	return err_set(e, kind, "%s: %s%s%s", what, reason, *desc ? " " : "",
	    desc);
}

int
img_replace(Image **im, Image *next, const ExceptionInfo *ex, struct err *e,
    const char *what)
{
	if (next == NULL)
		return img_fail(ex, e, what);
	DestroyImage(*im);
	*im = next;
	return 0;
}
