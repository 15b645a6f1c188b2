/* The books of `folio serve` and the cache of their open indexes: least recently used idle index
 * out first, each index opened and checked off the library's lock (a slow or bad index delays
 * only its own book's requests), and an index that failed remembered until its file changes. */
#include "serve.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* How long a request waits for another request's open of the same index before it is answered
 * 503: an open takes milliseconds, and a slower one must not hold every connection thread. */
#define OPEN_WAIT_SEC 2

library_t lib;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t opened; /* an open has ended (on CLOCK_MONOTONIC) */
static unsigned long ticks;   /* the clock of last_used */

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
    book_t b = {.id = strndup(base, n - 6), .path = strdup(path)};
    if (!b.id || !b.path) {
        free(b.id);
        free(b.path);
        return -1;
    }
    lib.books[lib.n++] = b;
    return 0;
}

int serve_add_path(const char *path)
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

void serve_books_ready(size_t max_open)
{
    qsort(lib.books, lib.n, sizeof(book_t), cmp_book);
    lib.max_open = max_open;
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&opened, &a);
    pthread_condattr_destroy(&a);
}

void serve_books_free(void)
{
    for (size_t i = 0; i < lib.n; i++) {
        folio_index_free(lib.books[i].ix);
        free(lib.books[i].id);
        free(lib.books[i].path);
    }
    free(lib.books);
    pthread_cond_destroy(&opened);
}

book_t *find_book(const char *id)
{
    book_t key = {.id = (char *)id};
    return lib.n ? bsearch(&key, lib.books, lib.n, sizeof(book_t), cmp_book) : NULL;
}

/* Whether the file of the failed open of @b is still the one at its path (a file that could not
 * be found stays not found). */
static bool unchanged(const book_t *b, bool found, const struct stat *st)
{
    if (!found) return b->ino == 0;
    return b->ino == st->st_ino && b->dev == st->st_dev && b->size == st->st_size &&
           b->mtime_ns == (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* The idle index used longest ago, taken out of the cache (NULL when none is idle). */
static folio_index_t *evict_idle(void)
{
    book_t *lru = NULL;
    for (size_t i = 0; i < lib.n; i++) {
        book_t *x = &lib.books[i];
        if (x->ix && !x->users && (!lru || x->last_used < lru->last_used)) lru = x;
    }
    if (!lru) return NULL;
    folio_index_t *ix = lru->ix;
    lru->ix = NULL;
    lib.open--;
    return ix;
}

folio_index_t *acquire(book_t *b, folio_t *ctx, int *err)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += OPEN_WAIT_SEC;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (b->opening)
            if (pthread_cond_timedwait(&opened, &lock, &until) != 0 && b->opening) {
                pthread_mutex_unlock(&lock);
                *err = SERVE_EOPENING;
                return NULL;
            }
        if (b->ix) {
            folio_index_t *ix = b->ix;
            b->users++;
            b->last_used = ++ticks;
            pthread_mutex_unlock(&lock);
            return ix;
        }
        if (!b->failed) break;
        /* It failed: answer the same unless its file has changed since (a stat, off the lock). */
        int failed = b->failed;
        pthread_mutex_unlock(&lock);
        struct stat st;
        bool found = stat(b->path, &st) == 0;
        pthread_mutex_lock(&lock);
        if (b->failed == failed && !b->opening && !b->ix) {
            if (unchanged(b, found, &st)) {
                pthread_mutex_unlock(&lock);
                *err = failed;
                return NULL;
            }
            b->failed = 0;
        }
    }
    b->opening = true;
    pthread_mutex_unlock(&lock);

    struct stat st;
    bool found = stat(b->path, &st) == 0;
    folio_index_t *ix = folio_index_open(ctx, b->path, err);
    if (!ix)
        fprintf(stderr, "folio: error: book '%s': %s\n", b->id,
                ctx && *folio_errmsg(ctx) ? folio_errmsg(ctx) : folio_strerror(*err));
    folio_index_t *out = NULL;
    pthread_mutex_lock(&lock);
    b->opening = false;
    if (ix) {
        if (lib.open >= lib.max_open) out = evict_idle();
        b->ix = ix;
        lib.open++;
        b->users++;
        b->last_used = ++ticks;
    } else if (*err != FOLIO_ENOMEM) { /* out of memory may pass; the file's faults do not */
        b->failed = *err ? *err : FOLIO_EFORMAT;
        b->ino = found ? st.st_ino : 0;
        b->dev = found ? st.st_dev : 0;
        b->size = found ? st.st_size : 0;
        b->mtime_ns = found ? (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec : 0;
    }
    pthread_cond_broadcast(&opened);
    pthread_mutex_unlock(&lock);
    folio_index_free(out); /* closed off the lock too */
    return ix;
}

void release(book_t *b)
{
    pthread_mutex_lock(&lock);
    b->users--;
    pthread_mutex_unlock(&lock);
}
