/* Dynamic programming between anchors: a banded alignment with affine gaps of a stretch of the
 * book's tokens with a stretch of heard words, by how alike the words sound. */
#include "align_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
                    int rc = folio__align_vocab_id(A, x, &s.id);
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
int folio__align_dp_region(aligner_t *A, size_t a, size_t b, size_t c, size_t d, bool free_start,
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
                float sim = folio__align_similarity(A, slots.items[i - 1].id, A->rec_id[c + j - 1]);
                float gain = sim >= 0.999f ? 2.0f : sim >= SIM_ACCEPT ? 2 * sim - 1 : MISMATCH;
                /* Text not usually read (a footnote) needs a longer run of matches to count:
                 * "of chapter one" in a note must not take the outro's time. */
                if (!folio__align_read(A, slots.items[i - 1].tok))
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
            float sim = folio__align_similarity(A, slots.items[i - 1].id, A->rec_id[c + j - 1]);
            if (sim >= SIM_ACCEPT) folio__align_assign(A, slots.items[i - 1].tok, c + j - 1, sim);
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
