/* EPUB 3 Media Overlays: a copy of the book whose paragraphs are synchronised with the audio.
 *
 * Each block of the book's text came from a block-level element of a spine item (the EPUB reader
 * numbers the elements of every content document in document order and keeps, in the book's
 * source, per block, the number of the element holding its first character). Here the same
 * documents are parsed the same way and numbered again, so each read block finds its element; an
 * element without an id gets one (epub_ids.c). Each spine item with read text gets one SMIL
 * document beside it, a <par> per element in reading order whose clip runs from the block's first
 * timed word to its last timed word in the same audio file. The OPF gains the SMIL and audio items,
 * media-overlay on the content items, and media:duration metadata. Everything else is copied
 * entry by entry; "mimetype" is written first and stored. */
#include "epub.h"
#include "xhtml.h"

#include "../index/index.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#define SMIL_NS "http://www.w3.org/ns/SMIL"
#define MIN_CLIP 0.05 /* seconds: a clip is never shorter */

typedef struct {
    size_t spine;     /* position in the spine */
    const char *path; /* content document's archive path (borrowed from the book) */
    VEC(folio_epub_clip_t) pars;
    char *smil_path; /* archive path of its SMIL document */
    char smil_id[48];
    double duration; /* sum of its clips */
    char *xhtml;     /* rewritten document, when ids were added */
    size_t xhtml_len;
    char *smil; /* the SMIL document */
    size_t smil_len;
} doc_t;

typedef struct {
    const char *src; /* the audio file on disk (owned by `paths`) */
    char *href;      /* URL in the OPF (absolute) or archive path (embedded) */
    char id[48];
    const char *media_type;
} audio_t;

typedef struct {
    folio_t *ctx;
    const folio_index_t *ix;
    const folio_book_t *book;
    const struct folio_book_source *source; /* the book's, from the EPUB reader */
    const char *book_path, *out_path;
    const folio_overlay_options_t *opts;
    folio_epub_zip_t src;
    VEC(doc_t) docs;
    VEC(audio_t) audio;
    VEC(char *) paths; /* owned strings */
    folio_map_t names; /* archive names in use */
    char *opf;
    size_t opf_len;
    char *opf_dir;
    double start;
    bool cancelled;
} ov_t;

/* ---- small helpers ---- */

static char *dup_str(ov_t *o, const char *s)
{
    char *d = strdup(s);
    if (!d || VEC_PUSH(o->paths, d) < 0) {
        free(d);
        return NULL;
    }
    return d;
}

/* Append @s percent-encoded as a URL path (unreserved characters and '/' kept). */
static int put_url_path(folio_str_t *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int rc;
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            rc = folio__str_append(out, (const char *)p, 1);
        else
            rc = folio__str_printf(out, "%%%02X", *p);
        if (rc < 0) return rc;
    }
    return FOLIO_OK;
}

/* The path of archive path @to relative to the folder @from_dir ("" or ending in '/'). */
static char *relative_path(const char *from_dir, const char *to)
{
    size_t common = 0;
    for (size_t i = 0; from_dir[i] && from_dir[i] == to[i]; i++)
        if (from_dir[i] == '/') common = i + 1;
    folio_str_t s = {0};
    for (const char *p = from_dir + common; *p; p++)
        if (*p == '/' && folio__str_append(&s, "../", 3) < 0) goto fail;
    if (folio__str_printf(&s, "%s", to + common) < 0) goto fail;
    return folio__str_take(&s);
fail:
    folio__str_free(&s);
    return NULL;
}

/* "h:mm:ss.fff" */
static void clock_value(double t, char *out, size_t n)
{
    long ms = (long)(t * 1000 + 0.5);
    snprintf(out, n, "%ld:%02ld:%02ld.%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60,
             ms % 1000);
}

static const char *audio_media_type(const char *path, bool *core)
{
    static const struct {
        const char *ext, *type;
        bool core;
    } types[] = {{"mp3", "audio/mpeg", true},   {"m4a", "audio/mp4", true},
                 {"m4b", "audio/mp4", true},    {"mp4", "audio/mp4", true},
                 {"aac", "audio/mp4", true},    {"ogg", "audio/ogg", false},
                 {"oga", "audio/ogg", false},   {"opus", "audio/ogg", false},
                 {"flac", "audio/flac", false}, {"wav", "audio/wav", false}};
    const char *dot = strrchr(path, '.');
    *core = false;
    if (dot)
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
            if (strcasecmp(dot + 1, types[i].ext) == 0) {
                *core = types[i].core;
                return types[i].type;
            }
    return "application/octet-stream";
}

