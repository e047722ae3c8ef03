/*
 * img_info - ?info on an image: what its headers say, as JSON. A source of
 * more frames than max_frames is answered as for a thumbnail (413): its
 * frames are counted up to one past the limit, never all of them.
 */
#include "img/img.h"

#include <string.h>
#include <sys/mman.h>

#include "core/json.h"
#include "img/img_gm.h"
#include "img/img_src.h"
#include "img/png_guard.h"

/*
 * Whether the source has an alpha channel (1 or 0). A ping does not say for
 * most coders, so unless PNG's header does, the first frame is read (within
 * the source pixel limit, as for a thumbnail; a PNG whose data runs past
 * its rows is refused first, as for a thumbnail). JPEG never has one.
 */
static int
has_alpha(const struct img_job *job, const void *data, const Image *ping,
    struct err *e)
{
	const ImageAttribute *a = GetImageAttribute(ping, "png:IHDR.color-type-orig");
	ExceptionInfo ex;
	ImageInfo *ii;
	Image *im;
	int alpha;

	if (ping->matte || job->type == MT_JPEG)
		return ping->matte ? 1 : 0;
	if (a != NULL && a->value != NULL && (strcmp(a->value, "4") == 0 ||
	    strcmp(a->value, "6") == 0))
		return 1;
	if (job->limits.max_source_pixels &&
	    (unsigned long long)ping->columns * ping->rows >
	    job->limits.max_source_pixels)
		return 0;
	if (job->type == MT_PNG &&
	    (alpha = png_guard_check(data, (size_t)job->size, e)) < 0)
		return alpha;
	GetExceptionInfo(&ex);
	ii = CloneImageInfo(NULL);
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->subimage = 0;
	ii->subrange = 1;
	im = BlobToImage(ii, data, (size_t)job->size, &ex);
	alpha = im != NULL && im->matte ? 1 : 0;
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
	int orient, alpha, rc;

	membuf_init(&m);
	GetExceptionInfo(&ex);
	/* Headers only: no need to fault the whole file in. */
	if ((rc = img_src_map(job, false, &map, e)) < 0)
		goto out;
	ii = CloneImageInfo(NULL);
	snprintf(ii->magick, sizeof(ii->magick), "%s", sniff_coder(job->type));
	ii->filename[0] = '\0';
	/* Counted while reading the headers, one past the limit at most. */
	ii->subimage = 0;
	ii->subrange = img_src_frames_bound(job);
	if ((im = PingBlob(ii, map, (size_t)job->size, &ex)) == NULL) {
		rc = img_fail(&ex, e, "not a decodable image");
		goto out;
	}
	if (job->limits.max_frames &&
	    GetImageListLength(im) > job->limits.max_frames) {
		rc = img_src_frames_over(job, e);
		goto out;
	}
	if ((alpha = has_alpha(job, map, im, e)) < 0) {
		rc = alpha;
		goto out;
	}
	orient = img_src_orientation(im);
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
	    alpha ? "true" : "false");
	json_str(&m, colorspace_name(im));
	json_raw(&m, ", \"icc\": %s, \"size\": %lld}\n",
	    icc ? "true" : "false", (long long)job->size);
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
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
