/*
 * enc_avif - AVIF output (format=avif) through libavif, with libaom's AV1
 * encoder: 8-bit 4:4:4, full range, sRGB (BT.709 primaries, sRGB
 * transfer, BT.601 matrix), alpha as an AV1 alpha plane. One thread, as
 * everything in a worker.
 * Ownership: px is only read; the caller owns it and the sink. The encoded
 * file is made in libavif's memory (it writes its boxes after the AV1
 * payload is known) and then written to out in one go.
 */
#ifndef MF_ENC_AVIF_H
#define MF_ENC_AVIF_H

#include <stdbool.h>

#include "core/err.h"
#include "core/sink.h"

/*
 * The widest or tallest AVIF this server writes: AV1 level 6's largest
 * picture width; libavif's own decoder refuses sides past 32768 by default,
 * browsers' decoders are no more generous. For img_encoder_limits().
 */
#define ENC_AVIF_MAX_SIDE	16384u

/* The speed setting's bounds (libavif: 0 slowest .. 10 fastest). */
#define ENC_AVIF_SPEED_MIN	0u
#define ENC_AVIF_SPEED_MAX	10u

/*
 * The AV1 quantizer (0 best .. 63 worst) of the server's quality q (1..100),
 * chosen so that a q gives about the SSIM of a JPEG at the same q (the
 * table and how it was measured: enc_avif.c, README "AVIF and JPEG XL").
 */
int enc_avif_quantizer(unsigned q);

/*
 * Encodes the w x h pixels px (rows back to back, 3 bytes a pixel RGB, or
 * 4 RGBA when alpha; 8 bits, sRGB, alpha not premultiplied) as AVIF at
 * quality q (1..100) and encoder speed (0..10) into out. ERR_INTERNAL when
 * libavif fails (its message), ERR_GONE when the client left.
 */
int enc_avif_write(const unsigned char *px, unsigned w, unsigned h,
    bool alpha, unsigned q, unsigned speed, struct sink *out, struct err *e);

/* The AV1 encoder libavif uses here ("aom"), or NULL if it has none. */
const char *enc_avif_codec(void);

#endif
