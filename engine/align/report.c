/* From token times to the result: interpolation inside sentences, each word's time, the audio the
 * book explains and does not, and the text not read. */
#include "align_int.h"

#include <stdlib.h>
#include <string.h>

void folio__align_interpolate(aligner_t *A)
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

int folio__align_report(aligner_t *A, folio_alignment_t *out)
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
