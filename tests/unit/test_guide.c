/* Unit tests of guided recognition's bookkeeping (engine/speech/guide.c): finding where
 * recognised words are in a book, and telling words of the window from words of elsewhere. The
 * "recognised" words are the book's own tokens, garbled by the test, so where they end is known
 * independently of the guide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/speech/speech.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Common words, all in cmudict: random text over them repeats no word triple by design of
 * chance (300^3 triples, a few thousand drawn). */
static const char *const vocab[] = {
    "about",   "above",   "across",  "after",   "again",    "against", "almost",    "alone",
    "along",   "already", "always",  "among",   "animal",   "answer",  "apple",     "around",
    "autumn",  "baby",    "back",    "basket",  "beach",    "bear",    "beautiful", "bed",
    "before",  "began",   "behind",  "believe", "bell",     "below",   "beside",    "better",
    "between", "bird",    "black",   "blue",    "boat",     "body",    "bone",      "book",
    "bottle",  "bread",   "bridge",  "bright",  "brother",  "brown",   "build",     "butter",
    "cabin",   "cake",    "candle",  "captain", "carry",    "castle",  "cattle",    "center",
    "chair",   "change",  "cheese",  "cherry",  "child",    "church",  "circle",    "city",
    "class",   "clean",   "clear",   "climb",   "clock",    "cloud",   "coast",     "coffee",
    "cold",    "color",   "come",    "corner",  "cotton",   "country", "course",    "cover",
    "cream",   "cross",   "crowd",   "dance",   "danger",   "dark",    "daughter",  "deep",
    "desert",  "dinner",  "doctor",  "dollar",  "door",     "double",  "dream",     "dress",
    "drink",   "drive",   "early",   "earth",   "east",     "easy",    "edge",      "eight",
    "empty",   "engine",  "evening", "every",   "face",     "family",  "farm",      "father",
    "feather", "field",   "finger",  "fire",    "fish",     "flower",  "forest",    "found",
    "fresh",   "friend",  "front",   "fruit",   "garden",   "gentle",  "glass",     "golden",
    "grass",   "great",   "green",   "ground",  "guard",    "hammer",  "happy",     "harbor",
    "heart",   "heavy",   "hill",    "horse",   "house",    "hunter",  "island",    "jacket",
    "journey", "kettle",  "kitchen", "ladder",  "lake",     "lamp",    "large",     "laugh",
    "leather", "letter",  "light",   "little",  "market",   "meadow",  "metal",     "middle",
    "mirror",  "money",   "morning", "mother",  "mountain", "music",   "narrow",    "needle",
    "night",   "north",   "ocean",   "orange",  "paper",    "party",   "pencil",    "people",
    "pepper",  "picture", "pillow",  "plate",   "pocket",   "powder",  "quiet",     "rabbit",
    "river",   "road",    "rocket",  "round",   "saddle",   "salt",    "sand",      "school",
    "season",  "secret",  "shadow",  "shell",   "shore",    "silver",  "simple",    "sister",
    "small",   "smoke",   "snow",    "soldier", "south",    "spring",  "square",    "stone",
    "storm",   "story",   "street",  "strong",  "summer",   "table",   "teacher",   "thunder",
    "ticket",  "tiger",   "timber",  "tower",   "town",     "train",   "travel",    "valley",
    "village", "voice",   "wagon",   "water",   "weather",  "west",    "wheel",     "window",
    "winter",  "wooden",  "yellow",  "young"};

#define N_WORDS 3000
#define N_VOCAB (sizeof(vocab) / sizeof(vocab[0]))

static unsigned lcg(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) & 0x7fff;
}

typedef struct {
    folio_book_t *book;
    folio_lexicon_t *lex;
    folio_guide_t *guide;
} fx_t;

static int setup(void **state)
{
    folio_str_t text = {0};
    unsigned seed = 7;
    for (size_t i = 0; i < N_WORDS; i++) {
        folio__str_printf(&text, "%s%s", vocab[lcg(&seed) % N_VOCAB], i % 12 == 11 ? ".\n\n" : " ");
    }
    const char *path = fx_file("guide.txt", text.data, text.len);
    folio__str_free(&text);
    fx_t *f = calloc(1, sizeof(*f));
    int err;
    f->book = folio_book_open(NULL, path, NULL, &err);
    assert_non_null(f->book);
    f->lex = folio_lexicon_open(NULL, f->book, NULL, &err);
    assert_non_null(f->lex);
    f->guide = folio__guide_new(f->book, f->lex, &err);
    assert_non_null(f->guide);
    /* Every token is pronounceable and read, so guide positions are token indices. */
    assert_int_equal(folio_book_n_tokens(f->book), N_WORDS);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    folio__guide_free(f->guide);
    folio_lexicon_free(f->lex);
    folio_book_free(f->book);
    free(f);
    return fx_teardown(state);
}

/* Tokens [from, to) as recognised words, every 7th replaced by a word the book does not hold and
 * every 11th dropped; *@last_kept is the index of the last token kept as it is. */
