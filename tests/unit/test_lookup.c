/* The lookups of folio.h section 7 on a small index whose every time is known (fx_index.h): what
 * they find, and for every invalid argument and everything not found, the code and the message
 * left on the context; a NULL context gives the same codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "fx_index.h"

#include <math.h>
#include <string.h>

/* The small index's text: "One two three four five six seven eight." Word i starts at i s. */
static const char QUERY[] = "two three four five six seven eight";

static folio_index_t *open_small(const char *name, bool read)
{
    const char *path = fx_small_index(name, read);
    assert_non_null(path);
    int err = 12345;
    folio_index_t *ix = folio_index_open(NULL, path, &err);
    assert_non_null(ix);
    assert_int_equal(err, FOLIO_OK);
    return ix;
}

/* Whether the last failure on @ctx said @needle. */
static void said(const folio_t *ctx, const char *needle)
{
    if (!strstr(folio_errmsg(ctx), needle))
        fail_msg("message \"%s\" lacks \"%s\"", folio_errmsg(ctx), needle);
}

static void page_lookups_find_labels_and_ordinals(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("pages.folio", true);
    folio_lookup_t r;
    assert_int_equal(folio_lookup_page(ctx, ix, "2", &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 19); /* "five" */
    assert_int_equal(r.page, 1);
    assert_string_equal(r.page_label, "2");
    assert_int_equal(r.chapter, 0);
    assert_string_equal(r.chapter_title, "Chapter");
    assert_int_equal(r.sentence_start, 0);
    assert_int_equal(r.sentence_end, 40);
    assert_true(r.time == 4.0);
    assert_int_equal(r.file, 0);
    assert_true(r.file_time == 4.0);
    assert_int_equal(folio_lookup_ordinal(ctx, ix, 1, &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 0);
    assert_string_equal(r.page_label, "1");
    assert_true(r.time == 0.0);
    folio_index_free(ix);
    folio_free(ctx);
}

static void unknown_pages_are_not_found_with_a_message(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("unknown.folio", true);
    folio_lookup_t r;
    assert_int_equal(folio_lookup_page(ctx, ix, "3", &r), FOLIO_ENOTFOUND);
    assert_string_equal(folio_errmsg(ctx), "no page labelled \"3\"");
    assert_int_equal(folio_lookup_page(ctx, ix, "", &r), FOLIO_ENOTFOUND);
    assert_string_equal(folio_errmsg(ctx), "no page labelled \"\"");
    assert_int_equal(folio_lookup_ordinal(ctx, ix, 3, &r), FOLIO_ENOTFOUND);
    assert_string_equal(folio_errmsg(ctx), "no page 3 (the book has 2)");
    assert_int_equal(folio_lookup_ordinal(ctx, ix, 0, &r), FOLIO_ENOTFOUND);
    said(ctx, "no page 0");
    assert_int_equal(folio_lookup_ordinal(ctx, ix, SIZE_MAX, &r), FOLIO_ENOTFOUND);
    said(ctx, "the book has 2");
    folio_index_free(ix);
    folio_free(ctx);
}

static void lookups_reject_null_arguments(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("null.folio", true);
    folio_lookup_t r;
    size_t n = 99;
    long flip = 99;
    assert_int_equal(folio_lookup_page(ctx, NULL, "1", &r), FOLIO_EINVAL);
    said(ctx, "folio_lookup_page: NULL argument");
    assert_int_equal(folio_lookup_page(ctx, ix, NULL, &r), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_page(ctx, ix, "2", NULL), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_ordinal(ctx, NULL, 1, &r), FOLIO_EINVAL);
    said(ctx, "folio_lookup_ordinal: NULL argument");
    assert_int_equal(folio_lookup_ordinal(ctx, ix, 2, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_time(ctx, NULL, -1, 1.0, &r), FOLIO_EINVAL);
    said(ctx, "folio_lookup_time: NULL argument");
    assert_int_equal(folio_lookup_time(ctx, ix, 0, 4.2, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_text(ctx, NULL, QUERY, strlen(QUERY), &r, 1, &n), FOLIO_EINVAL);
    said(ctx, "folio_lookup_text: NULL argument");
    assert_int_equal(folio_lookup_text(ctx, ix, NULL, 4, &r, 1, &n), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_text(ctx, ix, QUERY, strlen(QUERY), NULL, 1, &n), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_text(ctx, ix, QUERY, strlen(QUERY), &r, 1, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_text(ctx, ix, QUERY, strlen(QUERY), &r, 0, &n), FOLIO_EINVAL);
    said(ctx, "max is 0");
    assert_int_equal(folio_lookup_scan(ctx, NULL, 1.0, QUERY, strlen(QUERY), &flip, NULL, NULL),
                     FOLIO_EINVAL);
    said(ctx, "folio_lookup_scan: NULL argument");
    assert_int_equal(folio_lookup_scan(ctx, ix, 1.0, NULL, 4, &flip, NULL, NULL), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_scan(ctx, ix, 1.0, QUERY, strlen(QUERY), NULL, NULL, NULL),
                     FOLIO_EINVAL);
    assert_int_equal(flip, 99);
    folio_index_free(ix);
    folio_free(ctx);
}

static void time_lookups_find_the_word_read_then(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("time.folio", true);
    folio_lookup_t r;
    /* "five" is read from 4 s to 4.8 s, in the only file: the same on the global timeline. */
    assert_int_equal(folio_lookup_time(ctx, ix, 0, 4.2, &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 19);
    assert_true(r.time == 4.0);
    assert_int_equal(folio_lookup_time(ctx, ix, -1, 4.2, &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 19);
    assert_string_equal(r.page_label, "2");
    /* Half a second past the audio's end is still in it. */
    assert_int_equal(folio_lookup_time(ctx, ix, -1, 10.4, &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 34); /* "eight." */
    folio_index_free(ix);
    folio_free(ctx);
}

static void time_lookups_reject_times_and_files_outside_the_audio(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("badtime.folio", true);
    folio_lookup_t r;
    assert_int_equal(folio_lookup_time(ctx, ix, 1, 4.2, &r), FOLIO_EINVAL);
    assert_string_equal(folio_errmsg(ctx), "no audio file 1 (the index has 1)");
    assert_int_equal(folio_lookup_time(ctx, ix, -2, 4.2, &r), FOLIO_EINVAL); /* only -1: global */
    said(ctx, "no audio file -2");
    assert_int_equal(folio_lookup_time(ctx, ix, -1, 11.0, &r), FOLIO_EINVAL);
    assert_string_equal(folio_errmsg(ctx), "11.000 s is not a time in the audio");
    assert_int_equal(folio_lookup_time(ctx, ix, 0, 11.0, &r), FOLIO_EINVAL);
    assert_string_equal(folio_errmsg(ctx), "11.000 s is not a time in the audio file");
    assert_int_equal(folio_lookup_time(ctx, ix, 0, -0.5, &r), FOLIO_EINVAL);
    said(ctx, "-0.500 s is not a time");
    assert_int_equal(folio_lookup_time(ctx, ix, 0, NAN, &r), FOLIO_EINVAL);
    said(ctx, "is not a time in the audio");
    assert_int_equal(folio_lookup_time(ctx, ix, -1, INFINITY, &r), FOLIO_EINVAL);
    said(ctx, "is not a time in the audio");
    /* Scan to read looks up its time on the global timeline first. */
    long flip = 99;
    assert_int_equal(folio_lookup_scan(ctx, ix, 11.0, QUERY, strlen(QUERY), &flip, NULL, NULL),
                     FOLIO_EINVAL);
    assert_string_equal(folio_errmsg(ctx), "11.000 s is not a time in the audio");
    assert_int_equal(folio_lookup_scan(ctx, ix, NAN, QUERY, strlen(QUERY), &flip, NULL, NULL),
                     FOLIO_EINVAL);
    assert_int_equal(flip, 99);
    folio_index_free(ix);
    folio_free(ctx);
}

static void text_lookups_place_the_text_and_reject_bad_utf8(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("text.folio", true);
    folio_lookup_t r[2];
    size_t n = 99;
    assert_int_equal(folio_lookup_text(ctx, ix, QUERY, strlen(QUERY), r, 2, &n), FOLIO_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r[0].char_offset, 4); /* "two", read at 1 s */
    assert_true(r[0].time == 1.0);
    assert_string_equal(r[0].page_label, "1");
    n = 99;
    assert_int_equal(folio_lookup_text(ctx, ix, "\xc3\x28 bad", 6, r, 1, &n), FOLIO_EENCODING);
    assert_string_equal(folio_errmsg(ctx), "the text is not valid UTF-8");
    assert_int_equal(n, 0);
    long flip = 99;
    assert_int_equal(folio_lookup_scan(ctx, ix, 1.0, "\xc3\x28", 2, &flip, NULL, NULL),
                     FOLIO_EENCODING);
    said(ctx, "not valid UTF-8");
    /* Text that is not in the book: no candidate, which is no error... */
    const char other[] = "Colourless green ideas sleep furiously all night long";
    assert_int_equal(folio_lookup_text(ctx, ix, other, strlen(other), r, 2, &n), FOLIO_OK);
    assert_int_equal(n, 0);
    /* ...but scan to read has nothing to count pages from. */
    assert_int_equal(folio_lookup_scan(ctx, ix, 1.0, other, strlen(other), &flip, NULL, NULL),
                     FOLIO_ENOMATCH);
    said(ctx, "not found in the book");
    assert_int_equal(flip, 99);
    folio_index_free(ix);
    folio_free(ctx);
}

static void an_index_nobody_read_has_places_but_no_times(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    folio_index_t *ix = open_small("unread.folio", false);
    folio_lookup_t r;
    assert_int_equal(folio_lookup_page(ctx, ix, "2", &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 19);
    assert_true(r.time < 0);
    assert_int_equal(r.file, -1);
    assert_int_equal(folio_lookup_time(ctx, ix, -1, 4.2, &r), FOLIO_ENOTFOUND);
    assert_string_equal(folio_errmsg(ctx), "nothing in the book was read");
    long flip = 99;
    assert_int_equal(folio_lookup_scan(ctx, ix, 4.2, QUERY, strlen(QUERY), &flip, NULL, NULL),
                     FOLIO_ENOTFOUND);
    said(ctx, "nothing in the book was read");
    folio_index_free(ix);
    folio_free(ctx);
}

static void a_null_context_gives_the_same_codes(void **state)
{
    (void)state;
    folio_index_t *ix = open_small("nullctx.folio", true);
    folio_lookup_t r;
    size_t n;
    long flip;
    assert_int_equal(folio_lookup_page(NULL, ix, "2", &r), FOLIO_OK);
    assert_int_equal(r.char_offset, 19);
    assert_int_equal(folio_lookup_page(NULL, ix, "3", &r), FOLIO_ENOTFOUND);
    assert_int_equal(folio_lookup_page(NULL, NULL, "3", &r), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_ordinal(NULL, ix, 3, &r), FOLIO_ENOTFOUND);
    assert_int_equal(folio_lookup_time(NULL, ix, 1, 4.2, &r), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_time(NULL, ix, -1, 4.2, &r), FOLIO_OK);
    assert_int_equal(folio_lookup_text(NULL, ix, "\xc3\x28", 2, &r, 1, &n), FOLIO_EENCODING);
    assert_int_equal(folio_lookup_text(NULL, ix, QUERY, strlen(QUERY), &r, 1, &n), FOLIO_OK);
    assert_int_equal(n, 1);
    assert_int_equal(folio_lookup_scan(NULL, ix, 1.0, "x", 1, &flip, NULL, NULL), FOLIO_ENOMATCH);
    assert_int_equal(folio_lookup_scan(NULL, ix, 1.2, QUERY, strlen(QUERY), &flip, NULL, NULL),
                     FOLIO_OK);
    assert_int_equal(flip, 0); /* what is heard, "two", is on the scanned text */
    folio_index_free(ix);
}

static void a_failure_is_told_only_to_its_own_context(void **state)
{
    (void)state;
    folio_t *a = folio_new(), *b = folio_new();
    folio_index_t *ix = open_small("two.folio", true);
    folio_lookup_t r;
    assert_int_equal(folio_lookup_page(a, ix, "9", &r), FOLIO_ENOTFOUND);
    assert_string_equal(folio_errmsg(b), "");
    assert_int_equal(folio_lookup_ordinal(b, ix, 9, &r), FOLIO_ENOTFOUND);
    assert_string_equal(folio_errmsg(a), "no page labelled \"9\"");
    assert_string_equal(folio_errmsg(b), "no page 9 (the book has 2)");
    folio_index_free(ix);
    folio_free(a);
    folio_free(b);
}

/* The one match of @text in @ix. */
static folio_lookup_t best_match(const folio_index_t *ix, const char *text)
{
    folio_lookup_t r;
    size_t n = 0;
    assert_int_equal(folio_lookup_text(NULL, ix, text, strlen(text), &r, 1, &n), FOLIO_OK);
    assert_int_equal(n, 1);
    return r;
}

/* "three" and "four" (words 2 and 3, code points 8-18) were skipped by the narrator: a text
 * starting there is placed at "three" and answers "five"'s time (word 4, 4 s), saying that the
 * place itself was not read; a read place says it was. */
static void unread_text_answers_the_next_read_word_and_says_so(void **state)
{
    (void)state;
    const char *path = fx_small_index_skipping("skipped.folio", 2, 4);
    assert_non_null(path);
    folio_index_t *ix = folio_index_open(NULL, path, NULL);
    assert_non_null(ix);
    folio_lookup_t r = best_match(ix, "three four five six seven eight");
    assert_int_equal(r.char_offset, 8);
    assert_true(r.time == 4.0);
    assert_int_equal(r.file, 0);
    assert_int_equal(r.read, 0);
    r = best_match(ix, "two three four five six seven eight.");
    assert_int_equal(r.char_offset, 4);
    assert_true(r.time == 1.0);
    assert_int_equal(r.read, 1);
    /* Page 1 starts at "One", read at 0 s. */
    assert_int_equal(folio_lookup_page(NULL, ix, "1", &r), FOLIO_OK);
    assert_int_equal(r.read, 1);
    folio_index_free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(page_lookups_find_labels_and_ordinals),
        cmocka_unit_test(unknown_pages_are_not_found_with_a_message),
        cmocka_unit_test(lookups_reject_null_arguments),
        cmocka_unit_test(time_lookups_find_the_word_read_then),
        cmocka_unit_test(time_lookups_reject_times_and_files_outside_the_audio),
        cmocka_unit_test(text_lookups_place_the_text_and_reject_bad_utf8),
        cmocka_unit_test(an_index_nobody_read_has_places_but_no_times),
        cmocka_unit_test(a_null_context_gives_the_same_codes),
        cmocka_unit_test(a_failure_is_told_only_to_its_own_context),
        cmocka_unit_test(unread_text_answers_the_next_read_word_and_says_so),
    };
    return cmocka_run_group_tests_name("lookup", tests, NULL, fx_teardown);
}
