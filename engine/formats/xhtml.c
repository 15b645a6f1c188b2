/* Walking (X)HTML content documents into the text builder: which elements make blocks, what kind
 * each block is, and which inline content a narrator does not read; and the libxml2 helpers the
 * EPUB reader and writer share. */
#include "xhtml.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
#include <libxml/hash.h>
#include <libxml/xmlsave.h>

#define MAX_DEPTH 256

typedef struct {
    const char *name;
    folio_sem_t sem;
    folio_block_kind_t kind;
    bool read;
} sem_entry_t;

/* Structural semantics from the EPUB 3 Structural Semantics Vocabulary, DPUB-ARIA roles (without
 * "doc-") and EPUB 2 guide types. Not-read flags are priors: alignment decides what was read. */
static const sem_entry_t semantics[] = {
    {"pagebreak", SEM_PAGEBREAK, 0, false},
    {"noteref", SEM_NOTEREF, 0, false},
    {"backlink", SEM_NOTEREF, 0, false},
    {"biblioref", SEM_NOTEREF, 0, false},
    {"glossref", SEM_NOTEREF, 0, false},
    {"bodymatter", SEM_BODY, FOLIO_BLOCK_PARAGRAPH, true},
    {"text", SEM_BODY, FOLIO_BLOCK_PARAGRAPH, true},
    {"chapter", SEM_BODY, FOLIO_BLOCK_PARAGRAPH, true},
    {"footnote", SEM_STYLE, FOLIO_BLOCK_FOOTNOTE, false},
    {"footnotes", SEM_STYLE, FOLIO_BLOCK_FOOTNOTE, false},
    {"note", SEM_STYLE, FOLIO_BLOCK_FOOTNOTE, false},
    {"notes", SEM_STYLE, FOLIO_BLOCK_ENDNOTE, false},
    {"endnote", SEM_STYLE, FOLIO_BLOCK_ENDNOTE, false},
    {"endnotes", SEM_STYLE, FOLIO_BLOCK_ENDNOTE, false},
    {"rearnote", SEM_STYLE, FOLIO_BLOCK_ENDNOTE, false},
    {"rearnotes", SEM_STYLE, FOLIO_BLOCK_ENDNOTE, false},
    {"sidebar", SEM_STYLE, FOLIO_BLOCK_ASIDE, false},
    {"pullquote", SEM_STYLE, FOLIO_BLOCK_ASIDE, false},
    {"tip", SEM_STYLE, FOLIO_BLOCK_ASIDE, false},
    {"toc", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"toc-brief", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"landmarks", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"page-list", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"pagelist", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"loi", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"lot", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"lov", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"loa", SEM_STYLE, FOLIO_BLOCK_TOC, false},
    {"frontmatter", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"cover", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"titlepage", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"title-page", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"halftitlepage", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"copyright-page", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"imprint", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"seriespage", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"frontispiece", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"imprimatur", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"contributors", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"other-credits", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"errata", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, false},
    {"dedication", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"epigraph", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"foreword", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"preface", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"introduction", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"prologue", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"preamble", SEM_STYLE, FOLIO_BLOCK_FRONTMATTER, true},
    {"backmatter", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"colophon", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"index", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"glossary", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"bibliography", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"acknowledgments", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"acknowledgements", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, false},
    {"appendix", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, true},
    {"afterword", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, true},
    {"epilogue", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, true},
    {"conclusion", SEM_STYLE, FOLIO_BLOCK_BACKMATTER, true},
};

folio_sem_t folio__sem_classify(const char *token, folio_block_kind_t *kind, bool *read)
{
    if (strncmp(token, "doc-", 4) == 0) token += 4;
    /* Prefixed vocabularies ("z3998:poem") are not structural for us. */
    if (strchr(token, ':')) return SEM_NONE;
    for (size_t i = 0; i < sizeof(semantics) / sizeof(semantics[0]); i++) {
        if (strcasecmp(token, semantics[i].name) != 0) continue;
        *kind = semantics[i].kind;
        *read = semantics[i].read;
        return semantics[i].sem;
    }
    return SEM_NONE;
}

