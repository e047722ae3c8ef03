/*
 * hlslive - a live source's HLS rendition (/live/NAME?format=hls): a live
 * playlist (version 7, fMP4/CMAF) of the source's last complete H.264
 * segments, one keyframe interval each, and the segments themselves
 * (seg=N.m4s) and the init segment (seg=init.mp4), all answered by the
 * worker from the ring's shared index and byte area (ring.h) with
 * Content-Length. Every request keeps the source's encoder on
 * (live_h264_want()); a segment no longer held is 404. Under a signing
 * key the playlist's URLs carry their signatures (route/sign.h), as the
 * VOD playlists' do.
 */
#ifndef MF_HLSLIVE_H
#define MF_HLSLIVE_H

#include <stdint.h>

#include "core/err.h"
#include "http/http.h"
#include "http/request.h"

/* Segments a playlist lists at most. */
#define HLSLIVE_LIST 6

/*
 * Answers req (format=hls, with or without seg=) for ring i, generation
 * gen: 1, or the error (404 a segment not held, 504 no segment within a
 * few seconds: the input is down or starting).
 */
int hlslive_answer(const struct server *srv, const struct request *req,
    unsigned i, uint32_t gen, struct response *r, struct err *e);

#endif
