/* The EPUB reader: DRM detection, container.xml, the OPF package (metadata, manifest, spine,
 * guide), the spine's content documents in reading order, and the navigation's chapters and pages
 * placed in the text; the zip container is epub_zip.c's, the navigation documents epub_nav.c's. */
#include "epub.h"
#include "xhtml.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>

typedef struct {
    char *id, *path, *media_type, *properties;
} item_t;

typedef struct {
    size_t item;
    bool linear;
} spine_t;

typedef struct {
    folio_t *ctx;
    const char *name; /* the path as given, for messages */
    const folio_book_options_t *opts;
    folio_book_t *book;
    folio_epub_zip_t zip;

    char *opf_path, *opf_dir;
    int version;
    VEC(item_t) items;
    folio_map_t item_by_id, item_by_path;
    VEC(spine_t) spine;
    char *ncx_id, *page_map_id, *unique_id;
    folio_map_t item_sem; /* content path -> index into `sem_names` of a landmark/guide type */
    VEC(char *) sem_names;
    char *body_start; /* path of the first bodymatter document, from landmarks or guide */

    folio_tb_t tb;
    folio_map_t anchors;
    folio_page_marks_t markers;
    size_t skipped_inline;

    folio_epub_nav_t nav;
} epub_t;

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

static xmlDocPtr parse_content(epub_t *E, const char *path, const char *buf, size_t len)
{
    return folio__content_parse(E->ctx, E->name, path, buf, len, NULL);
}

/* ---- XML helpers ---- */

/* First element named @local anywhere under @n (depth first), or NULL. */
static xmlNodePtr find_el(xmlNodePtr n, const char *local)
{
    for (xmlNodePtr c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (folio__xml_is(c, local)) return c;
        xmlNodePtr d = find_el(c->children, local);
        if (d) return d;
    }
    return NULL;
}

/* ---- DRM ---- */

/* The files DRM schemes put in the container, all in META-INF/ (a file of the same name
 * elsewhere, say a chapter's "rights.xml", is no sign of DRM): Adobe ADEPT's rights.xml, Readium
 * LCP's license.lcpl and Apple FairPlay's sinf.xml. */
static int check_drm_files(epub_t *E)
{
    static const struct {
        const char *file, *scheme;
    } markers[] = {{"META-INF/rights.xml", "Adobe ADEPT"},
                   {"META-INF/license.lcpl", "Readium LCP"},
                   {"META-INF/sinf.xml", "Apple FairPlay"}};
    zip_int64_t n = zip_get_num_entries(E->zip.za, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(E->zip.za, (zip_uint64_t)i, 0);
        if (!name) continue;
        for (size_t k = 0; k < sizeof(markers) / sizeof(markers[0]); k++)
            if (strcasecmp(name, markers[k].file) == 0)
                return folio__error(E->ctx, FOLIO_EDRM,
                                    "%s: the book is protected by DRM (%s: %s); Folio needs a "
                                    "DRM-free EPUB",
                                    E->name, markers[k].scheme, name);
    }
    return FOLIO_OK;
}

static bool is_content_path(epub_t *E, const char *path)
{
    size_t idx;
    if (!folio__map_get(&E->item_by_path, path, &idx)) return false;
    const item_t *it = &E->items.items[idx];
    if (folio__has_token(it->properties, "nav")) return true;
    if (E->ncx_id && it->id && strcmp(it->id, E->ncx_id) == 0) return true;
    for (size_t i = 0; i < E->spine.len; i++)
        if (E->spine.items[i].item == idx) return true;
    return false;
}

/* META-INF/encryption.xml: font obfuscation is fine; anything else on a content or navigation
 * document is DRM. */
