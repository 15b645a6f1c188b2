/* The text builder: the one place where extracted text is appended, so that white-space
 * collapsing, soft-hyphen removal, NFC, block separation and mark resolution are the same for
 * every reader. */
#include "text.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

int folio__tb_init(folio_tb_t *tb, folio_t *ctx, const char *name, folio_book_t *book,
                   size_t max_chars)
{
    memset(tb, 0, sizeof(*tb));
    tb->ctx = ctx;
    tb->name = name;
    tb->book = book;
    tb->max_chars = max_chars;
    return FOLIO_OK;
}

void folio__tb_free(folio_tb_t *tb)
{
    folio__str_free(&tb->text);
    folio__str_free(&tb->scratch);
    VEC_FREE(tb->marks);
    VEC_FREE(tb->pending);
    VEC_FREE(tb->block_element);
}

static bool is_xml_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* NFC-normalise @s[0..n) into @out (replacing its content). */
static int nfc(const char *s, size_t n, folio_str_t *out)
{
    out->len = 0;
    bool ascii = true;
    for (size_t i = 0; i < n && ascii; i++) ascii = (unsigned char)s[i] < 0x80;
    if (ascii) return folio__str_append(out, s, n);

    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nf = unorm2_getNFCInstance(&e);
    if (U_FAILURE(e) || n > INT32_MAX / 2) return FOLIO_ENOMEM;
    int32_t ulen = 0;
    u_strFromUTF8(NULL, 0, &ulen, s, (int32_t)n, &e);
    if (e != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(e)) return FOLIO_EENCODING;
    e = U_ZERO_ERROR;
    int rc = FOLIO_ENOMEM;
    UChar *src = malloc(((size_t)ulen + 1) * sizeof(UChar));
    /* NFC can expand (e.g. U+0958 becomes two code units); three times is ICU's documented bound.
     */
    int32_t dcap = ulen * 3 + 1;
    UChar *dst = malloc((size_t)dcap * sizeof(UChar));
    if (!src || !dst) goto done;
    u_strFromUTF8(src, ulen + 1, NULL, s, (int32_t)n, &e);
    int32_t dlen = unorm2_normalize(nf, src, ulen, dst, dcap, &e);
    if (U_FAILURE(e)) goto done;
    int32_t blen = 0;
    u_strToUTF8(NULL, 0, &blen, dst, dlen, &e);
    e = U_ZERO_ERROR;
    if (folio__grow((void **)&out->data, &out->cap, (size_t)blen + 1, 1) < 0) goto done;
    u_strToUTF8(out->data, blen + 1, NULL, dst, dlen, &e);
    if (U_FAILURE(e)) goto done;
    out->len = (size_t)blen;
    out->data[blen] = '\0';
    rc = FOLIO_OK;
done:
    free(src);
    free(dst);
    return rc;
}

/* Whether NFC can compose or reorder the code point at @s[0..n) with what comes before it: a
 * combining mark, a Hangul vowel or final jamo, ... (no normalisation boundary before it). */
static bool joins_previous(const char *s, size_t n)
{
    if (!n || (unsigned char)s[0] < 0x80) return false;
    size_t len;
    uint32_t c = folio__utf8_decode(s, &len);
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nf = unorm2_getNFCInstance(&e);
    return U_SUCCESS(e) && !unorm2_hasBoundaryBefore(nf, (UChar32)c);
}

/* A run of combining marks longer than this (Zalgo text) is not re-normalised with the text
 * before it. */
#define MAX_TAIL_BYTES 1024

/* The length in bytes of the end of the text that NFC would normalise together with a following
 * code point that joins the previous one: back to the last code point with a normalisation
 * boundary before it, but never back past a space or line break (nothing composes with those, and
 * the block's own start follows one or is the text's start). 0 when that is too long. */
static size_t tail_bytes(const folio_tb_t *tb)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nf = unorm2_getNFCInstance(&e);
    if (U_FAILURE(e)) return 0;
    const char *text = tb->text.data;
    size_t at = tb->text.len;
    while (at > 0 && tb->text.len - at <= MAX_TAIL_BYTES) {
        size_t start = at - 1;
        while (start > 0 && ((unsigned char)text[start] & 0xC0) == 0x80) start--;
        if (text[start] == ' ' || text[start] == '\n') break;
        size_t len;
        uint32_t c = folio__utf8_decode(text + start, &len);
        at = start;
        if (unorm2_hasBoundaryBefore(nf, (UChar32)c)) break;
    }
    return tb->text.len - at > MAX_TAIL_BYTES ? 0 : tb->text.len - at;
}

/* Take the last @tail bytes back out of the text, to be appended again normalised together with
 * what follows. The marks resolved inside them move to where they start: a mark between a letter
 * and its combining mark points at the composed character. */
static int take_tail(folio_tb_t *tb, size_t tail, folio_str_t *out)
{
    int rc;
    TRY(folio__str_append(out, tb->text.data + tb->text.len - tail, tail));
    tb->text.len -= tail;
    tb->text.data[tb->text.len] = '\0';
    tb->n_chars -= folio__utf8_count(out->data, out->len);
    /* Marks are resolved in the order they are made, at positions that never decrease. */
    for (size_t i = tb->marks.len; i-- > 0;) {
        folio_mark_t *m = &tb->marks.items[i];
        if (!m->resolved) continue;
        if (m->char_off <= tb->n_chars) break;
        m->char_off = tb->n_chars;
    }
fail:
    return rc;
}

