/* Unit tests of the aligner's stages (engine/align/align_int.h) on a small book and recognised
 * words made by hand: word similarity, anchors and chains, dynamic programming, repairs, gap
 * words, forced-window grammars, interpolation and the report. Every expectation is worked out
 * from the hand-made input, as the comments show. */
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

/* Tokens, one per word but for "1455" (tokens 32-34, "fourteen fifty five", with the alternatives
 * "one thousand four hundred fifty five" and "one thousand four hundred and fifty five"):
 *   0 the  1 old  2 miller  3 walked  4 slowly  5 down  6 the  7 river  8 road
 *   9 he  10 carried  11 a  12 sack  13 of  14 grain  15 on  16 his  17 back
 *  18 at  19 the  20 bridge  21 a  22 young  23 knight  24 waited  25 for  26 him  27 in  28 the
 *  29 night  30 it  31 was  32-34 1455
 * Every trigram of it occurs once. Sentences: tokens 0-8, 9-17, 18-29, 30-34. */
static const char text[] = "The old miller walked slowly down the river road. He carried a sack of "
                           "grain on his back.\n\nAt the bridge a young knight waited for him in "
                           "the night.\n\nIt was 1455.\n";
#define N_TOKENS 35
#define N_WORDS 33

static folio_book_t *book;
static folio_lexicon_t *lex;
static folio_heard_t heard[64];
static size_t n_heard;
static double duration = 1000, offset = 0;
static folio_align_input_t in;
static aligner_t A;
static bool state_made;
static cands_t cands;   /* the anchors found */
static chains_t chains; /* and their chains */

static int setup(void **state)
{
    (void)state;
    book = folio_book_open(NULL, fx_file("stages.txt", text, sizeof(text) - 1), NULL, NULL);
    int err;
    lex = book ? folio_lexicon_open(NULL, book, NULL, &err) : NULL;
    if (!lex || folio_book_n_tokens(book) != N_TOKENS || folio_book_n_words(book) != N_WORDS)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    folio_lexicon_free(lex);
    folio_book_free(book);
    return fx_teardown(state);
}

static int reset(void **state)
{
    (void)state;
    n_heard = 0;
    state_made = false;
    return 0;
}

static int release(void **state)
{
    (void)state;
    if (state_made) folio__align_state_free(&A);
    VEC_FREE(cands);
    VEC_FREE(chains);
    return 0;
}

/* A heard word @word at @start seconds of file 0, 0.4 s long. */
static void hear(const char *word, double start)
{
    assert_true(n_heard < 64);
    heard[n_heard++] = (folio_heard_t){word, 0, start, start + 0.4, start, 0.8f};
}

/* The book's tokens [@from, @to) heard one after the other, every 0.5 s from @start. */
static double hear_tokens(size_t from, size_t to, double start)
{
    for (size_t t = from; t < to; t++, start += 0.5) hear(folio_book_token(book, t)->text, start);
    return start;
}

/* The aligner's state for the book and the words heard so far. */
static void make_state(void)
{
    in = (folio_align_input_t){.book = book,
                               .lex = lex,
                               .heard = heard,
                               .n_heard = n_heard,
                               .n_files = 1,
                               .duration = &duration,
                               .offset = &offset};
    assert_int_equal(folio__align_state_init(&A, NULL, &in), FOLIO_OK);
    state_made = true;
}

/* Token @t timed at [@start, @start + 0.4) of file 0, found the way @how says. */
static void set_time(size_t t, double start, folio_how_t how, float conf)
{
    A.t_start[t] = start;
    A.t_end[t] = start + 0.4;
    A.t_file[t] = 0;
    A.t_how[t] = (uint8_t)how;
    A.t_conf[t] = conf;
}

static uint32_t id_of(const char *w)
{
    uint32_t id;
    assert_int_equal(folio__align_vocab_id(&A, w, &id), FOLIO_OK);
    return id;
}

