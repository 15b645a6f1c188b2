/* Fuzz target: an index file made of the input's bytes, opened as a reader app would open one it
 * downloaded, then every lookup on it: each page by label and by ordinal, times across the
 * timeline and in each file, a text lookup and a scan-to-read of a piece of its text. */
#include "fuzz.h"

#include <math.h>
#include <string.h>

static void check_place(const folio_index_t *ix, const folio_lookup_t *l)
{
    FZ_CHECK(l->page_label && l->chapter_title, "a place's labels are never NULL");
    FZ_CHECK(l->char_offset <= folio_index_text_length(ix), "a place inside the text");
    FZ_CHECK(!isnan(l->time) && !isnan(l->file_time), "times are numbers");
}

static void lookups(folio_t *ctx, const folio_index_t *ix)
{
    folio_lookup_t l;
    size_t n_pages = folio_index_n_pages(ix);
    for (size_t i = 0; i < n_pages && i < 64; i++) {
        const folio_index_page_t *p = folio_index_page(ix, i);
        FZ_CHECK(p && p->label, "a page has a label");
        if (folio_lookup_page(ctx, ix, p->label, &l) == FOLIO_OK) check_place(ix, &l);
        if (folio_lookup_ordinal(ctx, ix, p->ordinal, &l) == FOLIO_OK) check_place(ix, &l);
    }
    (void)folio_lookup_page(ctx, ix, "", &l);
    (void)folio_lookup_ordinal(ctx, ix, 0, &l);
    double end = 0;
    for (size_t f = 0, n = folio_index_n_files(ix); f < n && f < 16; f++) {
        const folio_index_file_t *file = folio_index_file(ix, f);
        FZ_CHECK(file && file->path, "a file has a name");
        if (isfinite(file->offset + file->duration) && file->offset + file->duration > end)
            end = file->offset + file->duration;
        for (int k = 0; k <= 4; k++)
            if (folio_lookup_time(ctx, ix, (long)f, file->duration * k / 4, &l) == FOLIO_OK)
                check_place(ix, &l);
    }
    for (int k = 0; k <= 8; k++)
        if (folio_lookup_time(ctx, ix, -1, end * k / 8, &l) == FOLIO_OK) check_place(ix, &l);
    (void)folio_lookup_time(ctx, ix, -1, -1.0, &l);

    /* The text of the first sentences as a "photo", looked up and scanned to read. */
    size_t bytes = 0;
    const char *text = folio_index_text(ix, &bytes);
    FZ_CHECK(text, "an open index has a text");
    size_t take = bytes < 400 ? bytes : 400;
    folio_lookup_t out[3], scanned, heard;
    size_t n_out = 0;
    if (folio_lookup_text(ctx, ix, text, take, out, 3, &n_out) == FOLIO_OK)
        for (size_t i = 0; i < n_out; i++) check_place(ix, &out[i]);
    long flip = 0;
    (void)folio_lookup_scan(ctx, ix, end / 2, text, take, &flip, &scanned, &heard);

    for (size_t i = 0, n = folio_index_n_chapters(ix); i < n && i < 64; i++)
        FZ_CHECK(folio_index_chapter(ix, i)->title, "a chapter has a title");
    for (size_t i = 0, n = folio_index_n_sentences(ix); i < n && i < 64; i++)
        FZ_CHECK(folio_index_sentence(ix, i), "a sentence");
    for (size_t i = 0, n = folio_index_n_words(ix); i < n && i < 64; i++)
        FZ_CHECK(folio_index_word(ix, i), "a word");
    (void)folio_index_meta(ix, "title");
    (void)folio_index_report(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_scratch(data, size, ".folio");
    if (!path) return 0;
    folio_t *ctx = folio_new();
    int err = -1;
    folio_index_t *ix = folio_index_open(ctx, path, &err);
    FZ_CHECK((ix != NULL) == (err == FOLIO_OK), "an index exactly when FOLIO_OK");
    if (ix)
        lookups(ctx, ix);
    else
        FZ_CHECK(folio_errmsg(ctx) && *folio_errmsg(ctx), "a failure sets a message");
    folio_index_free(ix);
    folio_free(ctx);
    return 0;
}