static int check_encryption(epub_t *E)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = folio__epub_zip_read(&E->zip, "META-INF/encryption.xml", &buf, &len);
    if (rc == FOLIO_ENOTFOUND) return FOLIO_OK;
    if (rc < 0) return rc;
    xmlDocPtr doc = folio__xml_parse(buf, len, "META-INF/encryption.xml", NULL);
    free(buf);
    if (!doc) {
        folio__warn(E->ctx, "%s: META-INF/encryption.xml is not well-formed; ignored", E->name);
        return FOLIO_OK;
    }
    size_t other = 0;
    for (xmlNodePtr ed = xmlDocGetRootElement(doc)->children; ed && rc >= 0; ed = ed->next) {
        if (!folio__xml_is(ed, "EncryptedData")) continue;
        xmlNodePtr method = folio__xml_child(ed, "EncryptionMethod");
        xmlNodePtr ref = folio__xml_child(folio__xml_child(ed, "CipherData"), "CipherReference");
        char *alg = method ? folio__xml_attr(method, "Algorithm") : NULL;
        char *uri = ref ? folio__xml_attr(ref, "URI") : NULL;
        char *path = uri ? folio__epub_resolve_href("", uri) : NULL;
        bool font = alg && (strcmp(alg, "http://www.idpf.org/2008/embedding") == 0 ||
                            strcmp(alg, "http://ns.adobe.com/pdf/enc#RC") == 0);
        if (!font && path && is_content_path(E, path))
            rc = folio__error(E->ctx, FOLIO_EDRM,
                              "%s: the book is protected by DRM: %s is encrypted with %s "
                              "(META-INF/encryption.xml); Folio needs a DRM-free EPUB",
                              E->name, path, alg ? alg : "an unnamed algorithm");
        else if (!font)
            other++;
        free(alg);
        free(uri);
        free(path);
    }
    if (rc >= 0 && other)
        folio__warn(E->ctx, "%s: %zu non-text resource(s) are encrypted; they are not needed",
                    E->name, other);
    xmlFreeDoc(doc);
    return rc;
}

/* ---- container and package ---- */

/* Parse entry @path, which the book cannot do without, into *@doc: a missing entry is "@missing
 * @path is missing", one that is not well-formed XML says why. */
static int read_xml(epub_t *E, const char *path, const char *missing, xmlDocPtr *doc)
{
    int rc = FOLIO_OK;
    char *buf = NULL;
    size_t len;
    folio_str_t why = {0};
    rc = folio__epub_zip_read(&E->zip, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND)
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s%s is missing", E->name, missing, path);
    if (rc < 0) goto fail;
    if (!(*doc = folio__xml_parse(buf, len, path, &why)))
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s is not well-formed XML (%s)", E->name, path,
             why.data ? why.data : "?");
fail:
    folio__str_free(&why);
    free(buf);
    return rc;
}

static int read_container(epub_t *E)
{
    int rc = FOLIO_OK;
    xmlDocPtr doc = NULL;
    TRY(read_xml(E, "META-INF/container.xml", "not an EPUB: ", &doc));
    char *fallback = NULL;
    for (xmlNodePtr rf = find_el(xmlDocGetRootElement(doc), "rootfile"); rf; rf = rf->next) {
        if (!folio__xml_is(rf, "rootfile")) continue;
        char *full = folio__xml_attr(rf, "full-path"), *mt = folio__xml_attr(rf, "media-type");
        if (full && mt && strcmp(mt, "application/oebps-package+xml") == 0 && !E->opf_path) {
            E->opf_path = full;
            full = NULL;
        } else if (full && !fallback) {
            fallback = full;
            full = NULL;
        }
        free(full);
        free(mt);
    }
    if (!E->opf_path)
        E->opf_path = fallback;
    else
        free(fallback);
    if (!E->opf_path)
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: META-INF/container.xml names no package document",
             E->name);
    char *resolved = folio__epub_resolve_href("", E->opf_path);
    free(E->opf_path);
    E->opf_path = resolved;
    if (!E->opf_path || !(E->opf_dir = folio__epub_dir_of(E->opf_path)))
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: META-INF/container.xml has an invalid full-path", E->name);
fail:
    xmlFreeDoc(doc);
    return rc;
}

static int set_meta(epub_t *E, folio_meta_t key, xmlNodePtr n, bool append)
{
    char *text = folio__node_text(n);
    if (!text) return FOLIO_ENOMEM;
    if (!*text) {
        free(text);
        return FOLIO_OK;
    }
    char **slot = &E->book->meta[key];
    if (*slot && append) {
        folio_str_t s = {0};
        int rc = folio__str_printf(&s, "%s, %s", *slot, text);
        free(text);
        if (rc < 0) return rc;
        free(*slot);
        *slot = folio__str_take(&s);
        return *slot ? FOLIO_OK : FOLIO_ENOMEM;
    }
    if (*slot) {
        free(text);
        return FOLIO_OK;
    }
    *slot = text;
    return FOLIO_OK;
}

