/* folio serve --port P [--host ADDR] [--threads N] [--cache N] [--ocr-threads N] [--ocr-queue N]
 * DIR_OR_INDEX...: the lookups over HTTP (libmicrohttpd, a thread pool), every index by its book
 * id (the file name without ".folio"). Open indexes are cached, least recently used first out, so
 * that a server of thousands of books keeps only the busy ones open. Answers are the JSON of
 * `folio lookup` (lookup_json.c); errors are JSON with their HTTP status. One access-log line per
 * request on stderr; SIGTERM or SIGINT stops it gracefully.
 *
 *   GET  /healthz
 *   GET  /v1/books                          {"books": [{"id"}...]}
 *   GET  /v1/books/{id}                     title, author, pages, audio, report
 *   GET  /v1/books/{id}/pages/{label}       page -> audio (label percent-decoded)
 *   GET  /v1/books/{id}/position?t=T        audio -> page (global time, or file=N&t=T)
 *   POST /v1/books/{id}/match               body: the OCR text (text/plain), or JSON
 *                                           {"text": ..., "current_time": T} (scan to read), or
 *                                           a photo (image/jpeg, png, webp, tiff), or a form
 *                                           (multipart/form-data or urlencoded): a file field
 *                                           and/or "text" (and "current_time")
 *   GET  /v1/books/{id}/pages               the page table (serve_web.c)
 *   GET  /v1/books/{id}/audio/{n}           an audio file, with ranges (serve_audio.c)
 *   GET  /, /login                          the web page, its login form (serve_web.c)
 *
 * Photos are read off the connection threads: the connection is suspended and its photo queued
 * for a pool of OCR workers (--ocr-threads, each with its own OCR handle, loaded on first use);
 * the worker answers and resumes it. A full queue (--ocr-queue) is answered 503 at once. */
#include "cli.h"
#include "serve.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024)          /* text, JSON, a form's text field */
#define MAX_UPLOAD (16 * 1024 * 1024) /* a photo, or a form */

/* ---- books and the cache of open indexes ---- */

typedef struct {
    char *id, *path;
    folio_index_t *ix; /* open, or NULL */
    unsigned users;    /* requests using ix now */
    unsigned long last_used;
} book_t;

typedef struct {
    book_t *books;
    size_t n, cap;
    size_t open, max_open;
    unsigned long clock;
    pthread_mutex_t lock;
} library_t;

static library_t lib = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int cmp_book(const void *a, const void *b)
{
    return strcmp(((const book_t *)a)->id, ((const book_t *)b)->id);
}

static int add_book(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n <= 6 || strcmp(base + n - 6, ".folio") != 0) return 0;
    for (size_t i = 0; i < lib.n; i++)
        if (strlen(lib.books[i].id) == n - 6 && strncmp(lib.books[i].id, base, n - 6) == 0) {
            fprintf(stderr, "folio: warning: %s: book id '%.*s' is taken by %s; skipped\n", path,
                    (int)(n - 6), base, lib.books[i].path);
            return 0;
        }
    if (lib.n == lib.cap) {
        size_t cap = lib.cap ? 2 * lib.cap : 64;
        book_t *nb = realloc(lib.books, cap * sizeof(book_t));
        if (!nb) return -1;
        lib.books = nb;
        lib.cap = cap;
    }
    book_t b = {strndup(base, n - 6), strdup(path), NULL, 0, 0};
    if (!b.id || !b.path) {
        free(b.id);
        free(b.path);
        return -1;
    }
    lib.books[lib.n++] = b;
    return 0;
}

static int add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        if (n <= 6 || strcmp(path + n - 6, ".folio") != 0) {
            fprintf(stderr, "folio: error: %s: not a .folio index or a folder\n", path);
            return -1;
        }
        return add_book(path);
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 6 || strcmp(e->d_name + n - 6, ".folio") != 0) continue;
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        rc = add_book(full);
    }
    closedir(d);
    return rc;
}

