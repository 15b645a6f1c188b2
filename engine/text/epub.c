/* The EPUB reader: the zip container (with zip-bomb limits and DRM detection), container.xml, the
 * OPF package (metadata, manifest, spine, guide), the navigation document or NCX (chapters,
 * landmarks, page lists), page-maps, and the spine's content documents in reading order. */
#include "xhtml.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <zip.h>

#define MAX_ENTRIES 100000
#define RATIO_FLOOR ((uint64_t)1 << 20) /* the ratio cap applies once an entry passes 1 MiB */

typedef struct {
    char *id, *path, *media_type, *properties;
} item_t;

typedef struct {
    size_t item;
    bool linear;
} spine_t;

/* A navigation target: a title or label and the archive path#fragment it points to. */
typedef struct {
    char *text;
    char *target;
    int level;
} target_t;

typedef VEC(target_t) targets_t;

typedef struct {
    folio_t *ctx;
    const char *name; /* the path as given, for messages */
    const folio_book_options_t *opts;
    folio_book_t *book;
    zip_t *za;
    uint64_t inflated;

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

    targets_t toc, ncx_toc, page_list, ncx_pages, page_map, landmarks;
} epub_t;

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

/* ---- paths ---- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

static void percent_decode(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
            *o++ = (char)(hexval(p[1]) * 16 + hexval(p[2]));
            p += 2;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
}

/* Resolve @href against the folder @base_dir ("" for the root) into a normalised archive path,
 * keeping any "#fragment". Returns NULL for external URLs, empty paths and on ENOMEM. */
char *folio__epub_resolve_href(const char *base_dir, const char *href)
{
    if (!href) return NULL;
    while (*href == ' ' || *href == '\t' || *href == '\n') href++;
    const char *colon = strchr(href, ':'), *slash = strchr(href, '/'), *hash = strchr(href, '#');
    if (colon && (!slash || colon < slash) && (!hash || colon < hash)) return NULL; /* a URL */
    size_t plen = hash ? (size_t)(hash - href) : strlen(href);
    folio_str_t joined = {0}, out = {0};
    char *path = NULL;
    if (plen == 0 || href[0] == '/') {
        if (folio__str_append(&joined, href[0] == '/' ? href + 1 : "", plen ? plen - 1 : 0) < 0)
            goto fail;
        if (plen == 0 && folio__str_append(&joined, base_dir, strlen(base_dir)) < 0) goto fail;
    } else {
        if (*base_dir && folio__str_printf(&joined, "%s/", base_dir) < 0) goto fail;
        if (folio__str_append(&joined, href, plen) < 0) goto fail;
    }
    if (!joined.data) goto fail;
    percent_decode(joined.data);
    /* Normalise "." and ".." segments. */
    char *save = NULL;
    VEC(const char *) segs = {0};
    for (char *seg = strtok_r(joined.data, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0) continue;
        if (strcmp(seg, "..") == 0) {
            if (segs.len) segs.len--;
            continue;
        }
        if (VEC_PUSH(segs, seg) < 0) {
            VEC_FREE(segs);
            goto fail;
        }
    }
    bool ok = true;
    for (size_t i = 0; i < segs.len && ok; i++)
        ok = (i == 0 || folio__str_appendc(&out, '/') == 0) &&
             folio__str_append(&out, segs.items[i], strlen(segs.items[i])) == 0;
    VEC_FREE(segs);
    if (!ok) goto fail;
    if (hash && hash[1]) {
        char *frag = folio__strdup(hash + 1);
        if (!frag) goto fail;
        percent_decode(frag);
        ok = folio__str_printf(&out, "#%s", frag) == 0;
        free(frag);
        if (!ok) goto fail;
    }
    path = out.len ? folio__str_take(&out) : NULL;
fail:
    folio__str_free(&joined);
    folio__str_free(&out);
    return path;
}

/* The folder part of @path ("" when there is none); caller frees. */
static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? folio__strndup(path, (size_t)(slash - path)) : folio__strdup("");
}

/* Length of @target's path part (before '#'). */
static size_t path_len(const char *target)
{
    const char *hash = strchr(target, '#');
    return hash ? (size_t)(hash - target) : strlen(target);
}

