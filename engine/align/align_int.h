/* Only for engine/align (and its unit tests): the aligner's shared state, one struct every stage
 * reads and writes, and the small interface of each stage's file, broken out of one long file for
 * easier editing. The rest of the engine includes align.h. */
#ifndef FOLIO_ALIGN_INT_H
#define FOLIO_ALIGN_INT_H

#include "align.h"

#define MAX_COUNT 3     /* an anchor's trigram occurs at most this often in the book */
#define SIM_ACCEPT 0.6f /* words this similar count as the same */

/* An anchor: heard word @j is book token @p, the first of a trigram both share. */
typedef struct {
    size_t j, p; /* heard word, book token */
    float w;
    size_t chain;
} cand_t;

/* Anchors that agree: book and audio advance together from (j0, p0) to (j1, p1). */
typedef struct {
    size_t j0, j1, p0, p1; /* first and last heard word / token */
    double weight;
    size_t n;
    bool accepted;
} chain_t;

typedef VEC(cand_t) cands_t;
typedef VEC(chain_t) chains_t;

typedef struct {
    uint64_t key; /* 0: empty */
    uint32_t count;
    uint32_t pos[MAX_COUNT];
} ngram_t;

typedef struct {
    folio_t *ctx;
    const folio_align_input_t *in;
    const folio_book_t *book;
    /* vocabulary */
    folio_map_t vocab;
    VEC(char *) names; /* id -> word */
    char **phones;     /* id -> first pronunciation, lazily */
    bool *phones_done;
    size_t phones_cap;
    /* the book's tokens and the heard words */
    size_t n_tok, n_rec;
    uint32_t *tok_id, *rec_id;
    /* token-level result */
    long *tok_rec;
    float *tok_sim;
    double *t_start, *t_end;
    size_t *t_file;
    float *t_conf;
    uint8_t *t_how;
    bool *rec_used;
    bool *chapter_start;   /* the token is its chapter's first */
    uint32_t *chapters_to; /* chapter starts at or before each token */
    bool *unread;          /* the token is in matter nobody reads (matter.c) */
    /* n-gram index */
    ngram_t *ng;
    size_t ng_cap;
    VEC(uint64_t) tried; /* the gap windows decoded so far (force_plan) */
    /* gaps recognised again (gaps.c) */
    folio_decoder_t *gap_dec; /* made for the first gap */
    VEC(int16_t) gap_pcm;     /* a gap's audio */
} aligner_t;

/* ---- state.c: the shared state, the vocabulary, word similarity, a token's time ---- */

/* Set up @A for @in: every token and heard word a vocabulary id, no token timed, the chapters'
 * first tokens. On failure @A is left for folio__align_state_free. */
int folio__align_state_init(aligner_t *A, folio_t *ctx, const folio_align_input_t *in);
void folio__align_state_free(aligner_t *A);
/* The vocabulary id of @w, added when new (words met after init compare by their letters). */
int folio__align_vocab_id(aligner_t *A, const char *w, uint32_t *id);
/* How alike two words sound, in [0, 1]. */
float folio__align_similarity(aligner_t *A, uint32_t a, uint32_t b);
/* Token @tok takes heard word @rec's time (unless either is taken already). */
void folio__align_assign(aligner_t *A, size_t tok, size_t rec, float sim);
/* Token @t loses its time (and its heard word, which is free again). */
void folio__align_untime(aligner_t *A, size_t t);
/* Untimed read tokens strictly between tokens @a and @b. */
size_t folio__align_untimed_read_between(aligner_t *A, size_t a, size_t b);
/* The first token at or after @char_off, or SIZE_MAX. */
size_t folio__align_first_token_at(aligner_t *A, size_t char_off);
/* Whether the gap work named @key was done before: 1, or 0 and it is remembered, or an error. */
int folio__align_tried_before(aligner_t *A, uint64_t key);

/* Whether token @t is in text the narrator is expected to read (not unread matter). */
static inline bool folio__align_read(const aligner_t *A, size_t t)
{
    return !A->unread[t];
}

/* ---- matter.c: unread matter that looks like what a recording says about the book ---- */

