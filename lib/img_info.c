/*
 * img_info - ?info on an image: what its headers say, as JSON.
 */
#include "img_gm.h"

#include <string.h>
#include <sys/mman.h>

#include "json.h"

/*
 * Whether the source has an alpha channel. A ping does not say for most
 * coders, so unless PNG's header does, the first frame is read (within the
 * source pixel limit, as for a thumbnail). JPEG never has one.
 */
static bool
has_alpha(const struct img_job *job, const void *data, const Image *ping)
{
	const ImageAttribute *a = GetImageAttribute(ping, "png:IHDR.color-type-orig");
	ExceptionInfo ex;
	ImageInfo *ii;
	Image *im;
	bool alpha;

	if (ping->matte || job->type == MT_JPEG)
		return ping->matte;
	if (a != NULL && a->value != NULL && (strcmp(a->value, "4") == 0 ||
	    strcmp(a->value, "6") == 0))
		return true;
	if (job->limits.max_source_pixels &&
	    (unsigned long long)ping->columns * ping->rows >
	    job->limits.max_source_pixels)
		return false;
	GetExceptionInfo(&ex);
	ii = CloneImageInfo(NULL);
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->subimage = 0;
	ii->subrange = 1;
	im = BlobToImage(ii, data, (size_t)job->size, &ex);
	alpha = im != NULL && im->matte;
	if (im != NULL)
		DestroyImageList(im);
	DestroyImageInfo(ii);
	DestroyExceptionInfo(&ex);
	return alpha;
}

static const char *
colorspace_name(const Image *im)
{
	/* A ping fills colorspace for CMYK; libjpeg's own name is the only
	 * word on a grey JPEG before its pixels are read. */
	const ImageAttribute *a = GetImageAttribute(im, "JPEG-Colorspace-Name");

	if (IsCMYKColorspace(im->colorspace))
		return "cmyk";
	if (IsGrayColorspace(im->colorspace) ||
	    (a != NULL && a->value != NULL && strcmp(a->value, "GRAYSCALE") == 0))
		return "gray";
	return "rgb";
}

int
img_info(const struct img_job *job, struct sink *out, struct err *e)
{
	ExceptionInfo ex;
	ImageInfo *ii = NULL;
	Image *im = NULL;
	void *map = MAP_FAILED;
	struct membuf m;
	size_t icc = 0;
	int orient, rc;

	membuf_init(&m);
	GetExceptionInfo(&ex);
	/* Headers only: no need to fault the whole file in. */
	if ((rc = img_map_source(job, false, &map, e)) < 0)
		goto out;
	ii = CloneImageInfo(NULL);
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->filename[0] = '\0';
	if ((im = PingBlob(ii, map, (size_t)job->size, &ex)) == NULL) {
		rc = img_fail(&ex, e, "not a decodable image");
		goto out;
	}
	orient = img_exif_orientation(im);
	(void)GetImageProfile(im, "ICM", &icc);
	json_raw(&m, "{\"format\": ");
	json_str(&m, sniff_coder(job->type));
	json_raw(&m, ", \"mime\": ");
	json_str(&m, sniff_mime(job->type));
	json_raw(&m, ", \"width\": %lu, \"height\": %lu, \"frames\": %lu, "
	    "\"orientation\": %d, \"alpha\": %s, \"colorspace\": ",
	    orient >= 5 ? im->rows : im->columns,
	    orient >= 5 ? im->columns : im->rows,
	    (unsigned long)GetImageListLength(im), orient,
	    has_alpha(job, map, im) ? "true" : "false");
	json_str(&m, colorspace_name(im));
	json_raw(&m, ", \"icc\": %s, \"size\": %lld}\n",
	    icc ? "true" : "false", (long long)job->size);
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_INTERNAL, "client went away") : 0;
out:
	if (im != NULL)
		DestroyImageList(im);
	FREEF(DestroyImageInfo, ii);
	if (map != MAP_FAILED)
		munmap(map, (size_t)job->size);
	DestroyExceptionInfo(&ex);
	membuf_cleanup(&m);
	return rc;
}
