/* Long-form alignment. Anchors are word trigrams rare in the book (three times at most) that the
 * recogniser heard; anchors that agree (book and audio advancing together) form chains, so that
 * chapters read out of order, front matter read last or chapters not read at all each find their
 * own stretch of audio; the heaviest chains that do not overlap are kept, and inside each run of
 * them a longest increasing subsequence removes stray matches. Between anchors, dynamic
 * programming with a phonetic word similarity aligns the rest; gaps that stay unaligned but have
 * audio are forced-aligned with a grammar of just their words, and so are page and chapter starts
 * that the recogniser did not hear exactly. Words inside a sentence whose ends are timed are
 * interpolated; everything else is not read. */
#include "align.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNT 3     /* an anchor's trigram occurs at most this often in the book */
#define OPEN_WORDS 80   /* a chain continues across at most this many heard words */
#define EDGE_TOKENS 80  /* how far alignment reaches out beyond a run's first and last anchor */
#define SIM_ACCEPT 0.6f /* words this similar count as the same */

typedef struct {
    size_t j, p; /* heard word, book token */
    float w;
    size_t chain;
} cand_t;

typedef struct {
    size_t j0, j1, p0, p1; /* first and last heard word / token */
    double weight;
    size_t n;
    bool accepted;
} chain_t;

typedef struct {
    uint64_t key; /* 0: empty */
    uint32_t count;
    uint32_t pos[MAX_COUNT];
} ngram_t;

typedef struct {
    folio_t *ctx;
    const folio_align_input_t *in;
    const folio_book_t *book;
    /* vocabulary */
    folio_map_t vocab;
    VEC(char *) names; /* id -> word */
    char **phones;     /* id -> first pronunciation, lazily */
    bool *phones_done;
    size_t phones_cap;
    /* the book's tokens and the heard words */
    size_t n_tok, n_rec;
    uint32_t *tok_id, *rec_id;
    /* token-level result */
    long *tok_rec;
    float *tok_sim;
    double *t_start, *t_end;
    size_t *t_file;
    float *t_conf;
    uint8_t *t_how;
    bool *rec_used;
    bool *chapter_start;   /* the token is its chapter's first */
    uint32_t *chapters_to; /* chapter starts at or before each token */
    /* n-gram index */
    ngram_t *ng;
    size_t ng_cap;
    VEC(uint64_t) tried; /* the gap windows decoded so far (force_plan) */
} aligner_t;

/* ---- vocabulary and similarity ---- */

static int vocab_id(aligner_t *A, const char *w, uint32_t *id)
{
    size_t v;
    if (!folio__map_get(&A->vocab, w, &v)) {
        v = A->names.len;
        char *copy = folio__strdup(w);
        if (!copy || VEC_PUSH(A->names, copy) < 0) {
            free(copy);
            return FOLIO_ENOMEM;
        }
        if (folio__map_put(&A->vocab, w, v) < 0) return FOLIO_ENOMEM;
    }
    *id = (uint32_t)v;
    return FOLIO_OK;
}

static int edit_distance(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    int row[64], prev[64];
    if (na >= 63 || nb >= 63) return (int)(na > nb ? na : nb);
    for (size_t j = 0; j <= nb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int sub = prev[j - 1] + (strcmp(a[i - 1], b[j - 1]) != 0);
            int del = prev[j] + 1, ins = row[j - 1] + 1;
            row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, row, (nb + 1) * sizeof(int));
    }
    return prev[nb];
}

static size_t split_units(const char *s, char *buf, size_t cap, const char **units, size_t max,
                          bool chars)
{
    size_t n = 0;
    snprintf(buf, cap, "%s", s);
    if (chars) {
        /* Characters as units (one-byte strings), for words without a pronunciation. */
        static char one[256][2];
        for (size_t i = 0; buf[i] && n < max; i++) {
            unsigned char c = (unsigned char)buf[i];
            one[c][0] = (char)c;
            one[c][1] = '\0';
            units[n++] = one[c];
        }
        return n;
    }
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
        units[n++] = t;
    return n;
}

static const char *phones_of(aligner_t *A, uint32_t id)
{
    if (id >= A->phones_cap) return NULL; /* a word first met while aligning: letters will do */
    if (!A->phones_done[id]) {
        A->phones_done[id] = true;
        long i = folio_lexicon_find(A->in->lex, A->names.items[id]);
        if (i >= 0 && folio_lexicon_n_prons(A->in->lex, (size_t)i))
            A->phones[id] = folio__strdup(folio_lexicon_pron(A->in->lex, (size_t)i, 0));
    }
    return A->phones[id];
}

/* How alike two words sound, in [0, 1]: phone edit distance when both have pronunciations,
 * else letter edit distance. */
static float similarity(aligner_t *A, uint32_t a, uint32_t b)
{
    if (a == b) return 1.0f;
    const char *pa = phones_of(A, a), *pb = phones_of(A, b);
    char ba[512], bb[512];
    const char *ua[62], *ub[62];
    bool chars = !pa || !pb;
    size_t na = split_units(chars ? A->names.items[a] : pa, ba, sizeof(ba), ua, 62, chars);
    size_t nb = split_units(chars ? A->names.items[b] : pb, bb, sizeof(bb), ub, 62, chars);
    size_t longest = na > nb ? na : nb;
    if (!longest) return 0;
    return 1.0f - (float)edit_distance(ua, na, ub, nb) / (float)longest;
}

/* ---- the n-gram index ---- */

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

static int build_ngrams(aligner_t *A)
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

/* ---- anchors and chains ---- */

typedef VEC(cand_t) cands_t;
typedef VEC(chain_t) chains_t;

static int find_anchors(aligner_t *A, cands_t *cands, chains_t *chains)
{
    const folio_book_t *book = A->book;
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
            bool read = folio_book_token(book, p)->read;
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
static int select_chains(cands_t *cands, chains_t *chains)
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

/* ---- dynamic programming between anchors ---- */

typedef struct {
    uint32_t id;
    size_t tok; /* the token it stands for (alternative readings stand for their word's first) */
} slot_t;

typedef VEC(slot_t) slots_t;

/* The tokens [a, b) as the words to align, each word read the way the heard words [c, d) suggest
 * when it has alternative readings. */
static int region_tokens(aligner_t *A, size_t a, size_t b, size_t c, size_t d, slots_t *out)
{
    const folio_book_t *book = A->book;
    out->len = 0;
    for (size_t i = a; i < b;) {
        const folio_token_t *t = folio_book_token(book, i);
        const folio_word_t *w = folio_book_word(book, t->word);
        size_t end = w->first_token + w->n_tokens;
        if (w->n_alternatives && w->first_token == i && end <= b) {
            /* The reading whose words were heard most (the primary on a tie). */
            double best = 0;
            size_t best_k = SIZE_MAX;
            for (size_t k = 0; k < w->n_alternatives; k++) {
                char buf[512];
                snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(book, t->word, k));
                size_t hits = 0, n = 0;
                char *save = NULL;
                for (char *x = strtok_r(buf, " ", &save); x; x = strtok_r(NULL, " ", &save), n++) {
                    size_t id;
                    if (!folio__map_get(&A->vocab, x, &id)) continue;
                    for (size_t j = c; j < d; j++)
                        if (A->rec_id[j] == id) {
                            hits++;
                            break;
                        }
                }
                size_t phits = 0;
                for (size_t q = i; q < end; q++)
                    for (size_t j = c; j < d; j++)
                        if (A->rec_id[j] == A->tok_id[q]) {
                            phits++;
                            break;
                        }
                double score = n ? (double)hits / n : 0, pscore = (double)phits / w->n_tokens;
                if (score > pscore && score > best) best = score, best_k = k;
            }
            if (best_k != SIZE_MAX) {
                char buf[512];
                snprintf(buf, sizeof(buf), "%s",
                         folio_book_word_alternative(book, t->word, best_k));
                char *save = NULL;
                for (char *x = strtok_r(buf, " ", &save); x; x = strtok_r(NULL, " ", &save)) {
                    slot_t s = {0, i};
                    int rc = vocab_id(A, x, &s.id);
                    if (rc < 0 || (rc = VEC_PUSH(*out, s)) < 0) return rc;
                }
                i = end;
                continue;
            }
        }
        slot_t s = {A->tok_id[i], i};
        if (VEC_PUSH(*out, s) < 0) return FOLIO_ENOMEM;
        i++;
    }
    return FOLIO_OK;
}

static void assign(aligner_t *A, size_t tok, size_t rec, float sim)
{
    if (A->tok_rec[tok] >= 0 || A->rec_used[rec]) return;
    const folio_heard_t *h = &A->in->heard[rec];
    A->tok_rec[tok] = (long)rec;
    A->tok_sim[tok] = sim;
    A->t_start[tok] = h->time;
    A->t_end[tok] = h->time + (h->file_end - h->file_time);
    A->t_file[tok] = h->file;
    A->t_conf[tok] = sim >= 0.999f ? 0.6f + 0.4f * h->confidence : 0.5f * sim;
    A->t_how[tok] = sim >= 0.999f ? FOLIO_HOW_MATCH : FOLIO_HOW_SIMILAR;
    A->rec_used[rec] = true;
}

/* Align tokens [a, b) with heard words [c, d): a banded global alignment with affine gaps (a
 * stretch of text nobody read, or of speech not in the book, costs little more than one word
 * left out, so alignment prefers one long gap to many islands of common words matched by
 * chance). When an end is not anchored (@free_start, @free_end) the alignment is local at that
 * end: it may begin (end) anywhere, so words far from the anchors, separated from them by more
 * gap than their matches are worth, stay unaligned. Matches above SIM_ACCEPT are assigned. */
#define GAP_OPEN 3.0f
#define GAP_EXTEND 0.3f
#define MISMATCH (-1.0f)
#define UNREAD_MATCH 0.0f /* k matches in a row pay a gap's opening when k (0.0 + 0.6) > 3 */
/* Speech before a chapter's first word (an announcement, "This is a LibriVox recording", credits,
 * the last chapter's "End of chapter 8") is expected: skipping heard words there costs little.
 * Inside a chapter it costs the full gap, so a chapter heading is not matched to the announcement
 * of it ("Chapter nine of ...") at the price of a gap between the heading and its first
 * paragraph. */
