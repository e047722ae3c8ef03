/*
 * img_blurhash - format=blurhash's end of the image pipeline: the finished
 * first frame (planned small by blurhash_job_params(), flattened as for
 * JPEG) read back as packed RGB and answered as its BlurHash. Reached from
 * img_encode() when enc->blurhash is set, so images and video stills
 * (img_encode_rgb_opts()) share it. Included by the files of lib/img/
 * only (it names GraphicsMagick's Image).
 * Ownership: list is only read; the caller owns it and the sink.
 */
#ifndef MF_IMG_BLURHASH_H
#define MF_IMG_BLURHASH_H

#include "img/enc.h"
#include "img/img_gm.h"

/* Writes the hash of list's first frame (enc->bx x enc->by components)
 * into out. 0, or the error (ERR_GONE when the client left). */
int img_blurhash_write(Image *list, const struct img_enc *enc,
    struct sink *out, struct err *e);

#endif
