/* GET /v1/books/{id}/audio/{n} of `folio serve`: the n-th audio file a book's index lists, found
 * by its basename in the operator's audio folder (never by a path from the request) and sent from
 * its file descriptor, whole or one byte range of it, with the validators browsers revalidate
 * and seek with. */
#include "serve_web.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Parse the decimal digits at *@p (at least one) into *@v, advancing *@p; false on none or
 * overflow. */
static bool digits(const char **p, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (x > (UINT64_MAX - 9) / 10) return false;
        x = x * 10 + (uint64_t)(*s - '0');
    }
    if (s == *p) return false;
    *p = s;
    *v = x;
    return true;
}

/* The Content-Type of the audio file @name whose first bytes are @head[0..@n): by its extension,
 * else by its magic. */
static const char *audio_type(const char *name, const unsigned char *head, size_t n)
{
    static const struct {
        const char *ext, *type;
    } exts[] = {{".mp3", "audio/mpeg"}, {".m4a", "audio/mp4"}, {".m4b", "audio/mp4"},
                {".mp4", "audio/mp4"},  {".aac", "audio/aac"}, {".wav", "audio/wav"},
                {".ogg", "audio/ogg"},  {".oga", "audio/ogg"}, {".opus", "audio/ogg"},
                {".flac", "audio/flac"}};
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcasecmp(dot, exts[i].ext) == 0) return exts[i].type;
    if (n >= 3 && memcmp(head, "ID3", 3) == 0) return "audio/mpeg";
    if (n >= 2 && head[0] == 0xff && (head[1] & 0xe0) == 0xe0) return "audio/mpeg";
    if (n >= 8 && memcmp(head + 4, "ftyp", 4) == 0) return "audio/mp4";
    if (n >= 12 && memcmp(head, "RIFF", 4) == 0 && memcmp(head + 8, "WAVE", 4) == 0)
        return "audio/wav";
    if (n >= 4 && memcmp(head, "OggS", 4) == 0) return "audio/ogg";
    if (n >= 4 && memcmp(head, "fLaC", 4) == 0) return "audio/flac";
    return "application/octet-stream";
}

/* Open @name of book @id read-only: under --audio-root as ROOT/ID/NAME, then ROOT/NAME; without
 * it, beside the index @index_path. -1 when none is a regular file (*@tried: the last path). */
static int open_audio(const char *id, const char *index_path, const char *name, struct stat *st,
                      char *tried, size_t cap)
{
    char dirs[2][4096];
    int n = 0;
    if (serve_web.audio_root) {
        /* A book id is a file name without ".folio": "." and ".." are no folders of its own. */
        if (strcmp(id, ".") != 0 && strcmp(id, "..") != 0)
            snprintf(dirs[n++], sizeof(dirs[0]), "%s/%s", serve_web.audio_root, id);
        snprintf(dirs[n++], sizeof(dirs[0]), "%s", serve_web.audio_root);
    } else {
        const char *slash = strrchr(index_path, '/');
        if (slash)
            snprintf(dirs[n++], sizeof(dirs[0]), "%.*s", (int)(slash - index_path), index_path);
        else
            snprintf(dirs[n++], sizeof(dirs[0]), ".");
    }
    for (int i = 0; i < n; i++) {
        int w = snprintf(tried, cap, "%s/%s", dirs[i], name);
        if (w < 0 || (size_t)w >= cap) continue;
        int fd = open(tried, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        if (fstat(fd, st) == 0 && S_ISREG(st->st_mode)) return fd;
        close(fd);
    }
    return -1;
}

/* Whether the If-None-Match list @h names @etag (weakly compared) or is "*". */
static bool etag_listed(const char *h, const char *etag)
{
    size_t n = strlen(etag);
    while (*h) {
        while (*h == ' ' || *h == '\t' || *h == ',') h++;
        if (*h == '*') return true;
        if (strncmp(h, "W/", 2) == 0) h += 2;
        size_t k = strcspn(h, ",");
        size_t m = k;
        while (m && (h[m - 1] == ' ' || h[m - 1] == '\t')) m--;
        if (m == n && memcmp(h, etag, n) == 0) return true;
        h += k;
    }
    return false;
}

typedef enum { RANGE_NONE, RANGE_ONE, RANGE_UNSATISFIABLE } range_t;

/* The one byte range of the Range header @h over a file of @size bytes, as [*@from, *@to].
 * RANGE_NONE: no header, a malformed one, another unit or several ranges (the whole file is
 * sent, as RFC 9110 allows). */
static range_t parse_range(const char *h, uint64_t size, uint64_t *from, uint64_t *to)
{
    if (!h || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ',')) return RANGE_NONE;
    const char *p = h + 6;
    while (*p == ' ') p++;
    uint64_t a = 0, b = 0;
    if (*p == '-') { /* the last b bytes */
        p++;
        if (!digits(&p, &b)) return RANGE_NONE;
        while (*p == ' ') p++;
        if (*p) return RANGE_NONE;
        if (b == 0 || size == 0) return RANGE_UNSATISFIABLE;
        *from = b >= size ? 0 : size - b;
        *to = size - 1;
        return RANGE_ONE;
    }
    if (!digits(&p, &a) || *p++ != '-') return RANGE_NONE;
    bool open_end = !(*p >= '0' && *p <= '9');
    if (!open_end && !digits(&p, &b)) return RANGE_NONE;
    while (*p == ' ') p++;
    if (*p || (!open_end && b < a)) return RANGE_NONE;
    if (a >= size) return RANGE_UNSATISFIABLE;
    *from = a;
    *to = open_end || b >= size ? size - 1 : b;
    return RANGE_ONE;
}

