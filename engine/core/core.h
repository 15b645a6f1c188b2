/* Internal core of Folio: the context (errors, log, progress), growable buffers and UTF-8 helpers
 * shared by every engine module, which all may include it (tools and tests include folio.h only).
 * Nothing here depends on a third-party library. */
#ifndef FOLIO_CORE_H
#define FOLIO_CORE_H

#include "folio.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FOLIO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FOLIO_PRINTF(a, b)
#endif

/* Forward a negative return code to the function's `fail:` label (zstd's FORWARD_IF_ERROR). The
 * enclosing function must declare `int rc`. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        rc = (expr);                                                                               \
        if (rc < 0) goto fail;                                                                     \
    } while (0)

/* Set rc to the code, record the message on the context and jump to `fail:`. */
#define FAIL(ctx, code, ...)                                                                       \
    do {                                                                                           \
        rc = folio__error((ctx), (code), __VA_ARGS__);                                             \
        goto fail;                                                                                 \
    } while (0)

/* ---- context ---- */

/* Record @code's detailed message on @ctx (which may be NULL) and log it at error level.
 * Returns @code so callers can `return folio__error(...)`. */
int folio__error(folio_t *ctx, int code, const char *fmt, ...) FOLIO_PRINTF(3, 4);
void folio__log(folio_t *ctx, folio_log_level_t level, const char *fmt, ...) FOLIO_PRINTF(3, 4);
void folio__vlog(folio_t *ctx, folio_log_level_t level, const char *fmt, va_list ap);
/* Whether a message at @level would go anywhere (to skip building costly debug text). */
bool folio__logs(const folio_t *ctx, folio_log_level_t level);
#define folio__warn(ctx, ...) folio__log((ctx), FOLIO_LOG_WARN, __VA_ARGS__)
#define folio__info(ctx, ...) folio__log((ctx), FOLIO_LOG_INFO, __VA_ARGS__)
#define folio__debug(ctx, ...) folio__log((ctx), FOLIO_LOG_DEBUG, __VA_ARGS__)

/* Report progress; returns FOLIO_ECANCELLED (and records the message) when the callback asks to
 * stop, else FOLIO_OK. @start is the monotonic time the call started (folio__now()). */
int folio__progress(folio_t *ctx, const char *stage, double done, double total, double start);

/* Monotonic seconds. */
double folio__now(void);

/* ---- memory ---- */

/* Grow *@items (each @size bytes) so that it holds at least @need; *@cap is updated. */
int folio__grow(void **items, size_t *cap, size_t need, size_t size);

/* A growable array: `VEC(type) v = {0};` then VEC_PUSH(v, value). */
#define VEC(type)                                                                                  \
    struct {                                                                                       \
        type *items;                                                                               \
        size_t len, cap;                                                                           \
    }
#define VEC_PUSH(v, value)                                                                         \
    (folio__grow((void **)&(v).items, &(v).cap, (v).len + 1, sizeof(*(v).items)) < 0               \
         ? FOLIO_ENOMEM                                                                            \
         : ((v).items[(v).len++] = (value), FOLIO_OK))
#define VEC_FREE(v) (free((v).items), (v).items = NULL, (v).len = (v).cap = 0)

typedef VEC(size_t) folio_sizes_t;
typedef VEC(char *) folio_strs_t;
typedef VEC(bool) folio_bools_t;

/* A growable NUL-terminated byte string. */
typedef struct {
    char *data;
    size_t len, cap;
} folio_str_t;

int folio__str_append(folio_str_t *s, const char *bytes, size_t n);
int folio__str_appendc(folio_str_t *s, char c);
int folio__str_printf(folio_str_t *s, const char *fmt, ...) FOLIO_PRINTF(2, 3);
void folio__str_free(folio_str_t *s);
/* Detach the buffer (never NULL on success: an empty string is allocated); caller frees. */
char *folio__str_take(folio_str_t *s);

char *folio__strdup(const char *s);
char *folio__strndup(const char *s, size_t n);

/* ---- UTF-8 ---- */

/* Check that @s[0..n) is valid UTF-8 (no overlongs, surrogates or values over U+10FFFF).
 * Returns true if valid; otherwise false and *@bad_off is the byte offset of the first bad byte. */
bool folio__utf8_valid(const char *s, size_t n, size_t *bad_off);

/* Decode one code point at @s (valid UTF-8 assumed); *@len receives its byte length. */
uint32_t folio__utf8_decode(const char *s, size_t *len);

/* Encode @cp into @out (at least 4 bytes); returns the byte length. */
size_t folio__utf8_encode(uint32_t cp, char *out);

/* Number of code points in valid UTF-8 @s[0..n). */
size_t folio__utf8_count(const char *s, size_t n);

/* ---- misc ---- */

/* The last path component of @path (borrowed from @path). */
const char *folio__basename(const char *path);
/* FOLIO_OK when @path is a regular file that can be opened for reading; else FOLIO_EIO with a
 * message naming @path and saying what it is instead ("a FIFO, not a @what"). Looks without
 * reading, so a FIFO or a device cannot block the caller. */
int folio__regular_file(folio_t *ctx, const char *path, const char *what);

/* FOLIO_OK when @path may be replaced by a rename (missing, or a regular file); else FOLIO_EIO
 * naming it: a device (/dev/null), a FIFO or a folder is never replaced. */
int folio__replaceable(folio_t *ctx, const char *path);

/* ---- string map ---- */

/* A hash map from NUL-terminated strings (copied) to size_t values. */
typedef struct {
    char **keys;
    size_t *values;
    size_t cap, len;
} folio_map_t;

/* Insert or replace. Returns FOLIO_OK or FOLIO_ENOMEM. */
int folio__map_put(folio_map_t *m, const char *key, size_t value);
/* Insert only if absent; *@existing (optional) is set when the key was already there. */
int folio__map_add(folio_map_t *m, const char *key, size_t value, bool *existing);
/* Look up; returns true and sets *@value if found. */
bool folio__map_get(const folio_map_t *m, const char *key, size_t *value);
void folio__map_free(folio_map_t *m);
uint64_t folio__hash(const void *data, size_t n);

/* ---- SHA-256 ---- */
typedef struct {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
} folio_sha256_t;
void folio__sha256_init(folio_sha256_t *s);
void folio__sha256_update(folio_sha256_t *s, const void *data, size_t n);
/* Finish and write the digest as 64 lower-case hex digits and a NUL. */
void folio__sha256_hex(folio_sha256_t *s, char out[65]);

#endif