/* A name not yet used in the archive: @dir + @stem + @ext, or @dir + @stem-2 + @ext, ... */
static char *unique_name(ov_t *o, const char *dir, const char *stem, const char *ext)
{
    folio_str_t s = {0};
    for (int k = 1; k < 100000; k++) {
        s.len = 0;
        if ((k == 1 ? folio__str_printf(&s, "%s%s%s", dir, stem, ext)
                    : folio__str_printf(&s, "%s%s-%d%s", dir, stem, k, ext)) < 0)
            break;
        bool existing = false;
        if (folio__map_add(&o->names, s.data, 1, &existing) < 0) break;
        if (!existing) {
            char *r = dup_str(o, s.data);
            folio__str_free(&s);
            return r;
        }
    }
    folio__str_free(&s);
    return NULL;
}

/* ---- what is read where: clips per block element ---- */

/* Add @p to the document of spine item @section (a new one when it starts another). */
static int add_clip(ov_t *o, size_t section, folio_epub_clip_t p)
{
    if (p.end < p.begin + MIN_CLIP) p.end = p.begin + MIN_CLIP;
    if (!o->docs.len || o->docs.items[o->docs.len - 1].spine != section) {
        doc_t d = {0};
        d.spine = section;
        d.path = o->source->spine_path.items[section];
        if (VEC_PUSH(o->docs, d) < 0) return FOLIO_ENOMEM;
    }
    doc_t *d = &o->docs.items[o->docs.len - 1];
    if (VEC_PUSH(d->pars, p) < 0) return FOLIO_ENOMEM;
    d->duration += p.end - p.begin;
    return FOLIO_OK;
}

/* The clip of the text [@start, @end): from its first timed word to its last timed word in the
 * same audio file; p->file < 0 when none of it is timed. */
static void time_range(ov_t *o, size_t start, size_t end, folio_epub_clip_t *p)
{
    size_t n_words = folio_index_n_words(o->ix);
    p->file = -1;
    for (size_t w = folio__index_first_word_at(o->ix, start);
         w < n_words && folio_index_word(o->ix, w)->start_char < end; w++) {
        const folio_index_word_t *wd = folio_index_word(o->ix, w);
        if (wd->file < 0 || wd->start_time < 0) continue;
        if (p->file < 0) {
            p->file = wd->file;
            p->begin = wd->file_time;
        }
        if (wd->file == p->file) p->end = wd->file_time + (wd->end_time - wd->start_time);
    }
}

/* Sentences and words: a clip for each timed one in block @blk (element @element). *@next is
 * the first sentence or word not yet passed (they are visited in text order). */
static int unit_clips(ov_t *o, const folio_block_t *blk, size_t element, size_t *next)
{
    bool words = o->opts->granularity == FOLIO_OVERLAY_WORD;
    size_t n = words ? folio_index_n_words(o->ix) : folio_book_n_sentences(o->book);
    for (; *next < n; ++*next) {
        size_t start, end;
        if (words) {
            const folio_index_word_t *w = folio_index_word(o->ix, *next);
            start = w->start_char, end = w->end_char;
        } else {
            const folio_sentence_t *st = folio_book_sentence(o->book, *next);
            start = st->start_char, end = st->end_char;
        }
        if (start >= blk->end_char) break;
        if (end <= blk->start_char) continue;
        if (start < blk->start_char) start = blk->start_char;
        if (end > blk->end_char) end = blk->end_char;
        folio_epub_clip_t p = {element, -1, 0, 0, NULL, start, end, ""};
        time_range(o, start, end, &p);
        if (p.file < 0) continue;
        snprintf(p.unit, sizeof(p.unit), "folio-%c%zu", words ? 'w' : 's', *next);
        int rc = add_clip(o, blk->section, p);
        if (rc < 0) return rc;
    }
    return FOLIO_OK;
}

