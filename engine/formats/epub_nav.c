/* The EPUB navigation documents: the EPUB 3 navigation document (table of contents, page list,
 * landmarks), the EPUB 2 NCX (navMap, pageList) and the Adobe page-map, each read into target
 * lists of archive path#fragment; the reader places them in the text. */
#include "epub.h"
#include "xhtml.h"

#include <stdlib.h>
#include <string.h>

static void targets_free(folio_nav_targets_t *t)
{
    for (size_t i = 0; i < t->len; i++) {
        free(t->items[i].text);
        free(t->items[i].target);
    }
    VEC_FREE(*t);
}

static int push_target(folio_nav_targets_t *t, char *text, char *target, int level)
{
    folio_nav_target_t x = {text, target, level};
    if (!text || !target || VEC_PUSH(*t, x) < 0) {
        free(text);
        free(target);
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

static int nav_list(xmlNodePtr ol, const char *dir, int level, folio_nav_targets_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr li = ol ? ol->children : NULL; li && rc >= 0; li = li->next) {
        if (!folio__xml_is(li, "li")) continue;
        for (xmlNodePtr c = li->children; c && rc >= 0; c = c->next) {
            if (folio__xml_is(c, "a")) {
                char *href = folio__xml_attr(c, "href");
                char *target = folio__epub_resolve_href(dir, href);
                free(href);
                if (target) rc = push_target(out, folio__node_text(c), target, level);
            } else if (folio__xml_is(c, "ol") || folio__xml_is(c, "ul")) {
                if (level < 64) rc = nav_list(c, dir, level + 1, out);
            }
        }
    }
    return rc;
}

/* Every <a href> under @n in document order, with its text and its epub:type (as the text, for
 * landmarks). */
static int nav_links(xmlNodePtr n, const char *dir, bool type_as_text, folio_nav_targets_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr c = n; c && rc >= 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (folio__xml_is(c, "a")) {
            char *href = folio__xml_attr(c, "href");
            char *target = folio__epub_resolve_href(dir, href);
            free(href);
            char *text = NULL;
            if (type_as_text) {
                xmlChar *t = folio__epub_type(c);
                text = folio__strdup(t ? (const char *)t : "");
                xmlFree(t);
            } else {
                text = folio__node_text(c);
            }
            if (target)
                rc = push_target(out, text, target, 1);
            else
                free(text);
        } else {
            rc = nav_links(c->children, dir, type_as_text, out);
        }
    }
    return rc;
}

int folio__epub_read_nav_doc(folio_epub_zip_t *z, const char *path, folio_epub_nav_t *nav)
{
    char *buf = NULL;
    size_t len;
    int rc = folio__epub_zip_read(z, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND) {
        folio__warn(z->ctx, "%s: the navigation document %s is missing", z->name, path);
        return FOLIO_OK;
    }
    if (rc < 0) return rc;
    if ((rc = folio__content_check_utf8(z->ctx, z->name, path, buf, len)) < 0) {
        free(buf);
        return rc;
    }
    xmlDocPtr doc = folio__content_parse(z->ctx, z->name, path, buf, len, NULL);
    free(buf);
    if (!doc) {
        folio__warn(z->ctx, "%s: the navigation document %s cannot be parsed", z->name, path);
        return FOLIO_OK;
    }
    char *dir = folio__epub_dir_of(path);
    if (!dir) rc = FOLIO_ENOMEM;
    /* Walk every <nav>; its epub:type (or role) says which list it is. */
    VEC(xmlNodePtr) stack = {0};
    if (rc >= 0) rc = VEC_PUSH(stack, xmlDocGetRootElement(doc));
    while (rc >= 0 && stack.len) {
        xmlNodePtr n = stack.items[--stack.len];
        for (xmlNodePtr c = n ? n->children : NULL; c && rc >= 0; c = c->next) {
            if (c->type != XML_ELEMENT_NODE) continue;
            if (!folio__xml_is(c, "nav")) {
                rc = VEC_PUSH(stack, c);
                continue;
            }
            xmlChar *type = folio__epub_type(c);
            char *role = folio__xml_attr(c, "role");
            const char *t = type ? (const char *)type : "";
            xmlNodePtr ol = folio__xml_child(c, "ol");
            if (folio__has_token(t, "toc") || folio__has_token(role, "doc-toc"))
                rc = nav_list(ol, dir, 1, &nav->toc);
            else if (folio__has_token(t, "page-list") || folio__has_token(role, "doc-pagelist"))
                rc = nav_links(c->children, dir, false, &nav->page_list);
            else if (folio__has_token(t, "landmarks"))
                rc = nav_links(c->children, dir, true, &nav->landmarks);
            xmlFree(type);
            free(role);
        }
    }
    VEC_FREE(stack);
    free(dir);
    xmlFreeDoc(doc);
    return rc;
}

