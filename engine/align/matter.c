/* Matter nobody reads that looks like what a recording says about the book: the book's own
 * unread blocks, and read blocks that are a contents list, a title page or a Project Gutenberg
 * line. Such text is aligned only when a stretch of it is clearly read in order, never by a few
 * words an announcement ("Chapter one of Sense and Sensibility") shares with it. */
#include "align_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define TITLE_MAX 16       /* a chapter title's tokens compared at most */
#define CONTENTS_COVER 0.7 /* a contents block: this share of its tokens chapter titles */
#define TITLE_PAGE_MAX 40  /* a title page's block has at most this many tokens */
#define TITLE_PAGE_SHARE 0.6
#define TITLE_LINE_MAX 12 /* the first block of a book this short is its title */
#define GUTENBERG_MAX 60  /* a Gutenberg line's block has at most this many tokens */
#define READ_RUN 6        /* unread matter keeps its times only in runs this long, in order */

/* Words that fill a contents list or a title page besides titles, names and numbers. */
static const char *const fillers[] = {
    "contents",    "table",   "of",
    "by",          "edited",  "translated",
    "illustrated", "with",    "and",
    "the",         "a",       "an",
    "in",          "volume",  "book",
    "author",      "chapter", "page",
    "ebook",       "edition", "copyright",
    "all",         "rights",  "reserved",
    "published",   "press",   "illustrations",
};

static bool in_list(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(w, list[i]) == 0) return true;
    return false;
}

static bool is_filler(const char *w)
{
    return in_list(w, fillers, sizeof(fillers) / sizeof(*fillers));
}

/* Whether @w is said for a number (chapter and page numbers fill a contents list). */
static bool is_number(const char *w)
{
    static const char *const numbers[] = {
        "one",     "two",     "three",     "four",     "five",     "six",      "seven",
        "eight",   "nine",    "ten",       "eleven",   "twelve",   "thirteen", "fourteen",
        "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",   "thirty",
        "forty",   "fifty",   "sixty",     "seventy",  "eighty",   "ninety",   "hundred",
        "first",   "second",  "third",     "fourth",   "fifth",    "sixth",    "seventh",
        "eighth",  "ninth",   "tenth"};
    return in_list(w, numbers, sizeof(numbers) / sizeof(*numbers));
}

/* Whether @w is one of the words of @s (ASCII letters and digits compared without case). */
static bool in_meta(const char *s, const char *w)
{
    size_t n = strlen(w);
    if (!s || !n) return false;
    for (const char *p = s; *p;) {
        while (*p && !isalnum((unsigned char)*p)) p++;
        const char *q = p;
        while (*q && isalnum((unsigned char)*q)) q++;
        if ((size_t)(q - p) == n) {
            size_t k = 0;
            while (k < n && tolower((unsigned char)p[k]) == (unsigned char)w[k]) k++;
            if (k == n) return true;
        }
        p = q;
    }
    return false;
}

/* The tokens of block @b: [*a, *z). */
static void block_tokens(aligner_t *A, size_t b, size_t from, size_t *a, size_t *z)
{
    size_t t = from;
    while (t < A->n_tok && folio_book_token(A->book, t)->block < b) t++;
    *a = t;
    while (t < A->n_tok && folio_book_token(A->book, t)->block == b) t++;
    *z = t;
}

/* The longest chapter title (the tokens of a chapter's first block, TITLE_MAX at most) that
 * starts at token @t and ends by @z: its length, or 0. */
static size_t title_at(aligner_t *A, const size_t *title, size_t n_titles, size_t t, size_t z)
{
    size_t best = 0;
    for (size_t c = 0; c < n_titles; c++) {
        size_t s = title[c], len = 0;
        size_t blk = folio_book_token(A->book, s)->block;
        while (len < TITLE_MAX && s + len < A->n_tok &&
               folio_book_token(A->book, s + len)->block == blk && t + len < z &&
               A->tok_id[s + len] == A->tok_id[t + len])
            len++;
        bool whole = len == TITLE_MAX || s + len >= A->n_tok ||
                     folio_book_token(A->book, s + len)->block != blk;
        if (whole && len > best) best = len;
    }
    return best;
}

/* Whether tokens [a, z) read like a contents list: chapter titles (and words that fill a
 * list) cover CONTENTS_COVER of them; the number of titles in *@n_titles, and whether the word
 * "contents" is among them in *@named. */
static bool contents_like(aligner_t *A, const size_t *title, size_t n_title, size_t a, size_t z,
                          size_t *n_titles, bool *named)
{
    size_t covered = 0;
    *n_titles = 0;
    *named = false;
    for (size_t t = a; t < z;) {
        size_t len = title_at(A, title, n_title, t, z);
        if (len) {
            covered += len;
            ++*n_titles;
            t += len;
            continue;
        }
        const char *w = folio_book_token(A->book, t)->text;
        covered += is_filler(w) || is_number(w);
        *named = *named || strcmp(w, "contents") == 0;
        t++;
    }
    return z > a && *n_titles && (double)covered >= CONTENTS_COVER * (double)(z - a);
}

