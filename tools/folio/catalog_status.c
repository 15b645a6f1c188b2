/* folio catalog status MANIFEST [--json]: where a catalog stands — each book done, failed (and
 * why), running, interrupted or pending — the hours indexed and the throughput, and the books
 * that need a person; `folio catalog tasks` lists the task numbers for GNU parallel. Also the
 * `folio catalog` dispatcher. */
#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The state of one book now: its record, checked against its lock, its inputs and its index. */
static json_t *book_state(const catalog_t *c, const catalog_entry_t *e, size_t task)
{
    json_t *rec = catalog_read_status(c, e);
    json_t *b = rec ? json_deep_copy(rec) : json_object();
    json_decref(rec);
    if (!b) return NULL;
    const char *state = json_string_value(json_object_get(b, "state"));
    json_object_set_new(b, "task", json_integer((json_int_t)task));
    json_object_set_new(b, "id", e->id ? json_string(e->id) : json_null());
    json_object_set_new(b, "manifest_line", json_integer((json_int_t)e->line));
    const char *now = state ? state : "pending";
    if (e->problem) {
        now = "failed";
        json_object_set_new(b, "class", json_string("manifest"));
        json_object_set_new(b, "message", json_string(e->problem));
        json_object_set_new(b, "retryable", json_false());
    } else if (catalog_locked(c, e)) {
        now = "running";
    } else if (state && strcmp(state, "running") == 0) {
        /* Its task died (killed, out of memory, node lost): the next run resumes its work. */
        now = "interrupted";
    } else if (state && strcmp(state, "done") == 0) {
        char *why = NULL;
        json_t *inputs = catalog_inputs(c, e, NULL, &why);
        struct stat st;
        if (!inputs || !json_equal(inputs, json_object_get(b, "inputs")) ||
            stat(e->output, &st) != 0) {
            now = "pending";
            json_object_set_new(b, "message",
                                json_string(!inputs ? why
                                            : stat(e->output, &st) != 0
                                                ? "the index is gone"
                                                : "its inputs changed since"));
        }
        json_decref(inputs);
        free(why);
    }
    json_object_set_new(b, "state", json_string(now));
    json_object_del(b, "inputs");
    return b;
}