#define CHAPTER_GAP_OPEN 0.5f
#define CHAPTER_GAP_EXTEND 0.02f

/* Traceback codes: the low two bits say how the diagonal state was reached (0 start, 1 from the
 * diagonal state, 2 from the gap state), the next two bits the gap state's move (1 from the
 * diagonal state leaving a token, 2 from the gap state leaving a token, 3 and 4 the same leaving a
 * heard word). */
static int dp_region(aligner_t *A, size_t a, size_t b, size_t c, size_t d, bool free_start,
                     bool free_end)
{
    if (a >= b || c >= d) return FOLIO_OK;
    slots_t slots = {0};
    int rc = region_tokens(A, a, b, c, d, &slots);
    if (rc < 0) goto done;
    size_t n = slots.len, m = d - c;
    /* Whether skipping heard words after row i (before slot i) is at a chapter's start. */
    bool *between = malloc(n + 1);
    if (!between) {
        rc = FOLIO_ENOMEM;
        goto done;
    }
    for (size_t i = 0; i <= n; i++) {
        size_t tok = i < n ? slots.items[i].tok : b;
        between[i] = tok < A->n_tok && A->chapter_start[tok];
    }
    /* The band: around the straight line, wide enough for the length difference. */
    size_t diff = n > m ? n - m : m - n;
    size_t W = diff + 60;
    if (W > m) W = m;
    size_t width = 2 * W + 1;
    if ((n + 1) * width > 12000000) { /* a stretch too unlike to align word by word */
        free(between);
        goto done;
    }
    size_t cells = (n + 1) * width;
    float *SD = malloc(cells * sizeof(float)), *SG = malloc(cells * sizeof(float));
    uint8_t *T = malloc(cells);
    if (!SD || !SG || !T) {
        free(SD);
        free(SG);
        free(T);
        free(between);
        rc = FOLIO_ENOMEM;
        goto done;
    }
#define CENTER(i) ((size_t)((double)(i) * (double)m / (double)(n ? n : 1)))
#define IDX(i, j) ((i)*width + ((j) + W - CENTER(i)))
#define INBAND(i, j) ((j) + W >= CENTER(i) && (j) <= CENTER(i) + W && (j) <= m)
    const float NEG = -1e30f;
    for (size_t k = 0; k < cells; k++) SD[k] = SG[k] = NEG;
    float top = NEG;
    size_t top_i = n, top_j = m;
    bool top_gap = false;
    for (size_t i = 0; i <= n; i++) {
        size_t lo = CENTER(i) > W ? CENTER(i) - W : 0, hi = CENTER(i) + W < m ? CENTER(i) + W : m;
        for (size_t j = lo; j <= hi; j++) {
            float dv = NEG, gv = NEG;
            uint8_t dhow = 0, ghow = 0;
            if ((i == 0 && j == 0) || free_start) dv = 0; /* an alignment starts here */
            if (i > 0 && j > 0 && INBAND(i - 1, j - 1)) {
                float sim = similarity(A, slots.items[i - 1].id, A->rec_id[c + j - 1]);
                float gain = sim >= 0.999f ? 2.0f : sim >= SIM_ACCEPT ? 2 * sim - 1 : MISMATCH;
                /* Text not usually read (a footnote) needs a longer run of matches to count:
                 * "of chapter one" in a note must not take the outro's time. */
                if (!folio_book_token(A->book, slots.items[i - 1].tok)->read)
                    gain = sim >= 0.999f ? UNREAD_MATCH : MISMATCH;
                size_t q = IDX(i - 1, j - 1);
                if (SD[q] + gain > dv) dv = SD[q] + gain, dhow = 1;
                if (SG[q] + gain > dv) dv = SG[q] + gain, dhow = 2;
            }
            if (i > 0 && INBAND(i - 1, j)) {
                size_t q = IDX(i - 1, j);
                if (SD[q] - GAP_OPEN > gv) gv = SD[q] - GAP_OPEN, ghow = 1;
                if (SG[q] - GAP_EXTEND > gv) gv = SG[q] - GAP_EXTEND, ghow = 2;
            }
            if (j > 0 && INBAND(i, j - 1)) {
                size_t q = IDX(i, j - 1);
                float open = between[i] ? CHAPTER_GAP_OPEN : GAP_OPEN;
                float extend = between[i] ? CHAPTER_GAP_EXTEND : GAP_EXTEND;
                if (SD[q] - open > gv) gv = SD[q] - open, ghow = 3;
                if (SG[q] - extend > gv) gv = SG[q] - extend, ghow = 4;
            }
            size_t q = IDX(i, j);
            SD[q] = dv;
            SG[q] = gv;
            T[q] = (uint8_t)(dhow | ghow << 2);
            if (free_end && dv > top) top = dv, top_i = i, top_j = j, top_gap = false;
        }
    }
    /* Trace back from the end (always in the band: CENTER(n) == m), or from the best cell when
     * the end is free. */
    size_t i = free_end ? top_i : n, j = free_end ? top_j : m;
    bool gap = free_end ? top_gap : SG[IDX(n, m)] > SD[IDX(n, m)];
    while (i > 0 || j > 0) {
        if (!INBAND(i, j)) break;
        uint8_t t = T[IDX(i, j)];
        if (!gap) {
            uint8_t how = t & 3;
            if (!how) break; /* where the alignment starts */
            float sim = similarity(A, slots.items[i - 1].id, A->rec_id[c + j - 1]);
            if (sim >= SIM_ACCEPT) assign(A, slots.items[i - 1].tok, c + j - 1, sim);
            i--, j--;
            gap = how == 2;
        } else {
            uint8_t how = t >> 2;
            if (!how) break;
            if (how <= 2)
                i--;
            else
                j--;
            gap = how == 2 || how == 4;
        }
    }
#undef CENTER
#undef IDX
#undef INBAND
    free(SD);
    free(SG);
    free(T);
    free(between);
done:
    VEC_FREE(slots);
    return rc;
}

/* ---- runs of chains ---- */

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
        if (folio_book_token(A->book, x->p)->read) {
            pairs->items[o++] = pairs->items[i++];
            continue;
        }
        size_t e = i + 1;
        while (e < pairs->len && !folio_book_token(A->book, pairs->items[e].p)->read &&
               pairs->items[e].p == pairs->items[e - 1].p + 1 &&
               pairs->items[e].j == pairs->items[e - 1].j + 1)
            e++;
        if (e - i >= 6)
            while (i < e) pairs->items[o++] = pairs->items[i++];
        i = e;
    }
    pairs->len = o;
}

static int align_runs(aligner_t *A, const cands_t *cands, chains_t *chains)
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
        for (size_t i = 0; i < pairs.len; i++) assign(A, pairs.items[i].p, pairs.items[i].j, 1.0f);
        /* Reach out before the first anchor (headings, the run's opening words)... */
        const pair_t *f = &pairs.items[0], *l = &pairs.items[pairs.len - 1];
        size_t ta = f->p > EDGE_TOKENS ? f->p - EDGE_TOKENS : 0;
        size_t ra = f->j > EDGE_TOKENS + 40 ? f->j - EDGE_TOKENS - 40 : 0;
        if (have_prev && ra <= prev_run_end_j) ra = prev_run_end_j + 1;
        if (ra < f->j) TRY(dp_region(A, ta, f->p, ra, f->j, true, false));
        /* ...between anchors... */
        for (size_t i = 0; i + 1 < pairs.len; i++) {
            const pair_t *x = &pairs.items[i], *y = &pairs.items[i + 1];
            if (y->p > x->p + 1 || y->j > x->j + 1)
                TRY(dp_region(A, x->p + 1, y->p, x->j + 1, y->j, false, false));
        }
        /* ...and after the last. */
        size_t next_j = A->n_rec;
        if (r + 1 < acc.len) next_j = chains->items[acc.items[r + 1]].j0;
        size_t tb = l->p + 1 + EDGE_TOKENS < A->n_tok ? l->p + 1 + EDGE_TOKENS : A->n_tok;
        size_t rb = l->j + 1 + EDGE_TOKENS + 40 < next_j ? l->j + 1 + EDGE_TOKENS + 40 : next_j;
        if (l->j + 1 < rb) TRY(dp_region(A, l->p + 1, tb, l->j + 1, rb, false, true));
        prev_run_end_j = l->j;
        have_prev = true;
        r++;
    }
fail:
    VEC_FREE(pairs);
    VEC_FREE(acc);
    return rc;
}

/* ---- forced alignment of windows ---- */

/* A window forces tokens [a, b] (inclusive) in file @file between global times @t0 and @t1, and
 * gives the found times to tokens that have none (or, with @replace, that have only forced or
 * interpolated ones). @open says which end of the window no timed word holds (OPEN_LEFT,
 * OPEN_RIGHT, or 0): there, found words cut off from the rest by a long pause are not trusted
 * (the grammar may have put them on speech that is not the book's). */
#define OPEN_LEFT 1
#define OPEN_RIGHT 2
#define OPEN_SLOTS 8 /* slots an open end may leave unsaid */

/* A window's grammar: a slot per read token with a pronunciation, except that a source word with
 * alternative readings that lies whole in the window is one slot, its primary tokens one reading
 * and each alternative whose words all have a pronunciation another ("1455": "fourteen fifty
 * five" or "one thousand four hundred fifty five"). Per grammar word: the token it stands for
 * (for an alternative, its word's first token) and whether it is an alternative's. */
typedef struct {
    VEC(const char *) words;
    VEC(size_t) slot, reading, tok;
    VEC(bool) alt;
    VEC(char *) owned; /* copies of the alternatives' words */
    size_t n_slots;
} wgram_t;

static void wgram_free(wgram_t *g)
{
    VEC_FREE(g->words);
    VEC_FREE(g->slot);
    VEC_FREE(g->reading);
    VEC_FREE(g->tok);
    VEC_FREE(g->alt);
    for (size_t i = 0; i < g->owned.len; i++) free(g->owned.items[i]);
    VEC_FREE(g->owned);
}

