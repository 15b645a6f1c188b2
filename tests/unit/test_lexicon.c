#define _GNU_SOURCE
/* Unit tests of the lexicon: property tests against the model's own files, read here
 * independently — the pronouncing dictionary (every dictionary word gets exactly its entries,
 * never letter-to-sound) and the acoustic model's phone list (every phone is one of them) — over
 * a small book and over every word of the demo book, hundreds of made-up words and words in
 * other scripts; and the ASCII forms under which words in other scripts are looked up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/lexicon/lexicon.h"
#include "fixture.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char book_text[] =
    "The keeper's caf\xc3\xa9 in Z\xc3\xbcrich held zzyzx and qwrtp, said Nguy\xe1\xbb\x85n. "
    "In 1455 Brendan's BBC crew read the ledger at St. Paul's.";

/* The dictionary, as lines "word(n) PH ON ES" kept in memory. */
static char *dict_data;
static char **dict_lines;
static size_t n_dict_lines;

/* The model's context-independent phones, read from the binary mdef: the NUL-separated names
 * that follow "AA". */
static char model_phones[64][8];
static size_t n_model_phones;

static int setup(void **state)
{
    (void)state;
    FILE *f = fopen(folio_default_dict(), "rb");
    if (!f) {
        fprintf(stderr, "the dictionary %s is missing (pocketsphinx-en-us)\n",
                folio_default_dict());
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    dict_data = malloc((size_t)n + 1);
    if (fread(dict_data, 1, (size_t)n, f) != (size_t)n) return -1;
    dict_data[n] = '\0';
    fclose(f);
    for (char *p = dict_data; *p; p++) n_dict_lines += *p == '\n';
    dict_lines = malloc((n_dict_lines + 1) * sizeof(char *));
    n_dict_lines = 0;
    for (char *line = strtok(dict_data, "\n"); line; line = strtok(NULL, "\n"))
        dict_lines[n_dict_lines++] = line;

    char mdef[1024];
    snprintf(mdef, sizeof(mdef), "%s", folio_default_dict());
    char *slash = strrchr(mdef, '/');
    snprintf(slash + 1, sizeof(mdef) - (size_t)(slash + 1 - mdef), "en-us/mdef");
    f = fopen(mdef, "rb");
    if (!f) return -1;
    static char buf[1 << 16];
    size_t got = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    char *at = memmem(buf, got, "AA\0AE\0AH\0", 9);
    if (!at) return -1;
    while (at < buf + got && *at >= 'A' && *at <= 'Z' && n_model_phones < 64) {
        size_t len = strlen(at);
        if (len >= 8) break;
        memcpy(model_phones[n_model_phones++], at, len + 1);
        at += len + 1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(dict_lines);
    free(dict_data);
    fx_cleanup();
    return 0;
}

/* The dictionary's pronunciations of @word in order, "|"-separated ("" if none). */
static char *dict_prons(const char *word)
{
    static char out[4096];
    out[0] = '\0';
    size_t wl = strlen(word), n = 0;
    for (size_t i = 0; i < n_dict_lines; i++) {
        const char *l = dict_lines[i];
        if (strncmp(l, word, wl) != 0) continue;
        const char *p = l + wl;
        if (*p == '(') p = strchr(p, ')') + 1;
        if (*p != ' ' && *p != '\t') continue;
        while (*p == ' ' || *p == '\t') p++;
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", n ? "|" : "", p);
    }
    /* Normalise runs of spaces, as the dictionary has none inside a pronunciation anyway. */
    return out;
}

static char *lex_prons(const folio_lexicon_t *lex, size_t i)
{
    static char out[4096];
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < folio_lexicon_n_prons(lex, i); k++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", k ? "|" : "",
                              folio_lexicon_pron(lex, i, k));
    return out;
}

static bool is_model_phone(const char *p, size_t n)
{
    for (size_t i = 0; i < n_model_phones; i++)
        if (strlen(model_phones[i]) == n && strncmp(model_phones[i], p, n) == 0 &&
            strcmp(model_phones[i], "SIL") != 0)
            return true;
    return false;
}

static folio_lexicon_t *open_lexicon(folio_book_t **book)
{
    *book = folio_book_open(NULL, fx_file("lex.txt", book_text, sizeof(book_text) - 1), NULL, NULL);
    assert_non_null(*book);
    int err;
    folio_lexicon_t *lex = folio_lexicon_open(NULL, *book, NULL, &err);
    assert_int_equal(err, FOLIO_OK);
    assert_non_null(lex);
    return lex;
}

static void every_phone_is_a_model_phone(void **state)
{
    (void)state;
    assert_true(n_model_phones >= 39);
    folio_book_t *book;
    folio_lexicon_t *lex = open_lexicon(&book);
    for (size_t i = 0; i < folio_lexicon_n_words(lex); i++) {
        assert_true(folio_lexicon_n_prons(lex, i) > 0);
        for (size_t k = 0; k < folio_lexicon_n_prons(lex, i); k++) {
            const char *p = folio_lexicon_pron(lex, i, k);
            assert_true(*p);
            while (*p) {
                size_t n = strcspn(p, " ");
                if (!is_model_phone(p, n))
                    fail_msg("%s: phone %.*s", folio_lexicon_word(lex, i), (int)n, p);
                p += n;
                while (*p == ' ') p++;
            }
        }
    }
    folio_lexicon_free(lex);
    folio_book_free(book);
}

static void dictionary_words_get_exactly_their_entries(void **state)
{
    (void)state;
    folio_book_t *book;
    folio_lexicon_t *lex = open_lexicon(&book);
    size_t lts = 0, dict = 0;
    for (size_t i = 0; i < folio_lexicon_n_words(lex); i++) {
        const char *w = folio_lexicon_word(lex, i);
        if (i) assert_true(strcmp(folio_lexicon_word(lex, i - 1), w) < 0);
        assert_int_equal(folio_lexicon_find(lex, w), (long)i);
        const char *want = dict_prons(w);
        if (*want) {
            /* In the dictionary: all its entries, in order, never letter-to-sound. */
            assert_int_equal(folio_lexicon_source(lex, i), FOLIO_PRON_DICT);
            assert_string_equal(lex_prons(lex, i), want);
            dict++;
        } else if (folio_lexicon_source(lex, i) == FOLIO_PRON_LTS) {
            lts++;
        }
    }
    assert_true(dict > 10);
    assert_int_equal(folio_lexicon_n_lts(lex), lts);
    /* zzyzx and qwrtp are in no dictionary. */
    assert_true(lts >= 2);
    assert_int_equal(folio_lexicon_source(lex, (size_t)folio_lexicon_find(lex, "zzyzx")),
                     FOLIO_PRON_LTS);
    folio_lexicon_free(lex);
    folio_book_free(book);
}

static void non_ascii_and_possessive_words(void **state)
{
    (void)state;
    folio_book_t *book;
    folio_lexicon_t *lex = open_lexicon(&book);
    /* "café" and "zürich" are found through their ASCII forms. */
    long cafe = folio_lexicon_find(lex, "caf\xc3\xa9");
    assert_true(cafe >= 0);
    assert_int_equal(folio_lexicon_source(lex, (size_t)cafe), FOLIO_PRON_DICT);
    assert_string_equal(lex_prons(lex, (size_t)cafe), dict_prons("cafe"));
    long zurich = folio_lexicon_find(lex, "z\xc3\xbcrich");
    assert_true(zurich >= 0);
    assert_string_equal(lex_prons(lex, (size_t)zurich), dict_prons("zurich"));
    /* A name in no dictionary still gets a pronunciation. */
    long nguyen = folio_lexicon_find(lex, "nguy\xe1\xbb\x85n");
    assert_true(nguyen >= 0);
    assert_true(folio_lexicon_n_prons(lex, (size_t)nguyen) > 0);
    /* "brendan's" is not in the dictionary; "brendan" is: its entry plus Z. */
    assert_string_equal(dict_prons("brendan's"), "");
    long poss = folio_lexicon_find(lex, "brendan's");
    assert_true(poss >= 0);
    char want[256];
    snprintf(want, sizeof(want), "%s Z", dict_prons("brendan"));
    assert_string_equal(lex_prons(lex, (size_t)poss), want);
    /* Alternative readings are in the lexicon too ("one thousand four hundred ..."). */
    assert_true(folio_lexicon_find(lex, "thousand") >= 0);
    assert_true(folio_lexicon_find(lex, "street") >= 0);
    folio_lexicon_free(lex);
    folio_book_free(book);
}

/* ---- letter-to-sound over many words ---- */

/* The text of the demo book's XHTML documents with the markup left out, or NULL when the source
 * tree is not at FOLIO_SOURCE_ROOT. */
static char *demo_book_text(void)
{
    const char *root = getenv("FOLIO_SOURCE_ROOT");
    if (!root) return NULL;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/corpora/demo/epub/OEBPS", root);
    DIR *dh = opendir(dir);
    if (!dh) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *out = malloc(cap);
    assert_non_null(out);
    size_t found = 0;
    for (struct dirent *d; (d = readdir(dh));) {
        size_t len = strlen(d->d_name);
        if (len < 7 || strcmp(d->d_name + len - 6, ".xhtml") != 0) continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        found++;
        bool tag = false;
        for (int c; (c = fgetc(f)) != EOF && n + 2 < cap;) {
            if (c == '<') tag = true;
            if (!tag) out[n++] = (char)c;
            if (c == '>') {
                tag = false;
                out[n++] = ' ';
            }
        }
        out[n++] = '\n';
        fclose(f);
    }
    closedir(dh);
    out[n] = '\0';
    if (found < 3) {
        free(out);
        return NULL;
    }
    return out;
}

/* Made-up words, the same every run: letters drawn with a fixed seed, in shapes letter-to-sound
 * finds hard (no vowel, one letter, doubled letters, apostrophes, capitals). */
static void made_up_words(char *out, size_t cap)
{
    uint32_t x = 2463534242u;
    size_t n = 0;
    for (int w = 0; w < 400 && n + 40 < cap; w++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t len = 1 + x % 12;
        const char *alphabet = w % 3 == 0 ? "bcdfghjklmnpqrstvwxz" : "abcdefghijklmnopqrstuvwxyz";
        size_t an = strlen(alphabet);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            char c = alphabet[x % an];
            if (k == 0 && w % 5 == 0) c = (char)(c - 'a' + 'A');
            out[n++] = c;
            if (w % 7 == 0 && k == len / 2) out[n++] = c; /* doubled */
        }
        if (w % 11 == 0) n += (size_t)snprintf(out + n, cap - n, "'s");
        out[n++] = w % 13 == 0 ? '-' : ' ';
    }
    out[n] = '\0';
}

