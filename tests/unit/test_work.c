/* Unit tests of the work file (engine/index/work.c): the names of its side files, chunks and the
 * audio cache kept across a close and a reopen, a changed fingerprint starting afresh, removal of
 * every side file, and what the fingerprint of a run's inputs covers. Everything lives in the
 * test's temporary folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../engine/index/index.h"
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh work path in the test folder (static buffer). */
static const char *work_path(const char *name)
{
    static char path[4200];
    snprintf(path, sizeof(path), "%s/%s", fx_dir(), name);
    return path;
}

static bool exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static void side_files_are_named_after_the_work_file(void **state)
{
    (void)state;
    char name[64];
    assert_int_equal(folio__work_name(name, sizeof(name), "b/x.db", FOLIO_WORK_PART, 0), FOLIO_OK);
    assert_string_equal(name, "b/x.db.part");
    static const struct {
        folio_work_file_t which;
        size_t k;
        const char *want;
    } cases[] = {
        {FOLIO_WORK_WAL, 0, "b/x.db.part-wal"},
        {FOLIO_WORK_SHM, 0, "b/x.db.part-shm"},
        {FOLIO_WORK_PCM, 0, "b/x.db.part.pcm"},
        {FOLIO_WORK_LM, 0, "b/x.db.part.lm"},
        {FOLIO_WORK_OOB_LM, 0, "b/x.db.part.oob.lm"},
        {FOLIO_WORK_DICT, 0, "b/x.db.part.dict"},
        {FOLIO_WORK_GAPS_LM, 0, "b/x.db.part.gaps.lm"},
        {FOLIO_WORK_INDEX, 0, "b/x.db.part.index"},
        {FOLIO_WORK_WINDOW_LM, 0, "b/x.db.part.window0.lm"},
        {FOLIO_WORK_WINDOW_LM, 17, "b/x.db.part.window17.lm"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(
            folio__work_name(name, sizeof(name), "b/x.db.part", cases[i].which, cases[i].k),
            FOLIO_OK);
        assert_string_equal(name, cases[i].want);
    }
}

static void a_name_too_long_for_its_buffer_is_refused(void **state)
{
    (void)state;
    char name[12];
    /* "b/x.db.part" is 11 bytes and its NUL the twelfth: it fits; one more byte does not. */
    assert_int_equal(folio__work_name(name, sizeof(name), "b/x.db", FOLIO_WORK_PART, 0), FOLIO_OK);
    assert_int_equal(folio__work_name(name, sizeof(name), "b/xy.db", FOLIO_WORK_PART, 0),
                     FOLIO_EINVAL);
    assert_int_equal(folio__work_name(name, sizeof(name), "b/x", FOLIO_WORK_WINDOW_LM, 100),
                     FOLIO_EINVAL);
}

static void a_chunk_and_the_audio_cache_are_found_again_after_reopening(void **state)
{
    (void)state;
    const char *path = work_path("chunks.part");
    bool resumed = true, done = true, cached = false;
    int err = 1;
    folio_part_t *p = folio__part_open(NULL, path, "fp-one", false, &resumed, &err);
    assert_non_null(p);
    assert_int_equal(err, FOLIO_OK);
    assert_false(resumed);
    folio_part_chunk_t c = {1, 16000, 48000, 16800, UINT64_MAX, true};
    assert_int_equal(folio__part_add_chunk(p, &c, &done), FOLIO_OK);
    assert_false(done);
    assert_int_equal(folio__part_file_cached(p, 1, "b/two.wav", 96000), FOLIO_OK);
    folio__part_close(p);

    p = folio__part_open(NULL, path, "fp-one", false, &resumed, &err);
    assert_non_null(p);
    assert_true(resumed);
    folio_part_chunks_t chunks = {0};
    folio_bools_t finished = {0};
    assert_int_equal(folio__part_chunks(p, &chunks, &finished), FOLIO_OK);
    assert_int_equal(chunks.len, 1);
    assert_int_equal(chunks.items[0].file, 1);
    assert_int_equal(chunks.items[0].start, 16000);
    assert_int_equal(chunks.items[0].end, 48000);
    assert_int_equal(chunks.items[0].keep_from, 16800);
    assert_true(chunks.items[0].keep_to == UINT64_MAX);
    assert_true(chunks.items[0].speech);
    assert_false(finished.items[0]);
    uint64_t n = 0;
    assert_int_equal(folio__part_file_samples(p, 1, &n, &cached), FOLIO_OK);
    assert_true(cached);
    assert_int_equal(n, 96000);
    assert_int_equal(folio__part_file_samples(p, 0, &n, &cached), FOLIO_OK);
    assert_false(cached);

    /* Its result stored, the same chunk added again is reported done, with its words. */
    assert_int_equal(folio__part_chunk_done(p, 1, 16000, "call\t0\t40\t0.9000\t-100\t3\n"),
                     FOLIO_OK);
    folio__part_close(p);
    p = folio__part_open(NULL, path, "fp-one", false, &resumed, &err);
    assert_non_null(p);
    assert_true(resumed);
    assert_int_equal(folio__part_add_chunk(p, &c, &done), FOLIO_OK);
    assert_true(done);
    char *tsv = NULL;
    assert_int_equal(folio__part_chunk_result(p, 1, 16000, &tsv), FOLIO_OK);
    assert_non_null(tsv);
    assert_string_equal(tsv, "call\t0\t40\t0.9000\t-100\t3\n");
    free(tsv);
    assert_int_equal(folio__part_chunk_result(p, 1, 0, &tsv), FOLIO_OK);
    assert_null(tsv);
    folio__part_close(p);
    VEC_FREE(chunks);
    VEC_FREE(finished);
}

static void a_changed_fingerprint_discards_the_earlier_work(void **state)
{
    (void)state;
    const char *path = work_path("changed.part");
    bool resumed, done;
    int err;
    folio_part_t *p = folio__part_open(NULL, path, "fp-old", false, &resumed, &err);
    assert_non_null(p);
    folio_part_chunk_t c = {0, 0, 32000, 0, 31200, true};
    assert_int_equal(folio__part_add_chunk(p, &c, &done), FOLIO_OK);
    folio__part_close(p);

    folio_t *ctx = fx_context();
    p = folio__part_open(ctx, path, "fp-new", false, &resumed, &err);
    assert_non_null(p);
    assert_false(resumed);
    assert_true(fx_logged("starting afresh"));
    folio_part_chunks_t chunks = {0};
    assert_int_equal(folio__part_chunks(p, &chunks, NULL), FOLIO_OK);
    assert_int_equal(chunks.len, 0);
    folio__part_close(p);

    /* Asked to restart, even the same fingerprint starts afresh. */
    p = folio__part_open(ctx, path, "fp-new", false, &resumed, &err);
    assert_non_null(p);
    assert_true(resumed);
    assert_int_equal(folio__part_add_chunk(p, &c, &done), FOLIO_OK);
    folio__part_close(p);
    p = folio__part_open(ctx, path, "fp-new", true, &resumed, &err);
    assert_non_null(p);
    assert_false(resumed);
    assert_int_equal(folio__part_chunks(p, &chunks, NULL), FOLIO_OK);
    assert_int_equal(chunks.len, 0);
    folio__part_close(p);
    VEC_FREE(chunks);
    folio_free(ctx);
}

static void removing_the_work_removes_every_side_file_and_nothing_else(void **state)
{
    (void)state;
    char path[4200];
    snprintf(path, sizeof(path), "%s", work_path("gone.part"));
    static const char *const sides[] = {
        "",        "-wal",  "-shm",     ".pcm",        ".lm",
        ".oob.lm", ".dict", ".gaps.lm", ".window0.lm", ".window7.lm"};
    char side[4300];
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
        snprintf(side, sizeof(side), "%s%s", path, sides[i]);
        fx_file(strrchr(side, '/') + 1, "x", 1);
        assert_true(exists(side));
    }
    snprintf(side, sizeof(side), "%s.keep", path);
    fx_file(strrchr(side, '/') + 1, "x", 1);
    folio__work_remove(path);
    for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
        char gone[4300];
        snprintf(gone, sizeof(gone), "%s%s", path, sides[i]);
        assert_false(exists(gone));
    }
    assert_true(exists(side));
}