xmlChar *folio__epub_type(xmlNodePtr node)
{
    xmlChar *v = xmlGetNsProp(node, (const xmlChar *)"type", (const xmlChar *)FOLIO_EPUB_NS);
    if (!v) v = xmlGetNoNsProp(node, (const xmlChar *)"epub:type");
    return v;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Append the text that the entity reference @ref stands for to @out. libxml2 expands the five
 * predefined entities and character references itself and, without loading DTDs, keeps a
 * reference node for every other named entity. Folio expands none of them (a billion laughs
 * stays a few bytes): an entity that only an external DTD declares, as XHTML 1.1 and EPUB 2
 * documents do for &rsquo;, &mdash; or &nbsp;, takes its HTML 4/XHTML value; any other name is
 * kept as written ("&name;"), as HTML parsers and browsers keep it, and
 * folio__warn_unknown_entities() says so. References to entities the document declares itself
 * are already text (resolve_declared()). */
static int entity_text(xmlNodePtr ref, folio_str_t *out)
{
    const htmlEntityDesc *e = htmlEntityLookup(ref->name);
    if (e) {
        char utf8[4];
        return folio__str_append(out, utf8, folio__utf8_encode(e->value, utf8));
    }
    return folio__str_printf(out, "&%s;", (const char *)ref->name);
}

/* Whether @n refers to an entity that @n's document declares in its internal subset. */
static bool declared_entity(xmlNodePtr n)
{
    xmlEntityPtr ent = n->doc ? xmlGetDocEntity(n->doc, n->name) : NULL;
    return ent && ent->etype != XML_INTERNAL_PREDEFINED_ENTITY;
}

/* Replace the references to entities the document declares among the siblings from @first on
 * by text; adds their number to *@n. */
static int resolve_list(xmlDocPtr doc, xmlNodePtr first, long *n)
{
    for (xmlNodePtr c = first, next; c; c = next) {
        next = c->next;
        if (c->type != XML_ENTITY_REF_NODE || !declared_entity(c)) continue;
        folio_str_t s = {0};
        xmlNodePtr text = NULL;
        int rc = entity_text(c, &s);
        if (rc >= 0 && !(text = xmlNewDocText(doc, (const xmlChar *)s.data))) rc = FOLIO_ENOMEM;
        folio__str_free(&s);
        if (rc < 0) return rc;
        xmlReplaceNode(c, text);
        xmlFreeNode(c);
        (*n)++;
    }
    return FOLIO_OK;
}

/* Replace every reference to an entity the document declares (in content and in attribute
 * values) by the text entity_text() gives it, so that nothing reading the tree later (libxml2's
 * xmlNodeGetContent or xmlGetProp included) expands the declaration: those walk an entity's
 * content recursively, without the parser's limits. Returns how many were replaced, or a
 * negative code. */
static long resolve_declared(xmlDocPtr doc)
{
    long n = 0;
    int rc = FOLIO_OK;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    for (xmlNodePtr el = root; el && rc >= 0; el = folio__xml_next(el, root)) {
        rc = resolve_list(doc, el->children, &n);
        for (xmlAttrPtr a = el->properties; a && rc >= 0; a = a->next)
            rc = resolve_list(doc, a->children, &n);
    }
    return rc < 0 ? rc : n;
}

/* Whether @n is a reference to an entity that neither the document nor HTML declares. */
static bool unknown_entity(xmlNodePtr n)
{
    return n->type == XML_ENTITY_REF_NODE && !declared_entity(n) && !htmlEntityLookup(n->name);
}

static void first_name(void *payload, void *data, const xmlChar *name)
{
    (void)payload;
    const xmlChar **first = data;
    if (!*first) *first = name;
}

void folio__warn_unknown_entities(folio_t *ctx, const char *name, const char *path, xmlDocPtr doc)
{
    xmlHashTablePtr declared =
        doc && doc->intSubset ? (xmlHashTablePtr)doc->intSubset->entities : NULL;
    int n_declared = declared ? xmlHashSize(declared) : 0;
    if (n_declared > 0) {
        const xmlChar *first = NULL;
        xmlHashScan(declared, first_name, &first);
        folio__warn(ctx,
                    "%s: %s: its DTD declares %d entit%s (<!ENTITY %s ...>); Folio expands no "
                    "entity declaration: references to them are kept as written",
                    name, path, n_declared, n_declared == 1 ? "y" : "ies",
                    first ? (const char *)first : "?");
    }
    size_t n = 0;
    const xmlChar *first = NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    for (xmlNodePtr el = root; el; el = folio__xml_next(el, root))
        for (xmlNodePtr c = el->children; c; c = c->next)
            if (unknown_entity(c) && n++ == 0) first = c->name;
    if (n == 1)
        folio__warn(ctx, "%s: %s: unknown entity &%s; kept as written", name, path,
                    (const char *)first);
    else if (n > 1)
        folio__warn(ctx, "%s: %s: %zu references to unknown entities kept as written, e.g. &%s;",
                    name, path, n, (const char *)first);
}

/* Append the text content of @node (an element, text or entity reference) to @out, with entity
 * references as entity_text() gives them, stopping once @out holds more than @limit bytes.
 * Iterative: documents may nest deeply. */
static int gather_text(xmlNodePtr node, folio_str_t *out, size_t limit)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr n = node; n && rc >= 0 && out->len <= limit;) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            if (n->content)
                rc = folio__str_append(out, (const char *)n->content,
                                       strlen((const char *)n->content));
        } else if (n->type == XML_ENTITY_REF_NODE) {
            rc = entity_text(n, out);
        } else if (n->type == XML_ELEMENT_NODE && n->children) {
            n = n->children;
            continue;
        }
        while (n != node && !n->next) n = n->parent;
        n = n == node ? NULL : n->next;
    }
    return rc;
}

