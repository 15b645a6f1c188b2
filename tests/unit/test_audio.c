/* Unit tests of the audio module: every format decodes to the same 16 kHz samples as the WAV
 * (cross-correlation lag within 1 ms, SNR over 20 dB), 44.1 kHz stereo lands on the same timeline,
 * M4B chapter marks are read, and bad files fail cleanly. Test signals are made here with
 * libsndfile and Debian's ffmpeg. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/audio/audio.h"
#include "fixture.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int16_t *decode_all(const char *path, size_t *n)
{
    int err;
    folio_audio_file_t *f = folio__audio_open(NULL, path, &err);
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
    /* A truncated MP3: what is there decodes, with a warning or a clean end. */
    const char *mp3 =
        write_signal("whole.mp3", 44100, 1, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III);
    FILE *f = fopen(mp3, "rb");
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    const char *cut = fx_file("cut.mp3", buf, n / 2);
    free(buf);
    size_t got;
    int16_t *s = decode_all(cut, &got);
    assert_true(got > 16000 * SECONDS / 2 - 16000 && got < 16000 * SECONDS / 2 + 16000);
    free(s);
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(formats_decode_to_the_same_samples),
        cmocka_unit_test(stereo_44k_lands_on_the_same_timeline),
        cmocka_unit_test(m4b_chapter_marks_are_read),
        cmocka_unit_test(bad_audio_fails_cleanly),
    };
    return cmocka_run_group_tests_name("audio", tests, NULL, fx_teardown);
}