static void assert_near(double got, double want)
{
    if (fabs(got - want) > 1e-6) fail_msg("got %.9f, want %.9f", got, want);
}

static void assert_untimed(size_t t)
{
    if (A.t_start[t] >= 0) fail_msg("token %zu timed at %.3f s", t, A.t_start[t]);
    assert_int_equal(A.t_how[t], FOLIO_HOW_NONE);
}

/* ---- similarity ---- */

static void words_that_sound_the_same_are_alike_however_spelt(void **state)
{
    (void)state;
    make_state();
    /* "knight" and "night" are both N AY T: no phone differs. */
    assert_true(folio__align_similarity(&A, A.tok_id[23], A.tok_id[29]) == 1.0f);
    /* "sack" S AE K and "back" B AE K: one phone of three differs (by letters, one of four). */
    assert_near(folio__align_similarity(&A, A.tok_id[12], A.tok_id[17]), 1.0 - 1.0 / 3);
}

static void words_without_a_pronunciation_compare_by_letters(void **state)
{
    (void)state;
    make_state();
    /* Words met after the setup have no pronunciation: one letter of the longer word's
     * count differs, or two of two. */
    assert_near(folio__align_similarity(&A, id_of("stone"), id_of("stones")), 1.0 - 1.0 / 6);
    assert_near(folio__align_similarity(&A, id_of("abcd"), id_of("abed")), 1.0 - 1.0 / 4);
    assert_true(folio__align_similarity(&A, id_of("ab"), id_of("ba")) == 0.0f);
    /* With one side unpronounced, the other compares by letters too: "sack"/"sock". */
    assert_near(folio__align_similarity(&A, A.tok_id[12], id_of("sock")), 1.0 - 1.0 / 4);
}

/* ---- anchors and chains ---- */

/* Anchors and chains of the words heard so far, into cands and chains: @n_anchors and
 * @n_chains of them. */
static void anchor_chain(size_t n_anchors, size_t n_chains)
{
    make_state();
    assert_int_equal(folio__align_build_ngrams(&A), FOLIO_OK);
    assert_int_equal(folio__align_find_anchors(&A, &cands, &chains), FOLIO_OK);
    assert_int_equal(folio__align_select_chains(&cands, &chains), FOLIO_OK);
    assert_int_equal(cands.len, n_anchors);
    assert_int_equal(chains.len, n_chains);
}

/* Anchor @i: heard word @j is token @p. */
static void assert_anchor(size_t i, size_t j, size_t p)
{
    assert_true(i < cands.len);
    assert_int_equal(cands.items[i].j, j);
    assert_int_equal(cands.items[i].p, p);
}

static void assert_chain(const chain_t *c, size_t j0, size_t j1, size_t p0, size_t p1,
                         double weight, bool accepted)
{
    assert_int_equal(c->j0, j0);
    assert_int_equal(c->j1, j1);
    assert_int_equal(c->p0, p0);
    assert_int_equal(c->p1, p1);
    assert_near(c->weight, weight);
    assert_int_equal(c->accepted, accepted);
}

static void a_book_read_in_order_is_one_chain_of_its_trigrams(void **state)
{
    (void)state;
    hear_tokens(0, 18, 0);
    anchor_chain(16, 1);
    /* 18 words heard make 16 trigrams, each once in the book (weight 1): heard word j is token j.
     */
    for (size_t i = 0; i < 16; i++) {
        assert_anchor(i, i, i);
        assert_int_equal(cands.items[i].chain, 0);
    }
    assert_chain(&chains.items[0], 0, 15, 0, 15, 16, true);
}

