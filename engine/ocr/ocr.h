/* Internal interface of the OCR module: a photo of a printed page (JPEG, PNG, TIFF or WebP bytes)
 * read into its text lines in reading order, each with its box, tesseract's confidence and whether
 * it looks cut by the photo's edge. Only this module includes tesseract and leptonica. It also
 * builds a photo's query (query.c) and answers folio_lookup_image (photo.c) through the lookup
 * module, upstream of it. Nothing but this module and its tests includes this header (the
 * lookup-only library never builds it). */
#ifndef FOLIO_OCR_H
#define FOLIO_OCR_H

#include "../core/core.h"
#include "../lookup/lookup.h"

/* An OCR handle: tesseract's recogniser with its English model loaded (0.2-0.6 s and ~30 MB: load
 * it once), reused for every photo read on one thread. Not thread-safe: one handle per thread. */
typedef struct folio_ocr folio_ocr_t;

/* Why a line is flagged cut (folio_ocr_line_t.cut is a mask of these; 0 = a whole line). */
enum {
    FOLIO_OCR_CUT_TOP = 1 << 0,     /* its ink reaches the photo's top edge */
    FOLIO_OCR_CUT_BOTTOM = 1 << 1,  /* ... the bottom edge */
    FOLIO_OCR_CUT_LEFT = 1 << 2,    /* ... the left edge (its first word may be missing) */
    FOLIO_OCR_CUT_RIGHT = 1 << 3,   /* ... the right edge */
    FOLIO_OCR_CUT_LOWCONF = 1 << 4, /* mean word confidence under FOLIO_OCR_MIN_CONF */
    FOLIO_OCR_CUT_SHORT = 1 << 5,   /* first or last line under 0.6 of the median line height: the
                                       half of a line the edge cut, read as fragments */
};

/* A line whose mean word confidence is under this is flagged FOLIO_OCR_CUT_LOWCONF. */
#define FOLIO_OCR_MIN_CONF 55.0f

/* A box in pixels of the decoded image (before any downscaling or deskewing), x right, y down: on
 * a tilted photo, the upright box around the tilted line or word. */
typedef struct {
    int x, y, w, h;
} folio_ocr_box_t;

/* One word of a line: its bytes in the line's text and tesseract's confidence (0-100). */
typedef struct {
    size_t byte_off, byte_len;
    float conf;
    folio_ocr_box_t box;
} folio_ocr_word_t;

/* One text line. */
typedef struct {
    const char *text; /* UTF-8, the words joined by single spaces, NUL-terminated */
    folio_ocr_box_t box;
    float height; /* its words' height (upper quartile, so that a footnote mark or a cut-off
                     fragment does not count), in decoded-image pixels */
    float conf;   /* mean of its words' confidences, 0-100 */
    unsigned cut; /* FOLIO_OCR_CUT_* mask; 0 = a whole line */
    bool small;   /* under 0.85 of the page's median height: a short line without ascenders or
                     descenders, or small print. Weak for footnotes (9 pt under 11 pt measured as
                     18-21 px against 19-21): tell them by position and text too */
    const folio_ocr_word_t *words;
    size_t n_words;
} folio_ocr_line_t;

/* What one photo read to. Every pointer belongs to the handle and stays valid until the next
 * folio__ocr_read() or folio__ocr_free() on it. */
typedef struct {
    const folio_ocr_line_t *lines; /* top to bottom; n_lines 0 for a blank or unreadable photo */
    size_t n_lines;
    int width, height;   /* the decoded image */
    float median_height; /* median line height (decoded-image pixels), 0 without lines */
    float skew_deg;      /* the text's tilt in the photo that deskewing undid, in degrees: positive
                            when its lines rise to the right */
    double decode_sec, ocr_sec; /* wall time decoding + preparing, and recognising */
} folio_ocr_page_t;

/* Preparation and recognition settings: the defaults (folio__ocr_tuning_default) were chosen by
 * measurement on degraded photos of typeset pages; benchmarks may try others. */
typedef struct {
    int max_side;    /* downscale so the long side is at most this many pixels */
    bool deskew;     /* find the text's skew and rotate it level before recognising */
    bool normalize;  /* flatten uneven lighting (background normalisation) */
    int psm;         /* tesseract page segmentation mode (6 = one uniform block of text) */
    bool try_invert; /* let tesseract retry dark lines inverted (slow, for light-on-dark) */
} folio_ocr_tuning_t;

folio_ocr_tuning_t folio__ocr_tuning_default(void);

