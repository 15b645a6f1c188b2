/* Pronunciations: every distinct spoken token of a book (primary and alternative readings) gets
 * all its entries in the pronouncing dictionary (after ASCII transliteration when needed), else
 * flite's letter-to-sound rules, mapped to the acoustic model's phone set. */
#include "lexicon.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>

#ifndef FOLIO_MODEL_DIR
#define FOLIO_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"
#endif

/* flite installs no header for its CMU lexicon; this is its constructor in libflite_cmulex. */
cst_lexicon *cmu_lex_init(void);

const char *const folio__model_phones[] = {
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F",
    "G",  "HH", "IH", "IY", "JH", "K",  "L", "M",  "N", "NG", "OW", "OY", "P",  "R",
    "S",  "SH", "T",  "TH", "UH", "UW", "V", "W",  "Y", "Z",  "ZH", NULL};

/* flite's US English phones (stress digits removed) and the model phone each becomes. */
static const char *const phone_map[][2] = {
    {"aa", "AA"}, {"ae", "AE"}, {"ah", "AH"}, {"ao", "AO"}, {"aw", "AW"}, {"ax", "AH"},
    {"ay", "AY"}, {"b", "B"},   {"ch", "CH"}, {"d", "D"},   {"dh", "DH"}, {"eh", "EH"},
    {"er", "ER"}, {"ey", "EY"}, {"f", "F"},   {"g", "G"},   {"hh", "HH"}, {"ih", "IH"},
    {"iy", "IY"}, {"jh", "JH"}, {"k", "K"},   {"l", "L"},   {"m", "M"},   {"n", "N"},
    {"ng", "NG"}, {"ow", "OW"}, {"oy", "OY"}, {"p", "P"},   {"r", "R"},   {"s", "S"},
    {"sh", "SH"}, {"t", "T"},   {"th", "TH"}, {"uh", "UH"}, {"uw", "UW"}, {"v", "V"},
    {"w", "W"},   {"y", "Y"},   {"z", "Z"},   {"zh", "ZH"}};

const char *folio__lexicon_map_phone(const char *fp)
{
    char base[8];
    size_t n = 0;
    for (; fp[n] && !isdigit((unsigned char)fp[n]) && n + 1 < sizeof(base); n++) base[n] = fp[n];
    base[n] = '\0';
    for (size_t i = 0; i < sizeof(phone_map) / sizeof(phone_map[0]); i++)
        if (strcmp(base, phone_map[i][0]) == 0) return phone_map[i][1];
    return NULL;
}

static pthread_once_t flite_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t flite_lock = PTHREAD_MUTEX_INITIALIZER;
static cst_lexicon *flite_lex;

static void init_flite_lexicon(void)
{
    flite_lex = cmu_lex_init();
}

int folio__lexicon_lts(const char *ascii_word, folio_str_t *out)
{
    pthread_once(&flite_once, init_flite_lexicon);
    if (!flite_lex) return FOLIO_ENOTFOUND;
    out->len = 0;
    int rc = FOLIO_ENOTFOUND;
    pthread_mutex_lock(&flite_lock);
    cst_val *phones = lex_lookup(flite_lex, ascii_word, NULL, NULL);
    for (const cst_val *p = phones; p; p = val_cdr(p)) {
        const char *mapped = folio__lexicon_map_phone(val_string(val_car(p)));
        if (!mapped) continue;
        if ((out->len && folio__str_appendc(out, ' ') < 0) ||
            folio__str_append(out, mapped, strlen(mapped)) < 0) {
            rc = FOLIO_ENOMEM;
            break;
        }
        rc = FOLIO_OK;
    }
    if (phones) delete_val(phones);
    pthread_mutex_unlock(&flite_lock);
    return rc;
}

/* ---- the lexicon ---- */

typedef struct {
    size_t word;       /* pool offset */
    size_t first_pron; /* index into prons */
    size_t n_prons;
    folio_pron_source_t source;
} entry_t;

