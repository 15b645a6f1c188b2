/* Numbers as a narrator says them: cardinals, years, ordinals, decimals, signs, currency,
 * percentages, fractions, powers, ranges, telephone numbers, dates and labels ("No. 5"), each
 * with the alternative readings narrators use; and what around a number belongs to it. */
#include "spoken_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const digit_names[] = {"zero", "one", "two",   "three", "four",
                                          "five", "six", "seven", "eight", "nine"};

/* Digit by digit ("zero zero seven"), with "oh" for zero when @oh. */
static int digits_reading(const char *d, size_t n, bool oh, folio_str_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (append(out, d[i] == '0' && oh ? "oh" : digit_names[d[i] - '0']) < 0)
            return FOLIO_ENOMEM;
    return FOLIO_OK;
}

/* The last word of a reading made plural: "twenty" -> "twenties" (for "1920s", "60s"). */
static int pluralise(folio_str_t *s)
{
    if (!s->len) return FOLIO_OK;
    if (s->data[s->len - 1] == 'y') {
        s->len--;
        return folio__str_append(s, "ies", 3);
    }
    if (s->len >= 3 && strcmp(s->data + s->len - 3, "six") == 0)
        return folio__str_append(s, "es", 2);
    return folio__str_appendc(s, 's');
}

typedef struct {
    char digits[40]; /* the integer part, ASCII digits, commas removed */
    size_t n_digits;
    bool commas;
    char frac[40]; /* the decimal part, if any */
    size_t n_frac;
    bool has_frac;
    char suffix[16]; /* letters after the digits: "st", "s", "km" */
} number_t;

/* Parse a folded number segment ("1,455", "3.5", "21st", "1920s"). False if it is not one. */
static bool parse_number(const char *t, number_t *num)
{
    memset(num, 0, sizeof(*num));
    const char *p = t;
    while (*p) {
        if (isdigit((unsigned char)*p)) {
            if (num->n_digits + 1 >= sizeof(num->digits)) return false;
            num->digits[num->n_digits++] = *p++;
        } else if (*p == ',' && num->n_digits && isdigit((unsigned char)p[1])) {
            num->commas = true;
            p++;
        } else {
            break;
        }
    }
    if (!num->n_digits) return false;
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        num->has_frac = true;
        for (p++; isdigit((unsigned char)*p); p++) {
            if (num->n_frac + 1 >= sizeof(num->frac)) return false;
            num->frac[num->n_frac++] = *p;
        }
    }
    size_t k = 0;
    while (*p && isalpha((unsigned char)*p) && k + 1 < sizeof(num->suffix)) num->suffix[k++] = *p++;
    return *p == '\0';
}

static int64_t digits_value(const char *d, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) v = v * 10 + (d[i] - '0');
    return v;
}

/* Readings of a whole number. @year_ok: a four-digit number may be a year here. */
static int integer_readings(run_t *r, const number_t *num, bool year_ok, readings_t *rd)
{
    int rc = FOLIO_OK;
    const char *d = num->digits;
    size_t n = num->n_digits;
    if ((n > 1 && d[0] == '0') || n > 15) {
        int a = reading_add(rd, NULL), b = reading_add(rd, NULL);
        if (a < 0 || b < 0) return FOLIO_ENOMEM;
        TRY(digits_reading(d, n, false, &rd->r[a]));
        TRY(digits_reading(d, n, true, &rd->r[b]));
        return FOLIO_OK;
    }
    int64_t v = digits_value(d, n);
    bool year =
        year_ok && !num->commas && n == 4 && ((v >= 1100 && v <= 1999) || (v >= 2010 && v <= 2099));
    const char *sets[3] = {"%spellout-numbering", "%spellout-numbering-verbose", NULL};
    if (year) {
        sets[0] = "%spellout-numbering-year";
        sets[1] = "%spellout-numbering";
        sets[2] = "%spellout-numbering-verbose";
    } else if (year_ok && !num->commas && n == 4 && v >= 1000 && v <= 2009) {
        sets[2] = "%spellout-numbering-year";
    }
    for (int i = 0; i < 3 && sets[i]; i++) {
        int k = reading_add(rd, NULL);
        if (k < 0) return FOLIO_ENOMEM;
        TRY(folio__spoken_spell(r, sets[i], v, &rd->r[k]));
    }
fail:
    return rc;
}

/* "3.5" -> "three point five"; "0.25" also "point two five". */
static int decimal_readings(run_t *r, const number_t *num, readings_t *rd)
{
    int rc = FOLIO_OK;
    number_t whole = *num;
    whole.has_frac = false;
    readings_t ir = {0};
    TRY(integer_readings(r, &whole, false, &ir));
    for (int i = 0; i < ir.n; i++) {
        int k = reading_add(rd, ir.r[i].data);
        if (k < 0) TRY(FOLIO_ENOMEM);
        TRY(append(&rd->r[k], "point"));
        TRY(digits_reading(num->frac, num->n_frac, false, &rd->r[k]));
    }
    if (num->n_digits == 1 && num->digits[0] == '0') {
        int k = reading_add(rd, "point");
        if (k < 0) TRY(FOLIO_ENOMEM);
        TRY(digits_reading(num->frac, num->n_frac, false, &rd->r[k]));
    }
fail:
    readings_free(&ir);
    return rc;
}

