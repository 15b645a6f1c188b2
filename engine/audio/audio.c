/* Decoding audiobook files: libsndfile or FFmpeg by content, then down-mixing and soxr's streaming
 * resampler to 16 kHz mono. Every file is read front to back in blocks. */
#include "audio.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
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
#include <libavutil/log.h>
#endif

#define BLOCK 4096

struct folio_audio_file {
    folio_t *ctx;
    char *path;
    char desc[160];
    int rate, channels;
    /* one of the two decoders */
    SNDFILE *sf;
    bool is_mpeg; /* libsndfile took it for MPEG audio */
#ifdef FOLIO_WITH_FFMPEG
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVPacket *pkt;
    AVFrame *frame;
    int stream;
    bool dec_eof;
    bool damaged;      /* in a stretch of damaged data (warned about once) */
    int n_damaged;     /* damaged stretches so far */
    int errors_in_row; /* decoding errors since the last good frame */
    int64_t next_pts;  /* where the next frame should start (samples), if known */
    bool have_next;
#endif
    int in_rate;       /* the rate of what is in f->in: f->rate, until the stream changes it */
    double change_sec; /* where it changed (seconds decoded before the new rate's first block) */
    soxr_t soxr;
    float *in; /* mono input block at the native rate */
    size_t in_len, in_cap;
    float *out; /* resampled, not yet handed out */
    size_t out_len, out_pos, out_cap;
    bool eof, flushed, truncated;
    double decoded_sec; /* native samples decoded so far, in seconds */
    double estimate;
    bool estimate_rough; /* from the bit rate, not the header's count of samples */
    bool checked_length; /* the end was compared with the estimate */
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
    if (folio__audio_has_ffmpeg()) {
        /* By descriptor, libsndfile judges by content alone: it does not hand any file named
         * .mp3 to mpg123 (which prints to stderr); MPEG audio goes to FFmpeg. */
        int fd = open(f->path, O_RDONLY | O_CLOEXEC);
        /* libsndfile owns the descriptor from here: it closes it on failure, too. */
        f->sf = fd >= 0 ? sf_open_fd(fd, SFM_READ, &info, SF_TRUE) : NULL;
    } else {
        f->sf = sf_open(f->path, SFM_READ, &info);
    }
    if (!f->sf) return FOLIO_ENOTFOUND;
    if (info.channels < 1 || info.samplerate < 1000 || info.samplerate > 768000) {
        sf_close(f->sf);
        f->sf = NULL;
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: unsupported audio (%d channels at %d Hz)",
                            f->path, info.channels, info.samplerate);
    }
    f->rate = info.samplerate;
    f->channels = info.channels;
    f->is_mpeg = (info.format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG;
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
/* FFmpeg's log is process-wide: one callback, installed once, hands each message to the context
 * of the thread that is calling FFmpeg (set around every call into it), or drops it. Folio
 * reports what the messages mean (damage, an unreadable file) in its own words, so they go to
 * the detail levels. */
static pthread_once_t avlog_once = PTHREAD_ONCE_INIT;
static _Thread_local folio_t *av_log_ctx;

static void av_log_hook(void *avcl, int level, const char *fmt, va_list vl)
{
    folio_t *ctx = av_log_ctx;
    if (!ctx || level > AV_LOG_VERBOSE) return;
    folio_log_level_t to = level <= AV_LOG_ERROR ? FOLIO_LOG_INFO : FOLIO_LOG_DEBUG;
    if (!folio__logs(ctx, to)) return;
    char line[1024];
    int prefix = 1;
    av_log_format_line2(avcl, level, fmt, vl, line, sizeof(line), &prefix);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    if (n) folio__log(ctx, to, "ffmpeg: %s", line);
}

static void install_av_log(void)
{
    av_log_set_callback(av_log_hook);
}

static void av_log_to(folio_t *ctx)
{
    pthread_once(&avlog_once, install_av_log);
    av_log_ctx = ctx;
}

static int open_ffmpeg(folio_audio_file_t *f)
{
    if (avformat_open_input(&f->fmt, f->path, NULL, NULL) < 0) return FOLIO_ENOTFOUND;
    if (avformat_find_stream_info(f->fmt, NULL) < 0)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: cannot read the audio streams", f->path);
    /* The best audio stream, decodable or not: a codec FFmpeg lacks is named as such. */
    f->stream = av_find_best_stream(f->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (f->stream < 0)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: no audio stream in the file", f->path);
    AVCodecParameters *par = f->fmt->streams[f->stream]->codecpar;
    const AVCodec *codec = avcodec_find_decoder(par->codec_id);
    if (!codec) {
        if (par->codec_id == AV_CODEC_ID_NONE)
            return folio__error(f->ctx, FOLIO_EAUDIO,
                                "%s: unsupported audio codec (unknown, format tag 0x%04x)", f->path,
                                (unsigned)par->codec_tag);
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: unsupported audio codec %s", f->path,
                            avcodec_get_name(par->codec_id));
    }
    f->dec = avcodec_alloc_context3(codec);
    if (!f->dec) return FOLIO_ENOMEM;
    if (avcodec_parameters_to_context(f->dec, par) < 0 || avcodec_open2(f->dec, codec, NULL) < 0)
        return folio__error(f->ctx, FOLIO_EAUDIO, "%s: cannot open the %s decoder", f->path,
                            codec->name);
    f->pkt = av_packet_alloc();
    f->frame = av_frame_alloc();
    if (!f->pkt || !f->frame) return FOLIO_ENOMEM;
    f->rate = f->dec->sample_rate;
    f->channels = f->dec->ch_layout.nb_channels;
    f->estimate = f->fmt->duration > 0 ? (double)f->fmt->duration / AV_TIME_BASE : 0;
    f->estimate_rough = f->fmt->duration_estimation_method == AVFMT_DURATION_FROM_BITRATE;
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

/* The mean of @fr's @ch channels into @dst. Planar float (MP3, AAC, Vorbis, Opus in FFmpeg) goes
 * channel by channel; the sums are the same, in the same order, as sample by sample. */
static void mix_down(const AVFrame *fr, int ch, int n, float *dst)
{
    if (fr->format == AV_SAMPLE_FMT_FLTP) {
        for (int i = 0; i < n; i++) dst[i] = 0;
        for (int c = 0; c < ch; c++) {
            const float *src = (const float *)fr->extended_data[c];
            for (int i = 0; i < n; i++) dst[i] += src[i];
        }
        for (int i = 0; i < n; i++) dst[i] /= (float)ch;
        return;
    }
    for (int i = 0; i < n; i++) {
        float sum = 0;
        for (int c = 0; c < ch; c++) sum += sample_at(fr, c, i, ch);
        dst[i] = sum / (float)ch;
    }
}

/* Damaged data where FFmpeg could not decode a packet: skip it, as players do, and say where
 * once per damaged stretch. Returns false when there is so much in a row that decoding stops. */
static bool skip_damage(folio_audio_file_t *f)
{
    enum { MAX_WARNINGS = 10, MAX_IN_ROW = 10000 };
    if (!f->damaged) {
        f->damaged = true;
        if (++f->n_damaged <= MAX_WARNINGS)
            folio__warn(f->ctx, "%s: damaged audio at %.1f s skipped%s", f->path, f->decoded_sec,
                        f->n_damaged == MAX_WARNINGS ? " (further damage is not reported)" : "");
    }
    if (++f->errors_in_row < MAX_IN_ROW) return true;
    f->truncated = true;
    folio__warn(f->ctx, "%s: undecodable from %.1f s on; decoded what came before", f->path,
                f->decoded_sec);
    return false;
}

/* Samples of silence to put before a frame of @n samples so that the audio after skipped damage
 * stays where its timestamps say (the frames lost to the damage): 0 where nothing was skipped, so
 * undamaged audio is decoded exactly as it is. */
static size_t damage_gap(folio_audio_file_t *f, int n, int rate)
{
    int64_t ts = f->frame->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) {
        f->next_pts += n;
        return 0;
    }
    int64_t at = av_rescale_q(ts, f->fmt->streams[f->stream]->time_base, (AVRational){1, rate});
    int64_t gap = f->damaged && f->have_next ? at - f->next_pts : 0;
    f->next_pts = at + n;
    f->have_next = true;
    /* A minute at most: a timestamp that jumps further is itself damaged. */
    return gap > 0 && gap <= (int64_t)60 * rate ? (size_t)gap : 0;
}

static long decode_ffmpeg(folio_audio_file_t *f)
{
    for (;;) {
        int r = avcodec_receive_frame(f->dec, f->frame);
        if (r == 0) {
            int n = f->frame->nb_samples, ch = f->frame->ch_layout.nb_channels;
            if (ch < 1) ch = f->channels;
            /* MPEG audio may change its sample rate from one frame to the next (streams
             * joined end to end): each block is resampled at its own rate. */
            int rate = f->frame->sample_rate;
            if (rate < 1000 || rate > 768000) rate = f->in_rate;
            if (rate != f->in_rate) {
                f->in_rate = rate;
                f->change_sec = f->decoded_sec;
                f->have_next = false; /* timestamps in the old rate's samples */
            }
            size_t gap = damage_gap(f, n, rate);
            if (ensure(&f->in, &f->in_cap, gap + (size_t)n) < 0) return FOLIO_ENOMEM;
            memset(f->in, 0, gap * sizeof(float));
            mix_down(f->frame, ch, n, f->in + gap);
            n += (int)gap;
            f->in_len = (size_t)n;
            f->decoded_sec += (double)n / rate;
            f->damaged = false;
            f->errors_in_row = 0;
            av_frame_unref(f->frame);
            return n;
        }
        if (r == AVERROR_EOF) return 0;
        if (r == AVERROR(ENOMEM)) return FOLIO_ENOMEM;
        if (r != AVERROR(EAGAIN)) {
            /* The decoder could not decode a frame; it goes on with the next packet. */
            if (!skip_damage(f)) return 0;
            continue;
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
        if (f->pkt->stream_index == f->stream) {
            r = avcodec_send_packet(f->dec, f->pkt);
            if (r == AVERROR(ENOMEM)) {
                av_packet_unref(f->pkt);
                return FOLIO_ENOMEM;
            }
            if (r < 0 && r != AVERROR(EAGAIN) && !skip_damage(f)) {
                av_packet_unref(f->pkt);
                return 0;
            }
        }
        av_packet_unref(f->pkt);
    }
}
#endif

static long decode(folio_audio_file_t *f)
{
#ifdef FOLIO_WITH_FFMPEG
    if (f->fmt) {
        av_log_to(f->ctx);
        long got = decode_ffmpeg(f);
        av_log_to(NULL);
        return got;
    }
#endif
    return decode_sndfile(f);
}

/* ---- opening ---- */

typedef enum { KIND_OTHER, KIND_MP4, KIND_ADTS, KIND_MPEG } kind_t;

/* What the file's first bytes say it is (after an ID3v2 tag, which MP3 and AAC files may start
 * with): an MP4 container, raw AAC in ADTS frames, MPEG audio frames (MP2/MP3), or something for
 * libsndfile to recognise. */
static kind_t probe(const char *path)
{
    unsigned char h[12] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return KIND_OTHER;
    size_t n = fread(h, 1, sizeof(h), fp);
    if (n == 12 && memcmp(h + 4, "ftyp", 4) == 0) {
        fclose(fp);
        return KIND_MP4;
    }
    if (n >= 10 && memcmp(h, "ID3", 3) == 0) {
        long tag = 10 + ((long)(h[6] & 0x7f) << 21 | (long)(h[7] & 0x7f) << 14 |
                         (long)(h[8] & 0x7f) << 7 | (long)(h[9] & 0x7f));
        if (h[5] & 0x10) tag += 10; /* a footer */
        n = fseek(fp, tag, SEEK_SET) == 0 ? fread(h, 1, 4, fp) : 0;
    }
    fclose(fp);
    if (n < 4 || h[0] != 0xff) return KIND_OTHER;
    /* ADTS: 12 sync bits and layer 00, which MPEG audio never uses; a valid sampling rate. */
    if ((h[1] & 0xf6) == 0xf0) return (h[2] >> 2 & 0xf) < 13 ? KIND_ADTS : KIND_OTHER;
    /* MPEG audio: 11 sync bits, a version, a layer, a bit rate and a sampling rate. */
    if ((h[1] & 0xe0) == 0xe0 && (h[1] >> 3 & 3) != 1 && (h[1] >> 1 & 3) != 0 && (h[2] >> 4) != 0 &&
        (h[2] >> 4) != 15 && (h[2] >> 2 & 3) != 3)
        return KIND_MPEG;
    return KIND_OTHER;
}

/* Open @f with FFmpeg; FOLIO_ENOTFOUND when it does not know the file either. */
static int try_ffmpeg(folio_audio_file_t *f)
{
#ifdef FOLIO_WITH_FFMPEG
    av_log_to(f->ctx);
    int rc = open_ffmpeg(f);
    av_log_to(NULL);
    return rc;
#else
    (void)f;
    return FOLIO_ENOTFOUND;
#endif
}

/* f->soxr: soxr's streaming resampler from @rate to 16 kHz. */
static int start_resampler(folio_audio_file_t *f, int rate)
{
    soxr_error_t e = NULL;
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    f->soxr = soxr_create(rate, FOLIO_AUDIO_RATE, 1, &e, &io, &q, NULL);
    if (e || !f->soxr)
        return folio__error(f->ctx, FOLIO_ENOMEM, "%s: cannot start the resampler: %s", f->path,
                            e ? e : "?");
    return FOLIO_OK;
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
    FILE *fp = fopen(path, "rb");
    if (!fp) FAIL(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    fclose(fp);
    f = calloc(1, sizeof(*f));
    if (!f || !(f->path = folio__strdup(path))) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    f->ctx = ctx;
    kind_t kind = probe(path);
    bool ffmpeg = folio__audio_has_ffmpeg();
    if ((kind == KIND_MP4 || kind == KIND_ADTS) && !ffmpeg)
        FAIL(ctx, FOLIO_EAUDIO, "%s: %s audio, and this Folio was built without FFmpeg", path,
             kind == KIND_MP4 ? "MP4/M4B" : "AAC (ADTS)");
    /* MP4 and AAC go to FFmpeg, and so does MP3 when FFmpeg is built in: it skips damaged frames
     * and goes on where libsndfile's mpg123 stops for good (and prints to stderr). Everything
     * else tries libsndfile first. */
    rc = FOLIO_ENOTFOUND;
    if (kind != KIND_OTHER) rc = try_ffmpeg(f);
    if (rc < 0 && rc != FOLIO_ENOTFOUND) goto fail;
    if (rc == FOLIO_ENOTFOUND && kind == KIND_MP4)
        FAIL(ctx, FOLIO_EAUDIO, "%s: a damaged or truncated MP4/M4B file (FFmpeg cannot read it)",
             path);
    if (rc == FOLIO_ENOTFOUND && kind == KIND_ADTS)
        FAIL(ctx, FOLIO_EAUDIO, "%s: a damaged AAC (ADTS) file (FFmpeg cannot read it)", path);
    if (rc == FOLIO_ENOTFOUND) {
        rc = open_sndfile(f);
        if (rc < 0 && rc != FOLIO_ENOTFOUND) goto fail;
    }
    if (rc == FOLIO_OK && f->sf && f->is_mpeg && ffmpeg && kind == KIND_OTHER) {
        /* MPEG audio the probe missed (junk before the first frame): FFmpeg, as above, if it
         * reads it. */
        sf_close(f->sf);
        f->sf = NULL;
        rc = try_ffmpeg(f);
        if (rc == FOLIO_ENOTFOUND) rc = open_sndfile(f);
        if (rc < 0) goto fail;
    }
    if (rc == FOLIO_ENOTFOUND && kind == KIND_OTHER) rc = try_ffmpeg(f);
    if (rc < 0 && rc != FOLIO_ENOTFOUND) goto fail;
    if (rc == FOLIO_ENOTFOUND)
        FAIL(ctx, FOLIO_EAUDIO,
             "%s: not an audio format Folio reads (WAV, FLAC, OGG, Opus, MP3, M4B)", path);
    TRY(start_resampler(f, f->rate));
    f->in_rate = f->rate;
    if (err) *err = FOLIO_OK;
    return f;
fail:
    folio__audio_close(f);
    if (err) *err = rc;
    return NULL;
}

/* At the end of the stream: a file that ends well before its header says is probably cut off
 * (a download that stopped). Damage already reported is not reported again. */
static void check_length(folio_audio_file_t *f)
{
    if (f->checked_length) return;
    f->checked_length = true;
    double slack = f->estimate_rough ? fmax(1.0, 0.1 * f->estimate) : 1.0;
    if (!f->truncated && f->estimate > 0 && f->decoded_sec < f->estimate - slack)
        folio__warn(f->ctx,
                    "%s: the audio ends at %.1f s, but the file says it lasts %.1f s: truncated?",
                    f->path, f->decoded_sec, f->estimate);
}

/* The stream's sample rate changed to f->in_rate: flush what the resampler holds at the old rate
 * into f->out (empty: everything before was handed out) and start one at the new rate. Returns
 * the samples flushed, or a negative code. */
static long change_rate(folio_audio_file_t *f)
{
    size_t len = 0;
    for (;;) {
        if (ensure(&f->out, &f->out_cap, len + BLOCK) < 0) return FOLIO_ENOMEM;
        size_t odone = 0;
        soxr_error_t e =
            soxr_process(f->soxr, NULL, 0, NULL, f->out + len, f->out_cap - len, &odone);
        if (e) return folio__error(f->ctx, FOLIO_EAUDIO, "%s: resampling failed: %s", f->path, e);
        if (!odone) break;
        len += odone;
    }
    soxr_delete(f->soxr);
    int rc = start_resampler(f, f->in_rate);
    if (rc < 0) return rc;
    folio__info(f->ctx, "%s: the sample rate changes from %d to %d Hz at %.1f s", f->path, f->rate,
                f->in_rate, f->change_sec);
    f->rate = f->in_rate;
    return (long)len;
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
            if (got == 0) {
                f->eof = true;
                check_length(f);
            }
        }
        long flushed = 0;
        if (got > 0 && f->in_rate != f->rate && (flushed = change_rate(f)) < 0) return flushed;
        /* Feed the resampler; at the end, flush it with a NULL input. */
        size_t est = (size_t)((double)(got ? got : BLOCK) * FOLIO_AUDIO_RATE / f->rate) + 256;
        if (ensure(&f->out, &f->out_cap, (size_t)flushed + est) < 0) return FOLIO_ENOMEM;
        size_t odone = 0;
        soxr_error_t e = soxr_process(f->soxr, f->eof ? NULL : f->in, f->eof ? 0 : (size_t)got,
                                      NULL, f->out + flushed, f->out_cap - (size_t)flushed, &odone);
        if (e) return folio__error(f->ctx, FOLIO_EAUDIO, "%s: resampling failed: %s", f->path, e);
        f->out_len = (size_t)flushed + odone;
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
    av_log_to(f->ctx);
    av_packet_free(&f->pkt);
    av_frame_free(&f->frame);
    avcodec_free_context(&f->dec);
    if (f->fmt) avformat_close_input(&f->fmt);
    av_log_to(NULL);
#endif
    if (f->soxr) soxr_delete(f->soxr);
    for (size_t i = 0; i < f->chapters.len; i++) free(f->chapters.items[i].title);
    VEC_FREE(f->chapters);
    free(f->in);
    free(f->out);
    free(f->path);
    free(f);
}
