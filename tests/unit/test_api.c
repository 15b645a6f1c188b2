/* The public API's contract: every function with every invalid argument (reading an index and
 * the lookups: test_index.c and test_lookup.c), the context's log filtering and error messages
 * (opus' test_opus_api in spirit), and transcription's progress, cancelling and warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "fx_index.h"

#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void strerror_covers_every_code(void **state)
{
    (void)state;
    const char *seen[16] = {0};
    for (int code = 0; code >= FOLIO_EAUDIO; code--) {
        const char *s = folio_strerror(code);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown error");
        for (int k = 0; k < -code; k++) assert_string_not_equal(seen[k], s);
        seen[-code] = s;
    }
    assert_string_equal(folio_strerror(FOLIO_EAUDIO - 1), "unknown error");
    assert_string_equal(folio_strerror(1), "unknown error");
    char want[32];
    snprintf(want, sizeof(want), "%d.%d.%d", FOLIO_VERSION_MAJOR, FOLIO_VERSION_MINOR,
             FOLIO_VERSION_PATCH);
    assert_string_equal(folio_version(), want);
}

static int calls;
static void count_log(void *ud, folio_log_level_t level, const char *msg)
{
    (void)level;
    (void)msg;
    (*(int *)ud)++;
    calls++;
}

static void context_rejects_invalid_arguments(void **state)
{
    (void)state;
    folio_free(NULL);
    assert_int_equal(folio_set_log(NULL, count_log, NULL, FOLIO_LOG_WARN), FOLIO_EINVAL);
    folio_t *ctx = folio_new();
    assert_non_null(ctx);
    assert_int_equal(folio_set_log(ctx, count_log, NULL, (folio_log_level_t)-1), FOLIO_EINVAL);
    assert_int_equal(folio_set_log(ctx, count_log, NULL, (folio_log_level_t)4), FOLIO_EINVAL);
    assert_int_equal(folio_set_progress(NULL, NULL, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_set_progress(ctx, NULL, NULL), FOLIO_OK);
    assert_string_equal(folio_errmsg(ctx), "");
    assert_non_null(folio_errmsg(NULL));
    folio_free(ctx);
}

static void log_level_filters_messages(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    int n = 0;
    /* A missing spine item gives a warning; an inline element left out gives an info line. */
    fx_epub_t e = {.chapters = {"<p>Text<sup>1</sup>.</p>", "<p>x</p>"}, .missing = {"ch2.xhtml"}};
    const char *path = fx_epub("log.epub", &e);
    assert_int_equal(folio_set_log(ctx, count_log, &n, FOLIO_LOG_WARN), FOLIO_OK);
    folio_book_t *b = folio_book_open(ctx, path, NULL, NULL);
    assert_non_null(b);
    folio_book_free(b);
    assert_int_equal(n, 1);
    n = 0;
    assert_int_equal(folio_set_log(ctx, count_log, &n, FOLIO_LOG_INFO), FOLIO_OK);
    b = folio_book_open(ctx, path, NULL, NULL);
    folio_book_free(b);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(folio_set_log(ctx, NULL, NULL, FOLIO_LOG_DEBUG), FOLIO_OK);
    b = folio_book_open(ctx, path, NULL, NULL);
    folio_book_free(b);
    assert_int_equal(n, 0);
    folio_free(ctx);
}