static int collect_pars(ov_t *o)
{
    int rc = FOLIO_OK;
    const struct folio_book_source *src = o->source;
    folio_map_t seen = {0}; /* "spine:element" already given a par */
    char key[64];
    size_t next_unit = 0;
    for (size_t i = 0; i < folio_book_n_blocks(o->book); i++) {
        const folio_block_t *blk = folio_book_block(o->book, i);
        size_t element = i < src->block_element.len ? src->block_element.items[i] : 0;
        if (!element || blk->section >= src->spine_path.len || !src->spine_path.items[blk->section])
            continue;
        if (o->opts->granularity != FOLIO_OVERLAY_PARAGRAPH) {
            TRY(unit_clips(o, blk, element, &next_unit));
            continue;
        }
        /* The block's first timed word, and its last timed word in the same file. */
        folio_epub_clip_t p = {element, -1, 0, 0, NULL, 0, 0, ""};
        time_range(o, blk->start_char, blk->end_char, &p);
        if (p.file < 0) continue;
        snprintf(key, sizeof(key), "%zu:%zu", blk->section, element);
        bool existing = false;
        TRY(folio__map_add(&seen, key, 1, &existing));
        if (existing) continue; /* text after a nested block: its element already has a clip */
        TRY(add_clip(o, blk->section, p));
    }
    if (!o->docs.len)
        FAIL(o->ctx, FOLIO_ENOMATCH, "%s: no read text of the book has a time in the index",
             o->book_path);
fail:
    if (rc == FOLIO_ENOMEM) folio__error(o->ctx, rc, "out of memory");
    folio__map_free(&seen);
    return rc;
}

/* ---- the audio files ---- */

static int find_audio(ov_t *o)
{
    int rc = FOLIO_OK;
    const folio_overlay_options_t *op = o->opts;
    char *book_dir = NULL;
    folio_str_t s = {0};
    const char *dir = op->audio_dir && *op->audio_dir ? op->audio_dir : NULL;
    if (!dir) {
        if (!(book_dir = folio__epub_dir_of(o->book_path)))
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        dir = *book_dir ? book_dir : ".";
    }
    const char *audio_dir = NULL;
    if (op->embed_audio) {
        if (folio__str_printf(&s, "%saudio/", o->opf_dir) < 0)
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        audio_dir = s.data;
    }
    for (size_t i = 0; i < folio_index_n_files(o->ix); i++) {
        const char *name = folio_index_file(o->ix, i)->path;
        audio_t a = {0};
        snprintf(a.id, sizeof(a.id), "folio-audio-%zu", i + 1);
        bool core;
        a.media_type = audio_media_type(name, &core);
        if (!core)
            folio__warn(o->ctx,
                        "%s: %s is not an EPUB core audio type (MP3 and MP4/AAC are); reading "
                        "systems may not play it",
                        o->out_path, name);
        folio_str_t p = {0};
        if (folio__str_printf(&p, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name) < 0)
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        char *path = folio__str_take(&p);
        if (!path || VEC_PUSH(o->paths, path) < 0) {
            free(path);
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        }
        a.src = path;
        bool need_file = op->embed_audio || !op->audio_base;
        struct stat st;
        errno = 0;
        if (need_file && (stat(path, &st) != 0 || !S_ISREG(st.st_mode)))
            FAIL(o->ctx, FOLIO_ENOTFOUND, "%s: audio file %s of the index is not there (%s)", path,
                 name, errno ? strerror(errno) : "not a regular file");
        folio_str_t h = {0};
        if (op->embed_audio) {
            const char *dot = strrchr(name, '.');
            char stem[256];
            snprintf(stem, sizeof(stem), "%.*s", (int)(dot ? dot - name : (long)strlen(name)),
                     name);
            char *arch = unique_name(o, audio_dir, stem, dot ? dot : "");
            if (!arch) FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
            rc = folio__str_printf(&h, "%s", arch);
        } else if (op->audio_base) {
            size_t bl = strlen(op->audio_base);
            rc = folio__str_printf(&h, "%s%s", op->audio_base,
                                   bl && op->audio_base[bl - 1] == '/' ? "" : "/");
            if (rc >= 0) rc = put_url_path(&h, name);
        } else {
            char *abs = realpath(path, NULL);
            if (!abs) FAIL(o->ctx, FOLIO_EIO, "%s: %s", path, strerror(errno));
            rc = folio__str_printf(&h, "file://");
            if (rc >= 0) rc = put_url_path(&h, abs);
            free(abs);
        }
        if (rc < 0 || !(a.href = folio__str_take(&h)) || VEC_PUSH(o->paths, a.href) < 0) {
            folio__str_free(&h);
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        }
        TRY(VEC_PUSH(o->audio, a));
    }
fail:
    folio__str_free(&s);
    free(book_dir);
    return rc;
}

