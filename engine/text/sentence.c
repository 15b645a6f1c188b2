/* Sentences: ICU sentence breaks inside each block, with Folio's own repairs for abbreviations
 * ("Mr.", "St.", initials) and for breaks followed by a lower-case word. */
#include "text.h"

#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/utext.h>

/* Words that end with a period without ending a sentence (compared case-insensitively). */
static const char *const abbreviations[] = {
    "mr",   "mrs",  "ms",   "messrs", "mme",  "mlle", "dr",   "prof", "st",     "mt",   "ft",
    "jr",   "sr",   "rev",  "hon",    "gen",  "col",  "capt", "lt",   "sgt",    "cpl",  "maj",
    "adm",  "gov",  "pres", "sen",    "rep",  "no",   "nos",  "vol",  "vols",   "ch",   "chap",
    "fig",  "figs", "pp",   "vs",     "e.g",  "i.e",  "cf",   "viz",  "approx", "dept", "esq",
    "bros", "inc",  "ltd",  "co",     "corp", "jan",  "feb",  "mar",  "apr",    "jun",  "jul",
    "aug",  "sep",  "sept", "oct",    "nov",  "dec",  NULL};

#define MAX_ABBREVIATION 6 /* the longest word above, in bytes */

static bool ends_with_abbreviation(const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n')) n--;
    if (!n || s[n - 1] != '.') return false;
    n--;
    /* Back to the word's start, but no further than the longest abbreviation: a long word
     * ("a?b?c?..." with a break after every '?') is not scanned again at each break. */
    size_t start = n;
    while (start && s[start - 1] != ' ' && s[start - 1] != '\n' && s[start - 1] != '(' &&
           s[start - 1] != '"') {
        if (n - start >= MAX_ABBREVIATION) return false;
        start--;
    }
    size_t len = n - start;
    if (len == 0) return false;
    /* A single capital letter is an initial: "J. R. R. Tolkien". */
    if (len == 1 && s[start] >= 'A' && s[start] <= 'Z') return true;
    for (const char *const *a = abbreviations; *a; a++) {
        size_t al = strlen(*a);
        if (al != len) continue;
        size_t k = 0;
        while (k < len && (s[start + k] | 0x20) == (*a)[k]) k++;
        if (k == len) return true;
    }
    return false;
}

/* The byte offset in @s[0..n) of the first letter or digit at or after @from, or n. */
static size_t next_alnum(const char *s, size_t n, size_t from)
{
    for (size_t i = from; i < n;) {
        size_t len;
        UChar32 c = (UChar32)folio__utf8_decode(s + i, &len);
        if (u_isalpha(c) || u_isdigit(c)) return i;
        i += len;
    }
    return n;
}

int folio__sentences_split(folio_book_t *book, const folio_block_t *block)
{
    size_t b0 = folio__book_byte_offset(book, block->start_char);
    size_t b1 = folio__book_byte_offset(book, block->end_char);
    const char *s = book->text + b0;
    size_t n = b1 - b0;
    if (!n) return FOLIO_OK;

    UErrorCode e = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, s, (int64_t)n, &e);
    UBreakIterator *bi = ubrk_open(UBRK_SENTENCE, "en", NULL, 0, &e);
    if (U_SUCCESS(e)) ubrk_setUText(bi, ut, &e);
    if (U_FAILURE(e)) {
        ubrk_close(bi);
        utext_close(ut);
        return FOLIO_ENOMEM;
    }
    int rc = FOLIO_OK;
    size_t start = 0, cp_start = block->start_char, cp_pos = block->start_char, byte_pos = 0;
    /* The first letter or digit at or after the last break looked at: breaks only move forward,
     * so a long run without one (punctuation, symbols) is scanned once, not once a break. */
    size_t alnum = 0;
    bool have_alnum = false;
    for (int32_t next = ubrk_next(bi); next != UBRK_DONE; next = ubrk_next(bi)) {
        size_t end = (size_t)next;
        if (end < n) {
            /* Not a sentence end: after an abbreviation, or before a lower-case word or no
             * letter or digit at all. */
            if (ends_with_abbreviation(s + start, end - start)) continue;
            if (!have_alnum || alnum < end) alnum = next_alnum(s, n, end);
            have_alnum = true;
            size_t len;
            if (alnum == n || u_islower((UChar32)folio__utf8_decode(s + alnum, &len))) continue;
        }
        /* Trim trailing white space; convert byte offsets to code points incrementally. */
        size_t trim = end;
        while (trim > start && (s[trim - 1] == ' ' || s[trim - 1] == '\n')) trim--;
        size_t cp_trim = cp_pos + folio__utf8_count(s + byte_pos, trim - byte_pos);
        size_t cp_end = cp_trim + (end - trim);
        if (trim > start) {
            folio_sentence_t sent = {cp_start, cp_trim};
            if ((rc = VEC_PUSH(book->sentences, sent)) < 0) break;
        }
        start = byte_pos = end;
        cp_start = cp_pos = cp_end;
    }
    ubrk_close(bi);
    utext_close(ut);
    return rc;
}
