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
#include "serve.h"
#include "serve_web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY (64 * 1024)          /* text, JSON, a form's text field */
#define MAX_UPLOAD (16 * 1024 * 1024) /* a photo, or a form */
#define MAX_BOOKS_PAGE 1000           /* books in one page of GET /v1/books */

/* ---- responses ---- */

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

enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, char *json)
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

char *error_body(const char *code, const char *message)
{
    json_t *m = json_string(message);
    json_t *o =
        json_pack("{s:{s:s, s:o}}", "error", "code", code, "message", m ? m : json_string(code));
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                           const char *message)
{
    return send_json(c, status, error_body(code, message));
}

/* The message of a failed open names a file of the server: acquire() logged it, and the client
 * gets the kind of error. */
char *open_error(int err, unsigned *status)
{
    if (err == SERVE_EOPENING) {
        *status = MHD_HTTP_SERVICE_UNAVAILABLE;
        return error_body("busy", "the book is being opened; try again in a second");
    }
    const cli_result_t *r = cli_result(err);
    *status = r->http;
    return error_body(r->json, folio_strerror(err));
}

static enum MHD_Result open_failed(struct MHD_Connection *c, book_t *b, folio_t *ctx, int err)
{
    (void)b; /* acquire() logged why, with ctx's message */
    (void)ctx;
    unsigned status;
    char *json = open_error(err, &status);
    return send_json(c, status, json);
}

static enum MHD_Result book_info(struct MHD_Connection *c, book_t *b, folio_index_t *ix)
{
    json_t *audio = json_array();
    double total = 0;
    for (size_t i = 0; i < folio_index_n_files(ix); i++) {
        const folio_index_file_t *f = folio_index_file(ix, i);
        json_array_append_new(audio, json_pack("{s:I, s:s, s:o}", "index", (json_int_t)i, "path",
                                               f->path, "duration", cli_json_seconds(f->duration)));
        total = f->offset + f->duration;
    }
    json_error_t e;
    json_t *report = json_loads(folio_index_report(ix), 0, &e);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:I, s:I, s:o, s:o, s:o}", "id", b->id, "title",
        folio_index_meta(ix, "title"), "author", folio_index_meta(ix, "author"), "language",
        folio_index_meta(ix, "language"), "pages", (json_int_t)folio_index_n_pages(ix), "chapters",
        (json_int_t)folio_index_n_chapters(ix), "duration", cli_json_seconds(total), "audio", audio,
        "report", report ? report : json_null());
    char *s = o ? cli_json_dump(o) : NULL;
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
    if (r->photo.len) return serve_ocr_queue(c, b, r, r->photo.data, r->photo.len);
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
        return serve_ocr_queue(c, b, r, r->body.data, r->body.len);
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
        json_t *o =
            json_pack("{s:s, s:I}", "status", "ok", "books", (json_int_t)serve_books_count());
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return send_json(c, MHD_HTTP_OK, s);
    }
    if (strcmp(url, "/v1/books") == 0 || strcmp(url, "/v1/books/") == 0) {
        if (!get) return send_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
        /* A page of the list: ?offset=N&limit=N (at most 1000 a page, the default). */
        long offset = 0, limit = MAX_BOOKS_PAGE;
        const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset");
        if (v && (!cli_parse_long(v, &offset) || offset < 0))
            return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                              "offset takes a whole number from 0");
        v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
        if (v && (!cli_parse_long(v, &limit) || limit < 1 || limit > MAX_BOOKS_PAGE))
            return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter",
                              "limit takes a number from 1 to 1000");
        json_t *a = json_array();
        size_t total = serve_books_list((size_t)offset, (size_t)limit, a);
        size_t next = (size_t)offset + json_array_size(a);
        json_t *o = json_pack("{s:o, s:I, s:I, s:I}", "books", a, "total", (json_int_t)total,
                              "offset", (json_int_t)offset, "limit", (json_int_t)limit);
        if (o)
            json_object_set_new(o, "next",
                                next < total ? json_integer((json_int_t)next) : json_null());
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
        return send_json(c, MHD_HTTP_OK, s);
    }
    if (strncmp(url, "/v1/books/", 10) != 0)
        return send_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
    /* MHD has percent-decoded the path (book id and page label included); on_uri saw whether it
     * could. */
    if (r->bad_escape)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter", "bad percent-encoding");
    if (r->bad_utf8)
        return send_error(c, MHD_HTTP_BAD_REQUEST, "invalid_utf8", "the path is not UTF-8");
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
    serve_guard_restart(c, false); /* the next request's time starts */
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
            ci ? ci->http_status : 0, (serve_mono() - r->start) * 1e3,
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

