/*
 * img_color - everything leaves as sRGB: CMYK sources and sources tagged
 * with another ICC profile (Adobe RGB, Display P3, a printer's CMYK) are
 * converted through lcms (GraphicsMagick's ProfileImage) to an sRGB profile
 * made here by lcms itself; untagged RGB is taken as sRGB already.
 */
#include "img/img_color.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <lcms2.h>

/* The sRGB profile's bytes, made once per process (read-only after). */
static unsigned char *srgb_icc;
static cmsUInt32Number srgb_len;

int
img_color_init(void)
{
	cmsHPROFILE prof = cmsCreate_sRGBProfile();
	int rc = -1;

	if (prof == NULL)
		return -1;
	if (cmsSaveProfileToMem(prof, NULL, &srgb_len) && srgb_len > 0 &&
	    (srgb_icc = malloc(srgb_len)) != NULL &&
	    cmsSaveProfileToMem(prof, srgb_icc, &srgb_len))
		rc = 0;
	cmsCloseProfile(prof);
	return rc;
}

/* An embedded profile that describes itself as sRGB needs no work. */
static bool
icc_is_srgb(const unsigned char *icc, size_t len)
{
	cmsHPROFILE prof = cmsOpenProfileFromMem(icc, (cmsUInt32Number)len);
	char desc[256] = "";
	bool srgb;

	if (prof == NULL)
		return false;
	cmsGetProfileInfoASCII(prof, cmsInfoDescription, "en", "US", desc,
	    sizeof(desc));
	srgb = cmsGetColorSpace(prof) == cmsSigRgbData &&
	    strstr(desc, "sRGB") != NULL;
	cmsCloseProfile(prof);
	return srgb;
}

int
img_color_to_srgb(Image **im, ExceptionInfo *ex, struct err *e)
{
	size_t len = 0;
	const unsigned char *icc = GetImageProfile(*im, "ICM", &len);

	(void)ex;
	if (icc != NULL && len > 0 && !icc_is_srgb(icc, len) &&
	    srgb_icc != NULL) {
		/* Adding an ICC profile to an image that has one transforms
		 * its pixels from the old to the new. */
		if (ProfileImage(*im, "ICM", srgb_icc, srgb_len, MagickTrue) ==
		    MagickFail)
			return img_fail(&(*im)->exception, e, "colour profile");
	}
	if ((*im)->colorspace != RGBColorspace &&
	    TransformColorspace(*im, RGBColorspace) == MagickFail)
		return img_fail(&(*im)->exception, e, "colour space");
	return 0;
}
