/* Unit tests of the spoken form: each normalisation rule with the spans it gives, alternative
 * readings, abbreviations inside sentences, roman numerals in headings, unread blocks; and the
 * engine's one roman-numeral parser, on its own and as page labels use it. Expected readings,
 * spans and values are written out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/spoken/spoken.h"
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

static void roman_numerals_need_their_keyword_or_name(void **state)
{
    (void)state;
    /* Punctuation between keyword and letter: no numeral. */
    expect("for my part, I think", "for@0-3 my@4-6 part@7-11 i@13-14 think@15-20");
    expect_alts("for my part, I think", 13, "");
    /* A single letter after a keyword in running text stays a letter, "one" an alternative. */
    expect("the book I wrote", "the@0-3 book@4-8 i@9-10 wrote@11-16");
    expect_alts("the book I wrote", 9, "one");
    expect("the lesson, mix it", "the@0-3 lesson@4-10 mix@12-15 it@16-18");
    expect("the lesson mix", "the@0-3 lesson@4-10 mix@11-14");
    expect("See Appendix C and Section D.",
           "see@0-3 appendix@4-12 c@13-14 and@15-18 section@19-26 d@27-28");
    /* Upper case, more than one letter, right after the keyword: a number, the word kept. */
    expect("in Chapter IV, it", "in@0-2 chapter@3-10 four@11-13 it@15-17");
    expect_alts("in Chapter IV, it", 11, "iv");
    /* In a heading a single letter after its keyword is a number too. */
    expect("Part I\n\nIt began.", "part@0-4 one@5-6 it@8-10 began@11-16");
    expect_alts("Part I\n\nIt began.", 5, "i");
}

static void regnal_numbers_after_names_only(void **state)
{
    (void)state;
    expect("World War II ended", "world@0-5 war@6-9 two@10-12 ended@13-18");
    expect_alts("World War II ended", 10, "the second|ii");
    expect("after World War I the", "after@0-5 world@6-11 war@12-15 one@16-17 the@18-21");
    expect_alts("after World War I the", 16, "the first|i");
    expect("Henry V and Pius X", "henry@0-5 the@6-7 fifth@6-7 and@8-11 pius@12-16 the@17-18 "
                                 "tenth@17-18");
    expect_alts("Henry V and Pius X", 6, "five|fifth|v");
    expect_alts("Henry V and Pius X", 17, "ten|tenth|x");
    expect_alts("Henry VIII was", 6, "eight|eighth|viii");
    /* Not a king: "DC" is 600 and no regnal number. */
    expect("Washington DC", "washington@0-10 d@11-13 c@11-13");
}

static void saint_before_a_name_street_after_one(void **state)
{
    (void)state;
    expect("on Baker St. The next day", "on@0-2 baker@3-8 street@9-12 the@13-16 next@17-21 "
                                        "day@22-25");
    expect_alts("on Baker St. The next day", 9, "saint");
    expect("on 5th St. near", "on@0-2 fifth@3-6 street@7-10 near@11-15");
    expect_alts("on 5th St. near", 7, "saint");
    expect("Main St, then", "main@0-4 street@5-7 then@9-13");
    expect("St. John and St John", "saint@0-3 john@4-8 and@9-12 saint@13-15 john@16-20");
    expect_alts("St. John and St John", 0, "street");
    expect_alts("St. John and St John", 13, "street");
    expect("Mulholland Dr. The end", "mulholland@0-10 drive@11-14 the@15-18 end@19-22");
    expect("Then Dr. Ames", "then@0-4 doctor@5-8 ames@9-13");
}

static void money_with_scale_cents_and_fractions(void **state)
{
    (void)state;
    /* One source word from the sign to the scale word: its tokens all carry that span. */
    expect("$5 million", "five@0-10 million@0-10 dollars@0-10");
    expect("\xc2\xa3"
           "1.5 billion",
           "one@0-12 point@0-12 five@0-12 billion@0-12 pounds@0-12");
    expect("50\xc2\xa2 or 1\xc2\xa2", "fifty@0-3 cents@0-3 or@4-6 one@7-9 cent@7-9");
    expect("\xc2\xbd", "one@0-1 half@0-1");
    expect_alts("\xc2\xbd", 0, "a half|half");
    expect("3\xc2\xbd miles", "three@0-2 and@0-2 a@0-2 half@0-2 miles@3-8");
    expect_alts("3\xc2\xbd miles", 0, "three and one half");
    expect("\xc2\xbe", "three@0-1 quarters@0-1");
    expect_alts("\xc2\xbe", 0, "three fourths");
    expect("\xe2\x85\x93", "one@0-1 third@0-1");
}

