/* Unit tests of what the recording says about the book (engine/align/matter.c, and the heading
 * repair of repairs.c) on a small plain-text book and recognised words made by hand: a title
 * page, a contents paragraph and a Project Gutenberg line are unread matter, timed only when read
 * in order; an announcement repeating a chapter's heading does not take it; words heard only in
 * the announcements every file opens with take no time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/align/align_int.h"
#include "fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks: the title, the author's line, a preface that is read, a contents paragraph, chapter 1
 * (heading and paragraph), chapter 2 (heading and paragraph), Gutenberg's closing line. */
static const char text[] =
    "Sense and Sensibility\n\n"
    "by Jane Austen\n\n"
    "This is a LibriVox recording of the old novel, made for the readers of our time.\n\n"
    "Contents. CHAPTER 1 CHAPTER 2\n\n"
    "CHAPTER 1\n\n"
    "The family of Dashwood had long been settled in Sussex near the sea.\n\n"
    "CHAPTER 2\n\n"
    "John Dashwood now installed his wife as the mistress of Norland Park.\n\n"
    "End of the Project Gutenberg EBook of Sense and Sensibility.\n";

static folio_book_t *book;
static folio_lexicon_t *lex;
static folio_heard_t heard[128];
static size_t n_heard;
static double duration[3] = {100, 100, 100}, offset[3] = {0, 100, 200};
static folio_align_input_t in;
static aligner_t A;
static bool state_made;

/* The book and its lexicon, once for all tests; the aligner's state per test. */
static int book_open(void **state)
{
    (void)state;
    int err;
    book = folio_book_open(NULL, fx_file("matter.txt", text, sizeof(text) - 1), NULL, NULL);
    lex = book ? folio_lexicon_open(NULL, book, NULL, &err) : NULL;
    return lex && folio_book_n_chapters(book) == 2 ? 0 : -1;
}

static int book_close(void **state)
{
    folio_lexicon_free(lex);
    folio_book_free(book);
    return fx_teardown(state);
}

/* After each test: the state freed, and nothing heard for the next. */
static int state_free(void **state)
{
    (void)state;
    if (state_made) folio__align_state_free(&A);
    state_made = false;
    n_heard = 0;
    return 0;
}

/* The first token of the text's first occurrence of @s at or after char @from. */
static size_t tok_of(const char *s, size_t from)
{
    const char *at = strstr(text + from, s);
    assert_non_null(at);
    size_t t = folio__align_first_token_at(&A, (size_t)(at - text));
    assert_true(t != SIZE_MAX);
    return t;
}

/* Words @words (space-separated) heard in file @file from @start s, one every 0.5 s. */
static double hear(size_t file, const char *words, double start)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", words);
    char *save = NULL;
    for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save), start += 0.5) {
        assert_true(n_heard < 128);
        /* The words must outlive this call: copies in a static store. */
        static char store[128][32];
        snprintf(store[n_heard], sizeof(store[n_heard]), "%s", w);
        heard[n_heard] =
            (folio_heard_t){store[n_heard], file, start, start + 0.4, offset[file] + start, 0.9f};
        n_heard++;
    }
    return start;
}

static void make_state(void)
{
    in = (folio_align_input_t){.book = book,
                               .lex = lex,
                               .heard = heard,
                               .n_heard = n_heard,
                               .n_files = 3,
                               .duration = duration,
                               .offset = offset};
    assert_int_equal(folio__align_state_init(&A, NULL, &in), FOLIO_OK);
    state_made = true;
}

/* Whether every token from the first of @s to the first of @next (exclusive) is unread. */
static void assert_unread_span(const char *s, const char *next, bool unread)
{
    size_t a = tok_of(s, 0), z = tok_of(next, (size_t)(strstr(text, s) - text) + 1);
    assert_true(z > a);
    for (size_t t = a; t < z; t++)
        if (A.unread[t] != unread)
            fail_msg("token %zu \"%s\" %s", t, folio_book_token(book, t)->text,
                     unread ? "is read" : "is unread");
}

static void set_time(size_t t, double start)
{
    A.t_start[t] = start;
    A.t_end[t] = start + 0.4;
    A.t_file[t] = 0;
    A.t_how[t] = FOLIO_HOW_MATCH;
    A.t_conf[t] = 0.9f;
}

