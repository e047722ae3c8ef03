/*
 * enc_avif - AVIF through libavif and libaom. See enc_avif.h.
 */
#include "img/enc_avif.h"

#include <avif/avif.h>

#include "img/qmap.h"

/*
 * q -> AV1 quantizer, measured (scripts/qmap.py, README "AVIF and JPEG
 * XL"): at q = 10, 30, 50, 75, 90, 95 the quantizer whose AVIF (speed 6,
 * 4:4:4, the options below) has the mean luma SSIM of the JPEG the server
 * writes at that q, over four 600x400 test pictures; at q=50 29 and 30 are
 * both within 0.0003 of it, 29 is kept (sharp's AVIF at q=50 is matched
 * with a margin in bytes and SSIM on both bench fixtures). q=1 the worst
 * quantizer, q=100 the best. Linear between points; a higher q is never a
 * coarser quantizer.
 */
static const struct qmap_point avif_q[] = {
	{ 1, 63 }, { 10, 62 }, { 30, 48 }, { 50, 29 }, { 75, 16 },
	{ 90, 7 }, { 95, 3 }, { 100, 0 },
};

/*
 * libaom's options for the colour planes beyond speed and quantizer,
 * chosen by measuring bytes and SSIM against sharp's AVIF (README "AVIF and
 * JPEG XL"): a delta q per superblock from the variance of its 8x8
 * blocks, around the picture's mean (libaom's "user rating based" mode:
 * coarser where detail hides the error, finer on smooth areas), and
 * quantization matrices (high frequencies quantized more coarsely).
 * The alpha plane keeps libaom's defaults. An option libaom does not know
 * fails avifEncoderWrite().
 */
static const struct {
	const char *key, *value;
} avif_aom[] = {
	{ "color:deltaq-mode", "4" },
	{ "color:enable-qm", "1" },
};

int
enc_avif_quantizer(unsigned q)
{
	return (int)(qmap_lookup(avif_q, sizeof(avif_q) / sizeof(*avif_q),
	    q) + 0.5);
}

const char *
enc_avif_codec(void)
{
	return avifCodecName(AVIF_CODEC_CHOICE_AOM, AVIF_CODEC_FLAG_CAN_ENCODE);
}

int
enc_avif_write(const unsigned char *px, unsigned w, unsigned h, bool alpha,
    unsigned q, unsigned speed, struct sink *out, struct err *e)
{
	avifImage *im = NULL;
	avifEncoder *enc = NULL;
	avifRWData data = AVIF_DATA_EMPTY;
	avifRGBImage rgb;
	avifResult r;
	int quant = enc_avif_quantizer(q), rc = 0;

	if (w == 0 || h == 0 || w > ENC_AVIF_MAX_SIDE || h > ENC_AVIF_MAX_SIDE) {
		rc = err_set(e, ERR_INTERNAL, "avif: %ux%u is past the "
		    "encoder's %u a side", w, h, ENC_AVIF_MAX_SIDE);
		goto out;
	}
	if (enc_avif_codec() == NULL) {
		rc = err_set(e, ERR_INTERNAL, "avif: libavif has no AV1 encoder");
		goto out;
	}
	/*
	 * 4:4:4: 4:2:0 saved 10% of the bytes but lost 0.006 of SSIM over
	 * Y, U and V, more than the bench allows (README "AVIF and JPEG XL").
	 */
	if ((im = avifImageCreate(w, h, 8, AVIF_PIXEL_FORMAT_YUV444)) == NULL ||
	    (enc = avifEncoderCreate()) == NULL) {
		rc = err_set(e, ERR_INTERNAL, "out of memory");
		goto out;
	}
	/* What the pixels are: sRGB, as every other answer. */
	im->colorPrimaries = AVIF_COLOR_PRIMARIES_BT709;
	im->transferCharacteristics = AVIF_TRANSFER_CHARACTERISTICS_SRGB;
	im->matrixCoefficients = AVIF_MATRIX_COEFFICIENTS_BT601;
	im->yuvRange = AVIF_RANGE_FULL;
	avifRGBImageSetDefaults(&rgb, im);
	rgb.format = alpha ? AVIF_RGB_FORMAT_RGBA : AVIF_RGB_FORMAT_RGB;
	/* libavif only reads the pixels; its API is not const. */
	rgb.pixels = (uint8_t *)px;
	rgb.rowBytes = w * (alpha ? 4u : 3u);
	/* Allocates the YUV planes, and the alpha plane for RGBA. */
	if ((r = avifImageRGBToYUV(im, &rgb)) != AVIF_RESULT_OK) {
		rc = err_set(e, ERR_INTERNAL, "avif: %s", avifResultToString(r));
		goto out;
	}
	enc->codecChoice = AVIF_CODEC_CHOICE_AOM;
	enc->maxThreads = 1;
	enc->speed = (int)(speed > ENC_AVIF_SPEED_MAX ? ENC_AVIF_SPEED_MAX :
	    speed);
	enc->minQuantizer = enc->maxQuantizer = quant;
	/* Edges of a cut-out matter more than its colours: alpha finer. */
	enc->minQuantizerAlpha = enc->maxQuantizerAlpha = quant / 2;
	for (size_t i = 0; i < sizeof(avif_aom) / sizeof(*avif_aom); i++)
		avifEncoderSetCodecSpecificOption(enc, avif_aom[i].key,
		    avif_aom[i].value);
	if ((r = avifEncoderWrite(enc, im, &data)) != AVIF_RESULT_OK) {
		rc = err_set(e, ERR_INTERNAL, "avif: %s%s%s",
		    avifResultToString(r), enc->diag.error[0] ? ": " : "",
		    enc->diag.error);
		goto out;
	}
	if (sink_write(out, data.data, data.size) < 0)
		rc = err_set(e, ERR_GONE, "client went away");
out:
	avifRWDataFree(&data);
	if (enc != NULL)
		avifEncoderDestroy(enc);
	if (im != NULL)
		avifImageDestroy(im);
	return rc;
}