static int ordinal_readings(run_t *r, const number_t *num, readings_t *rd)
{
    if (num->n_digits > 15) return integer_readings(r, num, false, rd);
    int k = reading_add(rd, NULL);
    if (k < 0) return FOLIO_ENOMEM;
    return folio__spoken_spell(r, "%spellout-ordinal", digits_value(num->digits, num->n_digits),
                               &rd->r[k]);
}

typedef struct {
    const char *symbol, *one, *many, *sub_one, *sub_many;
    bool sub_after_plain; /* "three pounds fifty" is the usual British reading */
} currency_t;

static const currency_t currencies[] = {
    {"$", "dollar", "dollars", "cent", "cents", false},
    {"\xc2\xa3", "pound", "pounds", "penny", "pence", true},
    {"\xe2\x82\xac", "euro", "euros", "cent", "cents", false},
    {"\xc2\xa5", "yen", "yen", "sen", "sen", false},
};

static const currency_t *currency_of(const run_t *r, size_t i)
{
    for (size_t k = 0; k < sizeof(currencies) / sizeof(currencies[0]); k++)
        if (seg_is(r, i, currencies[k].symbol)) return &currencies[k];
    return NULL;
}

/* Readings of an amount of money. */
static int money_readings(run_t *r, const currency_t *cur, const number_t *num, readings_t *rd)
{
    int rc = FOLIO_OK;
    number_t whole = *num;
    whole.has_frac = false;
    whole.suffix[0] = '\0';
    int64_t wv = whole.n_digits <= 15 ? digits_value(whole.digits, whole.n_digits) : 2;
    readings_t wr = {0}, cr = {0};
    if (num->has_frac && num->n_frac != 2) {
        /* "$2.125": a decimal amount. */
        TRY(decimal_readings(r, num, rd));
        for (int i = 0; i < rd->n; i++) TRY(append(&rd->r[i], cur->many));
        goto fail;
    }
    TRY(integer_readings(r, &whole, false, &wr));
    int64_t cents = num->has_frac ? (num->frac[0] - '0') * 10 + (num->frac[1] - '0') : 0;
    if (cents) {
        number_t c = {0};
        c.n_digits = (size_t)snprintf(c.digits, sizeof(c.digits), "%d", (int)cents);
        TRY(integer_readings(r, &c, false, &cr));
    }
    const char *unit = wv == 1 ? cur->one : cur->many;
    const char *sub = cents == 1 ? cur->sub_one : cur->sub_many;
    if (cents && wv == 0) {
        for (int i = 0; i < cr.n; i++) {
            int k = reading_add(rd, cr.r[i].data);
            if (k < 0 || append(&rd->r[k], sub) < 0) TRY(FOLIO_ENOMEM);
        }
        goto fail;
    }
    /* Primary: "three dollars fifty cents" ("three pounds fifty" for sterling). */
    for (int i = 0; i < wr.n && rd->n < MAX_READINGS; i++) {
        int k = reading_add(rd, wr.r[i].data);
        if (k < 0 || append(&rd->r[k], unit) < 0) TRY(FOLIO_ENOMEM);
        if (cents) {
            TRY(append(&rd->r[k], cr.r[0].data));
            if (!cur->sub_after_plain) TRY(append(&rd->r[k], sub));
        }
    }
    if (cents) {
        const char *alts[3][2] = {{"and", cur->sub_after_plain ? NULL : sub},
                                  {NULL, cur->sub_after_plain ? sub : NULL},
                                  {"", NULL}};
        for (int a = 0; a < 3 && rd->n < MAX_READINGS; a++) {
            int k = reading_add(rd, wr.r[0].data);
            if (k < 0) TRY(FOLIO_ENOMEM);
            if (a < 2) TRY(append(&rd->r[k], unit));
            if (alts[a][0] && *alts[a][0]) TRY(append(&rd->r[k], alts[a][0]));
            TRY(append(&rd->r[k], cr.r[0].data));
            if (alts[a][1]) TRY(append(&rd->r[k], alts[a][1]));
        }
    }
fail:
    readings_free(&wr);
    readings_free(&cr);
    return rc;
}

