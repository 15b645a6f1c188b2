/* Reading a finished index (folio.h section 5): opening files that are not one gives the right
 * code and a message naming the file; the accessors of an index written here with plain SQLite
 * (the schema of docs/index.md, not Folio's writer) return what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FOLI 0x466f6c69 /* "Foli", the application id docs/index.md gives */

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) fail_msg("%s: %s", sql, err);
}

/* The test folder's file @name, removed first. */
static const char *fresh(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof(path[0]), "%s/%s", fx_dir(), name);
    unlink(p);
    return p;
}

/*
 * An index of "Call me Ishmael.\n\nCafé noir." (28 code points, 29 bytes) in two audio files of
 * 60.5 s and 30.25 s: three pages ("iii" not read), two chapters, two sentences and five words
 * ("noir." not read). With @packed the words are also in the "words" lookup blob, as Folio writes
 * them, and the words table holds different values that must not be read.
 */
static const char *write_index(const char *name, int application_id, int version, bool packed)
{
    const char *path = fresh(name);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d;",
             application_id, version);
    exec(db, sql);
    exec(db, "CREATE TABLE book(key TEXT PRIMARY KEY, value TEXT);"
             "CREATE TABLE text(content TEXT);"
             "CREATE TABLE audio(idx INTEGER PRIMARY KEY, path TEXT, duration REAL, offset REAL);"
             "CREATE TABLE pages(ordinal INTEGER PRIMARY KEY, label TEXT, start_char INTEGER,"
             " start_time REAL, end_time REAL, file INTEGER, file_time REAL, confidence REAL);"
             "CREATE TABLE chapters(idx INTEGER PRIMARY KEY, title TEXT, level INTEGER,"
             " start_char INTEGER, start_time REAL, file INTEGER, file_time REAL);"
             "CREATE TABLE sentences(idx INTEGER PRIMARY KEY, start_char INTEGER, end_char INTEGER,"
             " start_time REAL, end_time REAL, file INTEGER, file_time REAL);"
             "CREATE TABLE words(idx INTEGER PRIMARY KEY, start_char INTEGER, end_char INTEGER,"
             " start_ms INTEGER, end_ms INTEGER, file INTEGER, confidence INTEGER);"
             "CREATE TABLE report(json TEXT);"
             "CREATE TABLE lookup(name TEXT PRIMARY KEY, data BLOB);"
             "INSERT INTO book VALUES ('title', 'Moby-Dick'), ('author', 'Herman Melville'),"
             " ('language', 'en');"
             "INSERT INTO text VALUES ('Call me Ishmael.' || char(10, 10) || 'Café noir.');"
             "INSERT INTO audio VALUES (0, 'one.mp3', 60.5, 0), (1, 'two.mp3', 30.25, 60.5);"
             "INSERT INTO pages VALUES (1, 'i', 0, 0.5, 1.9, 0, 0.5, 0.75),"
             " (2, 'ii', 18, 61.0, 62.0, 1, 0.5, 0.5), (3, 'iii', 25, NULL, NULL, NULL, NULL, 0);"
             "INSERT INTO chapters VALUES (0, 'Loomings', 1, 0, 0.5, 0, 0.5),"
             " (1, 'Café', 2, 18, NULL, NULL, NULL);"
             "INSERT INTO sentences VALUES (0, 0, 16, 0.5, 1.9, 0, 0.5), (1, 18, 28, 61.0, 62.0, "
             "1, 0.5);"
             "INSERT INTO report VALUES ('{\"words_total\": 5}');");
    static const int32_t words[5][6] = {{0, 4, 500, 900, 0, 900},
                                        {5, 7, 1000, 1200, 0, 800},
                                        {8, 16, 1300, 1900, 0, 700},
                                        {18, 22, 61000, 61400, 1, 650},
                                        {23, 28, -1, -1, -1, 0}};
    if (packed) {
        sqlite3_stmt *st;
        assert_int_equal(
            sqlite3_prepare_v2(db, "INSERT INTO lookup VALUES ('words', ?)", -1, &st, NULL),
            SQLITE_OK);
        sqlite3_bind_blob(st, 1, words, sizeof(words), SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
        exec(db, "INSERT INTO words VALUES (0, 99, 99, 99, 99, 0, 99)");
    } else {
        for (int i = 0; i < 5; i++) {
            snprintf(sql, sizeof(sql), "INSERT INTO words VALUES (%d, %d, %d, %d, %d, %d, %d)", i,
                     words[i][0], words[i][1], words[i][2], words[i][3], words[i][4], words[i][5]);
            exec(db, sql);
        }
    }
    sqlite3_close(db);
    return path;
}

