/* Test fixtures: EPUB and text files built on the fly in a temporary folder, and a log capture. */
#ifndef FOLIO_TEST_FIXTURE_H
#define FOLIO_TEST_FIXTURE_H

#include <folio.h>
#include <stdbool.h>
#include <stddef.h>

#define FX_MAX 8

/* A synthetic EPUB. Chapters are XHTML body content, wrapped into documents ch1.xhtml, ... */
typedef struct {
    int version; /* 2 or 3 (default 3) */
    const char *chapters[FX_MAX];
    const char *linear[FX_MAX]; /* "no" for linear="no" */
    bool raw[FX_MAX];           /* chapter is a whole document, not wrapped */
    const char *nav;      /* EPUB 3: body of nav.xhtml (manifest item with properties="nav") */
    bool nav_in_spine;    /* nav.xhtml also in the spine, first */
    const char *ncx;      /* inner XML of the NCX <ncx> element */
    bool ncx_raw;         /* ncx is the whole NCX document, not wrapped */
    const char *page_map; /* inner XML of <page-map>, referenced by spine@page-map */
    const char *guide;    /* inner XML of the OPF <guide> */
    const char *metadata; /* extra OPF metadata */
    const char *extra[FX_MAX][2]; /* more files: name, content */
    const char *missing[FX_MAX];  /* manifest hrefs (in OEBPS/) not written to the zip */
    bool no_mimetype, no_container;
    const char *opf_override; /* a whole OPF instead of the generated one */
} fx_epub_t;

/* Build @b into a fresh file named @name inside the test folder; returns its path (static buffer
 * per call: copy it if needed across calls). */
const char *fx_epub(const char *name, const fx_epub_t *b);

/* Write @n bytes to a file named @name in the test folder; returns its path. */
const char *fx_file(const char *name, const void *data, size_t n);

/* The test folder (created on first use, removed by fx_cleanup). */
const char *fx_dir(void);
void fx_cleanup(void);
/* fx_cleanup as a cmocka group teardown. */
int fx_teardown(void **state);

/* A context whose log messages are kept; fx_logged() tells whether one contains @needle. */
folio_t *fx_context(void);
bool fx_logged(const char *needle);
void fx_log_clear(void);
const char *fx_log_text(void);

/* Code point offset of the first occurrence of @needle in @text, or (size_t)-1. Independent of
 * the library: counts UTF-8 lead bytes itself. */
size_t fx_cp_offset(const char *text, const char *needle);

/* ---- checks on opened books (cmocka assertions), for the text and formats suites ---- */

/* Open @path with the default options; the test fails if it does not open. */
folio_book_t *fx_open_ok(folio_t *ctx, const char *path);
/* Open @path with @o, which must fail with a message naming @path; returns the error code. */
int fx_open_fail(folio_t *ctx, const char *path, const folio_book_options_t *o);
/* The book's whole text. */
const char *fx_text(const folio_book_t *b);
/* The text of code points [@start, @end) is @want. */
void fx_assert_range(const folio_book_t *b, size_t start, size_t end, const char *want);
/* Page @i has ordinal i + 1, label @label, and starts at the first occurrence of @word. */
void fx_check_page(const folio_book_t *b, size_t i, const char *label, const char *word);

/* Two chapters with page-break markers pg1, pg2 (in ch1) and pg3, pg4 (in ch2) before "Alpha",
 * "epsilon", "iota" and "Nu", labelled 1 to 4, and a heading with id "two". */
extern const char *const fx_paged_chapters[2];

#endif
