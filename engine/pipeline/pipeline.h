/* Internal interface of the pipeline module: runs the stages (audio, speech, align, index) for
 * the public entry points, and is the one place that passes results from one module to another:
 * speech never calls index. Only engine/pipeline includes this header. */
#ifndef FOLIO_PIPELINE_H
#define FOLIO_PIPELINE_H

#include "../align/align.h"
#include "../audio/audio.h"
#include "../index/index.h"
#include "../speech/speech.h"

#ifndef FOLIO_MODEL_DIR
#define FOLIO_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#endif

/* ---- transcription (transcribe.c) ---- */

/* Transcription as folio_transcribe() does it; with @keep_models, the models it built are moved
 * there on success (the caller frees them). */
int folio__transcribe_run(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                          size_t n_audio, const char *work_path,
                          const folio_transcribe_options_t *opts, folio_models_t *keep_models,
                          folio_transcript_t **out);
/* The fingerprint of a run's inputs (hex SHA-256): the book's text, @m's configuration and
 * files, the acoustic model in @model_dir and the audio. */
int folio__transcribe_fingerprint(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                                  size_t n_audio, const char *model_dir, const folio_models_t *m,
                                  char out[65]);

/* ---- what the index holds of a run (results.c) ---- */

/* The book's pages, chapters, sentences and words with their times, and the report. */
typedef struct {
    folio_index_item_t *pages, *chapters, *sentences, *words;
    size_t n_pages, n_chapters, n_sentences, n_words;
    char *report_json;
} folio_results_t;

/* Put the times of @al onto the book's items; @audio_seconds is the audio's length, for the
 * report. Returns FOLIO_OK or FOLIO_ENOMEM (message on @ctx); either way the caller frees @out
 * with folio__results_free. */
int folio__results_make(folio_t *ctx, const folio_book_t *book, const folio_alignment_t *al,
                        double audio_seconds, folio_results_t *out);
void folio__results_free(folio_results_t *r);
/* Each audio mark's chapter: the book's chapter whose first read word is in the mark's file, at
 * or after it (a second's leeway), before the next mark and within a minute of it; else -1. */
void folio__results_match_marks(const folio_results_t *r, folio_index_audio_mark_t *marks,
                                size_t n_marks);

#endif
