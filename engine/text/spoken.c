/* The spoken form of book text: ICU word segmentation, then Folio's own rules for what a narrator
 * says for each written word — numbers (cardinals, years, ordinals, decimals, currency,
 * percentages), abbreviations, roman numerals in headings, symbols and acronyms — with alternative
 * readings where narrators differ. Needs ICU only. */
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>
#include <unicode/utrans.h>

#define MAX_READINGS 6

struct folio_speaker {
    UBreakIterator *words;
    UNumberFormat *spell;
    const UNormalizer2 *nfkc_cf;
};

folio_speaker_t *folio__speaker_new(void)
{
    folio_speaker_t *sp = calloc(1, sizeof(*sp));
    if (!sp) return NULL;
    UErrorCode e = U_ZERO_ERROR;
    sp->words = ubrk_open(UBRK_WORD, "en", NULL, 0, &e);
    sp->spell = unum_open(UNUM_SPELLOUT, NULL, 0, "en", NULL, &e);
    sp->nfkc_cf = unorm2_getNFKCCasefoldInstance(&e);
    if (U_FAILURE(e)) {
        folio__speaker_free(sp);
        return NULL;
    }
    return sp;
}

void folio__speaker_free(folio_speaker_t *sp)
{
    if (!sp) return;
    if (sp->words) ubrk_close(sp->words);
    if (sp->spell) unum_close(sp->spell);
    free(sp);
}

void folio__spoken_free(folio_spoken_t *out)
{
    folio__str_free(&out->pool);
    VEC_FREE(out->tokens);
    VEC_FREE(out->words);
    VEC_FREE(out->alts);
    VEC_FREE(out->word_alt);
}

void folio__spoken_finish(folio_spoken_t *out)
{
    if (out->finished) return;
    for (size_t i = 0; i < out->tokens.len; i++)
        out->tokens.items[i].text = out->pool.data + (uintptr_t)out->tokens.items[i].text;
    out->finished = true;
}

/* ---- segments ---- */

typedef enum { SEG_SPACE, SEG_WORD, SEG_NUMBER, SEG_OTHER } seg_kind_t;

typedef struct {
    size_t b0, b1; /* bytes in the block */
    size_t c0, c1; /* code points in the book */
    seg_kind_t kind;
} seg_t;

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

static void readings_free(readings_t *rd)
{
    for (int i = 0; i < MAX_READINGS; i++) folio__str_free(&rd->r[i]);
    rd->n = 0;
}

/* Append @text as a new reading (NULL: start an empty one); returns its index or -1. */
static int reading_add(readings_t *rd, const char *text)
{
    if (rd->n >= MAX_READINGS) return -1;
    folio_str_t *r = &rd->r[rd->n];
    r->len = 0;
    if (folio__str_append(r, text ? text : "", text ? strlen(text) : 0) < 0) return -1;
    return rd->n++;
}

static seg_kind_t classify(const char *s, size_t n)
{
    size_t len;
    UChar32 c = (UChar32)folio__utf8_decode(s, &len);
    if (u_isdigit(c)) return SEG_NUMBER;
    bool space = true;
    for (size_t i = 0; i < n; i += len) {
        c = (UChar32)folio__utf8_decode(s + i, &len);
        if (u_isalpha(c) || u_isdigit(c)) return SEG_WORD;
        if (!u_isWhitespace(c)) space = false;
    }
    return space ? SEG_SPACE : SEG_OTHER;
}

static bool seg_is(const run_t *r, size_t i, const char *text)
{
    if (i >= r->n_segs) return false;
    const seg_t *g = &r->segs[i];
    size_t n = strlen(text);
    return g->b1 - g->b0 == n && memcmp(r->s + g->b0, text, n) == 0;
}

/* The next segment after @i that is not space, or n_segs. */
static size_t next_nonspace(const run_t *r, size_t i)
{
    for (i++; i < r->n_segs && r->segs[i].kind == SEG_SPACE; i++) {
    }
    return i;
}

static size_t prev_word(const run_t *r, size_t i)
{
    while (i-- > 0)
        if (r->segs[i].kind == SEG_WORD || r->segs[i].kind == SEG_NUMBER) return i;
    return SIZE_MAX;
}