/* ---- content documents: ids on the elements that get a clip ---- */

/* Inflate archive entry @name within the limits the book was read with. */
static int read_entry(ov_t *o, const char *name, char **out, size_t *out_len)
{
    int rc = folio__epub_zip_read(&o->src, name, out, out_len);
    if (rc == FOLIO_ENOTFOUND)
        rc = folio__error(o->ctx, FOLIO_EFORMAT, "%s: cannot read %s from the archive",
                          o->book_path, name);
    return rc;
}

static int mark_document(ov_t *o, doc_t *d)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_entry(o, d->path, &buf, &len);
    folio_epub_doc_text_t text = {NULL, 0, 0};
    if (o->opts->granularity != FOLIO_OVERLAY_PARAGRAPH)
        text = folio__epub_doc_text(o->book, d->spine);
    if (rc >= 0)
        rc = folio__epub_add_ids(o->ctx, o->book_path, o->out_path, d->path, buf, len, &text,
                                 d->pars.items, d->pars.len, &d->xhtml, &d->xhtml_len);
    free(buf);
    return rc;
}

/* ---- SMIL documents ---- */

/* A new last child of @parent, on a line of its own. */
static xmlNodePtr add_child(xmlNodePtr parent, const char *name, const char *text)
{
    xmlNodePtr el =
        xmlNewTextChild(parent, parent->ns, (const xmlChar *)name, (const xmlChar *)text);
    xmlNodePtr nl = el ? xmlNewText((const xmlChar *)"\n") : NULL;
    if (nl) xmlAddChild(parent, nl);
    return nl ? el : NULL;
}

int folio__epub_smil(const folio_smil_par_t *pars, size_t n, char **out, size_t *out_len)
{
    int rc = FOLIO_ENOMEM;
    xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
    xmlNodePtr smil = doc ? xmlNewDocNode(doc, NULL, (const xmlChar *)"smil", NULL) : NULL;
    if (!smil) goto fail;
    xmlDocSetRootElement(doc, smil);
    xmlNsPtr ns = xmlNewNs(smil, (const xmlChar *)SMIL_NS, NULL);
    if (!ns || !xmlNewNs(smil, (const xmlChar *)FOLIO_EPUB_NS, (const xmlChar *)"epub")) goto fail;
    xmlSetNs(smil, ns);
    if (!xmlSetProp(smil, (const xmlChar *)"version", (const xmlChar *)"3.0")) goto fail;
    xmlNodePtr body =
        xmlAddChild(smil, xmlNewText((const xmlChar *)"\n")) ? add_child(smil, "body", NULL) : NULL;
    if (!body || !xmlAddChild(body, xmlNewText((const xmlChar *)"\n"))) goto fail;
    for (size_t i = 0; i < n; i++) {
        char id[32], begin[32], end[32];
        snprintf(id, sizeof(id), "par%zu", i + 1);
        snprintf(begin, sizeof(begin), "%.3fs", pars[i].begin);
        snprintf(end, sizeof(end), "%.3fs", pars[i].end);
        xmlNodePtr par = add_child(body, "par", NULL);
        xmlNodePtr text = par ? xmlNewChild(par, ns, (const xmlChar *)"text", NULL) : NULL;
        xmlNodePtr audio = text ? xmlNewChild(par, ns, (const xmlChar *)"audio", NULL) : NULL;
        if (!audio || !xmlSetProp(par, (const xmlChar *)"id", (const xmlChar *)id) ||
            !xmlSetProp(text, (const xmlChar *)"src", (const xmlChar *)pars[i].text_src) ||
            !xmlSetProp(audio, (const xmlChar *)"src", (const xmlChar *)pars[i].audio_src) ||
            !xmlSetProp(audio, (const xmlChar *)"clipBegin", (const xmlChar *)begin) ||
            !xmlSetProp(audio, (const xmlChar *)"clipEnd", (const xmlChar *)end))
            goto fail;
    }
    rc = folio__xml_dump(doc, 0, out, out_len);
fail:
    xmlFreeDoc(doc);
    return rc;
}

