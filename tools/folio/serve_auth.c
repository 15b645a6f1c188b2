/* Who may use `folio serve`: the token of --token FILE, given as an "Authorization: Bearer" header
 * or as the cookie the login form sets, guards every resource but /healthz and the login page.
 * Comparisons take the same time whatever the given token. */
#include "cli.h"
#include "serve_web.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TOKEN 512
#define COOKIE "folio_token"

bool serve_auth_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return false;
    }
    char buf[MAX_TOKEN + 2];
    size_t n = fread(buf, 1, sizeof(buf), f);
    bool err = ferror(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "folio: error: %s: cannot be read\n", path);
        return false;
    }
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ')) n--;
    if (n > MAX_TOKEN) {
        fprintf(stderr, "folio: error: %s: the token is over %d bytes\n", path, MAX_TOKEN);
        return false;
    }
    if (n < 8) {
        fprintf(stderr, "folio: error: %s: the token must be at least 8 characters\n", path);
        return false;
    }
    /* It goes into a cookie and a header as it is: printable ASCII, none of a cookie's
     * separators. */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr(";,\"\\", ch)) {
            fprintf(stderr,
                    "folio: error: %s: byte %zu of the token is not printable ASCII (or is one of "
                    "; , \" \\ or a space)\n",
                    path, i + 1);
            return false;
        }
    }
    serve_web.token = strndup(buf, n);
    if (!serve_web.token) {
        fprintf(stderr, "folio: error: out of memory\n");
        return false;
    }
    return true;
}

bool serve_auth_check(const char *given, size_t len)
{
    const char *t = serve_web.token;
    size_t n = strlen(t);
    /* Every byte of the token is compared, whatever @given's length: the time says nothing of
     * how much of it was right. */
    unsigned diff = len != n;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)t[i] ^ (unsigned char)(i < len ? given[i] : 0);
    return diff == 0;
}

/* The value of cookie @name in the Cookie header of @c, and its length; NULL when absent. (MHD's
 * own cookie parser keeps only well-formed pairs; this reads the header as the browser sent
 * it.) */
static const char *cookie(struct MHD_Connection *c, const char *name, size_t *len)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Cookie");
    size_t n = strlen(name);
    while (h && *h) {
        while (*h == ' ' || *h == ';') h++;
        size_t k = strcspn(h, ";");
        if (k > n && strncmp(h, name, n) == 0 && h[n] == '=') {
            *len = k - n - 1;
            return h + n + 1;
        }
        h += k;
    }
    return NULL;
}

static bool open_resource(const char *url, const char *method)
{
    if (strcmp(url, "/healthz") == 0 || strcmp(url, "/login") == 0 || strcmp(url, "/app.css") == 0)
        return true;
    return serve_web.cors && strcmp(method, "OPTIONS") == 0;
}

bool serve_auth_allows(struct MHD_Connection *c, const char *url, const char *method)
{
    if (!serve_web.token || open_resource(url, method)) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && strncasecmp(h, "Bearer ", 7) == 0) {
        h += 7;
        while (*h == ' ') h++;
        size_t n = strlen(h);
        while (n && h[n - 1] == ' ') n--;
        return serve_auth_check(h, n);
    }
    size_t len = 0;
    const char *v = cookie(c, COOKIE, &len);
    return v && serve_auth_check(v, len);
}

enum MHD_Result serve_auth_refuse(struct MHD_Connection *c, const char *url, const char *method)
{
    if (strcmp(url, "/") == 0 && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)) {
        struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        serve_web_headers(r);
        MHD_add_response_header(r, "Location", "/login");
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_SEE_OTHER, r);
        MHD_destroy_response(r);
        return ret;
    }
    return serve_web_error(c, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                           "this server asks for a token: send \"Authorization: Bearer TOKEN\" "
                           "or log in at /login");
}