static int wgram_push(wgram_t *g, const char *w, size_t reading, size_t tok, bool alt)
{
    if (VEC_PUSH(g->words, w) < 0 || VEC_PUSH(g->slot, g->n_slots) < 0 ||
        VEC_PUSH(g->reading, reading) < 0 || VEC_PUSH(g->tok, tok) < 0 || VEC_PUSH(g->alt, alt) < 0)
        return FOLIO_ENOMEM;
    return FOLIO_OK;
}

static bool pronounceable(const folio_lexicon_t *lex, const char *w)
{
    long li = folio_lexicon_find(lex, w);
    /* The decoder reports words of at most 63 bytes. */
    return li >= 0 && folio_lexicon_n_prons(lex, (size_t)li) && strlen(w) < 64;
}

/* The grammar of tokens [a, b]: the read tokens that have a pronunciation (text nobody reads
 * aloud, a table of contents say, must not take the time of the words it repeats), with the
 * alternative readings of whole words. */
static int window_grammar(aligner_t *A, size_t a, size_t b, wgram_t *g)
{
    const folio_lexicon_t *lex = A->in->lex;
    int rc = FOLIO_OK;
    for (size_t t = a; t <= b;) {
        const folio_token_t *tok = folio_book_token(A->book, t);
        const folio_word_t *w = folio_book_word(A->book, tok->word);
        size_t end = w->first_token + w->n_tokens;
        if (!tok->read || !w->n_alternatives || w->first_token != t || end - 1 > b) {
            if (tok->read && pronounceable(lex, tok->text)) {
                TRY(wgram_push(g, tok->text, 0, t, false));
                g->n_slots++;
            }
            t++;
            continue;
        }
        size_t reading = 0;
        for (size_t q = t; q < end; q++)
            if (pronounceable(lex, folio_book_token(A->book, q)->text)) {
                TRY(wgram_push(g, folio_book_token(A->book, q)->text, 0, q, false));
                reading = 1;
            }
        for (size_t k = 0; k < w->n_alternatives; k++) {
            char buf[512];
            snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(A->book, tok->word, k));
            bool ok = *buf != '\0';
            char *save = NULL;
            for (char *x = strtok_r(buf, " ", &save); x && ok; x = strtok_r(NULL, " ", &save))
                ok = pronounceable(lex, x);
            if (!ok) continue;
            snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(A->book, tok->word, k));
            for (char *x = strtok_r(buf, " ", &save); x; x = strtok_r(NULL, " ", &save)) {
                char *copy = folio__strdup(x);
                if (!copy || VEC_PUSH(g->owned, copy) < 0) {
                    free(copy);
                    FAIL(NULL, FOLIO_ENOMEM, "oom");
                }
                TRY(wgram_push(g, copy, reading, t, true));
            }
            reading++;
        }
        if (reading) g->n_slots++;
        t = end;
    }
fail:
    return rc;
}

/* Whether token @t may take a forced time: it has none, or (with @replace) only a weaker one. */
static bool may_time(aligner_t *A, size_t t, bool replace)
{
    return A->t_start[t] < 0 || (replace && A->t_how[t] != FOLIO_HOW_MATCH);
}

static void force_time(aligner_t *A, size_t t, size_t file, double ws, double we, float conf)
{
    A->t_start[t] = ws;
    A->t_end[t] = we;
    A->t_file[t] = file;
    A->t_conf[t] = conf;
    A->t_how[t] = FOLIO_HOW_FORCED;
}

/* ---- forced windows, decoded in parallel ---- */

/* A window to force: tokens [a, b] of @file between global times t0 and t1, planned on the main
 * thread (its grammar and its bounds in the file), decoded by any alignment decoder, then
 * applied on the main thread in the order planned, as if one after the other. */
typedef struct {
    size_t a, b, file;
    bool replace;
    int open;
    size_t boundary; /* a boundary window: the token trusted less if the window confirms nothing;
                        else SIZE_MAX */
    bool skip;       /* nothing to decode (no audio, or too little or too much of it) */
    double s, e;     /* seconds in the file */
    wgram_t g;
    folio_rec_words_t got;
    int rc;
    char err[256]; /* the decoder's message when rc is an error */
} force_job_t;

typedef VEC(force_job_t) force_jobs_t;

static void force_jobs_free(force_jobs_t *jobs)
{
    for (size_t i = 0; i < jobs->len; i++) {
        wgram_free(&jobs->items[i].g);
        VEC_FREE(jobs->items[i].got);
    }
    VEC_FREE(*jobs);
}

/* Whether the gap's work with @key (a window, or recognition) was done before: 1, or 0 and it is
 * now remembered as done, or an error. */
static int tried_before(aligner_t *A, uint64_t key)
{
    for (size_t i = 0; i < A->tried.len; i++)
        if (A->tried.items[i] == key) return 1;
    return VEC_PUSH(A->tried, key) < 0 ? FOLIO_ENOMEM : 0;
}

/* Plan a window (see force_job_t). Returns FOLIO_OK, 1 when the same gap window was decoded
 * before (nothing planned), or an error. */
static int force_plan(aligner_t *A, force_jobs_t *jobs, size_t a, size_t b, size_t file, double t0,
                      double t1, bool replace, int open, size_t boundary)
{
    const folio_align_input_t *in = A->in;
    force_job_t j = {.a = a,
                     .b = b,
                     .file = file,
                     .replace = replace,
                     .open = open,
                     .boundary = boundary,
                     .skip = !in->n_aligners || !in->read_pcm || b < a};
    if (boundary == SIZE_MAX) { /* a gap's window that did not fit once will not fit again */
        int seen =
            tried_before(A, ((uint64_t)a * 0x9E3779B97F4A7C15u) ^ ((uint64_t)b << 20) ^ file ^
                                ((uint64_t)llround(t0 * 100) << 40) ^ (uint64_t)llround(t1 * 100));
        if (seen) return seen;
    }
    double off = in->offset[file];
    j.s = t0 - off;
    j.e = t1 - off;
    if (j.s < 0) j.s = 0;
    if (j.e > in->duration[file]) j.e = in->duration[file];
    if (j.e - j.s < 0.3 || j.e - j.s > 120) j.skip = true;
    int rc = j.skip ? FOLIO_OK : window_grammar(A, a, b, &j.g);
    if (rc < 0 || VEC_PUSH(*jobs, j) < 0) {
        wgram_free(&j.g);
        return rc < 0 ? rc : FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

typedef struct {
    const folio_align_input_t *in;
    force_jobs_t *jobs;
    size_t next; /* the next job to take (under lock) */
    pthread_mutex_t lock;
} force_run_t;

static void force_decode(const folio_align_input_t *in, folio_decoder_t *d, force_job_t *j)
{
    uint64_t first = (uint64_t)(j->s * FOLIO_SPEECH_RATE);
    size_t n = (size_t)((j->e - j->s) * FOLIO_SPEECH_RATE);
    int16_t *pcm = malloc(n * sizeof(int16_t));
    if (!pcm)
        j->rc = FOLIO_ENOMEM;
    else if ((j->rc = in->read_pcm(in->pcm_ud, j->file, first, n, pcm)) < 0)
        snprintf(j->err, sizeof(j->err), "cannot read the audio of file %zu at %.2f s", j->file,
                 j->s);
    else {
        /* At an open end the window's audio may not hold the first (or last) slots' words. */
        size_t open = j->g.n_slots / 3 < OPEN_SLOTS ? j->g.n_slots / 3 : OPEN_SLOTS;
        folio_grammar_t grammar = {j->g.words.items,
                                   j->g.slot.items,
                                   j->g.reading.items,
                                   j->g.words.len,
                                   j->open & OPEN_LEFT ? open : 0,
                                   j->open & OPEN_RIGHT ? open : 0};
        j->rc = folio__decoder_align(d, pcm, n, &grammar, &j->got);
        if (j->rc < 0 && j->rc != FOLIO_ENOMATCH)
            snprintf(j->err, sizeof(j->err), "%s", folio_errmsg(folio__decoder_context(d)));
    }
    free(pcm);
}

typedef struct {
    force_run_t *run;
    folio_decoder_t *d;
} force_worker_t;

static void *force_worker(void *arg)
{
    force_worker_t *w = arg;
    force_run_t *r = w->run;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        size_t i = r->next++;
        pthread_mutex_unlock(&r->lock);
        if (i >= r->jobs->len) break;
        if (!r->jobs->items[i].skip) force_decode(r->in, w->d, &r->jobs->items[i]);
    }
    return NULL;
}

/* Decode every planned window, with as many threads as there are alignment decoders. */
static void force_decode_all(aligner_t *A, force_jobs_t *jobs)
{
    const folio_align_input_t *in = A->in;
    force_run_t r = {.in = in, .jobs = jobs};
    size_t todo = 0;
    for (size_t i = 0; i < jobs->len; i++) todo += !jobs->items[i].skip;
    size_t n = in->n_aligners < todo ? in->n_aligners : todo;
    pthread_t threads[FOLIO_ALIGN_MAX_THREADS];
    force_worker_t workers[FOLIO_ALIGN_MAX_THREADS];
    if (n > FOLIO_ALIGN_MAX_THREADS) n = FOLIO_ALIGN_MAX_THREADS;
    pthread_mutex_init(&r.lock, NULL);
    size_t started = 0;
    for (size_t k = 1; k < n; k++) { /* the calling thread is the first worker */
        workers[k] = (force_worker_t){&r, in->aligners[k]};
        if (pthread_create(&threads[k], NULL, force_worker, &workers[k]) != 0) break;
        started = k;
    }
    if (n) {
        workers[0] = (force_worker_t){&r, in->aligners[0]};
        force_worker(&workers[0]);
    }
    for (size_t k = 1; k <= started; k++) pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&r.lock);
}

/* Use a decoded window: returns 1 when the grammar fitted and its times were used, 0 when not,
 * or an error. */
