/* Unit tests of forced alignment with alternative readings. flite narrates a sentence with a
 * number, saying "1455" as "one thousand four hundred fifty five" — the book's alternative
 * reading, not its primary "fourteen fifty five"; flite's own segment times are the truth. The
 * grammar must accept the reading the narrator chose and time the number's source word with it,
 * both in the decoder and through the aligner, where the recogniser missed the number. And a
 * window open at its start leaves out the words said before its audio; a gap recognised again,
 * by the recogniser a run builds for the book, takes the words heard there. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/align/align.h"
#include "fixture.h"

#include <flite/flite.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* flite installs no header for its voices. */
cst_voice *register_cmu_us_kal16(const char *voxdir);

static const char text[] = "The first entry was dated 1455. It described a storm that had come "
                           "out of the north without warning.";

/* What flite said: each word with its times, and the samples. */
typedef struct {
    char word[32];
    double start, end;
} said_t;

static said_t said[64];
static size_t n_said;
static int16_t *samples;
static size_t n_samples;
static folio_book_t *book;
static folio_lexicon_t *lex;
static folio_decoder_t *decoder;

static int setup(void **state)
{
    (void)state;
    flite_init();
    cst_voice *v = register_cmu_us_kal16(NULL);
    cst_utterance *u = flite_synth_text(text, v);
    cst_wave *w = utt_wave(u);
    if (cst_wave_sample_rate(w) != FOLIO_SPEECH_RATE) return -1;
    for (cst_item *wd = relation_head(utt_relation(u, "Word")); wd && n_said < 64;
         wd = item_next(wd)) {
        cst_item *ss = item_as(wd, "SylStructure");
        cst_item *syl = ss ? item_daughter(ss) : NULL;
        cst_item *first = syl ? item_daughter(syl) : NULL;
        cst_item *lastsyl = ss ? item_last_daughter(ss) : NULL;
        cst_item *last = lastsyl ? item_last_daughter(lastsyl) : NULL;
        if (!first || !last) continue;
        cst_item *prev = item_prev(item_as(first, "Segment"));
        said_t *s = &said[n_said++];
        snprintf(s->word, sizeof(s->word), "%s", item_feat_string(wd, "name"));
        s->start = prev ? ffeature_float(prev, "end") : 0.0;
        s->end = ffeature_float(last, "end");
    }
    n_samples = (size_t)cst_wave_num_samples(w);
    samples = malloc(n_samples * sizeof(int16_t));
    if (!samples) return -1;
    memcpy(samples, w->samples, n_samples * sizeof(int16_t));
    delete_utterance(u);

    book = folio_book_open(NULL, fx_file("align.txt", text, sizeof(text) - 1), NULL, NULL);
    int err;
    lex = book ? folio_lexicon_open(NULL, book, NULL, &err) : NULL;
    char dict[1024], dir[1024];
    snprintf(dict, sizeof(dict), "%s", folio_default_dict());
    snprintf(dir, sizeof(dir), "%s", folio_default_dict());
    folio_decoder_config_t c;
    folio__decoder_config_init(&c, dirname(dir));
    folio__decoder_config_align(&c);
    c.dict_path = dict;
    decoder = lex ? folio__decoder_new(NULL, &c, &err) : NULL;
    return decoder ? 0 : -1;
}

static int teardown(void **state)
{
    folio__decoder_free(decoder);
    folio_lexicon_free(lex);
    folio_book_free(book);
    free(samples);
    return fx_teardown(state);
}

/* flite's words from "one" (the number's first) to "five" (its last), as [first, last]. */
static void number_said(size_t *first, size_t *last)
{
    *first = *last = SIZE_MAX;
    for (size_t i = 0; i < n_said; i++) {
        if (*first == SIZE_MAX && strcmp(said[i].word, "one") == 0) *first = i;
        if (*first != SIZE_MAX && *last == SIZE_MAX && strcmp(said[i].word, "five") == 0) *last = i;
    }
    assert_true(*first != SIZE_MAX && *last != SIZE_MAX);
    /* The premise of the test: flite reads the number the long way. */
    const char *const long_way[] = {"one", "thousand", "four", "hundred", "fifty", "five"};
    assert_int_equal(*last - *first + 1, 6);
    for (size_t i = 0; i < 6; i++) assert_string_equal(said[*first + i].word, long_way[i]);
}

