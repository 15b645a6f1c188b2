/* Reading a finished index: the whole file is loaded at open (a 30-hour book's words are a few
 * tens of megabytes), so that a folio_index_t is immutable and lookups need no locking. The file is
 * untrusted input, checked as it is read; why an open failed goes to the caller's context, naming
 * the file. */
#include "read_int.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The URI for opening @path read-only; immutable when the file cannot be written (a read-only
 * folder or medium: no journal can be there, and SQLite must not try to make one). */
static char *uri_for(const char *path, bool immutable)
{
    folio_str_t s = {0};
    folio__str_append(&s, "file:", 5);
    for (const unsigned char *c = (const unsigned char *)path; *c; c++) {
        if (*c == '%' || *c == '?' || *c == '#' || *c < 0x20)
            folio__str_printf(&s, "%%%02X", *c);
        else
            folio__str_appendc(&s, (char)*c);
    }
    folio__str_printf(&s, "?mode=ro%s", immutable ? "&immutable=1" : "");
    return folio__str_take(&s);
}

/* Copy @s (@n bytes) into the string pool; false when out of memory. */
static bool pool_str(folio_index_t *ix, const char *s, size_t n, size_t *off)
{
    *off = ix->pool.len;
    return folio__str_append(&ix->pool, s, n) >= 0 && folio__str_appendc(&ix->pool, '\0') >= 0;
}

/* ---- loading ---- */

#define ALLOC(ptr, n)                                                                              \
    do {                                                                                           \
        (ptr) = calloc((n) ? (n) : 1, sizeof(*(ptr)));                                             \
        if (!(ptr)) goto oom;                                                                      \
    } while (0)

/* The next row of a table read in full (@row of the rows counted); a row missing or an error
 * reading it is a damaged file. */
#define NEXT_ROW(r, i)                                                                             \
    do {                                                                                           \
        if (sqlite3_step(st) != SQLITE_ROW)                                                        \
            SQL_FAILED_OR(folio__index_damaged(o, "%s changed", (r).table));                       \
        (r).row = (i);                                                                             \
    } while (0)
#define SQL_FAILED_OR(alt)                                                                         \
    do {                                                                                           \
        int ec_ = sqlite3_errcode(o->db);                                                          \
        rc = ec_ != SQLITE_OK && ec_ != SQLITE_ROW && ec_ != SQLITE_DONE                           \
                 ? folio__index_sql_failed(o)                                                      \
                 : (alt);                                                                          \
        goto fail;                                                                                 \
    } while (0)
