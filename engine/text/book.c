/* folio_book_t: the public accessors, and what every reader shares once the text is built (code
 * point index, pages, chapters from headings). */
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void folio_book_free(folio_book_t *book)
{
    if (!book) return;
    for (int i = 0; i < 4; i++) free(book->meta[i]);
    free(book->text);
    free(book->cp_index);
    VEC_FREE(book->blocks);
    for (size_t i = 0; i < book->pages.len; i++) free((char *)book->pages.items[i].label);
    VEC_FREE(book->pages);
    for (size_t i = 0; i < book->chapters.len; i++) free((char *)book->chapters.items[i].title);
    VEC_FREE(book->chapters);
    VEC_FREE(book->sentences);
    folio__spoken_free(&book->spoken);
    if (book->source_free) book->source_free(book->source);
    free(book);
}

folio_book_format_t folio_book_format(const folio_book_t *book)
{
    return book ? book->format : (folio_book_format_t)0;
}

const char *folio_book_meta(const folio_book_t *book, folio_meta_t key)
{
    if (!book || (int)key < 0 || key > FOLIO_META_IDENTIFIER) return NULL;
    return book->meta[key] ? book->meta[key] : "";
}

const char *folio_book_text(const folio_book_t *book, size_t *n_bytes)
{
    if (!book) return NULL;
    if (n_bytes) *n_bytes = book->text_bytes;
    return book->text;
}

size_t folio_book_text_length(const folio_book_t *book)
{
    return book ? book->text_chars : 0;
}

size_t folio__book_byte_offset(const folio_book_t *book, size_t char_off)
{
    size_t byte = book->cp_index[char_off / FOLIO__CP_STRIDE];
    for (size_t k = char_off % FOLIO__CP_STRIDE; k > 0; k--) {
        byte++;
        while (byte < book->text_bytes && ((unsigned char)book->text[byte] & 0xC0) == 0x80) byte++;
    }
    return byte;
}

const char *folio_book_text_range(const folio_book_t *book, size_t start_char, size_t end_char,
                                  size_t *n_bytes)
{
    if (!book || !n_bytes || start_char > end_char || end_char > book->text_chars) return NULL;
    size_t a = folio__book_byte_offset(book, start_char);
    size_t b = folio__book_byte_offset(book, end_char);
    *n_bytes = b - a;
    return book->text + a;
}

const char *folio_block_kind_name(folio_block_kind_t kind)
{
    static const char *const names[FOLIO_BLOCK_KIND_COUNT] = {
        "paragraph", "heading", "footnote", "endnote", "aside", "frontmatter", "backmatter", "toc"};
    return (int)kind >= 0 && kind < FOLIO_BLOCK_KIND_COUNT ? names[kind] : "unknown";
}

size_t folio_book_n_blocks(const folio_book_t *book)
{
    return book ? book->blocks.len : 0;
}

const folio_block_t *folio_book_block(const folio_book_t *book, size_t i)
{
    return book && i < book->blocks.len ? &book->blocks.items[i] : NULL;
}

const char *folio_page_source_name(folio_page_source_t source)
{
    switch (source) {
    case FOLIO_PAGES_PAGE_LIST:
        return "page-list";
    case FOLIO_PAGES_NCX:
        return "ncx";
    case FOLIO_PAGES_PAGE_MAP:
        return "page-map";
    case FOLIO_PAGES_MARKERS:
        return "markers";
    case FOLIO_PAGES_FORM_FEED:
        return "form-feed";
    case FOLIO_PAGES_SYNTHETIC:
        return "synthetic";
    default:
        return "unknown";
    }
}

folio_page_source_t folio_book_page_source(const folio_book_t *book)
{
    return book ? book->page_source : (folio_page_source_t)0;
}

size_t folio_book_n_pages(const folio_book_t *book)
{
    return book ? book->pages.len : 0;
}

const folio_page_t *folio_book_page(const folio_book_t *book, size_t i)
{
    return book && i < book->pages.len ? &book->pages.items[i] : NULL;
}

