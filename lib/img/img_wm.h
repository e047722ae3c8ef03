/*
 * img_wm - a watermark (watermark.h) drawn onto a GraphicsMagick image:
 * the step of img_finish() that every output image goes through, after
 * the fit mode's cut or pad and the filters. Included by the files of
 * lib/img/ only (it names GraphicsMagick's Image).
 */
#ifndef MF_IMG_WM_H
#define MF_IMG_WM_H

#include "img/img_gm.h"
#include "img/watermark.h"

/*
 * Blends wm over im in place (its alpha, if it has one, combined "over").
 * 0, ERR_INTERNAL (memory), or GraphicsMagick's error on its pixels.
 */
int img_wm_apply(Image *im, const struct wm *wm, struct err *e);

#endif