/* Readings of a number segment, whatever its shape; @prev_noun: "No.", "#", "page" before it. */
int folio__spoken_number_readings(run_t *r, const char *t, bool prev_noun, readings_t *rd)
{
    number_t num;
    if (!parse_number(t, &num)) return FOLIO_EINVAL;
    const char *sfx = num.suffix;
    if (!num.has_frac && (strcmp(sfx, "st") == 0 || strcmp(sfx, "nd") == 0 ||
                          strcmp(sfx, "rd") == 0 || strcmp(sfx, "th") == 0))
        return ordinal_readings(r, &num, rd);
    int rc = num.has_frac ? decimal_readings(r, &num, rd)
                          : integer_readings(r, &num, !prev_noun && !*sfx, rd);
    if (rc < 0 || !*sfx) return rc;
    if (strcmp(sfx, "s") == 0 && !num.has_frac) {
        /* Decades and plurals: "1920s" -> "nineteen twenties", "60s" -> "sixties". Only the
         * year reading of a four-digit number makes a decade ("nineteen hundreds", never "one
         * thousand nine hundreds"); other numbers keep their plain reading ("the 80s"). */
        readings_free(rd);
        int64_t v = num.n_digits <= 15 ? digits_value(num.digits, num.n_digits) : 0;
        bool year = num.n_digits == 4 && !num.commas && v >= 1000 && v <= 2099;
        int k = reading_add(rd, NULL);
        if (k < 0) return FOLIO_ENOMEM;
        if (num.n_digits > 15 || (num.n_digits > 1 && num.digits[0] == '0'))
            rc = digits_reading(num.digits, num.n_digits, false, &rd->r[k]);
        else
            rc = folio__spoken_spell(r, year ? "%spellout-numbering-year" : "%spellout-numbering",
                                     v, &rd->r[k]);
        return rc < 0 ? rc : pluralise(&rd->r[k]);
    }
    /* Other letters ("5km", "3pm") are read as they are written, after the number. */
    for (int i = 0; i < rd->n; i++)
        if ((rc = append(&rd->r[i], sfx)) < 0) return rc;
    return FOLIO_OK;
}

/* Words before which a number is a label, not a quantity or year ("Chapter 12", "No. 5"). */
static bool number_noun(const char *w)
{
    static const char *const nouns[] = {"no", "nos",  "number", "page",   "p",    "pp",   "chapter",
                                        "ch", "room", "vol",    "volume", "part", "book", NULL};
    for (const char *const *n = nouns; *n; n++)
        if (strcmp(w, *n) == 0) return true;
    return false;
}

/* ---- numbers in context ---- */

/* The number of ASCII digits segment @i is made of, or 0 when it is not a number or holds
 * anything else ("1,455", "21st", "3.5"). */
static size_t plain_digits(const run_t *r, size_t i)
{
    if (i >= r->n_segs || r->segs[i].kind != SEG_NUMBER) return 0;
    for (size_t b = r->segs[i].b0; b < r->segs[i].b1; b++)
        if (!isdigit((unsigned char)r->s[b])) return 0;
    return r->segs[i].b1 - r->segs[i].b0;
}

static bool seg_word_is(const run_t *r, size_t i, const char *const *words)
{
    if (i >= r->n_segs || r->segs[i].kind != SEG_WORD) return false;
    size_t n = r->segs[i].b1 - r->segs[i].b0;
    for (const char *const *w = words; *w; w++)
        if (strlen(*w) == n && strncasecmp(r->s + r->segs[i].b0, *w, n) == 0) return true;
    return false;
}

/* Whether the number at segment @i is a label ("No. 5", "page 112", "#7"): not a quantity or a
 * year. */
static bool label_before(run_t *r, size_t i)
{
    if (i > 0 && seg_is(r, i - 1, "#")) return true;
    size_t prev = prev_word(r, i);
    if (prev == SIZE_MAX) return false;
    folio_str_t pw = {0};
    bool noun = folio__spoken_fold_seg(r, prev, &pw) == FOLIO_OK && pw.data && number_noun(pw.data);
    folio__str_free(&pw);
    return noun;
}

/* A month's name (capitalised) at segment @i. */
static bool month_at(const run_t *r, size_t i)
{
    static const char *const months[] = {
        "january", "february", "march",    "april", "may", "june", "july", "august", "september",
        "october", "november", "december", "jan",   "feb", "mar",  "apr",  "jun",    "jul",
        "aug",     "sep",      "sept",     "oct",   "nov", "dec",  NULL};
    return seg_capitalised(r, i) && seg_word_is(r, i, months);
}

/* What surrounds a number segment. */
typedef struct {
    size_t start;          /* the first segment of the source word (a sign, a currency symbol) */
    const currency_t *cur; /* "$5" */
    bool minus;            /* "-7" */
    bool point;            /* ".5" */
    bool phone;            /* one group of a telephone number: digit by digit */
    int label;             /* 1: a label ("pp. 5-7"), 0: not, -1: as the word before says */
} num_ctx_t;

/* Vulgar fractions. */
typedef struct {
    const char *s;
    int num, den;
} fraction_t;