static void paragraphs_read_out_of_order_each_find_their_chain(void **state)
{
    (void)state;
    /* The second paragraph (tokens 18-29) read first, then the first (0-17). */
    double at = hear_tokens(18, 30, 0);
    hear_tokens(0, 18, at);
    anchor_chain(26, 2);
    /* Heard 0-9 start trigrams of tokens 18-27; heard 10 and 11 ("the night the", "night the
     * old") span the two paragraphs and are not the book's; heard 12-27 are tokens 0-15. */
    assert_anchor(9, 9, 27);
    assert_anchor(10, 12, 0);
    /* Neither overlaps the other in audio or in the book: both are kept. */
    assert_chain(&chains.items[0], 0, 9, 18, 27, 10, true);
    assert_chain(&chains.items[1], 12, 27, 0, 15, 16, true);
}

static void a_phrase_heard_once_more_elsewhere_is_too_light_to_keep(void **state)
{
    (void)state;
    double at = hear_tokens(0, 18, 0);
    hear("zzz", at);
    hear("qqq", at + 0.5);
    hear_tokens(3, 6, at + 1.0); /* "walked slowly down" again, as heard words 20-22 */
    anchor_chain(17, 2);
    /* Its one trigram goes back in the book: a chain of its own, of weight 1 (under 1.5). */
    assert_anchor(16, 20, 3);
    assert_chain(&chains.items[0], 0, 15, 0, 15, 16, true);
    assert_chain(&chains.items[1], 20, 20, 3, 3, 1, false);
}

static void words_heard_across_a_long_pause_make_no_trigram(void **state)
{
    (void)state;
    hear_tokens(0, 3, 0);   /* 0.0, 0.5, 1.0 (ends 1.4) */
    hear_tokens(3, 6, 5.5); /* 5.5, 6.0, 6.5: 4.1 s after the third word's end */
    anchor_chain(2, 1);
    /* Trigrams starting at heard 1 and 2 reach across the pause (over 3 s): only 0 and 3. */
    assert_anchor(0, 0, 0);
    assert_anchor(1, 3, 3);
    /* Book and audio advance alike (3 and 3): one chain of weight 2, kept. */
    assert_chain(&chains.items[0], 0, 3, 0, 3, 2, true);
}

static void a_sentence_read_again_keeps_the_longer_reading(void **state)
{
    (void)state;
    /* Tokens 0-8, then 3-8 again, then 9-17: heard words 0-8, 9-14, 15-23. */
    double at = hear_tokens(0, 9, 0);
    at = hear_tokens(3, 9, at);
    hear_tokens(9, 18, at);
    anchor_chain(20, 3);
    /* Chain 0: heard 0-6 as tokens 0-6. At heard 9 ("walked slowly down", token 3) the book
     * goes back: chain 1, which goes on through "river road he" (heard 13, token 7) to heard
     * 21 (token 15): 13 anchors. */
    /* Chain 1 is heavier (13 to 7) and kept. Chain 0 overlaps it in the book: its anchors at
     * tokens 1-6 lie within two tokens of chain 1's [3, 15] and go; token 0's is left, a piece
     * of weight 1 (chain 2), too light to keep. */
    assert_chain(&chains.items[0], 0, 6, 0, 6, 7, false);
    assert_chain(&chains.items[1], 9, 21, 3, 15, 13, true);
    assert_chain(&chains.items[2], 0, 0, 0, 0, 1, false);
    assert_int_equal(cands.items[0].chain, 2);
    for (size_t i = 1; i < 7; i++) assert_int_equal(cands.items[i].chain, SIZE_MAX);
    for (size_t i = 7; i < 20; i++) assert_int_equal(cands.items[i].chain, 1);
}

/* ---- dynamic programming ---- */

static void dp_leaves_a_misheard_word_untimed(void **state)
{
    (void)state;
    /* "he carried a bag of grain on his back" for tokens 9-17: "bag" is not "sack" (by letters
     * 1 - 3/4, under 0.6). */
    hear_tokens(9, 12, 10);
    hear("bag", 11.5);
    hear_tokens(13, 18, 12);
    make_state();
    assert_int_equal(folio__align_dp_region(&A, 9, 18, 0, 9, false, false), FOLIO_OK);
    for (size_t t = 9; t < 18; t++) {
        if (t == 12) {
            assert_untimed(12);
            continue;
        }
        assert_int_equal(A.tok_rec[t], t - 9);
        assert_int_equal(A.t_how[t], FOLIO_HOW_MATCH);
        assert_near(A.t_start[t], heard[t - 9].time);
    }
    assert_false(A.rec_used[3]);
}

