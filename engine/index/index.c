/* The work file <out>.part: an SQLite database holding what a run has finished, so that a killed
 * run resumes where it stopped and a changed input starts afresh. */
#include "index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

struct folio_part {
    folio_t *ctx;
    char *path;
    sqlite3 *db;
};

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE files(file INTEGER PRIMARY KEY, path TEXT NOT NULL, n_samples INTEGER NOT NULL);"
    "CREATE TABLE chunks(file INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    " keep_from INTEGER NOT NULL, keep_to INTEGER NOT NULL, speech INTEGER NOT NULL,"
    " words TEXT, PRIMARY KEY(file, start));";

static int sql_error(folio_part_t *p, const char *what)
{
    return folio__error(p->ctx, FOLIO_EIO, "%s: %s: %s", p->path, what, sqlite3_errmsg(p->db));
}

static int exec(folio_part_t *p, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(p->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = folio__error(p->ctx, FOLIO_EIO, "%s: %s", p->path, msg ? msg : "SQLite error");
        sqlite3_free(msg);
        return rc;
    }
    return FOLIO_OK;
}

static char *meta(folio_part_t *p, const char *key)
{
    sqlite3_stmt *st;
    char *v = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT value FROM meta WHERE key=?", -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) v = folio__strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int set_meta(folio_part_t *p, const char *key, const char *value)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db, "INSERT OR REPLACE INTO meta VALUES(?,?)", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_error(p, "cannot write");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? FOLIO_OK : sql_error(p, "cannot write");
}

static int create(folio_part_t *p, const char *fingerprint)
{
    int rc;
    char v[16];
    snprintf(v, sizeof(v), "%d", FOLIO_PART_SCHEMA);
    if ((rc = exec(p, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN")) < 0 ||
        (rc = exec(p, schema)) < 0 || (rc = set_meta(p, "schema", v)) < 0 ||
        (rc = set_meta(p, "fingerprint", fingerprint)) < 0 || (rc = exec(p, "COMMIT")) < 0)
        return rc;
    return FOLIO_OK;
}

static void remove_files(const char *path)
{
    char side[4200];
    unlink(path);
    snprintf(side, sizeof(side), "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", path);
    unlink(side);
}

folio_part_t *folio__part_open(folio_t *ctx, const char *path, const char *fingerprint,
                               bool restart, bool *resumed, int *err)
{
    int rc = FOLIO_OK;
    folio_part_t *p = calloc(1, sizeof(*p));
    *resumed = false;
    if (!p || !(p->path = folio__strdup(path))) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    p->ctx = ctx;
    if (restart) remove_files(path);
    bool exists = access(path, F_OK) == 0;
    if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK)
        FAIL(ctx, FOLIO_EIO, "%s: cannot open the work file: %s", path,
             p->db ? sqlite3_errmsg(p->db) : "out of memory");
    sqlite3_busy_timeout(p->db, 5000);
    if (exists) {
        char *fp = meta(p, "fingerprint"), *schema_v = meta(p, "schema");
        char want[16];
        snprintf(want, sizeof(want), "%d", FOLIO_PART_SCHEMA);
        bool same = fp && schema_v && strcmp(fp, fingerprint) == 0 && strcmp(schema_v, want) == 0;
        free(fp);
        free(schema_v);
        if (same) {
            *resumed = true;
            TRY(exec(p, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"));
            goto done;
        }
        /* Something changed (or it is not ours): start afresh. */
        folio__info(ctx, "%s: the inputs changed since it was written; starting afresh", path);
        sqlite3_close(p->db);
        p->db = NULL;
        remove_files(path);
        if (sqlite3_open_v2(path, &p->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK)
            FAIL(ctx, FOLIO_EIO, "%s: cannot create the work file", path);
    }
    TRY(create(p, fingerprint));
done:
    if (err) *err = FOLIO_OK;
    return p;
fail:
    folio__part_close(p);
    if (err) *err = rc;
    return NULL;
}

void folio__part_close(folio_part_t *p)
{
    if (!p) return;
    if (p->db) sqlite3_close(p->db);
    free(p->path);
    free(p);
}

void folio__part_discard(folio_part_t *p)
{
    if (!p) return;
    char *path = p->path;
    p->path = NULL;
    folio__part_close(p);
    if (path) remove_files(path);
    free(path);
}

int folio__part_add_chunk(folio_part_t *p, const folio_part_chunk_t *c, bool *done)
{
    sqlite3_stmt *st;
    *done = false;
    if (sqlite3_prepare_v2(p->db,
                           "INSERT OR IGNORE INTO chunks(file,start,end,keep_from,keep_to,speech) "
                           "VALUES(?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_error(p, "cannot record a chunk");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->file);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->start);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->end);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->keep_from);
    sqlite3_bind_int64(st, 5, c->keep_to == UINT64_MAX ? -1 : (sqlite3_int64)c->keep_to);
    sqlite3_bind_int(st, 6, c->speech);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) return sql_error(p, "cannot record a chunk");
    if (sqlite3_changes(p->db) == 0) {
        /* Already there from an earlier run: is it finished? */
        char *tsv = NULL;
        int rc = folio__part_chunk_result(p, c->file, c->start, &tsv);
        *done = rc >= 0 && tsv != NULL;
        free(tsv);
        return rc < 0 ? rc : FOLIO_OK;
    }
    return FOLIO_OK;
}

int folio__part_file_samples(folio_part_t *p, size_t file, uint64_t *n_samples, bool *cached)
{
    sqlite3_stmt *st;
    *cached = false;
    *n_samples = 0;
    if (sqlite3_prepare_v2(p->db, "SELECT n_samples FROM files WHERE file=?", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_error(p, "cannot read");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)file);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *cached = true;
        *n_samples = (uint64_t)sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    return FOLIO_OK;
}

int folio__part_file_cached(folio_part_t *p, size_t file, const char *path, uint64_t n_samples)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db, "INSERT OR REPLACE INTO files VALUES(?,?,?)", -1, &st, NULL) !=
        SQLITE_OK)
        return sql_error(p, "cannot write");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)file);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n_samples);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? FOLIO_OK : sql_error(p, "cannot write");
}

