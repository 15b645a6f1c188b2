/* Unit tests of the audio module: every format decodes to the same 16 kHz samples as the WAV
 * (cross-correlation lag within 1 ms, SNR over 20 dB), 44.1 kHz stereo lands on the same timeline,
 * M4B chapter marks are read, formats are told by content, and bad files fail cleanly or decode
 * what is valid with a warning. Test signals are made here with libsndfile and Debian's ffmpeg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/audio/audio.h"
#include "fixture.h"

#include <errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECONDS 6.0

/* A speech-like test signal: harmonic tones whose pitch and loudness move, with pauses. */
static double signal_at(double t)
{
    if (fmod(t, 2.0) > 1.6) return 0; /* a pause every 2 s */
    double f0 = 120 + 60 * sin(2 * M_PI * 0.7 * t);
    double v = 0;
    for (int h = 1; h <= 12; h++) v += sin(2 * M_PI * f0 * h * t + h) / h;
    return 0.25 * v * (0.6 + 0.4 * sin(2 * M_PI * 3 * t));
}

static const char *write_signal(const char *name, int rate, int channels, int format)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fx_dir(), name);
    SF_INFO info = {.samplerate = rate, .channels = channels, .format = format};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) fail_msg("cannot write %s: %s", path, sf_strerror(NULL));
    /* Lossy codecs at a good quality, as audiobooks are sold (the default Vorbis quality is low).
     */
    double quality = 0.9;
    sf_command(f, SFC_SET_VBR_ENCODING_QUALITY, &quality, sizeof(quality));
    size_t n = (size_t)(SECONDS * rate);
    float *buf = malloc(n * (size_t)channels * sizeof(float));
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++)
            buf[i * (size_t)channels + (size_t)c] = (float)signal_at((double)i / rate);
    sf_writef_float(f, buf, (sf_count_t)n);
    sf_close(f);
    free(buf);
    static char out[8][512];
    static int k;
    char *o = out[k++ % 8];
    snprintf(o, 512, "%s", path);
    return o;
}

static int16_t *decode_with(folio_t *ctx, const char *path, size_t *n)
{
    int err;
    folio_audio_file_t *f = folio__audio_open(ctx, path, &err);
    if (!f) fail_msg("cannot open %s: %d", path, err);
    size_t cap = 16000 * 20, len = 0;
    int16_t *s = malloc(cap * sizeof(int16_t));
    long got;
    while ((got = folio__audio_read(f, s + len, cap - len)) > 0) len += (size_t)got;
    assert_true(got == 0);
    folio__audio_close(f);
    *n = len;
    return s;
}

static int16_t *decode_all(const char *path, size_t *n)
{
    return decode_with(NULL, path, n);
}

static bool have_ffmpeg_cli(void)
{
    return system("command -v ffmpeg >/dev/null") == 0;
}

/* The bytes of @path (caller frees). */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot read %s", path);
    char *buf = malloc(1 << 22);
    *n = fread(buf, 1, 1 << 22, f);
    fclose(f);
    return buf;
}

/* Mean square of @n samples from @at. */
static double power(const int16_t *s, size_t at, size_t n)
{
    double p = 0;
    for (size_t i = at; i < at + n; i++) p += (double)s[i] * s[i];
    return p / (double)n;
}

/* Best lag of @b against @a within +-40 ms, and the SNR (dB) of @b at that lag. */
static void compare(const int16_t *a, size_t na, const int16_t *b, size_t nb, int *lag, double *snr)
{
    int best = 0;
    double best_v = -1e300;
    size_t n = na < nb ? na : nb;
    for (int l = -640; l <= 640; l++) {
        double v = 0;
        for (size_t i = 1000; i + 1000 < n; i += 3) {
            long j = (long)i + l;
            if (j >= 0 && (size_t)j < nb) v += (double)a[i] * b[j];
        }
        if (v > best_v) best_v = v, best = l;
    }
    double sig = 0, err = 0;
    for (size_t i = 1000; i + 1000 < n; i++) {
        long j = (long)i + best;
        if (j < 0 || (size_t)j >= nb) continue;
        double d = (double)a[i] - b[j];
        sig += (double)a[i] * a[i];
        err += d * d;
    }
    *lag = best;
    *snr = 10 * log10(sig / (err + 1e-9));
}

