/* Ids on what a Media Overlay points at: a content document parsed and numbered as the reader
 * numbered it, each clip's element found again by its number, and an id written into the start
 * tag of each one that has none, every other byte of the document kept. Sentences and words are
 * found by aligning the book's text with the document's text nodes and wrapped in <span>s. */
#include "epub.h"
#include "xhtml.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/xmlsave.h>

#define XHTML_NS "http://www.w3.org/1999/xhtml"

/* An id to add: to the element whose start tag is the @number-th in the document. */
typedef struct {
    size_t number;
    const char *name; /* the element's qualified name, to check the count */
    const char *id;
} insert_t;

static int cmp_insert(const void *a, const void *b)
{
    size_t x = ((const insert_t *)a)->number, y = ((const insert_t *)b)->number;
    return x < y ? -1 : x > y;
}

/* Skip from @p past the first occurrence of @end; NULL if none. */
static const char *past(const char *p, const char *stop, const char *end)
{
    size_t n = strlen(end);
    for (; p + n <= stop; p++)
        if (memcmp(p, end, n) == 0) return p + n;
    return NULL;
}

/* Write @buf with ` id="..."` after the name of each start tag in @ins (sorted). Start tags are
 * counted in document order, which is the order folio__xhtml_number() numbers the elements of a
 * document parsed as XML (no entity is expanded, so every element has its start tag in @buf).
 * Every other byte is kept. Returns FOLIO_EFORMAT if a counted tag's name is not the element's. */
static int insert_ids(const char *buf, size_t len, const insert_t *ins, size_t n, folio_str_t *out)
{
    const char *p = buf, *stop = buf + len, *copied = buf;
    size_t count = 0, k = 0;
    int rc;
    while (k < n && (p = memchr(p, '<', (size_t)(stop - p)))) {
        if (p + 4 <= stop && memcmp(p, "<!--", 4) == 0) {
            p = past(p + 4, stop, "-->");
        } else if (p + 9 <= stop && memcmp(p, "<![CDATA[", 9) == 0) {
            p = past(p + 9, stop, "]]>");
        } else if (p + 2 <= stop && p[1] == '?') {
            p = past(p + 2, stop, "?>");
        } else if (p + 2 <= stop && p[1] == '!') { /* DOCTYPE, with an internal subset maybe */
            int depth = 0;
            char quote = 0;
            for (p += 2; p < stop; p++) {
                if (quote) {
                    if (*p == quote) quote = 0;
                } else if (*p == '"' || *p == '\'') {
                    quote = *p;
                } else if (*p == '[') {
                    depth++;
                } else if (*p == ']') {
                    depth--;
                } else if (*p == '>' && depth <= 0) {
                    break;
                }
            }
            p = p < stop ? p + 1 : NULL;
        } else if (p + 1 < stop && p[1] != '/') {
            /* A start tag: its name, then attributes up to '>'. */
            const char *name = p + 1, *e = name;
            while (e < stop && !strchr(" \t\r\n/>", *e)) e++;
            if (++count == ins[k].number) {
                size_t nl = strlen(ins[k].name);
                if ((size_t)(e - name) != nl || memcmp(name, ins[k].name, nl) != 0)
                    return FOLIO_EFORMAT;
                if ((rc = folio__str_append(out, copied, (size_t)(e - copied))) < 0 ||
                    (rc = folio__str_printf(out, " id=\"%s\"", ins[k].id)) < 0)
                    return rc;
                copied = e;
                k++;
            }
            char quote = 0;
            for (p = e; p < stop && (quote || *p != '>'); p++)
                if (quote ? *p == quote : (*p == '"' || *p == '\'')) quote = quote ? 0 : *p;
        } else {
            p = past(p + 1, stop, ">"); /* an end tag */
        }
        if (!p) break;
    }
    if (k < n) return FOLIO_EFORMAT;
    return folio__str_append(out, copied, (size_t)(stop - copied));
}

/* The qualified name of @el as written: prefix:local or local. */
static char *qname(xmlNodePtr el)
{
    folio_str_t s = {0};
    if (el->ns && el->ns->prefix)
        folio__str_printf(&s, "%s:%s", (const char *)el->ns->prefix, (const char *)el->name);
    else
        folio__str_printf(&s, "%s", (const char *)el->name);
    return folio__str_take(&s);
}

/* ---- sentences and words: spans around text ---- */