long folio_book_page_at(const folio_book_t *book, size_t char_off)
{
    if (!book || char_off >= book->text_chars || !book->pages.len) return -1;
    /* Pages are sorted by start_char: binary search for the last start <= char_off. */
    size_t lo = 0, hi = book->pages.len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (book->pages.items[mid].start_char <= char_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? -1 : (long)(lo - 1);
}

size_t folio_book_n_chapters(const folio_book_t *book)
{
    return book ? book->chapters.len : 0;
}

const folio_chapter_t *folio_book_chapter(const folio_book_t *book, size_t i)
{
    return book && i < book->chapters.len ? &book->chapters.items[i] : NULL;
}

size_t folio_book_n_sentences(const folio_book_t *book)
{
    return book ? book->sentences.len : 0;
}

const folio_sentence_t *folio_book_sentence(const folio_book_t *book, size_t i)
{
    return book && i < book->sentences.len ? &book->sentences.items[i] : NULL;
}

/* ---- shared finishing steps ---- */

const char *folio_book_text_sha256(const folio_book_t *book)
{
    return book ? book->sha256 : NULL;
}

int folio__book_index_text(folio_t *ctx, folio_book_t *book)
{
    folio_sha256_t h;
    folio__sha256_init(&h);
    folio__sha256_update(&h, book->text, book->text_bytes);
    folio__sha256_hex(&h, book->sha256);
    size_t n = book->text_chars / FOLIO__CP_STRIDE + 1;
    book->cp_index = malloc(n * sizeof(size_t));
    if (!book->cp_index) return FOLIO_ENOMEM;
    size_t cp = 0, k = 0;
    for (size_t i = 0; i <= book->text_bytes; i++) {
        if (i < book->text_bytes && ((unsigned char)book->text[i] & 0xC0) == 0x80) continue;
        if (cp % FOLIO__CP_STRIDE == 0 && k < n) book->cp_index[k++] = i;
        cp++;
    }
    for (size_t i = 0; i < book->blocks.len; i++) {
        int rc = folio__sentences_split(book, &book->blocks.items[i]);
        if (rc < 0) return rc;
    }
    return folio__book_speak(ctx, book);
}

int folio__book_speak(folio_t *ctx, folio_book_t *book)
{
    folio_speaker_t *sp = folio__speaker_new();
    if (!sp) return folio__error(ctx, FOLIO_ENOMEM, "cannot start ICU's word and number services");
    int rc = FOLIO_OK;
    for (size_t i = 0; i < book->blocks.len && rc >= 0; i++) {
        const folio_block_t *b = &book->blocks.items[i];
        size_t b0 = folio__book_byte_offset(book, b->start_char);
        size_t b1 = folio__book_byte_offset(book, b->end_char);
        rc = folio__spoken_block(sp, &book->spoken, book->text + b0, b1 - b0, b->start_char, i,
                                 b->kind == FOLIO_BLOCK_HEADING || b->level > 0, b->read);
        if (rc < 0)
            folio__error(ctx, rc,
                         "cannot work out the spoken form of block %zu (characters %zu to %zu): %s",
                         i, b->start_char, b->end_char, folio_strerror(rc));
    }
    folio__speaker_free(sp);
    folio__spoken_finish(&book->spoken);
    return rc;
}

size_t folio_book_n_tokens(const folio_book_t *book)
{
    return book ? book->spoken.tokens.len : 0;
}

const folio_token_t *folio_book_token(const folio_book_t *book, size_t i)
{
    return book && i < book->spoken.tokens.len ? &book->spoken.tokens.items[i] : NULL;
}

size_t folio_book_n_words(const folio_book_t *book)
{
    return book ? book->spoken.words.len : 0;
}

const folio_word_t *folio_book_word(const folio_book_t *book, size_t i)
{
    return book && i < book->spoken.words.len ? &book->spoken.words.items[i] : NULL;
}

const char *folio_book_word_alternative(const folio_book_t *book, size_t word, size_t k)
{
    if (!book || word >= book->spoken.words.len ||
        k >= book->spoken.words.items[word].n_alternatives)
        return NULL;
    return book->spoken.pool.data + book->spoken.alts.items[book->spoken.word_alt.items[word] + k];
}

/* A page label as an arabic (kind 1) or roman (kind 2) number; 0 if neither. */
static int label_number(const char *label, long *value)
{
    size_t n = strlen(label);
    if (!n || n > 18) return 0;
    bool digits = true;
    for (size_t i = 0; i < n; i++) digits = digits && label[i] >= '0' && label[i] <= '9';
    if (digits) {
        *value = strtol(label, NULL, 10);
        return 1;
    }
    *value = folio__roman_value(label, n);
    return *value ? 2 : 0;
}

static int cmp_page(const void *a, const void *b)
{
    const folio_page_t *x = a, *y = b;
    if (x->start_char != y->start_char) return x->start_char < y->start_char ? -1 : 1;
    /* Equal positions (blank pages) keep their original order, stored in ordinal. */
    return x->ordinal < y->ordinal ? -1 : x->ordinal > y->ordinal;
}

static bool is_space_byte(char c)
{
    return c == ' ' || c == '\n';
}

/* Synthetic pages: about @per_page read characters each, broken before the next word, and a new
 * page at the first block of every section. */
static int synthetic_pages(folio_book_t *book, size_t per_page, folio_sizes_t *starts)
{
    int rc = FOLIO_OK;
    size_t fill = 0;
    bool have_section = false, break_next = false;
    size_t section = 0;
    for (size_t i = 0; i < book->blocks.len; i++) {
        const folio_block_t *b = &book->blocks.items[i];
        if (!have_section || b->section != section || break_next) {
            TRY(VEC_PUSH(*starts, b->start_char));
            fill = 0;
            section = b->section;
            have_section = true;
            break_next = false;
        }
        if (!b->read) continue;
        size_t pos = b->start_char;
        while (fill + (b->end_char - pos) >= per_page) {
            size_t target = pos + (per_page - fill);
            /* Move to the start of the next word: past the rest of this one, then the spaces. */
            size_t byte = folio__book_byte_offset(book, target), cp = target;
            size_t end_byte = folio__book_byte_offset(book, b->end_char);
            while (byte < end_byte && !is_space_byte(book->text[byte])) {
                size_t len;
                folio__utf8_decode(book->text + byte, &len);
                byte += len, cp++;
            }
            while (byte < end_byte && is_space_byte(book->text[byte])) byte++, cp++;
            if (byte >= end_byte) {
                break_next = true;
                fill = 0;
                pos = b->end_char;
                break;
            }
            TRY(VEC_PUSH(*starts, cp));
            fill = 0;
            pos = cp;
        }
        fill += b->end_char - pos;
    }
fail:
    return rc;
}

int folio__book_set_pages(folio_t *ctx, const char *name, folio_book_t *book, const folio_tb_t *tb,
                          folio_page_mark_t *marks, size_t n_marks, folio_page_source_t source,
                          size_t synthetic_chars)
{
    int rc = FOLIO_OK;
    folio_sizes_t starts = {0};
    size_t i = 0;
    if (n_marks == 0) {
        source = FOLIO_PAGES_SYNTHETIC;
        TRY(synthetic_pages(book, synthetic_chars, &starts));
        for (size_t k = 0; k < starts.len; k++) {
            char label[24];
            snprintf(label, sizeof(label), "%zu", k + 1);
            folio_page_t p = {k + 1, folio__strdup(label), starts.items[k]};
            if (!p.label || VEC_PUSH(book->pages, p) < 0) {
                free((char *)p.label);
                FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory", name);
            }
        }
    } else {
        for (; i < n_marks; i++) {
            folio_page_t p = {i + 1, marks[i].label, tb->marks.items[marks[i].mark].char_off};
            TRY(VEC_PUSH(book->pages, p));
            marks[i].label = NULL;
        }
    }
    book->page_source = source;

    /* Pages must follow the text for lookups; a list that does not is repaired and reported. */
    size_t backwards = 0;
    for (size_t k = 1; k < book->pages.len; k++)
        if (book->pages.items[k].start_char < book->pages.items[k - 1].start_char) backwards++;
    if (backwards) {
        folio__warn(ctx,
                    "%s: %zu page(s) of the %s point before the page listed ahead of them; "
                    "pages are ordered by their position in the text",
                    name, backwards, folio_page_source_name(source));
        qsort(book->pages.items, book->pages.len, sizeof(folio_page_t), cmp_page);
        for (size_t k = 0; k < book->pages.len; k++) book->pages.items[k].ordinal = k + 1;
    }

    /* Duplicate and non-monotone labels: warn once each, with the first example. */
    folio_map_t seen = {0};
    size_t dups = 0, disorder = 0;
    const char *dup_example = NULL, *dis_a = NULL, *dis_b = NULL;
    long last[3] = {0, 0, 0};
    bool have_last[3] = {false, false, false};
    for (size_t k = 0; k < book->pages.len; k++) {
        const char *label = book->pages.items[k].label;
        bool existing;
        if (folio__map_add(&seen, label, k, &existing) < 0) {
            folio__map_free(&seen);
            FAIL(ctx, FOLIO_ENOMEM, "%s: out of memory", name);
        }
        if (existing && dups++ == 0) dup_example = label;
        long v;
        int kind = label_number(label, &v);
        if (kind) {
            if (have_last[kind] && v <= last[kind] && !existing && disorder++ == 0) {
                dis_a = book->pages.items[k - 1].label;
                dis_b = label;
            }
            last[kind] = v;
            have_last[kind] = true;
        }
    }
    if (dups)
        folio__warn(ctx, "%s: %zu duplicate page label(s), e.g. \"%s\"", name, dups, dup_example);
    if (disorder)
        folio__warn(ctx, "%s: page labels go backwards %zu time(s), e.g. \"%s\" after \"%s\"", name,
                    disorder, dis_b, dis_a);
    folio__map_free(&seen);
fail:
    for (; i < n_marks; i++) free(marks[i].label);
    VEC_FREE(starts);
    return rc;
}

int folio__book_chapters_from_headings(folio_book_t *book)
{
    int min_level = 7;
    for (size_t i = 0; i < book->blocks.len; i++) {
        const folio_block_t *b = &book->blocks.items[i];
        if (b->kind == FOLIO_BLOCK_HEADING && b->read && b->level < min_level) min_level = b->level;
    }
    for (size_t i = 0; i < book->blocks.len; i++) {
        const folio_block_t *b = &book->blocks.items[i];
        if (b->kind != FOLIO_BLOCK_HEADING || !b->read) continue;
        size_t n;
        const char *s = folio_book_text_range(book, b->start_char, b->end_char, &n);
        char *title = folio__strndup(s, n);
        if (!title) return FOLIO_ENOMEM;
        for (char *p = title; *p; p++)
            if (*p == '\n') *p = ' ';
        folio_chapter_t c = {title, b->level - min_level + 1, b->start_char};
        if (VEC_PUSH(book->chapters, c) < 0) {
            free(title);
            return FOLIO_ENOMEM;
        }
    }
    return FOLIO_OK;
}
