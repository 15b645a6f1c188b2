/* A photo's lines into the lookup's query: which lines are the page's text (not cut by the photo's
 * edge, not a running head, page number or footnote), the text matched, and the first whole
 * lines whose first word is the answer. Works on line lists alone (no tesseract). */
#include "ocr.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Lines further apart than this many times the usual line pitch are apart: a running head above
 * the text, footnotes below it (measured pitches: body 1.0, head to text 1.8-2.5, text to the
 * footnotes' first line 1.7-2.2). */
#define GAP_PITCH 1.5f
/* A line at the photo's top or bottom edge is whole when read this well, showing this share of the
 * height the photo's untouched lines show (measured: lines the edge cuts show 0.45-0.88 of it,
 * whole ones 0.85-1.25; a line without ascenders or descenders is at the low end). */
#define WHOLE_CONF 85.0f
#define WHOLE_HEIGHT 0.9f
/* ... or read this surely, showing this share (measured: tilted whole lines at the top edge read
 * at 94-97 show 0.84-0.9 by this measure). */
#define SURE_CONF 93.0f
#define SURE_HEIGHT 0.8f
/* Room above a photo's first line of more than this many line pitches is blank page (a chapter's
 * first page, its heading in large print above), not a crop through the text. */
#define ROOM_PITCH 2.5f
/* A running head has at most this many words (page number, a title). */
#define HEAD_WORDS 12

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    /* Beyond ASCII, the lead bytes of letters (from U+00C0; not U+2000-U+2FFF, quotes, dashes
     * and marks): a curly quote around a page number does not make it a word. */
    unsigned char u = (unsigned char)c;
    return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || (u >= 0xC3 && u != 0xE2);
}

/* Whether the word @w[0..n) is a page number: digits, with any punctuation around them. */
static bool number_word(const char *w, size_t n)
{
    size_t digits = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_digit(w[i]))
            digits++;
        else if (is_alnum(w[i]))
            return false;
    }
    return digits > 0 && digits <= 4;
}

/* Whether the line's text, punctuation aside, is a page number alone: "12", "- 12 -", "xii". */
static bool folio_line(const folio_ocr_line_t *ln, bool roman)
{
    size_t letters = 0, digits = 0, other = 0;
    for (const char *p = ln->text; *p; p++) {
        char c = (char)(*p | 0x20);
        if (is_digit(*p))
            digits++;
        else if (c == 'i' || c == 'v' || c == 'x' || c == 'l' || c == 'c')
            letters++;
        else if (is_alnum(*p))
            other++;
    }
    if (other) return false;
    return (digits && !letters && digits <= 4) || (roman && letters && !digits && letters <= 6);
}

/* Whether the line has a page number among its first two or last two words (a speck at the
 * page's edge reads as a word beside it). */
static bool numbered(const folio_ocr_line_t *ln)
{
    size_t n = ln->n_words;
    if (!n || n > HEAD_WORDS) return false;
    size_t at[4] = {0, n > 1 ? 1 : 0, n > 1 ? n - 2 : 0, n - 1};
    for (size_t i = 0; i < 4; i++) {
        const folio_ocr_word_t *w = &ln->words[at[i]];
        if (number_word(ln->text + w->byte_off, w->byte_len)) return true;
    }
    return false;
}

