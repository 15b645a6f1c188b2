/* JPEG and PNG decoding straight with libjpeg and libpng, into 8-bit gray: leptonica's readers of
 * these formats let the libraries print to stderr on a truncated or corrupt file, and the engine
 * never prints. A warning (damaged data) fails the decode like an error. */
#include "image.h"

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} jpeg_err_t;

static void jpeg_fail(j_common_ptr c)
{
    longjmp(((jpeg_err_t *)c->err)->jump, 1);
}

static void jpeg_message(j_common_ptr c, int level)
{
    /* Level -1 is a warning about the data. Where the rest of the picture would be made up (the
     * file ends early, or its data breaks off) the decode fails; stray bytes between segments,
     * which some cameras write, are let pass. Higher levels are trace messages. */
    int code = c->err->msg_code;
    if (level < 0 && (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_MUST_RESYNC))
        jpeg_fail(c);
}

static void jpeg_silent(j_common_ptr c)
{
    (void)c;
}

/* Set up @d to read @b[0..n) with an error manager that jumps instead of printing. The caller
 * does setjmp(e->jump) before calling any other libjpeg function. */
static void jpeg_open(struct jpeg_decompress_struct *d, jpeg_err_t *e, const unsigned char *b,
                      size_t n)
{
    memset(d, 0, sizeof(*d));
    d->err = jpeg_std_error(&e->pub);
    e->pub.error_exit = jpeg_fail;
    e->pub.emit_message = jpeg_message;
    e->pub.output_message = jpeg_silent;
    jpeg_create_decompress(d);
    jpeg_mem_src(d, b, (unsigned long)n);
}

int folio__ocr_jpeg_size(const unsigned char *b, size_t n, int *w, int *h)
{
    struct jpeg_decompress_struct d;
    jpeg_err_t e;
    jpeg_open(&d, &e, b, n);
    if (setjmp(e.jump)) {
        jpeg_destroy_decompress(&d);
        return -1;
    }
    jpeg_read_header(&d, TRUE);
    *w = (int)d.image_width;
    *h = (int)d.image_height;
    jpeg_destroy_decompress(&d);
    return 0;
}

PIX *folio__ocr_jpeg_gray(const unsigned char *b, size_t n, int reduction)
{
    struct jpeg_decompress_struct d;
    jpeg_err_t e;
    PIX *volatile pix = NULL;
    JSAMPLE *volatile row = NULL;
    jpeg_open(&d, &e, b, n);
    if (setjmp(e.jump)) {
        PIX *p = pix;
        jpeg_destroy_decompress(&d);
        pixDestroy(&p);
        free(row);
        return NULL;
    }
    jpeg_read_header(&d, TRUE);
    /* libjpeg scales while decoding: a large photo never exists at full size. */
    d.scale_num = 1;
    d.scale_denom = (unsigned)reduction;
    /* Gray straight from the luminance channel; CMYK files (Adobe's, inverted) are converted
     * below. */
    bool cmyk = d.jpeg_color_space == JCS_CMYK || d.jpeg_color_space == JCS_YCCK;
    d.out_color_space = cmyk ? JCS_CMYK : JCS_GRAYSCALE;
    jpeg_start_decompress(&d);
    int w = (int)d.output_width, h = (int)d.output_height, comps = d.output_components;
    pix = pixCreate(w, h, 8);
    row = malloc((size_t)w * (size_t)comps);
    if (!pix || !row) jpeg_fail((j_common_ptr)&d);
    l_uint32 *data = pixGetData(pix);
    int wpl = pixGetWpl(pix);
    while (d.output_scanline < d.output_height) {
        int y = (int)d.output_scanline;
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&d, rows, 1);
        l_uint32 *line = data + (size_t)y * (size_t)wpl;
        for (int x = 0; x < w; x++) {
            int v;
            if (cmyk) {
                const JSAMPLE *p = row + 4 * x;
                v = (299 * p[0] + 587 * p[1] + 114 * p[2]) / 1000 * p[3] / 255;
            } else {
                v = row[x];
            }
            SET_DATA_BYTE(line, x, v);
        }
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    free(row);
    return pix;
}

/* ---- PNG ---- */

/* libpng's simplified API keeps its messages in the png_image instead of printing them. */
int folio__ocr_png_size(const unsigned char *b, size_t n, int *w, int *h)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, b, n)) return -1;
    *w = (int)img.width;
    *h = (int)img.height;
    png_image_free(&img);
    return 0;
}

PIX *folio__ocr_png_gray(const unsigned char *b, size_t n)
{
    png_image img;
    memset(&img, 0, sizeof(img));
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, b, n)) return NULL;
    /* Transparent pixels over white paper, colour to luminance, 16 bits to 8. */
    img.format = PNG_FORMAT_GRAY;
    png_color white = {255, 255, 255};
    size_t w = img.width, h = img.height;
    unsigned char *buf = malloc(w * h);
    PIX *pix = pixCreate((int)w, (int)h, 8);
    if (!buf || !pix || !png_image_finish_read(&img, &white, buf, (png_int_32)w, NULL)) {
        png_image_free(&img);
        free(buf);
        pixDestroy(&pix);
        return NULL;
    }
    l_uint32 *data = pixGetData(pix);
    int wpl = pixGetWpl(pix);
    for (size_t y = 0; y < h; y++) {
        l_uint32 *line = data + y * (size_t)wpl;
        for (size_t x = 0; x < w; x++) SET_DATA_BYTE(line, x, buf[y * w + x]);
    }
    free(buf);
    return pix;
}
