/*
 * folio.h — the one public header of Folio, an engine that aligns an audiobook with its book.
 *
 * Reading order of this manual:
 *   1. Conventions: error codes, ownership, threads, offsets.
 *   2. The context (folio_t): log and progress callbacks, the last error message.
 *   3. Books (folio_book_t): an EPUB or plain-text book turned into one extracted text string with
 *      blocks, pages, chapters and sentences pointing into it; its spoken form (the words a
 *      narrator says) and their pronunciations (folio_lexicon_t).
 *   4. Transcription: what is said in the audio, and when.
 *
 * Sections marked "experimental: may change" (3b spoken tokens, 3c the lexicon, 4b the transcript)
 * show the intermediate results of indexing. They are public for tools and experiments, but their
 * functions and structures may change in any release, without a major version: a program that
 * needs a stable interface uses books (3 without 3b and 3c), recognition options (4), the index
 * (5), exports (6) and lookups (7).
 *   5. The index (folio_index_t): building it, and reading a finished one.
 *   6. Exports: the book with EPUB 3 Media Overlays.
 *   7. Lookups: page to audio, audio to page, a page's OCR text to audio, scan to read;
 *      7b. a photo of a page to audio (libfolio with OCR only).
 *
 * Two libraries: libfolio has everything. libfolio-lookup (meson -Dlookup_only=true), for reader
 * apps, needs only SQLite and ICU and has sections 1, 2, 5 (reading an index: all of it but
 * folio_index_build() and folio_index_options_init()) and 7 but 7b; section titles below say
 * which.
 *
 * Conventions
 * -----------
 * Errors: every fallible call returns an int, FOLIO_OK (0) on success or a negative FOLIO_E* code.
 * Constructors return a handle or NULL and store the code in *err (err may be NULL). The detailed,
 * human-readable message of the last failed call is kept on the context: folio_errmsg(ctx).
 *
 * Ownership: every pointer parameter and result says who owns it. "Borrowed" means the library
 * keeps ownership and the pointer stays valid for the stated lifetime; "copied" means the library
 * made its own copy during the call. Every *_new / *_open has a matching *_free, and *_free(NULL)
 * is a no-op.
 *
 * Offsets: positions in a book's text are Unicode code points (not bytes, not UTF-16 units) into
 * the extracted text returned by folio_book_text(). This holds at every public boundary: this
 * header, the CLI's TSV and the JSON exports. Names ending in _char are such offsets; ranges are
 * half-open [start_char, end_char).
 *
 * Threads: a folio_t is used by one thread at a time; use one per thread. A folio_book_t is
 * immutable once opened: any number of threads may read it at once. So is a folio_index_t: any
 * number of threads may read and look up in one index at once, each passing its own folio_t (a
 * lookup writes only to the context it is given, never to the index). The library has no mutable
 * global state of its own; where a dependency has some (libxml2's parser initialisation), Folio
 * initialises it once, thread-safely. The logs of sphinxbase and FFmpeg are process-wide: Folio
 * installs its own hook in each, once, replacing any other, and hands their messages to the log
 * of the context in use on the calling thread (FFmpeg's at the info and debug levels: Folio
 * reports what they mean itself).
 *
 * The library never prints and never exits: diagnostics go to the context's log callback.
 */
#ifndef FOLIO_H
#define FOLIO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FOLIO_VERSION_MAJOR 0
#define FOLIO_VERSION_MINOR 1
#define FOLIO_VERSION_PATCH 0

/* ============================================================================================== */
/* 1. Errors                                                               [libfolio-lookup too] */
/* ============================================================================================== */

/**
 * Return codes. Success is FOLIO_OK; every failure is negative so `if (rc < 0)` catches all. Each
 * code says what the caller can do about it; the message on the context (folio_errmsg()) says
 * which file or argument and what is wrong with it. The folio tool reports each code to its
 * users the same way everywhere (as a JSON error code, an HTTP status and an exit status; see the
 * README), so a code is a stable answer, and a message is for people.
 */
enum {
    FOLIO_OK = 0,
    FOLIO_ENOMEM = -1,    /**< out of memory: nothing the input did wrong; retrying may work */
    FOLIO_EINVAL = -2,    /**< invalid argument (NULL handle, out-of-range value such as a time
                               past the audio's end, bad option): the caller's or its user's
                               mistake; the same call fails again */
    FOLIO_EIO = -3,       /**< a file could not be opened, read or written (missing, no
                               permission, disk full): the message names it and the system's
                               reason */
    FOLIO_EFORMAT = -4,   /**< a file is not in a format Folio reads, or is malformed (an index of
                               another schema version: index the book again) */
    FOLIO_EDRM = -5,      /**< the book is protected by DRM; the message names the scheme */
    FOLIO_ELIMIT = -6,    /**< input exceeds a safety limit (archive size, ratio, text length) */
    FOLIO_EENCODING = -7, /**< text is not valid UTF-8 (a book file, or a lookup's query text) */
    FOLIO_EEMPTY = -8,    /**< the input holds nothing usable (no readable text) */
    FOLIO_ENOTFOUND = -9, /**< a looked-up item (page label, ordinal, audio file) does not exist,
                               or a lookup has nothing to answer with (nothing was read) */
    FOLIO_ENOMATCH = -10, /**< a search found no match good enough to report: not an error of the
                               input, an answer ("not in this book") */
    FOLIO_ECANCELLED = -11, /**< the progress callback asked to stop */
    FOLIO_EAUDIO = -12,     /**< audio could not be decoded */
};

/**
 * folio_strerror - a short, static description of a return code.
 * @code: any value returned by a Folio call.
 * Returns: a string owned by the library, valid forever; "unknown error" for unknown codes.
 */
const char *folio_strerror(int code);

/** folio_version - the library version as "MAJOR.MINOR.PATCH" (static string). */
const char *folio_version(void);

/* ============================================================================================== */
/* 2. The context                                                          [libfolio-lookup too] */
/* ============================================================================================== */

/**
 * A folio_t carries what one caller (one thread) wants from the library while it works: where
 * log messages go, where progress goes, and the detailed message of the last error. Every call
 * that can fail or warn takes one. Passing NULL where a context is expected is allowed: nothing
 * is logged and no message is kept, but return codes are unchanged.
 */
typedef struct folio folio_t;

/** Log levels, most severe first. */
typedef enum {
    FOLIO_LOG_ERROR = 0,
    FOLIO_LOG_WARN = 1,
    FOLIO_LOG_INFO = 2,
    FOLIO_LOG_DEBUG = 3,
} folio_log_level_t;

/**
 * A log callback. @user_data is the pointer given to folio_set_log(), passed back unchanged.
 * @msg is one line without a trailing newline, borrowed for the duration of the call (copy it to
 * keep it). Called on the thread that made the library call.
 */
typedef void (*folio_log_fn)(void *user_data, folio_log_level_t level, const char *msg);

/** What a long-running call reports to its progress callback (borrowed by the callback for the
 *  duration of its call, the stage string included). */
typedef struct {
    const char *stage;  /**< borrowed: short name of the current stage, e.g. "reading book" */
    double done;        /**< work done so far, in the stage's own unit */
    double total;       /**< total work of the stage (0 if unknown) */
    double elapsed_sec; /**< seconds since the call started */
} folio_progress_t;

/**
 * A progress callback. @user_data is the pointer given to folio_set_progress(), passed back
 * unchanged. @progress is borrowed for the duration of the call only (copy what you keep). Return
 * 0 to continue; any other value cancels the call, which then returns FOLIO_ECANCELLED. Called on
 * the thread that made the library call.
 */
