/* Text to audio: where the OCR of a page is in the book.
 *
 * The query becomes a letter stream (lookup.h: no spaces or punctuation, OCR confusions folded),
 * so split, merged and hyphenated words cost nothing and confused letters little. Every run of
 * FOLIO_GRAM symbols of the query is looked up in the book's sorted gram table (built at index
 * time); each hit votes for a diagonal, book position minus query position. Where many votes
 * agree is a candidate; each candidate is verified by a local alignment of the whole query with
 * the book around its diagonal (Smith-Waterman in a band), which tolerates letters wrong, missing
 * or extra, and leaves out what is not book text at either end (a running head, a page number,
 * a partial line). The score is the alignment's score over the best the query could get: a page
 * of the book scores near 1, a snippet with 15% of its letters wrong 0.55 or more, text of
 * another book under 0.35 (a phrase both books have). */
#include "match.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SYMS 3000    /* a longer query is cut: a page is about 2000 letters */
#define MIN_SYMS 24      /* about four words: shorter text matches too many places */
#define MAX_POSTINGS 200 /* grams more common than this ("ofthe") do not vote */
#define MIN_VOTES 3      /* a candidate needs this many grams on one diagonal */
#define MAX_CANDIDATES 8 /* verified per query */
#define MATCH 2
#define MISMATCH (-1)
#define GAP (-2)
/* Below: no match. Measured on Sense and Sensibility: 15-word snippets with 15% of their letters
 * wrong score 0.55 and more, text of another book under 0.35. */
#define THRESHOLD 0.40f

typedef struct {
    long diag; /* book position - query position */
    size_t votes;
} cand_t;

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static int cmp_votes(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->votes != y->votes) return x->votes > y->votes ? -1 : 1;
    return (x->diag > y->diag) - (x->diag < y->diag);
}

