/* Gaps recognised again: stretches that forced windows could not fill are recognised by the
 * run's recogniser (speech) with a language model of just their text, on audio read as forced
 * windows read theirs, and the words heard there in runs take their times. */
#include "align_int.h"

#include <stdlib.h>
#include <unistd.h>

#define GAP_MIN_WORDS 4 /* untimed read tokens a gap needs to be recognised again */

/* The words @got recognised in a gap's audio (frames from global time @base) against the gap's
 * untimed read tokens (prev, next): the best monotone matching of words alike (as between
 * anchors), of which pairs in runs of two or more in a row take the words' times. Returns the
 * number of tokens timed. */
size_t folio__align_take_gap_words(aligner_t *A, size_t prev, size_t next, size_t file, double base,
                                   const folio_rec_words_t *got)
{
    size_t nt = 0, nw = got->len, timed = 0;
    for (size_t t = prev + 1; t < next; t++) nt += A->t_start[t] < 0 && folio__align_read(A, t);
    if (!nt || !nw || nt > 2000 || nw > 2000) return 0;
    size_t *tok = malloc(nt * sizeof(size_t));
    uint32_t *wid = malloc(nw * sizeof(uint32_t));
    float *S = malloc((nt + 1) * (nw + 1) * sizeof(float));
    long *pair = malloc(nt * sizeof(long)); /* the word each token matched, or -1 */
    if (!tok || !wid || !S || !pair) goto done;
    nt = 0;
    for (size_t t = prev + 1; t < next; t++)
        if (A->t_start[t] < 0 && folio__align_read(A, t)) tok[nt++] = t;
    for (size_t j = 0; j < nw; j++)
        if (folio__align_vocab_id(A, got->items[j].word, &wid[j]) < 0) goto done;
#define AT(i, j) S[(i) * (nw + 1) + (j)]
    for (size_t i = 0; i <= nt; i++)
        for (size_t j = 0; j <= nw; j++) {
            if (!i || !j) {
                AT(i, j) = 0;
                continue;
            }
            float best = AT(i - 1, j) > AT(i, j - 1) ? AT(i - 1, j) : AT(i, j - 1);
            float sim = folio__align_similarity(A, A->tok_id[tok[i - 1]], wid[j - 1]);
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
        float sim = folio__align_similarity(A, A->tok_id[tok[i]], wid[pair[i]]);
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

/* Recognise seconds [@start, @end) of file @file with a model of just the book's tokens
 * [@from, @to), as a window of the text is (the run's window decoder configuration); the words'
 * frames count from @start. */
static int recognise_gap(aligner_t *A, size_t file, double start, double end, size_t from,
                         size_t to, folio_rec_words_t *out)
{
    const folio_align_input_t *in = A->in;
    int rc = FOLIO_OK;
    out->len = 0;
    if (!A->gap_dec) {
        folio_decoder_config_t cfg;
        folio__models_window_config(in->models, &cfg);
        if (!(A->gap_dec = folio__decoder_new(A->ctx, &cfg, &rc))) return rc;
    }
    uint64_t first = (uint64_t)(start * FOLIO_SPEECH_RATE);
    size_t n = (size_t)((end - start) * FOLIO_SPEECH_RATE);
    if (folio__grow((void **)&A->gap_pcm.items, &A->gap_pcm.cap, n ? n : 1, sizeof(int16_t)) < 0)
        return FOLIO_ENOMEM;
    if ((rc = in->read_pcm(in->pcm_ud, file, first, n, A->gap_pcm.items)) < 0)
        return folio__error(A->ctx, rc, "cannot read the audio of file %zu at %.2f s", file, start);
    return folio__models_recognise_window(A->ctx, in->models, A->book, A->gap_dec, from, to,
                                          in->gap_lm_path, A->gap_pcm.items, n, out);
}

/* Gaps the forced windows could not fill (the narrator said more there than the text, or the
 * window was too long) are recognised again with a language model of just their text, which
 * hears far better than the whole book's; the words found become timed sides for the next
 * forced pass (Moreno et al.'s recursion). Each gap once. Adds the tokens timed to *@gained. */
int folio__align_redecode_gaps(aligner_t *A, size_t *gained)
{
    const folio_align_input_t *in = A->in;
    if (!in->models || !in->read_pcm) return FOLIO_OK;
    folio_rec_words_t got = {0};
    int rc = FOLIO_OK;
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t < A->n_tok && rc >= 0; t++) {
        if (A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && t > prev + 1 && A->t_file[t] == A->t_file[prev]) {
            double room = A->t_start[t] - A->t_end[prev];
            size_t untimed = folio__align_untimed_read_between(A, prev, t);
            if (untimed >= GAP_MIN_WORDS && room >= 1.0 && room <= 120 &&
                room >= 0.12 * (double)untimed &&
                (rc = folio__align_tried_before(A, ((uint64_t)prev * 0x9E3779B97F4A7C15u) ^
                                                       ((uint64_t)t << 21) ^ 1u)) == 0) {
                double off = in->offset[A->t_file[t]];
                double s = A->t_end[prev] - off - 0.1, e = A->t_start[t] - off + 0.1;
                if (s < 0) s = 0;
                got.len = 0;
                rc = recognise_gap(A, A->t_file[t], s, e, prev + 1, t, &got);
                if (rc >= 0) {
                    size_t n = folio__align_take_gap_words(A, prev, t, A->t_file[t], off + s, &got);
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

void folio__align_gaps_free(aligner_t *A)
{
    VEC_FREE(A->gap_pcm);
    if (!A->gap_dec) return;
    folio__decoder_free(A->gap_dec);
    A->gap_dec = NULL;
    unlink(A->in->gap_lm_path); /* written for the first gap */
}
