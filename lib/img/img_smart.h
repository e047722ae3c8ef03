/*
 * img_smart - gravity=smart: which part of an image a cover cut keeps.
 * Included by the files of lib/img/ only.
 * Ownership: im is only read.
 */
#ifndef MF_IMG_SMART_H
#define MF_IMG_SMART_H

#include "img/img_gm.h"

/*
 * Where an out_w x out_h cut of im keeps the most detail, into *x, *y. Only
 * the axis that cover cuts is searched; the other stays centred, and so
 * does everything when the pixels cannot be read.
 */
void img_smart_offset(const Image *im, unsigned out_w, unsigned out_h,
    unsigned *x, unsigned *y);

#endif
