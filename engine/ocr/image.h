/* Shared within engine/ocr only: decoding a photo's bytes with leptonica into the grayscale working
 * image tesseract reads, and the geometry that maps the working image back to the decoded one. */
#ifndef FOLIO_OCR_IMAGE_H
#define FOLIO_OCR_IMAGE_H

#include "ocr.h"

#include <leptonica/allheaders.h>

/* How the working image was made from the decoded one: scaled by @scale about the origin, then
 * rotated by @skew_rad (leptonica's convention: clockwise positive) about its centre. */
typedef struct {
    int width, height;  /* the decoded image */
    int work_w, work_h; /* the working image */
    double scale;       /* working pixels per decoded pixel */
    double skew_rad;
} folio_ocr_geom_t;

/* Silence leptonica's messages for the process, once (thread-safe). */
void folio__ocr_quiet_leptonica(void);

/* Decode @bytes[0..n) and prepare the working image for recognition as @t says: 8-bit gray, long
 * side at most t->max_side, optionally deskewed and lighting-normalised. The image's header is
 * checked against the bomb limits before anything is decoded. Returns FOLIO_OK with *@out (free
 * with pixDestroy; NULL when the image is too small to hold text) and *@g, or FOLIO_EFORMAT,
 * FOLIO_ELIMIT, FOLIO_ENOMEM with the message on @ctx. */
int folio__ocr_prepare(folio_t *ctx, const void *bytes, size_t n, const folio_ocr_tuning_t *t,
                       PIX **out, folio_ocr_geom_t *g);

/* decode.c: JPEG and PNG read with libjpeg and libpng without printing. The *_size functions read
 * the header alone (0, or -1 when it cannot be read); the *_gray ones decode to 8-bit gray (NULL
 * when the data is truncated or corrupt, or memory runs out), JPEG at 1/@reduction size (1, 2, 4
 * or 8). */
int folio__ocr_jpeg_size(const unsigned char *b, size_t n, int *w, int *h);
PIX *folio__ocr_jpeg_gray(const unsigned char *b, size_t n, int reduction);
int folio__ocr_png_size(const unsigned char *b, size_t n, int *w, int *h);
PIX *folio__ocr_png_gray(const unsigned char *b, size_t n);

/* Map the point (@x, @y) of the working image to the decoded image. */
void folio__ocr_unmap(const folio_ocr_geom_t *g, double x, double y, double *dx, double *dy);

#endif