/* @raw with white space collapsed and trimmed, as a new string (NULL when out of memory). */
static char *collapse_space(const folio_str_t *raw)
{
    folio_str_t out = {0};
    bool space = false;
    for (size_t i = 0; i < raw->len; i++) {
        char c = raw->data[i];
        if (is_space(c)) {
            space = out.len > 0;
            continue;
        }
        if ((space && folio__str_appendc(&out, ' ') < 0) || folio__str_appendc(&out, c) < 0) {
            folio__str_free(&out);
            return NULL;
        }
        space = false;
    }
    return out.data ? folio__str_take(&out) : folio__strdup("");
}

/* folio__node_text() of @node when its raw text is at most @limit bytes; else "" (so a caller
 * looking for something short never copies a whole chapter). NULL when out of memory. */
static char *short_text(xmlNodePtr node, size_t limit)
{
    folio_str_t raw = {0};
    char *text = NULL;
    if (gather_text(node, &raw, limit) >= 0)
        text = raw.len > limit ? folio__strdup("") : collapse_space(&raw);
    folio__str_free(&raw);
    return text;
}

char *folio__node_text(xmlNodePtr node)
{
    return short_text(node, SIZE_MAX);
}

/* Elements whose content is never part of the read text. */
static bool skipped_element(const char *name)
{
    static const char *const names[] = {
        "head",     "title", "script", "style",  "template", "rt",    "rp",     "img",
        "svg",      "math",  "audio",  "video",  "object",   "embed", "iframe", "canvas",
        "noscript", "input", "button", "select", "textarea", "map",   NULL};
    for (const char *const *n = names; *n; n++)
        if (strcasecmp(name, *n) == 0) return true;
    return false;
}

/* Elements that start and end a block. */
static bool block_element(const char *name)
{
    static const char *const names[] = {
        "address", "article", "aside",   "blockquote", "body",  "caption",  "center",     "dd",
        "details", "dialog",  "div",     "dl",         "dt",    "fieldset", "figcaption", "figure",
        "footer",  "form",    "h1",      "h2",         "h3",    "h4",       "h5",         "h6",
        "header",  "hgroup",  "hr",      "li",         "main",  "nav",      "ol",         "p",
        "pre",     "section", "summary", "table",      "tbody", "td",       "tfoot",      "th",
        "thead",   "tr",      "ul",      "legend",     "html",  NULL};
    for (const char *const *n = names; *n; n++)
        if (strcasecmp(name, *n) == 0) return true;
    return false;
}