static double num(json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static bool needs_person(json_t *b)
{
    const char *state = json_string_value(json_object_get(b, "state"));
    if (strcmp(state, "failed") == 0) return !json_is_true(json_object_get(b, "retryable"));
    return strcmp(state, "done") == 0 &&
           json_is_true(json_object_get(json_object_get(b, "report"), "needs_review"));
}

static void print_table(const catalog_t *c, json_t *books, json_t *sum)
{
    json_t *counts = json_object_get(sum, "counts"), *failed = json_object_get(sum, "failed");
    printf("%s: %zu book%s: %lld done, %lld failed, %lld running, %lld interrupted, %lld pending\n",
           c->path, c->n, c->n == 1 ? "" : "s",
           (long long)json_integer_value(json_object_get(counts, "done")),
           (long long)json_integer_value(json_object_get(counts, "failed")),
           (long long)json_integer_value(json_object_get(counts, "running")),
           (long long)json_integer_value(json_object_get(counts, "interrupted")),
           (long long)json_integer_value(json_object_get(counts, "pending")));
    if (json_object_size(failed)) {
        printf("failed:");
        const char *k;
        json_t *v;
        json_object_foreach(failed, k, v) printf(" %s %lld", k, (long long)json_integer_value(v));
        printf("\n");
    }
    printf("indexed %.2f h of audio in %.2f h of task time (%.0fx real time; CPU %.2f h)\n",
           num(sum, "audio_hours"), num(sum, "wall_hours"), num(sum, "x_real_time"),
           num(sum, "cpu_hours"));
    printf("\n%-5s %-28s %-20s %8s %8s %6s %8s  %s\n", "TASK", "ID", "STATE", "HOURS", "WALL_S",
           "xRT", "RSS_MB", "NOTE");
    size_t i;
    json_t *b;
    json_array_foreach(books, i, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        const char *cls = json_string_value(json_object_get(b, "class"));
        const char *msg = json_string_value(json_object_get(b, "message"));
        const char *review =
            json_string_value(json_object_get(json_object_get(b, "report"), "review_reason"));
        char st[64];
        snprintf(st, sizeof(st), "%s%s%s", state, cls && strcmp(state, "failed") == 0 ? ":" : "",
                 cls && strcmp(state, "failed") == 0 ? cls : "");
        const char *id = json_string_value(json_object_get(b, "id"));
        printf("%-5lld %-28s %-20s %8.2f %8.0f %6.0f %8.0f  %s\n",
               (long long)json_integer_value(json_object_get(b, "task")), id ? id : "-", st,
               num(b, "audio_hours"), num(b, "wall_seconds"), num(b, "x_real_time"),
               num(b, "peak_rss_mb"),
               strcmp(state, "done") == 0 ? (review ? review : "") : (msg ? msg : ""));
    }
    bool header = false;
    json_array_foreach(books, i, b)
    {
        if (!needs_person(b)) continue;
        if (!header) printf("\nneeds a person:\n");
        header = true;
        const char *id = json_string_value(json_object_get(b, "id"));
        const char *why = json_string_value(json_object_get(b, "message"));
        const char *review =
            json_string_value(json_object_get(json_object_get(b, "report"), "review_reason"));
        printf("  %s: %s\n", id ? id : "-", review ? review : why ? why : "");
    }
}

static const cli_option_t status_options[] = {
    {"json", 0, NULL, 'j', "one JSON object instead of the table (docs/catalog.md)"},
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_catalog_status = {
    "catalog status",
    "MANIFEST [--json]",
    "Where a catalog stands: each book done, failed (and why), running, interrupted or\n"
    "pending; the hours indexed and the throughput; the books that need a person.",
    status_options,
    NULL,
};

static int flag_option(void *ud, const cli_args_t *a, int id, const char *v)
{
    (void)a;
    (void)id;
    (void)v;
    *(bool *)ud = true;
    return -1;
}

int catalog_status(int argc, char **argv)
{
    bool as_json = false;
    cli_args_t p;
    int r = cli_parse(&p, &cli_cmd_catalog_status, argc, argv, flag_option, &as_json);
    if (r >= 0) return r;
    const char *manifest = p.npos == 1 ? p.pos[0] : NULL;
    int npos = p.npos;
    cli_args_free(&p);
    if (npos != 1) return cli_missing(&cli_cmd_catalog_status, "which manifest?");
    catalog_t c;
    int status = catalog_load(manifest, &c);
    if (status) return EXIT_FAIL;
    json_t *books = json_array(), *counts = json_object(), *failed = json_object();
    double hours = 0, wall = 0, cpu = 0;
    static const char *const states[] = {"done", "failed", "running", "interrupted", "pending"};
    for (size_t i = 0; i < 5; i++) json_object_set_new(counts, states[i], json_integer(0));
    for (size_t i = 0; i < c.n; i++) {
        json_t *b = book_state(&c, &c.entries[i], i);
        if (!b) continue;
        const char *state = json_string_value(json_object_get(b, "state"));
        json_object_set_new(counts, state,
                            json_integer(json_integer_value(json_object_get(counts, state)) + 1));
        if (strcmp(state, "failed") == 0) {
            const char *cls = json_string_value(json_object_get(b, "class"));
            if (!cls) cls = "unknown";
            json_object_set_new(failed, cls,
                                json_integer(json_integer_value(json_object_get(failed, cls)) + 1));
        }
        if (strcmp(state, "done") == 0) {
            hours += num(b, "audio_hours");
            wall += num(b, "wall_seconds");
            cpu += num(b, "cpu_seconds");
        }
        json_object_set_new(b, "needs_person", json_boolean(needs_person(b)));
        json_array_append_new(books, b);
    }
    json_t *sum = json_pack("{s:s, s:I, s:O, s:O, s:f, s:f, s:f, s:f}", "manifest", c.path, "books",
                            (json_int_t)c.n, "counts", counts, "failed", failed, "audio_hours",
                            hours, "wall_hours", wall / 3600, "cpu_hours", cpu / 3600,
                            "x_real_time", wall > 0 ? hours * 3600 / wall : 0.0);
    if (!sum) {
        fprintf(stderr, "folio: error: out of memory\n");
        status = EXIT_FAIL;
    } else if (as_json) {
        json_object_set(sum, "book_states", books);
        char *text = json_dumps(sum, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        if (text) puts(text);
        free(text);
    } else {
        print_table(&c, books, sum);
    }
    if (cli_stdout_finish(0) < 0) status = EXIT_FAIL;
    json_decref(sum);
    json_decref(books);
    json_decref(counts);
    json_decref(failed);
    catalog_free(&c);
    return status;
}

/* An upper bound of a file's duration in hours from its size: WAV by its header's byte rate,
 * other formats at a byte rate under what audiobooks use (MP3/AAC 32 kbit/s, Opus/Vorbis 16). */
static double hours_at_most(const char *path, double size)
{
    static const struct {
        const char *ext;
        double bytes_per_s;
    } rates[] = {{".mp3", 4000},  {".m4b", 4000},  {".m4a", 4000}, {".aac", 4000},
                 {".mp4", 4000},  {".opus", 2000}, {".ogg", 2000}, {".oga", 2000},
                 {".flac", 8000}, {".wav", 0},     {".wave", 0},   {NULL, 0}};
    const char *dot = strrchr(path, '.');
    double rate = 4000;
    for (size_t i = 0; dot && rates[i].ext; i++)
        if (strcasecmp(dot, rates[i].ext) == 0) rate = rates[i].bytes_per_s;
    if (rate == 0) {
        /* RIFF....WAVEfmt : the byte rate is at offset 28. */
        unsigned char h[32] = {0};
        FILE *f = fopen(path, "rb");
        size_t n = f ? fread(h, 1, sizeof(h), f) : 0;
        if (f) fclose(f);
        rate = n == sizeof(h) && memcmp(h, "RIFF", 4) == 0 && memcmp(h + 8, "WAVE", 4) == 0
                   ? (double)(h[28] | h[29] << 8 | h[30] << 16 | (uint32_t)h[31] << 24)
                   : 0;
        if (rate < 1000) rate = 1000;
    }
    return size / rate / 3600;
}

/* folio catalog tasks MANIFEST: the task numbers, a line each (for GNU parallel); with --slurm,
 * the sbatch options for the whole array instead: its size, a throttle, and the memory and time
 * its longest book needs (docs/catalog.md). */
static const cli_option_t tasks_options[] = {
    {"slurm", 0, NULL, 's',
     "the sbatch options for the whole array instead: its size, and the\n"
     "memory and time the longest book needs"},
    {"throttle", 0, "K", 'k', "with --slurm: at most K tasks at once"},
    {"threads", 0, "N", 'j', "with --slurm: decoders per task (default 1)"},
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_catalog_tasks = {
    "catalog tasks",
    "MANIFEST [--slurm [--throttle K] [--threads N]]",
    "The task numbers of a catalog, a line each (for GNU parallel), or with --slurm the\n"
    "sbatch options of its job array.",
    tasks_options,
    NULL,
};

typedef struct {
    bool slurm;
    long throttle, threads;
} tasks_args_t;

static int tasks_option(void *ud, const cli_args_t *a, int id, const char *v)
{
    tasks_args_t *t = ud;
    if (id == 's')
        t->slurm = true;
    else if (id == 'k' && !(cli_parse_long(v, &t->throttle) && t->throttle >= 0))
        return cli_bad_value(a, id, v, "a whole number");
    else if (id == 'j' && !(cli_parse_long(v, &t->threads) && t->threads >= 1 && t->threads <= 256))
        return cli_bad_value(a, id, v, "a number from 1 to 256");
    return -1;
}

static int catalog_tasks(int argc, char **argv)
{
    tasks_args_t t = {false, 0, 1};
    cli_args_t p;
    int r = cli_parse(&p, &cli_cmd_catalog_tasks, argc, argv, tasks_option, &t);
    if (r >= 0) return r;
    const char *manifest = p.npos == 1 ? p.pos[0] : NULL;
    int npos = p.npos;
    cli_args_free(&p);
    if (npos != 1) return cli_missing(&cli_cmd_catalog_tasks, "which manifest?");
    bool slurm = t.slurm;
    long throttle = t.throttle, threads = t.threads;
    catalog_t c;
    if (catalog_load(manifest, &c)) return EXIT_FAIL;
    if (!slurm) {
        for (size_t i = 0; i < c.n; i++) printf("%zu\n", i);
    } else if (c.n) {
        double longest = 0;
        for (size_t i = 0; i < c.n; i++) {
            char *why = NULL;
            json_t *in =
                c.entries[i].problem ? NULL : catalog_inputs(&c, &c.entries[i], NULL, &why);
            double h = 0;
            size_t j;
            json_t *f;
            json_array_foreach(in, j, f)
            {
                if (j == 0) continue; /* the book */
                char *path = NULL;
                const char *rel = json_string_value(json_object_get(f, "path"));
                if (rel && rel[0] != '/' && (path = malloc(strlen(c.dir) + strlen(rel) + 2)))
                    sprintf(path, "%s/%s", c.dir, rel);
                h +=
                    hours_at_most(path ? path : rel, json_number_value(json_object_get(f, "size")));
                free(path);
            }
            if (h > longest) longest = h;
            json_decref(in);
            free(why);
        }
        /* Measured: 280 MB at the peak for 10 hours with 2 decoders, and at least 30x real time
         * per decoder; twice that time for safety. */
        long mem = 256 + (long)(24 * longest) + 64 * threads;
        long minutes = 15 + (long)(4 * longest / (double)threads + 0.999);
        printf("--array=0-%zu", c.n - 1);
        if (throttle) printf("%%%ld", throttle);
        printf(" --cpus-per-task=%ld --mem=%ldM --time=%ld\n", threads, mem < 512 ? 512 : mem,
               minutes);
    }
    catalog_free(&c);
    return cli_stdout_finish(0) < 0 ? EXIT_FAIL : EXIT_OK;
}

static const cli_option_t no_options[] = {{NULL, 0, NULL, 0, NULL}};

const cli_command_t cli_cmd_catalog = {
    "catalog",
    "scan LIBRARY -o MANIFEST\n"
    "run MANIFEST [--task N] [--threads N]\n"
    "status MANIFEST [--json]\n"
    "tasks MANIFEST [--slurm [--throttle K] [--threads N]]",
    "A whole library as tasks of a scheduler (a Slurm job array, a Kubernetes Indexed Job,\n"
    "GNU parallel): scan it into a manifest (one book a line), index book N as one task,\n"
    "see where the catalog stands (docs/catalog.md). 'folio catalog SUB --help' for each.",
    no_options,
    "exit (run): 0 done or already done, 75 retry later, 65 this book failed, 2 usage.",
};

int cmd_catalog(int argc, char **argv)
{
    /* -q/-v given before "catalog" come first: they go on to the subcommand. */
    int i = 1;
    while (i < argc && argv[i][0] == '-' && argv[i][1] &&
           (strspn(argv[i] + 1, "qv") == strlen(argv[i] + 1) || strcmp(argv[i], "--quiet") == 0 ||
            strcmp(argv[i], "--verbose") == 0))
        i++;
    const char *sub = i < argc ? argv[i] : "";
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } subs[] = {{"scan", catalog_scan},
                {"run", catalog_run},
                {"status", catalog_status},
                {"tasks", catalog_tasks}};
    for (size_t k = 0; k < sizeof(subs) / sizeof(subs[0]); k++) {
        if (strcmp(sub, subs[k].name) != 0) continue;
        /* The subcommand's argv: its name, the options given before it, the rest. */
        char **args = malloc(((size_t)argc + 1) * sizeof(char *));
        if (!args) {
            fprintf(stderr, "folio: error: out of memory\n");
            return EXIT_FAIL;
        }
        args[0] = argv[i];
        memcpy(args + 1, argv + 1, (size_t)(i - 1) * sizeof(char *));
        memcpy(args + i, argv + i + 1, (size_t)(argc - i - 1) * sizeof(char *));
        args[argc - 1] = NULL;
        int status = subs[k].run(argc - 1, args);
        free(args);
        return status;
    }
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        cli_help(stdout, &cli_cmd_catalog);
        return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
    }
    if (!*sub) return cli_missing(&cli_cmd_catalog, "which subcommand?");
    const char *names[] = {"scan", "run", "status", "tasks"};
    const char *close = cli_closest(sub, names, 4);
    char what[200];
    snprintf(what, sizeof(what), "unknown subcommand '%.60s'%s%s%s", sub,
             close ? "; did you mean '" : "", close ? close : "", close ? "'?" : "");
    return cli_missing(&cli_cmd_catalog, what);
}