static const fraction_t fractions[] = {
    {"\xc2\xbc", 1, 4},     {"\xc2\xbd", 1, 2},      {"\xc2\xbe", 3, 4},     {"\xe2\x85\x90", 1, 7},
    {"\xe2\x85\x91", 1, 9}, {"\xe2\x85\x92", 1, 10}, {"\xe2\x85\x93", 1, 3}, {"\xe2\x85\x94", 2, 3},
    {"\xe2\x85\x95", 1, 5}, {"\xe2\x85\x96", 2, 5},  {"\xe2\x85\x97", 3, 5}, {"\xe2\x85\x98", 4, 5},
    {"\xe2\x85\x99", 1, 6}, {"\xe2\x85\x9a", 5, 6},  {"\xe2\x85\x9b", 1, 8}, {"\xe2\x85\x9c", 3, 8},
    {"\xe2\x85\x9d", 5, 8}, {"\xe2\x85\x9e", 7, 8},
};

static const fraction_t *fraction_at(const run_t *r, size_t i)
{
    for (size_t k = 0; k < sizeof(fractions) / sizeof(fractions[0]); k++)
        if (seg_is(r, i, fractions[k].s)) return &fractions[k];
    return NULL;
}

/* The ways to say fraction @f: "a half", "one half"; "three quarters", "three fourths". With
 * @whole (the reading of a whole number before it, "3½") each follows "<whole> and"; alone, "one
 * half" comes first and plain "half" is one more. */
static int fraction_readings(run_t *r, const fraction_t *f, const char *whole, readings_t *rd)
{
    int rc = FOLIO_OK;
    folio_str_t phrase[6] = {{0}};
    size_t n = 0;
    for (int fourth = 0; fourth < (f->den == 4 ? 2 : 1); fourth++) {
        folio_str_t d = {0};
        bool plural = f->num > 1;
        if (f->den == 2)
            rc = append(&d, plural ? "halves" : "half");
        else if (f->den == 4 && !fourth)
            rc = append(&d, plural ? "quarters" : "quarter");
        else if ((rc = folio__spoken_spell(r, "%spellout-ordinal", f->den, &d)) == FOLIO_OK &&
                 plural)
            rc = folio__str_appendc(&d, 's') < 0 ? FOLIO_ENOMEM : FOLIO_OK;
        if (rc == FOLIO_OK && f->num == 1) {
            /* "a half" after a whole number, "one half" alone first. */
            const char *lead[2] = {whole ? "a" : "one", whole ? "one" : "a"};
            for (int k = 0; k < 2 && rc == FOLIO_OK; k++)
                if ((rc = append(&phrase[n], lead[k])) == FOLIO_OK)
                    rc = append(&phrase[n++], d.data);
        } else if (rc == FOLIO_OK) {
            if ((rc = folio__spoken_spell(r, "%spellout-numbering", f->num, &phrase[n])) ==
                FOLIO_OK)
                rc = append(&phrase[n++], d.data);
        }
        if (rc == FOLIO_OK && !whole && f->num == 1 && !fourth) rc = append(&phrase[n++], d.data);
        folio__str_free(&d);
        if (rc < 0) goto fail;
    }
    for (size_t k = 0; k < n; k++) {
        int i = reading_add(rd, whole);
        if (i < 0) TRY(FOLIO_ENOMEM);
        if (whole) TRY(append(&rd->r[i], "and"));
        TRY(append(&rd->r[i], phrase[k].data));
    }
fail:
    for (size_t k = 0; k < 6; k++) folio__str_free(&phrase[k]);
    return rc;
}

/* A telephone number's group ("555-1234"): digit by digit with "zero" or with "oh", and four
 * digits also in pairs ("twelve thirty four"); "800" is "eight hundred" first. */
static int phone_readings(run_t *r, const number_t *num, readings_t *rd)
{
    int64_t v = digits_value(num->digits, num->n_digits);
    if (num->n_digits == 3 && v % 100 == 0 && v > 0) {
        int k = reading_add(rd, NULL);
        if (k < 0 || folio__spoken_spell(r, "%spellout-numbering", v, &rd->r[k]) < 0)
            return FOLIO_ENOMEM;
    }
    int a = reading_add(rd, NULL), b = reading_add(rd, NULL);
    if (a < 0 || b < 0) return FOLIO_ENOMEM;
    if (digits_reading(num->digits, num->n_digits, false, &rd->r[a]) < 0 ||
        digits_reading(num->digits, num->n_digits, true, &rd->r[b]) < 0)
        return FOLIO_ENOMEM;
    if (num->n_digits != 4 || v < 1000) return FOLIO_OK;
    int k = reading_add(rd, NULL);
    return k < 0 ? FOLIO_ENOMEM : folio__spoken_spell(r, "%spellout-numbering-year", v, &rd->r[k]);
}

