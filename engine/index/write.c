/* The finished index (schema in docs/index.md): its tables written into a file of its own beside
 * the work file, in one transaction, which is then compacted and renamed into place. */
#include "part.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

static const char index_schema[] =
    "CREATE TABLE book(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE text(content TEXT NOT NULL);"
    "CREATE TABLE audio(idx INTEGER PRIMARY KEY, path TEXT NOT NULL, duration REAL NOT NULL,"
    " offset REAL NOT NULL);"
    "CREATE TABLE pages(ordinal INTEGER PRIMARY KEY, label TEXT NOT NULL, start_char INTEGER NOT "
    "NULL,"
    " start_time REAL, end_time REAL, file INTEGER, file_time REAL, confidence REAL NOT NULL);"
    "CREATE INDEX pages_label ON pages(label);"
    "CREATE TABLE chapters(idx INTEGER PRIMARY KEY, title TEXT NOT NULL, level INTEGER NOT NULL,"
    " start_char INTEGER NOT NULL, start_time REAL, file INTEGER, file_time REAL);"
    "CREATE TABLE sentences(idx INTEGER PRIMARY KEY, start_char INTEGER NOT NULL,"
    " end_char INTEGER NOT NULL, start_time REAL, end_time REAL, file INTEGER, file_time REAL);"
    "CREATE TABLE words(idx INTEGER PRIMARY KEY, start_char INTEGER NOT NULL,"
    " end_char INTEGER NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
    " file INTEGER NOT NULL, confidence INTEGER NOT NULL);"
    "CREATE TABLE audio_marks(idx INTEGER PRIMARY KEY, file INTEGER NOT NULL,"
    " file_time REAL NOT NULL, title TEXT NOT NULL, file_start INTEGER NOT NULL, chapter INTEGER);"
    "CREATE TABLE report(json TEXT NOT NULL);"
    "CREATE TABLE lookup(name TEXT PRIMARY KEY, data BLOB NOT NULL);";

/* Bind an item's time columns from @col on: start, [end,] file, file_time; all NULL when the item
 * was not read. */
static void bind_when(sqlite3_stmt *st, int col, const folio_index_item_t *x, bool with_end)
{
    if (x->start < 0) {
        for (int k = 0; k < (with_end ? 4 : 3); k++) sqlite3_bind_null(st, col + k);
        return;
    }
    sqlite3_bind_double(st, col++, x->start);
    if (with_end) sqlite3_bind_double(st, col++, x->end);
    sqlite3_bind_int64(st, col++, (sqlite3_int64)x->file);
    sqlite3_bind_double(st, col, x->file_time);
}

/* Finalize the previous statement in *@st and prepare @sql there. */
static int prepare(folio_part_t *p, const char *sql, sqlite3_stmt **st)
{
    sqlite3_finalize(*st);
    *st = NULL;
    if (sqlite3_prepare_v2(p->db, sql, -1, st, NULL) != SQLITE_OK)
        return folio__part_sql_error(p, "cannot write the index");
    return FOLIO_OK;
}

static int step(folio_part_t *p, sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r == SQLITE_DONE ? FOLIO_OK : folio__part_sql_error(p, "cannot write the index");
}

