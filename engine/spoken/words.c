/* Words as a narrator says them: abbreviations ("Mr", "St." as saint or street), roman numerals
 * (chapter numbers, monarchs, "World War II") with the engine's one roman-numeral parser,
 * letters and acronyms spelled out, plain words with their digits read, and symbols said as
 * words ("&", "&c."). */
#include "spoken_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- abbreviations ---- */

enum { NEEDS_PERIOD = 1, BEFORE_NUMBER = 2, PLACE = 4, CAPITAL = 8 };

typedef struct {
    const char *abbr, *reading, *alt;
    unsigned flags;
} abbr_t;

/* Common abbreviations. Titles are read without their period too ("Mr Hale"). */
static const abbr_t abbreviations[] = {
    {"mr", "mister", NULL, CAPITAL},
    {"mrs", "missus", NULL, CAPITAL},
    {"ms", "miz", NULL, CAPITAL},
    {"messrs", "messieurs", NULL, CAPITAL},
    {"mme", "madame", NULL, CAPITAL},
    {"mlle", "mademoiselle", NULL, CAPITAL},
    {"dr", "doctor", "drive", CAPITAL | PLACE},
    {"st", "saint", "street", CAPITAL | PLACE},
    {"prof", "professor", NULL, NEEDS_PERIOD | CAPITAL},
    {"capt", "captain", NULL, NEEDS_PERIOD | CAPITAL},
    {"col", "colonel", NULL, NEEDS_PERIOD | CAPITAL},
    {"gen", "general", NULL, NEEDS_PERIOD | CAPITAL},
    {"lt", "lieutenant", NULL, NEEDS_PERIOD | CAPITAL},
    {"sgt", "sergeant", NULL, NEEDS_PERIOD | CAPITAL},
    {"cpl", "corporal", NULL, NEEDS_PERIOD | CAPITAL},
    {"maj", "major", NULL, NEEDS_PERIOD | CAPITAL},
    {"adm", "admiral", NULL, NEEDS_PERIOD | CAPITAL},
    {"gov", "governor", NULL, NEEDS_PERIOD | CAPITAL},
    {"rev", "reverend", NULL, NEEDS_PERIOD | CAPITAL},
    {"hon", "honorable", NULL, NEEDS_PERIOD | CAPITAL},
    {"jr", "junior", NULL, NEEDS_PERIOD},
    {"sr", "senior", NULL, NEEDS_PERIOD},
    {"mt", "mount", NULL, NEEDS_PERIOD | CAPITAL},
    {"ft", "fort", NULL, NEEDS_PERIOD | CAPITAL},
    {"esq", "esquire", NULL, NEEDS_PERIOD},
    {"vs", "versus", NULL, NEEDS_PERIOD},
    {"etc", "et cetera", NULL, NEEDS_PERIOD},
    {"e.g", "for example", "e g", NEEDS_PERIOD},
    {"i.e", "that is", "i e", NEEDS_PERIOD},
    {"viz", "namely", NULL, NEEDS_PERIOD},
    {"cf", "compare", "c f", NEEDS_PERIOD},
    {"no", "number", "numero", NEEDS_PERIOD | BEFORE_NUMBER},
    {"nos", "numbers", NULL, NEEDS_PERIOD | BEFORE_NUMBER},
    {"vol", "volume", NULL, NEEDS_PERIOD},
    {"vols", "volumes", NULL, NEEDS_PERIOD},
    {"ch", "chapter", NULL, NEEDS_PERIOD | BEFORE_NUMBER},
    {"chap", "chapter", NULL, NEEDS_PERIOD},
    {"p", "page", NULL, NEEDS_PERIOD | BEFORE_NUMBER},
    {"pp", "pages", NULL, NEEDS_PERIOD | BEFORE_NUMBER},
    {"fig", "figure", NULL, NEEDS_PERIOD},
    {"approx", "approximately", NULL, NEEDS_PERIOD},
    {"dept", "department", NULL, NEEDS_PERIOD},
    {"co", "company", NULL, NEEDS_PERIOD | CAPITAL},
    {"inc", "incorporated", NULL, NEEDS_PERIOD | CAPITAL},
    {"ltd", "limited", NULL, NEEDS_PERIOD | CAPITAL},
    {"bros", "brothers", NULL, NEEDS_PERIOD | CAPITAL},
    {"jan", "january", NULL, NEEDS_PERIOD | CAPITAL},
    {"feb", "february", NULL, NEEDS_PERIOD | CAPITAL},
    {"mar", "march", NULL, NEEDS_PERIOD | CAPITAL},
    {"apr", "april", NULL, NEEDS_PERIOD | CAPITAL},
    {"jun", "june", NULL, NEEDS_PERIOD | CAPITAL},
    {"jul", "july", NULL, NEEDS_PERIOD | CAPITAL},
    {"aug", "august", NULL, NEEDS_PERIOD | CAPITAL},
    {"sep", "september", NULL, NEEDS_PERIOD | CAPITAL},
    {"sept", "september", NULL, NEEDS_PERIOD | CAPITAL},
    {"oct", "october", NULL, NEEDS_PERIOD | CAPITAL},
    {"nov", "november", NULL, NEEDS_PERIOD | CAPITAL},
    {"dec", "december", NULL, NEEDS_PERIOD | CAPITAL},
};