/* Mark the tokens of unread matter: the book's unread blocks, and read blocks that read like a
 * contents list (a run of chapter titles), a title page (before the first chapter: the title,
 * the author and the words around them) or a Project Gutenberg line. */
int folio__align_find_unread(aligner_t *A);
/* Unread matter keeps its times only where a stretch of it is clearly read in order. */
void folio__align_drop_unread_matter(aligner_t *A);
/* Stretches of text timed only by what the recording says about the book (heard words of
 * trigrams that several files' openings share) lose their times. */
int folio__align_drop_announced(aligner_t *A);

/* ---- anchors.c: anchors, chains, and the runs of chains aligned word by word ---- */

/* Index the book's token trigrams. */
int folio__align_build_ngrams(aligner_t *A);
/* Heard trigrams rare in the book (anchors), each continuing the chain it agrees with best. */
int folio__align_find_anchors(aligner_t *A, cands_t *cands, chains_t *chains);
/* Mark the heaviest chains that do not overlap as accepted (overlapping ones compete again in
 * pieces, which become chains of their own). */
int folio__align_select_chains(cands_t *cands, chains_t *chains);
/* Time each run of accepted chains: its anchors, then dynamic programming around them. */
int folio__align_runs(aligner_t *A, const cands_t *cands, chains_t *chains);

/* ---- dp.c: dynamic programming between anchors ---- */

/* Align tokens [a, b) with heard words [c, d); an end that is free is not anchored. */
int folio__align_dp_region(aligner_t *A, size_t a, size_t b, size_t c, size_t d, bool free_start,
                           bool free_end);

/* ---- repairs.c: chance matches, stretches back in time, headings, readings, order ---- */

void folio__align_fix_alternatives(aligner_t *A);
void folio__align_fix_headings(aligner_t *A);
void folio__align_heed_marks(aligner_t *A);
void folio__align_drop_crowded(aligner_t *A);
void folio__align_drop_reversed(aligner_t *A);
void folio__align_enforce_order(aligner_t *A);

/* ---- force.c: forced alignment of windows ---- */

/* A window's grammar: a slot per read token with a pronunciation, except that a source word with
 * alternative readings that lies whole in the window is one slot, its primary tokens one reading
 * and each alternative whose words all have a pronunciation another ("1455": "fourteen fifty
 * five" or "one thousand four hundred fifty five"). Per grammar word: the token it stands for
 * (for an alternative, its word's first token) and whether it is an alternative's. */
typedef struct {
    VEC(const char *) words;
    VEC(size_t) slot, reading, tok;
    VEC(bool) alt;
    VEC(char *) owned; /* copies of the alternatives' words */
    size_t n_slots;
} wgram_t;

/* The grammar of tokens [a, b] into @g (zeroed by the caller; freed with wgram_free). */
int folio__align_window_grammar(aligner_t *A, size_t a, size_t b, wgram_t *g);
void folio__align_wgram_free(wgram_t *g);
/* Force the untimed gaps (and with @edges the ends of each file's stretch of the book). */
int folio__align_force_gaps(aligner_t *A, bool edges);
/* Force the page and chapter starts the recogniser did not hear exactly. */
int folio__align_force_boundaries(aligner_t *A);

/* ---- gaps.c: gaps recognised again ---- */

/* Time untimed read tokens between @prev and @next with the words @got recognised in the gap
 * (frames from global time @base in file @file). Returns the number of tokens timed. */
size_t folio__align_take_gap_words(aligner_t *A, size_t prev, size_t next, size_t file, double base,
                                   const folio_rec_words_t *got);
/* Recognise the gaps again; adds the tokens timed to *@gained. */
int folio__align_redecode_gaps(aligner_t *A, size_t *gained);
/* Free the gaps' decoder and audio, and remove the gaps' model file if a decoder was made. */
void folio__align_gaps_free(aligner_t *A);

/* ---- report.c: from token times to the result ---- */

/* Time the untimed tokens inside a sentence whose ends are timed. */
void folio__align_interpolate(aligner_t *A);
/* The words' times, the audio explained and not, the text not read. */
int folio__align_report(aligner_t *A, folio_alignment_t *out);

#endif