typedef int (*folio_progress_fn)(void *user_data, const folio_progress_t *progress);

/**
 * folio_new - create a context.
 * Returns: a new context (caller frees with folio_free()), or NULL when out of memory.
 * By default nothing is logged and progress is not reported.
 */
folio_t *folio_new(void);

/** folio_free - free a context. NULL is a no-op. Objects opened through it stay valid. */
void folio_free(folio_t *ctx);

/**
 * folio_set_log - route log messages of @min_level and more severe to @fn.
 * @fn: NULL turns logging off.
 * @user_data: passed back to @fn unchanged (borrowed: the library never reads or frees it; it must
 *   stay valid while @fn is set on @ctx, i.e. until the next folio_set_log() or folio_free()).
 * Returns: FOLIO_OK, or FOLIO_EINVAL if @ctx is NULL or @min_level is out of range.
 */
int folio_set_log(folio_t *ctx, folio_log_fn fn, void *user_data, folio_log_level_t min_level);

/**
 * folio_set_progress - report the progress of long calls to @fn (NULL turns it off).
 * @user_data: passed back to @fn unchanged (borrowed: the library never reads or frees it; it must
 *   stay valid while @fn is set on @ctx, i.e. until the next folio_set_progress() or folio_free()).
 * Returns: FOLIO_OK, or FOLIO_EINVAL if @ctx is NULL.
 */
int folio_set_progress(folio_t *ctx, folio_progress_fn fn, void *user_data);

/**
 * folio_errmsg - the detailed message of the last call on @ctx that failed, e.g.
 * "book.epub: OEBPS/content.opf: not well-formed XML at line 3".
 * Returns: a string borrowed from @ctx, valid until the next call that takes @ctx; "" if no call
 * has failed yet; a static string if @ctx is NULL.
 */
const char *folio_errmsg(const folio_t *ctx);

/* ============================================================================================== */
/* 3. Books                                                                      [libfolio only] */
/* ============================================================================================== */

/**
 * A folio_book_t is a book reduced to what alignment and lookups need:
 *
 *  - the extracted text: one NFC UTF-8 string in reading order. Inside a block, XML whitespace is
 *    collapsed to single spaces; <br> gives "\n"; blocks are separated by "\n\n"; soft hyphens
 *    (U+00AD) are removed. Named entities that only an external DTD declares (an XHTML 1.1
 *    DOCTYPE's &rsquo;, &nbsp;, ...) read as their HTML characters; one that neither the document
 *    nor HTML declares is kept as written ("&name;"), with a warning. Text nobody reads aloud
 *    inline is left out: <title>, note references and <sup> note markers, elements that are
 *    `hidden` or aria-hidden, ruby text, image alt text, and the text of page-break markers.
 *    Whole blocks that are usually not read (table of contents, footnotes, copyright pages,
 *    linear="no" spine items) are kept but flagged not-read.
 *  - blocks: paragraphs, headings, notes, front/back matter, each a range of the text.
 *  - pages: the book's own page numbers where it has them, otherwise synthetic pages.
 *  - chapters (from the table of contents) and sentences.
 *
 * Supported inputs: EPUB 3 and EPUB 2 (.epub, recognised by content), one-file HTML books as
 * Project Gutenberg publishes them (recognised by a DOCTYPE or <html> element at the start; read
 * with the HTML parser into the same model as EPUB chapters: headings make the chapters,
 * <span class="pagenum"> page numbers the pages, Gutenberg's header and licence are flagged
 * not-read), and UTF-8 plain text (form feeds separate pages, as pdftotext writes them). A book is
 * immutable once opened.
 */
typedef struct folio_book folio_book_t;

/** Input formats. */
typedef enum {
    FOLIO_FORMAT_AUTO = 0, /**< decide from the file's content */
    FOLIO_FORMAT_EPUB = 1,
    FOLIO_FORMAT_TXT = 2,
    FOLIO_FORMAT_HTML = 3, /**< one-file HTML (or XHTML) book */
} folio_format_t;

/** Options for folio_book_open(). Initialise with folio_book_options_init(), then change fields. */
typedef struct {
    folio_format_t format;       /**< default FOLIO_FORMAT_AUTO */
    long first_page_label;       /**< plain text: label of the first form-feed page (default 1) */
    size_t max_text_chars;       /**< cap on the extracted text, code points (default 64 Mi) */
    uint64_t max_archive_bytes;  /**< cap on all bytes inflated from an EPUB (default 1 GiB) */
    uint32_t max_ratio;          /**< cap on an EPUB entry's inflate ratio once it passes 1 MiB
                                      (default 200) */
    size_t synthetic_page_chars; /**< synthetic pages: read characters a page (default 1024) */
} folio_book_options_t;

/** folio_book_options_init - fill @opts with the defaults. NULL is a no-op. */
void folio_book_options_init(folio_book_options_t *opts);

/**
 * folio_book_open - read a book file.
 * @ctx: context for warnings and the error message (may be NULL); used during the call only: the
 *   book keeps no reference to it, so @ctx may be freed while the book lives on.
 * @path: the file to read (borrowed during the call only; the book keeps no reference to it, and
 *   the file is not read again).
 * @opts: options (copied); NULL means the defaults.
 * @err: receives FOLIO_OK or the error code (may be NULL).
 * Returns: the book (caller frees with folio_book_free()), or NULL on failure with *err set:
 *   FOLIO_EINVAL (NULL path, bad option), FOLIO_EIO (cannot read), FOLIO_EFORMAT (not an EPUB,
 *   HTML or text, malformed container/OPF, FOLIO_FORMAT_HTML given a file that is not HTML),
 *   FOLIO_EDRM (encrypted content), FOLIO_ELIMIT (zip bomb, text over max_text_chars, an HTML
 *   file over 16 bytes a max_text_chars), FOLIO_EENCODING (invalid UTF-8 in a text file, or in an
 *   HTML file that declares no charset), FOLIO_EEMPTY (no readable text), FOLIO_ENOMEM.
 * Recoverable problems (a missing spine item, an XHTML file that is not well-formed and was read
 * with the HTML parser, an unresolvable page target, duplicate page labels) are logged as
 * warnings and the book still opens.
 */
folio_book_t *folio_book_open(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                              int *err);

/** folio_book_free - free a book and everything borrowed from it. NULL is a no-op. */
void folio_book_free(folio_book_t *book);

/** What kind of file the book came from. */
typedef enum {
    FOLIO_BOOK_EPUB2 = 1,
    FOLIO_BOOK_EPUB3 = 2,
    FOLIO_BOOK_TXT = 3,
    FOLIO_BOOK_HTML = 4,
} folio_book_format_t;

/** folio_book_format - the format the book was read as (0 if @book is NULL). */
folio_book_format_t folio_book_format(const folio_book_t *book);

/** Metadata keys for folio_book_meta(). */
typedef enum {
    FOLIO_META_TITLE = 0,
    FOLIO_META_AUTHOR = 1,   /**< creators joined with ", " */
    FOLIO_META_LANGUAGE = 2, /**< BCP 47 tag as given by the book, e.g. "en" or "en-GB" */
    FOLIO_META_IDENTIFIER = 3,
} folio_meta_t;

/**
 * folio_book_meta - a metadata value. Plain text takes its title from a Project Gutenberg header
 * when there is one, else from the file name.
 * Returns: a UTF-8 string borrowed from @book (valid until folio_book_free), "" when the book does
 * not say; NULL if @book is NULL or @key is out of range.
 */
const char *folio_book_meta(const folio_book_t *book, folio_meta_t key);

