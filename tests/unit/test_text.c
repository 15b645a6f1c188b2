/* Unit tests of the text module, the book model: text as the builder keeps it (white space, NFC,
 * the cap), pages (synthetic, sorted, duplicate labels), and sentences. The books come from the
 * readers of engine/formats, whose own tests are test_formats.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the builder ---- */

static void nfc_holds_across_inline_elements(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* Combining marks in their own text node compose with the letter before them: U+00E9, not
     * "e" U+0301; dot below (class 220) goes before acute (230) and composes with the e. */
    fx_epub_t e = {
        .chapters = {"<p>cafe<span>&#x301;</span></p><p><i>e</i>&#x301;&#x323;t&#xe9;</p>"
                     "<p><span epub:type=\"pagebreak\" id=\"p1\" title=\"1\"/>One cafe"
                     "<span epub:type=\"pagebreak\" id=\"p2\" title=\"2\"/>&#x301; two.</p>"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("nfc.epub", &e));
    assert_string_equal(fx_text(b), "caf\xc3\xa9\n\n\xe1\xba\xb9\xcc\x81t\xc3\xa9\n\n"
                                    "One caf\xc3\xa9 two.");
    assert_int_equal(folio_book_text_length(b), 4 + 2 + 4 + 2 + 13);
    assert_int_equal(folio_book_n_blocks(b), 3);
    assert_int_equal(folio_book_block(b, 0)->end_char, 4);
    assert_int_equal(folio_book_block(b, 1)->start_char, 6);
    assert_int_equal(folio_book_block(b, 1)->end_char, 10);
    assert_int_equal(folio_book_block(b, 2)->start_char, 12);
    assert_int_equal(folio_book_block(b, 2)->end_char, 25);
    /* A page mark between the e and its accent points at the composed character. */
    assert_int_equal(folio_book_n_pages(b), 2);
    assert_int_equal(folio_book_page(b, 0)->start_char, 12);
    assert_int_equal(folio_book_page(b, 1)->start_char, 12 + 7);
    folio_book_free(b);
    folio_free(ctx);
}

static void text_over_the_cap_is_refused(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    folio_book_options_t o;
    folio_book_options_init(&o);
    o.max_text_chars = 10;
    fx_epub_t e = {.chapters = {"<p>More than ten characters here.</p>"}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("cap.epub", &e), &o), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(ctx), "limit of 10 characters"));
    const char t[] = "More than ten characters here.";
    assert_int_equal(fx_open_fail(ctx, fx_file("cap.txt", t, sizeof(t) - 1), &o), FOLIO_ELIMIT);
    folio_free(ctx);
}

/* ---- pages ---- */

static void page_list_duplicates_are_merged_and_bad_labels_warned(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {.nav = "<nav epub:type=\"page-list\"><ol>"
                          "<li><a href=\"ch1.xhtml#pg1\">5</a></li>"
                          "<li><a href=\"ch1.xhtml#pg1\">6</a></li>"
                          "<li><a href=\"ch1.xhtml#pg2\">5</a></li>"
                          "<li><a href=\"ch2.xhtml#pg3\">4</a></li>"
                          "<li><a href=\"ch2.xhtml#nope\">9</a></li>"
                          "<li><a href=\"gone.xhtml#x\">10</a></li></ol></nav>",
                   .chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("dupes.epub", &e));
    assert_int_equal(folio_book_n_pages(b), 4);
    fx_check_page(b, 0, "5", "Alpha");
    fx_check_page(b, 1, "5", "epsilon");
    fx_check_page(b, 2, "9", "Two"); /* unknown id: start of its document, sorted into place */
    fx_check_page(b, 3, "4", "iota");
    assert_true(fx_logged("duplicate page label"));
    assert_true(fx_logged("go backwards"));
    assert_true(fx_logged("does not exist"));
    assert_true(fx_logged("outside the spine"));
    folio_book_free(b);
    folio_free(ctx);
}

