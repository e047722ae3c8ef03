/*
 * sniff - magic bytes of the allowed formats (see sniff.h). Anything else,
 * SVG, MVG, PostScript or text included, is MT_UNKNOWN, so GraphicsMagick
 * is never asked to guess. The names of the types are what [program NAME]
 * accept lists say.
 */
#include "req/sniff.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* buf[0..len) holds magic[0..n) at off. */
static bool
has(const unsigned char *buf, size_t len, size_t off, const char *magic,
    size_t n)
{
	return len >= off + n && memcmp(buf + off, magic, n) == 0;
}

/* buf[0..len) holds one of the n four-byte codes of codes[] at off. */
static bool
has_code(const unsigned char *buf, size_t len, size_t off,
    const char *const *codes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (has(buf, len, off, codes[i], 4))
			return true;
	return false;
}

/* An ISO BMFF "ftyp" of a HEIF still image (HEIC, AVIF): such brands are
 * images, not videos. */
static bool
is_heif(const unsigned char *buf, size_t len)
{
	static const char *const brands[] = { "heic", "heix", "heim", "heis",
	    "hevc", "hevx", "mif1", "msf1", "avif", "avis" };

	return has(buf, len, 4, "ftyp", 4) &&
	    has_code(buf, len, 8, brands, sizeof(brands) / sizeof(*brands));
}

/* Any other ISO BMFF / QuickTime file: a first box of a known type (old
 * QuickTime files may start with another box than "ftyp"). is_heif() is
 * asked first. */
static bool
is_bmff(const unsigned char *buf, size_t len)
{
	static const char *const boxes[] = { "ftyp", "moov", "mdat", "free",
	    "skip", "wide" };

	return has_code(buf, len, 4, boxes, sizeof(boxes) / sizeof(*boxes));
}

enum media_type
sniff_type(const unsigned char *buf, size_t len)
{
	enum media_type t = MT_UNKNOWN;

	if (buf == NULL)
		goto out;
	if (has(buf, len, 0, "\xFF\xD8\xFF", 3))
		t = MT_JPEG;
	else if (has(buf, len, 0, "\x89PNG\r\n\x1A\n", 8))
		t = MT_PNG;
	else if (has(buf, len, 0, "GIF87a", 6) || has(buf, len, 0, "GIF89a", 6))
		t = MT_GIF;
	/* RIFF, a 4-byte little-endian size, then the form type. */
	else if (has(buf, len, 0, "RIFF", 4) && has(buf, len, 8, "WEBP", 4))
		t = MT_WEBP;
	else if (has(buf, len, 0, "II*\0", 4) || has(buf, len, 0, "MM\0*", 4))
		t = MT_TIFF;
	else if (is_heif(buf, len))
		t = MT_HEIF;
	/* JPEG XL: a bare codestream, or the ISO BMFF container. */
	else if (has(buf, len, 0, "\xFF\x0A", 2) ||
	    has(buf, len, 0, "\0\0\0\x0CJXL \r\n\x87\n", 12))
		t = MT_JXL;
	else if (has(buf, len, 0, "RIFF", 4) && has(buf, len, 8, "AVI ", 4))
		t = MT_AVI;
	else if (has(buf, len, 0, "\x1A\x45\xDF\xA3", 4))
		t = MT_MKV;
	else if (is_bmff(buf, len))
		t = MT_MP4;
	else if (len >= 3 * 188 && buf[0] == 0x47 && buf[188] == 0x47 &&
	    buf[376] == 0x47)
		t = MT_MPEGTS;
out:
	return t;
}

/*
 * Netpbm: "P1" to "P7" and whitespace (PBM, PGM, PPM in ASCII and binary,
 * PAM). Nothing in these formats names another file.
 */
