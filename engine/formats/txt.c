/* The plain-text reader: UTF-8 (or UTF-16 or UTF-32 with a BOM) text where form feeds separate
 * pages (the pdftotext convention), blank lines separate paragraphs, hard-wrapped lines are
 * rejoined (with end-of-line hyphenation undone), page numbers and running heads of paged text are
 * left out, and Project Gutenberg's header and licence are kept but marked not read. */
#include "formats.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/uchar.h>

typedef enum { REGION_FRONT, REGION_BODY, REGION_BACK } region_t;

typedef struct {
    size_t start, len; /* bytes in the normalised buffer, without the newline */
    size_t page;
    bool dropped; /* a page number or running head */
    region_t region;
} line_t;

typedef struct {
    folio_t *ctx;
    const char *name;
    const folio_book_options_t *opts;
    folio_book_t *book;
    char *buf;
    size_t len;
    VEC(line_t) lines;
    size_t n_pages;
    bool form_feeds;
    folio_map_t hyphenated; /* lower-cased words written with a hyphen inside a line */
    folio_tb_t tb;
    VEC(folio_page_mark_t) pages;
} txt_t;

/* ---- reading and encodings ---- */

static int read_file(txt_t *T)
{
    /* UTF-8 needs at most 4 bytes a code point, UTF-16 at most 4 as well. */
    int rc = folio__book_file_read(T->ctx, T->name, (uint64_t)T->opts->max_text_chars * 4 + 16,
                                   &T->buf, &T->len);
    if (rc == FOLIO_ELIMIT)
        rc =
            folio__error(T->ctx, rc, "%s: the file is larger than the text limit of %zu characters",
                         T->name, T->opts->max_text_chars);
    return rc;
}

/* One @unit-byte code unit (2 or 4) at @b. */
static uint32_t code_unit(const unsigned char *b, int unit, bool big_endian)
{
    uint32_t v = 0;
    for (int k = 0; k < unit; k++)
        v |= (uint32_t)b[big_endian ? k : unit - 1 - k] << (8 * (unit - 1 - k));
    return v;
}

/* The text after a UTF-16 (@unit 2) or UTF-32 (@unit 4) byte order mark, as UTF-8. Errors name
 * the byte offset in the file. */
static int from_wide(txt_t *T, int unit, bool big_endian)
{
    int rc = FOLIO_OK;
    const char *enc = unit == 2 ? "UTF-16" : "UTF-32";
    const unsigned char *b = (const unsigned char *)T->buf;
    folio_str_t out = {0};
    if ((T->len - (size_t)unit) % (size_t)unit)
        FAIL(T->ctx, FOLIO_EENCODING, "%s: %s text whose %zu bytes are not whole %d-byte units",
             T->name, enc, T->len, unit);
    for (size_t i = (size_t)unit; i < T->len;) {
        size_t at = i;
        uint32_t c = code_unit(b + i, unit, big_endian);
        i += (size_t)unit;
        if (unit == 2 && c >= 0xD800 && c <= 0xDBFF && i + 2 <= T->len) {
            uint32_t low = code_unit(b + i, 2, big_endian);
            if (low >= 0xDC00 && low <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                i += 2;
            }
        }
        if (c >= 0xD800 && c <= 0xDFFF)
            FAIL(T->ctx, FOLIO_EENCODING, "%s: invalid %s at byte %zu (an unpaired surrogate)",
                 T->name, enc, at);
        if (c > 0x10FFFF)
            FAIL(T->ctx, FOLIO_EENCODING,
                 "%s: invalid %s at byte %zu (0x%08x is not a Unicode code point)", T->name, enc,
                 at, (unsigned)c);
        if (c == 0)
            FAIL(T->ctx, FOLIO_EFORMAT, "%s: a NUL character at byte %zu: not a text file", T->name,
                 at);
        char u[4];
        if (folio__str_append(&out, u, folio__utf8_encode(c, u)) < 0)
            FAIL(T->ctx, FOLIO_ENOMEM, "%s: out of memory", T->name);
    }
    if (!out.len) FAIL(T->ctx, FOLIO_EEMPTY, "%s: the file holds only a byte order mark", T->name);
    free(T->buf);
    T->len = out.len;
    T->buf = folio__str_take(&out);
fail:
    folio__str_free(&out);
    return rc;
}