/* ---- archive access with limits ---- */

static zip_int64_t locate(epub_t *E, const char *name)
{
    zip_int64_t idx = zip_name_locate(E->za, name, 0);
    if (idx < 0) idx = zip_name_locate(E->za, name, ZIP_FL_NOCASE);
    return idx;
}

/* Inflate entry @name into a NUL-terminated buffer, counting every byte against the archive's
 * limits as it is inflated (the central directory's sizes may lie). Returns FOLIO_ENOTFOUND
 * without a message when the entry does not exist. */
static int read_entry(epub_t *E, const char *name, char **out, size_t *out_len)
{
    int rc = FOLIO_OK;
    *out = NULL;
    zip_int64_t idx = locate(E, name);
    if (idx < 0) return FOLIO_ENOTFOUND;
    zip_stat_t st;
    zip_stat_init(&st);
    uint64_t comp = 0;
    if (zip_stat_index(E->za, (zip_uint64_t)idx, 0, &st) == 0 && (st.valid & ZIP_STAT_COMP_SIZE))
        comp = st.comp_size;
    zip_file_t *zf = zip_fopen_index(E->za, (zip_uint64_t)idx, 0);
    folio_str_t buf = {0};
    if (!zf) {
        zip_error_t *ze = zip_get_error(E->za);
        int code = zip_error_code_zip(ze);
        if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP)
            FAIL(E->ctx, FOLIO_EDRM, "%s: %s is encrypted inside the zip (password protection)",
                 E->name, name);
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: cannot open %s in the archive: %s", E->name, name,
             zip_error_strerror(ze));
    }
    char chunk[65536];
    uint64_t total = 0;
    for (;;) {
        zip_int64_t n = zip_fread(zf, chunk, sizeof(chunk));
        if (n < 0)
            FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s is corrupt: %s", E->name, name,
                 zip_file_strerror(zf));
        if (n == 0) break;
        total += (uint64_t)n;
        E->inflated += (uint64_t)n;
        if (E->inflated > E->opts->max_archive_bytes)
            FAIL(E->ctx, FOLIO_ELIMIT,
                 "%s: inflating the archive passes the limit of %llu bytes at %s (a zip bomb?)",
                 E->name, (unsigned long long)E->opts->max_archive_bytes, name);
        if (total > RATIO_FLOOR && total / (comp ? comp : 1) > E->opts->max_ratio)
            FAIL(E->ctx, FOLIO_ELIMIT,
                 "%s: %s inflates more than %u times its compressed size (a zip bomb?)", E->name,
                 name, (unsigned)E->opts->max_ratio);
        if (folio__str_append(&buf, chunk, (size_t)n) < 0)
            FAIL(E->ctx, FOLIO_ENOMEM, "%s: out of memory reading %s", E->name, name);
    }
    if (!buf.data && folio__str_append(&buf, "", 0) < 0)
        FAIL(E->ctx, FOLIO_ENOMEM, "out of memory");
    *out_len = buf.len;
    *out = folio__str_take(&buf);
fail:
    if (zf) zip_fclose(zf);
    folio__str_free(&buf);
    return rc;
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

static char *attr(xmlNodePtr n, const char *name)
{
    xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
    if (!v) return NULL;
    char *s = folio__strdup((const char *)v);
    xmlFree(v);
    return s;
}

static bool has_token(const char *list, const char *token)
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

static void targets_free(targets_t *t)
{
    for (size_t i = 0; i < t->len; i++) {
        free(t->items[i].text);
        free(t->items[i].target);
    }
    VEC_FREE(*t);
}