/* A short marker made only of digits, note symbols and brackets: "3", "[12]", "*", "†". */
static bool marker_text(const char *s)
{
    size_t visible = 0;
    while (*s) {
        unsigned char c = (unsigned char)*s;
        if ((c >= '0' && c <= '9') || c == '*' || c == '[' || c == ']' || c == '(' || c == ')' ||
            c == ',' || c == ' ') {
            s++;
        } else if (strncmp(s, "\xe2\x80\xa0", 3) == 0 || strncmp(s, "\xe2\x80\xa1", 3) == 0) {
            s += 3; /* dagger, double dagger */
        } else if (strncmp(s, "\xc2\xa7", 2) == 0 || strncmp(s, "\xc2\xb6", 2) == 0) {
            s += 2; /* section sign, pilcrow */
        } else {
            return false;
        }
        if (c != ' ') visible++;
    }
    return visible > 0 && visible <= 8;
}

/* Whether an element among @first and its following siblings, or inside one of them, is a link
 * to a fragment (<a href="...#...">). */
static bool has_fragment_link(xmlNodePtr first)
{
    for (xmlNodePtr c = first; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        for (xmlNodePtr n = c; n; n = folio__xml_next(n, c)) {
            if (strcasecmp((const char *)n->name, "a") != 0) continue;
            xmlChar *href = xmlGetNoNsProp(n, (const xmlChar *)"href");
            bool frag = href && strchr((const char *)href, '#');
            xmlFree(href);
            if (frag) return true;
        }
    }
    return false;
}

/* <sup>3</sup>, <sup><a href="#n3">c</a></sup>, <a href="#n3">[3]</a>: note markers. */
static bool note_marker(xmlNodePtr node, const char *name)
{
    bool sup = strcasecmp(name, "sup") == 0, a = strcasecmp(name, "a") == 0;
    if (!sup && !a) return false;
    /* A marker is a few characters: a longer text is not gathered in full (nested <sup>s
     * would each copy the whole of what they hold). */
    char *text = short_text(node, 1024);
    if (!text) return false;
    bool result;
    if (sup)
        result = marker_text(text) || (strlen(text) <= 3 && has_fragment_link(node->children)) ||
                 (strlen(text) <= 3 && has_fragment_link(node));
    else
        result = marker_text(text) && has_fragment_link(node);
    free(text);
    return result;
}

static int walk_children(folio_xhtml_walk_t *w, xmlNodePtr node, folio_tb_style_t st, bool pre,
                         int depth);

static int record_anchor(folio_xhtml_walk_t *w, xmlNodePtr node)
{
    xmlChar *id = xmlGetNoNsProp(node, (const xmlChar *)"id");
    if (!id) id = xmlGetProp(node, (const xmlChar *)"xml:id");
    if (!id) return FOLIO_OK;
    int rc = FOLIO_OK;
    folio_str_t key = {0};
    if (folio__str_printf(&key, "%s#%s", w->doc_path, (const char *)id) < 0) {
        rc = FOLIO_ENOMEM;
    } else if (!folio__map_get(w->anchors, key.data, NULL)) {
        long mark = folio__tb_mark(w->tb);
        rc = mark < 0 ? (int)mark : folio__map_put(w->anchors, key.data, (size_t)mark);
    }
    folio__str_free(&key);
    xmlFree(id);
    return rc;
}

