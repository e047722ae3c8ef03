/*
 * img - the image pipeline on GraphicsMagick: sniffed source in, one scaled
 * and encoded image out through a sink. Reads the source from memory mapped
 * from the fd the caller opened, so GraphicsMagick never sees a filename.
 * Ownership: the caller owns the job, the fd (not closed here) and the sink.
 *
 * The encoder's half (struct img_enc, img_enc_from_params(),
 * img_output_type(), img_encoder_limits()) is implemented in img_enc.c,
 * the process setup in img_init.c, ?info in img_info.c, the rest in
 * img.c. The img_*.h headers beside this one are private to lib/img/ and
 * may name GraphicsMagick types; none of them is included by this one.
 */
#ifndef MF_IMG_H
#define MF_IMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/err.h"
#include "core/rgb.h"
#include "core/sink.h"
#include "img/enc.h"
#include "img/job.h"

/*
 * Once per process, after fork: starts GraphicsMagick with one thread, no
 * disk pixel cache, every coder outside the allow-list unregistered and
 * every file or URL access refused. Returns 0 or -1 (logged to stderr).
 */
int img_init(void);
void img_cleanup(void);

/*
 * GraphicsMagick's own limits, a second line behind the checks made from
 * the headers: no image (source or intermediate) of more than max_pixels
 * pixels or wider/taller than max_side is ever allocated by a coder, and
 * pixel memory stays under max_memory bytes (0: no limit); past them the
 * job fails with ERR_TOO_LARGE.
 */
void img_set_limits(unsigned long long max_pixels, unsigned long max_side,
    unsigned long long max_memory);

/*
 * Decodes, orients, scales, cuts or pads, strips metadata and encodes the
 * job's source into out. Errors before the first byte is written leave out
 * untouched (out->written == 0); the caller decides what an error after
 * that means. Returns 0 or the negative error with e filled.
 */
int img_thumb(const struct img_job *job, struct sink *out, struct err *e);

/*
 * Writes the source's metadata as JSON: format, width and height as shown
 * (after EXIF orientation), frames, orientation, alpha, colour space, ICC
 * profile present, file size. Reads headers only, and of a multi-frame
 * source no more than max_frames + 1 of them: past max_frames it is
 * ERR_TOO_LARGE, as for a thumbnail.
 */
int img_info(const struct img_job *job, struct sink *out, struct err *e);

#endif