static int push_target(targets_t *t, char *text, char *target, int level)
{
    target_t x = {text, target, level};
    if (!text || !target || VEC_PUSH(*t, x) < 0) {
        free(text);
        free(target);
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
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
    zip_int64_t n = zip_get_num_entries(E->za, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(E->za, (zip_uint64_t)i, 0);
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
    if (has_token(it->properties, "nav")) return true;
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
    int rc = read_entry(E, "META-INF/encryption.xml", &buf, &len);
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
        char *alg = method ? attr(method, "Algorithm") : NULL;
        char *uri = ref ? attr(ref, "URI") : NULL;
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

static int read_container(epub_t *E)
{
    int rc = FOLIO_OK;
    char *buf = NULL;
    size_t len;
    xmlDocPtr doc = NULL;
    folio_str_t why = {0};
    rc = read_entry(E, "META-INF/container.xml", &buf, &len);
    if (rc == FOLIO_ENOTFOUND)
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: not an EPUB: META-INF/container.xml is missing", E->name);
    if (rc < 0) goto fail;
    doc = folio__xml_parse(buf, len, "META-INF/container.xml", &why);
    if (!doc)
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: META-INF/container.xml is not well-formed XML (%s)",
             E->name, why.data ? why.data : "?");
    char *fallback = NULL;
    for (xmlNodePtr rf = find_el(xmlDocGetRootElement(doc), "rootfile"); rf; rf = rf->next) {
        if (!folio__xml_is(rf, "rootfile")) continue;
        char *full = attr(rf, "full-path"), *mt = attr(rf, "media-type");
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
    if (!E->opf_path || !(E->opf_dir = dir_of(E->opf_path)))
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: META-INF/container.xml has an invalid full-path", E->name);
fail:
    folio__str_free(&why);
    free(buf);
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
            char *id = attr(c, "id");
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
        if (!E->body_start) E->body_start = folio__strndup(path, path_len(path));
        return E->body_start ? FOLIO_OK : FOLIO_ENOMEM;
    }
    folio_block_kind_t kind;
    bool read;
    if (folio__sem_classify(t, &kind, &read) != SEM_STYLE) return FOLIO_OK;
    char *name = folio__strdup(t), *key = folio__strndup(path, path_len(path));
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
    char *buf = NULL;
    size_t len;
    xmlDocPtr doc = NULL;
    folio_str_t why = {0};
    rc = read_entry(E, E->opf_path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND)
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: the package document %s is missing", E->name, E->opf_path);
    if (rc < 0) goto fail;
    doc = folio__xml_parse(buf, len, E->opf_path, &why);
    if (!doc)
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s is not well-formed XML (%s)", E->name, E->opf_path,
             why.data ? why.data : "?");
    folio__warn_unknown_entities(E->ctx, E->name, E->opf_path, doc);
    xmlNodePtr pkg = xmlDocGetRootElement(doc);
    if (!folio__xml_is(pkg, "package"))
        FAIL(E->ctx, FOLIO_EFORMAT, "%s: %s is not an OPF package document", E->name, E->opf_path);
    char *version = attr(pkg, "version");
    E->version = version && version[0] >= '3' ? 3 : 2;
    free(version);
    E->unique_id = attr(pkg, "unique-identifier");
    TRY(read_metadata(E, folio__xml_child(pkg, "metadata")));

    xmlNodePtr manifest = folio__xml_child(pkg, "manifest");
    for (xmlNodePtr it = manifest ? manifest->children : NULL; it; it = it->next) {
        if (!folio__xml_is(it, "item")) continue;
        item_t item = {attr(it, "id"), NULL, attr(it, "media-type"), attr(it, "properties")};
        char *href = attr(it, "href");
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
        item.path[path_len(item.path)] = '\0';
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
    E->ncx_id = attr(spine, "toc");
    E->page_map_id = attr(spine, "page-map");
    for (xmlNodePtr ir = spine->children; ir; ir = ir->next) {
        if (!folio__xml_is(ir, "itemref")) continue;
        char *idref = attr(ir, "idref"), *linear = attr(ir, "linear");
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
        char *type = attr(ref, "type"), *href = attr(ref, "href");
        char *path = folio__epub_resolve_href(E->opf_dir, href);
        if (type && path) rc = add_sem(E, path, type);
        free(type);
        free(href);
        free(path);
        if (rc < 0) goto fail;
    }
fail:
    folio__str_free(&why);
    free(buf);
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
        if (in_spine || locate(E, E->items.items[i].path) >= 0) continue;
        if (missing++ == 0) example = E->items.items[i].path;
    }
    if (missing)
        folio__warn(E->ctx,
                    "%s: %zu resource(s) listed in the manifest are missing from the "
                    "archive, e.g. %s",
                    E->name, missing, example);
}

/* ---- navigation: EPUB 3 nav, NCX, page-map ---- */

static int nav_list(epub_t *E, xmlNodePtr ol, const char *dir, int level, targets_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr li = ol ? ol->children : NULL; li && rc >= 0; li = li->next) {
        if (!folio__xml_is(li, "li")) continue;
        for (xmlNodePtr c = li->children; c && rc >= 0; c = c->next) {
            if (folio__xml_is(c, "a")) {
                char *href = attr(c, "href");
                char *target = folio__epub_resolve_href(dir, href);
                free(href);
                if (target) rc = push_target(out, folio__node_text(c), target, level);
            } else if (folio__xml_is(c, "ol") || folio__xml_is(c, "ul")) {
                if (level < 64) rc = nav_list(E, c, dir, level + 1, out);
            }
        }
    }
    return rc;
}

