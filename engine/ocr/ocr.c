/* The OCR handle: tesseract's recogniser kept loaded for reuse, a photo's working image recognised
 * as one block of text, and its lines read back in order with their boxes, confidences and the
 * signs of a line cut by the photo's edge. */
#include "ocr.h"
#include "image.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tesseract/capi.h>
#ifdef FOLIO_OCR_OPENMP
#include <omp.h>
#endif

/* A box in the working image, as tesseract gives it (left, top, right, bottom). */
typedef struct {
    int l, t, r, b;
} work_box_t;

struct folio_ocr {
    folio_t *ctx;
    TessBaseAPI *api;
    folio_ocr_tuning_t tuning;
    /* The last page's results (reused from read to read). */
    VEC(folio_ocr_line_t) lines;
    VEC(folio_ocr_word_t) words;
    folio_sizes_t first_word; /* each line's first word in words */
    VEC(work_box_t) wbox;     /* each word's box in the working image */
    VEC(float) scratch;       /* heights, for medians */
    folio_str_t text;         /* all words; finish() cuts it into the lines' strings */
};

/* A line is close to an edge when its box comes within this many working pixels of it (JPEG
 * blur spreads ink a pixel or two beyond the true glyph). */
#define EDGE_MARGIN 3.0

/* A word at a line's end under this confidence is noise (see junk()). */
#define JUNK_CONF 30.0f

static pthread_once_t tess_once = PTHREAD_ONCE_INIT;

static void setup_tesseract(void)
{
#ifdef FOLIO_OCR_OPENMP
    /* tesseract's recogniser spreads a line over OpenMP threads that spin while they wait: with
     * one handle per thread, or beside other busy processes, that burns 3-4 times the CPU time
     * for no gain (measured: 2 page photos 16 CPU-s against 4). No OpenMP region may go
     * parallel in this process; a caller's own OpenMP code is serialised as well. */
    omp_set_max_active_levels(0);
#endif
    /* tesseract's debug_file is a process-global parameter: its messages ("Empty page!!",
     * resolution warnings) go there instead of stderr. */
    TessBaseAPI *api = TessBaseAPICreate();
    if (!api) return;
    TessBaseAPISetVariable(api, "debug_file", "/dev/null");
    TessBaseAPIDelete(api);
}

/* Measured on 56 photos of two typeset pages (rotated 2-5 degrees, keystone, blur, noise, uneven
 * light, JPEG 50-70; whole pages, top halves, paragraphs, 3-4 lines), one core: deskewing is worth
 * most (without it 0.58% CER and 6 of 56 first whole lines wrong, and slower); one uniform block
 * (PSM 6) beats the automatic layout (PSM 3: 0.34% CER, 7 wrong, it drops and reorders lines);
 * background normalisation puts 2 more first lines right for ~0.1 s a page; the long side at
 * 1700-3000 px reads as well as at full size, 2000 keeps room for smaller print. */
folio_ocr_tuning_t folio__ocr_tuning_default(void)
{
    return (folio_ocr_tuning_t){
        .max_side = 2000,
        .deskew = true,
        .normalize = true,
        .psm = PSM_SINGLE_BLOCK,
        .try_invert = false,
    };
}

int folio__ocr_tune(folio_ocr_t *o, const folio_ocr_tuning_t *t)
{
    if (!o || !t || t->max_side < 256 || t->max_side > FOLIO_OCR_MAX_SIDE || t->psm < 0 ||
        t->psm >= PSM_COUNT || t->psm == PSM_OSD_ONLY)
        return FOLIO_EINVAL;
    o->tuning = *t;
    TessBaseAPISetPageSegMode(o->api, (TessPageSegMode)t->psm);
    TessBaseAPISetVariable(o->api, "tessedit_do_invert", t->try_invert ? "1" : "0");
    return FOLIO_OK;
}