/* ".5": "point five", "zero point five"; ".45" (a calibre) also "forty five". */
static int point_readings(run_t *r, const number_t *num, readings_t *rd)
{
    int a = reading_add(rd, "point"), b = reading_add(rd, "zero point");
    if (a < 0 || b < 0) return FOLIO_ENOMEM;
    if (digits_reading(num->digits, num->n_digits, false, &rd->r[a]) < 0 ||
        digits_reading(num->digits, num->n_digits, false, &rd->r[b]) < 0)
        return FOLIO_ENOMEM;
    if (num->n_digits != 2 || num->digits[0] == '0') return FOLIO_OK;
    int k = reading_add(rd, NULL);
    return k < 0 ? FOLIO_ENOMEM
                 : folio__spoken_spell(r, "%spellout-numbering", digits_value(num->digits, 2),
                                       &rd->r[k]);
}

/* A label of three or four digits ("Room 237", "No. 1455") is often said in pairs ("two thirty
 * seven", "fourteen fifty five") or digit by digit: alternatives. */
static int label_alternatives(run_t *r, const number_t *num, readings_t *rd)
{
    if (num->has_frac || num->commas || *num->suffix || num->n_digits < 3 || num->n_digits > 4 ||
        num->digits[0] == '0')
        return FOLIO_OK;
    int k = reading_add(rd, NULL);
    if (k < 0) return FOLIO_ENOMEM;
    int rc = digits_reading(num->digits, num->n_digits, false, &rd->r[k]);
    int64_t v = digits_value(num->digits, num->n_digits), tail = v % 100;
    if (rc < 0 || (num->n_digits == 3 && tail == 0) ||
        (num->n_digits == 4 && v >= 2000 && v < 2010))
        return rc;
    if ((k = reading_add(rd, NULL)) < 0) return FOLIO_ENOMEM;
    if (num->n_digits == 4) return folio__spoken_spell(r, "%spellout-numbering-year", v, &rd->r[k]);
    if (append(&rd->r[k], digit_names[num->digits[0] - '0']) < 0) return FOLIO_ENOMEM;
    if (tail < 10 && append(&rd->r[k], "oh") < 0) return FOLIO_ENOMEM;
    return folio__spoken_spell(r, "%spellout-numbering", tail, &rd->r[k]);
}

/* A day next to a month's name is an ordinal: "3 May" -> "the third of may" (or "three",
 * "third"), "May 3" -> "may third" (or "three", "the third"). @rd holds the number's readings;
 * nothing changes elsewhere. */
static int date_readings(run_t *r, size_t i, const number_t *num, readings_t *rd)
{
    const char *s = num->suffix;
    bool ordinal = strcmp(s, "st") == 0 || strcmp(s, "nd") == 0 || strcmp(s, "rd") == 0 ||
                   strcmp(s, "th") == 0;
    if (num->has_frac || num->commas || (*s && !ordinal) || num->n_digits > 2) return FOLIO_OK;
    int64_t v = digits_value(num->digits, num->n_digits);
    if (v < 1 || v > 31) return FOLIO_OK;
    size_t next = next_nonspace(r, i);
    bool before = month_at(r, next) && adjacent(r, i, next);
    /* "May 3", "Jan. 3". */
    size_t prev = prev_word(r, i);
    bool after = prev != SIZE_MAX && month_at(r, prev);
    for (size_t k = prev + 1; after && k < i; k++)
        after = r->segs[k].kind == SEG_SPACE || (k == prev + 1 && seg_is(r, k, "."));
    if (!before && !after) return FOLIO_OK;
    int rc = FOLIO_OK;
    readings_t old = *rd;
    folio_str_t ord = {0}, the = {0}, the_of = {0};
    memset(rd, 0, sizeof(*rd));
    TRY(folio__spoken_spell(r, "%spellout-ordinal", v, &ord));
    TRY(append(&the, "the"));
    TRY(append(&the, ord.data));
    TRY(append(&the_of, the.data));
    TRY(append(&the_of, "of"));
    const char *order[MAX_READINGS] = {before ? the_of.data : ord.data};
    int n = 1;
    for (int k = 0; k < old.n && n < MAX_READINGS - 2; k++) order[n++] = old.r[k].data;
    order[n++] = before ? ord.data : the.data;
    if (before) order[n++] = the.data;
    for (int k = 0; k < n; k++)
        if (reading_add(rd, order[k]) < 0) TRY(FOLIO_ENOMEM);
fail:
    readings_free(&old);
    folio__str_free(&ord);
    folio__str_free(&the);
    folio__str_free(&the_of);
    return rc;
}