static bool seg_capitalised(const run_t *r, size_t i)
{
    if (i >= r->n_segs || r->segs[i].kind != SEG_WORD) return false;
    size_t len;
    return u_isupper((UChar32)folio__utf8_decode(r->s + r->segs[i].b0, &len));
}

/* ---- normalisation ---- */

/* NFKC + case folding of @s[0..n); apostrophe look-alikes become "'". Result in @out. */
static int fold(run_t *r, const char *s, size_t n, folio_str_t *out)
{
    out->len = 0;
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++) ascii = (unsigned char)s[i] < 0x80;
    if (ascii) {
        for (size_t i = 0; i < n; i++)
            if (folio__str_appendc(out, s[i] == '`' ? '\'' : (char)tolower((unsigned char)s[i])) <
                0)
                return FOLIO_ENOMEM;
        if (!out->data && folio__str_append(out, "", 0) < 0) return FOLIO_ENOMEM;
        return FOLIO_OK;
    }
    UErrorCode e = U_ZERO_ERROR;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, s, (int32_t)n, &e);
    e = U_ZERO_ERROR;
    UChar stack_src[256], stack_dst[768];
    UChar *src = ulen < 256 ? stack_src : malloc(((size_t)ulen + 1) * sizeof(UChar));
    int32_t dcap = ulen * 3 + 16;
    UChar *dst = dcap <= 768 ? stack_dst : malloc((size_t)dcap * sizeof(UChar));
    int rc = FOLIO_ENOMEM;
    if (!src || !dst) goto done;
    u_strFromUTF8(src, ulen + 1, NULL, s, (int32_t)n, &e);
    int32_t dlen = unorm2_normalize(r->sp->nfkc_cf, src, ulen, dst, dcap, &e);
    if (U_FAILURE(e)) goto done;
    for (int32_t i = 0; i < dlen; i++) {
        UChar c = dst[i];
        char buf[4];
        if (c == 0x2019 || c == 0x2018 || c == 0x02BC || c == 0x0060 || c == 0x00B4) c = '\'';
        UChar32 cp = c;
        if (U16_IS_LEAD(c) && i + 1 < dlen && U16_IS_TRAIL(dst[i + 1]))
            cp = U16_GET_SUPPLEMENTARY(c, dst[++i]);
        if (folio__str_append(out, buf, folio__utf8_encode((uint32_t)cp, buf)) < 0) goto done;
    }
    if (!out->data && folio__str_append(out, "", 0) < 0) goto done;
    rc = FOLIO_OK;
done:
    if (src != stack_src) free(src);
    if (dst != stack_dst) free(dst);
    return rc;
}

/* ---- words and tokens ---- */

static int pool_add(folio_spoken_t *out, const char *s, size_t n, size_t *off)
{
    *off = out->pool.len;
    if (folio__str_append(&out->pool, s, n) < 0) return FOLIO_ENOMEM;
    return folio__str_append(&out->pool, "\0", 1);
}

static int begin_word(run_t *r, size_t c0, size_t c1)
{
    folio_word_t w = {c0, c1, r->out->tokens.len, 0, 0, r->block, r->read};
    r->primary.len = 0;
    if (VEC_PUSH(r->out->words, w) < 0) return FOLIO_ENOMEM;
    return VEC_PUSH(r->out->word_alt, r->out->alts.len);
}

/* Append the tokens of @reading (words separated by spaces or hyphens) to the current word. */
static int add_tokens(run_t *r, const char *reading)
{
    folio_word_t *w = &r->out->words.items[r->out->words.len - 1];
    for (const char *p = reading; *p;) {
        while (*p == ' ' || *p == '-') p++;
        const char *q = p;
        while (*q && *q != ' ' && *q != '-') q++;
        if (q == p) break;
        size_t off;
        if (pool_add(r->out, p, (size_t)(q - p), &off) < 0) return FOLIO_ENOMEM;
        folio_token_t t = {(const char *)(uintptr_t)off,
                           r->out->words.len - 1,
                           w->start_char,
                           w->end_char,
                           r->block,
                           r->read};
        if (VEC_PUSH(r->out->tokens, t) < 0) return FOLIO_ENOMEM;
        w->n_tokens++;
        if ((r->primary.len && folio__str_appendc(&r->primary, ' ') < 0) ||
            folio__str_append(&r->primary, p, (size_t)(q - p)) < 0)
            return FOLIO_ENOMEM;
        p = q;
    }
    return FOLIO_OK;
}

