/*
 * enc_jxl - JPEG XL output (format=jxl) through libjxl: lossy (VarDCT),
 * 8-bit sRGB, alpha as JPEG XL's alpha channel, a bare codestream. One
 * thread, as everything in a worker.
 * Ownership: px is only read; the caller owns it and the sink. The
 * encoded bytes go to out as libjxl hands them over, a chunk at a time.
 */
#ifndef MF_ENC_JXL_H
#define MF_ENC_JXL_H

#include <stdbool.h>

#include "core/err.h"
#include "core/sink.h"

/* The effort setting's bounds (libjxl: 1 fastest .. 9 slowest). */
#define ENC_JXL_EFFORT_MIN	1u
#define ENC_JXL_EFFORT_MAX	9u

/*
 * The Butteraugli distance (0.1 visually near-lossless .. 15 worst) of the
 * server's quality q (1..100), chosen so that a q gives about the SSIM of
 * a JPEG at the same q (the table and how it was measured: enc_jxl.c,
 * README "AVIF and JPEG XL").
 */
double enc_jxl_distance(unsigned q);

/*
 * Encodes the w x h pixels px (rows back to back, 3 bytes a pixel RGB, or
 * 4 RGBA when alpha; 8 bits, sRGB, alpha not premultiplied) as JPEG XL at
 * quality q (1..100) and effort (1..9) into out. ERR_INTERNAL when libjxl
 * fails, ERR_GONE when the client left.
 */
int enc_jxl_write(const unsigned char *px, unsigned w, unsigned h,
    bool alpha, unsigned q, unsigned effort, struct sink *out,
    struct err *e);

#endif
