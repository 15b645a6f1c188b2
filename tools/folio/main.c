/* folio: the command-line tool. Dispatches to one function per command; each parses its own
 * arguments, calls the library and prints. */
#include "cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *level_name(folio_log_level_t level)
{
    switch (level) {
    case FOLIO_LOG_ERROR:
        return "error";
    case FOLIO_LOG_WARN:
        return "warning";
    case FOLIO_LOG_INFO:
        return "info";
    default:
        return "debug";
    }
}

static void log_to_stderr(void *ud, folio_log_level_t level, const char *msg)
{
    (void)ud;
    /* Errors are printed once, by cli_error, when the call returns. */
    if (level == FOLIO_LOG_ERROR) return;
    fprintf(stderr, "folio: %s: %s\n", level_name(level), msg);
}

folio_t *cli_context(cli_log_t *log)
{
    folio_t *ctx = folio_new();
    if (!ctx) {
        fprintf(stderr, "folio: error: out of memory\n");
        return NULL;
    }
    if (log->verbosity >= 0) {
        folio_log_level_t level = log->verbosity >= 2   ? FOLIO_LOG_DEBUG
                                  : log->verbosity == 1 ? FOLIO_LOG_INFO
                                                        : FOLIO_LOG_WARN;
        folio_set_log(ctx, log_to_stderr, NULL, level);
    }
    return ctx;
}

void cli_error(folio_t *ctx, int rc)
{
    const char *msg = folio_errmsg(ctx);
    fprintf(stderr, "folio: error: %s\n", *msg ? msg : folio_strerror(rc));
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "folio %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'folio help'.\n");
    va_end(ap);
    return EXIT_USAGE;
}

int buf_append(folio_str_buf_t *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d) {
            fprintf(stderr, "folio: error: out of memory\n");
            return -1;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n + 1);
    b->len += n;
    return 0;
}

bool cli_parse_long(const char *s, long *out)
{
    if (!s || !*s) return false;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end) return false;
    *out = v;
    return true;
}

bool cli_log_option(const char *arg, cli_log_t *log)
{
    if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0)
        log->verbosity = -1;
    else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0)
        log->verbosity++;
    else
        return false;
    return true;
}

folio_index_t *cli_open_index(const char *path)
{
    folio_t *ctx = folio_new();
    if (!ctx) {
        fprintf(stderr, "folio: error: out of memory\n");
        return NULL;
    }
    int rc;
    folio_index_t *ix = folio_index_open(ctx, path, &rc);
    if (!ix) cli_error(ctx, rc);
    folio_free(ctx);
    return ix;
}

bool cli_parse_time(const char *s, double *out)
{
    if (!s || !*s) return false;
    double parts[3];
    int n = 0;
    const char *p = s;
    for (;;) {
        if (n == 3 || !((*p >= '0' && *p <= '9') || *p == '.')) return false;
        char *end;
        parts[n++] = strtod(p, &end);
        if (end == p || !isfinite(parts[n - 1]) || parts[n - 1] < 0) return false;
        if (!*end) break;
        if (*end != ':') return false;
        p = end + 1;
    }
    /* Only the last field may have a fraction; minutes and seconds before it are under 60. */
    for (int i = 0; i < n - 1; i++)
        if (parts[i] != floor(parts[i]) || (i > 0 && parts[i] >= 60)) return false;
    if (n > 1 && parts[n - 1] >= 60) return false;
    double t = 0;
    for (int i = 0; i < n; i++) t = t * 60 + parts[i];
    *out = t;
    return true;
}