/* Record an alternative reading of the current word unless it repeats one already there. */
static int add_alternative(run_t *r, const char *reading)
{
    folio_str_t norm = {0};
    int rc = FOLIO_OK;
    for (const char *p = reading; *p;) {
        while (*p == ' ' || *p == '-') p++;
        const char *q = p;
        while (*q && *q != ' ' && *q != '-') q++;
        if (q == p) break;
        if ((norm.len && folio__str_appendc(&norm, ' ') < 0) ||
            folio__str_append(&norm, p, (size_t)(q - p)) < 0)
            FAIL(NULL, FOLIO_ENOMEM, "oom");
        p = q;
    }
    if (!norm.len || (r->primary.data && strcmp(norm.data, r->primary.data) == 0)) goto fail;
    folio_word_t *w = &r->out->words.items[r->out->words.len - 1];
    size_t first = r->out->word_alt.items[r->out->words.len - 1];
    for (size_t k = 0; k < w->n_alternatives; k++)
        if (strcmp(r->out->pool.data + r->out->alts.items[first + k], norm.data) == 0) goto fail;
    size_t off;
    TRY(pool_add(r->out, norm.data, norm.len, &off));
    TRY(VEC_PUSH(r->out->alts, off));
    w->n_alternatives++;
fail:
    folio__str_free(&norm);
    return rc;
}

static int emit_readings(run_t *r, size_t c0, size_t c1, readings_t *rd)
{
    int rc;
    TRY(begin_word(r, c0, c1));
    if (rd->n > 0) TRY(add_tokens(r, rd->r[0].data ? rd->r[0].data : ""));
    for (int i = 1; i < rd->n; i++)
        if (rd->r[i].data) TRY(add_alternative(r, rd->r[i].data));
fail:
    return rc;
}

/* ---- numbers ---- */

/* ICU's spell-out of @v with @ruleset, as space-separated words: hyphens to spaces, no commas. */
static int spell(run_t *r, const char *ruleset, int64_t v, folio_str_t *out)
{
    UChar rs[48], buf[512];
    u_uastrncpy(rs, ruleset, 47);
    rs[47] = 0;
    UErrorCode e = U_ZERO_ERROR;
    unum_setTextAttribute(r->sp->spell, UNUM_DEFAULT_RULESET, rs, -1, &e);
    int32_t n = unum_formatInt64(r->sp->spell, v, buf, 512, NULL, &e);
    if (U_FAILURE(e)) return FOLIO_ENOMEM;
    char utf8[1536];
    int32_t blen = 0;
    u_strToUTF8(utf8, sizeof(utf8), &blen, buf, n, &e);
    if (U_FAILURE(e)) return FOLIO_ENOMEM;
    if (out->len && out->data[out->len - 1] != ' ' && folio__str_appendc(out, ' ') < 0)
        return FOLIO_ENOMEM;
    for (int32_t i = 0; i < blen; i++) {
        char c = utf8[i] == '-' ? ' ' : utf8[i];
        if (c == ',') continue;
        if (c == ' ' && out->len && out->data[out->len - 1] == ' ') continue;
        if (folio__str_appendc(out, c) < 0) return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

static int append(folio_str_t *s, const char *text)
{
    if (s->len && s->data[s->len - 1] != ' ' && folio__str_appendc(s, ' ') < 0) return FOLIO_ENOMEM;
    return folio__str_append(s, text, strlen(text));
}

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
        TRY(spell(r, sets[i], v, &rd->r[k]));
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
        if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(append(&rd->r[k], "point"));
        TRY(digits_reading(num->frac, num->n_frac, false, &rd->r[k]));
    }
    if (num->n_digits == 1 && num->digits[0] == '0') {
        int k = reading_add(rd, "point");
        if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
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
    return spell(r, "%spellout-ordinal", digits_value(num->digits, num->n_digits), &rd->r[k]);
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
            if (k < 0 || append(&rd->r[k], sub) < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        }
        goto fail;
    }
    /* Primary: "three dollars fifty cents" ("three pounds fifty" for sterling). */
    for (int i = 0; i < wr.n && rd->n < MAX_READINGS; i++) {
        int k = reading_add(rd, wr.r[i].data);
        if (k < 0 || append(&rd->r[k], unit) < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
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
            if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
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
static int number_readings(run_t *r, const char *t, bool prev_noun, readings_t *rd)
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
        /* Decades and plurals: "1920s" -> "nineteen twenties", "60s" -> "sixties". */
        for (int i = 0; i < rd->n; i++) rd->r[i].len = 0;
        rd->n = 0;
        number_t plain = num;
        plain.suffix[0] = '\0';
        if ((rc = integer_readings(r, &plain, true, rd)) < 0) return rc;
        for (int i = 0; i < rd->n; i++)
            if ((rc = pluralise(&rd->r[i])) < 0) return rc;
        return FOLIO_OK;
    }
    /* Other letters ("5km", "3pm") are read as they are written, after the number. */
    for (int i = 0; i < rd->n; i++)
        if ((rc = append(&rd->r[i], sfx)) < 0) return rc;
    return FOLIO_OK;
}

/* ---- words ---- */

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
    {"no", "number", NULL, NEEDS_PERIOD | BEFORE_NUMBER},
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

/* Words before which a number is a label, not a quantity or year ("Chapter 12", "No. 5"). */
static bool number_noun(const char *w)
{
    static const char *const nouns[] = {"no", "nos",  "number", "page",   "p",    "pp",   "chapter",
                                        "ch", "room", "vol",    "volume", "part", "book", NULL};
    for (const char *const *n = nouns; *n; n++)
        if (strcmp(w, *n) == 0) return true;
    return false;
}

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

/* The value of an upper- or lower-case roman numeral written canonically, else 0. */
static int roman_value(const char *s, size_t n)
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

static bool all_upper_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isupper((unsigned char)s[i])) return false;
    return n > 0;
}