static int decode(txt_t *T)
{
    const unsigned char *b = (const unsigned char *)T->buf;
    /* UTF-32 first: its little-endian BOM starts with UTF-16's. */
    if (T->len >= 4 && b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0)
        return from_wide(T, 4, false);
    if (T->len >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF)
        return from_wide(T, 4, true);
    if (T->len >= 2 && b[0] == 0xFF && b[1] == 0xFE) return from_wide(T, 2, false);
    if (T->len >= 2 && b[0] == 0xFE && b[1] == 0xFF) return from_wide(T, 2, true);
    size_t skip = (T->len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) ? 3 : 0;
    const char *nul = memchr(T->buf, '\0', T->len);
    if (nul)
        return folio__error(T->ctx, FOLIO_EFORMAT,
                            "%s: a NUL byte at byte %zu: not a text file or an EPUB", T->name,
                            (size_t)(nul - T->buf));
    size_t bad;
    if (!folio__utf8_valid(T->buf + skip, T->len - skip, &bad))
        return folio__error(T->ctx, FOLIO_EENCODING,
                            "%s: invalid UTF-8 at byte %zu (convert the file to UTF-8)", T->name,
                            bad + skip);
    if (skip) {
        memmove(T->buf, T->buf + skip, T->len - skip + 1);
        T->len -= skip;
    }
    return FOLIO_OK;
}

/* ---- lines and pages ---- */

static int split_lines(txt_t *T)
{
    /* CRLF and lone CR become LF, in place. */
    size_t o = 0;
    for (size_t i = 0; i < T->len; i++) {
        if (T->buf[i] == '\r') {
            T->buf[o++] = '\n';
            if (i + 1 < T->len && T->buf[i + 1] == '\n') i++;
        } else {
            T->buf[o++] = T->buf[i];
        }
    }
    T->len = o;
    T->buf[o] = '\0';

    size_t page = 0, start = 0;
    for (size_t i = 0; i <= T->len; i++) {
        char c = i < T->len ? T->buf[i] : '\n';
        if (c != '\n' && c != '\f') continue;
        /* pdftotext ends every page's last line with "\n" and then writes "\f": a form feed
         * after a line break (or at the very end) does not make an empty line of its own. */
        bool empty_tail = i == start && (c == '\f' || i == T->len) && i > 0 &&
                          (T->buf[i - 1] == '\n' || T->buf[i - 1] == '\f');
        if (!empty_tail) {
            line_t l = {start, i - start, page, false, REGION_BODY};
            if (VEC_PUSH(T->lines, l) < 0) return FOLIO_ENOMEM;
        }
        if (c == '\f') {
            page++;
            T->form_feeds = true;
        }
        start = i + 1;
    }
    /* The empty page after a final form feed does not count. */
    if (T->form_feeds) {
        bool blank = true;
        for (size_t k = T->lines.len; k-- > 0 && T->lines.items[k].page == page && blank;)
            for (size_t j = 0; j < T->lines.items[k].len && blank; j++)
                blank = isspace((unsigned char)T->buf[T->lines.items[k].start + j]);
        if (blank)
            while (T->lines.len && T->lines.items[T->lines.len - 1].page == page) T->lines.len--;
        else
            page++;
        T->n_pages = page;
    } else {
        T->n_pages = 1;
    }
    return FOLIO_OK;
}

static bool blank_line(const txt_t *T, const line_t *l)
{
    for (size_t j = 0; j < l->len; j++)
        if (!isspace((unsigned char)T->buf[l->start + j])) return false;
    return true;
}

/* Trimmed view of a line. */
static const char *trimmed(const txt_t *T, const line_t *l, size_t *n)
{
    const char *s = T->buf + l->start;
    size_t len = l->len;
    while (len && isspace((unsigned char)*s)) s++, len--;
    while (len && isspace((unsigned char)s[len - 1])) len--;
    *n = len;
    return s;
}

