/* folio catalog run MANIFEST [--task N]: index one book of a catalog as a scheduler's task. Skips a
 * book already indexed from the same inputs, resumes a killed run's work, holds a lock so two
 * tasks never work on one book, and leaves a status record; the exit status says whether a retry
 * can help. */
#define _GNU_SOURCE /* F_OFD_SETLK: a lock held by the open file, not the process */
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

static double now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void iso_time(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Progress: a line every tenth of a stage (scheduler logs are files), and the stop on SIGTERM
 * (Slurm's pre-emption, Kubernetes' eviction): the work done so far is kept. */
typedef struct {
    const char *id;
    bool quiet;
    char stage[32];
    int step;
} run_progress_t;

static int on_progress(void *ud, const folio_progress_t *p)
{
    run_progress_t *r = ud;
    if (stop_signal) return 1;
    if (r->quiet) return 0;
    if (strncmp(r->stage, p->stage, sizeof(r->stage) - 1) != 0) {
        snprintf(r->stage, sizeof(r->stage), "%s", p->stage);
        r->step = -1;
    }
    int step = p->total > 0 ? (int)(10 * p->done / p->total) : 0;
    if (step > r->step) {
        r->step = step;
        fprintf(stderr, "folio: %s: %s %d%%\n", r->id, p->stage, step * 10);
    }
    return 0;
}

/* The class of a failure: what a person (or the scheduler) does about it. */
typedef struct {
    const char *name;
    bool retry;
} failure_t;

static failure_t classify(int rc, bool opening_book)
{
    switch (rc) {
    case FOLIO_ENOMATCH:
        return (failure_t){"not_this_book", false};
    case FOLIO_EIO:
        return (failure_t){"io", true};
    case FOLIO_ENOMEM:
        return (failure_t){"memory", true};
    case FOLIO_ECANCELLED:
        return (failure_t){"interrupted", true};
    case FOLIO_EAUDIO:
        return (failure_t){"bad_audio", false};
    case FOLIO_EINVAL:
        return (failure_t){"bad_input", false};
    default:
        /* Format, encoding, DRM, limits, empty: the input itself. */
        return (failure_t){opening_book ? "bad_book" : "bad_audio", false};
    }
}

/* The summary of the index's alignment report kept in the status record, and whether a person
 * should look at the alignment (docs/catalog.md). */
static json_t *report_summary(const char *path, double *audio_seconds)
{
    folio_index_t *ix = folio_index_open(NULL, path, NULL);
    if (!ix) return NULL;
    json_t *rep = json_loads(folio_index_report(ix), 0, NULL), *s = json_object();
    size_t np = folio_index_n_pages(ix), low = 0;
    for (size_t i = 0; i < np; i++) {
        const folio_index_page_t *p = folio_index_page(ix, i);
        low += p->file >= 0 && p->confidence < 0.5f;
    }
    *audio_seconds = 0;
    for (size_t i = 0; i < folio_index_n_files(ix); i++)
        *audio_seconds += folio_index_file(ix, i)->duration;
    if (s && rep) {
        static const char *const keys[] = {
            "words_total",    "words_read",    "read_share",           "pages_total", "pages_read",
            "speech_seconds", "audio_seconds", "aligned_speech_share", NULL};
        for (const char *const *k = keys; *k; k++) {
            json_t *v = json_object_get(rep, *k);
            if (v) json_object_set(s, *k, v);
        }
        json_object_set_new(s, "low_confidence_pages", json_integer((json_int_t)low));
        double share = json_number_value(json_object_get(rep, "aligned_speech_share"));
        json_int_t read = json_integer_value(json_object_get(rep, "pages_read"));
        const char *why = NULL;
        if (share < 0.8)
            why = "under 80% of the speech aligned to the book";
        else if (read > 0 && (double)low > 0.1 * (double)read)
            why = "over a tenth of the read pages have low confidence";
        json_object_set_new(s, "needs_review", json_boolean(why != NULL));
        if (why) json_object_set_new(s, "review_reason", json_string(why));
    }
    json_decref(rep);
    folio_index_free(ix);
    return s;
}

static const cli_option_t run_options[] = {
    {"task", 0, "N", 't',
     "the entry to index, from 0 (default: $SLURM_ARRAY_TASK_ID, else\n"
     "$JOB_COMPLETION_INDEX)"},
    CLI_RECOGNITION_OPTIONS,
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_catalog_run = {
    "catalog run",
    "MANIFEST [--task N] [OPTIONS]",
    "Index one book of a catalog as a scheduler's task: skip it when it is already indexed\n"
    "from the same inputs, resume a killed run's work, hold a lock so that two tasks never\n"
    "work on one book, and keep a status record (docs/catalog.md).",
    run_options,
    "exit: 0 indexed or already done, 75 retry later (I/O, memory, a signal, the lock held\n"
    "by another task), 65 this book cannot be indexed as given, 2 usage.",
};

typedef struct {
    const char *task;
    folio_index_options_t opts;
} run_args_t;

static int run_option(void *ud, const cli_args_t *a, int id, const char *v)
{
    run_args_t *r = ud;
    if (id == 't') {
        r->task = v;
        return -1;
    }
    int rec = cli_recognition_option(a, id, v, &r->opts.transcribe);
    return rec == 1 ? -1 : rec == 0 ? EXIT_USAGE : rec;
}

/* The task number: --task, else $SLURM_ARRAY_TASK_ID, else $JOB_COMPLETION_INDEX. */
static bool task_number(const char *arg, long *n, const char **from)
{
    *from = "--task";
    if (!arg && (arg = getenv("SLURM_ARRAY_TASK_ID"))) *from = "SLURM_ARRAY_TASK_ID";
    if (!arg && (arg = getenv("JOB_COMPLETION_INDEX"))) *from = "JOB_COMPLETION_INDEX";
    if (!arg) {
        *from = NULL;
        return false;
    }
    return cli_parse_long(arg, n) && *n >= 0;
}

/* Create @path's folders (like mkdir -p). */
static int make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) return -1;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            if (!c) break;
            *p = c;
        }
    }
    return 0;
}

