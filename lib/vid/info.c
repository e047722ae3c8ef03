/*
 * vid/info - a video file's metadata as JSON, from its headers. See vid.h
 * for the contract.
 */
#include "vid/answer.h"

#include <libavutil/pixdesc.h>

#include "core/json.h"

static double
rate(AVRational r)
{
	return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

int
vid_info(struct vctx *v, const struct vid_job *job, struct sink *out,
    struct err *e)
{
	struct membuf m;
	int rc;

	membuf_init(&m);
	json_raw(&m, "{\"container\": ");
	json_str(&m, v->fmt->iformat->name);
	json_raw(&m, ", \"duration\": ");
	json_num(&m, v->duration);
	json_raw(&m, ", \"bitrate\": %lld, \"size\": %lld, \"streams\": [",
	    (long long)v->fmt->bit_rate, (long long)job->size);
	for (unsigned i = 0; i < v->fmt->nb_streams; i++) {
		const AVStream *st = v->fmt->streams[i];
		const AVCodecParameters *par = st->codecpar;
		const char *type = av_get_media_type_string(par->codec_type);

		json_raw(&m, "%s{\"index\": %u, \"type\": ", i ? ", " : "", i);
		json_str(&m, type ? type : "unknown");
		json_raw(&m, ", \"codec\": ");
		json_str(&m, avcodec_get_name(par->codec_id));
		json_raw(&m, ", \"bitrate\": %lld", (long long)par->bit_rate);
		if (par->codec_type == AVMEDIA_TYPE_VIDEO) {
			json_raw(&m, ", \"width\": %d, \"height\": %d, \"fps\": ",
			    par->width, par->height);
			json_num(&m, rate(st->avg_frame_rate) ?
			    rate(st->avg_frame_rate) : rate(st->r_frame_rate));
			json_raw(&m, ", \"rotation\": %u, \"pixel_format\": ",
			    vid_rotation(st));
			json_str(&m, av_get_pix_fmt_name(par->format));
		} else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
			json_raw(&m, ", \"channels\": %d, \"sample_rate\": %d",
			    par->ch_layout.nb_channels, par->sample_rate);
		}
		json_raw(&m, "}");
	}
	json_raw(&m, "]}\n");
	rc = sink_write(out, m.data, m.len) < 0 ?
	    err_set(e, ERR_GONE, "client went away") : 0;
	membuf_cleanup(&m);
	return rc;
}
