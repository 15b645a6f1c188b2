/* Allocation failure at every allocation of folio_book_open (the demo EPUB and its text) and
 * folio_index_open (an index of the demo book): the Nth allocation fails, for N = 1, 2, ... until
 * a call makes fewer than N. Each call must fail with an error and a message, or succeed when the
 * failure was absorbed, and leave no allocation behind. The engine's own allocations are caught by
 * linking with --wrap (malloc, calloc, realloc, strdup, strndup, free) and counted; libxml2's,
 * ICU's and SQLite's fail in the same sequence through their memory hooks (not counted: their
 * caches outlive a call). libzip's allocations are not covered. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../fuzz/fuzz.h"
#include "fixture.h"

#include <libxml/xmlmemory.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/uclean.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

static bool armed;    /* counting allocations (only inside the call under test) */
static long n_calls;  /* allocations seen while armed */
static long fail_at;  /* the one to fail (0: none) */
static bool injected; /* whether it was reached */
static long live;     /* allocations made and not freed (the counted allocators only) */

static bool fail_now(void)
{
    if (!armed) return false;
    if (++n_calls != fail_at) return false;
    injected = true;
    return true;
}

void *__wrap_malloc(size_t n)
{
    void *p = fail_now() ? NULL : __real_malloc(n);
    if (p) live++;
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = fail_now() ? NULL : __real_calloc(n, size);
    if (p) live++;
    return p;
}

void *__wrap_realloc(void *old, size_t n)
{
    void *p = fail_now() ? NULL : __real_realloc(old, n);
    if (p && !old) live++;
    return p;
}

char *__wrap_strdup(const char *s)
{
    char *p = fail_now() ? NULL : __real_strdup(s);
    if (p) live++;
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    char *p = fail_now() ? NULL : __real_strndup(s, n);
    if (p) live++;
    return p;
}

void __wrap_free(void *p)
{
    if (p) live--;
    __real_free(p);
}

/* The libraries' allocations can fail but are not counted: their caches and libxml2's last error
 * outlive a call by design (their leaks are LeakSanitizer's to find, in the sanitized build). */
static void *lib_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

static void *lib_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

static char *lib_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

static void *icu_alloc(const void *ctx, size_t n)
{
    (void)ctx;
    return lib_malloc(n);
}

static void *icu_realloc(const void *ctx, void *p, size_t n)
{
    (void)ctx;
    return lib_realloc(p, n);
}

static void icu_free(const void *ctx, void *p)
{
    (void)ctx;
    __real_free(p);
}

/* SQLite keeps its own allocator; only its failures are added. */
static sqlite3_mem_methods sqlite_default;

static void *sqlite_malloc(int n)
{
    return fail_now() ? NULL : sqlite_default.xMalloc(n);
}

static void *sqlite_realloc(void *p, int n)
{
    return fail_now() ? NULL : sqlite_default.xRealloc(p, n);
}

static int hooks(void **state)
{
    (void)state;
    UErrorCode uerr = U_ZERO_ERROR;
    u_setMemoryFunctions(NULL, icu_alloc, icu_realloc, icu_free, &uerr);
    if (U_FAILURE(uerr)) return -1;
    if (xmlMemSetup(__real_free, lib_malloc, lib_realloc, lib_strdup) != 0) return -1;
    sqlite3_mem_methods m;
    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_default) != SQLITE_OK) return -1;
    m = sqlite_default;
    m.xMalloc = sqlite_malloc;
    m.xRealloc = sqlite_realloc;
    return sqlite3_config(SQLITE_CONFIG_MALLOC, &m) == SQLITE_OK ? 0 : -1;
}

typedef void *(*open_fn)(folio_t *ctx, const char *path, int *err);
typedef void (*free_fn)(void *obj);

static void *book_open(folio_t *ctx, const char *path, int *err)
{
    return folio_book_open(ctx, path, NULL, err);
}

static void book_free(void *b)
{
    folio_book_free(b);
}

static void *index_open(folio_t *ctx, const char *path, int *err)
{
    return folio_index_open(ctx, path, err);
}

static void index_free(void *ix)
{
    folio_index_free(ix);
}

/* Fail each allocation of open(@path) in turn; returns how many allocations a clean call makes. */
static long fail_each(const char *path, open_fn open, free_fn free_obj)
{
    int err = 0;
    void *warm = open(NULL, path, &err); /* caches of the libraries filled once, before counting */
    assert_non_null(warm);
    free_obj(warm);
    for (fail_at = 1;; fail_at++) {
        long before = live; /* the context too: its message is freed with it */
        folio_t *ctx = folio_new();
        assert_non_null(ctx);
        n_calls = 0;
        injected = false;
        err = 12345;
        armed = true;
        void *obj = open(ctx, path, &err);
        armed = false;
        if (obj) {
            assert_int_equal(err, FOLIO_OK);
            free_obj(obj);
        } else {
            assert_true(injected);
            assert_int_not_equal(err, FOLIO_OK);
            assert_true(folio_errmsg(ctx)[0] != '\0');
        }
        folio_free(ctx);
        if (live != before)
            fail_msg("%s: failing allocation %ld of %ld leaves %ld allocation(s)", path, fail_at,
                     n_calls, live - before);
        if (!injected) break;
    }
    return fail_at - 1;
}

static void book_open_fails_cleanly_at_every_allocation_of_an_epub(void **state)
{
    (void)state;
    long n = fail_each(FZ_DEMO_EPUB, book_open, book_free);
    assert_true(n > 100); /* the injection reached the reader */
    printf("# folio_book_open(demo EPUB): %ld allocations, each failed once\n", n);
}

static void book_open_fails_cleanly_at_every_allocation_of_a_text(void **state)
{
    (void)state;
    int err = 0;
    folio_book_t *book = folio_book_open(NULL, FZ_DEMO_EPUB, NULL, &err);
    assert_non_null(book);
    size_t bytes = 0;
    const char *text = folio_book_text(book, &bytes);
    const char *path = fx_file("demo.txt", text, bytes);
    folio_book_free(book);
    assert_non_null(path);
    long n = fail_each(path, book_open, book_free);
    assert_true(n > 100);
    printf("# folio_book_open(demo text): %ld allocations, each failed once\n", n);
}

static void index_open_fails_cleanly_at_every_allocation(void **state)
{
    (void)state;
    char path[600];
    snprintf(path, sizeof(path), "%s/demo.folio", fx_dir());
    assert_int_equal(fz_demo_index(path, SIZE_MAX), FOLIO_OK);
    long n = fail_each(path, index_open, index_free);
    assert_true(n > 50);
    printf("# folio_index_open(demo index): %ld allocations, each failed once\n", n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(book_open_fails_cleanly_at_every_allocation_of_an_epub),
        cmocka_unit_test(book_open_fails_cleanly_at_every_allocation_of_a_text),
        cmocka_unit_test(index_open_fails_cleanly_at_every_allocation),
    };
    return cmocka_run_group_tests_name("faults", tests, hooks, fx_teardown);
}