int folio__part_chunks(folio_part_t *p, folio_part_chunks_t *out, folio_bools_t *done)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db,
                           "SELECT file,start,end,keep_from,keep_to,speech,words IS NOT NULL FROM "
                           "chunks ORDER BY file,start",
                           -1, &st, NULL) != SQLITE_OK)
        return sql_error(p, "cannot read");
    int rc = FOLIO_OK, r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 kt = sqlite3_column_int64(st, 4);
        folio_part_chunk_t c = {
            (size_t)sqlite3_column_int64(st, 0),   (uint64_t)sqlite3_column_int64(st, 1),
            (uint64_t)sqlite3_column_int64(st, 2), (uint64_t)sqlite3_column_int64(st, 3),
            kt < 0 ? UINT64_MAX : (uint64_t)kt,    sqlite3_column_int(st, 5) != 0};
        bool d = sqlite3_column_int(st, 6) != 0;
        if (VEC_PUSH(*out, c) < 0 || (done && VEC_PUSH(*done, d) < 0)) {
            rc = FOLIO_ENOMEM;
            break;
        }
    }
    if (rc >= 0 && r != SQLITE_DONE) rc = sql_error(p, "cannot read");
    sqlite3_finalize(st);
    return rc;
}

int folio__part_chunk_done(folio_part_t *p, size_t file, uint64_t start, const char *tsv)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db, "UPDATE chunks SET words=? WHERE file=? AND start=?", -1, &st,
                           NULL) != SQLITE_OK)
        return sql_error(p, "cannot write");
    sqlite3_bind_text(st, 1, tsv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)file);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)start);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? FOLIO_OK : sql_error(p, "cannot write a result");
}

int folio__part_chunk_result(folio_part_t *p, size_t file, uint64_t start, char **tsv)
{
    sqlite3_stmt *st;
    *tsv = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT words FROM chunks WHERE file=? AND start=?", -1, &st,
                           NULL) != SQLITE_OK)
        return sql_error(p, "cannot read");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)file);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)start);
    int rc = FOLIO_OK;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *tsv = folio__strdup((const char *)sqlite3_column_text(st, 0));
        if (!*tsv) rc = FOLIO_ENOMEM;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- the finished index (schema in docs/index.md) ---- */

static const char index_schema[] =
    "DROP TABLE IF EXISTS chunks; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS meta;"
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
        return sql_error(p, "cannot write the index");
    return FOLIO_OK;
}

static int step(folio_part_t *p, sqlite3_stmt *st)
{
    int r = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return r == SQLITE_DONE ? FOLIO_OK : sql_error(p, "cannot write the index");
}

int folio__index_write(folio_part_t *p, const folio_index_data_t *d)
{
    int rc;
    sqlite3_stmt *st = NULL;
    int32_t *packed = NULL;
    TRY(exec(p, "BEGIN"));
    TRY(exec(p, index_schema));
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
    TRY(exec(p, pragma));
    snprintf(pragma, sizeof(pragma), "PRAGMA application_id=%d", FOLIO_INDEX_APPLICATION_ID);
    TRY(exec(p, pragma));
    TRY(exec(p, "COMMIT"));
fail:
    free(packed);
    if (st) sqlite3_finalize(st);
    if (rc < 0) sqlite3_exec(p->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

int folio__part_finalize(folio_part_t *p, const char *final_path)
{
    int rc;
    TRY(exec(p, "PRAGMA wal_checkpoint(TRUNCATE)"));
    TRY(exec(p, "PRAGMA journal_mode=DELETE"));
    TRY(exec(p, "VACUUM"));
    if (sqlite3_close(p->db) != SQLITE_OK)
        FAIL(p->ctx, FOLIO_EIO, "%s: cannot close: %s", p->path, sqlite3_errmsg(p->db));
    p->db = NULL;
    if (rename(p->path, final_path) != 0)
        FAIL(p->ctx, FOLIO_EIO, "%s: cannot rename to %s: %s", p->path, final_path,
             strerror(errno));
fail:
    return rc;
}
