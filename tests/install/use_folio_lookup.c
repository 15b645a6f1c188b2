/* A program built against an installed libfolio-lookup through pkg-config: opening a file that is
 * not an index fails with FOLIO_EFORMAT and a message naming it (SQLite reads its header). */
#include <folio.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: use_folio_lookup VERSION NOT_AN_INDEX\n");
        return 2;
    }
    if (strcmp(folio_version(), argv[1]) != 0) {
        fprintf(stderr, "folio_version() is %s, expected %s\n", folio_version(), argv[1]);
        return 1;
    }
    folio_t *ctx = folio_new();
    int err = 0;
    folio_index_t *ix = folio_index_open(ctx, argv[2], &err);
    int ok = !ix && err == FOLIO_EFORMAT && strstr(folio_errmsg(ctx), argv[2]) != NULL;
    printf("%s (%s)\n", folio_strerror(err), folio_errmsg(ctx));
    folio_index_free(ix);
    folio_free(ctx);
    return ok ? 0 : 1;
}
