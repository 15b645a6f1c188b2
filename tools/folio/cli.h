/* Shared pieces of the folio command-line tool: exit codes, logging to stderr, option helpers. */
#ifndef FOLIO_CLI_H
#define FOLIO_CLI_H

#include <folio.h>
#include <stdbool.h>

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

/* Verbosity from -q/-v, shared by all commands. */
typedef struct {
    int verbosity; /* -1 quiet, 0 warnings, 1 info, 2 debug */
} cli_log_t;

/* Whether @arg is -q/--quiet (errors only) or -v/--verbose (more; repeatable), applied to @log. */
bool cli_log_option(const char *arg, cli_log_t *log);

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

/* Parse the recognition option at argv[*i] (--threads N, --model DIR, --dict FILE, --search S,
 * --restart) into @o, advancing *i past its value. Returns 1 if it was one, 0 if not, or
 * EXIT_USAGE after printing a usage error for command @cmd. */
int cli_recognition_option(const char *cmd, int argc, char **argv, int *i,
                           folio_transcribe_options_t *o);

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

/* Parse @argv of command @cmd: BOOK AUDIO..., -o OUT (required when @need_out), the recognition
 * options into @topts, -q/-v, and --force into *@force when @force is not NULL. Returns -1 when
 * the command may go on (free @a with cli_book_audio_free), else the exit status to return
 * (@usage printed on a usage error). */
int cli_parse_book_audio(const char *cmd, const char *usage, int argc, char **argv, bool need_out,
                         folio_transcribe_options_t *topts, int *force, cli_book_audio_t *a);
void cli_book_audio_free(cli_book_audio_t *a);
int cli_natural_cmp(const char *a, const char *b);

/* Progress shown while a long call runs. */
typedef struct {
    bool tty, shown;
    double last;
    int last_step;
    char stage[32];
} cli_progress_t;
void cli_progress_start(cli_progress_t *c, folio_t *ctx, const cli_log_t *log);
void cli_progress_end(cli_progress_t *c);

int cmd_book(int argc, char **argv);
int cmd_transcribe(int argc, char **argv);
int cmd_index(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_lookup(int argc, char **argv);
int cmd_serve(int argc, char **argv);

#endif
