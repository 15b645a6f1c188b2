/* The OCR workers of `folio serve`: a photo's connection is suspended and the photo queued for a
 * pool of threads, each with its own OCR handle (loaded on first use); the worker that reads it
 * leaves the answer on the request and resumes the connection. A full queue is answered 503. */
#include "serve.h"

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    request_t *head, *tail; /* photos waiting for a worker */
    size_t waiting;         /* places taken in the queue, appended or about to be */
    size_t max_waiting;
    bool stopping;
    pthread_t *threads;
    size_t n_threads;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* Read the photo of @r with the worker's @ctx and OCR handle (*@ocr, loaded on first use; *@ocr_err
 * keeps why it could not be), and return the answer's JSON with its *@status. A photo that is not
 * an image, or is truncated or corrupt, is the client's: 422, where the result table says 500 for
 * FOLIO_EFORMAT because elsewhere it means the server's index. */
static char *read_photo(folio_t *ctx, folio_ocr_t **ocr, int *ocr_err, request_t *r,
                        unsigned *status)
{
    *status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    if (!ctx) return error_body("failed", "out of memory");
    if (!*ocr && *ocr_err != FOLIO_EINVAL) {
        *ocr = folio_ocr_new(ctx, ocr_err);
        if (!*ocr && *ocr_err != FOLIO_EINVAL)
            fprintf(stderr, "folio: error: OCR: %s\n", folio_errmsg(ctx));
    }
    if (!*ocr) {
        if (*ocr_err != FOLIO_EINVAL) return error_body("failed", "the OCR model cannot be loaded");
        *status = MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
        return error_body("unsupported_media_type",
                          "this server was built without OCR: send the page's text");
    }
    int err = 0;
    folio_index_t *ix = acquire(r->book, ctx, &err);
    if (!ix) return open_error(err, status);
    lookup_query_t q = {
        .image = r->image, .image_len = r->image_len, .ocr = *ocr, .candidates = 3, .file = -1};
    char *json = NULL;
    int rc = lookup_run(ctx, ix, &q, &json);
    release(r->book);
    if (rc == FOLIO_EFORMAT) {
        free(json);
        *status = 422;
        return error_body("bad_image", folio_errmsg(ctx));
    }
    *status = cli_result(rc)->http;
    return json;
}

/* An OCR worker: takes queued photos until the server stops and the queue is empty, answers
 * each on its request and resumes the connection, which sends the answer. */
static void *ocr_worker(void *arg)
{
    (void)arg;
    folio_t *ctx = folio_new(); /* its messages, and the OCR handle's */
    folio_ocr_t *ocr = NULL;
    int ocr_err = 0;
    for (;;) {
        pthread_mutex_lock(&pool.lock);
        while (!pool.head && !(pool.stopping && !pool.waiting))
            pthread_cond_wait(&pool.wake, &pool.lock);
        request_t *r = pool.head;
        if (r) {
            pool.head = r->next;
            if (!pool.head) pool.tail = NULL;
            pool.waiting--;
        }
        if (pool.stopping) pthread_cond_broadcast(&pool.wake); /* the others may be done too */
        pthread_mutex_unlock(&pool.lock);
        if (!r) break;
        r->answer = read_photo(ctx, &ocr, &ocr_err, r, &r->status);
        r->done = true; /* seen by the connection's thread after MHD's resume (its own lock) */
        serve_guard_restart(r->conn, false); /* the answer's own time to be sent */
        MHD_resume_connection(r->conn);
    }
    folio_ocr_free(ocr);
    folio_free(ctx);
    return NULL;
}

/* Queue the photo @bytes[0..@n) of @r for the workers and suspend the connection until one has
 * answered; a full queue is answered 503 (Retry-After: 1) at once. */
enum MHD_Result serve_ocr_queue(struct MHD_Connection *c, book_t *b, request_t *r,
                                const void *bytes, size_t n)
{
    if (!n) return send_error(c, MHD_HTTP_BAD_REQUEST, "bad_parameter", "the photo is empty");
    pthread_mutex_lock(&pool.lock);
    bool room = !pool.stopping && pool.waiting < pool.max_waiting;
    if (room) pool.waiting++;
    pthread_mutex_unlock(&pool.lock);
    if (!room)
        return send_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                          "every OCR worker is busy; try again in a second");
    r->conn = c;
    r->book = b;
    r->image = bytes;
    r->image_len = n;
    r->next = NULL;
    /* Suspended before a worker can see it: resuming may then come at any time. */
    serve_guard_restart(c, true);
    MHD_suspend_connection(c);
    pthread_mutex_lock(&pool.lock);
    if (pool.tail)
        pool.tail->next = r;
    else
        pool.head = r;
    pool.tail = r;
    pthread_cond_signal(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    return MHD_YES;
}

bool serve_ocr_start(size_t n, size_t queue)
{
    pool.threads = calloc(n, sizeof(pthread_t));
    if (!pool.threads) return false;
    pool.max_waiting = queue;
    for (; pool.n_threads < n; pool.n_threads++)
        if (pthread_create(&pool.threads[pool.n_threads], NULL, ocr_worker, NULL) != 0) break;
    return pool.n_threads > 0;
}

void serve_ocr_stop(void)
{
    pthread_mutex_lock(&pool.lock);
    pool.stopping = true;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    for (size_t i = 0; i < pool.n_threads; i++) pthread_join(pool.threads[i], NULL);
    free(pool.threads);
}