/**
 * folio_book_text - the extracted text.
 * @n_bytes: receives the length in bytes, without the terminating NUL (may be NULL).
 * Returns: NUL-terminated UTF-8 borrowed from @book (valid until folio_book_free); NULL if @book
 * is NULL.
 */
const char *folio_book_text(const folio_book_t *book, size_t *n_bytes);

/** folio_book_text_sha256 - SHA-256 of the extracted text's UTF-8 bytes as 64 lower-case hex digits
 *  (borrowed, valid until folio_book_free); NULL if @book is NULL. */
const char *folio_book_text_sha256(const folio_book_t *book);

/** folio_book_text_length - length of the extracted text in code points (0 if @book is NULL). */
size_t folio_book_text_length(const folio_book_t *book);

/**
 * folio_book_text_range - the bytes of the code point range [start_char, end_char).
 * @n_bytes: receives the byte length of the range (required).
 * Returns: a pointer into the borrowed text (not NUL-terminated at end_char), or NULL if @book or
 * @n_bytes is NULL or the range is out of bounds or reversed.
 */
const char *folio_book_text_range(const folio_book_t *book, size_t start_char, size_t end_char,
                                  size_t *n_bytes);

/** Kinds of blocks. */
typedef enum {
    FOLIO_BLOCK_PARAGRAPH = 0,   /**< body text (paragraphs, list items, table cells...) */
    FOLIO_BLOCK_HEADING = 1,     /**< h1-h6, and chapter title lines in plain text */
    FOLIO_BLOCK_FOOTNOTE = 2,    /**< epub:type footnote/note, role doc-footnote */
    FOLIO_BLOCK_ENDNOTE = 3,     /**< epub:type endnote(s)/rearnote(s), role doc-endnote(s) */
    FOLIO_BLOCK_ASIDE = 4,       /**< <aside> and sidebars that are not notes */
    FOLIO_BLOCK_FRONTMATTER = 5, /**< title page, copyright, dedication, preface, ... */
    FOLIO_BLOCK_BACKMATTER = 6,  /**< index, colophon, appendix, licence boilerplate, ... */
    FOLIO_BLOCK_TOC = 7,         /**< navigation: table of contents, landmarks, lists of pages */
} folio_block_kind_t;
#define FOLIO_BLOCK_KIND_COUNT 8

/** folio_block_kind_name - "paragraph", "heading", ...; "unknown" when out of range (static). */
const char *folio_block_kind_name(folio_block_kind_t kind);

/** A block of text. */
typedef struct {
    folio_block_kind_t kind;
    int read;          /**< 1 if a narrator is expected to read it, 0 if usually not read (notes,
                            navigation, copyright, linear="no" items, licence boilerplate) */
    int level;         /**< heading level 1-6 for headings, else 0 */
    size_t section;    /**< index of the spine item (EPUB) or 0 (text) it came from */
    size_t start_char; /**< first code point of the block */
    size_t end_char;   /**< one past its last code point */
} folio_block_t;

/** folio_book_n_blocks - number of blocks (0 if @book is NULL). */
size_t folio_book_n_blocks(const folio_book_t *book);

/** folio_book_block - block @i in reading order; borrowed from @book; NULL if out of range. */
const folio_block_t *folio_book_block(const folio_book_t *book, size_t i);

/** Where a book's pages came from, in order of precedence. */
typedef enum {
    FOLIO_PAGES_PAGE_LIST = 1, /**< EPUB 3 navigation document <nav epub:type="page-list"> */
    FOLIO_PAGES_NCX = 2,       /**< EPUB 2 NCX <pageList> */
    FOLIO_PAGES_PAGE_MAP = 3,  /**< Adobe page-map referenced by the OPF spine */
    FOLIO_PAGES_MARKERS = 4,   /**< epub:type="pagebreak" / role="doc-pagebreak" markers */
    FOLIO_PAGES_FORM_FEED = 5, /**< plain text pages separated by form feeds */
    FOLIO_PAGES_SYNTHETIC = 6, /**< Folio's own pages: about 1024 read characters each, broken at a
                                    word boundary, restarting at each spine item */
} folio_page_source_t;

/** folio_page_source_name - "page-list", "ncx", "page-map", "markers", "form-feed", "synthetic";
 *  "unknown" when out of range (static). */
const char *folio_page_source_name(folio_page_source_t source);

/** folio_book_page_source - where @book's pages came from (0 if @book is NULL). */
folio_page_source_t folio_book_page_source(const folio_book_t *book);

/** A page: where it starts in the text. A page runs to the start of the next page. */
typedef struct {
    size_t ordinal;    /**< 1-based position in the book's page sequence */
    const char *label; /**< borrowed: the page's label as printed ("xii", "112") */
    size_t start_char; /**< first code point at or after the page's mark (text length if none) */
} folio_page_t;

/** folio_book_n_pages - number of pages (0 if @book is NULL). */
size_t folio_book_n_pages(const folio_book_t *book);

/** folio_book_page - page @i (0-based; its ordinal is i + 1); borrowed; NULL if out of range. */
const folio_page_t *folio_book_page(const folio_book_t *book, size_t i);

/**
 * folio_book_page_at - the page holding code point @char_off: the last page, in ordinal order,
 * whose start_char is <= @char_off.
 * Returns: the 0-based page index, or -1 if @char_off lies before every page (front matter before
 * page 1 in a book with printed page numbers), is out of range, or @book is NULL.
 */
long folio_book_page_at(const folio_book_t *book, size_t char_off);

/** A chapter: an entry of the book's table of contents. */
typedef struct {
    const char *title; /**< borrowed: the entry's text */
    int level;         /**< 1 for top-level entries, 2 for their children, ... */
    size_t start_char; /**< where the entry's target starts */
} folio_chapter_t;

/**
 * Chapters come from the EPUB 3 navigation document's toc, else the EPUB 2 NCX navMap, else the
 * book's top headings; in plain text, from lines such as "CHAPTER XII" standing alone.
 */
size_t folio_book_n_chapters(const folio_book_t *book);

/** folio_book_chapter - chapter @i in table-of-contents order; borrowed; NULL if out of range. */
const folio_chapter_t *folio_book_chapter(const folio_book_t *book, size_t i);

/** A sentence: a range of one block (ICU sentence breaks; "Mr." and the like do not end one). */
typedef struct {
    size_t start_char;
    size_t end_char; /**< one past its last code point, trailing white space excluded */
} folio_sentence_t;

/** folio_book_n_sentences - number of sentences (0 if @book is NULL). */
size_t folio_book_n_sentences(const folio_book_t *book);

/** folio_book_sentence - sentence @i in text order; borrowed; NULL if out of range. */
const folio_sentence_t *folio_book_sentence(const folio_book_t *book, size_t i);

/* ---------------------------------------------------------------------------------------------- */
/* 3b. Spoken form: the words a narrator says                        [experimental: may change] */
/* ---------------------------------------------------------------------------------------------- */

/**
 * Every word of the text (a "source word": "Mr.", "1455", "$5", "don't", "well" and "known" of
 * "well-known") has a primary spoken reading, a sequence of spoken tokens, and possibly
 * alternative readings where narrators differ:
 *
 *   "1455"      fourteen fifty five | one thousand four hundred fifty five | ... and fifty five
 *   "21st"      twenty first             "3.5"     three point five
 *   "$5"        five dollars             "£20"     twenty pounds          "5%"  five percent
 *   "Mr."       mister                   "St. Paul" saint paul | street    "&"   and
 *   "No. 5"     number five              "CHAPTER XII" (in a heading) chapter twelve
 *
 * Tokens are lower-case (Unicode case folding), NFKC ("ﬁ" becomes "fi") and use the ASCII
 * apostrophe ("don't"). They are computed for every block, read or not; the token's `read` flag
 * copies its block's. Tokens of one source word all carry that word's span.
 */

