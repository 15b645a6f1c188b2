/* Shared within `folio serve` (cmd_serve.c and serve_*.c): the books and the cache of open
 * indexes (serve_books.c), a request's state, the JSON answers, the OCR workers (serve_ocr.c) and
 * the guard that bounds how long a connection may hold the server (serve_guard.c). */
#ifndef FOLIO_SERVE_H
#define FOLIO_SERVE_H

#include "cli.h"

#include <microhttpd.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- books and the cache of open indexes (serve_books.c) ---- */

typedef struct {
    char *id, *path;
    folio_index_t *ix; /* open, or NULL */
    unsigned users;    /* requests using ix now */
    unsigned long last_used;
    bool opening; /* a request is opening ix, off the library's lock */
    int failed;   /* the last open's error while the file is unchanged (0: none) */
    dev_t dev;    /* the file that failed: its identity, size and time */
    ino_t ino;
    off_t size;
    long long mtime_ns;
} book_t;

/* Add the .folio index @path, or every .folio index in the folder @path (remembered, so that a
 * rescan finds the indexes that appear in it later); -1 after printing why not. */
int serve_add_path(const char *path);

/* Sort the books by id and keep at most @max_open indexes open while idle. */
void serve_books_ready(size_t max_open);

/* How many books there are. */
size_t serve_books_count(void);

/* Look the folders given again for indexes that appeared since (SIGHUP, and a request for an id
 * not known: then at most once a second). A book is never removed: an index that went away
 * fails its requests. Returns how many books were added. */
size_t serve_books_rescan(bool on_demand);

/* The ids of books @offset.. (at most @limit, in id order) appended to @ids (a JSON array);
 * returns the number of books. */
size_t serve_books_list(size_t offset, size_t limit, struct json_t *ids);

/* Close every index and free the books. */
void serve_books_free(void);

/* The book @id, or NULL. */
book_t *find_book(const char *id);

/* acquire()'s *err (no FOLIO_* code) when another request has been opening the same index for
 * too long: answered 503, try again. */
#define SERVE_EOPENING 1

/* The open index of @b, opened if needed, or NULL with *@err (and the message on @ctx, which may
 * be NULL). The index is opened and checked off the library's lock, so a slow or bad index
 * delays only its own requests: others of the same book wait for that open (then share its
 * result); an index that failed is not opened again until its file changes. Every index given
 * out must be given back with release(). */
folio_index_t *acquire(book_t *b, folio_t *ctx, int *err);
void release(book_t *b);

/* ---- a request and its answers (cmd_serve.c) ---- */

typedef struct {
    char *data; /* NUL-terminated when not NULL */
    size_t len, cap;
} bytes_t;

/* How a body is read, from its Content-Type: text and JSON (up to MAX_BODY), a photo, or a form
 * (both up to MAX_UPLOAD, held against the upload budget). */
typedef enum { BODY_TEXT, BODY_PHOTO, BODY_FORM } body_kind_t;

typedef struct request {
    char uri[256]; /* for the access log */
    char method[16];
    bool started;
    body_kind_t kind;
    bytes_t body;                   /* the request body (BODY_TEXT, BODY_PHOTO) */
    struct MHD_PostProcessor *form; /* BODY_FORM: its parser, */
    size_t form_len;                /* the bytes it was given, */
    bytes_t photo, text, when;      /* and its file, "text" and "current_time" fields */
    bool photo_done;                /* the form's first file with bytes has ended */
    size_t reserved;                /* bytes held against the upload budget */
    bool too_large;                 /* over the body's limit */
    bool text_too_large;            /* a form's text over MAX_BODY */
    bool busy;                      /* out of upload budget or memory */
    bool bad_form;                  /* a form that cannot be parsed */
    bool bad_escape;                /* the path has a malformed percent-escape or an encoded NUL */
    bool bad_utf8;                  /* the decoded path is not UTF-8 */
    double start;
    /* A photo queued for the OCR workers, and the answer a worker left before resuming. */
    struct MHD_Connection *conn;
    book_t *book;
    const void *image;
    size_t image_len;
    struct request *next;
    bool done;
    unsigned status;
    char *answer;
} request_t;

/* The JSON of an error (caller frees; NULL when out of memory). A @message that is not UTF-8
 * gives way to @code. */
char *error_body(const char *code, const char *message);

/* The JSON of acquire()'s *@err (caller frees) and its HTTP *@status: the kind of error only, as
 * the message names the server's files (acquire() logs it). */
char *open_error(int err, unsigned *status);

/* Queue @json (freed here; NULL: out of memory, a 500) with @status; a 503 says when to retry. */
enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, char *json);
enum MHD_Result send_error(struct MHD_Connection *c, unsigned status, const char *code,
                           const char *message);

/* ---- photos: the OCR workers and their queue (serve_ocr.c) ---- */

/* Start @n workers with a queue of @queue photos; false when no thread could be made. */
bool serve_ocr_start(size_t n, size_t queue);

/* Queue the photo @bytes[0..@n) of @r for the workers and suspend the connection until one has
 * answered (r->done, r->status, r->answer); a full queue is answered 503 at once. */
enum MHD_Result serve_ocr_queue(struct MHD_Connection *c, book_t *b, request_t *r,
                                const void *bytes, size_t n);

/* Refuse new photos, let the workers answer the queued ones (resuming every suspended
 * connection, as MHD_stop_daemon requires), and join them. */
void serve_ocr_stop(void);

/* ---- the connection guard (serve_guard.c) ---- */

/* Seconds on the monotonic clock. */
double serve_mono(void);

/* A connection's deadline: from its start, or the end of its previous request, to the end of its
 * next answer, whatever the client sends meanwhile (slow clients cannot push it back as they can
 * MHD's idle timeout). A thread shuts the connections past it down. */
bool serve_guard_start(double request_timeout_sec);
void serve_guard_stop(void);

/* MHD_OPTION_NOTIFY_CONNECTION: the connection's deadline starts, or it is forgotten. */
void serve_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code);

/* The request on @c is answered (or waits for an OCR worker, @waiting): its deadline starts again
 * from now, or is lifted while it waits (the queue is bounded). */
void serve_guard_restart(struct MHD_Connection *c, bool waiting);

/* Raise the limit of open files to at least @want (as far as the hard limit allows); returns the
 * limit. */
long serve_raise_fd_limit(long want);

#endif