static int write_smil(ov_t *o, doc_t *d, size_t k)
{
    int rc = FOLIO_OK;
    VEC(folio_smil_par_t) pars = {0}; /* their src strings owned */
    char *dir = folio__epub_dir_of(d->path), *text_href = NULL;
    if (!dir) FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
    const char *base = d->path + strlen(dir);
    const char *dot = strrchr(base, '.');
    char stem[512];
    snprintf(stem, sizeof(stem), "%.*s", (int)(dot ? dot - base : (long)strlen(base)), base);
    if (!(d->smil_path = unique_name(o, dir, stem, ".smil")))
        FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
    snprintf(d->smil_id, sizeof(d->smil_id), "folio-mo-%zu", k + 1);
    if (!(text_href = relative_path(dir, d->path))) FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < d->pars.len; i++) {
        const folio_epub_clip_t *p = &d->pars.items[i];
        const audio_t *a = &o->audio.items[p->file];
        char *audio_href = NULL;
        if (o->opts->embed_audio && !(audio_href = relative_path(dir, a->href)))
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        folio_str_t text = {0}, audio = {0};
        rc = put_url_path(&text, text_href);
        if (rc >= 0) rc = folio__str_printf(&text, "#%s", p->id);
        if (rc >= 0)
            rc = audio_href ? put_url_path(&audio, audio_href)
                            : folio__str_printf(&audio, "%s", a->href);
        free(audio_href);
        folio_smil_par_t sp = {text.data, audio.data, p->begin, p->end};
        if (rc >= 0) rc = VEC_PUSH(pars, sp);
        if (rc < 0) {
            folio__str_free(&text);
            folio__str_free(&audio);
            goto fail;
        }
    }
    TRY(folio__epub_smil(pars.items, pars.len, &d->smil, &d->smil_len));
fail:
    if (rc == FOLIO_ENOMEM && !*folio_errmsg(o->ctx)) folio__error(o->ctx, rc, "out of memory");
    for (size_t i = 0; i < pars.len; i++) {
        free((char *)pars.items[i].text_src);
        free((char *)pars.items[i].audio_src);
    }
    VEC_FREE(pars);
    free(dir);
    free(text_href);
    return rc;
}

/* ---- the package document ---- */

