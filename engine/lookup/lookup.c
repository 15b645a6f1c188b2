/* Page to audio, audio to page, and "scan to read": binary searches in an open index. */
#include "lookup.h"
#include "match.h"

#include <math.h>
#include <string.h>

/* The last of @n items in text order whose start is at or before code point @c; -1 if none. */
static long last_at(const folio_index_t *ix, size_t n,
                    size_t (*start)(const folio_index_t *, size_t), size_t c)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (start(ix, mid) <= c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (long)lo - 1;
}

static size_t page_start(const folio_index_t *ix, size_t i)
{
    return folio_index_page(ix, i)->start_char;
}

static size_t sentence_start(const folio_index_t *ix, size_t i)
{
    return folio_index_sentence(ix, i)->start_char;
}

void folio__lookup_place(const folio_index_t *ix, size_t c, folio_lookup_t *out)
{
    memset(out, 0, sizeof(*out));
    out->char_offset = c;
    out->page = last_at(ix, folio_index_n_pages(ix), page_start, c);
    out->page_label = out->page >= 0 ? folio_index_page(ix, (size_t)out->page)->label : "";
    /* Chapters follow the table of contents, which need not be in text order. */
    out->chapter = -1;
    size_t best = 0;
    for (size_t i = 0; i < folio_index_n_chapters(ix); i++) {
        size_t s = folio_index_chapter(ix, i)->start_char;
        if (s <= c && (out->chapter < 0 || s >= best)) out->chapter = (long)i, best = s;
    }
    out->chapter_title =
        out->chapter >= 0 ? folio_index_chapter(ix, (size_t)out->chapter)->title : "";
    long s = last_at(ix, folio_index_n_sentences(ix), sentence_start, c);
    if (s >= 0) {
        const folio_index_sentence_t *st = folio_index_sentence(ix, (size_t)s);
        out->sentence_start = st->start_char;
        out->sentence_end = st->end_char;
    }
    out->time = -1;
    out->file = -1;
    out->file_time = -1;
    out->score = 1;
}

void folio__lookup_word_time(const folio_index_t *ix, size_t w, folio_lookup_t *out)
{
    const folio_index_word_t *wd = folio_index_word(ix, w);
    if (!wd || wd->start_time < 0) return;
    out->time = wd->start_time;
    out->file = wd->file;
    out->file_time = wd->file_time;
    out->confidence = wd->confidence;
    out->read = wd->start_char <= out->char_offset && out->char_offset < wd->end_char;
}

size_t folio__lookup_word_at(const folio_index_t *ix, size_t c)
{
    size_t w = folio__index_first_word_at(ix, c);
    if (w > 0 && folio_index_word(ix, w - 1)->end_char > c) w--;
    return w;
}

void folio__lookup_time_from(const folio_index_t *ix, size_t w, folio_lookup_t *out)
{
    /* Skipped text is a footnote or a passage, rarely more than a few hundred words: a walk. */
    for (size_t n = folio_index_n_words(ix); w < n; w++)
        if (folio_index_word(ix, w)->start_time >= 0) {
            folio__lookup_word_time(ix, w, out);
            return;
        }
}

static int page_result(const folio_index_t *ix, size_t i, folio_lookup_t *out)
{
    const folio_index_page_t *p = folio_index_page(ix, i);
    folio__lookup_place(ix, p->start_char, out);
    size_t w = folio__lookup_word_at(ix, p->start_char);
    const folio_index_word_t *wd = folio_index_word(ix, w);
    out->read = wd && wd->start_time >= 0;
    out->page = (long)i;
    out->page_label = p->label;
    if (p->start_time >= 0) {
        out->time = p->start_time;
        out->file = p->file;
        out->file_time = p->file_time;
        out->confidence = p->confidence;
    }
    return FOLIO_OK;
}

int folio_lookup_page(folio_t *ctx, const folio_index_t *ix, const char *label, folio_lookup_t *out)
{
    if (!ix || !label || !out)
        return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_page: NULL argument");
    for (size_t i = 0; i < folio_index_n_pages(ix); i++)
        if (strcmp(folio_index_page(ix, i)->label, label) == 0) return page_result(ix, i, out);
    return folio__error(ctx, FOLIO_ENOTFOUND, "no page labelled \"%.200s\"", label);
}