/* "12", "- 12 -", "[xiv]": a line that is only a page number. */
static bool page_number_line(const char *s, size_t n)
{
    size_t i = 0, digits = 0, romans = 0;
    while (i < n && strchr("-[( ", s[i])) i++;
    size_t core = i;
    while (i < n && isdigit((unsigned char)s[i])) i++, digits++;
    if (!digits)
        while (i < n && strchr("ivxlcdmIVXLCDM", s[i])) i++, romans++;
    if (i == core || digits > 4 || romans > 8) return false;
    while (i < n && strchr("-]) ", s[i])) i++;
    return i == n;
}

/* A running head's key: the line without digits, lower-cased, spaces collapsed. */
static char *head_key(const char *s, size_t n)
{
    folio_str_t k = {0};
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isdigit(c)) continue;
        if (isspace(c)) {
            space = k.len > 0;
            continue;
        }
        if ((space && folio__str_appendc(&k, ' ') < 0) ||
            folio__str_appendc(&k, (char)tolower(c)) < 0) {
            folio__str_free(&k);
            return NULL;
        }
        space = false;
    }
    return folio__str_take(&k);
}

/* In paged text, the first and last non-blank lines of pages that are page numbers or repeat on
 * many pages (running heads) are printed furniture, not read: leave them out. */
static int drop_furniture(txt_t *T)
{
    if (T->n_pages < 3) return FOLIO_OK;
    int rc = FOLIO_OK;
    size_t n_edges = 0;
    size_t *edges = malloc(T->n_pages * 2 * sizeof(size_t)); /* line index or SIZE_MAX */
    folio_map_t counts = {0};
    if (!edges) return FOLIO_ENOMEM;
    for (size_t p = 0; p < T->n_pages * 2; p++) edges[p] = SIZE_MAX;
    for (size_t i = 0; i < T->lines.len; i++) {
        const line_t *l = &T->lines.items[i];
        if (blank_line(T, l)) continue;
        if (edges[2 * l->page] == SIZE_MAX) edges[2 * l->page] = i;
        edges[2 * l->page + 1] = i;
    }
    size_t numbers = 0;
    for (size_t e = 0; e < T->n_pages * 2; e++) {
        if (edges[e] == SIZE_MAX || (e % 2 == 1 && edges[e] == edges[e - 1])) continue;
        size_t n;
        const char *s = trimmed(T, &T->lines.items[edges[e]], &n);
        if (page_number_line(s, n)) numbers++;
        n_edges++;
    }
    size_t number_min = T->n_pages / 2 > 3 ? T->n_pages / 2 : 3;
    size_t dropped_numbers = 0, dropped_heads = 0;
    if (numbers >= number_min) {
        for (size_t e = 0; e < T->n_pages * 2; e++) {
            if (edges[e] == SIZE_MAX) continue;
            line_t *l = &T->lines.items[edges[e]];
            size_t n;
            const char *s = trimmed(T, l, &n);
            if (!l->dropped && page_number_line(s, n)) {
                l->dropped = true;
                dropped_numbers++;
            }
        }
    }
    /* Running heads: count the pages each edge line's key appears on. */
    for (size_t e = 0; e < T->n_pages * 2; e++) {
        if (edges[e] == SIZE_MAX || T->lines.items[edges[e]].dropped) continue;
        if (e % 2 == 1 && edges[e] == edges[e - 1]) continue;
        size_t n;
        const char *s = trimmed(T, &T->lines.items[edges[e]], &n);
        char *key = head_key(s, n);
        if (!key) FAIL(T->ctx, FOLIO_ENOMEM, "out of memory");
        size_t c = 0;
        if (strlen(key) >= 3) {
            folio__map_get(&counts, key, &c);
            rc = folio__map_put(&counts, key, c + 1);
        }
        free(key);
        if (rc < 0) goto fail;
    }
    size_t head_min = T->n_pages * 3 / 10 > 3 ? T->n_pages * 3 / 10 : 3;
    for (size_t e = 0; e < T->n_pages * 2; e++) {
        if (edges[e] == SIZE_MAX) continue;
        line_t *l = &T->lines.items[edges[e]];
        if (l->dropped) continue;
        size_t n, c = 0;
        const char *s = trimmed(T, l, &n);
        char *key = head_key(s, n);
        if (!key) FAIL(T->ctx, FOLIO_ENOMEM, "out of memory");
        if (folio__map_get(&counts, key, &c) && c >= head_min) {
            l->dropped = true;
            dropped_heads++;
        }
        free(key);
    }
    if (dropped_numbers || dropped_heads)
        folio__info(T->ctx, "%s: left out %zu page-number line(s) and %zu running head(s)", T->name,
                    dropped_numbers, dropped_heads);
fail:
    free(edges);
    folio__map_free(&counts);
    return rc;
}

