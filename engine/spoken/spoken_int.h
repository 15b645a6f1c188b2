/* Shared within engine/spoken only (spoken.c, numbers.c, words.c): a block cut into segments, the
 * readings of one source word, and what each file calls in the others. The module was one file;
 * this header lets it be edited as three. Nothing outside engine/spoken may include it. */
#ifndef FOLIO_SPOKEN_INT_H
#define FOLIO_SPOKEN_INT_H

#include "spoken.h"

#include <string.h>
#include <unicode/uchar.h>

#define MAX_READINGS 6

/* ---- segments: ICU word-break pieces of one block ---- */

typedef enum { SEG_SPACE, SEG_WORD, SEG_NUMBER, SEG_OTHER } seg_kind_t;

typedef struct {
    size_t b0, b1; /* bytes in the block */
    size_t c0, c1; /* code points in the book */
    seg_kind_t kind;
} seg_t;

/* One block being read. */
typedef struct {
    folio_speaker_t *sp;
    folio_spoken_t *out;
    const char *s;
    seg_t *segs;
    size_t n_segs;
    size_t block;
    bool heading, read;
    folio_str_t primary; /* the current word's primary reading, for de-duplicating alternatives */
} run_t;

/* A fixed set of readings of one word; [0] is the primary. */
typedef struct {
    folio_str_t r[MAX_READINGS];
    int n;
} readings_t;

static inline void readings_free(readings_t *rd)
{
    for (int i = 0; i < MAX_READINGS; i++) folio__str_free(&rd->r[i]);
    rd->n = 0;
}

/* Append @text as a new reading (NULL: start an empty one); returns its index or -1. */
static inline int reading_add(readings_t *rd, const char *text)
{
    if (rd->n >= MAX_READINGS) return -1;
    folio_str_t *r = &rd->r[rd->n];
    r->len = 0;
    if (folio__str_append(r, text ? text : "", text ? strlen(text) : 0) < 0) return -1;
    return rd->n++;
}

/* Append @text to @s, after a space unless @s is empty or ends with one. */
static inline int append(folio_str_t *s, const char *text)
{
    if (s->len && s->data[s->len - 1] != ' ' && folio__str_appendc(s, ' ') < 0) return FOLIO_ENOMEM;
    return folio__str_append(s, text, strlen(text));
}

/* Whether segment @i is exactly @text. */
static inline bool seg_is(const run_t *r, size_t i, const char *text)
{
    if (i >= r->n_segs) return false;
    const seg_t *g = &r->segs[i];
    size_t n = strlen(text);
    return g->b1 - g->b0 == n && memcmp(r->s + g->b0, text, n) == 0;
}

/* The next segment after @i that is not space, or n_segs. */
static inline size_t next_nonspace(const run_t *r, size_t i)
{
    for (i++; i < r->n_segs && r->segs[i].kind == SEG_SPACE; i++) {
    }
    return i;
}

static inline size_t prev_word(const run_t *r, size_t i)
{
    while (i-- > 0)
        if (r->segs[i].kind == SEG_WORD || r->segs[i].kind == SEG_NUMBER) return i;
    return SIZE_MAX;
}

/* Whether only white space lies between segments @a < @b: no punctuation ("part, I think"). */
static inline bool adjacent(const run_t *r, size_t a, size_t b)
{
    for (size_t k = a + 1; k < b; k++)
        if (r->segs[k].kind != SEG_SPACE) return false;
    return true;
}

/* The word or number right before segment @i with only white space between, or SIZE_MAX. */
static inline size_t prev_adjacent(const run_t *r, size_t i)
{
    size_t p = prev_word(r, i);
    return p != SIZE_MAX && adjacent(r, p, i) ? p : SIZE_MAX;
}

static inline bool seg_capitalised(const run_t *r, size_t i)
{
    if (i >= r->n_segs || r->segs[i].kind != SEG_WORD) return false;
    size_t len;
    return u_isupper((UChar32)folio__utf8_decode(r->s + r->segs[i].b0, &len));
}

/* ---- spoken.c: folding and emitting ---- */

/* Segment @i NFKC-normalised and case-folded, apostrophe look-alikes as "'", into @out. */
int folio__spoken_fold_seg(run_t *r, size_t i, folio_str_t *out);
/* One source word spanning code points [@c0, @c1) read as @rd->r[0] (its tokens), with the other
 * readings as its alternatives. */
int folio__spoken_emit(run_t *r, size_t c0, size_t c1, readings_t *rd);
/* ICU's spell-out of @v with @ruleset ("%spellout-numbering", "%spellout-ordinal", ...) appended
 * to @out as space-separated words: hyphens to spaces, no commas. */
int folio__spoken_spell(run_t *r, const char *ruleset, int64_t v, folio_str_t *out);

/* ---- numbers.c ---- */

/* Whether segment @i starts a number (*@found) — digits; a currency symbol, a sign or a leading
 * point before them; superscript digits; a vulgar fraction — and if so its readings, with what
 * belongs to it, and *@next the first segment after it. @folded is scratch space. */
int folio__spoken_number(run_t *r, size_t i, folio_str_t *folded, size_t *next, bool *found);
/* Readings of the folded number @t, whatever its shape ("1,455", "3.5", "21st", "1920s", "5km");
 * @prev_noun: "No.", "#", "page" before it (so not a year). FOLIO_EINVAL if @t is no number. */
int folio__spoken_number_readings(run_t *r, const char *t, bool prev_noun, readings_t *rd);

/* ---- words.c ---- */

/* The word at segment @i (an abbreviation, a roman numeral, dotted letters, an acronym, or a
 * plain word); *@used is the number of segments read. @folded is scratch space. */
int folio__spoken_word(run_t *r, size_t i, size_t *used, folio_str_t *folded);
/* A folded word as it is written, in pieces of letters and of digits read as numbers. */
int folio__spoken_plain_readings(run_t *r, const char *t, readings_t *rd);
/* A symbol said as a word ("&" -> "and", "&c." -> "et cetera"); *@next is the first segment
 * after what was read (the next one when the symbol is not said). */
int folio__spoken_symbol(run_t *r, size_t i, size_t *next);

#endif
