/*
 * img_color - everything leaves as sRGB: CMYK and sources tagged with
 * another ICC profile are converted through lcms; untagged RGB is taken as
 * sRGB already. Included by the files of lib/img/ only.
 * Ownership: img_color_to_srgb() may replace *im in place (the pixels change,
 * the Image stays the caller's).
 */
#ifndef MF_IMG_COLOR_H
#define MF_IMG_COLOR_H

#include "img/img_gm.h"

/* Makes the built-in sRGB profile: once per process, after
 * InitializeMagick. 0 or -1. */
int img_color_init(void);

/* Converts *im to sRGB when it is CMYK or carries an ICC profile that is
 * not sRGB. 0 or the error. */
int img_color_to_srgb(Image **im, ExceptionInfo *ex, struct err *e);

#endif