/* Whether tokens [a, z) are a Project Gutenberg line ("End of the Project Gutenberg EBook of
 * …"). */
static bool gutenberg_like(aligner_t *A, size_t a, size_t z)
{
    if (z - a > GUTENBERG_MAX) return false;
    for (size_t t = a; t + 1 < z; t++)
        if (strcmp(folio_book_token(A->book, t)->text, "project") == 0 &&
            strncmp(folio_book_token(A->book, t + 1)->text, "gutenberg", 9) == 0)
            return true;
    return false;
}

/* Whether tokens [a, z) read like a title page: few, and mostly the book's title, its author
 * and the words around them ("edited by"); or, when the book says no title (plain text names
 * itself after its file), the book's first block when short, and an author's line ("by …")
 * right after it. */
static bool title_page_like(aligner_t *A, size_t a, size_t z, size_t n_before)
{
    if (z <= a || z - a > TITLE_PAGE_MAX) return false;
    if (n_before == 0 && z - a <= TITLE_LINE_MAX) return true;
    if (n_before == 1 && z - a <= TITLE_LINE_MAX &&
        strcmp(folio_book_token(A->book, a)->text, "by") == 0)
        return true;
    const char *title = folio_book_meta(A->book, FOLIO_META_TITLE);
    const char *author = folio_book_meta(A->book, FOLIO_META_AUTHOR);
    size_t hits = 0;
    for (size_t t = a; t < z; t++) {
        const char *w = folio_book_token(A->book, t)->text;
        hits += is_filler(w) || in_meta(title, w) || in_meta(author, w);
    }
    return (double)hits >= TITLE_PAGE_SHARE * (double)(z - a);
}

static void mark(aligner_t *A, size_t a, size_t z, const char *what)
{
    if (z > a)
        folio__debug(A->ctx,
                     "alignment: \"%s\" … (%zu words) reads like %s: not read unless "
                     "read in order",
                     folio_book_token(A->book, a)->text, z - a, what);
    for (size_t t = a; t < z; t++) A->unread[t] = true;
}

int folio__align_find_unread(aligner_t *A)
{
    const folio_book_t *book = A->book;
    size_t *title = malloc((folio_book_n_chapters(book) + 1) * sizeof(size_t));
    size_t n_title = 0, first_chapter = SIZE_MAX;
    if (!title) return FOLIO_ENOMEM;
    for (size_t t = 0; t < A->n_tok; t++) {
        A->unread[t] = !folio_book_token(book, t)->read;
        if (A->chapter_start[t]) {
            title[n_title++] = t;
            if (first_chapter == SIZE_MAX) first_chapter = t;
        }
    }
    /* Runs of read blocks that read like a contents list, a block at a time (a list may be a
     * paragraph, or a block an entry). */
    size_t run_a = SIZE_MAX, run_z = 0, run_titles = 0, from = 0, n_before = 0;
    bool run_named = false;
    for (size_t b = 0; b <= folio_book_n_blocks(book); b++) {
        size_t a = A->n_tok, z = A->n_tok, n = 0;
        bool list = false, named = false;
        if (b < folio_book_n_blocks(book)) {
            block_tokens(A, b, from, &a, &z);
            from = z;
            if (a == z) continue;
            bool chapter = false;
            for (size_t t = a; t < z; t++) chapter = chapter || A->chapter_start[t];
            bool read = !A->unread[a];
            list = read && !chapter && contents_like(A, title, n_title, a, z, &n, &named);
            if (read && !chapter && !list) {
                if (gutenberg_like(A, a, z))
                    mark(A, a, z, "a Project Gutenberg line");
                else if (a < first_chapter && title_page_like(A, a, z, n_before))
                    mark(A, a, z, "a title page");
            }
            n_before += read;
        }
        if (list) {
            if (run_a == SIZE_MAX) run_a = a;
            run_z = z;
            run_titles += n;
            run_named = run_named || named;
            continue;
        }
        if (run_a != SIZE_MAX && (run_titles >= 2 || run_named))
            mark(A, run_a, run_z, "a contents list");
        run_a = SIZE_MAX;
        run_titles = 0;
        run_named = false;
    }
    free(title);
    return FOLIO_OK;
}

/* Timed tokens of unread matter keep their times only in runs of READ_RUN tokens or more, each
 * following the last in the same file and not far after it; every other time in the same stretch
 * of unread matter goes. */