static book_t *find_book(const char *id)
{
    book_t key = {.id = (char *)id};
    return lib.n ? bsearch(&key, lib.books, lib.n, sizeof(book_t), cmp_book) : NULL;
}

/* The open index of @b, opened if needed (closing the least recently used idle one when the
 * cache is full); NULL with *err and the message on @ctx. Release with release(). */
static folio_index_t *acquire(book_t *b, folio_t *ctx, int *err)
{
    pthread_mutex_lock(&lib.lock);
    if (!b->ix) {
        if (lib.open >= lib.max_open) {
            book_t *lru = NULL;
            for (size_t i = 0; i < lib.n; i++) {
                book_t *x = &lib.books[i];
                if (x->ix && !x->users && (!lru || x->last_used < lru->last_used)) lru = x;
            }
            if (lru) {
                folio_index_free(lru->ix);
                lru->ix = NULL;
                lib.open--;
            }
        }
        b->ix = folio_index_open(ctx, b->path, err);
        if (b->ix) lib.open++;
    }
    folio_index_t *ix = b->ix;
    if (ix) {
        b->users++;
        b->last_used = ++lib.clock;
    }
    pthread_mutex_unlock(&lib.lock);
    return ix;
}

static void release(book_t *b)
{
    pthread_mutex_lock(&lib.lock);
    b->users--;
    pthread_mutex_unlock(&lib.lock);
}

/* ---- responses ---- */

typedef struct {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
} bytes_t;

/* How a body is read, from its Content-Type: text and JSON (up to MAX_BODY), a photo, or a form
 * (both up to MAX_UPLOAD, held against the upload budget). */
typedef enum { BODY_TEXT, BODY_PHOTO, BODY_FORM } body_kind_t;

typedef struct request {
    char uri[256]; /* for the access log */
    char method[16];
    bool started;
    body_kind_t kind;
    bytes_t body;                   /* the request body (BODY_TEXT, BODY_PHOTO) */
    struct MHD_PostProcessor *form; /* BODY_FORM: its parser, */
    size_t form_len;                /* the bytes it was given, */
    bytes_t photo, text, when;      /* and its file, "text" and "current_time" fields */
    bool photo_done;                /* the form's first file with bytes has ended */
    size_t reserved;                /* bytes held against the upload budget */
    bool too_large;                 /* over the body's limit */
    bool text_too_large;            /* a form's text over MAX_BODY */
    bool busy;                      /* out of upload budget or memory */
    bool bad_form;                  /* a form that cannot be parsed */
    bool bad_escape;                /* the path has a malformed percent-escape or an encoded NUL */
    double start;
    /* A photo queued for the OCR workers, and the answer a worker left before resuming. */
    struct MHD_Connection *conn;
    book_t *book;
    const void *image;
    size_t image_len;
    struct request *next;
    bool done;
    unsigned status;
    char *answer;
} request_t;

/* Photo and form bodies being received or read hold their bytes against this server-wide budget
 * (set at start), so that many large uploads at once are answered 503, not swapped. */
static struct {
    pthread_mutex_t lock;
    size_t used, cap;
} budget = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool reserve(size_t n)
{
    pthread_mutex_lock(&budget.lock);
    bool ok = n <= budget.cap - budget.used;
    if (ok) budget.used += n;
    pthread_mutex_unlock(&budget.lock);
    return ok;
}

static void unreserve(size_t n)
{
    pthread_mutex_lock(&budget.lock);
    budget.used -= n;
    pthread_mutex_unlock(&budget.lock);
}

/* Append @p[0..@n) to @b, which stays at most @limit bytes. The bodies of photos and forms hold
 * their capacity against the budget. Returns 0, 1 (over @limit: nothing appended) or -1 (out of
 * budget or memory). */
