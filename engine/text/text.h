/* Internal interface of the text module: the book model (folio_book_t), the extracted text with
 * blocks, pages, chapters and sentences, and the builder the readers of engine/formats feed.
 * Included by the modules downstream of it and by engine/formats. */
#ifndef FOLIO_TEXT_H
#define FOLIO_TEXT_H

#include "../core/core.h"
#include "../spoken/spoken.h" /* a book holds its spoken form */

struct folio_book {
    folio_book_format_t format;
    char *meta[4];

    char *text;        /* NUL-terminated NFC UTF-8 */
    size_t text_bytes; /* length in bytes */
    size_t text_chars; /* length in code points */
    char sha256[65];   /* of the text's bytes, hex */
    size_t *
        cp_index; /* byte offset of code point k * CP_STRIDE, for k = 0 .. text_chars / CP_STRIDE */

    VEC(folio_block_t) blocks;
    folio_page_source_t page_source;
    VEC(folio_page_t) pages;       /* labels owned (cast away const when freeing) */
    VEC(folio_chapter_t) chapters; /* titles owned */
    VEC(folio_sentence_t) sentences;
    folio_spoken_t spoken;

    /* What the reader that made the book keeps of its file, for a writer that goes back to it
     * (defined in engine/formats; NULL when there is nothing to keep); freed with source_free. */
    struct folio_book_source *source;
    void (*source_free)(struct folio_book_source *source);
};

#define FOLIO__CP_STRIDE 64

/* Byte offset of code point @char_off (<= text_chars). */
size_t folio__book_byte_offset(const folio_book_t *book, size_t char_off);

/* ---- the text builder: readers feed it text, it keeps the extracted string and blocks ---- */

typedef struct {
    size_t char_off; /* resolved position; valid once resolved */
    bool resolved;
} folio_mark_t;

typedef struct {
    folio_t *ctx;
    const char *name; /* the book file's name, for messages */
    folio_book_t *book;
    folio_str_t text;
    size_t n_chars;
    size_t max_chars;

    bool block_open;
    folio_block_t cur;
    size_t cur_element;
    folio_sizes_t block_element; /* per finished block: its style's element */
    bool pending_space;
    bool at_line_start; /* just after a "\n" from <br>: drop leading spaces */

    VEC(folio_mark_t) marks;
    VEC(size_t) pending; /* marks waiting for the next visible character */
    folio_str_t scratch;
} folio_tb_t;

/* The kind, read flag and level given to a block opened by the next visible character. */
typedef struct {
    folio_block_kind_t kind;
    bool read;
    int level;
    size_t section;
    size_t element; /* the reader's number of the innermost block-level element (0: none) */
} folio_tb_style_t;

int folio__tb_init(folio_tb_t *tb, folio_t *ctx, const char *name, folio_book_t *book,
                   size_t max_chars);
void folio__tb_free(folio_tb_t *tb);
/* Append raw text: XML white space collapses to one space, U+00AD is dropped, the run is NFC
 * normalised; a block opens with @style at the first visible character. With @keep_newlines,
 * "\n" breaks the line as <br> does (for <pre>). */
int folio__tb_text(folio_tb_t *tb, const char *s, size_t n, const folio_tb_style_t *style,
                   bool keep_newlines);
/* A line break inside the current block (<br>); nothing if no block is open. */
int folio__tb_newline(folio_tb_t *tb);
/* End the current block, if one is open. */
int folio__tb_break(folio_tb_t *tb);
/* A mark at the current position; resolved to the next visible character. Returns the mark's
 * index (>= 0) or FOLIO_ENOMEM. */
long folio__tb_mark(folio_tb_t *tb);
/* Finish: close the block, resolve pending marks to the text's end, move text and blocks into the
 * book (block_element stays in @tb for the reader to take). */
int folio__tb_finish(folio_tb_t *tb);

/* ---- finishing a book (book.c) ---- */

/* A page candidate whose position is a builder mark. */
typedef struct {
    char *label; /* owned */
    size_t mark;
} folio_page_mark_t;

/* After the text is built: set @book's pages from @marks (or synthetic pages when @n_marks is 0),
 * sort them, warn on duplicate or non-monotone labels. Takes ownership of the labels. */
int folio__book_set_pages(folio_t *ctx, const char *name, folio_book_t *book, const folio_tb_t *tb,
                          folio_page_mark_t *marks, size_t n_marks, folio_page_source_t source,
                          size_t synthetic_chars);
/* Chapters from heading blocks, used when a book has no table of contents. */
int folio__book_chapters_from_headings(folio_book_t *book);
/* Build the code point index, the sentences and the spoken form. */
int folio__book_index_text(folio_t *ctx, folio_book_t *book);
/* The spoken form of every block (called by folio__book_index_text). */
int folio__book_speak(folio_t *ctx, folio_book_t *book);

/* Sentence ranges of block text (sentence.c). Appends to book->sentences. */
int folio__sentences_split(folio_book_t *book, const folio_block_t *block);

#endif
