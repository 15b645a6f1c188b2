/* folio_index_build(): recognition (transcribe.c), alignment (align module), the times put onto
 * the book (results.c), and the finished index written beside the work file and renamed into
 * place (index module). */
#include "../lookup/lookup.h"
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MATCH_SHARE 0.3 /* under this share of speech aligned: not this book */

void folio_index_options_init(folio_index_options_t *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof(*opts));
    folio_transcribe_options_init(&opts->transcribe);
}

/* ---- forced alignment and gaps recognised again read the audio cache ---- */

typedef struct {
    int fd;
    const char *path;
    const uint64_t *first; /* each file's first sample in the cache */
    const uint64_t *n;     /* and its number of samples */
} pcm_t;

static int read_pcm(void *ud, size_t file, uint64_t start, size_t n, int16_t *out)
{
    const pcm_t *p = ud;
    memset(out, 0, n * sizeof(int16_t));
    if (start >= p->n[file]) return FOLIO_OK;
    if (start + n > p->n[file]) n = (size_t)(p->n[file] - start);
    off_t at = (off_t)((p->first[file] + start) * sizeof(int16_t));
    size_t want = n * sizeof(int16_t), got = 0;
    while (got < want) {
        ssize_t r = pread(p->fd, (char *)out + got, want - got, at + (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return FOLIO_EIO;
        got += (size_t)r;
    }
    return FOLIO_OK;
}

static const char *format_name(folio_book_format_t f)
{
    switch (f) {
    case FOLIO_BOOK_EPUB2:
        return "epub2";
    case FOLIO_BOOK_EPUB3:
        return "epub3";
    case FOLIO_BOOK_TXT:
        return "txt";
    case FOLIO_BOOK_HTML:
        return "html";
    }
    return "unknown";
}

/* ---- the stages of a run ---- */

/* Everything a run makes, freed by build_free. */
typedef struct {
    folio_t *ctx;
    const folio_book_t *book;
    const char *const *audio;
    size_t n_audio;
    const char *out_path;
    folio_index_options_t o;
    char work[4200], pcm_path[4300], gaps_lm_path[4300];
    double start;
    folio_models_t models;
    folio_transcript_t *tr;
    size_t n_files;
    double *duration, *offset; /* each file's length and its start in the whole, in seconds */
    uint64_t *first, *count;   /* each file's first sample in the audio cache, and its samples */
    double audio_seconds;
    pcm_t pcm;
    /* Alignment decoders: the first reports to @ctx (it runs on this thread), the others, each
     * on a thread of its own, to contexts of their own. */
    folio_decoder_t *aligners[FOLIO_ALIGN_MAX_THREADS];
    folio_t *aligner_ctx[FOLIO_ALIGN_MAX_THREADS];
    size_t n_aligners;
    folio_alignment_t al;
    folio_results_t res;
    VEC(folio_index_audio_mark_t) marks; /* titles owned */
    double *mark_time;                   /* each mark on the whole's timeline */
} build_t;

/* Recognition (resumable), and where each file is in the whole and in the audio cache. */
static int recognise(build_t *b)
{
    int rc;
    TRY(folio__transcribe_run(b->ctx, b->book, b->audio, b->n_audio, b->work, &b->o.transcribe,
                              &b->models, &b->tr));
    size_t n_files = b->n_files = folio_transcript_n_files(b->tr);
    b->duration = calloc(n_files, sizeof(double));
    b->offset = calloc(n_files, sizeof(double));
    b->first = calloc(n_files, sizeof(uint64_t));
    b->count = calloc(n_files, sizeof(uint64_t));
    if (!b->duration || !b->offset || !b->first || !b->count)
        FAIL(b->ctx, FOLIO_ENOMEM, "out of memory");
    uint64_t at = 0;
    for (size_t i = 0; i < n_files; i++) {
        b->duration[i] = folio_transcript_file_duration(b->tr, i);
        b->offset[i] = folio_transcript_file_offset(b->tr, i);
        b->count[i] = (uint64_t)llround(b->duration[i] * FOLIO_SPEECH_RATE);
        b->first[i] = at;
        at += b->count[i];
        b->audio_seconds += b->duration[i];
    }
fail:
    return rc;
}

/* The decoders of forced alignment (one a thread), reading the audio cache, and the side file of
 * the gaps' models; without the cache, no decoders and no gaps recognised again (page starts keep
 * the first pass's times). */
static int prepare_alignment(build_t *b)
{
    int rc = FOLIO_OK;
    folio_t *ctx = b->ctx;
    folio_decoder_config_t acfg = b->models.decoder;
    folio__decoder_config_align(&acfg);
    acfg.lm_path = NULL;
    acfg.oob_path = NULL;
    b->pcm = (pcm_t){.fd = open(b->pcm_path, O_RDONLY | O_CLOEXEC),
                     .path = b->pcm_path,
                     .first = b->first,
                     .n = b->count};
    if (b->pcm.fd >= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        size_t want = b->o.transcribe.threads ? (size_t)b->o.transcribe.threads
                                              : (size_t)(cores > 0 ? cores : 1);
        if (want > FOLIO_ALIGN_MAX_THREADS) want = FOLIO_ALIGN_MAX_THREADS;
        for (; b->n_aligners < want; b->n_aligners++) {
            size_t k = b->n_aligners;
            folio_t *c = k ? (b->aligner_ctx[k] = folio_new()) : ctx;
            if (!c) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
            if (!(b->aligners[k] = folio__decoder_new(c, &acfg, &rc))) {
                if (c != ctx) folio__error(ctx, rc, "%s", folio_errmsg(c));
                goto fail;
            }
        }
    } else {
        folio__warn(ctx, "%s: %s; page starts keep the first pass's times", b->pcm_path,
                    strerror(errno));
    }
    folio__work_name(b->gaps_lm_path, sizeof(b->gaps_lm_path), b->work, FOLIO_WORK_GAPS_LM, 0);
fail:
    return rc;
}

/* The marks the audio sets on itself: each file's start, and its own chapters (an M4B's chapter
 * atoms; one at a file's start stands for the start), in time order. */
static int audio_marks(build_t *b)
{
    int rc = FOLIO_OK;
    folio_audio_file_t *f = NULL;
    for (size_t i = 0; i < b->n_files && i < b->n_audio; i++) {
        int err;
        f = folio__audio_open(NULL, b->audio[i], &err);
        if (!f && err == FOLIO_ENOMEM) FAIL(b->ctx, FOLIO_ENOMEM, "out of memory");
        if (!f) /* it was decoded a moment ago: its chapters are only evidence */
            folio__warn(b->ctx, "%s: cannot be opened again for its chapter marks: %s", b->audio[i],
                        folio_strerror(err));
        size_t n = f ? folio__audio_n_chapters(f) : 0;
        bool at_start = false;
        for (size_t k = 0; k < n; k++)
            at_start = at_start || folio__audio_chapter(f, k)->start < 0.05;
        for (size_t k = 0; k <= n; k++) {
            const folio_audio_chapter_t *c = k ? folio__audio_chapter(f, k - 1) : NULL;
            if (!c && at_start) continue;
            double at = c ? (c->start > 0 ? c->start : 0) : 0;
            if (at > b->duration[i]) continue;
            folio_index_audio_mark_t m = {
                folio__strdup(c ? c->title : ""), !c, (long)i, at, b->offset[i] + at, -1};
            if (!m.title || VEC_PUSH(b->marks, m) < 0) {
                free((char *)m.title);
                FAIL(b->ctx, FOLIO_ENOMEM, "out of memory");
            }
            /* In time order within the file (FFmpeg gives them so, but a file may not). */
            for (size_t q = b->marks.len - 1;
                 q > 0 && b->marks.items[q - 1].file == m.file &&
                 b->marks.items[q - 1].file_time > b->marks.items[q].file_time;
                 q--) {
                folio_index_audio_mark_t x = b->marks.items[q];
                b->marks.items[q] = b->marks.items[q - 1];
                b->marks.items[q - 1] = x;
            }
        }
        folio__audio_close(f);
        f = NULL;
    }
    if (!(b->mark_time = malloc((b->marks.len ? b->marks.len : 1) * sizeof(double))))
        FAIL(b->ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < b->marks.len; i++) b->mark_time[i] = b->marks.items[i].start_time;
fail:
    if (f) folio__audio_close(f);
    return rc;
}

/* Alignment; a run too little of whose speech matches the text is not of this book (unless
 * forced). */
static int align_text(build_t *b)
{
    int rc;
    folio_t *ctx = b->ctx;
    size_t n_heard = folio_transcript_n_words(b->tr);
    bool cache = b->pcm.fd >= 0;
    folio_align_input_t in = {
        .book = b->book,
        .lex = b->models.lex,
        .heard = n_heard ? folio_transcript_word(b->tr, 0) : NULL,
        .n_heard = n_heard,
        .n_files = b->n_files,
        .duration = b->duration,
        .offset = b->offset,
        .read_pcm = cache ? read_pcm : NULL,
        .pcm_ud = &b->pcm,
        .aligners = b->aligners,
        .n_aligners = b->n_aligners,
        .models = cache ? &b->models : NULL,
        .gap_lm_path = b->gaps_lm_path,
        .mark_time = b->mark_time,
        .n_marks = b->marks.len,
        .start_time = b->start,
    };
    double align_start = folio__now();
    folio__info(ctx, "recognition took %.1f s", align_start - b->start);
    TRY(folio__align(ctx, &in, &b->al));
    folio__info(ctx, "alignment took %.1f s", folio__now() - align_start);
    const folio_alignment_t *al = &b->al;
    double share = al->speech_seconds > 0 ? al->aligned_seconds / al->speech_seconds : 0;
    folio__info(ctx, "aligned %.1f%% of %.0f s of recognised speech; %zu of %zu words read",
                100 * share, al->speech_seconds, al->words_read, al->words_total);
    if (share < MATCH_SHARE && !b->o.force)
        FAIL(ctx, FOLIO_ENOMATCH,
             al->speech_seconds > 0
                 ? "the audio does not seem to be this book: only %.0f%% of its %.0f s "
                   "of recognised speech matches the text (at least %.0f%% is needed)"
                 : "no speech of this book was recognised in the audio (%.0f%% of %.0f "
                   "s; at least %.0f%% is needed)",
             100 * share, al->speech_seconds, 100 * MATCH_SHARE);
fail:
    return rc;
}

/* Write the index beside the work file (with the lookup tables, from the word times as the index
 * stores them: milliseconds), move it into place, and then remove the work file and its side
 * files. */
static int write_index(build_t *b)
{
    int rc;
    folio_t *ctx = b->ctx;
    const folio_book_t *book = b->book;
    const folio_results_t *r = &b->res;
    const char **paths = NULL;
    double *wstart = NULL;
    folio_lookup_tables_t lt;
    bool have_lt = false;
    TRY(folio__progress(ctx, "writing", 0, 1, b->start));
    char version[32], length[32];
    snprintf(version, sizeof(version), "%s", folio_version());
    snprintf(length, sizeof(length), "%zu", folio_book_text_length(book));
    const char *meta[][2] = {
        {"title", folio_book_meta(book, FOLIO_META_TITLE)},
        {"author", folio_book_meta(book, FOLIO_META_AUTHOR)},
        {"language", folio_book_meta(book, FOLIO_META_LANGUAGE)},
        {"identifier", folio_book_meta(book, FOLIO_META_IDENTIFIER)},
        {"text_sha256", folio_book_text_sha256(book)},
        {"text_length", length},
        {"page_source", folio_page_source_name(folio_book_page_source(book))},
        {"format", format_name(folio_book_format(book))},
        {"folio_version", version},
    };
    if (!(paths = calloc(b->n_audio, sizeof(char *)))) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < b->n_audio; i++) paths[i] = b->audio[i];
    size_t text_bytes;
    const char *text = folio_book_text(book, &text_bytes);
    if (!(wstart = malloc((r->n_words ? r->n_words : 1) * sizeof(double))))
        FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < r->n_words; i++)
        wstart[i] = r->words[i].start >= 0 ? (double)(int64_t)(r->words[i].start * 1000 + 0.5) : -1;
    if ((rc = folio__lookup_tables(text, text_bytes, wstart, r->n_words, &lt)) < 0)
        FAIL(ctx, rc, "cannot build the lookup tables: %s", folio_strerror(rc));
    have_lt = true;
    folio_index_data_t d = {.meta = meta,
                            .n_meta = sizeof(meta) / sizeof(meta[0]),
                            .text = text,
                            .text_bytes = text_bytes,
                            .paths = paths,
                            .duration = b->duration,
                            .offset = b->offset,
                            .n_files = b->n_files,
                            .pages = r->pages,
                            .chapters = r->chapters,
                            .sentences = r->sentences,
                            .words = r->words,
                            .n_pages = r->n_pages,
                            .n_chapters = r->n_chapters,
                            .n_sentences = r->n_sentences,
                            .n_words = r->n_words,
                            .marks = b->marks.items,
                            .n_marks = b->marks.len,
                            .report_json = r->report_json,
                            .blobs = lt.blob,
                            .n_blobs = sizeof(lt.blob) / sizeof(lt.blob[0])};
    char tmp[4300];
    folio__work_name(tmp, sizeof(tmp), b->work, FOLIO_WORK_INDEX, 0);
    TRY(folio__index_write(ctx, tmp, &d, b->out_path));
    /* Only now: a run killed before the rename finds all its work again. */
    folio_work_remove(b->work);
    rc = folio__progress(ctx, "writing", 1, 1, b->start);
    if (rc == FOLIO_ECANCELLED) rc = FOLIO_OK; /* too late to stop: it is written */
fail:
    if (have_lt) folio__lookup_tables_free(&lt);
    free(wstart);
    free(paths);
    return rc;
}

