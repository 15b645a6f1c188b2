/* The checks an index file passes as it is opened: SQLite set to read it defensively, its schema,
 * SQLite's quick check, and every value read (types, NULLs, ranges, offsets inside the text, files
 * inside the audio table, lookup tables), each failure a message naming the file and what. */
#include "read_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Reader apps open index files they downloaded, so nothing in one may crash, hang or mislead a
 * reader: SQLite reads it defensively (no views, triggers or schema functions; bounded lengths
 * and work), the schema must be Folio's tables, the file must pass SQLite's quick check, and
 * every value loaded is checked (types, NULLs, finite times, offsets inside the text, files
 * inside the audio table, blob sizes) so that lookups can trust what they find. */

/* SQLite's work to open an index is bounded by its size: the progress handler is called every
 * PROGRESS_OPS virtual machine instructions, and an open may take this many calls per
 * kilobyte of the file (plus a floor). Opening the demo's index takes 0.12 calls per kilobyte (0.2
 * with its words read as rows), SQLite's quick check of a 21 MB file 0.14. */
#define PROGRESS_OPS 1000
#define PROGRESS_PER_KB 8
#define PROGRESS_FLOOR 2000
/* The gram table as docs/index.md describes it (engine/lookup builds it): grams of this many
 * symbols, each with its position in the stream in the low bits. */
#define FOLIO_GRAM_SYMBOLS 6
#define FOLIO_GRAM_POSITION_BITS 28
/* The longest string or blob: the gram table of a book of 64 million letters. */
#define MAX_VALUE_BYTES (1 << 29)

static int out_of_work(void *ud)
{
    opening_t *o = ud;
    if (!o->budget) return 1;
    o->budget--;
    return 0;
}

/* FOLIO_EFORMAT, "<path>: a damaged Folio index: <what>". */
int folio__index_damaged(const opening_t *o, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    return folio__error(o->ctx, FOLIO_EFORMAT, "%s: a damaged Folio index: %s", o->path, what);
}

/* Why SQLite's last call failed, as a result code and a message naming the file. */
int folio__index_sql_failed(const opening_t *o)
{
    int ec = sqlite3_errcode(o->db);
    if (ec == SQLITE_NOMEM)
        return folio__error(o->ctx, FOLIO_ENOMEM, "%s: out of memory reading the index", o->path);
    if (ec == SQLITE_INTERRUPT)
        return folio__index_damaged(
            o, "reading it takes more work than an index of its size can need");
    return folio__index_damaged(o, "%s", sqlite3_errmsg(o->db));
}

/* Make SQLite read the database a stranger made defensively: no writing the schema, no functions
 * or virtual tables from it, no views or triggers, small limits on what a statement may be, and
 * a bound on the work, from the file's size. */
void folio__index_defend(opening_t *o, uint64_t file_bytes)
{
    sqlite3 *db = o->db;
    sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
#ifdef SQLITE_DBCONFIG_ENABLE_VIEW
    sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
#endif
    sqlite3_limit(db, SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES);
    sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 16384);
    sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 64);
    sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 4);
    sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 8);
    sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, 0);
    sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 64);
    sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 16);
    sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
    o->budget = PROGRESS_FLOOR + file_bytes / 1024 * PROGRESS_PER_KB;
    sqlite3_progress_handler(db, PROGRESS_OPS, out_of_work, o);
}

/* The tables an index has; each must be a table (not a view), made by CREATE TABLE. */
/* The tables an index has; each must be a table (not a view), made by CREATE TABLE. The last
 * came with schema 3. */
static const char *const tables[] = {"book",      "text",  "audio",  "pages",  "chapters",
                                     "sentences", "words", "report", "lookup", "audio_marks"};
#define N_TABLES (sizeof(tables) / sizeof(tables[0]))

int folio__index_check_schema(const opening_t *o, int version)
{
    int rc = FOLIO_OK;
    sqlite3_stmt *st = NULL;
    bool found[N_TABLES] = {false};
    if (sqlite3_prepare_v2(o->db, "SELECT type, name, sql FROM sqlite_schema", -1, &st, NULL) !=
        SQLITE_OK)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (%s)", o->path, sqlite3_errmsg(o->db));
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        if (!type || !name) REFUSE("its schema has a row without a name");
        if (strcmp(type, "table") != 0 && strcmp(type, "index") != 0)
            REFUSE("it has a %.20s, \"%.100s\" (Folio's have only tables)", type, name);
        for (size_t i = 0; i < N_TABLES; i++)
            if (strcmp(name, tables[i]) == 0) {
                if (strcmp(type, "table") != 0 || !sql || strncmp(sql, "CREATE TABLE", 12) != 0)
                    REFUSE("\"%s\" is not a plain table", name);
                found[i] = true;
            }
    }
    if (r != SQLITE_DONE) SQL_FAILED();
    for (size_t i = 0; i < N_TABLES - (version < 3); i++)
        if (!found[i])
            FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (it has no table \"%s\")", o->path,
                 tables[i]);
