/* Private to the lookup module: text matching, and the helpers every lookup fills its result
 * with. */
#ifndef FOLIO_MATCH_H
#define FOLIO_MATCH_H

#include "lookup.h"

/* The book text a match covers (code points), for "scan to read" and photo lookups. */
typedef struct {
    size_t book_start, book_end;
    size_t sym_start; /* book_start's symbol in the letter stream */
} folio_match_span_t;

/* folio_lookup_text (messages on @ctx), and each candidate's span in @spans (an array of @max, or
 * NULL). */
int folio__match(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                 folio_lookup_t *out, size_t max, size_t *n_out, folio_match_span_t *spans);

/* Fill @out with the place at code point @c: page, chapter, sentence; no time yet. */
void folio__lookup_place(const folio_index_t *ix, size_t c, folio_lookup_t *out);
/* Give @out word @w's time and confidence, when it was read; @out->read says whether @w is the
 * word at @out's place. */
void folio__lookup_word_time(const folio_index_t *ix, size_t w, folio_lookup_t *out);
/* Give @out the time of the first read word from word @w on (none: @out keeps time -1). */
void folio__lookup_time_from(const folio_index_t *ix, size_t w, folio_lookup_t *out);
/* The word holding code point @c, or else the first word after it (n_words if none). */
size_t folio__lookup_word_at(const folio_index_t *ix, size_t c);

#endif
