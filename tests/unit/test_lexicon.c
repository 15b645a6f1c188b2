#define _GNU_SOURCE
/* Unit tests of the lexicon: property tests against the model's own files, read here
 * independently — the pronouncing dictionary (every dictionary word gets exactly its entries,
 * never letter-to-sound) and the acoustic model's phone list (every phone is one of them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_phone_is_a_model_phone),
        cmocka_unit_test(dictionary_words_get_exactly_their_entries),
        cmocka_unit_test(non_ascii_and_possessive_words),
        cmocka_unit_test(lexicon_rejects_bad_arguments_and_dictionaries),
    };
    return cmocka_run_group_tests_name("lexicon", tests, setup, teardown);
}