fail:
    sqlite3_finalize(st);
    return rc;
}

/* ---- values ---- */

void folio__index_bad(row_t *r, int col, const char *fmt, ...)
{
    if (r->rc) return;
    char what[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    r->rc = folio__index_damaged(r->o, "%s row %zu: %s %s", r->table, r->row + 1,
                                 sqlite3_column_name(r->st, col), what);
}

bool folio__index_is_null(row_t *r, int col)
{
    return sqlite3_column_type(r->st, col) == SQLITE_NULL;
}

/* Column @col as text of *@len bytes, valid UTF-8; "" after a problem. */
const char *folio__index_get_text(row_t *r, int col, size_t *len)
{
    *len = 0;
    int type = sqlite3_column_type(r->st, col);
    if (type != SQLITE_TEXT) {
        folio__index_bad(r, col, "is %s, not text",
                         type == SQLITE_NULL ? "NULL" : "a number or a blob");
        return "";
    }
    const char *s = (const char *)sqlite3_column_text(r->st, col);
    size_t n = (size_t)sqlite3_column_bytes(r->st, col);
    if (!s) {
        if (!r->rc) r->rc = folio__index_sql_failed(r->o);
        return "";
    }
    size_t at;
    if (!folio__utf8_valid(s, n, &at)) {
        folio__index_bad(r, col, "is not valid UTF-8 (at byte %zu)", at);
        return "";
    }
    *len = n;
    return s;
}

/* Column @col as an integer from @lo to @hi; @lo after a problem. */
int64_t folio__index_get_int(row_t *r, int col, int64_t lo, int64_t hi)
{
    if (sqlite3_column_type(r->st, col) != SQLITE_INTEGER) {
        folio__index_bad(r, col, "is %s, not an integer",
                         folio__index_is_null(r, col) ? "NULL" : "not an integer");
        return lo;
    }
    int64_t v = sqlite3_column_int64(r->st, col);
    if (v < lo || v > hi) {
        folio__index_bad(r, col, "is %lld, outside %lld to %lld", (long long)v, (long long)lo,
                         (long long)hi);
        return lo;
    }
    return v;
}

/* Column @col as a finite number, at least @lo; @lo after a problem. */
double folio__index_get_real(row_t *r, int col, double lo)
{
    int type = sqlite3_column_type(r->st, col);
    if (type != SQLITE_FLOAT && type != SQLITE_INTEGER) {
        folio__index_bad(r, col, "is %s, not a number",
                         type == SQLITE_NULL ? "NULL" : "text or a blob");
        return lo;
    }
    double v = sqlite3_column_double(r->st, col);
    if (!isfinite(v) || v < lo) {
        folio__index_bad(r, col, "is %g, not a finite number from %g on", v, lo);
        return lo;
    }
    return v;
}

/* When a page, chapter or sentence is read, from column @col on: start_time, [end_time,] file,
 * file_time. All NULL: not read (times -1, file -1); all set: a time from 0 on, in a file of the
 * audio table. */
void folio__index_get_when(row_t *r, int col, bool with_end, size_t n_files, double *start,
                           double *end, long *file, double *file_time)
{
    int n = with_end ? 4 : 3, nulls = 0;
    for (int k = 0; k < n; k++) nulls += folio__index_is_null(r, col + k);
    *start = *file_time = -1;
    if (end) *end = -1;
    *file = -1;
    if (nulls == n) return;
    if (nulls) {
        folio__index_bad(r, col, "and the time columns after it are neither all NULL nor all set");
        return;
    }
    *start = folio__index_get_real(r, col++, 0);
    if (with_end) *end = folio__index_get_real(r, col++, 0);
    if (!n_files)
        folio__index_bad(r, col, "names an audio file, and the audio table is empty");
    else
        *file = (long)folio__index_get_int(r, col, 0, (int64_t)n_files - 1);
    *file_time = folio__index_get_real(r, col + 1, -HUGE_VAL);
}

/* A word from its stored fields (times in milliseconds, confidence in thousandths), checked:
 * inside the text, and either not read (-1 times and file) or read in a file of the index. */
int folio__index_set_word(const opening_t *o, folio_index_t *ix, size_t i,
                          const int64_t f[WORD_FIELDS])
{
    int64_t start_char = f[0], end_char = f[1], start_ms = f[2], end_ms = f[3], file = f[4];
    folio_index_word_t *w = &ix->words[i];
    if (start_char < 0 || end_char < start_char || (uint64_t)end_char > ix->text_length)
        return folio__index_damaged(
            o, "word %zu is at code points %lld to %lld, outside the text (%zu)", i,
            (long long)start_char, (long long)end_char, ix->text_length);
    w->start_char = (size_t)start_char;
    w->end_char = (size_t)end_char;
    w->confidence = (float)f[5] / 1000;
    if (start_ms == -1 && end_ms == -1 && file == -1) {
        w->start_time = w->end_time = w->file_time = -1;
        w->file = -1;
        return FOLIO_OK;
    }
    if (start_ms < 0 || end_ms < 0 || file < 0 || (uint64_t)file >= ix->n_files)
        return folio__index_damaged(
            o,
            "word %zu is read from %lld ms to %lld ms in audio file %lld, and the "
            "audio table has %zu files",
            i, (long long)start_ms, (long long)end_ms, (long long)file, ix->n_files);
    w->file = (long)file;
    w->start_time = (double)start_ms / 1000;
    w->end_time = (double)end_ms / 1000;
    w->file_time = w->start_time - ix->files[w->file].offset;
    if (w->file_time < 0) w->file_time = 0;
    return FOLIO_OK;
}

/* The lookup tables (engine/lookup/lookup.h says what each holds), checked against the text and
 * the words, so that no lookup can index past them. A table that is missing is no lookup of its
 * kind. */
int folio__index_check_blobs(const opening_t *o, const folio_index_t *ix)
{
    size_t n_stream, n_cp, n_grams, n_line;
    const uint8_t *stream = folio__index_blob(ix, "stream", &n_stream);
    const uint32_t *cp = folio__index_blob(ix, "cp", &n_cp);
    const uint64_t *grams = folio__index_blob(ix, "grams", &n_grams);
    const uint32_t *line = folio__index_blob(ix, "timeline", &n_line);
    if (n_cp % 4 || n_grams % 8 || n_line % 4)
        return folio__index_damaged(o, "a lookup table's size is not a whole number of entries");
    n_cp /= 4, n_grams /= 8, n_line /= 4;
    if ((stream || cp) && n_cp != n_stream)
        return folio__index_damaged(
            o, "the lookup tables \"stream\" and \"cp\" differ in length (%zu, %zu)", n_stream,
            n_cp);
    for (size_t i = 0; i < n_cp; i++)
        if (cp[i] >= ix->text_length)
            return folio__index_damaged(o, "lookup table \"cp\" entry %zu is past the text", i);
    if (grams) {
        size_t want = n_stream >= FOLIO_GRAM_SYMBOLS ? n_stream - FOLIO_GRAM_SYMBOLS + 1 : 0;
        if (n_grams != want)
            return folio__index_damaged(o, "lookup table \"grams\" has %zu entries for %zu symbols",
                                        n_grams, n_stream);
        for (size_t i = 0; i < n_grams; i++)
            if ((grams[i] & (((uint64_t)1 << FOLIO_GRAM_POSITION_BITS) - 1)) >= n_stream)
                return folio__index_damaged(o, "lookup table \"grams\" entry %zu is past the text",
                                            i);
    }
    if (n_line > ix->n_words)
        return folio__index_damaged(o, "lookup table \"timeline\" has %zu entries for %zu words",
                                    n_line, ix->n_words);
    for (size_t i = 0; i < n_line; i++)
        if (line[i] >= ix->n_words || ix->words[line[i]].start_time < 0)
            return folio__index_damaged(o, "lookup table \"timeline\" entry %zu is not a read word",
                                        i);
    return FOLIO_OK;
}

/* SQLite's own check of the file's structure (pages, cells, overflow chains; not the contents
 * of the indexes), so that ordinary damage is found before the values are read. */
int folio__index_quick_check(const opening_t *o)
{
    int rc = FOLIO_OK;
    sqlite3_stmt *st = NULL;
    PREPARE("PRAGMA quick_check(1)");
    if (sqlite3_step(st) != SQLITE_ROW) SQL_FAILED();
    const char *verdict = (const char *)sqlite3_column_text(st, 0);
    if (!verdict || strcmp(verdict, "ok") != 0) REFUSE("%.200s", verdict ? verdict : "?");
fail:
    sqlite3_finalize(st);
    return rc;
}