struct folio_lexicon {
    folio_str_t pool;
    VEC(entry_t) entries; /* sorted by word */
    VEC(size_t) prons;    /* pool offsets */
    folio_map_t index;    /* word -> entry */
    size_t n_lts;
};

const char *folio_default_dict(void)
{
    return FOLIO_MODEL_DIR "/cmudict-en-us.dict";
}

static int pool_add(folio_str_t *pool, const char *s, size_t n, size_t *off)
{
    *off = pool->len;
    if (folio__str_append(pool, s, n) < 0) return FOLIO_ENOMEM;
    return folio__str_append(pool, "\0", 1);
}

static const char *pool_str(const folio_lexicon_t *lex, size_t off)
{
    return lex->pool.data + off;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Add every word of a space-separated reading. */
static int add_words(folio_map_t *seen, const char *reading)
{
    char buf[256];
    for (const char *p = reading; *p;) {
        while (*p == ' ') p++;
        const char *q = p;
        while (*q && *q != ' ') q++;
        size_t n = (size_t)(q - p);
        if (n && n < sizeof(buf)) {
            memcpy(buf, p, n);
            buf[n] = '\0';
            bool dup;
            if (folio__map_add(seen, buf, seen->len, &dup) < 0) return FOLIO_ENOMEM;
        }
        p = q;
    }
    return FOLIO_OK;
}

/* The distinct words of a book: its tokens and the words of its alternative readings. */
static int book_words(const folio_book_t *book, folio_map_t *seen)
{
    int rc = FOLIO_OK;
    for (size_t i = 0; i < folio_book_n_tokens(book) && rc >= 0; i++)
        rc = add_words(seen, folio_book_token(book, i)->text);
    for (size_t w = 0; w < folio_book_n_words(book) && rc >= 0; w++)
        for (size_t k = 0; k < folio_book_word(book, w)->n_alternatives && rc >= 0; k++)
            rc = add_words(seen, folio_book_word_alternative(book, w, k));
    return rc;
}

/* Turn the distinct words of @seen (consumed) into sorted entries. */
static int collect(folio_lexicon_t *lex, folio_map_t *seen_in)
{
    folio_map_t seen = *seen_in;
    memset(seen_in, 0, sizeof(*seen_in));
    int rc = FOLIO_OK;
    /* Sorted by byte value, so that the lexicon is the same whatever the hash order. */
    const char **words = malloc((seen.len ? seen.len : 1) * sizeof(char *));
    size_t n = 0;
    if (!words) rc = FOLIO_ENOMEM;
    for (size_t s = 0; s < seen.cap && rc >= 0; s++)
        if (seen.keys[s]) words[n++] = seen.keys[s];
    if (rc >= 0) qsort(words, n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < n && rc >= 0; i++) {
        entry_t e = {0, 0, 0, FOLIO_PRON_NONE};
        rc = pool_add(&lex->pool, words[i], strlen(words[i]), &e.word);
        if (rc >= 0) rc = VEC_PUSH(lex->entries, e);
    }
    free(words);
    folio__map_free(&seen);
    for (size_t i = 0; i < lex->entries.len && rc >= 0; i++)
        rc = folio__map_put(&lex->index, pool_str(lex, lex->entries.items[i].word), i);
    return rc;
}

typedef VEC(size_t) offsets_t;

/* One key of the dictionary scan: the pronunciations found for it. */
typedef struct {
    offsets_t prons;
} want_t;

/* Read the dictionary once, keeping the pronunciations of the wanted keys. */
static int scan_dict(folio_t *ctx, folio_lexicon_t *lex, const char *path, folio_map_t *keys,
                     want_t *want)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return folio__error(ctx, FOLIO_EIO,
                            "%s: cannot open the pronouncing dictionary: %s (Debian package "
                            "pocketsphinx-en-us)",
                            path, strerror(errno));
    int rc = FOLIO_OK;
    char *line = NULL;
    size_t cap = 0, lines = 0, good = 0;
    ssize_t n;
    folio_str_t pron = {0};
    while ((n = getline(&line, &cap, f)) > 0) {
        lines++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        char *word = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
        if (p == word || !*p || *p == '\n' || *p == '\r') continue;
        *p++ = '\0';
        good++;
        char *paren = strchr(word, '(');
        if (paren && paren != word) *paren = '\0';
        size_t k;
        if (!folio__map_get(keys, word, &k)) continue;
        pron.len = 0;
        for (;;) {
            while (*p == ' ' || *p == '\t') p++;
            if (!*p || *p == '\n' || *p == '\r' || *p == '#') break;
            char *q = p;
            while (*q && *q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') q++;
            if ((pron.len && folio__str_appendc(&pron, ' ') < 0) ||
                folio__str_append(&pron, p, (size_t)(q - p)) < 0)
                FAIL(ctx, FOLIO_ENOMEM, "out of memory");
            p = q;
        }
        if (!pron.len) continue;
        size_t off;
        TRY(pool_add(&lex->pool, pron.data, pron.len, &off));
        TRY(VEC_PUSH(want[k].prons, off));
    }
    if (ferror(f)) FAIL(ctx, FOLIO_EIO, "%s: read error: %s", path, strerror(errno));
    if (good == 0 || good * 10 < lines * 9)
        FAIL(ctx, FOLIO_EFORMAT,
             "%s: not a pronouncing dictionary (expected \"word PH ON ES\" lines)", path);
fail:
    folio__str_free(&pron);
    free(line);
    fclose(f);
    return rc;
}

static bool lts_letters(char *s)
{
    /* Keep letters and inner apostrophes; hyphens and anything else split nothing here: the
     * spoken form has already split words at hyphens. */
    size_t k = 0;
    for (size_t i = 0; s[i]; i++)
        if (isalpha((unsigned char)s[i]) || (s[i] == '\'' && k > 0)) s[k++] = s[i];
    while (k && s[k - 1] == '\'') k--;
    s[k] = '\0';
    return k > 0;
}

/* @base + the possessive ending: IH Z after sibilants, S after other voiceless sounds, else Z. */
static int possessive(const folio_lexicon_t *lex, const char *base, folio_str_t *out)
{
    (void)lex;
    out->len = 0;
    const char *last = strrchr(base, ' ');
    last = last ? last + 1 : base;
    static const char *const sibilant[] = {"S", "Z", "SH", "ZH", "CH", "JH", NULL};
    static const char *const voiceless[] = {"P", "T", "K", "F", "TH", NULL};
    const char *ending = "Z";
    for (const char *const *p = sibilant; *p; p++)
        if (strcmp(last, *p) == 0) ending = "IH Z";
    for (const char *const *p = voiceless; *p; p++)
        if (strcmp(last, *p) == 0) ending = "S";
    if (folio__str_append(out, base, strlen(base)) < 0 || folio__str_appendc(out, ' ') < 0 ||
        folio__str_append(out, ending, strlen(ending)) < 0)
        return FOLIO_ENOMEM;
    return FOLIO_OK;
}

static folio_lexicon_t *build(folio_t *ctx, folio_map_t *words, const char *dict_path, int *err);

folio_lexicon_t *folio_lexicon_open(folio_t *ctx, const folio_book_t *book, const char *dict_path,
                                    int *err)
{
    if (!book) {
        if (err) *err = FOLIO_EINVAL;
        folio__error(ctx, FOLIO_EINVAL, "folio_lexicon_open: no book");
        return NULL;
    }
    folio_map_t words = {0};
    int rc = book_words(book, &words);
    if (rc < 0) {
        folio__map_free(&words);
        if (err) *err = rc;
        return NULL;
    }
    return build(ctx, &words, dict_path, err);
}

folio_lexicon_t *folio__lexicon_open_words(folio_t *ctx, const char *const *list, size_t n,
                                           const char *dict_path, int *err)
{
    folio_map_t words = {0};
    int rc = FOLIO_OK;
    for (size_t i = 0; i < n && rc >= 0; i++) rc = add_words(&words, list[i]);
    if (rc < 0) {
        folio__map_free(&words);
        if (err) *err = rc;
        return NULL;
    }
    return build(ctx, &words, dict_path, err);
}

static folio_lexicon_t *build(folio_t *ctx, folio_map_t *words, const char *dict_path, int *err)
{
    int rc = FOLIO_OK;
    folio_lexicon_t *lex = NULL;
    folio_map_t keys = {0};
    want_t *want = NULL;
    char **ascii = NULL;
    folio_str_t lts = {0};
    if (!dict_path) dict_path = folio_default_dict();
    lex = calloc(1, sizeof(*lex));
    if (!lex) {
        folio__map_free(words);
        FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    }
    TRY(collect(lex, words));

    /* Dictionary keys: each word, and the ASCII form of words that are not ASCII. */
    size_t n = lex->entries.len;
    ascii = calloc(n ? n : 1, sizeof(char *));
    if (!ascii) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *w = pool_str(lex, lex->entries.items[i].word);
        bool plain = true;
        for (const char *p = w; *p && plain; p++) plain = (unsigned char)*p < 0x80;
        ascii[i] = plain ? folio__strdup(w) : folio__lexicon_to_ascii(w);
        if (!ascii[i]) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
        bool dup;
        TRY(folio__map_add(&keys, w, keys.len, &dup));
        TRY(folio__map_add(&keys, ascii[i], keys.len, &dup));
        size_t al = strlen(ascii[i]);
        if (al > 2 && strcmp(ascii[i] + al - 2, "'s") == 0) {
            ascii[i][al - 2] = '\0'; /* the possessive's base, looked up too */
            rc = folio__map_add(&keys, ascii[i], keys.len, &dup);
            ascii[i][al - 2] = '\'';
            TRY(rc);
        }
    }
    want = calloc(keys.len ? keys.len : 1, sizeof(want_t));
    if (!want) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    TRY(scan_dict(ctx, lex, dict_path, &keys, want));

    for (size_t i = 0; i < n; i++) {
        entry_t *e = &lex->entries.items[i];
        size_t k;
        folio__map_get(&keys, pool_str(lex, e->word), &k);
        if (!want[k].prons.len) folio__map_get(&keys, ascii[i], &k);
        e->first_pron = lex->prons.len;
        if (want[k].prons.len) {
            e->source = FOLIO_PRON_DICT;
            for (size_t p = 0; p < want[k].prons.len; p++)
                TRY(VEC_PUSH(lex->prons, want[k].prons.items[p]));
            e->n_prons = want[k].prons.len;
            continue;
        }
        size_t al = strlen(ascii[i]);
        if (al > 2 && strcmp(ascii[i] + al - 2, "'s") == 0) {
            ascii[i][al - 2] = '\0';
            bool found = folio__map_get(&keys, ascii[i], &k) && want[k].prons.len;
            ascii[i][al - 2] = '\'';
            if (found) {
                /* "brendan's": the base's pronunciations and the possessive ending. */
                for (size_t p = 0; p < want[k].prons.len; p++) {
                    TRY(possessive(lex, pool_str(lex, want[k].prons.items[p]), &lts));
                    size_t off;
                    TRY(pool_add(&lex->pool, lts.data, lts.len, &off));
                    TRY(VEC_PUSH(lex->prons, off));
                }
                e->n_prons = want[k].prons.len;
                e->source = FOLIO_PRON_DICT;
                continue;
            }
        }
        if (!lts_letters(ascii[i])) continue; /* nothing pronounceable */
        rc = folio__lexicon_lts(ascii[i], &lts);
        if (rc == FOLIO_ENOTFOUND) {
            rc = FOLIO_OK;
            continue;
        }
        TRY(rc);
        size_t off;
        TRY(pool_add(&lex->pool, lts.data, lts.len, &off));
        TRY(VEC_PUSH(lex->prons, off));
        e->n_prons = 1;
        e->source = FOLIO_PRON_LTS;
        lex->n_lts++;
    }
    size_t none = 0;
    for (size_t i = 0; i < n; i++) none += lex->entries.items[i].source == FOLIO_PRON_NONE;
    folio__info(ctx, "pronunciations: %zu words, %zu from letter-to-sound, %zu unpronounceable", n,
                lex->n_lts, none);
fail:
    if (want)
        for (size_t k = 0; k < keys.len; k++) VEC_FREE(want[k].prons);
    free(want);
    if (ascii)
        for (size_t i = 0; i < lex->entries.len; i++) free(ascii[i]);
    free(ascii);
    folio__map_free(&keys);
    folio__str_free(&lts);
    if (rc < 0) {
        if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx))
            folio__error(ctx, rc, "out of memory");
        folio_lexicon_free(lex);
        lex = NULL;
    }
    if (err) *err = rc;
    return lex;
}

