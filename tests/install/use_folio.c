/* A program built against an installed Folio library through pkg-config. Against libfolio
 * (FOLIO_FULL defined) it reads a two-page plain-text book and checks what the library reports
 * against counts made by hand; against libfolio-lookup it opens a file that is not an index,
 * which fails with FOLIO_EFORMAT and a message naming it (SQLite reads its header).
 *   use_folio VERSION FILE */
#include <folio.h>

#include <stdio.h>
#include <string.h>

static int check(folio_t *ctx, const char *path)
{
    int err = 0;
#ifdef FOLIO_FULL
    folio_book_t *book = folio_book_open(ctx, path, NULL, &err);
    if (!book) {
        fprintf(stderr, "%s\n", folio_errmsg(ctx));
        return 0;
    }
    /* "First page.\n\n\fSecond page.\n": two form-feed pages; the text is "First page.",
     * the paragraph break "\n\n" and "Second page.", 11 + 2 + 12 characters. */
    size_t pages = folio_book_n_pages(book), chars = folio_book_text_length(book);
    int ok = pages == 2 && chars == 25 && folio_book_page_source(book) == FOLIO_PAGES_FORM_FEED;
    printf("pages %zu, characters %zu\n", pages, chars);
    folio_book_free(book);
    return ok;
#else
    folio_index_t *ix = folio_index_open(ctx, path, &err);
    int ok = !ix && err == FOLIO_EFORMAT && strstr(folio_errmsg(ctx), path) != NULL;
    printf("%s (%s)\n", folio_strerror(err), folio_errmsg(ctx));
    folio_index_free(ix);
    return ok;
#endif
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: use_folio VERSION FILE\n");
        return 2;
    }
    if (strcmp(folio_version(), argv[1]) != 0) {
        fprintf(stderr, "folio_version() is %s, expected %s\n", folio_version(), argv[1]);
        return 1;
    }
    folio_t *ctx = folio_new();
    int ok = ctx && check(ctx, argv[2]);
    folio_free(ctx);
    return ok ? 0 : 1;
}
