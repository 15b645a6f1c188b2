/* The Folio context, error reporting, buffers and UTF-8 helpers. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct folio {
    folio_log_fn log_fn;
    void *log_ud;
    folio_log_level_t log_level;
    folio_progress_fn progress_fn;
    void *progress_ud;
    char *errmsg;
};

const char *folio_version(void)
{
#define STR_(x) #x
#define STR(x) STR_(x)
    return STR(FOLIO_VERSION_MAJOR) "." STR(FOLIO_VERSION_MINOR) "." STR(FOLIO_VERSION_PATCH);
#undef STR
#undef STR_
}

const char *folio_strerror(int code)
{
    switch (code) {
    case FOLIO_OK:
        return "success";
    case FOLIO_ENOMEM:
        return "out of memory";
    case FOLIO_EINVAL:
        return "invalid argument";
    case FOLIO_EIO:
        return "input/output error";
    case FOLIO_EFORMAT:
        return "unsupported or malformed file";
    case FOLIO_EDRM:
        return "protected by DRM";
    case FOLIO_ELIMIT:
        return "input exceeds a safety limit";
    case FOLIO_EENCODING:
        return "invalid text encoding";
    case FOLIO_EEMPTY:
        return "nothing usable in the input";
    case FOLIO_ENOTFOUND:
        return "not found";
    case FOLIO_ENOMATCH:
        return "no match";
    case FOLIO_ECANCELLED:
        return "cancelled";
    case FOLIO_EAUDIO:
        return "audio could not be decoded";
    default:
        return "unknown error";
    }
}

folio_t *folio_new(void)
{
    folio_t *ctx = calloc(1, sizeof(*ctx));
    if (ctx) ctx->log_level = FOLIO_LOG_WARN;
    return ctx;
}

void folio_free(folio_t *ctx)
{
    if (!ctx) return;
    free(ctx->errmsg);
    free(ctx);
}

int folio_set_log(folio_t *ctx, folio_log_fn fn, void *user_data, folio_log_level_t min_level)
{
    if (!ctx || (int)min_level < FOLIO_LOG_ERROR || min_level > FOLIO_LOG_DEBUG)
        return FOLIO_EINVAL;
    ctx->log_fn = fn;
    ctx->log_ud = user_data;
    ctx->log_level = min_level;
    return FOLIO_OK;
}

int folio_set_progress(folio_t *ctx, folio_progress_fn fn, void *user_data)
{
    if (!ctx) return FOLIO_EINVAL;
    ctx->progress_fn = fn;
    ctx->progress_ud = user_data;
    return FOLIO_OK;
}

const char *folio_errmsg(const folio_t *ctx)
{
    if (!ctx) return "no context: pass a folio_t to receive error messages";
    return ctx->errmsg ? ctx->errmsg : "";
}

static char *vformat(const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0) return NULL;
    char *s = malloc((size_t)n + 1);
    if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

void folio__vlog(folio_t *ctx, folio_log_level_t level, const char *fmt, va_list ap)
{
    if (!ctx || !ctx->log_fn || level > ctx->log_level) return;
    char *msg = vformat(fmt, ap);
    if (msg) ctx->log_fn(ctx->log_ud, level, msg);
    free(msg);
}

bool folio__logs(const folio_t *ctx, folio_log_level_t level)
{
    return ctx && ctx->log_fn && level <= ctx->log_level;
}

void folio__log(folio_t *ctx, folio_log_level_t level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    folio__vlog(ctx, level, fmt, ap);
    va_end(ap);
}

int folio__error(folio_t *ctx, int code, const char *fmt, ...)
{
    if (!ctx) return code;
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    free(ctx->errmsg);
    /* Keep at least the generic text when formatting itself ran out of memory. */
    ctx->errmsg = msg ? msg : folio__strdup(folio_strerror(code));
    return code;
}

