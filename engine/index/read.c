/* Reading a finished index: the whole file is loaded at open (a 30-hour book's words are a few
 * tens of megabytes), so that a folio_index_t is immutable and lookups need no locking. Why an
 * open failed goes to the caller's context, naming the file. */
#include "index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    folio_str_t pool; /* labels, titles and paths, NUL-separated */
    size_t *label_off, *title_off, *path_off;
    VEC(char *) blob_names;
    VEC(uint64_t *) blobs; /* 8-byte aligned copies */
    VEC(size_t) blob_lens;
};

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

/* Copy @s into the string pool; false when out of memory. */
static bool pool_str(folio_index_t *ix, const unsigned char *s, size_t *off)
{
    *off = ix->pool.len;
    const char *v = s ? (const char *)s : "";
    return folio__str_append(&ix->pool, v, strlen(v) + 1) >= 0;
}

static double col_time(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_double(st, col);
}

static long col_file(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : (long)sqlite3_column_int64(st, col);
}

static size_t count_rows(sqlite3 *db, const char *table)
{
    char sql[64];
    sqlite3_stmt *st;
    size_t n = 0;
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return 0;
    if (sqlite3_step(st) == SQLITE_ROW) n = (size_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* One open in progress: where its messages go and the file they name. */
typedef struct {
    folio_t *ctx;
    const char *path;
    sqlite3 *db;
} opening_t;

#define PREPARE(sql)                                                                               \
    do {                                                                                           \
        if (st) sqlite3_finalize(st);                                                              \
        st = NULL;                                                                                 \
        if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK)                            \
            FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (%s)", o->path,                     \
                 sqlite3_errmsg(o->db));                                                           \
    } while (0)

#define ALLOC(ptr, n)                                                                              \
    do {                                                                                           \
        (ptr) = calloc((n) ? (n) : 1, sizeof(*(ptr)));                                             \
        if (!(ptr)) goto oom;                                                                      \
    } while (0)

/* A word from its stored columns (times in milliseconds, confidence in thousandths). */
static void set_word(const folio_index_t *ix, folio_index_word_t *w, int64_t start_char,
                     int64_t end_char, int64_t start_ms, int64_t end_ms, int64_t file,
                     int64_t confidence)
{
    w->start_char = (size_t)start_char;
    w->end_char = (size_t)end_char;
    w->file = (long)file;
    if (start_ms < 0 || file < 0 || (size_t)file >= ix->n_files) {
        w->start_time = w->end_time = w->file_time = -1;
        w->file = -1;
    } else {
        w->start_time = (double)start_ms / 1000;
        w->end_time = (double)end_ms / 1000;
        w->file_time = w->start_time - ix->files[w->file].offset;
        if (w->file_time < 0) w->file_time = 0;
    }
    w->confidence = (float)confidence / 1000;
}

/* Read everything of the open database @o->db into @ix. */
static int load(folio_index_t *ix, const opening_t *o)
{
    int rc = FOLIO_OK;
    sqlite3_stmt *st = NULL;
    sqlite3 *db = o->db;

    PREPARE("PRAGMA application_id");
    if (sqlite3_step(st) != SQLITE_ROW)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (%s)", o->path, sqlite3_errmsg(db));
    if (sqlite3_column_int(st, 0) != FOLIO_INDEX_APPLICATION_ID)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (its application id is not Folio's)",
             o->path);
    PREPARE("PRAGMA user_version");
    if (sqlite3_step(st) != SQLITE_ROW)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (%s)", o->path, sqlite3_errmsg(db));
    int version = sqlite3_column_int(st, 0);
    if (version != FOLIO_INDEX_SCHEMA)
        FAIL(o->ctx, FOLIO_EFORMAT,
             "%s: a Folio index of schema version %d, and this Folio reads version %d: index the "
             "book again",
             o->path, version, FOLIO_INDEX_SCHEMA);
    PREPARE("SELECT key, value FROM book ORDER BY key");
    while (sqlite3_step(st) == SQLITE_ROW) {
        char *k = folio__strdup((const char *)sqlite3_column_text(st, 0));
        char *v = folio__strdup((const char *)sqlite3_column_text(st, 1));
        if (!k || !v || VEC_PUSH(ix->keys, k) < 0) {
            free(k);
            free(v);
            goto oom;
        }
        if (VEC_PUSH(ix->values, v) < 0) {
            ix->keys.len--; /* k is freed here, not by folio_index_free */
            free(k);
            free(v);
            goto oom;
        }
    }
    PREPARE("SELECT content FROM text");
    if (sqlite3_step(st) != SQLITE_ROW)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: not a Folio index (its text is missing)", o->path);
    ix->text_bytes = (size_t)sqlite3_column_bytes(st, 0);
    ix->text = folio__strndup((const char *)sqlite3_column_text(st, 0), ix->text_bytes);
    if (!ix->text) goto oom;
    ix->text_length = folio__utf8_count(ix->text, ix->text_bytes);
    PREPARE("SELECT json FROM report");
    ix->report = folio__strdup(
        sqlite3_step(st) == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "{}");
    if (!ix->report) goto oom;

    ix->n_files = count_rows(db, "audio");
    ALLOC(ix->files, ix->n_files);
    ALLOC(ix->path_off, ix->n_files);
    PREPARE("SELECT path, duration, offset FROM audio ORDER BY idx");
    for (size_t i = 0; i < ix->n_files && sqlite3_step(st) == SQLITE_ROW; i++) {
        if (!pool_str(ix, sqlite3_column_text(st, 0), &ix->path_off[i])) goto oom;
        ix->files[i].duration = sqlite3_column_double(st, 1);
        ix->files[i].offset = sqlite3_column_double(st, 2);
    }

    ix->n_pages = count_rows(db, "pages");
    ALLOC(ix->pages, ix->n_pages);
    ALLOC(ix->label_off, ix->n_pages);
    PREPARE("SELECT ordinal, label, start_char, start_time, end_time, file, file_time, confidence"
            " FROM pages ORDER BY ordinal");
    for (size_t i = 0; i < ix->n_pages && sqlite3_step(st) == SQLITE_ROW; i++) {
        folio_index_page_t *p = &ix->pages[i];
        p->ordinal = (size_t)sqlite3_column_int64(st, 0);
        if (!pool_str(ix, sqlite3_column_text(st, 1), &ix->label_off[i])) goto oom;
        p->start_char = (size_t)sqlite3_column_int64(st, 2);
        p->start_time = col_time(st, 3);
        p->end_time = col_time(st, 4);
        p->file = col_file(st, 5);
        p->file_time = col_time(st, 6);
        p->confidence = (float)sqlite3_column_double(st, 7);
    }

    ix->n_chapters = count_rows(db, "chapters");
    ALLOC(ix->chapters, ix->n_chapters);
    ALLOC(ix->title_off, ix->n_chapters);
    PREPARE(
        "SELECT title, level, start_char, start_time, file, file_time FROM chapters ORDER BY idx");
    for (size_t i = 0; i < ix->n_chapters && sqlite3_step(st) == SQLITE_ROW; i++) {
        folio_index_chapter_t *c = &ix->chapters[i];
        if (!pool_str(ix, sqlite3_column_text(st, 0), &ix->title_off[i])) goto oom;
        c->level = sqlite3_column_int(st, 1);
        c->start_char = (size_t)sqlite3_column_int64(st, 2);
        c->start_time = col_time(st, 3);
        c->file = col_file(st, 4);
        c->file_time = col_time(st, 5);
    }

    ix->n_sentences = count_rows(db, "sentences");
    ALLOC(ix->sentences, ix->n_sentences);
    PREPARE("SELECT start_char, end_char, start_time, end_time, file, file_time FROM sentences"
            " ORDER BY idx");
    for (size_t i = 0; i < ix->n_sentences && sqlite3_step(st) == SQLITE_ROW; i++) {
        folio_index_sentence_t *s = &ix->sentences[i];
        s->start_char = (size_t)sqlite3_column_int64(st, 0);
        s->end_char = (size_t)sqlite3_column_int64(st, 1);
        s->start_time = col_time(st, 2);
        s->end_time = col_time(st, 3);
        s->file = col_file(st, 4);
        s->file_time = col_time(st, 5);
    }

    PREPARE("SELECT name, data FROM lookup WHERE name <> 'words' ORDER BY name");
    while (sqlite3_step(st) == SQLITE_ROW) {
        size_t len = (size_t)sqlite3_column_bytes(st, 1);
        char *name = folio__strdup((const char *)sqlite3_column_text(st, 0));
        uint64_t *data = malloc((len / 8 + 1) * 8);
        if (data && len) memcpy(data, sqlite3_column_blob(st, 1), len);
        if (!name || !data || VEC_PUSH(ix->blob_names, name) < 0) {
            free(name);
            free(data);
            goto oom;
        }
        if (VEC_PUSH(ix->blobs, data) < 0) {
            free(data);
            goto oom;
        }
        if (VEC_PUSH(ix->blob_lens, len) < 0) goto oom;
    }

    /* The words packed in one blob: one read instead of a row at a time is what makes opening
     * fast. They go straight into the words; the blob is not kept. */
    PREPARE("SELECT data FROM lookup WHERE name = 'words'");
    size_t wlen = sqlite3_step(st) == SQLITE_ROW ? (size_t)sqlite3_column_bytes(st, 0) : 0;
    const unsigned char *packed = wlen ? sqlite3_column_blob(st, 0) : NULL;
    const size_t word_bytes = WORD_FIELDS * sizeof(int32_t);
    if (packed && wlen % word_bytes == 0) {
        ix->n_words = wlen / word_bytes;
        ALLOC(ix->words, ix->n_words);
        for (size_t i = 0; i < ix->n_words; i++) {
            int32_t p[WORD_FIELDS];
            memcpy(p, packed + i * word_bytes, word_bytes);
            set_word(ix, &ix->words[i], p[0], p[1], p[2], p[3], p[4], p[5]);
        }
    } else {
        ix->n_words = count_rows(db, "words");
        ALLOC(ix->words, ix->n_words);
        PREPARE("SELECT start_char, end_char, start_ms, end_ms, file, confidence FROM words ORDER "
                "BY idx");
        for (size_t i = 0; i < ix->n_words && sqlite3_step(st) == SQLITE_ROW; i++)
            set_word(ix, &ix->words[i], sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
                     sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
                     sqlite3_column_int64(st, 4), sqlite3_column_int64(st, 5));
    }

    /* Strings last: the pool has stopped moving. */
    for (size_t i = 0; i < ix->n_files; i++) ix->files[i].path = ix->pool.data + ix->path_off[i];
    for (size_t i = 0; i < ix->n_pages; i++) ix->pages[i].label = ix->pool.data + ix->label_off[i];
    for (size_t i = 0; i < ix->n_chapters; i++)
        ix->chapters[i].title = ix->pool.data + ix->title_off[i];
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
    opening_t o = {ctx, path, NULL};
    char *uri = NULL;
    if (!path) FAIL(ctx, FOLIO_EINVAL, "folio_index_open: NULL path");
    /* SQLite would say only "unable to open database file": ask the system why. */
    if (access(path, R_OK) != 0) FAIL(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    uri = uri_for(path, access(path, W_OK) != 0);
    ix = calloc(1, sizeof(*ix));
    if (!uri || !ix) FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory opening the index", path);
    if (sqlite3_open_v2(uri, &o.db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
        if (!o.db) FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory opening the index", path);
        FAIL(ctx, FOLIO_EIO, "%s: cannot open: %s", path, sqlite3_errmsg(o.db));
    }
    TRY(load(ix, &o));
    /* A step that failed part-way (a damaged file) ended its loop early: say so. */
    int ec = sqlite3_errcode(o.db);
    if (ec != SQLITE_OK && ec != SQLITE_ROW && ec != SQLITE_DONE)
        FAIL(ctx, FOLIO_EFORMAT, "%s: a damaged Folio index (%s)", path, sqlite3_errmsg(o.db));
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