/* Words in other scripts and with marks, ligatures and letters ASCII lacks. */
static const char foreign_words[] =
    "\xc3\x86r\xc3\xb8sk\xc3\xb8"
    "bing stra\xc3\x9f"
    "e \xc5\x81\xc3\xb3"
    "d\xc5\xba "
    "\xc4\xb0stanbul na\xc3\xafvet\xc3\xa9 \xce\x95\xce\xbb\xce\xbb\xce\xac\xce\xb4\xce\xb1 "
    "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 \xe6\x9d\xb1\xe4\xba\xac "
    "\xef\xac\x81nal Dvo\xc5\x99\xc3\xa1k \xc3\x91"
    "and\xc3\xba \xd7\xa2\xd7\x91\xd7\xa8\xd7\x99\xd7\xaa "
    "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4 "
    "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80 "
    "\xca\xbb"
    "okina Kra\xc5\x9b\xc3\xb3w \xef\xb7\xba e\xcc\x81t\xc3\xa9 \xc3\xbe"
    "orn \xc3\xb0"
    "a\xc3\xb0 "
    "\xc3\xa5ngstr\xc3\xb6m \xc5\x93uvre \xe1\xba\x9e";

/* Every property at once over a book of @text: each word has pronunciations, none empty, every
 * phone a model phone; a dictionary word has exactly its entries and never letter-to-sound; the
 * letter-to-sound count is the number of words from it. Returns how many words used it. */