static int pagebreak(folio_xhtml_walk_t *w, xmlNodePtr node)
{
    xmlChar *label = xmlGetNoNsProp(node, (const xmlChar *)"title");
    if (!label || !*label) {
        xmlFree(label);
        label = xmlGetNoNsProp(node, (const xmlChar *)"aria-label");
    }
    char *text = NULL;
    if (label && *label) {
        xmlNodePtr tmp = xmlNewText(label);
        text = tmp ? folio__node_text(tmp) : NULL;
        xmlFreeNode(tmp);
    } else {
        text = folio__node_text(node);
    }
    xmlFree(label);
    if (!text) return FOLIO_ENOMEM;
    if (!*text) {
        free(text);
        folio__warn(w->tb->ctx, "%s: %s: a page-break marker has no label; ignored", w->tb->name,
                    w->doc_path);
        return FOLIO_OK;
    }
    long mark = folio__tb_mark(w->tb);
    folio_page_mark_t pm = {text, (size_t)mark};
    if (mark < 0 || VEC_PUSH(*w->markers, pm) < 0) {
        free(text);
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

/* Apply the semantics of @node's epub:type and role to @st. Returns SEM_PAGEBREAK or SEM_NOTEREF
 * when the element is one of those, else SEM_NONE. */
static folio_sem_t apply_semantics(folio_xhtml_walk_t *w, xmlNodePtr node, folio_tb_style_t *st)
{
    folio_sem_t special = SEM_NONE;
    xmlChar *attrs[2] = {folio__epub_type(node), xmlGetNoNsProp(node, (const xmlChar *)"role")};
    for (int a = 0; a < 2; a++) {
        if (!attrs[a]) continue;
        char *save = NULL;
        for (char *tok = strtok_r((char *)attrs[a], " \t\n\r", &save); tok;
             tok = strtok_r(NULL, " \t\n\r", &save)) {
            folio_block_kind_t kind;
            bool read;
            folio_sem_t sem = folio__sem_classify(tok, &kind, &read);
            if (sem == SEM_PAGEBREAK || sem == SEM_NOTEREF) {
                special = sem;
            } else if (sem == SEM_STYLE || sem == SEM_BODY) {
                st->kind = kind;
                st->read = read && !w->force_unread;
            }
        }
        xmlFree(attrs[a]);
    }
    return special;
}

static bool attr_is(xmlNodePtr node, const char *name, const char *value)
{
    xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
    bool r = v && (!value || strcasecmp((const char *)v, value) == 0);
    xmlFree(v);
    return r;
}

static int element(folio_xhtml_walk_t *w, xmlNodePtr node, folio_tb_style_t st, bool pre, int depth)
{
    int rc;
    const char *name = (const char *)node->name;
    if (depth > MAX_DEPTH) {
        if (!w->deep_warned)
            folio__warn(w->tb->ctx, "%s: %s: elements nested deeper than %d levels are skipped",
                        w->tb->name, w->doc_path, MAX_DEPTH);
        w->deep_warned = true;
        return FOLIO_OK;
    }
    if ((rc = record_anchor(w, node)) < 0) return rc;
    if (skipped_element(name) || attr_is(node, "hidden", NULL) ||
        attr_is(node, "aria-hidden", "true")) {
        w->skipped_inline++;
        return FOLIO_OK;
    }
    if (strcasecmp(name, "br") == 0) return folio__tb_newline(w->tb);

    folio_sem_t special = apply_semantics(w, node, &st);
    if (special == SEM_PAGEBREAK) return pagebreak(w, node);
    if (special == SEM_NOTEREF || note_marker(node, name)) {
        w->skipped_inline++;
        return FOLIO_OK;
    }
    if (strcasecmp(name, "aside") == 0 && st.kind == FOLIO_BLOCK_PARAGRAPH) {
        st.kind = FOLIO_BLOCK_ASIDE;
        st.read = false;
    } else if (strcasecmp(name, "nav") == 0 && st.kind == FOLIO_BLOCK_PARAGRAPH) {
        st.kind = FOLIO_BLOCK_TOC;
        st.read = false;
    }
    if ((name[0] == 'h' || name[0] == 'H') && name[1] >= '1' && name[1] <= '6' && !name[2]) {
        st.level = name[1] - '0';
        if (st.kind == FOLIO_BLOCK_PARAGRAPH) st.kind = FOLIO_BLOCK_HEADING;
    }
    if (strcasecmp(name, "pre") == 0) pre = true;

    bool block = block_element(name);
    if (block) st.element = (size_t)(uintptr_t)node->_private;
    if (block && (rc = folio__tb_break(w->tb)) < 0) return rc;
    if ((rc = walk_children(w, node, st, pre, depth)) < 0) return rc;
    if (block && (rc = folio__tb_break(w->tb)) < 0) return rc;
    return FOLIO_OK;
}

static int walk_children(folio_xhtml_walk_t *w, xmlNodePtr node, folio_tb_style_t st, bool pre,
                         int depth)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr c = node->children; c && rc >= 0; c = c->next) {
        switch (c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
            if (c->content)
                rc = folio__tb_text(w->tb, (const char *)c->content,
                                    strlen((const char *)c->content), &st, pre);
            break;
        case XML_ELEMENT_NODE:
            rc = element(w, c, st, pre, depth + 1);
            break;
        case XML_ENTITY_REF_NODE: {
            /* Its text goes through the builder as any other text does. */
            folio_str_t s = {0};
            rc = entity_text(c, &s);
            if (rc >= 0 && s.len) rc = folio__tb_text(w->tb, s.data, s.len, &st, pre);
            folio__str_free(&s);
            break;
        }
        default:
            break; /* comments, processing instructions */
        }
    }
    return rc;
}