/* Every <a href> under @n in document order, with its text and its epub:type (as the text, for
 * landmarks). */
static int nav_links(xmlNodePtr n, const char *dir, bool type_as_text, targets_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr c = n; c && rc >= 0; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (folio__xml_is(c, "a")) {
            char *href = attr(c, "href");
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

static int read_nav_doc(epub_t *E, const char *path)
{
    char *buf = NULL;
    size_t len;
    int rc = read_entry(E, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND) {
        folio__warn(E->ctx, "%s: the navigation document %s is missing", E->name, path);
        return FOLIO_OK;
    }
    if (rc < 0) return rc;
    xmlDocPtr doc = parse_content(E, path, buf, len);
    free(buf);
    if (!doc) {
        folio__warn(E->ctx, "%s: the navigation document %s cannot be parsed", E->name, path);
        return FOLIO_OK;
    }
    char *dir = dir_of(path);
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
            char *role = attr(c, "role");
            const char *t = type ? (const char *)type : "";
            xmlNodePtr ol = folio__xml_child(c, "ol");
            if (has_token(t, "toc") || has_token(role, "doc-toc"))
                rc = nav_list(E, ol, dir, 1, &E->toc);
            else if (has_token(t, "page-list") || has_token(role, "doc-pagelist"))
                rc = nav_links(c->children, dir, false, &E->page_list);
            else if (has_token(t, "landmarks"))
                rc = nav_links(c->children, dir, true, &E->landmarks);
            xmlFree(type);
            free(role);
        }
    }
    VEC_FREE(stack);
    for (size_t i = 0; i < E->landmarks.len && rc >= 0; i++) {
        char *save = NULL, *types = E->landmarks.items[i].text;
        for (char *tok = strtok_r(types, " ", &save); tok && rc >= 0;
             tok = strtok_r(NULL, " ", &save))
            rc = add_sem(E, E->landmarks.items[i].target, tok);
    }
    free(dir);
    xmlFreeDoc(doc);
    return rc;
}