static void page_list_out_of_text_order_is_sorted(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {.nav = "<nav epub:type=\"page-list\"><ol>"
                          "<li><a href=\"ch2.xhtml#pg3\">3</a></li>"
                          "<li><a href=\"ch1.xhtml#pg1\">1</a></li></ol></nav>",
                   .chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("order.epub", &e));
    fx_check_page(b, 0, "1", "Alpha");
    fx_check_page(b, 1, "3", "iota");
    assert_true(fx_logged("ordered by their position"));
    folio_book_free(b);
    folio_free(ctx);
}

static void epub_without_pages_gets_synthetic_pages(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* Words of varied length so that page breaks fall at different places in words. */
    static const char *const words[] = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg"};
    char *para = malloc(20000);
    size_t n = 0;
    n += (size_t)sprintf(para + n, "<p>");
    for (int i = 0; i < 1500; i++)
        n += (size_t)sprintf(para + n, "%s%s", i ? " " : "", words[i % 7]);
    sprintf(para + n, "</p><p>Short tail.</p>");
    fx_epub_t e = {.chapters = {para, "<p>Second document.</p>", "<p>Unread.</p>"},
                   .linear = {NULL, NULL, "no"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("synthetic.epub", &e));
    free(para);
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_SYNTHETIC);
    const char *t = fx_text(b);
    size_t second = fx_cp_offset(t, "Second"), unread = fx_cp_offset(t, "Unread");
    size_t np = folio_book_n_pages(b);
    /* 1500 words of average 4 letters + spaces = 7499 characters: 8 pages in the first document,
     * one for each of the others. */
    assert_int_equal(np, 10);
    for (size_t i = 0; i < np; i++) {
        const folio_page_t *p = folio_book_page(b, i);
        char label[24];
        snprintf(label, sizeof(label), "%zu", i + 1);
        assert_string_equal(p->label, label);
        /* Every page starts a word (text is ASCII here, so char = byte). */
        assert_true(p->start_char == 0 || t[p->start_char - 1] == ' ' ||
                    t[p->start_char - 1] == '\n');
        assert_true(t[p->start_char] != ' ' && t[p->start_char] != '\n');
        if (i + 1 < np && folio_book_page(b, i + 1)->start_char < second) {
            size_t len = folio_book_page(b, i + 1)->start_char - p->start_char;
            assert_true(len >= 1024 && len <= 1024 + 8);
        }
    }
    assert_int_equal(folio_book_page(b, np - 2)->start_char, second);
    assert_int_equal(folio_book_page(b, np - 1)->start_char, unread);
    folio_book_free(b);
    folio_free(ctx);
}

/* ---- sentences ---- */

