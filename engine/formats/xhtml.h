/* Private to engine/formats: walking an (X)HTML document into the text builder, the EPUB
 * structural semantics (epub:type, ARIA roles), and the libxml2 helpers the EPUB reader and writer
 * share (parsing without network or entity expansion, numbering elements, writing back). */
#ifndef FOLIO_XHTML_H
#define FOLIO_XHTML_H

#include "formats.h"

#include <libxml/tree.h>

#define FOLIO_EPUB_NS "http://www.idpf.org/2007/ops"

typedef VEC(folio_page_mark_t) folio_page_marks_t;
/* Free the labels in @v and its items. */
void folio__page_marks_free(folio_page_marks_t *v);

/* What a semantic name (epub:type value, doc-* role, landmark or guide type) says of its text. */
typedef enum {
    SEM_NONE = 0, /* not a structural semantic we act on */
    SEM_STYLE,    /* gives a block kind and read flag */
    SEM_BODY,     /* bodymatter, chapter: back to ordinary, read text */
    SEM_PAGEBREAK,
    SEM_NOTEREF, /* inline reference to a note: not read */
} folio_sem_t;

/* Classify one semantic token ("footnote", "doc-footnote", "copyright-page", "title-page").
 * For SEM_STYLE, *kind and *read are set. */
folio_sem_t folio__sem_classify(const char *token, folio_block_kind_t *kind, bool *read);

/* The epub:type attribute of @node (namespaced in XHTML, literal "epub:type" when the HTML parser
 * read it), or NULL. Caller frees with xmlFree. */
xmlChar *folio__epub_type(xmlNodePtr node);

/* Collapsed, trimmed text content of @node, entity references expanded as the walker expands
 * them; caller frees with free(). */
char *folio__node_text(xmlNodePtr node);

/* Warn, naming @name and @path, about references in @doc to entities that neither the document
 * nor HTML declares (they are kept in the text as written, "&name;"). */
void folio__warn_unknown_entities(folio_t *ctx, const char *name, const char *path, xmlDocPtr doc);

typedef struct {
    folio_tb_t *tb;
    folio_map_t *anchors;  /* "path#id" -> mark index */
    const char *doc_path;  /* the document's path in the archive */
    folio_tb_style_t base; /* style of the document's text before any element says otherwise */
    bool force_unread;     /* linear="no" items: nothing in them counts as read */
    folio_page_marks_t *markers; /* page-break markers found, in document order */
    size_t skipped_inline;       /* statistics: inline elements left out of the text */
    bool deep_warned;
} folio_xhtml_walk_t;

/* Walk the document rooted at @root (numbering its elements first). */
int folio__xhtml_walk(folio_xhtml_walk_t *w, xmlNodePtr root);

/* Number the elements under @root, itself included, 1, 2, ... in document order (pre-order),
 * in each node's _private; returns how many. The Media Overlay writer finds a block's element
 * again by its number. */
size_t folio__xhtml_number(xmlNodePtr root);
/* The element numbered @number under @root, or NULL. */
xmlNodePtr folio__xhtml_find(xmlNodePtr root, size_t number);

/* Whether @n is an element named @local (ASCII case-insensitive, any namespace). */
bool folio__xml_is(xmlNodePtr n, const char *local);
/* The first child element of @parent named @local, or NULL. */
xmlNodePtr folio__xml_child(xmlNodePtr parent, const char *local);
/* The element after @node in document order (pre-order) under the element @root, or NULL. */
xmlNodePtr folio__xml_next(xmlNodePtr node, xmlNodePtr root);
/* The value of @n's attribute @name (no namespace), or NULL; caller frees with free(). */
char *folio__xml_attr(xmlNodePtr n, const char *name);
/* Whether the white-space-separated list @list (may be NULL) holds @token. */
bool folio__has_token(const char *list, const char *token);
/* Put every id attribute value of the elements under @root, itself included, into @ids. */
int folio__xml_ids(xmlNodePtr root, folio_map_t *ids);
/* Serialise @doc as UTF-8 with libxml2's save @options into *@out (NUL-terminated, caller frees;
 * *@len bytes). */
int folio__xml_dump(xmlDocPtr doc, int options, char **out, size_t *len);

/* Parse @buf as XML without network access, DTD loading or entity substitution; NULL on failure,
 * with the first error (line: message) in @why when given. */
xmlDocPtr folio__xml_parse(const char *buf, size_t len, const char *url, folio_str_t *why);
/* Parse @buf with libxml2's forgiving HTML parser, without network access; HTML's named entities
 * are expanded, an internal DTD subset's are not. @encoding NULL lets the parser decide (a BOM, a
 * <meta> charset). NULL when out of memory. */
xmlDocPtr folio__html_parse(const char *buf, size_t len, const char *url, const char *encoding);
/* Parse a content document: as XML, or when that fails, with libxml2's forgiving HTML parser and
 * a warning naming @name, @path and the first XML error; *@html (may be NULL) says which. */
xmlDocPtr folio__content_parse(folio_t *ctx, const char *name, const char *path, const char *buf,
                               size_t len, bool *html);
/* FOLIO_EENCODING, with a message naming @name, @path and the byte, when the content document
 * @buf is neither UTF-16 (by its BOM) nor in an encoding its XML declaration names, and is not
 * valid UTF-8; else FOLIO_OK. */
int folio__content_check_utf8(folio_t *ctx, const char *name, const char *path, const char *buf,
                              size_t len);

#endif
