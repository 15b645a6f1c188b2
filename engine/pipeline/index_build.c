/* folio_index_build(): recognition (transcribe.c), alignment (align module), and the finished
 * index written into the work file and renamed into place (index module). */
#include "../align/align.h"
#include "../lookup/lookup.h"
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MATCH_SHARE 0.3     /* under this share of speech aligned: not this book */
#define LOW_CONFIDENCE 0.5f /* pages under this are listed in the report */

void folio_index_options_init(folio_index_options_t *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof(*opts));
    folio_transcribe_options_init(&opts->transcribe);
}

/* ---- forced alignment reads the audio cache ---- */

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

/* ---- gaps recognised again, with a model of their text ---- */

typedef struct {
    folio_t *ctx;
    const folio_book_t *book;
    const folio_models_t *models;
    pcm_t *pcm;
    folio_decoder_config_t cfg;
    folio_decoder_t *dec; /* made for the first gap */
    char lm_path[4300];
    VEC(int16_t) buf;
} gaps_t;

static int recognise_gap(void *ud, size_t file, double start, double end, size_t tok_from,
                         size_t tok_to, folio_rec_words_t *out)
{
    gaps_t *g = ud;
    int rc = FOLIO_OK;
    out->len = 0;
    if (!g->dec && !(g->dec = folio__decoder_new(g->ctx, &g->cfg, &rc))) return rc;
    uint64_t first = (uint64_t)(start * FOLIO_SPEECH_RATE);
    size_t n = (size_t)((end - start) * FOLIO_SPEECH_RATE);
    if (folio__grow((void **)&g->buf.items, &g->buf.cap, n ? n : 1, sizeof(int16_t)) < 0)
        return FOLIO_ENOMEM;
    if ((rc = read_pcm(g->pcm, file, first, n, g->buf.items)) < 0)
        return folio__error(g->ctx, rc, "%s: cannot read the audio cache", g->pcm->path);
    return folio__models_recognise_window(g->ctx, g->models, g->book, g->dec, tok_from, tok_to,
                                          g->lm_path, g->buf.items, n, out);
}

/* ---- from word times to pages, chapters and sentences ---- */

/* The first source word whose start_char is >= @c. */
static size_t word_at(const folio_book_t *book, size_t c)
{
    size_t lo = 0, hi = folio_book_n_words(book);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (folio_book_word(book, mid)->start_char < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The time of the text [a, b): from its first read word to the end of its last. */
static void span_time(const folio_book_t *book, const folio_alignment_t *al, size_t a, size_t b,
                      folio_index_item_t *x)
{
    x->start = x->end = -1;
    x->confidence = 0;
    size_t first = SIZE_MAX, last = SIZE_MAX;
    for (size_t w = word_at(book, a); w < al->n_words && folio_book_word(book, w)->start_char < b;
         w++) {
        if (al->words[w].start < 0) continue;
        if (first == SIZE_MAX) first = w;
        last = w;
    }
    if (first == SIZE_MAX) return;
    const folio_timing_t *f = &al->words[first], *l = &al->words[last];
    x->start = f->start;
    x->file = f->file;
    x->file_time = f->file_time;
    x->confidence = f->confidence;
    x->end = l->end > f->start ? l->end : f->end;
}

/* ---- the report ---- */

static void json_string(folio_str_t *s, const char *v)
{
    folio__str_appendc(s, '"');
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c == '"' || *c == '\\')
            folio__str_printf(s, "\\%c", *c);
        else if (*c == '\n')
            folio__str_append(s, "\\n", 2);
        else if (*c < 0x20)
            folio__str_printf(s, "\\u%04x", *c);
        else
            folio__str_appendc(s, (char)*c);
    }
    folio__str_appendc(s, '"');
}

