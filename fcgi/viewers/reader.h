/*
 * reader - the live sources' reader processes: one per source in use
 * decodes and encodes each frame once (lib/live/livesrc.h) into its ring
 * (ring.h), reconnecting with back-off when the input goes away; the
 * master starts a reader when a viewer wants the source (or always_on)
 * and stops it after idle_timeout seconds without viewers.
 */
#ifndef MF_READER_H
#define MF_READER_H

#include "proc/config.h"
#include "viewers/ring.h"

/* Reader process body (after fork): never returns. */
void live_reader_main(const struct config *cfg, struct live *l,
    unsigned index) __attribute__((noreturn));

/*
 * Master side: starts wanted readers (through spawn), stops idle ones;
 * viewers[i] is source i's viewer count. Call often.
 */
void live_manage(const struct config *cfg, struct live *l, unsigned viewers[],
    int (*spawn)(void *ctx, unsigned index), void *ctx);

#endif
