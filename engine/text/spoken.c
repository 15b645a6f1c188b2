/* The spoken form of book text: ICU word segmentation, then Folio's own rules for what a narrator
 * says for each written word — numbers (cardinals, years, ordinals, decimals, signs, currency,
 * percentages, fractions, powers, ranges, telephone numbers, dates), abbreviations, roman
 * numerals, symbols and acronyms — with alternative readings where narrators differ. Needs ICU
 * only. */
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

/* Whether only white space lies between segments @a < @b: no punctuation ("part, I think"). */
static bool adjacent(const run_t *r, size_t a, size_t b)
{
    for (size_t k = a + 1; k < b; k++)
        if (r->segs[k].kind != SEG_SPACE) return false;
    return true;
}

/* The word or number right before segment @i with only white space between, or SIZE_MAX. */
static size_t prev_adjacent(const run_t *r, size_t i)
{
    size_t p = prev_word(r, i);
    return p != SIZE_MAX && adjacent(r, p, i) ? p : SIZE_MAX;
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
    if (e == U_BUFFER_OVERFLOW_ERROR) {
        /* NFKC can grow a word far more than threefold: U+FDFA alone is eighteen code units. */
        if (dst != stack_dst) free(dst);
        dcap = dlen + 1;
        dst = malloc((size_t)dcap * sizeof(UChar));
        if (!dst) goto done;
        e = U_ZERO_ERROR;
        dlen = unorm2_normalize(r->sp->nfkc_cf, src, ulen, dst, dcap, &e);
    }
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
            rc = spell(r, year ? "%spellout-numbering-year" : "%spellout-numbering", v, &rd->r[k]);
        return rc < 0 ? rc : pluralise(&rd->r[k]);
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
    TRY(spell(r, "%spellout-numbering", roman, &card));
    TRY(spell(r, "%spellout-ordinal", roman, &ord));
    TRY(append(&the, "the"));
    TRY(append(&the, ord.data));
    const char *order[4] = {NULL};
    switch (how) {
    case ROMAN_CARDINAL:
        order[0] = card.data;
        break;
    case ROMAN_MAYBE:
        TRY(plain_readings(r, folded, rd));
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
        if (reading_add(rd, order[k]) < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
    if (literal) TRY(plain_readings(r, folded, rd));
fail:
    folio__str_free(&card);
    folio__str_free(&ord);
    folio__str_free(&the);
    return rc;
}

static int word_segment(run_t *r, size_t i, size_t *used, folio_str_t *folded)
{
    int rc;
    readings_t rd = {0};
    folio_str_t pw = {0};
    *used = 1;
    const seg_t *g = &r->segs[i];
    TRY(fold_seg(r, i, folded));
    TRY(try_abbreviation(r, i, folded->data, used));
    if (*used) goto fail;
    *used = 1;
    size_t end = g->c1;
    char shape[64];
    ascii_shape(r, i, folded->data, shape, sizeof(shape));
    size_t sn = strlen(shape);

    size_t near = prev_adjacent(r, i);
    if (near != SIZE_MAX) TRY(fold_seg(r, near, &pw));
    int roman = roman_value(shape, sn);
    roman_how_t how = roman_how(r, i, shape, roman, near, pw.data ? pw.data : "");
    if (how != NOT_ROMAN) {
        TRY(roman_readings(r, how, roman, folded->data, &rd));
    } else if (dotted_letters(folded->data)) {
        int k = reading_add(&rd, NULL);
        if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(letters_reading(folded->data, &rd.r[k]));
        if (seg_is(r, i + 1, ".")) end = r->segs[i + 1].c1;
    } else if (!r->heading && sn >= 2 && sn <= 5 && all_upper_ascii(shape, sn)) {
        /* An acronym: spelled out when it has no vowel ("BBC"), else perhaps ("NASA"). The
         * shape is checked, not the bytes, so full-width "ＡＢＣ" is one too. */
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
    bool noun = fold_seg(r, prev, &pw) == FOLIO_OK && pw.data && number_noun(pw.data);
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
        else if ((rc = spell(r, "%spellout-ordinal", f->den, &d)) == FOLIO_OK && plural)
            rc = folio__str_appendc(&d, 's') < 0 ? FOLIO_ENOMEM : FOLIO_OK;
        if (rc == FOLIO_OK && f->num == 1) {
            /* "a half" after a whole number, "one half" alone first. */
            const char *lead[2] = {whole ? "a" : "one", whole ? "one" : "a"};
            for (int k = 0; k < 2 && rc == FOLIO_OK; k++)
                if ((rc = append(&phrase[n], lead[k])) == FOLIO_OK)
                    rc = append(&phrase[n++], d.data);
        } else if (rc == FOLIO_OK) {
            if ((rc = spell(r, "%spellout-numbering", f->num, &phrase[n])) == FOLIO_OK)
                rc = append(&phrase[n++], d.data);
        }
        if (rc == FOLIO_OK && !whole && f->num == 1 && !fourth) rc = append(&phrase[n++], d.data);
        folio__str_free(&d);
        if (rc < 0) goto fail;
    }
    for (size_t k = 0; k < n; k++) {
        int i = reading_add(rd, whole);
        if (i < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
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
        if (k < 0 || spell(r, "%spellout-numbering", v, &rd->r[k]) < 0) return FOLIO_ENOMEM;
    }
    int a = reading_add(rd, NULL), b = reading_add(rd, NULL);
    if (a < 0 || b < 0) return FOLIO_ENOMEM;
    if (digits_reading(num->digits, num->n_digits, false, &rd->r[a]) < 0 ||
        digits_reading(num->digits, num->n_digits, true, &rd->r[b]) < 0)
        return FOLIO_ENOMEM;
    if (num->n_digits != 4 || v < 1000) return FOLIO_OK;
    int k = reading_add(rd, NULL);
    return k < 0 ? FOLIO_ENOMEM : spell(r, "%spellout-numbering-year", v, &rd->r[k]);
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
                 : spell(r, "%spellout-numbering", digits_value(num->digits, 2), &rd->r[k]);
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
    if (num->n_digits == 4) return spell(r, "%spellout-numbering-year", v, &rd->r[k]);
    if (append(&rd->r[k], digit_names[num->digits[0] - '0']) < 0) return FOLIO_ENOMEM;
    if (tail < 10 && append(&rd->r[k], "oh") < 0) return FOLIO_ENOMEM;
    return spell(r, "%spellout-numbering", tail, &rd->r[k]);
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
    TRY(spell(r, "%spellout-ordinal", v, &ord));
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
        if (reading_add(rd, order[k]) < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
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
    TRY(fold_seg(r, i, folded));
    size_t c0 = r->segs[x->start].c0, c1 = g->c1;
    number_t num;
    bool label = x->label >= 0 ? x->label == 1 : label_before(r, x->start);
    const fraction_t *f;
    if (!parse_number(folded->data, &num)) {
        TRY(plain_readings(r, folded->data, &rd));
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
            rc = number_readings(r, folded->data, true, &rd);
            if (rc == FOLIO_OK) rc = fold_seg(r, scale, &sw);
            for (int k = 0; k < rd.n && rc == FOLIO_OK; k++)
                if ((rc = append(&rd.r[k], sw.data)) == FOLIO_OK)
                    rc = append(&rd.r[k], x->cur->many);
            folio__str_free(&sw);
            if (rc < 0) goto fail;
            c1 = r->segs[scale].c1;
            *next = scale + 1;
        }
    } else {
        TRY(number_readings(r, folded->data, label || x->minus, &rd));
        if (label) TRY(label_alternatives(r, &num, &rd));
        if (seg_is(r, i + 1, "%")) {
            c1 = r->segs[i + 1].c1;
            *next = i + 2;
            int n = rd.n;
            for (int k = 0; k < n; k++) TRY(append(&rd.r[k], "percent"));
            if (rd.n < MAX_READINGS) {
                int k = reading_add(&rd, rd.r[0].data);
                if (k < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
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
    rc = emit_readings(r, c0, c1, &rd);
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
        TRY(fold_seg(r, i, folded));
        TRY(fold_seg(r, j, &fb));
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
             : emit_readings(r, r->segs[dash].c0, r->segs[dash].c1, &to);
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
    TRY(spell(r, "%spellout-numbering", v, &card));
    TRY(minus ? append(&ord, "minus") : FOLIO_OK);
    TRY(spell(r, "%spellout-ordinal", v, &ord));
    if (!minus && (v == 2 || v == 3) && reading_add(&rd, v == 2 ? "squared" : "cubed") < 0)
        FAIL(NULL, FOLIO_ENOMEM, "oom");
    const char *lead[3] = {"to the power of", "to the", "to the"};
    const char *what[3] = {card.data, minus ? card.data : ord.data, card.data};
    for (int k = 0; k < (minus ? 2 : 3); k++) {
        int x = reading_add(&rd, lead[k]);
        if (x < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
        TRY(append(&rd.r[x], what[k]));
    }
    rc = emit_readings(r, r->segs[i].c0, r->segs[j - 1].c1, &rd);
fail:
    readings_free(&rd);
    folio__str_free(&card);
    folio__str_free(&ord);
    return rc;
}

static int symbol_segment(run_t *r, size_t i, size_t *next)
{
    static const struct {
        const char *sym, *reading;
    } symbols[] = {{"&", "and"},  {"%", "percent"}, {"#", "number"},
                   {"+", "plus"}, {"=", "equals"},  {"@", "at"}};
    *next = i + 1;
    readings_t rd = {0};
    int rc = FOLIO_OK;
    size_t end = i;
    const fraction_t *f = fraction_at(r, i);
    if (superscript_at(r, i) >= 0) return power_segment(r, i, next);
    if (f) {
        /* A fraction on its own: "½ cup". */
        TRY(fraction_readings(r, f, NULL, &rd));
    } else if (seg_is(r, i, "&") && seg_is(r, i + 1, "c")) {
        /* "&c." is the old way to write "etc.". */
        end = seg_is(r, i + 2, ".") ? i + 2 : i + 1;
        if (reading_add(&rd, "et cetera") < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
    } else {
        for (size_t k = 0; k < sizeof(symbols) / sizeof(symbols[0]); k++) {
            if (!seg_is(r, i, symbols[k].sym)) continue;
            /* "#" reads "number" only before one; "+", "=", "@" only between words. */
            size_t after = next_nonspace(r, i);
            if (k >= 2 && (after >= r->n_segs || r->segs[after].kind == SEG_OTHER)) break;
            if (k == 2 && r->segs[after].kind != SEG_NUMBER) break;
            if (reading_add(&rd, symbols[k].reading) < 0) FAIL(NULL, FOLIO_ENOMEM, "oom");
            break;
        }
    }
    if (rd.n) {
        rc = emit_readings(r, r->segs[i].c0, r->segs[end].c1, &rd);
        *next = end + 1;
    }
fail:
    readings_free(&rd);
    return rc;
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
        size_t next = i + 1;
        const seg_t *g = &r.segs[i];
        const currency_t *cur = currency_of(&r, i);
        /* A sign or a leading point belongs to the number only at a word's start: "-7", ".5"
         * (not "5-7" or "end.5"). */
        bool starts = i == 0 || r.segs[i - 1].kind == SEG_SPACE;
        bool number_next = i + 1 < r.n_segs && r.segs[i + 1].kind == SEG_NUMBER;
        num_ctx_t x = {i, NULL, false, false, false, -1};
        if (cur && number_next) {
            x.cur = cur;
            TRY(number_segment(&r, i + 1, &x, &folded, &next));
        } else if (starts && number_next && (seg_is(&r, i, "-") || seg_is(&r, i, "\xe2\x88\x92"))) {
            x.minus = true;
            TRY(number_segment(&r, i + 1, &x, &folded, &next));
        } else if (starts && seg_is(&r, i, ".") && plain_digits(&r, i + 1)) {
            x.point = true;
            TRY(number_segment(&r, i + 1, &x, &folded, &next));
        } else if (g->kind == SEG_NUMBER) {
            TRY(number_run(&r, i, &folded, &next));
        } else if (g->kind == SEG_WORD) {
            TRY(word_segment(&r, i, &next, &folded));
            next += i;
        } else if (g->kind == SEG_OTHER) {
            TRY(symbol_segment(&r, i, &next));
        }
        i = next;
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
    UChar *u = NULL;
    char *out = NULL;
    int32_t len = 0;
    /* Transliteration may lengthen the text by any factor: retry with room to spare. */
    for (int32_t cap = ulen * 4 + 16;; cap *= 2) {
        UChar *bigger = realloc(u, (size_t)cap * sizeof(UChar));
        if (!bigger) goto done;
        u = bigger;
        e = U_ZERO_ERROR;
        u_strFromUTF8(u, cap, NULL, s, -1, &e);
        len = ulen;
        int32_t limit = ulen;
        utrans_transUChars(t, u, &len, cap, 0, &limit, &e);
        if (e != U_BUFFER_OVERFLOW_ERROR || cap > (1 << 24)) break;
    }
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
