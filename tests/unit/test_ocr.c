/* Unit tests of the OCR module: committed photos of typeset pages (tilted, blurred, JPEG, a 1-bit
 * PNG scan, WebP) read back their lines against text typed by hand, a line cut by the photo's
 * edge is flagged and the first whole line is not, and bad input (not an image, a truncated JPEG,
 * a PNG whose header claims 30000 x 30000 pixels, an all-black image) fails cleanly or reads as
 * nothing, printing nothing. Built without OCR, every test is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <folio.h>

#ifdef FOLIO_WITH_OCR
#include "../../engine/ocr/ocr.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    folio_t *ctx;
    folio_ocr_t *ocr;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    f->ctx = folio_new();
    int err;
    f->ocr = folio__ocr_new(f->ctx, NULL, &err);
    /* A machine with libtesseract but without its English model: the tests skip. */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    folio__ocr_free(f->ocr);
    folio_free(f->ctx);
    free(f);
    return 0;
}

static folio_ocr_t *ocr_of(void **state)
{
    fixture_t *f = *state;
    if (!f->ocr) skip();
    return f->ocr;
}

static unsigned char *slurp(const char *name, size_t *n)
{
    const char *root = getenv("FOLIO_SOURCE_ROOT");
    char path[1024];
    snprintf(path, sizeof(path), "%s/tests/data/ocr/%s", root ? root : ".", name);
    FILE *fp = fopen(path, "rb");
    if (!fp) fail_msg("cannot open %s (set FOLIO_SOURCE_ROOT)", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    *n = fread(b, 1, (size_t)len, fp);
    fclose(fp);
    return b;
}

/* Read @bytes with stderr sent to a file, and fail if anything was printed there. */
static int read_quietly(folio_ocr_t *o, const void *bytes, size_t n, folio_ocr_page_t *page)
{
    char tmpl[] = "/tmp/folio-ocr-stderr-XXXXXX";
    int fd = mkstemp(tmpl);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = folio__ocr_read(o, bytes, n, page);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    fstat(fd, &st);
    close(fd);
    unlink(tmpl);
    if (st.st_size != 0) fail_msg("%lld bytes printed to stderr", (long long)st.st_size);
    return rc;
}

static int read_file(folio_ocr_t *o, const char *name, folio_ocr_page_t *page)
{
    size_t n;
    unsigned char *b = slurp(name, &n);
    int rc = read_quietly(o, b, n, page);
    free(b);
    return rc;
}

/* Edit distance between @a and @b after mapping typographic quotes to ASCII (both sides). */
static size_t distance(const char *a, const char *b)
{
    char na[512], nb[512];
    const char *src[2] = {a, b};
    char *dst[2] = {na, nb};
    size_t len[2];
    for (int s = 0; s < 2; s++) {
        size_t k = 0;
        for (const char *p = src[s]; *p && k < sizeof(na) - 1; p++) {
            if (strncmp(p, "\xe2\x80\x99", 3) == 0 || strncmp(p, "\xe2\x80\x98", 3) == 0) {
                dst[s][k++] = '\'';
                p += 2;
            } else {
                dst[s][k++] = *p;
            }
        }
        dst[s][k] = '\0';
        len[s] = k;
    }
    size_t *row = malloc((len[1] + 1) * sizeof(size_t));
    for (size_t j = 0; j <= len[1]; j++) row[j] = j;
    for (size_t i = 1; i <= len[0]; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= len[1]; j++) {
            size_t up = row[j];
            size_t best = diag + (na[i - 1] != nb[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[len[1]];
    free(row);
    return d;
}

/* The index of the first line not flagged cut, or n_lines. */
static size_t first_whole(const folio_ocr_page_t *p)
{
    size_t i = 0;
    while (i < p->n_lines && p->lines[i].cut) i++;
    return i;
}

/* Expect @n lines of @page from @start to read as @want with a character error rate (edit
 * distance over the expected length) of at most @max_cer over all of them. */
static void expect_lines(const folio_ocr_page_t *page, size_t start, const char *const *want,
                         size_t n, double max_cer)
{
    assert_true(start + n <= page->n_lines);
    size_t errors = 0, chars = 0;
    for (size_t i = 0; i < n; i++) {
        size_t d = distance(page->lines[start + i].text, want[i]);
        if (d > strlen(want[i]) / 10)
            fail_msg("line %zu reads \"%s\", expected \"%s\"", start + i,
                     page->lines[start + i].text, want[i]);
        errors += d;
        chars += strlen(want[i]);
    }
    if ((double)errors > max_cer * (double)chars)
        fail_msg("%zu character errors in %zu characters", errors, chars);
}

static void tilted_blurred_paragraph_reads_its_six_whole_lines(void **state)
{
    folio_ocr_page_t page;
    assert_int_equal(read_file(ocr_of(state), "paragraph-tilted.jpg", &page), FOLIO_OK);
    assert_int_equal(page.width, 1350);
    assert_int_equal(page.height, 410);
    /* Photographed turned 3.5 degrees clockwise (its lines fall to the right). */
    assert_true(page.skew_deg < -2.5f && page.skew_deg > -4.5f);
    static const char *const want[] = {
        "Hollis listened without interrupting. When she had finished he looked out",
        "toward the headland for a long time, and then he said that a schooner from the",
        "northern ports was overdue, and that her master was a careful man who would",
        "not have tried the passage in such weather unless he had no choice. They would",
        "search the coves along the southern shore before the tide turned, and he would",
        "send word to the village if they found anything.",
    };
    size_t first = first_whole(&page);
    expect_lines(&page, first, want, 6, 0.02);
    for (size_t i = first; i < first + 6; i++) {
        assert_int_equal(page.lines[i].cut, 0);
        assert_true(page.lines[i].conf > 80);
        assert_true(page.lines[i].n_words >= 9);
    }
    /* The photo's bottom edge runs through the next paragraph's first lines. */
    assert_true(page.lines[page.n_lines - 1].cut & FOLIO_OCR_CUT_BOTTOM);
}

static void line_cut_by_the_top_edge_is_flagged_and_the_first_whole_line_is_not(void **state)
{
    folio_ocr_page_t page;
    assert_int_equal(read_file(ocr_of(state), "cut-top-line.jpg", &page), FOLIO_OK);
    assert_true(page.n_lines >= 4);
    /* Photographed turned 1.8 degrees anticlockwise (its lines rise to the right). */
    assert_true(page.skew_deg > 1.2f && page.skew_deg < 2.4f);
    /* The top edge runs through "boat came round the point with two men at the oars. ..." */
    assert_true(page.lines[0].cut & FOLIO_OCR_CUT_TOP);
    assert_int_equal(first_whole(&page), 1);
    static const char *const want[] = {
        "them on the landing. The older of the two, a man named Hollis who had known",
        "her since she was a child, asked whether she had seen anything unusual, and she",
    };
    expect_lines(&page, 1, want, 2, 0.02);
    /* Boxes are in the photo's pixels: the first whole line starts near its left edge, below
     * the cut line's top. */
    const folio_ocr_line_t *ln = &page.lines[1];
    assert_true(ln->box.x > 0 && ln->box.x < 60);
    assert_true(ln->box.y > 0 && ln->box.y + ln->box.h < 120);
    assert_true(ln->words[0].byte_off == 0 && ln->words[0].byte_len == 4);
    assert_memory_equal(ln->text + ln->words[1].byte_off, "on", 2);
    assert_true(page.lines[page.n_lines - 1].cut & FOLIO_OCR_CUT_BOTTOM);
}

static void one_bit_png_scan_of_a_page_foot_reads_body_and_footnote(void **state)
{
    folio_ocr_page_t page;
    assert_int_equal(read_file(ocr_of(state), "page-foot-scan.png", &page), FOLIO_OK);
    static const char *const want[] = {
        "By seven o'clock the wind had fallen to a breeze and the harbour master's",
        "boat came round the point with two men at the oars. Margaret went down to meet",
        "them on the landing. The older of the two, a man named Hollis who had known",
        "her since she was a child, asked whether she had seen anything unusual, and she",
        /* The footnote, its mark "1" read as a quote or a digit */
        "'The log for that night survives in the county records, with the entry in her",
        "hand.",
    };
    assert_int_equal(page.n_lines, 6);
    expect_lines(&page, 0, want, 6, 0.02);
    for (size_t i = 0; i < page.n_lines; i++) assert_int_equal(page.lines[i].cut, 0);
    /* "hand." is short print next to the body's lines. */
    assert_true(page.lines[5].small);
    assert_false(page.lines[1].small);
}

static void webp_photo_reads_the_running_head_first(void **state)
{
    folio_ocr_page_t page;
    assert_int_equal(read_file(ocr_of(state), "running-head.webp", &page), FOLIO_OK);
    static const char *const want[] = {
        "The Lighthouse Keeper 2",
        "told him about the lights.",
        "Hollis listened without interrupting. When she had finished he looked out",
    };
    expect_lines(&page, 0, want, 3, 0.02);
    /* A short line at the top, clear of every edge: the matcher tells a running head by this. */
    assert_int_equal(page.lines[0].cut, 0);
    assert_true(page.lines[0].box.y < page.lines[1].box.y);
}

/* ---- bad input ---- */

static uint32_t crc32_of(const unsigned char *b, size_t n, uint32_t crc)
{
    crc = ~crc;
    for (size_t i = 0; i < n; i++) {
        crc ^= b[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static size_t put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
    return 4;
}

/* Append a PNG chunk (length, type, data, CRC) at @p; returns its size. */
static size_t chunk(unsigned char *p, const char *type, const unsigned char *data, size_t n)
{
    size_t k = put32(p, (uint32_t)n);
    memcpy(p + k, type, 4);
    if (n) memcpy(p + k + 4, data, n);
    put32(p + k + 4 + n, crc32_of(p + k, 4 + n, 0));
    return 12 + n;
}

/* An 8-bit grayscale PNG of @w x @h pixels, every pixel @value (-1: random noise), its pixel data
 * in stored (not compressed) deflate blocks; or, with @header_only, its header and a token IDAT.
 * Caller frees. */
static unsigned char *gray_png(uint32_t w, uint32_t h, int value, bool header_only, size_t *n)
{
    size_t raw_len = header_only ? 16 : (size_t)(w + 1) * h;
    unsigned char *raw = malloc(raw_len);
    uint32_t x = 2463534242u; /* xorshift32 */
    for (size_t i = 0; i < raw_len; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        raw[i] = (unsigned char)(value < 0 ? x >> 24 : (uint32_t)value);
    }
    if (!header_only)
        for (size_t y = 0; y < h; y++) raw[y * (w + 1)] = 0; /* filter: none */
    size_t blocks = raw_len / 65535 + 1;
    unsigned char *z = malloc(raw_len + 5 * blocks + 6), *q = z;
    *q++ = 0x78, *q++ = 0x01;
    uint32_t a = 1, b = 0;
    for (size_t off = 0; off < raw_len;) {
        size_t len = raw_len - off > 65535 ? 65535 : raw_len - off;
        *q++ = off + len == raw_len ? 1 : 0; /* BFINAL on the last block; BTYPE 00: stored */
        *q++ = (unsigned char)len, *q++ = (unsigned char)(len >> 8);
        *q++ = (unsigned char)~len, *q++ = (unsigned char)(~len >> 8);
        memcpy(q, raw + off, len);
        q += len;
        off += len;
    }
    for (size_t i = 0; i < raw_len; i++) a = (a + raw[i]) % 65521, b = (b + a) % 65521;
    q += put32(q, (b << 16) | a);
    size_t zlen = (size_t)(q - z);
    unsigned char *png = malloc(zlen + 64), *p = png;
    memcpy(p, "\x89PNG\r\n\x1a\n", 8);
    p += 8;
    unsigned char ihdr[13];
    put32(ihdr, w);
    put32(ihdr + 4, h);
    ihdr[8] = 8, ihdr[9] = 0, ihdr[10] = ihdr[11] = ihdr[12] = 0; /* 8-bit gray */
    p += chunk(p, "IHDR", ihdr, 13);
    p += chunk(p, "IDAT", z, zlen);
    p += chunk(p, "IEND", NULL, 0);
    *n = (size_t)(p - png);
    free(raw);
    free(z);
    return png;
}

/* A uniform @value image of @w x @h pixels reads to its size and no lines. */
static void expect_blank(void **state, uint32_t w, uint32_t h, int value)
{
    folio_ocr_page_t page;
    size_t n;
    unsigned char *png = gray_png(w, h, value, false, &n);
    assert_int_equal(read_quietly(ocr_of(state), png, n, &page), FOLIO_OK);
    assert_int_equal(page.width, (int)w);
    assert_int_equal(page.height, (int)h);
    assert_int_equal(page.n_lines, 0);
    free(png);
}

static void blank_white_page_has_no_lines(void **state)
{
    /* Also shows that the crafted PNGs of these tests are valid images. */
    expect_blank(state, 300, 200, 255);
}

static void all_black_image_has_no_lines(void **state)
{
    expect_blank(state, 1200, 900, 0);
}

static void noise_reads_as_no_whole_line(void **state)
{
    /* tesseract finds marks in noise; none may pass for a line of text. */
    folio_ocr_page_t page;
    size_t n;
    unsigned char *png = gray_png(1000, 700, -1, false, &n);
    assert_int_equal(read_quietly(ocr_of(state), png, n, &page), FOLIO_OK);
    for (size_t i = 0; i < page.n_lines; i++) assert_true(page.lines[i].cut != 0);
    free(png);
}

static void png_claiming_30000_by_30000_pixels_is_refused_by_its_header(void **state)
{
    fixture_t *f = *state;
    folio_ocr_page_t page;
    size_t n;
    unsigned char *png = gray_png(30000, 30000, 0, true, &n);
    assert_true(n < 200);
    assert_int_equal(read_quietly(ocr_of(state), png, n, &page), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(f->ctx), "30000 x 30000"));
    assert_int_equal(page.n_lines, 0);
    free(png);
    /* One side over the limit is enough, however few the pixels. */
    png = gray_png(25000, 10, 0, true, &n);
    assert_int_equal(read_quietly(ocr_of(state), png, n, &page), FOLIO_ELIMIT);
    free(png);
}

static void text_is_not_an_image(void **state)
{
    fixture_t *f = *state;
    folio_ocr_page_t page;
    const char *text = "By seven o'clock the wind had fallen to a breeze.";
    assert_int_equal(read_quietly(ocr_of(state), text, strlen(text), &page), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(f->ctx), "not an image"));
    assert_int_equal(read_quietly(ocr_of(state), "", 0, &page), FOLIO_EFORMAT);
    /* An iPhone's HEIC is named, with the formats that are read. */
    static const unsigned char heic[] = {0,   0,   0,   0x18, 'f', 't', 'y', 'p',
                                         'h', 'e', 'i', 'c',  0,   0,   0,   0};
    assert_int_equal(read_quietly(ocr_of(state), heic, sizeof(heic), &page), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(f->ctx), "HEIC"));
    assert_non_null(strstr(folio_errmsg(f->ctx), "JPEG"));
}

static void truncated_jpeg_and_png_are_format_errors(void **state)
{
    fixture_t *f = *state;
    folio_ocr_page_t page;
    size_t n;
    unsigned char *jpg = slurp("cut-top-line.jpg", &n);
    static const size_t cuts[] = {3, 40, 600, 0};
    for (size_t i = 0; i < 4; i++) {
        size_t keep = cuts[i] ? cuts[i] : n / 2;
        assert_int_equal(read_quietly(ocr_of(state), jpg, keep, &page), FOLIO_EFORMAT);
        assert_non_null(strstr(folio_errmsg(f->ctx), "JPEG"));
        assert_non_null(strstr(folio_errmsg(f->ctx), "truncated"));
    }
    free(jpg);
    unsigned char *png = slurp("page-foot-scan.png", &n);
    assert_int_equal(read_quietly(ocr_of(state), png, n - 200, &page), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(f->ctx), "PNG"));
    free(png);
}

static void handle_reads_again_after_a_bad_image(void **state)
{
    folio_ocr_page_t page;
    assert_int_equal(read_quietly(ocr_of(state), "\xFF\xD8\xFF", 3, &page), FOLIO_EFORMAT);
    assert_int_equal(read_file(ocr_of(state), "running-head.webp", &page), FOLIO_OK);
    assert_true(page.n_lines >= 3);
}

static void invalid_arguments_are_refused(void **state)
{
    folio_ocr_t *o = ocr_of(state);
    folio_ocr_page_t page;
    assert_int_equal(folio__ocr_read(NULL, "x", 1, &page), FOLIO_EINVAL);
    assert_int_equal(folio__ocr_read(o, "x", 1, NULL), FOLIO_EINVAL);
    assert_int_equal(folio__ocr_read(o, NULL, 5, &page), FOLIO_EINVAL);
    folio_ocr_tuning_t t = folio__ocr_tuning_default();
    t.max_side = 10;
    assert_int_equal(folio__ocr_tune(o, &t), FOLIO_EINVAL);
    t = folio__ocr_tuning_default();
    t.psm = 99;
    assert_int_equal(folio__ocr_tune(o, &t), FOLIO_EINVAL);
    assert_int_equal(folio__ocr_tune(o, NULL), FOLIO_EINVAL);
    folio__ocr_free(NULL);
}

static void missing_model_folder_is_an_io_error(void **state)
{
    (void)ocr_of(state);
    folio_t *ctx = folio_new();
    int err = 0;
    assert_null(folio__ocr_new(ctx, "/nonexistent/tessdata", &err));
    assert_int_equal(err, FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "/nonexistent/tessdata"));
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tilted_blurred_paragraph_reads_its_six_whole_lines),
        cmocka_unit_test(line_cut_by_the_top_edge_is_flagged_and_the_first_whole_line_is_not),
        cmocka_unit_test(one_bit_png_scan_of_a_page_foot_reads_body_and_footnote),
        cmocka_unit_test(webp_photo_reads_the_running_head_first),
        cmocka_unit_test(blank_white_page_has_no_lines),
        cmocka_unit_test(all_black_image_has_no_lines),
        cmocka_unit_test(noise_reads_as_no_whole_line),
        cmocka_unit_test(png_claiming_30000_by_30000_pixels_is_refused_by_its_header),
        cmocka_unit_test(text_is_not_an_image),
        cmocka_unit_test(truncated_jpeg_and_png_are_format_errors),
        cmocka_unit_test(handle_reads_again_after_a_bad_image),
        cmocka_unit_test(invalid_arguments_are_refused),
        cmocka_unit_test(missing_model_folder_is_an_io_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

#else /* built without OCR */

int main(void)
{
    return 77; /* meson's "skipped" */
}

#endif
