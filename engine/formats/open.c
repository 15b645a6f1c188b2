/* Opening a book file: the options' defaults, the format sniffed from the first bytes, and the
 * reader it selects. */
#include "formats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void folio_book_options_init(folio_book_options_t *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof(*opts));
    opts->format = FOLIO_FORMAT_AUTO;
    opts->first_page_label = 1;
    opts->max_text_chars = (size_t)64 << 20;
    opts->max_archive_bytes = (uint64_t)1 << 30;
    opts->max_ratio = 200;
    opts->synthetic_page_chars = 1024;
}

int folio__book_file_read(folio_t *ctx, const char *path, uint64_t cap, char **buf, size_t *len)
{
    int rc = FOLIO_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return folio__error(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    folio_str_t s = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (s.len + n > cap) {
            rc = FOLIO_ELIMIT; /* the caller says which limit */
            goto fail;
        }
        if (folio__str_append(&s, chunk, n) < 0) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    }
    if (ferror(f)) FAIL(ctx, FOLIO_EIO, "%s: read error: %s", path, strerror(errno));
    if (!s.len) FAIL(ctx, FOLIO_EEMPTY, "%s: the file is empty", path);
    *len = s.len;
    *buf = folio__str_take(&s);
fail:
    fclose(f);
    folio__str_free(&s);
    return rc;
}

int folio__book_title_from_name(folio_book_t *book, const char *path)
{
    if (book->meta[FOLIO_META_TITLE]) return FOLIO_OK;
    const char *base = folio__basename(path);
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    book->meta[FOLIO_META_TITLE] = folio__strndup(base, n);
    return book->meta[FOLIO_META_TITLE] ? FOLIO_OK : FOLIO_ENOMEM;
}

/* Decide the format from the first bytes: a zip is an EPUB; a file that starts as an HTML document
 * does is HTML; PDF and Kindle files get a helpful error; anything else is read as text (which
 * validates its encoding). */
static int sniff(folio_t *ctx, const char *path, folio_format_t *format)
{
    FILE *f = fopen(path, "rb");
    if (!f) return folio__error(ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
    unsigned char head[1024] = {0};
    size_t n = fread(head, 1, sizeof(head), f);
    fclose(f);
    if (n == 0) return folio__error(ctx, FOLIO_EEMPTY, "%s: the file is empty", path);
    const char *dot = strrchr(folio__basename(path), '.');
    if (dot && strcasecmp(dot, ".epub") == 0) {
        *format = FOLIO_FORMAT_EPUB; /* the EPUB reader says what is wrong if it is not one */
    } else if (dot && (strcasecmp(dot, ".html") == 0 || strcasecmp(dot, ".htm") == 0 ||
                       strcasecmp(dot, ".xhtml") == 0)) {
        *format = FOLIO_FORMAT_HTML; /* the HTML reader refuses what is not HTML */
    } else if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0) {
        *format = FOLIO_FORMAT_EPUB;
    } else if (n >= 4 && (memcmp(head, "PK\x05\x06", 4) == 0)) {
        *format = FOLIO_FORMAT_EPUB; /* an empty zip: the EPUB reader says what is wrong */
    } else if (n >= 5 && memcmp(head, "%PDF-", 5) == 0) {
        return folio__error(ctx, FOLIO_EFORMAT,
                            "%s: PDF is not supported; convert it with `pdftotext -layout` (form "
                            "feeds keep its pages) or use the EPUB edition",
                            path);
    } else if (n >= 68 &&
               (memcmp(head + 60, "BOOKMOBI", 8) == 0 || memcmp(head + 60, "TEXtREAd", 8) == 0)) {
        return folio__error(ctx, FOLIO_EFORMAT,
                            "%s: Kindle/Mobipocket books are not supported; use the EPUB edition",
                            path);
    } else if (folio__html_sniff(head, n)) {
        *format = FOLIO_FORMAT_HTML;
    } else {
        *format = FOLIO_FORMAT_TXT;
    }
    return FOLIO_OK;
}

folio_book_t *folio_book_open(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                              int *err)
{
    int rc = FOLIO_OK;
    folio_book_t *book = NULL;
    folio_book_options_t o;
    folio_book_options_init(&o);
    if (opts) o = *opts;
    if (!path || !*path) FAIL(ctx, FOLIO_EINVAL, "folio_book_open: no path given");
    if ((int)o.format < FOLIO_FORMAT_AUTO || o.format > FOLIO_FORMAT_HTML)
        FAIL(ctx, FOLIO_EINVAL, "folio_book_open: unknown format %d", (int)o.format);
    if (!o.max_text_chars || !o.max_archive_bytes || o.max_ratio < 2 || !o.synthetic_page_chars ||
        o.max_text_chars > SIZE_MAX / 8)
        FAIL(ctx, FOLIO_EINVAL, "folio_book_open: a limit in the options is zero or out of range");

    /* A FIFO or a device would block or never end: refused before anything reads it. */
    TRY(folio__regular_file(ctx, path, "book file"));
    folio_format_t format = o.format;
    if (format == FOLIO_FORMAT_AUTO) TRY(sniff(ctx, path, &format));

    book = calloc(1, sizeof(*book));
    if (!book) FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory", path);
    if (format == FOLIO_FORMAT_EPUB)
        TRY(folio__epub_read(ctx, path, &o, book));
    else if (format == FOLIO_FORMAT_HTML)
        TRY(folio__html_read(ctx, path, &o, book));
    else
        TRY(folio__txt_read(ctx, path, &o, book));
    for (int i = 0; i < 4; i++)
        if (!book->meta[i] && !(book->meta[i] = folio__strdup("")))
            FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory", path);
    if (err) *err = FOLIO_OK;
    return book;
fail:
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx))
        folio__error(ctx, rc, "%s: out of memory", path ? path : "(null)");
    folio_book_free(book);
    if (err) *err = rc;
    return NULL;
}