bool folio__xml_is(xmlNodePtr n, const char *local)
{
    return n && n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, local) == 0;
}

xmlNodePtr folio__xml_child(xmlNodePtr parent, const char *local)
{
    for (xmlNodePtr c = parent ? parent->children : NULL; c; c = c->next)
        if (folio__xml_is(c, local)) return c;
    return NULL;
}

xmlNodePtr folio__xml_next(xmlNodePtr node, xmlNodePtr root)
{
    /* Pre-order without recursion: documents may nest deeply. */
    do {
        if (node->type == XML_ELEMENT_NODE && node->children) {
            node = node->children;
        } else {
            while (node != root && !node->next) node = node->parent;
            if (node == root) return NULL;
            node = node->next;
        }
    } while (node->type != XML_ELEMENT_NODE);
    return node;
}

char *folio__xml_attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = folio__strdup((const char *)v);
    xmlFree(v);
    return s;
}

bool folio__has_token(const char *list, const char *token)
{
    if (!list) return false;
    size_t tl = strlen(token);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n') p++;
        const char *q = p;
        while (*q && *q != ' ' && *q != '\t' && *q != '\n') q++;
        if ((size_t)(q - p) == tl && strncmp(p, token, tl) == 0) return true;
        p = q;
    }
    return false;
}

int folio__xml_ids(xmlNodePtr root, folio_map_t *ids)
{
    for (xmlNodePtr n = root; n; n = folio__xml_next(n, root)) {
        xmlChar *id = xmlGetNoNsProp(n, (const xmlChar *)"id");
        int rc = id ? folio__map_put(ids, (const char *)id, 1) : FOLIO_OK;
        xmlFree(id);
        if (rc < 0) return rc;
    }
    return FOLIO_OK;
}

int folio__xml_dump(xmlDocPtr doc, int options, char **out, size_t *len)
{
    xmlBufferPtr buf = xmlBufferCreate();
    if (!buf) return FOLIO_ENOMEM;
    xmlSaveCtxtPtr sc = xmlSaveToBuffer(buf, "UTF-8", options);
    int rc = FOLIO_OK;
    if (!sc || xmlSaveDoc(sc, doc) < 0) rc = FOLIO_ENOMEM;
    if (sc && xmlSaveClose(sc) < 0) rc = FOLIO_ENOMEM;
    if (rc >= 0) {
        size_t n = (size_t)xmlBufferLength(buf);
        if (!(*out = malloc(n + 1)))
            rc = FOLIO_ENOMEM;
        else {
            memcpy(*out, xmlBufferContent(buf), n);
            (*out)[n] = 0;
            *len = n;
        }
    }
    xmlBufferFree(buf);
    return rc;
}

size_t folio__xhtml_number(xmlNodePtr root)
{
    size_t n = 0;
    for (xmlNodePtr node = root; node; node = folio__xml_next(node, root))
        node->_private = (void *)(uintptr_t)++n;
    return n;
}

xmlNodePtr folio__xhtml_find(xmlNodePtr root, size_t number)
{
    for (xmlNodePtr node = root; node; node = folio__xml_next(node, root))
        if ((size_t)(uintptr_t)node->_private == number) return node;
    return NULL;
}

/* libxml2 passes an entity that only an external DTD declares to the reference callback also
 * when it is in an attribute value, and the default callback then adds a reference node to the
 * element's parent, before the element, as if it were text there. Only references in content
 * make nodes. (Such an entity is lost from the attribute value.) */
