/* Test fixtures: synthetic EPUBs and text files, and a log capture. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

static char dir[256];
static char path_buf[4][512];
static int path_next;
static char log_buf[65536];
static size_t log_len;

const char *fx_dir(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/folio-test-XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}

void fx_cleanup(void)
{
    if (!dir[0]) return;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    dir[0] = '\0';
}

static char *next_path(const char *name)
{
    char *p = path_buf[path_next++ % 4];
    snprintf(p, sizeof(path_buf[0]), "%s/%s", fx_dir(), name);
    return p;
}

const char *fx_file(const char *name, const void *data, size_t n)
{
    char *p = next_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) abort();
    return p;
}

static void add(zip_t *z, const char *name, const char *content, bool store)
{
    size_t n = strlen(content);
    char *copy = malloc(n + 1);
    memcpy(copy, content, n + 1);
    zip_source_t *s = zip_source_buffer(z, copy, n, 1);
    zip_int64_t idx = zip_file_add(z, name, s, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
    if (idx < 0) abort();
    if (store) zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0) abort();
    va_end(ap);
    return s;
}

static char *xhtml(const char *body)
{
    return fmt("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
               "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
               "xmlns:epub=\"http://www.idpf.org/2007/ops\">\n"
               "<head><title>Document title</title></head>\n<body>%s</body>\n</html>\n",
               body);
}

const char *fx_epub(const char *name, const fx_epub_t *b)
{
    char *p = next_path(name);
    remove(p);
    int err;
    zip_t *z = zip_open(p, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) abort();
    int version = b->version ? b->version : 3;
    if (!b->no_mimetype) add(z, "mimetype", "application/epub+zip", true);
    if (!b->no_container)
        add(z, "META-INF/container.xml",
            "<?xml version=\"1.0\"?>\n<container version=\"1.0\" "
            "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles>"
            "<rootfile full-path=\"OEBPS/content.opf\" "
            "media-type=\"application/oebps-package+xml\"/></rootfiles></container>",
            false);

    char manifest[8192] = "", spine[4096] = "";
    size_t ml = 0, sl = 0;
    if (b->nav) {
        ml += (size_t)snprintf(manifest + ml, sizeof(manifest) - ml,
                               "<item id=\"nav\" href=\"nav.xhtml\" "
                               "media-type=\"application/xhtml+xml\" properties=\"nav\"/>");
        char *doc = xhtml(b->nav);
        add(z, "OEBPS/nav.xhtml", doc, false);
        free(doc);
        if (b->nav_in_spine)
            sl += (size_t)snprintf(spine + sl, sizeof(spine) - sl, "<itemref idref=\"nav\"/>");
    }
    if (b->ncx) {
        ml += (size_t)snprintf(manifest + ml, sizeof(manifest) - ml,
                               "<item id=\"ncx\" href=\"toc.ncx\" "
                               "media-type=\"application/x-dtbncx+xml\"/>");
        char *doc = b->ncx_raw ? strdup(b->ncx)
                               : fmt("<?xml version=\"1.0\"?>\n<ncx "
                                     "xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" "
                                     "version=\"2005-1\">%s</ncx>",
                                     b->ncx);
        add(z, "OEBPS/toc.ncx", doc, false);
        free(doc);
    }
    if (b->page_map) {
        ml += (size_t)snprintf(manifest + ml, sizeof(manifest) - ml,
                               "<item id=\"map\" href=\"page-map.xml\" "
                               "media-type=\"application/oebps-page-map+xml\"/>");
        char *doc = fmt("<?xml version=\"1.0\"?>\n<page-map "
                        "xmlns=\"http://www.idpf.org/2007/opf\">%s</page-map>",
                        b->page_map);
        add(z, "OEBPS/page-map.xml", doc, false);
        free(doc);
    }
    for (int i = 0; i < FX_MAX && b->chapters[i]; i++) {
        ml += (size_t)snprintf(manifest + ml, sizeof(manifest) - ml,
                               "<item id=\"c%d\" href=\"ch%d.xhtml\" "
                               "media-type=\"application/xhtml+xml\"/>",
                               i + 1, i + 1);
        sl += (size_t)snprintf(spine + sl, sizeof(spine) - sl, "<itemref idref=\"c%d\"%s%s%s/>",
                               i + 1, b->linear[i] ? " linear=\"" : "",
                               b->linear[i] ? b->linear[i] : "", b->linear[i] ? "\"" : "");
        char *doc = b->raw[i] ? strdup(b->chapters[i]) : xhtml(b->chapters[i]);
        char file[64];
        snprintf(file, sizeof(file), "OEBPS/ch%d.xhtml", i + 1);
        bool missing = false;
        for (int m = 0; m < FX_MAX && b->missing[m]; m++)
            missing |= strcmp(b->missing[m], file + 6) == 0;
        if (!missing) add(z, file, doc, false);
        free(doc);
    }
    for (int m = 0; m < FX_MAX && b->missing[m]; m++)
        if (strncmp(b->missing[m], "ch", 2) != 0)
            ml += (size_t)snprintf(manifest + ml, sizeof(manifest) - ml,
                                   "<item id=\"missing%d\" href=\"%s\" media-type=\"image/png\"/>",
                                   m, b->missing[m]);
    char *opf =
        b->opf_override
            ? strdup(b->opf_override)
            : fmt("<?xml version=\"1.0\"?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" "
                  "version=\"%d.0\" unique-identifier=\"uid\"><metadata "
                  "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><dc:identifier "
                  "id=\"uid\">urn:test:%s</dc:identifier><dc:title>Test "
                  "Book</dc:title><dc:creator>Ann Author</dc:creator><dc:creator>Bo "
                  "Writer</dc:creator><dc:language>en</dc:language>%s</metadata>"
                  "<manifest>%s</manifest><spine%s%s>%s</spine>%s%s%s</package>",
                  version, name, b->metadata ? b->metadata : "", manifest,
                  b->ncx ? " toc=\"ncx\"" : "", b->page_map ? " page-map=\"map\"" : "", spine,
                  b->guide ? "<guide>" : "", b->guide ? b->guide : "", b->guide ? "</guide>" : "");
    add(z, "OEBPS/content.opf", opf, false);
    free(opf);
    for (int i = 0; i < FX_MAX && b->extra[i][0]; i++)
        add(z, b->extra[i][0], b->extra[i][1], false);
    if (zip_close(z) < 0) abort();
    return p;
}

static void capture(void *ud, folio_log_level_t level, const char *msg)
{
    (void)ud;
    int n = snprintf(log_buf + log_len, sizeof(log_buf) - log_len, "[%d] %s\n", (int)level, msg);
    if (n > 0 && log_len + (size_t)n < sizeof(log_buf)) log_len += (size_t)n;
}

folio_t *fx_context(void)
{
    folio_t *ctx = folio_new();
    if (!ctx) abort();
    folio_set_log(ctx, capture, NULL, FOLIO_LOG_DEBUG);
    fx_log_clear();
    return ctx;
}

bool fx_logged(const char *needle)
{
    return strstr(log_buf, needle) != NULL;
}

void fx_log_clear(void)
{
    log_len = 0;
    log_buf[0] = '\0';
}

const char *fx_log_text(void)
{
    return log_buf;
}

size_t fx_cp_offset(const char *text, const char *needle)
{
    const char *hit = strstr(text, needle);
    if (!hit) return (size_t)-1;
    size_t cp = 0;
    for (const char *p = text; p < hit; p++)
        if (((unsigned char)*p & 0xC0) != 0x80) cp++;
    return cp;
}

/* ---- checks on opened books ---- */