/* The source word "1455". */
static size_t number_word(void)
{
    size_t at = fx_cp_offset(text, "1455");
    for (size_t w = 0; w < folio_book_n_words(book); w++)
        if (folio_book_word(book, w)->start_char == at) return w;
    fail_msg("no source word at 1455");
    return 0;
}

static void grammar_takes_the_alternative_the_narrator_chose(void **state)
{
    (void)state;
    size_t first, last;
    number_said(&first, &last);
    /* The book's words in slots; "1455" a slot of its primary reading and its alternatives. */
    const char *words[128];
    size_t slot[128], reading[128], n = 0, slots = 0, number_slot = SIZE_MAX;
    char alt_buf[8][256];
    for (size_t w = 0; w < folio_book_n_words(book); w++) {
        const folio_word_t *word = folio_book_word(book, w);
        if (!word->n_tokens) continue;
        for (size_t k = 0; k < word->n_tokens; k++, n++) {
            words[n] = folio_book_token(book, word->first_token + k)->text;
            slot[n] = slots, reading[n] = 0;
        }
        if (word->n_alternatives) {
            number_slot = slots;
            assert_true(word->n_alternatives <= 8);
            for (size_t a = 0; a < word->n_alternatives; a++) {
                snprintf(alt_buf[a], sizeof(alt_buf[a]), "%s",
                         folio_book_word_alternative(book, w, a));
                char *save = NULL;
                for (char *x = strtok_r(alt_buf[a], " ", &save); x;
                     x = strtok_r(NULL, " ", &save), n++)
                    words[n] = x, slot[n] = slots, reading[n] = a + 1;
            }
        }
        slots++;
    }
    assert_int_not_equal(number_slot, SIZE_MAX);
    folio_grammar_t g = {words, slot, reading, n, 0, 0};
    folio_rec_words_t got = {0};
    assert_int_equal(folio__decoder_align(decoder, samples, n_samples, &g, &got), FOLIO_OK);
    /* The number's slot was said as alternative 1 ("one thousand four hundred fifty five"),
     * every word of it found, at flite's times. */
    size_t found = 0;
    double start = -1, end = -1;
    for (size_t k = 0; k < got.len; k++) {
        assert_true(got.items[k].gram >= 0 && (size_t)got.items[k].gram < n);
        size_t gi = (size_t)got.items[k].gram;
        assert_string_equal(got.items[k].word, words[gi]);
        if (slot[gi] != number_slot) continue;
        assert_int_equal(reading[gi], 1);
        if (start < 0) start = got.items[k].start_frame * 0.01;
        end = (got.items[k].end_frame + 1) * 0.01;
        found++;
    }
    assert_int_equal(found, 6);
    if (fabs(start - said[first].start) > 0.1 || fabs(end - said[last].end) > 0.1)
        fail_msg("1455 at %.2f-%.2f s, said at %.2f-%.2f s", start, end, said[first].start,
                 said[last].end);
    VEC_FREE(got);
}

/* Forced alignment of a window whose audio starts after the grammar's first words were said
 * (a heading read before a pause, left out of the window): with an open start the grammar
 * begins at the first word the audio holds and leaves the others unsaid; closed, it has to put
 * some of them on the audio (or cannot end). */
