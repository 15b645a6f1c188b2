/* Repairs of the first pass: chance matches in garbled speech, stretches that go back in time,
 * chapter headings taken by the announcement, words read another way, and words of a file said
 * out of order. */
#include "align_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return (A->t_start[b] - A->t_end[a]) / (double)(folio__align_untimed_read_between(A, a, b) + 1);
}

void folio__align_drop_crowded(aligner_t *A)
{
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t < A->n_tok; t++) {
        if (A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && A->t_file[t] == A->t_file[prev]) {
            size_t k = folio__align_untimed_read_between(A, prev, t);
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
                            folio__align_untime(A, u);
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
void folio__align_drop_reversed(aligner_t *A)
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
                        if (A->t_start[u] >= 0) folio__align_untime(A, u);
                } else if (after <= REVERSAL_MAX && count >= REVERSAL_RATIO * after) {
                    folio__debug(A->ctx,
                                 "alignment: %zu words from \"%s\" at %.2f s go back in "
                                 "time after %zu more: a chance match",
                                 after, folio_book_token(A->book, t)->text, A->t_start[t], count);
                    for (size_t u = t; u <= last; u++)
                        if (A->t_start[u] >= 0) folio__align_untime(A, u);
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

/* ---- chapter headings ---- */

/* An audiobook announces a chapter ("Chapter thirty six of Sense and Sensibility. This is …") and
 * then reads its heading: both say the heading's words. The one read as the heading is the one
 * just before the chapter's first sentence; when the heading took an earlier one and its words
 * are heard again (at least two thirds of them, in order) between there and the chapter's first
 * timed word, the heading moves to the later one. */
void folio__align_fix_headings(aligner_t *A)
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
                hits +=
                    folio__align_similarity(A, A->tok_id[t0 + k], A->rec_id[j + k]) >= SIM_ACCEPT;
            if (3 * hits >= 2 * L && hits >= (L < 2 ? L : 2)) best = j;
        }
        if (best == SIZE_MAX) continue;
        for (size_t k = 0; k < L; k++) folio__align_untime(A, t0 + k);
        for (size_t k = 0; k < L; k++) {
            float sim = folio__align_similarity(A, A->tok_id[t0 + k], A->rec_id[best + k]);
            if (sim >= SIM_ACCEPT) folio__align_assign(A, t0 + k, best + k, sim);
        }
    }
}

/* The audio's own chapter marks (an M4B's chapters, a file's start) say where a chapter is read:
 * a heading timed before a mark that the chapter's first timed words follow was heard in what
 * came before (the announcement, the last chapter's outro), and loses its times. */
void folio__align_heed_marks(aligner_t *A)
{
    const folio_book_t *book = A->book;
    for (size_t t0 = 0; t0 < A->n_tok && A->in->n_marks; t0++) {
        if (!A->chapter_start[t0] || A->t_start[t0] < 0) continue;
        size_t blk = folio_book_token(book, t0)->block, t1 = t0, body = SIZE_MAX;
        while (t1 < A->n_tok && folio_book_token(book, t1)->block == blk && t1 - t0 < 16) t1++;
        for (size_t u = t1; u < A->n_tok && u < t1 + 16 && body == SIZE_MAX; u++)
            if (A->t_start[u] >= 0) body = u;
        if (body == SIZE_MAX || A->t_file[body] != A->t_file[t0]) continue;
        for (size_t i = 0; i < A->in->n_marks; i++) {
            double m = A->in->mark_time[i];
            if (A->t_start[t0] < m - 0.5 && m <= A->t_start[body] + 0.05) {
                folio__debug(A->ctx,
                             "alignment: heading \"%s\" at %.2f s is before the audio's "
                             "chapter mark at %.2f s",
                             folio_book_token(book, t0)->text, A->t_start[t0], m);
                for (size_t k = t0; k < t1; k++) folio__align_untime(A, k);
                break;
            }
        }
    }
}

/* ---- words read another way ---- */

/* A word with alternative readings ("1455": "fourteen fifty five" or "one thousand four hundred
 * fifty five") whose later tokens were heard but whose first was not: when the heard words just
 * before match the start of an alternative that ends the same way, the word starts there. */
void folio__align_fix_alternatives(aligner_t *A)
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
void folio__align_enforce_order(aligner_t *A)
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