static int force_apply(aligner_t *A, force_job_t *j)
{
    if (j->skip) return 0;
    const folio_align_input_t *in = A->in;
    double off = in->offset[j->file], s = j->s, e = j->e;
    size_t file = j->file;
    wgram_t *g = &j->g;
    folio_rec_words_t *got = &j->got;
    folio__log(A->ctx, FOLIO_LOG_DEBUG,
               "forced alignment of %zu words in %zu slots (\"%s\"...) in file %zu at %.2f-%.2f "
               "s: %s, %zu found",
               g->words.len, g->n_slots, g->words.len ? g->words.items[0] : "", file, s, e,
               j->rc == FOLIO_ENOMATCH ? "no match" : "ok", got->len);
    if (j->rc == FOLIO_ENOMATCH) return 0; /* the grammar did not fit: keep the first pass */
    if (j->rc < 0)
        return folio__error(A->ctx, j->rc, "%s", j->err[0] ? j->err : folio_strerror(j->rc));
    if (folio__logs(A->ctx, FOLIO_LOG_DEBUG)) {
        folio_str_t l = {0};
        for (size_t k = 0; k < got->len; k++)
            folio__str_printf(&l, " %s@%.2f-%.2f", got->items[k].word,
                              off + s + got->items[k].start_frame * 0.01,
                              off + s + (got->items[k].end_frame + 1) * 0.01);
        folio__log(A->ctx, FOLIO_LOG_DEBUG, "  found:%s", l.data ? l.data : "");
        folio__str_free(&l);
    }
    /* A grammar forced onto audio that does not hold its words stretches some words over seconds
     * and squeezes others into a frame or two: when many are like that, keep the first pass. */
    size_t odd = 0;
    for (size_t k = 0; k < got->len; k++) {
        double dur = (got->items[k].end_frame + 1 - got->items[k].start_frame) * 0.01;
        if (dur < 0.04 || dur > 2 * (0.6 + 0.12 * (double)strlen(got->items[k].word))) odd++;
    }
    if (got->len >= 3 && odd * 4 > got->len) {
        folio__log(A->ctx, FOLIO_LOG_DEBUG,
                   "forced alignment in file %zu at %.2f-%.2f s: %zu of %zu words implausible; "
                   "kept the first pass",
                   file, s, e, odd, got->len);
        return 0;
    }
    size_t lo = 0, hi = got->len;
    for (size_t k = got->len; (j->open & OPEN_LEFT) && k > 1; k--)
        if ((got->items[k - 1].start_frame - got->items[k - 2].end_frame) * 0.01 > 1.5) {
            lo = k - 1;
            break;
        }
    for (size_t k = lo + 1; (j->open & OPEN_RIGHT) && k < hi; k++)
        if ((got->items[k].start_frame - got->items[k - 1].end_frame) * 0.01 > 1.5) {
            hi = k;
            break;
        }
    /* Each found word is the grammar word the decoder says; the words of an alternative reading
     * together time their source word, spread evenly over its tokens. */
    for (size_t k = lo; k < hi; k++) {
        long gi = got->items[k].gram;
        if (gi < 0) continue;
        size_t k2 = k;
        if (g->alt.items[gi])
            while (k2 + 1 < hi && got->items[k2 + 1].gram >= 0 &&
                   g->slot.items[got->items[k2 + 1].gram] == g->slot.items[gi] &&
                   g->reading.items[got->items[k2 + 1].gram] == g->reading.items[gi])
                k2++;
        double ws = off + s + got->items[k].start_frame * 0.01;
        double we = off + s + (got->items[k2].end_frame + 1) * 0.01;
        float conf = 0;
        for (size_t q = k; q <= k2; q++) conf += got->items[q].confidence;
        conf = 0.55f + 0.4f * conf / (float)(k2 - k + 1);
        /* A word far longer than it could be said swallowed speech or silence before it
         * (grammars do that with what they cannot explain): it starts at most that long before
         * its end. */
        double first_end = off + s + (got->items[k].end_frame + 1) * 0.01;
        double longest = 0.6 + 0.12 * (double)strlen(got->items[k].word);
        if (first_end - ws > 2 * longest) {
            ws = first_end - longest;
            conf = 0.35f;
        }
        size_t t = g->tok.items[gi];
        if (!g->alt.items[gi]) {
            if (may_time(A, t, j->replace)) force_time(A, t, file, ws, we, conf);
        } else {
            const folio_word_t *w = folio_book_word(A->book, folio_book_token(A->book, t)->word);
            bool all = true;
            for (size_t q = 0; q < w->n_tokens && all; q++)
                all = may_time(A, w->first_token + q, j->replace);
            double piece = (we - ws) / (double)w->n_tokens;
            for (size_t q = 0; q < w->n_tokens && all; q++)
                force_time(A, w->first_token + q, file, ws + piece * (double)q,
                           ws + piece * (double)(q + 1), conf);
        }
        k = k2;
    }
    return 1;
}

/* Decode the planned windows and apply them in order; a boundary window that confirms nothing
 * leaves the first pass's time standing, trusted less. */
static int force_run(aligner_t *A, force_jobs_t *jobs)
{
    force_decode_all(A, jobs);
    int rc = FOLIO_OK;
    for (size_t i = 0; i < jobs->len && rc >= 0; i++) {
        force_job_t *j = &jobs->items[i];
        rc = force_apply(A, j);
        if (rc == 0 && j->boundary != SIZE_MAX) A->t_conf[j->boundary] *= 0.7f;
    }
    force_jobs_free(jobs);
    return rc < 0 ? rc : FOLIO_OK;
}

#define EDGE_MAX 30       /* tokens forced at a file's start or end */
#define OPEN_MARGIN 1.5   /* seconds an open window reaches past the heard words */
#define FORCE_PASSES 3    /* passes at most: an edge grows by up to 90 tokens */
#define SEC_PER_TOKEN 0.4 /* audio allowed per token when only one end is known */

/* Whether tokens @a and @b lie in one sentence of the book. */
static bool same_sentence(aligner_t *A, size_t a, size_t b)
{
    size_t ca = folio_book_token(A->book, a)->start_char,
           cb = folio_book_token(A->book, b)->start_char;
    size_t lo = 0, hi = folio_book_n_sentences(A->book);
    while (lo < hi) { /* the last sentence starting at or before ca */
        size_t mid = (lo + hi) / 2;
        if (folio_book_sentence(A->book, mid)->start_char <= ca)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo) return false;
    const folio_sentence_t *s = folio_book_sentence(A->book, lo - 1);
    return ca >= s->start_char && cb < s->end_char;
}

