/* Guided recognition: where in the book the narrator is, so that each chunk can be recognised
 * with a language model of the text around that place (a window) instead of the whole book's.
 * A window model is several times smaller, which makes the search faster and its errors fewer.
 *
 * The place is a position in the book's pronounceable tokens. A chunk's recognised words are
 * matched against the window (local alignment); when they do not fit it (the narrator jumped, or
 * says what the book does not hold), the chunk is recognised again with the book's model and its
 * words are looked up in the whole book by their rare word triples. */
#include "speech.h"

#include <stdlib.h>
#include <string.h>

#define NO_ID UINT32_MAX
#define BACK 60           /* tokens before the place the window starts */
#define AHEAD_BASE 200    /* read tokens after the place (a skipped paragraph), plus ... */
#define AHEAD_PER_SEC 5.0 /* ... this many a second of the chunk (speech is 2-4 a second) */
#define COMMON_TRIPLE 16  /* triples found more often than this do not vote */
#define MATCH 3
#define MISMATCH (-2)
#define GAP (-1)

typedef struct {
    uint64_t key;
    uint32_t pos;
} triple_t;

struct folio_guide {
    const folio_book_t *book;
    size_t n;          /* pronounceable tokens */
    size_t *tok;       /* their token indices */
    uint32_t *id;      /* their word ids */
    uint32_t *n_read;  /* read tokens before each position (n + 1 entries) */
    folio_map_t vocab; /* word -> id */
    triple_t *tri;     /* every position's triple, sorted by key */
    size_t n_tri;
};