/* Check the path of the raw @uri as MHD decodes it (with MHD_http_unescape, before the request
 * handler sees it): a malformed escape ("%zz", "%4") stays as it is and "%00" becomes a NUL that
 * cuts the path short, which a copy decoded the same way shows (each well-formed escape makes
 * three bytes one; '+' is no space in a path, and stays a '+'); and the decoded path must be
 * UTF-8 ("%ff" is not). -1 when out of memory. */
static int check_path(const char *uri, request_t *r)
{
    size_t n = strcspn(uri, "?"), escapes = 0;
    char *p = strndup(uri, n);
    if (!p) return -1;
    for (size_t i = 0; i < n; i++) escapes += p[i] == '%';
    size_t len = MHD_http_unescape(p);
    r->bad_escape = len != n - 2 * escapes || strlen(p) != len;
    json_t *utf8 = json_stringn(p, len); /* NULL when not UTF-8 */
    r->bad_utf8 = !utf8;
    json_decref(utf8);
    free(p);
    return 0;
}

/* Each request's state starts here: MHD gives the URI logger the raw URI first. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    request_t *r = calloc(1, sizeof(*r));
    if (!r || check_path(uri, r) < 0) {
        free(r);
        return NULL;
    }
    r->start = serve_mono();
    snprintf(r->uri, sizeof(r->uri), "%s", uri);
    for (char *p = r->uri; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?'; /* keep the log one line */
    return r;
}

/* Defaults of the limits on clients (README): the connections at once, from one address, and
 * the seconds a request may take from its first byte to its answer's last. */
#define MAX_CONNECTIONS 2000
#define MAX_PER_IP 64
#define REQUEST_TIMEOUT 30

/* serve's own parser takes "--opt value": "--opt=value" is split into the two, as getopt_long
 * would read it. Returns the new argv (caller frees the array; its strings are @argv's or one
 * block after the pointers), or NULL when out of memory. */
static char **split_equals(int argc, char **argv, int *n_out)
{
    size_t bytes = 0;
    int n = argc;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--", 2) == 0 && argv[i][2] && strchr(argv[i], '=')) {
            n++;
            bytes += strlen(argv[i]) + 1;
        }
    char **out = malloc((size_t)(n + 1) * sizeof(char *) + bytes);
    if (!out) return NULL;
    char *pool = (char *)(out + n + 1);
    int k = 0;
    for (int i = 0; i < argc; i++) {
        const char *eq =
            i > 0 && strncmp(argv[i], "--", 2) == 0 && argv[i][2] ? strchr(argv[i], '=') : NULL;
        if (!eq) {
            out[k++] = argv[i];
            continue;
        }
        size_t len = strlen(argv[i]);
        memcpy(pool, argv[i], len + 1);
        pool[eq - argv[i]] = '\0';
        out[k++] = pool;
        out[k++] = pool + (eq - argv[i]) + 1;
        pool += len + 1;
    }
    out[k] = NULL;
    *n_out = k;
    return out;
}

static int serve(int argc, char **argv);

int cmd_serve(int argc, char **argv)
{
    int n;
    char **args = split_equals(argc, argv, &n);
    if (!args) {
        fprintf(stderr, "folio: error: out of memory\n");
        return EXIT_FAIL;
    }
    int status = serve(n, args);
    free(args);
    return status;
}