/* Whether word segment @i is one that opens sentences far more often than it is a name after
 * "St." or "Dr." ("Baker St. The next day"). */
static bool sentence_opener(const run_t *r, size_t i)
{
    static const char *const words[] = {
        "the",   "a",    "an",  "he",    "she", "it",    "they", "we",    "i",     "you",
        "his",   "her",  "its", "their", "our", "my",    "this", "that",  "these", "those",
        "there", "then", "but", "and",   "so",  "in",    "on",   "at",    "as",    "when",
        "after", "if",   "yet", "next",  "now", "while", "once", "later", NULL};
    if (i >= r->n_segs || r->segs[i].kind != SEG_WORD) return false;
    size_t n = r->segs[i].b1 - r->segs[i].b0;
    for (const char *const *w = words; *w; w++)
        if (strlen(*w) == n && strncasecmp(r->s + r->segs[i].b0, *w, n) == 0) return true;
    return false;
}

/* An abbreviation at segment @i; on a match emits it and sets *@used to the segments consumed. */
static int try_abbreviation(run_t *r, size_t i, const char *folded, size_t *used)
{
    *used = 0;
    bool period = seg_is(r, i + 1, ".");
    size_t next = next_nonspace(r, period ? i + 1 : i);
    for (size_t k = 0; k < sizeof(abbreviations) / sizeof(abbreviations[0]); k++) {
        const abbr_t *a = &abbreviations[k];
        if (strcmp(folded, a->abbr) != 0) continue;
        if ((a->flags & NEEDS_PERIOD) && !period) return FOLIO_OK;
        if ((a->flags & CAPITAL) && !seg_capitalised(r, i)) return FOLIO_OK;
        if ((a->flags & BEFORE_NUMBER) && (next >= r->n_segs || r->segs[next].kind != SEG_NUMBER))
            return FOLIO_OK;
        bool place = false, title = false;
        if (a->flags & PLACE) {
            /* A street ("Baker St.", "5th St", "Mulholland Dr") follows a name or a number; a
             * saint or a doctor ("St. John", "Dr Ames") comes before a name, unless the period
             * ends a sentence there ("on Baker St. The next day"). */
            size_t prev = prev_adjacent(r, i);
            place =
                prev != SIZE_MAX && (r->segs[prev].kind == SEG_NUMBER || seg_capitalised(r, prev));
            title = seg_capitalised(r, next) && adjacent(r, period ? i + 1 : i, next) &&
                    !(period && sentence_opener(r, next));
        }
        /* Without a period, a title must be followed by a name ("Mr Hale", "St Paul"), a place
         * come after one ("Main St, then"). */
        if (!period && !seg_capitalised(r, next) && !place) return FOLIO_OK;
        readings_t rd = {0};
        const char *first = a->reading, *second = a->alt;
        if (place && !title) {
            first = a->alt;
            second = a->reading;
        }
        int rc = FOLIO_ENOMEM;
        if (reading_add(&rd, first) >= 0 && (!second || reading_add(&rd, second) >= 0)) {
            size_t end = period ? r->segs[i + 1].c1 : r->segs[i].c1;
            rc = folio__spoken_emit(r, r->segs[i].c0, end, &rd);
        }
        readings_free(&rd);
        *used = period ? 2 : 1;
        return rc;
    }
    return FOLIO_OK;
}