/** A spoken token. */
typedef struct {
    const char *text;  /**< borrowed: the spoken word, e.g. "fourteen" */
    size_t word;       /**< index of the source word it belongs to */
    size_t start_char; /**< the source word's span in the text */
    size_t end_char;
    size_t block; /**< index of the block it is in */
    int read;     /**< 1 if its block is usually read aloud */
} folio_token_t;

/** A source word: a span of the text and its readings. */
typedef struct {
    size_t start_char; /**< the word as written: [start_char, end_char) */
    size_t end_char;
    size_t first_token;    /**< its primary reading: tokens first_token .. first_token+n_tokens-1 */
    size_t n_tokens;       /**< 0 for words nobody can say (symbols without a reading) */
    size_t n_alternatives; /**< other readings, see folio_book_word_alternative() */
    size_t block;
    int read;
} folio_word_t;

/** folio_book_n_tokens - number of spoken tokens (0 if @book is NULL). */
size_t folio_book_n_tokens(const folio_book_t *book);

/** folio_book_token - spoken token @i in text order; borrowed; NULL if out of range. */
const folio_token_t *folio_book_token(const folio_book_t *book, size_t i);

/** folio_book_n_words - number of source words (0 if @book is NULL). */
size_t folio_book_n_words(const folio_book_t *book);

/** folio_book_word - source word @i in text order; borrowed; NULL if out of range. */
const folio_word_t *folio_book_word(const folio_book_t *book, size_t i);

/**
 * folio_book_word_alternative - alternative reading @k of source word @word, as spoken tokens
 * separated by single spaces ("one thousand four hundred fifty five").
 * Returns: a string borrowed from @book (valid until folio_book_free), or NULL if out of range.
 */
const char *folio_book_word_alternative(const folio_book_t *book, size_t word, size_t k);

/* ---------------------------------------------------------------------------------------------- */
/* 3c. Pronunciations                                                [experimental: may change] */
/* ---------------------------------------------------------------------------------------------- */

/**
 * A folio_lexicon_t gives every distinct spoken token of a book (primary and alternative readings)
 * its pronunciations, in the phone set of the CMU US English acoustic model (AA AE AH ... ZH, no
 * stress marks): all entries of the pronouncing dictionary, else flite's letter-to-sound rules,
 * applied to the word transliterated to ASCII. Immutable once built; safe to share across threads.
 */
typedef struct folio_lexicon folio_lexicon_t;

/** Where a pronunciation came from. */
typedef enum {
    FOLIO_PRON_NONE = 0, /**< no pronunciation: nothing pronounceable in the word */
    FOLIO_PRON_DICT = 1, /**< the pronouncing dictionary (also after ASCII transliteration) */
    FOLIO_PRON_LTS = 2,  /**< flite's letter-to-sound rules */
} folio_pron_source_t;

/** folio_default_dict - the default pronouncing dictionary's path (static string). */
const char *folio_default_dict(void);

/**
 * folio_lexicon_open - build the pronunciations of @book's tokens.
 * @ctx: context for messages (may be NULL).
 * @book: the book (borrowed during the call only).
 * @dict_path: a pocketsphinx-format dictionary ("word PH ON ES" lines, "word(2)" for variants);
 *   NULL means folio_default_dict(). Borrowed during the call only: the file is read then, and the
 *   lexicon keeps its own copy of the entries it needs.
 * @err: receives FOLIO_OK or the error code (may be NULL).
 * Returns: the lexicon (caller frees with folio_lexicon_free()), or NULL: FOLIO_EINVAL (NULL book),
 *   FOLIO_EIO (the dictionary cannot be read), FOLIO_EFORMAT (not a dictionary), FOLIO_ENOMEM.
 * Letter-to-sound uses flite's lexicon, initialised once per process.
 */
folio_lexicon_t *folio_lexicon_open(folio_t *ctx, const folio_book_t *book, const char *dict_path,
                                    int *err);

/** folio_lexicon_free - free a lexicon. NULL is a no-op. */
void folio_lexicon_free(folio_lexicon_t *lex);

/** folio_lexicon_n_words - number of distinct words (0 if @lex is NULL). */
size_t folio_lexicon_n_words(const folio_lexicon_t *lex);

/** folio_lexicon_word - distinct word @i (sorted by byte value); borrowed from @lex (valid until
 *  folio_lexicon_free); NULL if out of range. */
const char *folio_lexicon_word(const folio_lexicon_t *lex, size_t i);

/** folio_lexicon_find - index of @word (NUL-terminated UTF-8, borrowed during the call only), or
 *  -1 if it is not in the lexicon or an argument is NULL. */
long folio_lexicon_find(const folio_lexicon_t *lex, const char *word);

/** folio_lexicon_source - where word @i's pronunciations came from (FOLIO_PRON_NONE if out of
 *  range). */
folio_pron_source_t folio_lexicon_source(const folio_lexicon_t *lex, size_t i);

/** folio_lexicon_n_prons - number of pronunciations of word @i (0 if none or out of range). */
size_t folio_lexicon_n_prons(const folio_lexicon_t *lex, size_t i);

/** folio_lexicon_pron - pronunciation @k of word @i as phones separated by spaces ("HH EY L");
 *  borrowed from @lex; NULL if out of range. */
const char *folio_lexicon_pron(const folio_lexicon_t *lex, size_t i, size_t k);

/** folio_lexicon_n_lts - how many words needed letter-to-sound (0 if @lex is NULL). */
size_t folio_lexicon_n_lts(const folio_lexicon_t *lex);

/* ============================================================================================== */
/* 4. Transcription: what is said in the audio, and when                         [libfolio only] */
/* ============================================================================================== */

/**
 * folio_transcribe() recognises an audiobook's speech with a language model built from its book
 * (trigram, interpolated Witten-Bell, from the spoken tokens and their alternative readings;
 * unread blocks count less), mixed at a small weight with a closed out-of-book vocabulary (the
 * generic model's most frequent words and the phrases of audiobook preambles and announcements).
 *
 * Audio: WAV, FLAC, OGG/Vorbis and Opus through libsndfile; M4B/M4A/AAC and MP3 through FFmpeg
 * (MP3 through libsndfile in a build without FFmpeg), chosen by content, not by name. Files are
 * decoded in the order given, down-mixed and resampled to 16 kHz; times are (file, seconds in
 * file) and global seconds, each file as long as Folio decoded it.
 *
 * The audio is cut into chunks of at most 30 s at silences found by Folio's own energy-based voice
 * activity detection (where there is none, at the quietest point with an overlap whose words are
 * kept once). Each chunk is decoded on its own, with cepstral mean normalisation over the chunk, by
 * one of `threads` decoders: the result is the same for any number of threads.
 *
 * Never losing work: the work file @work_path (an SQLite database, with side files sharing its
 * name: .pcm, a 16 kHz cache of the audio; .lm, .oob.lm and .dict, the models) records every
 * finished chunk. Called again with the same inputs, folio_transcribe() resumes: no finished chunk
 * is decoded twice and the result equals an uninterrupted run. Its fingerprint covers the audio
 * (size and hashes of head and tail), the book's text, the decoding configuration, the model files
 * and the schema version: anything changed starts afresh. A failed or cancelled run keeps the work
 * file; folio_work_remove() deletes it.
 *
 * The recognition options (folio_transcribe_options_t, folio_search_t, folio_default_model_dir())
 * are stable: folio_index_build() takes them. The transcript itself (4b: folio_transcribe(),
 * folio_transcript_t, folio_heard_t and their accessors) is experimental.
 */
