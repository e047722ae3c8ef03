/*
 * vid/keys - keyframes from the index. See keys.h for the contract.
 *
 * The demuxers keep their index in the stream (AVIndexEntry): MP4 builds
 * it from the moov's sample tables when the header is read, AVI from idx1,
 * Matroska from its cues. An index that stops well short of the duration
 * (fragments read so far, a cut file) would cut segments wrongly, so it
 * counts as none.
 */
#include "vid/keys.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The index may end this much before the duration: the last frames. */
#define KEYS_SLACK_S	2.0

void
vid_keys_free(struct vid_keys *k)
{
	free(k->ts);
	memset(k, 0, sizeof(*k));
}

double
vid_first_seconds(const AVStream *st)
{
	const AVIndexEntry *ie;

	if (avformat_index_get_entries_count(st) > 0 &&
	    (ie = avformat_index_get_entry((AVStream *)st, 0)) != NULL)
		return ie->timestamp * av_q2d(st->time_base);
	if (st->start_time != AV_NOPTS_VALUE)
		return st->start_time * av_q2d(st->time_base);
	return 0;
}

int
vid_keys(const struct vctx *v, struct vid_keys *k, struct err *e)
{
	AVStream *st = v->st;
	int count = avformat_index_get_entries_count(st);
	double tb = av_q2d(st->time_base), span, dur;
	int64_t prev = INT64_MIN;

	memset(k, 0, sizeof(*k));
	if (count <= 0)
		return VID_KEYS_NONE;
	if ((k->ts = calloc((size_t)count, sizeof(*k->ts))) == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	k->first = INT64_MAX;
	k->last = INT64_MIN;
	for (int i = 0; i < count; i++) {
		const AVIndexEntry *ie = avformat_index_get_entry(st, i);

		if (ie == NULL || ie->timestamp == AV_NOPTS_VALUE)
			continue;
		if (ie->timestamp < k->first)
			k->first = ie->timestamp;
		if (ie->timestamp > k->last)
			k->last = ie->timestamp;
		/* Entries are sorted by time; a repeated one adds nothing. */
		if (!(ie->flags & AVINDEX_KEYFRAME) ||
		    (ie->flags & AVINDEX_DISCARD_FRAME) || ie->timestamp <= prev)
			continue;
		k->ts[k->n++] = prev = ie->timestamp;
	}
	/* The video's own duration: the audio may run longer. */
	dur = st->duration > 0 ? st->duration * tb : v->duration;
	span = k->n ? (k->last - k->first) * tb : 0;
	if (k->n == 0 || (dur > 0 &&
	    span < dur - fmax(KEYS_SLACK_S, 0.01 * dur))) {
		vid_keys_free(k);
		return VID_KEYS_NONE;
	}
	return 0;
}