static int put(request_t *r, bytes_t *b, const char *p, size_t n, size_t limit)
{
    if (n > limit - b->len) return 1;
    if (!n) return 0;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        if (cap > limit + 1) cap = limit + 1;
        if (r->kind != BODY_TEXT) {
            if (!reserve(cap - b->cap)) return -1;
            r->reserved += cap - b->cap;
        }
        char *nd = realloc(b->data, cap);
        if (!nd) return -1;
        b->data = nd;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Queue @json (freed here; NULL: out of memory, a 500) with @status; a 503 says when to retry. */
static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, char *json)
{
    if (!json) {
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        json = strdup("{\"error\":{\"code\":\"failed\",\"message\":\"out of memory\"}}");
        if (!json) return MHD_NO;
    }
    size_t n = strlen(json);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, json, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(json);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    serve_web_headers(r);
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE) MHD_add_response_header(r, "Retry-After", "1");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The JSON of an error (caller frees; NULL when out of memory). A @message that is not UTF-8
 * gives way to @code. */
static char *error_body(const char *code, const char *message)
{
    json_t *m = json_string(message);
    json_t *o =
        json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", m ? m : json_string(code));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *message)
{
    return send_json(c, status, error_body(code, message));
}

/* The index of @b cannot be opened (@err, the message on @ctx): the message names a file of the
 * server, so it goes to the server's log, and the client gets the kind of error (*@status). */
static char *open_error(book_t *b, folio_t *ctx, int err, unsigned *status)
{
    fprintf(stderr, "folio: error: book '%s': %s\n", b->id,
            ctx ? folio_errmsg(ctx) : folio_strerror(err));
    const cli_result_t *r = cli_result(err);
    *status = r->http;
    return error_body(r->json, folio_strerror(err));
}

static enum MHD_Result open_failed(struct MHD_Connection *c, book_t *b, folio_t *ctx, int err)
{
    unsigned status;
    char *json = open_error(b, ctx, err, &status);
    return send_json(c, status, json);
}

static enum MHD_Result book_info(struct MHD_Connection *c, book_t *b, folio_index_t *ix)
{
    json_t *audio = json_array();
    double total = 0;
    for (size_t i = 0; i < folio_index_n_files(ix); i++) {
        const folio_index_file_t *f = folio_index_file(ix, i);
        json_array_append_new(audio, json_pack("{s:I, s:s, s:f}", "index", (json_int_t)i, "path",
                                               f->path, "duration", f->duration));
        total = f->offset + f->duration;
    }
    json_error_t e;
    json_t *report = json_loads(folio_index_report(ix), 0, &e);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:f, s:o, s:o}", "id", b->id, "title",
                          folio_index_meta(ix, "title"), "author", folio_index_meta(ix, "author"),
                          "language", folio_index_meta(ix, "language"), "pages",
                          (json_int_t)folio_index_n_pages(ix), "chapters",
                          (json_int_t)folio_index_n_chapters(ix), "duration", total, "audio", audio,
                          "report", report ? report : json_null());
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return send_json(c, MHD_HTTP_OK, s);
}

static enum MHD_Result lookup_response(struct MHD_Connection *c, book_t *b, const lookup_query_t *q)
{
    /* A context per request: lookups on one index run on many threads at once. */
    folio_t *ctx = folio_new();
    if (!ctx) return send_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed", "out of memory");
    int err = 0;
    folio_index_t *ix = acquire(b, ctx, &err);
    enum MHD_Result ret;
    if (!ix) {
        ret = open_failed(c, b, ctx, err);
    } else {
        char *json = NULL;
        int rc = lookup_run(ctx, ix, q, &json);
        release(b);
        ret = send_json(c, cli_result(rc)->http, json);
    }
    folio_free(ctx);
    return ret;
}

/* ---- photos: the OCR workers and their queue ---- */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    request_t *head, *tail; /* photos waiting for a worker */
    size_t waiting;         /* places taken in the queue, appended or about to be */
    size_t max_waiting;
    bool stopping;
    pthread_t *threads;
    size_t n_threads;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* Read the photo of @r with the worker's @ctx and OCR handle (*@ocr, loaded on first use; *@ocr_err
 * keeps why it could not be), and return the answer's JSON with its *@status. A photo that is not
 * an image, or is truncated or corrupt, is the client's: 422, where the result table says 500 for
 * FOLIO_EFORMAT because elsewhere it means the server's index. */