static void formats_decode_to_the_same_samples(void **state)
{
    (void)state;
    const char *wav = write_signal("ref.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    size_t nref;
    int16_t *ref = decode_all(wav, &nref);
    assert_int_equal(nref, (size_t)(SECONDS * 16000));
    struct {
        const char *name;
        int rate, channels, format;
    } cases[] = {
        {"a.flac", 44100, 2, SF_FORMAT_FLAC | SF_FORMAT_PCM_16},
        {"a.ogg", 44100, 2, SF_FORMAT_OGG | SF_FORMAT_VORBIS},
        {"a.opus", 48000, 1, SF_FORMAT_OGG | SF_FORMAT_OPUS},
        {"a.mp3", 44100, 2, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III},
        {"a22.wav", 22050, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16},
        {"a48.wav", 48000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        const char *p =
            write_signal(cases[c].name, cases[c].rate, cases[c].channels, cases[c].format);
        size_t n;
        int16_t *s = decode_all(p, &n);
        int lag;
        double snr;
        compare(ref, nref, s, n, &lag, &snr);
        if (abs(lag) > 16 || snr < 20)
            fail_msg("%s: lag %d samples, SNR %.1f dB", cases[c].name, lag, snr);
        /* The same length, within a frame of the codec. */
        assert_true(labs((long)n - (long)nref) < 16000 / 10);
        free(s);
    }
    /* M4B (AAC in MP4), through FFmpeg, made with Debian's ffmpeg. */
    if (folio__audio_has_ffmpeg() && system("command -v ffmpeg >/dev/null") == 0) {
        char cmd[2048], m4b[600];
        snprintf(m4b, sizeof(m4b), "%s/a.m4b", fx_dir());
        snprintf(cmd, sizeof(cmd), "ffmpeg -v error -y -i '%s' -c:a aac -b:a 96k '%s'", wav, m4b);
        assert_int_equal(system(cmd), 0);
        size_t n;
        int16_t *s = decode_all(m4b, &n);
        int lag;
        double snr;
        compare(ref, nref, s, n, &lag, &snr);
        if (abs(lag) > 16 || snr < 20) fail_msg("m4b: lag %d samples, SNR %.1f dB", lag, snr);
        free(s);
    }
    free(ref);
}

static void stereo_44k_lands_on_the_same_timeline(void **state)
{
    (void)state;
    /* A click at exactly 2.5 s in a 44.1 kHz stereo file must come out at sample 40000. */
    char path[512];
    snprintf(path, sizeof(path), "%s/click.wav", fx_dir());
    SF_INFO info = {.samplerate = 44100, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    size_t n = 44100 * 4;
    short *buf = calloc(n * 2, sizeof(short));
    for (int k = 0; k < 20; k++) buf[(110250 + k) * 2] = buf[(110250 + k) * 2 + 1] = 20000;
    sf_writef_short(f, buf, (sf_count_t)n);
    sf_close(f);
    free(buf);
    size_t len;
    int16_t *s = decode_all(path, &len);
    assert_int_equal(len, 16000 * 4);
    size_t peak = 0;
    for (size_t i = 0; i < len; i++)
        if (abs(s[i]) > abs(s[peak])) peak = i;
    assert_true(labs((long)peak - 40003) <= 16); /* the click's middle, within 1 ms */
    free(s);
}

static void m4b_chapter_marks_are_read(void **state)
{
    (void)state;
    if (!folio__audio_has_ffmpeg() || system("command -v ffmpeg >/dev/null") != 0) {
        skip();
        return;
    }
    const char *wav = write_signal("ch.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    char meta[512], m4b[512], cmd[2048];
    snprintf(meta, sizeof(meta), "%s/chapters.txt", fx_dir());
    snprintf(m4b, sizeof(m4b), "%s/ch.m4b", fx_dir());
    FILE *m = fopen(meta, "w");
    fprintf(m,
            ";FFMETADATA1\ntitle=Test\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=2500\ntitle=First "
            "part\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=2500\nEND=6000\ntitle=Second part\n");
    fclose(m);
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -v error -y -i '%s' -i '%s' -map_metadata 1 -map_chapters 1 -c:a aac '%s'",
             wav, meta, m4b);
    assert_int_equal(system(cmd), 0);
    int err;
    folio_audio_file_t *f = folio__audio_open(NULL, m4b, &err);
    assert_non_null(f);
    assert_int_equal(folio__audio_n_chapters(f), 2);
    assert_string_equal(folio__audio_chapter(f, 0)->title, "First part");
    assert_string_equal(folio__audio_chapter(f, 1)->title, "Second part");
    assert_true(fabs(folio__audio_chapter(f, 1)->start - 2.5) < 0.001);
    assert_non_null(strstr(folio__audio_describe(f), "FFmpeg"));
    folio__audio_close(f);
    /* Chosen by content: the same file named .mp3 still goes to FFmpeg. */
    char renamed[600];
    snprintf(renamed, sizeof(renamed), "%s/really-m4b.mp3", fx_dir());
    snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", m4b, renamed);
    assert_int_equal(system(cmd), 0);
    f = folio__audio_open(NULL, renamed, &err);
    assert_non_null(f);
    assert_int_equal(folio__audio_n_chapters(f), 2);
    folio__audio_close(f);
}

static void bad_audio_fails_cleanly(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    int err;
    char path[512];
    snprintf(path, sizeof(path), "%s/none.mp3", fx_dir());
    assert_null(folio__audio_open(ctx, path, &err));
    assert_int_equal(err, FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), path));
    const char *empty = fx_file("empty.mp3", "", 0);
    assert_null(folio__audio_open(ctx, empty, &err));
    assert_int_equal(err, FOLIO_EAUDIO);
    assert_non_null(strstr(folio_errmsg(ctx), "empty"));
    const char text[] = "This is not audio at all, just some text in a file.\n";
    const char *fake = fx_file("fake.mp3", text, sizeof(text) - 1);
    assert_null(folio__audio_open(ctx, fake, &err));
    assert_int_equal(err, FOLIO_EAUDIO);
    assert_non_null(strstr(folio_errmsg(ctx), "fake.mp3"));
    assert_null(folio__audio_open(ctx, fx_dir(), &err));
    assert_int_equal(err, FOLIO_EIO);
    /* A truncated MP3: what is there decodes, with a warning naming the file and where it ends
     * (the header, a Xing frame, says how long the whole is). */
    const char *mp3 =
        write_signal("whole.mp3", 44100, 1, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
    size_t n;
    char *buf = slurp(mp3, &n);
    const char *cut = fx_file("cut.mp3", buf, n / 2);
    free(buf);
    size_t got;
    fx_log_clear();
    int16_t *s = decode_with(ctx, cut, &got);
    assert_true(got > 16000 * SECONDS / 2 - 16000 && got < 16000 * SECONDS / 2 + 16000);
    if (!fx_logged("cut.mp3") || !fx_logged("truncated"))
        fail_msg("no warning about the truncated file: %s", fx_log_text());
    free(s);
    /* The whole file gets no such warning. */
    fx_log_clear();
    s = decode_with(ctx, mp3, &got);
    assert_false(fx_logged("truncated"));
    free(s);
    folio_free(ctx);
}

static void unreadable_file_is_an_io_error(void **state)
{
    (void)state;
    if (geteuid() == 0) {
        skip(); /* root reads any file */
        return;
    }
    const char *wav = write_signal("locked.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    assert_int_equal(chmod(wav, 0), 0);
    folio_t *ctx = fx_context();
    int err;
    assert_null(folio__audio_open(ctx, wav, &err));
    assert_int_equal(err, FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "locked.wav"));
    assert_non_null(strstr(folio_errmsg(ctx), strerror(EACCES)));
    chmod(wav, 0644);
    folio_free(ctx);
}

static void mp3_damaged_mid_file_keeps_the_audio_after_the_damage(void **state)
{
    (void)state;
    /* 3 kB of noise bytes in the middle of an MP3, then the rest of the file. */
    const char *mp3 =
        write_signal("sound.mp3", 44100, 2, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
    size_t n;
    char *buf = slurp(mp3, &n);
    char *bad = malloc(n + 3000);
    memcpy(bad, buf, n / 2);
    uint32_t x = 99;
    for (size_t i = 0; i < 3000; i++) {
        x = x * 1664525u + 1013904223u;
        bad[n / 2 + i] = (char)(x >> 24);
    }
    memcpy(bad + n / 2 + 3000, buf + n / 2, n - n / 2);
    const char *damaged = fx_file("damaged.mp3", bad, n + 3000);
    free(buf);
    free(bad);
    folio_t *ctx = fx_context();
    size_t whole, got;
    int16_t *ref = decode_all(mp3, &whole);
    int16_t *s = decode_with(ctx, damaged, &got);
    if (!fx_logged("damaged.mp3")) fail_msg("no warning naming the file: %s", fx_log_text());
    if (folio__audio_has_ffmpeg()) {
        /* Only a frame or two around the damage is lost, and the signal goes on to the end. */
        if (labs((long)got - (long)whole) > 16000 / 10)
            fail_msg("%zu samples decoded of %zu", got, whole);
        assert_true(fx_logged("damaged audio at 3."));
        /* The last speech-like stretch (5.0-5.6 s) is there. */
        assert_true(power(s, 80000, 8000) > 0.25 * power(ref, 80000, 8000));
    } else {
        /* libsndfile stops at the damage, with an error or as if the file ended there: what
         * came before is kept, with a warning either way. */
        assert_true(got > 16000 * 2);
        if (!fx_logged("corrupt audio at") && !fx_logged("truncated?"))
            fail_msg("%s", fx_log_text());
    }
    free(ref);
    free(s);
    folio_free(ctx);
}

static void mp3_whose_sample_rate_changes_keeps_its_timeline(void **state)
{
    (void)state;
    /* Two MP3 streams end to end, 44.1 kHz then 8 kHz, 6 s each: 12 s at 16 kHz, the second
     * part's pauses where the signal has them. */
    const char *hi = write_signal("hi.mp3", 44100, 1, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
    const char *lo = write_signal("lo.mp3", 8000, 1, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
    size_t n_hi, n_lo;
    char *a = slurp(hi, &n_hi), *b = slurp(lo, &n_lo);
    char *both = malloc(n_hi + n_lo);
    memcpy(both, a, n_hi);
    memcpy(both + n_hi, b, n_lo);
    const char *joined = fx_file("joined.mp3", both, n_hi + n_lo);
    free(a);
    free(b);
    free(both);
    folio_t *ctx = fx_context();
    size_t got;
    int16_t *s = decode_with(ctx, joined, &got);
    /* Within 0.3 s: each stream's encoder delay and padding (a few frames of 576 samples at
     * 8 kHz) stay; decoded at the first rate the second part would last 1.1 s, not 6. */
    if (labs((long)got - (long)(2 * SECONDS * 16000)) > 16000 * 3 / 10)
        fail_msg("%zu samples decoded, %.0f expected: %s", got, 2 * SECONDS * 16000, fx_log_text());
    if (folio__audio_has_ffmpeg())
        assert_true(fx_logged("joined.mp3: the sample rate changes from 44100 to 8000 Hz at 6."));
    /* signal_at() pauses from 1.6 to 2 s of every 2: the second stream's pause at 1.6-2.0 s is
     * at 7.6-8.0 s, moved on by the first stream's padding and the second's delay (0.2 s here,
     * less than a pause): 7.82-8.02 s is quiet, 7.15-7.35 s (its 1.0 s on) is not. */
    assert_true(power(s, (size_t)(7.82 * 16000), 3200) <
                0.01 * power(s, (size_t)(7.15 * 16000), 3200));
    free(s);
    folio_free(ctx);
}

static void m4b_damaged_mid_file_keeps_its_timeline(void **state)
{
    (void)state;
    if (!folio__audio_has_ffmpeg() || !have_ffmpeg_cli()) {
        skip();
        return;
    }
    /* The index (moov) first, then 2 kB of the audio data overwritten: the packets there do not
     * decode, and what follows stays where the container's timestamps put it. */
    const char *wav = write_signal("tl-src.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    char m4b[512], cmd[2048];
    snprintf(m4b, sizeof(m4b), "%s/tl.m4b", fx_dir());
    snprintf(cmd, sizeof(cmd),
             "ffmpeg -v error -y -i '%s' -c:a aac -b:a 64k -movflags +faststart '%s'", wav, m4b);
    assert_int_equal(system(cmd), 0);
    size_t n;
    char *buf = slurp(m4b, &n);
    uint32_t x = 7;
    for (size_t i = n / 2; i < n / 2 + 2000; i++) {
        x = x * 1664525u + 1013904223u;
        buf[i] = (char)(x >> 24);
    }
    const char *damaged = fx_file("tl-damaged.m4b", buf, n);
    free(buf);
    folio_t *ctx = fx_context();
    size_t whole, got;
    int16_t *ref = decode_all(m4b, &whole);
    int16_t *s = decode_with(ctx, damaged, &got);
    if (!fx_logged("tl-damaged.m4b: damaged audio at")) fail_msg("%s", fx_log_text());
    assert_int_equal(got, whole);
    /* After the damage, the same samples at the same places. */
    int lag;
    double snr;
    compare(ref + 64000, whole - 64000, s + 64000, got - 64000, &lag, &snr);
    if (lag != 0 || snr < 20) fail_msg("after the damage: lag %d, SNR %.1f dB", lag, snr);
    free(ref);
    free(s);
    folio_free(ctx);
}

static void formats_are_told_by_content(void **state)
{
    (void)state;
    if (!have_ffmpeg_cli()) {
        skip();
        return;
    }
    /* Raw AAC in ADTS frames, named .mp3. */
    const char *wav = write_signal("adts-src.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    char adts[512], cmd[2048];
    snprintf(adts, sizeof(adts), "%s/adts-really.mp3", fx_dir());
    snprintf(cmd, sizeof(cmd), "ffmpeg -v error -y -i '%s' -c:a aac -b:a 64k -f adts '%s'", wav,
             adts);
    assert_int_equal(system(cmd), 0);
    folio_t *ctx = fx_context();
    int err;
    if (folio__audio_has_ffmpeg()) {
        size_t got;
        int16_t *s = decode_with(ctx, adts, &got);
        if (labs((long)got - (long)(SECONDS * 16000)) > 16000 / 10)
            fail_msg("ADTS: %zu samples decoded", got);
        free(s);
        folio_audio_file_t *f = folio__audio_open(ctx, adts, &err);
        assert_non_null(f);
        assert_non_null(strstr(folio__audio_describe(f), "aac"));
        folio__audio_close(f);
    } else {
        assert_null(folio__audio_open(ctx, adts, &err));
        assert_int_equal(err, FOLIO_EAUDIO);
        assert_non_null(strstr(folio_errmsg(ctx), "without FFmpeg"));
    }
    folio_free(ctx);
}

static void unsupported_codec_is_named(void **state)
{
    (void)state;
    /* A WAV whose format tag (0x1234) no decoder knows: libsndfile refuses it, FFmpeg finds an
     * audio stream it cannot decode. */
    unsigned char wav[44 + 3200] = {0};
    uint32_t data = 3200, riff = 36 + data, rate = 16000, bytes = 32000, fmt = 16;
    memcpy(wav, "RIFF", 4);
    memcpy(wav + 4, &riff, 4);
    memcpy(wav + 8, "WAVEfmt ", 8);
    memcpy(wav + 16, &fmt, 4);
    wav[20] = 0x34, wav[21] = 0x12; /* format tag */
    wav[22] = 1;                    /* channels */
    memcpy(wav + 24, &rate, 4);
    memcpy(wav + 28, &bytes, 4);
    wav[32] = 2, wav[34] = 16; /* block align, bits */
    memcpy(wav + 36, "data", 4);
    memcpy(wav + 40, &data, 4);
    const char *path = fx_file("odd-codec.wav", wav, sizeof(wav));
    folio_t *ctx = fx_context();
    int err;
    assert_null(folio__audio_open(ctx, path, &err));
    assert_int_equal(err, FOLIO_EAUDIO);
    assert_non_null(strstr(folio_errmsg(ctx), "odd-codec.wav"));
    if (folio__audio_has_ffmpeg()) {
        if (!strstr(folio_errmsg(ctx), "unsupported audio codec") ||
            !strstr(folio_errmsg(ctx), "0x1234"))
            fail_msg("%s", folio_errmsg(ctx));
    }
    folio_free(ctx);
}

static void truncated_mp4_is_called_damaged(void **state)
{
    (void)state;
    if (!have_ffmpeg_cli()) {
        skip();
        return;
    }
    /* ffmpeg writes the moov atom (the index) last: half the file has none. */
    const char *wav = write_signal("mp4-src.wav", 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    char m4b[512], cmd[2048];
    snprintf(m4b, sizeof(m4b), "%s/whole.m4b", fx_dir());
    snprintf(cmd, sizeof(cmd), "ffmpeg -v error -y -i '%s' -c:a aac -b:a 64k '%s'", wav, m4b);
    assert_int_equal(system(cmd), 0);
    size_t n;
    char *buf = slurp(m4b, &n);
    const char *cut = fx_file("half.m4b", buf, n / 2);
    free(buf);
    folio_t *ctx = fx_context();
    int err;
    assert_null(folio__audio_open(ctx, cut, &err));
    assert_int_equal(err, FOLIO_EAUDIO);
    assert_non_null(strstr(folio_errmsg(ctx), "half.m4b"));
    const char *want = folio__audio_has_ffmpeg() ? "damaged or truncated" : "without FFmpeg";
    if (!strstr(folio_errmsg(ctx), want)) fail_msg("%s", folio_errmsg(ctx));
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_decode_to_the_same_samples),
        cmocka_unit_test(stereo_44k_lands_on_the_same_timeline),
        cmocka_unit_test(m4b_chapter_marks_are_read),
        cmocka_unit_test(bad_audio_fails_cleanly),
        cmocka_unit_test(unreadable_file_is_an_io_error),
        cmocka_unit_test(mp3_damaged_mid_file_keeps_the_audio_after_the_damage),
        cmocka_unit_test(mp3_whose_sample_rate_changes_keeps_its_timeline),
        cmocka_unit_test(m4b_damaged_mid_file_keeps_its_timeline),
        cmocka_unit_test(formats_are_told_by_content),
        cmocka_unit_test(unsupported_codec_is_named),
        cmocka_unit_test(truncated_mp4_is_called_damaged),
    };
    return cmocka_run_group_tests_name("audio", tests, NULL, fx_teardown);
}
