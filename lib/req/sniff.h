/*
 * sniff - which decoder may read a file, decided by its first bytes against
 * an allow-list, never by its name.
 */
#ifndef MF_SNIFF_H
#define MF_SNIFF_H

#include <stddef.h>

#include <stdbool.h>

enum media_type {
	MT_UNKNOWN = 0,
	MT_JPEG, MT_PNG, MT_GIF, MT_WEBP,
	MT_TIFF, MT_HEIF /* HEIC and AVIF */, MT_JXL,
	/* videos: the demuxer is chosen from these, never probed */
	MT_MP4,		/* ISO BMFF / QuickTime: MP4, MOV, M4V, 3GP */
	MT_MKV,		/* EBML: Matroska, WebM */
	MT_AVI,
	MT_MPEGTS,
	MT_COUNT,	/* the media types, what sniff_type() returns, end here */
	/* Not media: recognised only by sniff_type_program(), for the
	 * accept lists of [program NAME] routes; no decoder here reads it. */
	MT_PNM = MT_COUNT,	/* Netpbm: PBM, PGM, PPM, PAM */
	MT_ALL,
	/* Output only: what the AVIF encoder writes (format=avif). AVIF
	 * sources sniff as MT_HEIF, read by the one HEIF reader; no accept
	 * list names this. sniff_coder() and sniff_mime() know it. */
	MT_AVIF
};

/*
 * How many leading bytes sniff_type() wants: MPEG-TS is recognised by its
 * sync byte repeating every 188 bytes, three times.
 */
#define SNIFF_BYTES 1024

/* The type of a file starting with buf[0..len), or MT_UNKNOWN. */
enum media_type sniff_type(const unsigned char *buf, size_t len);

/*
 * sniff_type(), else the types only a [program NAME] route may name in
 * its accept list (MT_PNM), else MT_UNKNOWN.
 */
enum media_type sniff_type_program(const unsigned char *buf, size_t len);

bool sniff_is_video(enum media_type t);

/*
 * The name of a type in a config's accept list ("jpeg", "mp4", "pnm"),
 * or NULL for MT_UNKNOWN and anything past MT_ALL. A static string.
 */
const char *sniff_name(enum media_type t);

/*
 * The type called name (n bytes, any case): a sniff_name(), or one of
 * the other names of the same sniffed type: jpg, tif, heic, avif, mov,
 * m4v, webm, ts. MT_UNKNOWN if none.
 */
enum media_type sniff_type_named(const char *name, size_t n);

/* The libavformat demuxer of a video type ("mov", ...), else NULL. */
const char *sniff_demuxer(enum media_type t);

/* The GraphicsMagick coder name ("JPEG") and MIME type of a type;
 * the coder is NULL for anything GraphicsMagick must not read. */
const char *sniff_coder(enum media_type t);
const char *sniff_mime(enum media_type t);

#endif
