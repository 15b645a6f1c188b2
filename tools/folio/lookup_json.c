/* One lookup and its result as JSON (Jansson): shared by `folio lookup` and `folio serve`.
 *
 *   {"match": {"page": {"index", "ordinal", "label"}, "char_offset",
 *              "chapter": {"index", "title"} | null, "sentence": {"start_char", "end_char"},
 *              "time", "file", "file_time", "audio": "001.mp3" (null when not read),
 *              "confidence", "score"} | null,
 *    "candidates": [...],        text lookups: the others, best first
 *    "pages_to_flip": N,         scan to read
 *    "heard": {...}}             scan to read: what is being read
 *   {"error": {"code": "not_found" | "bad_parameter" | "invalid_utf8" | "failed", "message"}} */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *time_or_null(double t)
{
    return t >= 0 ? json_real(round(t * 1000) / 1000) : json_null();
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
    json_object_set_new(o, "confidence", json_real(round(r->confidence * 1000) / 1000));
    json_object_set_new(o, "score", json_real(round(r->score * 1000) / 1000));
    return o;
}

static int error_json(const char *code, const char *message, int status, char **out)
{
    json_t *o = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message);
    *out = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return status;
}

int lookup_run(const folio_index_t *ix, const lookup_query_t *q, char **out)
{
    *out = NULL;
    folio_lookup_t r[20];
    size_t n = 0;
    int rc;
    long flip = 0;
    folio_lookup_t heard;
    char msg[512];
    if (q->page) {
        rc = folio_lookup_page(ix, q->page, &r[0]);
        n = rc == FOLIO_OK;
        snprintf(msg, sizeof(msg), "no page labelled \"%.200s\"", q->page);
    } else if (q->ordinal) {
        rc = folio_lookup_ordinal(ix, q->ordinal, &r[0]);
        n = rc == FOLIO_OK;
        snprintf(msg, sizeof(msg), "no page %zu (the book has %zu)", q->ordinal,
                 folio_index_n_pages(ix));
    } else if (q->scan) {
        rc = folio_lookup_scan(ix, q->time, q->text, q->text_len, &flip, &r[0], &heard);
        n = rc == FOLIO_OK;
        if (rc == FOLIO_ENOMATCH) rc = FOLIO_OK; /* no match: "match": null */
        snprintf(msg, sizeof(msg), "%.3f s is not a time in the audio", q->time);
    } else if (q->text) {
        size_t max = q->candidates < 20 ? q->candidates : 20;
        rc = folio_lookup_text(ix, q->text, q->text_len, r, max ? max : 1, &n);
        snprintf(msg, sizeof(msg), "the text is not valid UTF-8");
    } else {
        rc = folio_lookup_time(ix, q->file, q->time, &r[0]);
        n = rc == FOLIO_OK;
        if (q->file >= 0 && (size_t)q->file >= folio_index_n_files(ix))
            snprintf(msg, sizeof(msg), "no audio file %ld (the index has %zu)", q->file,
                     folio_index_n_files(ix));
        else
            snprintf(msg, sizeof(msg), "%.3f s is not a time in the audio%s", q->time,
                     q->file >= 0 ? " file" : "");
    }
    if (rc == FOLIO_ENOTFOUND && (q->page || q->ordinal))
        return error_json("not_found", msg, EXIT_NOTFOUND, out);
    if (rc == FOLIO_ENOTFOUND)
        n = 0; /* nothing read: no match */
    else if (rc == FOLIO_EINVAL)
        return error_json("bad_parameter", msg, EXIT_USAGE, out);
    else if (rc == FOLIO_EENCODING)
        return error_json("invalid_utf8", msg, EXIT_FAIL, out);
    else if (rc < 0)
        return error_json("failed", folio_strerror(rc), EXIT_FAIL, out);

    json_t *o = json_object();
    json_object_set_new(o, "match", n ? result_json(ix, &r[0]) : json_null());
    if (q->text && !q->scan && q->candidates > 1) {
        json_t *c = json_array();
        for (size_t i = 1; i < n; i++) json_array_append_new(c, result_json(ix, &r[i]));
        json_object_set_new(o, "candidates", c);
    }
    if (q->scan) {
        json_object_set_new(o, "pages_to_flip", n ? json_integer(flip) : json_null());
        json_object_set_new(o, "heard", n ? result_json(ix, &heard) : json_null());
    }
    *out = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    return *out ? EXIT_OK : EXIT_FAIL;
}
