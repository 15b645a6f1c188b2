/* Internal interface of the spoken module: what a narrator says for a block of written text —
 * tokens, the source words they come from and alternative readings — and the engine's one
 * roman-numeral parser. Works on strings, upstream of the book model, with ICU only; for the
 * engine's modules (the text module holds a book's spoken form), not for tools. */
#ifndef FOLIO_SPOKEN_H
#define FOLIO_SPOKEN_H

#include "../core/core.h"

/* The spoken form of a text: tokens, source words and alternative readings. */
typedef struct {
    folio_str_t pool;          /* NUL-terminated token and alternative strings */
    VEC(folio_token_t) tokens; /* .text holds a pool offset until folio__spoken_finish */
    VEC(folio_word_t) words;
    VEC(size_t) alts;     /* pool offsets of alternative readings */
    VEC(size_t) word_alt; /* per word: index of its first alternative in alts */
    bool finished;
} folio_spoken_t;

/* ICU state for one tokenisation run (one thread). */
typedef struct folio_speaker folio_speaker_t;
folio_speaker_t *folio__speaker_new(void);
void folio__speaker_free(folio_speaker_t *sp);

/* Append the spoken form of @s[0..n) (NFC UTF-8, one block) to @out. @char_base is the code point
 * offset of @s in the book's text; @heading enables readings of roman numerals in headings.
 * Returns FOLIO_OK or FOLIO_ENOMEM (no message: the caller knows the block and says which). */
int folio__spoken_block(folio_speaker_t *sp, folio_spoken_t *out, const char *s, size_t n,
                        size_t char_base, size_t block, bool heading, bool read);
/* Turn pool offsets into pointers; nothing may be appended afterwards. */
void folio__spoken_finish(folio_spoken_t *out);
void folio__spoken_free(folio_spoken_t *out);

/* The value of the roman numeral @s[0..n) when it is written in one case and canonically
 * ("XIV", "xiv": 14; "MCMXCIV": 1994), from 1 to 3999; 0 for anything else ("IIII", "VX",
 * "XiV", "DID", ""). */
int folio__roman_value(const char *s, size_t n);

#endif