typedef struct folio_transcript folio_transcript_t;

/**
 * How hard the recogniser searches. Chunks whose background noise the denoiser had to reduce
 * always get a more careful decoder (more Gaussians scored per frame).
 *   FOLIO_SEARCH_BALANCED  the default: frames scored every 20 ms, the best Gaussian of each
 *                          codebook (noisy chunks: the best two)
 *   FOLIO_SEARCH_FAST      every 30 ms; for quick anchors
 *   FOLIO_SEARCH_ACCURATE  the best two Gaussians (noisy chunks: four); slower
 */
typedef enum {
    FOLIO_SEARCH_BALANCED = 0,
    FOLIO_SEARCH_FAST = 1,
    FOLIO_SEARCH_ACCURATE = 2,
} folio_search_t;

/** Options for folio_transcribe(). Initialise with folio_transcribe_options_init(). */
typedef struct {
    int threads;           /**< decoders running at once; 0 (default) means one per core */
    folio_search_t search; /**< default FOLIO_SEARCH_BALANCED */
    const char *model_dir; /**< the pocketsphinx US English model folder (NULL: the default);
                                borrowed during the call the options are given to only */
    const char *dict_path; /**< pronouncing dictionary (NULL: the model's cmudict-en-us.dict);
                                borrowed during the call the options are given to only */
    int restart;           /**< non-zero: discard an existing work file and start afresh */
} folio_transcribe_options_t;

/** folio_transcribe_options_init - fill @opts with the defaults. NULL is a no-op. */
void folio_transcribe_options_init(folio_transcribe_options_t *opts);

/** folio_default_model_dir - the default model folder (static string). */
const char *folio_default_model_dir(void);

/* ---------------------------------------------------------------------------------------------- */
/* 4b. The transcript                                                [experimental: may change] */
/* ---------------------------------------------------------------------------------------------- */

/**
 * folio_transcribe - recognise the speech of @n_audio files against @book.
 * @ctx: context for the log, progress (stage "recognising": done and total in seconds of audio;
 *   the total is the files' length as their headers say until all are decoded, and the last
 *   report has done == total) and the error message; may be NULL. Callbacks run on the calling
 *   thread.
 * @book: the book (borrowed during the call only).
 * @audio: the files, in order (the array and its strings borrowed during the call only).
 * @work_path: the work file (borrowed during the call only); its folder must be writable.
 * @opts: options (copied; their model_dir and dict_path borrowed during the call only); NULL
 *   means the defaults.
 * Returns: the transcript (caller frees with folio_transcript_free()), or NULL with *err set:
 *   FOLIO_EINVAL, FOLIO_EIO (unreadable file, unwritable work file, missing model), FOLIO_EAUDIO
 *   (a file that is not audio, empty, or an unsupported codec), FOLIO_ECANCELLED (the progress
 *   callback asked to stop: the work file is kept for resuming), FOLIO_ENOMEM.
 * Damaged audio is skipped where the decoder can go on after it (FFmpeg) and otherwise decoded up
 * to the damage, with a warning naming the file and the position; a file that ends well before
 * its header says (cut off) gets a warning too, and so does a file without speech.
 */
folio_transcript_t *folio_transcribe(folio_t *ctx, const folio_book_t *book,
                                     const char *const *audio, size_t n_audio,
                                     const char *work_path, const folio_transcribe_options_t *opts,
                                     int *err);

/** folio_work_remove - delete the work file @work_path (borrowed during the call only) and its side
 *  files. Returns FOLIO_OK (also when there was nothing to delete) or FOLIO_EINVAL for a NULL
 *  path. */
int folio_work_remove(const char *work_path);

/**
 * A recognised word. Its confidence, in [0, 1], is Folio's own (pocketsphinx's posteriors are not
 * computed in the fast first pass): the logistic of z + 0.75 (n - 2), where z is how many median
 * absolute deviations the word's acoustic score per frame lies above the median of its chunk's
 * words, and n the order of the language-model n-gram it matched (1-3). About 0.5 for an ordinary
 * word; lower for words that fit the sound worse than their neighbours or had no context.
 */
typedef struct {
    const char *word; /**< borrowed: the recognised word (lower case) */
    size_t file;      /**< 0-based index of the audio file */
    double file_time; /**< start, seconds in the file */
    double file_end;  /**< end, seconds in the file */
    double time;      /**< start on the global timeline: the file's offset + file_time */
    float confidence;
} folio_heard_t;

/** folio_transcript_n_words - number of recognised words (0 if @t is NULL). */
size_t folio_transcript_n_words(const folio_transcript_t *t);

/** folio_transcript_word - recognised word @i in time order; borrowed; NULL if out of range. */
const folio_heard_t *folio_transcript_word(const folio_transcript_t *t, size_t i);

/** folio_transcript_n_files - number of audio files (0 if @t is NULL). */
size_t folio_transcript_n_files(const folio_transcript_t *t);

/** folio_transcript_file_duration - seconds of file @i as decoded (0 if out of range). */
double folio_transcript_file_duration(const folio_transcript_t *t, size_t i);

/** folio_transcript_file_offset - where file @i starts on the global timeline (0 if out of range).
 */
double folio_transcript_file_offset(const folio_transcript_t *t, size_t i);

/** folio_transcript_free - free a transcript. NULL is a no-op. */
void folio_transcript_free(folio_transcript_t *t);

/* ============================================================================================== */
/* 5. The index: when every page, chapter, sentence and word is read      [reading: lookup too]  */
/* ============================================================================================== */

/**
 * folio_index_build() recognises the audio (as folio_transcribe() does), aligns the book to it and
 * writes one SQLite file: the book's text and metadata, the audio files, and the time of every
 * page, chapter, sentence and word (docs/index.md documents the schema). Alignment works for books
 * of tens of hours in memory proportional to the text: rare word trigrams heard in the audio
 * anchor it, so chapters read out of order, front matter read last or chapters not read at all
 * are found where they are; dynamic programming aligns the words between anchors; stretches the
 * recogniser missed, and page and chapter starts it did not hear exactly, are forced-aligned with
 * a grammar of their words. Audio that is not in the book (preambles, announcements, credits)
 * stays unaligned; text nobody read (front matter, notes, a skipped paragraph) gets no time.
 * Contents lists (also a plain paragraph that is a run of chapter titles), title pages, Project
 * Gutenberg's lines and notes are timed only where a stretch of them is clearly read in order,
 * never by the few words an announcement shares with them ("Chapter one of …", the title);
 * words heard only in what several files open with (the announcement) take no time. A chapter's
 * time is when its heading is read, right before its first sentence. The audio's own marks (each
 * file's start, an M4B's chapters) are kept in the index (folio_index_audio_mark()) and are
 * evidence for chapter starts: a heading is not timed before a mark its text follows.
 *
 * The work is kept in @out_path + ".part" (the work file of folio_transcribe(), so a killed
 * build resumes); the index is written beside it (@out_path + ".part.index"), VACUUMed and renamed:
 * there is never a half-written index under the final name. The work file and its side files
 * (.pcm, .lm, .oob.lm, .dict) are removed after the rename, so a build stopped before it resumes
 * with all its recognition.
 */
typedef struct folio_index folio_index_t;

