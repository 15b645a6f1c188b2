/* Internal interface of the lookup module: the tables it builds at index time (stored in the index
 * as blobs, read back by folio_index_open) and the normalised letter stream shared by the book
 * side and the query side of text matching. Included by the pipeline, which builds the tables at
 * index time, and by lookup's own files; SQLite-free, so the lookup-only library carries it. */
#ifndef FOLIO_LOOKUP_H
#define FOLIO_LOOKUP_H

#include "../core/core.h"
#include "../index/index.h"

/* Text matching compares streams of letter symbols, not words: a page photographed and run
 * through OCR splits and merges words, hyphenates them at line ends and loses punctuation, and
 * confuses letters. The stream keeps only letters and digits, lower-case and without accents
 * ("Ça" -> "ea" after folding), folds the usual OCR confusions to one symbol on both sides
 * (i l 1 -> l, c e -> e, o 0 -> o, s 5 -> s; rn -> m, cl -> d, vv -> w) and remembers, for each
 * symbol, the code point of the text it came from. Symbols are 1..34 (6 bits). */
typedef struct {
    uint8_t *sym;
    uint32_t *cp; /* code point offset of each symbol's source character */
    size_t n;
} folio_stream_t;

/* The stream of UTF-8 @text (@bytes long), whose first code point is @cp_base. */
int folio__stream(const char *text, size_t bytes, size_t cp_base, folio_stream_t *out);
void folio__stream_free(folio_stream_t *s);

/* Symbols in a gram, and a gram's key: FOLIO_GRAM symbols of 6 bits. */
#define FOLIO_GRAM 6
#define FOLIO_GRAM_POS_BITS 28

/* The lookup tables of an index about to be written, as blobs named "stream" (the book's symbols),
 * "cp" (uint32 code point per symbol), "grams" (uint64 key << 28 | position, sorted) and
 * "timeline" (uint32 indices of the timed words in time order). @word_start[i] is word i's
 * start time (< 0: not read). Free with folio__lookup_tables_free. */
typedef struct {
    folio_index_blob_t blob[4];
    void *mem[4];
} folio_lookup_tables_t;

int folio__lookup_tables(const char *text, size_t bytes, const double *word_start, size_t n_words,
                         folio_lookup_tables_t *out);
void folio__lookup_tables_free(folio_lookup_tables_t *t);

/* A line of a photographed page that may give the answer's place: its text, whether it looks
 * like a running head (a number at one end), which is passed over when the book does not have it
 * there, and whether its ink reaches the photo's left or right edge (then it is whole only when
 * the book shows it complete: no letters missing before the next line's, nor a word cut at its
 * start). */
typedef struct {
    const char *text; /* UTF-8 */
    size_t len;       /* bytes */
    bool head_like;
    bool edge_left, edge_right;
    /* Blank room above the line in the photo, where a chapter's heading in large print may stand
     * unread: a place among the chapter's first words is then the heading's. */
    bool room_above;
} folio_anchor_t;

/* Photo lookups (the OCR module): match @text (the photo's body text) as folio_lookup_text does,
 * then move each candidate's place to where the first of @anchors (the photo's first whole lines,
 * in order) starts in the book near the match: its word (the whole word when the line starts with
 * a hyphenated word's second half) and that word's time, or the next read word's. An anchor the
 * book does not have there is passed over: a head-like one (a running head) as not text, another
 * (too garbled to place) by moving the place back by its length. Errors as folio_lookup_text's. */
int folio__lookup_anchored(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                           const folio_anchor_t *anchors, size_t n_anchors, folio_lookup_t *out,
                           size_t max, size_t *n_out);

#endif