static int ncx_points(xmlNodePtr parent, const char *dir, int level, folio_nav_targets_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr np = parent ? parent->children : NULL; np && rc >= 0; np = np->next) {
        if (!folio__xml_is(np, "navPoint")) continue;
        xmlNodePtr content = folio__xml_child(np, "content");
        char *src = content ? folio__xml_attr(content, "src") : NULL;
        char *target = folio__epub_resolve_href(dir, src);
        free(src);
        if (target)
            rc =
                push_target(out, folio__node_text(folio__xml_child(np, "navLabel")), target, level);
        if (rc >= 0 && level < 64) rc = ncx_points(np, dir, level + 1, out);
    }
    return rc;
}

int folio__epub_read_ncx(folio_epub_zip_t *z, const char *path, folio_epub_nav_t *nav)
{
    char *buf = NULL;
    size_t len;
    int rc = folio__epub_zip_read(z, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND) {
        folio__warn(z->ctx, "%s: the NCX %s is missing", z->name, path);
        return FOLIO_OK;
    }
    if (rc < 0) return rc;
    folio_str_t why = {0};
    xmlDocPtr doc = folio__xml_parse(buf, len, path, &why);
    free(buf);
    if (!doc) {
        folio__warn(z->ctx, "%s: the NCX %s is not well-formed XML (%s); ignored", z->name, path,
                    why.data ? why.data : "?");
        folio__str_free(&why);
        return FOLIO_OK;
    }
    folio__str_free(&why);
    folio__warn_unknown_entities(z->ctx, z->name, path, doc);
    char *dir = folio__epub_dir_of(path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    rc = dir ? ncx_points(folio__xml_child(root, "navMap"), dir, 1, &nav->ncx_toc) : FOLIO_ENOMEM;
    xmlNodePtr pl = folio__xml_child(root, "pageList");
    for (xmlNodePtr pt = pl ? pl->children : NULL; pt && rc >= 0; pt = pt->next) {
        if (!folio__xml_is(pt, "pageTarget")) continue;
        xmlNodePtr content = folio__xml_child(pt, "content");
        char *src = content ? folio__xml_attr(content, "src") : NULL;
        char *target = folio__epub_resolve_href(dir, src);
        free(src);
        char *label = folio__node_text(folio__xml_child(pt, "navLabel"));
        if (label && !*label) {
            free(label);
            label = folio__xml_attr(pt, "value");
        }
        if (target && label)
            rc = push_target(&nav->ncx_pages, label, target, 1);
        else {
            free(target);
            free(label);
        }
    }
    free(dir);
    xmlFreeDoc(doc);
    return rc;
}

int folio__epub_read_page_map(folio_epub_zip_t *z, const char *path, folio_epub_nav_t *nav)
{
    char *buf = NULL;
    size_t len;
    int rc = folio__epub_zip_read(z, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND) {
        folio__warn(z->ctx, "%s: the page-map %s is missing", z->name, path);
        return FOLIO_OK;
    }
    if (rc < 0) return rc;
    xmlDocPtr doc = folio__xml_parse(buf, len, path, NULL);
    free(buf);
    if (!doc) {
        folio__warn(z->ctx, "%s: the page-map %s is not well-formed XML; ignored", z->name, path);
        return FOLIO_OK;
    }
    char *dir = folio__epub_dir_of(path);
    if (!dir) rc = FOLIO_ENOMEM;
    for (xmlNodePtr p = xmlDocGetRootElement(doc)->children; p && rc >= 0; p = p->next) {
        if (!folio__xml_is(p, "page")) continue;
        char *name = folio__xml_attr(p, "name"), *href = folio__xml_attr(p, "href");
        char *target = folio__epub_resolve_href(dir, href);
        free(href);
        if (name && target)
            rc = push_target(&nav->page_map, name, target, 1);
        else {
            free(name);
            free(target);
        }
    }
    free(dir);
    xmlFreeDoc(doc);
    return rc;
}

void folio__epub_nav_free(folio_epub_nav_t *nav)
{
    targets_free(&nav->toc);
    targets_free(&nav->ncx_toc);
    targets_free(&nav->page_list);
    targets_free(&nav->ncx_pages);
    targets_free(&nav->page_map);
    targets_free(&nav->landmarks);
}