int folio_lookup_ordinal(folio_t *ctx, const folio_index_t *ix, size_t ordinal, folio_lookup_t *out)
{
    if (!ix || !out) return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_ordinal: NULL argument");
    size_t n = folio_index_n_pages(ix);
    /* Ordinals are 1, 2, ... in order; look them up rather than trust that. */
    if (ordinal >= 1 && ordinal <= n && folio_index_page(ix, ordinal - 1)->ordinal == ordinal)
        return page_result(ix, ordinal - 1, out);
    for (size_t i = 0; i < n; i++)
        if (folio_index_page(ix, i)->ordinal == ordinal) return page_result(ix, i, out);
    return folio__error(ctx, FOLIO_ENOTFOUND, "no page %zu (the book has %zu)", ordinal, n);
}

int folio_lookup_time(folio_t *ctx, const folio_index_t *ix, long file, double time,
                      folio_lookup_t *out)
{
    if (!ix || !out) return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_time: NULL argument");
    size_t nf = folio_index_n_files(ix);
    if (file < -1 || (file >= 0 && (size_t)file >= nf))
        return folio__error(ctx, FOLIO_EINVAL, "no audio file %ld (the index has %zu)", file, nf);
    /* The audio's end is known to the half second. */
    const folio_index_file_t *f = file >= 0 ? folio_index_file(ix, (size_t)file)
                                  : nf      ? folio_index_file(ix, nf - 1)
                                            : NULL;
    double end = !f ? -1 : file >= 0 ? f->duration + 0.5 : f->offset + f->duration + 0.5;
    if (!isfinite(time) || time < 0 || time > end)
        return folio__error(ctx, FOLIO_EINVAL, "%.3f s is not a time in the audio%s", time,
                            file >= 0 ? " file" : "");
    if (file >= 0) {
        time += f->offset;
    } else {
        for (size_t i = 0; i < nf; i++)
            if (time >= folio_index_file(ix, i)->offset) file = (long)i;
    }
    size_t len;
    const uint32_t *line = folio__index_blob(ix, "timeline", &len);
    size_t n = len / sizeof(uint32_t);
    if (!n) return folio__error(ctx, FOLIO_ENOTFOUND, "nothing in the book was read");
    /* The last word starting at or before the moment... */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (folio_index_word(ix, line[mid])->start_time <= time)
            lo = mid + 1;
        else
            hi = mid;
    }
    const folio_index_word_t *w = lo ? folio_index_word(ix, line[lo - 1]) : NULL;
    size_t wi = lo ? line[lo - 1] : 0;
    /* ...in the same file; else the first one after it. */
    if ((!w || w->file != file) && lo < n && folio_index_word(ix, line[lo])->file == file) {
        wi = line[lo];
        w = folio_index_word(ix, wi);
    }
    if (!w) {
        wi = line[0];
        w = folio_index_word(ix, wi);
    }
    folio__lookup_place(ix, w->start_char, out);
    folio__lookup_word_time(ix, wi, out);
    /* Between words (a pause, an announcement): the farther, the less sure. */
    double gap = time < w->start_time ? w->start_time - time
                 : time > w->end_time ? time - w->end_time
                                      : 0;
    if (gap > 2) out->confidence *= (float)(2 / gap);
    return FOLIO_OK;
}

int folio_lookup_scan(folio_t *ctx, const folio_index_t *ix, double time, const char *text,
                      size_t len, long *pages_to_flip, folio_lookup_t *scanned,
                      folio_lookup_t *heard)
{
    if (!ix || !text || !pages_to_flip)
        return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_scan: NULL argument");
    folio_lookup_t h, s;
    int rc = folio_lookup_time(ctx, ix, -1, time, &h);
    if (rc < 0) return rc;
    size_t n = 0;
    folio_match_span_t span;
    rc = folio__match(ctx, ix, text, len, &s, 1, &n, &span);
    if (rc < 0) return rc;
    if (!n) return folio__error(ctx, FOLIO_ENOMATCH, "the text is not found in the book");
    /* The scanned text is taken as a page of the reader's edition: the text between the page's
     * start and what is heard, in such pages. */
    double page_chars =
        span.book_end > span.book_start ? (double)(span.book_end - span.book_start) : 1;
    *pages_to_flip = (long)floor(((double)h.char_offset - (double)span.book_start) / page_chars);
    if (scanned) *scanned = s;
    if (heard) *heard = h;
    return FOLIO_OK;
}
