/* Anchors and chains: word trigrams rare in the book that the recogniser heard, chained where book
 * and audio advance together; the heaviest chains that do not overlap are kept, and each run of
 * them is timed by its anchors and by dynamic programming around them. */
#include "align_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define OPEN_WORDS 80  /* a chain continues across at most this many heard words */
#define EDGE_TOKENS 80 /* how far alignment reaches out beyond a run's first and last anchor */

static uint64_t ng_key(uint32_t a, uint32_t b, uint32_t c)
{
    return (((uint64_t)a << 42) | ((uint64_t)b << 21) | c) + 1;
}

static ngram_t *ng_slot(aligner_t *A, uint64_t key)
{
    size_t mask = A->ng_cap - 1;
    size_t i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 20) & mask;
    while (A->ng[i].key && A->ng[i].key != key) i = (i + 1) & mask;
    return &A->ng[i];
}

int folio__align_build_ngrams(aligner_t *A)
{
    size_t cap = 16;
    while (cap < A->n_tok * 2 + 16) cap *= 2;
    A->ng = calloc(cap, sizeof(ngram_t));
    if (!A->ng) return FOLIO_ENOMEM;
    A->ng_cap = cap;
    for (size_t p = 0; p + 2 < A->n_tok; p++) {
        ngram_t *e = ng_slot(A, ng_key(A->tok_id[p], A->tok_id[p + 1], A->tok_id[p + 2]));
        e->key = ng_key(A->tok_id[p], A->tok_id[p + 1], A->tok_id[p + 2]);
        if (e->count < MAX_COUNT) e->pos[e->count] = (uint32_t)p;
        e->count++;
    }
    return FOLIO_OK;
}

int folio__align_find_anchors(aligner_t *A, cands_t *cands, chains_t *chains)
{
    VEC(size_t) open = {0};
    int rc = FOLIO_OK;
    for (size_t j = 0; j + 2 < A->n_rec && rc >= 0; j++) {
        /* Only words heard in one stretch of one file make a trigram. */
        const folio_heard_t *h = A->in->heard;
        if (h[j].file != h[j + 2].file ||
            h[j + 2].time - h[j].file_end - h[j].time + h[j].file_time > 3.0)
            continue;
        ngram_t *e = ng_slot(A, ng_key(A->rec_id[j], A->rec_id[j + 1], A->rec_id[j + 2]));
        if (!e->key || e->count > MAX_COUNT) continue;
        for (uint32_t k = 0; k < e->count && rc >= 0; k++) {
            size_t p = e->pos[k];
            bool read = folio__align_read(A, p);
            cand_t c = {j, p, (float)(1.0 / e->count) * (read ? 1.0f : 0.5f), SIZE_MAX};
            /* The chain it continues best: both sides advance by about the same amount. */
            size_t best = SIZE_MAX;
            double best_d = 1e9;
            size_t o = 0;
            for (size_t q = 0; q < open.len; q++) {
                chain_t *ch = &chains->items[open.items[q]];
                if (j - ch->j1 > OPEN_WORDS && ch->j1 < j) continue; /* stale: drop */
                open.items[o++] = open.items[q];
                if (ch->j1 >= j || ch->p1 >= p) continue;
                /* A chain does not run into the next chapter: the announcement before a chapter
                 * ("Chapter thirty one of …") says its heading too, and would take it. */
                if (A->chapters_to[p] != A->chapters_to[ch->p1]) continue;
                double dj = (double)(j - ch->j1), dp = (double)(p - ch->p1);
                double d = fabs(dp - dj);
                if (d <= 10 + 0.5 * dj && d < best_d) best_d = d, best = open.items[q];
            }
            open.len = o;
            if (best == SIZE_MAX) {
                chain_t ch = {j, j, p, p, 0, 0, false};
                if ((rc = VEC_PUSH(*chains, ch)) < 0) break;
                best = chains->len - 1;
                if ((rc = VEC_PUSH(open, best)) < 0) break;
            }
            chain_t *ch = &chains->items[best];
            ch->j1 = j;
            ch->p1 = p;
            ch->weight += c.w;
            ch->n++;
            c.chain = best;
            rc = VEC_PUSH(*cands, c);
        }
    }
    VEC_FREE(open);
    return rc;
}

/* A max-heap of chains by weight (ties: earlier audio first). */
typedef struct {
    size_t *items, len, cap;
    const chains_t *chains;
} heap_t;