static size_t check_lexicon_properties(const char *text)
{
    folio_book_t *book = folio_book_open(NULL, fx_file("many.txt", text, strlen(text)), NULL, NULL);
    assert_non_null(book);
    int err;
    folio_lexicon_t *lex = folio_lexicon_open(NULL, book, NULL, &err);
    assert_int_equal(err, FOLIO_OK);
    assert_non_null(lex);
    size_t lts = 0;
    for (size_t i = 0; i < folio_lexicon_n_words(lex); i++) {
        const char *w = folio_lexicon_word(lex, i);
        if (folio_lexicon_n_prons(lex, i) == 0) fail_msg("%s: no pronunciation", w);
        for (size_t k = 0; k < folio_lexicon_n_prons(lex, i); k++) {
            const char *p = folio_lexicon_pron(lex, i, k);
            if (!*p) fail_msg("%s: an empty pronunciation", w);
            while (*p) {
                size_t n = strcspn(p, " ");
                if (!is_model_phone(p, n)) fail_msg("%s: phone %.*s", w, (int)n, p);
                p += n;
                while (*p == ' ') p++;
            }
        }
        const char *want = dict_prons(w);
        if (*want) {
            if (folio_lexicon_source(lex, i) != FOLIO_PRON_DICT)
                fail_msg("%s: in the dictionary, yet letter-to-sound", w);
            assert_string_equal(lex_prons(lex, i), want);
        }
        lts += folio_lexicon_source(lex, i) == FOLIO_PRON_LTS;
    }
    assert_int_equal(folio_lexicon_n_lts(lex), lts);
    folio_lexicon_free(lex);
    folio_book_free(book);
    return lts;
}