/* Whether the line starts as a footnote does: a number or a mark (*, dagger) before its text. */
static bool footnote_start(const folio_ocr_line_t *ln)
{
    if (!ln->n_words) return false;
    const char *w = ln->text + ln->words[0].byte_off;
    size_t n = ln->words[0].byte_len;
    if (number_word(w, n)) return true;
    if (w[0] == '*') return true;
    /* U+2020 dagger, U+2021 double dagger, superscript digits U+00B9 U+00B2 U+00B3 */
    if (n >= 3 && (unsigned char)w[0] == 0xE2 && (unsigned char)w[1] == 0x80 &&
        ((unsigned char)w[2] == 0xA0 || (unsigned char)w[2] == 0xA1))
        return true;
    if (n >= 2 && (unsigned char)w[0] == 0xC2 &&
        ((unsigned char)w[1] == 0xB9 || (unsigned char)w[1] == 0xB2 || (unsigned char)w[1] == 0xB3))
        return true;
    /* "1The footnote" read without the space */
    return is_digit(w[0]) && n > 1 && !is_digit(w[1]) && is_alnum(w[1]);
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* The usual distance between the tops of consecutive lines (0 with fewer than two lines). */
static float line_pitch(const folio_ocr_line_t *lines, size_t n)
{
    if (n < 2) return 0;
    int *d = malloc((n - 1) * sizeof(int));
    if (!d) return 0;
    for (size_t i = 0; i + 1 < n; i++) d[i] = lines[i + 1].box.y - lines[i].box.y;
    qsort(d, n - 1, sizeof(int), cmp_int);
    /* The lower median: the gaps are the few large ones. */
    float p = (float)d[(n - 2) / 2];
    free(d);
    return p;
}

static bool gap_after(const folio_ocr_line_t *lines, size_t i, float pitch)
{
    return pitch > 0 && (float)(lines[i + 1].box.y - lines[i].box.y) > GAP_PITCH * pitch;
}

/* Whether line @i is a title alone (a running head whose page number was not read): a few words
 * under 0.7 of the width of the widest line in [@from, @to). */
static bool narrow(const folio_ocr_line_t *lines, size_t i, size_t from, size_t to)
{
    int widest = 0;
    for (size_t k = from; k < to; k++)
        if (lines[k].box.w > widest) widest = lines[k].box.w;
    return lines[i].n_words <= HEAD_WORDS / 2 && (float)lines[i].box.w < 0.7f * (float)widest;
}

/* gap_after from line @i to the next line in [@i + 1, @to) not cut (a speck or a cut line read
 * between a running head and the text does not close the gap). */
static bool gap_below(const folio_ocr_line_t *lines, const folio_line_role_t *role, size_t i,
                      size_t to, float pitch)
{
    size_t j = i + 1;
    while (j + 1 < to && role[j] == FOLIO_LINE_CUT) j++;
    return pitch > 0 && (float)(lines[j].box.y - lines[i].box.y) > GAP_PITCH * pitch;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* A line's upright box on a photo turned by @slope (tan of the skew) is its text's height plus
 * what the turn adds over its width: the rest is how much of its height the photo shows. */
static float shown(const folio_ocr_line_t *ln, float slope)
{
    return (float)ln->box.h - slope * (float)ln->box.w;
}

/* Whether a line flagged cut is cut for the answer. A line missing a word at its left or right
 * end still places its first word within a word or two, so only the top and bottom count; and a
 * line on a tilted photo reaches the top or bottom edge with one end while all of it may be
 * there: read with high confidence and showing as much height as the photo's untouched lines,
 * it is whole. */
static bool is_cut(const folio_ocr_line_t *ln, float slope, float full)
{
    if (ln->cut & (FOLIO_OCR_CUT_SHORT | FOLIO_OCR_CUT_LOWCONF)) return true;
    if (!(ln->cut & (FOLIO_OCR_CUT_TOP | FOLIO_OCR_CUT_BOTTOM))) return false;
    if (full <= 0 || ln->conf < WHOLE_CONF) return true;
    /* The height shown is a rough measure on a tilted line; letters read this surely are whole. */
    float need = ln->conf >= SURE_CONF ? SURE_HEIGHT : WHOLE_HEIGHT;
    return shown(ln, slope) < need * full;
}

void folio__photo_roles(const folio_ocr_line_t *lines, size_t n, float skew_deg,
                        folio_line_role_t *role)
{
    float slope = fabsf(tanf(skew_deg * (float)M_PI / 180.0f)), full = 0;
    float *h = n ? malloc(n * sizeof(float)) : NULL;
    size_t nh = 0;
    for (size_t i = 0; h && i < n; i++)
        if (!lines[i].cut) h[nh++] = shown(&lines[i], slope);
    if (nh) {
        /* The lower median: with two or three untouched lines, one hyphen or tall mark makes a
         * line's box look taller than the text. */
        qsort(h, nh, sizeof(float), cmp_float);
        full = h[(nh - 1) / 2];
    }
    free(h);
    for (size_t i = 0; i < n; i++)
        role[i] = is_cut(&lines[i], slope, full) ? FOLIO_LINE_CUT : FOLIO_LINE_BODY;
    /* The first and last lines that are not cut: where a head or a page number can be. */
    size_t top = 0, bottom = n;
    while (top < n && role[top] == FOLIO_LINE_CUT) top++;
    while (bottom > top && role[bottom - 1] == FOLIO_LINE_CUT) bottom--;
    if (top >= bottom) return;
    float pitch = line_pitch(lines, n);
    if (folio_line(&lines[top], false)) {
        role[top++] = FOLIO_LINE_FOLIO;
    } else if (bottom - top > 1 && gap_below(lines, role, top, bottom, pitch) &&
               (numbered(&lines[top]) || narrow(lines, top, top, bottom))) {
        role[top++] = FOLIO_LINE_HEAD;
    }
    if (bottom > top && folio_line(&lines[bottom - 1], true)) role[--bottom] = FOLIO_LINE_FOLIO;
    /* Footnotes: the lines below the lowest gap, when the first of them starts with a mark, or
     * all are small print, and there is text above the gap. */
    for (size_t g = bottom; g-- > top + 1;) {
        if (!gap_after(lines, g - 1, pitch)) continue;
        bool small = true;
        for (size_t k = g; k < bottom; k++) small = small && lines[k].small;
        if (footnote_start(&lines[g]) || small)
            for (size_t k = g; k < bottom; k++)
                if (role[k] == FOLIO_LINE_BODY) role[k] = FOLIO_LINE_FOOTNOTE;
        break;
    }
}

int folio__photo_query(const folio_ocr_line_t *lines, size_t n, float skew_deg, folio_str_t *text,
                       folio_anchor_t *anchors, size_t max, size_t *n_anchors)
{
    *n_anchors = 0;
    if (!n) return FOLIO_OK;
    folio_line_role_t *role = malloc(n * sizeof(*role));
    if (!role) return FOLIO_ENOMEM;
    folio__photo_roles(lines, n, skew_deg, role);
    /* The body, or the footnotes when the photo shows no whole line of the body. */
    folio_line_role_t body = FOLIO_LINE_FOOTNOTE;
    for (size_t i = 0; i < n; i++)
        if (role[i] == FOLIO_LINE_BODY) body = FOLIO_LINE_BODY;
    size_t first = n, last = 0;
    for (size_t i = 0; i < n; i++)
        if (role[i] == body) {
            if (first == n) first = i;
            last = i;
        }
    int rc = FOLIO_OK;
    if (first == n) goto done;
    for (size_t i = 0; i < first && max; i++)
        if (role[i] == FOLIO_LINE_HEAD) {
            anchors[(*n_anchors)++] =
                (folio_anchor_t){lines[i].text, strlen(lines[i].text), true, false, false, false};
            break;
        }
    /* Room above the first line where a chapter's heading can stand (read as a head, or
     * unread: large print often reads as garbage): blank page, or a line that the photo's top
     * edge does not cut. */
    bool room = lines[first].box.y > ROOM_PITCH * line_pitch(lines, n);
    for (size_t i = 0; i < first; i++) room = room || !(lines[i].cut & FOLIO_OCR_CUT_TOP);
    for (size_t i = first; i <= last; i++) {
        if (role[i] != body && role[i] != FOLIO_LINE_CUT) continue;
        if (text->len) TRY(folio__str_appendc(text, '\n'));
        TRY(folio__str_append(text, lines[i].text, strlen(lines[i].text)));
        if (role[i] == body && *n_anchors < max)
            anchors[(*n_anchors)++] = (folio_anchor_t){lines[i].text,
                                                       strlen(lines[i].text),
                                                       false,
                                                       lines[i].cut & FOLIO_OCR_CUT_LEFT,
                                                       lines[i].cut & FOLIO_OCR_CUT_RIGHT,
                                                       i == first && room};
    }
done:
fail:
    free(role);
    return rc;
}
