/*
 * jpeg_plain - the test a live source's packet passes to be handed out as
 * it came: a JPEG every browser shows as it is. SOI, a baseline, extended
 * or progressive 8-bit frame of 1 or 3 components, Huffman tables before
 * the first scan (MJPEG from some cameras leaves them out, relying on the
 * standard ones); lossless, hierarchical and arithmetic-coded ones fail.
 * Reads the markers only, never past n.
 */
#ifndef MF_JPEG_PLAIN_H
#define MF_JPEG_PLAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* true with *w, *h the frame's size when d[0..n) is a plain JPEG. */
bool jpeg_plain_size(const uint8_t *d, size_t n, unsigned *w, unsigned *h);

#endif