/* ---- unread matter ---- */

static void a_contents_paragraph_of_chapter_titles_is_unread_matter(void **state)
{
    (void)state;
    make_state();
    /* "Contents. CHAPTER 1 CHAPTER 2": the word "contents" and two chapter titles. */
    assert_unread_span("Contents.", "CHAPTER 1\n", true);
    /* The headings themselves are read. */
    size_t h1 = tok_of("CHAPTER 1\n", 0);
    assert_false(A.unread[h1]);
    assert_false(A.unread[h1 + 1]);
    assert_true(A.chapter_start[h1]);
}

static void a_title_page_before_the_first_chapter_is_unread_matter(void **state)
{
    (void)state;
    make_state();
    /* The book's first short block (plain text names itself after its file) and the author's
     * line after it. */
    assert_unread_span("Sense and", "This is a", true);
    /* The preface is long and not a title: read. */
    assert_unread_span("This is a", "Contents.", false);
}

static void a_gutenberg_closing_line_is_unread_matter(void **state)
{
    (void)state;
    make_state();
    size_t a = tok_of("End of the Project", 0);
    for (size_t t = a; t < A.n_tok; t++) assert_true(A.unread[t]);
    /* The last paragraph of the story is read. */
    assert_false(A.unread[a - 1]);
}

static void words_an_announcement_shares_with_the_contents_take_no_time(void **state)
{
    (void)state;
    make_state();
    /* "Chapter one of …" of the announcement took the contents' "CHAPTER 1"; the heading is
     * timed where it is read, right before the chapter's first sentence. */
    size_t c = tok_of("CHAPTER 1 CHAPTER 2", 0), h = tok_of("CHAPTER 1\n", 0);
    set_time(c, 0.5);
    set_time(c + 1, 0.9);
    set_time(h, 9.0);
    set_time(h + 1, 9.5);
    folio__align_drop_unread_matter(&A);
    assert_true(A.t_start[c] < 0);
    assert_true(A.t_start[c + 1] < 0);
    assert_true(fabs(A.t_start[h] - 9.0) < 1e-9);
    assert_true(fabs(A.t_start[h + 1] - 9.5) < 1e-9);
}

static void a_title_page_read_in_order_keeps_its_times(void **state)
{
    (void)state;
    make_state();
    /* A narrator who reads the title and the author's line: six tokens one after the other every
     * 0.5 s, a stretch clearly read in order. The contents' five tokens said the same way are
     * not enough, and lose their times. */
    size_t a = tok_of("Sense and", 0), pre = tok_of("This is a", 0);
    size_t c = tok_of("Contents.", 0), h = tok_of("CHAPTER 1\n", 0);
    assert_int_equal(pre - a, 6);
    assert_int_equal(h - c, 5);
    double at = 1.0;
    for (size_t t = a; t < pre; t++, at += 0.5) set_time(t, at);
    for (size_t t = c; t < h; t++, at += 0.5) set_time(t, at);
    folio__align_drop_unread_matter(&A);
    for (size_t t = a; t < pre; t++)
        assert_true(fabs(A.t_start[t] - (1.0 + 0.5 * (double)(t - a))) < 1e-9);
    for (size_t t = c; t < h; t++) assert_true(A.t_start[t] < 0);
}

/* ---- announcements ---- */

/* Each file opens "Chapter N of Sense and Sensibility. This is a LibriVox recording." and then
 * reads chapter N's heading and its paragraph. */
static void hear_files(void)
{
    double t = hear(0, "chapter one of sense and sensibility this is a librivox recording", 0.5);
    t = hear(0, "chapter one", t + 2.0);
    hear(0, "the family of dashwood had long been settled in sussex near the sea", t + 1.0);
    t = hear(1, "chapter two of sense and sensibility this is a librivox recording", 0.5);
    t = hear(1, "chapter two", t + 2.0);
    hear(1, "john dashwood now installed his wife as the mistress of norland park", t + 1.0);
    /* A third file, of a chapter this book does not have, opens the same way. */
    hear(2, "chapter three of sense and sensibility this is a librivox recording", 0.5);
}