static void open_start_leaves_unsaid_words_out(void **state)
{
    (void)state;
    size_t it = SIZE_MAX;
    for (size_t i = 0; i < n_said && it == SIZE_MAX; i++)
        if (strcmp(said[i].word, "it") == 0) it = i;
    assert_int_not_equal(it, SIZE_MAX);
    double from = said[it].start - 0.2;
    size_t first = (size_t)(from * FOLIO_SPEECH_RATE);
    const char *words[32] = {"heavy", "rain", "fell", "outside"};
    size_t n = 4, slot[32], reading[32] = {0};
    for (size_t i = it; i < n_said && n < 32; i++) words[n++] = said[i].word;
    for (size_t i = 0; i < n; i++) slot[i] = i;
    for (int open = 0; open < 2; open++) {
        folio_grammar_t g = {words, slot, reading, n, open ? 8 : 0, 0};
        folio_rec_words_t got = {0};
        int rc = folio__decoder_align(decoder, samples + first, n_samples - first, &g, &got);
        size_t unsaid = 0;
        double it_at = -1;
        for (size_t k = 0; rc == FOLIO_OK && k < got.len; k++) {
            if (got.items[k].gram < 0) continue;
            unsaid += got.items[k].gram < 4;
            if (got.items[k].gram == 4) it_at = from + got.items[k].start_frame * 0.01;
        }
        if (open) {
            assert_int_equal(rc, FOLIO_OK);
            assert_int_equal(unsaid, 0);
            if (fabs(it_at - said[it].start) > 0.1)
                fail_msg("\"it\" at %.2f s, said at %.2f s", it_at, said[it].start);
        } else {
            /* The premise: without an open start the window goes wrong. */
            assert_true(rc != FOLIO_OK || unsaid > 0 || fabs(it_at - said[it].start) > 0.1);
        }
        VEC_FREE(got);
    }
}

static int read_pcm(void *ud, size_t file, uint64_t start, size_t n, int16_t *out)
{
    (void)ud;
    assert_int_equal(file, 0);
    for (size_t i = 0; i < n; i++) out[i] = start + i < n_samples ? samples[start + i] : 0;
    return FOLIO_OK;
}

static double duration, offset; /* of the one file, flite's */

/* The aligner's input for the one file when the recogniser heard flite's words but those in
 * [@from, @to), into @heard (room for 64); no alignment decoders, no recogniser for gaps. */
static folio_align_input_t heard_all_but(size_t from, size_t to, folio_heard_t *heard)
{
    size_t n_heard = 0;
    for (size_t i = 0; i < n_said && n_heard < 64; i++)
        if (i < from || i >= to)
            heard[n_heard++] =
                (folio_heard_t){said[i].word, 0, said[i].start, said[i].end, said[i].start, 0.8f};
    duration = (double)n_samples / FOLIO_SPEECH_RATE;
    offset = 0;
    return (folio_align_input_t){.book = book,
                                 .lex = lex,
                                 .heard = heard,
                                 .n_heard = n_heard,
                                 .n_files = 1,
                                 .duration = &duration,
                                 .offset = &offset,
                                 .read_pcm = read_pcm};
}

static void aligner_times_a_number_heard_another_way(void **state)
{
    (void)state;
    size_t first, last;
    number_said(&first, &last);
    /* The recogniser heard every word but the number's. */
    folio_heard_t heard[64];
    folio_align_input_t in = heard_all_but(first, last + 1, heard);
    in.aligners = &decoder;
    in.n_aligners = 1;
    folio_alignment_t al;
    assert_int_equal(folio__align(NULL, &in, &al), FOLIO_OK);
    const folio_timing_t *x = &al.words[number_word()];
    assert_int_equal(x->how, FOLIO_HOW_FORCED);
    if (fabs(x->start - said[first].start) > 0.1 || fabs(x->end - said[last].end) > 0.1)
        fail_msg("1455 at %.2f-%.2f s, said at %.2f-%.2f s", x->start, x->end, said[first].start,
                 said[last].end);
    /* Its neighbours keep what the recogniser heard. */
    size_t w = number_word();
    assert_int_equal(al.words[w - 1].how, FOLIO_HOW_MATCH);
    assert_int_equal(al.words[w + 1].how, FOLIO_HOW_MATCH);
    folio__alignment_free(&al);
}

/* The book token that flite's word @i is: the first of a run of tokens that reads as flite's
 * words @i, @i + 1, ... (@n of them). */
static size_t token_said(size_t i, size_t n)
{
    for (size_t t = 0; t + n <= folio_book_n_tokens(book); t++) {
        size_t k = 0;
        while (k < n && strcmp(folio_book_token(book, t + k)->text, said[i + k].word) == 0) k++;
        if (k == n) return t;
    }
    fail_msg("flite's words from \"%s\" are not the book's", said[i].word);
    return 0;
}

/* A stretch the first pass missed and no window filled is recognised again by the recogniser
 * a run builds for the book, with a model of the stretch's text: the words heard there take
 * flite's times; nothing outside the stretch changes; the model's file is gone afterwards. */