/* The first heard word that starts at or after global time @time. */
static size_t heard_at(aligner_t *A, double time)
{
    size_t lo = 0, hi = A->n_rec;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (A->in->heard[mid].time < time - 0.005)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where a window should open for @n untimed tokens said just before timed token @t: back across
 * the heard words nothing explains yet, as long as speech goes on (no pause over 1.2 s) and
 * within what @n tokens could take, and OPEN_MARGIN more (a heading before a pause must not be
 * squeezed onto the sentence after it: the grammar's fillers take what is not its words); with
 * none, a guess from the speaking rate. */
static double open_start(aligner_t *A, size_t t, size_t n)
{
    double budget = 0.6 * (double)n + 1.0, guess = A->t_start[t] - SEC_PER_TOKEN * (double)n - 0.5;
    size_t j = heard_at(A, A->t_start[t]), first = SIZE_MAX;
    const folio_heard_t *h = A->in->heard;
    while (j > 0 && !A->rec_used[j - 1] && h[j - 1].file == A->t_file[t] &&
           A->t_start[t] - h[j - 1].time <= budget &&
           (first == SIZE_MAX ? A->t_start[t] : h[first].time) -
                   (h[j - 1].time + h[j - 1].file_end - h[j - 1].file_time) <
               1.2) {
        first = j - 1;
        j--;
    }
    return first == SIZE_MAX ? guess : h[first].time - 0.3 - OPEN_MARGIN;
}

/* The same after timed token @prev, for @n untimed tokens said after it. */
static double open_end(aligner_t *A, size_t prev, size_t n)
{
    double budget = 0.6 * (double)n + 1.0, guess = A->t_end[prev] + SEC_PER_TOKEN * (double)n + 0.5;
    size_t j = heard_at(A, A->t_end[prev] - 0.05), last = SIZE_MAX;
    const folio_heard_t *h = A->in->heard;
    double at = A->t_end[prev];
    while (j < A->n_rec && !A->rec_used[j] && h[j].file == A->t_file[prev] &&
           h[j].time - A->t_end[prev] <= budget && h[j].time - at < 1.2) {
        last = j;
        at = h[j].time + h[j].file_end - h[j].file_time;
        j++;
    }
    return last == SIZE_MAX ? guess : at + 0.3 + OPEN_MARGIN;
}

/* ---- chance matches in garbled speech ---- */

/* Untimed read tokens between two timed ones must fit between them, MIN_WORD_SECONDS a word at
 * least. When they do not, one side is a chance match: a "the" found in speech the recogniser
 * garbled, or a sound-alike ("wound" for "window"), far from where the word is read. A stray
 * comes as an island of at most ISLAND weak matches (short words, sound-alikes, words the
 * recogniser was unsure of), close to each other in text and time; a longer run of matches is
 * never a stray (text the narrator skipped crowds its anchors too). Of the two sides' islands,
 * the weaker loses its times (the one with a sound-alike or the least sure word; between equals
 * the one farther from its other neighbour), and the whole gap is then forced. */
#define MIN_WORD_SECONDS 0.12
#define ISLAND 3

static void untime(aligner_t *A, size_t t)
{
    if (A->tok_rec[t] >= 0) A->rec_used[A->tok_rec[t]] = false;
    A->tok_rec[t] = -1;
    A->t_start[t] = A->t_end[t] = -1;
    A->t_how[t] = FOLIO_HOW_NONE;
}

static size_t untimed_read_between(aligner_t *A, size_t a, size_t b)
{
    size_t k = 0;
    for (size_t u = a + 1; u < b; u++) k += A->t_start[u] < 0 && folio_book_token(A->book, u)->read;
    return k;
}

/* The next timed token from @t on side @dir within one untimed token and a second, or
 * SIZE_MAX. */
static size_t island_step(aligner_t *A, size_t t, int dir)
{
    for (size_t d = 1; d <= 2; d++) {
        if (dir < 0 ? t < d : t + d >= A->n_tok) return SIZE_MAX;
        size_t u = dir < 0 ? t - d : t + d;
        if (A->t_start[u] < 0) continue;
        if (A->t_file[u] != A->t_file[t]) return SIZE_MAX;
        double pause = dir < 0 ? A->t_start[t] - A->t_end[u] : A->t_start[u] - A->t_end[t];
        return pause <= 1.0 ? u : SIZE_MAX;
    }
    return SIZE_MAX;
}

/* The island that starts at @t and goes on to side @dir: its far end in *@end; its strength
 * (a sound-alike counts 0, an exact match 1, plus its confidence; the island's weakest word),
 * or -1 when it is not a weak island. */
static double island(aligner_t *A, size_t t, int dir, size_t *end)
{
    double weakest = 2;
    size_t n = 0, u = t;
    bool weak = false;
    for (;;) {
        n++;
        double st = (A->t_how[u] == FOLIO_HOW_MATCH ? 1.0 : 0.0) + A->t_conf[u];
        if (st < weakest) weakest = st;
        bool is_weak = A->t_how[u] == FOLIO_HOW_SIMILAR ||
                       (A->t_how[u] == FOLIO_HOW_MATCH &&
                        (strlen(folio_book_token(A->book, u)->text) <= 3 || A->t_conf[u] < 0.7f));
        if (A->t_how[u] != FOLIO_HOW_MATCH && A->t_how[u] != FOLIO_HOW_SIMILAR) return -1;
        weak = weak || is_weak;
        *end = u;
        size_t next = island_step(A, u, dir);
        if (next == SIZE_MAX) break;
        if (n == ISLAND) return -1; /* a run */
        u = next;
    }
    return weak ? weakest : -1;
}

/* Seconds a word between timed token @t and its nearest timed neighbour on side @dir in the
 * same file; 0 when there is none. */
static double stretch(aligner_t *A, size_t t, int dir)
{
    size_t u = t;
    for (;;) {
        if (dir < 0 ? u == 0 : u + 1 >= A->n_tok) return 0;
        u = dir < 0 ? u - 1 : u + 1;
        if (A->t_start[u] >= 0) break;
    }
    if (A->t_file[u] != A->t_file[t]) return 0;
    size_t a = dir < 0 ? u : t, b = dir < 0 ? t : u;
    return (A->t_start[b] - A->t_end[a]) / (double)(untimed_read_between(A, a, b) + 1);
}

static void drop_crowded(aligner_t *A)
{
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t < A->n_tok; t++) {
        if (A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && A->t_file[t] == A->t_file[prev]) {
            size_t k = untimed_read_between(A, prev, t);
            double room = A->t_start[t] - A->t_end[prev];
            if (k >= 3 && room < (double)k * MIN_WORD_SECONDS) {
                size_t lend = prev, rend = t;
                double ls = island(A, prev, -1, &lend), rs = island(A, t, +1, &rend);
                int side = 0; /* -1: drop the left island, +1 the right one */
                if (ls >= 0 && rs >= 0)
                    side = fabs(ls - rs) > 0.05                          ? (ls < rs ? -1 : 1)
                           : stretch(A, lend, -1) > stretch(A, rend, +1) ? -1
                                                                         : 1;
                else if (ls >= 0)
                    side = -1;
                else if (rs >= 0)
                    side = 1;
                if (side) {
                    size_t a = side < 0 ? lend : t, b = side < 0 ? prev : rend;
                    for (size_t u = a; u <= b; u++)
                        if (A->t_start[u] >= 0) {
                            folio__debug(A->ctx, "alignment: \"%s\" at %.2f s is a chance match",
                                         folio_book_token(A->book, u)->text, A->t_start[u]);
                            untime(A, u);
                        }
                    /* Start again from the last timed token before what was dropped (the
                     * loop's t++ brings t to it; unsigned wrap-around when there is none). */
                    size_t again = side > 0 ? prev : SIZE_MAX;
                    for (size_t u = lend; side < 0 && u-- > 0;)
                        if (A->t_start[u] >= 0) {
                            again = u;
                            break;
                        }
                    t = again == SIZE_MAX ? SIZE_MAX : again - 1;
                    prev = SIZE_MAX;
                    continue;
                }
            }
        }
        prev = t;
    }
}

/* ---- stretches that go back in time ---- */

#define REVERSAL_SECONDS 1.0 /* the time going back this much between neighbours in the text */
#define REVERSAL_RATIO 4     /* one side this many times the timed tokens of the other */
#define REVERSAL_MAX 200     /* a chance match this many timed tokens at most */

/* How timed token @u follows timed token @prev (@prev < @u in the text): 0 in the same stretch,
 * -1 back in time (in the same file), 1 a new stretch (another file, or a jump forward further
 * than the text between could take: 5 s and a second a token). */
static int follows(aligner_t *A, size_t prev, size_t u)
{
    if (A->t_file[u] != A->t_file[prev]) return 1;
    if (A->t_start[u] < A->t_end[prev] - REVERSAL_SECONDS) return -1;
    return A->t_start[u] - A->t_end[prev] > 5.0 + (double)(u - prev - 1) ? 1 : 0;
}

/* The timed tokens from @t on in text order, in one stretch: how many (counting at most @cap),
 * and the last one in *@last. */
static size_t stretch_forward(aligner_t *A, size_t t, size_t cap, size_t *last)
{
    size_t n = 1, prev = t;
    for (size_t u = t + 1; u < A->n_tok && n < cap; u++) {
        if (A->t_start[u] < 0) continue;
        if (follows(A, prev, u) != 0) break;
        prev = u;
        n++;
    }
    *last = prev;
    return n;
}

/* A file's words are said in the order they are written. Where the time goes back between two
 * timed neighbours in the text, of the stretch before (timed tokens of one file, each after the
 * last and not far after it) and the one after, a stretch of at most REVERSAL_MAX tokens and a
 * quarter of the other's or fewer is a chance match elsewhere in the book (a phrase said in two
 * stories) and loses its times, so that the larger one's edges can grow into the text it held. */
static void drop_reversed(aligner_t *A)
{
    size_t start = SIZE_MAX, count = 0, prev = SIZE_MAX;
    for (size_t t = 0; t < A->n_tok; t++) {
        if (A->t_start[t] < 0) continue;
        int how = prev == SIZE_MAX ? 1 : follows(A, prev, t);
        if (how != 0) {
            if (how < 0) {
                size_t last, after = stretch_forward(A, t, REVERSAL_RATIO * count + 1, &last);
                if (count <= REVERSAL_MAX && after >= REVERSAL_RATIO * count) {
                    folio__debug(A->ctx,
                                 "alignment: %zu words from \"%s\" at %.2f s go back in "
                                 "time before %zu more: a chance match",
                                 count, folio_book_token(A->book, start)->text, A->t_start[start],
                                 after);
                    for (size_t u = start; u <= prev; u++)
                        if (A->t_start[u] >= 0) untime(A, u);
                } else if (after <= REVERSAL_MAX && count >= REVERSAL_RATIO * after) {
                    folio__debug(A->ctx,
                                 "alignment: %zu words from \"%s\" at %.2f s go back in "
                                 "time after %zu more: a chance match",
                                 after, folio_book_token(A->book, t)->text, A->t_start[t], count);
                    for (size_t u = t; u <= last; u++)
                        if (A->t_start[u] >= 0) untime(A, u);
                    t = last; /* go on after them, from the same stretch */
                    continue;
                }
            }
            start = t;
            count = 0;
        }
        count++;
        prev = t;
    }
}

/* Read tokens after timed token @prev, up to (not including) @limit: how many untimed ones of its
 * chapter follow it without a break (at most EDGE_MAX). */
static size_t read_run_after(aligner_t *A, size_t prev, size_t limit)
{
    size_t k = prev + 1;
    while (k < limit && k - prev <= EDGE_MAX && folio_book_token(A->book, k)->read &&
           A->chapters_to[k] == A->chapters_to[prev] && A->t_start[k] < 0)
        k++;
    return k - prev - 1;
}

/* The same before timed token @next, back to (not including) @limit. */
static size_t read_run_before(aligner_t *A, size_t next, size_t limit)
{
    size_t k = next;
    while (k > 0 && (limit == SIZE_MAX || k - 1 > limit) && next - k < EDGE_MAX &&
           folio_book_token(A->book, k - 1)->read &&
           A->chapters_to[k - 1] == A->chapters_to[next] && A->t_start[k - 1] < 0)
        k--;
    return next - k;
}

/* Gaps: stretches of read tokens left without time between timed tokens of the same file, with
 * audio enough for them; and read tokens left at the end of a file's stretch of the book (before
 * the next file, or where the book moves elsewhere) or at the start of one. A gap longer than a
 * window (90 s) and the ends of a file's stretch grow from their timed sides, EDGE_MAX tokens of
 * the same chapter a pass: each pass's found words are the next one's timed sides. Only a few
 * passes: forced alignment finds its words in any speech, so an edge must stay near what the
 * recogniser heard (audio in another language would otherwise be "explained" pass by pass). A
 * window once decoded is not decoded again. */
/* Plan the windows that grow the timed tokens @prev forward and @next backward (either may be
 * SIZE_MAX: none) into the untimed ones between them. */
static int force_edges(aligner_t *A, force_jobs_t *jobs, size_t prev, size_t next)
{
    int rc = FOLIO_OK;
    size_t after = 0;
    bool planned = false; /* the window after @prev is decoded in this pass */
    if (prev != SIZE_MAX) {
        after = read_run_after(A, prev, next == SIZE_MAX ? A->n_tok : next);
        if (after) {
            rc = force_plan(A, jobs, prev, prev + after, A->t_file[prev], A->t_start[prev] - 0.1,
                            open_end(A, prev, after), false, OPEN_RIGHT, SIZE_MAX);
            planned = rc == FOLIO_OK;
        }
    }
    if (rc >= 0 && next != SIZE_MAX) {
        size_t n = read_run_before(A, next, prev);
        /* Both windows are planned from the same state: when they would meet, the one after
         * @prev goes first and the next pass plans this one over what it left. */
        if (n && planned && prev + after >= next - n) n = 0;
        if (n)
            rc = force_plan(A, jobs, next - n, next, A->t_file[next], open_start(A, next, n),
                            A->t_end[next] + 0.1, false, OPEN_LEFT, SIZE_MAX);
    }
    return rc < 0 ? rc : FOLIO_OK;
}

static int force_gaps(aligner_t *A, bool edges)
{
    int rc = FOLIO_OK;
    force_jobs_t jobs = {0};
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t <= A->n_tok && rc >= 0; t++) {
        if (t < A->n_tok && A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && t < A->n_tok && t > prev + 1 && A->t_file[t] == A->t_file[prev] &&
            A->t_start[t] > A->t_end[prev]) {
            size_t missing = t - prev - 1, read = 0;
            for (size_t q = prev + 1; q < t; q++) read += folio_book_token(A->book, q)->read;
            double room = A->t_start[t] - A->t_end[prev];
            /* A word or two inside one sentence is left to interpolation: forcing every small
             * gap would re-decode a sixth of the audio for little. */
            bool small = missing <= 2 && same_sentence(A, prev, t);
            if (!small && read * 2 >= missing && room >= 0.12 * (double)missing && room < 90)
                rc = force_plan(A, &jobs, prev, t, A->t_file[t], A->t_end[prev] - 0.3,
                                A->t_start[t] + 0.3, false, 0, SIZE_MAX);
            else if (edges && room >= 90 && missing > 2 * EDGE_MAX)
                rc = force_edges(A, &jobs, prev, t);
        } else if (edges && t > (prev == SIZE_MAX ? 0 : prev + 1) &&
                   (prev == SIZE_MAX || t == A->n_tok || A->t_file[t] != A->t_file[prev])) {
            /* The two sides are in different files (or one is missing). */
            rc = force_edges(A, &jobs, prev, t < A->n_tok ? t : SIZE_MAX);
        }
        prev = t;
    }
    if (rc < 0) {
        force_jobs_free(&jobs);
        return rc;
    }
    return force_run(A, &jobs);
}

