/*
 * jpeg_plain - whether a JPEG is one every browser shows as it is. See
 * jpeg_plain.h for the contract.
 */
#include "live/jpeg_plain.h"

bool
jpeg_plain_size(const uint8_t *d, size_t n, unsigned *w, unsigned *h)
{
	bool dht = false, sof = false;
	size_t i = 2;

	if (n < 4 || d[0] != 0xFF || d[1] != 0xD8)
		return false;
	while (i + 4 <= n) {
		uint8_t m = d[i + 1];
		size_t len;

		if (d[i] != 0xFF)
			return false;
		if (m == 0xFF) {	/* fill byte */
			i++;
			continue;
		}
		len = (size_t)d[i + 2] << 8 | d[i + 3];
		if (len < 2 || i + 2 + len > n)
			return false;
		if (m == 0xC4) {
			dht = true;
		} else if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
			if (len < 8 || d[i + 4] != 8 ||
			    (d[i + 9] != 1 && d[i + 9] != 3))
				return false;
			*h = (unsigned)d[i + 5] << 8 | d[i + 6];
			*w = (unsigned)d[i + 7] << 8 | d[i + 8];
			sof = true;
		} else if (m >= 0xC3 && m <= 0xCF && m != 0xC8 && m != 0xCC) {
			return false;	/* lossless, hierarchical, arithmetic */
		} else if (m == 0xDA) {
			return sof && dht && *w > 0 && *h > 0;
		}
		i += 2 + len;
	}
	return false;
}
