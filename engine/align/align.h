/* Internal interface of the align module: from the book's spoken tokens and the recognised words,
 * when every read word is spoken; then pages, chapters and the alignment report. Included by the
 * pipeline (and align's own files, through align_int.h). */
#ifndef FOLIO_ALIGN_H
#define FOLIO_ALIGN_H

#include "../speech/speech.h"

/* How a word's time was found. */
typedef enum {
    FOLIO_HOW_NONE = 0,    /* not read */
    FOLIO_HOW_MATCH,       /* the recogniser heard it */
    FOLIO_HOW_SIMILAR,     /* the recogniser heard something like it */
    FOLIO_HOW_FORCED,      /* forced alignment in a window */
    FOLIO_HOW_INTERPOLATED /* between timed words of its sentence */
} folio_how_t;

typedef struct {
    double start, end; /* global seconds; start < 0 when not read */
    size_t file;
    double file_time; /* start within its file */
    float confidence;
    folio_how_t how;
} folio_timing_t;

typedef struct {
    size_t file;
    double start, end; /* seconds in the file */
    char *words;
} folio_unaligned_t;

typedef struct {
    size_t start_char, end_char;
    folio_block_kind_t kind;
} folio_unread_t;

typedef struct {
    folio_timing_t *words; /* one per source word of the book */
    size_t n_words;
    size_t words_total, words_read;
    double speech_seconds, aligned_seconds;
    VEC(folio_unaligned_t) unaligned;
    VEC(folio_unread_t) unread;
} folio_alignment_t;

/* Where forced alignment and gaps recognised again get their audio: @n samples of file @file
 * from sample @start. */
typedef int (*folio_pcm_read_fn)(void *ud, size_t file, uint64_t start, size_t n, int16_t *out);

typedef struct {
    const folio_book_t *book;
    const folio_lexicon_t *lex;
    const folio_heard_t *heard; /* recognised words in time order */
    size_t n_heard;
    size_t n_files;
    const double *duration, *offset;
    folio_pcm_read_fn read_pcm; /* NULL: no forced alignment, no gap recognised again */
    void *pcm_ud;
    /* Decoders for alignment grammars (folio__decoder_config_align), each with a context of its
     * own: windows are forced by as many threads at once. None: no forced alignment. */
    folio_decoder_t *const *aligners;
    size_t n_aligners;
    /* The run's recogniser: gaps are recognised again with a decoder of its window
     * configuration (folio__models_window_config), made for the first gap, and a model of each
     * gap's text written to @gap_lm_path (folio__models_recognise_window); the decoder is freed
     * and the file removed before folio__align returns. NULL: gaps are only forced. */
    const folio_models_t *models;
    const char *gap_lm_path;
    /* Marks the audio sets on itself (each file's start, an M4B's chapters), in global seconds:
     * a chapter's heading is not heard before a mark that its text follows. */
    const double *mark_time;
    size_t n_marks;
    double start_time; /* for progress */
} folio_align_input_t;

#define FOLIO_ALIGN_MAX_THREADS 64

int folio__align(folio_t *ctx, const folio_align_input_t *in, folio_alignment_t *out);
void folio__alignment_free(folio_alignment_t *a);

#endif