static int ncx_points(xmlNodePtr parent, const char *dir, int level, targets_t *out)
{
    int rc = FOLIO_OK;
    for (xmlNodePtr np = parent ? parent->children : NULL; np && rc >= 0; np = np->next) {
        if (!folio__xml_is(np, "navPoint")) continue;
        xmlNodePtr content = folio__xml_child(np, "content");
        char *src = content ? attr(content, "src") : NULL;
        char *target = folio__epub_resolve_href(dir, src);
        free(src);
        if (target)
            rc =
                push_target(out, folio__node_text(folio__xml_child(np, "navLabel")), target, level);
        if (rc >= 0 && level < 64) rc = ncx_points(np, dir, level + 1, out);
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
    const char *path = E->items.items[idx].path;
    char *buf = NULL;
    size_t len;
    int rc = read_entry(E, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND) {
        folio__warn(E->ctx, "%s: the NCX %s is missing", E->name, path);
        return FOLIO_OK;
    }
    if (rc < 0) return rc;
    folio_str_t why = {0};
    xmlDocPtr doc = folio__xml_parse(buf, len, path, &why);
    free(buf);
    if (!doc) {
        folio__warn(E->ctx, "%s: the NCX %s is not well-formed XML (%s); ignored", E->name, path,
                    why.data ? why.data : "?");
        folio__str_free(&why);
        return FOLIO_OK;
    }
    folio__str_free(&why);
    folio__warn_unknown_entities(E->ctx, E->name, path, doc);
    char *dir = dir_of(path);
    xmlNodePtr root = xmlDocGetRootElement(doc);
    rc = dir ? ncx_points(folio__xml_child(root, "navMap"), dir, 1, &E->ncx_toc) : FOLIO_ENOMEM;
    xmlNodePtr pl = folio__xml_child(root, "pageList");
    for (xmlNodePtr pt = pl ? pl->children : NULL; pt && rc >= 0; pt = pt->next) {
        if (!folio__xml_is(pt, "pageTarget")) continue;
        xmlNodePtr content = folio__xml_child(pt, "content");
        char *src = content ? attr(content, "src") : NULL;
        char *target = folio__epub_resolve_href(dir, src);
        free(src);
        char *label = folio__node_text(folio__xml_child(pt, "navLabel"));
        if (label && !*label) {
            free(label);
            label = attr(pt, "value");
        }
        if (target && label)
            rc = push_target(&E->ncx_pages, label, target, 1);
        else {
            free(target);
            free(label);
        }
    }
    free(dir);
    xmlFreeDoc(doc);
    return rc;
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
    const char *path = E->items.items[idx].path;
    char *buf = NULL;
    size_t len;
    int rc = read_entry(E, path, &buf, &len);
    if (rc == FOLIO_ENOTFOUND) {
        folio__warn(E->ctx, "%s: the page-map %s is missing", E->name, path);
        return FOLIO_OK;
    }
    if (rc < 0) return rc;
    xmlDocPtr doc = folio__xml_parse(buf, len, path, NULL);
    free(buf);
    if (!doc) {
        folio__warn(E->ctx, "%s: the page-map %s is not well-formed XML; ignored", E->name, path);
        return FOLIO_OK;
    }
    char *dir = dir_of(path);
    if (!dir) rc = FOLIO_ENOMEM;
    for (xmlNodePtr p = xmlDocGetRootElement(doc)->children; p && rc >= 0; p = p->next) {
        if (!folio__xml_is(p, "page")) continue;
        char *name = attr(p, "name"), *href = attr(p, "href");
        char *target = folio__epub_resolve_href(dir, href);
        free(href);
        if (name && target)
            rc = push_target(&E->page_map, name, target, 1);
        else {
            free(name);
            free(target);
        }
    }
    free(dir);
    xmlFreeDoc(doc);
    return rc;
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
    } else if (has_token(it->properties, "nav")) {
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
        rc = read_entry(E, it->path, &buf, &len);
        if (rc == FOLIO_ENOTFOUND) {
            /* One warning for all of them: a book missing 130 chapters is one problem. */
            rc = FOLIO_OK;
            if (missing++ < 3)
                rc = folio__str_printf(&missing_list, "%s%s", missing > 1 ? ", " : "", it->path);
            if (rc < 0) break;
            continue;
        }
        if (rc < 0) break;
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
    size_t pl = path_len(target);
    char *path = folio__strndup(target, pl);
    bool ok = path && folio__map_get(&E->anchors, path, mark);
    free(path);
    *fell_back = ok && target[pl] == '#';
    return ok;
}

static int pages_from(epub_t *E, const targets_t *list, const char *what, folio_page_marks_t *out)
{
    folio_map_t seen = {0};
    size_t lost = 0, fell = 0;
    const char *lost_example = NULL, *fell_example = NULL;
    int rc = FOLIO_OK;
    for (size_t i = 0; i < list->len; i++) {
        const target_t *t = &list->items[i];
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
        const targets_t *list;
        const char *what;
        folio_page_source_t source;
    } sources[] = {{&E->page_list, "page-list", FOLIO_PAGES_PAGE_LIST},
                   {&E->ncx_pages, "NCX pageList", FOLIO_PAGES_NCX},
                   {&E->page_map, "page-map", FOLIO_PAGES_PAGE_MAP}};
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
    const targets_t *list = E->toc.len ? &E->toc : &E->ncx_toc;
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
    if (E->za) zip_discard(E->za);
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
    targets_free(&E->toc);
    targets_free(&E->ncx_toc);
    targets_free(&E->page_list);
    targets_free(&E->ncx_pages);
    targets_free(&E->page_map);
    targets_free(&E->landmarks);
}

static int open_zip(epub_t *E)
{
    int zerr = 0;
    E->za = zip_open(E->name, ZIP_RDONLY, &zerr);
    if (!E->za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int code = zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ ? FOLIO_EIO : FOLIO_EFORMAT;
        /* libzip says "not a zip" for a zip whose end was cut off: tell them apart. */
        unsigned char magic[4] = {0};
        FILE *f = fopen(E->name, "rb");
        bool pk = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "PK\x03\x04", 4) == 0;
        if (f) fclose(f);
        const char *what = zerr == ZIP_ER_NOZIP && pk ? "corrupt or truncated zip archive (its "
                                                        "central directory is missing)"
                           : zerr == ZIP_ER_NOZIP     ? "not a zip archive (an EPUB is a zip)"
                                                      : zip_error_strerror(&ze);
        int rc = folio__error(E->ctx, code, "%s: %s", E->name, what);
        zip_error_fini(&ze);
        return rc;
    }
    zip_int64_t n = zip_get_num_entries(E->za, 0);
    if (n <= 0) return folio__error(E->ctx, FOLIO_EFORMAT, "%s: the zip archive is empty", E->name);
    if (n > MAX_ENTRIES)
        return folio__error(E->ctx, FOLIO_ELIMIT, "%s: the archive has %lld entries (limit %d)",
                            E->name, (long long)n, MAX_ENTRIES);
    return FOLIO_OK;
}