static void content_reference(void *user_data, const xmlChar *name)
{
    xmlParserCtxtPtr pc = user_data;
    if (pc->instate != XML_PARSER_ATTRIBUTE_VALUE) xmlSAX2Reference(user_data, name);
}

/* Parse @buf as XML without network access, DTD loading or entity substitution. On failure
 * returns NULL and describes the first error in @why (line: message). */
static xmlDocPtr parse_xml(const char *buf, size_t len, const char *url, folio_str_t *why)
{
    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc) return NULL;
    if (pc->sax && pc->sax->reference == xmlSAX2Reference) pc->sax->reference = content_reference;
    if (len > INT32_MAX) len = INT32_MAX;
    /* No XML_PARSE_NOENT, XML_PARSE_DTDLOAD or XML_PARSE_HUGE: entities stay references, no
     * DTD is read, and libxml2's limits on depth and sizes hold. */
    xmlDocPtr doc = xmlCtxtReadMemory(pc, buf, (int)len, url, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc && resolve_declared(doc) < 0) {
        xmlFreeDoc(doc);
        doc = NULL;
        if (why) {
            why->len = 0;
            folio__str_printf(why, "out of memory");
        }
        xmlFreeParserCtxt(pc);
        return NULL;
    }
    if (!doc && why) {
        const xmlError *e = xmlCtxtGetLastError(pc);
        why->len = 0;
        if (e && e->message) {
            size_t ml = strlen(e->message);
            while (ml && e->message[ml - 1] == '\n') ml--;
            folio__str_printf(why, "line %d: %.*s", e->line, (int)ml, e->message);
        } else {
            folio__str_printf(why, "not well-formed");
        }
    }
    xmlFreeParserCtxt(pc);
    return doc;
}

xmlDocPtr folio__xml_parse(const char *buf, size_t len, const char *url, folio_str_t *why)
{
    return parse_xml(buf, len, url, why);
}

/* The byte range [*start, *end) of @buf's document type declaration when it has an internal subset
 * ("<!DOCTYPE html [ <!ENTITY ...> ]>"); false when there is none (or it does not end). Only the
 * prolog is searched: a BOM, white space, the XML declaration, processing instructions and
 * comments. */
static bool doctype_with_subset(const char *buf, size_t len, size_t *start, size_t *end)
{
    size_t i = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    for (;;) {
        while (i < len && is_space(buf[i])) i++;
        const char *close = NULL;
        if (i + 2 <= len && memcmp(buf + i, "<?", 2) == 0)
            close = "?>";
        else if (i + 4 <= len && memcmp(buf + i, "<!--", 4) == 0)
            close = "-->";
        if (!close) break;
        size_t cl = strlen(close), j = i + 2;
        while (j + cl <= len && memcmp(buf + j, close, cl) != 0) j++;
        if (j + cl > len) return false;
        i = j + cl;
    }
    if (i + 9 > len || strncasecmp(buf + i, "<!DOCTYPE", 9) != 0) return false;
    bool subset = false;
    char quote = 0;
    int depth = 0;
    for (size_t j = i + 9; j < len; j++) {
        char c = buf[j];
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '<' && j + 4 <= len && memcmp(buf + j, "<!--", 4) == 0) {
            /* A comment in the subset may hold anything but "--". */
            for (j += 4; j + 3 <= len && memcmp(buf + j, "-->", 3) != 0;) j++;
            j += 2;
        } else if (c == '[') {
            depth++;
            subset = true;
        } else if (c == ']') {
            depth--;
        } else if (c == '>' && depth <= 0) {
            *start = i;
            *end = j + 1;
            return subset;
        }
    }
    return false; /* no end: leave the document to the parser as it is */
}

/* The encoding @buf's XML declaration names ("<?xml version="1.0" encoding="..."?>"), copied into
 * @enc (of @size bytes, lower-cased); false without one. */