folio_epub_doc_text_t folio__epub_doc_text(const folio_book_t *book, size_t spine)
{
    folio_epub_doc_text_t t = {NULL, 0, 0};
    size_t start = (size_t)-1, end = 0, bytes;
    for (size_t i = 0; i < folio_book_n_blocks(book); i++) {
        const folio_block_t *b = folio_book_block(book, i);
        if (b->section != spine) continue;
        if (b->start_char < start) start = b->start_char;
        if (b->end_char > end) end = b->end_char;
    }
    if (start == (size_t)-1) return t;
    const char *text = folio_book_text(book, &bytes);
    size_t at = 0, cp = 0, from = 0;
    for (; at < bytes && cp < end; cp++) {
        if (cp == start) from = at;
        unsigned char c = (unsigned char)text[at];
        at += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
    if (at > bytes) at = bytes;
    t.text = text + from;
    t.bytes = at - from;
    t.start_char = start;
    return t;
}

/* One code point of the document's text nodes: its node, byte offset and length there. */
typedef struct {
    uint32_t cp;
    xmlNodePtr node;
    size_t off;
    unsigned len;
} dom_cp_t;

typedef VEC(dom_cp_t) dom_cps_t;

/* White space and the soft hyphen: never matched (the book's text collapses or drops them). */
static bool blank(uint32_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0xAD;
}

static bool unread_subtree(xmlNodePtr n)
{
    static const char *const names[] = {"head", "script", "style", "template", NULL};
    for (const char *const *k = names; *k; k++)
        if (folio__xml_is(n, *k)) return true;
    return false;
}

/* The code points of the text nodes under @root in document order (outside head, script and
 * style), white space left out. */
static int dom_text(xmlNodePtr root, dom_cps_t *out)
{
    for (xmlNodePtr n = root; n;) {
        if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) && n->content) {
            const char *c = (const char *)n->content;
            for (size_t at = 0, len; c[at]; at += len) {
                uint32_t cp = folio__utf8_decode(c + at, &len);
                if (!len) len = 1;
                dom_cp_t d = {cp, n, at, (unsigned)len};
                if (!blank(cp) && VEC_PUSH(*out, d) < 0) return FOLIO_ENOMEM;
            }
        }
        if (n->type == XML_ELEMENT_NODE && n->children && !unread_subtree(n)) {
            n = n->children;
            continue;
        }
        while (n != root && !n->next) n = n->parent;
        n = n == root ? NULL : n->next;
    }
    return FOLIO_OK;
}

/* Whether the @k non-blank code points of @book from @i on are those of @dom from @j on. */
static bool agree(const uint32_t *book, size_t nb, size_t i, const dom_cp_t *dom, size_t nd,
                  size_t j, int k)
{
    for (; k > 0 && i < nb; i++) {
        if (blank(book[i])) continue;
        if (j >= nd || dom[j].cp != book[i]) return false;
        j++, k--;
    }
    return true;
}

/* For each code point of @book, the index in @dom of the code point it is, or -1. Greedy, in
 * order; where the two differ (note markers and page numbers are in the document, not in the
 * text; an entity the text expanded is not in a text node) it looks a little ahead for the
 * place where a few code points agree again. */
static void align_text(const uint32_t *book, size_t nb, const dom_cp_t *dom, size_t nd, long *match)
{
    size_t j = 0;
    for (size_t i = 0; i < nb; i++) {
        match[i] = -1;
        if (blank(book[i])) continue;
        if (j < nd && dom[j].cp == book[i]) {
            match[i] = (long)j++;
            continue;
        }
        for (size_t k = j + 1; k < nd && k <= j + 64; k++)
            if (dom[k].cp == book[i] && agree(book, nb, i, dom, nd, k, 4)) {
                match[i] = (long)k;
                j = k + 1;
                break;
            }
    }
}

/* Split text node @t at byte @off: @t keeps what comes before, the new node after it holds the
 * rest and is returned (@t itself when @off is 0). NULL when out of memory. */
static xmlNodePtr split_text(xmlNodePtr t, size_t off)
{
    if (off == 0) return t;
    const char *c = (const char *)t->content;
    xmlNodePtr rest = t->type == XML_CDATA_SECTION_NODE
                          ? xmlNewCDataBlock(t->doc, (const xmlChar *)c + off, (int)strlen(c + off))
                          : xmlNewDocText(t->doc, (const xmlChar *)c + off);
    xmlChar *head = rest ? xmlStrndup((const xmlChar *)c, (int)off) : NULL;
    if (!head) {
        xmlFreeNode(rest);
        return NULL;
    }
    /* @c is @t's content: copied before it is replaced. */
    xmlNodeSetContent(t, NULL);
    xmlNodeAddContentLen(t, head, (int)off);
    xmlFree(head);
    /* xmlAddNextSibling would merge two text nodes back into one. */
    rest->parent = t->parent;
    rest->prev = t;
    rest->next = t->next;
    if (t->next)
        t->next->prev = rest;
    else if (t->parent)
        t->parent->last = rest;
    t->next = rest;
    return rest;
}

