/*
 * png_guard - a bounded look at a PNG before GraphicsMagick decodes it.
 *
 * libpng inflates the image data (the IDAT chunks) row by row, and after
 * the last row it inflates whatever is left of the zlib stream, 1 KiB at a
 * time, to find its end: a PNG of a few MB whose stream goes on past its
 * rows (4 GiB of zeros in 4 MB) costs it seconds per MB of file (measured:
 * 11 s for 4 MB) however small the declared image. png_guard_check() walks
 * the chunks, computes from IHDR how many bytes the filtered rows take,
 * and inflates the first run of IDAT chunks into a scratch buffer (nothing
 * kept) until the stream ends or its output passes that size: past it the
 * file is refused before libpng sees it. Its cost is one inflate of the
 * rows, nothing after them.
 *
 * Only the excess is judged: a file that is truncated, whose stream is
 * corrupt or that is not a PNG at all passes, and libpng decides what it
 * is. APNG frames (fdAT) are not image data of the default image and are
 * never inflated here (GraphicsMagick reads only the default image).
 * Ownership: data is only read, never kept; nothing is allocated past the
 * call.
 */
#ifndef MF_PNG_GUARD_H
#define MF_PNG_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * Bytes the filtered rows of a w x h image of that bit depth and colour
 * type inflate to (one filter byte per row, per Adam7 pass when
 * interlaced), at most 2^62, or 0 when the header is not one libpng
 * accepts (a bad depth/colour pair, a side of 0 or over 2^31 - 1).
 */
uint64_t png_guard_raw_size(uint32_t w, uint32_t h, unsigned bit_depth,
    unsigned colour, unsigned interlace);

/*
 * 0 when the PNG in data[0..len) may go to libpng; ERR_UNDECODABLE (422,
 * "PNG: image data inflates past its rows") when its image data inflates
 * to more than its rows need plus an eighth plus PNG_GUARD_SLACK, or when
 * a chunk declares a length over 2^31 - 1 (which libpng refuses as well).
 * Never reads outside data[0..len).
 */
int png_guard_check(const void *data, size_t len, struct err *e);

/*
 * Inflated bytes past the rows that are still let through, besides an
 * eighth of the rows: libpng skips them at ~2.7 ns a byte (a few per cent
 * of what decoding the rows costs), and a sloppy encoder's padding passes.
 */
#define PNG_GUARD_SLACK (1u << 20)

#endif