static void dp_skips_a_word_the_narrator_left_out(void **state)
{
    (void)state;
    /* Tokens 0-8 without "slowly" (4): eight matches and one gap beat any shifted diagonal. */
    double at = hear_tokens(0, 4, 0);
    hear_tokens(5, 9, at);
    make_state();
    assert_int_equal(folio__align_dp_region(&A, 0, 9, 0, 8, false, false), FOLIO_OK);
    for (size_t t = 0; t < 4; t++) assert_int_equal(A.tok_rec[t], t);
    assert_untimed(4);
    for (size_t t = 5; t < 9; t++) assert_int_equal(A.tok_rec[t], t - 1);
}

static void dp_with_a_free_end_leaves_far_words_unaligned(void **state)
{
    (void)state;
    /* Tokens 0-3 heard, six words not in the book, then "road" (token 8): heard 0-10. */
    const char *junk[] = {"zzz", "qqq", "xxx", "vvv", "jjj", "kkk"};
    double at = hear_tokens(0, 4, 0);
    for (size_t k = 0; k < 6; k++, at += 0.5) hear(junk[k], at);
    hear("road", at);
    make_state();
    /* With a free end the best alignment ends after "walked" (4 matches: 8); reaching "road"
     * costs four mismatches and a gap (8 - 4 - 3.3 + 2 = 2.7). */
    assert_int_equal(folio__align_dp_region(&A, 0, 9, 0, 11, false, true), FOLIO_OK);
    for (size_t t = 0; t < 4; t++) assert_int_equal(A.tok_rec[t], t);
    for (size_t t = 4; t < 9; t++) assert_untimed(t);
    /* Anchored at the end, "road" must be reached, and is matched. */
    assert_int_equal(folio__align_dp_region(&A, 0, 9, 0, 11, false, false), FOLIO_OK);
    assert_int_equal(A.tok_rec[8], 10);
    for (size_t t = 4; t < 8; t++) assert_untimed(t);
}

/* ---- repairs ---- */

static void a_short_stretch_ahead_in_time_is_a_chance_match(void **state)
{
    (void)state;
    make_state();
    for (size_t t = 0; t < 20; t++) set_time(t, 0.5 * (double)t, FOLIO_HOW_MATCH, 0.9f);
    set_time(20, 100.0, FOLIO_HOW_MATCH, 0.9f); /* 90 s ahead: a stretch of its own */
    set_time(21, 100.5, FOLIO_HOW_MATCH, 0.9f);
    for (size_t t = 22; t < 30; t++)
        set_time(t, 10.0 + 0.5 * (double)(t - 22), FOLIO_HOW_MATCH, 0.9f);
    /* At token 22 the time goes back: 2 tokens before, 8 (4 times 2) after: the 2 go. */
    folio__align_drop_reversed(&A);
    assert_untimed(20);
    assert_untimed(21);
    for (size_t t = 0; t < 30; t++)
        if (t != 20 && t != 21) assert_true(A.t_start[t] >= 0);
}

static void a_short_stretch_back_in_time_after_a_long_one_is_a_chance_match(void **state)
{
    (void)state;
    make_state();
    for (size_t t = 0; t < 10; t++) set_time(t, 0.5 * (double)t, FOLIO_HOW_MATCH, 0.9f);
    set_time(10, 0.1, FOLIO_HOW_MATCH, 0.9f); /* back before token 9's end (4.9 s) */
    set_time(11, 0.6, FOLIO_HOW_MATCH, 0.9f);
    /* 10 tokens before, 2 after: 10 is at least 4 times 2, the 2 go. */
    folio__align_drop_reversed(&A);
    assert_untimed(10);
    assert_untimed(11);
    for (size_t t = 0; t < 10; t++) assert_true(A.t_start[t] >= 0);
}