static size_t depth_of(xmlNodePtr n)
{
    size_t d = 0;
    for (; n; n = n->parent) d++;
    return d;
}

/* Wrap the nodes from @s to @t (text nodes, @s not after @t) in a new <span id=@id>: both are
 * lifted to the ancestors they begin or end, until they are siblings. Returns 1 when wrapped,
 * 0 when no span can enclose exactly that text, or FOLIO_ENOMEM. */
static int wrap(xmlNodePtr s, xmlNodePtr t, const char *id)
{
    /* Their nearest common ancestor. */
    xmlNodePtr a = s, b = t;
    size_t da = depth_of(a), db = depth_of(b);
    while (da > db) a = a->parent, da--;
    while (db > da) b = b->parent, db--;
    while (a != b) a = a->parent, b = b->parent;
    xmlNodePtr common = s == t ? s->parent : a; /* text nodes: only one is its own ancestor */
    if (!common || s == common || t == common) return 0;
    while (s->parent != common && !s->prev) s = s->parent;
    while (t->parent != common && !t->next) t = t->parent;
    if (s->parent != t->parent) return 0;
    xmlNodePtr span = xmlNewDocNode(s->doc, s->parent->ns, (const xmlChar *)"span", NULL);
    if (!span || !xmlSetProp(span, (const xmlChar *)"id", (const xmlChar *)id)) {
        xmlFreeNode(span);
        return FOLIO_ENOMEM;
    }
    /* In place of @s, then the nodes moved in, text nodes kept apart as they were. */
    span->parent = s->parent;
    span->prev = s->prev;
    if (s->prev)
        s->prev->next = span;
    else
        s->parent->children = span;
    xmlNodePtr after = t->next;
    span->next = after;
    if (after)
        after->prev = span;
    else
        s->parent->last = span;
    span->children = s;
    span->last = t;
    s->prev = NULL;
    t->next = NULL;
    for (xmlNodePtr n = s; n; n = n->next) n->parent = span;
    return 1;
}

/* A unique id: @stem, else @stem-1, @stem-2, ... */
static int unique_id(folio_map_t *ids, const char *stem, char *out, size_t cap)
{
    size_t v;
    snprintf(out, cap, "%s", stem);
    for (int k = 1; folio__map_get(ids, out, &v); k++) snprintf(out, cap, "%s-%d", stem, k);
    return folio__map_put(ids, out, 1);
}

/* Spans around the text of each clip with a range; the id of each wrapped one in its ->id. The
 * others are left for their element. */
static int wrap_ranges(xmlNodePtr root, const folio_epub_doc_text_t *text, folio_epub_clip_t *clips,
                       size_t n_clips, folio_map_t *ids)
{
    int rc = FOLIO_OK;
    dom_cps_t dom = {0};
    uint32_t *book = NULL;
    long *match = NULL;
    size_t nb = 0;
    TRY(dom_text(root, &dom));
    if (!(book = malloc((text->bytes + 1) * sizeof(uint32_t))) ||
        !(match = malloc((text->bytes + 1) * sizeof(long))))
        TRY(FOLIO_ENOMEM);
    for (size_t at = 0, len; at < text->bytes; at += len ? len : 1)
        book[nb++] = folio__utf8_decode(text->text + at, &len);
    align_text(book, nb, dom.items, dom.len, match);
    /* The last first: splitting a text node keeps the earlier clips' places in it. */
    for (size_t k = n_clips; k-- > 0;) {
        folio_epub_clip_t *c = &clips[k];
        if (!c->end_char || c->start_char < text->start_char) continue;
        size_t i0 = c->start_char - text->start_char, i1 = c->end_char - text->start_char;
        if (i1 > nb) i1 = nb;
        long first = -1, last = -1;
        for (size_t i = i0; i < i1; i++)
            if (match[i] >= 0) {
                if (first < 0) first = match[i];
                last = match[i];
            }
        if (first < 0) continue;
        const dom_cp_t *a = &dom.items[first], *b = &dom.items[last];
        /* The end first: when both are in one node, the start's split then holds the clip. */
        if (b->off + b->len < strlen((const char *)b->node->content) &&
            !split_text(b->node, b->off + b->len))
            TRY(FOLIO_ENOMEM);
        xmlNodePtr s = split_text(a->node, a->off);
        if (!s) TRY(FOLIO_ENOMEM);
        xmlNodePtr t = a->node == b->node ? s : b->node;
        char id[48];
        TRY(unique_id(ids, c->unit, id, sizeof(id)));
        int wrapped = wrap(s, t, id);
        TRY(wrapped);
        if (wrapped && !(c->id = strdup(id))) TRY(FOLIO_ENOMEM);
    }
fail:
    VEC_FREE(dom);
    free(book);
    free(match);
    return rc;
}

