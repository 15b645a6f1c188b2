/* Unit tests of the speech module's own parts: the language model against hand computation (and
 * every distribution summing to 1), and voice activity chunking on a signal whose silences are
 * where the test put them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/lexicon/lexicon.h"
#include "../../engine/speech/speech.h"
#include "fixture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static folio_lm_t *toy(double w2)
{
    folio_lm_t *lm = folio__lm_new();
    const char *s1[] = {"a", "b"}, *s2[] = {"a", "c"};
    assert_int_equal(folio__lm_add(lm, s1, 2, 1.0, true, true), FOLIO_OK);
    assert_int_equal(folio__lm_add(lm, s2, 2, w2, true, true), FOLIO_OK);
    assert_int_equal(folio__lm_finish(lm), FOLIO_OK);
    return lm;
}

static void lm_matches_hand_computation(void **state)
{
    (void)state;
    /* Sentences "<s> a b </s>" and "<s> a c </s>". Unigrams (Witten-Bell against uniform 1/4 over
     * a, b, c, </s>): N = 6, T = 4: P(a) = (2 + 1) / 10. */
    folio_lm_t *lm = toy(1.0);
    assert_float_equal(folio__lm_prob(lm, NULL, NULL, "a"), 0.3, 1e-9);
    assert_float_equal(folio__lm_prob(lm, NULL, NULL, "b"), 0.2, 1e-9);
    assert_float_equal(folio__lm_prob(lm, NULL, NULL, "</s>"), 0.3, 1e-9);
    assert_float_equal(folio__lm_prob(lm, NULL, NULL, "<s>"), 0.0, 1e-12);
    /* After <s>: c = 2, T = 1: P(a|<s>) = (2 + 0.3) / 3; P(b|<s>) = 0.2 / 3. */
    assert_float_equal(folio__lm_prob(lm, NULL, "<s>", "a"), 2.3 / 3, 1e-9);
    assert_float_equal(folio__lm_prob(lm, NULL, "<s>", "b"), 0.2 / 3, 1e-9);
    /* After a: c = 2, T = 2: P(b|a) = (1 + 2 * 0.2) / 4; P(a|a) = 2/4 * 0.3. */
    assert_float_equal(folio__lm_prob(lm, NULL, "a", "b"), 0.35, 1e-9);
    assert_float_equal(folio__lm_prob(lm, NULL, "a", "a"), 0.15, 1e-9);
    /* After <s> a: P(b|<s> a) = (1 + 2 * 0.35) / 4; P(a|<s> a) = 2/4 * 0.15. */
    assert_float_equal(folio__lm_prob(lm, "<s>", "a", "b"), 0.425, 1e-9);
    assert_float_equal(folio__lm_prob(lm, "<s>", "a", "a"), 0.075, 1e-9);
    /* After a b: P(</s>|a b) = (1 + P(</s>|b)) / 2, P(</s>|b) = (1 + 0.3) / 2. */
    assert_float_equal(folio__lm_prob(lm, "a", "b", "</s>"), (1 + 0.65) / 2, 1e-9);
    folio__lm_free(lm);

    /* Fractional counts: the second sentence at weight 0.5. N = 4.5, T = 4. */
    lm = toy(0.5);
    assert_float_equal(folio__lm_prob(lm, NULL, NULL, "a"), 2.5 / 8.5, 1e-9);
    assert_float_equal(folio__lm_prob(lm, NULL, NULL, "c"), 1.5 / 8.5, 1e-9);
    folio__lm_free(lm);
}