static void gap_recognised_again_takes_heard_words(void **state)
{
    (void)state;
    const char *const missing[] = {"a", "storm", "that", "had", "come", "out"};
    size_t from = SIZE_MAX;
    for (size_t i = 0; i + 6 <= n_said && from == SIZE_MAX; i++)
        if (strcmp(said[i].word, "a") == 0 && strcmp(said[i + 1].word, "storm") == 0) from = i;
    assert_int_not_equal(from, SIZE_MAX);
    for (size_t k = 0; k < 6; k++) assert_string_equal(said[from + k].word, missing[k]);
    size_t tok = token_said(from, 6);
    folio_heard_t heard[64];
    /* No forced alignment: only recognition can time the gap. */
    folio_align_input_t in = heard_all_but(from, from + 6, heard);
    folio_alignment_t only_forced, recognised;
    assert_int_equal(folio__align(NULL, &in, &only_forced), FOLIO_OK);

    /* The run's models, as folio_index_build makes them, in the test folder. */
    char lm[1024], oob[1024], dict[1024], gap_lm[1024], dir[1024];
    snprintf(lm, sizeof(lm), "%s/gap.lm", fx_dir());
    snprintf(oob, sizeof(oob), "%s/gap.oob.lm", fx_dir());
    snprintf(dict, sizeof(dict), "%s/gap.dict", fx_dir());
    snprintf(gap_lm, sizeof(gap_lm), "%s/gap.gaps.lm", fx_dir());
    snprintf(dir, sizeof(dir), "%s", folio_default_dict());
    const folio_models_files_t files = {lm, oob, dict};
    folio_models_t models;
    assert_int_equal(
        folio__models_build(NULL, book, dirname(dir), NULL, &files, FOLIO_SEARCH_BALANCED, &models),
        FOLIO_OK);
    in.models = &models;
    in.gap_lm_path = gap_lm;
    assert_int_equal(folio__align(NULL, &in, &recognised), FOLIO_OK);
    assert_int_equal(access(gap_lm, F_OK), -1);

    /* The gap's words: interpolated without the recogniser; with it heard at flite's times,
     * all but perhaps "a" (a tenth of a second, unstressed), which is then interpolated. */
    for (size_t k = 0; k < 6; k++) {
        size_t w = folio_book_token(book, tok + k)->word;
        assert_int_equal(only_forced.words[w].how, FOLIO_HOW_INTERPOLATED);
        const folio_timing_t *x = &recognised.words[w];
        if (k == 0 && x->how == FOLIO_HOW_INTERPOLATED) continue;
        if (x->how != FOLIO_HOW_MATCH || fabs(x->start - said[from + k].start) > 0.1 ||
            fabs(x->end - said[from + k].end) > 0.1)
            fail_msg("\"%s\" found as %d at %.3f-%.3f s, said at %.3f-%.3f s", missing[k],
                     (int)x->how, x->start, x->end, said[from + k].start, said[from + k].end);
    }
    /* Every other word as it was: the recogniser was asked about the gap alone. */
    size_t gap_from = folio_book_token(book, tok)->word,
           gap_to = folio_book_token(book, tok + 5)->word;
    for (size_t w = 0; w < recognised.n_words; w++) {
        if (w >= gap_from && w <= gap_to) continue;
        const folio_timing_t *a = &only_forced.words[w], *b = &recognised.words[w];
        if (a->how != b->how || a->start != b->start || a->end != b->end || a->file != b->file ||
            a->confidence != b->confidence)
            fail_msg("word %zu changed: %d at %.3f-%.3f s, then %d at %.3f-%.3f s", w, (int)a->how,
                     a->start, a->end, (int)b->how, b->start, b->end);
    }
    folio__alignment_free(&only_forced);
    folio__alignment_free(&recognised);
    folio__models_free(&models);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grammar_takes_the_alternative_the_narrator_chose),
        cmocka_unit_test(aligner_times_a_number_heard_another_way),
        cmocka_unit_test(open_start_leaves_unsaid_words_out),
        cmocka_unit_test(gap_recognised_again_takes_heard_words),
    };
    return cmocka_run_group_tests_name("align", tests, setup, teardown);
}