/* Fold segment @i into @out. */
static int fold_seg(run_t *r, size_t i, folio_str_t *out)
{
    return fold(r, r->s + r->segs[i].b0, r->segs[i].b1 - r->segs[i].b0, out);
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
        /* Without a period, a title must be followed by a name ("Mr Hale", "St Paul"). */
        if (!period && !seg_capitalised(r, next)) return FOLIO_OK;
        readings_t rd = {0};
        const char *first = a->reading, *second = a->alt;
        if (a->flags & PLACE) {
            /* "St. Paul" is a saint; "Baker St." a street: after a name, before no name. */
            size_t prev = prev_word(r, i);
            if (prev != SIZE_MAX && seg_capitalised(r, prev) && !seg_capitalised(r, next)) {
                first = a->alt;
                second = a->reading;
            }
        }
        int rc = FOLIO_ENOMEM;
        if (reading_add(&rd, first) >= 0 && (!second || reading_add(&rd, second) >= 0)) {
            size_t end = period ? r->segs[i + 1].c1 : r->segs[i].c1;
            rc = emit_readings(r, r->segs[i].c0, end, &rd);
        }
        readings_free(&rd);
        *used = period ? 2 : 1;
        return rc;
    }
    return FOLIO_OK;
}

/* Split a folded word into pieces of letters (and apostrophes or marks) and digits, reading the
 * digit runs as numbers: "b12" -> "b twelve", "example.com" -> "example com". */
static int plain_readings(run_t *r, const char *t, readings_t *rd)
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
            int rc = number_readings(r, num, true, &nr);
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