static bool heavier(const heap_t *h, size_t a, size_t b)
{
    const chain_t *x = &h->chains->items[a], *y = &h->chains->items[b];
    return x->weight != y->weight ? x->weight > y->weight : x->j0 < y->j0;
}

static int heap_push(heap_t *h, size_t c)
{
    if (h->len == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        size_t *n = realloc(h->items, cap * sizeof(size_t));
        if (!n) return FOLIO_ENOMEM;
        h->items = n;
        h->cap = cap;
    }
    size_t i = h->len++;
    h->items[i] = c;
    while (i > 0 && heavier(h, h->items[i], h->items[(i - 1) / 2])) {
        size_t p = (i - 1) / 2, t = h->items[p];
        h->items[p] = h->items[i];
        h->items[i] = t;
        i = p;
    }
    return FOLIO_OK;
}

static size_t heap_pop(heap_t *h)
{
    size_t top = h->items[0];
    h->items[0] = h->items[--h->len];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && heavier(h, h->items[l], h->items[m])) m = l;
        if (r < h->len && heavier(h, h->items[r], h->items[m])) m = r;
        if (m == i) break;
        size_t t = h->items[m];
        h->items[m] = h->items[i];
        h->items[i] = t;
        i = m;
    }
    return top;
}

/* Whether accepted chain @d covers audio word @j or book token @p. */
static bool covers(const chain_t *d, size_t j, size_t p)
{
    return (j + 2 >= d->j0 && j <= d->j1 + 2) || (p + 2 >= d->p0 && p <= d->p1 + 2);
}

/* Whether accepted chain @d lies between two anchors (in audio or in the book). */
static bool between(const chain_t *d, const cand_t *x, const cand_t *y)
{
    return (d->j0 > x->j && d->j0 < y->j) || (d->p0 > x->p && d->p0 < y->p) ||
           (d->j1 > x->j && d->j1 < y->j) || (d->p1 > x->p && d->p1 < y->p);
}

/* Keep the heaviest chains, each where no heavier one already is, in audio or in the book. A
 * chain that overlaps kept ones is not thrown away whole (a narrator who re-reads a sentence makes
 * two chains share a little of the book): its anchors outside them are split into the pieces
 * between them, and each piece competes again with its own weight. */
int folio__align_select_chains(cands_t *cands, chains_t *chains)
{
    int rc = FOLIO_OK;
    size_t n0 = chains->len;
    /* Each chain's anchors, in audio order (they were found in that order). */
    VEC(size_t) *members = calloc(n0 ? n0 : 1, sizeof(*members));
    VEC(size_t) kept = {0}, piece = {0};
    heap_t heap = {NULL, 0, 0, chains};
    if (!members) return FOLIO_ENOMEM;
    size_t n_members = n0;
    for (size_t i = 0; i < cands->len && rc >= 0; i++)
        rc = VEC_PUSH(members[cands->items[i].chain], i);
    for (size_t i = 0; i < n0 && rc >= 0; i++)
        if (chains->items[i].weight >= 1.5) rc = heap_push(&heap, i);
    while (heap.len && rc >= 0) {
        size_t ci = heap_pop(&heap);
        chain_t c = chains->items[ci];
        bool clash = false;
        for (size_t q = 0; q < kept.len && !clash; q++) {
            const chain_t *d = &chains->items[kept.items[q]];
            clash = (c.j0 <= d->j1 + 2 && d->j0 <= c.j1 + 2) ||
                    (c.p0 <= d->p1 + 2 && d->p0 <= c.p1 + 2);
        }
        if (!clash) {
            chains->items[ci].accepted = true;
            rc = VEC_PUSH(kept, ci);
            continue;
        }
        /* Split what is left of it into pieces. */
        piece.len = 0;
        size_t prev = SIZE_MAX;
        for (size_t m = 0; m <= members[ci].len && rc >= 0; m++) {
            size_t k = m < members[ci].len ? members[ci].items[m] : SIZE_MAX;
            bool drop = false, cut = k == SIZE_MAX;
            if (k != SIZE_MAX) {
                cand_t *x = &cands->items[k];
                for (size_t q = 0; q < kept.len && !drop; q++)
                    drop = covers(&chains->items[kept.items[q]], x->j, x->p);
                if (drop) {
                    x->chain = SIZE_MAX;
                    continue;
                }
                if (prev != SIZE_MAX)
                    for (size_t q = 0; q < kept.len && !cut; q++)
                        cut = between(&chains->items[kept.items[q]], &cands->items[prev], x);
            }
            if (cut && piece.len) {
                /* A new chain of the piece's anchors. */
                chain_t nc = {SIZE_MAX, 0, SIZE_MAX, 0, 0, 0, false};
                for (size_t q = 0; q < piece.len; q++) {
                    const cand_t *y = &cands->items[piece.items[q]];
                    if (y->j < nc.j0) nc.j0 = y->j;
                    if (y->j > nc.j1) nc.j1 = y->j;
                    if (y->p < nc.p0) nc.p0 = y->p;
                    if (y->p > nc.p1) nc.p1 = y->p;
                    nc.weight += y->w;
                    nc.n++;
                }
                size_t id = chains->len;
                if ((rc = VEC_PUSH(*chains, nc)) < 0) break;
                heap.chains = chains;
                if (id >= n_members) {
                    void *grown = realloc(members, (id + 1) * 2 * sizeof(*members));
                    if (!grown) {
                        rc = FOLIO_ENOMEM;
                        break;
                    }
                    members = grown;
                    memset(members + n_members, 0, ((id + 1) * 2 - n_members) * sizeof(*members));
                    n_members = (id + 1) * 2;
                }
                for (size_t q = 0; q < piece.len && rc >= 0; q++) {
                    cands->items[piece.items[q]].chain = id;
                    rc = VEC_PUSH(members[id], piece.items[q]);
                }
                if (rc >= 0 && nc.weight >= 1.5) rc = heap_push(&heap, id);
                piece.len = 0;
            }
            if (k != SIZE_MAX && rc >= 0) {
                rc = VEC_PUSH(piece, k);
                prev = k;
            }
        }
    }
    for (size_t i = 0; i < n_members; i++) VEC_FREE(members[i]);
    free(members);
    free(heap.items);
    VEC_FREE(kept);
    VEC_FREE(piece);
    return rc;
}

