/* Decoding audiobook files: libsndfile or FFmpeg by content, then down-mixing and soxr's streaming
 * resampler to 16 kHz mono. Every file is read front to back in blocks. */
#include "audio.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sndfile.h>
#include <soxr.h>

#ifdef FOLIO_WITH_FFMPEG
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#endif

#define BLOCK 4096

struct folio_audio_file {
    folio_t *ctx;
    char *path;
    char desc[160];
    int rate, channels;
    /* one of the two decoders */
    SNDFILE *sf;
#ifdef FOLIO_WITH_FFMPEG
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    bool dec_eof;
#endif
    soxr_t soxr;
    float *in; /* mono input block at the native rate */
    size_t in_len, in_cap;
    float *out; /* resampled, not yet handed out */
    size_t out_len, out_pos, out_cap;
    bool eof, flushed, truncated;
    double decoded_sec; /* native samples decoded so far, in seconds */
    double estimate;
    VEC(folio_audio_chapter_t) chapters;
};

bool folio__audio_has_ffmpeg(void)
{
#ifdef FOLIO_WITH_FFMPEG
    return true;
#else
    return false;
#endif
}

double folio__audio_estimated_seconds(const folio_audio_file_t *f)
{
    return f->estimate;
}

const char *folio__audio_describe(const folio_audio_file_t *f)
{
    return f->desc;
}

bool folio__audio_truncated(const folio_audio_file_t *f)
{
    return f->truncated;
}

size_t folio__audio_n_chapters(const folio_audio_file_t *f)
{
    return f->chapters.len;
}

const folio_audio_chapter_t *folio__audio_chapter(const folio_audio_file_t *f, size_t i)
{
    return i < f->chapters.len ? &f->chapters.items[i] : NULL;
}

static int ensure(float **buf, size_t *cap, size_t need)
{
    return folio__grow((void **)buf, cap, need, sizeof(float));
}

/* ---- libsndfile ---- */

static int open_sndfile(folio_audio_file_t *f)
{
    SF_INFO info = {0};
    f->sf = sf_open(f->path, SFM_READ, &info);
    if (!f->sf) return FOLIO_ENOTFOUND;
    if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 768000) {
        sf_close(f->sf);
        f->sf = NULL;
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: unsupported audio (%d channels at %d Hz)",
                            f->path, info.channels, info.samplerate);
    }
    f->rate = info.samplerate;
    f->channels = info.channels;
    f->estimate = info.frames > 0 ? (double)info.frames / info.samplerate : 0;
    SF_FORMAT_INFO fi = {.format = info.format & SF_FORMAT_TYPEMASK};
    sf_command(f->sf, SFC_GET_FORMAT_INFO, &fi, sizeof(fi));
    snprintf(f->desc, sizeof(f->desc), "%s, %d Hz, %d ch (libsndfile)",
             fi.extension ? fi.extension : "audio", f->rate, f->channels);
    return FOLIO_OK;
}

/* Decode the next block into f->in (mono, native rate). 0 at the end. */
static long decode_sndfile(folio_audio_file_t *f)
{
    float buf[BLOCK * 8];
    sf_count_t frames = BLOCK * 8 / f->channels;
    sf_count_t got = sf_readf_float(f->sf, buf, frames);
    if (got < 0) got = 0;
    if (got == 0 && sf_error(f->sf) != SF_ERR_NO_ERROR) {
        f->truncated = true;
        folio__warn(f->ctx, "%s: corrupt audio at %.1f s (%s); decoded what came before", f->path,
                    f->decoded_sec, sf_strerror(f->sf));
    }
    if (ensure(&f->in, &f->in_cap, (size_t)got) < 0) return FOLIO_ENOMEM;
    for (sf_count_t i = 0; i < got; i++) {
        float sum = 0;
        for (int c = 0; c < f->channels; c++) sum += buf[i * f->channels + c];
        f->in[i] = sum / (float)f->channels;
    }
    f->in_len = (size_t)got;
    f->decoded_sec += (double)got / f->rate;
    return (long)got;
}

/* ---- FFmpeg ---- */

