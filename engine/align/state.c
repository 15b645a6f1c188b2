/* The aligner's shared state: its setup from the input, the vocabulary that book tokens and heard
 * words share, how alike two words sound, and giving a token a time or taking it away. */
#include "align_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int folio__align_vocab_id(aligner_t *A, const char *w, uint32_t *id)
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

/* @s split into at most @max units in @buf (@cap bytes): its space-separated phones, or with @chars
 * its bytes. */
static size_t split_units(const char *s, char *buf, size_t cap, const char **units, size_t max,
                          bool chars)
{
    size_t n = 0;
    if (chars) {
        /* Characters as units, for words without a pronunciation: each a one-byte string of its
         * own in @buf (its byte, then a NUL), so that nothing is shared between calls. */
        for (size_t i = 0; s[i] && n < max && 2 * n + 1 < cap; i++) {
            buf[2 * n] = s[i];
            buf[2 * n + 1] = '\0';
            units[n] = &buf[2 * n];
            n++;
        }
        return n;
    }
    snprintf(buf, cap, "%s", s);
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
float folio__align_similarity(aligner_t *A, uint32_t a, uint32_t b)
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

void folio__align_assign(aligner_t *A, size_t tok, size_t rec, float sim)
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

void folio__align_untime(aligner_t *A, size_t t)
{
    if (A->tok_rec[t] >= 0) A->rec_used[A->tok_rec[t]] = false;
    A->tok_rec[t] = -1;
    A->t_start[t] = A->t_end[t] = -1;
    A->t_how[t] = FOLIO_HOW_NONE;
}

size_t folio__align_untimed_read_between(aligner_t *A, size_t a, size_t b)
{
    size_t k = 0;
    for (size_t u = a + 1; u < b; u++) k += A->t_start[u] < 0 && folio__align_read(A, u);
    return k;
}

/* The first read token at or after @char_off (in text order), or SIZE_MAX. */
size_t folio__align_first_token_at(aligner_t *A, size_t char_off)
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

/* Whether the gap's work with @key (a window, or recognition) was done before: 1, or 0 and it is
 * now remembered as done, or an error. */
int folio__align_tried_before(aligner_t *A, uint64_t key)
{
    for (size_t i = 0; i < A->tried.len; i++)
        if (A->tried.items[i] == key) return 1;
    return VEC_PUSH(A->tried, key) < 0 ? FOLIO_ENOMEM : 0;
}

int folio__align_state_init(aligner_t *A, folio_t *ctx, const folio_align_input_t *in)
{
    int rc = FOLIO_OK;
    const folio_book_t *book = in->book;
    *A = (aligner_t){.ctx = ctx, .in = in, .book = book};
    A->n_tok = folio_book_n_tokens(book);
    A->n_rec = in->n_heard;
    size_t nt = A->n_tok ? A->n_tok : 1, nr = A->n_rec ? A->n_rec : 1;
    A->tok_id = malloc(nt * sizeof(uint32_t));
    A->rec_id = malloc(nr * sizeof(uint32_t));
    A->tok_rec = malloc(nt * sizeof(long));
    A->tok_sim = calloc(nt, sizeof(float));
    A->t_start = malloc(nt * sizeof(double));
    A->t_end = malloc(nt * sizeof(double));
    A->t_file = calloc(nt, sizeof(size_t));
    A->t_conf = calloc(nt, sizeof(float));
    A->t_how = calloc(nt, 1);
    A->rec_used = calloc(nr, sizeof(bool));
    A->chapter_start = calloc(nt, sizeof(bool));
    A->chapters_to = malloc(nt * sizeof(uint32_t));
    A->unread = calloc(nt, sizeof(bool));
    if (!A->tok_id || !A->rec_id || !A->tok_rec || !A->tok_sim || !A->t_start || !A->t_end ||
        !A->t_file || !A->t_conf || !A->t_how || !A->rec_used || !A->chapter_start ||
        !A->chapters_to || !A->unread)
        FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t c = 0; c < folio_book_n_chapters(book); c++) {
        size_t t = folio__align_first_token_at(A, folio_book_chapter(book, c)->start_char);
        if (t != SIZE_MAX) A->chapter_start[t] = true;
    }
    for (size_t t = 0; t < A->n_tok; t++)
        A->chapters_to[t] = (t ? A->chapters_to[t - 1] : 0) + A->chapter_start[t];
    for (size_t t = 0; t < A->n_tok; t++) {
        TRY(folio__align_vocab_id(A, folio_book_token(book, t)->text, &A->tok_id[t]));
        A->tok_rec[t] = -1;
        A->t_start[t] = A->t_end[t] = -1;
    }
    for (size_t j = 0; j < A->n_rec; j++)
        TRY(folio__align_vocab_id(A, in->heard[j].word, &A->rec_id[j]));
    TRY(folio__align_find_unread(A));
    /* Words met later (alternative readings) get letter similarity only. */
    size_t vcap = A->names.len + 1;
    A->phones_cap = vcap;
    A->phones = calloc(vcap, sizeof(char *));
    A->phones_done = calloc(vcap, sizeof(bool));
    if (!A->phones || !A->phones_done) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    if (A->names.len >= (1u << 21)) FAIL(ctx, FOLIO_ELIMIT, "the vocabulary is too large to align");
fail:
    return rc;
}

void folio__align_state_free(aligner_t *A)
{
    for (size_t i = 0; A->phones && i < A->phones_cap; i++) free(A->phones[i]);
    for (size_t i = 0; i < A->names.len; i++) free(A->names.items[i]);
    free(A->phones);
    free(A->phones_done);
    folio__map_free(&A->vocab);
    VEC_FREE(A->names);
    free(A->tok_id);
    free(A->rec_id);
    free(A->tok_rec);
    free(A->tok_sim);
    free(A->t_start);
    free(A->t_end);
    free(A->t_file);
    free(A->t_conf);
    free(A->t_how);
    free(A->rec_used);
    free(A->chapter_start);
    free(A->chapters_to);
    free(A->unread);
    free(A->ng);
    VEC_FREE(A->tried);
}