static int rewrite_opf(ov_t *o)
{
    int rc = FOLIO_OK;
    char *buf = NULL;
    size_t len = 0;
    xmlDocPtr doc = NULL;
    folio_map_t ids = {0};
    TRY(read_entry(o, o->source->opf_path, &buf, &len));
    doc = folio__xml_parse(buf, len, o->source->opf_path, NULL);
    xmlNodePtr pkg = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr md = folio__xml_child(pkg, "metadata"), manifest = folio__xml_child(pkg, "manifest");
    if (!md || !manifest)
        FAIL(o->ctx, FOLIO_EFORMAT, "%s: %s has no metadata or manifest", o->book_path,
             o->source->opf_path);
    TRY(folio__xml_ids(pkg, &ids));
    /* Ids Folio adds must not clash with the package's own. */
    size_t v;
    for (size_t i = 0; i < o->docs.len; i++)
        if (folio__map_get(&ids, o->docs.items[i].smil_id, &v))
            snprintf(o->docs.items[i].smil_id, sizeof(o->docs.items[i].smil_id), "folio-mo-%zu-x",
                     i + 1);
    for (size_t i = 0; i < o->audio.len; i++)
        if (folio__map_get(&ids, o->audio.items[i].id, &v))
            snprintf(o->audio.items[i].id, sizeof(o->audio.items[i].id), "folio-audio-%zu-x",
                     i + 1);

    /* media-overlay on each content item that has a SMIL document. */
    for (xmlNodePtr it = manifest->children; it; it = it->next) {
        if (!folio__xml_is(it, "item")) continue;
        xmlChar *href = xmlGetNoNsProp(it, (const xmlChar *)"href");
        char *path = folio__epub_resolve_href(o->opf_dir, (const char *)href);
        xmlFree(href);
        for (size_t i = 0; path && i < o->docs.len; i++)
            if (strcmp(path, o->docs.items[i].path) == 0)
                xmlSetProp(it, (const xmlChar *)"media-overlay",
                           (const xmlChar *)o->docs.items[i].smil_id);
        free(path);
    }
    /* The SMIL and audio items. */
    for (size_t i = 0; i < o->docs.len; i++) {
        const doc_t *d = &o->docs.items[i];
        char *href = relative_path(o->opf_dir, d->smil_path);
        folio_str_t url = {0};
        if (!href || put_url_path(&url, href) < 0) {
            free(href);
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
        }
        free(href);
        xmlNodePtr it = add_child(manifest, "item", NULL);
        if (!it || !xmlSetProp(it, (const xmlChar *)"id", (const xmlChar *)d->smil_id) ||
            !xmlSetProp(it, (const xmlChar *)"href", (const xmlChar *)url.data) ||
            !xmlSetProp(it, (const xmlChar *)"media-type",
                        (const xmlChar *)"application/smil+xml") ||
            (!o->opts->embed_audio &&
             !xmlSetProp(it, (const xmlChar *)"properties", (const xmlChar *)"remote-resources")))
            rc = FOLIO_ENOMEM;
        folio__str_free(&url);
        TRY(rc);
    }
    for (size_t i = 0; i < o->audio.len; i++) {
        const audio_t *a = &o->audio.items[i];
        folio_str_t url = {0};
        if (o->opts->embed_audio) {
            char *href = relative_path(o->opf_dir, a->href);
            rc = href ? put_url_path(&url, href) : FOLIO_ENOMEM;
            free(href);
        } else {
            rc = folio__str_printf(&url, "%s", a->href);
        }
        xmlNodePtr it = rc < 0 ? NULL : add_child(manifest, "item", NULL);
        if (!it || !xmlSetProp(it, (const xmlChar *)"id", (const xmlChar *)a->id) ||
            !xmlSetProp(it, (const xmlChar *)"href", (const xmlChar *)url.data) ||
            !xmlSetProp(it, (const xmlChar *)"media-type", (const xmlChar *)a->media_type))
            rc = FOLIO_ENOMEM;
        folio__str_free(&url);
        TRY(rc);
    }

    /* Metadata: durations replace any the book had, the active class unless it has one, and the
     * modification time is now. */
    bool active_class = false;
    for (xmlNodePtr m = md->children, next; m; m = next) {
        next = m->next;
        if (!folio__xml_is(m, "meta")) continue;
        xmlChar *prop = xmlGetNoNsProp(m, (const xmlChar *)"property");
        if (prop && strcmp((const char *)prop, "media:duration") == 0) {
            xmlUnlinkNode(m);
            xmlFreeNode(m);
        } else if (prop && strcmp((const char *)prop, "media:active-class") == 0) {
            active_class = true;
        } else if (prop && strcmp((const char *)prop, "dcterms:modified") == 0) {
            char now[32];
            time_t t = time(NULL);
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
            xmlNodeSetContent(m, (const xmlChar *)now);
        }
        xmlFree(prop);
    }
    double total = 0;
    char clock[32];
    for (size_t i = 0; i < o->docs.len; i++) {
        const doc_t *d = &o->docs.items[i];
        char ref[64];
        snprintf(ref, sizeof(ref), "#%s", d->smil_id);
        clock_value(d->duration, clock, sizeof(clock));
        total += d->duration;
        xmlNodePtr m = add_child(md, "meta", clock);
        if (!m || !xmlSetProp(m, (const xmlChar *)"property", (const xmlChar *)"media:duration") ||
            !xmlSetProp(m, (const xmlChar *)"refines", (const xmlChar *)ref))
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
    }
    clock_value(total, clock, sizeof(clock));
    xmlNodePtr m = add_child(md, "meta", clock);
    if (!m || !xmlSetProp(m, (const xmlChar *)"property", (const xmlChar *)"media:duration"))
        FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
    if (!active_class) {
        m = add_child(md, "meta", "-epub-media-overlay-active");
        if (!m ||
            !xmlSetProp(m, (const xmlChar *)"property", (const xmlChar *)"media:active-class"))
            FAIL(o->ctx, FOLIO_ENOMEM, "out of memory");
    }
    TRY(folio__xml_dump(doc, 0, &o->opf, &o->opf_len));
fail:
    if (rc == FOLIO_ENOMEM && !*folio_errmsg(o->ctx)) folio__error(o->ctx, rc, "out of memory");
    folio__map_free(&ids);
    if (doc) xmlFreeDoc(doc);
    free(buf);
    return rc;
}

/* ---- writing the archive ---- */

/* libzip writes everything in zip_close(): its progress is the "writing" stage, and a progress
 * callback that asks to stop cancels it. */
