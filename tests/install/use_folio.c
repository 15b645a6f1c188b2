/* A program built against an installed libfolio through pkg-config: reads a two-page plain-text
 * book and checks what the library reports against counts made by hand. */
#include <folio.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: use_folio VERSION BOOK.txt\n");
        return 2;
    }
    if (strcmp(folio_version(), argv[1]) != 0) {
        fprintf(stderr, "folio_version() is %s, expected %s\n", folio_version(), argv[1]);
        return 1;
    }
    folio_t *ctx = folio_new();
    int err = 0;
    folio_book_t *book = folio_book_open(ctx, argv[2], NULL, &err);
    if (!book) {
        fprintf(stderr, "%s\n", folio_errmsg(ctx));
        folio_free(ctx);
        return 1;
    }
    /* "First page.\n\n\fSecond page.\n": two form-feed pages; the text is "First page.",
     * the paragraph break "\n\n" and "Second page.", 11 + 2 + 12 characters. */
    size_t pages = folio_book_n_pages(book), chars = folio_book_text_length(book);
    int ok = pages == 2 && chars == 25 && folio_book_page_source(book) == FOLIO_PAGES_FORM_FEED;
    printf("pages %zu, characters %zu\n", pages, chars);
    folio_book_free(book);
    folio_free(ctx);
    return ok ? 0 : 1;
}