/** Options for folio_index_build(). Initialise with folio_index_options_init(). */
typedef struct {
    folio_transcribe_options_t transcribe; /**< recognition: threads, search, model, restart */
    int force; /**< non-zero: write the index even when the audio is plainly not this book */
} folio_index_options_t;

/** folio_index_options_init - fill @opts with the defaults. NULL is a no-op. */
void folio_index_options_init(folio_index_options_t *opts);

/**
 * folio_index_build - index @book against @n_audio audio files into @out_path.
 * @ctx: context for the log, progress (stages "recognising", "aligning", "writing") and the
 *   error message; may be NULL.
 * @book: the book (borrowed during the call only; the index stores its own copy of the text and
 *   metadata).
 * @audio: the audio files, in order (the array and its strings borrowed during the call only; the
 *   index stores the files' basenames).
 * @out_path: the index to write (borrowed during the call only).
 * @opts: options (copied; their model_dir and dict_path borrowed during the call only); NULL
 *   means the defaults.
 * Returns: FOLIO_OK, or FOLIO_EINVAL, FOLIO_EIO, FOLIO_EAUDIO, FOLIO_ECANCELLED, FOLIO_ENOMEM as
 *   folio_transcribe() does, and FOLIO_ENOMATCH when under 30% of the recognised speech time aligns
 *   to the book (the audio is plainly not this book; @opts->force overrides). How much of the
 *   book's text was read never makes it fail: partial audiobooks index fine.
 */
int folio_index_build(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                      size_t n_audio, const char *out_path, const folio_index_options_t *opts);

/**
 * folio_index_open - open an index read-only (immutable when the file cannot be written). Any
 * number of processes may open the same index; a folio_index_t is immutable once open and may be
 * shared by any number of threads (each with its own folio_t for the lookups).
 * @ctx: context for the error message (may be NULL: then only *@err says what failed); used
 *   during the call only: the index keeps no reference to it.
 * @path: the index file (borrowed during the call only). Everything is read into memory at open
 *   and the file is closed: the index does not keep @path or the file.
 * @err: receives FOLIO_OK or the error code (may be NULL).
 * Returns: the index (caller frees with folio_index_free()), or NULL with *err set and a message
 *   naming @path on @ctx: FOLIO_EINVAL (NULL path), FOLIO_EIO (cannot open: missing, no
 *   permission; the message gives the system's reason), FOLIO_EFORMAT (not a Folio index: not an
 *   SQLite file, an SQLite file of another application, a damaged index, or an index of another
 *   schema version, which the message says: index the book again), FOLIO_ENOMEM.
 */
folio_index_t *folio_index_open(folio_t *ctx, const char *path, int *err);

/** folio_index_free - close @ix and free everything borrowed from it (every string and item the
 *  functions below return, and the strings of lookup results). NULL is a no-op. No other thread
 *  may be using @ix. */
void folio_index_free(folio_index_t *ix);

/**
 * folio_index_meta - a value about the indexed book: "title", "author", "language",
 * "identifier", "text_sha256", "page_source", "format", "folio_version" (docs/index.md, the
 * `book` table).
 * @key: NUL-terminated, borrowed during the call only.
 * Returns: a string borrowed from @ix (valid until folio_index_free), "" if absent, NULL if an
 * argument is NULL.
 */
const char *folio_index_meta(const folio_index_t *ix, const char *key);

/** folio_index_text - the book's extracted text, as folio_book_text() gave it when the index was
 *  built: NUL-terminated UTF-8 borrowed from @ix (valid until folio_index_free); *@n_bytes (may
 *  be NULL) receives its length in bytes. NULL (and *@n_bytes 0) if @ix is NULL. */
const char *folio_index_text(const folio_index_t *ix, size_t *n_bytes);

/** folio_index_text_length - its length in code points, the unit of every start_char and
 *  end_char below (0 if @ix is NULL). */
size_t folio_index_text_length(const folio_index_t *ix);

/** An audio file of the index. */
typedef struct {
    const char *path; /**< borrowed: the file's basename */
    double duration;  /**< seconds, as Folio decoded it */
    double offset;    /**< where it starts on the global timeline */
} folio_index_file_t;

/** Times below are seconds; start_time < 0 and file == -1 mean "not read". */
typedef struct {
    size_t ordinal;
    const char *label; /**< borrowed */
    size_t start_char;
    double start_time, end_time; /**< global timeline */
    long file;                   /**< 0-based audio file */
    double file_time;            /**< start_time within that file */
    float confidence;            /**< in [0, 1]: see docs/export.md */
} folio_index_page_t;

typedef struct {
    const char *title; /**< borrowed */
    int level;
    size_t start_char;
    double start_time;
    long file;
    double file_time;
} folio_index_chapter_t;

typedef struct {
    size_t start_char, end_char;
    double start_time, end_time;
    long file;
    double file_time;
} folio_index_sentence_t;

/** A mark the audio sets on itself: a chapter of an audio file (an M4B's chapter atoms), or the
 *  start of a file. */
typedef struct {
    const char *title; /**< borrowed: the chapter's title in the file; "" for a file's start */
    int file_start;    /**< 1: the start of a file (a file's chapter at 0 s is a chapter mark) */
    long file;         /**< 0-based audio file */
    double file_time;  /**< seconds into that file */
    double start_time; /**< global timeline */
    long chapter;      /**< the book's chapter (folio_index_chapter()) whose first read word
                            follows the mark (before the next mark, within a minute), or -1 */
} folio_index_audio_mark_t;

typedef struct {
    size_t start_char, end_char;
    double start_time, end_time; /**< millisecond precision */
    long file;
    double file_time;
    float confidence;
} folio_index_word_t;

/*
 * The items of an index. Each folio_index_n_X() is 0 for a NULL index; each folio_index_X(ix, i)
 * returns item @i (0-based) as a pointer borrowed from @ix, valid until folio_index_free(ix), its
 * strings included (never write through it), or NULL when @ix is NULL or @i is out of range.
 */

/** folio_index_n_files - how many audio files the book was indexed with. */
size_t folio_index_n_files(const folio_index_t *ix);

/** folio_index_file - audio file @i, in the order they were given to folio_index_build(): its
 *  basename, its duration as decoded and its offset on the global timeline (the sum of the
 *  durations before it). */
const folio_index_file_t *folio_index_file(const folio_index_t *ix, size_t i);

/** folio_index_n_pages - how many pages the book has (folio_book_n_pages() of the indexed book). */
size_t folio_index_n_pages(const folio_index_t *ix);

/** folio_index_page - page @i, in page order (its ordinal is normally i + 1): its label and where
 *  it starts in the text; when it is read, the time of its first read word (start_time, file,
 *  file_time) and of its last read word's end (end_time), with that first word's confidence. */
const folio_index_page_t *folio_index_page(const folio_index_t *ix, size_t i);

/** folio_index_n_chapters - how many entries the book's table of contents has. */
size_t folio_index_n_chapters(const folio_index_t *ix);

/** folio_index_chapter - table-of-contents entry @i, in table-of-contents order (not
 *  necessarily text order): its title, level (1 for top-level) and start, and the time of its
 *  first read word (start_time < 0 when none of it is read). */
const folio_index_chapter_t *folio_index_chapter(const folio_index_t *ix, size_t i);

/** folio_index_n_audio_marks - how many marks the audio sets (each file's start and its own
 *  chapters); 0 for an index written before audio marks were kept (schema 2). */
size_t folio_index_n_audio_marks(const folio_index_t *ix);

/** folio_index_audio_mark - audio mark @i, in time order: where it is, its title, and the book's
 *  chapter that starts at it. */
