/* Reading a finished index (folio.h section 5): opening files that are not one gives the right
 * code and a message naming the file; the accessors of an index written here with plain SQLite
 * (the schema of docs/index.md, not Folio's writer) return what was written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"
#include "fx_index.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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
    refused(write_index("v4.folio", FOLI, 4, false), FOLIO_EFORMAT, "index the book again");
    /* Version 3 has the audio_marks table; without it the file is not an index of version 3. */
    refused(write_index("v3.folio", FOLI, 3, false), FOLIO_EFORMAT, "no table \"audio_marks\"");
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

/* ---- an index file is untrusted input ---- */

/* A hostile index: the good one of write_index (words as rows, or packed), then @sql run on it;
 * opening it must fail with FOLIO_EFORMAT and a message saying @what. */
typedef struct {
    const char *name;
    bool packed;
    const char *sql;
    const char *what;
} hostile_t;

static const char *hostile(const hostile_t *h)
{
    const char *path = write_index(h->name, FOLI, 2, h->packed);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    exec(db, h->sql);
    sqlite3_close(db);
    return path;
}

static const hostile_t hostile_cases[] = {
    /* A view or a trigger, refused without being run (selecting from this view never ends). */
    {"view.folio", false,
     "DROP TABLE pages; CREATE VIEW pages(ordinal, label, start_char, start_time, end_time,"
     " file, file_time, confidence) AS WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL"
     " SELECT x + 1 FROM n) SELECT x, 'p', 0, NULL, NULL, NULL, NULL, 0 FROM n;",
     "view"},
    {"trigger.folio", false, "CREATE TRIGGER t AFTER INSERT ON book BEGIN DELETE FROM text; END;",
     "trigger"},
    /* Read in an audio file the index does not have (files 0 and 1; none). */
    {"nofile.folio", false, "UPDATE pages SET file = 2 WHERE ordinal = 2;",
     "pages row 2: file is 2"},
    /* Word 1's file is bytes 40 to 43 of the packed words. */
    {"nofile-word.folio", true,
     "UPDATE lookup SET data = CAST(substr(data, 1, 40) || X'05000000' || substr(data, 45)"
     " AS BLOB) WHERE name = 'words';",
     "word 1 is read"},
    {"noaudio.folio", false, "DELETE FROM audio;", "the audio table is empty"},
    /* A timeline past the words: five words, 0 to 4, four of them read (0 to 3); entries are
     * uint32, little-endian. */
    {"line-past.folio", true, "INSERT INTO lookup VALUES ('timeline', X'0000000005000000');",
     "\"timeline\" entry 1"},
    {"line-unread.folio", true, "INSERT INTO lookup VALUES ('timeline', X'04000000');",
     "\"timeline\" entry 0 is not a read word"},
    {"line-long.folio", true, "INSERT INTO lookup VALUES ('timeline', zeroblob(6 * 4));",
     "\"timeline\" has 6 entries for 5 words"},
    {"line-ragged.folio", true, "INSERT INTO lookup VALUES ('timeline', X'000000');",
     "not a whole number of entries"},
    /* Offsets past the text, which has 28 code points. */
    {"page-past.folio", false, "UPDATE pages SET start_char = 29 WHERE ordinal = 3;",
     "pages row 3: start_char is 29"},
    {"sentence-past.folio", false, "UPDATE sentences SET end_char = 40 WHERE idx = 1;",
     "sentences row 2: end_char is 40"},
    {"word-past.folio", false, "UPDATE words SET end_char = 30 WHERE idx = 4;",
     "word 4 is at code points 23 to 30"},
    {"cp-past.folio", false, "INSERT INTO lookup VALUES ('stream', X'01'), ('cp', X'1c000000');",
     "\"cp\" entry 0 is past the text"},
    {"grams-short.folio", false,
     "INSERT INTO lookup VALUES ('stream', zeroblob(7)), ('cp', zeroblob(28)),"
     " ('grams', zeroblob(8));",
     "\"grams\" has 1 entries for 7 symbols"},
    /* Infinite times. */
    {"inf-page.folio", false, "UPDATE pages SET start_time = 1e999 WHERE ordinal = 1;",
     "pages row 1: start_time is inf"},
    {"inf-audio.folio", false, "UPDATE audio SET offset = -1e999 WHERE idx = 1;",
     "audio row 2: offset is -inf"},
    {"inf-chapter.folio", false, "UPDATE chapters SET file_time = 1e999 WHERE idx = 0;",
     "chapters row 1: file_time is inf"},
    /* NULL where a value must be, or times half NULL. */
    {"null-text.folio", false, "UPDATE text SET content = NULL;", "text row 1: content is NULL"},
    {"null-report.folio", false, "UPDATE report SET json = NULL;", "report row 1: json is NULL"},
    {"null-book.folio", false, "UPDATE book SET value = NULL WHERE key = 'author';",
     "book row 1: value is NULL"},
    {"null-label.folio", false, "UPDATE pages SET label = NULL WHERE ordinal = 2;",
     "pages row 2: label is NULL"},
    {"half-read.folio", false, "UPDATE pages SET file = NULL WHERE ordinal = 1;",
     "neither all NULL nor all set"},
    /* Values an export cannot carry: a path for a file name, JSON that is not, bad UTF-8. */
    {"path.folio", false, "UPDATE audio SET path = '../../x.mp3' WHERE idx = 0;",
     "\"../../x.mp3\" is not a file name"},
    {"dotdot.folio", false, "UPDATE audio SET path = '..' WHERE idx = 1;", "is not a file name"},
    {"report.folio", false, "UPDATE report SET json = '{\"a\": [1';",
     "report row 1: json is not a JSON object"},
    {"utf8.folio", false, "UPDATE pages SET label = CAST(X'69ff' AS TEXT);", "is not valid UTF-8"},
};