static int emit_visible(folio_tb_t *tb, const char *run, size_t n, const folio_tb_style_t *style)
{
    int rc = FOLIO_OK;
    if (!tb->block_open) {
        if (tb->text.len) {
            TRY(folio__str_append(&tb->text, "\n\n", 2));
            tb->n_chars += 2;
        }
        memset(&tb->cur, 0, sizeof(tb->cur));
        tb->cur.kind = style->kind;
        tb->cur.read = style->read;
        tb->cur.level = style->level;
        tb->cur.section = style->section;
        tb->cur.start_char = tb->n_chars;
        tb->cur_element = style->element;
        tb->block_open = true;
    } else if (tb->at_line_start) {
        TRY(folio__str_append(&tb->text, "\n", 1));
        tb->n_chars++;
    } else if (tb->pending_space) {
        TRY(folio__str_append(&tb->text, " ", 1));
        tb->n_chars++;
    }
    tb->pending_space = false;
    tb->at_line_start = false;
    for (size_t i = 0; i < tb->pending.len; i++) {
        folio_mark_t *m = &tb->marks.items[tb->pending.items[i]];
        m->char_off = tb->n_chars;
        m->resolved = true;
    }
    tb->pending.len = 0;
    TRY(folio__str_append(&tb->text, run, n));
    tb->n_chars += folio__utf8_count(run, n);
    if (tb->n_chars > tb->max_chars)
        return folio__error(tb->ctx, FOLIO_ELIMIT,
                            "%s: extracted text exceeds the limit of %zu characters", tb->name,
                            tb->max_chars);
fail:
    return rc;
}

int folio__tb_text(folio_tb_t *tb, const char *s, size_t n, const folio_tb_style_t *style,
                   bool keep_newlines)
{
    int rc = FOLIO_OK;
    /* Clean into scratch: runs of white space become one ' ' (or '\n' when kept), U+00AD goes. */
    folio_str_t clean = {0};
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (is_xml_space(c)) {
            bool newline = false;
            while (i < n && is_xml_space((unsigned char)s[i])) {
                if (s[i] == '\n' && keep_newlines) {
                    TRY(folio__str_appendc(&clean, '\n'));
                    newline = true;
                }
                i++;
            }
            if (!newline) TRY(folio__str_appendc(&clean, ' '));
            continue;
        }
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] == 0xAD) {
            i += 2;
            continue;
        }
        size_t j = i + 1;
        while (j < n && !is_xml_space((unsigned char)s[j]) &&
               !((unsigned char)s[j] == 0xC2 && j + 1 < n && (unsigned char)s[j + 1] == 0xAD))
            j++;
        TRY(folio__str_append(&clean, s + i, j - i));
        i = j;
    }
    if (!clean.len) goto fail;
    /* NFC across runs: "cafe<span>&#x301;</span>" is "caf\u00e9", so a run that starts with a
     * combining mark is normalised together with the end of the text before it. */
    size_t tail = 0;
    if (tb->block_open && !tb->pending_space && !tb->at_line_start &&
        joins_previous(clean.data, clean.len))
        tail = tail_bytes(tb);
    if (tail) {
        folio_str_t joined = {0};
        rc = take_tail(tb, tail, &joined);
        if (rc >= 0) rc = folio__str_append(&joined, clean.data, clean.len);
        folio__str_free(&clean);
        clean = joined;
        if (rc < 0) goto fail;
    }
    if ((rc = nfc(clean.data, clean.len, &tb->scratch)) == FOLIO_EENCODING)
        rc = folio__error(tb->ctx, rc, "%s: invalid UTF-8 in the text after character %zu",
                          tb->name, tb->n_chars);
    if (rc < 0) goto fail;

    const char *p = tb->scratch.data, *end = p + tb->scratch.len;
    while (p < end) {
        if (*p == ' ') {
            if (tb->block_open) tb->pending_space = true;
            p++;
        } else if (*p == '\n') {
            TRY(folio__tb_newline(tb));
            p++;
        } else {
            const char *q = p;
            while (q < end && *q != ' ' && *q != '\n') q++;
            TRY(emit_visible(tb, p, (size_t)(q - p), style));
            p = q;
        }
    }
fail:
    folio__str_free(&clean);
    return rc;
}

int folio__tb_newline(folio_tb_t *tb)
{
    /* A pending line break is written before the next visible character of the same block, so
     * a trailing <br> adds nothing. Two in a row still give one: blocks own "\n\n". */
    if (tb->block_open) {
        tb->at_line_start = true;
        tb->pending_space = false;
    }
    return FOLIO_OK;
}

int folio__tb_break(folio_tb_t *tb)
{
    if (!tb->block_open) return FOLIO_OK;
    tb->cur.end_char = tb->n_chars;
    tb->block_open = false;
    tb->pending_space = false;
    tb->at_line_start = false;
    if (VEC_PUSH(tb->block_element, tb->cur_element) < 0) return FOLIO_ENOMEM;
    return VEC_PUSH(tb->book->blocks, tb->cur);
}

long folio__tb_mark(folio_tb_t *tb)
{
    folio_mark_t m = {0, false};
    if (VEC_PUSH(tb->marks, m) < 0) return FOLIO_ENOMEM;
    size_t idx = tb->marks.len - 1;
    if (VEC_PUSH(tb->pending, idx) < 0) return FOLIO_ENOMEM;
    return (long)idx;
}

int folio__tb_finish(folio_tb_t *tb)
{
    int rc;
    TRY(folio__tb_break(tb));
    for (size_t i = 0; i < tb->pending.len; i++) {
        folio_mark_t *m = &tb->marks.items[tb->pending.items[i]];
        m->char_off = tb->n_chars;
        m->resolved = true;
    }
    tb->pending.len = 0;
    folio_book_t *b = tb->book;
    b->text_bytes = tb->text.len;
    b->text_chars = tb->n_chars;
    b->text = folio__str_take(&tb->text);
    if (!b->text) return FOLIO_ENOMEM;
fail:
    return rc;
}
