/*
 * sniff - magic bytes of the allowed formats (see sniff.h). Anything else,
 * SVG, MVG, PostScript or text included, is MT_UNKNOWN, so GraphicsMagick
 * is never asked to guess.
 */
#include "sniff.h"

#include <stdbool.h>
#include <string.h>

/* buf[0..len) holds magic[0..n) at off. */
static bool
has(const unsigned char *buf, size_t len, size_t off, const char *magic,
    size_t n)
{
	return len >= off + n && memcmp(buf + off, magic, n) == 0;
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
out:
	return t;
}

const char *
sniff_coder(enum media_type t)
{
	static const char *const coders[MT_COUNT] = {
		[MT_UNKNOWN] = NULL, [MT_JPEG] = "JPEG", [MT_PNG] = "PNG",
		[MT_GIF] = "GIF", [MT_WEBP] = "WEBP",
	};

	return (unsigned)t < MT_COUNT ? coders[t] : NULL;
}

const char *
sniff_mime(enum media_type t)
{
	static const char *const mimes[MT_COUNT] = {
		[MT_UNKNOWN] = "application/octet-stream",
		[MT_JPEG] = "image/jpeg", [MT_PNG] = "image/png",
		[MT_GIF] = "image/gif", [MT_WEBP] = "image/webp",
	};

	return (unsigned)t < MT_COUNT ? mimes[t] : mimes[MT_UNKNOWN];
}