/* ---- Project Gutenberg ---- */

static bool line_contains(const txt_t *T, const line_t *l, const char *needle)
{
    size_t nl = strlen(needle);
    for (size_t j = 0; j + nl <= l->len; j++)
        if (strncasecmp(T->buf + l->start + j, needle, nl) == 0) return true;
    return false;
}

static const char *language_tag(const char *name, size_t n)
{
    static const char *const map[][2] = {
        {"English", "en"}, {"French", "fr"},  {"German", "de"},     {"Spanish", "es"},
        {"Italian", "it"}, {"Dutch", "nl"},   {"Portuguese", "pt"}, {"Danish", "da"},
        {"Finnish", "fi"}, {"Swedish", "sv"}, {"Latin", "la"},      {"Norwegian", "no"}};
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strlen(map[i][0]) == n && strncasecmp(name, map[i][0], n) == 0) return map[i][1];
    return NULL;
}

static int header_field(txt_t *T, const line_t *l, const char *field, folio_meta_t key)
{
    size_t n, fl = strlen(field);
    const char *s = trimmed(T, l, &n);
    if (n <= fl || strncasecmp(s, field, fl) != 0 || T->book->meta[key]) return FOLIO_OK;
    s += fl, n -= fl;
    while (n && isspace((unsigned char)*s)) s++, n--;
    if (!n) return FOLIO_OK;
    if (key == FOLIO_META_LANGUAGE) {
        const char *tag = language_tag(s, n);
        if (!tag) return FOLIO_OK;
        s = tag, n = strlen(tag);
    }
    T->book->meta[key] = folio__strndup(s, n);
    return T->book->meta[key] ? FOLIO_OK : FOLIO_ENOMEM;
}

static int gutenberg(txt_t *T)
{
    size_t start = SIZE_MAX, end = SIZE_MAX;
    for (size_t i = 0; i < T->lines.len; i++) {
        const line_t *l = &T->lines.items[i];
        if (l->len > 200 || !line_contains(T, l, "***")) continue;
        if (start == SIZE_MAX && (line_contains(T, l, "START OF THE PROJECT GUTENBERG") ||
                                  line_contains(T, l, "START OF THIS PROJECT GUTENBERG")))
            start = i;
        else if (start != SIZE_MAX && (line_contains(T, l, "END OF THE PROJECT GUTENBERG") ||
                                       line_contains(T, l, "END OF THIS PROJECT GUTENBERG"))) {
            end = i;
            break;
        }
    }
    if (start == SIZE_MAX) return FOLIO_OK;
    for (size_t i = 0; i <= start; i++) {
        T->lines.items[i].region = REGION_FRONT;
        int rc;
        if ((rc = header_field(T, &T->lines.items[i], "Title:", FOLIO_META_TITLE)) < 0 ||
            (rc = header_field(T, &T->lines.items[i], "Author:", FOLIO_META_AUTHOR)) < 0 ||
            (rc = header_field(T, &T->lines.items[i], "Language:", FOLIO_META_LANGUAGE)) < 0)
            return rc;
    }
    for (size_t i = end; i < T->lines.len; i++) T->lines.items[i].region = REGION_BACK;
    return FOLIO_OK;
}

/* ---- hyphenation ---- */

