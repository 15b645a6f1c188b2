/* folio.h section 7b: the public OCR handle and folio_lookup_image, a photo read into lines, its
 * query built (query.c) and matched by the lookup module. Built without OCR, the same functions
 * say so. */
#include "ocr.h"

#include <stdlib.h>
#include <string.h>

/* The first whole lines tried as the answer's line (a running head, then body lines; a paragraph's
 * photo may show the first 7 of them cut at one end). */
#define N_ANCHORS 10

#ifdef FOLIO_HAVE_OCR

/* Letters of the photo's lines read well (confidence 80 and more, not flagged cut), and of all
 * its lines. */
static void quality(const folio_ocr_page_t *p, size_t *good, size_t *all)
{
    *good = *all = 0;
    for (size_t i = 0; i < p->n_lines; i++) {
        size_t n = strlen(p->lines[i].text);
        *all += n;
        if (p->lines[i].conf >= 80 && !p->lines[i].cut) *good += n;
    }
}

/* A reading kept while the photo is read again: its own copy of the lines, words and text. */
typedef struct {
    folio_ocr_page_t page;
    folio_ocr_line_t *lines;
    folio_ocr_word_t *words;
    char *text;
} kept_t;

static void kept_free(kept_t *k)
{
    free(k->lines);
    free(k->words);
    free(k->text);
    memset(k, 0, sizeof(*k));
}

/* Copy @p (whose lines point into the handle) into @k. */
static int keep(const folio_ocr_page_t *p, kept_t *k)
{
    size_t nw = 0, nt = 0;
    for (size_t i = 0; i < p->n_lines; i++)
        nw += p->lines[i].n_words, nt += strlen(p->lines[i].text) + 1;
    k->page = *p;
    k->lines = malloc((p->n_lines ? p->n_lines : 1) * sizeof(*k->lines));
    k->words = malloc((nw ? nw : 1) * sizeof(*k->words));
    k->text = malloc(nt ? nt : 1);
    if (!k->lines || !k->words || !k->text) {
        kept_free(k);
        return FOLIO_ENOMEM;
    }
    nw = nt = 0;
    for (size_t i = 0; i < p->n_lines; i++) {
        const folio_ocr_line_t *ln = &p->lines[i];
        size_t len = strlen(ln->text) + 1;
        k->lines[i] = *ln;
        memcpy(k->text + nt, ln->text, len);
        k->lines[i].text = k->text + nt;
        if (ln->n_words) memcpy(k->words + nw, ln->words, ln->n_words * sizeof(*ln->words));
        k->lines[i].words = k->words + nw;
        nt += len, nw += ln->n_words;
    }
    k->page.lines = k->lines;
    return FOLIO_OK;
}

int folio__photo_read(folio_ocr_t *ocr, const void *bytes, size_t n, folio_ocr_page_t *page,
                      void **own)
{
    *own = NULL;
    int rc = folio__ocr_read(ocr, bytes, n, page);
    if (rc < 0) return rc;
    size_t good, all;
    quality(page, &good, &all);
    if (all && good >= all * 7 / 10) return rc;
    /* The first reading is kept rather than read a third time when it proves the better one. */
    kept_t *k = calloc(1, sizeof(*k));
    if (!k || keep(page, k) < 0) {
        free(k);
        return FOLIO_ENOMEM;
    }
    folio_ocr_tuning_t t = folio__ocr_tuning_default(), other = t;
    other.normalize = !t.normalize;
    double sec = page->decode_sec + page->ocr_sec;
    TRY(folio__ocr_tune(ocr, &other));
    rc = folio__ocr_read(ocr, bytes, n, page);
    size_t good2, all2;
    quality(page, &good2, &all2);
    if (rc < 0 || good2 < good) {
        double sec2 = rc < 0 ? 0 : page->decode_sec + page->ocr_sec;
        rc = FOLIO_OK;
        *page = k->page;
        page->ocr_sec += sec2;
        *own = k;
        k = NULL;
    } else {
        page->ocr_sec += sec;
    }
fail:
    if (k) {
        kept_free(k);
        free(k);
    }
    folio__ocr_tune(ocr, &t);
    return rc;
}

void folio__photo_read_free(void *own)
{
    if (!own) return;
    kept_free(own);
    free(own);
}

folio_ocr_t *folio_ocr_new(folio_t *ctx, int *err)
{
    int e = FOLIO_OK;
    folio_ocr_t *o = folio__ocr_new(ctx, NULL, &e);
    if (err) *err = e;
    return o;
}

void folio_ocr_free(folio_ocr_t *ocr)
{
    folio__ocr_free(ocr);
}

int folio_lookup_image(folio_t *ctx, folio_ocr_t *ocr, const folio_index_t *ix, const void *bytes,
                       size_t n, folio_lookup_t *out, size_t max, size_t *n_out,
                       folio_image_info_t *info)
{
    if (info) memset(info, 0, sizeof(*info));
    if (!ocr || !ix || !bytes || !out || !n_out)
        return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_image: NULL argument");
    if (!max) return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_image: max is 0");
    *n_out = 0;
    folio_ocr_page_t page;
    void *kept = NULL;
    /* The message of a photo that cannot be read goes to this call's context. */
    folio_t *own = folio__ocr_set_ctx(ocr, ctx);
    int rc = folio__photo_read(ocr, bytes, n, &page, &kept);
    folio__ocr_set_ctx(ocr, own);
    if (rc == FOLIO_ENOMEM) folio__error(ctx, rc, "out of memory reading the photo");
    if (rc < 0) return rc;
    double t0 = folio__now();
    folio_str_t text = {0};
    folio_anchor_t anchors[N_ANCHORS];
    size_t n_anchors = 0;
    rc = folio__photo_query(page.lines, page.n_lines, page.skew_deg, &text, anchors, N_ANCHORS,
                            &n_anchors);
    if (rc < 0) {
        rc = folio__error(ctx, rc, "out of memory matching the photo");
    } else if (n_anchors) {
        rc = folio__lookup_anchored(ctx, ix, text.data, text.len, anchors, n_anchors, out, max,
                                    n_out);
    }
    if (info) {
        info->lines = page.n_lines;
        for (size_t i = 0; i < n_anchors; i++) info->whole_lines += !anchors[i].head_like;
        info->ocr_sec = page.decode_sec + page.ocr_sec;
        info->match_sec = folio__now() - t0;
    }
    folio__str_free(&text);
    folio__photo_read_free(kept);
    return rc;
}

#else

folio_ocr_t *folio_ocr_new(folio_t *ctx, int *err)
{
    int e = folio__error(ctx, FOLIO_EINVAL, "built without OCR");
    if (err) *err = e;
    return NULL;
}

void folio_ocr_free(folio_ocr_t *ocr)
{
    (void)ocr;
}

int folio_lookup_image(folio_t *ctx, folio_ocr_t *ocr, const folio_index_t *ix, const void *bytes,
                       size_t n, folio_lookup_t *out, size_t max, size_t *n_out,
                       folio_image_info_t *info)
{
    (void)ocr, (void)ix, (void)bytes, (void)n, (void)out, (void)max;
    if (n_out) *n_out = 0;
    if (info) memset(info, 0, sizeof(*info));
    return folio__error(ctx, FOLIO_EINVAL, "built without OCR");
}

#endif