/* ---- gaps recognised again ---- */

#define GAP_MIN_WORDS 4 /* untimed read tokens a gap needs to be recognised again */
#define GAP_ROUNDS 3    /* rounds of recognition and forcing at most */

/* The words @got recognised in a gap's audio (frames from global time @base) against the gap's
 * untimed read tokens (prev, next): the best monotone matching of words alike (as between
 * anchors), of which pairs in runs of two or more in a row take the words' times. Returns the
 * number of tokens timed. */
static size_t take_gap_words(aligner_t *A, size_t prev, size_t next, size_t file, double base,
                             const folio_rec_words_t *got)
{
    size_t nt = 0, nw = got->len, timed = 0;
    for (size_t t = prev + 1; t < next; t++)
        nt += A->t_start[t] < 0 && folio_book_token(A->book, t)->read;
    if (!nt || !nw || nt > 2000 || nw > 2000) return 0;
    size_t *tok = malloc(nt * sizeof(size_t));
    uint32_t *wid = malloc(nw * sizeof(uint32_t));
    float *S = malloc((nt + 1) * (nw + 1) * sizeof(float));
    long *pair = malloc(nt * sizeof(long)); /* the word each token matched, or -1 */
    if (!tok || !wid || !S || !pair) goto done;
    nt = 0;
    for (size_t t = prev + 1; t < next; t++)
        if (A->t_start[t] < 0 && folio_book_token(A->book, t)->read) tok[nt++] = t;
    for (size_t j = 0; j < nw; j++)
        if (vocab_id(A, got->items[j].word, &wid[j]) < 0) goto done;
#define AT(i, j) S[(i) * (nw + 1) + (j)]
    for (size_t i = 0; i <= nt; i++)
        for (size_t j = 0; j <= nw; j++) {
            if (!i || !j) {
                AT(i, j) = 0;
                continue;
            }
            float best = AT(i - 1, j) > AT(i, j - 1) ? AT(i - 1, j) : AT(i, j - 1);
            float sim = similarity(A, A->tok_id[tok[i - 1]], wid[j - 1]);
            if (sim >= SIM_ACCEPT) {
                float gain = sim >= 0.999f ? 2.0f : 2 * sim - 1;
                if (AT(i - 1, j - 1) + gain > best) best = AT(i - 1, j - 1) + gain;
            }
            AT(i, j) = best;
        }
    for (size_t i = 0; i < nt; i++) pair[i] = -1;
    for (size_t i = nt, j = nw; i > 0 && j > 0;) {
        if (AT(i, j) == AT(i - 1, j))
            i--;
        else if (AT(i, j) == AT(i, j - 1))
            j--;
        else {
            pair[i - 1] = (long)(j - 1);
            i--, j--;
        }
    }
#undef AT
    /* Words outside the gap's audio (its lead-in is the previous word's end) match nothing. */
    for (size_t i = 0; i < nt; i++) {
        if (pair[i] < 0) continue;
        const folio_rec_word_t *w = &got->items[pair[i]];
        double ws = base + w->start_frame * 0.01, we = base + (w->end_frame + 1) * 0.01;
        if (ws < A->t_end[prev] - 0.05 || we > A->t_start[next] + 0.05) pair[i] = -1;
    }
    for (size_t i = 0; i < nt; i++) {
        if (pair[i] < 0) continue;
        bool before =
            i > 0 && pair[i - 1] >= 0 && pair[i - 1] + 1 == pair[i] && tok[i - 1] + 1 == tok[i];
        bool after = i + 1 < nt && pair[i + 1] >= 0 && pair[i] + 1 == pair[i + 1] &&
                     tok[i] + 1 == tok[i + 1];
        if (!before && !after) continue;
        const folio_rec_word_t *w = &got->items[pair[i]];
        double ws = base + w->start_frame * 0.01, we = base + (w->end_frame + 1) * 0.01;
        float sim = similarity(A, A->tok_id[tok[i]], wid[pair[i]]);
        A->t_start[tok[i]] = ws;
        A->t_end[tok[i]] = we;
        A->t_file[tok[i]] = file;
        A->t_conf[tok[i]] = 0.5f + 0.4f * w->confidence * sim;
        A->t_how[tok[i]] = sim >= 0.999f ? FOLIO_HOW_MATCH : FOLIO_HOW_SIMILAR;
        timed++;
    }
done:
    free(tok);
    free(wid);
    free(S);
    free(pair);
    return timed;
}

/* Gaps the forced windows could not fill (the narrator said more there than the text, or the
 * window was too long) are recognised again with a language model of just their text, which
 * hears far better than the whole book's; the words found become timed sides for the next
 * forced pass (Moreno et al.'s recursion). Each gap once. Adds the tokens timed to *@gained. */
static int redecode_gaps(aligner_t *A, size_t *gained)
{
    const folio_align_input_t *in = A->in;
    if (!in->recognise) return FOLIO_OK;
    folio_rec_words_t got = {0};
    int rc = FOLIO_OK;
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t < A->n_tok && rc >= 0; t++) {
        if (A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && t > prev + 1 && A->t_file[t] == A->t_file[prev]) {
            double room = A->t_start[t] - A->t_end[prev];
            size_t untimed = untimed_read_between(A, prev, t);
            if (untimed >= GAP_MIN_WORDS && room >= 1.0 && room <= 120 &&
                room >= 0.12 * (double)untimed &&
                (rc = tried_before(A, ((uint64_t)prev * 0x9E3779B97F4A7C15u) ^ ((uint64_t)t << 21) ^
                                          1u)) == 0) {
                double off = in->offset[A->t_file[t]];
                double s = A->t_end[prev] - off - 0.1, e = A->t_start[t] - off + 0.1;
                if (s < 0) s = 0;
                got.len = 0;
                rc = in->recognise(in->recognise_ud, A->t_file[t], s, e, prev + 1, t, &got);
                if (rc >= 0) {
                    size_t n = take_gap_words(A, prev, t, A->t_file[t], off + s, &got);
                    folio__debug(A->ctx,
                                 "alignment: a gap of %zu words in file %zu at %.2f-%.2f s "
                                 "recognised again: %zu words heard, %zu timed",
                                 untimed, A->t_file[t], s, e, got.len, n);
                    *gained += n;
                }
            }
        }
        prev = t;
    }
    VEC_FREE(got);
    return rc < 0 ? rc : FOLIO_OK;
}