static int parent_dir(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    char *slash = strrchr(out, '/');
    if (!slash) return snprintf(out, n, "."), 0;
    if (slash == out)
        slash[1] = '\0';
    else
        *slash = '\0';
    return 0;
}

typedef struct {
    catalog_t cat;
    catalog_entry_t *e;
    json_t *record;
    int lock_fd;
} run_t;

/* Record the end of the run: state "done" or "failed" with the class and message. */
static int finish(run_t *r, const char *cls, bool retry, const char *msg)
{
    char when[32];
    iso_time(when, sizeof(when));
    int status = !cls ? EXIT_OK : retry ? CATALOG_EXIT_RETRY : CATALOG_EXIT_PERMANENT;
    if (r->record) {
        json_object_set_new(r->record, "state",
                            json_string(!cls                              ? "done"
                                        : strcmp(cls, "interrupted") == 0 ? "interrupted"
                                                                          : "failed"));
        json_object_set_new(r->record, "class", cls ? json_string(cls) : json_null());
        json_object_set_new(r->record, "retryable", json_boolean(retry));
        json_object_set_new(r->record, "message", msg ? json_string(msg) : json_null());
        json_object_set_new(r->record, "exit", json_integer(status));
        json_object_set_new(r->record, "finished", json_string(when));
        if (catalog_write_status(&r->cat, r->e, r->record) < 0) {
            fprintf(stderr, "folio: error: %s: cannot write the status record: %s\n",
                    r->cat.state_dir, strerror(errno));
            if (!cls) status = CATALOG_EXIT_RETRY;
        }
    }
    if (cls) {
        char line[32];
        snprintf(line, sizeof(line), "line %zu", r->e ? r->e->line : 0);
        fprintf(stderr, "folio: error: %s: %s (%s)\n", r->e && r->e->id ? r->e->id : line, msg,
                cls);
    }
    return status;
}

