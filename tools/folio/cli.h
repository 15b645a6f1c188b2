/* Shared pieces of the folio command-line tool: exit codes, logging to stderr, option helpers. */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

#include <folio.h>
#include <stdbool.h>
#include <stdio.h>

/* Exit codes of every folio command. */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,     /* the command failed: bad input, I/O error, ... */
    EXIT_USAGE = 2,    /* wrong command line */
    EXIT_NOTFOUND = 3, /* a looked-up item does not exist */
};

/* What a library result code means to the tool's users (errors.c). */
typedef struct {
    int rc;           /* FOLIO_OK or a FOLIO_E* code */
    const char *json; /* the "code" of the JSON error object; NULL for FOLIO_OK */
    unsigned http;    /* the HTTP status of `folio serve` */
    int exit_status;  /* the exit status of `folio lookup` (other commands exit 1 on any error) */
} cli_result_t;

/* The row of @rc (a static row of "failed", 500, EXIT_FAIL for a code the table lacks). */
const cli_result_t *cli_result(int rc);

/* Flush standard output after a command wrote its result there. When that or an earlier write
 * failed (@write_errno: the errno of a failure the caller saw, or 0), print "folio: error:
 * writing to standard output failed: REASON" and return -1; else 0. */
int cli_stdout_finish(int write_errno);

/* Verbosity from -q/-v, shared by all commands. */
typedef struct {
    int verbosity; /* -1 quiet, 0 warnings, 1 info, 2 debug */
} cli_log_t;

/* One option of a command. A command's table of them is what its parser accepts and what its
 * help prints, so the two cannot disagree. */
typedef struct {
    const char *name; /* the long name, without "--" */
    int letter;       /* the short option letter, or 0 */
    const char *arg;  /* the value's placeholder ("FILE"), or NULL for an option without one */
    int id;           /* what the command's cli_option_fn is called with (> 0) */
    const char *help; /* what it does; a "\n" starts another line */
} cli_option_t;

/* Ids of the options every command takes (-q, -v, -h), and of the recognition options. */
enum {
    CLI_OPT_QUIET = 1000,
    CLI_OPT_VERBOSE,
    CLI_OPT_HELP,
    CLI_OPT_THREADS,
    CLI_OPT_MODEL,
    CLI_OPT_DICT,
    CLI_OPT_SEARCH,
    CLI_OPT_RESTART,
};

/* The recognition options of transcribe and index, for their option tables. */
#define CLI_RECOGNITION_OPTIONS                                                                    \
    {"threads", 0, "N", CLI_OPT_THREADS, "decoders at once (default: one per core)"},              \
        {"restart", 0, NULL, CLI_OPT_RESTART, "discard earlier work and start afresh"},            \
        {"search", 0, "fast|balanced|accurate", CLI_OPT_SEARCH,                                    \
         "speed against words found (default: balanced)"},                                         \
        {"model", 0, "DIR", CLI_OPT_MODEL, "the pocketsphinx model folder"},                       \
    {                                                                                              \
        "dict", 0, "FILE", CLI_OPT_DICT, "pronouncing dictionary (default: the model's)"           \
    }

/* A command: its name, usage lines (each after "folio NAME "), what it does, its options (ending
 * with a {NULL} entry; -q, -v and -h are added) and notes printed after them (or NULL). */
typedef struct {
    const char *name;
    const char *synopsis;
    const char *description;
    const cli_option_t *options;
    const char *notes;
} cli_command_t;

/* Print @cmd's help: usage, description, options. */
void cli_help(FILE *f, const cli_command_t *cmd);

/* Parsing a command line with getopt_long. */
typedef struct {
    const cli_command_t *cmd;
    int argc;
    char **argv;
    struct option *longopts;
    char *shortopts;
    cli_log_t log; /* from -q/-v */
    int status;    /* the exit status of --help or a usage error */
    char **pos;    /* the arguments that are not options, in order */
    int npos;
} cli_args_t;

/* Called for each of the command's own options, with its id and value (NULL for none): returns
 * -1 to go on, or the exit status to stop with (after printing why). */
typedef int (*cli_option_fn)(void *ud, const cli_args_t *a, int id, const char *value);

/* Parse @argv (argv[0] is the command's name) by @cmd's table with getopt_long: -q/-v into
 * a->log, -h/--help printed, @fn called for the others. Returns -1 when the command may go on
 * (the other arguments in a->pos; free @a with cli_args_free), else the exit status to return
 * (@a freed). */
int cli_parse(cli_args_t *a, const cli_command_t *cmd, int argc, char **argv, cli_option_fn fn,
              void *ud);
void cli_args_free(cli_args_t *a);
/* Print "folio CMD: WHAT", @cmd's usage lines and where its help is; returns EXIT_USAGE. */
int cli_missing(const cli_command_t *cmd, const char *what);
/* Print "--NAME takes WHAT, not 'VALUE'" for option @id and return EXIT_USAGE. */
int cli_bad_value(const cli_args_t *a, int id, const char *value, const char *what);

/* Edit distance (swaps of neighbours count 1) of two short words ((size_t)-1 over 64 bytes). */
size_t cli_edit_distance(const char *a, const char *b);
/* The name of @names that @word is most likely a typo of, or NULL. */
const char *cli_closest(const char *word, const char *const *names, size_t n);

/* A context whose log goes to stderr as "folio: warning: ...". */
folio_t *cli_context(cli_log_t *log);

/* Print "folio: error: MESSAGE" for a failed call on @ctx with code @rc. */
void cli_error(folio_t *ctx, int rc);

