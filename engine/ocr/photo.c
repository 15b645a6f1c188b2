/* folio.h section 7b: the public OCR handle and folio_lookup_image, a photo read into lines, its
 * query built (query.c) and matched by the lookup module. Built without OCR, the same functions
 * say so. */
#include "ocr.h"

#include <string.h>

/* The first whole lines tried as the answer's line (a running head, then body lines). */
#define N_ANCHORS 4

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

/* Read the photo; when little of it reads well, read it again with the background
 * normalisation switched (it saves photos in uneven light and spoils some others: measured on
 * 120 photos, each way loses different ones) and keep the better reading. */
static int read_photo(folio_ocr_t *ocr, const void *bytes, size_t n, folio_ocr_page_t *page)
{
    int rc = folio__ocr_read(ocr, bytes, n, page);
    if (rc < 0) return rc;
    size_t good, all;
    quality(page, &good, &all);
    if (all && good >= all * 7 / 10) return rc;
    folio_ocr_tuning_t t = folio__ocr_tuning_default(), other = t;
    other.normalize = !t.normalize;
    double sec = page->decode_sec + page->ocr_sec;
    TRY(folio__ocr_tune(ocr, &other));
    rc = folio__ocr_read(ocr, bytes, n, page);
    size_t good2, all2;
    quality(page, &good2, &all2);
    if (rc >= 0 && good2 < good) {
        TRY(folio__ocr_tune(ocr, &t));
        sec += page->decode_sec + page->ocr_sec;
        rc = folio__ocr_read(ocr, bytes, n, page);
    }
    page->ocr_sec += sec;
fail:
    folio__ocr_tune(ocr, &t);
    return rc;
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
    /* The message of a photo that cannot be read goes to this call's context. */
    folio_t *own = folio__ocr_set_ctx(ocr, ctx);
    int rc = read_photo(ocr, bytes, n, &page);
    folio__ocr_set_ctx(ocr, own);
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