/* Open @path expecting failure @code with a message that names the file and says @what. */
static void refused(const char *path, int code, const char *what)
{
    folio_t *ctx = folio_new();
    int err = 0;
    assert_null(folio_index_open(ctx, path, &err));
    assert_int_equal(err, code);
    const char *msg = folio_errmsg(ctx);
    if (!strstr(msg, path) || !strstr(msg, what))
        fail_msg("message \"%s\" should name %s and say \"%s\"", msg, path, what);
    /* The same without a context, and without err. */
    assert_null(folio_index_open(NULL, path, &err));
    assert_int_equal(err, code);
    assert_null(folio_index_open(NULL, path, NULL));
    folio_free(ctx);
}

static void a_missing_file_is_an_io_error_with_the_systems_reason(void **state)
{
    (void)state;
    const char *path = fresh("missing.folio");
    refused(path, FOLIO_EIO, strerror(ENOENT));
}

static void a_null_path_is_an_invalid_argument(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    int err = 0;
    assert_null(folio_index_open(ctx, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    assert_non_null(strstr(folio_errmsg(ctx), "folio_index_open: NULL path"));
    folio_free(ctx);
}

static void a_file_that_is_not_sqlite_is_not_an_index(void **state)
{
    (void)state;
    char junk[4096];
    memset(junk, 'x', sizeof(junk));
    refused(fx_file("junk.folio", junk, sizeof(junk)), FOLIO_EFORMAT, "not a Folio index");
    refused(fx_file("empty.folio", "", 0), FOLIO_EFORMAT, "not a Folio index");
}

static void an_sqlite_file_of_another_application_is_not_an_index(void **state)
{
    (void)state;
    const char *path = fresh("other.sqlite");
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1);");
    sqlite3_close(db);
    refused(path, FOLIO_EFORMAT, "not a Folio index");
    /* Folio's id and version, but none of its tables. */
    path = fresh("hollow.folio");
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, "PRAGMA application_id = 1181707369; PRAGMA user_version = 2; CREATE TABLE t(x);");
    sqlite3_close(db);
    refused(path, FOLIO_EFORMAT, "not a Folio index");
}

static void an_index_of_another_schema_version_says_to_index_again(void **state)
{
    (void)state;
    refused(write_index("v1.folio", FOLI, 1, false), FOLIO_EFORMAT, "schema version 1");
    refused(write_index("v3.folio", FOLI, 3, false), FOLIO_EFORMAT, "index the book again");
    /* The same file with version 2 opens: the version alone was refused. */
    folio_index_t *ix = folio_index_open(NULL, write_index("v2.folio", FOLI, 2, false), NULL);
    assert_non_null(ix);
    folio_index_free(ix);
}

static void close_enough(double got, double want)
{
    if (fabs(got - want) > 1e-6) fail_msg("%.9g, not %.9g", got, want);
}

/* A page, sentence or word @x is read in @file from global @start to @end, @file_time into the
 * file. */
#define READ_AT(x, start, end, in_file, at)                                                        \
    do {                                                                                           \
        close_enough((x)->start_time, start);                                                      \
        close_enough((x)->end_time, end);                                                          \
        assert_int_equal((x)->file, in_file);                                                      \
        close_enough((x)->file_time, at);                                                          \
    } while (0)

