/*
 * img_gm - what the img*.c files share about GraphicsMagick itself: the
 * one conversion of its exceptions into an err, and the image-replacing
 * step every transform is made of. Included by the files of lib/img/
 * only; nothing here knows a job, a request or an output format (img.h,
 * which names no GraphicsMagick type, is what the rest of lib/ sees).
 * Ownership: img_replace() takes next and frees the image it replaces.
 */
#ifndef MF_IMG_GM_H
#define MF_IMG_GM_H

#include <magick/api.h>

#include "core/err.h"

#define FREEF(f, p) do { if (p) { f(p); (p) = NULL; } } while (0)

/* The one place a GraphicsMagick exception becomes an err. */
int img_fail(const ExceptionInfo *ex, struct err *e, const char *what);

/* *im = next (freeing the old one), or the error from ex if next is NULL. */
int img_replace(Image **im, Image *next, const ExceptionInfo *ex,
    struct err *e, const char *what);

#endif
