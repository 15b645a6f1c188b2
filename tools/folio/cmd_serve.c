/* folio serve --port P [--host ADDR] [--threads N] [--cache N] DIR_OR_INDEX...: the lookups over
 * HTTP (libmicrohttpd, a thread pool), every index by its book id (the file name without
 * ".folio"). Open indexes are cached, least recently used first out, so that a server of
 * thousands of books keeps only the busy ones open. Answers are the JSON of `folio lookup`
 * (lookup_json.c); errors are JSON with their HTTP status. One access-log line per request on
 * stderr; SIGTERM or SIGINT stops it gracefully.
 *
 *   GET  /healthz
 *   GET  /v1/books                          {"books": [{"id"}...]}
 *   GET  /v1/books/{id}                     title, author, pages, audio, report
 *   GET  /v1/books/{id}/pages/{label}       page -> audio (label percent-decoded)
 *   GET  /v1/books/{id}/position?t=T        audio -> page (global time, or file=N&t=T)
 *   POST /v1/books/{id}/match               body: the OCR text (text/plain), or JSON
 *                                           {"text": ..., "current_time": T} (scan to read) */
#include "cli.h"

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

#define MAX_BODY (64 * 1024)

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
    char uri[256]; /* for the access log */
    char method[16];
    bool started;
    char *body; /* the request body */
    size_t len;
    bool too_large;
    bool bad_escape; /* the path has a malformed percent-escape or an encoded NUL */
    double start;
} request_t;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

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
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                                  const char *message)
{
    json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return send_json(c, status, s);
}

/* The index of @b cannot be opened (@err, the message on @ctx): the message names a file of the
 * server, so it goes to the server's log, and the client gets the kind of error. */
static enum MHD_Result open_failed(struct MHD_Connection *c, book_t *b, folio_t *ctx, int err)
{
    fprintf(stderr, "folio: error: book '%s': %s\n", b->id,
            ctx ? folio_errmsg(ctx) : folio_strerror(err));
    const cli_result_t *r = cli_result(err);
    return send_error(c, r->http, r->json, folio_strerror(err));
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

static enum MHD_Result match(struct MHD_Connection *c, book_t *b, request_t *r)
{
    const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    lookup_query_t q = {.candidates = 3, .file = -1};
    json_t *doc = NULL;
    if (type && strncasecmp(type, "application/json", 16) == 0) {
        json_error_t e;
        doc = json_loadb(r->body ? r->body : "", r->len, 0, &e);
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
    } else if (!type || strncasecmp(type, "text/plain", 10) == 0) {
        q.text = r->body ? r->body : "";
        q.text_len = r->len;
    } else {
        return send_error(c, 415, "unsupported_media_type",
                          "send the text as text/plain or application/json");
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
    if (!rest || !*rest) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        folio_t *ctx = folio_new(); /* NULL: the log says less */
        int err = 0;
        folio_index_t *ix = acquire(b, ctx, &err);
        enum MHD_Result ret = ix ? book_info(c, b, ix) : open_failed(c, b, ctx, err);
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
        if (r->too_large)
            return send_error(c, 413, "too_large", "the text is over 64 KiB; send a page or less");
        return match(c, b, r);
    }
    return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *data_size, void **state)
{
    (void)cls;
    (void)version;
    request_t *r = *state; /* made by on_uri */
    if (!r) return MHD_NO;
    if (!r->started) {
        r->started = true;
        snprintf(r->method, sizeof(r->method), "%s", method);
        return MHD_YES; /* headers only; the body (if any) comes next */
    }
    if (*data_size) {
        if (r->len + *data_size > MAX_BODY) {
            r->too_large = true;
        } else {
            char *nb = realloc(r->body, r->len + *data_size + 1);
            if (!nb) return MHD_NO;
            r->body = nb;
            memcpy(r->body + r->len, data, *data_size);
            r->len += *data_size;
            r->body[r->len] = 0;
        }
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
    free(r->body);
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
    long port = -1, threads = 4, cache = 256;
    const char *host = "127.0.0.1";
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
        } else if (strcmp(a, "--host") == 0) {
            if (i + 1 >= argc) return cli_usage_error("serve", "--host takes an IPv4 address");
            host = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("serve", "unknown option '%s'", a);
        } else if (add_path(a) < 0) {
            return EXIT_FAIL;
        }
    }
    if (port < 0)
        return cli_usage_error("serve", "usage: folio serve --port P [--host ADDR] [--threads N] "
                                        "[--cache N] DIR_OR_INDEX...");
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

    /* Signals are waited for, not handled: block them before MHD starts its threads. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)port, NULL, NULL, on_request,
        NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)1000, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "folio: error: cannot listen on %s:%ld: %s\n", host, port, strerror(errno));
        return EXIT_FAIL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "folio: serving %zu book(s) on http://%s:%u/\n", lib.n, host,
            di ? di->port : (unsigned)port);
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "folio: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
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
