/* The one-file HTML book reader (Project Gutenberg's HTML editions and books published the same
 * way): the file parsed with libxml2's HTML parser and walked by the (X)HTML walker into the book
 * model, its printed page numbers made page marks and Gutenberg's header and licence flagged not
 * read. */
#include "xhtml.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>

/* An HTML file may hold this many bytes a character of the text limit: markup, styles and
 * scripts around the text. */
#define MAX_BYTES_PER_CHAR 16

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* Skip a UTF-8 BOM, white space, XML declarations and processing instructions, and comments at
 * @p; false when one of them does not end before @end. */
static bool skip_prolog(const char **p, const char *end)
{
    const char *s = *p;
    if (end - s >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) s += 3;
    for (;;) {
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
        const char *close = NULL;
        if (end - s >= 2 && memcmp(s, "<?", 2) == 0)
            close = "?>";
        else if (end - s >= 4 && memcmp(s, "<!--", 4) == 0)
            close = "-->";
        if (!close) break;
        size_t cl = strlen(close);
        const char *q = s + 2;
        while (q + cl <= end && memcmp(q, close, cl) != 0) q++;
        if (q + cl > end) return false;
        s = q + cl;
    }
    *p = s;
    return true;
}

static bool starts_with_tag(const char *s, const char *end, const char *tag)
{
    size_t n = strlen(tag);
    if ((size_t)(end - s) <= n || strncasecmp(s, tag, n) != 0) return false;
    char c = s[n];
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/';
}

bool folio__html_sniff(const unsigned char *head, size_t n)
{
    const char *s = (const char *)head, *end = s + n;
    if (!skip_prolog(&s, end)) return false;
    if (end - s > 9 && strncasecmp(s, "<!doctype", 9) == 0) {
        s += 9;
        while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
        return starts_with_tag(s, end, "html");
    }
    return starts_with_tag(s, end, "<html");
}

/* One reading of an HTML book. */
typedef struct {
    folio_t *ctx;
    const char *name; /* the file's path, for messages */
    folio_book_t *book;
    const folio_book_options_t *opts;
    char *buf; /* the file's bytes, then its parsed document */
    size_t len;
    xmlDocPtr doc;
    folio_tb_t tb; /* what the walker makes of the <body>: text, blocks, anchors, page marks */
    folio_map_t anchors;
    folio_page_marks_t markers;
} html_t;

static int read_file(html_t *H)
{
    uint64_t cap = H->opts->max_text_chars > UINT64_MAX / MAX_BYTES_PER_CHAR
                       ? UINT64_MAX
                       : (uint64_t)H->opts->max_text_chars * MAX_BYTES_PER_CHAR;
    int rc = folio__book_file_read(H->ctx, H->name, cap, &H->buf, &H->len);
    if (rc == FOLIO_ELIMIT)
        rc = folio__error(H->ctx, rc,
                          "%s: the HTML file is larger than %llu bytes (%d bytes a character of "
                          "the text limit)",
                          H->name, (unsigned long long)cap, MAX_BYTES_PER_CHAR);
    return rc;
}

/* Whether the first bytes declare a character set (<meta charset>, a Content-Type <meta>, or
 * an XML declaration's encoding). */
static bool declares_charset(const char *buf, size_t len)
{
    size_t n = len < 4096 ? len : 4096;
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(buf + i, "charset=", 8) == 0 || strncasecmp(buf + i, "encoding=", 8) == 0)
            return true;
    return false;
}

/* Check that the file is an HTML document and parse it. UTF-8 is assumed when the bytes are
 * UTF-8; otherwise the document must declare its character set. */
static int parse(html_t *H)
{
    if (memchr(H->buf, '\0', H->len))
        return folio__error(H->ctx, FOLIO_EFORMAT, "%s: contains NUL bytes: not an HTML file",
                            H->name);
    if (!folio__html_sniff((const unsigned char *)H->buf, H->len))
        return folio__error(H->ctx, FOLIO_EFORMAT,
                            "%s: not an HTML document (it does not start with <!DOCTYPE html> or "
                            "an <html> element)",
                            H->name);
    const char *enc = "UTF-8";
    size_t bad;
    if (!folio__utf8_valid(H->buf, H->len, &bad)) {
        if (!declares_charset(H->buf, H->len))
            return folio__error(H->ctx, FOLIO_EENCODING,
                                "%s: invalid UTF-8 at byte %zu and no charset declared", H->name,
                                bad);
        enc = NULL; /* the parser follows the declaration */
    }
    H->doc = folio__html_parse(H->buf, H->len, H->name, enc);
    if (!H->doc) return FOLIO_ENOMEM;
    xmlNodePtr root = xmlDocGetRootElement(H->doc);
    if (!folio__xml_is(root, "html"))
        return folio__error(H->ctx, FOLIO_EFORMAT, "%s: not an HTML document (no <html> element)",
                            H->name);
    if (!folio__xml_child(root, "body"))
        return folio__error(H->ctx, FOLIO_EFORMAT,
                            "%s: the HTML document has no <body> (a frameset is not a book)",
                            H->name);
    return FOLIO_OK;
}