/* ---- plain words, letters, acronyms ---- */

/* Split a folded word into pieces of letters (and apostrophes or marks) and digits, reading the
 * digit runs as numbers: "b12" -> "b twelve", "example.com" -> "example com". */
int folio__spoken_plain_readings(run_t *r, const char *t, readings_t *rd)
{
    int k = reading_add(rd, NULL);
    if (k < 0) return FOLIO_ENOMEM;
    folio_str_t *out = &rd->r[k];
    const char *p = t;
    bool after_number = false;
    while (*p) {
        size_t len;
        UChar32 c = (UChar32)folio__utf8_decode(p, &len);
        if (c >= '0' && c <= '9') {
            const char *q = p;
            while (*q >= '0' && *q <= '9') q++;
            char num[40];
            size_t nl = (size_t)(q - p) < sizeof(num) - 1 ? (size_t)(q - p) : sizeof(num) - 1;
            memcpy(num, p, nl);
            num[nl] = '\0';
            readings_t nr = {0};
            int rc = folio__spoken_number_readings(r, num, true, &nr);
            if (rc >= 0 && nr.n) rc = append(out, nr.r[0].data);
            readings_free(&nr);
            if (rc < 0) return rc;
            p = q;
            after_number = true;
            continue;
        }
        bool keep = u_isalpha(c) || u_getCombiningClass(c) > 0 ||
                    u_charType(c) == U_NON_SPACING_MARK ||
                    u_charType(c) == U_COMBINING_SPACING_MARK ||
                    (c == '\'' && out->len && out->data[out->len - 1] != ' ');
        if (keep) {
            if (after_number && folio__str_appendc(out, ' ') < 0) return FOLIO_ENOMEM;
            if (folio__str_append(out, p, len) < 0) return FOLIO_ENOMEM;
        } else if (out->len && out->data[out->len - 1] != ' ') {
            if (folio__str_appendc(out, ' ') < 0) return FOLIO_ENOMEM;
        }
        after_number = false;
        p += len;
    }
    /* Apostrophes at a piece's ends ("'tis" keeps its word, "dogs'" its noun) are not spoken. */
    folio_str_t clean = {0};
    for (size_t i = 0; i < out->len; i++) {
        char c = out->data[i];
        bool edge = c == '\'' && (i == 0 || out->data[i - 1] == ' ' || i + 1 == out->len ||
                                  out->data[i + 1] == ' ');
        if (!edge && folio__str_appendc(&clean, c) < 0) {
            folio__str_free(&clean);
            return FOLIO_ENOMEM;
        }
    }
    folio__str_free(out);
    *out = clean;
    if (!out->data && folio__str_append(out, "", 0) < 0) return FOLIO_ENOMEM;
    return FOLIO_OK;
}

/* Letters spelled out: "bbc" -> "b b c", "u.s.a" -> "u s a". */
static int letters_reading(const char *t, folio_str_t *out)
{
    for (const char *p = t; *p; p++) {
        if (*p == '.') continue;
        char c[2] = {*p, 0};
        if (append(out, c) < 0) return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

/* "p.m", "U.S.A": single letters joined by periods. */
static bool dotted_letters(const char *t)
{
    size_t n = strlen(t);
    if (n < 3) return false;
    for (size_t i = 0; i < n; i++)
        if ((i % 2 == 0 && !isalpha((unsigned char)t[i])) || (i % 2 == 1 && t[i] != '.'))
            return false;
    return true;
}

static bool all_upper_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i])) return false;
    return n > 0;
}

/* Segment @i as ASCII letters in their written case, for numerals and acronyms: its bytes when
 * they are ASCII; else, when NFKC gives one ASCII letter per code point, @folded re-cased
 * ("ＡＢＣ" -> "ABC"); else "". */
