/* What the index holds of a run: the alignment's word times put onto the book's pages, chapters,
 * sentences and words (each from its first read word to the end of its last), and the report
 * (what was read, what was not, which pages are doubtful) as JSON. */
#include "pipeline.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LOW_CONFIDENCE 0.5f /* pages under this are listed in the report */

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

int folio__results_make(folio_t *ctx, const folio_book_t *book, const folio_alignment_t *al,
                        double audio_seconds, folio_results_t *out)
{
    int rc = FOLIO_OK;
    size_t np = folio_book_n_pages(book), nc = folio_book_n_chapters(book),
           ns = folio_book_n_sentences(book), nw = folio_book_n_words(book);
    size_t text_len = folio_book_text_length(book);
    memset(out, 0, sizeof(*out));
    out->pages = calloc(np ? np : 1, sizeof(*out->pages));
    out->chapters = calloc(nc ? nc : 1, sizeof(*out->chapters));
    out->sentences = calloc(ns ? ns : 1, sizeof(*out->sentences));
    out->words = calloc(nw ? nw : 1, sizeof(*out->words));
    if (!out->pages || !out->chapters || !out->sentences || !out->words)
        FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    out->n_pages = np;
    out->n_chapters = nc;
    out->n_sentences = ns;
    out->n_words = nw;
    for (size_t i = 0; i < np; i++) {
        const folio_page_t *p = folio_book_page(book, i);
        size_t end = i + 1 < np ? folio_book_page(book, i + 1)->start_char : text_len;
        if (end < p->start_char) end = p->start_char;
        out->pages[i].label = p->label;
        out->pages[i].start_char = p->start_char;
        span_time(book, al, p->start_char, end, &out->pages[i]);
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
        out->chapters[i].label = c->title;
        out->chapters[i].level = c->level;
        out->chapters[i].start_char = c->start_char;
        span_time(book, al, c->start_char, end, &out->chapters[i]);
    }
    for (size_t i = 0; i < ns; i++) {
        const folio_sentence_t *s = folio_book_sentence(book, i);
        out->sentences[i].start_char = s->start_char;
        out->sentences[i].end_char = s->end_char;
        span_time(book, al, s->start_char, s->end_char, &out->sentences[i]);
    }
    for (size_t i = 0; i < nw; i++) {
        const folio_word_t *w = folio_book_word(book, i);
        const folio_timing_t *t = &al->words[i];
        out->words[i] = (folio_index_item_t){NULL,
                                             0,
                                             w->start_char,
                                             w->end_char,
                                             t->start,
                                             t->end,
                                             t->file,
                                             t->file_time,
                                             t->start >= 0 ? t->confidence : 0};
    }
    out->report_json = report_json(book, al, out->pages, np, audio_seconds);
    if (!out->report_json) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
fail:
    return rc;
}

void folio__results_free(folio_results_t *r)
{
    free(r->pages);
    free(r->chapters);
    free(r->sentences);
    free(r->words);
    free(r->report_json);
    memset(r, 0, sizeof(*r));
}

void folio__results_match_marks(const folio_results_t *r, folio_index_audio_mark_t *marks,
                                size_t n_marks)
{
    for (size_t i = 0; i < n_marks; i++) {
        folio_index_audio_mark_t *m = &marks[i];
        double next =
            i + 1 < n_marks && marks[i + 1].file == m->file ? marks[i + 1].file_time : HUGE_VAL;
        double best = HUGE_VAL;
        m->chapter = -1;
        for (size_t c = 0; c < r->n_chapters; c++) {
            const folio_index_item_t *x = &r->chapters[c];
            if (x->start < 0 || (long)x->file != m->file || x->file_time < m->file_time - 1.0 ||
                x->file_time >= next - 1.0 || x->file_time > m->file_time + 60 ||
                x->file_time >= best)
                continue;
            best = x->file_time;
            m->chapter = (long)c;
        }
    }
}
