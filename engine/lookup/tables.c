/* The letter stream of a text (book or OCR query) and the lookup tables stored in an index. */
#include "lookup.h"

#include <stdlib.h>
#include <string.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/utf8.h>

/* Symbol of an ASCII letter or digit after folding the OCR confusions; 0 for anything else. */
static uint8_t ascii_symbol(unsigned c)
{
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    switch (c) {
    case 'i':
    case '1':
        return 'l' - 'a' + 1;
    case 'c':
        return 'e' - 'a' + 1;
    case '0':
        return 'o' - 'a' + 1;
    case '5':
        return 's' - 'a' + 1;
    default:
        break;
    }
    if (c >= 'a' && c <= 'z') return (uint8_t)(c - 'a' + 1);
    static const char other_digits[] = "2346789";
    const char *d = c ? strchr(other_digits, (int)c) : NULL;
    return d ? (uint8_t)(27 + (d - other_digits)) : 0;
}

#define SYM_OTHER 34 /* a letter outside ASCII with no ASCII decomposition */

typedef struct {
    folio_stream_t *s;
    size_t cap;
    unsigned prev; /* previous ASCII letter emitted (lower-case), for rn, cl, vv */
} emit_t;

static int emit(emit_t *e, unsigned c, uint32_t cp)
{
    if (c >= 'A' && c <= 'Z') c += 'a' - 'A';
    /* Two letters OCR reads as one: rewrite the pair on both sides. */
    uint8_t pair = 0;
    if (e->prev == 'r' && c == 'n') pair = 'm' - 'a' + 1;
    if (e->prev == 'c' && c == 'l') pair = 'd' - 'a' + 1;
    if (e->prev == 'v' && c == 'v') pair = 'w' - 'a' + 1;
    if (pair && e->s->n) {
        e->s->sym[e->s->n - 1] = pair;
        e->prev = 0;
        return FOLIO_OK;
    }
    uint8_t sym = c < 128 ? ascii_symbol(c) : SYM_OTHER;
    if (!sym) {
        e->prev = 0; /* a space or punctuation ends a pair */
        return FOLIO_OK;
    }
    if (e->s->n == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 1024;
        uint8_t *ns = realloc(e->s->sym, cap);
        if (!ns) return FOLIO_ENOMEM;
        e->s->sym = ns;
        uint32_t *nc = realloc(e->s->cp, cap * sizeof(uint32_t));
        if (!nc) return FOLIO_ENOMEM;
        e->s->cp = nc;
        e->cap = cap;
    }
    e->s->sym[e->s->n] = sym;
    e->s->cp[e->s->n++] = cp;
    e->prev = c < 128 ? c : 0;
    return FOLIO_OK;
}

int folio__stream(const char *text, size_t bytes, size_t cp_base, folio_stream_t *out)
{
    memset(out, 0, sizeof(*out));
    emit_t e = {out, 0, 0};
    UErrorCode uerr = U_ZERO_ERROR;
    const UNormalizer2 *nfkd = unorm2_getNFKDInstance(&uerr);
    if (U_FAILURE(uerr)) nfkd = NULL;
    int32_t i = 0, n = bytes > INT32_MAX ? INT32_MAX : (int32_t)bytes;
    uint32_t cp = (uint32_t)cp_base;
    int rc = FOLIO_OK;
    while (i < n && rc >= 0) {
        UChar32 c;
        U8_NEXT(text, i, n, c);
        if (c < 0) c = 0xFFFD;
        if (c < 128) {
            rc = emit(&e, (unsigned)c, cp);
        } else if (u_isalnum(c)) {
            /* Case-fold, then the ASCII letters of its compatibility decomposition ("é" -> e,
             * "ﬁ" -> fi); a letter with none is one symbol for all such letters. */
            UChar32 f = u_foldCase(c, U_FOLD_CASE_DEFAULT);
            UChar buf[16];
            int32_t len = -1;
            uerr = U_ZERO_ERROR;
            if (nfkd) len = unorm2_getDecomposition(nfkd, f, buf, 16, &uerr);
            bool any = false;
            for (int32_t k = 0; U_SUCCESS(uerr) && k < len && rc >= 0; k++)
                if (buf[k] < 128 && ascii_symbol(buf[k])) {
                    rc = emit(&e, buf[k], cp);
                    any = true;
                }
            if (!any && rc >= 0) rc = emit(&e, 0x80, cp);
        } else {
            e.prev = 0;
        }
        cp++;
    }
    if (rc < 0) folio__stream_free(out);
    return rc;
}

