/*
 * reader - the live sources' reader processes: one per source in use
 * decodes and encodes each frame once (lib/live/livesrc.h) into its ring
 * (ring.h) and, while an H.264 rendition is wanted (ring.h's
 * h264.wanted_ms within idle_timeout), encodes it once more into H.264
 * fragments (lib/live/h264live.h) for every fMP4 and HLS viewer,
 * reconnecting with back-off when the input goes away; the
 * master starts a reader when the source is wanted (a viewer, a snapshot,
 * always_on) and stops it after idle_timeout seconds without viewers, or
 * when a reload changes or removes its source.
 */
#ifndef MF_READER_H
#define MF_READER_H

#include <stdint.h>

#include "proc/config.h"
#include "viewers/ring.h"

/*
 * Reader process body (after fork) for src on ring i, publishing frames
 * of generation gen: never returns.
 */
void live_reader_main(const struct config *cfg, const struct source *src,
    struct live *l, unsigned i, uint32_t gen) __attribute__((noreturn));

/*
 * Master side: starts wanted readers (through spawn, for ring i and its
 * source in cfg), stops idle ones and those marked in restart[] (then
 * cleared; NULL: none), and kills one that has not stopped 2 s after it
 * was told. Call often.
 */
void live_manage(const struct config *cfg, struct live *l,
    int restart[LIVE_RINGS],
    int (*spawn)(void *ctx, unsigned i, const struct source *src), void *ctx);

#endif