int catalog_run(int argc, char **argv)
{
    run_args_t args = {0};
    folio_index_options_init(&args.opts);
    cli_args_t p;
    int pr = cli_parse(&p, &cli_cmd_catalog_run, argc, argv, run_option, &args);
    if (pr >= 0) return pr;
    cli_log_t log = p.log;
    const char *task_arg = args.task, *manifest = p.npos == 1 ? p.pos[0] : NULL;
    int npos = p.npos;
    cli_args_free(&p);
    if (npos != 1) return cli_missing(&cli_cmd_catalog_run, "which manifest?");
    folio_index_options_t opts = args.opts;
    long task;
    const char *from;
    if (!task_number(task_arg, &task, &from)) {
        if (!from)
            return cli_usage_error("catalog run", "which book? give --task N (or run as a Slurm "
                                                  "array task or a Kubernetes Indexed Job)");
        return cli_usage_error("catalog run", "%s is not a task number (0, 1, ...)", from);
    }

    run_t r = {.lock_fd = -1};
    int status = catalog_load(manifest, &r.cat);
    if (status) return status;
    folio_t *ctx = NULL;
    folio_book_t *book = NULL;
    json_t *inputs = NULL, *old = NULL;
    char *why = NULL, *lock_path = NULL;
    cli_paths_t audio = {0};
    if ((size_t)task >= r.cat.n) {
        fprintf(stderr,
                "folio: error: %s: task %ld, but the manifest lists %zu book%s (tasks 0 to "
                "%zu)\n",
                r.cat.path, task, r.cat.n, r.cat.n == 1 ? "" : "s", r.cat.n ? r.cat.n - 1 : 0);
        status = EXIT_USAGE;
        goto done;
    }
    r.e = &r.cat.entries[task];
    if (!(r.record = json_object())) goto oom;
    char when[32], host[256] = "";
    iso_time(when, sizeof(when));
    gethostname(host, sizeof(host) - 1);
    if (make_dirs(r.cat.state_dir) < 0) {
        status = finish(&r, "io", true, strerror(errno));
        fprintf(stderr, "folio: error: %s: cannot create the status folder\n", r.cat.state_dir);
        goto done;
    }
    char where[64];
    snprintf(where, sizeof(where), "%s line %zu", r.cat.path, r.e->line);
    json_object_set_new(r.record, "id", r.e->id ? json_string(r.e->id) : json_null());
    json_object_set_new(r.record, "task", json_integer(task));
    json_object_set_new(r.record, "manifest_line", json_integer((json_int_t)r.e->line));
    json_object_set_new(r.record, "host", json_string(host));
    json_object_set_new(r.record, "pid", json_integer(getpid()));
    json_object_set_new(r.record, "started", json_string(when));
    const char *job = getenv("SLURM_JOB_ID");
    if (job) json_object_set_new(r.record, "slurm_job_id", json_string(job));
    if (r.e->problem) {
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s:%zu: %s", r.cat.path, r.e->line, r.e->problem);
        status = finish(&r, "manifest", false, msg);
        goto done;
    }
    json_object_set_new(r.record, "book", json_string(r.e->book));
    json_object_set_new(r.record, "output", json_string(r.e->output));

    /* One task per book: the lock is held until this process ends (also when it is killed). */
    if (!(lock_path = catalog_state_path(&r.cat, r.e, ".lock"))) goto oom;
    r.lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (r.lock_fd < 0 || fcntl(r.lock_fd, F_OFD_SETLK, &fl) != 0) {
        bool held = r.lock_fd >= 0 && (errno == EAGAIN || errno == EACCES);
        fprintf(stderr, "folio: error: %s: %s\n", lock_path,
                held ? "another task is indexing this book now" : strerror(errno));
        status = CATALOG_EXIT_RETRY; /* the record belongs to the task holding the lock */
        json_decref(r.record);
        r.record = NULL;
        goto done;
    }

    /* Already done from these very inputs: nothing to do. */
    if (!(inputs = catalog_inputs(&r.cat, r.e, &audio, &why))) {
        status = finish(&r, "missing_input", false, why);
        goto done;
    }
    old = catalog_read_status(&r.cat, r.e);
    struct stat st;
    const char *old_state = json_string_value(json_object_get(old, "state"));
    if (old_state && strcmp(old_state, "done") == 0 &&
        json_equal(json_object_get(old, "inputs"), inputs) && stat(r.e->output, &st) == 0) {
        if (log.verbosity >= 0)
            fprintf(stderr, "folio: %s: already indexed from these inputs: %s\n", r.e->id,
                    r.e->output);
        status = EXIT_OK;
        goto done;
    }
    json_object_set_new(r.record, "attempt",
                        json_integer(json_integer_value(json_object_get(old, "attempt")) + 1));
    json_object_set(r.record, "inputs", inputs);
    json_object_set_new(r.record, "state", json_string("running"));
    if (catalog_write_status(&r.cat, r.e, r.record) < 0) {
        fprintf(stderr, "folio: error: %s: cannot write the status record: %s\n", r.cat.state_dir,
                strerror(errno));
        status = CATALOG_EXIT_RETRY;
        goto done;
    }
    char outdir[4096];
    parent_dir(r.e->output, outdir, sizeof(outdir));
    if (make_dirs(outdir) < 0) {
        char msg[4200];
        snprintf(msg, sizeof(msg), "%s: cannot create the folder: %s", outdir, strerror(errno));
        status = finish(&r, "io", true, msg);
        goto done;
    }

    /* SA_RESTART: a system call the signal lands in goes on; the stop comes at the next progress
     * step. */
    struct sigaction sa = {.sa_handler = on_signal, .sa_flags = SA_RESTART};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    if (!(ctx = cli_context(&log))) goto oom;
    run_progress_t prog = {.id = r.e->id, .quiet = log.verbosity < 0};
    folio_set_progress(ctx, on_progress, &prog);
    double wall0 = now(CLOCK_MONOTONIC), cpu0 = now(CLOCK_PROCESS_CPUTIME_ID);
    int rc;
    if (log.verbosity >= 0)
        fprintf(stderr, "folio: %s (%s): indexing %s\n", r.e->id, where, r.e->book);
    if (!(book = folio_book_open(ctx, r.e->book, NULL, &rc))) {
        failure_t f = classify(rc, true);
        status = finish(&r, f.name, f.retry, folio_errmsg(ctx));
        goto done;
    }
    /* The audio as the inputs listed it: folders and playlists expanded once. */
    rc = folio_index_build(ctx, book, (const char *const *)audio.items, audio.len, r.e->output,
                           &opts);
    double wall = now(CLOCK_MONOTONIC) - wall0, cpu = now(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    json_object_set_new(r.record, "wall_seconds", json_real(wall));
    json_object_set_new(r.record, "cpu_seconds", json_real(cpu));
    json_object_set_new(r.record, "peak_rss_mb", json_real((double)ru.ru_maxrss / 1024.0));
    if (rc < 0) {
        /* Stopped by a signal: whatever the call returned, the book itself is not at fault. */
        failure_t f = stop_signal ? (failure_t){"interrupted", true} : classify(rc, false);
        char msg[1200];
        snprintf(msg, sizeof(msg), "%s",
                 rc == FOLIO_ECANCELLED && stop_signal
                     ? "stopped by a signal; the work done is kept"
                     : folio_errmsg(ctx));
        status = finish(&r, f.name, f.retry, msg);
        goto done;
    }
    double audio_seconds = 0;
    json_t *summary = report_summary(r.e->output, &audio_seconds);
    json_object_set_new(r.record, "audio_hours", json_real(audio_seconds / 3600));
    json_object_set_new(r.record, "x_real_time", json_real(wall > 0 ? audio_seconds / wall : 0));
    if (summary) json_object_set_new(r.record, "report", summary);
    status = finish(&r, NULL, false, NULL);
    if (log.verbosity >= 0)
        fprintf(stderr, "folio: %s: indexed %.2f h of audio in %.0f s (%.0fx real time): %s\n",
                r.e->id, audio_seconds / 3600, wall, wall > 0 ? audio_seconds / wall : 0,
                r.e->output);
    goto done;
oom:
    fprintf(stderr, "folio: error: out of memory\n");
    status = CATALOG_EXIT_RETRY;
done:
    free(why);
    free(lock_path);
    cli_paths_free(&audio);
    json_decref(inputs);
    json_decref(old);
    json_decref(r.record);
    folio_book_free(book);
    folio_free(ctx);
    if (r.lock_fd >= 0) close(r.lock_fd);
    catalog_free(&r.cat);
    if (stop_signal && status == CATALOG_EXIT_RETRY) {
        /* Die of the signal, as a scheduler expects of a stopped task. */
        signal(stop_signal, SIG_DFL);
        raise(stop_signal);
    }
    return status;
}