static void stretches_of_like_size_both_keep_their_times(void **state)
{
    (void)state;
    make_state();
    for (size_t t = 0; t < 5; t++) set_time(t, 50 + 0.5 * (double)t, FOLIO_HOW_MATCH, 0.9f);
    for (size_t t = 5; t < 10; t++) set_time(t, 0.5 * (double)t, FOLIO_HOW_MATCH, 0.9f);
    /* 5 and 5: neither is a quarter of the other. */
    folio__align_drop_reversed(&A);
    for (size_t t = 0; t < 10; t++) assert_true(A.t_start[t] >= 0);
}

static void the_weaker_of_two_nearby_words_out_of_order_loses_its_time(void **state)
{
    (void)state;
    make_state();
    set_time(3, 5.0, FOLIO_HOW_FORCED, 0.6f);
    set_time(4, 2.0, FOLIO_HOW_MATCH, 0.9f); /* before token 3's end: heard beats forced */
    set_time(10, 5.0, FOLIO_HOW_MATCH, 0.9f);
    set_time(11, 2.0, FOLIO_HOW_SIMILAR, 0.4f); /* a sound-alike loses to a heard word */
    folio__align_enforce_order(&A);
    assert_untimed(3);
    assert_near(A.t_start[4], 2.0);
    assert_near(A.t_start[10], 5.0);
    assert_untimed(11);
}

static void words_far_apart_in_the_text_may_go_back_in_time(void **state)
{
    (void)state;
    make_state();
    set_time(20, 9.0, FOLIO_HOW_MATCH, 0.9f);
    set_time(33, 3.0, FOLIO_HOW_FORCED, 0.6f); /* 13 tokens later: not compared */
    folio__align_enforce_order(&A);
    assert_near(A.t_start[20], 9.0);
    assert_near(A.t_start[33], 3.0);
}

static void a_weak_match_crowding_untimed_words_is_a_chance_match(void **state)
{
    (void)state;
    make_state();
    for (size_t t = 0; t < 5; t++) set_time(t, 0.5 * (double)t, FOLIO_HOW_MATCH, 0.9f);
    /* Tokens 5-9 untimed; "carried" (10) as a sound-alike 0.2 s after token 4's end: five
     * words cannot fit in 0.2 s (0.12 s each). Its island is itself (token 12 is 17 s later);
     * the left side is a run of three strong matches and more. */
    set_time(10, 2.6, FOLIO_HOW_SIMILAR, 0.3f);
    set_time(12, 20.0, FOLIO_HOW_MATCH, 0.9f);
    folio__align_drop_crowded(&A);
    assert_untimed(10);
    for (size_t t = 0; t < 5; t++) assert_true(A.t_start[t] >= 0);
    assert_near(A.t_start[12], 20.0);
}

static void crowded_text_between_runs_of_matches_drops_nothing(void **state)
{
    (void)state;
    make_state();
    for (size_t t = 0; t < 5; t++) set_time(t, 0.5 * (double)t, FOLIO_HOW_MATCH, 0.9f);
    /* Tokens 10-13 close together after the same 0.2 s, "a" (11) a weak match among them: a
     * run of four (more than three) on each side is never a stray. */
    for (size_t t = 10; t < 14; t++)
        set_time(t, 2.6 + 0.5 * (double)(t - 10), FOLIO_HOW_MATCH, 0.9f);
    folio__align_drop_crowded(&A);
    for (size_t t = 0; t < 15; t++)
        assert_int_equal(A.t_start[t] >= 0, t < 5 || (t >= 10 && t < 14));
}

/* ---- gaps recognised again ---- */

