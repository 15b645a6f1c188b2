/* The query a photo's lines make (engine/ocr/query.c) on line lists made by hand: lines cut by the
 * photo's edge, running heads, page numbers and footnotes are left out, and the answer's line is
 * the first whole line; and the place moves to that line's first word in the small index
 * (fx_index.h). No tesseract needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/ocr/ocr.h"
#include "fixture.h"
#include "fx_index.h"

#include <string.h>

/* A line @text at height @y (boxes 30 px high, lines 40 px apart on a page 600 px wide), with
 * cut mask @cut, confidence @conf; its words split at spaces. */
#define MAX_WORDS 16
typedef struct {
    folio_ocr_line_t line;
    folio_ocr_word_t words[MAX_WORDS];
} hand_line_t;

static void make(hand_line_t *h, const char *text, int y, unsigned cut, float conf, bool small)
{
    memset(h, 0, sizeof(*h));
    h->line.text = text;
    h->line.box = (folio_ocr_box_t){20, y, 560, small ? 22 : 30};
    h->line.height = small ? 22.0f : 30.0f;
    h->line.conf = conf;
    h->line.cut = cut;
    h->line.small = small;
    size_t n = 0, start = 0, len = strlen(text);
    for (size_t i = 0; i <= len && n < MAX_WORDS; i++)
        if (text[i] == ' ' || text[i] == '\0') {
            if (i > start) h->words[n++] = (folio_ocr_word_t){start, i - start, conf, h->line.box};
            start = i + 1;
        }
    h->line.words = h->words;
    h->line.n_words = n;
}

/* The roles and query of some hand lines (free text with folio__str_free). */
typedef struct {
    folio_line_role_t role[16];
    folio_str_t text;
    folio_anchor_t a[4];
    size_t na;
} query_t;

static void query_of(hand_line_t *h, size_t n, query_t *q)
{
    folio_ocr_line_t lines[16];
    memset(q, 0, sizeof(*q));
    for (size_t i = 0; i < n; i++) lines[i] = h[i].line, lines[i].words = h[i].words;
    folio__photo_roles(lines, n, 0, q->role);
    assert_int_equal(folio__photo_query(lines, n, 0, &q->text, q->a, 4, &q->na), FOLIO_OK);
}

static void lines_cut_at_the_top_and_bottom_are_left_out(void **state)
{
    (void)state;
    hand_line_t h[4];
    make(&h[0], "tne nait ot a ime", 0, FOLIO_OCR_CUT_TOP, 62, false);
    make(&h[1], "The ledger was not his own invention.", 40, 0, 95, false);
    make(&h[2], "It was a tall book bound in green leather,", 80, 0, 94, false);
    make(&h[3], "so heavy that he kept it on a", 120, FOLIO_OCR_CUT_BOTTOM | FOLIO_OCR_CUT_SHORT,
         70, false);
    query_t q;
    query_of(h, 4, &q);
    assert_int_equal(q.role[0], FOLIO_LINE_CUT);
    assert_int_equal(q.role[1], FOLIO_LINE_BODY);
    assert_int_equal(q.role[3], FOLIO_LINE_CUT);
    assert_string_equal(q.text.data, "The ledger was not his own invention.\n"
                                     "It was a tall book bound in green leather,");
    assert_int_equal(q.na, 2);
    assert_string_equal(q.a[0].text, "The ledger was not his own invention.");
    assert_false(q.a[0].head_like);
    folio__str_free(&q.text);
}

static void a_tilted_line_touching_the_edge_but_read_well_is_whole(void **state)
{
    (void)state;
    hand_line_t h[3];
    make(&h[0], "her without asking. Mind the weed on the stones.", 0, FOLIO_OCR_CUT_TOP, 96,
         false);
    make(&h[1], "It is slicker than it looks, he said.", 40, 0, 95, false);
    make(&h[2], "The cottage smelled of paraffin and smoke.", 80, 0, 95, false);
    query_t q;
    query_of(h, 3, &q);
    assert_int_equal(q.role[0], FOLIO_LINE_BODY);
    assert_string_equal(q.a[0].text, "her without asking. Mind the weed on the stones.");
    folio__str_free(&q.text);
}

static void running_heads_and_page_numbers_are_not_text(void **state)
{
    (void)state;
    hand_line_t h[5];
    /* The head stands apart: 90 px above the text where lines are 40 px apart. */
    make(&h[0], "12 The Lighthouse Ledger", 0, 0, 95, false);
    make(&h[1], "Buses never are. Must be a sign. He took", 90, 0, 95, false);
    make(&h[2], "the suitcase from her without asking.", 130, 0, 95, false);
    make(&h[3], "The cottage smelled of paraffin.", 170, 0, 95, false);
    make(&h[4], "- 13 -", 260, 0, 95, false);
    query_t q;
    query_of(h, 5, &q);
    assert_int_equal(q.role[0], FOLIO_LINE_HEAD);
    assert_int_equal(q.role[4], FOLIO_LINE_FOLIO);
    assert_string_equal(q.text.data, "Buses never are. Must be a sign. He took\n"
                                     "the suitcase from her without asking.\n"
                                     "The cottage smelled of paraffin.");
    /* The head is handed on marked as one (never the answer's line). */
    assert_int_equal(q.na, 4);
    assert_true(q.a[0].head_like);
    assert_string_equal(q.a[1].text, "Buses never are. Must be a sign. He took");
    assert_false(q.a[1].head_like);
    folio__str_free(&q.text);
}

