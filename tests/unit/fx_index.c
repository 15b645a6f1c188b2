/* Test fixture: a small finished index, written through the index module's own writer. */
#include "fx_index.h"

#include "../../engine/index/index.h"
#include "../../engine/lookup/lookup.h"
#include "fixture.h"

#include <stdio.h>
#include <string.h>

/* The small index with word i read when @read and i is not in [@skip_from, @skip_to). */
static const char *small_index(const char *name, bool read, size_t skip_from, size_t skip_to)
{
    static char out[512];
    static const char text[] = "One two three four five six seven eight.";
    char part[600];
    snprintf(out, sizeof(out), "%s/%s", fx_dir(), name);
    snprintf(part, sizeof(part), "%s.part.index", out);
    folio_index_item_t words[8];
    double word_ms[8];
    size_t nw = 0, start = 0;
    for (size_t i = 0; i <= strlen(text) && nw < 8; i++) {
        if (text[i] != ' ' && text[i] != '\0') continue;
        bool said = read && (nw < skip_from || nw >= skip_to);
        double t = said ? (double)nw : -1;
        words[nw] = (folio_index_item_t){NULL, 0, start, i, t, said ? t + 0.8 : -1, 0, t, 0.9f};
        word_ms[nw] = said ? t * 1000.0 : -1;
        nw++;
        start = i + 1;
    }
    double t0 = read ? 0.0 : -1, t4 = read ? 4.0 : -1;
    folio_index_item_t pages[2] = {{"1", 0, 0, 0, t0, read ? 0.8 : -1, 0, t0, 0.9f},
                                   {"2", 0, 19, 19, t4, read ? 4.8 : -1, 0, t4, 0.9f}};
    folio_index_item_t chapter = {"Chapter", 1, 0, 0, t0, read ? 0.8 : -1, 0, t0, 0.9f};
    folio_index_item_t sentence = {NULL, 0, 0, strlen(text), t0, read ? 7.8 : -1, 0, t0, 0.9f};
    folio_lookup_tables_t lt;
    if (nw != 8 || folio__lookup_tables(text, strlen(text), word_ms, nw, &lt) != FOLIO_OK)
        return NULL;
    const char *meta[][2] = {{"title", "Small"}, {"text_sha256", "0"}};
    const char *paths[] = {"/audio/small.wav"}; /* the index keeps "small.wav" */
    double duration[] = {10.0}, offset[] = {0.0};
    folio_index_data_t d = {.meta = meta,
                            .n_meta = 2,
                            .text = text,
                            .text_bytes = strlen(text),
                            .paths = paths,
                            .duration = duration,
                            .offset = offset,
                            .n_files = 1,
                            .pages = pages,
                            .chapters = &chapter,
                            .sentences = &sentence,
                            .words = words,
                            .n_pages = 2,
                            .n_chapters = 1,
                            .n_sentences = 1,
                            .n_words = nw,
                            .report_json = "{}",
                            .blobs = lt.blob,
                            .n_blobs = sizeof(lt.blob) / sizeof(lt.blob[0])};
    int rc = folio__index_write(NULL, part, &d, out);
    folio__lookup_tables_free(&lt);
    return rc == FOLIO_OK ? out : NULL;
}

const char *fx_small_index(const char *name, bool read)
{
    return small_index(name, read, 0, 0);
}

const char *fx_small_index_skipping(const char *name, size_t skip_from, size_t skip_to)
{
    return small_index(name, true, skip_from, skip_to);
}
