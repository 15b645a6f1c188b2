/* Private to the lookup module: text matching, and the helpers every lookup fills its result
 * with. */
#ifndef FOLIO_MATCH_H
#define FOLIO_MATCH_H

#include "lookup.h"

/* The book text a match covers (code points), for "scan to read". */
typedef struct {
    size_t book_start, book_end;
} folio_match_span_t;

/* folio_lookup_text (messages on @ctx), and the span of the best candidate in @span0 (may be
 * NULL). */
int folio__match(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                 folio_lookup_t *out, size_t max, size_t *n_out, folio_match_span_t *span0);

/* Fill @out with the place at code point @c: page, chapter, sentence; no time yet. */
void folio__lookup_place(const folio_index_t *ix, size_t c, folio_lookup_t *out);
/* Give @out word @w's time and confidence, when it was read. */
void folio__lookup_word_time(const folio_index_t *ix, size_t w, folio_lookup_t *out);

#endif
