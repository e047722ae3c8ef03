/*
 * liveopt - a live source's `format` and `options` as the config gives
 * them, checked at config load and turned into libav's dictionary at open.
 *
 * Syntax of options: items separated by spaces or tabs, each KEY=VALUE.
 * KEY is an AVOption name (A-Z, a-z, 0-9, _ and -); VALUE runs to the
 * next space, or is written in double quotes to hold spaces (inside
 * them \" is a quote and \\ a backslash). An empty VALUE is written "".
 * A key given twice, an item without '=', an unquoted quote and a KEY
 * that no libav demuxer, device or protocol reads are refused.
 * Everything is a string to libav: the demuxer, device or protocol that
 * reads a key parses its value when the source opens.
 *
 * Both checks register libavdevice's devices first (idempotent), so they
 * can run in any process, before livesrc_init().
 * Ownership: nothing here keeps a pointer it is given.
 */
#ifndef MF_LIVEOPT_H
#define MF_LIVEOPT_H

#include <stdbool.h>
#include <stddef.h>

struct AVDictionary;

/* Whether libav (devices included) has an input format of that name. */
bool liveopt_format_known(const char *name);

/*
 * s's syntax, and that each key is an input option of some libav
 * demuxer, device or protocol: 0, or -1 with the reason in why.
 */
int liveopt_check(const char *s, char *why, size_t len);

/*
 * s's items added to *dict (the caller frees it with av_dict_free(),
 * also after a failure), a key there already overwritten: 0, or -1 with
 * the reason in why (syntax only: keys are not looked up).
 */
int liveopt_parse(const char *s, struct AVDictionary **dict, char *why,
    size_t len);

/* Whether the URL's query, else the options, say listen=N with N != 0
 * (or a bare "listen"): a listening input, waiting for its pusher. */
bool liveopt_listens(const char *url, const struct AVDictionary *opts);

#endif