folio_ocr_t *folio__ocr_new(folio_t *ctx, const char *datapath, int *err)
{
    int rc = FOLIO_OK;
    folio_ocr_t *o = NULL;
    folio__ocr_quiet_leptonica();
    pthread_once(&tess_once, setup_tesseract);
    o = calloc(1, sizeof(*o));
    if (!o || !(o->api = TessBaseAPICreate())) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    o->ctx = ctx;
    if (TessBaseAPIInit2(o->api, datapath, "eng", OEM_LSTM_ONLY) != 0)
        FAIL(ctx, FOLIO_EIO,
             "cannot load tesseract's English model (eng.traineddata) from %s: is "
             "tesseract-ocr-eng installed?",
             datapath ? datapath : "the system's tessdata folder");
    folio_ocr_tuning_t t = folio__ocr_tuning_default();
    TRY(folio__ocr_tune(o, &t));
    if (err) *err = FOLIO_OK;
    return o;
fail:
    folio__ocr_free(o);
    if (err) *err = rc;
    return NULL;
}

folio_t *folio__ocr_set_ctx(folio_ocr_t *o, folio_t *ctx)
{
    folio_t *was = o->ctx;
    o->ctx = ctx;
    return was;
}

void folio__ocr_free(folio_ocr_t *o)
{
    if (!o) return;
    if (o->api) {
        TessBaseAPIEnd(o->api);
        TessBaseAPIDelete(o->api);
    }
    VEC_FREE(o->lines);
    VEC_FREE(o->words);
    VEC_FREE(o->first_word);
    VEC_FREE(o->wbox);
    VEC_FREE(o->scratch);
    folio__str_free(&o->text);
    free(o);
}

/* The working-image box @wb as a box of the decoded image, and which of the decoded image's edges
 * the ink inside it comes near (FOLIO_OCR_CUT_TOP...). */
