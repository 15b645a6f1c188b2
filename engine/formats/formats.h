/* Internal interface of the formats package: book files read into the book model (open.c sniffs
 * the format; epub.c with xhtml.c, html.c with xhtml.c, and txt.c read) and EPUB Media Overlays written back into a
 * copy of the EPUB (epub_overlay.c). Only engine/formats includes this header, epub.h and
 * xhtml.h; only this package touches libxml2 and libzip. */
#ifndef FOLIO_FORMATS_H
#define FOLIO_FORMATS_H

#include "../text/text.h"

/* Read the EPUB at @path into the empty @book (its text, blocks, pages, chapters, metadata and
 * source); @opts holds validated limits. On failure the caller frees @book. */
int folio__epub_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                     folio_book_t *book);
/* Read the whole book file at @path into *@buf (NUL-terminated; caller frees) and *@len. A file
 * over @cap bytes is FOLIO_ELIMIT with no message set (the caller names its limit); FOLIO_EIO and
 * FOLIO_EEMPTY (an empty file) come with a message naming the file. */
int folio__book_file_read(folio_t *ctx, const char *path, uint64_t cap, char **buf, size_t *len);
/* When @book has no title: its file's name without the extension. */
int folio__book_title_from_name(folio_book_t *book, const char *path);
/* Read the one-file HTML book at @path into the empty @book, as folio__epub_read does; a file
 * that is not an HTML document is refused (FOLIO_EFORMAT). */
int folio__html_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                     folio_book_t *book);
/* Whether the first @n bytes of a file start an HTML document: after a BOM, white space, an XML
 * declaration and comments, <!DOCTYPE html> or an <html> element. */
bool folio__html_sniff(const unsigned char *head, size_t n);
/* Read the plain-text file at @path into the empty @book, as folio__epub_read does. */
int folio__txt_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                    folio_book_t *book);

#endif
