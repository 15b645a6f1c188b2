/* The web page of `folio serve` (its files built into the binary), the login form, the page
 * table the page lists, the options --audio-root, --cors and --token, and the headers every
 * response carries. */
#include "cli.h"
#include "serve_web.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

serve_web_options_t serve_web;

#define CSP                                                                                        \
    "default-src 'self'; media-src 'self' blob:; img-src 'self' blob: data:; "                     \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

bool serve_web_option(int argc, char **argv, int *i, int *status)
{
    const char *a = argv[*i];
    *status = 0;
    if (strcmp(a, "--audio-root") != 0 && strcmp(a, "--cors") != 0 && strcmp(a, "--token") != 0)
        return false;
    if (*i + 1 >= argc || !argv[*i + 1][0]) {
        *status = cli_usage_error("serve", "%s takes %s", a,
                                  a[2] == 'c' ? "an origin (https://host:port)" : "a path");
        return true;
    }
    const char *v = argv[++*i];
    if (a[2] == 'a') {
        serve_web.audio_root = v;
    } else if (a[2] == 'c') {
        if (strpbrk(v, "\r\n"))
            *status = cli_usage_error("serve", "--cors takes an origin, not '%s'", v);
        else
            serve_web.cors = v;
    } else {
        free(serve_web.token);
        serve_web.token = NULL;
        if (!serve_auth_load(v)) *status = EXIT_FAIL;
    }
    return true;
}

void serve_web_check_host(const char *host)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127) return;
    fprintf(stderr,
            "folio: warning: listening on %s: the books and their audio are open to the "
            "network%s\n",
            host, serve_web.token ? "" : " (to anyone on it: see --token)");
}

void serve_web_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", CSP);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    if (serve_web.cors) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", serve_web.cors);
        MHD_add_response_header(r, "Vary", "Origin");
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "Content-Range, Accept-Ranges, Content-Length, ETag");
    }
}

/* Queue @len bytes at @data (copied) as @type with @status. */
static enum MHD_Result send_bytes(struct MHD_Connection *c, unsigned status, const char *type,
                                  const void *data, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    serve_web_headers(r);
    if (type) MHD_add_response_header(r, "Content-Type", type);
    if (status == MHD_HTTP_UNAUTHORIZED) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result serve_web_error(struct MHD_Connection *c, unsigned status, const char *code,
                                const char *message)
{
    json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) return MHD_NO;
    enum MHD_Result ret = send_bytes(c, status, "application/json", s, strlen(s));
    free(s);
    return ret;
}

static const serve_asset_t *asset(const char *name)
{
    for (size_t i = 0; i < serve_n_assets; i++)
        if (strcmp(serve_assets[i].name, name) == 0) return &serve_assets[i];
    return NULL;
}

/* The login page with @message (plain text) in place of its <!--message--> mark. */
static enum MHD_Result login_page(struct MHD_Connection *c, unsigned status, const char *message)
{
    const serve_asset_t *a = asset("login.html");
    if (!a) return serve_web_error(c, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
    static const char mark[] = "<!--message-->";
    const char *page = (const char *)a->data;
    const char *at = strstr(page, mark);
    size_t head = at ? (size_t)(at - page) : a->len, tail = at ? head + sizeof(mark) - 1 : a->len;
    size_t n = head + strlen(message) + (a->len - tail);
    char *out = malloc(n + 1);
    if (!out) return MHD_NO;
    memcpy(out, page, head);
    memcpy(out + head, message, strlen(message));
    memcpy(out + head + strlen(message), page + tail, a->len - tail);
    enum MHD_Result ret = send_bytes(c, status, a->type, out, n);
    free(out);
    return ret;
}

/* POST /login, a form sent as text/plain ("token=VALUE\r\n"): the right token sets the cookie
 * and goes to the page; a wrong one is the login page again, 401. */
static enum MHD_Result login(struct MHD_Connection *c, const char *body, size_t len)
{
    if (!serve_web.token) return login_page(c, MHD_HTTP_OK, "This server asks for no token.");
    static const char field[] = "token=";
    size_t n = sizeof(field) - 1;
    if (!body || len < n || memcmp(body, field, n) != 0)
        return login_page(c, MHD_HTTP_BAD_REQUEST, "Type the token, then press Log in.");
    const char *v = body + n;
    size_t vlen = len - n;
    while (vlen && (v[vlen - 1] == '\n' || v[vlen - 1] == '\r' || v[vlen - 1] == ' ')) vlen--;
    if (!serve_auth_check(v, vlen))
        return login_page(c, MHD_HTTP_UNAUTHORIZED, "That token is not right.");
    char cookie[700];
    snprintf(cookie, sizeof(cookie),
             "folio_token=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000",
             serve_web.token);
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    serve_web_headers(r);
    MHD_add_response_header(r, "Set-Cookie", cookie);
    MHD_add_response_header(r, "Location", "/");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result preflight(struct MHD_Connection *c)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    serve_web_headers(r);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, HEAD, POST");
    MHD_add_response_header(r, "Access-Control-Allow-Headers",
                            "Authorization, Content-Type, Range");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, r);
    MHD_destroy_response(r);
    return ret;
}