/* Tokens 8 (ends at 4.0 s) and 17 (starts at 10.0 s) timed; 9-16 untimed. */
static void gap_sides(void)
{
    make_state();
    set_time(8, 3.6, FOLIO_HOW_MATCH, 0.9f);
    set_time(17, 10.0, FOLIO_HOW_MATCH, 0.9f);
}

static void gap_word(folio_rec_words_t *got, const char *w, int first, int last)
{
    folio_rec_word_t x = {0};
    snprintf(x.word, sizeof(x.word), "%s", w);
    x.start_frame = first;
    x.end_frame = last;
    x.confidence = 0.8f;
    x.gram = -1;
    assert_int_equal(VEC_PUSH(*got, x), FOLIO_OK);
}

/* Time the gap's tokens with @n words recognised there, @words[k] at @frames[k] (first and last
 * frame from 4.0 s, confidence 0.8). Returns the number of tokens timed. */
static size_t take_gap(size_t n, const char *const *words, const int (*frames)[2])
{
    gap_sides();
    folio_rec_words_t got = {0};
    for (size_t k = 0; k < n; k++) gap_word(&got, words[k], frames[k][0], frames[k][1]);
    size_t timed = folio__align_take_gap_words(&A, 8, 17, 0, 4.0, &got);
    VEC_FREE(got);
    return timed;
}

static void words_heard_in_a_gap_in_a_run_take_their_times(void **state)
{
    (void)state;
    /* "carried" matches token 10, but alone; "grain on his" are tokens 14-16 in a row. */
    const char *const words[] = {"carried", "zzz", "grain", "on", "his"};
    const int frames[][2] = {{50, 89}, {100, 139}, {200, 239}, {240, 269}, {270, 309}};
    assert_int_equal(take_gap(5, words, frames), 3);
    assert_untimed(10);
    /* Frames count from 4.0 s, 10 ms each, the last frame inclusive. */
    const double start[] = {6.0, 6.4, 6.7}, end[] = {6.4, 6.7, 7.1};
    for (size_t k = 0; k < 3; k++) {
        assert_near(A.t_start[14 + k], start[k]);
        assert_near(A.t_end[14 + k], end[k]);
        assert_int_equal(A.t_how[14 + k], FOLIO_HOW_MATCH);
        assert_near(A.t_conf[14 + k], 0.5 + 0.4 * 0.8);
    }
}

static void a_gap_word_beyond_the_gaps_audio_takes_no_time(void **state)
{
    (void)state;
    /* "his" ends at 10.1 s, past token 17's start (and 0.05 s more). */
    const char *const words[] = {"grain", "on", "his"};
    const int frames[][2] = {{200, 239}, {240, 269}, {590, 609}};
    assert_int_equal(take_gap(3, words, frames), 2);
    assert_near(A.t_start[14], 6.0);
    assert_near(A.t_start[15], 6.4);
    assert_untimed(16);
}

static void a_lone_word_heard_in_a_gap_takes_no_time(void **state)
{
    (void)state;
    const char *const words[] = {"grain", "zzz", "his"};
    const int frames[][2] = {{200, 239}, {240, 269}, {270, 309}};
    assert_int_equal(take_gap(3, words, frames), 0);
    for (size_t t = 9; t < 17; t++) assert_untimed(t);
}

/* ---- forced windows' grammars ---- */

static void assert_gram(const wgram_t *g, size_t i, const char *word, size_t slot, size_t reading,
                        size_t tok, bool alt)
{
    assert_string_equal(g->words.items[i], word);
    assert_int_equal(g->slot.items[i], slot);
    assert_int_equal(g->reading.items[i], reading);
    assert_int_equal(g->tok.items[i], tok);
    assert_int_equal(g->alt.items[i], alt);
}

