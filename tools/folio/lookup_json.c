/* One lookup and its result as JSON (Jansson): shared by `folio lookup` and `folio serve`.
 *
 *   {"match": {"page": {"index", "ordinal", "label"}, "char_offset",
 *              "chapter": {"index", "title"} | null, "sentence": {"start_char", "end_char"},
 *              "time", "file", "file_time", "audio": "001.mp3" (null when not read),
 *              "read", "confidence", "score"} | null,
 *    "candidates": [...],        text and image lookups: the others, best first
 *    "timing": {"ocr_ms", "match_ms"}    image lookups: the time of each stage
 *    "pages_to_flip": N,         scan to read
 *    "heard": {...}}             scan to read: what is being read
 *   {"error": {"code", "message"}}    the code from cli_result() ("not_found", "bad_parameter",
 *                                     "invalid_utf8", "failed"), the library's message */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *cli_json_seconds(double t)
{
    /* Rounded by printf, as export writes "%.3f", so that both give the same decimal. */
    char ms[64];
    snprintf(ms, sizeof(ms), "%.3f", t);
    return json_real(strtod(ms, NULL));
}

static json_t *time_or_null(double t)
{
    return t >= 0 ? cli_json_seconds(t) : json_null();
}

/* The shortest text of @v that reads back as @v, at most 24 bytes, with ".0" after an integral
 * value so that it stays a real (as Jansson writes them). */
static int shortest(char *out, double v)
{
    int n = 0;
    for (int p = 1; p <= 17; p++) {
        n = snprintf(out, 24, "%.*g", p, v);
        if (strtod(out, NULL) == v) break;
    }
    if (!strpbrk(out, ".eEni")) n += snprintf(out + n, 24 - (size_t)n, ".0");
    return n;
}

char *cli_json_dump(const json_t *o)
{
    char *in = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!in) return NULL;
    size_t len = strlen(in);
    char *out = malloc(len + 1);
    if (!out) {
        free(in);
        return NULL;
    }
    /* Each number outside a string with a fraction or an exponent is a real: write it again. */
    size_t k = 0;
    bool string = false;
    for (size_t i = 0; i < len;) {
        char c = in[i];
        if (string || !(c == '-' || (c >= '0' && c <= '9'))) {
            if (string && c == '\\')
                out[k++] = in[i++];
            else if (c == '"')
                string = !string;
            out[k++] = in[i++];
            continue;
        }
        size_t n = strspn(in + i, "+-0123456789.eE");
        char tok[32], num[24];
        if (n < sizeof(tok) && strcspn(in + i, ".eE") < n) {
            memcpy(tok, in + i, n);
            tok[n] = 0;
            int m = shortest(num, strtod(tok, NULL));
            if ((size_t)m <= n) { /* never longer than Jansson's 17 digits */
                memcpy(out + k, num, (size_t)m);
                k += (size_t)m;
                i += n;
                continue;
            }
        }
        memcpy(out + k, in + i, n);
        k += n;
        i += n;
    }
    out[k] = 0;
    free(in);
    return out;
}

static json_t *result_json(const folio_index_t *ix, const folio_lookup_t *r)
{
    json_t *o = json_object();
    if (r->page >= 0) {
        const folio_index_page_t *p = folio_index_page(ix, (size_t)r->page);
        json_object_set_new(o, "page",
                            json_pack("{s:I, s:I, s:s}", "index", (json_int_t)r->page, "ordinal",
                                      (json_int_t)p->ordinal, "label", r->page_label));
    } else {
        json_object_set_new(o, "page", json_null());
    }
    json_object_set_new(o, "char_offset", json_integer((json_int_t)r->char_offset));
    json_object_set_new(o, "chapter",
                        r->chapter >= 0 ? json_pack("{s:I, s:s}", "index", (json_int_t)r->chapter,
                                                    "title", r->chapter_title)
                                        : json_null());
    json_object_set_new(o, "sentence",
                        json_pack("{s:I, s:I}", "start_char", (json_int_t)r->sentence_start,
                                  "end_char", (json_int_t)r->sentence_end));
    bool read = r->time >= 0 && r->file >= 0;
    json_object_set_new(o, "time", time_or_null(read ? r->time : -1));
    json_object_set_new(o, "file", read ? json_integer(r->file) : json_null());
    json_object_set_new(o, "file_time", time_or_null(read ? r->file_time : -1));
    json_object_set_new(
        o, "audio", read ? json_string(folio_index_file(ix, (size_t)r->file)->path) : json_null());
    json_object_set_new(o, "read", json_boolean(r->read));
    json_object_set_new(o, "confidence", json_real(round(r->confidence * 1000) / 1000));
    json_object_set_new(o, "score", json_real(round(r->score * 1000) / 1000));
    return o;
}