static int serve(int argc, char **argv)
{
    long port = -1, threads = 4, cache = 256, ocr_threads = 0, ocr_queue = 0;
    long max_conns = MAX_CONNECTIONS, per_ip = MAX_PER_IP, timeout = REQUEST_TIMEOUT;
    const char *host = "127.0.0.1";
    int web = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v;
        if (strcmp(a, "--port") == 0 || strcmp(a, "--threads") == 0 || strcmp(a, "--cache") == 0) {
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &v) || v < 0 ||
                (a[2] == 'p' && v > 65535) || (a[2] != 'p' && (v < 1 || v > 1024)))
                return cli_usage_error("serve",
                                       "%s takes a number (port 0-65535, threads and "
                                       "cache 1-1024)",
                                       a);
            *(a[2] == 'p' ? &port : a[2] == 't' ? &threads : &cache) = v;
            i++;
        } else if (strcmp(a, "--ocr-threads") == 0 || strcmp(a, "--ocr-queue") == 0) {
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &v) || v < 1 || v > 64)
                return cli_usage_error("serve", "%s takes a number from 1 to 64", a);
            *(a[6] == 't' ? &ocr_threads : &ocr_queue) = v;
            i++;
        } else if (strcmp(a, "--max-connections") == 0 || strcmp(a, "--max-per-ip") == 0) {
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &v) || v < 1 || v > 100000)
                return cli_usage_error("serve", "%s takes a number from 1 to 100000", a);
            *(a[6] == 'c' ? &max_conns : &per_ip) = v;
            i++;
        } else if (strcmp(a, "--request-timeout") == 0) {
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &v) || v < 1 || v > 3600)
                return cli_usage_error("serve", "%s takes seconds from 1 to 3600", a);
            timeout = v;
            i++;
        } else if (strcmp(a, "--host") == 0) {
            if (i + 1 >= argc) return cli_usage_error("serve", "--host takes an IPv4 address");
            host = argv[++i];
        } else if (serve_web_option(argc, argv, &i, &web)) {
            if (web) return web;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("serve", "unknown option '%s'", a);
        } else if (serve_add_path(a) < 0) {
            return EXIT_FAIL;
        }
    }
    if (port < 0)
        return cli_usage_error("serve",
                               "usage: folio serve --port P [--host ADDR] [--threads N] "
                               "[--cache N] [--ocr-threads N (default: the cores, at most 8)] "
                               "[--ocr-queue N (default: twice the OCR threads)] "
                               "[--max-connections N (default %d)] [--max-per-ip N (default %d)] "
                               "[--request-timeout SEC (default %d)] [--audio-root DIR] "
                               "[--token FILE] [--cors ORIGIN] DIR_OR_INDEX...",
                               MAX_CONNECTIONS, MAX_PER_IP, REQUEST_TIMEOUT);
    serve_books_ready((size_t)cache);
    if (!serve_books_count()) {
        fprintf(stderr, "folio: error: no .folio index to serve\n");
        serve_books_free();
        return EXIT_FAIL;
    }
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return cli_usage_error("serve", "--host takes an IPv4 address, not '%s'", host);
    /* A file a connection, and room for the open indexes, the listener and the rest. */
    long files = serve_raise_fd_limit(max_conns + cache + 64);
    if (files < max_conns + cache + 64) {
        long fit = files - cache - 64 > 16 ? files - cache - 64 : 16;
        fprintf(stderr,
                "folio: warning: %ld open files allowed (ulimit -n): at most %ld connections, "
                "not %ld\n",
                files, fit, max_conns);
        max_conns = fit;
    }
    serve_web_check_host(host);

    /* Signals are waited for, not handled: block them before MHD starts its threads. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!ocr_threads) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        ocr_threads = cores < 1 ? 1 : cores > 8 ? 8 : cores;
    }
    if (!ocr_queue) ocr_queue = 2 * ocr_threads;
    /* Room for the queued and read photos and a few uploads on their way. */
    budget.cap = (size_t)MAX_UPLOAD * (size_t)(ocr_threads + ocr_queue + 4);
    if (!serve_ocr_start((size_t)ocr_threads, (size_t)ocr_queue) ||
        !serve_guard_start((double)timeout)) {
        fprintf(stderr, "folio: error: cannot start the server's threads\n");
        serve_ocr_stop();
        serve_books_free();
        return EXIT_FAIL;
    }

    /* MHD's own timeout closes idle connections; the guard bounds a request's whole time. */
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)port,
        NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned)per_ip, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_NOTIFY_CONNECTION, serve_guard_notify, NULL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "folio: error: cannot listen on %s:%ld: %s\n", host, port, strerror(errno));
        serve_ocr_stop();
        serve_guard_stop();
        serve_books_free();
        return EXIT_FAIL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    fprintf(stderr, "folio: serving %zu book(s) on http://%s:%u/\n", serve_books_count(), host,
            di ? di->port : (unsigned)port);
    int sig = 0;
    /* SIGHUP: look for indexes that appeared in the folders given. */
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
        size_t added = serve_books_rescan(false);
        fprintf(stderr, "folio: SIGHUP: %zu new book%s, %zu in all\n", added, added == 1 ? "" : "s",
                serve_books_count());
    }
    fprintf(stderr, "folio: %s: stopping\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    serve_ocr_stop();   /* the photos in the queue are answered first */
    MHD_stop_daemon(d); /* waits for requests in flight; their access lines come before this */
    serve_guard_stop();
    fprintf(stderr, "folio: stopped\n");
    serve_books_free();
    return EXIT_OK;
}