static bool is_word_byte(unsigned char c)
{
    return isalpha(c) || c >= 0x80 || c == '\'';
}

/* Remember words written with a hyphen inside a line ("well-known"), lower-cased, so that a
 * line-end hyphen between the same parts is kept rather than joined away. */
static int collect_hyphenated(txt_t *T)
{
    for (size_t i = 0; i < T->lines.len; i++) {
        const char *s = T->buf + T->lines.items[i].start;
        size_t n = T->lines.items[i].len;
        for (size_t j = 1; j + 1 < n; j++) {
            if (s[j] != '-' || !is_word_byte((unsigned char)s[j - 1]) ||
                !is_word_byte((unsigned char)s[j + 1]))
                continue;
            size_t a = j, b = j + 1;
            while (a > 0 && (is_word_byte((unsigned char)s[a - 1]) || s[a - 1] == '-')) a--;
            while (b < n && (is_word_byte((unsigned char)s[b]) || s[b] == '-')) b++;
            char *w = folio__strndup(s + a, b - a);
            if (!w) return FOLIO_ENOMEM;
            for (char *p = w; *p; p++) *p = (char)tolower((unsigned char)*p);
            int rc = folio__map_put(&T->hyphenated, w, 1);
            free(w);
            if (rc < 0) return rc;
            j = b;
        }
    }
    return FOLIO_OK;
}

/* Does a line ending in @a (trimmed, ends with "x-") join its next line @b without a space? Sets
 * *keep when the hyphen stays ("well-" + "known"). */
static bool hyphen_join(txt_t *T, const char *a, size_t an, const char *b, size_t bn, bool *keep)
{
    if (an < 2 || a[an - 1] != '-' || !is_word_byte((unsigned char)a[an - 2]) || a[an - 2] == '\'')
        return false;
    if (!bn) return false;
    size_t len;
    UChar32 c = (UChar32)folio__utf8_decode(b, &len);
    if (!u_islower(c)) return false;
    size_t s = an - 1;
    while (s > 0 && (is_word_byte((unsigned char)a[s - 1]) || a[s - 1] == '-')) s--;
    size_t e = 0;
    while (e < bn && (is_word_byte((unsigned char)b[e]) || b[e] == '-')) e++;
    folio_str_t w = {0};
    *keep = false;
    if (folio__str_append(&w, a + s, an - s) == 0 && folio__str_append(&w, b, e) == 0) {
        for (char *p = w.data; *p; p++) *p = (char)tolower((unsigned char)*p);
        *keep = folio__map_get(&T->hyphenated, w.data, NULL);
    }
    folio__str_free(&w);
    return true;
}

/* ---- headings ---- */

static bool word_is(const char *s, size_t n, const char *word, size_t *after)
{
    size_t wl = strlen(word);
    if (n < wl || strncasecmp(s, word, wl) != 0) return false;
    if (n > wl && isalpha((unsigned char)s[wl])) return false;
    *after = wl;
    return true;
}

/* "CHAPTER XII", "Chapter 3. The Storm", "BOOK ONE", "PROLOGUE": level 1 for parts, 2 else. */
static int heading_level(const char *s, size_t n)
{
    if (n == 0 || n > 80) return 0;
    static const char *const numbered[] = {"chapter", "book",  "part",  "volume", "section", "act",
                                           "scene",   "canto", "stave", "letter", NULL};
    static const char *const single[] = {"prologue", "epilogue",  "preface",    "introduction",
                                         "foreword", "afterword", "conclusion", NULL};
    size_t after;
    for (const char *const *w = numbered; *w; w++) {
        if (!word_is(s, n, *w, &after)) continue;
        if (after >= n || s[after] != ' ') return 0;
        const char *r = s + after + 1;
        if (!isalnum((unsigned char)*r)) return 0;
        int part = strcmp(*w, "book") == 0 || strcmp(*w, "part") == 0 || strcmp(*w, "volume") == 0;
        return part ? 1 : 2;
    }
    for (const char *const *w = single; *w; w++) {
        if (!word_is(s, n, *w, &after)) continue;
        while (after < n && (s[after] == '.' || s[after] == ':' || s[after] == ' ')) after++;
        if (after == n) return 2;
    }
    return 0;
}