static void ascii_shape(const run_t *r, size_t i, const char *folded, char *shape, size_t cap)
{
    const char *raw = r->s + r->segs[i].b0;
    size_t n = r->segs[i].b1 - r->segs[i].b0, k = 0;
    bool ascii = true;
    for (size_t b = 0; b < n; b++) ascii = ascii && (unsigned char)raw[b] < 0x80;
    shape[0] = '\0';
    if (ascii) {
        if (n >= cap) return;
        memcpy(shape, raw, n);
        shape[n] = '\0';
        return;
    }
    for (size_t b = 0, len; b < n; b += len, k++) {
        UChar32 c = (UChar32)folio__utf8_decode(raw + b, &len);
        if (k + 1 >= cap || !isalpha((unsigned char)folded[k])) {
            shape[0] = '\0';
            return;
        }
        shape[k] = u_isupper(c) ? (char)toupper((unsigned char)folded[k]) : folded[k];
    }
    shape[folded[k] ? 0 : k] = '\0';
}

/* ---- roman numerals ---- */

/* Keywords after which a roman numeral is a number ("CHAPTER XII", "Book IV"). */
static bool roman_keyword(const char *w)
{
    static const char *const keys[] = {"chapter", "book",     "part",   "volume", "section",
                                       "act",     "scene",    "canto",  "stave",  "letter",
                                       "article", "appendix", "vol",    "chap",   "ch",
                                       "psalm",   "epistle",  "lesson", NULL};
    for (const char *const *k = keys; *k; k++)
        if (strcmp(w, *k) == 0) return true;
    return false;
}

