/* Photo lookups: a photo's body text matched as any OCR text, then each candidate's place moved to
 * where the photo's first whole line starts in the book, found by aligning that line alone with
 * the book around the match. */
#include "match.h"

#include <stdlib.h>

#define MAX_LINE 200  /* symbols of an anchor line used: a printed line has 40-90 */
#define MIN_LINE 6    /* a shorter line (a page number, "I.") is not looked for */
#define LINE_OK 0.55f /* an anchor is found when it scores this share of its best */
#define SLACK 40      /* symbols of the book searched beyond where the line is expected */
#define MATCH 2
#define MISMATCH (-1)
#define GAP (-2)

/* Fitting alignment: all of @q (@m symbols) against any stretch of the book @s[lo, hi); the best
 * score in *@score and the book symbol the stretch starts at in *@start. The line's letters are
 * all aligned (a wrong first letter costs a mismatch, it does not move the start), the book's
 * before and after it cost nothing. */
static int fit(const uint8_t *q, size_t m, const uint8_t *s, size_t lo, size_t hi, int *score,
               size_t *start)
{
    size_t w = hi - lo + 1;
    int *h = malloc(2 * w * sizeof(int));
    size_t *st = malloc(2 * w * sizeof(size_t));
    if (!h || !st) {
        free(h);
        free(st);
        return FOLIO_ENOMEM;
    }
    /* Rows alternate between the two halves of @h and @st: row i is in half i % 2. */
    for (size_t j = 0; j < w; j++) h[j] = 0, st[j] = lo + j;
    for (size_t i = 0; i < m; i++) {
        const int *prev = h + (i % 2) * w;
        const size_t *pst = st + (i % 2) * w;
        int *cur = h + ((i + 1) % 2) * w;
        size_t *cst = st + ((i + 1) % 2) * w;
        cur[0] = prev[0] + GAP;
        cst[0] = pst[0];
        for (size_t j = 1; j < w; j++) {
            int v = prev[j - 1] + (q[i] == s[lo + j - 1] ? MATCH : MISMATCH);
            size_t from = pst[j - 1];
            if (prev[j] + GAP > v) v = prev[j] + GAP, from = pst[j]; /* a letter the book lacks */
            if (cur[j - 1] + GAP > v) v = cur[j - 1] + GAP, from = cst[j - 1]; /* one it adds */
            cur[j] = v;
            cst[j] = from;
        }
    }
    const int *last = h + (m % 2) * w;
    const size_t *lst = st + (m % 2) * w;
    *score = last[0];
    *start = lst[0];
    for (size_t j = 1; j < w; j++)
        if (last[j] > *score) *score = last[j], *start = lst[j];
    free(h);
    free(st);
    return FOLIO_OK;
}

/* Where the anchors put the place of a match starting at book symbol @s0: a book symbol, or -1
 * when no anchor is found. */
static int place_of(const uint8_t *s, size_t ns, size_t s0, const folio_stream_t *a,
                    const folio_anchor_t *anchors, size_t n, long *at)
{
    *at = -1;
    size_t back = 0; /* symbols of the lines passed over before this one */
    for (size_t k = 0; k < n; k++) {
        size_t m = a[k].n < MAX_LINE ? a[k].n : MAX_LINE;
        if (m >= MIN_LINE) {
            size_t expect = s0 + back;
            size_t lo = expect > m + SLACK ? expect - m - SLACK : 0;
            size_t hi = expect + 2 * m + SLACK < ns ? expect + 2 * m + SLACK : ns;
            if (lo >= hi) return FOLIO_OK;
            int score;
            size_t start;
            int rc = fit(a[k].sym, m, s, lo, hi, &score, &start);
            if (rc < 0) return rc;
            if ((float)score >= LINE_OK * (float)(MATCH * m)) {
                *at = start > back ? (long)(start - back) : 0;
                return FOLIO_OK;
            }
        }
        if (!anchors[k].head_like) back += a[k].n;
    }
    return FOLIO_OK;
}

int folio__lookup_anchored(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                           const folio_anchor_t *anchors, size_t n_anchors, folio_lookup_t *out,
                           size_t max, size_t *n_out)
{
    if (!max || !out || !n_out || (n_anchors && !anchors))
        return folio__error(ctx, FOLIO_EINVAL, "folio__lookup_anchored: bad argument");
    folio_match_span_t *span = calloc(max, sizeof(*span));
    folio_stream_t *a = calloc(n_anchors ? n_anchors : 1, sizeof(*a));
    int rc = FOLIO_OK;
    if (!span || !a) {
        rc = folio__error(ctx, FOLIO_ENOMEM, "out of memory matching the photo");
        goto fail;
    }
    TRY(folio__match(ctx, ix, text, len, out, max, n_out, span));
    size_t ns, ncp;
    const uint8_t *s = folio__index_blob(ix, "stream", &ns);
    const uint32_t *cp = folio__index_blob(ix, "cp", &ncp);
    if (!*n_out || !s || !cp) goto fail;
    for (size_t k = 0; k < n_anchors; k++) {
        rc = folio__stream(anchors[k].text, anchors[k].len, 0, &a[k]);
        if (rc < 0) {
            rc = folio__error(ctx, rc, "out of memory matching the photo");
            goto fail;
        }
    }
    for (size_t i = 0; i < *n_out; i++) {
        long at;
        rc = place_of(s, ns, span[i].sym_start, a, anchors, n_anchors, &at);
        if (rc < 0) {
            rc = folio__error(ctx, rc, "out of memory matching the photo");
            goto fail;
        }
        if (at < 0 || (size_t)at >= ns) continue;
        size_t w = folio__lookup_word_at(ix, cp[at]);
        if (w >= folio_index_n_words(ix)) continue;
        float score = out[i].score;
        folio__lookup_place(ix, folio_index_word(ix, w)->start_char, &out[i]);
        folio__lookup_time_from(ix, w, &out[i]);
        out[i].score = score;
    }
fail:
    for (size_t k = 0; a && k < n_anchors; k++) folio__stream_free(&a[k]);
    free(a);
    free(span);
    return rc;
}