/* "-7": "minus seven", or "negative seven". */
static int signed_readings(readings_t *rd)
{
    readings_t old = *rd;
    memset(rd, 0, sizeof(*rd));
    int rc = FOLIO_OK;
    for (int k = 0; k < old.n + 1 && k < MAX_READINGS && rc == FOLIO_OK; k++) {
        int i = reading_add(rd, k < old.n ? "minus" : "negative");
        rc = i < 0 ? FOLIO_ENOMEM : append(&rd->r[i], old.r[k < old.n ? k : 0].data);
    }
    readings_free(&old);
    return rc;
}

/* The scale word after an amount of money ("$5 million"), or SIZE_MAX. */
static size_t scale_after(const run_t *r, size_t i)
{
    static const char *const scales[] = {"thousand", "million", "billion", "trillion", NULL};
    size_t next = next_nonspace(r, i);
    return seg_word_is(r, next, scales) && adjacent(r, i, next) ? next : SIZE_MAX;
}

/* The number at segment @i, as one source word with what belongs to it: a sign or a currency
 * symbol before it (@x), and after it "%", "¢", a fraction ("3½") or a scale word after an amount
 * of money. A source word covers every character its reading says, and all its tokens carry
 * that whole span: "$5 million" is read "five million dollars", so "$", "5" and "million" are
 * one source word whose three tokens each span all of "$5 million" (the order of the reading
 * need not follow the text). *@next is the first segment after the word. */
static int number_segment(run_t *r, size_t i, const num_ctx_t *x, folio_str_t *folded, size_t *next)
{
    int rc;
    readings_t rd = {0};
    const seg_t *g = &r->segs[i];
    *next = i + 1;
    TRY(folio__spoken_fold_seg(r, i, folded));
    size_t c0 = r->segs[x->start].c0, c1 = g->c1;
    number_t num;
    bool label = x->label >= 0 ? x->label == 1 : label_before(r, x->start);
    const fraction_t *f;
    if (!parse_number(folded->data, &num)) {
        TRY(folio__spoken_plain_readings(r, folded->data, &rd));
    } else if (x->phone) {
        TRY(phone_readings(r, &num, &rd));
    } else if (x->point) {
        TRY(point_readings(r, &num, &rd));
    } else if (x->cur && !*num.suffix) {
        size_t scale = scale_after(r, i);
        if (scale == SIZE_MAX) {
            TRY(money_readings(r, x->cur, &num, &rd));
        } else {
            /* "$5 million" -> "five million dollars"; "$1.5 billion" -> "one point five ...". */
            folio_str_t sw = {0};
            rc = folio__spoken_number_readings(r, folded->data, true, &rd);
            if (rc == FOLIO_OK) rc = folio__spoken_fold_seg(r, scale, &sw);
            for (int k = 0; k < rd.n && rc == FOLIO_OK; k++)
                if ((rc = append(&rd.r[k], sw.data)) == FOLIO_OK)
                    rc = append(&rd.r[k], x->cur->many);
            folio__str_free(&sw);
            if (rc < 0) goto fail;
            c1 = r->segs[scale].c1;
            *next = scale + 1;
        }
    } else {
        TRY(folio__spoken_number_readings(r, folded->data, label || x->minus, &rd));
        if (label) TRY(label_alternatives(r, &num, &rd));
        if (seg_is(r, i + 1, "%")) {
            c1 = r->segs[i + 1].c1;
            *next = i + 2;
            int n = rd.n;
            for (int k = 0; k < n; k++) TRY(append(&rd.r[k], "percent"));
            if (rd.n < MAX_READINGS) {
                int k = reading_add(&rd, rd.r[0].data);
                if (k < 0) TRY(FOLIO_ENOMEM);
                rd.r[k].len -= strlen("percent");
                TRY(folio__str_append(&rd.r[k], "per cent", 8));
            }
        } else if (seg_is(r, i + 1, "\xc2\xa2") && !*num.suffix) {
            /* "50¢" */
            bool one = !num.has_frac && digits_value(num.digits, num.n_digits) == 1;
            for (int k = 0; k < rd.n; k++) TRY(append(&rd.r[k], one ? "cent" : "cents"));
            c1 = r->segs[i + 1].c1;
            *next = i + 2;
        } else if (!*num.suffix && !num.has_frac && (f = fraction_at(r, i + 1))) {
            /* "3½" -> "three and a half". */
            readings_t whole = rd;
            memset(&rd, 0, sizeof(rd));
            rc = fraction_readings(r, f, whole.r[0].data, &rd);
            readings_free(&whole);
            if (rc < 0) goto fail;
            c1 = r->segs[i + 1].c1;
            *next = i + 2;
        } else if (!label && !x->minus) {
            TRY(date_readings(r, i, &num, &rd));
        }
    }
    if (x->minus) TRY(signed_readings(&rd));
    rc = folio__spoken_emit(r, c0, c1, &rd);
fail:
    readings_free(&rd);
    return rc;
}

static bool is_dash(const run_t *r, size_t i)
{
    return seg_is(r, i, "-") || seg_is(r, i, "\xe2\x80\x93");
}