static char *report_json(const folio_book_t *book, const folio_alignment_t *al,
                         const folio_index_item_t *pages, size_t n_pages, double audio_seconds)
{
    folio_str_t s = {0};
    size_t pages_read = 0;
    for (size_t i = 0; i < n_pages; i++) pages_read += pages[i].start >= 0;
    double share = al->speech_seconds > 0 ? al->aligned_seconds / al->speech_seconds : 0;
    folio__str_printf(&s,
                      "{\"words_total\": %zu, \"words_read\": %zu, \"read_share\": %.4f, "
                      "\"speech_seconds\": %.2f, \"aligned_speech_share\": %.4f, "
                      "\"audio_seconds\": %.2f, \"pages_total\": %zu, \"pages_read\": %zu,\n"
                      " \"unaligned_audio\": [",
                      al->words_total, al->words_read,
                      al->words_total ? (double)al->words_read / (double)al->words_total : 0,
                      al->speech_seconds, share > 1 ? 1 : share, audio_seconds, n_pages,
                      pages_read);
    for (size_t i = 0; i < al->unaligned.len; i++) {
        const folio_unaligned_t *u = &al->unaligned.items[i];
        folio__str_printf(&s, "%s\n  {\"file\": %zu, \"start\": %.2f, \"end\": %.2f, \"words\": ",
                          i ? "," : "", u->file, u->start, u->end);
        json_string(&s, u->words);
        folio__str_appendc(&s, '}');
    }
    folio__str_printf(&s, "],\n \"unread_text\": [");
    for (size_t i = 0; i < al->unread.len; i++) {
        const folio_unread_t *u = &al->unread.items[i];
        folio__str_printf(&s, "%s\n  {\"start_char\": %zu, \"end_char\": %zu, \"kind\": \"%s\"}",
                          i ? "," : "", u->start_char, u->end_char, folio_block_kind_name(u->kind));
    }
    folio__str_printf(&s, "],\n \"low_confidence_pages\": [");
    size_t k = 0;
    for (size_t i = 0; i < n_pages; i++) {
        if (pages[i].start < 0 || pages[i].confidence >= LOW_CONFIDENCE) continue;
        if (k++) folio__str_append(&s, ", ", 2);
        json_string(&s, pages[i].label);
    }
    folio__str_printf(&s, "]}");
    (void)book;
    return folio__str_take(&s);
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
    }
    return "unknown";
}

/* ---- the whole run ---- */