static void check_mimetype(epub_t *E)
{
    char *buf = NULL;
    size_t len;
    int rc = read_entry(E, "mimetype", &buf, &len);
    if (rc == FOLIO_ENOTFOUND)
        folio__warn(E->ctx, "%s: no mimetype file; reading it as an EPUB anyway", E->name);
    else if (rc == FOLIO_OK && strncmp(buf, "application/epub+zip", 20) != 0)
        folio__warn(E->ctx, "%s: mimetype is \"%.40s\", not application/epub+zip", E->name, buf);
    free(buf);
}

int folio__epub_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                     folio_book_t *book)
{
    pthread_once(&xml_once, xml_init);
    epub_t E = {.ctx = ctx, .name = path, .opts = opts, .book = book};
    int rc;
    TRY(folio__tb_init(&E.tb, ctx, path, book, opts->max_text_chars));
    TRY(open_zip(&E));
    TRY(check_drm_files(&E));
    check_mimetype(&E);
    TRY(read_container(&E));
    TRY(read_package(&E));
    TRY(check_encryption(&E));
    check_manifest(&E);
    for (size_t i = 0; i < E.items.len; i++) {
        if (!has_token(E.items.items[i].properties, "nav")) continue;
        TRY(read_nav_doc(&E, E.items.items[i].path));
        break;
    }
    TRY(read_ncx(&E));
    TRY(read_page_map(&E));
    TRY(read_spine(&E));
    TRY(folio__tb_finish(&E.tb));
    if (!book->text_chars) FAIL(ctx, FOLIO_EEMPTY, "%s: the book contains no text", path);
    book->format = E.version >= 3 ? FOLIO_BOOK_EPUB3 : FOLIO_BOOK_EPUB2;
    book->epub_version = E.version;
    if (!(book->opf_path = strdup(E.opf_path))) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < E.spine.len; i++) {
        const item_t *it = &E.items.items[E.spine.items[i].item];
        char *p = NULL;
        if (is_content_type(it->media_type) && !(p = strdup(it->path)))
            FAIL(ctx, FOLIO_ENOMEM, "out of memory");
        if (VEC_PUSH(book->spine_path, p) < 0) {
            free(p);
            FAIL(ctx, FOLIO_ENOMEM, "out of memory");
        }
    }
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