/* ---- metadata from the <head> ---- */

static int set_meta(html_t *H, folio_meta_t key, const char *value, size_t n)
{
    while (n && (*value == ' ' || *value == '\n' || *value == '\t')) value++, n--;
    while (n && (value[n - 1] == ' ' || value[n - 1] == '\n' || value[n - 1] == '\t')) n--;
    if (H->book->meta[key] || !n) return FOLIO_OK;
    H->book->meta[key] = folio__strndup(value, n);
    return H->book->meta[key] ? FOLIO_OK : FOLIO_ENOMEM;
}

/* Dublin Core <meta name="dc.title" content="...">, then the language of <html lang>, then the
 * <title>: Gutenberg's "The Project Gutenberg eBook of TITLE, by AUTHOR" gives both. */
static int read_meta(html_t *H)
{
    static const struct {
        const char *name;
        folio_meta_t key;
    } dc[] = {{"title", FOLIO_META_TITLE},
              {"creator", FOLIO_META_AUTHOR},
              {"language", FOLIO_META_LANGUAGE},
              {"identifier", FOLIO_META_IDENTIFIER}};
    int rc = FOLIO_OK;
    xmlNodePtr root = xmlDocGetRootElement(H->doc), head = folio__xml_child(root, "head");
    for (xmlNodePtr n = head; n && rc >= 0; n = folio__xml_next(n, head)) {
        if (!folio__xml_is(n, "meta")) continue;
        char *name = folio__xml_attr(n, "name"), *content = folio__xml_attr(n, "content");
        const char *local = !name                                   ? NULL
                            : strncasecmp(name, "dc.", 3) == 0      ? name + 3
                            : strncasecmp(name, "dcterms.", 8) == 0 ? name + 8
                                                                    : NULL;
        for (size_t i = 0; local && content && i < sizeof(dc) / sizeof(dc[0]); i++)
            if (strcasecmp(local, dc[i].name) == 0)
                rc = set_meta(H, dc[i].key, content, strlen(content));
        free(name);
        free(content);
    }
    char *lang = root ? folio__xml_attr(root, "lang") : NULL;
    if (!lang && root) lang = folio__xml_attr(root, "xml:lang");
    if (rc >= 0 && lang) rc = set_meta(H, FOLIO_META_LANGUAGE, lang, strlen(lang));
    free(lang);
    xmlNodePtr title = head ? folio__xml_child(head, "title") : NULL;
    char *t = title ? folio__node_text(title) : NULL;
    if (rc >= 0 && t) {
        const char *s = t, *prefix = "The Project Gutenberg eBook of ";
        if (strncasecmp(s, prefix, strlen(prefix)) == 0) s += strlen(prefix);
        const char *by = strstr(s, ", by ");
        if (by && (rc = set_meta(H, FOLIO_META_AUTHOR, by + 5, strlen(by + 5))) >= 0)
            rc = set_meta(H, FOLIO_META_TITLE, s, (size_t)(by - s));
        else if (rc >= 0)
            rc = set_meta(H, FOLIO_META_TITLE, s, strlen(s));
    }
    free(t);
    return rc >= 0 ? folio__book_title_from_name(H->book, H->name) : rc;
}

/* ---- Gutenberg's conventions, said in the walker's terms ---- */

/* A printed page number's label: "[Pg 12]", "[p. xii]", "{12}", "12" -> "12", "xii". */
static char *page_label(xmlNodePtr node)
{
    char *text = folio__node_text(node);
    if (!text) return NULL;
    char *s = text, *e = text + strlen(text);
    while (s < e && strchr("[({ ", *s)) s++;
    while (e > s && strchr("])} .", e[-1])) e--;
    static const char *const words[] = {"page", "pg", "pp", "p"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        size_t n = strlen(words[i]);
        if ((size_t)(e - s) > n && strncasecmp(s, words[i], n) == 0 &&
            (s[n] == ' ' || s[n] == '.')) {
            s += n;
            while (s < e && (*s == ' ' || *s == '.')) s++;
            break;
        }
    }
    char *label = folio__strndup(s, (size_t)(e - s));
    free(text);
    return label;
}