/* Open the index @path, or print the library's reason ("folio: error: PATH: ...") and return
 * NULL. */
folio_index_t *cli_open_index(const char *path);

/* Print a usage error and return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...);

/* Parse a whole decimal number; false if @s is not one. */
bool cli_parse_long(const char *s, long *out);

/* Parse a time: seconds ("754.5") or HH:MM:SS(.mmm) / MM:SS(.mmm); false if @s is not one. */
bool cli_parse_time(const char *s, double *out);

/* One lookup (folio lookup, folio serve): exactly one of page, ordinal (from 1), text (with scan:
 * scan to read at time), image (read with ocr), or time (on file, or the global timeline when
 * file is -1). */
typedef struct {
    const char *page;
    size_t ordinal;
    const char *text;
    size_t text_len;
    const void *image; /* a photo's bytes, read with ocr */
    size_t image_len;
    folio_ocr_t *ocr;
    bool scan;
    bool has_time;
    double time;
    long file;
    size_t candidates; /* text and image lookups: how many places to report */
} lookup_query_t;

/* Run @q with the context @ctx (not NULL: its message goes into the error object); *@json
 * receives the result or error object (caller frees; NULL when out of memory). Returns FOLIO_OK
 * (a match or "match": null) or the failed lookup's code (FOLIO_ENOMEM when the JSON could not
 * be made): cli_result() gives its exit status and HTTP status. */
int lookup_run(folio_t *ctx, const folio_index_t *ix, const lookup_query_t *q, char **json);

/* The number format of the JSON folio writes (lookup, serve; a Jansson json_t): a time in
 * seconds is rounded to the millisecond as export rounds it ("%.3f"), and every real is written
 * in the shortest text that reads back as the same double ("223.925", not
 * "223.92500000000001"). */
struct json_t;
struct json_t *cli_json_seconds(double t);

/* The compact JSON text of @o in that format (caller frees; NULL when out of memory). */
char *cli_json_dump(const struct json_t *o);

/* Apply recognition option @id (CLI_OPT_THREADS ... CLI_OPT_RESTART) with @value to @o. Returns 1
 * if @id is one, 0 if not, or EXIT_USAGE after printing a usage error. */
int cli_recognition_option(const cli_args_t *a, int id, const char *value,
                           folio_transcribe_options_t *o);

/* Whether @path is an audio file, by its name or its first bytes. */
bool cli_looks_like_audio(const char *path);

/* Check that @path can be written before any work: not a folder, in a folder that exists and
 * may be written. Prints why not ("folio: error: PATH: ...") and returns false. */
bool cli_check_output(const char *path);

/* Open @path for writing a result: a regular file (or a new one) through @tmp (@path.tmp, of @n
 * bytes), which cli_output_close() renames over it, so that no half-written file is ever under
 * its name; anything else (/dev/null, a FIFO, a terminal) is written directly and never
 * replaced. NULL with errno when it cannot be opened. */
FILE *cli_output_open(const char *path, char *tmp, size_t n);

/* Close @f and, when @ok, rename @tmp over @path; else remove @tmp. Returns 0 or -1 (errno). */
int cli_output_close(FILE *f, const char *path, const char *tmp, bool ok);

/* A growable string for output formatting. */
typedef struct {
    char *data;
    size_t len, cap;
} folio_str_buf_t;

/* Append @s; returns 0, or -1 (with a message on stderr) when out of memory. */
int buf_append(folio_str_buf_t *b, const char *s);

/* Audio arguments expanded: folders (natural order) and M3U playlists become their files. */
typedef struct {
    char **items;
    size_t len, cap;
} cli_paths_t;
int cli_expand_audio(char **args, int n, cli_paths_t *out);
void cli_paths_free(cli_paths_t *p);

/* The command line of a command that reads BOOK AUDIO... (transcribe, index). */
typedef struct {
    cli_log_t log;
    const char *out;   /* -o, or NULL */
    const char *book;  /* the first positional argument */
    cli_paths_t audio; /* the others, expanded */
} cli_book_audio_t;

/* Parse @argv by @cmd's table: BOOK AUDIO..., -o OUT (required when @need_out), the recognition
 * options into @topts, -q/-v, and --force into *@force when @force is not NULL. Returns -1 when
 * the command may go on (free @a with cli_book_audio_free), else the exit status to return. */
int cli_parse_book_audio(const cli_command_t *cmd, int argc, char **argv, bool need_out,
                         folio_transcribe_options_t *topts, int *force, cli_book_audio_t *a);
void cli_book_audio_free(cli_book_audio_t *a);
int cli_natural_cmp(const char *a, const char *b);

/* Whether a file name is an audio file's (by its extension). */
bool cli_audio_name(const char *name);

/* Progress shown while a long call runs. */
typedef struct {
    bool then_align; /* set by the caller: alignment follows recognition */
    bool tty, shown, announced;
    double last;
    int last_step;
    char stage[32];
    double t0,
        done0; /* the stage's first report (t0 < 0: none yet): the pace is measured from there */
} cli_progress_t;
void cli_progress_start(cli_progress_t *c, folio_t *ctx, const cli_log_t *log);
void cli_progress_end(cli_progress_t *c);

/* The commands' tables, for `folio help COMMAND`. */
extern const cli_command_t cli_cmd_book, cli_cmd_transcribe, cli_cmd_index, cli_cmd_export,
    cli_cmd_lookup;

int cmd_book(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
extern const cli_command_t cli_cmd_catalog;

#endif