static void powers_signs_and_leading_points(void **state)
{
    (void)state;
    expect("x\xc2\xb2 and 10\xe2\x81\xbb\xc2\xb3",
           "x@0-1 squared@1-2 and@3-6 ten@7-9 to@9-11 the@9-11 power@9-11 of@9-11 minus@9-11 "
           "three@9-11");
    expect_alts("x\xc2\xb2", 1, "to the power of two|to the second|to the two");
    expect("y\xc2\xb3", "y@0-1 cubed@1-2");
    /* A superscript after a word is a footnote mark: not said. */
    expect("word\xc2\xb9 here", "word@0-4 here@6-10");
    expect("It was -7 today", "it@0-2 was@3-6 minus@7-9 seven@7-9 today@10-15");
    expect_alts("It was -7 today", 7, "negative seven");
    expect("\xe2\x88\x92"
           "3",
           "minus@0-2 three@0-2");
    /* A hyphen inside a word is no sign. */
    expect("won 5-3", "won@0-3 five@4-5 three@6-7");
    expect("a .5 inch", "a@0-1 point@2-4 five@2-4 inch@5-9");
    expect_alts("a .5 inch", 2, "zero point five");
    expect_alts("a .45 gun", 2, "zero point four five|forty five");
}

static void decades_ranges_phones_and_dates(void **state)
{
    (void)state;
    expect("the 1900s", "the@0-3 nineteen@4-9 hundreds@4-9");
    expect_alts("the 1900s", 4, "");
    expect_alts("the 1920s", 4, "");
    expect("the 60s", "the@0-3 sixties@4-7");
    expect("pp. 5-7", "pages@0-3 five@4-5 to@5-6 seven@6-7");
    expect_alts("pp. 5-7", 5, "through");
    expect("1914-1918", "nineteen@0-4 fourteen@0-4 to@4-5 nineteen@5-9 eighteen@5-9");
    expect("1914\xe2\x80\x93"
           "18",
           "nineteen@0-4 fourteen@0-4 to@4-5 eighteen@5-7");
    expect("Call 555-1234 now", "call@0-4 five@5-8 five@5-8 five@5-8 one@9-13 two@9-13 "
                                "three@9-13 four@9-13 now@14-17");
    expect_alts("Call 555-1234 now", 9, "twelve thirty four");
    expect("(800) 555-0199",
           "eight@1-4 hundred@1-4 five@6-9 five@6-9 five@6-9 zero@10-14 one@10-14 "
           "nine@10-14 nine@10-14");
    expect_alts("(800) 555-0199", 10, "oh one nine nine");
    expect("On 3 May 1999", "on@0-2 the@3-4 third@3-4 of@3-4 may@5-8 nineteen@9-13 ninety@9-13 "
                            "nine@9-13");
    expect_alts("On 3 May 1999", 3, "three|third|the third");
    expect("May 3", "may@0-3 third@4-5");
    expect_alts("May 3", 4, "three|the third");
}

static void labels_symbols_and_full_width(void **state)
{
    (void)state;
    expect("No. 5", "number@0-3 five@4-5");
    expect_alts("No. 5", 0, "numero");
    expect("Room 237", "room@0-4 two@5-8 hundred@5-8 thirty@5-8 seven@5-8");
    expect_alts("Room 237", 5, "two hundred and thirty seven|two three seven|two thirty seven");
    expect_alts("No. 1455", 4,
                "one thousand four hundred and fifty five|one four five five|fourteen fifty five");
    expect("cows &c. went", "cows@0-4 et@5-8 cetera@5-8 went@9-13");
    /* Full-width letters are an acronym after NFKC, as their ASCII forms would be. */
    expect("\xef\xbc\xa2\xef\xbc\xa2\xef\xbc\xa3 news", "b@0-3 b@0-3 c@0-3 news@4-8");
    expect_alts("\xef\xbc\xa2\xef\xbc\xa2\xef\xbc\xa3 news", 0, "bbc");
}