void folio__align_drop_unread_matter(aligner_t *A)
{
    for (size_t a = 0; a < A->n_tok;) {
        if (!A->unread[a]) {
            a++;
            continue;
        }
        size_t z = a;
        while (z < A->n_tok && A->unread[z]) z++;
        size_t longest = 0, run = 0;
        for (size_t t = a; t < z; t++) {
            bool follows = t > a && A->t_start[t] >= 0 && A->t_start[t - 1] >= 0 &&
                           A->t_file[t] == A->t_file[t - 1] &&
                           A->t_start[t] >= A->t_end[t - 1] - 0.1 &&
                           A->t_start[t] - A->t_end[t - 1] < 2.0;
            run = A->t_start[t] < 0 ? 0 : follows ? run + 1 : 1;
            if (run > longest) longest = run;
        }
        if (longest < READ_RUN)
            for (size_t t = a; t < z; t++)
                if (A->t_start[t] >= 0) {
                    folio__debug(A->ctx, "alignment: \"%s\" at %.2f s is not read",
                                 folio_book_token(A->book, t)->text, A->t_start[t]);
                    folio__align_untime(A, t);
                }
        a = z;
    }
}

/* ---- what the recording says about the book ---- */

#define OPENING_SECONDS 45.0 /* a file's announcement is in its first seconds */
#define ANNOUNCED_RUN 30     /* a stretch of text this long is never only an announcement */

typedef struct {
    uint64_t key;
    size_t file;
} opening_gram_t;

static int cmp_gram(const void *x, const void *y)
{
    const opening_gram_t *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return (a->file > b->file) - (a->file < b->file);
}

/* Heard words that are the recording's own: in the opening seconds of a file, in a trigram said
 * in the openings of other files too ("… of Sense and Sensibility. This is a LibriVox
 * recording …"); into @out (one flag a heard word). */
static int find_announced(aligner_t *A, bool *out)
{
    const folio_heard_t *h = A->in->heard;
    size_t n = 0;
    for (size_t j = 0; j + 2 < A->n_rec; j++)
        n += h[j].file_time < OPENING_SECONDS && h[j + 2].file == h[j].file;
    opening_gram_t *g = malloc((n ? n : 1) * sizeof(*g));
    if (!g) return FOLIO_ENOMEM;
    n = 0;
    for (size_t j = 0; j + 2 < A->n_rec; j++)
        if (h[j].file_time < OPENING_SECONDS && h[j + 2].file == h[j].file)
            g[n++] = (opening_gram_t){((uint64_t)A->rec_id[j] << 42) |
                                          ((uint64_t)A->rec_id[j + 1] << 21) | A->rec_id[j + 2],
                                      h[j].file};
    qsort(g, n, sizeof(*g), cmp_gram);
    /* Keys said in two files or more. */
    size_t keep = 0;
    for (size_t i = 0; i < n;) {
        size_t e = i + 1;
        bool files = false;
        for (; e < n && g[e].key == g[i].key; e++) files = files || g[e].file != g[i].file;
        if (files) g[keep++] = g[i];
        i = e;
    }
    for (size_t j = 0; j + 2 < A->n_rec; j++) {
        if (h[j].file_time >= OPENING_SECONDS || h[j + 2].file != h[j].file) continue;
        opening_gram_t k = {((uint64_t)A->rec_id[j] << 42) | ((uint64_t)A->rec_id[j + 1] << 21) |
                                A->rec_id[j + 2],
                            0};
        size_t lo = 0, hi = keep;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (g[mid].key < k.key)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < keep && g[lo].key == k.key) out[j] = out[j + 1] = out[j + 2] = true;
    }
    free(g);
    return FOLIO_OK;
}

int folio__align_drop_announced(aligner_t *A)
{
    if (A->in->n_files < 2 || !A->n_rec) return FOLIO_OK;
    bool *said = calloc(A->n_rec, sizeof(bool));
    if (!said) return FOLIO_ENOMEM;
    int rc = find_announced(A, said);
    if (rc < 0) goto done;
    /* Stretches of timed tokens (neighbours at most three tokens apart in one file) whose every
     * time is a heard word of an announcement. */
    for (size_t a = 0; a < A->n_tok;) {
        if (A->t_start[a] < 0) {
            a++;
            continue;
        }
        size_t z = a, n = 0;
        bool only = true;
        for (size_t u = a; u < A->n_tok && u <= z + 3; u++) {
            if (A->t_start[u] < 0) continue;
            if (A->t_file[u] != A->t_file[a]) break;
            only = only && A->tok_rec[u] >= 0 && said[A->tok_rec[u]];
            z = u;
            n++;
        }
        if (only && n <= ANNOUNCED_RUN) {
            folio__debug(A->ctx,
                         "alignment: \"%s\" … at %.2f s is only heard in the recording's "
                         "announcements",
                         folio_book_token(A->book, a)->text, A->t_start[a]);
            for (size_t u = a; u <= z; u++)
                if (A->t_start[u] >= 0) folio__align_untime(A, u);
        }
        a = z + 1;
    }
done:
    free(said);
    return rc;
}