static bool fragment_link(xmlNodePtr n)
{
    if (!folio__xml_is(n, "a")) return false;
    char *href = folio__xml_attr(n, "href");
    bool r = href && href[0] == '#' && href[1];
    free(href);
    return r;
}

/* Whether every visible character under @cell is inside a link to a place in the document (an
 * entry of a contents list: "<td><a href="#chap01">CHAPTER I</a></td>"), and there is one. A
 * contents entry is a few nodes: a cell of more than MAX_ENTRY_NODES is not one, which also keeps
 * nested cells from costing the square of their number. */
#define MAX_ENTRY_NODES 256
static bool links_only(xmlNodePtr cell)
{
    bool linked_text = false;
    size_t budget = MAX_ENTRY_NODES;
    for (xmlNodePtr n = cell->children; n; budget--) {
        if (!budget) return false;
        if (n->type == XML_TEXT_NODE && n->content) {
            bool visible = false;
            for (const xmlChar *c = n->content; *c && !visible; c++)
                visible = *c != ' ' && *c != '\t' && *c != '\n' && *c != '\r';
            if (visible) {
                bool in_link = false;
                for (xmlNodePtr a = n->parent; a != cell && !in_link; a = a->parent)
                    in_link = fragment_link(a);
                if (!in_link) return false;
                linked_text = true;
            }
        }
        if (n->type == XML_ELEMENT_NODE && n->children) {
            n = n->children;
            continue;
        }
        while (n != cell && !n->next) n = n->parent;
        n = n == cell ? NULL : n->next;
    }
    return linked_text;
}

/* Mark what Gutenberg's markup says with the roles and epub:type values the walker acts on: a
 * <span class="pagenum"> is a page-break marker labelled with its number; the pg-header and
 * pg-footer sections (or class pg-boilerplate) are front and back matter not read; a paragraph,
 * list item or table cell holding nothing but links into the book is a contents entry, not
 * read. */
