/* The recogniser's models, built from the book for each run (deterministically): the lexicons,
 * the book's and the out-of-book language models, the dictionary and the decoder configuration;
 * and recognition of a stretch of audio with a model of just a window of the book's text. */
#include "speech.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The generic model's most probable words in the out-of-book vocabulary. Every word added costs
 * search time and lets some book words be heard as generic ones; measured with --threads 1 on the
 * first three files of the tenhour corpus (28.7 min), against none: 300 words +9% CPU and 4.40%
 * of read words missed (4.36% with none); 500 +10%, 4.44%; 1500 +21%, 5.20%. 300 keeps the
 * commonest words of unscripted speech (announcements beyond the phrases) at little cost. */
#define OOB_TOP_WORDS 300
#define UNREAD_WEIGHT 0.3
#define ALT_WEIGHT 0.5
/* A window of some 400 words holds each announcement phrase at a tenth of a sentence: together
 * about 4% of its mass, near the out-of-book model's share of the book's model. */
#define PHRASE_WEIGHT 0.1

void folio__models_free(folio_models_t *m)
{
    folio_lexicon_free(m->lex);
    folio_lexicon_free(m->oob_lex);
    folio__str_free(&m->config);
    memset(m, 0, sizeof(*m));
}

/* The out-of-book model: announcement phrases as sentences, frequent generic words as unigrams. */
static int oob_model(folio_t *ctx, const folio_strs_t *top, const folio_lexicon_t *lex,
                     const char *path)
{
    folio_lm_t *lm = folio__lm_new();
    if (!lm) return FOLIO_ENOMEM;
    int rc = folio__lm_add_phrases(lm, lex, 1.0);
    for (size_t i = 0; i < top->len && rc >= 0; i++) {
        long k = folio_lexicon_find(lex, top->items[i]);
        if (k < 0 || !folio_lexicon_n_prons(lex, (size_t)k)) continue;
        const char *w = top->items[i];
        rc = folio__lm_add(lm, &w, 1, 1.0, true, true);
    }
    if (rc >= 0 && (rc = folio__lm_write_arpa(lm, path)) < 0)
        rc = folio__error(ctx, rc, "%s: cannot write the out-of-book model", path);
    folio__lm_free(lm);
    return rc;
}

int folio__models_build(folio_t *ctx, const folio_book_t *book, const char *model_dir,
                        const char *dict_path, const folio_models_files_t *files,
                        folio_search_t search, folio_models_t *m)
{
    int rc = FOLIO_OK;
    folio_strs_t top = {0};
    folio_lm_t *lm = NULL;
    memset(m, 0, sizeof(*m));
    snprintf(m->model_dir, sizeof(m->model_dir), "%s", model_dir);
    snprintf(m->lm_path, sizeof(m->lm_path), "%s", files->lm);
    snprintf(m->oob_path, sizeof(m->oob_path), "%s", files->oob_lm);
    snprintf(m->dict_path, sizeof(m->dict_path), "%s", files->dict);
    char dict[4200];
    if (!dict_path) {
        snprintf(dict, sizeof(dict), "%s/cmudict-en-us.dict", model_dir);
        dict_path = dict;
    }
    m->lex = folio_lexicon_open(ctx, book, dict_path, &rc);
    if (!m->lex) goto fail;
    size_t none = 0;
    for (size_t i = 0; i < folio_lexicon_n_words(m->lex); i++)
        none += folio_lexicon_n_prons(m->lex, i) == 0;
    folio__info(ctx, "lexicon: %zu words, %zu by letter-to-sound, %zu without a pronunciation",
                folio_lexicon_n_words(m->lex), folio_lexicon_n_lts(m->lex), none);

    TRY(folio__generic_top_words(ctx, model_dir, OOB_TOP_WORDS, &top));
    VEC(const char *) words = {0};
    for (const char *const *p = folio__out_of_book_phrases; *p; p++)
        if (VEC_PUSH(words, *p) < 0) rc = FOLIO_ENOMEM;
    for (size_t i = 0; i < top.len; i++)
        if (VEC_PUSH(words, top.items[i]) < 0) rc = FOLIO_ENOMEM;
    if (rc >= 0)
        m->oob_lex = folio__lexicon_open_words(ctx, words.items, words.len, dict_path, &rc);
    VEC_FREE(words);
    if (!m->oob_lex) goto fail;

    lm = folio__lm_from_book(book, m->lex, UNREAD_WEIGHT, ALT_WEIGHT, &rc);
    if (!lm) FAIL(ctx, rc, "cannot build the book's language model");
    if ((rc = folio__lm_write_arpa(lm, m->lm_path)) < 0)
        FAIL(ctx, rc, "%s: cannot write the language model: %s", m->lm_path, strerror(errno));
    folio__info(ctx, "book language model: %zu words", folio__lm_vocab_size(lm));
    TRY(oob_model(ctx, &top, m->oob_lex, m->oob_path));
    if ((rc = folio__lexicon_write_dict(m->lex, m->oob_lex, m->dict_path)) < 0)
        FAIL(ctx, rc, "%s: cannot write the dictionary: %s", m->dict_path, strerror(errno));

    folio__decoder_config_init(&m->decoder, m->model_dir);
    /* The search presets (see folio_search_t in folio.h). */
    m->noisy_topn = 2;
    if (search == FOLIO_SEARCH_FAST) {
        m->decoder.ds = 3;
        m->noisy_topn = 1;
    } else if (search == FOLIO_SEARCH_ACCURATE) {
        m->decoder.topn = 2;
        m->noisy_topn = 4;
    }
    m->unread_weight = UNREAD_WEIGHT;
    m->alt_weight = ALT_WEIGHT;
    m->phrase_weight = PHRASE_WEIGHT;
    m->decoder.dict_path = m->dict_path;
    m->decoder.lm_path = m->lm_path;
    m->decoder.oob_path = m->oob_path;
    TRY(folio__decoder_config_string(&m->decoder, &m->config));
    TRY(folio__str_printf(
        &m->config,
        " unread=%g alt=%g phrases=%g oob_top=%d vad=30/0.5 denoise=28 noisy_topn=%d "
        "warmup=0.3 remove_noise=no guide=window2 window_pl_window=0 run=8th/60-900",
        UNREAD_WEIGHT, ALT_WEIGHT, PHRASE_WEIGHT, OOB_TOP_WORDS, m->noisy_topn));
fail:
    for (size_t i = 0; i < top.len; i++) free(top.items[i]);
    VEC_FREE(top);
    folio__lm_free(lm);
    if (rc < 0) folio__models_free(m);
    return rc;
}

void folio__models_window_config(const folio_models_t *m, folio_decoder_config_t *out)
{
    *out = m->decoder;
    out->pl_window = 0;
}

int folio__models_recognise_window(folio_t *ctx, const folio_models_t *m, const folio_book_t *book,
                                   folio_decoder_t *d, size_t from, size_t to, const char *lm_path,
                                   const int16_t *pcm, size_t n, folio_rec_words_t *out)
{
    int rc;
    folio_lm_t *lm =
        folio__lm_from_tokens(book, m->lex, from, to, m->unread_weight, m->alt_weight, &rc);
    if (!lm) return rc;
    if ((rc = folio__lm_add_phrases(lm, m->oob_lex, m->phrase_weight)) >= 0)
        rc = folio__lm_write_arpa(lm, lm_path);
    folio__lm_free(lm);
    if (rc < 0) return folio__error(ctx, rc, "%s: cannot write a window model", lm_path);
    if ((rc = folio__decoder_use_window(d, lm_path)) < 0) return rc;
    return folio__decoder_run(d, pcm, n, out);
}