static char *read_photo(folio_t *ctx, folio_ocr_t **ocr, int *ocr_err, request_t *r,
                        unsigned *status)
{
    *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (!ctx) return error_body("failed", "out of memory");
    if (!*ocr && *ocr_err != FOLIO_EINVAL) {
        *ocr = folio_ocr_new(ctx, ocr_err);
        if (!*ocr && *ocr_err != FOLIO_EINVAL)
            fprintf(stderr, "folio: error: OCR: %s\n", folio_errmsg(ctx));
    }
    if (!*ocr) {
        if (*ocr_err != FOLIO_EINVAL) return error_body("failed", "the OCR model cannot be loaded");
        *status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
        return error_body("unsupported_media_type",
                          "this server was built without OCR: send the page's text");
    }
    int err = 0;
    folio_index_t *ix = acquire(r->book, ctx, &err);
    if (!ix) return open_error(r->book, ctx, err, status);
    lookup_query_t q = {
        .image = r->image, .image_len = r->image_len, .ocr = *ocr, .candidates = 3, .file = -1};
    char *json = NULL;
    int rc = lookup_run(ctx, ix, &q, &json);
    release(r->book);
    if (rc == FOLIO_EFORMAT) {
        free(json);
        *status = 422;
        return error_body("bad_image", folio_errmsg(ctx));
    }
    *status = cli_result(rc)->http;
    return json;
}

/* An OCR worker: takes queued photos until the server stops and the queue is empty, answers
 * each on its request and resumes the connection, which sends the answer. */
static void *ocr_worker(void *arg)
{
    (void)arg;
    folio_t *ctx = folio_new(); /* its messages, and the OCR handle's */
    folio_ocr_t *ocr = NULL;
    int ocr_err = 0;
    for (;;) {
        pthread_mutex_lock(&pool.lock);
        while (!pool.head && !(pool.stopping && !pool.waiting))
            pthread_cond_wait(&pool.wake, &pool.lock);
        request_t *r = pool.head;
        if (r) {
            pool.head = r->next;
            if (!pool.head) pool.tail = NULL;
            pool.waiting--;
        }
        if (pool.stopping) pthread_cond_broadcast(&pool.wake); /* the others may be done too */
        pthread_mutex_unlock(&pool.lock);
        if (!r) break;
        r->answer = read_photo(ctx, &ocr, &ocr_err, r, &r->status);
        r->done = true; /* seen by the connection's thread after MHD's resume (its own lock) */
        MHD_resume_connection(r->conn);
    }
    folio_ocr_free(ocr);
    folio_free(ctx);
    return NULL;
}

/* Queue the photo @bytes[0..@n) of @r for the workers and suspend the connection until one has
 * answered; a full queue is answered 503 (Retry-After: 1) at once. */
static enum MHD_Result queue_photo(struct MHD_Connection *c, book_t *b, request_t *r,
                                   const void *bytes, size_t n)
{
    if (!n) return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter", "the photo is empty");
    pthread_mutex_lock(&pool.lock);
    bool room = !pool.stopping && pool.waiting < pool.max_waiting;
    if (room) pool.waiting++;
    pthread_mutex_unlock(&pool.lock);
    if (!room)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                          "every OCR worker is busy; try again in a second");
    r->conn = c;
    r->book = b;
    r->image = bytes;
    r->image_len = n;
    r->next = NULL;
    /* Suspended before a worker can see it: resuming may then come at any time. */
    MHD_suspend_connection(c);
    pthread_mutex_lock(&pool.lock);
    if (pool.tail)
        pool.tail->next = r;
    else
        pool.head = r;
    pool.tail = r;
    pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    return MHD_YES;
}

/* Start @n workers with a queue of @queue photos; false when no thread could be made. */
static bool pool_start(size_t n, size_t queue)
{
    pool.threads = calloc(n, sizeof(pthread_t));
    if (!pool.threads) return false;
    pool.max_waiting = queue;
    for (; pool.n_threads < n; pool.n_threads++)
        if (pthread_create(&pool.threads[pool.n_threads], NULL, ocr_worker, NULL) != 0) break;
    return pool.n_threads > 0;
}

