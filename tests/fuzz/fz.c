/* The fuzz targets' shared helpers (see fuzz.h): the per-process scratch file and folder, and the
 * demo book's index written with made-up times. */
#include "fuzz.h"

#include "../../engine/index/index.h"
#include "../../engine/lookup/lookup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static void remove_dir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", dir);
}

const char *fz_dir(void)
{
    if (dir[0]) return dir;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof(dir), "%s/folio-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(remove_dir);
    return dir;
}

const char *fz_scratch(const uint8_t *data, size_t size, const char *suffix)
{
    static char path[320];
    snprintf(path, sizeof(path), "%s/input%s", fz_dir(), suffix);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    bool ok = fwrite(data, 1, size, f) == size;
    if (fclose(f) != 0) ok = false;
    return ok ? path : NULL;
}

_Noreturn void fz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: broken promise: %s\n", file, line, what);
    abort();
}

/* Words are the runs between ASCII white space; offsets in code points. */
typedef struct {
    size_t start, end;
} span_t;

int fz_demo_index(const char *path, size_t max_words)
{
    int err = FOLIO_OK;
    folio_book_t *book = folio_book_open(NULL, FZ_DEMO_EPUB, NULL, &err);
    if (!book) return err;
    size_t bytes = 0;
    const char *text = folio_book_text(book, &bytes);
    span_t *w = calloc(bytes / 2 + 1, sizeof(*w));
    folio_index_item_t *words = calloc(bytes / 2 + 1, sizeof(*words));
    double *word_ms = calloc(bytes / 2 + 1, sizeof(*word_ms));
    folio_index_item_t *pages = calloc(bytes / 200 + 2, sizeof(*pages));
    char(*labels)[16] = calloc(bytes / 200 + 2, sizeof(*labels));
    size_t nw = 0, np = 0, cp = 0;
    bool in_word = false;
    if (!w || !words || !word_ms || !pages || !labels) err = FOLIO_ENOMEM;
    for (size_t i = 0; err == FOLIO_OK && i <= bytes; i++) {
        unsigned char c = i < bytes ? (unsigned char)text[i] : ' ';
        if ((c & 0xC0) == 0x80) continue; /* a continuation byte: the same code point */
        bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
        if (!space && !in_word) w[nw].start = cp;
        if (space && in_word) w[nw++].end = cp;
        if (nw == max_words) break;
        in_word = !space;
        cp++;
    }
    /* The text ends after the last word kept (the end sentinel is no code point). */
    size_t n_cp = nw == max_words ? w[nw - 1].end : cp - 1;
    if (nw == max_words) {
        size_t b = 0;
        if (folio_book_text_range(book, 0, n_cp, &b)) bytes = b;
    }
    for (size_t i = 0; err == FOLIO_OK && i < nw; i++) {
        double t = 0.3 * (double)i;
        words[i] = (folio_index_item_t){NULL, 0, w[i].start, w[i].end, t, t + 0.25, 0, t, 0.9f};
        word_ms[i] = t * 1000.0;
        if (i % 40 == 0) { /* a page every 40 words */
            snprintf(labels[np], sizeof(labels[np]), "%zu", np + 1);
            pages[np] = (folio_index_item_t){labels[np], 0, w[i].start, w[i].start, t,
                                             t + 0.25,   0, t,          0.9f};
            np++;
        }
    }
    double end = 0.3 * (double)nw + 1.0;
    folio_index_item_t chapter = {"Chapter", 1, 0, 0, 0.0, 0.25, 0, 0.0, 0.9f};
    folio_index_item_t sentence = {NULL, 0, 0, n_cp, 0.0, end - 1.0, 0, 0.0, 0.9f};
    folio_lookup_tables_t lt = {0};
    bool tables = false;
    if (err == FOLIO_OK && nw) {
        err = folio__lookup_tables(text, bytes, word_ms, nw, &lt);
        tables = err == FOLIO_OK;
    }
    if (err == FOLIO_OK && !nw) err = FOLIO_EEMPTY;
    if (err == FOLIO_OK) {
        const char *meta[][2] = {{"title", "Demo"}, {"text_sha256", "0"}};
        const char *paths[] = {"/audio/demo.wav"};
        double duration[] = {end}, offset[] = {0.0};
        folio_index_data_t d = {.meta = meta,
                                .n_meta = 2,
                                .text = text,
                                .text_bytes = bytes,
                                .paths = paths,
                                .duration = duration,
                                .offset = offset,
                                .n_files = 1,
                                .pages = pages,
                                .chapters = &chapter,
                                .sentences = &sentence,
                                .words = words,
                                .n_pages = np,
                                .n_chapters = 1,
                                .n_sentences = 1,
                                .n_words = nw,
                                .report_json = "{}",
                                .blobs = lt.blob,
                                .n_blobs = sizeof(lt.blob) / sizeof(lt.blob[0])};
        char tmp[400];
        snprintf(tmp, sizeof(tmp), "%s.tmp", path);
        err = folio__index_write(NULL, tmp, &d, path);
    }
    if (tables) folio__lookup_tables_free(&lt);
    free(w);
    free(words);
    free(word_ms);
    free(pages);
    free(labels);
    folio_book_free(book);
    return err;
}