static void a_number_starting_body_text_close_below_is_not_a_head(void **state)
{
    (void)state;
    hand_line_t h[3];
    make(&h[0], "1455 was the year of the storm, and the", 0, 0, 95, false);
    make(&h[1], "monks kept the fire burning all night", 40, 0, 95, false);
    make(&h[2], "with the pages of a book.", 80, 0, 95, false);
    query_t q;
    query_of(h, 3, &q);
    assert_int_equal(q.role[0], FOLIO_LINE_BODY);
    assert_string_equal(q.a[0].text, "1455 was the year of the storm, and the");
    folio__str_free(&q.text);
}

static void footnotes_at_the_foot_are_left_out_unless_alone(void **state)
{
    (void)state;
    hand_line_t h[5];
    make(&h[0], "Brother Colm, the entry said, had stood", 0, 0, 95, false);
    make(&h[1], "all night in the wind, feeding the flames.1", 40, 0, 95, false);
    make(&h[2], "Eleven boats went out, the entry ended.", 80, 0, 95, false);
    make(&h[3], "1 St. Brendan's was a small religious house", 170, 0, 90, true);
    make(&h[4], "on the mainland; a single wall remains.", 200, 0, 90, true);
    query_t q;
    query_of(h, 5, &q);
    assert_int_equal(q.role[2], FOLIO_LINE_BODY);
    assert_int_equal(q.role[3], FOLIO_LINE_FOOTNOTE);
    assert_int_equal(q.role[4], FOLIO_LINE_FOOTNOTE);
    assert_null(strstr(q.text.data, "Brendan"));
    assert_string_equal(q.a[0].text, "Brother Colm, the entry said, had stood");
    folio__str_free(&q.text);

    /* A photo of the footnote alone: it is the text. */
    hand_line_t f[3];
    make(&f[0], "rest of the page", 0, FOLIO_OCR_CUT_TOP | FOLIO_OCR_CUT_LOWCONF, 40, false);
    make(&f[1], "1 St. Brendan's was a small religious house", 90, 0, 90, true);
    make(&f[2], "on the mainland; a single wall remains.", 120, 0, 90, true);
    query_of(f, 3, &q);
    assert_int_equal(q.na, 2);
    assert_string_equal(q.a[0].text, "1 St. Brendan's was a small religious house");
    folio__str_free(&q.text);
}

static void a_photo_without_a_whole_line_has_no_query(void **state)
{
    (void)state;
    hand_line_t h[2];
    make(&h[0], "ee aa Boe", 0, FOLIO_OCR_CUT_TOP | FOLIO_OCR_CUT_LOWCONF, 30, false);
    make(&h[1], "sep ELE", 40, FOLIO_OCR_CUT_BOTTOM | FOLIO_OCR_CUT_SHORT, 41, false);
    query_t q;
    query_of(h, 2, &q);
    assert_int_equal(q.na, 0);
    folio__str_free(&q.text);
}

/* The code point the two anchors @a place the body of the small index at (one match). */
static size_t placed(const folio_index_t *ix, const folio_anchor_t *a, folio_lookup_t *r)
{
    static const char body[] = "two three four five six seven eight";
    size_t n = 0;
    assert_int_equal(folio__lookup_anchored(NULL, ix, body, strlen(body), a, 2, r, 1, &n),
                     FOLIO_OK);
    assert_int_equal(n, 1);
    return r->char_offset;
}

/* The small index: "One two three four five six seven eight.", word i read at i s (code points:
 * two 4, three 8, four 14, five 19). */