int folio__epub_add_ids(folio_t *ctx, const char *book_path, const char *out_path, const char *path,
                        const char *buf, size_t len, const folio_epub_doc_text_t *text,
                        folio_epub_clip_t *clips, size_t n_clips, char **xhtml, size_t *xhtml_len)
{
    int rc = FOLIO_OK;
    xmlDocPtr doc = NULL;
    folio_map_t ids = {0};
    VEC(insert_t) ins = {0};
    folio_str_t out = {0};
    *xhtml = NULL;
    *xhtml_len = 0;
    bool html = false;
    doc = folio__content_parse(ctx, book_path, path, buf, len, &html);
    if (!doc || !xmlDocGetRootElement(doc))
        FAIL(ctx, FOLIO_EFORMAT, "%s: %s cannot be parsed", book_path, path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    folio__xhtml_number(root);
    TRY(folio__xml_ids(root, &ids));
    bool spans = text && text->text;
    if (spans) TRY(wrap_ranges(root, text, clips, n_clips, &ids));
    for (size_t i = 0; i < n_clips; i++) {
        folio_epub_clip_t *p = &clips[i];
        if (p->id) continue; /* a span */
        xmlNodePtr el = folio__xhtml_find(root, p->element);
        if (!el)
            FAIL(ctx, FOLIO_EFORMAT, "%s: %s changed since it was read (element %zu is gone)",
                 book_path, path, p->element);
        xmlChar *id = xmlGetNoNsProp(el, (const xmlChar *)"id");
        if (id && *id) {
            p->id = strdup((const char *)id);
            xmlFree(id);
            if (!p->id) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
            continue;
        }
        xmlFree(id);
        char made[48];
        size_t v;
        snprintf(made, sizeof(made), "folio-%zu", p->element);
        for (int k = 1; folio__map_get(&ids, made, &v); k++)
            snprintf(made, sizeof(made), "folio-%zu-%d", p->element, k);
        TRY(folio__map_put(&ids, made, 1));
        if (!(p->id = strdup(made)) ||
            !xmlSetProp(el, (const xmlChar *)"id", (const xmlChar *)made))
            FAIL(ctx, FOLIO_ENOMEM, "out of memory");
        insert_t in = {p->element, NULL, p->id};
        if (!(in.name = qname(el)) || VEC_PUSH(ins, in) < 0) {
            free((char *)in.name);
            FAIL(ctx, FOLIO_ENOMEM, "out of memory");
        }
    }
    if (!ins.len && !html && !spans) goto fail; /* every element had its id: unchanged */
    if (ins.len) qsort(ins.items, ins.len, sizeof(insert_t), cmp_insert);
    rc = html || spans ? FOLIO_EFORMAT : insert_ids(buf, len, ins.items, ins.len, &out);
    if (rc == FOLIO_ENOMEM) goto fail;
    if (rc == FOLIO_EFORMAT) {
        /* Only the HTML parser's document, a document with spans, or a tag count that disagrees
         * with the parser gets here: write the tree back, as XHTML. */
        if (html) folio__info(ctx, "%s: %s is written back as well-formed XHTML", out_path, path);
        if (!xmlSearchNsByHref(doc, root, (const xmlChar *)XHTML_NS) &&
            !xmlNewNs(root, (const xmlChar *)XHTML_NS, NULL))
            FAIL(ctx, FOLIO_ENOMEM, "out of memory");
        TRY(folio__xml_dump(doc, XML_SAVE_AS_XML, xhtml, xhtml_len));
        goto fail;
    }
    *xhtml_len = out.len;
    *xhtml = folio__str_take(&out);
fail:
    if (rc == FOLIO_ENOMEM && !*folio_errmsg(ctx)) folio__error(ctx, rc, "out of memory");
    for (size_t i = 0; i < ins.len; i++) free((char *)ins.items[i].name);
    VEC_FREE(ins);
    folio__str_free(&out);
    folio__map_free(&ids);
    if (doc) xmlFreeDoc(doc);
    return rc;
}
