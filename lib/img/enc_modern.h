/*
 * enc_modern - a finished GraphicsMagick image as AVIF or JPEG XL: its
 * pixels taken out once (8-bit RGB, or RGBA when it has alpha) and handed
 * to enc_avif or enc_jxl, which know nothing of GraphicsMagick. Included
 * by the files of lib/img/ only (it names GraphicsMagick's Image).
 * Ownership: im is only read; the caller owns it and the sink.
 */
#ifndef MF_ENC_MODERN_H
#define MF_ENC_MODERN_H

#include <stdbool.h>

#include "img/enc.h"
#include "img/img_gm.h"

/* Whether t is written here (MT_AVIF, MT_JXL). */
bool enc_modern_is(enum media_type t);

/*
 * Encodes im (its first frame: an animation is answered as its first
 * frame) as enc->type at enc->quality and the type's speed setting into
 * out. ERR_INTERNAL when the encoder fails, ERR_GONE when the client left.
 */
int enc_modern_write(Image *im, const struct img_enc *enc, struct sink *out,
    struct err *e);

#endif