/* A file of @n bytes, byte i being i % 251, with byte @at changed when @at < n. */
static const char *pattern_file(const char *name, size_t n, size_t at)
{
    unsigned char *b = malloc(n);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) b[i] = (unsigned char)(i % 251);
    if (at < n) b[at] ^= 0xff;
    const char *path = fx_file(name, b, n);
    free(b);
    return path;
}

static int fingerprint_of(folio_t *ctx, const char *audio, const char *made, const char *config,
                          char out[65])
{
    const char *const a[] = {audio};
    const char *const m[] = {made};
    folio_work_inputs_t in = {.text_sha256 = "0123456789abcdef0123456789abcdef"
                                             "0123456789abcdef0123456789abcdef",
                              .config = config,
                              .config_len = strlen(config),
                              .model_dir = fx_dir(), /* holds no acoustic model: none hashed */
                              .made = m,
                              .n_made = 1,
                              .audio = a,
                              .n_audio = 1};
    return folio__work_fingerprint(ctx, &in, out);
}

static void the_fingerprint_covers_size_head_and_tail_of_each_file(void **state)
{
    (void)state;
    enum { SIZE = 300000 }; /* more than the two 64 KiB ends */
    char base[65], again[65], other[65];
    char audio[4200], made[4200];
    snprintf(audio, sizeof(audio), "%s", pattern_file("a.wav", SIZE, SIZE));
    snprintf(made, sizeof(made), "%s", pattern_file("m.lm", 1000, 1000));
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", base), FOLIO_OK);
    assert_int_equal(strlen(base), 64);
    assert_true(strspn(base, "0123456789abcdef") == 64);
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", again), FOLIO_OK);
    assert_string_equal(base, again);

    /* The middle of a long file is not read: a change there goes unseen. */
    pattern_file("a.wav", SIZE, SIZE / 2);
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", other), FOLIO_OK);
    assert_string_equal(other, base);
    /* Its head, its tail and its size are. */
    const size_t changed[] = {10, SIZE - 10};
    for (size_t i = 0; i < 2; i++) {
        pattern_file("a.wav", SIZE, changed[i]);
        assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", other), FOLIO_OK);
        assert_string_not_equal(other, base);
    }
    pattern_file("a.wav", SIZE + 1, SIZE + 1);
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", other), FOLIO_OK);
    assert_string_not_equal(other, base);
    pattern_file("a.wav", SIZE, SIZE);

    /* So are the files made from the inputs and the configuration. */
    pattern_file("m.lm", 1000, 3);
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", other), FOLIO_OK);
    assert_string_not_equal(other, base);
    pattern_file("m.lm", 1000, 1000);
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-30", other), FOLIO_OK);
    assert_string_not_equal(other, base);
    assert_int_equal(fingerprint_of(NULL, audio, made, "beam=1e-40", other), FOLIO_OK);
    assert_string_equal(other, base);

    /* A file that cannot be read is an I/O error, named in the message. */
    folio_t *ctx = fx_context();
    char missing[4200];
    snprintf(missing, sizeof(missing), "%s/none.wav", fx_dir());
    assert_int_equal(fingerprint_of(ctx, missing, made, "beam=1e-40", other), FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "none.wav"));
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(side_files_are_named_after_the_work_file),
        cmocka_unit_test(a_name_too_long_for_its_buffer_is_refused),
        cmocka_unit_test(a_chunk_and_the_audio_cache_are_found_again_after_reopening),
        cmocka_unit_test(a_changed_fingerprint_discards_the_earlier_work),
        cmocka_unit_test(removing_the_work_removes_every_side_file_and_nothing_else),
        cmocka_unit_test(the_fingerprint_covers_size_head_and_tail_of_each_file),
    };
    return cmocka_run_group_tests(tests, NULL, fx_teardown);
}