static void a_number_in_a_window_is_one_slot_with_a_reading_per_alternative(void **state)
{
    (void)state;
    make_state();
    wgram_t g = {0};
    assert_int_equal(folio__align_window_grammar(&A, 30, 34, &g), FOLIO_OK);
    /* "it", "was", then "1455": its primary reading and its two alternatives in slot 2. */
    const char *alt1[] = {"one", "thousand", "four", "hundred", "fifty", "five"};
    const char *alt2[] = {"one", "thousand", "four", "hundred", "and", "fifty", "five"};
    assert_int_equal(g.n_slots, 3);
    assert_int_equal(g.words.len, 5 + 6 + 7);
    assert_gram(&g, 0, "it", 0, 0, 30, false);
    assert_gram(&g, 1, "was", 1, 0, 31, false);
    assert_gram(&g, 2, "fourteen", 2, 0, 32, false);
    assert_gram(&g, 3, "fifty", 2, 0, 33, false);
    assert_gram(&g, 4, "five", 2, 0, 34, false);
    for (size_t k = 0; k < 6; k++) assert_gram(&g, 5 + k, alt1[k], 2, 1, 32, true);
    for (size_t k = 0; k < 7; k++) assert_gram(&g, 11 + k, alt2[k], 2, 2, 32, true);
    folio__align_wgram_free(&g);
}

static void a_number_cut_by_the_window_is_read_token_by_token(void **state)
{
    (void)state;
    make_state();
    wgram_t g = {0};
    /* The window ends inside "1455" (tokens 32-34): no alternatives, a slot per token. */
    assert_int_equal(folio__align_window_grammar(&A, 31, 33, &g), FOLIO_OK);
    assert_int_equal(g.n_slots, 3);
    assert_int_equal(g.words.len, 3);
    assert_gram(&g, 0, "was", 0, 0, 31, false);
    assert_gram(&g, 1, "fourteen", 1, 0, 32, false);
    assert_gram(&g, 2, "fifty", 2, 0, 33, false);
    folio__align_wgram_free(&g);
}

/* ---- interpolation and the report ---- */

static void words_between_timed_ends_of_a_sentence_are_placed_by_character(void **state)
{
    (void)state;
    make_state();
    set_time(0, 0.0, FOLIO_HOW_MATCH, 0.9f); /* "The" [0, 3), ends 0.4 s */
    set_time(4, 2.0, FOLIO_HOW_MATCH, 0.9f); /* "slowly" [22, 28), ends 2.4 s */
    set_time(8, 4.0, FOLIO_HOW_MATCH, 0.9f); /* "road" [44, 48) */
    set_time(9, 5.0, FOLIO_HOW_MATCH, 0.9f); /* "He": the second sentence's end is not timed */
    folio__align_interpolate(&A);
    /* Between "The" and "slowly": characters 3 to 22, times 0.4 to 2.0; "old" starts at 4,
     * "miller" 8, "walked" 15. Between "slowly" and "road": 28 to 44, 2.4 to 4.0; "down" 29,
     * "the" 34, "river" 38. */
    const size_t tok[] = {1, 2, 3, 5, 6, 7};
    const double want[] = {0.4 + 1.6 * 1 / 19, 0.4 + 1.6 * 5 / 19, 0.4 + 1.6 * 12 / 19,
                           2.4 + 1.6 * 1 / 16, 2.4 + 1.6 * 6 / 16, 2.4 + 1.6 * 10 / 16};
    for (size_t k = 0; k < 6; k++) {
        assert_near(A.t_start[tok[k]], want[k]);
        assert_near(A.t_end[tok[k]], want[k] + 0.01);
        assert_int_equal(A.t_how[tok[k]], FOLIO_HOW_INTERPOLATED);
    }
    for (size_t t = 10; t < 18; t++) assert_untimed(t);
}