static enum MHD_Result send_empty(struct MHD_Connection *c, unsigned status, const char *etag,
                                  const char *modified, const char *range)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    serve_web_headers(r);
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Last-Modified", modified);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    if (range) MHD_add_response_header(r, "Content-Range", range);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result serve_audio_file(struct MHD_Connection *c, const char *id, const char *index_path,
                                 const folio_index_t *ix, const char *n)
{
    const char *p = n;
    uint64_t i = 0;
    size_t n_files = folio_index_n_files(ix);
    if (!digits(&p, &i) || *p || i >= n_files) {
        char msg[128];
        snprintf(msg, sizeof(msg), "no such audio file: the book has %zu, numbered from 0",
                 n_files);
        return serve_web_error(c, MHD_HTTP_NOT_FOUND, "not_found", msg);
    }
    /* The index keeps basenames; a path in it would still be cut to its last part. */
    const char *name = folio_index_file(ix, (size_t)i)->path;
    const char *slash = strrchr(name, '/');
    if (slash) name = slash + 1;
    if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return serve_web_error(c, MHD_HTTP_NOT_FOUND, "not_found", "the index names no such file");
    struct stat st;
    char path[8192];
    int fd = open_audio(id, index_path, name, &st, path, sizeof(path));
    if (fd < 0) {
        fprintf(stderr, "folio: error: book '%s': audio file %" PRIu64 " is not at %s\n", id, i,
                path);
        return serve_web_error(c, MHD_HTTP_NOT_FOUND, "not_found",
                               "this audio file of the book is not on the server");
    }
    uint64_t size = (uint64_t)st.st_size;
    char etag[64], modified[64], range[96];
    snprintf(etag, sizeof(etag), "\"%" PRIx64 "-%" PRIx64 "\"", size,
             (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec);
    struct tm tm;
    gmtime_r(&st.st_mtime, &tm);
    strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);

    const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    if (inm && etag_listed(inm, etag)) {
        close(fd);
        return send_empty(c, MHD_HTTP_NOT_MODIFIED, etag, modified, NULL);
    }
    const char *rh = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-Range");
    if (if_range && strcmp(if_range, etag) != 0 && strcmp(if_range, modified) != 0)
        rh = NULL; /* the client's copy is another version: send it all */
    uint64_t from = 0, to = size ? size - 1 : 0;
    range_t kind = parse_range(rh, size, &from, &to);
    if (kind == RANGE_UNSATISFIABLE) {
        close(fd);
        snprintf(range, sizeof(range), "bytes */%" PRIu64, size);
        return send_empty(c, MHD_HTTP_RANGE_NOT_SATISFIABLE, etag, modified, range);
    }
    unsigned char head[12];
    ssize_t got = pread(fd, head, sizeof(head), 0);
    const char *type = audio_type(name, head, got > 0 ? (size_t)got : 0);
    uint64_t len = kind == RANGE_ONE ? to - from + 1 : size;
    /* MHD owns fd from here (it closes it with the response) and sends it in pieces. */
    struct MHD_Response *r =
        MHD_create_response_from_fd_at_offset64(len, fd, kind == RANGE_ONE ? from : 0);
    if (!r) {
        close(fd);
        return MHD_NO;
    }
    serve_web_headers(r);
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Accept-Ranges", "bytes");
    MHD_add_response_header(r, "ETag", etag);
    MHD_add_response_header(r, "Last-Modified", modified);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    if (kind == RANGE_ONE) {
        snprintf(range, sizeof(range), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, from, to, size);
        MHD_add_response_header(r, "Content-Range", range);
    }
    enum MHD_Result ret =
        MHD_queue_response(c, kind == RANGE_ONE ? MHD_HTTP_PARTIAL_CONTENT : MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
