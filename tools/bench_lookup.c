/* Benchmark of the lookups: index open time, and text lookups of the snippets tools/ocr-snippets
 * writes (accuracy against their truth, with 95% confidence intervals, and latency). Prints
 * numbers; never passes or fails.
 *
 *   bench_lookup INDEX SNIPPETS.tsv [--tolerance SECONDS]
 *
 * A snippet is right when the best match is in the truth's file within the tolerance (default
 * 2 s) of its first complete word, wrong when it is elsewhere (or when the snippet is foreign
 * text and anything matched), and "no match" otherwise. */
#include <folio.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Wilson score interval for k of n, 95%. */
static void wilson(size_t k, size_t n, double *lo, double *hi)
{
    if (!n) {
        *lo = *hi = 0;
        return;
    }
    double z = 1.96, p = (double)k / (double)n, nn = (double)n;
    double c = (p + z * z / (2 * nn)) / (1 + z * z / nn);
    double h = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
    *lo = c - h;
    *hi = c + h;
}

static void unescape(char *s)
{
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *o++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else {
            *o++ = *p;
        }
    }
    *o = 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_lookup INDEX SNIPPETS.tsv [--tolerance SECONDS]\n");
        return 2;
    }
    double tol = 2.0;
    if (argc >= 5 && strcmp(argv[3], "--tolerance") == 0) tol = atof(argv[4]);
    int err;
    folio_t *ctx = folio_new();
    if (!ctx) return 1;
    /* Open time: the median of 21 opens. */
    double opens[21];
    folio_index_t *ix = NULL;
    for (int i = 0; i < 21; i++) {
        double t0 = now();
        folio_index_t *x = folio_index_open(ctx, argv[1], &err);
        opens[i] = now() - t0;
        if (!x) {
            fprintf(stderr, "bench_lookup: %s\n", folio_errmsg(ctx));
            return 1;
        }
        if (ix) folio_index_free(ix);
        ix = x;
    }
    qsort(opens, 21, sizeof(double), cmp_double);
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        perror(argv[2]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0, n = 0, right = 0, wrong = 0, none = 0, lat_cap = 0;
    double *lat = NULL;
    ssize_t len;
    bool header = true;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (header) {
            header = false;
            continue;
        }
        if (line[len - 1] == '\n') line[--len] = 0;
        char *fields[5];
        char *p = line;
        for (int k = 0; k < 5; k++) {
            fields[k] = p;
            char *tab = k < 4 ? strchr(p, '\t') : NULL;
            if (tab) *tab = 0, p = tab + 1;
        }
        unescape(fields[4]);
        bool foreign = !*fields[1];
        long file = foreign ? -1 : atol(fields[1]);
        double t = foreign ? 0 : atof(fields[2]);
        folio_lookup_t r;
        size_t got = 0;
        double t0 = now();
        int rc = folio_lookup_text(ctx, ix, fields[4], strlen(fields[4]), &r, 1, &got);
        double dt = now() - t0;
        if (rc < 0) {
            fprintf(stderr, "bench_lookup: snippet %s: %s\n", fields[0], folio_errmsg(ctx));
            continue;
        }
        if (n == lat_cap) {
            lat_cap = lat_cap ? 2 * lat_cap : 1024;
            lat = realloc(lat, lat_cap * sizeof(double));
            if (!lat) return 1;
        }
        lat[n++] = dt;
        if (!got)
            none++;
        else if (!foreign && r.file == file && fabs(r.file_time - t) <= tol)
            right++;
        else
            wrong++;
    }
    free(line);
    fclose(f);
    if (!n) return 1;
    qsort(lat, n, sizeof(double), cmp_double);
    double lo, hi;
    printf("index open: median %.2f ms (21 opens)\n", opens[10] * 1e3);
    printf("snippets: %zu\n", n);
    wilson(right, n, &lo, &hi);
    printf("right (within %.1f s): %.2f%% [%.2f, %.2f]\n", tol, 100.0 * right / n, 100 * lo,
           100 * hi);
    wilson(wrong, n, &lo, &hi);
    printf("wrong place:           %.2f%% [%.2f, %.2f]\n", 100.0 * wrong / n, 100 * lo, 100 * hi);
    wilson(none, n, &lo, &hi);
    printf("no match:              %.2f%% [%.2f, %.2f]\n", 100.0 * none / n, 100 * lo, 100 * hi);
    printf("latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", lat[n / 2] * 1e3,
           lat[(size_t)(0.99 * (double)(n - 1))] * 1e3, lat[n - 1] * 1e3);
    free(lat);
    folio_index_free(ix);
    folio_free(ctx);
    return 0;
}