/* The first read token at or after @char_off (in text order), or SIZE_MAX. */
static size_t first_token_at(aligner_t *A, size_t char_off)
{
    size_t lo = 0, hi = A->n_tok;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (folio_book_token(A->book, mid)->start_char < char_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < A->n_tok ? lo : SIZE_MAX;
}

/* Page and chapter starts the recogniser did not hear exactly: force-align the words from up to
 * two timed tokens before the boundary (in the same file, close by) to two timed tokens after it.
 * The window runs from the first timed word's start to the last one's end, a little either side:
 * a grammar must be able to explain all the speech in its window, or it squeezes its words into
 * the wrong place. With no timed word before the boundary, the window opens earlier and the
 * grammar's leading filler takes what is not its words. */
static int force_boundary(aligner_t *A, force_jobs_t *jobs, size_t char_off)
{
    size_t first = first_token_at(A, char_off);
    if (first == SIZE_MAX) return FOLIO_OK;
    size_t t = first;
    while (t < A->n_tok && t < first + 12 && A->t_start[t] < 0) t++;
    if (t >= A->n_tok || A->t_start[t] < 0) return FOLIO_OK;
    if (t == first && A->t_how[t] == FOLIO_HOW_MATCH) return FOLIO_OK;
    size_t file = A->t_file[t];
    /* Back: up to two timed tokens before @first, close by, in this file. */
    size_t a = first, lead = SIZE_MAX, seen = 0;
    for (size_t q = first; q > 0 && seen < 2 && first - q < 8; q--) {
        size_t p = q - 1;
        if (A->t_start[p] < 0) continue;
        if (A->t_file[p] != file || A->t_start[t] - A->t_start[p] > 15 ||
            A->t_start[p] > A->t_start[t])
            break;
        a = lead = p;
        seen += A->t_how[p] == FOLIO_HOW_MATCH; /* heard words bound a window best */
    }
    /* Forward: up to two timed tokens after @t, in this file and in time order. */
    size_t b = t, heard = t; /* time order is checked against heard words: a forced word's end
                                 may have swallowed the next word */
    seen = 0;
    for (size_t q = t + 1; q < A->n_tok && seen < 2 && q - t <= 8; q++) {
        if (A->t_start[q] < 0) continue;
        if (A->t_file[q] != file || A->t_start[q] < A->t_end[heard] - 0.05 ||
            A->t_start[q] - A->t_end[t] > 15)
            break;
        b = q;
        if (A->t_how[q] == FOLIO_HOW_MATCH) heard = q, seen++;
    }
    if (A->t_end[b] < A->t_end[heard]) b = heard;
    double t0 = lead != SIZE_MAX ? A->t_start[lead] - 0.15 : open_start(A, t, t - a);
    /* A chapter that starts a page has one window. */
    for (size_t i = 0; i < jobs->len; i++)
        if (jobs->items[i].boundary == t && jobs->items[i].a == a && jobs->items[i].b == b)
            return FOLIO_OK;
    return force_plan(A, jobs, a, b, file, t0, A->t_end[b] + 0.15, true,
                      lead == SIZE_MAX ? OPEN_LEFT : 0, t);
}

/* ---- chapter headings ---- */

/* An audiobook announces a chapter ("Chapter thirty six of Sense and Sensibility. This is …") and
 * then reads its heading: both say the heading's words. The one read as the heading is the one
 * just before the chapter's first sentence; when the heading took an earlier one and its words
 * are heard again (at least two thirds of them, in order) between there and the chapter's first
 * timed word, the heading moves to the later one. */
static void fix_headings(aligner_t *A)
{
    const folio_book_t *book = A->book;
    const folio_heard_t *h = A->in->heard;
    for (size_t t0 = 0; t0 < A->n_tok; t0++) {
        if (!A->chapter_start[t0] || A->tok_rec[t0] < 0) continue;
        const folio_token_t *tok0 = folio_book_token(book, t0);
        if (folio_book_block(book, tok0->block)->kind != FOLIO_BLOCK_HEADING) continue;
        size_t t1 = t0; /* the heading's tokens: [t0, t1) */
        while (t1 < A->n_tok && folio_book_token(book, t1)->block == tok0->block && t1 - t0 < 16)
            t1++;
        size_t L = t1 - t0, body = t1;
        while (body < A->n_tok && body < t1 + 8 && A->tok_rec[body] < 0) body++;
        if (body >= A->n_tok || A->tok_rec[body] < 0) continue;
        /* (Some of the heading's words may already sit on the later reading.) */
        size_t from = (size_t)A->tok_rec[t0] + 1, to = (size_t)A->tok_rec[body];
        if (from + L > to || h[to].file != h[from - 1].file || h[to].time - h[from - 1].time < 3.0)
            continue;
        /* The latest place in (from, to) where the heading is heard again. */
        size_t best = SIZE_MAX;
        for (size_t j = from; j + L <= to; j++) {
            size_t hits = 0;
            for (size_t k = 0; k < L; k++)
                hits += similarity(A, A->tok_id[t0 + k], A->rec_id[j + k]) >= SIM_ACCEPT;
            if (3 * hits >= 2 * L && hits >= (L < 2 ? L : 2)) best = j;
        }
        if (best == SIZE_MAX) continue;
        for (size_t k = 0; k < L; k++) untime(A, t0 + k);
        for (size_t k = 0; k < L; k++) {
            float sim = similarity(A, A->tok_id[t0 + k], A->rec_id[best + k]);
            if (sim >= SIM_ACCEPT) assign(A, t0 + k, best + k, sim);
        }
    }
}

/* ---- words read another way ---- */

/* A word with alternative readings ("1455": "fourteen fifty five" or "one thousand four hundred
 * fifty five") whose later tokens were heard but whose first was not: when the heard words just
 * before match the start of an alternative that ends the same way, the word starts there. */
static void fix_alternatives(aligner_t *A)
{
    const folio_book_t *book = A->book;
    for (size_t w = 0; w < folio_book_n_words(book); w++) {
        const folio_word_t *word = folio_book_word(book, w);
        if (!word->n_alternatives || word->n_tokens < 2) continue;
        size_t f = word->first_token, k = f;
        if (A->t_how[f] == FOLIO_HOW_MATCH) continue;
        while (k < f + word->n_tokens && A->t_how[k] != FOLIO_HOW_MATCH) k++;
        if (k == f + word->n_tokens || A->tok_rec[k] < 0) continue;
        size_t j = (size_t)A->tok_rec[k], suffix = f + word->n_tokens - k;
        for (size_t x = 0; x < word->n_alternatives; x++) {
            char buf[512];
            const char *alt[32];
            size_t L = 0;
            snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(book, w, x));
            char *save = NULL;
            for (char *p = strtok_r(buf, " ", &save); p && L < 32; p = strtok_r(NULL, " ", &save))
                alt[L++] = p;
            if (L <= suffix) continue;
            bool same_end = true;
            for (size_t q = 0; q < suffix && same_end; q++)
                same_end = strcmp(alt[L - suffix + q], folio_book_token(book, k + q)->text) == 0;
            size_t pre = L - suffix;
            if (!same_end || j < pre) continue;
            size_t hits = 0;
            for (size_t q = 0; q < pre; q++) {
                size_t id;
                const folio_heard_t *h = &A->in->heard[j - pre + q];
                if (h->file != A->in->heard[j].file || A->rec_used[j - pre + q]) {
                    hits = 0;
                    break;
                }
                if (folio__map_get(&A->vocab, alt[q], &id) && A->rec_id[j - pre + q] == id) hits++;
            }
            if (hits * 2 < pre + 1) continue;
            const folio_heard_t *h = &A->in->heard[j - pre];
            A->t_start[f] = h->time;
            A->t_end[f] = h->time + (h->file_end - h->file_time);
            A->t_file[f] = h->file;
            A->t_conf[f] = 0.6f + 0.4f * h->confidence;
            A->t_how[f] = FOLIO_HOW_MATCH;
            for (size_t q = f + 1; q < k; q++) A->t_start[q] = A->t_end[q] = -1, A->t_how[q] = 0;
            break;
        }
    }
}

/* ---- consistency ---- */

static int how_rank(uint8_t how)
{
    switch (how) {
    case FOLIO_HOW_MATCH:
        return 3;
    case FOLIO_HOW_FORCED:
        return 2;
    case FOLIO_HOW_SIMILAR:
        return 1;
    default:
        return 0;
    }
}

/* Words of one file are said in the order they are written: of two nearby timed tokens in the
 * wrong order, the one found the weaker way loses its time. */
static void enforce_order(aligner_t *A)
{
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t < A->n_tok; t++) {
        if (A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && t - prev <= 12 && A->t_file[t] == A->t_file[prev] &&
            A->t_start[t] < A->t_end[prev] - 0.1) {
            if (how_rank(A->t_how[t]) > how_rank(A->t_how[prev])) {
                A->t_start[prev] = A->t_end[prev] = -1;
                A->t_how[prev] = FOLIO_HOW_NONE;
            } else {
                A->t_start[t] = A->t_end[t] = -1;
                A->t_how[t] = FOLIO_HOW_NONE;
                continue;
            }
        }
        prev = t;
    }
}

/* ---- interpolation, words, report ---- */

static void interpolate(aligner_t *A)
{
    const folio_book_t *book = A->book;
    size_t t = 0;
    for (size_t s = 0; s < folio_book_n_sentences(book); s++) {
        const folio_sentence_t *snt = folio_book_sentence(book, s);
        while (t < A->n_tok && folio_book_token(book, t)->start_char < snt->start_char) t++;
        size_t a = t, b = t;
        while (b < A->n_tok && folio_book_token(book, b)->start_char < snt->end_char) b++;
        if (b - a < 3 || A->t_start[a] < 0 || A->t_start[b - 1] < 0 ||
            A->t_file[a] != A->t_file[b - 1])
            continue;
        size_t prev = a;
        for (size_t q = a + 1; q < b; q++) {
            if (A->t_start[q] < 0) continue;
            for (size_t k = prev + 1; k < q; k++) {
                /* By character position between the timed neighbours. */
                double c0 = (double)folio_book_token(book, prev)->end_char;
                double c1 = (double)folio_book_token(book, q)->start_char;
                double ck = (double)folio_book_token(book, k)->start_char;
                double f = c1 > c0 ? (ck - c0) / (c1 - c0) : 0.5;
                if (f < 0) f = 0;
                if (f > 1) f = 1;
                double ts = A->t_end[prev] + f * (A->t_start[q] - A->t_end[prev]);
                A->t_start[k] = ts;
                A->t_end[k] = ts + 0.01;
                A->t_file[k] = A->t_file[q];
                A->t_conf[k] = 0.3f;
                A->t_how[k] = FOLIO_HOW_INTERPOLATED;
            }
            prev = q;
        }
        t = b;
    }
}