static int read_metadata(epub_t *E, xmlNodePtr md)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr c = md ? md->children : NULL; c && rc >= 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (folio__xml_is(c, "title"))
            rc = set_meta(E, FOLIO_META_TITLE, c, false);
        else if (folio__xml_is(c, "creator"))
            rc = set_meta(E, FOLIO_META_AUTHOR, c, true);
        else if (folio__xml_is(c, "language"))
            rc = set_meta(E, FOLIO_META_LANGUAGE, c, false);
        else if (folio__xml_is(c, "identifier")) {
            char *id = folio__xml_attr(c, "id");
            bool unique = id && E->unique_id && strcmp(id, E->unique_id) == 0;
            free(id);
            if (unique) {
                free(E->book->meta[FOLIO_META_IDENTIFIER]);
                E->book->meta[FOLIO_META_IDENTIFIER] = NULL;
            }
            rc = set_meta(E, FOLIO_META_IDENTIFIER, c, false);
        }
    }
    return rc;
}

static int add_sem(epub_t *E, const char *path, const char *type)
{
    /* Guide and landmark types name whole documents; normalise EPUB 2 spellings. */
    const char *t = type;
    if (strcasecmp(t, "title-page") == 0)
        t = "titlepage";
    else if (strcasecmp(t, "text") == 0)
        t = "bodymatter";
    else if (strcasecmp(t, "notes") == 0)
        t = "endnotes";
    if (strcasecmp(t, "bodymatter") == 0) {
        if (!E->body_start) E->body_start = folio__strndup(path, folio__epub_path_len(path));
        return E->body_start ? FOLIO_OK : FOLIO_ENOMEM;
    }
    folio_block_kind_t kind;
    bool read;
    if (folio__sem_classify(t, &kind, &read) != SEM_STYLE) return FOLIO_OK;
    char *name = folio__strdup(t), *key = folio__strndup(path, folio__epub_path_len(path));
    int rc = FOLIO_ENOMEM;
    if (name && key && VEC_PUSH(E->sem_names, name) == 0) {
        name = NULL;
        bool existing;
        rc = folio__map_add(&E->item_sem, key, E->sem_names.len - 1, &existing);
    }
    free(name);
    free(key);
    return rc;
}