static unsigned map_box(const folio_ocr_geom_t *g, const work_box_t *wb, folio_ocr_box_t *box)
{
    double xs[4], ys[4];
    folio__ocr_unmap(g, wb->l, wb->t, &xs[0], &ys[0]);
    folio__ocr_unmap(g, wb->r, wb->t, &xs[1], &ys[1]);
    folio__ocr_unmap(g, wb->l, wb->b, &xs[2], &ys[2]);
    folio__ocr_unmap(g, wb->r, wb->b, &xs[3], &ys[3]);
    double x0 = xs[0], x1 = xs[0], y0 = ys[0], y1 = ys[0];
    for (int i = 1; i < 4; i++) {
        x0 = fmin(x0, xs[i]), x1 = fmax(x1, xs[i]);
        y0 = fmin(y0, ys[i]), y1 = fmax(y1, ys[i]);
    }
    /* The margin is in working pixels; the corners of a level box map onto the tilted line's
     * own corners, so a whole line near the edge stays clear of it. */
    double m = EDGE_MARGIN / g->scale;
    unsigned edges = 0;
    if (y0 <= m) edges |= FOLIO_OCR_CUT_TOP;
    if (y1 >= g->height - 1 - m) edges |= FOLIO_OCR_CUT_BOTTOM;
    if (x0 <= m) edges |= FOLIO_OCR_CUT_LEFT;
    if (x1 >= g->width - 1 - m) edges |= FOLIO_OCR_CUT_RIGHT;
    x0 = fmax(x0, 0), y0 = fmax(y0, 0);
    x1 = fmin(x1, g->width), y1 = fmin(y1, g->height);
    *box = (folio_ocr_box_t){(int)lround(x0), (int)lround(y0), (int)lround(x1 - x0),
                             (int)lround(y1 - y0)};
    return edges;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The median of @v[0..n) (reordered); 0 for none. */
static float median_of(float *v, size_t n)
{
    if (!n) return 0;
    qsort(v, n, sizeof(float), cmp_float);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Collect the recognised words into o->words, o->text and o->wbox, and each line's first word
 * into o->first_word (o->lines gets a blank entry a line; finish() fills them in). */
static int collect(folio_ocr_t *o)
{
    int rc = FOLIO_OK;
    TessResultIterator *ri = TessBaseAPIGetIterator(o->api);
    if (!ri) return FOLIO_OK; /* nothing recognised */
    TessPageIterator *pi = TessResultIteratorGetPageIterator(ri);
    do {
        if (!o->lines.len || TessPageIteratorIsAtBeginningOf(pi, RIL_TEXTLINE)) {
            TRY(VEC_PUSH(o->lines, (folio_ocr_line_t){0}));
            TRY(VEC_PUSH(o->first_word, o->words.len));
        }
        work_box_t wb;
        char *word = TessResultIteratorGetUTF8Text(ri, RIL_WORD);
        if (!word) continue;
        size_t len = strlen(word);
        if (len && TessPageIteratorBoundingBox(pi, RIL_WORD, &wb.l, &wb.t, &wb.r, &wb.b)) {
            folio_ocr_word_t w = {.byte_len = len};
            if (o->words.len) rc = folio__str_appendc(&o->text, ' ');
            w.byte_off = o->text.len;
            if (rc >= 0) rc = folio__str_append(&o->text, word, len);
            w.conf = TessResultIteratorConfidence(ri, RIL_WORD);
            if (rc >= 0) rc = VEC_PUSH(o->words, w);
            if (rc >= 0) rc = VEC_PUSH(o->wbox, wb);
            o->lines.items[o->lines.len - 1].n_words++;
        }
        TessDeleteText(word);
        if (rc < 0) goto fail;
    } while (TessResultIteratorNext(ri, RIL_WORD));
fail:
    TessResultIteratorDelete(ri);
    return rc;
}

/* Whether a word at a line's end is noise rather than text: tesseract reads the shadow of a page
 * edge, a thumb, a speck or the remains of a cut line as marks ("_", "~") or as short words of
 * low confidence, and their boxes would make the line reach the photo's edge. Marks alone are
 * dropped whatever their confidence: at a line's end they carry nothing to match. */
static bool junk(const char *text, const folio_ocr_word_t *w)
{
    bool alnum = false;
    for (size_t i = 0; i < w->byte_len; i++) {
        unsigned char c = (unsigned char)text[w->byte_off + i];
        /* Of the rest, the lead bytes of letters (accented Latin, Greek, Cyrillic, ... from
         * U+00C0; not U+2000-U+2FFF, the dashes, quotes, marks and symbols such as a "(TM)" read
         * from a speck). */
        if ((c >= 0xC3 && c < 0xE2) || c > 0xE2 || (c >= '0' && c <= '9') ||
            ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
            alnum = true;
    }
    return !alnum || w->conf < JUNK_CONF || (w->byte_len == 1 && w->conf < 2 * JUNK_CONF);
}

/* Turn the collected words into the page's lines: noise trimmed from each line's ends, each line
 * its own NUL-terminated text with word offsets relative to it, its box, height, confidence and
 * cut flags. */
static int finish(folio_ocr_t *o, const folio_ocr_geom_t *g, folio_ocr_page_t *out)
{
    size_t kept = 0, n_lines = o->lines.len;
    for (size_t i = 0; i < n_lines; i++) {
        size_t first = o->first_word.items[i], n = o->lines.items[i].n_words;
        while (n && junk(o->text.data, &o->words.items[first])) first++, n--;
        while (n && junk(o->text.data, &o->words.items[first + n - 1])) n--;
        if (!n) continue;
        folio_ocr_line_t ln = {.n_words = n};
        work_box_t u = o->wbox.items[first];
        for (size_t k = 0; k < n; k++) {
            folio_ocr_word_t *w = &o->words.items[first + k];
            const work_box_t *b = &o->wbox.items[first + k];
            map_box(g, b, &w->box);
            u.l = b->l < u.l ? b->l : u.l, u.t = b->t < u.t ? b->t : u.t;
            u.r = b->r > u.r ? b->r : u.r, u.b = b->b > u.b ? b->b : u.b;
            ln.conf += w->conf;
        }
        ln.conf /= (float)n;
        ln.cut = map_box(g, &u, &ln.box);
        /* The upper quartile of its words' heights (those with ascenders and descenders): a
         * footnote mark or one tall word does not make a line of small print look full size. */
        if (folio__grow((void **)&o->scratch.items, &o->scratch.cap, n, sizeof(float)) < 0)
            return folio__error(o->ctx, FOLIO_ENOMEM, "out of memory");
        for (size_t k = 0; k < n; k++) {
            const work_box_t *b = &o->wbox.items[first + k];
            o->scratch.items[k] = (float)((b->b - b->t) / g->scale);
        }
        qsort(o->scratch.items, n, sizeof(float), cmp_float);
        ln.height = o->scratch.items[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
        /* The byte after a line's last word is the space before the next word, or the end:
         * a NUL there ends the line's string. */
        size_t start = o->words.items[first].byte_off;
        const folio_ocr_word_t *last = &o->words.items[first + n - 1];
        o->text.data[last->byte_off + last->byte_len] = '\0';
        for (size_t k = 0; k < n; k++) o->words.items[first + k].byte_off -= start;
        ln.text = o->text.data + start;
        ln.words = &o->words.items[first];
        o->lines.items[kept++] = ln;
    }
    o->lines.len = kept;

    if (folio__grow((void **)&o->scratch.items, &o->scratch.cap, kept, sizeof(float)) < 0)
        return folio__error(o->ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < kept; i++) o->scratch.items[i] = o->lines.items[i].height;
    float median = median_of(o->scratch.items, kept);
    for (size_t i = 0; i < kept; i++) {
        folio_ocr_line_t *ln = &o->lines.items[i];
        if (ln->conf < FOLIO_OCR_MIN_CONF) ln->cut |= FOLIO_OCR_CUT_LOWCONF;
        /* Only where an edge can cut: a short line mid-page is small print, not half a line. */
        if ((i == 0 || i == kept - 1) && kept >= 3 && ln->height < 0.6f * median)
            ln->cut |= FOLIO_OCR_CUT_SHORT;
        ln->small = ln->height < 0.85f * median;
    }
    out->lines = o->lines.items;
    out->n_lines = kept;
    out->median_height = median;
    return FOLIO_OK;
}

int folio__ocr_read(folio_ocr_t *o, const void *bytes, size_t n, folio_ocr_page_t *out)
{
    int rc = FOLIO_OK;
    PIX *pix = NULL;
    if (!out) return FOLIO_EINVAL;
    memset(out, 0, sizeof(*out));
    if (!o || (!bytes && n)) return folio__error(o ? o->ctx : NULL, FOLIO_EINVAL, "no image");
    o->lines.len = o->words.len = o->first_word.len = o->wbox.len = 0;
    o->text.len = 0;
    double t0 = folio__now();
    folio_ocr_geom_t g;
    TRY(folio__ocr_prepare(o->ctx, bytes, n, &o->tuning, &pix, &g));
    out->width = g.width;
    out->height = g.height;
    out->skew_deg = (float)(g.skew_rad * 180.0 / M_PI);
    double t1 = folio__now();
    out->decode_sec = t1 - t0;
    if (!pix) return FOLIO_OK;

    TessBaseAPISetImage2(o->api, pix);
    /* Photos carry no trustworthy resolution; a nominal one keeps tesseract from guessing (and
     * from warning about it). */
    TessBaseAPISetSourceResolution(o->api, 300);
    if (TessBaseAPIRecognize(o->api, NULL) == 0) {
        TRY(folio__str_append(&o->text, "", 0)); /* o->text.data is never NULL below */
        TRY(collect(o));
        TRY(finish(o, &g, out));
    }
    out->ocr_sec = folio__now() - t1;
fail:
    TessBaseAPIClear(o->api);
    pixDestroy(&pix);
    if (rc == FOLIO_ENOMEM) folio__error(o->ctx, rc, "out of memory reading the image");
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
        o->lines.len = o->words.len = 0;
    }
    return rc;
}