#define ROW_DONE(r)                                                                                \
    do {                                                                                           \
        if ((r).rc) {                                                                              \
            rc = (r).rc;                                                                           \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* The number of rows of @table into *@n. */
static int count_rows(const opening_t *o, const char *table, size_t *n)
{
    int rc = FOLIO_OK;
    char sql[64];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    PREPARE(sql);
    if (sqlite3_step(st) != SQLITE_ROW) SQL_FAILED();
    *n = (size_t)sqlite3_column_int64(st, 0);
fail:
    sqlite3_finalize(st);
    return rc;
}

/* Read the one-value pragma @name into *@v. */
static int pragma_int(const opening_t *o, const char *sql, int *v)
{
    int rc = FOLIO_OK;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (%s)", o->path, sqlite3_errmsg(o->db));
    *v = sqlite3_column_int(st, 0);
fail:
    sqlite3_finalize(st);
    return rc;
}

/* Read everything of the open database @o->db into @ix, checking each value. */
static int load(folio_index_t *ix, const opening_t *o)
{
    int rc = FOLIO_OK;
    sqlite3_stmt *st = NULL;
    const char *s;
    size_t len;

    int id, version;
    TRY(pragma_int(o, "PRAGMA application_id", &id));
    if (id != FOLIO_INDEX_APPLICATION_ID)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (its application id is not Folio's)",
             o->path);
    TRY(pragma_int(o, "PRAGMA user_version", &version));
    if (version < FOLIO_INDEX_SCHEMA_MIN || version > FOLIO_INDEX_SCHEMA)
        FAIL(o->ctx, FOLIO_EFORMAT,
             "%s: a Folio index of schema version %d, and this Folio reads versions %d to %d: "
             "index the book again",
             o->path, version, FOLIO_INDEX_SCHEMA_MIN, FOLIO_INDEX_SCHEMA);
    TRY(folio__index_check_schema(o, version));
    TRY(folio__index_quick_check(o));

    PREPARE("SELECT key, value FROM book ORDER BY key");
    row_t r = {o, st, "book", 0, FOLIO_OK};
    for (int step; (step = sqlite3_step(st)) != SQLITE_DONE; r.row++) {
        if (step != SQLITE_ROW) SQL_FAILED();
        const char *k = folio__index_get_text(&r, 0, &len);
        char *key = folio__strndup(k, len);
        const char *v = folio__index_get_text(&r, 1, &len);
        char *value = folio__strndup(v, len);
        if (!key || !value || VEC_PUSH(ix->keys, key) < 0) {
            free(key);
            free(value);
            goto oom;
        }
        if (VEC_PUSH(ix->values, value) < 0) {
            ix->keys.len--; /* key is freed here, not by folio_index_free */
            free(key);
            free(value);
            goto oom;
        }
        ROW_DONE(r);
    }

    PREPARE("SELECT content FROM text");
    r = (row_t){o, st, "text", 0, FOLIO_OK};
    if (sqlite3_step(st) != SQLITE_ROW)
        SQL_FAILED_OR(folio__error(o->ctx, FOLIO_EFORMAT,
                                   "%s: not a Folio index (its text is missing)", o->path));
    s = folio__index_get_text(&r, 0, &len);
    ROW_DONE(r);
    ix->text_bytes = len;
    ix->text = folio__strndup(s, len);
    if (!ix->text) goto oom;
    ix->text_length = folio__utf8_count(ix->text, ix->text_bytes);
    if (ix->text_length > INT32_MAX) REFUSE("its text is longer than an index can hold");

    /* The report goes verbatim into exports: it must be a JSON object. */
    PREPARE("SELECT json, CASE WHEN json_valid(json) THEN json_type(json) END FROM report");
    r = (row_t){o, st, "report", 0, FOLIO_OK};
    if (sqlite3_step(st) == SQLITE_ROW) {
        s = folio__index_get_text(&r, 0, &len);
        const char *type = (const char *)sqlite3_column_text(st, 1);
        if (!r.rc && (!type || strcmp(type, "object") != 0))
            folio__index_bad(&r, 0, "is not a JSON object");
        ROW_DONE(r);
        ix->report = folio__strndup(s, len);
    } else if (sqlite3_errcode(o->db) == SQLITE_DONE) {
        ix->report = folio__strdup("{}");
    } else {
        SQL_FAILED();
    }
    if (!ix->report) goto oom;

    TRY(count_rows(o, "audio", &ix->n_files));
    ALLOC(ix->files, ix->n_files);
    ALLOC(ix->path_off, ix->n_files);
    PREPARE("SELECT idx, path, duration, offset FROM audio ORDER BY idx");
    r = (row_t){o, st, "audio", 0, FOLIO_OK};
    for (size_t i = 0; i < ix->n_files; i++) {
        NEXT_ROW(r, i);
        folio__index_get_int(&r, 0, (int64_t)i, (int64_t)i);
        /* A file name, not a path: exports name files after it. */
        s = folio__index_get_text(&r, 1, &len);
        if (!r.rc && (!len || strchr(s, '/') || strcmp(s, ".") == 0 || strcmp(s, "..") == 0))
            folio__index_bad(&r, 1, "\"%.100s\" is not a file name", s);
        ix->files[i].duration = folio__index_get_real(&r, 2, 0);
        ix->files[i].offset = folio__index_get_real(&r, 3, 0);
        ROW_DONE(r);
        if (!pool_str(ix, s, len, &ix->path_off[i])) goto oom;
    }

    TRY(count_rows(o, "pages", &ix->n_pages));
    ALLOC(ix->pages, ix->n_pages);
    ALLOC(ix->label_off, ix->n_pages);
    PREPARE("SELECT ordinal, label, start_char, start_time, end_time, file, file_time, confidence"
            " FROM pages ORDER BY ordinal");
    r = (row_t){o, st, "pages", 0, FOLIO_OK};
    for (size_t i = 0; i < ix->n_pages; i++) {
        NEXT_ROW(r, i);
        folio_index_page_t *p = &ix->pages[i];
        p->ordinal = (size_t)folio__index_get_int(&r, 0, 1, INT64_MAX);
        s = folio__index_get_text(&r, 1, &len);
        p->start_char = (size_t)folio__index_get_int(&r, 2, 0, (int64_t)ix->text_length);
        folio__index_get_when(&r, 3, true, ix->n_files, &p->start_time, &p->end_time, &p->file,
                              &p->file_time);
        p->confidence = (float)folio__index_get_real(&r, 7, -HUGE_VAL);
        ROW_DONE(r);
        if (!pool_str(ix, s, len, &ix->label_off[i])) goto oom;
    }

    TRY(count_rows(o, "chapters", &ix->n_chapters));
    ALLOC(ix->chapters, ix->n_chapters);
    ALLOC(ix->title_off, ix->n_chapters);
    PREPARE(
        "SELECT title, level, start_char, start_time, file, file_time FROM chapters ORDER BY idx");
    r = (row_t){o, st, "chapters", 0, FOLIO_OK};
    for (size_t i = 0; i < ix->n_chapters; i++) {
        NEXT_ROW(r, i);
        folio_index_chapter_t *c = &ix->chapters[i];
        s = folio__index_get_text(&r, 0, &len);
        c->level = (int)folio__index_get_int(&r, 1, 0, 1 << 20);
        c->start_char = (size_t)folio__index_get_int(&r, 2, 0, (int64_t)ix->text_length);
        folio__index_get_when(&r, 3, false, ix->n_files, &c->start_time, NULL, &c->file,
                              &c->file_time);
        ROW_DONE(r);
        if (!pool_str(ix, s, len, &ix->title_off[i])) goto oom;
    }

    if (version >= 3) {
        TRY(count_rows(o, "audio_marks", &ix->n_marks));
        ALLOC(ix->marks, ix->n_marks);
        ALLOC(ix->mark_off, ix->n_marks);
        PREPARE("SELECT file, file_time, title, file_start, chapter FROM audio_marks ORDER BY idx");
        r = (row_t){o, st, "audio_marks", 0, FOLIO_OK};
        for (size_t i = 0; i < ix->n_marks; i++) {
            NEXT_ROW(r, i);
            folio_index_audio_mark_t *m = &ix->marks[i];
            m->file = (long)folio__index_get_int(&r, 0, 0, ix->n_files ? (int64_t)ix->n_files - 1 : 0);
            m->file_time = folio__index_get_real(&r, 1, 0);
            m->start_time = ix->n_files ? ix->files[m->file].offset + m->file_time : 0;
            s = folio__index_get_text(&r, 2, &len);
            m->file_start = (int)folio__index_get_int(&r, 3, 0, 1);
            m->chapter = folio__index_is_null(&r, 4) ? -1 : (long)folio__index_get_int(&r, 4, 0, (int64_t)ix->n_chapters - 1);
            ROW_DONE(r);
            if (!pool_str(ix, s, len, &ix->mark_off[i])) goto oom;
        }
    }

    TRY(count_rows(o, "sentences", &ix->n_sentences));
    ALLOC(ix->sentences, ix->n_sentences);
    PREPARE("SELECT start_char, end_char, start_time, end_time, file, file_time FROM sentences"
            " ORDER BY idx");
    r = (row_t){o, st, "sentences", 0, FOLIO_OK};
    for (size_t i = 0; i < ix->n_sentences; i++) {
        NEXT_ROW(r, i);
        folio_index_sentence_t *c = &ix->sentences[i];
        c->start_char = (size_t)folio__index_get_int(&r, 0, 0, (int64_t)ix->text_length);
        c->end_char =
            (size_t)folio__index_get_int(&r, 1, (int64_t)c->start_char, (int64_t)ix->text_length);
        folio__index_get_when(&r, 2, true, ix->n_files, &c->start_time, &c->end_time, &c->file,
                              &c->file_time);
        ROW_DONE(r);
    }

    PREPARE("SELECT name, data FROM lookup WHERE name <> 'words' ORDER BY name");
    r = (row_t){o, st, "lookup", 0, FOLIO_OK};
    for (int step; (step = sqlite3_step(st)) != SQLITE_DONE; r.row++) {
        if (step != SQLITE_ROW) SQL_FAILED();
        s = folio__index_get_text(&r, 0, &len);
        if (!r.rc && sqlite3_column_type(st, 1) != SQLITE_BLOB)
            folio__index_bad(&r, 1, "is not a blob");
        ROW_DONE(r);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        const void *bytes = sqlite3_column_blob(st, 1);
        char *name = folio__strndup(s, len);
        uint64_t *data = malloc((n / 8 + 1) * 8);
        if (data && n) memcpy(data, bytes, n);
        if (!name || !data || (n && !bytes) || VEC_PUSH(ix->blob_names, name) < 0) {
            free(name);
            free(data);
            goto oom;
        }
        if (VEC_PUSH(ix->blobs, data) < 0) {
            free(data);
            goto oom;
        }
        if (VEC_PUSH(ix->blob_lens, n) < 0) goto oom;
    }

    /* The words packed in one blob: one read instead of a row at a time is what makes opening
     * fast. They go straight into the words; the blob is not kept. */
    PREPARE("SELECT data FROM lookup WHERE name = 'words'");
    int64_t f[WORD_FIELDS];
    int step = sqlite3_step(st);
    if (step != SQLITE_ROW && step != SQLITE_DONE) SQL_FAILED();
    if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_BLOB)
        REFUSE("lookup table \"words\" is not a blob");
    size_t wlen = step == SQLITE_ROW ? (size_t)sqlite3_column_bytes(st, 0) : 0;
    const unsigned char *packed = wlen ? sqlite3_column_blob(st, 0) : NULL;
    const size_t word_bytes = WORD_FIELDS * sizeof(int32_t);
    if (wlen && !packed) SQL_FAILED();
    if (wlen % word_bytes) REFUSE("lookup table \"words\" is not a whole number of words");
    if (packed) {
        ix->n_words = wlen / word_bytes;
        ALLOC(ix->words, ix->n_words);
        for (size_t i = 0; i < ix->n_words; i++) {
            int32_t p[WORD_FIELDS];
            memcpy(p, packed + i * word_bytes, word_bytes);
            for (int k = 0; k < WORD_FIELDS; k++) f[k] = p[k];
            TRY(folio__index_set_word(o, ix, i, f));
        }
    } else {
        TRY(count_rows(o, "words", &ix->n_words));
        ALLOC(ix->words, ix->n_words);
        PREPARE("SELECT start_char, end_char, start_ms, end_ms, file, confidence FROM words ORDER "
                "BY idx");
        r = (row_t){o, st, "words", 0, FOLIO_OK};
        for (size_t i = 0; i < ix->n_words; i++) {
            NEXT_ROW(r, i);
            for (int k = 0; k < WORD_FIELDS; k++)
                f[k] = folio__index_get_int(&r, k, INT32_MIN, INT32_MAX);
            ROW_DONE(r);
            TRY(folio__index_set_word(o, ix, i, f));
        }
    }
    TRY(folio__index_check_blobs(o, ix));

    /* Strings last: the pool has stopped moving. */
    for (size_t i = 0; i < ix->n_files; i++) ix->files[i].path = ix->pool.data + ix->path_off[i];
    for (size_t i = 0; i < ix->n_pages; i++) ix->pages[i].label = ix->pool.data + ix->label_off[i];
    for (size_t i = 0; i < ix->n_chapters; i++)
        ix->chapters[i].title = ix->pool.data + ix->title_off[i];
    for (size_t i = 0; i < ix->n_marks; i++) ix->marks[i].title = ix->pool.data + ix->mark_off[i];
    goto fail;
oom:
    rc = folio__error(o->ctx, FOLIO_ENOMEM, "%s: out of memory reading the index", o->path);
fail:
    if (st) sqlite3_finalize(st);
    return rc;
}

folio_index_t *folio_index_open(folio_t *ctx, const char *path, int *err)
{
    int rc = FOLIO_OK;
    folio_index_t *ix = NULL;
    opening_t o = {ctx, path, NULL, 0};
    char *uri = NULL;
    struct stat sb;
    if (!path) FAIL(ctx, FOLIO_EINVAL, "folio_index_open: NULL path");
    /* SQLite would say only "unable to open database file": ask the system why. A FIFO or a
     * device is refused before SQLite can block on it. */
    TRY(folio__regular_file(ctx, path, "Folio index"));
    if (stat(path, &sb) != 0) FAIL(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    uri = uri_for(path, access(path, W_OK) != 0);
    ix = calloc(1, sizeof(*ix));
    if (!uri || !ix) FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory opening the index", path);
    if (sqlite3_open_v2(uri, &o.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        if (!o.db) FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory opening the index", path);
        FAIL(ctx, FOLIO_EIO, "%s: cannot open: %s", path, sqlite3_errmsg(o.db));
    }
    folio__index_defend(&o, (uint64_t)sb.st_size);
    TRY(load(ix, &o));
fail:
    if (o.db) sqlite3_close(o.db);
    free(uri);
    if (rc < 0) {
        folio_index_free(ix);
        ix = NULL;
    }
    if (err) *err = rc;
    return ix;
}

/* ---- accessors ---- */

void folio_index_free(folio_index_t *ix)
{
    if (!ix) return;
    for (size_t i = 0; i < ix->keys.len; i++) free(ix->keys.items[i]);
    for (size_t i = 0; i < ix->values.len; i++) free(ix->values.items[i]);
    VEC_FREE(ix->keys);
    VEC_FREE(ix->values);
    free(ix->text);
    free(ix->report);
    free(ix->files);
    free(ix->pages);
    free(ix->chapters);
    free(ix->sentences);
    free(ix->words);
    free(ix->label_off);
    free(ix->title_off);
    free(ix->path_off);
    free(ix->marks);
    free(ix->mark_off);
    folio__str_free(&ix->pool);
    for (size_t i = 0; i < ix->blob_names.len; i++) free(ix->blob_names.items[i]);
    for (size_t i = 0; i < ix->blobs.len; i++) free(ix->blobs.items[i]);
    VEC_FREE(ix->blob_names);
    VEC_FREE(ix->blobs);
    VEC_FREE(ix->blob_lens);
    free(ix);
}

const char *folio_index_meta(const folio_index_t *ix, const char *key)
{
    if (!ix || !key) return NULL;
    for (size_t i = 0; i < ix->keys.len; i++)
        if (strcmp(ix->keys.items[i], key) == 0) return ix->values.items[i];
    return "";
}

const char *folio_index_text(const folio_index_t *ix, size_t *n_bytes)
{
    if (n_bytes) *n_bytes = ix ? ix->text_bytes : 0;
    return ix ? ix->text : NULL;
}

size_t folio_index_text_length(const folio_index_t *ix)
{
    return ix ? ix->text_length : 0;
}

const char *folio_index_report(const folio_index_t *ix)
{
    return ix ? ix->report : NULL;
}

#define COUNT(kind)                                                                                \
    size_t folio_index_n_##kind(const folio_index_t *ix)                                           \
    {                                                                                              \
        return ix ? ix->n_##kind : 0;                                                              \
    }

COUNT(files)
COUNT(pages)
COUNT(chapters)
COUNT(sentences)
COUNT(words)

const folio_index_file_t *folio_index_file(const folio_index_t *ix, size_t i)
{
    return ix && i < ix->n_files ? &ix->files[i] : NULL;
}

const folio_index_page_t *folio_index_page(const folio_index_t *ix, size_t i)
{
    return ix && i < ix->n_pages ? &ix->pages[i] : NULL;
}

const folio_index_chapter_t *folio_index_chapter(const folio_index_t *ix, size_t i)
{
    return ix && i < ix->n_chapters ? &ix->chapters[i] : NULL;
}

size_t folio_index_n_audio_marks(const folio_index_t *ix)
{
    return ix ? ix->n_marks : 0;
}

const folio_index_audio_mark_t *folio_index_audio_mark(const folio_index_t *ix, size_t i)
{
    return ix && i < ix->n_marks ? &ix->marks[i] : NULL;
}

const folio_index_sentence_t *folio_index_sentence(const folio_index_t *ix, size_t i)
{
    return ix && i < ix->n_sentences ? &ix->sentences[i] : NULL;
}

const folio_index_word_t *folio_index_word(const folio_index_t *ix, size_t i)
{
    return ix && i < ix->n_words ? &ix->words[i] : NULL;
}

const void *folio__index_blob(const folio_index_t *ix, const char *name, size_t *len)
{
    *len = 0;
    for (size_t i = 0; ix && i < ix->blobs.len; i++)
        if (strcmp(ix->blob_names.items[i], name) == 0) {
            *len = ix->blob_lens.items[i];
            return ix->blobs.items[i];
        }
    return NULL;
}

size_t folio__index_first_word_at(const folio_index_t *ix, size_t c)
{
    size_t lo = 0, hi = ix ? ix->n_words : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->words[mid].start_char < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
