/*
 * sniff - which decoder may read a file, decided by its first bytes against
 * an allow-list, never by its name.
 */
#ifndef MF_SNIFF_H
#define MF_SNIFF_H

#include <stddef.h>

enum media_type {
	MT_UNKNOWN = 0,
	MT_JPEG, MT_PNG, MT_GIF, MT_WEBP,
	MT_COUNT
};

#define SNIFF_BYTES 16	/* how many leading bytes sniff_type() looks at */

/* The type of a file starting with buf[0..len), or MT_UNKNOWN. */
enum media_type sniff_type(const unsigned char *buf, size_t len);

/* The GraphicsMagick coder name ("JPEG") and MIME type of a type. */
const char *sniff_coder(enum media_type t);
const char *sniff_mime(enum media_type t);

#endif
