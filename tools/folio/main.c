/* folio: the command-line tool. Dispatches to one function per command; each parses its own
 * arguments, calls the library and prints. */
#include "cli.h"

#include <math.h>
#include <stdbool.h>
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

int cli_recognition_option(const cli_args_t *a, int id, const char *value,
                           folio_transcribe_options_t *o)
{
    long n;
    switch (id) {
    case CLI_OPT_THREADS:
        if (!cli_parse_long(value, &n) || n < 1 || n > 256)
            return cli_bad_value(a, id, value, "a number from 1 to 256");
        o->threads = (int)n;
        return 1;
    case CLI_OPT_MODEL:
        o->model_dir = value;
        return 1;
    case CLI_OPT_DICT:
        o->dict_path = value;
        return 1;
    case CLI_OPT_SEARCH:
        if (strcmp(value, "balanced") == 0)
            o->search = FOLIO_SEARCH_BALANCED;
        else if (strcmp(value, "fast") == 0)
            o->search = FOLIO_SEARCH_FAST;
        else if (strcmp(value, "accurate") == 0)
            o->search = FOLIO_SEARCH_ACCURATE;
        else
            return cli_bad_value(a, id, value, "fast, balanced or accurate");
        return 1;
    case CLI_OPT_RESTART:
        o->restart = 1;
        return 1;
    default:
        return 0;
    }
}

/* serve parses its own command line (cmd_serve.c); this table is its help. */
static const cli_option_t serve_options[] = {
    {"port", 0, "P", 1, "the TCP port (0: any free one; required)"},
    {"host", 0, "ADDR", 2, "the IPv4 address to listen on (default: 127.0.0.1)"},
    {"threads", 0, "N", 3, "connection threads (1-1024, default 4)"},
    {"cache", 0, "N", 4, "indexes kept open at once (1-1024, default 256)"},
    {"ocr-threads", 0, "N", 5, "photo OCR workers (1-64; default: the cores, at most 8)"},
    {"ocr-queue", 0, "N", 6,
     "photos waiting for a worker (1-64; default: twice the OCR threads);\n"
     "a full queue answers 503"},
    {"max-connections", 0, "N", 7, "connections at once (default 2000)"},
    {"max-per-ip", 0, "N", 8, "connections from one address (default 64)"},
    {"request-timeout", 0, "SEC", 9,
     "seconds a request may take, however slowly its client sends\n"
     "(default 30)"},
    {"audio-root", 0, "DIR", 10,
     "where the web page's audio is: DIR/ID/NAME or DIR/NAME (default:\n"
     "beside each index)"},
    {"token", 0, "FILE", 11, "ask every request but /healthz for the token in FILE"},
    {"cors", 0, "ORIGIN", 12, "allow the web origin ORIGIN (CORS headers)"},
    {NULL, 0, NULL, 0, NULL},
};

static const cli_command_t serve_command = {
    "serve",
    "--port P [OPTIONS] DIR_OR_INDEX...",
    "Answer the lookups over HTTP, every index by its file name's stem (README: the\n"
    "endpoints). SIGTERM or SIGINT stops it.",
    serve_options,
    NULL,
};

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const cli_command_t *spec;
    const char *summary;
} commands[] = {
    {"book", cmd_book, &cli_cmd_book, "what Folio reads in a book"},
    {"transcribe", cmd_transcribe, &cli_cmd_transcribe, "what is said in the audio, and when"},
    {"index", cmd_index, &cli_cmd_index, "align the audio with the book: the page index"},
    {"export", cmd_export, &cli_cmd_export,
     "the index as JSON, CSV, WebVTT, SRT, Audacity labels, TSV, or an EPUB 3\n"
     "with Media Overlays"},
    {"lookup", cmd_lookup, &cli_cmd_lookup,
     "page to audio, audio to page, OCR text or photo to both"},
    {"serve", cmd_serve, &serve_command, "the lookups over HTTP"},
    {"catalog", cmd_catalog, &cli_cmd_catalog,
     "a whole library as scheduler tasks (Slurm, Kubernetes, GNU parallel):\n"
     "scan it into a manifest, index book N, see where it stands"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f,
            "folio %s: aligns audiobooks with their books\n"
            "\n"
            "usage: folio [-q | -v] COMMAND [OPTIONS] ARGUMENTS\n"
            "       folio help COMMAND    (or folio COMMAND --help)\n"
            "       folio --version\n"
            "\n"
            "commands:\n",
            folio_version());
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *syn = commands[i].spec->synopsis;
        fprintf(f, "  %s %.*s\n", commands[i].name, (int)strcspn(syn, "\n"), syn);
        const char *p = commands[i].summary;
        while (*p) {
            size_t n = strcspn(p, "\n");
            fprintf(f, "      %.*s\n", (int)n, p);
            p += n + (p[n] != 0);
        }
    }
    fputs("  help [COMMAND]  this text, or COMMAND's options\n"
          "  version         the version\n"
          "\n"
          "AUDIO is files in order, a folder (its audio files in natural order) or an M3U\n"
          "playlist. Options: \"--opt value\" or \"--opt=value\"; \"--\" ends them.\n"
          "common options: -q/--quiet (errors only), -v/--verbose (repeat for more),\n"
          "-h/--help (the command's help)\n"
          "exit codes: 0 success, 1 failure, 2 usage error, 3 not found\n",
          f);
}

