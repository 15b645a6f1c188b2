/* Unit tests of the speech module's own parts: the language model against hand computation (and
 * every distribution summing to 1), and voice activity chunking on a signal whose silences are
 * where the test put them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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
    /* As many as asked (more than models.c's OOB_TOP_WORDS): the model has tens of thousands of
     * words, and the list must not stop at its order (3). */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lm_matches_hand_computation),
        cmocka_unit_test(lm_distributions_sum_to_one),
        cmocka_unit_test(vad_cuts_at_silences_and_overlaps_elsewhere),
        cmocka_unit_test(generic_top_words_are_the_most_frequent_words),
    };
    return cmocka_run_group_tests_name("speech", tests, NULL, fx_teardown);
}