/* Refuse new photos, let the workers answer the queued ones (resuming every suspended
 * connection, as MHD_stop_daemon requires), and join them. */
static void pool_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (size_t i = 0; i < pool.n_threads; i++) pthread_join(pool.threads[i], NULL);
    free(pool.threads);
}

/* ---- the match endpoint's bodies ---- */

/* Whether the media type of the Content-Type @type (its parameters aside) is @want. */
static bool media_is(const char *type, const char *want)
{
    size_t n = strlen(want);
    if (!type || strncasecmp(type, want, n) != 0) return false;
    return type[n] == 0 || type[n] == ';' || type[n] == ' ' || type[n] == '\t';
}

static bool is_photo_type(const char *type)
{
    static const char *const types[] = {"image/jpeg", "image/jpg", "image/png", "image/webp",
                                        "image/tiff"};
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
        if (media_is(type, types[i])) return true;
    return false;
}

/* A form field, in pieces: the first file field with bytes is the photo (any name; a field with
 * a file name or an image type), "text" the text, "current_time" scan to read's time. */
static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *type, const char *encoding,
                                const char *data, uint64_t off, size_t size)
{
    (void)kind;
    (void)encoding;
    request_t *r = cls;
    int rc = 0;
    if (filename || (type && strncasecmp(type, "image/", 6) == 0)) {
        if (off == 0 && r->photo.len) r->photo_done = true; /* a second file */
        if (!r->photo_done) rc = put(r, &r->photo, data, size, MAX_UPLOAD);
        if (rc > 0) r->too_large = true;
    } else if (key && strcmp(key, "text") == 0) {
        rc = put(r, &r->text, data, size, MAX_BODY);
        if (rc > 0) r->text_too_large = true;
    } else if (key && strcmp(key, "current_time") == 0) {
        rc = put(r, &r->when, data, size, 64);
        if (rc > 0) r->bad_form = true;
    }
    if (rc < 0) r->busy = true;
    return rc ? MHD_NO : MHD_YES;
}

static enum MHD_Result match_form(struct MHD_Connection *c, book_t *b, request_t *r)
{
    /* The parser hands over its last field when destroyed. */
    enum MHD_Result parsed = r->form ? MHD_destroy_post_processor(r->form) : MHD_NO;
    r->form = NULL;
    if (r->busy)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                          "too many uploads at once; try again in a second");
    if (r->too_large)
        return send_error(c, 413, "too_large", "the form is over 16 MiB; send a smaller photo");
    if (r->text_too_large)
        return send_error(c, 413, "too_large", "the text is over 64 KiB; send a page or less");
    if (parsed != MHD_YES || r->bad_form)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                          "a malformed form: send a file field with a photo, or a text field");
    if (r->photo.len) return queue_photo(c, b, r, r->photo.data, r->photo.len);
    if (!r->text.data)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                          "the form has neither a photo nor a text field");
    lookup_query_t q = {.candidates = 3, .file = -1, .text = r->text.data, .text_len = r->text.len};
    if (r->when.len) {
        if (!cli_parse_time(r->when.data, &q.time))
            return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                              "current_time must be a time: seconds or HH:MM:SS.mmm");
        q.scan = true;
        q.has_time = true;
    }
    return lookup_response(c, b, &q);
}