static void zip_progress_cb(zip_t *za, double done, void *ud)
{
    (void)za;
    ov_t *o = ud;
    if (!o->cancelled && folio__progress(o->ctx, "writing", done, 1, o->start) < 0)
        o->cancelled = true;
}

static int zip_cancel_cb(zip_t *za, void *ud)
{
    (void)za;
    return ((ov_t *)ud)->cancelled;
}

static int add_buffer(ov_t *o, zip_t *out, const char *name, const char *data, size_t len,
                      bool store)
{
    zip_source_t *zs = zip_source_buffer(out, data, len, 0);
    zip_int64_t idx = zs ? zip_file_add(out, name, zs, ZIP_FL_ENC_UTF_8) : -1;
    if (idx < 0) {
        if (zs) zip_source_free(zs);
        return folio__error(o->ctx, FOLIO_EIO, "%s: cannot add %s: %s", o->out_path, name,
                            zip_strerror(out));
    }
    if (store) zip_set_file_compression(out, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    return FOLIO_OK;
}

static int write_archive(ov_t *o, const char *part)
{
    int rc = FOLIO_OK;
    int zerr = 0;
    zip_t *out = zip_open(part, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!out) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        rc = folio__error(o->ctx, FOLIO_EIO, "%s: cannot write: %s", o->out_path,
                          zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    static const char mimetype[] = "application/epub+zip";
    TRY(add_buffer(o, out, "mimetype", mimetype, sizeof(mimetype) - 1, true));
    zip_int64_t n = zip_get_num_entries(o->src.za, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(o->src.za, (zip_uint64_t)i, 0);
        if (!name || strcmp(name, "mimetype") == 0) continue;
        const char *replaced = NULL;
        size_t replaced_len = 0;
        if (strcmp(name, o->source->opf_path) == 0) {
            replaced = o->opf;
            replaced_len = o->opf_len;
        }
        for (size_t d = 0; d < o->docs.len && !replaced; d++)
            if (o->docs.items[d].xhtml && strcmp(name, o->docs.items[d].path) == 0) {
                replaced = o->docs.items[d].xhtml;
                replaced_len = o->docs.items[d].xhtml_len;
            }
        if (replaced) {
            TRY(add_buffer(o, out, name, replaced, replaced_len, false));
            continue;
        }
        size_t nl = strlen(name);
        if (nl && name[nl - 1] == '/') {
            if (zip_dir_add(out, name, ZIP_FL_ENC_UTF_8) < 0)
                FAIL(o->ctx, FOLIO_EIO, "%s: cannot add %s: %s", o->out_path, name,
                     zip_strerror(out));
            continue;
        }
        zip_source_t *zs = zip_source_zip(out, o->src.za, (zip_uint64_t)i, 0, 0, -1);
        if (!zs || zip_file_add(out, name, zs, ZIP_FL_ENC_UTF_8) < 0) {
            if (zs) zip_source_free(zs);
            FAIL(o->ctx, FOLIO_EIO, "%s: cannot copy %s: %s", o->out_path, name, zip_strerror(out));
        }
    }
    for (size_t d = 0; d < o->docs.len; d++)
        TRY(add_buffer(o, out, o->docs.items[d].smil_path, o->docs.items[d].smil,
                       o->docs.items[d].smil_len, false));
    for (size_t i = 0; o->opts->embed_audio && i < o->audio.len; i++) {
        const audio_t *a = &o->audio.items[i];
        zip_source_t *zs = zip_source_file(out, a->src, 0, -1);
        zip_int64_t idx = zs ? zip_file_add(out, a->href, zs, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            if (zs) zip_source_free(zs);
            FAIL(o->ctx, FOLIO_EIO, "%s: cannot add audio %s: %s", o->out_path, a->src,
                 zip_strerror(out));
        }
        /* Audio is compressed already; stored, a reading system can seek in it. */
        zip_set_file_compression(out, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    }
    zip_register_progress_callback_with_state(out, 0.01, zip_progress_cb, NULL, o);
    zip_register_cancel_callback_with_state(out, zip_cancel_cb, NULL, o);
    if (zip_close(out) < 0) {
        if (o->cancelled) {
            rc = FOLIO_ECANCELLED; /* folio__progress recorded the message */
            goto fail;
        }
        FAIL(o->ctx, FOLIO_EIO, "%s: cannot write: %s", o->out_path, zip_strerror(out));
    }
    out = NULL;
    TRY(folio__progress(o->ctx, "writing", 1, 1, o->start));
fail:
    if (out) zip_discard(out);
    return rc;
}

/* ---- the whole export ---- */

void folio_overlay_options_init(folio_overlay_options_t *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof(*opts));
}

int folio_export_epub(folio_t *ctx, const folio_index_t *ix, const char *book_path,
                      const char *out_path, const folio_overlay_options_t *opts)
{
    folio_overlay_options_t defaults;
    if (!opts) {
        folio_overlay_options_init(&defaults);
        opts = &defaults;
    }
    if (!ix || !book_path || !out_path)
        return folio__error(ctx, FOLIO_EINVAL, "folio_export_epub: NULL argument");
    if (opts->granularity != FOLIO_OVERLAY_SENTENCE &&
        opts->granularity != FOLIO_OVERLAY_PARAGRAPH && opts->granularity != FOLIO_OVERLAY_WORD)
        return folio__error(ctx, FOLIO_EINVAL, "folio_export_epub: unknown granularity %d",
                            (int)opts->granularity);
    int rc = FOLIO_OK, err = 0;
    ov_t o = {.ctx = ctx, .ix = ix, .book_path = book_path, .out_path = out_path, .opts = opts};
    char *part = NULL;
    folio_book_t *book = folio_book_open(ctx, book_path, NULL, &err);
    if (!book) return err;
    o.book = book;
    o.source = book->source;
    if (!o.source)
        FAIL(ctx, FOLIO_EFORMAT, "%s: Media Overlays need an EPUB book, not plain text", book_path);
    if (o.source->version < 3)
        FAIL(ctx, FOLIO_EFORMAT,
             "%s: is EPUB 2; Media Overlays need EPUB 3 (convert the book, e.g. with Calibre)",
             book_path);
    if (strcmp(folio_book_text_sha256(book), folio_index_meta(ix, "text_sha256")) != 0)
        FAIL(ctx, FOLIO_ENOMATCH, "%s: is not the book the index was made from (its text differs)",
             book_path);
    if (!(o.opf_dir = folio__epub_dir_of(o.source->opf_path)))
        FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    o.start = folio__now();
    /* The book was read with the default limits: its entries are read again within them. */
    folio_book_options_t limits;
    folio_book_options_init(&limits);
    TRY(folio__epub_zip_open(&o.src, ctx, book_path, &limits));
    for (zip_int64_t i = 0, n = zip_get_num_entries(o.src.za, 0); i < n; i++) {
        const char *name = zip_get_name(o.src.za, (zip_uint64_t)i, 0);
        if (name) TRY(folio__map_put(&o.names, name, 1));
    }
    TRY(collect_pars(&o));
    TRY(find_audio(&o));
    for (size_t i = 0; i < o.docs.len; i++) {
        TRY(mark_document(&o, &o.docs.items[i]));
        TRY(write_smil(&o, &o.docs.items[i], i));
    }
    TRY(rewrite_opf(&o));
    folio_str_t p = {0};
    if (folio__str_printf(&p, "%s.part", out_path) < 0) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    part = folio__str_take(&p);
    TRY(write_archive(&o, part));
    TRY(folio__replaceable(ctx, out_path));
    if (rename(part, out_path) != 0)
        FAIL(ctx, FOLIO_EIO, "%s: cannot write: %s", out_path, strerror(errno));
    folio__info(ctx, "%s: %zu content document(s) with Media Overlays, %zu audio file(s) %s",
                out_path, o.docs.len, o.audio.len, opts->embed_audio ? "inside" : "referenced");
fail:
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx)) folio__error(ctx, rc, "out of memory");
    if (rc < 0 && part) unlink(part);
    free(part);
    folio__epub_zip_close(&o.src);
    for (size_t i = 0; i < o.docs.len; i++) {
        doc_t *d = &o.docs.items[i];
        for (size_t k = 0; k < d->pars.len; k++) free(d->pars.items[k].id);
        VEC_FREE(d->pars);
        free(d->xhtml);
        free(d->smil);
    }
    VEC_FREE(o.docs);
    VEC_FREE(o.audio);
    for (size_t i = 0; i < o.paths.len; i++) free(o.paths.items[i]);
    VEC_FREE(o.paths);
    folio__map_free(&o.names);
    free(o.opf);
    free(o.opf_dir);
    folio_book_free(book);
    return rc;
}