static bool
is_pnm(const unsigned char *buf, size_t len)
{
	return len >= 3 && buf[0] == 'P' && buf[1] >= '1' && buf[1] <= '7' &&
	    (buf[2] == ' ' || buf[2] == '\t' || buf[2] == '\n' ||
	    buf[2] == '\r');
}

enum media_type
sniff_type_program(const unsigned char *buf, size_t len)
{
	enum media_type t = sniff_type(buf, len);

	if (t == MT_UNKNOWN && buf != NULL && is_pnm(buf, len))
		t = MT_PNM;
	return t;
}

bool
sniff_is_video(enum media_type t)
{
	return t == MT_MP4 || t == MT_MKV || t == MT_AVI || t == MT_MPEGTS;
}

const char *
sniff_demuxer(enum media_type t)
{
	switch (t) {
	case MT_MP4: return "mov";
	case MT_MKV: return "matroska";
	case MT_AVI: return "avi";
	case MT_MPEGTS: return "mpegts";
	default: return NULL;
	}
}

const char *
sniff_coder(enum media_type t)
{
	static const char *const coders[MT_COUNT] = {
		[MT_UNKNOWN] = NULL, [MT_JPEG] = "JPEG", [MT_PNG] = "PNG",
		[MT_GIF] = "GIF", [MT_WEBP] = "WEBP", [MT_TIFF] = "TIFF",
		[MT_HEIF] = "HEIF", [MT_JXL] = "JXL",
	};

	if (t == MT_AVIF)
		return "AVIF";	/* written by img/enc_avif.c, never read */
	return (unsigned)t < MT_COUNT ? coders[t] : NULL;
}

const char *
sniff_mime(enum media_type t)
{
	static const char *const mimes[MT_COUNT] = {
		[MT_UNKNOWN] = "application/octet-stream",
		[MT_JPEG] = "image/jpeg", [MT_PNG] = "image/png",
		[MT_GIF] = "image/gif", [MT_WEBP] = "image/webp",
		[MT_TIFF] = "image/tiff", [MT_HEIF] = "image/heif",
		[MT_JXL] = "image/jxl",
		[MT_MP4] = "video/mp4", [MT_MKV] = "video/x-matroska",
		[MT_AVI] = "video/x-msvideo", [MT_MPEGTS] = "video/mp2t",
	};

	if (t == MT_AVIF)
		return "image/avif";
	return (unsigned)t < MT_COUNT ? mimes[t] : mimes[MT_UNKNOWN];
}

/* The accept-list names, by type; then other names of the same types. */
static const char *const names[MT_ALL] = {
	[MT_JPEG] = "jpeg", [MT_PNG] = "png", [MT_GIF] = "gif",
	[MT_WEBP] = "webp", [MT_TIFF] = "tiff", [MT_HEIF] = "heif",
	[MT_JXL] = "jxl", [MT_MP4] = "mp4", [MT_MKV] = "mkv", [MT_AVI] = "avi",
	[MT_MPEGTS] = "mpegts", [MT_PNM] = "pnm",
};

static const struct {
	const char *name;
	enum media_type t;
} aliases[] = {
	{ "jpg", MT_JPEG }, { "tif", MT_TIFF }, { "heic", MT_HEIF },
	{ "avif", MT_HEIF }, { "mov", MT_MP4 }, { "m4v", MT_MP4 },
	{ "webm", MT_MKV }, { "ts", MT_MPEGTS },
};

const char *
sniff_name(enum media_type t)
{
	return (unsigned)t < MT_ALL ? names[t] : NULL;
}

enum media_type
sniff_type_named(const char *name, size_t n)
{
	for (int t = MT_UNKNOWN + 1; t < MT_ALL; t++)
		if (strlen(names[t]) == n && strncasecmp(name, names[t], n) == 0)
			return (enum media_type)t;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(*aliases); i++)
		if (strlen(aliases[i].name) == n &&
		    strncasecmp(name, aliases[i].name, n) == 0)
			return aliases[i].t;
	return MT_UNKNOWN;
}
