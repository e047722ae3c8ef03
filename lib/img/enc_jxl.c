/*
 * enc_jxl - JPEG XL through libjxl. See enc_jxl.h.
 */
#include "img/enc_jxl.h"

#include <jxl/encode.h>

#include "img/qmap.h"

/*
 * q -> Butteraugli distance, measured (scripts/qmap.py, README "AVIF and
 * JPEG XL"): at q = 30, 50, 75, 90, 95 the distance whose JPEG XL (effort
 * 3) has the mean luma SSIM of the JPEG the server writes at that q, over
 * four 600x400 test pictures. At q=10 even libjxl's largest distance (15)
 * is better than JPEG, so q <= 10 is 15; q=100 is the smallest lossy
 * distance. Linear between points; a higher q is never a larger distance.
 */
static const struct qmap_point jxl_q[] = {
	{ 1, 15.0 }, { 10, 15.0 }, { 30, 3.69 }, { 50, 2.09 }, { 75, 1.31 },
	{ 90, 0.70 }, { 95, 0.29 }, { 100, 0.1 },
};

/* Bytes handed to the sink at a time: encoded output, not pixels. */
#define JXL_CHUNK	65536

/* Past these a codestream needs level 10 (level 5: 2^28 pixels, 2^18 a
 * side); the plan's own limits keep sides far below. */
#define JXL_LEVEL5_PIXELS	((unsigned long long)1 << 28)

double
enc_jxl_distance(unsigned q)
{
	return qmap_lookup(jxl_q, sizeof(jxl_q) / sizeof(*jxl_q), q);
}

/* Drains the encoder's output into out through buf. */
static int
jxl_drain(JxlEncoder *enc, uint8_t *buf, struct sink *out, struct err *e)
{
	JxlEncoderStatus st;

	do {
		uint8_t *next = buf;
		size_t avail = JXL_CHUNK;

		st = JxlEncoderProcessOutput(enc, &next, &avail);
		if (st == JXL_ENC_ERROR)
			return err_set(e, ERR_INTERNAL, "jxl: encoder error %d",
			    (int)JxlEncoderGetError(enc));
		if (next > buf && sink_write(out, buf, (size_t)(next - buf)) < 0)
			return err_set(e, ERR_GONE, "client went away");
	} while (st == JXL_ENC_NEED_MORE_OUTPUT);
	return 0;
}

int
enc_jxl_write(const unsigned char *px, unsigned w, unsigned h, bool alpha,
    unsigned q, unsigned effort, struct sink *out, struct err *e)
{
	JxlEncoder *enc = NULL;
	JxlEncoderFrameSettings *fs;
	JxlBasicInfo info;
	JxlColorEncoding ce;
	JxlPixelFormat pf = { alpha ? 4 : 3, JXL_TYPE_UINT8, JXL_NATIVE_ENDIAN,
	    0 };
	uint8_t buf[JXL_CHUNK];
	size_t bytes = (size_t)w * h * (alpha ? 4u : 3u);
	int rc = 0;

	if (effort < ENC_JXL_EFFORT_MIN)
		effort = ENC_JXL_EFFORT_MIN;
	if (effort > ENC_JXL_EFFORT_MAX)
		effort = ENC_JXL_EFFORT_MAX;
	if (w == 0 || h == 0) {
		rc = err_set(e, ERR_INTERNAL, "jxl: empty image");
		goto out;
	}
	if ((enc = JxlEncoderCreate(NULL)) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	JxlEncoderInitBasicInfo(&info);
	info.xsize = w;
	info.ysize = h;
	info.bits_per_sample = 8;
	info.num_color_channels = 3;
	info.alpha_bits = alpha ? 8 : 0;
	info.num_extra_channels = alpha ? 1 : 0;
	/* Lossy: XYB inside, sRGB when decoded. */
	info.uses_original_profile = JXL_FALSE;
	JxlColorEncodingSetToSRGB(&ce, JXL_FALSE);
	if (((unsigned long long)w * h > JXL_LEVEL5_PIXELS &&
	    JxlEncoderSetCodestreamLevel(enc, 10) != JXL_ENC_SUCCESS) ||
	    JxlEncoderSetBasicInfo(enc, &info) != JXL_ENC_SUCCESS ||
	    JxlEncoderSetColorEncoding(enc, &ce) != JXL_ENC_SUCCESS ||
	    (fs = JxlEncoderFrameSettingsCreate(enc, NULL)) == NULL ||
	    JxlEncoderFrameSettingsSetOption(fs, JXL_ENC_FRAME_SETTING_EFFORT,
	    (int64_t)effort) != JXL_ENC_SUCCESS ||
	    JxlEncoderSetFrameDistance(fs, (float)enc_jxl_distance(q)) !=
	    JXL_ENC_SUCCESS ||
	    JxlEncoderAddImageFrame(fs, &pf, px, bytes) != JXL_ENC_SUCCESS) {
		rc = err_set(e, ERR_INTERNAL, "jxl: encoder setup error %d",
		    (int)JxlEncoderGetError(enc));
		goto out;
	}
	JxlEncoderCloseInput(enc);
	rc = jxl_drain(enc, buf, out, e);
out:
	if (enc != NULL)
		JxlEncoderDestroy(enc);
	return rc;
}