typedef struct {
    size_t j, p;
} pair_t;

typedef VEC(pair_t) pairs_t;

static int cmp_pair(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    if (x->j != y->j) return x->j < y->j ? -1 : 1;
    return (x->p > y->p) - (x->p < y->p);
}

/* Longest subsequence increasing in both j and p (pairs sorted by j). */
static int lis(pairs_t *pairs)
{
    size_t n = pairs->len;
    if (n < 2) return FOLIO_OK;
    size_t *tail = malloc(n * sizeof(size_t)), *prev = malloc(n * sizeof(size_t));
    if (!tail || !prev) {
        free(tail);
        free(prev);
        return FOLIO_ENOMEM;
    }
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        /* Strictly increasing p; equal j cannot both be kept either. */
        size_t lo = 0, hi = len;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            const pair_t *t = &pairs->items[tail[mid]];
            if (t->p < pairs->items[i].p && t->j < pairs->items[i].j)
                lo = mid + 1;
            else
                hi = mid;
        }
        prev[i] = lo ? tail[lo - 1] : SIZE_MAX;
        tail[lo] = i;
        if (lo == len) len++;
    }
    pair_t *keep = malloc(len * sizeof(pair_t));
    if (!keep) {
        free(tail);
        free(prev);
        return FOLIO_ENOMEM;
    }
    size_t k = len, i = tail[len - 1];
    while (k > 0 && i != SIZE_MAX) {
        keep[--k] = pairs->items[i];
        i = prev[i];
    }
    memcpy(pairs->items, keep + k, (len - k) * sizeof(pair_t));
    pairs->len = len - k;
    free(keep);
    free(tail);
    free(prev);
    return FOLIO_OK;
}

/* Anchored words in text not usually read count only in runs of six or more in a row (as in the
 * dynamic programming): a footnote's "of chapter twenty one" may be the outro's "End of chapter
 * twenty one", a title page's "Sense and Sensibility" the announcement's. */
static void drop_unread_islands(aligner_t *A, pairs_t *pairs)
{
    size_t o = 0;
    for (size_t i = 0; i < pairs->len;) {
        const pair_t *x = &pairs->items[i];
        if (folio__align_read(A, x->p)) {
            pairs->items[o++] = pairs->items[i++];
            continue;
        }
        size_t e = i + 1;
        while (e < pairs->len && !folio__align_read(A, pairs->items[e].p) &&
               pairs->items[e].p == pairs->items[e - 1].p + 1 &&
               pairs->items[e].j == pairs->items[e - 1].j + 1)
            e++;
        if (e - i >= 6)
            while (i < e) pairs->items[o++] = pairs->items[i++];
        i = e;
    }
    pairs->len = o;
}