static void an_announcement_repeating_the_heading_leaves_it_where_it_is_read(void **state)
{
    (void)state;
    hear_files();
    make_state();
    cands_t cands = {0};
    chains_t chains = {0};
    assert_int_equal(folio__align_build_ngrams(&A), FOLIO_OK);
    assert_int_equal(folio__align_find_anchors(&A, &cands, &chains), FOLIO_OK);
    assert_int_equal(folio__align_select_chains(&cands, &chains), FOLIO_OK);
    assert_int_equal(folio__align_runs(&A, &cands, &chains), FOLIO_OK);
    folio__align_fix_headings(&A);
    folio__align_drop_unread_matter(&A);
    assert_int_equal(folio__align_drop_announced(&A), FOLIO_OK);
    VEC_FREE(cands);
    VEC_FREE(chains);
    /* The announcement is 11 words from 0.5 s (to 5.5 s); the heading 2 s after the next, at 8.0
     * s and 8.5 s, and the chapter's first word 1 s after that, at 10.0 s. */
    size_t h1 = tok_of("CHAPTER 1\n", 0), h2 = tok_of("CHAPTER 2\n\nJohn", 0);
    size_t b1 = tok_of("The family", 0), b2 = tok_of("John Dashwood", 0);
    if (fabs(A.t_start[h1] - 8.0) > 1e-9 || A.t_file[h1] != 0)
        fail_msg("CHAPTER 1 at %.2f s of file %zu", A.t_start[h1], A.t_file[h1]);
    assert_true(fabs(A.t_start[h1 + 1] - 8.5) < 1e-9);
    assert_true(fabs(A.t_start[b1] - 10.0) < 1e-9);
    if (fabs(A.t_start[h2] - 108.0) > 1e-9 || A.t_file[h2] != 1)
        fail_msg("CHAPTER 2 at %.2f s of file %zu", A.t_start[h2], A.t_file[h2]);
    assert_true(fabs(A.t_start[b2] - 110.0) < 1e-9);
    /* Nothing of the title page, the contents or Gutenberg's line has a time. */
    for (size_t t = 0; t < A.n_tok; t++)
        if (A.unread[t] && A.t_start[t] >= 0)
            fail_msg("unread \"%s\" timed at %.2f s", folio_book_token(book, t)->text,
                     A.t_start[t]);
}

static void words_heard_only_in_the_files_announcements_take_no_time(void **state)
{
    (void)state;
    hear_files();
    make_state();
    /* The preface's "this is a librivox recording" was taken by file 0's announcement (heard
     * words 6-10, from 3.5 s), and the chapter's first words by their reading (13-17). */
    size_t p = tok_of("This is a", 0), b1 = tok_of("The family", 0);
    for (size_t k = 0; k < 5; k++) folio__align_assign(&A, p + k, 6 + k, 1.0f);
    for (size_t k = 0; k < 5; k++) folio__align_assign(&A, b1 + k, 13 + k, 1.0f);
    assert_true(fabs(A.t_start[p] - 3.5) < 1e-9);
    assert_int_equal(folio__align_drop_announced(&A), FOLIO_OK);
    /* Every file opens with "of sense and sensibility this is a librivox recording": the
     * preface's words go; the chapter's stay (its words open no other file). */
    for (size_t k = 0; k < 5; k++) assert_true(A.t_start[p + k] < 0);
    for (size_t k = 0; k < 5; k++) assert_true(A.t_start[b1 + k] >= 0);
    assert_true(fabs(A.t_start[b1] - 10.0) < 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_teardown(f, state_free)
        T(a_contents_paragraph_of_chapter_titles_is_unread_matter),
        T(a_title_page_before_the_first_chapter_is_unread_matter),
        T(a_gutenberg_closing_line_is_unread_matter),
        T(words_an_announcement_shares_with_the_contents_take_no_time),
        T(a_title_page_read_in_order_keeps_its_times),
        T(an_announcement_repeating_the_heading_leaves_it_where_it_is_read),
        T(words_heard_only_in_the_files_announcements_take_no_time),
#undef T
    };
    return cmocka_run_group_tests(tests, book_open, book_close);
}
