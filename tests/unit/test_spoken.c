/* Unit tests of the spoken form: each normalisation rule with the spans it gives, alternative
 * readings, abbreviations inside sentences, roman numerals in headings, unread blocks. Expected
 * readings and spans are written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static folio_book_t *text_book(const char *text)
{
    folio_book_t *b = folio_book_open(NULL, fx_file("spoken.txt", text, strlen(text)), NULL, NULL);
    assert_non_null(b);
    return b;
}

/* "token@start-end" for every token, space-separated. */
static char *describe(const folio_book_t *b)
{
    static char buf[8192];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < folio_book_n_tokens(b); i++) {
        const folio_token_t *t = folio_book_token(b, i);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s@%zu-%zu", i ? " " : "", t->text,
                              t->start_char, t->end_char);
    }
    return buf;
}

static void expect(const char *text, const char *want)
{
    folio_book_t *b = text_book(text);
    assert_string_equal(describe(b), want);
    folio_book_free(b);
}

/* The alternatives of the source word covering code point @at, "|"-separated. */
static char *alternatives(const folio_book_t *b, size_t at)
{
    static char buf[2048];
    buf[0] = '\0';
    for (size_t w = 0; w < folio_book_n_words(b); w++) {
        const folio_word_t *word = folio_book_word(b, w);
        if (word->start_char > at || word->end_char <= at) continue;
        size_t n = 0;
        for (size_t k = 0; k < word->n_alternatives; k++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", k ? "|" : "",
                                  folio_book_word_alternative(b, w, k));
    }
    return buf;
}

static void expect_alts(const char *text, size_t at, const char *want)
{
    folio_book_t *b = text_book(text);
    assert_string_equal(alternatives(b, at), want);
    folio_book_free(b);
}

static void words_apostrophes_ligatures_and_dashes(void **state)
{
    (void)state;
    expect("Don't stop at o\xe2\x80\x99"
           "clock.",
           "don't@0-5 stop@6-10 at@11-13 o'clock@14-21");
    /* "ﬁ" (U+FB01) is one code point that NFKC makes two letters: the span stays the source's. */
    expect("\xef\xac\x81sh \xef\xac\x82y", "fish@0-3 fly@4-6");
    expect("A well-known one\xe2\x80\x94two.", "a@0-1 well@2-6 known@7-12 one@13-16 two@17-20");
    expect("Caf\xc3\xa9 NA\xc3\x8fVE", "caf\xc3\xa9@0-4 na\xc3\xafve@5-10");
    expect("the keepers\xe2\x80\x99 ledger", "the@0-3 keepers@4-11 ledger@13-19");
}

static void numbers_have_spans_and_alternatives(void **state)
{
    (void)state;
    expect("In 1455 it", "in@0-2 fourteen@3-7 fifty@3-7 five@3-7 it@8-10");
    expect_alts("In 1455 it", 3,
                "one thousand four hundred fifty five|one thousand four hundred and fifty five");
    expect("1999", "nineteen@0-4 ninety@0-4 nine@0-4");
    expect_alts("1999", 0,
                "one thousand nine hundred ninety nine|one thousand nine hundred and ninety nine");
    expect("2005", "two@0-4 thousand@0-4 five@0-4");
    expect_alts("2005", 0, "two thousand and five");
    expect("all 112 steps", "all@0-3 one@4-7 hundred@4-7 twelve@4-7 steps@8-13");
    expect_alts("all 112 steps", 4, "one hundred and twelve");
    expect("the 21st", "the@0-3 twenty@4-8 first@4-8");
    expect("3.5 miles", "three@0-3 point@0-3 five@0-3 miles@4-9");
    expect("1,000 men", "one@0-5 thousand@0-5 men@6-9");
    expect("agent 007", "agent@0-5 zero@6-9 zero@6-9 seven@6-9");
    expect_alts("agent 007", 6, "oh oh seven");
    expect("the 1920s", "the@0-3 nineteen@4-9 twenties@4-9");
    expect("No. 5 and #7", "number@0-3 five@4-5 and@6-9 number@10-11 seven@11-12");
}

static void currency_and_percent(void **state)
{
    (void)state;
    expect("a $5 bill", "a@0-1 five@2-4 dollars@2-4 bill@5-9");
    expect("$1", "one@0-2 dollar@0-2");
    expect("\xc2\xa3"
           "20 a barrel",
           "twenty@0-3 pounds@0-3 a@4-5 barrel@6-12");
    expect("$3.50", "three@0-5 dollars@0-5 fifty@0-5 cents@0-5");
    expect_alts("$3.50", 0, "three dollars and fifty cents|three dollars fifty|three fifty");
    expect("$0.99", "ninety@0-5 nine@0-5 cents@0-5");
    expect("5% off", "five@0-2 percent@0-2 off@3-6");
    expect_alts("5% off", 0, "five per cent");
    expect("Hale & Daughters", "hale@0-4 and@5-6 daughters@7-16");
}