static int word_segment(run_t *r, size_t i, size_t *used, folio_str_t *folded)
{
    int rc;
    readings_t rd = {0};
    folio_str_t pw = {0};
    *used = 1;
    const seg_t *g = &r->segs[i];
    const char *raw = r->s + g->b0;
    size_t rawn = g->b1 - g->b0;
    TRY(fold_seg(r, i, folded));
    TRY(try_abbreviation(r, i, folded->data, used));
    if (*used) goto fail;
    *used = 1;
    size_t end = g->c1;

    size_t prev = prev_word(r, i);
    if (prev != SIZE_MAX) TRY(fold_seg(r, prev, &pw));
    const char *pws = pw.data ? pw.data : "";
    int roman = roman_value(raw, rawn);
    bool whole_heading = r->heading && prev == SIZE_MAX &&
                         (rawn > 1 || next_nonspace(r, i) >= r->n_segs || seg_is(r, i + 1, ".") ||
                          seg_is(r, i + 1, ":"));
    if (roman && (roman_keyword(pws) || whole_heading)) {
        /* "CHAPTER XII" -> "chapter twelve". */
        int k = reading_add(&rd, NULL);
        if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(spell(r, "%spellout-numbering", roman, &rd.r[k]));
    } else if (roman && rawn >= 2 && all_upper_ascii(raw, rawn) && prev != SIZE_MAX &&
               seg_capitalised(r, prev) &&
               !all_upper_ascii(r->s + r->segs[prev].b0, r->segs[prev].b1 - r->segs[prev].b0)) {
        /* "Henry VIII" -> "henry the eighth". */
        int k = reading_add(&rd, "the");
        int k2 = reading_add(&rd, NULL);
        if (k < 0 || k2 < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(spell(r, "%spellout-ordinal", roman, &rd.r[k]));
        TRY(spell(r, "%spellout-ordinal", roman, &rd.r[k2]));
    } else if (dotted_letters(folded->data)) {
        int k = reading_add(&rd, NULL);
        if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(letters_reading(folded->data, &rd.r[k]));
        if (seg_is(r, i + 1, ".")) end = r->segs[i + 1].c1;
    } else if (!r->heading && rawn >= 2 && rawn <= 5 && all_upper_ascii(raw, rawn)) {
        /* An acronym: spelled out when it has no vowel ("BBC"), else perhaps ("NASA"). */
        bool vowel = strpbrk(folded->data, "aeiouy") != NULL;
        int k = reading_add(&rd, vowel ? folded->data : NULL);
        int k2 = reading_add(&rd, vowel ? NULL : folded->data);
        if (k < 0 || k2 < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(letters_reading(folded->data, &rd.r[vowel ? k2 : k]));
    } else {
        TRY(plain_readings(r, folded->data, &rd));
    }
    rc = emit_readings(r, g->c0, end, &rd);
fail:
    folio__str_free(&pw);
    readings_free(&rd);
    return rc;
}

static int number_segment(run_t *r, size_t i, size_t start_seg, const currency_t *cur,
                          folio_str_t *folded)
{
    int rc;
    readings_t rd = {0};
    folio_str_t pw = {0};
    const seg_t *g = &r->segs[i];
    TRY(fold_seg(r, i, folded));
    size_t c0 = r->segs[start_seg].c0, c1 = g->c1;
    number_t num;
    size_t prev = prev_word(r, start_seg);
    if (prev != SIZE_MAX) TRY(fold_seg(r, prev, &pw));
    bool noun =
        (pw.data && number_noun(pw.data)) || (start_seg > 0 && seg_is(r, start_seg - 1, "#"));
    if (!parse_number(folded->data, &num)) {
        TRY(plain_readings(r, folded->data, &rd));
    } else if (cur && !*num.suffix) {
        TRY(money_readings(r, cur, &num, &rd));
    } else {
        TRY(number_readings(r, folded->data, noun, &rd));
        if (seg_is(r, i + 1, "%")) {
            c1 = r->segs[i + 1].c1;
            int n = rd.n;
            for (int k = 0; k < n; k++) TRY(append(&rd.r[k], "percent"));
            if (rd.n < MAX_READINGS) {
                int k = reading_add(&rd, rd.r[0].data);
                if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
                rd.r[k].len -= strlen("percent");
                TRY(folio__str_append(&rd.r[k], "per cent", 8));
            }
        }
    }
    rc = emit_readings(r, c0, c1, &rd);
fail:
    folio__str_free(&pw);
    readings_free(&rd);
    return rc;
}

static int symbol_segment(run_t *r, size_t i)
{
    static const struct {
        const char *sym, *reading;
    } symbols[] = {{"&", "and"},  {"%", "percent"}, {"#", "number"},
                   {"+", "plus"}, {"=", "equals"},  {"@", "at"}};
    for (size_t k = 0; k < sizeof(symbols) / sizeof(symbols[0]); k++) {
        if (!seg_is(r, i, symbols[k].sym)) continue;
        /* "#" reads "number" only before one; "+", "=", "@" only between words. */
        size_t next = next_nonspace(r, i);
        if (k >= 2 && (next >= r->n_segs || r->segs[next].kind == SEG_OTHER)) return FOLIO_OK;
        if (k == 2 && r->segs[next].kind != SEG_NUMBER) return FOLIO_OK;
        readings_t rd = {0};
        int rc = reading_add(&rd, symbols[k].reading) < 0
                     ? FOLIO_ENOMEM
                     : emit_readings(r, r->segs[i].c0, r->segs[i].c1, &rd);
        readings_free(&rd);
        return rc;
    }
    return FOLIO_OK;
}

int folio__spoken_block(folio_speaker_t *sp, folio_spoken_t *out, const char *s, size_t n,
                        size_t char_base, size_t block, bool heading, bool read)
{
    if (!n) return FOLIO_OK;
    int rc = FOLIO_OK;
    run_t r = {sp, out, s, NULL, 0, block, heading, read, {0}};
    VEC(seg_t) segs = {0};
    folio_str_t folded = {0};
    UErrorCode e = U_ZERO_ERROR;
    UText *ut = utext_openUTF8(NULL, s, (int64_t)n, &e);
    ubrk_setUText(sp->words, ut, &e);
    if (U_FAILURE(e)) {
        utext_close(ut);
        return FOLIO_ENOMEM;
    }
    size_t cp = char_base;
    int32_t start = ubrk_first(sp->words);
    for (int32_t end = ubrk_next(sp->words); end != UBRK_DONE; end = ubrk_next(sp->words)) {
        size_t b0 = (size_t)start, b1 = (size_t)end;
        size_t count = folio__utf8_count(s + b0, b1 - b0);
        seg_t g = {b0, b1, cp, cp + count, classify(s + b0, b1 - b0)};
        TRY(VEC_PUSH(segs, g));
        cp += count;
        start = end;
    }
    r.segs = segs.items;
    r.n_segs = segs.len;
    for (size_t i = 0; i < r.n_segs;) {
        size_t used = 1;
        const seg_t *g = &r.segs[i];
        const currency_t *cur = currency_of(&r, i);
        if (cur && i + 1 < r.n_segs && r.segs[i + 1].kind == SEG_NUMBER) {
            TRY(number_segment(&r, i + 1, i, cur, &folded));
            used = 2;
        } else if (g->kind == SEG_NUMBER) {
            TRY(number_segment(&r, i, i, NULL, &folded));
            if (seg_is(&r, i + 1, "%")) used = 2;
        } else if (g->kind == SEG_WORD) {
            TRY(word_segment(&r, i, &used, &folded));
        } else if (g->kind == SEG_OTHER) {
            TRY(symbol_segment(&r, i));
        }
        i += used;
    }
fail:
    utext_close(ut);
    VEC_FREE(segs);
    folio__str_free(&folded);
    folio__str_free(&r.primary);
    return rc;
}

char *folio__text_to_ascii(const char *s)
{
    UErrorCode e = U_ZERO_ERROR;
    static const UChar id[] = {'A', 'n', 'y', '-', 'L', 'a', 't', 'i', 'n', ';', ' ', 'L',
                               'a', 't', 'i', 'n', '-', 'A', 'S', 'C', 'I', 'I', 0};
    UTransliterator *t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
    if (U_FAILURE(e)) return NULL;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, s, -1, &e);
    e = U_ZERO_ERROR;
    int32_t cap = ulen * 4 + 16;
    UChar *u = malloc((size_t)cap * sizeof(UChar));
    char *out = NULL;
    if (!u) goto done;
    u_strFromUTF8(u, cap, NULL, s, -1, &e);
    int32_t len = ulen, limit = ulen;
    utrans_transUChars(t, u, &len, cap, 0, &limit, &e);
    if (U_FAILURE(e)) goto done;
    out = malloc((size_t)len + 1);
    if (!out) goto done;
    size_t k = 0;
    for (int32_t i = 0; i < len; i++)
        if (u[i] < 0x80) out[k++] = (char)tolower(u[i]);
    out[k] = '\0';
done:
    free(u);
    utrans_close(t);
    return out;
}