/* Segment @i (a dash) continues a run of numbers joined by dashes. */
static bool joins_number(const run_t *r, size_t i)
{
    return is_dash(r, i) && i + 1 < r->n_segs && r->segs[i + 1].kind == SEG_NUMBER;
}

/* The last group of a telephone number starting at segment @i, or SIZE_MAX: groups of at most
 * four digits joined by hyphens, the last two of three and four digits ("555-1234",
 * "555-123-4567", "1-800-555-1234"). */
static size_t phone_end(const run_t *r, size_t i)
{
    size_t d = plain_digits(r, i), last = i;
    if (!d || d > 4) return SIZE_MAX;
    while (seg_is(r, last + 1, "-") && (d = plain_digits(r, last + 2)) && d <= 4) last += 2;
    if (joins_number(r, last + 1) || last < i + 2) return SIZE_MAX;
    return plain_digits(r, last) == 4 && plain_digits(r, last - 2) == 3 ? last : SIZE_MAX;
}

/* A number at segment @i and what may join it to the next: a telephone number ("555-1234",
 * "(555) 123-4567") is read group by group, digit by digit; a range ("pp. 5-7", "1914-1918",
 * "5–7" with an en dash) is read with "to" (or "through") for its dash, which is its own source
 * word; otherwise the number alone. A hyphen between other numbers ("won 5-3") is not said. */
static int number_run(run_t *r, size_t i, folio_str_t *folded, size_t *next)
{
    int rc = FOLIO_OK;
    num_ctx_t x = {i, NULL, false, false, false, -1};
    bool after_dash = i > 0 && joins_number(r, i - 1) && i > 1 && r->segs[i - 2].kind == SEG_NUMBER;
    size_t last = after_dash ? SIZE_MAX : phone_end(r, i);
    /* "(555) 123-4567": the area code in parentheses before the rest. */
    if (plain_digits(r, i) == 3 && i > 0 && seg_is(r, i - 1, "(") && seg_is(r, i + 1, ")") &&
        (phone_end(r, i + 2) != SIZE_MAX ||
         (seg_is(r, i + 2, " ") && phone_end(r, i + 3) != SIZE_MAX)))
        last = i;
    if (last != SIZE_MAX) {
        x.phone = true;
        for (size_t k = i; k <= last && rc == FOLIO_OK; k += 2) {
            x.start = k;
            rc = number_segment(r, k, &x, folded, next);
        }
        *next = last + 1;
        return rc;
    }
    /* A range: "5-7", "1914–1918", "1914 – 1918". */
    size_t dash = i + 1, j = i + 2;
    if (seg_is(r, i + 1, " ") && seg_is(r, i + 2, "\xe2\x80\x93") && seg_is(r, i + 3, " "))
        dash = i + 2, j = i + 4;
    number_t a, b;
    folio_str_t fb = {0};
    bool range = !after_dash && is_dash(r, dash) && j < r->n_segs &&
                 r->segs[j].kind == SEG_NUMBER && !joins_number(r, j + 1) &&
                 (dash == i + 1 || seg_is(r, dash, "\xe2\x80\x93"));
    if (range) {
        TRY(folio__spoken_fold_seg(r, i, folded));
        TRY(folio__spoken_fold_seg(r, j, &fb));
        range = parse_number(folded->data, &a) && parse_number(fb.data, &b) && !*a.suffix &&
                !*b.suffix && !a.has_frac && !b.has_frac;
    }
    if (range) {
        bool label = label_before(r, i);
        int64_t va = a.n_digits == 4 ? digits_value(a.digits, 4) : 0;
        int64_t vb = b.n_digits <= 4 ? digits_value(b.digits, b.n_digits) : 0;
        bool years = !a.commas && !b.commas && va >= 1000 && va <= 2099 &&
                     ((b.n_digits == 4 && vb > va) || b.n_digits == 2);
        range = label || years || seg_is(r, dash, "\xe2\x80\x93");
        x.label = label;
    }
    if (!range) {
        rc = number_segment(r, i, &x, folded, next);
        goto fail;
    }
    TRY(number_segment(r, i, &x, folded, next));
    readings_t to = {0};
    rc = reading_add(&to, "to") < 0 || reading_add(&to, "through") < 0
             ? FOLIO_ENOMEM
             : folio__spoken_emit(r, r->segs[dash].c0, r->segs[dash].c1, &to);
    readings_free(&to);
    if (rc < 0) goto fail;
    x.start = j;
    rc = number_segment(r, j, &x, folded, next);
fail:
    folio__str_free(&fb);
    return rc;
}

