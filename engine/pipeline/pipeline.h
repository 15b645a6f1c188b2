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
/* Transcription as folio_transcribe() does it; with @keep_models, the models it built are moved
 * there on success (the caller frees them). */
int folio__transcribe_run(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                          size_t n_audio, const char *work_path,
                          const folio_transcribe_options_t *opts, folio_models_t *keep_models,
                          folio_transcript_t **out);

#endif

/* What recognition needs, built from the book into files beside the work file. */
typedef struct {
    folio_lexicon_t *lex;     /* the book's words */
    folio_lexicon_t *oob_lex; /* the out-of-book words */
    folio_decoder_config_t decoder;
    int noisy_topn; /* the decoder for chunks the denoiser worked on scores more Gaussians */
    char lm_path[4200], oob_path[4200], dict_path[4200];
    char model_dir[4096];
    folio_str_t config; /* the configuration, for the fingerprint */
} folio_models_t;

int folio__models_build(folio_t *ctx, const folio_book_t *book, const char *model_dir,
                        const char *dict_path, const char *work_path, folio_search_t search,
                        folio_models_t *m);
void folio__models_free(folio_models_t *m);

/* The fingerprint of a run's inputs (hex SHA-256). */
int folio__fingerprint(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                       size_t n_audio, const char *model_dir, const folio_models_t *m,
                       char out[65]);

/* Transcription as folio_transcribe() does it; with @keep_models, the models it built are moved
 * there on success (the caller frees them). */
int folio__transcribe_run(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                          size_t n_audio, const char *work_path,
                          const folio_transcribe_options_t *opts, folio_models_t *keep_models,
                          folio_transcript_t **out);

#endif