static bool contents_line(const char *s, size_t n)
{
    size_t after;
    return (word_is(s, n, "contents", &after) || word_is(s, n, "table of contents", &after)) &&
           after + 1 >= n;
}

/* ---- emitting paragraphs ---- */

typedef struct {
    size_t first, last; /* line indices, inclusive; dropped lines inside are skipped */
    size_t n_lines;
} para_t;

static int page_mark(txt_t *T, size_t page)
{
    char label[32];
    snprintf(label, sizeof(label), "%ld", T->opts->first_page_label + (long)page);
    long mark = folio__tb_mark(&T->tb);
    folio_page_mark_t pm = {folio__strdup(label), (size_t)mark};
    if (mark < 0 || !pm.label || VEC_PUSH(T->pages, pm) < 0) {
        free(pm.label);
        return FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

/* Emit one paragraph: lines joined with spaces, line-end hyphens undone, and a page mark where a
 * new page begins inside it (before the word that straddles the break, if one does). */
static int emit_paragraph(txt_t *T, const para_t *p, const folio_tb_style_t *st, size_t *page)
{
    int rc = FOLIO_OK;
    folio_str_t text = {0};
    VEC(size_t) cuts = {0}; /* byte positions in text where a page starts */
    VEC(size_t) cut_pages = {0};
    bool glue = false;    /* the previous line ended in a joined hyphen */
    size_t last_word = 0; /* where the last word of text starts (after its last space) */
    for (size_t i = p->first; i <= p->last; i++) {
        const line_t *l = &T->lines.items[i];
        if (l->dropped) continue;
        size_t n;
        const char *s = trimmed(T, l, &n);
        size_t word_start = text.len;
        if (glue) {
            word_start = last_word; /* kept up to date: no scan back over a long joined word */
        } else if (text.len) {
            TRY(folio__str_appendc(&text, ' '));
            word_start = last_word = text.len;
        }
        while (*page < l->page) {
            (*page)++;
            TRY(VEC_PUSH(cuts, word_start));
            TRY(VEC_PUSH(cut_pages, *page));
        }
        /* Look ahead for the next kept line to decide how this one ends. */
        size_t j = i + 1;
        while (j <= p->last && T->lines.items[j].dropped) j++;
        bool keep = false;
        size_t bn = 0;
        const char *b = j <= p->last ? trimmed(T, &T->lines.items[j], &bn) : NULL;
        glue = b && hyphen_join(T, s, n, b, bn, &keep);
        size_t add = glue && !keep ? n - 1 : n;
        TRY(folio__str_append(&text, s, add));
        for (size_t k = add; k > 0; k--)
            if (s[k - 1] == ' ') {
                last_word = text.len - add + k;
                break;
            }
    }
    size_t at = 0;
    for (size_t c = 0; c < cuts.len; c++) {
        TRY(folio__tb_text(&T->tb, text.data + at, cuts.items[c] - at, st, false));
        TRY(page_mark(T, cut_pages.items[c]));
        at = cuts.items[c];
    }
    TRY(folio__tb_text(&T->tb, text.data + at, text.len - at, st, false));
    TRY(folio__tb_break(&T->tb));
fail:
    folio__str_free(&text);
    VEC_FREE(cuts);
    VEC_FREE(cut_pages);
    return rc;
}

static int emit(txt_t *T)
{
    int rc = FOLIO_OK;
    /* Text with long unbroken lines and no blank lines has one paragraph a line. */
    size_t nonblank = 0, long_lines = 0;
    for (size_t i = 0; i < T->lines.len; i++) {
        if (blank_line(T, &T->lines.items[i])) continue;
        nonblank++;
        if (T->lines.items[i].len > 160) long_lines++;
    }
    bool line_paragraphs = long_lines * 2 > nonblank;

    size_t page = 0;
    bool in_contents = false;
    char *contents_first = NULL; /* the first entry of a contents list: its return ends the list */
    if (T->form_feeds) TRY(page_mark(T, 0));
    for (size_t i = 0; i < T->lines.len;) {
        const line_t *l = &T->lines.items[i];
        if (l->dropped || blank_line(T, l)) {
            while (page < l->page) TRY(page_mark(T, ++page));
            i++;
            continue;
        }
        para_t p = {i, i, 1};
        size_t j = i + 1;
        while (!line_paragraphs && j < T->lines.len) {
            const line_t *m = &T->lines.items[j];
            if (m->region != l->region) break;
            if (!m->dropped) {
                if (blank_line(T, m)) break;
                p.last = j;
                p.n_lines++;
            }
            j++;
        }
        size_t n;
        const char *s = trimmed(T, l, &n);
        folio_tb_style_t st = {FOLIO_BLOCK_PARAGRAPH, true, 0, 0, 0};
        int level = p.n_lines == 1 ? heading_level(s, n) : 0;
        if (l->region == REGION_FRONT) {
            st.kind = FOLIO_BLOCK_FRONTMATTER;
            st.read = false;
        } else if (l->region == REGION_BACK) {
            st.kind = FOLIO_BLOCK_BACKMATTER;
            st.read = false;
        } else if (p.n_lines == 1 && contents_line(s, n)) {
            in_contents = true;
            free(contents_first);
            contents_first = NULL;
            st.kind = FOLIO_BLOCK_TOC;
            st.read = false;
        } else if (in_contents && p.n_lines <= 2 && n <= 100 &&
                   !(contents_first && strlen(contents_first) == n &&
                     strncmp(contents_first, s, n) == 0)) {
            st.kind = FOLIO_BLOCK_TOC; /* an entry of a contents list */
            st.read = false;
            if (!contents_first && !(contents_first = folio__strndup(s, n)))
                FAIL(T->ctx, FOLIO_ENOMEM, "out of memory");
        } else if (level) {
            in_contents = false;
            st.kind = FOLIO_BLOCK_HEADING;
            st.level = level;
        } else {
            in_contents = false;
        }
        TRY(emit_paragraph(T, &p, &st, &page));
        i = p.last + 1;
    }
fail:
    free(contents_first);
    return rc;
}

static void txt_free(txt_t *T)
{
    free(T->buf);
    VEC_FREE(T->lines);
    folio__map_free(&T->hyphenated);
    folio__tb_free(&T->tb);
    for (size_t i = 0; i < T->pages.len; i++) free(T->pages.items[i].label);
    VEC_FREE(T->pages);
}

int folio__txt_read(folio_t *ctx, const char *path, const folio_book_options_t *opts,
                    folio_book_t *book)
{
    txt_t T = {.ctx = ctx, .name = path, .opts = opts, .book = book};
    int rc;
    TRY(folio__tb_init(&T.tb, ctx, path, book, opts->max_text_chars));
    TRY(read_file(&T));
    TRY(decode(&T));
    TRY(split_lines(&T));
    TRY(gutenberg(&T));
    TRY(drop_furniture(&T));
    TRY(collect_hyphenated(&T));
    TRY(emit(&T));
    TRY(folio__tb_finish(&T.tb));
    if (!book->text_chars) FAIL(ctx, FOLIO_EEMPTY, "%s: the file contains no text", path);
    book->format = FOLIO_BOOK_TXT;
    TRY(folio__book_title_from_name(book, path));
    TRY(folio__book_index_text(ctx, book));
    if (T.form_feeds) {
        rc = folio__book_set_pages(ctx, path, book, &T.tb, T.pages.items, T.pages.len,
                                   FOLIO_PAGES_FORM_FEED, opts->synthetic_page_chars);
        VEC_FREE(T.pages);
    } else {
        rc = folio__book_set_pages(ctx, path, book, &T.tb, NULL, 0, FOLIO_PAGES_SYNTHETIC,
                                   opts->synthetic_page_chars);
    }
    TRY(rc);
    TRY(folio__book_chapters_from_headings(book));
fail:
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx))
        folio__error(ctx, rc, "%s: out of memory", path);
    txt_free(&T);
    return rc;
}