folio_book_t *fx_open_ok(folio_t *ctx, const char *path)
{
    int err = 12345;
    folio_book_t *b = folio_book_open(ctx, path, NULL, &err);
    if (!b) fprintf(stderr, "open failed: %s\n", folio_errmsg(ctx));
    assert_non_null(b);
    assert_int_equal(err, FOLIO_OK);
    return b;
}

int fx_open_fail(folio_t *ctx, const char *path, const folio_book_options_t *o)
{
    int err = 12345;
    folio_book_t *b = folio_book_open(ctx, path, o, &err);
    assert_null(b);
    assert_true(err < 0);
    /* Every failure names the file. */
    assert_non_null(strstr(folio_errmsg(ctx), path));
    return err;
}

const char *fx_text(const folio_book_t *b)
{
    return folio_book_text(b, NULL);
}

void fx_assert_range(const folio_book_t *b, size_t start, size_t end, const char *want)
{
    size_t n;
    const char *s = folio_book_text_range(b, start, end, &n);
    assert_non_null(s);
    char *got = malloc(n + 1);
    memcpy(got, s, n);
    got[n] = '\0';
    assert_string_equal(got, want);
    free(got);
}

void fx_check_page(const folio_book_t *b, size_t i, const char *label, const char *word)
{
    const folio_page_t *p = folio_book_page(b, i);
    assert_non_null(p);
    assert_int_equal(p->ordinal, i + 1);
    assert_string_equal(p->label, label);
    assert_int_equal(p->start_char, fx_cp_offset(fx_text(b), word));
}

const char *const fx_paged_chapters[2] = {
    "<h1>One</h1><p><span epub:type=\"pagebreak\" id=\"pg1\" title=\"1\"/>Alpha beta gamma.</p>"
    "<p>Delta <span epub:type=\"pagebreak\" id=\"pg2\" title=\"2\"/>epsilon zeta.</p>",
    "<h1 id=\"two\">Two</h1><p>Eta theta <span role=\"doc-pagebreak\" id=\"pg3\" "
    "aria-label=\"3\"></span>iota kappa.</p><p>Lambda mu.</p>"
    "<div epub:type=\"pagebreak\" id=\"pg4\">4</div><p>Nu xi omicron.</p>"};

int fx_teardown(void **state)
{
    (void)state;
    fx_cleanup();
    return 0;
}
