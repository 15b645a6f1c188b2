/* Photo lookups: a photo's body text matched as any OCR text, then each candidate's place moved to
 * where the photo's first whole line starts in the book, found by aligning that line alone with
 * the book around the match. */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#define MAX_LINE 200     /* symbols of an anchor line used: a printed line has 40-90 */
#define MIN_LINE 6       /* a shorter line (a page number, "I.") is not looked for */
#define LINE_OK 0.55f    /* an anchor is found when it scores this share of its best */
#define HEAD_SYMS 40     /* a line this short may be a running head */
#define HEADING_WORDS 12 /* a chapter's heading and title have at most this many words */
#define SLACK 40         /* symbols of the book searched beyond where the line is expected */
#define CLIP_MAX 30      /* symbols a line's right end can lose to the edge of the photo */
#define MATCH 2
#define MISMATCH (-1)
#define GAP (-2)

/* Fitting alignment: all of @q (@m symbols) against any stretch of the book @s[lo, hi); the best
 * score in *@score, the book symbol the stretch starts at in *@start and the one after its end in
 * *@end. The line's letters are
 * all aligned (a wrong first letter costs a mismatch, it does not move the start), the book's
 * before and after it cost nothing. */
static int fit(const uint8_t *q, size_t m, const uint8_t *s, size_t lo, size_t hi, int *score,
               size_t *start, size_t *end)
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
    *end = lo;
    for (size_t j = 1; j < w; j++)
        if (last[j] > *score) *score = last[j], *start = lst[j], *end = lo + j;
    free(h);
    free(st);
    return FOLIO_OK;
}

/* Where anchor @a is in the book near symbol @expect (it may start up to a line before it),
 * scoring at least @ok of its best: *@start and *@end (one past), or *@start -1 when it is not
 * there. */
static int find_line(const uint8_t *s, size_t ns, size_t expect, const folio_stream_t *a, float ok,
                     long *start, size_t *end)
{
    *start = -1;
    size_t m = a->n < MAX_LINE ? a->n : MAX_LINE;
    if (m < MIN_LINE) return FOLIO_OK;
    size_t lo = expect > m + SLACK ? expect - m - SLACK : 0;
    size_t hi = expect + 2 * m + SLACK < ns ? expect + 2 * m + SLACK : ns;
    if (lo >= hi) return FOLIO_OK;
    int score;
    size_t st;
    int rc = fit(a->sym, m, s, lo, hi, &score, &st, end);
    if (rc < 0) return rc;
    if ((float)score >= ok * (float)(MATCH * m)) *start = (long)st;
    return FOLIO_OK;
}

/* Whether a line found at book symbols [@start, @end) that reaches the photo's edge shows less
 * than the printed line: at its left, it starts inside a word (the edge cut the word's first
 * letters; a word hyphenated across lines starts inside a word too, but the edge does not
 * touch that line); at its right, letters of the book are missing before the next line
 * (@next, found from @end on; none: cannot tell, so whole). */
static int clipped(const folio_index_t *ix, const uint8_t *s, size_t ns, const uint32_t *cp,
                   const folio_anchor_t *an, long start, size_t end, const folio_stream_t *next,
                   bool *out)
{
    *out = false;
    if (an->edge_left) {
        size_t w = folio__lookup_word_at(ix, cp[start]);
        if (w < folio_index_n_words(ix) && folio_index_word(ix, w)->start_char < cp[start]) {
            *out = true;
            return FOLIO_OK;
        }
    }
    if (!an->edge_right || !next) return FOLIO_OK;
    long nstart;
    size_t nend;
    int rc = find_line(s, ns, end, next, LINE_OK, &nstart, &nend);
    if (rc < 0) return rc;
    /* The next line is fitted from a line before @end: only a start after @end counts, and only
     * part of a line (more is a line the photo did not read whole between them). */
    *out = nstart > (long)end && nstart - (long)end <= CLIP_MAX;
    return FOLIO_OK;
}

/* Whether the short line @a is in the book word for word in more than one place: a running head
 * whose page number was not read (the book's or a chapter's title), not the photo's first line
 * of text (a short line that common passes over a line of a second or so). */
static bool repeated(const uint8_t *s, size_t ns, const folio_stream_t *a)
{
    if (a->n < MIN_LINE || a->n > HEAD_SYMS) return false;
    size_t found = 0;
    for (size_t i = 0; i + a->n <= ns && found < 2; i++) {
        const uint8_t *p = memchr(s + i, a->sym[0], ns - a->n + 1 - i);
        if (!p) break;
        i = (size_t)(p - s);
        found += memcmp(p, a->sym, a->n) == 0;
    }
    return found >= 2;
}

/* Where the anchors put the place of a match starting at book symbol @s0: a book symbol, or -1
 * when no anchor is found; *@k_at the anchor that gave it. */
static int place_of(const folio_index_t *ix, const uint8_t *s, size_t ns, const uint32_t *cp,
                    size_t s0, const folio_stream_t *a, const folio_anchor_t *anchors, size_t n,
                    long *at, size_t *k_at)
{
    *at = -1;
    int rc = FOLIO_OK;
    size_t back = 0; /* symbols of the lines passed over before this one */
    for (size_t k = 0; k < n; k++) {
        long start;
        size_t end;
        /* A running head is never the answer: where the book has its words (a title, a
         * chapter's name) is not where the page is. */
        if (anchors[k].head_like || (!k && repeated(s, ns, &a[k]))) continue;
        rc = find_line(s, ns, s0 + back, &a[k], LINE_OK, &start, &end);
        if (rc < 0) return rc;
        if (start >= 0) {
            const folio_stream_t *next = NULL;
            for (size_t j = k + 1; j < n && !next; j++)
                if (!anchors[j].head_like) next = &a[j];
            bool cut;
            TRY(clipped(ix, s, ns, cp, &anchors[k], start, end, next, &cut));
            if (cut) {
                /* The next line is the first whole one: it starts where this one is. */
                s0 = end > back ? end - back : 0;
                continue;
            }
            *at = (size_t)start > back ? start - (long)back : 0;
            *k_at = k;
            return FOLIO_OK;
        }
        if (!anchors[k].head_like) back += a[k].n;
    }
fail:
    return rc;
}

/* Word @w, or the first word of its chapter's heading when @w is among the chapter's first words
 * (the heading and the first words of its text). */
static size_t heading_of(const folio_index_t *ix, size_t w)
{
    size_t c = folio_index_word(ix, w)->start_char, best = w;
    for (size_t i = 0; i < folio_index_n_chapters(ix); i++) {
        const folio_index_chapter_t *ch = folio_index_chapter(ix, i);
        if (ch->start_char > c) continue;
        size_t cw = folio__lookup_word_at(ix, ch->start_char);
        if (cw < best && w - cw <= HEADING_WORDS) best = cw;
    }
    return best;
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
        size_t k = 0;
        rc = place_of(ix, s, ns, cp, span[i].sym_start, a, anchors, n_anchors, &at, &k);
        if (rc < 0) {
            rc = folio__error(ctx, rc, "out of memory matching the photo");
            goto fail;
        }
        if (at < 0 || (size_t)at >= ns) continue;
        size_t w = folio__lookup_word_at(ix, cp[at]);
        if (w >= folio_index_n_words(ix)) continue;
        /* The room is above the photo's first line, whichever line gave the place. */
        bool room = false;
        for (size_t j = 0; j <= k; j++) room = room || anchors[j].room_above;
        if (room) w = heading_of(ix, w);
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
