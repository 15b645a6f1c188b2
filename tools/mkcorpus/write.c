/* Writing the corpus book: an EPUB 3 (page-list, page-break markers, footnotes, front matter,
 * table of contents) and the same pages as form-feed paged plain text. */
#include "mkcorpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

typedef struct {
    char *s;
    size_t len, cap;
} sb_t;

static void sb_add(sb_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        while (b->len + n + 1 > b->cap) b->cap = b->cap ? b->cap * 2 : 4096;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_puts(sb_t *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_printf(sb_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void sb_printf(sb_t *b, const char *fmt, ...)
{
    char tmp[4096];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    sb_add(b, tmp, (size_t)n);
}

static void sb_escape(sb_t *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            sb_puts(b, "&amp;");
            break;
        case '<':
            sb_puts(b, "&lt;");
            break;
        case '>':
            sb_puts(b, "&gt;");
            break;
        case '"':
            sb_puts(b, "&quot;");
            break;
        default:
            sb_add(b, s, 1);
        }
    }
}

static const char *doc_head = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"
                              "<html xmlns=\"http://www.w3.org/1999/xhtml\" "
                              "xmlns:epub=\"http://www.idpf.org/2007/ops\" lang=\"en\" "
                              "xml:lang=\"en\">\n<head><title>%s</title></head>\n<body>\n";

/* A block's words as XHTML: page markers before words, note references after them. */
static void words_xhtml(sb_t *b, const cblock_t *blk)
{
    for (size_t k = 0; k < blk->n; k++) {
        const cword_t *w = &blk->w[k];
        if (k) sb_puts(b, " ");
        if (w->page)
            sb_printf(b,
                      "<span epub:type=\"pagebreak\" role=\"doc-pagebreak\" id=\"page-%s\" "
                      "title=\"%s\"></span>",
                      w->page, w->page);
        sb_escape(b, w->text);
        if (w->note_ref)
            sb_printf(b,
                      "<a epub:type=\"noteref\" role=\"doc-noteref\" href=\"#note-%d\" "
                      "id=\"ref-%d\">%d</a>",
                      w->note_ref, w->note_ref, w->note_ref);
    }
}

static void add_file(zip_t *z, const char *name, sb_t *content, bool store)
{
    zip_source_t *src = zip_source_buffer(z, content->s, content->len, 1);
    zip_int64_t idx = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (idx < 0) die("zip: %s", zip_strerror(z));
    zip_set_file_compression(z, (zip_uint64_t)idx, store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9);
    zip_file_set_mtime(z, (zip_uint64_t)idx, 946684800, 0);
    content->s = NULL;
    content->len = content->cap = 0;
}

/* Where each page's marker lives, for the page-list. */
static void page_list(const cbook_t *book, sb_t *nav)
{
    for (size_t i = 0; i < book->nb; i++) {
        const cblock_t *blk = &book->b[i];
        char doc[64];
        if (blk->chapter >= 0)
            xsnprintf(doc, sizeof(doc), "chapter%03d.xhtml", blk->chapter + 1);
        else if (blk->kind == K_TOC)
            xsnprintf(doc, sizeof(doc), "nav.xhtml");
        else
            xsnprintf(doc, sizeof(doc), "%s", i < 2 ? "titlepage.xhtml" : "copyright.xhtml");
        for (size_t k = 0; k < blk->n; k++)
            if (blk->w[k].page)
                sb_printf(nav, "<li><a href=\"%s#page-%s\">%s</a></li>\n", doc, blk->w[k].page,
                          blk->w[k].page);
    }
}

void write_epub(const conf_t *c, const cbook_t *book, const char *path)
{
    char tmp[2048];
    xsnprintf(tmp, sizeof(tmp), "%s.part", path);
    remove(tmp);
    int err;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) die("%s: cannot create", tmp);
    sb_t b = {0};
    sb_puts(&b, "application/epub+zip");
    add_file(z, "mimetype", &b, true);
    sb_puts(&b, "<?xml version=\"1.0\"?>\n<container version=\"1.0\" "
                "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles><rootfile "
                "full-path=\"OEBPS/content.opf\" "
                "media-type=\"application/oebps-package+xml\"/></rootfiles></container>\n");
    add_file(z, "META-INF/container.xml", &b, false);

    bool front = book->nb && book->b[0].chapter < 0;
    size_t first_body = 0;
    while (first_body < book->nb && book->b[first_body].chapter < 0) first_body++;
    if (front) {
        sb_printf(&b, doc_head, "Title page");
        sb_puts(&b, "<section epub:type=\"titlepage\">\n<h1>");
        words_xhtml(&b, &book->b[0]);
        sb_puts(&b, "</h1>\n<p>");
        words_xhtml(&b, &book->b[1]);
        sb_puts(&b, "</p>\n</section>\n</body>\n</html>\n");
        add_file(z, "OEBPS/titlepage.xhtml", &b, false);
        sb_printf(&b, doc_head, "Copyright");
        sb_puts(&b, "<section epub:type=\"copyright-page\">\n<p>");
        words_xhtml(&b, &book->b[2]);
        sb_puts(&b, "</p>\n</section>\n</body>\n</html>\n");
        add_file(z, "OEBPS/copyright.xhtml", &b, false);
    }
    /* The navigation document: contents (the book's contents page when there is front matter),
     * the page-list and landmarks. */
    sb_printf(&b, doc_head, "Contents");
    sb_puts(&b, "<nav epub:type=\"toc\" id=\"toc\" role=\"doc-toc\">\n<h1>");
    if (front)
        words_xhtml(&b, &book->b[3]);
    else
        sb_puts(&b, "Contents");
    sb_puts(&b, "</h1>\n<ol>\n");
    for (size_t i = 0; i < book->nch; i++) {
        sb_printf(&b, "<li><a href=\"chapter%03zu.xhtml\">", i + 1);
        if (front)
            words_xhtml(&b, &book->b[4 + i]);
        else
            sb_escape(&b, book->ch[i].title);
        sb_puts(&b, "</a></li>\n");
    }
    sb_puts(&b, "</ol>\n</nav>\n<nav epub:type=\"page-list\" hidden=\"\">\n<ol>\n");
    page_list(book, &b);
    sb_puts(&b, "</ol>\n</nav>\n<nav epub:type=\"landmarks\" hidden=\"\">\n<ol>\n");
    if (front)
        sb_puts(&b, "<li><a epub:type=\"titlepage\" href=\"titlepage.xhtml\">Title page</a></li>\n"
                    "<li><a epub:type=\"toc\" href=\"nav.xhtml#toc\">Contents</a></li>\n");
    sb_puts(&b, "<li><a epub:type=\"bodymatter\" href=\"chapter001.xhtml\">Start</a></li>\n"
                "</ol>\n</nav>\n</body>\n</html>\n");
    add_file(z, "OEBPS/nav.xhtml", &b, false);

    for (size_t ci = 0; ci < book->nch; ci++) {
        const cchapter_t *ch = &book->ch[ci];
        sb_printf(&b, doc_head, "Chapter");
        sb_printf(&b, "<section epub:type=\"chapter\" role=\"doc-chapter\" id=\"chapter-%zu\">\n",
                  ci + 1);
        bool notes_open = false;
        for (size_t i = ch->first; i < ch->first + ch->count; i++) {
            const cblock_t *blk = &book->b[i];
            if (blk->kind == K_NOTE) {
                if (!notes_open) sb_puts(&b, "<section epub:type=\"footnotes\">\n");
                notes_open = true;
                sb_printf(&b,
                          "<aside epub:type=\"footnote\" role=\"doc-footnote\" "
                          "id=\"note-%d\">\n<p>",
                          blk->note);
                words_xhtml(&b, blk);
                sb_puts(&b, "</p>\n</aside>\n");
                continue;
            }
            const char *tag = blk->kind == K_HEADING ? (blk->level <= 1 ? "h1" : "h2") : "p";
            sb_printf(&b, "<%s>", tag);
            words_xhtml(&b, blk);
            sb_printf(&b, "</%s>\n", tag);
        }
        if (notes_open) sb_puts(&b, "</section>\n");
        sb_puts(&b, "</section>\n</body>\n</html>\n");
        char name[64];
        xsnprintf(name, sizeof(name), "OEBPS/chapter%03zu.xhtml", ci + 1);
        add_file(z, name, &b, false);
    }

    sb_printf(&b,
              "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<package "
              "xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" "
              "unique-identifier=\"uid\" xml:lang=\"en\">\n<metadata "
              "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">\n<dc:identifier "
              "id=\"uid\">urn:folio-corpus:%s</dc:identifier>\n<dc:title>",
              c->name);
    sb_escape(&b, book->title);
    sb_puts(&b, "</dc:title>\n<dc:creator>");
    sb_escape(&b, book->author);
    sb_puts(&b, "</dc:creator>\n<dc:language>en</dc:language>\n<meta "
                "property=\"dcterms:modified\">2026-01-01T00:00:00Z</meta>\n</metadata>\n"
                "<manifest>\n<item id=\"nav\" href=\"nav.xhtml\" "
                "media-type=\"application/xhtml+xml\" properties=\"nav\"/>\n");
    if (front)
        sb_puts(&b, "<item id=\"titlepage\" href=\"titlepage.xhtml\" "
                    "media-type=\"application/xhtml+xml\"/>\n<item id=\"copyright\" "
                    "href=\"copyright.xhtml\" media-type=\"application/xhtml+xml\"/>\n");
    for (size_t i = 0; i < book->nch; i++)
        sb_printf(&b,
                  "<item id=\"c%zu\" href=\"chapter%03zu.xhtml\" "
                  "media-type=\"application/xhtml+xml\"/>\n",
                  i + 1, i + 1);
    sb_puts(&b, "</manifest>\n<spine>\n");
    if (front)
        sb_puts(&b, "<itemref idref=\"titlepage\"/>\n<itemref idref=\"copyright\"/>\n<itemref "
                    "idref=\"nav\"/>\n");
    for (size_t i = 0; i < book->nch; i++) sb_printf(&b, "<itemref idref=\"c%zu\"/>\n", i + 1);
    sb_puts(&b, "</spine>\n</package>\n");
    add_file(z, "OEBPS/content.opf", &b, false);
    if (zip_close(z) < 0) die("%s: %s", tmp, zip_strerror(z));
    if (rename(tmp, path) != 0) die("%s: cannot rename", path);
    (void)first_body;
}

void write_txt(const cbook_t *book, const char *path)
{
    FILE *f = fopen(path, "wb");
    if (!f) die("%s: cannot create", path);
    size_t line = 0;
    bool first_word = true;
    for (size_t i = 0; i < book->nb; i++) {
        const cblock_t *blk = &book->b[i];
        bool block_start = true;
        for (size_t k = 0; k < blk->n; k++) {
            const cword_t *w = &blk->w[k];
            if (w->page && !first_word) {
                /* pdftotext's convention: the page's last line, then a form feed. */
                fputs(line ? "\n\f" : "\f", f);
                line = 0;
                block_start = false;
            }
            if (block_start && !first_word) {
                fputs(line ? "\n\n" : "\n", f);
                line = 0;
            }
            block_start = false;
            size_t len = strlen(w->text);
            if (line && line + 1 + len > 72) {
                fputc('\n', f);
                line = 0;
            }
            if (line) fputc(' ', f), line++;
            fputs(w->text, f);
            line += len;
            first_word = false;
        }
    }
    fputc('\n', f);
    if (fclose(f) != 0) die("%s: write error", path);
}