static int read_package(epub_t *E)
{
    int rc = FOLIO_OK;
    xmlDocPtr doc = NULL;
    TRY(read_xml(E, E->opf_path, "the package document ", &doc));
    folio__warn_unknown_entities(E->ctx, E->name, E->opf_path, doc);
    xmlNodePtr pkg = xmlDocGetRootElement(doc);
    if (!folio__xml_is(pkg, "package"))
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s is not an OPF package document", E->name, E->opf_path);
    char *version = folio__xml_attr(pkg, "version");
    E->version = version && version[0] >= '3' ? 3 : 2;
    free(version);
    E->unique_id = folio__xml_attr(pkg, "unique-identifier");
    TRY(read_metadata(E, folio__xml_child(pkg, "metadata")));

    xmlNodePtr manifest = folio__xml_child(pkg, "manifest");
    for (xmlNodePtr it = manifest ? manifest->children : NULL; it; it = it->next) {
        if (!folio__xml_is(it, "item")) continue;
        item_t item = {folio__xml_attr(it, "id"), NULL, folio__xml_attr(it, "media-type"),
                       folio__xml_attr(it, "properties")};
        char *href = folio__xml_attr(it, "href");
        item.path = folio__epub_resolve_href(E->opf_dir, href);
        free(href);
        if (!item.id || !item.path) {
            free(item.id);
            free(item.path);
            free(item.media_type);
            free(item.properties);
            continue;
        }
        /* Manifest paths carry no fragment; keep only the path part. */
        item.path[folio__epub_path_len(item.path)] = '\0';
        if (VEC_PUSH(E->items, item) < 0) {
            free(item.id);
            free(item.path);
            free(item.media_type);
            free(item.properties);
            FAIL(E->ctx, FOLIO_ENOMEM, "out of memory");
        }
        bool dup;
        TRY(folio__map_add(&E->item_by_id, item.id, E->items.len - 1, &dup));
        TRY(folio__map_add(&E->item_by_path, item.path, E->items.len - 1, &dup));
    }

    xmlNodePtr spine = folio__xml_child(pkg, "spine");
    if (!spine) FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s has no spine", E->name, E->opf_path);
    E->ncx_id = folio__xml_attr(spine, "toc");
    E->page_map_id = folio__xml_attr(spine, "page-map");
    for (xmlNodePtr ir = spine->children; ir; ir = ir->next) {
        if (!folio__xml_is(ir, "itemref")) continue;
        char *idref = folio__xml_attr(ir, "idref"), *linear = folio__xml_attr(ir, "linear");
        size_t idx;
        if (idref && folio__map_get(&E->item_by_id, idref, &idx)) {
            spine_t s = {idx, !(linear && strcmp(linear, "no") == 0)};
            if (VEC_PUSH(E->spine, s) < 0) rc = FOLIO_ENOMEM;
        } else {
            folio__warn(E->ctx, "%s: spine item \"%s\" is not in the manifest; skipped", E->name,
                        idref ? idref : "");
        }
        free(idref);
        free(linear);
        if (rc < 0) goto fail;
    }
    for (xmlNodePtr ref = folio__xml_child(folio__xml_child(pkg, "guide"), "reference"); ref;
         ref = ref->next) {
        if (!folio__xml_is(ref, "reference")) continue;
        char *type = folio__xml_attr(ref, "type"), *href = folio__xml_attr(ref, "href");
        char *path = folio__epub_resolve_href(E->opf_dir, href);
        if (type && path) rc = add_sem(E, path, type);
        free(type);
        free(href);
        free(path);
        if (rc < 0) goto fail;
    }
fail:
    xmlFreeDoc(doc);
    return rc;
}

static void check_manifest(epub_t *E)
{
    size_t missing = 0;
    const char *example = NULL;
    for (size_t i = 0; i < E->items.len; i++) {
        bool in_spine = false;
        for (size_t s = 0; s < E->spine.len && !in_spine; s++)
            in_spine = E->spine.items[s].item == i;
        if (in_spine || folio__epub_zip_locate(&E->zip, E->items.items[i].path) >= 0) continue;
        if (missing++ == 0) example = E->items.items[i].path;
    }
    if (missing)
        folio__warn(E->ctx,
                    "%s: %zu resource(s) listed in the manifest are missing from the "
                    "archive, e.g. %s",
                    E->name, missing, example);
}

/* ---- navigation ---- */

/* Landmark types name whole documents, as the guide's do. */
static int add_landmarks(epub_t *E)
{
    int rc = FOLIO_OK;
    for (size_t i = 0; i < E->nav.landmarks.len && rc >= 0; i++) {
        char *save = NULL, *types = E->nav.landmarks.items[i].text;
        for (char *tok = strtok_r(types, " ", &save); tok && rc >= 0;
             tok = strtok_r(NULL, " ", &save))
            rc = add_sem(E, E->nav.landmarks.items[i].target, tok);
    }
    return rc;
}

static int read_ncx(epub_t *E)
{
    size_t idx;
    if (!E->ncx_id || !folio__map_get(&E->item_by_id, E->ncx_id, &idx)) {
        /* EPUB 2 without spine@toc: look for the NCX by media type. */
        for (idx = 0; idx < E->items.len; idx++)
            if (E->items.items[idx].media_type &&
                strcmp(E->items.items[idx].media_type, "application/x-dtbncx+xml") == 0)
                break;
        if (idx == E->items.len) return FOLIO_OK;
    }
    return folio__epub_read_ncx(&E->zip, E->items.items[idx].path, &E->nav);
}

static int read_page_map(epub_t *E)
{
    size_t idx;
    if (!E->page_map_id || !folio__map_get(&E->item_by_id, E->page_map_id, &idx)) {
        if (E->page_map_id)
            folio__warn(E->ctx, "%s: the spine's page-map \"%s\" is not in the manifest", E->name,
                        E->page_map_id);
        return FOLIO_OK;
    }
    return folio__epub_read_page_map(&E->zip, E->items.items[idx].path, &E->nav);
}