static void lm_distributions_sum_to_one(void **state)
{
    (void)state;
    folio_lm_t *lm = folio__lm_new();
    const char *text[] = {"the",   "keeper", "wrote", "in",     "the",  "ledger", "every",
                          "night", "and",    "the",   "ledger", "kept", "the",    "keeper"};
    assert_int_equal(folio__lm_add(lm, text, 14, 1.0, true, true), FOLIO_OK);
    assert_int_equal(folio__lm_add(lm, text + 3, 5, 0.3, false, false), FOLIO_OK);
    size_t extra;
    assert_int_equal(folio__lm_word(lm, "unseen", &extra), FOLIO_OK);
    assert_int_equal(folio__lm_finish(lm), FOLIO_OK);
    size_t v = folio__lm_vocab_size(lm);
    for (size_t u = 0; u <= v; u++)
        for (size_t h = 0; h < v; h++) {
            const char *hu = u < v ? folio__lm_vocab_word(lm, u) : NULL;
            const char *hv = folio__lm_vocab_word(lm, h);
            if (strcmp(hv, "</s>") == 0) continue;
            double sum = 0;
            for (size_t w = 0; w < v; w++)
                sum += folio__lm_prob(lm, hu, hv, folio__lm_vocab_word(lm, w));
            if (fabs(sum - 1) > 1e-9) fail_msg("P(.|%s %s) sums to %.12f", hu ? hu : "-", hv, sum);
        }
    /* The unseen word still has probability in every context. */
    assert_true(folio__lm_prob(lm, "the", "keeper", "unseen") > 0);
    /* The ARPA file lists every word. */
    char path[512];
    snprintf(path, sizeof(path), "%s/toy.arpa", fx_dir());
    assert_int_equal(folio__lm_write_arpa(lm, path), FOLIO_OK);
    FILE *f = fopen(path, "r");
    char line[256];
    int ngram1 = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "ngram 1=%d", &ngram1) == 1) break;
    fclose(f);
    assert_int_equal(ngram1, (int)v);
    folio__lm_free(lm);
}

/* 62 s of "speech" (noise bursts) with silences at 8-9 s, 20-20.5 s and from 60 s on. */
static int16_t *vad_signal(size_t *n)
{
    *n = 62 * 16000;
    int16_t *s = malloc(*n * sizeof(int16_t));
    uint32_t x = 12345;
    for (size_t i = 0; i < *n; i++) {
        double t = (double)i / 16000;
        bool quiet = (t >= 8 && t < 9) || (t >= 20 && t < 20.5) || t >= 60;
        x = x * 1664525u + 1013904223u;
        int r = (int)(x >> 16) % 2001 - 1000;
        /* Syllable-like loudness so that frames differ. */
        double env = 0.5 + 0.5 * fabs(sin(2 * M_PI * 2.7 * t));
        s[i] = (int16_t)(quiet ? r / 200 : r * 3 * env);
    }
    return s;
}

static folio_chunks_t chunk_in_blocks(const int16_t *s, size_t n, size_t block)
{
    folio_vad_t *v = folio__vad_new(30.0, 0.5);
    folio_chunks_t out = {0};
    for (size_t at = 0; at < n; at += block)
        assert_int_equal(folio__vad_feed(v, 0, s + at, at + block <= n ? block : n - at, &out),
                         FOLIO_OK);
    assert_int_equal(folio__vad_end_file(v, &out), FOLIO_OK);
    folio__vad_free(v);
    return out;
}

static void vad_cuts_at_silences_and_overlaps_elsewhere(void **state)
{
    (void)state;
    size_t n;
    int16_t *s = vad_signal(&n);
    folio_chunks_t c = chunk_in_blocks(s, n, 4000);
    if (getenv("VAD_DEBUG"))
        for (size_t i = 0; i < c.len; i++)
            fprintf(stderr, "chunk %zu: %.2f-%.2f keep %.2f-%.2f speech %d\n", i,
                    c.items[i].start / 16000.0, c.items[i].end / 16000.0,
                    c.items[i].keep_from / 16000.0,
                    c.items[i].keep_to == UINT64_MAX ? -1.0 : c.items[i].keep_to / 16000.0,
                    c.items[i].speech);
    bool cut_8 = false, cut_20 = false;
    size_t overlaps = 0;
    for (size_t i = 0; i < c.len; i++) {
        double a = c.items[i].start / 16000.0, b = c.items[i].end / 16000.0;
        assert_true(b - a <= 30.5);
        if (i + 1 < c.len) {
            /* Words are kept exactly once: keep ranges meet. */
            assert_int_equal(c.items[i].keep_to, c.items[i + 1].keep_from);
            double k = c.items[i].keep_to / 16000.0;
            if (k > 8 && k < 9) cut_8 = true;
            if (k > 20 && k < 20.5) cut_20 = true;
            if (c.items[i].end > c.items[i + 1].start) {
                overlaps++;
                assert_true(k > 20.5 && k < 60);
            }
        }
    }
    assert_true(cut_8);
    assert_true(cut_20);
    assert_int_equal(overlaps, 1);
    assert_int_equal(c.items[0].keep_from, 0);
    assert_true(c.items[c.len - 1].keep_to == UINT64_MAX);
    /* The last stretch is silence: no speech to recognise there. */
    assert_false(c.items[c.len - 1].speech);
    for (size_t i = 0; i + 1 < c.len; i++) assert_true(c.items[i].speech);
    /* The same samples in other block sizes give the same chunks. */
    folio_chunks_t d = chunk_in_blocks(s, n, 997);
    assert_int_equal(d.len, c.len);
    for (size_t i = 0; i < c.len; i++) {
        assert_int_equal(d.items[i].start, c.items[i].start);
        assert_int_equal(d.items[i].end, c.items[i].end);
        assert_int_equal(d.items[i].keep_from, c.items[i].keep_from);
        assert_int_equal(d.items[i].keep_to, c.items[i].keep_to);
        assert_int_equal(d.items[i].speech, c.items[i].speech);
    }
    VEC_FREE(c);
    VEC_FREE(d);
    free(s);
}