/* First gram entry >= @v. */
static size_t lower(const uint64_t *g, size_t n, uint64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (g[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Diagonals where the query's grams are found, sorted. */
static int vote(const uint8_t *q, size_t nq, const uint64_t *grams, size_t ng, long **out,
                size_t *n_out)
{
    VEC(long) d = {0};
    uint64_t key = 0, mask = ((uint64_t)1 << (6 * FOLIO_GRAM)) - 1;
    uint64_t pos_mask = ((uint64_t)1 << FOLIO_GRAM_POS_BITS) - 1;
    for (size_t i = 0; i < nq; i++) {
        key = ((key << 6) | q[i]) & mask;
        if (i + 1 < FOLIO_GRAM) continue;
        size_t at = i + 1 - FOLIO_GRAM;
        size_t lo = lower(grams, ng, key << FOLIO_GRAM_POS_BITS);
        size_t hi = lower(grams, ng, (key + 1) << FOLIO_GRAM_POS_BITS);
        if (hi - lo > MAX_POSTINGS) continue;
        for (size_t k = lo; k < hi; k++)
            if (VEC_PUSH(d, (long)(grams[k] & pos_mask) - (long)at) < 0) {
                VEC_FREE(d);
                return FOLIO_ENOMEM;
            }
    }
    if (d.len) qsort(d.items, d.len, sizeof(long), cmp_long);
    *out = d.items;
    *n_out = d.len;
    return FOLIO_OK;
}

/* The densest diagonals: for each, the votes within @width of it; best first, apart by more
 * than @apart. */
static size_t candidates(const long *d, size_t n, long width, long apart, cand_t *out, size_t max)
{
    VEC(cand_t) all = {0};
    for (size_t i = 0, j = 0; i < n; i++) {
        if (i && d[i] == d[i - 1]) continue;
        while (j < n && d[j] <= d[i] + width) j++;
        cand_t c = {d[i] + width / 2, j - i};
        if (c.votes >= MIN_VOTES && VEC_PUSH(all, c) < 0) break;
    }
    if (all.len) qsort(all.items, all.len, sizeof(cand_t), cmp_votes);
    size_t k = 0;
    for (size_t i = 0; i < all.len && k < max; i++) {
        bool near = false;
        for (size_t x = 0; x < k && !near; x++)
            near = labs(out[x].diag - all.items[i].diag) <= apart;
        if (!near) out[k++] = all.items[i];
    }
    VEC_FREE(all);
    return k;
}

typedef struct {
    int score;
    long book_start, book_end; /* symbols of the book, inclusive */
} local_t;

/* Smith-Waterman of query @q against the book @s around diagonal @diag, in a band of half-width
 * @band. Each cell carries where its alignment started in the book. */
static int align_band(const uint8_t *q, size_t nq, const uint8_t *s, size_t ns, long diag,
                      long band, local_t *best)
{
    size_t w = (size_t)(2 * band + 1);
    int *H = calloc(2 * w, sizeof(int));
    long *start = calloc(2 * w, sizeof(long));
    if (!H || !start) {
        free(H);
        free(start);
        return FOLIO_ENOMEM;
    }
    memset(best, 0, sizeof(*best));
    best->book_start = best->book_end = -1;
    int *prev = H, *cur = H + w;
    long *pst = start, *cst = start + w;
    for (size_t k = 0; k < w; k++) pst[k] = -1;
    for (size_t i = 0; i < nq; i++) {
        for (size_t k = 0; k < w; k++) {
            /* Cell (i, k) is book position b = diag + i + k - band. */
            long b = diag + (long)i + (long)k - band;
            int h = 0;
            long st = b;
            if (b >= 0 && (size_t)b < ns) {
                /* diagonal: (i-1, b-1) is the same k in the previous row */
                int dv = (i ? prev[k] : 0) + (q[i] == s[b] ? MATCH : MISMATCH);
                if (dv > h) h = dv, st = i && prev[k] > 0 ? pst[k] : b;
                /* a query letter the book does not have: (i-1, b) is k+1 in the previous row */
                if (i && k + 1 < w && prev[k + 1] + GAP > h) h = prev[k + 1] + GAP, st = pst[k + 1];
                /* a book letter the query does not have: (i, b-1) is k-1 in this row */
                if (k && cur[k - 1] + GAP > h) h = cur[k - 1] + GAP, st = cst[k - 1];
            }
            cur[k] = h;
            cst[k] = h > 0 ? st : -1;
            if (h > best->score) {
                best->score = h;
                best->book_start = st;
                best->book_end = b;
            }
        }
        int *t = prev;
        prev = cur;
        cur = t;
        long *ts = pst;
        pst = cst;
        cst = ts;
    }
    free(H);
    free(start);
    return FOLIO_OK;
}

static int cmp_score(const void *a, const void *b)
{
    const folio_lookup_t *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->char_offset > y->char_offset) - (x->char_offset < y->char_offset);
}

int folio__match(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                 folio_lookup_t *out, size_t max, size_t *n_out, folio_match_span_t *spans)
{
    if (!ix || !text || !out || !n_out)
        return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_text: NULL argument");
    if (!max) return folio__error(ctx, FOLIO_EINVAL, "folio_lookup_text: max is 0");
    *n_out = 0;
    if (!folio__utf8_valid(text, len, NULL))
        return folio__error(ctx, FOLIO_EENCODING, "the text is not valid UTF-8");
    size_t ns, ncp, ngb;
    const uint8_t *s = folio__index_blob(ix, "stream", &ns);
    const uint32_t *cp = folio__index_blob(ix, "cp", &ncp);
    const uint64_t *grams = folio__index_blob(ix, "grams", &ngb);
    if (!s || !cp || ncp / sizeof(uint32_t) != ns) return FOLIO_OK; /* nothing to match */
    size_t ng = ngb / sizeof(uint64_t);

    folio_stream_t q;
    int rc = folio__stream(text, len, 0, &q);
    if (rc < 0) return folio__error(ctx, rc, "out of memory matching the text");
    long *diags = NULL;
    size_t nd = 0;
    if (q.n > MAX_SYMS) q.n = MAX_SYMS;
    if (q.n < MIN_SYMS) goto done;
    TRY(vote(q.sym, q.n, grams, ng, &diags, &nd));
    cand_t cands[MAX_CANDIDATES];
    long nq = (long)q.n;
    size_t nc = candidates(diags, nd, 16 + nq / 8, nq, cands, MAX_CANDIDATES);
    folio_lookup_t found[MAX_CANDIDATES];
    folio_match_span_t span[MAX_CANDIDATES];
    size_t nf = 0;
    for (size_t c = 0; c < nc; c++) {
        local_t L;
        TRY(align_band(q.sym, q.n, s, ns, cands[c].diag, 16 + nq / 6, &L));
        float score = (float)L.score / (float)(MATCH * q.n);
        if (score < THRESHOLD || L.book_start < 0) continue;
        /* The first complete word of the match, and the first read word from there on. */
        size_t c0 = cp[L.book_start], c1 = cp[L.book_end] + 1;
        size_t w = folio__index_first_word_at(ix, c0);
        folio_lookup_t *r = &found[nf];
        folio__lookup_place(
            ix, w < folio_index_n_words(ix) ? folio_index_word(ix, w)->start_char : c0, r);
        folio__lookup_time_from(ix, w, r);
        r->score = score > 1 ? 1 : score;
        span[nf] = (folio_match_span_t){c0, c1, (size_t)L.book_start};
        nf++;
    }
    /* Best first; the span goes with its candidate. */
    for (size_t i = 1; i < nf; i++)
        for (size_t j = i; j > 0 && cmp_score(&found[j], &found[j - 1]) < 0; j--) {
            folio_lookup_t t = found[j];
            found[j] = found[j - 1];
            found[j - 1] = t;
            folio_match_span_t u = span[j];
            span[j] = span[j - 1];
            span[j - 1] = u;
        }
    for (size_t i = 0; i < nf && i < max; i++) {
        out[i] = found[i];
        if (spans) spans[i] = span[i];
    }
    *n_out = nf < max ? nf : max;
done:
fail:
    free(diags);
    folio__stream_free(&q);
    /* vote and align_band fail only for want of memory. */
    return rc < 0 ? folio__error(ctx, rc, "out of memory matching the text") : rc;
}

int folio_lookup_text(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                      folio_lookup_t *out, size_t max, size_t *n_out)
{
    return folio__match(ctx, ix, text, len, out, max, n_out, NULL);
}
