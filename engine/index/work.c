/* The work file <out>.part: an SQLite database holding what a run has finished, so that a killed
 * run resumes where it stopped and a changed input starts afresh; the names of the side files
 * that share its name (folio__work_name), and the fingerprint of a run's inputs. */
#include "part.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char schema[] =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE files(file INTEGER PRIMARY KEY, path TEXT NOT NULL, n_samples INTEGER NOT NULL);"
    "CREATE TABLE chunks(file INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL,"
    " keep_from INTEGER NOT NULL, keep_to INTEGER NOT NULL, speech INTEGER NOT NULL,"
    " words TEXT, PRIMARY KEY(file, start));";

int folio__part_sql_error(folio_part_t *p, const char *what)
{
    return folio__error(p->ctx, FOLIO_EIO, "%s: %s: %s", p->path, what, sqlite3_errmsg(p->db));
}

int folio__part_exec(folio_part_t *p, const char *sql)
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
        return folio__part_sql_error(p, "cannot write");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? FOLIO_OK : folio__part_sql_error(p, "cannot write");
}

static int create(folio_part_t *p, const char *fingerprint)
{
    int rc;
    char v[16];
    snprintf(v, sizeof(v), "%d", FOLIO_PART_SCHEMA);
    TRY(folio__part_exec(p, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; BEGIN"));
    TRY(folio__part_exec(p, schema));
    TRY(set_meta(p, "schema", v));
    TRY(set_meta(p, "fingerprint", fingerprint));
    TRY(folio__part_exec(p, "COMMIT"));
fail:
    return rc;
}

/* The suffixes of folio_work_file_t's names, but the last (numbered). */
static const char *const suffix[] = {".part",   "-wal",  "-shm",     ".pcm",  ".lm",
                                     ".oob.lm", ".dict", ".gaps.lm", ".index"};
_Static_assert(sizeof(suffix) / sizeof(suffix[0]) == FOLIO_WORK_WINDOW_LM,
               "a suffix for each folio_work_file_t but the last");

int folio__work_name(char *out, size_t size, const char *path, folio_work_file_t which, size_t k)
{
    int n = which == FOLIO_WORK_WINDOW_LM ? snprintf(out, size, "%s.window%zu.lm", path, k)
                                          : snprintf(out, size, "%s%s", path, suffix[which]);
    return n >= 0 && (size_t)n < size ? FOLIO_OK : FOLIO_EINVAL;
}

/* The work file and SQLite's side files. */
static void remove_files(const char *path)
{
    char side[4200];
    unlink(path);
    folio__work_name(side, sizeof(side), path, FOLIO_WORK_WAL, 0);
    unlink(side);
    folio__work_name(side, sizeof(side), path, FOLIO_WORK_SHM, 0);
    unlink(side);
}

void folio__work_remove(const char *work_path)
{
    char path[4200];
    remove_files(work_path);
    for (int f = FOLIO_WORK_PCM; f < FOLIO_WORK_WINDOW_LM; f++) {
        folio__work_name(path, sizeof(path), work_path, (folio_work_file_t)f, 0);
        unlink(path);
    }
    /* The workers' window models (a killed run leaves them). */
    for (size_t i = 0; i < 1024; i++) {
        folio__work_name(path, sizeof(path), work_path, FOLIO_WORK_WINDOW_LM, i);
        if (unlink(path) != 0 && errno == ENOENT && i >= 64) break;
    }
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
            TRY(folio__part_exec(p, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL"));
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
        return folio__part_sql_error(p, "cannot record a chunk");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)c->file);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)c->start);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)c->end);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)c->keep_from);
    sqlite3_bind_int64(st, 5, c->keep_to == UINT64_MAX ? -1 : (sqlite3_int64)c->keep_to);
    sqlite3_bind_int(st, 6, c->speech);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    if (r != SQLITE_DONE) return folio__part_sql_error(p, "cannot record a chunk");
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
        return folio__part_sql_error(p, "cannot read");
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
        return folio__part_sql_error(p, "cannot write");
    sqlite3_bind_int64(st, 1, (sqlite3_int64)file);
    sqlite3_bind_text(st, 2, path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)n_samples);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? FOLIO_OK : folio__part_sql_error(p, "cannot write");
}