void folio__stream_free(folio_stream_t *s)
{
    if (!s) return;
    free(s->sym);
    free(s->cp);
    memset(s, 0, sizeof(*s));
}

/* ---- the tables ---- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

typedef struct {
    double t;
    uint32_t w;
} timed_t;

static int cmp_timed(const void *a, const void *b)
{
    const timed_t *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return (x->w > y->w) - (x->w < y->w);
}

int folio__lookup_tables(const char *text, size_t bytes, const double *word_start, size_t n_words,
                         folio_lookup_tables_t *out)
{
    memset(out, 0, sizeof(*out));
    folio_stream_t s;
    int rc = folio__stream(text, bytes, 0, &s);
    if (rc < 0) return rc;
    if (s.n >= ((size_t)1 << FOLIO_GRAM_POS_BITS)) {
        folio__stream_free(&s);
        return FOLIO_ELIMIT;
    }
    size_t n_grams = s.n >= FOLIO_GRAM ? s.n - FOLIO_GRAM + 1 : 0;
    uint64_t *grams = malloc((n_grams ? n_grams : 1) * sizeof(uint64_t));
    uint32_t *timeline = malloc((n_words ? n_words : 1) * sizeof(uint32_t));
    timed_t *timed = malloc((n_words ? n_words : 1) * sizeof(timed_t));
    if (!grams || !timeline || !timed) {
        free(grams);
        free(timeline);
        free(timed);
        folio__stream_free(&s);
        return FOLIO_ENOMEM;
    }
    uint64_t key = 0, mask = ((uint64_t)1 << (6 * FOLIO_GRAM)) - 1;
    for (size_t i = 0; i < s.n; i++) {
        key = ((key << 6) | s.sym[i]) & mask;
        if (i + 1 >= FOLIO_GRAM)
            grams[i + 1 - FOLIO_GRAM] = key << FOLIO_GRAM_POS_BITS | (i + 1 - FOLIO_GRAM);
    }
    qsort(grams, n_grams, sizeof(uint64_t), cmp_u64);
    size_t n_timed = 0;
    for (size_t w = 0; w < n_words; w++)
        if (word_start[w] >= 0) timed[n_timed++] = (timed_t){word_start[w], (uint32_t)w};
    qsort(timed, n_timed, sizeof(timed_t), cmp_timed);
    for (size_t k = 0; k < n_timed; k++) timeline[k] = timed[k].w;
    free(timed);
    out->mem[0] = s.sym;
    out->mem[1] = s.cp;
    out->mem[2] = grams;
    out->mem[3] = timeline;
    out->blob[0] = (folio_index_blob_t){"stream", s.sym, s.n};
    out->blob[1] = (folio_index_blob_t){"cp", s.cp, s.n * sizeof(uint32_t)};
    out->blob[2] = (folio_index_blob_t){"grams", grams, n_grams * sizeof(uint64_t)};
    out->blob[3] = (folio_index_blob_t){"timeline", timeline, n_timed * sizeof(uint32_t)};
    return FOLIO_OK;
}

void folio__lookup_tables_free(folio_lookup_tables_t *t)
{
    if (!t) return;
    for (int i = 0; i < 4; i++) free(t->mem[i]);
    memset(t, 0, sizeof(*t));
}
