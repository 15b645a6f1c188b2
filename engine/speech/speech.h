/* Internal interface of the speech module: everything about recognition. Language models built
 * from the book, voice activity chunking, noise reduction, recognition with pocketsphinx, the
 * recogniser's models for a run (recogniser.c) and guided recognition (guide.c). Only this module
 * includes pocketsphinx, and only decoder.c does. Modules downstream of speech (align, pipeline)
 * may include this header. */
#ifndef FOLIO_SPEECH_H
#define FOLIO_SPEECH_H

#include "../lexicon/lexicon.h"

#define FOLIO_SPEECH_RATE 16000 /* the sample rate recognition works at */

/* ---- language models (lm.c) ---- */

typedef struct folio_lm folio_lm_t;

folio_lm_t *folio__lm_new(void);
void folio__lm_free(folio_lm_t *lm);
/* The id of @word, adding it to the vocabulary if new (it then gets unigram mass by smoothing). */
int folio__lm_word(folio_lm_t *lm, const char *word, size_t *id);
/* Count the n-grams of @tokens with @weight; @bos/@eos add sentence boundaries. */
int folio__lm_add(folio_lm_t *lm, const char *const *tokens, size_t n, double weight, bool bos,
                  bool eos);
/* Smooth (interpolated Witten-Bell). Called by the writer; needed before folio__lm_prob. */
int folio__lm_finish(folio_lm_t *lm);
/* P(w | u v): u or v NULL for lower orders. 0 for unknown w. */
double folio__lm_prob(const folio_lm_t *lm, const char *u, const char *v, const char *w);
size_t folio__lm_vocab_size(const folio_lm_t *lm);
const char *folio__lm_vocab_word(const folio_lm_t *lm, size_t id);
/* Write an ARPA back-off trigram model. */
int folio__lm_write_arpa(folio_lm_t *lm, const char *path);

/* The book's language model: every read block's primary reading as sentences (weight 1), blocks
 * not usually read at @unread_weight, and each alternative reading in its context of two tokens
 * either side at @alt_weight. Words without a pronunciation in @lex are left out. */
folio_lm_t *folio__lm_from_book(const folio_book_t *book, const folio_lexicon_t *lex,
                                double unread_weight, double alt_weight, int *err);
/* The same for the book's tokens [@from, @to) only: a window of the text. */
folio_lm_t *folio__lm_from_tokens(const folio_book_t *book, const folio_lexicon_t *lex, size_t from,
                                  size_t to, double unread_weight, double alt_weight, int *err);

/* Phrases that audiobooks say and books do not hold (LibriVox preambles, chapter announcements,
 * credits), NULL-terminated. */
extern const char *const folio__out_of_book_phrases[];
/* Count those phrases into @lm as sentences of @weight, each with its words @lex pronounces. */
int folio__lm_add_phrases(folio_lm_t *lm, const folio_lexicon_t *lex, double weight);

/* ---- voice activity chunking (vad.c) ---- */

typedef struct {
    size_t file;
    uint64_t start, end;         /* samples in the file (16 kHz) */
    uint64_t keep_from, keep_to; /* words whose middle falls outside are dropped (overlap) */
    bool speech;                 /* any speech at all */
} folio_chunk_t;

typedef VEC(folio_chunk_t) folio_chunks_t;

typedef struct folio_vad folio_vad_t;
/* Chunks of at most @max_sec seconds cut at silences; where none exists, at the quietest point
 * with @overlap_sec seconds of overlap on each side. */
folio_vad_t *folio__vad_new(double max_sec, double overlap_sec);
void folio__vad_free(folio_vad_t *v);
/* Feed the samples of file @file in order; finished chunks are appended to @out. */
int folio__vad_feed(folio_vad_t *v, size_t file, const int16_t *s, size_t n, folio_chunks_t *out);
/* The file ended: emit its last chunk. */
int folio__vad_end_file(folio_vad_t *v, folio_chunks_t *out);

/* ---- noise reduction (denoise.c) ---- */

/* Reduce steady background noise in @pcm[0..n) in place when its speech stands less than 28 dB
 * above its quietest frames; *@applied tells whether it did. */
int folio__denoise(int16_t *pcm, size_t n, bool *applied);

/* ---- recognition (decoder.c) ---- */

typedef struct {
    const char *model_dir; /* the acoustic model's parent folder (holds en-us/) */
    const char *dict_path; /* the decoder's pronouncing dictionary */
    const char *lm_path;   /* the book's model (ARPA or binary) */
    const char *oob_path;  /* the out-of-book model, or NULL */
    double oob_weight;     /* its interpolation weight */
    /* search: beams as probabilities (1e-40), histogram pruning, frame skipping */
    double beam, wbeam, pbeam;
    int maxhmmpf, ds, topn;
    int maxwpf;    /* words ending per frame (-1: no limit) */
    double lw;     /* language weight */
    int pl_window; /* phone lookahead window (0: off) */
    bool fwdflat, bestpath;
} folio_decoder_config_t;