/* The command named @name, or -1 after saying which one was perhaps meant. */
static int find_command(const char *name, bool quiet)
{
    const char *names[N_COMMANDS + 2];
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(name, commands[i].name) == 0) return (int)i;
        names[i] = commands[i].name;
    }
    if (quiet) return -1;
    names[N_COMMANDS] = "help";
    names[N_COMMANDS + 1] = "version";
    const char *close = cli_closest(name, names, N_COMMANDS + 2);
    if (close)
        fprintf(stderr, "folio: unknown command '%s'; did you mean '%s'?\n", name, close);
    else
        fprintf(stderr, "folio: unknown command '%s'\n", name);
    fprintf(stderr, "Try 'folio help'.\n");
    return -1;
}

static int help(int argc, char **argv)
{
    if (argc < 1) {
        usage(stdout);
    } else {
        int k = find_command(argv[0], false);
        if (k < 0) return EXIT_USAGE;
        cli_help(stdout, commands[k].spec);
    }
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

/* serve parses its own options: its help is given here. */
static bool asks_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return true;
    return false;
}

int main(int argc, char **argv)
{
    /* Options before the command: -q/-v are the command's, passed on after its name. */
    int i = 1;
    char *global[16];
    int n_global = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return help(0, NULL);
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("folio %s\n", folio_version());
            return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
        }
        bool ok = a[1] != '-' ? strspn(a + 1, "qv") == strlen(a + 1)
                              : strcmp(a, "--quiet") == 0 || strcmp(a, "--verbose") == 0;
        if (!ok || n_global == 16) {
            fprintf(stderr,
                    "folio: unknown option '%s' before the command (only -q, -v, --help and "
                    "--version go there)\nTry 'folio help'.\n",
                    a);
            return EXIT_USAGE;
        }
        global[n_global++] = argv[i];
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[i];
    if (strcmp(cmd, "help") == 0) return help(argc - i - 1, argv + i + 1);
    if (strcmp(cmd, "version") == 0) {
        printf("folio %s\n", folio_version());
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
    }
    int k = find_command(cmd, false);
    if (k < 0) return EXIT_USAGE;
    /* The command's argv: its name, the global options, then its own arguments. */
    int n = argc - i + n_global;
    char **args = malloc(((size_t)n + 1) * sizeof(char *));
    if (!args) {
        fprintf(stderr, "folio: error: out of memory\n");
        return EXIT_FAIL;
    }
    args[0] = argv[i];
    memcpy(args + 1, global, (size_t)n_global * sizeof(char *));
    memcpy(args + 1 + n_global, argv + i + 1, (size_t)(argc - i - 1) * sizeof(char *));
    args[n] = NULL;
    int status;
    if (commands[k].run == cmd_serve && asks_help(n, args))
        status = help(1, args);
    else
        status = commands[k].run(n, args);
    free(args);
    return status;
}