static int cmp_double_pair(const void *a, const void *b)
{
    const double *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

static int report(aligner_t *A, folio_alignment_t *out)
{
    const folio_book_t *book = A->book;
    const folio_align_input_t *in = A->in;
    int rc = FOLIO_OK;
    /* Words. */
    for (size_t w = 0; w < out->n_words; w++) {
        const folio_word_t *word = folio_book_word(book, w);
        folio_timing_t *x = &out->words[w];
        x->start = -1;
        if (word->n_tokens) out->words_total++;
        for (size_t k = 0; k < word->n_tokens; k++) {
            size_t t = word->first_token + k;
            if (A->t_start[t] < 0) continue;
            if (x->start < 0 || A->t_start[t] < x->start) {
                if (x->start < 0) {
                    x->file = A->t_file[t];
                    x->confidence = A->t_conf[t];
                    x->how = (folio_how_t)A->t_how[t];
                }
                x->start = A->t_start[t];
            }
            if (A->t_end[t] > x->end) x->end = A->t_end[t];
        }
        if (x->start >= 0) {
            out->words_read++;
            x->file_time = x->start - in->offset[x->file];
            if (x->end < x->start) x->end = x->start;
        }
    }
    /* Audio the book explains: heard words inside the time spans of timed tokens. */
    double *spans = malloc((A->n_tok ? A->n_tok : 1) * 2 * sizeof(double));
    if (!spans) return FOLIO_ENOMEM;
    size_t ns = 0;
    for (size_t t = 0; t < A->n_tok; t++)
        if (A->t_start[t] >= 0) {
            spans[2 * ns] = A->t_start[t];
            spans[2 * ns + 1] = A->t_end[t];
            ns++;
        }
    qsort(spans, ns, 2 * sizeof(double), cmp_double_pair);
    size_t k = 0;
    bool *aligned = calloc(A->n_rec ? A->n_rec : 1, sizeof(bool));
    if (!aligned) {
        free(spans);
        return FOLIO_ENOMEM;
    }
    for (size_t j = 0; j < A->n_rec; j++) {
        const folio_heard_t *h = &in->heard[j];
        double hs = h->time, he = h->time + (h->file_end - h->file_time);
        out->speech_seconds += he - hs;
        while (k < ns && spans[2 * k + 1] < hs - 0.05) k++;
        bool in_span = A->rec_used[j];
        for (size_t q = k; q < ns && !in_span && spans[2 * q] <= he + 0.05; q++) in_span = true;
        aligned[j] = in_span;
        if (in_span) out->aligned_seconds += he - hs;
    }
    /* Unaligned audio: runs of heard words the book does not explain. */
    for (size_t j = 0; j < A->n_rec && rc >= 0;) {
        if (aligned[j]) {
            j++;
            continue;
        }
        size_t e = j;
        while (e + 1 < A->n_rec && !aligned[e + 1] && in->heard[e + 1].file == in->heard[j].file &&
               in->heard[e + 1].file_time - in->heard[e].file_end < 1.5)
            e++;
        double dur = in->heard[e].file_end - in->heard[j].file_time;
        if (e > j || dur >= 1.0) {
            folio_str_t words = {0};
            for (size_t q = j; q <= e && q < j + 60; q++)
                folio__str_printf(&words, "%s%s", q > j ? " " : "", in->heard[q].word);
            folio_unaligned_t u = {in->heard[j].file, in->heard[j].file_time, in->heard[e].file_end,
                                   folio__str_take(&words)};
            if (!u.words || VEC_PUSH(out->unaligned, u) < 0) {
                free(u.words);
                rc = FOLIO_ENOMEM;
            }
        }
        j = e + 1;
    }
    free(aligned);
    free(spans);
    /* Unread text: runs of words without a time. */
    for (size_t w = 0; w < out->n_words && rc >= 0;) {
        const folio_word_t *word = folio_book_word(book, w);
        if (out->words[w].start >= 0 || !word->n_tokens) {
            w++;
            continue;
        }
        size_t e = w;
        while (e + 1 < out->n_words &&
               (out->words[e + 1].start < 0 || !folio_book_word(book, e + 1)->n_tokens))
            e++;
        while (e > w && !folio_book_word(book, e)->n_tokens) e--;
        folio_unread_t u = {word->start_char, folio_book_word(book, e)->end_char,
                            folio_book_block(book, word->block)->kind};
        rc = VEC_PUSH(out->unread, u);
        w = e + 1;
    }
    return rc;
}

void folio__alignment_free(folio_alignment_t *a)
{
    if (!a) return;
    free(a->words);
    for (size_t i = 0; i < a->unaligned.len; i++) free(a->unaligned.items[i].words);
    VEC_FREE(a->unaligned);
    VEC_FREE(a->unread);
    memset(a, 0, sizeof(*a));
}

int folio__align(folio_t *ctx, const folio_align_input_t *in, folio_alignment_t *out)
{
    int rc = FOLIO_OK;
    aligner_t A = {.ctx = ctx, .in = in, .book = in->book};
    cands_t cands = {0};
    chains_t chains = {0};
    memset(out, 0, sizeof(*out));
    const folio_book_t *book = in->book;
    A.n_tok = folio_book_n_tokens(book);
    A.n_rec = in->n_heard;
    size_t nt = A.n_tok ? A.n_tok : 1, nr = A.n_rec ? A.n_rec : 1;
    A.tok_id = malloc(nt * sizeof(uint32_t));
    A.rec_id = malloc(nr * sizeof(uint32_t));
    A.tok_rec = malloc(nt * sizeof(long));
    A.tok_sim = calloc(nt, sizeof(float));
    A.t_start = malloc(nt * sizeof(double));
    A.t_end = malloc(nt * sizeof(double));
    A.t_file = calloc(nt, sizeof(size_t));
    A.t_conf = calloc(nt, sizeof(float));
    A.t_how = calloc(nt, 1);
    A.rec_used = calloc(nr, sizeof(bool));
    A.chapter_start = calloc(nt, sizeof(bool));
    out->n_words = folio_book_n_words(book);
    out->words = calloc(out->n_words ? out->n_words : 1, sizeof(folio_timing_t));
    if (!A.tok_id || !A.rec_id || !A.tok_rec || !A.tok_sim || !A.t_start || !A.t_end || !A.t_file ||
        !A.t_conf || !A.t_how || !A.rec_used || !A.chapter_start || !out->words)
        FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t c = 0; c < folio_book_n_chapters(book); c++) {
        size_t t = first_token_at(&A, folio_book_chapter(book, c)->start_char);
        if (t != SIZE_MAX) A.chapter_start[t] = true;
    }
    A.chapters_to = malloc(nt * sizeof(uint32_t));
    if (!A.chapters_to) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t t = 0; t < A.n_tok; t++)
        A.chapters_to[t] = (t ? A.chapters_to[t - 1] : 0) + A.chapter_start[t];
    for (size_t t = 0; t < A.n_tok; t++) {
        TRY(vocab_id(&A, folio_book_token(book, t)->text, &A.tok_id[t]));
        A.tok_rec[t] = -1;
        A.t_start[t] = A.t_end[t] = -1;
    }
    for (size_t j = 0; j < A.n_rec; j++) TRY(vocab_id(&A, in->heard[j].word, &A.rec_id[j]));
    /* Words met later (alternative readings) get letter similarity only. */
    size_t vcap = A.names.len + 1;
    A.phones_cap = vcap;
    A.phones = calloc(vcap, sizeof(char *));
    A.phones_done = calloc(vcap, sizeof(bool));
    if (!A.phones || !A.phones_done) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    if (A.names.len >= (1u << 21)) FAIL(ctx, FOLIO_ELIMIT, "the vocabulary is too large to align");

    TRY(build_ngrams(&A));
    TRY(find_anchors(&A, &cands, &chains));
    TRY(select_chains(&cands, &chains));
    TRY(align_runs(&A, &cands, &chains));
    size_t accepted = 0;
    for (size_t i = 0; i < chains.len; i++) accepted += chains.items[i].accepted;
    folio__info(ctx, "alignment: %zu anchors in %zu chains, %zu kept", cands.len, chains.len,
                accepted);
    TRY(folio__progress(ctx, "aligning", 1, 3, in->start_time));
    fix_alternatives(&A);
    fix_headings(&A);
    drop_crowded(&A);
    drop_reversed(&A);
    /* Each pass can give the next its timed sides (a long stretch at a file's start is forced
     * EDGE_MAX tokens at a time). */
    for (int round = 0; round < GAP_ROUNDS; round++) {
        for (int pass = 0; pass < FORCE_PASSES; pass++) {
            size_t before = 0, after = 0;
            for (size_t t = 0; t < A.n_tok; t++) before += A.t_start[t] >= 0;
            TRY(force_gaps(&A, round == 0)); /* edges grow in the first round only */
            for (size_t t = 0; t < A.n_tok; t++) after += A.t_start[t] >= 0;
            if (after == before) break;
        }
        size_t gained = 0;
        TRY(redecode_gaps(&A, &gained));
        if (!gained) break;
    }
    /* Boundaries are far apart: their windows are planned at once and decoded in parallel. */
    force_jobs_t bounds = {0};
    for (size_t p = 0; p < folio_book_n_pages(book) && rc >= 0; p++)
        rc = force_boundary(&A, &bounds, folio_book_page(book, p)->start_char);
    for (size_t c = 0; c < folio_book_n_chapters(book) && rc >= 0; c++)
        rc = force_boundary(&A, &bounds, folio_book_chapter(book, c)->start_char);
    if (rc < 0) force_jobs_free(&bounds);
    TRY(rc);
    TRY(force_run(&A, &bounds));
    TRY(folio__progress(ctx, "aligning", 2, 3, in->start_time));
    enforce_order(&A);
    interpolate(&A);
    TRY(report(&A, out));
    TRY(folio__progress(ctx, "aligning", 3, 3, in->start_time));
fail:
    for (size_t i = 0; A.phones && i < A.phones_cap; i++) free(A.phones[i]);
    for (size_t i = 0; i < A.names.len; i++) free(A.names.items[i]);
    free(A.phones);
    free(A.phones_done);
    folio__map_free(&A.vocab);
    VEC_FREE(A.names);
    free(A.tok_id);
    free(A.rec_id);
    free(A.tok_rec);
    free(A.tok_sim);
    free(A.t_start);
    free(A.t_end);
    free(A.t_file);
    free(A.t_conf);
    free(A.t_how);
    free(A.rec_used);
    free(A.chapter_start);
    free(A.chapters_to);
    free(A.ng);
    VEC_FREE(A.tried);
    VEC_FREE(cands);
    VEC_FREE(chains);
    if (rc < 0) folio__alignment_free(out);
    return rc;
}
