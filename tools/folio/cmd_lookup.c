/* folio lookup INDEX --page LABEL | --ordinal N | --time T [--file N] | --text "..." |
 * --text-file F | --image PHOTO | --scan-to-read T (--text "..." | --text-file F): one lookup,
 * its result as JSON on standard output (lookup_json.c: the same JSON `folio serve` answers
 * with); an error also on standard error, naming the file it is about. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TEXT (64 * 1024) /* the messages below say these sizes */
/* A phone's photo is 1-8 MB; a larger file is refused unread past its limit. */
#define MAX_IMAGE (32 * 1024 * 1024)

/* The contents of @path ("-": standard input) when at most @max bytes, NUL-terminated (caller
 * frees), or NULL after printing why (@too_big says what a longer file is); *@over says it was
 * longer. */
static char *read_file(const char *path, size_t max, const char *too_big, size_t *len, bool *over)
{
    *over = false;
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    bool err = ferror(f);
    if (f != stdin) fclose(f);
    if (!buf || err || n > max) {
        *over = buf && !err;
        fprintf(stderr, "folio: error: %s: %s\n", path,
                *over ? too_big
                : buf ? "read error"
                      : "out of memory");
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

int cmd_lookup(int argc, char **argv)
{
    const char *path = NULL, *page = NULL, *text = NULL, *text_file = NULL, *image = NULL;
    const char *ordinal_s = NULL, *time_s = NULL, *file_s = NULL, *scan_s = NULL;
    long candidates = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--page") == 0           ? &page
                            : strcmp(a, "--ordinal") == 0      ? &ordinal_s
                            : strcmp(a, "--time") == 0         ? &time_s
                            : strcmp(a, "--file") == 0         ? &file_s
                            : strcmp(a, "--text") == 0         ? &text
                            : strcmp(a, "--text-file") == 0    ? &text_file
                            : strcmp(a, "--image") == 0        ? &image
                            : strcmp(a, "--scan-to-read") == 0 ? &scan_s
                                                               : NULL;
        if (slot) {
            if (i + 1 >= argc) return cli_usage_error("lookup", "%s takes a value", a);
            *slot = argv[++i];
        } else if (strcmp(a, "--candidates") == 0) {
            if (i + 1 >= argc || !cli_parse_long(argv[i + 1], &candidates) || candidates < 1 ||
                candidates > 20)
                return cli_usage_error("lookup", "--candidates takes 1 to 20");
            i++;
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("lookup", "unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return cli_usage_error("lookup", "one index at a time");
        }
    }
    int kinds = !!page + !!ordinal_s + !!(time_s && !scan_s) + !!((text || text_file) && !scan_s) +
                !!scan_s + !!image;
    if (!path || kinds != 1)
        return cli_usage_error(
            "lookup", "usage: folio lookup INDEX --page LABEL | --ordinal N | --time T [--file N]"
                      " | --text TEXT | --text-file F | --image PHOTO | --scan-to-read T (--text "
                      "TEXT | --text-file F)");
    if (text && text_file) return cli_usage_error("lookup", "--text or --text-file, not both");
    if (scan_s && !text && !text_file)
        return cli_usage_error("lookup", "--scan-to-read needs the page's --text or --text-file");
    if (file_s && !time_s) return cli_usage_error("lookup", "--file goes with --time");
    long ordinal = 0, file = -1;
    double t = 0;
    if (ordinal_s && (!cli_parse_long(ordinal_s, &ordinal) || ordinal < 1))
        return cli_usage_error("lookup", "--ordinal takes a page number from 1");
    if (file_s && (!cli_parse_long(file_s, &file) || file < 0))
        return cli_usage_error("lookup", "--file takes a file number from 0");
    if ((time_s || scan_s) && !cli_parse_time(time_s ? time_s : scan_s, &t))
        return cli_usage_error("lookup", "'%s' is not a time (seconds or HH:MM:SS.mmm)",
                               time_s ? time_s : scan_s);

    folio_t *ctx = folio_new(); /* for the lookup's message */
    if (!ctx) {
        fprintf(stderr, "folio: error: out of memory\n");
        return EXIT_FAIL;
    }
    folio_index_t *ix = cli_open_index(path);
    if (!ix) {
        folio_free(ctx);
        return EXIT_FAIL;
    }
    char *owned = NULL;
    size_t len = text ? strlen(text) : 0;
    bool over;
    if (text_file && !(owned = read_file(text_file, MAX_TEXT,
                                         "text over 64 KiB; give a page or less", &len, &over))) {
        folio_index_free(ix);
        folio_free(ctx);
        return EXIT_FAIL;
    }
    if (owned) text = owned;
    char *photo = NULL;
    size_t photo_len = 0;
    folio_ocr_t *ocr = NULL;
    int status = EXIT_OK;
    if (image) {
        int err = FOLIO_OK;
        if (!(photo = read_file(image, MAX_IMAGE, "over 32 MiB; not a photo of a page", &photo_len,
                                &over))) {
            status = over ? cli_result(FOLIO_ELIMIT)->exit_status : EXIT_FAIL;
            goto done;
        }
        if (!(ocr = folio_ocr_new(ctx, &err))) {
            fprintf(stderr, "folio: error: %s\n", folio_errmsg(ctx));
            status = cli_result(err)->exit_status;
            goto done;
        }
    }

    lookup_query_t q = {0};
    q.page = page;
    q.ordinal = (size_t)ordinal;
    q.has_time = time_s || scan_s;
    q.time = t;
    q.file = file;
    q.text = text;
    q.text_len = len;
    q.scan = scan_s != NULL;
    q.candidates = (size_t)candidates;
    q.image = photo;
    q.image_len = photo_len;
    q.ocr = ocr;
    char *json = NULL;
    int rc = lookup_run(ctx, ix, &q, &json);
    status = cli_result(rc)->exit_status;
    if (rc < 0 && image) fprintf(stderr, "folio: error: %s: %s\n", image, folio_errmsg(ctx));
    if (json) {
        fputs(json, stdout);
        fputc('\n', stdout);
    }
    free(json);
done:
    folio_ocr_free(ocr);
    free(photo);
    free(owned);
    folio_index_free(ix);
    folio_free(ctx);
    if (cli_stdout_finish(0) < 0) return EXIT_FAIL;
    return status;
}