static void generic_top_words_are_the_most_frequent_words(void **state)
{
    (void)state;
    char lm[1024];
    snprintf(lm, sizeof(lm), "%s/en-us.lm.bin", folio_default_model_dir());
    if (access(lm, R_OK) != 0) {
        skip();
        return;
    }
    folio_strs_t top = {0};
    assert_int_equal(folio__generic_top_words(NULL, folio_default_model_dir(), 1500, &top),
                     FOLIO_OK);
    /* As many as asked (more than recogniser.c's OOB_TOP_WORDS): the model has tens of thousands
     * of words, and the list must not stop at its order (3). */
    assert_int_equal(top.len, 1500);
    bool the = false, and = false, markers = false;
    for (size_t i = 0; i < top.len; i++) {
        the |= strcmp(top.items[i], "the") == 0;
        and |= strcmp(top.items[i], "and") == 0;
        markers |= top.items[i][0] == '<';
    }
    assert_true(the);
    assert_true(and);
    assert_false(markers);
    /* The first words are the first of a longer list: the order is by probability alone. */
    folio_strs_t few = {0};
    assert_int_equal(folio__generic_top_words(NULL, folio_default_model_dir(), 20, &few), FOLIO_OK);
    assert_int_equal(few.len, 20);
    for (size_t i = 0; i < few.len; i++) assert_string_equal(few.items[i], top.items[i]);
    for (size_t i = 0; i < top.len; i++) free(top.items[i]);
    for (size_t i = 0; i < few.len; i++) free(few.items[i]);
    VEC_FREE(top);
    VEC_FREE(few);
}


/* Every probability the two models give over @words (and sentence ends), in every context of up
 * to two of them, is the same. */
static void assert_same_lm(folio_lm_t *a, folio_lm_t *b, const char *const *words, size_t n)
{
    assert_int_equal(folio__lm_vocab_size(a), folio__lm_vocab_size(b));
    for (size_t u = 0; u <= n + 1; u++)
        for (size_t v = 0; v <= n + 1; v++)
            for (size_t w = 0; w <= n; w++) {
                const char *hu = u < n ? words[u] : u == n ? "<s>" : NULL;
                const char *hv = v < n ? words[v] : v == n ? "<s>" : NULL;
                const char *x = w < n ? words[w] : "</s>";
                if (!hv) hu = NULL;
                double pa = folio__lm_prob(a, hu, hv, x), pb = folio__lm_prob(b, hu, hv, x);
                if (fabs(pa - pb) > 1e-12)
                    fail_msg("P(%s | %s %s): %g, expected %g", x, hu ? hu : "-", hv ? hv : "-",
                             pa, pb);
            }
}

static void phrases_enter_a_model_at_their_weight(void **state)
{
    (void)state;
    char dict[1024];
    snprintf(dict, sizeof(dict), "%s/cmudict-en-us.dict", folio_default_model_dir());
    if (access(dict, R_OK) != 0) {
        skip();
        return;
    }
    /* A lexicon of a few of the phrases' words: the others are left out of each phrase. */
    const char *known[] = {"this", "is", "a", "recording", "read", "by", "chapter", "end", "of"};
    size_t n_known = sizeof(known) / sizeof(known[0]);
    int rc;
    folio_lexicon_t *lex = folio__lexicon_open_words(NULL, known, n_known, dict, &rc);
    assert_non_null(lex);
    folio_lm_t *got = folio__lm_new(), *want = folio__lm_new();
    assert_int_equal(folio__lm_add_phrases(got, lex, 0.25), FOLIO_OK);
    /* The expected model, counted phrase by phrase from the words the test knows. */
    size_t phrases = 0;
    for (const char *const *p = folio__out_of_book_phrases; *p; p++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", *p);
        const char *toks[32];
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
            for (size_t k = 0; k < n_known; k++)
                if (strcmp(t, known[k]) == 0) toks[n++] = t;
        if (n) assert_int_equal(folio__lm_add(want, toks, n, 0.25, true, true), FOLIO_OK);
        phrases += n > 0;
    }
    /* "this is a librivox recording", "read by", "end of chapter" at least. */
    assert_true(phrases >= 3);
    assert_int_equal(folio__lm_finish(got), FOLIO_OK);
    assert_int_equal(folio__lm_finish(want), FOLIO_OK);
    assert_same_lm(got, want, known, n_known);
    assert_true(folio__lm_prob(got, "this", "is", "a") > 0.1);
    assert_float_equal(folio__lm_prob(got, NULL, NULL, "librivox"), 0.0, 1e-15);
    folio__lm_free(got);
    folio__lm_free(want);
    folio_lexicon_free(lex);
}