/* The engine's one roman-numeral parser (page labels use it too): the value, else 0. */
int folio__roman_value(const char *s, size_t n)
{
    if (!n || n > 15) return 0;
    bool upper = isupper((unsigned char)s[0]);
    char canon[64];
    int total = 0, prev = 0;
    for (size_t i = n; i-- > 0;) {
        if ((bool)isupper((unsigned char)s[i]) != upper) return 0;
        int v;
        switch (s[i] | 0x20) {
        case 'i':
            v = 1;
            break;
        case 'v':
            v = 5;
            break;
        case 'x':
            v = 10;
            break;
        case 'l':
            v = 50;
            break;
        case 'c':
            v = 100;
            break;
        case 'd':
            v = 500;
            break;
        case 'm':
            v = 1000;
            break;
        default:
            return 0;
        }
        total += v < prev ? -v : v;
        if (v > prev) prev = v;
    }
    if (total <= 0 || total >= 4000) return 0;
    /* Only the canonical spelling counts, so "DID" or "CIVIL" are not numerals. */
    static const struct {
        int v;
        const char *s;
    } parts[] = {{1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"},
                 {90, "xc"},  {50, "l"},   {40, "xl"}, {10, "x"},   {9, "ix"},
                 {5, "v"},    {4, "iv"},   {1, "i"}};
    size_t k = 0;
    int rest = total;
    for (size_t p = 0; p < sizeof(parts) / sizeof(parts[0]); p++)
        while (rest >= parts[p].v && k + 3 < sizeof(canon)) {
            for (const char *c = parts[p].s; *c; c++) canon[k++] = *c;
            rest -= parts[p].v;
        }
    if (k != n) return 0;
    for (size_t i = 0; i < n; i++)
        if ((s[i] | 0x20) != canon[i]) return 0;
    return total;
}

/* Capitalised words after which a roman numeral is a number, not a monarch's or a pope's
 * ("World War II", "Vatican II", "Title IX"; and the roman keywords). */
static bool not_a_name(const char *w)
{
    static const char *const words[] = {
        "war",      "vatican", "title",    "episode", "phase",  "stage", "type",  "class",
        "grade",    "level",   "series",   "mark",    "model",  "round", "bowl",  "apollo",
        "olympiad", "council", "division", "page",    "number", "no",    "world", NULL};
    if (roman_keyword(w)) return true;
    for (const char *const *k = words; *k; k++)
        if (strcmp(w, *k) == 0) return true;
    return false;
}

/* How a word that is written like a roman numeral is read. */
typedef enum {
    NOT_ROMAN,
    ROMAN_CARDINAL, /* "CHAPTER XII" -> "chapter twelve" */
    ROMAN_MAYBE,    /* "the letter I sent": "i", perhaps "one" */
    ROMAN_REGNAL,   /* "Henry VIII" -> "henry the eighth", or "eight" */
    ROMAN_NUMBERED  /* "World War II" -> "world war two", or "the second" */
} roman_how_t;

/* How the numeral @roman written @shape at segment @i reads. A numeral counts only right after
 * its keyword or name (white space between, no punctuation: "for my part, I think" is no
 * numeral). Single letters and lower case ("I", "C", "mix") are words as often as numerals: they
 * are read as numbers only in headings, "I", "V" and "X" perhaps after a keyword elsewhere, and
 * "V" and "X" after a name ("Henry V"); "C", "D", "L" and "M" alone label appendices and
 * sections. */
static roman_how_t roman_how(const run_t *r, size_t i, const char *shape, int roman, size_t near,
                             const char *near_folded)
{
    size_t n = strlen(shape);
    bool single = n == 1, lower = islower((unsigned char)shape[0]);
    if (!roman || (single && roman >= 50)) return NOT_ROMAN;
    /* A heading that starts with its numeral: "IV. The Return", "XII", "I." (not "I Remember"). */
    if (r->heading && prev_word(r, i) == SIZE_MAX &&
        (!single || next_nonspace(r, i) >= r->n_segs || seg_is(r, i + 1, ".") ||
         seg_is(r, i + 1, ":")))
        return ROMAN_CARDINAL;
    if (near == SIZE_MAX) return NOT_ROMAN;
    if (roman_keyword(near_folded)) {
        if (r->heading || (!single && !lower)) return ROMAN_CARDINAL;
        return single ? ROMAN_MAYBE : NOT_ROMAN;
    }
    if (lower || !seg_capitalised(r, near)) return NOT_ROMAN;
    const seg_t *p = &r->segs[near];
    bool shouting = all_upper_ascii(r->s + p->b0, p->b1 - p->b0);
    if (not_a_name(near_folded)) {
        /* "World War I" is the one single letter common enough to read here. */
        return !single || strcmp(near_folded, "war") == 0 ? ROMAN_NUMBERED : NOT_ROMAN;
    }
    /* Monarchs and popes go up to about thirty ("Louis XVIII", "John XXIII"); "Washington DC" is
     * no king. */
    bool small = roman < 40 && strspn(shape, "IVX") == n;
    if (small && (!single || roman == 5 || roman == 10) && (r->heading || !shouting))
        return ROMAN_REGNAL;
    return NOT_ROMAN;
}

/* The readings of a roman numeral read as @how. Outside headings (and for single letters), the
 * word as written stays an alternative, so that the language model and the aligner accept either
 * when the rule is wrong. */
static int roman_readings(run_t *r, roman_how_t how, int roman, const char *folded, readings_t *rd)
{
    int rc = FOLIO_OK;
    bool literal = !r->heading || strlen(folded) == 1;
    folio_str_t card = {0}, ord = {0}, the = {0};
    TRY(folio__spoken_spell(r, "%spellout-numbering", roman, &card));
    TRY(folio__spoken_spell(r, "%spellout-ordinal", roman, &ord));
    TRY(append(&the, "the"));
    TRY(append(&the, ord.data));
    const char *order[4] = {NULL};
    switch (how) {
    case ROMAN_CARDINAL:
        order[0] = card.data;
        break;
    case ROMAN_MAYBE:
        TRY(folio__spoken_plain_readings(r, folded, rd));
        literal = false;
        order[0] = card.data;
        break;
    case ROMAN_REGNAL:
        order[0] = the.data, order[1] = card.data, order[2] = ord.data;
        break;
    case ROMAN_NUMBERED:
        order[0] = card.data, order[1] = the.data;
        break;
    default:
        break;
    }
    for (int k = 0; k < 4 && order[k]; k++)
        if (reading_add(rd, order[k]) < 0) TRY(FOLIO_ENOMEM);
    if (literal) TRY(folio__spoken_plain_readings(r, folded, rd));
fail:
    folio__str_free(&card);
    folio__str_free(&ord);
    folio__str_free(&the);
    return rc;
}

/* ---- a word ---- */

int folio__spoken_word(run_t *r, size_t i, size_t *used, folio_str_t *folded)
{
    int rc;
    readings_t rd = {0};
    folio_str_t pw = {0};
    *used = 1;
    const seg_t *g = &r->segs[i];
    TRY(folio__spoken_fold_seg(r, i, folded));
    TRY(try_abbreviation(r, i, folded->data, used));
    if (*used) goto fail;
    *used = 1;
    size_t end = g->c1;
    char shape[64];
    ascii_shape(r, i, folded->data, shape, sizeof(shape));
    size_t sn = strlen(shape);

    size_t near = prev_adjacent(r, i);
    if (near != SIZE_MAX) TRY(folio__spoken_fold_seg(r, near, &pw));
    int roman = folio__roman_value(shape, sn);
    roman_how_t how = roman_how(r, i, shape, roman, near, pw.data ? pw.data : "");
    if (how != NOT_ROMAN) {
        TRY(roman_readings(r, how, roman, folded->data, &rd));
    } else if (dotted_letters(folded->data)) {
        int k = reading_add(&rd, NULL);
        if (k < 0) TRY(FOLIO_ENOMEM);
        TRY(letters_reading(folded->data, &rd.r[k]));
        if (seg_is(r, i + 1, ".")) end = r->segs[i + 1].c1;
    } else if (!r->heading && sn >= 2 && sn <= 5 && all_upper_ascii(shape, sn)) {
        /* An acronym: spelled out when it has no vowel ("BBC"), else perhaps ("NASA"). The
         * shape is checked, not the bytes, so full-width "ＡＢＣ" is one too. */
        bool vowel = strpbrk(folded->data, "aeiouy") != NULL;
        int k = reading_add(&rd, vowel ? folded->data : NULL);
        int k2 = reading_add(&rd, vowel ? NULL : folded->data);
        if (k < 0 || k2 < 0) TRY(FOLIO_ENOMEM);
        TRY(letters_reading(folded->data, &rd.r[vowel ? k2 : k]));
    } else {
        TRY(folio__spoken_plain_readings(r, folded->data, &rd));
    }
    rc = folio__spoken_emit(r, g->c0, end, &rd);
fail:
    folio__str_free(&pw);
    readings_free(&rd);
    return rc;
}

/* ---- symbols ---- */

int folio__spoken_symbol(run_t *r, size_t i, size_t *next)
{
    static const struct {
        const char *sym, *reading;
    } symbols[] = {{"&", "and"},  {"%", "percent"}, {"#", "number"},
                   {"+", "plus"}, {"=", "equals"},  {"@", "at"}};
    *next = i + 1;
    readings_t rd = {0};
    int rc = FOLIO_OK;
    size_t end = i;
    if (seg_is(r, i, "&") && seg_is(r, i + 1, "c")) {
        /* "&c." is the old way to write "etc.". */
        end = seg_is(r, i + 2, ".") ? i + 2 : i + 1;
        if (reading_add(&rd, "et cetera") < 0) TRY(FOLIO_ENOMEM);
    } else {
        for (size_t k = 0; k < sizeof(symbols) / sizeof(symbols[0]); k++) {
            if (!seg_is(r, i, symbols[k].sym)) continue;
            /* "#" reads "number" only before one; "+", "=", "@" only between words. */
            size_t after = next_nonspace(r, i);
            if (k >= 2 && (after >= r->n_segs || r->segs[after].kind == SEG_OTHER)) break;
            if (k == 2 && r->segs[after].kind != SEG_NUMBER) break;
            if (reading_add(&rd, symbols[k].reading) < 0) TRY(FOLIO_ENOMEM);
            break;
        }
    }
    if (rd.n) {
        rc = folio__spoken_emit(r, r->segs[i].c0, r->segs[end].c1, &rd);
        *next = end + 1;
    }
fail:
    readings_free(&rd);
    return rc;
}