bool serve_web_route(struct MHD_Connection *c, const char *url, const char *method,
                     const char *body, size_t body_len, enum MHD_Result *ret)
{
    bool get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (strcmp(method, "OPTIONS") == 0 && serve_web.cors) {
        *ret = preflight(c);
        return true;
    }
    if (strcmp(url, "/login") == 0) {
        if (get)
            *ret = login_page(c, MHD_HTTP_OK, "");
        else if (strcmp(method, "POST") == 0)
            *ret = login(c, body, body_len);
        else
            *ret = serve_web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                                   "GET or POST");
        return true;
    }
    const char *name = strcmp(url, "/") == 0 ? "index.html" : NULL;
    if (!name && url[0] == '/' && strchr(url + 1, '/') == NULL && strcmp(url + 1, "login.html"))
        name = url + 1;
    const serve_asset_t *a = name ? asset(name) : NULL;
    if (!a) return false;
    *ret = get ? send_bytes(c, MHD_HTTP_OK, a->type, a->data, a->len)
               : serve_web_error(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed", "GET");
    return true;
}

bool serve_web_is_book_route(const char *rest)
{
    return strcmp(rest, "pages") == 0 || strncmp(rest, "audio/", 6) == 0;
}

/* {"pages": [{"ordinal", "label", "chapter", "time", "file", "file_time"}...]}: every page, its
 * chapter's title (null before the first) and where its reading starts (null: not read). */
static enum MHD_Result pages(struct MHD_Connection *c, const folio_index_t *ix)
{
    json_t *a = json_array();
    size_t n_ch = folio_index_n_chapters(ix), ch = 0;
    const char *title = NULL;
    for (size_t i = 0; a && i < folio_index_n_pages(ix); i++) {
        const folio_index_page_t *p = folio_index_page(ix, i);
        for (; ch < n_ch && folio_index_chapter(ix, ch)->start_char <= p->start_char; ch++)
            title = folio_index_chapter(ix, ch)->title;
        bool read = p->file >= 0 && p->start_time >= 0;
        json_t *o =
            json_pack("{s:I, s:s, s:o, s:o, s:o, s:o}", "ordinal", (json_int_t)p->ordinal, "label",
                      p->label, "chapter", title ? json_string(title) : json_null(), "time",
                      read ? json_real(p->start_time) : json_null(), "file",
                      read ? json_integer(p->file) : json_null(), "file_time",
                      read ? json_real(p->file_time) : json_null());
        if (!o || json_array_append_new(a, o) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    json_t *o = a ? json_pack("{s:o}", "pages", a) : NULL;
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    if (!s) return serve_web_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "failed", "out of memory");
    enum MHD_Result ret = send_bytes(c, MHD_HTTP_OK, "application/json", s, strlen(s));
    free(s);
    return ret;
}

enum MHD_Result serve_web_book(struct MHD_Connection *c, const char *id, const char *index_path,
                               const folio_index_t *ix, const char *rest)
{
    if (strcmp(rest, "pages") == 0) return pages(c, ix);
    return serve_audio_file(c, id, index_path, ix, rest + 6);
}
