/* Internal interface of the lexicon module: pronunciations of a book's spoken tokens, from the
 * pronouncing dictionary (words in other scripts under their ASCII form) or flite's
 * letter-to-sound rules, in the acoustic model's phone set. Only this module touches flite's
 * lexicon; for the modules downstream of it (speech and what follows) and the unit tests. */
#ifndef FOLIO_LEXICON_H
#define FOLIO_LEXICON_H

#include "../text/text.h"

/* The acoustic model's context-independent phones (CMU US English, without SIL and fillers). */
extern const char *const folio__model_phones[];
#define FOLIO__N_MODEL_PHONES 39

/* Map one flite phone ("ax0", "hh") to the model's phone ("AH", "HH"); NULL for pauses and
 * anything unknown. */
const char *folio__lexicon_map_phone(const char *flite_phone);

/* Letter-to-sound for @ascii_word (lower-case ASCII letters and apostrophes) into @out as model
 * phones separated by spaces. Returns FOLIO_OK, FOLIO_ENOTFOUND when flite gives no phones, or
 * FOLIO_ENOMEM. Thread-safe: flite's lexicon is initialised once and used under a lock. */
int folio__lexicon_lts(const char *ascii_word, folio_str_t *out);

/* @s transliterated to ASCII (ICU "Any-Latin; Latin-ASCII"), lower-case, anything without an
 * ASCII form dropped ("Café" -> "cafe", "Zürich" -> "zurich"); caller frees. NULL when out of
 * memory or when ICU cannot open the transliterator (ascii.c). */
char *folio__lexicon_to_ascii(const char *s);

/* A lexicon of the words of @list (each may hold several, separated by spaces). */
folio_lexicon_t *folio__lexicon_open_words(folio_t *ctx, const char *const *list, size_t n,
                                           const char *dict_path, int *err);

/* Write the pronunciations of @a and then of @b's words not in @a (either may be NULL) as a
 * pocketsphinx dictionary. */
int folio__lexicon_write_dict(const folio_lexicon_t *a, const folio_lexicon_t *b, const char *path);

#endif