/* The error object of a lookup that failed with @rc: the code's JSON code and the library's
 * message. NULL when out of memory. */
static char *error_json(folio_t *ctx, int rc)
{
    const char *msg = folio_errmsg(ctx);
    /* A message quoting a query that is not UTF-8 cannot go into JSON: say what kind of error. */
    json_t *m = *msg ? json_string(msg) : NULL;
    if (!m) m = json_string(folio_strerror(rc));
    json_t *o = json_pack("{s:{s:s, s:o}}", "error", "code", cli_result(rc)->json, "message", m);
    char *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return out;
}

int lookup_run(folio_t *ctx, const folio_index_t *ix, const lookup_query_t *q, char **out)
{
    *out = NULL;
    folio_lookup_t r[20];
    size_t n = 0;
    int rc;
    long flip = 0;
    folio_lookup_t heard;
    folio_image_info_t info = {0};
    if (q->page) {
        rc = folio_lookup_page(ctx, ix, q->page, &r[0]);
        n = rc == FOLIO_OK;
    } else if (q->ordinal) {
        rc = folio_lookup_ordinal(ctx, ix, q->ordinal, &r[0]);
        n = rc == FOLIO_OK;
    } else if (q->scan) {
        rc = folio_lookup_scan(ctx, ix, q->time, q->text, q->text_len, &flip, &r[0], &heard);
        n = rc == FOLIO_OK;
        /* Not found, or nothing read: "match": null. */
        if (rc == FOLIO_ENOMATCH || rc == FOLIO_ENOTFOUND) rc = FOLIO_OK;
    } else if (q->text) {
        size_t max = q->candidates < 20 ? q->candidates : 20;
        rc = folio_lookup_text(ctx, ix, q->text, q->text_len, r, max ? max : 1, &n);
    } else if (q->image) {
        size_t max = q->candidates < 20 ? q->candidates : 20;
        rc = folio_lookup_image(ctx, q->ocr, ix, q->image, q->image_len, r, max ? max : 1, &n,
                                &info);
    } else {
        rc = folio_lookup_time(ctx, ix, q->file, q->time, &r[0]);
        n = rc == FOLIO_OK;
        if (rc == FOLIO_ENOTFOUND) rc = FOLIO_OK; /* nothing read: "match": null */
    }
    if (rc < 0) {
        *out = error_json(ctx, rc);
        return *out ? rc : FOLIO_ENOMEM;
    }

    json_t *o = json_object();
    json_object_set_new(o, "match", n ? result_json(ix, &r[0]) : json_null());
    if ((q->image || (q->text && !q->scan)) && q->candidates > 1) {
        json_t *c = json_array();
        for (size_t i = 1; i < n; i++) json_array_append_new(c, result_json(ix, &r[i]));
        json_object_set_new(o, "candidates", c);
    }
    if (q->image)
        json_object_set_new(o, "timing",
                            json_pack("{s:f, s:f}", "ocr_ms", round(info.ocr_sec * 1e4) / 10,
                                      "match_ms", round(info.match_sec * 1e4) / 10));
    if (q->scan) {
        json_object_set_new(o, "pages_to_flip", n ? json_integer(flip) : json_null());
        json_object_set_new(o, "heard", n ? result_json(ix, &heard) : json_null());
    }
    *out = cli_json_dump(o);
    json_decref(o);
    return *out ? FOLIO_OK : FOLIO_ENOMEM;
}
