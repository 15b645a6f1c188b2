/* Preparing tesseract's working image from a photo's bytes: the format told by its signature, the
 * size checked on the header before decoding (decompression bombs), decoded (TIFF and WebP by
 * leptonica, JPEG and PNG by decode.c), then gray, downscaled to a working size, deskewed and
 * optionally lighting-normalised. */
#include "image.h"

#include <math.h>
#include <pthread.h>
#include <string.h>

/* Below this on either side there is no line of text to read. */
#define MIN_SIDE 16

typedef enum { IMG_JPEG, IMG_PNG, IMG_TIFF, IMG_WEBP, IMG_OTHER } kind_t;

static const char *const kind_names[] = {"JPEG", "PNG", "TIFF", "WebP"};

static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void drop_message(const char *msg)
{
    (void)msg;
}

static void quiet(void)
{
    /* Process-global in leptonica: errors on bad input would otherwise go to stderr. */
    setMsgSeverity(L_SEVERITY_NONE);
    leptSetStderrHandler(drop_message);
}

void folio__ocr_quiet_leptonica(void)
{
    pthread_once(&quiet_once, quiet);
}

/* Tell the format by the first bytes; *@other names a known format Folio does not read (or NULL
 * for bytes that are no image at all) when IMG_OTHER is returned. */
static kind_t sniff(const unsigned char *b, size_t n, const char **other)
{
    *other = NULL;
    if (n >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) return IMG_JPEG;
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0) return IMG_PNG;
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0)) return IMG_TIFF;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0) return IMG_WEBP;
    if (n >= 4 && memcmp(b, "GIF8", 4) == 0)
        *other = "a GIF image";
    else if (n >= 5 && memcmp(b, "%PDF-", 5) == 0)
        *other = "a PDF document";
    else if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0) {
        if (memcmp(b + 8, "avif", 4) == 0)
            *other = "an AVIF image";
        else if (memcmp(b + 8, "hei", 3) == 0 || memcmp(b + 8, "mif1", 4) == 0 ||
                 memcmp(b + 8, "msf1", 4) == 0)
            *other = "a HEIC/HEIF image";
    } else if (n >= 14 && b[0] == 'B' && b[1] == 'M')
        *other = "a BMP image";
    return IMG_OTHER;
}

/* The image's size from its header alone; -1 when the header cannot be read. */
static int read_size(const unsigned char *b, size_t n, kind_t kind, int *w, int *h)
{
    if (kind == IMG_JPEG) return folio__ocr_jpeg_size(b, n, w, h);
    if (kind == IMG_PNG) return folio__ocr_png_size(b, n, w, h);
    int format, bps, spp, iscmap;
    return pixReadHeaderMem(b, n, &format, w, h, &bps, &spp, &iscmap) ? -1 : 0;
}

/* Decode to 8-bit gray. A JPEG is decoded at 1/@reduction size, so a large phone photo never
 * exists in memory at full size. */
static PIX *decode_gray(const unsigned char *b, size_t n, kind_t kind, int reduction)
{
    if (kind == IMG_JPEG) return folio__ocr_jpeg_gray(b, n, reduction);
    if (kind == IMG_PNG) return folio__ocr_png_gray(b, n);
    PIX *p = pixReadMem(b, n);
    if (!p) return NULL;
    if (pixGetSpp(p) == 4) {
        /* Transparent pixels read as paper, not as the black their colour values often hold. */
        PIX *flat = pixAlphaBlendUniform(p, 0xffffff00);
        pixDestroy(&p);
        if (!flat) return NULL;
        p = flat;
    }
    PIX *g = pixGetDepth(p) == 8 && !pixGetColormap(p) ? pixClone(p) : pixConvertTo8(p, 0);
    pixDestroy(&p);
    return g;
}

/* Replace *@p by @next (when the step made one). Returns FOLIO_ENOMEM if it did not. */
static int step(PIX **p, PIX *next)
{
    if (!next) return FOLIO_ENOMEM;
    pixDestroy(p);
    *p = next;
    return FOLIO_OK;
}

/* The text's skew in radians (clockwise positive), found on a binarised copy; 0 when the page
 * shows no clear text lines. */
