/* The command line of every folio command, parsed with getopt_long from the command's one option
 * table (cli_command_t), which also prints its help: "--opt value", "--opt=value", "--" ends the
 * options, -q/-v/-h everywhere, and "did you mean" for a mistyped option or command. */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What args_next returns besides an option id: the options are over; stop (a->status). */
enum { CLI_END = -1, CLI_STOP = -2 };

/* Options every command takes, after its own. */
static const cli_option_t common_options[] = {
    {"quiet", 'q', NULL, CLI_OPT_QUIET, "errors only"},
    {"verbose", 'v', NULL, CLI_OPT_VERBOSE, "more messages (repeat for more)"},
    {"help", 'h', NULL, CLI_OPT_HELP, "this help"},
    {NULL, 0, NULL, 0, NULL},
};

size_t cli_edit_distance(const char *a, const char *b)
{
    /* Optimal string alignment: insertions, deletions, substitutions and swaps of two
     * neighbours ("josn" for "json") cost 1. Three rows of the table. */
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64) return (size_t)-1;
    size_t rows[3][65], *before = rows[0], *prev = rows[1], *cur = rows[2];
    for (size_t j = 0; j <= lb; j++) prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best) best = prev[j] + 1;
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                before[j - 2] + 1 < best)
                best = before[j - 2] + 1;
            cur[j] = best;
        }
        size_t *t = before;
        before = prev;
        prev = cur;
        cur = t;
    }
    return prev[lb];
}

const char *cli_closest(const char *word, const char *const *names, size_t n)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        size_t d = cli_edit_distance(word, names[i]);
        if (d < best_d) best_d = d, best = names[i];
    }
    /* A typo, not another word: at most a third of the letters (and at least one) differ. */
    size_t len = strlen(word), limit = len / 3 > 1 ? len / 3 : 1;
    return best && best_d <= limit ? best : NULL;
}

static size_t n_options(const cli_option_t *o)
{
    size_t n = 0;
    while (o && o[n].name) n++;
    return n;
}

/* The option table entry @k of @cmd's own options followed by the common ones. */
static const cli_option_t *option_at(const cli_command_t *cmd, size_t k)
{
    size_t own = n_options(cmd->options);
    return k < own ? &cmd->options[k] : &common_options[k - own];
}

/* Print @text indented by @indent after the first line, which starts at @col. */
static void put_lines(FILE *f, const char *text, int col, int indent)
{
    bool first = true;
    for (const char *p = text; *p;) {
        size_t n = strcspn(p, "\n");
        if (!first || col >= indent) {
            fputc('\n', f);
            col = 0;
        }
        fprintf(f, "%*s%.*s", indent - col, "", (int)n, p);
        first = false;
        p += n;
        if (*p) p++;
    }
    fputc('\n', f);
}

static void option_usage(FILE *f, const cli_option_t *o)
{
    char head[96];
    int n = snprintf(head, sizeof(head), "  %c%c%s--%s%s%s", o->letter ? '-' : ' ',
                     o->letter ? o->letter : ' ', o->letter ? ", " : "  ", o->name,
                     o->arg ? "=" : "", o->arg ? o->arg : "");
    fputs(head, f);
    put_lines(f, o->help, n, 30);
}

static void synopsis(FILE *f, const cli_command_t *cmd)
{
    const char *p = cmd->synopsis;
    bool first = true;
    while (*p) {
        size_t n = strcspn(p, "\n");
        fprintf(f, "%s folio %s %.*s\n", first ? "usage:" : "      ", cmd->name, (int)n, p);
        first = false;
        p += n;
        if (*p) p++;
    }
}

void cli_help(FILE *f, const cli_command_t *cmd)
{
    synopsis(f, cmd);
    fprintf(f, "\n%s\n\noptions:\n", cmd->description);
    for (size_t k = 0, n = n_options(cmd->options) + n_options(common_options); k < n; k++)
        option_usage(f, option_at(cmd, k));
    if (cmd->notes) fprintf(f, "\n%s\n", cmd->notes);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "folio %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nTry 'folio %s --help'.\n", cmd);
    va_end(ap);
    return EXIT_USAGE;
}

int cli_missing(const cli_command_t *cmd, const char *what)
{
    fprintf(stderr, "folio %s: %s\n", cmd->name, what);
    synopsis(stderr, cmd);
    fprintf(stderr, "Try 'folio %s --help'.\n", cmd->name);
    return EXIT_USAGE;
}

