/* Common definitions of the EPUB reader (epub.c, epub_nav.c) and the Media Overlay writer
 * (epub_overlay.c, epub_ids.c): the zip archive read entry by entry within the book options'
 * limits, archive paths and hrefs, and what the reader keeps of a book for the writer. Only
 * engine/formats includes this header. */
#ifndef FOLIO_EPUB_H
#define FOLIO_EPUB_H

#include "formats.h"

#include <zip.h>

/* ---- the archive (epub_zip.c) ---- */

/* An EPUB's zip archive open for reading. Every byte inflated from it counts against the limits
 * as it is inflated, whatever the central directory says of the sizes. */
typedef struct {
    folio_t *ctx;
    const char *name; /* the archive's path as given, for messages (borrowed) */
    zip_t *za;
    uint64_t max_bytes; /* cap on all bytes inflated (folio_book_options_t.max_archive_bytes) */
    uint32_t max_ratio; /* cap on an entry's inflate ratio once it passes 1 MiB */
    uint64_t inflated;  /* bytes inflated so far */
} folio_epub_zip_t;

/* Open the zip archive at @path (borrowed until folio__epub_zip_close) with the limits of @opts,
 * refusing an empty archive and one with too many entries (the error on @ctx). Close it with
 * folio__epub_zip_close, after a failure too. */
int folio__epub_zip_open(folio_epub_zip_t *z, folio_t *ctx, const char *path,
                         const folio_book_options_t *opts);
void folio__epub_zip_close(folio_epub_zip_t *z);
/* The index of entry @name (exact, else ASCII case-insensitive), or -1. */
zip_int64_t folio__epub_zip_locate(const folio_epub_zip_t *z, const char *name);
/* Inflate entry @name into *@out (NUL-terminated, caller frees; *@out_len bytes). Returns
 * FOLIO_ENOTFOUND without a message when there is no such entry; FOLIO_EDRM for an encrypted
 * entry, FOLIO_ELIMIT past a limit, FOLIO_EFORMAT for a corrupt one (with the message). */
int folio__epub_zip_read(folio_epub_zip_t *z, const char *name, char **out, size_t *out_len);

/* ---- paths (epub_zip.c) ---- */

/* Resolve @href (an OPF or content document reference) against the archive folder @base_dir ("",
 * "dir" or "dir/") into a normalised, percent-decoded archive path, keeping any "#fragment"
 * (decoded too). A '%' not followed by two hex digits stays as written. NULL for external URLs,
 * empty paths and on ENOMEM; caller frees. */
char *folio__epub_resolve_href(const char *base_dir, const char *href);
/* The folder part of @path with its final '/' ("OEBPS/" for "OEBPS/ch1.xhtml", "" when there is
 * none): @path's name goes right after it. Caller frees; NULL on ENOMEM. */
char *folio__epub_dir_of(const char *path);

/* ---- what the reader keeps of an EPUB for the writer ---- */

/* Where a book's text came from in its EPUB, for writing Media Overlays back into it (the book's
 * `source`). Per block, the document-order number (from 1; 0: none) of the block-level element
 * holding its first character, in its spine item as folio__xhtml_number() numbers it; per spine
 * position (a block's section), the item's archive path (NULL when it is not a content
 * document); the package document's path and version. */
struct folio_book_source {
    folio_sizes_t block_element;
    folio_strs_t spine_path;
    char *opf_path;
    int version; /* 2 or 3 */
};

void folio__epub_source_free(struct folio_book_source *src);

/* ---- navigation (epub_nav.c, for the reader) ---- */

/* A navigation target: a title or label and the archive path#fragment it points to. */
typedef struct {
    char *text;
    char *target;
    int level;
} folio_nav_target_t;

typedef VEC(folio_nav_target_t) folio_nav_targets_t;

/* The lists a book's navigation gives, each in document order. */
typedef struct {
    folio_nav_targets_t toc, ncx_toc, page_list, ncx_pages, page_map;
    folio_nav_targets_t landmarks; /* text: the link's epub:type (space-separated types) */
} folio_epub_nav_t;

/* Read the EPUB 3 navigation document, the NCX or the page-map at archive path @path into @nav.
 * A missing or unparsable document is a warning (naming the book @z->name), not an error. */
int folio__epub_read_nav_doc(folio_epub_zip_t *z, const char *path, folio_epub_nav_t *nav);
int folio__epub_read_ncx(folio_epub_zip_t *z, const char *path, folio_epub_nav_t *nav);
int folio__epub_read_page_map(folio_epub_zip_t *z, const char *path, folio_epub_nav_t *nav);
void folio__epub_nav_free(folio_epub_nav_t *nav);

/* Length of @target's path part (before '#'). */
size_t folio__epub_path_len(const char *target);

/* ---- the Media Overlay writer (epub_overlay.c, epub_ids.c) ---- */

/* One clip of a Media Overlay: the element (or the sentence or word in it) it shows and the
 * audio it plays. */
typedef struct {
    size_t element;    /* number in its content document (folio__xhtml_number) */
    long file;         /* index of the audio file */
    double begin, end; /* seconds in the file */
    char *id;          /* the id it shows (owned), set by folio__epub_add_ids */
    /* Sentences and words: the text it shows, [start_char, end_char) in code points of the
     * book's text, and its id's stem ("folio-s12"); end_char 0: the whole element. */
    size_t start_char, end_char;
    char unit[32];
} folio_epub_clip_t;

/* A content document's text in the book: its first code point's offset (@start_char) and its
 * bytes. */
typedef struct {
    const char *text;
    size_t bytes;
    size_t start_char;
} folio_epub_doc_text_t;

/* The text of spine item @spine in @book: from its first block to the end of its last (text NULL
 * when it has none). */
folio_epub_doc_text_t folio__epub_doc_text(const folio_book_t *book, size_t spine);

/* Give every element @clips[i].element of the content document @buf[0..len) (archive path
 * @path of the book @book_path) an id, keeping the ids it has and making new ones ("folio-" and
 * its number, made unique); @clips[i].id is set. *@out is the document with the new ids and
 * every other byte kept, or, when it had to be read as HTML, written back as XHTML (a note
 * naming @out_path is logged); NULL when nothing changed. Caller frees *@out.
 * Clips with a text range (sentences, words) get a <span> around that text instead, found in the
 * document by aligning @text (the document's text in the book) with the document's text nodes;
 * the document is then written back from its tree. A range the spans cannot enclose without
 * crossing an element's edge shows its whole element instead. */
int folio__epub_add_ids(folio_t *ctx, const char *book_path, const char *out_path, const char *path,
                        const char *buf, size_t len, const folio_epub_doc_text_t *text,
                        folio_epub_clip_t *clips, size_t n_clips, char **out, size_t *out_len);

/* One <par> of a SMIL document: where its text and audio are (URLs as they go in the src
 * attributes, not yet escaped for XML) and the clip in seconds. */
typedef struct {
    const char *text_src;
    const char *audio_src;
    double begin, end;
} folio_smil_par_t;

/* The SMIL 3.0 document of @pars (ids "par1", "par2", ... in order), serialised by libxml2 as
 * UTF-8 with the XML declaration, one <par> a line. *@out is NUL-terminated; caller frees. */
int folio__epub_smil(const folio_smil_par_t *pars, size_t n, char **out, size_t *out_len);

#endif