static void book_open_rejects_invalid_arguments(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    int err = 0;
    assert_null(folio_book_open(ctx, NULL, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_non_null(strstr(folio_errmsg(ctx), "no path"));
    assert_null(folio_book_open(ctx, "", NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);

    const char t[] = "Some text.";
    const char *path = fx_file("args.txt", t, sizeof(t) - 1);
    folio_book_options_t o;
    folio_book_options_init(NULL);
    size_t fields[] = {0, 1, 2, 3, 4, 5};
    for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
        folio_book_options_init(&o);
        switch (f) {
        case 0:
            o.format = (folio_format_t)7;
            break;
        case 5:
            o.format = (folio_format_t)-1;
            break;
        case 1:
            o.max_text_chars = 0;
            break;
        case 2:
            o.max_archive_bytes = 0;
            break;
        case 3:
            o.max_ratio = 1;
            break;
        case 4:
            o.synthetic_page_chars = 0;
            break;
        }
        err = 0;
        assert_null(folio_book_open(ctx, path, &o, &err));
        assert_int_equal(err, FOLIO_EINVAL);
    }
    /* No context and no err pointer: still works, and failures still fail. */
    folio_book_t *b = folio_book_open(NULL, path, NULL, NULL);
    assert_non_null(b);
    folio_book_free(b);
    assert_null(folio_book_open(NULL, "/nonexistent/book.epub", NULL, NULL));
    folio_free(ctx);
}

static void book_accessors_reject_invalid_arguments(void **state)
{
    (void)state;
    size_t n = 99;
    folio_book_free(NULL);
    assert_int_equal(folio_book_format(NULL), 0);
    assert_null(folio_book_meta(NULL, FOLIO_META_TITLE));
    assert_null(folio_book_text(NULL, &n));
    assert_int_equal(folio_book_text_length(NULL), 0);
    assert_null(folio_book_text_range(NULL, 0, 0, &n));
    assert_int_equal(folio_book_n_blocks(NULL), 0);
    assert_null(folio_book_block(NULL, 0));
    assert_int_equal(folio_book_page_source(NULL), 0);
    assert_int_equal(folio_book_n_pages(NULL), 0);
    assert_null(folio_book_page(NULL, 0));
    assert_int_equal(folio_book_page_at(NULL, 0), -1);
    assert_int_equal(folio_book_n_chapters(NULL), 0);
    assert_null(folio_book_chapter(NULL, 0));
    assert_int_equal(folio_book_n_sentences(NULL), 0);
    assert_null(folio_book_sentence(NULL, 0));
    assert_int_equal(folio_book_n_tokens(NULL), 0);
    assert_null(folio_book_token(NULL, 0));
    assert_int_equal(folio_book_n_words(NULL), 0);
    assert_null(folio_book_word(NULL, 0));
    assert_null(folio_book_word_alternative(NULL, 0, 0));
    assert_null(folio_book_text_sha256(NULL));
    assert_string_equal(folio_block_kind_name((folio_block_kind_t)-1), "unknown");
    assert_string_equal(folio_block_kind_name((folio_block_kind_t)FOLIO_BLOCK_KIND_COUNT),
                        "unknown");
    assert_string_equal(folio_block_kind_name(FOLIO_BLOCK_FOOTNOTE), "footnote");
    assert_string_equal(folio_page_source_name((folio_page_source_t)0), "unknown");
    assert_string_equal(folio_page_source_name(FOLIO_PAGES_SYNTHETIC), "synthetic");

    const char t[] = "Caf\xc3\xa9 au lait.";
    folio_book_t *b = folio_book_open(NULL, fx_file("acc.txt", t, sizeof(t) - 1), NULL, NULL);
    assert_non_null(b);
    size_t len = folio_book_text_length(b);
    assert_int_equal(len, 13);
    assert_null(folio_book_meta(b, (folio_meta_t)4));
    assert_null(folio_book_meta(b, (folio_meta_t)-1));
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "");
    assert_null(folio_book_text_range(b, 0, len + 1, &n));
    assert_null(folio_book_text_range(b, 3, 2, &n));
    assert_null(folio_book_text_range(b, 0, 1, NULL));
    const char *r = folio_book_text_range(b, 3, 5, &n);
    assert_int_equal(n, 3); /* "é " is three bytes */
    assert_memory_equal(r, "\xc3\xa9 ", 3);
    r = folio_book_text_range(b, len, len, &n);
    assert_non_null(r);
    assert_int_equal(n, 0);
    assert_null(folio_book_block(b, folio_book_n_blocks(b)));
    assert_null(folio_book_page(b, folio_book_n_pages(b)));
    assert_null(folio_book_chapter(b, folio_book_n_chapters(b)));
    assert_null(folio_book_sentence(b, folio_book_n_sentences(b)));
    assert_null(folio_book_token(b, folio_book_n_tokens(b)));
    assert_null(folio_book_word(b, folio_book_n_words(b)));
    assert_null(folio_book_word_alternative(b, 0, 0));
    assert_int_equal(folio_book_page_at(b, len), -1);
    assert_int_equal(folio_book_page_at(b, (size_t)-1), -1);
    assert_int_equal(folio_book_page_at(b, 0), 0);
    folio_book_free(b);
}

static void transcribe_rejects_invalid_arguments(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char t[] = "One two three.";
    folio_book_t *book = folio_book_open(NULL, fx_file("tr.txt", t, sizeof(t) - 1), NULL, NULL);
    char work[512];
    snprintf(work, sizeof(work), "%s/work.part", fx_dir());
    const char *audio[] = {"/nonexistent/a.wav", NULL};
    int err = 0;
    assert_null(folio_transcribe(ctx, NULL, audio, 1, work, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_null(folio_transcribe(ctx, book, NULL, 1, work, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_null(folio_transcribe(ctx, book, audio, 0, work, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_null(folio_transcribe(ctx, book, audio, 1, NULL, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_null(folio_transcribe(ctx, book, audio, 1, "", NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_null(folio_transcribe(ctx, book, audio + 1, 1, work, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    folio_transcribe_options_t o;
    folio_transcribe_options_init(NULL);
    folio_transcribe_options_init(&o);
    o.threads = -1;
    assert_null(folio_transcribe(ctx, book, audio, 1, work, &o, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    folio_transcribe_options_init(&o);
    o.search = (folio_search_t)9;
    assert_null(folio_transcribe(ctx, book, audio, 1, work, &o, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    /* A missing audio file: an I/O error naming it, before any work. */
    assert_null(folio_transcribe(ctx, book, audio, 1, work, NULL, &err));
    assert_int_equal(err, FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "/nonexistent/a.wav"));
    assert_int_equal(folio_work_remove(NULL), FOLIO_EINVAL);
    assert_int_equal(folio_work_remove(work), FOLIO_OK);
    assert_non_null(folio_default_model_dir());
    /* Transcript accessors with NULL. */
    folio_transcript_free(NULL);
    assert_int_equal(folio_transcript_n_words(NULL), 0);
    assert_null(folio_transcript_word(NULL, 0));
    assert_int_equal(folio_transcript_n_files(NULL), 0);
    assert_true(folio_transcript_file_duration(NULL, 0) == 0);
    assert_true(folio_transcript_file_offset(NULL, 0) == 0);
    folio_book_free(book);
    folio_free(ctx);
}

/* @seconds of 16 kHz mono: tones that come and go (1.5 s on, 1.5 s off), or silence. */
static const char *write_wav(const char *name, double seconds, bool tones)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", fx_dir(), name);
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) fail_msg("cannot write %s", path);
    size_t n = (size_t)(seconds * 16000);
    short *buf = calloc(n, sizeof(short));
    for (size_t i = 0; tones && i < n; i++) {
        double t = (double)i / 16000;
        if (fmod(t, 3.0) > 1.5) continue;
        double v = 0;
        for (int h = 1; h <= 8; h++) v += sin(2 * M_PI * 140 * h * t) / h;
        buf[i] = (short)(6000 * v * (0.6 + 0.4 * sin(2 * M_PI * 3 * t)));
    }
    sf_writef_short(f, buf, (sf_count_t)n);
    sf_close(f);
    free(buf);
    return path;
}

typedef struct {
    int calls, cancel_at;
    double done, total;
} progress_seen_t;

static int on_progress(void *ud, const folio_progress_t *p)
{
    progress_seen_t *s = ud;
    s->calls++;
    s->done = p->done;
    s->total = p->total;
    assert_string_equal(p->stage, "recognising");
    return s->cancel_at && s->calls >= s->cancel_at;
}

static void transcribe_reports_progress_cancels_and_warns(void **state)
{
    (void)state;
    char mdef[1024];
    snprintf(mdef, sizeof(mdef), "%s/en-us/mdef", folio_default_model_dir());
    if (access(mdef, R_OK) != 0) {
        skip(); /* no pocketsphinx model */
        return;
    }
    const char t[] = "The keeper wrote in the ledger every night, and the ledger kept the keeper.";
    folio_book_t *book = folio_book_open(NULL, fx_file("pr.txt", t, sizeof(t) - 1), NULL, NULL);
    char work[512];
    snprintf(work, sizeof(work), "%s/progress.part", fx_dir());
    char tones[512];
    snprintf(tones, sizeof(tones), "%s", write_wav("tones.wav", 9.0, true));
    const char *audio[] = {tones};
    folio_transcribe_options_t o;
    folio_transcribe_options_init(&o);
    o.threads = 1;
    folio_t *ctx = fx_context();
    int err;

    /* Cancelled at the first report: FOLIO_ECANCELLED, and the work file is kept. */
    progress_seen_t seen = {.cancel_at = 1};
    assert_int_equal(folio_set_progress(ctx, on_progress, &seen), FOLIO_OK);
    assert_null(folio_transcribe(ctx, book, audio, 1, work, &o, &err));
    assert_int_equal(err, FOLIO_ECANCELLED);
    assert_int_equal(seen.calls, 1);
    assert_int_equal(access(work, F_OK), 0);
    assert_int_equal(folio_work_remove(work), FOLIO_OK);
    assert_int_equal(access(work, F_OK), -1);

    /* A whole run: the last report is the whole audio, pauses included. */
    seen = (progress_seen_t){0};
    folio_transcript_t *tr = folio_transcribe(ctx, book, audio, 1, work, &o, &err);
    assert_non_null(tr);
    assert_true(seen.calls > 1);
    assert_float_equal(seen.total, 9.0, 0.01);
    assert_float_equal(seen.done, seen.total, 1e-9);
    folio_transcript_free(tr);
    folio_work_remove(work);

    /* Silence: a transcript without words, and a warning naming the file. */
    folio_set_progress(ctx, NULL, NULL);
    fx_log_clear();
    audio[0] = write_wav("silence.wav", 3.0, false);
    tr = folio_transcribe(ctx, book, audio, 1, work, &o, &err);
    assert_non_null(tr);
    assert_int_equal(folio_transcript_n_words(tr), 0);
    if (!fx_logged("silence.wav: no speech")) fail_msg("no warning: %s", fx_log_text());
    folio_transcript_free(tr);
    folio_work_remove(work);
    folio_book_free(book);
    folio_free(ctx);
}

static void index_rejects_invalid_arguments(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char t[] = "One two three.";
    folio_book_t *book = folio_book_open(NULL, fx_file("ix.txt", t, sizeof(t) - 1), NULL, NULL);
    char out[512], part[600];
    snprintf(out, sizeof(out), "%s/ix.folio", fx_dir());
    snprintf(part, sizeof(part), "%s.part", out);
    const char *audio[] = {"/nonexistent/b.wav"};
    assert_int_equal(folio_index_build(ctx, NULL, audio, 1, out, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_index_build(ctx, book, NULL, 1, out, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_index_build(ctx, book, audio, 0, out, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_index_build(ctx, book, audio, 1, NULL, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_index_build(ctx, book, audio, 1, "", NULL), FOLIO_EINVAL);
    /* A missing audio file: an I/O error naming it, and nothing written. */
    folio_index_options_t o;
    folio_index_options_init(NULL);
    folio_index_options_init(&o);
    assert_int_equal(o.force, 0);
    assert_int_equal(folio_index_build(ctx, book, audio, 1, out, &o), FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "/nonexistent/b.wav"));
    assert_int_equal(access(out, F_OK), -1);
    assert_int_equal(access(part, F_OK), -1);

    /* The EPUB export needs an index, a book and an output. */
    folio_overlay_options_t ov;
    folio_overlay_options_init(NULL);
    memset(&ov, 0x5a, sizeof(ov));
    folio_overlay_options_init(&ov);
    assert_null(ov.audio_dir);
    assert_null(ov.audio_base);
    assert_int_equal(ov.embed_audio, 0);
    assert_int_equal(folio_export_epub(ctx, NULL, "b.epub", "o.epub", &ov), FOLIO_EINVAL);
    folio_book_free(book);
    folio_free(ctx);
}

static void export_rejects_invalid_arguments(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char *path = fx_small_index("export.folio", true);
    assert_non_null(path);
    folio_index_t *ix = folio_index_open(ctx, path, NULL);
    assert_non_null(ix);
    /* The EPUB export needs a book and an output path. */
    assert_int_equal(folio_export_epub(ctx, ix, NULL, "o.epub", NULL), FOLIO_EINVAL);
    assert_int_equal(folio_export_epub(ctx, ix, "b.epub", NULL, NULL), FOLIO_EINVAL);
    folio_overlay_options_t ov;
    folio_overlay_options_init(&ov);
    assert_int_equal(ov.granularity, FOLIO_OVERLAY_SENTENCE);
    ov.granularity = (folio_overlay_granularity_t)7;
    assert_int_equal(folio_export_epub(ctx, ix, "b.epub", "o.epub", &ov), FOLIO_EINVAL);
    folio_index_free(ix);
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(strerror_covers_every_code),
        cmocka_unit_test(context_rejects_invalid_arguments),
        cmocka_unit_test(log_level_filters_messages),
        cmocka_unit_test(book_open_rejects_invalid_arguments),
        cmocka_unit_test(book_accessors_reject_invalid_arguments),
        cmocka_unit_test(transcribe_rejects_invalid_arguments),
        cmocka_unit_test(index_rejects_invalid_arguments),
        cmocka_unit_test(export_rejects_invalid_arguments),
        cmocka_unit_test(transcribe_reports_progress_cancels_and_warns),
    };
    return cmocka_run_group_tests_name("api", tests, NULL, fx_teardown);
}