static void build_free(build_t *b)
{
    free(b->duration);
    free(b->offset);
    if (b->pcm.fd >= 0) close(b->pcm.fd);
    for (size_t i = 0; i < b->n_aligners; i++) folio__decoder_free(b->aligners[i]);
    for (size_t i = 0; i < FOLIO_ALIGN_MAX_THREADS; i++) folio_free(b->aligner_ctx[i]);
    folio__alignment_free(&b->al);
    folio_transcript_free(b->tr);
    folio__models_free(&b->models);
    free(b->first);
    free(b->count);
    folio__results_free(&b->res);
    for (size_t i = 0; i < b->marks.len; i++) free((char *)b->marks.items[i].title);
    VEC_FREE(b->marks);
    free(b->mark_time);
}

/* ---- the whole run ---- */

int folio_index_build(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                      size_t n_audio, const char *out_path, const folio_index_options_t *opts)
{
    int rc = FOLIO_OK;
    build_t b = {.ctx = ctx,
                 .book = book,
                 .audio = audio,
                 .n_audio = n_audio,
                 .out_path = out_path,
                 .pcm = {.fd = -1}};
    folio_index_options_init(&b.o);
    if (opts) b.o = *opts;
    if (!book || !audio || !n_audio || !out_path || !*out_path)
        FAIL(ctx, FOLIO_EINVAL, "a book, audio files and an output path are needed");
    if (folio__work_name(b.work, sizeof(b.work), out_path, FOLIO_WORK_PART, 0) < 0)
        FAIL(ctx, FOLIO_EINVAL, "%s: the path is too long", out_path);
    folio__work_name(b.pcm_path, sizeof(b.pcm_path), b.work, FOLIO_WORK_PCM, 0);
    b.start = folio__now();

    TRY(recognise(&b));
    TRY(prepare_alignment(&b));
    TRY(audio_marks(&b));
    TRY(align_text(&b));
    TRY(folio__results_make(ctx, book, &b.al, b.audio_seconds, &b.res));
    folio__results_match_marks(&b.res, b.marks.items, b.marks.len);
    TRY(write_index(&b));
fail:
    build_free(&b);
    /* Not this book: leave nothing behind (the recognition of the wrong audio is no use). */
    if (rc == FOLIO_ENOMATCH && *b.work) folio_work_remove(b.work);
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx)) folio__error(ctx, rc, "out of memory");
    return rc;
}