static uint64_t triple_key(uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t x = ((uint64_t)a << 42) ^ ((uint64_t)b << 21) ^ (uint64_t)c;
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

static int cmp_triple(const void *a, const void *b)
{
    const triple_t *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

folio_guide_t *folio__guide_new(const folio_book_t *book, const folio_lexicon_t *lex, int *err)
{
    int rc = FOLIO_OK;
    folio_guide_t *g = calloc(1, sizeof(*g));
    if (!g) goto nomem;
    g->book = book;
    size_t nt = folio_book_n_tokens(book);
    g->tok = malloc((nt ? nt : 1) * sizeof(size_t));
    g->id = malloc((nt ? nt : 1) * sizeof(uint32_t));
    g->n_read = malloc((nt + 1) * sizeof(uint32_t));
    if (!g->tok || !g->id || !g->n_read) goto nomem;
    uint32_t read = 0;
    for (size_t i = 0; i < nt; i++) {
        const folio_token_t *t = folio_book_token(book, i);
        long li = folio_lexicon_find(lex, t->text);
        if (li < 0 || folio_lexicon_n_prons(lex, (size_t)li) == 0) continue;
        bool existing;
        size_t id = g->vocab.len;
        if (folio__map_add(&g->vocab, t->text, id, &existing) < 0) goto nomem;
        if (existing) folio__map_get(&g->vocab, t->text, &id);
        g->n_read[g->n] = read;
        g->tok[g->n] = i;
        g->id[g->n++] = (uint32_t)id;
        read += t->read ? 1 : 0;
    }
    g->n_read[g->n] = read;
    if (g->n >= 3) {
        g->n_tri = g->n - 2;
        if (!(g->tri = malloc(g->n_tri * sizeof(triple_t)))) goto nomem;
        for (size_t p = 0; p < g->n_tri; p++) {
            g->tri[p].key = triple_key(g->id[p], g->id[p + 1], g->id[p + 2]);
            g->tri[p].pos = (uint32_t)p;
        }
        qsort(g->tri, g->n_tri, sizeof(triple_t), cmp_triple);
    }
    if (err) *err = FOLIO_OK;
    return g;
nomem:
    rc = FOLIO_ENOMEM;
    folio__guide_free(g);
    if (err) *err = rc;
    return NULL;
}

void folio__guide_free(folio_guide_t *g)
{
    if (!g) return;
    free(g->tok);
    free(g->id);
    free(g->n_read);
    free(g->tri);
    folio__map_free(&g->vocab);
    free(g);
}

void folio__guide_window(const folio_guide_t *g, const folio_guide_state_t *at, double seconds,
                         size_t *from_tok, size_t *to_tok, size_t *from, size_t *to)
{
    size_t a = at->pos > BACK ? at->pos - BACK : 0;
    size_t p = at->pos < g->n ? at->pos : g->n;
    uint32_t ahead = (uint32_t)(AHEAD_BASE + AHEAD_PER_SEC * seconds);
    /* Count read tokens only: a footnote or a table of contents in the way does not shrink the
     * text the window holds; but never more than four times as many tokens in all. */
    size_t b = p;
    uint32_t want = g->n_read[p] + ahead;
    size_t cap = p + 4 * (size_t)ahead;
    while (b < g->n && b < cap && g->n_read[b] < want) b++;
    if (b - a < 3 && g->n) b = a + 3 < g->n ? a + 3 : g->n;
    size_t ft = a < g->n ? g->tok[a] : folio_book_n_tokens(g->book);
    if (from) *from = a;
    if (to) *to = b;
    if (from_tok) *from_tok = ft;
    if (to_tok) *to_tok = b > a ? g->tok[b - 1] + 1 : ft;
}

static uint32_t word_id(const folio_guide_t *g, const char *w)
{
    size_t id;
    return folio__map_get(&g->vocab, w, &id) ? (uint32_t)id : NO_ID;
}

/* Local alignment (Smith-Waterman) of the recognised words @r[0..m) with positions [a, b): the
 * matches on the best path, and the position after its last match. */
static size_t align_local(const folio_guide_t *g, const uint32_t *r, size_t m, size_t a, size_t b,
                          size_t *end)
{
    size_t w = b - a;
    int *score = calloc(2 * (w + 1), sizeof(int));
    int *hits = calloc(2 * (w + 1), sizeof(int));
    size_t best_hits = 0;
    int best = 0;
    *end = a;
    if (!score || !hits) goto done;
    for (size_t i = 1; i <= m; i++) {
        int *s = score + (i % 2) * (w + 1), *ps = score + ((i - 1) % 2) * (w + 1);
        int *h = hits + (i % 2) * (w + 1), *ph = hits + ((i - 1) % 2) * (w + 1);
        s[0] = h[0] = 0;
        for (size_t j = 1; j <= w; j++) {
            bool same = r[i - 1] != NO_ID && r[i - 1] == g->id[a + j - 1];
            int diag = ps[j - 1] + (same ? MATCH : MISMATCH);
            int up = ps[j] + GAP, left = s[j - 1] + GAP;
            int v = 0, hv = 0;
            if (diag > v) v = diag, hv = ph[j - 1] + same;
            if (up > v) v = up, hv = ph[j];
            if (left > v) v = left, hv = h[j - 1];
            s[j] = v;
            h[j] = hv;
            if (same && v > best) {
                best = v;
                best_hits = (size_t)hv;
                *end = a + j;
            }
        }
    }
done:
    free(score);
    free(hits);
    return best_hits;
}

static bool fits(size_t hits, size_t m)
{
    return hits * 5 >= m * 2 && hits >= (m < 3 ? m : 3);
}

static size_t rec_ids(const folio_guide_t *g, const folio_rec_words_t *w, uint32_t **out)
{
    *out = malloc((w->len ? w->len : 1) * sizeof(uint32_t));
    if (!*out) return 0;
    for (size_t i = 0; i < w->len; i++) (*out)[i] = word_id(g, w->items[i].word);
    return w->len;
}

bool folio__guide_in_window(const folio_guide_t *g, const folio_guide_state_t *at, double seconds,
                            const folio_rec_words_t *w, folio_guide_state_t *next)
{
    if (!at->known) return false;
    if (!w->len) { /* nothing said: nothing learnt */
        *next = *at;
        return true;
    }
    uint32_t *r;
    size_t m = rec_ids(g, w, &r), a, b, end;
    if (!r) return false;
    folio__guide_window(g, at, seconds, NULL, NULL, &a, &b);
    size_t hits = align_local(g, r, m, a, b, &end);
    free(r);
    if (!fits(hits, m)) return false;
    next->known = true;
    next->pos = end;
    next->misses = 0;
    return true;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

void folio__guide_locate(const folio_guide_t *g, const folio_guide_state_t *at,
                         const folio_rec_words_t *w, folio_guide_state_t *next)
{
    *next = *at;
    if (++next->misses >= 2) next->known = false;
    uint32_t *r;
    size_t m = rec_ids(g, w, &r);
    if (!r) return;
    size_t *votes = malloc((m ? m : 1) * COMMON_TRIPLE * sizeof(size_t)), n_votes = 0;
    if (!votes || m < 3 || !g->n_tri) goto done;
    /* Each rare triple votes for where the chunk starts: its place minus its index. */
    for (size_t i = 0; i + 2 < m; i++) {
        if (r[i] == NO_ID || r[i + 1] == NO_ID || r[i + 2] == NO_ID) continue;
        triple_t key = {triple_key(r[i], r[i + 1], r[i + 2]), 0};
        size_t lo = 0, hi = g->n_tri;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (g->tri[mid].key < key.key)
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t e = lo;
        while (e < g->n_tri && g->tri[e].key == key.key) e++;
        if (e == lo || e - lo > COMMON_TRIPLE) continue;
        for (size_t k = lo; k < e; k++) {
            size_t p = g->tri[k].pos;
            if (g->id[p] != r[i] || g->id[p + 1] != r[i + 1] || g->id[p + 2] != r[i + 2]) continue;
            votes[n_votes++] = p > i ? p - i : 0;
        }
    }
    if (!n_votes) goto done;
    qsort(votes, n_votes, sizeof(size_t), cmp_size);
    /* The densest cluster of votes within a span the chunk's own length allows. */
    size_t span = 20 + m / 2, best = 0, best_at = 0;
    for (size_t i = 0, j = 0; i < n_votes; i++) {
        while (votes[i] - votes[j] > span) j++;
        if (i - j + 1 > best) best = i - j + 1, best_at = votes[j];
    }
    if (best < (m < 12 ? 2u : 3u)) goto done;
    size_t a = best_at > BACK ? best_at - BACK : 0;
    size_t b = best_at + span + 2 * m + BACK;
    if (b > g->n) b = g->n;
    size_t end, hits = align_local(g, r, m, a, b, &end);
    if (!fits(hits, m)) goto done;
    next->known = true;
    next->pos = end;
    next->misses = 0;
done:
    free(votes);
    free(r);
}