static bool declared_encoding(const char *buf, size_t len, char *enc, size_t size)
{
    size_t i = len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    if (len - i < 5 || memcmp(buf + i, "<?xml", 5) != 0) return false;
    size_t end = i;
    while (end + 1 < len && !(buf[end] == '?' && buf[end + 1] == '>')) end++;
    for (size_t j = i + 5; j + 8 <= end; j++) {
        if (memcmp(buf + j, "encoding", 8) != 0) continue;
        size_t k = j + 8;
        while (k < end && (is_space(buf[k]) || buf[k] == '=')) k++;
        if (k >= end || (buf[k] != '"' && buf[k] != '\'')) return false;
        char quote = buf[k++];
        size_t n = 0;
        while (k < end && buf[k] != quote && n + 1 < size)
            enc[n++] = (char)tolower((unsigned char)buf[k++]);
        enc[n] = '\0';
        return true;
    }
    return false;
}

int folio__content_check_utf8(folio_t *ctx, const char *name, const char *path, const char *buf,
                              size_t len)
{
    if (len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
                     ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF)))
        return FOLIO_OK; /* UTF-16: the parser converts it */
    char enc[32];
    if (declared_encoding(buf, len, enc, sizeof(enc)) && strcmp(enc, "utf-8") != 0 &&
        strcmp(enc, "utf8") != 0)
        return FOLIO_OK; /* another encoding the XML parser converts, or refuses itself */
    size_t bad;
    if (folio__utf8_valid(buf, len, &bad)) return FOLIO_OK;
    return folio__error(ctx, FOLIO_EENCODING,
                        "%s: %s: invalid UTF-8 at byte %zu (EPUB content documents are UTF-8 or "
                        "UTF-16)",
                        name, path, bad);
}

xmlDocPtr folio__html_parse(const char *buf, size_t len, const char *url, const char *encoding)
{
    /* The HTML parser ends a DOCTYPE at its first '>', so the rest of an internal subset
     * ("<!ENTITY l1 ...>", a billion laughs) would become text: blank the declaration out,
     * keeping its line breaks. Its entities are not HTML's and stay unexpanded. */
    size_t ds, de;
    char *copy = NULL;
    if (doctype_with_subset(buf, len, &ds, &de) && (copy = malloc(len))) {
        memcpy(copy, buf, len);
        for (size_t i = ds; i < de; i++)
            if (copy[i] != '\n') copy[i] = ' ';
        buf = copy;
    }
    xmlDocPtr doc = htmlReadMemory(buf, len > INT32_MAX ? INT32_MAX : (int)len, url, encoding,
                                   HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                       HTML_PARSE_RECOVER);
    free(copy);
    return doc;
}

xmlDocPtr folio__content_parse(folio_t *ctx, const char *name, const char *path, const char *buf,
                               size_t len, bool *html)
{
    folio_str_t why = {0};
    xmlDocPtr doc = parse_xml(buf, len, path, &why);
    if (html) *html = !doc;
    if (!doc) {
        folio__warn(ctx, "%s: %s is not well-formed XML (%s); read with the HTML parser", name,
                    path, why.data ? why.data : "?");
        const char *enc = "UTF-8";
        if (len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
                         ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF)))
            enc = NULL; /* a UTF-16 BOM: let the parser detect it */
        doc = folio__html_parse(buf, len, path, enc);
    } else
        folio__warn_unknown_entities(ctx, name, path, doc);
    folio__str_free(&why);
    return doc;
}

void folio__page_marks_free(folio_page_marks_t *v)
{
    for (size_t i = 0; i < v->len; i++) free(v->items[i].label);
    VEC_FREE(*v);
}

int folio__xhtml_walk(folio_xhtml_walk_t *w, xmlNodePtr root)
{
    int rc = FOLIO_OK;
    long mark = folio__tb_mark(w->tb);
    if (mark < 0) return FOLIO_ENOMEM;
    /* The document's own start, for targets without a fragment. */
    if ((rc = folio__map_put(w->anchors, w->doc_path, (size_t)mark)) < 0) return rc;
    folio_tb_style_t st = w->base;
    if (w->force_unread) st.read = false;
    if (root) folio__xhtml_number(root);
    if (root) rc = element(w, root, st, false, 0);
    if (rc >= 0) rc = folio__tb_break(w->tb);
    return rc;
}
