/* The lookup-only library: what reader apps link. Its reading and lookup functions are there and
 * check their arguments; the indexing half of folio.h is not linked at all. */
#include <folio.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

static void opens_and_looks_up(void **state)
{
    (void)state;
    folio_t *ctx = folio_new();
    assert_non_null(ctx);
    int err = 0;
    assert_null(folio_index_open(ctx, "/nonexistent/book.folio", &err));
    assert_int_equal(err, FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "/nonexistent/book.folio"));
    assert_null(folio_index_open(NULL, NULL, &err));
    assert_int_equal(err, FOLIO_EINVAL);
    folio_lookup_t r;
    size_t n = 7;
    assert_int_equal(folio_lookup_page(ctx, NULL, "1", &r), FOLIO_EINVAL);
    assert_non_null(strstr(folio_errmsg(ctx), "folio_lookup_page"));
    assert_int_equal(folio_lookup_ordinal(ctx, NULL, 1, &r), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_time(NULL, NULL, -1, 1.0, &r), FOLIO_EINVAL);
    assert_int_equal(folio_lookup_text(ctx, NULL, "text", 4, &r, 1, &n), FOLIO_EINVAL);
    long flip;
    assert_int_equal(folio_lookup_scan(ctx, NULL, 1.0, "text", 4, &flip, NULL, NULL), FOLIO_EINVAL);
    folio_free(ctx);
    assert_string_equal(folio_strerror(FOLIO_ENOTFOUND), folio_strerror(FOLIO_ENOTFOUND));
    assert_non_null(folio_version());
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(opens_and_looks_up)};
    return cmocka_run_group_tests_name("lookup-only", tests, NULL, NULL);
}