const folio_index_audio_mark_t *folio_index_audio_mark(const folio_index_t *ix, size_t i);

/** folio_index_n_sentences - how many sentences the book's text has. */
size_t folio_index_n_sentences(const folio_index_t *ix);

/** folio_index_sentence - sentence @i, in text order: its range [start_char, end_char) and the
 *  time from its first read word's start to its last read word's end. */
const folio_index_sentence_t *folio_index_sentence(const folio_index_t *ix, size_t i);

/** folio_index_n_words - how many source words (folio_book_n_words()) the book has. */
size_t folio_index_n_words(const folio_index_t *ix);

/** folio_index_word - source word @i, in text order: its range [start_char, end_char) and, when
 *  it was read, its start and end (global, to the millisecond), file, file_time and confidence;
 *  start_time < 0 and file == -1 when it was not. */
const folio_index_word_t *folio_index_word(const folio_index_t *ix, size_t i);

/**
 * folio_index_report - the alignment report as a JSON object (words_total, words_read,
 * read_share, speech_seconds, aligned_speech_share, unaligned_audio, unread_text,
 * low_confidence_pages; see docs/export.md). Borrowed; NULL if @ix is NULL.
 */
const char *folio_index_report(const folio_index_t *ix);

/* ============================================================================================== */
/* 6. Exports: the book with its audio (EPUB 3 Media Overlays)                   [libfolio only] */
/* ============================================================================================== */

/** What one <par> of a Media Overlay shows: a block-level element (paragraph, heading, list
 *  item, ...), a sentence or a word. Sentences and words are wrapped in <span> elements with
 *  ids ("folio-s12", "folio-w340": the sentence's or word's index in the book, from 0). */
typedef enum {
    FOLIO_OVERLAY_SENTENCE = 0,
    FOLIO_OVERLAY_PARAGRAPH,
    FOLIO_OVERLAY_WORD,
} folio_overlay_granularity_t;

/**
 * folio_export_epub() writes a copy of the indexed EPUB 3 book whose text is synchronised with
 * the audio, as EPUB 3 Media Overlays: reading systems highlight each sentence (or word, or
 * paragraph: the granularity option) while it is heard and can start the audio from any of them.
 *
 * Each content document with read text gets a SMIL document beside it (same name, ".smil"), a
 * <par> per timed unit in reading order, clipped from the unit's first timed word to its last
 * timed word in the same audio file. Paragraphs: a <par> per block-level element; elements
 * without an id get one: "folio-" and the element's number in document order ("folio-17";
 * "folio-17-1" if that is taken), and nothing else in the documents changes. Sentences and words:
 * each is wrapped in a <span> with an id (folio_overlay_granularity_t), and the documents are
 * written back from their trees; one whose ends lie in different elements shows its block-level
 * element instead. A document that only parsed as HTML is written back as XHTML. The OPF
 * gains the SMIL and audio items, media-overlay on the content items, media:duration for each
 * SMIL document and in total, media:active-class "-epub-media-overlay-active" unless the book
 * names one, and a new dcterms:modified. The result passes epubcheck when the book did.
 */
typedef struct {
    const char *audio_dir;  /**< folder holding the index's audio files (found by name);
                                 NULL: the book's folder. Borrowed during the
                                 folio_export_epub() call only */
    const char *audio_base; /**< audio not embedded: URL the files are published under
                                 ("https://example.org/book/"); NULL: file: URLs of the files
                                 in audio_dir. Borrowed during the folio_export_epub() call only */
    int embed_audio;        /**< non-zero: the audio goes inside the EPUB (stored, not
                                 compressed), in "audio/" beside the OPF */
    folio_overlay_granularity_t granularity; /**< what a <par> highlights (default: sentence) */
} folio_overlay_options_t;

/** folio_overlay_options_init - fill @opts with the defaults. NULL is a no-op. */
void folio_overlay_options_init(folio_overlay_options_t *opts);

/**
 * folio_export_epub - write @book_path, the EPUB @ix was made from, with Media Overlays to
 * @out_path (written as @out_path + ".part", then renamed).
 * @ctx: context for the log, progress (stage "writing") and the error message; may be NULL.
 * @ix: the index (borrowed during the call only).
 * @book_path, @out_path: the book to read and the file to write (borrowed during the call only).
 * @opts: options (borrowed during the call only, its strings included); NULL means the defaults.
 * Returns: FOLIO_OK, or FOLIO_EINVAL (NULL argument), the errors of folio_book_open(),
 *   FOLIO_EFORMAT (plain text or EPUB 2: Media Overlays need EPUB 3), FOLIO_ENOMATCH (the book's
 *   text is not the indexed text, or no read text has a time), FOLIO_ENOTFOUND (an audio file is
 *   not in the audio folder), FOLIO_EIO, FOLIO_ECANCELLED, FOLIO_ENOMEM.
 */
int folio_export_epub(folio_t *ctx, const folio_index_t *ix, const char *book_path,
                      const char *out_path, const folio_overlay_options_t *opts);

/* ============================================================================================== */
/* 7. Lookups: page to audio, audio to page, text to audio                 [libfolio-lookup too] */
/* ============================================================================================== */

/**
 * Page Match is a lookup in an open index: a page label or number gives the audio, a moment of
 * the audio gives the page, and the text of a photographed page (a phone's OCR of it) gives the
 * place in the book and the audio. Lookups only read the index, so any number of threads may
 * look up in one folio_index_t at once, each with its own folio_t. Every lookup fills a
 * folio_lookup_t.
 *
 * Context in every lookup: @ctx receives the message of a failure (folio_errmsg()): which
 * argument is wrong and why ("no page labelled \"113\"", "7200.000 s is not a time in the
 * audio"), written for a reader app's user. It may be NULL: then only the return code tells. A
 * lookup keeps no reference to @ctx; it only writes to it when it fails, so one context must not be
 * used by two threads at once.
 *
 * Ownership in every lookup: the query (@label, @text) is borrowed during the call only; the
 * results (@out, @n_out, @pages_to_flip, @scanned, @heard) are the caller's memory, which the call
 * fills, and only on FOLIO_OK is their content defined. Strings in a result point into the index.
 */
typedef struct {
    size_t char_offset;        /**< the place, a code point of the book's text */
    long page;                 /**< index of its page (folio_index_page()), -1 before the first */
    const char *page_label;    /**< borrowed from the index (valid until folio_index_free) or
                                    a static "" without a page */
    long chapter;              /**< index of its chapter (folio_index_chapter()), or -1 */
    const char *chapter_title; /**< borrowed from the index (valid until folio_index_free) or
                                    a static "" without a chapter */
    size_t sentence_start;     /**< the sentence the place is in (code points) */
    size_t sentence_end;
    double time;      /**< global seconds: when the place is read, or, when the narrator did not
                           read it (a footnote, a skipped passage), when the first read word
                           after it is read (see @read); < 0 when nothing from the place on is
                           read */
    long file;        /**< 0-based audio file of @time, -1 without a time */
    double file_time; /**< seconds in that file */
    float confidence; /**< how sure the time is, in [0, 1] (the alignment's confidence,
                           lower when a moment falls between read words) */
    float score;      /**< text lookups: how well the text matched, in [0, 1]; 1
                           otherwise */
    int read;         /**< 1 when the word at the place was itself read and @time is its
                           own; 0 when it was not (@time is then the next read word's, or
                           < 0) */
} folio_lookup_t;