static void letter_to_sound_over_many_words(void **state)
{
    (void)state;
    char *demo = demo_book_text();
    if (!demo) fail_msg("the demo book's XHTML is missing (set FOLIO_SOURCE_ROOT)");
    size_t cap = strlen(demo) + 16384;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap, "%s\n\n", demo);
    made_up_words(text + n, cap - n);
    n = strlen(text);
    snprintf(text + n, cap - n, "\n\n%s\n", foreign_words);
    /* Hundreds of made-up words cannot all be in the dictionary. */
    assert_true(check_lexicon_properties(text) > 100);
    free(text);
    free(demo);
}

static void lexicon_rejects_bad_arguments_and_dictionaries(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    int err = 0;
    assert_null(folio_lexicon_open(ctx, NULL, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    folio_book_t *book = folio_book_open(NULL, fx_file("small.txt", "One two.", 8), NULL, NULL);
    char missing[512];
    snprintf(missing, sizeof(missing), "%s/no.dict", fx_dir());
    assert_null(folio_lexicon_open(ctx, book, missing, &err));
    assert_int_equal(err, FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), missing));
    const char junk[] = "garbage\nmore garbage without phones\n\n";
    const char *bad = fx_file("bad.dict", junk, sizeof(junk) - 1);
    assert_null(folio_lexicon_open(ctx, book, bad, &err));
    assert_int_equal(err, FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "not a pronouncing dictionary"));
    /* A tiny dictionary of our own: "one" from it, "two" by letter-to-sound. */
    const char mine[] = "one W AH N\none(2) HH W AH N\n";
    folio_lexicon_t *lex =
        folio_lexicon_open(ctx, book, fx_file("mine.dict", mine, sizeof(mine) - 1), &err);
    assert_non_null(lex);
    assert_string_equal(lex_prons(lex, (size_t)folio_lexicon_find(lex, "one")), "W AH N|HH W AH N");
    assert_int_equal(folio_lexicon_source(lex, (size_t)folio_lexicon_find(lex, "two")),
                     FOLIO_PRON_LTS);
    assert_int_equal(folio_lexicon_n_lts(lex), 1);
    /* Accessors with invalid arguments. */
    assert_null(folio_lexicon_word(lex, 99));
    assert_null(folio_lexicon_pron(lex, 0, 99));
    assert_int_equal(folio_lexicon_n_prons(lex, 99), 0);
    assert_int_equal(folio_lexicon_source(lex, 99), FOLIO_PRON_NONE);
    assert_int_equal(folio_lexicon_find(lex, "absent"), -1);
    assert_int_equal(folio_lexicon_find(lex, NULL), -1);
    folio_lexicon_free(lex);
    folio_lexicon_free(NULL);
    assert_int_equal(folio_lexicon_n_words(NULL), 0);
    assert_null(folio_lexicon_word(NULL, 0));
    assert_int_equal(folio_lexicon_find(NULL, "one"), -1);
    assert_int_equal(folio_lexicon_n_lts(NULL), 0);
    folio_book_free(book);
    folio_free(ctx);
}

/* ---- ASCII forms ---- */

static void ascii_forms_drop_accents_and_transliterate_other_scripts(void **state)
{
    (void)state;
    /* Accents dropped, "ß" as "ss", Cyrillic letter by letter, ASCII lower-cased, and what has
     * no ASCII form (a snowman) left out. */
    static const char *const cases[][2] = {
        {"Caf\u00e9", "cafe"},
        {"Z\u00fcrich", "zurich"},
        {"na\u00efve", "naive"},
        {"Stra\u00dfe", "strasse"},
        {"\u041c\u043e\u0441\u043a\u0432\u0430", "moskva"},
        {"BBC", "bbc"},
        {"a\u2603b", "ab"},
        {"", ""},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        char *got = folio__lexicon_to_ascii(cases[k][0]);
        assert_non_null(got);
        if (strcmp(got, cases[k][1]) != 0)
            fail_msg("%s: \"%s\", not \"%s\"", cases[k][0], got, cases[k][1]);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_phone_is_a_model_phone),
        cmocka_unit_test(dictionary_words_get_exactly_their_entries),
        cmocka_unit_test(non_ascii_and_possessive_words),
        cmocka_unit_test(letter_to_sound_over_many_words),
        cmocka_unit_test(lexicon_rejects_bad_arguments_and_dictionaries),
        cmocka_unit_test(ascii_forms_drop_accents_and_transliterate_other_scripts),
    };
    return cmocka_run_group_tests_name("lexicon", tests, setup, teardown);
}