void folio_lexicon_free(folio_lexicon_t *lex)
{
    if (!lex) return;
    folio__str_free(&lex->pool);
    VEC_FREE(lex->entries);
    VEC_FREE(lex->prons);
    folio__map_free(&lex->index);
    free(lex);
}

size_t folio_lexicon_n_words(const folio_lexicon_t *lex)
{
    return lex ? lex->entries.len : 0;
}

const char *folio_lexicon_word(const folio_lexicon_t *lex, size_t i)
{
    return lex && i < lex->entries.len ? pool_str(lex, lex->entries.items[i].word) : NULL;
}

long folio_lexicon_find(const folio_lexicon_t *lex, const char *word)
{
    size_t i;
    if (!lex || !word || !folio__map_get(&lex->index, word, &i)) return -1;
    return (long)i;
}

folio_pron_source_t folio_lexicon_source(const folio_lexicon_t *lex, size_t i)
{
    return lex && i < lex->entries.len ? lex->entries.items[i].source : FOLIO_PRON_NONE;
}

size_t folio_lexicon_n_prons(const folio_lexicon_t *lex, size_t i)
{
    return lex && i < lex->entries.len ? lex->entries.items[i].n_prons : 0;
}

const char *folio_lexicon_pron(const folio_lexicon_t *lex, size_t i, size_t k)
{
    if (!lex || i >= lex->entries.len || k >= lex->entries.items[i].n_prons) return NULL;
    return pool_str(lex, lex->prons.items[lex->entries.items[i].first_pron + k]);
}

size_t folio_lexicon_n_lts(const folio_lexicon_t *lex)
{
    return lex ? lex->n_lts : 0;
}

static int write_entries(FILE *f, const folio_lexicon_t *lex, const folio_lexicon_t *skip)
{
    for (size_t i = 0; i < folio_lexicon_n_words(lex); i++) {
        const char *w = folio_lexicon_word(lex, i);
        if (skip && folio_lexicon_find(skip, w) >= 0) continue;
        for (size_t k = 0; k < folio_lexicon_n_prons(lex, i); k++) {
            if (k)
                fprintf(f, "%s(%zu) %s\n", w, k + 1, folio_lexicon_pron(lex, i, k));
            else
                fprintf(f, "%s %s\n", w, folio_lexicon_pron(lex, i, k));
        }
    }
    return ferror(f) ? FOLIO_EIO : FOLIO_OK;
}

int folio__lexicon_write_dict(const folio_lexicon_t *a, const folio_lexicon_t *b, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) return FOLIO_EIO;
    int rc = a ? write_entries(f, a, NULL) : FOLIO_OK;
    if (rc >= 0 && b) rc = write_entries(f, b, a);
    if (fclose(f) != 0 && rc >= 0) rc = FOLIO_EIO;
    return rc;
}