static void accessors_return_what_the_file_holds(bool packed)
{
    const char *path = write_index(packed ? "packed.folio" : "rows.folio", FOLI, 2, packed);
    folio_t *ctx = folio_new();
    int err = 12345;
    folio_index_t *ix = folio_index_open(ctx, path, &err);
    assert_non_null(ix);
    assert_int_equal(err, FOLIO_OK);
    /* Everything was read at open: the file can go. */
    assert_int_equal(unlink(path), 0);

    assert_string_equal(folio_index_meta(ix, "title"), "Moby-Dick");
    assert_string_equal(folio_index_meta(ix, "author"), "Herman Melville");
    assert_string_equal(folio_index_meta(ix, "identifier"), "");
    assert_null(folio_index_meta(ix, NULL));
    size_t n_bytes = 0;
    assert_string_equal(folio_index_text(ix, &n_bytes), "Call me Ishmael.\n\nCafé noir.");
    assert_int_equal(n_bytes, 29);
    assert_non_null(folio_index_text(ix, NULL));
    assert_int_equal(folio_index_text_length(ix), 28);
    assert_string_equal(folio_index_report(ix), "{\"words_total\": 5}");

    assert_int_equal(folio_index_n_files(ix), 2);
    const folio_index_file_t *f = folio_index_file(ix, 1);
    assert_string_equal(f->path, "two.mp3");
    close_enough(f->duration, 30.25);
    close_enough(f->offset, 60.5);
    assert_string_equal(folio_index_file(ix, 0)->path, "one.mp3");
    assert_null(folio_index_file(ix, 2));

    assert_int_equal(folio_index_n_pages(ix), 3);
    const folio_index_page_t *p = folio_index_page(ix, 1);
    assert_int_equal(p->ordinal, 2);
    assert_string_equal(p->label, "ii");
    assert_int_equal(p->start_char, 18);
    READ_AT(p, 61.0, 62.0, 1, 0.5);
    close_enough(p->confidence, 0.5);
    p = folio_index_page(ix, 2); /* not read */
    assert_string_equal(p->label, "iii");
    assert_true(p->start_time < 0);
    assert_true(p->end_time < 0);
    assert_int_equal(p->file, -1);
    assert_null(folio_index_page(ix, 3));

    assert_int_equal(folio_index_n_chapters(ix), 2);
    const folio_index_chapter_t *c = folio_index_chapter(ix, 0);
    assert_string_equal(c->title, "Loomings");
    assert_int_equal(c->level, 1);
    assert_int_equal(c->start_char, 0);
    close_enough(c->start_time, 0.5);
    assert_int_equal(c->file, 0);
    c = folio_index_chapter(ix, 1);
    assert_string_equal(c->title, "Café");
    assert_int_equal(c->level, 2);
    assert_true(c->start_time < 0);
    assert_int_equal(c->file, -1);
    assert_null(folio_index_chapter(ix, 2));

    assert_int_equal(folio_index_n_sentences(ix), 2);
    const folio_index_sentence_t *s = folio_index_sentence(ix, 1);
    assert_int_equal(s->start_char, 18);
    assert_int_equal(s->end_char, 28);
    READ_AT(s, 61.0, 62.0, 1, 0.5);
    assert_null(folio_index_sentence(ix, 2));

    /* Words: milliseconds and thousandths become seconds and fractions; file_time is the time
     * less the file's offset. */
    assert_int_equal(folio_index_n_words(ix), 5);
    const folio_index_word_t *w = folio_index_word(ix, 3);
    assert_int_equal(w->start_char, 18);
    assert_int_equal(w->end_char, 22);
    READ_AT(w, 61.0, 61.4, 1, 0.5);
    close_enough(w->confidence, 0.65);
    w = folio_index_word(ix, 0);
    READ_AT(w, 0.5, 0.9, 0, 0.5);
    close_enough(w->confidence, 0.9);
    w = folio_index_word(ix, 4); /* not read */
    assert_int_equal(w->start_char, 23);
    assert_true(w->start_time < 0);
    assert_int_equal(w->file, -1);
    assert_null(folio_index_word(ix, 5));

    assert_string_equal(folio_errmsg(ctx), "");
    folio_index_free(ix);
    folio_free(ctx);
}

static void accessors_return_the_rows_written(void **state)
{
    (void)state;
    accessors_return_what_the_file_holds(false);
}

static void accessors_return_the_packed_words_written(void **state)
{
    (void)state;
    accessors_return_what_the_file_holds(true);
}

static void accessors_of_no_index_are_empty(void **state)
{
    (void)state;
    folio_index_free(NULL);
    size_t n_bytes = 99;
    assert_null(folio_index_meta(NULL, "title"));
    assert_null(folio_index_text(NULL, &n_bytes));
    assert_int_equal(n_bytes, 0);
    assert_int_equal(folio_index_text_length(NULL), 0);
    assert_null(folio_index_report(NULL));
    assert_int_equal(folio_index_n_files(NULL), 0);
    assert_int_equal(folio_index_n_pages(NULL), 0);
    assert_int_equal(folio_index_n_chapters(NULL), 0);
    assert_int_equal(folio_index_n_sentences(NULL), 0);
    assert_int_equal(folio_index_n_words(NULL), 0);
    assert_null(folio_index_file(NULL, 0));
    assert_null(folio_index_page(NULL, 0));
    assert_null(folio_index_chapter(NULL, 0));
    assert_null(folio_index_sentence(NULL, 0));
    assert_null(folio_index_word(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_missing_file_is_an_io_error_with_the_systems_reason),
        cmocka_unit_test(a_null_path_is_an_invalid_argument),
        cmocka_unit_test(a_file_that_is_not_sqlite_is_not_an_index),
        cmocka_unit_test(an_sqlite_file_of_another_application_is_not_an_index),
        cmocka_unit_test(an_index_of_another_schema_version_says_to_index_again),
        cmocka_unit_test(accessors_return_the_rows_written),
        cmocka_unit_test(accessors_return_the_packed_words_written),
        cmocka_unit_test(accessors_of_no_index_are_empty),
    };
    return cmocka_run_group_tests_name("index", tests, NULL, fx_teardown);
}