double folio__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int folio__progress(folio_t *ctx, const char *stage, double done, double total, double start)
{
    if (!ctx || !ctx->progress_fn) return FOLIO_OK;
    folio_progress_t p = {stage, done, total, folio__now() - start};
    if (ctx->progress_fn(ctx->progress_ud, &p) != 0)
        return folio__error(ctx, FOLIO_ECANCELLED, "cancelled during %s", stage);
    return FOLIO_OK;
}

int folio__grow(void **items, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return FOLIO_OK;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return FOLIO_ENOMEM;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / size) return FOLIO_ENOMEM;
    void *p = realloc(*items, ncap * size);
    if (!p) return FOLIO_ENOMEM;
    *items = p;
    *cap = ncap;
    return FOLIO_OK;
}

int folio__str_append(folio_str_t *s, const char *bytes, size_t n)
{
    if (n > SIZE_MAX - s->len - 1) return FOLIO_ENOMEM;
    if (folio__grow((void **)&s->data, &s->cap, s->len + n + 1, 1) < 0) return FOLIO_ENOMEM;
    if (n) memcpy(s->data + s->len, bytes, n);
    s->len += n;
    s->data[s->len] = '\0';
    return FOLIO_OK;
}

int folio__str_appendc(folio_str_t *s, char c)
{
    return folio__str_append(s, &c, 1);
}

int folio__str_printf(folio_str_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vformat(fmt, ap);
    va_end(ap);
    if (!msg) return FOLIO_ENOMEM;
    int rc = folio__str_append(s, msg, strlen(msg));
    free(msg);
    return rc;
}

void folio__str_free(folio_str_t *s)
{
    free(s->data);
    s->data = NULL;
    s->len = s->cap = 0;
}

char *folio__str_take(folio_str_t *s)
{
    if (!s->data && folio__str_append(s, "", 0) < 0) return NULL;
    char *d = s->data;
    s->data = NULL;
    s->len = s->cap = 0;
    return d;
}

char *folio__strdup(const char *s)
{
    return s ? folio__strndup(s, strlen(s)) : NULL;
}

char *folio__strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

bool folio__utf8_valid(const char *str, size_t n, size_t *bad_off)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            goto bad;
        }
        if (n - i < len) goto bad;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += len;
    }
    return true;
bad:
    if (bad_off) *bad_off = i;
    return false;
}

uint32_t folio__utf8_decode(const char *str, size_t *len)
{
    const unsigned char *s = (const unsigned char *)str;
    if (s[0] < 0x80) {
        *len = 1;
        return s[0];
    }
    if ((s[0] & 0xE0) == 0xC0) {
        *len = 2;
        return ((uint32_t)(s[0] & 0x1F) << 6) | (s[1] & 0x3F);
    }
    if ((s[0] & 0xF0) == 0xE0) {
        *len = 3;
        return ((uint32_t)(s[0] & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
    }
    *len = 4;
    return ((uint32_t)(s[0] & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
           ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

size_t folio__utf8_encode(uint32_t cp, char *out)
{
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t folio__utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) count++;
    return count;
}

const char *folio__basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

int folio__replaceable(folio_t *ctx, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || S_ISREG(st.st_mode)) return FOLIO_OK;
    return folio__error(ctx, FOLIO_EIO,
                        "%s: %s: Folio writes a file whole and then renames it into place, and "
                        "will not replace it",
                        path, S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
}

int folio__regular_file(folio_t *ctx, const char *path, const char *what)
{
    /* Non-blocking: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return folio__error(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    int r = fstat(fd, &st), e = errno;
    close(fd);
    if (r != 0) return folio__error(ctx, FOLIO_EIO, "%s: %s", path, strerror(e));
    if (S_ISREG(st.st_mode)) return FOLIO_OK;
    const char *kind = S_ISDIR(st.st_mode)    ? "is a directory"
                       : S_ISFIFO(st.st_mode) ? "a FIFO"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                                              : "not a regular file";
    return folio__error(ctx, FOLIO_EIO, "%s: %s, not a %s", path, kind, what);
}