int folio__part_chunks(folio_part_t *p, folio_part_chunks_t *out, folio_bools_t *done)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db,
                           "SELECT file,start,end,keep_from,keep_to,speech,words IS NOT NULL FROM "
                           "chunks ORDER BY file,start",
                           -1, &st, NULL) != SQLITE_OK)
        return folio__part_sql_error(p, "cannot read");
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
    if (rc >= 0 && r != SQLITE_DONE) rc = folio__part_sql_error(p, "cannot read");
    sqlite3_finalize(st);
    return rc;
}

int folio__part_chunk_done(folio_part_t *p, size_t file, uint64_t start, const char *tsv)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(p->db, "UPDATE chunks SET words=? WHERE file=? AND start=?", -1, &st,
                           NULL) != SQLITE_OK)
        return folio__part_sql_error(p, "cannot write");
    sqlite3_bind_text(st, 1, tsv, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)file);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)start);
    int r = sqlite3_step(st);
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? FOLIO_OK : folio__part_sql_error(p, "cannot write a result");
}

int folio__part_chunk_result(folio_part_t *p, size_t file, uint64_t start, char **tsv)
{
    sqlite3_stmt *st;
    *tsv = NULL;
    if (sqlite3_prepare_v2(p->db, "SELECT words FROM chunks WHERE file=? AND start=?", -1, &st,
                           NULL) != SQLITE_OK)
        return folio__part_sql_error(p, "cannot read");
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

/* ---- the fingerprint of a run's inputs ---- */

/* Size and hashes of the first and last 64 KiB of @path. */
static int hash_edges(folio_t *ctx, folio_sha256_t *h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return folio__error(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    fstat(fileno(f), &st);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof(buf), f);
    folio__sha256_update(h, &st.st_size, sizeof(st.st_size));
    folio__sha256_update(h, buf, n);
    if (st.st_size > (off_t)sizeof(buf)) {
        fseek(f, -(long)sizeof(buf), SEEK_END);
        n = fread(buf, 1, sizeof(buf), f);
        folio__sha256_update(h, buf, n);
    }
    fclose(f);
    return FOLIO_OK;
}

int folio__work_fingerprint(folio_t *ctx, const folio_work_inputs_t *in, char out[65])
{
    folio_sha256_t h;
    folio__sha256_init(&h);
    char line[512];
    snprintf(line, sizeof(line), "folio %s schema %d\n", folio_version(), FOLIO_PART_SCHEMA);
    folio__sha256_update(&h, line, strlen(line));
    folio__sha256_update(&h, in->text_sha256, 64);
    folio__sha256_update(&h, in->config, in->config_len);
    /* The models: acoustic model files and the language models and dictionary made from them. */
    static const char *const model_files[] = {"en-us/mdef",
                                              "en-us/means",
                                              "en-us/variances",
                                              "en-us/transition_matrices",
                                              "en-us/sendump",
                                              "en-us/feat.params",
                                              NULL};
    int rc;
    for (const char *const *p = model_files; *p; p++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/%s", in->model_dir, *p);
        if (access(path, R_OK) != 0) continue; /* optional files */
        if ((rc = hash_edges(ctx, &h, path)) < 0) return rc;
    }
    for (size_t i = 0; i < in->n_made; i++)
        if ((rc = hash_edges(ctx, &h, in->made[i])) < 0) return rc;
    for (size_t i = 0; i < in->n_audio; i++) {
        snprintf(line, sizeof(line), "audio %zu\n", i);
        folio__sha256_update(&h, line, strlen(line));
        if ((rc = hash_edges(ctx, &h, in->audio[i])) < 0) return rc;
    }
    folio__sha256_hex(&h, out);
    return FOLIO_OK;
}
