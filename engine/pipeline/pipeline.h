/* Internal interface of the pipeline module: runs the stages (audio, speech, index) for the
 * public entry points, and is the one place that passes results from one module to another:
 * speech never calls index. */
#ifndef FOLIO_PIPELINE_H
#define FOLIO_PIPELINE_H

#include "../audio/audio.h"
#include "../index/index.h"
#include "../speech/speech.h"

#ifndef FOLIO_MODEL_DIR
#define FOLIO_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#endif

/* What recognition needs, built from the book into files beside the work file. */
typedef struct {
    folio_lexicon_t *lex;     /* the book's words */
    folio_lexicon_t *oob_lex; /* the out-of-book words */
    folio_decoder_config_t decoder;
    int noisy_topn; /* the decoder for chunks the denoiser worked on scores more Gaussians */
    double unread_weight, alt_weight; /* how the book's models count unread text, alternatives */
    double phrase_weight;             /* how a window's model counts each announcement phrase */
    char lm_path[4200], oob_path[4200], dict_path[4200];
    char model_dir[4096];
    folio_str_t config; /* the configuration, for the fingerprint */
} folio_models_t;

int folio__models_build(folio_t *ctx, const folio_book_t *book, const char *model_dir,
                        const char *dict_path, const char *work_path, folio_search_t search,
                        folio_models_t *m);
void folio__models_free(folio_models_t *m);
/* The configuration of a decoder for window models (folio__models_recognise_window): the
 * models' own, without phone lookahead (it guides a search through a large vocabulary; a window's
 * is small, and there it only costs time, a sixteenth of it). */
void folio__models_window_config(const folio_models_t *m, folio_decoder_config_t *out);
/* Recognise @pcm[0..n) with @d (a decoder with a language model) and a model of just the book's
 * tokens [@from, @to) with the announcement phrases, written to @lm_path. */
int folio__models_recognise_window(folio_t *ctx, const folio_models_t *m, const folio_book_t *book,
                                   folio_decoder_t *d, size_t from, size_t to, const char *lm_path,
                                   const int16_t *pcm, size_t n, folio_rec_words_t *out);

/* The fingerprint of a run's inputs (hex SHA-256). */
int folio__fingerprint(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                       size_t n_audio, const char *model_dir, const folio_models_t *m,
                       char out[65]);

/* ---- guided recognition (guide.c) ---- */

/* The book's pronounceable tokens, indexed for finding where recognised words are. Read-only once
 * made: recognition threads share it. */
typedef struct folio_guide folio_guide_t;
/* Where the narrator is: a position in the pronounceable tokens (the one after the last word
 * placed), or unknown; @misses counts chunks in a row that could not be placed. */
typedef struct {
    size_t pos;
    int misses;
    bool known;
} folio_guide_state_t;

folio_guide_t *folio__guide_new(const folio_book_t *book, const folio_lexicon_t *lex, int *err);
void folio__guide_free(folio_guide_t *g);
/* The window for a chunk of @seconds after @at: book tokens [*@from_tok, *@to_tok) and guide
 * positions [*@from, *@to) (any may be NULL). */
void folio__guide_window(const folio_guide_t *g, const folio_guide_state_t *at, double seconds,
                         size_t *from_tok, size_t *to_tok, size_t *from, size_t *to);
/* Whether the words @w of a chunk of @seconds fit the window after @at; if so, *@next is where
 * they end. */
bool folio__guide_in_window(const folio_guide_t *g, const folio_guide_state_t *at, double seconds,
                            const folio_rec_words_t *w, folio_guide_state_t *next);
/* Find the words @w in the whole book; *@next is where they end, or @at with one more miss (two
 * in a row make the place unknown). */
void folio__guide_locate(const folio_guide_t *g, const folio_guide_state_t *at,
                         const folio_rec_words_t *w, folio_guide_state_t *next);

/* Transcription as folio_transcribe() does it; with @keep_models, the models it built are moved
 * there on success (the caller frees them). */
int folio__transcribe_run(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                          size_t n_audio, const char *work_path,
                          const folio_transcribe_options_t *opts, folio_models_t *keep_models,
                          folio_transcript_t **out);

#endif