/* ---- the spine ---- */

static folio_tb_style_t doc_style(epub_t *E, size_t spine_idx, const item_t *it, bool before_body)
{
    folio_tb_style_t st = {FOLIO_BLOCK_PARAGRAPH, true, 0, spine_idx, 0};
    size_t sem;
    if (folio__map_get(&E->item_sem, it->path, &sem)) {
        folio_block_kind_t kind;
        bool read;
        if (folio__sem_classify(E->sem_names.items[sem], &kind, &read) == SEM_STYLE) {
            st.kind = kind;
            st.read = read;
        }
    } else if (folio__has_token(it->properties, "nav")) {
        st.kind = FOLIO_BLOCK_TOC;
        st.read = false;
    } else if (before_body) {
        st.kind = FOLIO_BLOCK_FRONTMATTER;
        st.read = false;
    }
    return st;
}

static bool is_content_type(const char *mt)
{
    return !mt || strcmp(mt, "application/xhtml+xml") == 0 || strcmp(mt, "text/html") == 0 ||
           strcmp(mt, "application/x-dtbook+xml") == 0;
}

static int read_spine(epub_t *E)
{
    int rc = FOLIO_OK;
    bool before_body = E->body_start != NULL;
    size_t read_docs = 0, missing = 0;
    folio_str_t missing_list = {0};
    for (size_t i = 0; i < E->spine.len; i++) {
        const item_t *it = &E->items.items[E->spine.items[i].item];
        if (before_body && strcmp(it->path, E->body_start) == 0) before_body = false;
        if (!is_content_type(it->media_type)) {
            folio__info(E->ctx, "%s: spine item %s is %s, not text; skipped", E->name, it->path,
                        it->media_type);
            continue;
        }
        char *buf = NULL;
        size_t len;
        rc = folio__epub_zip_read(&E->zip, it->path, &buf, &len);
        if (rc == FOLIO_ENOTFOUND) {
            /* One warning for all of them: a book missing 130 chapters is one problem. */
            rc = FOLIO_OK;
            if (missing++ < 3)
                rc = folio__str_printf(&missing_list, "%s%s", missing > 1 ? ", " : "", it->path);
            if (rc < 0) break;
            continue;
        }
        if (rc < 0) break;
        if ((rc = folio__content_check_utf8(E->ctx, E->name, it->path, buf, len)) < 0) {
            free(buf);
            break;
        }
        xmlDocPtr doc = parse_content(E, it->path, buf, len);
        free(buf);
        if (!doc) {
            folio__warn(E->ctx, "%s: spine item %s cannot be parsed; skipped", E->name, it->path);
            continue;
        }
        folio_xhtml_walk_t w = {
            .tb = &E->tb,
            .anchors = &E->anchors,
            .doc_path = it->path,
            .base = doc_style(E, i, it, before_body),
            .force_unread = !E->spine.items[i].linear,
            .markers = &E->markers,
        };
        rc = folio__xhtml_walk(&w, xmlDocGetRootElement(doc));
        E->skipped_inline += w.skipped_inline;
        xmlFreeDoc(doc);
        if (rc < 0) break;
        read_docs++;
    }
    if (rc >= 0 && missing)
        folio__warn(E->ctx, "%s: %zu spine item(s) missing from the archive were skipped: %s%s",
                    E->name, missing, missing_list.data ? missing_list.data : "",
                    missing > 3 ? ", ..." : "");
    folio__str_free(&missing_list);
    if (rc >= 0 && !read_docs)
        rc = folio__error(E->ctx, FOLIO_EEMPTY, "%s: no readable content document in the spine",
                          E->name);
    return rc;
}

/* ---- resolving navigation targets to text positions ---- */

/* The mark of @target (path#fragment); a missing fragment falls back to its document's start.
 * Returns false when the document itself was not read. */
static bool resolve_target(epub_t *E, const char *target, size_t *mark, bool *fell_back)
{
    *fell_back = false;
    if (folio__map_get(&E->anchors, target, mark)) return true;
    size_t pl = folio__epub_path_len(target);
    char *path = folio__strndup(target, pl);
    bool ok = path && folio__map_get(&E->anchors, path, mark);
    free(path);
    *fell_back = ok && target[pl] == '#';
    return ok;
}