void folio__decoder_config_init(folio_decoder_config_t *c, const char *model_dir);
/* A short text that identifies everything about the configuration that changes results. */
int folio__decoder_config_string(const folio_decoder_config_t *c, folio_str_t *out);

typedef struct {
    char word[64];
    int start_frame, end_frame; /* 10 ms frames in the chunk, inclusive */
    int32_t ascr, lscr;
    int lback; /* n-gram order the language model used (1-3) */
    float confidence;
    long gram; /* forced alignment: the grammar word it was found as (index); else -1 */
} folio_rec_word_t;

typedef VEC(folio_rec_word_t) folio_rec_words_t;

typedef struct folio_decoder folio_decoder_t;
folio_decoder_t *folio__decoder_new(folio_t *ctx, const folio_decoder_config_t *c, int *err);
void folio__decoder_free(folio_decoder_t *d);
/* The context the decoder reports to (its errors' messages). */
folio_t *folio__decoder_context(const folio_decoder_t *d);
/* Recognise one chunk as a whole utterance (cepstral mean over the chunk alone, so results do not
 * depend on what was decoded before). Fillers and silences are left out. */
int folio__decoder_run(folio_decoder_t *d, const int16_t *pcm, size_t n, folio_rec_words_t *out);
/* Recognise with the language model in @lm_path (ARPA; a window of the book's text) alone; NULL
 * goes back to the book's model (mixed with the out-of-book model). A window model carries the
 * announcement phrases itself (folio__lm_add_phrases): the out-of-book model's generic words
 * would double the search's vocabulary, and cost a fifth of its speed, for no read word found. */
int folio__decoder_use_window(folio_decoder_t *d, const char *lm_path);
/* A forced-alignment grammar: slots said in order, each one of its readings, a reading one or
 * more dictionary words ("1455": "fourteen fifty five" or "one thousand four hundred fifty
 * five"). All readings' words in one array, slot after slot and reading after reading: word k is
 * in slot @slot[k] (from 0, non-decreasing, no slot left out) and in reading @reading[k] of it
 * (from 0; a reading's words are contiguous). */
typedef struct {
    const char *const *words;
    const size_t *slot;
    const size_t *reading;
    size_t n_words;
    /* An open end: the grammar may start after any of its first @open_start slots (their words
     * said before the audio) and end before any of its last @open_end ones (said after it). */
    size_t open_start, open_end;
} folio_grammar_t;

/* Forced alignment of @g to @pcm: an in-memory grammar of the slots in a line, each reading a path
 * of its own between the same two states, each slot skippable at a low probability (at most two
 * in a row), with optional silence and noise between words and at both ends, and spoken noise
 * before the first word and after the last (speech the window holds that is not its text). The
 * decoder should have been made with alignment beams (folio__decoder_config_align). Returns
 * FOLIO_ENOMATCH when the grammar's final state is not reached; otherwise @out holds the words
 * found, with frames in @pcm, and each word's .gram says which word of @g it was found as (so the
 * reading a slot was said in is known). */
int folio__decoder_align(folio_decoder_t *d, const int16_t *pcm, size_t n, const folio_grammar_t *g,
                         folio_rec_words_t *out);
/* Wide beams for forced alignment (in a decoder of its own). */
void folio__decoder_config_align(folio_decoder_config_t *c);

/* Words of the generic model with the highest unigram probability (for the out-of-book
 * vocabulary), into @out (strings owned by the caller). */
int folio__generic_top_words(folio_t *ctx, const char *model_dir, size_t n, folio_strs_t *out);

/* Route sphinxbase's process-wide log to @ctx for the calling thread (NULL: silence). Installs
 * the hook once per process. */
void folio__speech_log_to(folio_t *ctx);

/* ---- the recogniser's models for a run (recogniser.c) ---- */

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

/* Where folio__models_build writes the files it makes (the paths are copied). */
typedef struct {
    const char *lm;     /* the book's language model (ARPA) */
    const char *oob_lm; /* the out-of-book model (ARPA) */
    const char *dict;   /* the decoder's dictionary: the book's words and the out-of-book ones */
} folio_models_files_t;

int folio__models_build(folio_t *ctx, const folio_book_t *book, const char *model_dir,
                        const char *dict_path, const folio_models_files_t *files,
                        folio_search_t search, folio_models_t *m);
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

#endif