/* Load tesseract's English model from @datapath (the folder holding eng.traineddata; NULL: the
 * system's tessdata folder, or $TESSDATA_PREFIX). @ctx (borrowed, may be NULL) receives errors and
 * must outlive the handle. Returns the handle (free with folio__ocr_free), or NULL with *@err:
 * FOLIO_EIO (the model cannot be loaded; the message names the folder), FOLIO_ENOMEM. The first
 * call also, for the whole process and once: silences leptonica's and tesseract's own messages
 * (the engine never prints), and stops OpenMP regions from going parallel (tesseract's OpenMP
 * threads spin while they wait, costing 3-4 times the CPU time for nothing when each thread has
 * its own handle; a caller's own OpenMP code runs serialised too). */
folio_ocr_t *folio__ocr_new(folio_t *ctx, const char *datapath, int *err);

/* Change the handle's tuning (copied). Returns FOLIO_OK or FOLIO_EINVAL (out-of-range value). */
int folio__ocr_tune(folio_ocr_t *o, const folio_ocr_tuning_t *t);

/* Read the photo in @bytes[0..n) into *@out (see folio_ocr_page_t for who owns what). A photo
 * with nothing readable (all black, blank, noise) is not an error: n_lines is 0, or every line is
 * flagged cut. Returns FOLIO_OK, or FOLIO_EINVAL (NULL argument), FOLIO_EFORMAT (not a JPEG, PNG,
 * TIFF or WebP image, or one that is truncated or corrupt: the message says which), FOLIO_ELIMIT
 * (over FOLIO_OCR_MAX_PIXELS or a side over FOLIO_OCR_MAX_SIDE by its header: refused before
 * decoding), FOLIO_ENOMEM. The caller adds the file's name to the message. */
int folio__ocr_read(folio_ocr_t *o, const void *bytes, size_t n, folio_ocr_page_t *out);

/* Send the handle's messages to @ctx from now on; returns the context they went to. */
folio_t *folio__ocr_set_ctx(folio_ocr_t *o, folio_t *ctx);

/* Free the handle. NULL is a no-op. */
void folio__ocr_free(folio_ocr_t *o);

/* Decompression-bomb limits, checked on the image's header. */
#define FOLIO_OCR_MAX_PIXELS 50000000
#define FOLIO_OCR_MAX_SIDE 20000

/* Read a photo as folio_lookup_image does: with the default tuning, and when little of it reads
 * well (confidence 80 and more, not flagged cut: under 7 of 10 letters), again with the background
 * normalisation switched, keeping the better reading (OCR time is the sum). *@own receives what
 * holds a kept first reading (NULL when @page points into the handle): free it with
 * folio__photo_read_free once done with @page. Returns as folio__ocr_read. */
int folio__photo_read(folio_ocr_t *ocr, const void *bytes, size_t n, folio_ocr_page_t *page,
                      void **own);
void folio__photo_read_free(void *own);

/* What each line of a photo is to the lookup (folio__photo_roles). */
typedef enum {
    FOLIO_LINE_BODY,     /* a whole line of the page's text */
    FOLIO_LINE_CUT,      /* flagged cut (folio_ocr_line_t.cut): never the answer's line */
    FOLIO_LINE_HEAD,     /* the running head: a top line with a page number at one end */
    FOLIO_LINE_FOLIO,    /* a page number alone on its line, at the top or the foot */
    FOLIO_LINE_FOOTNOTE, /* the page's footnotes: below a gap at the foot, starting with a mark */
} folio_line_role_t;

/* The role of each of the @n lines of a photo (top to bottom, as folio__ocr_read gives them; the
 * text turned by @skew_deg in the photo) in @role[0..n). Geometry and text alone, so it is tested
 * on lines made by hand. */
void folio__photo_roles(const folio_ocr_line_t *lines, size_t n, float skew_deg,
                        folio_line_role_t *role);

/* The lookup's query from a photo's lines: in @text (appended) the body text from the first whole
 * body line to the last (cut lines between them kept, heads, page numbers and footnotes left
 * out; the footnotes are the body when the photo shows nothing else), and in @anchors (room for
 * @max) the first whole lines, a running head first when there is one (head_like), pointing
 * into @lines' texts. *@n_anchors 0: no whole line, no answer. Returns FOLIO_OK or FOLIO_ENOMEM. */
int folio__photo_query(const folio_ocr_line_t *lines, size_t n, float skew_deg, folio_str_t *text,
                       folio_anchor_t *anchors, size_t max, size_t *n_anchors);

#endif
