/* The driver of the spoken form: cuts a block into ICU word-break segments, hands each number,
 * word and symbol to numbers.c or words.c, and records what they read as source words, tokens and
 * alternative readings. Also owns folding (NFKC, case) and ICU's spell-out, which both use. */
#include "spoken_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/unum.h>
#include <unicode/ustring.h>
#include <unicode/utext.h>

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

/* ---- folding ---- */

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

int folio__spoken_fold_seg(run_t *r, size_t i, folio_str_t *out)
{
    return fold(r, r->s + r->segs[i].b0, r->segs[i].b1 - r->segs[i].b0, out);
}

/* ---- source words and tokens ---- */

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

int folio__spoken_emit(run_t *r, size_t c0, size_t c1, readings_t *rd)
{
    int rc;
    TRY(begin_word(r, c0, c1));
    if (rd->n > 0) TRY(add_tokens(r, rd->r[0].data ? rd->r[0].data : ""));
    for (int i = 1; i < rd->n; i++)
        if (rd->r[i].data) TRY(add_alternative(r, rd->r[i].data));
fail:
    return rc;
}

/* ---- numbers said in words ---- */

int folio__spoken_spell(run_t *r, const char *ruleset, int64_t v, folio_str_t *out)
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

/* ---- a block ---- */

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
        bool number;
        TRY(folio__spoken_number(&r, i, &folded, &next, &number));
        if (!number && r.segs[i].kind == SEG_WORD) {
            TRY(folio__spoken_word(&r, i, &next, &folded));
            next += i;
        } else if (!number && r.segs[i].kind == SEG_OTHER) {
            TRY(folio__spoken_symbol(&r, i, &next));
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