static int pages_from(epub_t *E, const folio_nav_targets_t *list, const char *what,
                      folio_page_marks_t *out)
{
    folio_map_t seen = {0};
    size_t lost = 0, fell = 0;
    const char *lost_example = NULL, *fell_example = NULL;
    int rc = FOLIO_OK;
    for (size_t i = 0; i < list->len; i++) {
        const folio_nav_target_t *t = &list->items[i];
        bool dup;
        TRY(folio__map_add(&seen, t->target, i, &dup));
        if (dup) continue; /* the same target listed twice: the first label wins */
        size_t mark;
        bool fell_back;
        if (!resolve_target(E, t->target, &mark, &fell_back)) {
            if (lost++ == 0) lost_example = t->target;
            continue;
        }
        if (fell_back && fell++ == 0) fell_example = t->target;
        folio_page_mark_t pm = {folio__strdup(t->text), mark};
        if (!pm.label || VEC_PUSH(*out, pm) < 0) {
            free(pm.label);
            FAIL(E->ctx, FOLIO_ENOMEM, "out of memory");
        }
    }
    if (lost)
        folio__warn(E->ctx,
                    "%s: %zu %s target(s) point outside the spine's text and were "
                    "dropped, e.g. %s",
                    E->name, lost, what, lost_example);
    if (fell)
        folio__warn(E->ctx,
                    "%s: %zu %s target(s) name an id that does not exist and were placed "
                    "at the start of their document, e.g. %s",
                    E->name, fell, what, fell_example);
fail:
    folio__map_free(&seen);
    return rc;
}

static void page_marks_free(folio_page_marks_t *v)
{
    for (size_t i = 0; i < v->len; i++) free(v->items[i].label);
    VEC_FREE(*v);
}

static int set_pages(epub_t *E)
{
    const struct {
        const folio_nav_targets_t *list;
        const char *what;
        folio_page_source_t source;
    } sources[] = {{&E->nav.page_list, "page-list", FOLIO_PAGES_PAGE_LIST},
                   {&E->nav.ncx_pages, "NCX pageList", FOLIO_PAGES_NCX},
                   {&E->nav.page_map, "page-map", FOLIO_PAGES_PAGE_MAP}};
    folio_page_marks_t marks = {0};
    int rc = FOLIO_OK;
    for (size_t s = 0; s < 3; s++) {
        if (!sources[s].list->len) continue;
        TRY(pages_from(E, sources[s].list, sources[s].what, &marks));
        if (marks.len) {
            rc = folio__book_set_pages(E->ctx, E->name, E->book, &E->tb, marks.items, marks.len,
                                       sources[s].source, E->opts->synthetic_page_chars);
            VEC_FREE(marks);
            return rc;
        }
    }
    rc = folio__book_set_pages(E->ctx, E->name, E->book, &E->tb, E->markers.items, E->markers.len,
                               FOLIO_PAGES_MARKERS, E->opts->synthetic_page_chars);
    VEC_FREE(E->markers); /* labels now belong to the book */
fail:
    page_marks_free(&marks);
    return rc;
}

static int set_chapters(epub_t *E)
{
    const folio_nav_targets_t *list = E->nav.toc.len ? &E->nav.toc : &E->nav.ncx_toc;
    if (!list->len) return folio__book_chapters_from_headings(E->book);
    size_t lost = 0;
    for (size_t i = 0; i < list->len; i++) {
        size_t mark;
        bool fell_back;
        if (!resolve_target(E, list->items[i].target, &mark, &fell_back)) {
            lost++;
            continue;
        }
        folio_chapter_t c = {folio__strdup(list->items[i].text), list->items[i].level,
                             E->tb.marks.items[mark].char_off};
        if (!c.title || VEC_PUSH(E->book->chapters, c) < 0) {
            free((char *)c.title);
            return FOLIO_ENOMEM;
        }
    }
    if (lost)
        folio__warn(E->ctx, "%s: %zu table-of-contents entries point outside the spine's text",
                    E->name, lost);
    return FOLIO_OK;
}