static enum MHD_Result match(struct MHD_Connection *c, book_t *b, request_t *r)
{
    if (r->kind == BODY_FORM) return match_form(c, b, r);
    if (r->kind == BODY_PHOTO) {
        if (r->busy)
            return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                              "too many uploads at once; try again in a second");
        if (r->too_large) return send_error(c, 413, "too_large", "the photo is over 16 MiB");
        return queue_photo(c, b, r, r->body.data, r->body.len);
    }
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    bool json = type && strncasecmp(type, "application/json", 16) == 0;
    if (!json && type && strncasecmp(type, "text/plain", 10) != 0)
        return send_error(c, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                          "send the text as text/plain, application/json or a form "
                          "(multipart/form-data, application/x-www-form-urlencoded), or a photo "
                          "as image/jpeg, image/png, image/webp or image/tiff");
    if (r->too_large)
        return send_error(c, 413, "too_large", "the text is over 64 KiB; send a page or less");
    lookup_query_t q = {.candidates = 3, .file = -1};
    json_t *doc = NULL;
    if (json) {
        json_error_t e;
        doc = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, &e);
        json_t *text = doc ? json_object_get(doc, "text") : NULL;
        json_t *t = doc ? json_object_get(doc, "current_time") : NULL;
        if (!json_is_string(text) || (t && !json_is_null(t) && !json_is_number(t))) {
            json_decref(doc);
            return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                              "the body must be {\"text\": \"...\", \"current_time\": seconds}");
        }
        q.text = json_string_value(text);
        q.text_len = json_string_length(text);
        if (t && json_is_number(t)) {
            q.scan = true;
            q.has_time = true;
            q.time = json_number_value(t);
        }
    } else {
        q.text = r->body.data ? r->body.data : "";
        q.text_len = r->body.len;
    }
    enum MHD_Result ret = lookup_response(c, b, &q);
    json_decref(doc);
    return ret;
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method,
                             request_t *r)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    bool post = strcmp(method, "POST") == 0;
    enum MHD_Result web;
    if (serve_web_route(c, url, method, r->body.data, r->body.len, &web)) return web;
    if (strcmp(url, "/healthz") == 0) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        json_t *o = json_pack("{s:s, s:I}", "status", "ok", "books", (json_int_t)lib.n);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return send_json(c, MHD_HTTP_OK, s);
    }
    if (strcmp(url, "/v1/books") == 0 || strcmp(url, "/v1/books/") == 0) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        json_t *a = json_array();
        for (size_t i = 0; i < lib.n; i++)
            json_array_append_new(a, json_pack("{s:s}", "id", lib.books[i].id));
        json_t *o = json_pack("{s:o}", "books", a);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return send_json(c, MHD_HTTP_OK, s);
    }
    if (strncmp(url, "/v1/books/", 10) != 0)
        return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
    /* MHD has percent-decoded the path (book id and page label included); on_uri saw whether it
     * could. */
    if (r->bad_escape)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter", "bad percent-encoding");
    char path[2048];
    if (strlen(url + 10) >= sizeof(path))
        return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
    strcpy(path, url + 10);
    char *rest = strchr(path, '/');
    if (rest) *rest++ = 0;
    book_t *b = find_book(path);
    if (!b) return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such book");
    bool extra = rest && serve_web_is_book_route(rest);
    if (!rest || !*rest || extra) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        folio_t *ctx = folio_new(); /* NULL: the log says less */
        int err = 0;
        folio_index_t *ix = acquire(b, ctx, &err);
        enum MHD_Result ret = !ix     ? open_failed(c, b, ctx, err)
                              : extra ? serve_web_book(c, b->id, b->path, ix, rest)
                                      : book_info(c, b, ix);
        if (ix) release(b);
        folio_free(ctx);
        return ret;
    }
    if (strncmp(rest, "pages/", 6) == 0 && rest[6]) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        lookup_query_t q = {.page = rest + 6, .file = -1};
        return lookup_response(c, b, &q);
    }
    if (strcmp(rest, "position") == 0) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        const char *t = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "t");
        const char *f = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "file");
        lookup_query_t q = {.file = -1, .has_time = true};
        if (!t || !cli_parse_time(t, &q.time))
            return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                              "t must be a time: seconds or HH:MM:SS.mmm");
        if (f && (!cli_parse_long(f, &q.file) || q.file < 0))
            return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                              "file must be a file number from 0");
        return lookup_response(c, b, &q);
    }
    if (strcmp(rest, "match") == 0) {
        if (!post) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "POST");
        return match(c, b, r);
    }
    return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
}

