/* What the index reader's two files share, private to engine/index: the loaded index, one open in
 * progress and the row being read, and the checks of check.c that read.c applies as it loads an
 * index file (untrusted input). Only for engine/index (it includes SQLite). */
#ifndef FOLIO_INDEX_READ_INT_H
#define FOLIO_INDEX_READ_INT_H

#include "index.h"

#include <sqlite3.h>

struct folio_index {
    VEC(char *) keys;
    VEC(char *) values;
    char *text;
    size_t text_bytes, text_length;
    char *report;
    folio_index_file_t *files;
    size_t n_files;
    folio_index_page_t *pages;
    size_t n_pages;
    folio_index_chapter_t *chapters;
    size_t n_chapters;
    folio_index_sentence_t *sentences;
    size_t n_sentences;
    folio_index_word_t *words;
    size_t n_words;
    folio_index_audio_mark_t *marks;
    size_t n_marks;
    folio_str_t pool; /* labels, titles and paths, NUL-separated */
    size_t *label_off, *title_off, *path_off, *mark_off;
    VEC(char *) blob_names;
    VEC(uint64_t *) blobs; /* 8-byte aligned copies */
    VEC(size_t) blob_lens;
};

/* One open in progress: where its messages go, the file they name, and the work left. */
typedef struct {
    folio_t *ctx;
    const char *path;
    sqlite3 *db;
    uint64_t budget; /* progress handler calls left */
} opening_t;

/* The row being read: its table and number for messages, and the first problem found in it
 * (later problems are not reported: the first one refuses the file). */
typedef struct {
    const opening_t *o;
    sqlite3_stmt *st;
    const char *table;
    size_t row;
    int rc;
} row_t;

#define REFUSE(...)                                                                                \
    do {                                                                                           \
        rc = folio__index_damaged(o, __VA_ARGS__);                                                 \
        goto fail;                                                                                 \
    } while (0)
#define SQL_FAILED()                                                                               \
    do {                                                                                           \
        rc = folio__index_sql_failed(o);                                                           \
        goto fail;                                                                                 \
    } while (0)
#define PREPARE(sql)                                                                               \
    do {                                                                                           \
        if (st) sqlite3_finalize(st);                                                              \
        st = NULL;                                                                                 \
        if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK) SQL_FAILED();              \
    } while (0)

/* FOLIO_EFORMAT, "<path>: a damaged Folio index: <what>". */
int folio__index_damaged(const opening_t *o, const char *fmt, ...) FOLIO_PRINTF(2, 3);
/* Why SQLite's last call failed, as a result code and a message naming the file. */
int folio__index_sql_failed(const opening_t *o);
/* Make SQLite read @o->db defensively, with a bound on the work from the file's size. */
void folio__index_defend(opening_t *o, uint64_t file_bytes);
/* The schema is Folio's tables (plain tables, nothing else but indexes). */
int folio__index_check_schema(const opening_t *o, int version);
/* SQLite's quick check of the file's structure. */
int folio__index_quick_check(const opening_t *o);

/* Record the first problem of row @r (column @col, then @fmt). */
void folio__index_bad(row_t *r, int col, const char *fmt, ...) FOLIO_PRINTF(3, 4);
/* Column @col as valid UTF-8 text of *@len bytes; "" after a problem. */
const char *folio__index_get_text(row_t *r, int col, size_t *len);
/* Column @col as an integer from @lo to @hi; @lo after a problem. */
int64_t folio__index_get_int(row_t *r, int col, int64_t lo, int64_t hi);
/* Column @col as a finite number, at least @lo; @lo after a problem. */
double folio__index_get_real(row_t *r, int col, double lo);
/* Whether column @col of the row is NULL. */
bool folio__index_is_null(row_t *r, int col);
/* When a page, chapter or sentence is read, from column @col on (all NULL: not read). */
void folio__index_get_when(row_t *r, int col, bool with_end, size_t n_files, double *start,
                           double *end, long *file, double *file_time);
/* Word @i of @ix from its stored fields, checked against the text and the audio table. */
int folio__index_set_word(const opening_t *o, folio_index_t *ix, size_t i,
                          const int64_t f[WORD_FIELDS]);
/* The lookup tables, checked against the text and the words. */
int folio__index_check_blobs(const opening_t *o, const folio_index_t *ix);

#endif
