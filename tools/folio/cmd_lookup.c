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

enum { O_PAGE = 1, O_ORDINAL, O_TIME, O_FILE, O_TEXT, O_TEXT_FILE, O_IMAGE, O_SCAN, O_CANDIDATES };

static const cli_option_t options[] = {
    {"page", 0, "LABEL", O_PAGE, "where the page labelled LABEL starts in the audio"},
    {"ordinal", 0, "N", O_ORDINAL, "the same for the N-th page (from 1)"},
    {"time", 0, "T", O_TIME,
     "the page, chapter and sentence read at T (seconds or\n"
     "HH:MM:SS.mmm; on the whole timeline, or in --file N)"},
    {"file", 0, "N", O_FILE, "with --time: T is in audio file N (from 0)"},
    {"text", 0, "TEXT", O_TEXT, "where a page's OCR text is in the book and the audio"},
    {"text-file", 0, "FILE", O_TEXT_FILE,
     "the same, the text read from FILE (\"-\": standard input)"},
    {"image", 0, "PHOTO", O_IMAGE, "the same for a photo of a page (JPEG, PNG, TIFF, WebP)"},
    {"scan-to-read", 0, "T", O_SCAN,
     "with --text or --text-file: the pages to turn from the\n"
     "scanned page to what is read at T"},
    {"candidates", 0, "N", O_CANDIDATES,
     "text and photo lookups: how many places to report\n"
     "(1-20, default 1)"},
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_lookup = {
    "lookup",
    "INDEX --page LABEL | --ordinal N\n"
    "INDEX --time T [--file N]\n"
    "INDEX --text TEXT | --text-file FILE | --image PHOTO [--candidates N]\n"
    "INDEX --scan-to-read T (--text TEXT | --text-file FILE)",
    "One lookup in an index, its result as JSON on standard output (the JSON `folio serve`\n"
    "answers with).",
    options,
    "exit codes: 0 found (or \"match\": null), 1 failure, 2 usage error, 3 not found",
};

typedef struct {
    const char *page, *text, *text_file, *image, *ordinal, *time, *file, *scan;
    long candidates;
} lookup_args_t;

static int option(void *ud, const cli_args_t *a, int id, const char *v)
{
    lookup_args_t *l = ud;
    const char **slot = id == O_PAGE        ? &l->page
                        : id == O_ORDINAL   ? &l->ordinal
                        : id == O_TIME      ? &l->time
                        : id == O_FILE      ? &l->file
                        : id == O_TEXT      ? &l->text
                        : id == O_TEXT_FILE ? &l->text_file
                        : id == O_IMAGE     ? &l->image
                        : id == O_SCAN      ? &l->scan
                                            : NULL;
    if (slot)
        *slot = v;
    else if (id == O_CANDIDATES &&
             (!cli_parse_long(v, &l->candidates) || l->candidates < 1 || l->candidates > 20))
        return cli_bad_value(a, id, v, "1 to 20");
    return -1;
}

int cmd_lookup(int argc, char **argv)
{
    lookup_args_t l = {0};
    l.candidates = 1;
    cli_args_t p;
    int r = cli_parse(&p, &cli_cmd_lookup, argc, argv, option, &l);
    if (r >= 0) return r;
    if (p.npos > 1) r = cli_usage_error("lookup", "one index at a time");
    const char *path = p.npos == 1 ? p.pos[0] : NULL;
    cli_args_free(&p);
    if (r >= 0) return r;
    const char *page = l.page, *text = l.text, *text_file = l.text_file, *image = l.image;
    const char *ordinal_s = l.ordinal, *time_s = l.time, *file_s = l.file, *scan_s = l.scan;
    long candidates = l.candidates;
    int kinds = !!page + !!ordinal_s + !!(time_s && !scan_s) + !!((text || text_file) && !scan_s) +
                !!scan_s + !!image;
    if (!path || kinds != 1)
        return cli_missing(&cli_cmd_lookup, !path   ? "which index?"
                                            : kinds ? "one lookup at a time"
                                                    : "which lookup?");
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