/* ---- noise reduction ---- */

#define DN_N 512
#define DN_H 256

/* What denoise.c measures of a frame, computed here the long way: the power of bins 0 to N/2 of
 * the DFT of the frame under a square-root Hann window, as 10 log10(power / N + 1). */
static double frame_db(const int16_t *x)
{
    double power = 0;
    for (int k = 0; k <= DN_N / 2; k++) {
        double re = 0, im = 0;
        for (int i = 0; i < DN_N; i++) {
            double w = sqrt(0.5 - 0.5 * cos(2 * M_PI * i / DN_N)) * x[i];
            re += w * cos(2 * M_PI * k * i / DN_N);
            im -= w * sin(2 * M_PI * k * i / DN_N);
        }
        power += re * re + im * im;
    }
    return 10 * log10(power / DN_N + 1);
}

/* Two seconds of a tone, then two of a constant offset (a quiet frame whose power sits in bin 0,
 * where a measure that forgot that bin's weight would be off by 2.6 dB). */
static int16_t *tone_then_offset(size_t n, int offset)
{
    int16_t *x = malloc(n * sizeof(int16_t));
    for (size_t i = 0; i < n; i++)
        x[i] = i < n / 2 ? (int16_t)lrint(12000 * sin(2 * M_PI * 440 * (double)i / 16000))
                         : (int16_t)offset;
    return x;
}

static void denoise_leaves_clean_chunks_alone(void **state)
{
    (void)state;
    size_t n = 64000;
    /* The tone's frames against a quiet frame of offset 1, found by the long way: the offsets that
     * put the quiet frames 27.3 and 28.7 dB below the tone, either side of the 28 dB line. */
    int16_t *probe = tone_then_offset(n, 1);
    double loud = frame_db(probe + DN_H * 10), quiet1 = frame_db(probe + n - DN_N - DN_H * 10);
    free(probe);
    for (int side = 0; side < 2; side++) {
        double target = side ? 28.7 : 27.3;
        /* power grows with the offset squared: quiet(o) = 10 log10(o^2 (10^(q1/10) - 1) + 1) */
        double o = sqrt((pow(10, (loud - target) / 10) - 1) / (pow(10, quiet1 / 10) - 1));
        int16_t *x = tone_then_offset(n, (int)lrint(o));
        int16_t *copy = malloc(n * sizeof(int16_t));
        memcpy(copy, x, n * sizeof(int16_t));
        double gap = frame_db(x + DN_H * 10) - frame_db(x + n - DN_N - DN_H * 10);
        assert_true(side ? gap > 28.2 : gap < 27.8);
        bool applied = true;
        assert_int_equal(folio__denoise(x, n, &applied), FOLIO_OK);
        if (applied != (gap < 28.0))
            fail_msg("quiet frames %.2f dB below the tone: denoised %d", gap, applied);
        /* Left alone means untouched, sample for sample. */
        if (!applied) assert_memory_equal(x, copy, n * sizeof(int16_t));
        free(x);
        free(copy);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lm_matches_hand_computation),
        cmocka_unit_test(lm_distributions_sum_to_one),
        cmocka_unit_test(vad_cuts_at_silences_and_overlaps_elsewhere),
        cmocka_unit_test(generic_top_words_are_the_most_frequent_words),
        cmocka_unit_test(phrases_enter_a_model_at_their_weight),
        cmocka_unit_test(denoise_leaves_clean_chunks_alone),
    };
    return cmocka_run_group_tests_name("speech", tests, NULL, fx_teardown);
}
