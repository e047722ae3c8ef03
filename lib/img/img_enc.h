/*
 * img_enc - the encoders behind img.h's struct img_enc: GraphicsMagick's
 * writers into the sink, animated WebP through libwebpmux. Included by
 * the files of lib/img/ only (it names GraphicsMagick's Image).
 * Ownership: list is only read (its frames' names and pages are set for
 * the writer); the caller owns it and the sink.
 */
#ifndef MF_IMG_ENC_H
#define MF_IMG_ENC_H

#include <stdbool.h>

#include "img/enc.h"
#include "img/job.h"
#include "img/img_gm.h"

/*
 * Encodes the frames of list (one, or an animation) as enc->type at
 * enc->quality into out. ERR_BAD_PARAM when the type is not an image
 * format, ERR_GONE when the client left.
 */
int img_encode(Image *list, const struct img_enc *enc, struct sink *out,
    struct err *e);

/* Whether an output type can carry transparency. */
bool img_enc_has_alpha(enum media_type t);

#endif