static double find_skew(PIX *gray)
{
    PIX *bin = NULL;
    /* Otsu per large tile copes with the uneven light of a photo better than one threshold. */
    if (pixOtsuAdaptiveThreshold(gray, 1000, 1000, 0, 0, 0.0f, NULL, &bin) || !bin) return 0;
    float angle = 0, conf = 0;
    int bad = pixFindSkew(bin, &angle, &conf);
    pixDestroy(&bin);
    /* leptonica reports confidence 0 when it could not tell; tiny angles are not worth a rotation
     * (which softens the glyphs). */
    if (bad || conf < 2.0f || fabsf(angle) < 0.1f) return 0;
    return angle * M_PI / 180.0;
}

int folio__ocr_prepare(folio_t *ctx, const void *bytes, size_t n, const folio_ocr_tuning_t *t,
                       PIX **out, folio_ocr_geom_t *g)
{
    int rc = FOLIO_OK;
    PIX *p = NULL;
    const unsigned char *b = bytes;
    *out = NULL;
    memset(g, 0, sizeof(*g));
    folio__ocr_quiet_leptonica();

    const char *other;
    kind_t kind = sniff(b, n, &other);
    if (kind == IMG_OTHER) {
        if (other)
            FAIL(ctx, FOLIO_EFORMAT, "%s: Folio reads photos in JPEG, PNG, TIFF or WebP", other);
        FAIL(ctx, FOLIO_EFORMAT, "not an image (no JPEG, PNG, TIFF or WebP signature)");
    }
    const char *name = kind_names[kind];
    int w = 0, h = 0;
    if (read_size(b, n, kind, &w, &h) || w <= 0 || h <= 0)
        FAIL(ctx, FOLIO_EFORMAT, "a truncated or corrupt %s image (its header cannot be read)",
             name);
    if (w > FOLIO_OCR_MAX_SIDE || h > FOLIO_OCR_MAX_SIDE || (double)w * h > FOLIO_OCR_MAX_PIXELS)
        FAIL(ctx, FOLIO_ELIMIT,
             "a %s image of %d x %d pixels: over the limit of %d megapixels and %d pixels a side "
             "(not decoded)",
             name, w, h, FOLIO_OCR_MAX_PIXELS / 1000000, FOLIO_OCR_MAX_SIDE);
    g->width = w;
    g->height = h;
    if (w < MIN_SIDE || h < MIN_SIDE) return FOLIO_OK;

    int longest = w > h ? w : h, reduction = 1;
    while (kind == IMG_JPEG && reduction < 8 && longest / (reduction * 2) >= t->max_side)
        reduction *= 2;
    p = decode_gray(b, n, kind, reduction);
    if (!p) FAIL(ctx, FOLIO_EFORMAT, "a truncated or corrupt %s image", name);

    int pw = pixGetWidth(p), ph = pixGetHeight(p), plong = pw > ph ? pw : ph;
    if (plong > t->max_side) {
        float s = (float)t->max_side / (float)plong;
        TRY(step(&p, pixScaleAreaMap(p, s, s)));
    }
    g->scale = (double)pixGetWidth(p) / w;
    if (t->normalize) TRY(step(&p, pixBackgroundNormSimple(p, NULL, NULL)));
    if (t->deskew) {
        g->skew_rad = find_skew(p);
        if (g->skew_rad != 0) {
            /* Given the size, leptonica embeds the image in a larger one so no corner is lost. */
            TRY(step(&p, pixRotate(p, (float)g->skew_rad, L_ROTATE_AREA_MAP, L_BRING_IN_WHITE,
                                   pixGetWidth(p), pixGetHeight(p))));
        }
    }
    g->work_w = pixGetWidth(p);
    g->work_h = pixGetHeight(p);
    *out = p;
    return FOLIO_OK;
fail:
    pixDestroy(&p);
    if (rc == FOLIO_ENOMEM) folio__error(ctx, rc, "out of memory preparing the image");
    return rc;
}

void folio__ocr_unmap(const folio_ocr_geom_t *g, double x, double y, double *dx, double *dy)
{
    /* Undo the rotation about the working image's centre (the scaled image sits centred in it),
     * then the scaling. */
    double sw = g->width * g->scale, sh = g->height * g->scale;
    double cx = g->work_w / 2.0, cy = g->work_h / 2.0;
    double c = cos(g->skew_rad), s = sin(g->skew_rad);
    double rx = x - cx, ry = y - cy;
    double ux = c * rx + s * ry, uy = -s * rx + c * ry;
    *dx = (ux + sw / 2.0) / g->scale;
    *dy = (uy + sh / 2.0) / g->scale;
}