/* The headers are in: how the body will be read, and a body announced over every limit refused
 * before it comes. */
static enum MHD_Result start(struct MHD_Connection *c, const char *method, request_t *r)
{
    r->started = true;
    snprintf(r->method, sizeof(r->method), "%s", method);
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (is_photo_type(type)) {
        r->kind = BODY_PHOTO;
    } else if (media_is(type, "multipart/form-data") ||
               media_is(type, "application/x-www-form-urlencoded")) {
        r->kind = BODY_FORM;
        r->form = MHD_create_post_processor(c, 16 * 1024, on_field, r);
        if (!r->form) r->bad_form = true; /* e.g. multipart without a boundary */
    }
    const char *length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    long n;
    if (length && cli_parse_long(length, &n) && n > MAX_UPLOAD)
        return send_error(c, 413, "too_large", "the body is over 16 MiB");
    return MHD_YES; /* the body (if any) comes next */
}

/* A piece of the body; what passes its limit, or comes when out of budget, is dropped and the
 * request answered 413 or 503 at its end. */
static void take_body(request_t *r, const char *data, size_t n)
{
    if (r->too_large || r->busy) return;
    if (r->kind == BODY_FORM) {
        if (r->bad_form || r->text_too_large) return;
        r->form_len += n;
        if (r->form_len > MAX_UPLOAD)
            r->too_large = true;
        else if (MHD_post_process(r->form, data, n) != MHD_YES && !r->too_large &&
                 !r->text_too_large && !r->busy)
            r->bad_form = true;
        return;
    }
    int rc = put(r, &r->body, data, n, r->kind == BODY_PHOTO ? MAX_UPLOAD : MAX_BODY);
    if (rc > 0) r->too_large = true;
    if (rc < 0) r->busy = true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)cls;
    (void)version;
    request_t *r = *state; /* made by on_uri */
    if (!r) return MHD_NO;
    if (!r->started && !serve_auth_allows(c, url, method)) return serve_auth_refuse(c, url, method);
    if (!r->started) return start(c, method, r);
    if (r->done) { /* an OCR worker answered and resumed the connection */
        char *answer = r->answer;
        r->answer = NULL;
        return send_json(c, r->status, answer);
    }
    if (*data_size) {
        take_body(r, data, *data_size);
        *data_size = 0;
        return MHD_YES;
    }
    return route(c, url, method, r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode why)
{
    (void)cls;
    request_t *r = *state;
    if (!r) return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);
    const union MHD_ConnectionInfo *ai =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char addr[64] = "-";
    if (ai && ai->client_addr && ai->client_addr->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ai->client_addr)->sin_addr, addr,
                  sizeof(addr));
    char when[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s %s %s %u %.2fms%s\n", when, addr, r->method[0] ? r->method : "-", r->uri,
            ci ? ci->http_status : 0, (mono() - r->start) * 1e3,
            why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    if (r->form) MHD_destroy_post_processor(r->form);
    free(r->body.data);
    free(r->photo.data);
    free(r->text.data);
    free(r->when.data);
    free(r->answer);
    unreserve(r->reserved);
    free(r);
    *state = NULL;
}

/* Whether the path of the raw @uri is well percent-encoded; -1 when out of memory. MHD decodes
 * the path with MHD_http_unescape before the request handler sees it, and that keeps a malformed
 * escape ("%zz", "%4") as it is and decodes "%00" to a NUL that cuts the path short. A copy
 * decoded the same way shows both: each well-formed escape makes three bytes one. ('+' is no
 * space in a path, and stays a '+'.) */
static int escapes_ok(const char *uri)
{
    size_t n = strcspn(uri, "?"), escapes = 0;
    char *p = strndup(uri, n);
    if (!p) return -1;
    for (size_t i = 0; i < n; i++) escapes += p[i] == '%';
    size_t len = MHD_http_unescape(p);
    int ok = len == n - 2 * escapes && strlen(p) == len;
    free(p);
    return ok;
}