/**
 * folio_lookup_page - the page labelled @label ("xii", "112"; the first such page when labels
 * repeat; NUL-terminated UTF-8): its first read word's time, or time -1 when nobody reads the
 * page.
 * Returns: FOLIO_OK, FOLIO_EINVAL (NULL @ix, @label or @out), FOLIO_ENOTFOUND (no such label).
 */
int folio_lookup_page(folio_t *ctx, const folio_index_t *ix, const char *label,
                      folio_lookup_t *out);

/**
 * folio_lookup_ordinal - the same for the page with @ordinal (1-based, as in the export).
 * Returns: FOLIO_OK, FOLIO_EINVAL (NULL @ix or @out), FOLIO_ENOTFOUND (no page has @ordinal;
 * the message says how many pages there are).
 */
int folio_lookup_ordinal(folio_t *ctx, const folio_index_t *ix, size_t ordinal,
                         folio_lookup_t *out);

/**
 * folio_lookup_time - what is read at @time: seconds in audio file @file (0-based), or on the
 * global timeline when @file is -1. The place is the word being read then, or, in audio that is
 * not the book (an announcement, a pause), the last word read before it in the same file, or
 * failing that the next one; confidence falls with the distance.
 * Returns: FOLIO_OK, FOLIO_EINVAL (NULL argument, no such file: @file below -1 or past the last,
 * a time that is negative, not finite or more than half a second after the audio's end),
 * FOLIO_ENOTFOUND (nothing in the book was read).
 */
int folio_lookup_time(folio_t *ctx, const folio_index_t *ix, long file, double time,
                      folio_lookup_t *out);

/**
 * folio_lookup_text - where @text (UTF-8, @len bytes; the OCR of a page or part of one, 15 words
 * or more for a sure answer) is in the book. It survives OCR errors (letters confused, words split
 * or merged, end-of-line hyphens, running heads and page numbers, lost punctuation) and small
 * wording differences of another edition. The time is that of the first complete word matched
 * (or the first read word after it). Up to @max candidates, best first, go to @out (an array of at
 * least @max elements); *@n_out says how many. A candidate scores in [0, 1]; below a threshold
 * there is none: the text is not in this book, or too garbled to place, and no place is better
 * than a wrong one.
 * Returns: FOLIO_OK (*@n_out may be 0: no match, which is no error and sets no message),
 * FOLIO_EINVAL (NULL argument, @max 0), FOLIO_EENCODING (@text is not valid UTF-8),
 * FOLIO_ENOMEM.
 */
int folio_lookup_text(folio_t *ctx, const folio_index_t *ix, const char *text, size_t len,
                      folio_lookup_t *out, size_t max, size_t *n_out);

/**
 * folio_lookup_scan - "scan to read": a listener at global @time photographs the page in front of
 * them (@text, as for folio_lookup_text); *@pages_to_flip says how many pages to turn to reach
 * what is being read (positive: forward; 0 when it is on the scanned page), estimated from the
 * two places' distance in the text and the scanned text's length, taken as one page of the
 * reader's edition. @scanned and @heard
 * receive the two places (may be NULL).
 * Returns: FOLIO_OK, FOLIO_EINVAL (NULL @ix, @text or @pages_to_flip), FOLIO_ENOMATCH (the text
 * is not found), or the errors of folio_lookup_time() (on the global timeline) and
 * folio_lookup_text().
 */
int folio_lookup_scan(folio_t *ctx, const folio_index_t *ix, double time, const char *text,
                      size_t len, long *pages_to_flip, folio_lookup_t *scanned,
                      folio_lookup_t *heard);

/* ---------------------------------------------------------------------------------------------- */
/* 7b. Photos of a page  [libfolio only; not in libfolio-lookup; needs a build with OCR]           */
/* ---------------------------------------------------------------------------------------------- */

/**
 * A photo of a printed page of the book (any edition: its own page size, line breaks, running
 * heads, page numbers and footnotes) gives the place in the book and the audio, as
 * folio_lookup_text() does for text. libfolio reads the photo itself (tesseract); reader apps
 * that use libfolio-lookup OCR on the phone and call folio_lookup_text().
 *
 * The answer's definition: the place is the first word of the first *whole* line of the photo
 * -- a line that the photo's edge cuts, at the top, bottom or either side, is not whole, nor is a
 * running head, a page number or a footnote; when that line starts with the second half of a
 * hyphenated word, the place is that word. An answer at the start of the sentence that runs into
 * that line is also right. Its time is that word's, or the next read word's when the narrator did
 * not read it (folio_lookup_t.read 0). Below the threshold there is no match: no place is better
 * than a wrong one. A photo without a whole line of text (blank, black, noise, only cut lines)
 * has no match.
 *
 * A build without OCR (meson -Docr=disabled, or tesseract absent) has these functions: they fail
 * with FOLIO_EINVAL and the message "built without OCR".
 */

/** An OCR handle: tesseract's English model, loaded once (0.3-0.6 s, about 35 MB) and reused
 *  for every photo read on one thread. Not thread-safe: one handle per thread; any number of
 *  handles may read photos against one folio_index_t at once. */
typedef struct folio_ocr folio_ocr_t;

/**
 * folio_ocr_new - load the OCR model (tesseract's "eng" from the system's tessdata folder, or
 * $TESSDATA_PREFIX). @ctx (borrowed, may be NULL) receives the message of a failure and must
 * outlive the handle. The first call in a process also silences tesseract's and leptonica's
 * messages and keeps tesseract's OpenMP regions serial (process-wide, once).
 * Returns: the handle (free with folio_ocr_free()), or NULL with *@err (may be NULL): FOLIO_EIO
 * (the model cannot be loaded; the message names the folder), FOLIO_ENOMEM, FOLIO_EINVAL (built
 * without OCR).
 */
folio_ocr_t *folio_ocr_new(folio_t *ctx, int *err);

/** folio_ocr_free - free an OCR handle. NULL is a no-op. */
void folio_ocr_free(folio_ocr_t *ocr);

/** What folio_lookup_image() saw and how long it took (for benchmarks and tools). */
typedef struct {
    size_t lines;       /**< text lines read in the photo */
    size_t whole_lines; /**< of them, the whole lines of text the answer's line was sought
                             among (the first 4 at most) */
    double ocr_sec;     /**< decoding, preparing and recognising the photo, wall seconds */
    double match_sec;   /**< building the query and matching it, wall seconds */
} folio_image_info_t;

/**
 * folio_lookup_image - where the photo in @bytes[0..@n) (JPEG, PNG, TIFF or WebP; a photo of a
 * page, half a page, a paragraph or a few lines) is in the book of @ix, read with @ocr. Results
 * as for folio_lookup_text(): up to @max candidates, best first, in @out; *@n_out says how many
 * (0: no match). @info (may be NULL) receives what the photo read to and the time each stage
 * took. @bytes is borrowed during the call only. Memory is bounded: an image whose header
 * claims more than 50 million pixels, or a side over 20000, is refused before decoding.
 * Returns: FOLIO_OK (*@n_out may be 0: no match, which sets no message), FOLIO_EINVAL (NULL
 * argument, @max 0, or built without OCR), FOLIO_EFORMAT (not a JPEG, PNG, TIFF or WebP image,
 * or truncated or corrupt: the message says which), FOLIO_ELIMIT (too many pixels),
 * FOLIO_ENOMEM. The caller adds the file's name to the message.
 */
int folio_lookup_image(folio_t *ctx, folio_ocr_t *ocr, const folio_index_t *ix,
                       const void *bytes, size_t n, folio_lookup_t *out, size_t max,
                       size_t *n_out, folio_image_info_t *info);

#ifdef __cplusplus
}
#endif

#endif /* FOLIO_H */