#ifdef FOLIO_WITH_FFMPEG
static int open_ffmpeg(folio_audio_file_t *f)
{
    AVDictionary *opts = NULL;
    if (avformat_open_input(&f->fmt, f->path, NULL, &opts) < 0) {
        av_dict_free(&opts);
        return FOLIO_ENOTFOUND;
    }
    av_dict_free(&opts);
    if (avformat_find_stream_info(f->fmt, NULL) < 0)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: cannot read the audio streams", f->path);
    const AVCodec *codec = NULL;
    f->stream = av_find_best_stream(f->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    if (f->stream < 0)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: no audio stream in the file", f->path);
    if (!codec) {
        AVCodecParameters *par = f->fmt->streams[f->stream]->codecpar;
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: unsupported audio codec %s", f->path,
                            avcodec_get_name(par->codec_id));
    }
    f->dec = avcodec_alloc_context3(codec);
    if (!f->dec) return FOLIO_ENOMEM;
    if (avcodec_parameters_to_context(f->dec, f->fmt->streams[f->stream]->codecpar) < 0 ||
        avcodec_open2(f->dec, codec, NULL) < 0)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: cannot open the %s decoder", f->path,
                            codec->name);
    f->pkt = av_packet_alloc();
    f->frame = av_frame_alloc();
    if (!f->pkt || !f->frame) return FOLIO_ENOMEM;
    f->rate = f->dec->sample_rate;
    f->channels = f->dec->ch_layout.nb_channels;
    f->estimate = f->fmt->duration > 0 ? (double)f->fmt->duration / AV_TIME_BASE : 0;
    if (f->rate < 1000 || f->channels < 1)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: unsupported audio (%d channels at %d Hz)",
                            f->path, f->channels, f->rate);
    snprintf(f->desc, sizeof(f->desc), "%s in %s, %d Hz, %d ch (FFmpeg)", codec->name,
             f->fmt->iformat->name, f->rate, f->channels);
    /* Chapter marks (M4B). */
    for (unsigned i = 0; i < f->fmt->nb_chapters; i++) {
        const AVChapter *c = f->fmt->chapters[i];
        const AVDictionaryEntry *t = av_dict_get(c->metadata, "title", NULL, 0);
        folio_audio_chapter_t ch = {folio__strdup(t ? t->value : ""),
                                    (double)c->start * av_q2d(c->time_base),
                                    (double)c->end * av_q2d(c->time_base)};
        if (!ch.title || VEC_PUSH(f->chapters, ch) < 0) {
            free(ch.title);
            return FOLIO_ENOMEM;
        }
    }
    return FOLIO_OK;
}

static float sample_at(const AVFrame *fr, int ch, int i, int channels)
{
    int planar = av_sample_fmt_is_planar(fr->format);
    int idx = planar ? i : i * channels + ch;
    const uint8_t *d = fr->extended_data[planar ? ch : 0];
    switch (fr->format) {
    case AV_SAMPLE_FMT_FLT:
    case AV_SAMPLE_FMT_FLTP:
        return ((const float *)d)[idx];
    case AV_SAMPLE_FMT_DBL:
    case AV_SAMPLE_FMT_DBLP:
        return (float)((const double *)d)[idx];
    case AV_SAMPLE_FMT_S16:
    case AV_SAMPLE_FMT_S16P:
        return ((const int16_t *)d)[idx] / 32768.0f;
    case AV_SAMPLE_FMT_S32:
    case AV_SAMPLE_FMT_S32P:
        return (float)(((const int32_t *)d)[idx] / 2147483648.0);
    case AV_SAMPLE_FMT_U8:
    case AV_SAMPLE_FMT_U8P:
        return (((const uint8_t *)d)[idx] - 128) / 128.0f;
    default:
        return 0;
    }
}

static long decode_ffmpeg(folio_audio_file_t *f)
{
    for (;;) {
        int r = avcodec_receive_frame(f->dec, f->frame);
        if (r == 0) {
            int n = f->frame->nb_samples, ch = f->frame->ch_layout.nb_channels;
            if (ch < 1) ch = f->channels;
            if (ensure(&f->in, &f->in_cap, (size_t)n) < 0) return FOLIO_ENOMEM;
            for (int i = 0; i < n; i++) {
                float sum = 0;
                for (int c = 0; c < ch; c++) sum += sample_at(f->frame, c, i, ch);
                f->in[i] = sum / (float)ch;
            }
            f->in_len = (size_t)n;
            f->decoded_sec += (double)n / f->rate;
            av_frame_unref(f->frame);
            return n;
        }
        if (r == AVERROR_EOF) return 0;
        if (r != AVERROR(EAGAIN)) {
            f->truncated = true;
            folio__warn(f->ctx, "%s: corrupt audio at %.1f s; decoded what came before", f->path,
                        f->decoded_sec);
            return 0;
        }
        if (f->dec_eof) return 0;
        r = av_read_frame(f->fmt, f->pkt);
        if (r < 0) {
            if (r != AVERROR_EOF) {
                f->truncated = true;
                folio__warn(f->ctx, "%s: read error at %.1f s; decoded what came before", f->path,
                            f->decoded_sec);
            }
            avcodec_send_packet(f->dec, NULL);
            f->dec_eof = true;
            continue;
        }
        if (f->pkt->stream_index == f->stream && avcodec_send_packet(f->dec, f->pkt) < 0) {
            /* A damaged packet: skip it, as players do, and say so once. */
            if (!f->truncated)
                folio__warn(f->ctx, "%s: damaged audio at %.1f s skipped", f->path, f->decoded_sec);
        }
        av_packet_unref(f->pkt);
    }
}
#endif