/* Each request's state starts here: MHD gives the URI logger the raw URI first. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    request_t *r = calloc(1, sizeof(*r));
    int ok = r ? escapes_ok(uri) : -1;
    if (ok < 0) {
        free(r);
        return NULL;
    }
    r->bad_escape = !ok;
    r->start = mono();
    snprintf(r->uri, sizeof(r->uri), "%s", uri);
    for (char *p = r->uri; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?'; /* keep the log one line */
    return r;
}

int cmd_serve(int argc, char **argv)
{
    long port = -1, threads = 4, cache = 256, ocr_threads = 0, ocr_queue = 0;
    const char *host = "127.0.0.1";
    int web = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--port") == 0 || strcmp(a, "--threads") == 0 || strcmp(a, "--cache") == 0) {
            long v;
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &v) || v < 0 ||
                (a[2] == 'p' && v > 65535) || (a[2] != 'p' && (v < 1 || v > 1024)))
                return cli_usage_error("serve",
                                       "%s takes a number (port 0-65535, threads and "
                                       "cache 1-1024)",
                                       a);
            *(a[2] == 'p' ? &port : a[2] == 't' ? &threads : &cache) = v;
            i++;
        } else if (strcmp(a, "--ocr-threads") == 0 || strcmp(a, "--ocr-queue") == 0) {
            long v;
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &v) || v < 1 || v > 64)
                return cli_usage_error("serve", "%s takes a number from 1 to 64", a);
            *(a[6] == 't' ? &ocr_threads : &ocr_queue) = v;
            i++;
        } else if (strcmp(a, "--host") == 0) {
            if (i + 1 >= argc) return cli_usage_error("serve", "--host takes an IPv4 address");
            host = argv[++i];
        } else if (serve_web_option(argc, argv, &i, &web)) {
            if (web) return web;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("serve", "unknown option '%s'", a);
        } else if (add_path(a) < 0) {
            return EXIT_FAIL;
        }
    }
    if (port < 0)
        return cli_usage_error("serve",
                               "usage: folio serve --port P [--host ADDR] [--threads N] "
                               "[--cache N] [--ocr-threads N (default: the cores, at most 8)] "
                               "[--ocr-queue N (default: twice the OCR threads)] "
                               "[--audio-root DIR] [--token FILE] [--cors ORIGIN] DIR_OR_INDEX...");
    if (!lib.n) {
        fprintf(stderr, "folio: error: no .folio index to serve\n");
        return EXIT_FAIL;
    }
    qsort(lib.books, lib.n, sizeof(book_t), cmp_book);
    lib.max_open = (size_t)cache;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return cli_usage_error("serve", "--host takes an IPv4 address, not '%s'", host);
    serve_web_check_host(host);

    /* Signals are waited for, not handled: block them before MHD starts its threads. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!ocr_threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        ocr_threads = cores < 1 ? 1 : cores > 8 ? 8 : cores;
    }
    if (!ocr_queue) ocr_queue = 2 * ocr_threads;
    /* Room for the queued and read photos and a few uploads on their way. */
    budget.cap = (size_t)MAX_UPLOAD * (size_t)(ocr_threads + ocr_queue + 4);
    if (!pool_start((size_t)ocr_threads, (size_t)ocr_queue)) {
        fprintf(stderr, "folio: error: cannot start the OCR threads\n");
        return EXIT_FAIL;
    }

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)port,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "folio: error: cannot listen on %s:%ld: %s\n", host, port, strerror(errno));
        pool_stop();
        return EXIT_FAIL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "folio: serving %zu book(s) on http://%s:%u/\n", lib.n, host,
            di ? di->port : (unsigned)port);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "folio: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    pool_stop();        /* the photos in the queue are answered first */
    MHD_stop_daemon(d); /* waits for requests in flight; their access lines come before this */
    fprintf(stderr, "folio: stopped\n");
    for (size_t i = 0; i < lib.n; i++) {
        folio_index_free(lib.books[i].ix);
        free(lib.books[i].id);
        free(lib.books[i].path);
    }
    free(lib.books);
    return EXIT_OK;
}
