/* The guard of `folio serve` against slow clients: every connection has a deadline for its next
 * request, from the connection's start (or its previous answer) to the end of the answer, that
 * no byte the client sends pushes back; a thread shuts down the connections past it. MHD's own
 * timeout counts only idle time, which a client sending a header line every few seconds resets. */
#include "serve.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

typedef struct guarded {
    int fd;
    double deadline; /* monotonic seconds; INFINITY while waiting for an OCR worker */
    bool cut;
    struct guarded *prev, *next;
} guarded_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC */
    guarded_t *head;
    double timeout;
    bool stopping, running;
    pthread_t thread;
} guard = {.lock = PTHREAD_MUTEX_INITIALIZER};

double serve_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void serve_guard_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                        enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        guarded_t *g = ci ? calloc(1, sizeof(*g)) : NULL;
        if (!g) return; /* out of memory: left to MHD's idle timeout */
        g->fd = ci->connect_fd;
        pthread_mutex_lock(&guard.lock);
        g->deadline = serve_mono() + guard.timeout;
        g->next = guard.head;
        if (guard.head) guard.head->prev = g;
        guard.head = g;
        pthread_mutex_unlock(&guard.lock);
        *socket_context = g;
        return;
    }
    /* Closed: MHD closes the socket after this, so the guard never shuts down a reused one. */
    guarded_t *g = *socket_context;
    if (!g) return;
    pthread_mutex_lock(&guard.lock);
    if (g->prev)
        g->prev->next = g->next;
    else
        guard.head = g->next;
    if (g->next) g->next->prev = g->prev;
    pthread_mutex_unlock(&guard.lock);
    free(g);
    *socket_context = NULL;
}

void serve_guard_restart(struct MHD_Connection *c, bool waiting)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    guarded_t *g = ci ? ci->socket_context : NULL;
    if (!g) return;
    pthread_mutex_lock(&guard.lock);
    g->deadline = waiting ? INFINITY : serve_mono() + guard.timeout;
    pthread_mutex_unlock(&guard.lock);
}

/* Four times a second, shut down the connections past their deadline: MHD then reads the end of
 * the stream and closes them as a client's hang-up. */
static void *watch(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&guard.lock);
    while (!guard.stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 250000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&guard.wake, &guard.lock, &ts);
        double now = serve_mono();
        for (guarded_t *g = guard.head; g; g = g->next)
            if (!g->cut && now > g->deadline) {
                shutdown(g->fd, SHUT_RDWR);
                g->cut = true;
            }
    }
    pthread_mutex_unlock(&guard.lock);
    return NULL;
}

bool serve_guard_start(double request_timeout_sec)
{
    guard.timeout = request_timeout_sec;
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&guard.wake, &a);
    pthread_condattr_destroy(&a);
    guard.running = pthread_create(&guard.thread, NULL, watch, NULL) == 0;
    return guard.running;
}

void serve_guard_stop(void)
{
    if (!guard.running) return;
    pthread_mutex_lock(&guard.lock);
    guard.stopping = true;
    pthread_cond_signal(&guard.wake);
    pthread_mutex_unlock(&guard.lock);
    pthread_join(guard.thread, NULL);
    pthread_cond_destroy(&guard.wake);
    guard.running = false;
}

long serve_raise_fd_limit(long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)want) {
        rlim_t to =
            rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)want ? (rlim_t)want : rl.rlim_max;
        struct rlimit raised = {to, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &raised) == 0) rl.rlim_cur = to;
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (rlim_t)want ? want : (long)rl.rlim_cur;
}