/* Every index of hostile_cases is refused, saying what is wrong. */
static void hostile_indexes_are_refused_saying_what_is_wrong(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(hostile_cases) / sizeof(hostile_cases[0]); i++)
        refused(hostile(&hostile_cases[i]), FOLIO_EFORMAT, hostile_cases[i].what);
}

static void a_timeline_of_read_words_in_time_order_opens(void **state)
{
    (void)state;
    /* The same table as a hostile case's, well made: the entries alone were refused there. */
    static const hostile_t ok = {
        "line-ok.folio", true,
        "INSERT INTO lookup VALUES ('timeline', X'00000000010000000200000003000000');", ""};
    folio_index_t *ix = folio_index_open(NULL, hostile(&ok), NULL);
    assert_non_null(ix);
    folio_index_free(ix);
}

/* The 4096-byte page @page (1-based) of @path, overwritten with zeros. */
static void zero_page(const char *path, long page)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    static const char zeros[4096];
    assert_int_equal(fseek(f, (page - 1) * 4096, SEEK_SET), 0);
    assert_int_equal(fwrite(zeros, 1, sizeof(zeros), f), sizeof(zeros));
    assert_int_equal(fclose(f), 0);
}

static void a_zeroed_page_is_refused_as_damage(void **state)
{
    (void)state;
    /* The page of the index of labels, which opening does not otherwise read. */
    char path[600];
    snprintf(path, sizeof(path), "%s", fx_small_index("zeroed.folio", true));
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT rootpage, (SELECT page_size FROM pragma_page_size),"
                                        " (SELECT page_count FROM pragma_page_count)"
                                        " FROM sqlite_schema WHERE name = 'pages_label'",
                                        -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long root = sqlite3_column_int(st, 0), n_pages = sqlite3_column_int(st, 2);
    assert_int_equal(sqlite3_column_int(st, 1), 4096);
    sqlite3_finalize(st);
    sqlite3_close(db);
    zero_page(path, root);
    refused(path, FOLIO_EFORMAT, "a damaged Folio index");
    /* Any page zeroed: refused as not an index or as damaged, or (a page of data that no check
     * can tell from other data) opened; never a crash. */
    for (long k = 1; k <= n_pages; k++) {
        snprintf(path, sizeof(path), "%s", fx_small_index("zeroed.folio", true));
        zero_page(path, k);
        int err = 0;
        folio_t *ctx = folio_new();
        folio_index_t *ix = folio_index_open(ctx, path, &err);
        if (!ix && err != FOLIO_EFORMAT)
            fail_msg("page %ld zeroed: %d, %s", k, err, folio_errmsg(ctx));
        folio_index_free(ix);
        folio_free(ctx);
    }
}

static void a_fifo_is_refused_without_blocking(void **state)
{
    (void)state;
    const char *path = fresh("fifo.folio");
    assert_int_equal(mkfifo(path, 0600), 0);
    refused(path, FOLIO_EIO, "a FIFO, not a Folio index");
    refused(fx_dir(), FOLIO_EIO, "is a directory, not a Folio index");
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
        cmocka_unit_test(hostile_indexes_are_refused_saying_what_is_wrong),
        cmocka_unit_test(a_timeline_of_read_words_in_time_order_opens),
        cmocka_unit_test(a_zeroed_page_is_refused_as_damage),
        cmocka_unit_test(a_fifo_is_refused_without_blocking),
    };
    return cmocka_run_group_tests_name("index", tests, NULL, fx_teardown);
}