static void sentences_do_not_end_at_abbreviations(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {.chapters = {"<p>Mr. Hale met Dr. Ames at St. Brendan's. \xe2\x80\x9cIs it "
                                "5 p.m. already?\xe2\x80\x9d she asked. J. R. Smith left.</p>"
                                "<p>Second block</p>"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("sentences.epub", &e));
    const char *want[] = {"Mr. Hale met Dr. Ames at St. Brendan's.",
                          "\xe2\x80\x9cIs it 5 p.m. already?\xe2\x80\x9d she asked.",
                          "J. R. Smith left.", "Second block"};
    assert_int_equal(folio_book_n_sentences(b), 4);
    for (size_t i = 0; i < 4; i++) {
        const folio_sentence_t *s = folio_book_sentence(b, i);
        fx_assert_range(b, s->start_char, s->end_char, want[i]);
    }
    folio_book_free(b);
    folio_free(ctx);
}

/* ---- inputs made to defeat loops that are quadratic in the text ---- */

/* @unit repeated @n times, after @head (NUL-terminated, with room to append 15 more bytes; caller
 * frees). */
static char *repeat(const char *head, const char *unit, size_t n)
{
    size_t hl = strlen(head), ul = strlen(unit);
    char *s = malloc(hl + ul * n + 16); /* room for a short tail */
    assert_non_null(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++) memcpy(s + hl + i * ul, unit, ul);
    s[hl + ul * n] = '\0';
    return s;
}

static folio_book_t *open_text(folio_t *ctx, const char *name, const char *data)
{
    return fx_open_ok(ctx, fx_file(name, data, strlen(data)));
}

/* Each of these took minutes or more when a pass rescanned the text at every line, break or
 * element; the test measures nothing, it only has to finish within the suite's timeout. */
static void inputs_that_defeat_quadratic_loops_complete(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    enum { N = 200000 };
    /* Line-end hyphens joined into one word of a million letters (3 MB: hours when each line
     * scanned back to the word's start). */
    char *s = repeat("", "a-\n", 5 * N), *want = repeat("", "a", 5 * N);
    strcat(want, "-"); /* the last line's hyphen has no next line to join */
    folio_book_t *b = open_text(ctx, "hyphens.txt", s);
    assert_string_equal(fx_text(b), want);
    folio_book_free(b);
    free(s);
    free(want);
    /* One giant line of hyphens, and a long run of hyphens in a word inside a line. */
    s = repeat("Start ", "-", 3 * N);
    strcat(s, " end\nwell");
    b = open_text(ctx, "dashes.txt", s);
    assert_int_equal(folio_book_text_length(b), strlen(s));
    folio_book_free(b);
    free(s);
    /* Many tiny paragraphs. */
    s = repeat("", "a\n\n", N);
    b = open_text(ctx, "paragraphs.txt", s);
    assert_int_equal(folio_book_n_blocks(b), N);
    folio_book_free(b);
    free(s);
    /* Many form feeds: pages of one line between running heads (left out), one paragraph. */
    s = repeat("", "Alpha\nbeta gamma\nDelta\f", N / 4);
    b = open_text(ctx, "pages.txt", s);
    assert_int_equal(folio_book_n_pages(b), N / 4);
    assert_int_equal(folio_book_text_length(b), (N / 4) * 11 - 1);
    folio_book_free(b);
    free(s);
    /* Sentence breaks with no letter after them, and breaks inside one long word. */
    const char *units[] = {"!!  \xc2\xbb ", "a?", "Mr. "};
    for (int k = 0; k < 3; k++) {
        s = repeat("Hi. ", units[k], N / 2);
        b = open_text(ctx, "sentences.txt", s);
        assert_true(folio_book_n_sentences(b) >= 1);
        folio_book_free(b);
        free(s);
    }
    /* XHTML: note markers nested as deep as the XML parser allows around a long text, and links
     * nested deeper in a document the HTML parser reads. */
    char *words = repeat("", "word ", N);
    char *open = repeat("", "<sup>", 250), *close = repeat("", "</sup>", 250);
    size_t n = strlen(words) + strlen(open) + strlen(close) + 64;
    char *doc = malloc(n);
    assert_non_null(doc);
    snprintf(doc, n, "<p>%s%s%s</p>", open, words, close);
    fx_epub_t e = {.chapters = {doc}};
    b = fx_open_ok(ctx, fx_epub("nested.epub", &e));
    assert_int_equal(folio_book_text_length(b), strlen(words) - 1);
    folio_book_free(b);
    free(open);
    free(close);
    free(doc);
    open = repeat("<p>Not&nbsp;XML.<sup>", "<a href=\"#n\">", 20000);
    close = repeat("1", "</a>", 20000);
    n = strlen(open) + strlen(close) + 64;
    doc = malloc(n);
    assert_non_null(doc);
    snprintf(doc, n, "%s%s</sup> after.</p>", open, close);
    fx_epub_t h = {.chapters = {doc}};
    b = fx_open_ok(ctx, fx_epub("deeplinks.epub", &h));
    assert_string_equal(fx_text(b), "Not\xc2\xa0XML. after.");
    folio_book_free(b);
    free(open);
    free(close);
    free(doc);
    free(words);
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nfc_holds_across_inline_elements),
        cmocka_unit_test(text_over_the_cap_is_refused),
        cmocka_unit_test(page_list_duplicates_are_merged_and_bad_labels_warned),
        cmocka_unit_test(page_list_out_of_text_order_is_sorted),
        cmocka_unit_test(epub_without_pages_gets_synthetic_pages),
        cmocka_unit_test(sentences_do_not_end_at_abbreviations),
        cmocka_unit_test(inputs_that_defeat_quadratic_loops_complete),
    };
    return cmocka_run_group_tests_name("text", tests, NULL, fx_teardown);
}
