/* Walking (X)HTML content documents into the text builder: which elements make blocks, what kind
 * each block is, and which inline content a narrator does not read; and the libxml2 helpers the
 * EPUB reader and writer share. */
#include "xhtml.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/SAX2.h>
#include <libxml/entities.h>
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
 * reference node for every other named entity: one declared in the document's internal subset
 * (expanded here as libxml2 expands it; it refused loops and amplification when parsing), or
 * one that only an external DTD declares, as XHTML 1.1 and EPUB 2 documents do for &rsquo;,
 * &mdash; or &nbsp;. Those take their HTML 4/XHTML value. A name nobody declares is kept as
 * written ("&name;"), as HTML parsers and browsers keep it; folio__warn_unknown_entities() says
 * so. */
static int entity_text(xmlNodePtr ref, folio_str_t *out)
{
    if (ref->children || (ref->doc && xmlGetDocEntity(ref->doc, ref->name))) {
        xmlChar *s = xmlNodeGetContent(ref);
        int rc = s ? folio__str_append(out, (const char *)s, strlen((const char *)s)) : FOLIO_OK;
        xmlFree(s);
        return rc;
    }
    const htmlEntityDesc *e = htmlEntityLookup(ref->name);
    if (e) {
        char utf8[4];
        return folio__str_append(out, utf8, folio__utf8_encode(e->value, utf8));
    }
    return folio__str_printf(out, "&%s;", (const char *)ref->name);
}

/* Whether @n is a reference to an entity that neither the document nor HTML declares. */
static bool unknown_entity(xmlNodePtr n)
{
    return n->type == XML_ENTITY_REF_NODE && !n->children &&
           !(n->doc && xmlGetDocEntity(n->doc, n->name)) && !htmlEntityLookup(n->name);
}

void folio__warn_unknown_entities(folio_t *ctx, const char *name, const char *path, xmlDocPtr doc)
{
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
 * references expanded by entity_text(). Iterative: documents may nest deeply. */
static int gather_text(xmlNodePtr node, folio_str_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr n = node; n && rc >= 0;) {
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

char *folio__node_text(xmlNodePtr node)
{
    folio_str_t raw = {0}, out = {0};
    if (node && gather_text(node, &raw) < 0) {
        folio__str_free(&raw);
        return NULL;
    }
    bool space = false;
    for (size_t i = 0; i < raw.len; i++) {
        char c = raw.data[i];
        if (is_space(c)) {
            space = out.len > 0;
            continue;
        }
        if ((space && folio__str_appendc(&out, ' ') < 0) || folio__str_appendc(&out, c) < 0) {
            folio__str_free(&out);
            folio__str_free(&raw);
            return NULL;
        }
        space = false;
    }
    folio__str_free(&raw);
    return out.data ? folio__str_take(&out) : folio__strdup("");
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

static bool has_fragment_link(xmlNodePtr node)
{
    for (xmlNodePtr c = node; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (strcasecmp((const char *)c->name, "a") == 0) {
            xmlChar *href = xmlGetNoNsProp(c, (const xmlChar *)"href");
            bool frag = href && strchr((const char *)href, '#');
            xmlFree(href);
            if (frag) return true;
        }
        if (has_fragment_link(c->children)) return true;
    }
    return false;
}

/* <sup>3</sup>, <sup><a href="#n3">c</a></sup>, <a href="#n3">[3]</a>: note markers. */
static bool note_marker(xmlNodePtr node, const char *name)
{
    bool sup = strcasecmp(name, "sup") == 0, a = strcasecmp(name, "a") == 0;
    if (!sup && !a) return false;
    char *text = folio__node_text(node);
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
    xmlDocPtr doc = xmlCtxtReadMemory(pc, buf, (int)len, url, NULL,
                                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
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