/* The usage error for an option getopt_long did not know: the closest long name, if any. */
static int unknown_option(cli_args_t *a, const char *arg)
{
    const cli_command_t *cmd = a->cmd;
    if (arg[0] == '-' && arg[1] != '-') {
        /* An unknown letter: getopt_long keeps it in optopt. */
        return cli_usage_error(cmd->name, "unknown option '-%c'", optopt ? optopt : arg[1]);
    }
    char name[80];
    snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg + 2, "="), arg + 2);
    const char *names[64];
    size_t n = 0;
    for (size_t k = 0, all = n_options(cmd->options) + n_options(common_options); k < all && n < 64;
         k++)
        names[n++] = option_at(cmd, k)->name;
    const char *close = cli_closest(name, names, n);
    if (close)
        return cli_usage_error(cmd->name, "unknown option '--%s'; did you mean '--%s'?", name,
                               close);
    return cli_usage_error(cmd->name, "unknown option '--%s'", name);
}

static int args_init(cli_args_t *a, const cli_command_t *cmd, int argc, char **argv)
{
    memset(a, 0, sizeof(*a));
    a->cmd = cmd;
    a->argc = argc;
    a->argv = argv;
    size_t n = n_options(cmd->options) + n_options(common_options);
    a->longopts = calloc(n + 1, sizeof(struct option));
    char *s = a->shortopts = malloc(2 * n + 2);
    if (!a->longopts || !s) {
        cli_args_free(a);
        fprintf(stderr, "folio: error: out of memory\n");
        return EXIT_FAIL;
    }
    /* ':' first: a missing value is told apart from an unknown option. */
    *s++ = ':';
    for (size_t k = 0; k < n; k++) {
        const cli_option_t *o = option_at(cmd, k);
        a->longopts[k].name = o->name;
        a->longopts[k].has_arg = o->arg ? required_argument : no_argument;
        a->longopts[k].val = 256 + (int)k;
        if (o->letter) {
            *s++ = (char)o->letter;
            if (o->arg) *s++ = ':';
        }
    }
    *s = '\0';
    optind = 0; /* glibc: start afresh */
    opterr = 0;
    return -1;
}

void cli_args_free(cli_args_t *a)
{
    free(a->longopts);
    free(a->shortopts);
    a->longopts = NULL;
    a->shortopts = NULL;
}

static int args_next(cli_args_t *a, const char **value)
{
    const cli_command_t *cmd = a->cmd;
    for (;;) {
        int prev = optind ? optind : 1;
        int c = getopt_long(a->argc, a->argv, a->shortopts, a->longopts, NULL);
        *value = optarg;
        if (c == -1) {
            a->pos = a->argv + optind;
            a->npos = a->argc - optind;
            return CLI_END;
        }
        /* The argument getopt_long complained about: the last one it looked at. */
        const char *arg = a->argv[optind > prev ? optind - 1 : prev];
        if (c == '?') {
            a->status = unknown_option(a, arg);
            return CLI_STOP;
        }
        if (c == ':') {
            const char *name = arg;
            if (arg[0] == '-' && arg[1] != '-' && optopt) {
                for (size_t k = 0; option_at(cmd, k)->name; k++)
                    if (option_at(cmd, k)->letter == optopt) {
                        const cli_option_t *o = option_at(cmd, k);
                        a->status = cli_usage_error(cmd->name, "-%c needs a value: -%c %s", optopt,
                                                    optopt, o->arg);
                        return CLI_STOP;
                    }
            }
            const cli_option_t *o = NULL;
            for (size_t k = 0; option_at(cmd, k)->name; k++)
                if (optopt == 256 + (int)k) o = option_at(cmd, k);
            a->status = o ? cli_usage_error(cmd->name, "--%s needs a value: --%s=%s", o->name,
                                            o->name, o->arg)
                          : cli_usage_error(cmd->name, "%s takes a value", name);
            return CLI_STOP;
        }
        size_t k = 0;
        if (c >= 256)
            k = (size_t)(c - 256);
        else
            while (option_at(cmd, k)->name && option_at(cmd, k)->letter != c) k++;
        const cli_option_t *o = option_at(cmd, k);
        switch (o->id) {
        case CLI_OPT_QUIET:
            a->log.verbosity = -1;
            continue;
        case CLI_OPT_VERBOSE:
            a->log.verbosity++;
            continue;
        case CLI_OPT_HELP:
            cli_help(stdout, cmd);
            a->status = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
            return CLI_STOP;
        default:
            return o->id;
        }
    }
}

int cli_bad_value(const cli_args_t *a, int id, const char *value, const char *what)
{
    const char *name = "?";
    for (size_t k = 0; option_at(a->cmd, k)->name; k++)
        if (option_at(a->cmd, k)->id == id) name = option_at(a->cmd, k)->name;
    return cli_usage_error(a->cmd->name, "--%s takes %s, not '%s'", name, what, value);
}

int cli_parse(cli_args_t *a, const cli_command_t *cmd, int argc, char **argv, cli_option_fn fn,
              void *ud)
{
    int r = args_init(a, cmd, argc, argv);
    const char *value;
    for (int id; r < 0 && (id = args_next(a, &value)) != CLI_END;)
        r = id == CLI_STOP ? a->status : fn(ud, a, id, value);
    if (r >= 0) cli_args_free(a);
    return r;
}
