/* Fuzz target: the OCR'd-text matcher. The input is the text of a "photo" (any bytes: invalid
 * UTF-8, no words, a whole book's worth), looked up in an index of the demo book and scanned to
 * read at a moment of its audio. */
#include "fuzz.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static folio_index_t *ix;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char path[400];
    snprintf(path, sizeof(path), "%s/demo.folio", fz_dir());
    int err = fz_demo_index(path, SIZE_MAX);
    if (err == FOLIO_OK) ix = folio_index_open(NULL, path, &err);
    if (!ix) {
        fprintf(stderr, "fuzz_match: cannot make the demo index: %s\n", folio_strerror(err));
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    folio_t *ctx = folio_new();
    folio_lookup_t out[4];
    size_t n_out = 99;
    int rc = folio_lookup_text(ctx, ix, (const char *)data, size, out, 4, &n_out);
    if (rc == FOLIO_OK) {
        FZ_CHECK(n_out <= 4, "no more candidates than asked for");
        for (size_t i = 0; i < n_out; i++) {
            FZ_CHECK(out[i].score >= 0 && out[i].score <= 1, "a score in [0, 1]");
            FZ_CHECK(out[i].char_offset <= folio_index_text_length(ix), "a place in the text");
            FZ_CHECK(out[i].page_label && out[i].chapter_title, "labels are never NULL");
            FZ_CHECK(i == 0 || out[i].score <= out[i - 1].score, "best first");
        }
    } else {
        FZ_CHECK(rc == FOLIO_EENCODING || rc == FOLIO_ENOMEM, "only the documented errors");
    }
    long flip = 0;
    folio_lookup_t scanned, heard;
    double t = size ? (double)data[0] * 0.5 : 0.0;
    rc = folio_lookup_scan(ctx, ix, t, (const char *)data, size, &flip, &scanned, &heard);
    if (rc == FOLIO_OK) FZ_CHECK(!isnan(scanned.time) && !isnan(heard.time), "times are numbers");
    folio_free(ctx);
    return 0;
}
