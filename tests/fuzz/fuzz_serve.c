/* Fuzz target: the HTTP request path of `folio serve`. The real server (cmd_serve, with
 * libmicrohttpd's parsing, the routing and the lookups) runs in this process on a loopback port,
 * serving an index of the demo book as "demo"; each input is sent as the raw bytes of a
 * connection and the answer read to its end. A crash in the server is a crash of this process. */
#include "fuzz.h"

#include "../../tools/folio/cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

static uint16_t port;

static void *serve(void *arg)
{
    char **argv = arg;
    int argc = 0;
    while (argv[argc]) argc++;
    int rc = cmd_serve(argc, argv);
    fprintf(stderr, "fuzz_serve: the server stopped (exit %d)\n", rc);
    abort();
}

static int connect_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(s);
        return -1;
    }
    return s;
}

/* A port nobody listens on now (the kernel's choice for port 0). */
static uint16_t free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(s, (struct sockaddr *)&sa, &len) != 0) {
        perror("fuzz_serve: a free port");
        abort();
    }
    close(s);
    return ntohs(sa.sin_port);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    static char books[400], index[440], port_arg[16];
    snprintf(books, sizeof(books), "%s/books", fz_dir());
    snprintf(index, sizeof(index), "%s/demo.folio", books);
    int err = mkdir(books, 0700) == 0 ? fz_demo_index(index, SIZE_MAX) : FOLIO_EIO;
    if (err != FOLIO_OK) {
        fprintf(stderr, "fuzz_serve: cannot make the demo index: %s\n", folio_strerror(err));
        abort();
    }
    port = free_port();
    snprintf(port_arg, sizeof(port_arg), "%u", (unsigned)port);
    static char *serve_argv[] = {"serve",         "--port", port_arg, "--threads", "2",
                                 "--ocr-threads", "1",      books,    NULL};
    pthread_t t;
    if (pthread_create(&t, NULL, serve, serve_argv) != 0) abort();
    pthread_detach(t);
    for (int i = 0; i < 500; i++) { /* up to 10 s for it to listen */
        int s = connect_port();
        if (s >= 0) {
            close(s);
            return 0;
        }
        usleep(20000);
    }
    fprintf(stderr, "fuzz_serve: the server does not answer on port %u\n", (unsigned)port);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int s = connect_port();
    FZ_CHECK(s >= 0, "the server accepts a connection");
    size_t sent = 0;
    while (sent < size) {
        ssize_t n = send(s, data + sent, size - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue; /* libFuzzer's timer (-timeout) */
        if (n <= 0) break; /* the server may close on a bad request before it has read all */
        sent += (size_t)n;
    }
    shutdown(s, SHUT_WR);
    char buf[4096];
    ssize_t n;
    while ((n = recv(s, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == EINTR)) {
    }
    /* An answer read to its end, a reset, or a connection the server still holds open after 5 s
     * (its own timeout ends it): a crash of the server is what this target looks for. */
    if (!(n == 0 || errno == ECONNRESET || errno == EAGAIN || errno == EWOULDBLOCK))
        fprintf(stderr, "fuzz_serve: recv: %s\n", strerror(errno));
    FZ_CHECK(n == 0 || errno == ECONNRESET || errno == EAGAIN || errno == EWOULDBLOCK,
             "the connection ends cleanly");
    close(s);
    return 0;
}