/* Superscript digits (and minus) at segment @i: the digit, 10 for the minus, or -1. */
static int superscript_at(const run_t *r, size_t i)
{
    static const char *const sup[] = {"\xe2\x81\xb0", "\xc2\xb9",     "\xc2\xb2",
                                      "\xc2\xb3",     "\xe2\x81\xb4", "\xe2\x81\xb5",
                                      "\xe2\x81\xb6", "\xe2\x81\xb7", "\xe2\x81\xb8",
                                      "\xe2\x81\xb9", "\xe2\x81\xbb"};
    for (int k = 0; k < 11; k++)
        if (seg_is(r, i, sup[k])) return k;
    return -1;
}

/* Superscript digits from segment @i ("x²", "10⁻³"): a power, read "squared", "cubed" or "to the
 * power of n" — when they follow a number, a symbol of one or two letters or a closing
 * parenthesis with nothing between. After a longer word they mark a footnote, which is not
 * said. *@next is the first segment after them. */
static int power_segment(run_t *r, size_t i, size_t *next)
{
    char digits[24];
    size_t n = 0, j = i;
    bool minus = superscript_at(r, j) == 10;
    if (minus) j++;
    for (int d; j < r->n_segs && (d = superscript_at(r, j)) >= 0 && d < 10 && n + 1 < 19; j++)
        digits[n++] = (char)('0' + d);
    digits[n] = '\0';
    *next = j;
    if (!n) return FOLIO_OK;
    const seg_t *p = i > 0 ? &r->segs[i - 1] : NULL;
    bool base = p && (p->kind == SEG_NUMBER || (p->kind == SEG_WORD && p->c1 - p->c0 <= 2) ||
                      seg_is(r, i - 1, ")"));
    if (!base) return FOLIO_OK;
    int rc = FOLIO_OK;
    readings_t rd = {0};
    folio_str_t card = {0}, ord = {0};
    int64_t v = digits_value(digits, n);
    TRY(minus ? append(&card, "minus") : FOLIO_OK);
    TRY(folio__spoken_spell(r, "%spellout-numbering", v, &card));
    TRY(minus ? append(&ord, "minus") : FOLIO_OK);
    TRY(folio__spoken_spell(r, "%spellout-ordinal", v, &ord));
    if (!minus && (v == 2 || v == 3) && reading_add(&rd, v == 2 ? "squared" : "cubed") < 0)
        TRY(FOLIO_ENOMEM);
    const char *lead[3] = {"to the power of", "to the", "to the"};
    const char *what[3] = {card.data, minus ? card.data : ord.data, card.data};
    for (int k = 0; k < (minus ? 2 : 3); k++) {
        int x = reading_add(&rd, lead[k]);
        if (x < 0) TRY(FOLIO_ENOMEM);
        TRY(append(&rd.r[x], what[k]));
    }
    rc = folio__spoken_emit(r, r->segs[i].c0, r->segs[j - 1].c1, &rd);
fail:
    readings_free(&rd);
    folio__str_free(&card);
    folio__str_free(&ord);
    return rc;
}

/* A fraction on its own: "½ cup". */
static int fraction_alone(run_t *r, size_t i, const fraction_t *f, size_t *next)
{
    readings_t rd = {0};
    int rc = fraction_readings(r, f, NULL, &rd);
    if (rc == FOLIO_OK && rd.n) rc = folio__spoken_emit(r, r->segs[i].c0, r->segs[i].c1, &rd);
    readings_free(&rd);
    *next = i + 1;
    return rc;
}

int folio__spoken_number(run_t *r, size_t i, folio_str_t *folded, size_t *next, bool *found)
{
    int rc = FOLIO_OK;
    const seg_t *g = &r->segs[i];
    const currency_t *cur = currency_of(r, i);
    const fraction_t *f;
    /* A sign or a leading point belongs to the number only at a word's start: "-7", ".5"
     * (not "5-7" or "end.5"). */
    bool starts = i == 0 || r->segs[i - 1].kind == SEG_SPACE;
    bool number_next = i + 1 < r->n_segs && r->segs[i + 1].kind == SEG_NUMBER;
    num_ctx_t x = {i, NULL, false, false, false, -1};
    *found = true;
    if (cur && number_next) {
        x.cur = cur;
        TRY(number_segment(r, i + 1, &x, folded, next));
    } else if (starts && number_next && (seg_is(r, i, "-") || seg_is(r, i, "\xe2\x88\x92"))) {
        x.minus = true;
        TRY(number_segment(r, i + 1, &x, folded, next));
    } else if (starts && seg_is(r, i, ".") && plain_digits(r, i + 1)) {
        x.point = true;
        TRY(number_segment(r, i + 1, &x, folded, next));
    } else if (g->kind == SEG_NUMBER) {
        TRY(number_run(r, i, folded, next));
    } else if (g->kind == SEG_OTHER && superscript_at(r, i) >= 0) {
        TRY(power_segment(r, i, next));
    } else if (g->kind == SEG_OTHER && (f = fraction_at(r, i))) {
        TRY(fraction_alone(r, i, f, next));
    } else {
        *found = false;
    }
fail:
    return rc;
}
