/* Ids on the elements a Media Overlay points at: a content document parsed and numbered as the
 * reader numbered it, each clip's element found again by its number, and an id written into the
 * start tag of each one that has none, every other byte of the document kept. */
#include "epub.h"
#include "xhtml.h"

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

int folio__epub_add_ids(folio_t *ctx, const char *book_path, const char *out_path, const char *path,
                        const char *buf, size_t len, folio_epub_clip_t *clips, size_t n_clips,
                        char **xhtml, size_t *xhtml_len)
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
    for (size_t i = 0; i < n_clips; i++) {
        folio_epub_clip_t *p = &clips[i];
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
    if (!ins.len && !html) goto fail; /* every element had its id: the document is unchanged */
    if (ins.len) qsort(ins.items, ins.len, sizeof(insert_t), cmp_insert);
    rc = html ? FOLIO_EFORMAT : insert_ids(buf, len, ins.items, ins.len, &out);
    if (rc == FOLIO_ENOMEM) goto fail;
    if (rc == FOLIO_EFORMAT) {
        /* Only the HTML parser's document (or a tag count that disagrees with the parser) gets
         * here: write the tree back, as XHTML. */
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