static int mark_conventions(html_t *H, xmlNodePtr body)
{
    for (xmlNodePtr n = body; n; n = folio__xml_next(n, body)) {
        char *cls = folio__xml_attr(n, "class"), *id = folio__xml_attr(n, "id");
        bool pagenum = folio__has_token(cls, "pagenum");
        const char *type = id && strcmp(id, "pg-header") == 0        ? "copyright-page"
                           : id && strcmp(id, "pg-footer") == 0      ? "colophon"
                           : folio__has_token(cls, "pg-boilerplate") ? "copyright-page"
                                                                     : NULL;
        free(cls);
        free(id);
        if (!type &&
            (folio__xml_is(n, "p") || folio__xml_is(n, "li") || folio__xml_is(n, "td") ||
             folio__xml_is(n, "th")) &&
            links_only(n))
            type = "toc";
        if (type && !xmlSetProp(n, (const xmlChar *)"epub:type", (const xmlChar *)type))
            return FOLIO_ENOMEM;
        if (!pagenum) continue;
        char *label = page_label(n);
        if (!label) return FOLIO_ENOMEM;
        bool ok = xmlSetProp(n, (const xmlChar *)"role", (const xmlChar *)"doc-pagebreak") &&
                  (!*label || xmlSetProp(n, (const xmlChar *)"aria-label", (const xmlChar *)label));
        free(label);
        if (!ok) return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

/* Whether the block's text [s, s + n) is one of Gutenberg's "*** START OF THE PROJECT GUTENBERG
 * EBOOK ..." (or END OF) lines, or holds one. */
static bool has_marker(const char *s, size_t n, const char *what)
{
    const char *forms[2] = {"THE PROJECT GUTENBERG", "THIS PROJECT GUTENBERG"};
    size_t wl = strlen(what);
    bool stars = false;
    for (size_t i = 0; i + 3 <= n && !stars; i++) stars = memcmp(s + i, "***", 3) == 0;
    if (!stars) return false;
    for (size_t i = 0; i + wl < n; i++) {
        if (strncasecmp(s + i, what, wl) != 0) continue;
        for (int f = 0; f < 2; f++)
            if (n - i - wl >= strlen(forms[f]) &&
                strncasecmp(s + i + wl, forms[f], strlen(forms[f])) == 0)
                return true;
    }
    return false;
}

/* The byte offset of the code point after the one at @byte in @text. */
static size_t next_char(const char *text, size_t byte)
{
    size_t len;
    folio__utf8_decode(text + byte, &len);
    return byte + len;
}

/* After the walk: a heading just before a contents list is part of it; and in Gutenberg files
 * that have the markers only in their text (older editions put the header in a <pre>), the
 * blocks up to the one with "*** START OF" are front matter not read, the blocks from the one
 * with "*** END OF" back matter not read. */
static void flag_unread(html_t *H)
{
    folio_book_t *b = H->book;
    size_t n = b->blocks.len, start = SIZE_MAX, end = n;
    size_t ch = 0, byte = 0;
    for (size_t i = 0; i < n; i++) {
        folio_block_t *blk = &b->blocks.items[i];
        /* Blocks are in text order: walk the code points to their bytes once. */
        for (; ch < blk->start_char; ch++) byte = next_char(b->text, byte);
        size_t from = byte;
        for (; ch < blk->end_char; ch++) byte = next_char(b->text, byte);
        if (start == SIZE_MAX && has_marker(b->text + from, byte - from, "START OF ")) {
            start = i;
        } else if (start != SIZE_MAX && has_marker(b->text + from, byte - from, "END OF ")) {
            end = i;
            break;
        }
    }
    /* A contents list's heading is part of it. */
    for (size_t i = 0; i + 1 < n; i++) {
        folio_block_t *blk = &b->blocks.items[i];
        if (blk->kind == FOLIO_BLOCK_HEADING && b->blocks.items[i + 1].kind == FOLIO_BLOCK_TOC) {
            blk->kind = FOLIO_BLOCK_TOC;
            blk->read = 0;
        }
    }
    if (start == SIZE_MAX) return;
    for (size_t i = 0; i < n; i++) {
        folio_block_t *blk = &b->blocks.items[i];
        if (i <= start || i >= end) {
            blk->kind = i <= start ? FOLIO_BLOCK_FRONTMATTER : FOLIO_BLOCK_BACKMATTER;
            blk->read = 0;
            blk->level = 0;
        }
    }
}

static void html_free(html_t *H)
{
    free(H->buf);
    xmlFreeDoc(H->doc);
    folio__tb_free(&H->tb);
    folio__map_free(&H->anchors);
    folio__page_marks_free(&H->markers);
}

int folio__html_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                     folio_book_t *book)
{
    pthread_once(&xml_once, xml_init);
    html_t H = {.ctx = ctx, .name = path, .opts = opts, .book = book};
    int rc;
    TRY(folio__tb_init(&H.tb, ctx, path, book, opts->max_text_chars));
    TRY(read_file(&H));
    TRY(parse(&H));
    TRY(read_meta(&H));
    xmlNodePtr body = folio__xml_child(xmlDocGetRootElement(H.doc), "body");
    TRY(mark_conventions(&H, body));
    folio_xhtml_walk_t w = {
        .tb = &H.tb,
        .anchors = &H.anchors,
        .doc_path = folio__basename(path),
        .base = {.kind = FOLIO_BLOCK_PARAGRAPH, .read = true},
        .markers = &H.markers,
    };
    TRY(folio__xhtml_walk(&w, body));
    TRY(folio__tb_finish(&H.tb));
    if (!book->text_chars) FAIL(ctx, FOLIO_EEMPTY, "%s: the HTML document contains no text", path);
    book->format = FOLIO_BOOK_HTML;
    flag_unread(&H);
    TRY(folio__book_index_text(ctx, book));
    rc = folio__book_set_pages(ctx, path, book, &H.tb, H.markers.items, H.markers.len,
                               FOLIO_PAGES_MARKERS, opts->synthetic_page_chars);
    VEC_FREE(H.markers); /* the labels now belong to the book */
    TRY(rc);
    TRY(folio__book_chapters_from_headings(book));
    if (w.skipped_inline)
        folio__info(ctx, "%s: %zu inline element(s) not read aloud were left out of the text", path,
                    w.skipped_inline);
fail:
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx))
        folio__error(ctx, rc, "%s: out of memory", path);
    html_free(&H);
    return rc;
}
