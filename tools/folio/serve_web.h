/* The parts of `folio serve` around the lookups, each in its own file: the web page and the
 * headers every response carries (serve_web.c), audio streaming (serve_audio.c) and who may use
 * the server (serve_auth.c). cmd_serve.c calls them from a few hooks. */
#ifndef FOLIO_SERVE_WEB_H
#define FOLIO_SERVE_WEB_H

#include <folio.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* A file of the web page, built into the binary (serve_web_assets.c, made from web/ by
 * web/embed.py). */
typedef struct {
    const char *name; /* "index.html", ... */
    const char *type; /* its Content-Type */
    const unsigned char *data;
    size_t len;
} serve_asset_t;

extern const serve_asset_t serve_assets[];
extern const size_t serve_n_assets;

/* The options of this part of the server, set once before MHD starts and read-only after. */
typedef struct {
    const char *audio_root; /* --audio-root DIR, or NULL: audio next to each index */
    const char *cors;       /* --cors ORIGIN, or NULL: no CORS headers */
    char *token;            /* read from --token FILE, or NULL: no token asked */
} serve_web_options_t;

extern serve_web_options_t serve_web;

/* Whether argv[*i] is an option of this part (--audio-root DIR, --cors ORIGIN, --token FILE);
 * if so, *i is advanced past its value and *@status is 0, or EXIT_USAGE / EXIT_FAIL after
 * printing why (a missing value; a token file that cannot be read or holds no usable token). */
bool serve_web_option(int argc, char **argv, int *i, int *status);

/* Warn on stderr when @host is not a loopback address: the books and audio are then open to the
 * network (to anyone on it without --token). */
void serve_web_check_host(const char *host);

/* Add the headers every response carries: Content-Security-Policy, X-Content-Type-Options,
 * Referrer-Policy, and the CORS headers with --cors. */
void serve_web_headers(struct MHD_Response *r);

/* A JSON error response {"error": {"code", "message"}} (@code and @message plain ASCII without
 * quotes or backslashes), with the headers above. */
enum MHD_Result serve_web_error(struct MHD_Connection *c, unsigned status, const char *code,
                                const char *message);

/* Answer the page's own resources (/, /app.js, /app.css, /login GET and POST, @body being a
 * POSTed text/plain login form) and CORS preflights. Returns true with *@ret when @url was one. */
bool serve_web_route(struct MHD_Connection *c, const char *url, const char *method,
                     const char *body, size_t body_len, enum MHD_Result *ret);

/* Whether @rest (the path after /v1/books/{id}/) is one of the book's resources answered here:
 * "pages" or "audio/N". */
bool serve_web_is_book_route(const char *rest);

/* Answer @rest of book @id (index file @index_path, open as @ix), GET or HEAD: the page table
 * (serve_web.c) or an audio file (serve_audio_file). */
enum MHD_Result serve_web_book(struct MHD_Connection *c, const char *id, const char *index_path,
                               const folio_index_t *ix, const char *rest);

/* GET/HEAD /v1/books/{id}/audio/{@n}: the @n-th audio file @ix lists, by its basename under
 * --audio-root (DIR/ID/NAME, then DIR/NAME) or beside @index_path; with Range (one range: 206;
 * several: 200 whole), ETag/Last-Modified and If-None-Match (304). Never opens a path taken from
 * the request. */
enum MHD_Result serve_audio_file(struct MHD_Connection *c, const char *id, const char *index_path,
                                 const folio_index_t *ix, const char *n);

/* Read the token of --token @path into serve_web.token; false after printing why. */
bool serve_auth_load(const char *path);

/* Whether the request for @url by @method may go on: no token is asked, or it is /healthz, the
 * login page and its style sheet, a CORS preflight, or the request carries the token (an
 * "Authorization: Bearer" header or the login cookie), compared in constant time. */
bool serve_auth_allows(struct MHD_Connection *c, const char *url, const char *method);

/* Refuse a request serve_auth_allows() did not allow: the page itself sends a browser to the
 * login form (303), anything else is a 401 JSON error. */
enum MHD_Result serve_auth_refuse(struct MHD_Connection *c, const char *url, const char *method);

/* Whether @given[0..@len) is the token (constant time in the token's length). */
bool serve_auth_check(const char *given, size_t len);

#endif