static void the_place_moves_to_the_first_whole_lines_first_word(void **state)
{
    (void)state;
    const char *path = fx_small_index("photo.folio", true);
    assert_non_null(path);
    folio_index_t *ix = folio_index_open(NULL, path, NULL);
    assert_non_null(ix);
    static const char body[] = "two three four five six seven eight";
    folio_lookup_t r;
    size_t n = 0;
    /* A head the book does not have is passed over; "four" is word 3, code point 14, 3 s. */
    folio_anchor_t a[2] = {{.text = "12 Small Book", .len = 13, .head_like = true},
                           {.text = "four five six", .len = 13}};
    assert_int_equal(folio__lookup_anchored(NULL, ix, body, strlen(body), a, 2, &r, 1, &n),
                     FOLIO_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r.char_offset, 14);
    assert_true(r.time == 3.0);
    assert_int_equal(r.read, 1);
    /* A line starting with the second half of a word places that word: "ree four" -> "three". */
    folio_anchor_t b[1] = {{.text = "ree four five", .len = 13}};
    assert_int_equal(folio__lookup_anchored(NULL, ix, body, strlen(body), b, 1, &r, 1, &n),
                     FOLIO_OK);
    assert_int_equal(n, 1);
    assert_int_equal(r.char_offset, 8);
    assert_true(r.time == 2.0);
    /* At the photo's right edge and complete ("four" follows at once): the answer's line. */
    folio_anchor_t c[2] = {{.text = "two three", .len = 9, .edge_right = true},
                           {.text = "four five six", .len = 13}};
    assert_int_equal(placed(ix, c, &r), 4);
    /* At the right edge missing "ee four" before the next line: the next line's "five", 4 s. */
    c[0] = (folio_anchor_t){.text = "two thr", .len = 7, .edge_right = true};
    c[1] = (folio_anchor_t){.text = "five six seven", .len = 14};
    assert_int_equal(placed(ix, c, &r), 19);
    assert_true(r.time == 4.0);
    /* At the left edge starting inside "three": the next line's "five"; away from the edge, the
     * second half of a hyphenated "three". */
    c[0] = (folio_anchor_t){.text = "hree four", .len = 9, .edge_left = true};
    assert_int_equal(placed(ix, c, &r), 19);
    c[0].edge_left = false;
    assert_int_equal(placed(ix, c, &r), 8);
    folio_index_free(ix);
}

static void a_title_alone_above_a_gap_is_a_head(void **state)
{
    (void)state;
    hand_line_t h[4];
    /* The page number was not read: a narrow title 90 px above lines 40 px apart. */
    make(&h[0], "Sense and Sensibility", 0, 0, 96, false);
    h[0].line.box.x = 200, h[0].line.box.w = 200;
    make(&h[1], "But he talked of flannel waistcoats, said Mari-", 90, 0, 95, false);
    make(&h[2], "anne; and with me a flannel waistcoat is invariably", 130, 0, 95, false);
    make(&h[3], "connected with aches, cramps, rheumatisms, and ev-", 170, 0, 95, false);
    query_t q;
    query_of(h, 4, &q);
    assert_int_equal(q.role[0], FOLIO_LINE_HEAD);
    assert_true(q.a[0].head_like);
    assert_string_equal(q.a[1].text, "But he talked of flannel waistcoats, said Mari-");
    folio__str_free(&q.text);

    /* The same narrow line close above the text is a paragraph's last line: body. */
    h[1].line.box.y = 40, h[2].line.box.y = 80, h[3].line.box.y = 120;
    query_of(h, 4, &q);
    assert_int_equal(q.role[0], FOLIO_LINE_BODY);
    folio__str_free(&q.text);
}

static void anchors_say_which_edge_a_line_reaches_and_the_room_above(void **state)
{
    (void)state;
    hand_line_t h[3];
    /* Blank page above the first line (200 px, lines 40 apart): room for a heading. */
    make(&h[0], "The family of Dashwood had long been settled", 200, 0, 95, false);
    make(&h[1], "in Sussex. Their estate was large, and their", 240, FOLIO_OCR_CUT_RIGHT, 95,
         false);
    make(&h[2], "residence was at Norland Park, in the centre", 280, FOLIO_OCR_CUT_LEFT, 95, false);
    query_t q;
    query_of(h, 3, &q);
    assert_int_equal(q.na, 3);
    assert_true(q.a[0].room_above);
    assert_false(q.a[0].edge_left || q.a[0].edge_right);
    assert_false(q.a[1].room_above);
    assert_true(q.a[1].edge_right && !q.a[1].edge_left);
    assert_true(q.a[2].edge_left && !q.a[2].edge_right);
    folio__str_free(&q.text);

    /* A crop through the text: the cut line at the top edge is no room for a heading. */
    make(&h[0], "ee aa Boe", 0, FOLIO_OCR_CUT_TOP | FOLIO_OCR_CUT_LOWCONF, 30, false);
    h[1].line.box.y = 40, h[1].line.cut = 0;
    h[2].line.box.y = 80;
    query_of(h, 3, &q);
    assert_int_equal(q.na, 2);
    assert_false(q.a[0].room_above);
    folio__str_free(&q.text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_cut_at_the_top_and_bottom_are_left_out),
        cmocka_unit_test(a_tilted_line_touching_the_edge_but_read_well_is_whole),
        cmocka_unit_test(running_heads_and_page_numbers_are_not_text),
        cmocka_unit_test(a_number_starting_body_text_close_below_is_not_a_head),
        cmocka_unit_test(footnotes_at_the_foot_are_left_out_unless_alone),
        cmocka_unit_test(a_photo_without_a_whole_line_has_no_query),
        cmocka_unit_test(the_place_moves_to_the_first_whole_lines_first_word),
        cmocka_unit_test(a_title_alone_above_a_gap_is_a_head),
        cmocka_unit_test(anchors_say_which_edge_a_line_reaches_and_the_room_above),
    };
    return cmocka_run_group_tests_name("photo", tests, NULL, fx_teardown);
}