int folio_index_build(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                      size_t n_audio, const char *out_path, const folio_index_options_t *opts)
{
    int rc = FOLIO_OK;
    folio_index_options_t o;
    folio_index_options_init(&o);
    if (opts) o = *opts;
    folio_models_t models = {0};
    folio_transcript_t *tr = NULL;
    /* Alignment decoders: the first reports to @ctx (it runs on this thread), the others, each
     * on a thread of its own, to contexts of their own. */
    folio_decoder_t *aligners[FOLIO_ALIGN_MAX_THREADS] = {0};
    folio_t *aligner_ctx[FOLIO_ALIGN_MAX_THREADS] = {0};
    size_t n_aligners = 0;
    folio_alignment_t al = {0};
    gaps_t gaps = {0};
    folio_part_t *part = NULL;
    pcm_t pcm = {.fd = -1};
    uint64_t *first = NULL, *count = NULL;
    double *duration = NULL, *offset = NULL;
    folio_index_item_t *pages = NULL, *chapters = NULL, *sentences = NULL, *words = NULL;
    char *report = NULL;
    char work[4200] = "", pcm_path[4300];
    if (!book || !audio || !n_audio || !out_path || !*out_path)
        FAIL(ctx, FOLIO_EINVAL, "a book, audio files and an output path are needed");
    if (snprintf(work, sizeof(work), "%s.part", out_path) >= (int)sizeof(work))
        FAIL(ctx, FOLIO_EINVAL, "%s: the path is too long", out_path);
    snprintf(pcm_path, sizeof(pcm_path), "%s.pcm", work);
    double start = folio__now();

    /* Recognition (resumable). */
    TRY(folio__transcribe_run(ctx, book, audio, n_audio, work, &o.transcribe, &models, &tr));
    size_t n_files = folio_transcript_n_files(tr);
    duration = calloc(n_files, sizeof(double));
    offset = calloc(n_files, sizeof(double));
    first = calloc(n_files, sizeof(uint64_t));
    count = calloc(n_files, sizeof(uint64_t));
    if (!duration || !offset || !first || !count) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    uint64_t at = 0;
    double audio_seconds = 0;
    for (size_t i = 0; i < n_files; i++) {
        duration[i] = folio_transcript_file_duration(tr, i);
        offset[i] = folio_transcript_file_offset(tr, i);
        count[i] = (uint64_t)llround(duration[i] * FOLIO_SPEECH_RATE);
        first[i] = at;
        at += count[i];
        audio_seconds += duration[i];
    }

    /* Alignment. */
    pcm.fd = open(pcm_path, O_RDONLY | O_CLOEXEC);
    pcm.path = pcm_path;
    pcm.first = first;
    pcm.n = count;
    folio_decoder_config_t acfg = models.decoder;
    folio__decoder_config_align(&acfg);
    acfg.lm_path = NULL;
    acfg.oob_path = NULL;
    if (pcm.fd >= 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        size_t want =
            o.transcribe.threads ? (size_t)o.transcribe.threads : (size_t)(cores > 0 ? cores : 1);
        if (want > FOLIO_ALIGN_MAX_THREADS) want = FOLIO_ALIGN_MAX_THREADS;
        for (; n_aligners < want; n_aligners++) {
            folio_t *c = n_aligners ? (aligner_ctx[n_aligners] = folio_new()) : ctx;
            if (!c) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
            if (!(aligners[n_aligners] = folio__decoder_new(c, &acfg, &rc))) {
                if (c != ctx) folio__error(ctx, rc, "%s", folio_errmsg(c));
                goto fail;
            }
        }
    } else {
        folio__warn(ctx, "%s: %s; page starts keep the first pass's times", pcm_path,
                    strerror(errno));
    }
    /* Gaps are recognised as a window of the text is. */
    gaps = (gaps_t){.ctx = ctx, .book = book, .models = &models, .pcm = &pcm};
    folio__models_window_config(&models, &gaps.cfg);
    snprintf(gaps.lm_path, sizeof(gaps.lm_path), "%s.gaps.lm", work);
    size_t n_heard = folio_transcript_n_words(tr);
    folio_align_input_t in = {
        .book = book,
        .lex = models.lex,
        .heard = n_heard ? folio_transcript_word(tr, 0) : NULL,
        .n_heard = n_heard,
        .n_files = n_files,
        .duration = duration,
        .offset = offset,
        .read_pcm = pcm.fd >= 0 ? read_pcm : NULL,
        .pcm_ud = &pcm,
        .aligners = aligners,
        .n_aligners = n_aligners,
        .recognise = pcm.fd >= 0 ? recognise_gap : NULL,
        .recognise_ud = &gaps,
        .start_time = start,
    };
    double align_start = folio__now();
    folio__info(ctx, "recognition took %.1f s", align_start - start);
    if ((rc = folio__align(ctx, &in, &al)) < 0) goto fail;
    folio__info(ctx, "alignment took %.1f s", folio__now() - align_start);
    double share = al.speech_seconds > 0 ? al.aligned_seconds / al.speech_seconds : 0;
    folio__info(ctx, "aligned %.1f%% of %.0f s of recognised speech; %zu of %zu words read",
                100 * share, al.speech_seconds, al.words_read, al.words_total);
    if (share < MATCH_SHARE && !o.force) {
        rc =
            folio__error(ctx, FOLIO_ENOMATCH,
                         al.speech_seconds > 0
                             ? "the audio does not seem to be this book: only %.0f%% of its %.0f s "
                               "of recognised speech matches the text (at least %.0f%% is needed)"
                             : "no speech of this book was recognised in the audio (%.0f%% of %.0f "
                               "s; at least %.0f%% is needed)",
                         100 * share, al.speech_seconds, 100 * MATCH_SHARE);
        goto fail;
    }

    /* The index's items. */
    size_t np = folio_book_n_pages(book), nc = folio_book_n_chapters(book),
           ns = folio_book_n_sentences(book), nw = folio_book_n_words(book);
    size_t text_len = folio_book_text_length(book);
    pages = calloc(np ? np : 1, sizeof(*pages));
    chapters = calloc(nc ? nc : 1, sizeof(*chapters));
    sentences = calloc(ns ? ns : 1, sizeof(*sentences));
    words = calloc(nw ? nw : 1, sizeof(*words));
    if (!pages || !chapters || !sentences || !words) {
        rc = folio__error(ctx, FOLIO_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < np; i++) {
        const folio_page_t *p = folio_book_page(book, i);
        size_t end = i + 1 < np ? folio_book_page(book, i + 1)->start_char : text_len;
        if (end < p->start_char) end = p->start_char;
        pages[i].label = p->label;
        pages[i].start_char = p->start_char;
        span_time(book, &al, p->start_char, end, &pages[i]);
    }
    for (size_t i = 0; i < nc; i++) {
        const folio_chapter_t *c = folio_book_chapter(book, i);
        /* Up to the next entry that starts later (sub-entries may share the start). */
        size_t end = text_len;
        for (size_t k = i + 1; k < nc; k++)
            if (folio_book_chapter(book, k)->start_char > c->start_char) {
                end = folio_book_chapter(book, k)->start_char;
                break;
            }
        chapters[i].label = c->title;
        chapters[i].level = c->level;
        chapters[i].start_char = c->start_char;
        span_time(book, &al, c->start_char, end, &chapters[i]);
    }
    for (size_t i = 0; i < ns; i++) {
        const folio_sentence_t *s = folio_book_sentence(book, i);
        sentences[i].start_char = s->start_char;
        sentences[i].end_char = s->end_char;
        span_time(book, &al, s->start_char, s->end_char, &sentences[i]);
    }
    for (size_t i = 0; i < nw; i++) {
        const folio_word_t *w = folio_book_word(book, i);
        const folio_timing_t *t = &al.words[i];
        words[i] = (folio_index_item_t){NULL,
                                        0,
                                        w->start_char,
                                        w->end_char,
                                        t->start,
                                        t->end,
                                        t->file,
                                        t->file_time,
                                        t->start >= 0 ? t->confidence : 0};
    }
    report = report_json(book, &al, pages, np, audio_seconds);
    if (!report) {
        rc = folio__error(ctx, FOLIO_ENOMEM, "out of memory");
        goto fail;
    }

    /* Write it into the work file and move it into place. */
    if ((rc = folio__progress(ctx, "writing", 0, 1, start)) < 0) goto fail;
    char fp[65];
    if ((rc = folio__fingerprint(ctx, book, audio, n_audio, models.model_dir, &models, fp)) < 0)
        goto fail;
    bool resumed;
    part = folio__part_open(ctx, work, fp, false, &resumed, &rc);
    if (!part) goto fail;
    char version[32], length[32];
    snprintf(version, sizeof(version), "%s", folio_version());
    snprintf(length, sizeof(length), "%zu", text_len);
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
    const char **paths = calloc(n_audio, sizeof(char *));
    if (!paths) {
        rc = folio__error(ctx, FOLIO_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n_audio; i++) paths[i] = audio[i];
    size_t text_bytes;
    const char *text = folio_book_text(book, &text_bytes);
    /* The lookup tables, from the word times as the index stores them (milliseconds). */
    folio_lookup_tables_t lt;
    double *wstart = malloc((nw ? nw : 1) * sizeof(double));
    if (!wstart) {
        free(paths);
        rc = folio__error(ctx, FOLIO_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nw; i++)
        wstart[i] = words[i].start >= 0 ? (double)(int64_t)(words[i].start * 1000 + 0.5) : -1;
    rc = folio__lookup_tables(text, text_bytes, wstart, nw, &lt);
    free(wstart);
    if (rc < 0) {
        free(paths);
        rc = folio__error(ctx, rc, "cannot build the lookup tables: %s", folio_strerror(rc));
        goto fail;
    }
    folio_index_data_t d = {.meta = meta,
                            .n_meta = sizeof(meta) / sizeof(meta[0]),
                            .text = text,
                            .text_bytes = text_bytes,
                            .paths = paths,
                            .duration = duration,
                            .offset = offset,
                            .n_files = n_files,
                            .pages = pages,
                            .chapters = chapters,
                            .sentences = sentences,
                            .words = words,
                            .n_pages = np,
                            .n_chapters = nc,
                            .n_sentences = ns,
                            .n_words = nw,
                            .report_json = report,
                            .blobs = lt.blob,
                            .n_blobs = sizeof(lt.blob) / sizeof(lt.blob[0])};
    rc = folio__index_write(part, &d);
    folio__lookup_tables_free(&lt);
    free(paths);
    if (rc < 0) goto fail;
    if ((rc = folio__part_finalize(part, out_path)) < 0) goto fail;
    folio_work_remove(work); /* the side files; the work file itself is now the index */
    rc = folio__progress(ctx, "writing", 1, 1, start);
    if (rc == FOLIO_ECANCELLED) rc = FOLIO_OK; /* too late to stop: it is written */
fail:
    free(duration);
    free(offset);
    folio__part_close(part);
    if (pcm.fd >= 0) close(pcm.fd);
    folio__decoder_free(gaps.dec);
    VEC_FREE(gaps.buf);
    if (gaps.dec) unlink(gaps.lm_path);
    for (size_t i = 0; i < n_aligners; i++) folio__decoder_free(aligners[i]);
    for (size_t i = 0; i < FOLIO_ALIGN_MAX_THREADS; i++) folio_free(aligner_ctx[i]);
    folio__alignment_free(&al);
    folio_transcript_free(tr);
    folio__models_free(&models);
    free(first);
    free(count);
    free(pages);
    free(chapters);
    free(sentences);
    free(words);
    free(report);
    /* Not this book: leave nothing behind (the recognition of the wrong audio is no use). */
    if (rc == FOLIO_ENOMATCH && *work) folio_work_remove(work);
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx)) folio__error(ctx, rc, "out of memory");
    return rc;
}