int folio__align_runs(aligner_t *A, const cands_t *cands, chains_t *chains)
{
    int rc = FOLIO_OK;
    /* Accepted chains in audio order; a run continues while the book moves forward. */
    VEC(size_t) acc = {0};
    for (size_t i = 0; i < chains->len; i++)
        if (chains->items[i].accepted && VEC_PUSH(acc, i) < 0) return FOLIO_ENOMEM;
    /* By audio start. */
    for (size_t x = 1; x < acc.len; x++)
        for (size_t y = x;
             y > 0 && chains->items[acc.items[y]].j0 < chains->items[acc.items[y - 1]].j0; y--) {
            size_t t = acc.items[y];
            acc.items[y] = acc.items[y - 1];
            acc.items[y - 1] = t;
        }
    pairs_t pairs = {0};
    size_t prev_run_end_j = 0;
    bool have_prev = false;
    for (size_t r = 0; r < acc.len && rc >= 0;) {
        /* The chains of this run. */
        size_t s = r;
        while (r + 1 < acc.len) {
            const chain_t *a = &chains->items[acc.items[r]], *b = &chains->items[acc.items[r + 1]];
            double dj = (double)(b->j0 > a->j1 ? b->j0 - a->j1 : 0);
            if (b->p0 <= a->p1 || (double)(b->p0 - a->p1) > 4 * dj + 300) break;
            r++;
        }
        /* Its anchors' word pairs, cleaned into one increasing sequence. */
        pairs.len = 0;
        for (size_t i = 0; i < cands->len && rc >= 0; i++) {
            const cand_t *c = &cands->items[i];
            bool in_run = false;
            for (size_t q = s; q <= r && !in_run; q++) in_run = c->chain == acc.items[q];
            if (!in_run) continue;
            for (size_t k = 0; k < 3 && rc >= 0; k++) {
                pair_t p = {c->j + k, c->p + k};
                rc = VEC_PUSH(pairs, p);
            }
        }
        if (rc < 0) break;
        qsort(pairs.items, pairs.len, sizeof(pair_t), cmp_pair);
        size_t o = 0;
        for (size_t i = 0; i < pairs.len; i++)
            if (!o || pairs.items[i].j != pairs.items[o - 1].j ||
                pairs.items[i].p != pairs.items[o - 1].p)
                pairs.items[o++] = pairs.items[i];
        pairs.len = o;
        if ((rc = lis(&pairs)) < 0) break;
        drop_unread_islands(A, &pairs);
        if (!pairs.len) {
            r++;
            continue;
        }
        for (size_t i = 0; i < pairs.len; i++)
            folio__align_assign(A, pairs.items[i].p, pairs.items[i].j, 1.0f);
        /* Reach out before the first anchor (headings, the run's opening words)... */
        const pair_t *f = &pairs.items[0], *l = &pairs.items[pairs.len - 1];
        size_t ta = f->p > EDGE_TOKENS ? f->p - EDGE_TOKENS : 0;
        size_t ra = f->j > EDGE_TOKENS + 40 ? f->j - EDGE_TOKENS - 40 : 0;
        if (have_prev && ra <= prev_run_end_j) ra = prev_run_end_j + 1;
        if (ra < f->j) TRY(folio__align_dp_region(A, ta, f->p, ra, f->j, true, false));
        /* ...between anchors... */
        for (size_t i = 0; i + 1 < pairs.len; i++) {
            const pair_t *x = &pairs.items[i], *y = &pairs.items[i + 1];
            if (y->p > x->p + 1 || y->j > x->j + 1)
                TRY(folio__align_dp_region(A, x->p + 1, y->p, x->j + 1, y->j, false, false));
        }
        /* ...and after the last. */
        size_t next_j = A->n_rec;
        if (r + 1 < acc.len) next_j = chains->items[acc.items[r + 1]].j0;
        size_t tb = l->p + 1 + EDGE_TOKENS < A->n_tok ? l->p + 1 + EDGE_TOKENS : A->n_tok;
        size_t rb = l->j + 1 + EDGE_TOKENS + 40 < next_j ? l->j + 1 + EDGE_TOKENS + 40 : next_j;
        if (l->j + 1 < rb) TRY(folio__align_dp_region(A, l->p + 1, tb, l->j + 1, rb, false, true));
        prev_run_end_j = l->j;
        have_prev = true;
        r++;
    }
fail:
    VEC_FREE(pairs);
    VEC_FREE(acc);
    return rc;
}