static void abbreviations_inside_sentences(void **state)
{
    (void)state;
    const char *t = "Mr. Hale met Dr. Ames at St. Paul's on Baker St. today, e.g. at 5 p.m. sharp.";
    folio_book_t *b = text_book(t);
    assert_string_equal(describe(b),
                        "mister@0-3 hale@4-8 met@9-12 doctor@13-16 ames@17-21 at@22-24 "
                        "saint@25-28 paul's@29-35 on@36-38 baker@39-44 street@45-48 "
                        "today@49-54 for@56-60 example@56-60 at@61-63 five@64-65 p@66-70 "
                        "m@66-70 sharp@71-76");
    assert_string_equal(alternatives(b, 45), "saint");
    assert_string_equal(alternatives(b, 25), "street");
    assert_string_equal(alternatives(b, 56), "e g");
    /* None of those periods ends the sentence. */
    assert_int_equal(folio_book_n_sentences(b), 1);
    folio_book_free(b);
    /* British titles without a period, before a name; "no" that is not "number". */
    expect("Mr Hale said no.", "mister@0-2 hale@3-7 said@8-12 no@13-15");
}

static void acronyms_and_roman_numerals(void **state)
{
    (void)state;
    expect("The BBC and NASA", "the@0-3 b@4-7 b@4-7 c@4-7 and@8-11 nasa@12-16");
    expect_alts("The BBC and NASA", 4, "bbc");
    expect_alts("The BBC and NASA", 12, "n a s a");
    expect("Henry VIII was king and I was not", "henry@0-5 the@6-10 eighth@6-10 was@11-14 "
                                                "king@15-19 and@20-23 i@24-25 was@26-29 "
                                                "not@30-33");
    /* In plain text, "CHAPTER XII" alone on a line is a heading. */
    expect("CHAPTER XII\n\nIt began.", "chapter@0-7 twelve@8-11 it@13-15 began@16-21");
    /* In an EPUB heading, a numeral standing first; and "Chapter IV" in running text. */
    fx_epub_t e = {.chapters = {"<h2>IV. The Return</h2><h2>I Remember</h2>"
                                "<p>As told in Chapter IV, it ended.</p>"}};
    folio_book_t *b = folio_book_open(NULL, fx_epub("roman.epub", &e), NULL, NULL);
    assert_non_null(b);
    assert_string_equal(describe(b), "four@0-2 the@4-7 return@8-14 i@16-17 remember@18-26 "
                                     "as@28-30 told@31-35 in@36-38 chapter@39-46 four@47-49 "
                                     "it@51-53 ended@54-59");
    folio_book_free(b);
}

static void unread_blocks_keep_flagged_tokens(void **state)
{
    (void)state;
    fx_epub_t e = {.chapters = {"<p>Read this.</p><aside epub:type=\"footnote\"><p>Not this "
                                "1455.</p></aside>"}};
    folio_book_t *b = folio_book_open(NULL, fx_epub("unread.epub", &e), NULL, NULL);
    assert_non_null(b);
    assert_int_equal(folio_book_n_tokens(b), 7);
    for (size_t i = 0; i < folio_book_n_tokens(b); i++) {
        const folio_token_t *t = folio_book_token(b, i);
        assert_int_equal(t->read, i < 2);
        assert_int_equal(t->block, i < 2 ? 0 : 1);
        assert_int_equal(folio_book_word(b, t->word)->read, i < 2);
    }
    /* Alternatives are kept for unread words too. */
    assert_int_equal(folio_book_word(b, 4)->n_alternatives, 2);
    folio_book_free(b);
}

static void words_cover_their_tokens(void **state)
{
    (void)state;
    folio_book_t *b = text_book("On the 21st of March, $5 and 1455 steps.");
    size_t next = 0;
    for (size_t w = 0; w < folio_book_n_words(b); w++) {
        const folio_word_t *word = folio_book_word(b, w);
        assert_int_equal(word->first_token, next);
        for (size_t k = 0; k < word->n_tokens; k++) {
            const folio_token_t *t = folio_book_token(b, next + k);
            assert_int_equal(t->word, w);
            assert_int_equal(t->start_char, word->start_char);
            assert_int_equal(t->end_char, word->end_char);
        }
        next += word->n_tokens;
    }
    assert_int_equal(next, folio_book_n_tokens(b));
    assert_null(folio_book_word_alternative(b, 0, 0));
    assert_null(folio_book_word_alternative(b, folio_book_n_words(b), 0));
    folio_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_apostrophes_ligatures_and_dashes),
        cmocka_unit_test(numbers_have_spans_and_alternatives),
        cmocka_unit_test(currency_and_percent),
        cmocka_unit_test(abbreviations_inside_sentences),
        cmocka_unit_test(acronyms_and_roman_numerals),
        cmocka_unit_test(unread_blocks_keep_flagged_tokens),
        cmocka_unit_test(words_cover_their_tokens),
    };
    return cmocka_run_group_tests_name("spoken", tests, NULL, fx_teardown);
}