static void report_counts_words_read_and_audio_explained(void **state)
{
    (void)state;
    /* Tokens 0-8 heard (0.4 s each), then three words the book does not hold. */
    hear_tokens(0, 9, 0);
    hear("zzz", 10.0);
    hear("qqq", 10.5);
    hear("xxx", 11.0);
    make_state();
    for (size_t t = 0; t < 9; t++) folio__align_assign(&A, t, t, 1.0f);
    folio_alignment_t out = {0};
    out.n_words = N_WORDS;
    out.words = calloc(N_WORDS, sizeof(folio_timing_t));
    assert_non_null(out.words);
    assert_int_equal(folio__align_report(&A, &out), FOLIO_OK);
    assert_int_equal(out.words_total, N_WORDS);
    assert_int_equal(out.words_read, 9);
    for (size_t w = 0; w < 9; w++) {
        assert_near(out.words[w].start, 0.5 * (double)w);
        assert_near(out.words[w].end, 0.5 * (double)w + 0.4);
        assert_int_equal(out.words[w].how, FOLIO_HOW_MATCH);
    }
    assert_true(out.words[9].start < 0);
    assert_near(out.speech_seconds, 12 * 0.4);
    assert_near(out.aligned_seconds, 9 * 0.4);
    /* The three unknown words, 0.1 s apart: one stretch of unaligned audio. */
    assert_int_equal(out.unaligned.len, 1);
    assert_int_equal(out.unaligned.items[0].file, 0);
    assert_near(out.unaligned.items[0].start, 10.0);
    assert_near(out.unaligned.items[0].end, 11.4);
    assert_string_equal(out.unaligned.items[0].words, "zzz qqq xxx");
    /* Everything from "He" to "1455" is unread: one run. */
    assert_int_equal(out.unread.len, 1);
    assert_int_equal(out.unread.items[0].start_char, fx_cp_offset(text, "He carried"));
    assert_int_equal(out.unread.items[0].end_char, fx_cp_offset(text, "1455") + 4);
    assert_int_equal(out.unread.items[0].kind, FOLIO_BLOCK_PARAGRAPH);
    folio__alignment_free(&out);
}

#define STAGE(f) cmocka_unit_test_setup_teardown(f, reset, release)

int main(void)
{
    const struct CMUnitTest tests[] = {
        STAGE(words_that_sound_the_same_are_alike_however_spelt),
        STAGE(words_without_a_pronunciation_compare_by_letters),
        STAGE(a_book_read_in_order_is_one_chain_of_its_trigrams),
        STAGE(paragraphs_read_out_of_order_each_find_their_chain),
        STAGE(a_phrase_heard_once_more_elsewhere_is_too_light_to_keep),
        STAGE(words_heard_across_a_long_pause_make_no_trigram),
        STAGE(a_sentence_read_again_keeps_the_longer_reading),
        STAGE(dp_leaves_a_misheard_word_untimed),
        STAGE(dp_skips_a_word_the_narrator_left_out),
        STAGE(dp_with_a_free_end_leaves_far_words_unaligned),
        STAGE(a_short_stretch_ahead_in_time_is_a_chance_match),
        STAGE(a_short_stretch_back_in_time_after_a_long_one_is_a_chance_match),
        STAGE(stretches_of_like_size_both_keep_their_times),
        STAGE(the_weaker_of_two_nearby_words_out_of_order_loses_its_time),
        STAGE(words_far_apart_in_the_text_may_go_back_in_time),
        STAGE(a_weak_match_crowding_untimed_words_is_a_chance_match),
        STAGE(crowded_text_between_runs_of_matches_drops_nothing),
        STAGE(words_heard_in_a_gap_in_a_run_take_their_times),
        STAGE(a_gap_word_beyond_the_gaps_audio_takes_no_time),
        STAGE(a_lone_word_heard_in_a_gap_takes_no_time),
        STAGE(a_number_in_a_window_is_one_slot_with_a_reading_per_alternative),
        STAGE(a_number_cut_by_the_window_is_read_token_by_token),
        STAGE(words_between_timed_ends_of_a_sentence_are_placed_by_character),
        STAGE(report_counts_words_read_and_audio_explained),
    };
    return cmocka_run_group_tests_name("align stages", tests, setup, teardown);
}
