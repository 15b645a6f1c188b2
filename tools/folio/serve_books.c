/* The books of `folio serve` and the cache of their open indexes: least recently used idle index
 * out first, each index opened and checked off the library's lock (a slow or bad index delays
 * only its own book's requests), and an index that failed remembered until its file changes. */
#include "serve.h"

#include <jansson.h>

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

/* The books, sorted by id: an array of pointers swapped whole when a rescan adds books, so a
 * book_t a request holds stays where it is for the server's life. */
static struct {
    book_t **books;
    size_t n;
    size_t open, max_open;
    char **roots; /* the paths given: folders are looked at again by a rescan */
    size_t n_roots;
    double last_scan; /* CLOCK_MONOTONIC seconds of the last on-demand rescan */
} lib;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t scanning = PTHREAD_MUTEX_INITIALIZER; /* one rescan at a time */
static pthread_cond_t opened; /* an open has ended (on CLOCK_MONOTONIC) */
static unsigned long ticks;   /* the clock of last_used */

static int cmp_book(const void *a, const void *b)
{
    return strcmp((*(book_t *const *)a)->id, (*(book_t *const *)b)->id);
}

/* The book named @id in the sorted @books, or NULL. */
static book_t *search(book_t **books, size_t n, const char *id)
{
    book_t key = {.id = (char *)id}, *k = &key;
    book_t **found = n ? bsearch(&k, books, n, sizeof(book_t *), cmp_book) : NULL;
    return found ? *found : NULL;
}

/* A list of books being gathered (at start, or by a rescan). */
typedef struct {
    book_t **items;
    size_t n, cap;
} found_t;

/* Add @path to @f if it is a .folio index whose id neither the library (@known, sorted) nor @f
 * has; @quiet: an id taken is not told (a rescan meets the known books again). */
static int add_book(found_t *f, book_t **known, size_t n_known, const char *path, bool quiet)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n <= 6 || strcmp(base + n - 6, ".folio") != 0) return 0;
    char id[4096];
    snprintf(id, sizeof(id), "%.*s", (int)(n - 6), base);
    book_t *taken = search(known, n_known, id);
    for (size_t i = 0; !taken && i < f->n; i++)
        if (strcmp(f->items[i]->id, id) == 0) taken = f->items[i];
    if (taken) {
        if (!quiet && strcmp(taken->path, path) != 0)
            fprintf(stderr, "folio: warning: %s: book id '%s' is taken by %s; skipped\n", path, id,
                    taken->path);
        return 0;
    }
    if (f->n == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 64;
        book_t **nb = realloc(f->items, cap * sizeof(book_t *));
        if (!nb) return -1;
        f->items = nb;
        f->cap = cap;
    }
    book_t *b = calloc(1, sizeof(*b));
    if (b) {
        b->id = strdup(id);
        b->path = strdup(path);
    }
    if (!b || !b->id || !b->path) {
        if (b) free(b->id), free(b->path);
        free(b);
        return -1;
    }
    f->items[f->n++] = b;
    return 0;
}

/* Gather the indexes of @path (a file or a folder) into @f. */
static int gather(found_t *f, book_t **known, size_t n_known, const char *path, bool quiet)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!quiet) fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return quiet ? 0 : -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        size_t n = strlen(path);
        if (n <= 6 || strcmp(path + n - 6, ".folio") != 0) {
            fprintf(stderr, "folio: error: %s: not a .folio index or a folder\n", path);
            return -1;
        }
        return add_book(f, known, n_known, path, quiet);
    }
    DIR *d = opendir(path);
    if (!d) {
        if (!quiet) fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return quiet ? 0 : -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 6 || strcmp(e->d_name + n - 6, ".folio") != 0) continue;
        char full[4096];
        snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
        rc = add_book(f, known, n_known, full, quiet);
    }
    closedir(d);
    return rc;
}

static found_t start_books;

int serve_add_path(const char *path)
{
    char **roots = realloc(lib.roots, (lib.n_roots + 1) * sizeof(char *));
    if (!roots) return -1;
    lib.roots = roots;
    if (!(lib.roots[lib.n_roots] = strdup(path))) return -1;
    lib.n_roots++;
    return gather(&start_books, NULL, 0, path, false);
}

void serve_books_ready(size_t max_open)
{
    if (start_books.n) qsort(start_books.items, start_books.n, sizeof(book_t *), cmp_book);
    lib.books = start_books.items;
    lib.n = start_books.n;
    lib.max_open = max_open;
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&opened, &a);
    pthread_condattr_destroy(&a);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

size_t serve_books_rescan(bool on_demand)
{
    pthread_mutex_lock(&scanning);
    if (on_demand) {
        double now = mono_now();
        if (now - lib.last_scan < 1.0) {
            pthread_mutex_unlock(&scanning);
            return 0;
        }
        lib.last_scan = now;
    }
    /* Only this thread changes the array: it may be read off the lock here. */
    found_t f = {0};
    for (size_t i = 0; i < lib.n_roots; i++)
        if (gather(&f, lib.books, lib.n, lib.roots[i], true) < 0) break;
    size_t added = 0;
    book_t **all = f.n ? malloc((lib.n + f.n) * sizeof(book_t *)) : NULL;
    if (all) {
        memcpy(all, lib.books, lib.n * sizeof(book_t *));
        memcpy(all + lib.n, f.items, f.n * sizeof(book_t *));
        qsort(all, lib.n + f.n, sizeof(book_t *), cmp_book);
        pthread_mutex_lock(&lock);
        book_t **old = lib.books;
        lib.books = all;
        lib.n += f.n;
        pthread_mutex_unlock(&lock);
        free(old);
        added = f.n;
        for (size_t i = 0; i < f.n; i++)
            fprintf(stderr, "folio: new book '%s': %s\n", f.items[i]->id, f.items[i]->path);
    } else {
        for (size_t i = 0; i < f.n; i++) {
            free(f.items[i]->id);
            free(f.items[i]->path);
            free(f.items[i]);
        }
    }
    free(f.items);
    pthread_mutex_unlock(&scanning);
    return added;
}

size_t serve_books_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = lib.n;
    pthread_mutex_unlock(&lock);
    return n;
}

size_t serve_books_list(size_t offset, size_t limit, json_t *ids)
{
    pthread_mutex_lock(&lock);
    size_t n = lib.n;
    for (size_t i = offset; i < n && i - offset < limit; i++)
        json_array_append_new(ids, json_pack("{s:s}", "id", lib.books[i]->id));
    pthread_mutex_unlock(&lock);
    return n;
}

void serve_books_free(void)
{
    if (!lib.books) { /* before serve_books_ready */
        lib.books = start_books.items;
        lib.n = start_books.n;
    }
    for (size_t i = 0; i < lib.n; i++) {
        folio_index_free(lib.books[i]->ix);
        free(lib.books[i]->id);
        free(lib.books[i]->path);
        free(lib.books[i]);
    }
    free(lib.books);
    for (size_t i = 0; i < lib.n_roots; i++) free(lib.roots[i]);
    free(lib.roots);
    pthread_cond_destroy(&opened);
    memset(&lib, 0, sizeof(lib));
    memset(&start_books, 0, sizeof(start_books));
}

book_t *find_book(const char *id)
{
    pthread_mutex_lock(&lock);
    book_t *b = search(lib.books, lib.n, id);
    pthread_mutex_unlock(&lock);
    if (!b && serve_books_rescan(true)) {
        pthread_mutex_lock(&lock);
        b = search(lib.books, lib.n, id);
        pthread_mutex_unlock(&lock);
    }
    return b;
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
        book_t *x = lib.books[i];
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