static int write_tables(folio_part_t *p, const folio_index_data_t *d)
{
    int rc;
    sqlite3_stmt *st = NULL;
    int32_t *packed = NULL;
    TRY(folio__part_exec(p, "BEGIN"));
    TRY(folio__part_exec(p, index_schema));
    TRY(prepare(p, "INSERT INTO book VALUES(?,?)", &st));
    for (size_t i = 0; i < d->n_meta; i++) {
        sqlite3_bind_text(st, 1, d->meta[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, d->meta[i][1], -1, SQLITE_STATIC);
        TRY(step(p, st));
    }
    TRY(prepare(p, "INSERT INTO text VALUES(?)", &st));
    sqlite3_bind_text(st, 1, d->text, (int)d->text_bytes, SQLITE_STATIC);
    TRY(step(p, st));
    TRY(prepare(p, "INSERT INTO audio VALUES(?,?,?,?)", &st));
    for (size_t i = 0; i < d->n_files; i++) {
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        sqlite3_bind_text(st, 2, folio__basename(d->paths[i]), -1, SQLITE_STATIC);
        sqlite3_bind_double(st, 3, d->duration[i]);
        sqlite3_bind_double(st, 4, d->offset[i]);
        TRY(step(p, st));
    }
    TRY(prepare(p, "INSERT INTO pages VALUES(?,?,?,?,?,?,?,?)", &st));
    for (size_t i = 0; i < d->n_pages; i++) {
        const folio_index_item_t *x = &d->pages[i];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i + 1);
        sqlite3_bind_text(st, 2, x->label, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)x->start_char);
        bind_when(st, 4, x, true);
        sqlite3_bind_double(st, 8, x->confidence);
        TRY(step(p, st));
    }
    TRY(prepare(p, "INSERT INTO chapters VALUES(?,?,?,?,?,?,?)", &st));
    for (size_t i = 0; i < d->n_chapters; i++) {
        const folio_index_item_t *x = &d->chapters[i];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        sqlite3_bind_text(st, 2, x->label, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, x->level);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)x->start_char);
        bind_when(st, 5, x, false);
        TRY(step(p, st));
    }
    TRY(prepare(p, "INSERT INTO audio_marks VALUES(?,?,?,?,?,?)", &st));
    for (size_t i = 0; i < d->n_marks; i++) {
        const folio_index_audio_mark_t *m = &d->marks[i];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)m->file);
        sqlite3_bind_double(st, 3, m->file_time);
        sqlite3_bind_text(st, 4, m->title, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, m->file_start != 0);
        if (m->chapter >= 0) sqlite3_bind_int64(st, 6, (sqlite3_int64)m->chapter);
        TRY(step(p, st));
    }
    TRY(prepare(p, "INSERT INTO sentences VALUES(?,?,?,?,?,?,?)", &st));
    for (size_t i = 0; i < d->n_sentences; i++) {
        const folio_index_item_t *x = &d->sentences[i];
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)x->start_char);
        sqlite3_bind_int64(st, 3, (sqlite3_int64)x->end_char);
        bind_when(st, 4, x, true);
        TRY(step(p, st));
    }
    /* The words twice: as rows for SQL, and packed for the reader (one read at open). */
    packed = malloc((d->n_words ? d->n_words : 1) * WORD_FIELDS * sizeof(int32_t));
    if (!packed) FAIL(p->ctx, FOLIO_ENOMEM, "out of memory");
    TRY(prepare(p, "INSERT INTO words VALUES(?,?,?,?,?,?,?)", &st));
    for (size_t i = 0; i < d->n_words; i++) {
        const folio_index_item_t *x = &d->words[i];
        bool read = x->start >= 0;
        int32_t *w = &packed[i * WORD_FIELDS];
        w[0] = (int32_t)x->start_char;
        w[1] = (int32_t)x->end_char;
        w[2] = read ? (int32_t)(x->start * 1000 + 0.5) : -1;
        w[3] = read ? (int32_t)(x->end * 1000 + 0.5) : -1;
        w[4] = read ? (int32_t)x->file : -1;
        w[5] = (int32_t)(x->confidence * 1000 + 0.5);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)i);
        for (int k = 0; k < WORD_FIELDS; k++) sqlite3_bind_int64(st, 2 + k, w[k]);
        TRY(step(p, st));
    }
    TRY(prepare(p, "INSERT INTO report VALUES(?)", &st));
    sqlite3_bind_text(st, 1, d->report_json, -1, SQLITE_STATIC);
    TRY(step(p, st));
    TRY(prepare(p, "INSERT INTO lookup VALUES(?, ?)", &st));
    for (size_t i = 0; i < d->n_blobs; i++) {
        sqlite3_bind_text(st, 1, d->blobs[i].name, -1, SQLITE_STATIC);
        sqlite3_bind_blob64(st, 2, d->blobs[i].data, d->blobs[i].len, SQLITE_STATIC);
        TRY(step(p, st));
    }
    sqlite3_bind_text(st, 1, "words", -1, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 2, packed, d->n_words * WORD_FIELDS * sizeof(int32_t), SQLITE_STATIC);
    TRY(step(p, st));
    char pragma[64];
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", FOLIO_INDEX_SCHEMA);
    TRY(folio__part_exec(p, pragma));
    snprintf(pragma, sizeof(pragma), "PRAGMA application_id=%d", FOLIO_INDEX_APPLICATION_ID);
    TRY(folio__part_exec(p, pragma));
    TRY(folio__part_exec(p, "COMMIT"));
fail:
    free(packed);
    if (st) sqlite3_finalize(st);
    return rc;
}

int folio__index_write(folio_t *ctx, const char *tmp_path, const folio_index_data_t *d,
                       const char *final_path)
{
    int rc = FOLIO_OK;
    folio_part_t p = {.ctx = ctx, .path = (char *)tmp_path};
    /* A file a killed run left is only a half-written index: start it again. No journal: a
     * failed or killed write is removed, never rolled back. */
    if (unlink(tmp_path) != 0 && errno != ENOENT)
        FAIL(ctx, FOLIO_EIO, "%s: cannot remove: %s", tmp_path, strerror(errno));
    if (sqlite3_open_v2(tmp_path, &p.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        FAIL(ctx, FOLIO_EIO, "%s: cannot create the index: %s", tmp_path,
             p.db ? sqlite3_errmsg(p.db) : "out of memory");
    TRY(folio__part_exec(&p, "PRAGMA journal_mode=OFF"));
    TRY(write_tables(&p, d));
    TRY(folio__part_exec(&p, "VACUUM"));
    if (sqlite3_close(p.db) != SQLITE_OK)
        FAIL(ctx, FOLIO_EIO, "%s: cannot close: %s", tmp_path, sqlite3_errmsg(p.db));
    p.db = NULL;
    TRY(folio__replaceable(ctx, final_path));
    if (rename(tmp_path, final_path) != 0)
        FAIL(ctx, FOLIO_EIO, "%s: cannot rename to %s: %s", tmp_path, final_path, strerror(errno));
fail:
    if (rc < 0) {
        sqlite3_close(p.db);
        unlink(tmp_path);
    }
    return rc;
}