int cli_recognition_option(const char *cmd, int argc, char **argv, int *i,
                           folio_transcribe_options_t *o)
{
    const char *a = argv[*i];
    if (strcmp(a, "--threads") == 0) {
        long n;
        if (*i + 1 >= argc || !cli_parse_long(argv[*i + 1], &n) || n < 1 || n > 256)
            return cli_usage_error(cmd, "--threads takes a number from 1 to 256");
        o->threads = (int)n;
        ++*i;
    } else if (strcmp(a, "--model") == 0 || strcmp(a, "--dict") == 0) {
        if (*i + 1 >= argc) return cli_usage_error(cmd, "%s takes a path", a);
        if (a[2] == 'm')
            o->model_dir = argv[++*i];
        else
            o->dict_path = argv[++*i];
    } else if (strcmp(a, "--search") == 0) {
        const char *v = *i + 1 < argc ? argv[++*i] : "";
        if (strcmp(v, "balanced") == 0)
            o->search = FOLIO_SEARCH_BALANCED;
        else if (strcmp(v, "fast") == 0)
            o->search = FOLIO_SEARCH_FAST;
        else if (strcmp(v, "accurate") == 0)
            o->search = FOLIO_SEARCH_ACCURATE;
        else
            return cli_usage_error(cmd, "--search takes fast, balanced or accurate");
    } else if (strcmp(a, "--restart") == 0) {
        o->restart = 1;
    } else {
        return 0;
    }
    return 1;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "folio %s: aligns audiobooks with their books\n"
        "\n"
        "usage: folio COMMAND [OPTIONS]\n"
        "\n"
        "commands:\n"
        "  book BOOK [--json | --text | --tokens | --pronunciations]\n"
        "                                what Folio reads in an EPUB or text book: a summary,\n"
        "                                the model as JSON, the extracted text, the spoken\n"
        "                                tokens (TSV), or the pronunciations (TSV)\n"
        "      --format auto|epub|txt    how to read BOOK (default: by its content)\n"
        "      --first-page-label N      text books: label of the first form-feed page\n"
        "      --dict FILE               pronouncing dictionary (default: the model's)\n"
        "  transcribe BOOK AUDIO... [-o OUT.tsv]\n"
        "                                what is said in the audio and when (TSV: word, file,\n"
        "                                file_time, end_time, global_time, confidence),\n"
        "                                recognised with the book's language model; resumes\n"
        "                                a killed run (its work is kept in OUT.tsv.part;\n"
        "                                without -o, in $TMPDIR or /tmp, in a file named by\n"
        "                                the book's and audio's paths); removed on success\n"
        "      --threads N               decoders at once (default: one per core)\n"
        "      --restart                 discard earlier work and start afresh\n"
        "      --search fast|balanced|accurate   speed against words found (default balanced)\n"
        "      --model DIR               the pocketsphinx model folder\n"
        "      --dict FILE               pronouncing dictionary (default: the model's)\n"
        "  index BOOK AUDIO... -o BOOK.folio\n"
        "                                recognise, align and write the page index (SQLite;\n"
        "                                docs/index.md); resumes a killed run from\n"
        "                                BOOK.folio.part; prints what was read\n"
        "      --force                   index even audio that is plainly not this book\n"
        "      --threads, --restart, --search, --model, --dict   as for transcribe\n"
        "  export INDEX [--format json|csv|vtt] [-o OUT]\n"
        "                                the index as JSON (docs/export.md, the default), its\n"
        "                                pages as CSV, or WebVTT subtitles, a cue per sentence\n"
        "                                and a file per audio file (-o names their folder)\n"
        "  export INDEX --format epub --book BOOK.epub -o OUT.epub\n"
        "                                the EPUB 3 book with Media Overlays: each paragraph\n"
        "                                synchronised with the audio (docs/export.md)\n"
        "      --embed-audio             put the audio inside the EPUB\n"
        "      --audio DIR               where the audio files are (default: the book's folder)\n"
        "      --audio-url URL           audio not embedded is published under URL (default:\n"
        "                                file: URLs of the files in DIR)\n",
        folio_version());
    /* Two strings: C99 compilers need take no string over 4095 characters. */
    fputs(
        "  lookup INDEX --page LABEL | --ordinal N\n"
        "                                where a page starts in the audio (JSON)\n"
        "  lookup INDEX --time T [--file N]\n"
        "                                the page, chapter and sentence read at T (seconds or\n"
        "                                HH:MM:SS.mmm; in file N, else on the whole timeline)\n"
        "  lookup INDEX --text TEXT | --text-file F [--candidates N]\n"
        "                                where a page's OCR text is in the book and the audio\n"
        "  lookup INDEX --image PHOTO [--candidates N]\n"
        "                                the same for a photo of a page (JPEG, PNG, TIFF, WebP):\n"
        "                                its first whole line's first word; \"timing\" says\n"
        "                                how long OCR and matching took\n"
        "  lookup INDEX --scan-to-read T --text TEXT | --text-file F\n"
        "                                pages to turn from the scanned page to what is read at T\n"
        "  serve --port P [--host 127.0.0.1] [--threads N] [--cache N] DIR_OR_INDEX...\n"
        "                                the lookups over HTTP, every index by its file name's\n"
        "                                stem (README: the endpoints); SIGTERM stops it\n"
        "      --ocr-threads N, --ocr-queue N   photo OCR workers (default: the cores, at\n"
        "                                most 8) and photos waiting for one (default: twice\n"
        "                                that; a full queue answers 503)\n"
        "      --max-connections N, --max-per-ip N, --request-timeout SEC   at most N\n"
        "                                connections (2000), N from one address (64), SEC\n"
        "                                seconds a request (30)\n"
        "  AUDIO is files in order, a folder (its audio files in natural order) or an M3U\n"
        "  help                          this text\n"
        "  version                       the version\n"
        "\n"
        "common options: -q/--quiet (errors only), -v/--verbose (repeat for more)\n"
        "exit codes: 0 success, 1 failure, 2 usage error, 3 not found\n",
        f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "book") == 0) return cmd_book(argc - 1, argv + 1);
    if (strcmp(cmd, "transcribe") == 0) return cmd_transcribe(argc - 1, argv + 1);
    if (strcmp(cmd, "index") == 0) return cmd_index(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0) return cmd_export(argc - 1, argv + 1);
    if (strcmp(cmd, "lookup") == 0) return cmd_lookup(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("folio %s\n", folio_version());
        return EXIT_OK;
    }
    fprintf(stderr, "folio: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return EXIT_USAGE;
}