static long decode(folio_audio_file_t *f)
{
#ifdef FOLIO_WITH_FFMPEG
    if (f->fmt) return decode_ffmpeg(f);
#endif
    return decode_sndfile(f);
}

/* ---- opening ---- */

static bool is_mp4(const char *path)
{
    unsigned char head[12] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return false;
    size_t n = fread(head, 1, sizeof(head), fp);
    fclose(fp);
    return n == 12 && memcmp(head + 4, "ftyp", 4) == 0;
}

folio_audio_file_t *folio__audio_open(folio_t *ctx, const char *path, int *err)
{
    int rc = FOLIO_OK;
    folio_audio_file_t *f = NULL;
    struct stat st;
    if (!path) FAIL(ctx, FOLIO_EINVAL, "no audio path");
    if (stat(path, &st) != 0) FAIL(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) FAIL(ctx, FOLIO_EIO, "%s: is a directory, not an audio file", path);
    if (st.st_size == 0) FAIL(ctx, FOLIO_EAUDIO, "%s: the file is empty", path);
    FILE *probe = fopen(path, "rb");
    if (!probe) FAIL(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    fclose(probe);
    f = calloc(1, sizeof(*f));
    if (!f || !(f->path = folio__strdup(path))) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    f->ctx = ctx;
    /* MP4 containers go to FFmpeg; everything else tries libsndfile first. */
    rc = is_mp4(path) ? FOLIO_ENOTFOUND : open_sndfile(f);
    if (rc < 0 && rc != FOLIO_ENOTFOUND) goto fail;
#ifdef FOLIO_WITH_FFMPEG
    if (rc == FOLIO_ENOTFOUND) rc = open_ffmpeg(f);
    if (rc < 0 && rc != FOLIO_ENOTFOUND) goto fail;
#endif
    if (rc == FOLIO_ENOTFOUND) {
        const char *why = is_mp4(path) && !folio__audio_has_ffmpeg()
                              ? "an MP4/M4B file, and this build has no FFmpeg"
                              : "not an audio format Folio reads (WAV, FLAC, OGG, Opus, MP3, M4B)";
        FAIL(ctx, FOLIO_EAUDIO, "%s: %s", path, why);
    }
    soxr_error_t e = NULL;
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    f->soxr = soxr_create(f->rate, FOLIO_AUDIO_RATE, 1, &e, &io, &q, NULL);
    if (e || !f->soxr)
        FAIL(ctx, FOLIO_ENOMEM, "%s: cannot start the resampler: %s", path, e ? e : "?");
    if (err) *err = FOLIO_OK;
    return f;
fail:
    folio__audio_close(f);
    if (err) *err = rc;
    return NULL;
}

long folio__audio_read(folio_audio_file_t *f, int16_t *out, size_t n)
{
    size_t done = 0;
    while (done < n) {
        if (f->out_pos < f->out_len) {
            size_t take = f->out_len - f->out_pos < n - done ? f->out_len - f->out_pos : n - done;
            for (size_t i = 0; i < take; i++) {
                /* Round, no dither: the same input gives the same samples every time. */
                float v = f->out[f->out_pos + i] * 32768.0f;
                long s = lrintf(v);
                out[done + i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
            }
            f->out_pos += take;
            done += take;
            continue;
        }
        if (f->flushed) break;
        long got = 0;
        if (!f->eof) {
            got = decode(f);
            if (got < 0) return got;
            if (got == 0) f->eof = true;
        }
        /* Feed the resampler; at the end, flush it with a NULL input. */
        size_t est = (size_t)((double)(got ? got : BLOCK) * FOLIO_AUDIO_RATE / f->rate) + 256;
        if (ensure(&f->out, &f->out_cap, est) < 0) return FOLIO_ENOMEM;
        size_t odone = 0;
        soxr_error_t e = soxr_process(f->soxr, f->eof ? NULL : f->in, f->eof ? 0 : (size_t)got,
                                      NULL, f->out, f->out_cap, &odone);
        if (e) return folio__error(f->ctx, FOLIO_EAUDIO, "%s: resampling failed: %s", f->path, e);
        f->out_len = odone;
        f->out_pos = 0;
        if (f->eof && odone == 0) f->flushed = true;
    }
    return (long)done;
}

void folio__audio_close(folio_audio_file_t *f)
{
    if (!f) return;
    if (f->sf) sf_close(f->sf);
#ifdef FOLIO_WITH_FFMPEG
    av_packet_free(&f->pkt);
    av_frame_free(&f->frame);
    avcodec_free_context(&f->dec);
    if (f->fmt) avformat_close_input(&f->fmt);
#endif
    if (f->soxr) soxr_delete(f->soxr);
    for (size_t i = 0; i < f->chapters.len; i++) free(f->chapters.items[i].title);
    VEC_FREE(f->chapters);
    free(f->in);
    free(f->out);
    free(f->path);
    free(f);
}