/* U+FDFA is one code point that NFKC makes eighteen: a word of them outgrows any fixed ratio. */
static void nfkc_expansion_beyond_any_ratio(void **state)
{
    (void)state;
    static const size_t counts[] = {2, 50, 300};
    for (size_t c = 0; c < 3; c++) {
        size_t n = counts[c];
        char *text = malloc(n * 3 + 1);
        assert_non_null(text);
        for (size_t k = 0; k < n; k++) memcpy(text + 3 * k, "\xef\xb7\xba", 3);
        text[n * 3] = '\0';
        folio_book_t *b = text_book(text);
        /* Each gives four words; neighbours join at the seam ("...وسلمصلى..."). */
        assert_int_equal(folio_book_n_tokens(b), 3 * n + 1);
        const folio_token_t *first = folio_book_token(b, 0);
        assert_string_equal(first->text, "\xd8\xb5\xd9\x84\xd9\x89");
        assert_string_equal(folio_book_token(b, 3 * n)->text, "\xd9\x88\xd8\xb3\xd9\x84\xd9\x85");
        for (size_t i = 0; i < folio_book_n_tokens(b); i++) {
            assert_int_equal(folio_book_token(b, i)->start_char, 0);
            assert_int_equal(folio_book_token(b, i)->end_char, n);
        }
        folio_book_free(b);
        free(text);
    }
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

/* ---- the roman-numeral parser ---- */

static void roman_value_reads_canonical_numerals_in_either_case(void **state)
{
    (void)state;
    static const struct {
        const char *numeral;
        int value;
    } cases[] = {
        {"I", 1},
        {"i", 1},
        {"iv", 4},
        {"IX", 9},
        {"XIV", 14},
        {"xiv", 14},
        {"XL", 40},
        {"xc", 90},
        {"CD", 400},
        {"mdclxvi", 1666},
        {"MCMXCIV", 1994},   /* 1000 + 900 + 90 + 4 */
        {"MMMCMXCIX", 3999}, /* the largest: 3000 + 900 + 90 + 9 */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
        if (folio__roman_value(cases[k].numeral, strlen(cases[k].numeral)) != cases[k].value)
            fail_msg("%s: %d, not %d", cases[k].numeral,
                     folio__roman_value(cases[k].numeral, strlen(cases[k].numeral)),
                     cases[k].value);
    /* Only the first n bytes count. */
    assert_int_equal(folio__roman_value("XIVth", 3), 14);
    assert_int_equal(folio__roman_value("XIVth", 2), 11);
}

static void roman_value_rejects_non_canonical_and_mixed_case(void **state)
{
    (void)state;
    /* "IIII" is written IV, "VX" is V, "IC" is XCIX, "XXXX" is XL, "VV" is X, "IIV" is III,
     * "DID" is CMXCIX; "MMMM" (4000) is beyond the numerals' range; "XiV" mixes cases. */
    static const char *const bad[] = {"IIII", "VX",    "IC",  "XXXX", "VV",  "IIV", "DID",
                                      "MMMM", "CIVIL", "XiV", "Xiv",  "ABC", "X1",  ""};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
        if (folio__roman_value(bad[k], strlen(bad[k])) != 0)
            fail_msg("%s read as %d", bad[k], folio__roman_value(bad[k], strlen(bad[k])));
}

/* A book of three pages whose page-list gives @a, @b, @c in text order. */
static bool page_labels_go_backwards(const char *name, const char *a, const char *b, const char *c)
{
    char nav[512];
    snprintf(nav, sizeof(nav),
             "<nav epub:type=\"page-list\"><ol><li><a href=\"ch1.xhtml#p1\">%s</a></li>"
             "<li><a href=\"ch1.xhtml#p2\">%s</a></li><li><a href=\"ch1.xhtml#p3\">%s</a></li>"
             "</ol></nav>",
             a, b, c);
    fx_epub_t e = {.nav = nav,
                   .chapters = {"<p id=\"p1\">Alpha beta.</p><p id=\"p2\">Gamma delta.</p>"
                                "<p id=\"p3\">Epsilon zeta.</p>"}};
    folio_t *ctx = fx_context();
    folio_book_t *book = folio_book_open(ctx, fx_epub(name, &e), NULL, NULL);
    assert_non_null(book);
    assert_int_equal(folio_book_n_pages(book), 3);
    assert_string_equal(folio_book_page(book, 1)->label, b);
    bool backwards = fx_logged("page labels go backwards");
    folio_book_free(book);
    folio_free(ctx);
    return backwards;
}

static void roman_page_labels_are_ordered_by_their_value(void **state)
{
    (void)state;
    /* ix, x, xiv = 9, 10, 14: in order (read as 11, "ix" would come after "x"). */
    assert_false(page_labels_go_backwards("roman-up.epub", "ix", "x", "xiv"));
    assert_false(page_labels_go_backwards("roman-upper.epub", "XII", "XIII", "XIV"));
    /* xii, xiv, xiii = 12, 14, 13: back once, and the warning names both labels. */
    assert_true(page_labels_go_backwards("roman-back.epub", "xii", "xiv", "xiii"));
    assert_true(fx_logged("\"xiii\" after \"xiv\""));
    /* "IIII" is no numeral, so it is not compared with "v" before it. */
    assert_false(page_labels_go_backwards("roman-bad.epub", "iv", "v", "IIII"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_apostrophes_ligatures_and_dashes),
        cmocka_unit_test(numbers_have_spans_and_alternatives),
        cmocka_unit_test(currency_and_percent),
        cmocka_unit_test(abbreviations_inside_sentences),
        cmocka_unit_test(acronyms_and_roman_numerals),
        cmocka_unit_test(roman_numerals_need_their_keyword_or_name),
        cmocka_unit_test(regnal_numbers_after_names_only),
        cmocka_unit_test(saint_before_a_name_street_after_one),
        cmocka_unit_test(money_with_scale_cents_and_fractions),
        cmocka_unit_test(powers_signs_and_leading_points),
        cmocka_unit_test(decades_ranges_phones_and_dates),
        cmocka_unit_test(labels_symbols_and_full_width),
        cmocka_unit_test(nfkc_expansion_beyond_any_ratio),
        cmocka_unit_test(unread_blocks_keep_flagged_tokens),
        cmocka_unit_test(words_cover_their_tokens),
        cmocka_unit_test(roman_value_reads_canonical_numerals_in_either_case),
        cmocka_unit_test(roman_value_rejects_non_canonical_and_mixed_case),
        cmocka_unit_test(roman_page_labels_are_ordered_by_their_value),
    };
    return cmocka_run_group_tests_name("spoken", tests, NULL, fx_teardown);
}