static void garble(const fx_t *f, size_t from, size_t to, folio_rec_words_t *w, size_t *last_kept)
{
    w->len = 0;
    for (size_t t = from; t < to; t++) {
        if ((t - from) % 11 == 10) continue;
        folio_rec_word_t r = {0};
        if ((t - from) % 7 == 6) {
            snprintf(r.word, sizeof(r.word), "zebra");
        } else {
            snprintf(r.word, sizeof(r.word), "%s", folio_book_token(f->book, t)->text);
            *last_kept = t;
        }
        assert_int_equal(VEC_PUSH(*w, r), 0);
    }
}

static void words_are_found_anywhere_in_the_book(void **state)
{
    fx_t *f = *state;
    folio_rec_words_t w = {0};
    size_t starts[] = {0, 517, 1499, 2900};
    for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++) {
        size_t last = 0, to = starts[k] + 80 < N_WORDS ? starts[k] + 80 : N_WORDS;
        garble(f, starts[k], to, &w, &last);
        folio_guide_state_t at = {0, 0, false}, next;
        folio__guide_locate(f->guide, &at, &w, &next);
        assert_true(next.known);
        assert_int_equal(next.pos, last + 1);
        assert_int_equal(next.misses, 0);
    }
    VEC_FREE(w);
}

static void words_of_the_window_fit_it_and_others_do_not(void **state)
{
    fx_t *f = *state;
    folio_rec_words_t w = {0};
    size_t last = 0;
    folio_guide_state_t at = {1000, 0, true}, next = {0, 0, false};
    /* The next 90 tokens (about 30 s of speech) fit... */
    garble(f, 1000, 1090, &w, &last);
    assert_true(folio__guide_in_window(f->guide, &at, 30.0, &w, &next));
    assert_int_equal(next.pos, last + 1);
    /* ... and so do they after a skipped paragraph of 200 tokens, and when the chunk starts a
     * few words before the place (chunks overlap). */
    garble(f, 1200, 1290, &w, &last);
    assert_true(folio__guide_in_window(f->guide, &at, 30.0, &w, &next));
    assert_int_equal(next.pos, last + 1);
    garble(f, 990, 1080, &w, &last);
    assert_true(folio__guide_in_window(f->guide, &at, 30.0, &w, &next));
    assert_int_equal(next.pos, last + 1);
    /* Words from another chapter do not. */
    garble(f, 2200, 2290, &w, &last);
    assert_false(folio__guide_in_window(f->guide, &at, 30.0, &w, &next));
    /* Nor from before the window. */
    garble(f, 400, 490, &w, &last);
    assert_false(folio__guide_in_window(f->guide, &at, 30.0, &w, &next));
    /* An unknown place has no window. */
    folio_guide_state_t unknown = {0, 0, false};
    garble(f, 0, 90, &w, &last);
    assert_false(folio__guide_in_window(f->guide, &unknown, 30.0, &w, &next));
    VEC_FREE(w);
}

static void the_window_holds_what_a_chunk_can_say(void **state)
{
    fx_t *f = *state;
    folio_guide_state_t at = {1000, 0, true};
    size_t from_tok, to_tok, from, to;
    folio__guide_window(f->guide, &at, 30.0, &from_tok, &to_tok, &from, &to);
    /* A little before the place, and well past what 30 s of the fastest narrator says (4 words a
     * second) plus a skipped paragraph. */
    assert_true(from <= 1000 - 20 && from >= 1000 - 200);
    assert_true(to >= 1000 + 4 * 30 + 200);
    assert_true(to <= N_WORDS);
    assert_int_equal(from_tok, from);
    assert_int_equal(to_tok, to);
    /* Near the end of the book the window stops there. */
    at.pos = N_WORDS - 10;
    folio__guide_window(f->guide, &at, 30.0, NULL, NULL, &from, &to);
    assert_int_equal(to, N_WORDS);
}

static void speech_that_is_not_the_book_is_placed_nowhere(void **state)
{
    fx_t *f = *state;
    folio_rec_words_t w = {0};
    const char *noise[] = {"this",       "is",  "a",  "librivox", "recording", "all",   "librivox",
                           "recordings", "are", "in", "the",      "public",    "domain"};
    for (size_t i = 0; i < sizeof(noise) / sizeof(noise[0]); i++) {
        folio_rec_word_t r = {0};
        snprintf(r.word, sizeof(r.word), "%s", noise[i]);
        assert_int_equal(VEC_PUSH(w, r), 0);
    }
    /* A known place survives one chunk that is not the book, not two. */
    folio_guide_state_t at = {1000, 0, true}, next;
    folio__guide_locate(f->guide, &at, &w, &next);
    assert_true(next.known);
    assert_int_equal(next.pos, 1000);
    assert_int_equal(next.misses, 1);
    folio__guide_locate(f->guide, &next, &w, &next);
    assert_false(next.known);
    /* Nothing said teaches nothing, and still fits. */
    w.len = 0;
    assert_true(folio__guide_in_window(f->guide, &at, 5.0, &w, &next));
    assert_int_equal(next.pos, 1000);
    VEC_FREE(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(words_are_found_anywhere_in_the_book),
        cmocka_unit_test(words_of_the_window_fit_it_and_others_do_not),
        cmocka_unit_test(the_window_holds_what_a_chunk_can_say),
        cmocka_unit_test(speech_that_is_not_the_book_is_placed_nowhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