static void epub_free(epub_t *E)
{
    folio__epub_zip_close(&E->zip);
    free(E->opf_path);
    free(E->opf_dir);
    for (size_t i = 0; i < E->items.len; i++) {
        free(E->items.items[i].id);
        free(E->items.items[i].path);
        free(E->items.items[i].media_type);
        free(E->items.items[i].properties);
    }
    VEC_FREE(E->items);
    folio__map_free(&E->item_by_id);
    folio__map_free(&E->item_by_path);
    VEC_FREE(E->spine);
    free(E->ncx_id);
    free(E->page_map_id);
    free(E->unique_id);
    folio__map_free(&E->item_sem);
    for (size_t i = 0; i < E->sem_names.len; i++) free(E->sem_names.items[i]);
    VEC_FREE(E->sem_names);
    free(E->body_start);
    folio__tb_free(&E->tb);
    folio__map_free(&E->anchors);
    page_marks_free(&E->markers);
    folio__epub_nav_free(&E->nav);
}

static void check_mimetype(epub_t *E)
{
    char *buf = NULL;
    size_t len;
    int rc = folio__epub_zip_read(&E->zip, "mimetype", &buf, &len);
    if (rc == FOLIO_ENOTFOUND)
        folio__warn(E->ctx, "%s: no mimetype file; reading it as an EPUB anyway", E->name);
    else if (rc == FOLIO_OK && strncmp(buf, "application/epub+zip", 20) != 0)
        folio__warn(E->ctx, "%s: mimetype is \"%.40s\", not application/epub+zip", E->name, buf);
    free(buf);
}

/* What the Media Overlay writer needs to find the book's text in the archive again: the builder's
 * element number per block, the spine's content paths and the package document. */
static int keep_source(epub_t *E)
{
    struct folio_book_source *src = calloc(1, sizeof(*src));
    if (!src) return FOLIO_ENOMEM;
    E->book->source = src;
    E->book->source_free = folio__epub_source_free;
    src->version = E->version;
    src->block_element = E->tb.block_element;
    memset(&E->tb.block_element, 0, sizeof(E->tb.block_element));
    if (!(src->opf_path = strdup(E->opf_path))) return FOLIO_ENOMEM;
    for (size_t i = 0; i < E->spine.len; i++) {
        const item_t *it = &E->items.items[E->spine.items[i].item];
        char *p = NULL;
        if (is_content_type(it->media_type) && !(p = strdup(it->path))) return FOLIO_ENOMEM;
        if (VEC_PUSH(src->spine_path, p) < 0) {
            free(p);
            return FOLIO_ENOMEM;
        }
    }
    return FOLIO_OK;
}

int folio__epub_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                     folio_book_t *book)
{
    pthread_once(&xml_once, xml_init);
    epub_t E = {.ctx = ctx, .name = path, .opts = opts, .book = book};
    int rc;
    TRY(folio__tb_init(&E.tb, ctx, path, book, opts->max_text_chars));
    TRY(folio__epub_zip_open(&E.zip, ctx, path, opts));
    TRY(check_drm_files(&E));
    check_mimetype(&E);
    TRY(read_container(&E));
    TRY(read_package(&E));
    TRY(check_encryption(&E));
    check_manifest(&E);
    for (size_t i = 0; i < E.items.len; i++) {
        if (!folio__has_token(E.items.items[i].properties, "nav")) continue;
        TRY(folio__epub_read_nav_doc(&E.zip, E.items.items[i].path, &E.nav));
        TRY(add_landmarks(&E));
        break;
    }
    TRY(read_ncx(&E));
    TRY(read_page_map(&E));
    TRY(read_spine(&E));
    TRY(folio__tb_finish(&E.tb));
    if (!book->text_chars) FAIL(ctx, FOLIO_EEMPTY, "%s: the book contains no text", path);
    book->format = E.version >= 3 ? FOLIO_BOOK_EPUB3 : FOLIO_BOOK_EPUB2;
    TRY(keep_source(&E));
    TRY(folio__book_index_text(ctx, book));
    TRY(set_pages(&E));
    TRY(set_chapters(&E));
    if (E.skipped_inline)
        folio__info(ctx, "%s: %zu inline element(s) not read aloud were left out of the text", path,
                    E.skipped_inline);
fail:
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx))
        folio__error(ctx, rc, "%s: out of memory", path);
    epub_free(&E);
    return rc;
}
