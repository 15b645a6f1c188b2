/* Fuzz target: a book read from the input's bytes, as an EPUB (FUZZ_FORMAT 1) or as plain text
 * (FUZZ_FORMAT 2), then every accessor of the book walked and its promises checked. */
#include "fuzz.h"

#include <string.h>

static void walk(const folio_book_t *book)
{
    size_t bytes = 0;
    const char *text = folio_book_text(book, &bytes);
    size_t n_chars = folio_book_text_length(book);
    FZ_CHECK(text && strlen(text) == bytes, "the text is NUL-terminated at its length");
    FZ_CHECK(n_chars <= bytes, "no more code points than bytes");
    for (int k = 0; k <= FOLIO_META_IDENTIFIER; k++) (void)folio_book_meta(book, (folio_meta_t)k);
    size_t n;
    for (size_t i = 0, n_b = folio_book_n_blocks(book); i < n_b; i++) {
        const folio_block_t *b = folio_book_block(book, i);
        FZ_CHECK(b && b->start_char <= b->end_char && b->end_char <= n_chars, "block in the text");
    }
    for (size_t i = 0, n_p = folio_book_n_pages(book); i < n_p; i++) {
        const folio_page_t *p = folio_book_page(book, i);
        FZ_CHECK(p && p->label && p->start_char <= n_chars, "page in the text");
        (void)folio_book_page_at(book, p->start_char);
    }
    for (size_t i = 0, n_c = folio_book_n_chapters(book); i < n_c; i++) {
        const folio_chapter_t *c = folio_book_chapter(book, i);
        FZ_CHECK(c && c->title && c->start_char <= n_chars, "chapter in the text");
    }
    for (size_t i = 0, n_s = folio_book_n_sentences(book); i < n_s; i++) {
        const folio_sentence_t *s = folio_book_sentence(book, i);
        FZ_CHECK(s && s->start_char <= s->end_char && s->end_char <= n_chars, "sentence in text");
        size_t len = 0;
        const char *r = folio_book_text_range(book, s->start_char, s->end_char, &len);
        FZ_CHECK(r && len <= bytes, "a sentence's text");
    }
    n = folio_book_n_words(book);
    for (size_t i = 0; i < n; i++) {
        const folio_word_t *w = folio_book_word(book, i);
        FZ_CHECK(w && w->start_char <= w->end_char && w->end_char <= n_chars, "word in the text");
        for (size_t k = 0; k < w->n_alternatives; k++)
            FZ_CHECK(folio_book_word_alternative(book, i, k), "an alternative reading");
    }
    for (size_t i = 0, n_t = folio_book_n_tokens(book); i < n_t; i++)
        FZ_CHECK(folio_book_token(book, i) && folio_book_token(book, i)->text, "a token's text");
    (void)folio_book_page_at(book, n_chars);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fz_scratch(data, size, FUZZ_FORMAT == 1 ? ".epub" : ".txt");
    if (!path) return 0;
    folio_t *ctx = folio_new();
    folio_book_options_t o;
    folio_book_options_init(&o);
    o.format = (folio_format_t)FUZZ_FORMAT;
    /* Limits a reader app would set: a hostile file's cost stays inside libFuzzer's RSS limit. */
    o.max_text_chars = (size_t)4 << 20;
    o.max_archive_bytes = (uint64_t)64 << 20;
    int err = -1;
    folio_book_t *book = folio_book_open(ctx, path, &o, &err);
    FZ_CHECK((book != NULL) == (err == FOLIO_OK), "a book exactly when FOLIO_OK");
    if (book) {
        walk(book);
    } else {
        const char *msg = folio_errmsg(ctx);
        FZ_CHECK(msg && *msg, "a failure sets a message");
    }
    folio_book_free(book);
    folio_free(ctx);
    return 0;
}
