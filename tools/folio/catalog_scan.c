/* folio catalog scan LIBRARY -o MANIFEST: a manifest from a library folder laid out as people keep
 * audiobooks (Audiobookshelf's Author/Title/, or one folder per book): each folder holding audio
 * (directly, or in disc folders "CD 1", "Disc 2") and exactly one book is a book; the folders
 * skipped are told with the reason. */
#include "catalog.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 8

typedef struct {
    char **items;
    size_t len, cap;
} strs_t;

static int strs_push(strs_t *s, const char *v)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        char **n = realloc(s->items, cap * sizeof(char *));
        if (!n) return -1;
        s->items = n;
        s->cap = cap;
    }
    if (!(s->items[s->len] = strdup(v))) return -1;
    s->len++;
    return 0;
}

static void strs_free(strs_t *s)
{
    for (size_t i = 0; i < s->len; i++) free(s->items[i]);
    free(s->items);
    memset(s, 0, sizeof(*s));
}

static int cmp_natural(const void *a, const void *b)
{
    return cli_natural_cmp(*(char *const *)a, *(char *const *)b);
}

static bool has_ext(const char *name, const char *const *exts)
{
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return false;
    for (; *exts; exts++)
        if (strcasecmp(dot, *exts) == 0) return true;
    return false;
}

/* A book's file: an EPUB first; plain text or HTML only where there is no EPUB (and not the
 * desc.txt / reader.txt Audiobookshelf keeps beside a book). */
static bool epub_name(const char *n)
{
    static const char *const e[] = {".epub", NULL};
    return has_ext(n, e);
}

static bool other_book_name(const char *n)
{
    static const char *const e[] = {".txt", ".html", ".htm", ".xhtml", NULL};
    return has_ext(n, e) && strcasecmp(n, "desc.txt") != 0 && strcasecmp(n, "reader.txt") != 0;
}

/* "CD 1", "Disc 02", "disk3", "Part 1": a disc of the book in the folder above. */
static bool disc_name(const char *n)
{
    static const char *const words[] = {"cd", "disc", "disk", "part", NULL};
    for (const char *const *w = words; *w; w++) {
        size_t l = strlen(*w);
        if (strncasecmp(n, *w, l) != 0) continue;
        const char *p = n + l;
        while (*p == ' ' || *p == '_' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) continue;
        while (isdigit((unsigned char)*p)) p++;
        return *p == '\0';
    }
    return false;
}

typedef struct {
    strs_t rel_dirs; /* each found book: its folder relative to the library */
    strs_t books;    /* its book file (absolute) */
    strs_t audio;    /* its audio items, '\t'-joined (absolute) */
    size_t skipped;
    dev_t seen_dev[4096];
    ino_t seen_ino[4096];
    size_t n_seen;
} scan_t;

static void skip(scan_t *s, const char *rel, const char *why)
{
    s->skipped++;
    fprintf(stderr, "folio: skipped %s: %s\n", *rel ? rel : ".", why);
}

static int join(char *out, size_t n, const char *a, const char *b)
{
    int w = snprintf(out, n, "%s%s%s", a, *a && *b ? "/" : "", b);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

static bool printable_path(const char *p)
{
    for (; *p; p++)
        if (*p == '\t' || *p == '\n' || *p == '\r') return false;
    return true;
}

/* Whether the folder @abs holds audio files directly. */
static bool holds_audio(const char *abs)
{
    DIR *d = opendir(abs);
    if (!d) return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d))) found = cli_audio_name(e->d_name);
    closedir(d);
    return found;
}

static int walk(scan_t *s, const char *abs, const char *rel, int depth)
{
    struct stat st;
    if (stat(abs, &st) != 0) return skip(s, rel, strerror(errno)), 0;
    for (size_t i = 0; i < s->n_seen; i++)
        if (s->seen_dev[i] == st.st_dev && s->seen_ino[i] == st.st_ino) return 0; /* a loop */
    if (s->n_seen < sizeof(s->seen_dev) / sizeof(s->seen_dev[0])) {
        s->seen_dev[s->n_seen] = st.st_dev;
        s->seen_ino[s->n_seen++] = st.st_ino;
    }
    DIR *d = opendir(abs);
    if (!d) return skip(s, rel, strerror(errno)), 0;
    strs_t epubs = {0}, others = {0}, subdirs = {0}, discs = {0};
    bool audio = false;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) && rc == 0) {
        if (e->d_name[0] == '.') continue;
        char path[PATH_MAX];
        if (join(path, sizeof(path), abs, e->d_name) < 0) continue;
        struct stat es;
        if (stat(path, &es) != 0) continue;
        if (S_ISDIR(es.st_mode)) {
            rc =
                strs_push(disc_name(e->d_name) && holds_audio(path) ? &discs : &subdirs, e->d_name);
        } else if (S_ISREG(es.st_mode)) {
            if (cli_audio_name(e->d_name))
                audio = true;
            else if (epub_name(e->d_name))
                rc = strs_push(&epubs, e->d_name);
            else if (other_book_name(e->d_name))
                rc = strs_push(&others, e->d_name);
        }
    }
    closedir(d);
    if (rc) goto done;
    qsort(subdirs.items, subdirs.len, sizeof(char *), cmp_natural);
    qsort(epubs.items, epubs.len, sizeof(char *), cmp_natural);
    qsort(others.items, others.len, sizeof(char *), cmp_natural);
    qsort(discs.items, discs.len, sizeof(char *), cmp_natural);
    strs_t *books = epubs.len ? &epubs : &others;
    if (audio || discs.len) {
        bool printable =
            printable_path(abs) && (books->len != 1 || printable_path(books->items[0]));
        for (size_t i = 0; i < discs.len; i++)
            printable = printable && printable_path(discs.items[i]);
        if (!printable) {
            skip(s, rel, "a path holds a tab or a line break, which a manifest line cannot");
        } else if (books->len == 1) {
            char book[PATH_MAX], items[65536] = "";
            size_t used = 0;
            join(book, sizeof(book), abs, books->items[0]);
            if (audio) used += (size_t)snprintf(items, sizeof(items), "%s", abs);
            for (size_t i = 0; i < discs.len && used < sizeof(items); i++) {
                char disc[PATH_MAX];
                join(disc, sizeof(disc), abs, discs.items[i]);
                used += (size_t)snprintf(items + used, sizeof(items) - used, "%s%s",
                                         used ? "\t" : "", disc);
            }
            if ((rc = strs_push(&s->rel_dirs, rel)) == 0 && (rc = strs_push(&s->books, book)) == 0)
                rc = strs_push(&s->audio, items);
        } else if (books->len == 0) {
            skip(s, rel, "audio but no book (an EPUB, or a text or HTML file)");
        } else {
            char why[1024];
            snprintf(why, sizeof(why), "%zu books in one folder (%s, %s%s): one book a folder",
                     books->len, books->items[0], books->items[1], books->len > 2 ? ", ..." : "");
            skip(s, rel, why);
        }
    } else if (books->len && !subdirs.len) {
        skip(s, rel, "a book but no audio");
    }
    if (depth >= MAX_DEPTH) goto done;
    for (size_t i = 0; i < subdirs.len && rc == 0; i++) {
        char a[PATH_MAX], r[PATH_MAX];
        if (join(a, sizeof(a), abs, subdirs.items[i]) < 0 ||
            join(r, sizeof(r), rel, subdirs.items[i]) < 0)
            continue;
        rc = walk(s, a, r, depth + 1);
    }
done:
    strs_free(&epubs);
    strs_free(&others);
    strs_free(&subdirs);
    strs_free(&discs);
    return rc;
}

/* @to (absolute) relative to the folder @from (absolute). */
static void relative(const char *from, const char *to, char *out, size_t n)
{
    size_t common = 0, i = 0;
    for (; from[i] && from[i] == to[i]; i++)
        if (from[i] == '/') common = i;
    if (!from[i] && (to[i] == '/' || !to[i])) common = i;
    if (strcmp(from, "/") == 0) common = 0;
    size_t used = 0;
    out[0] = '\0';
    for (const char *p = from + common; *p; p++)
        if (*p == '/' && used + 4 < n) used += (size_t)snprintf(out + used, n - used, "../");
    const char *rest = to + common + (to[common] == '/');
    snprintf(out + used, n - used, "%s", *rest ? rest : ".");
}

/* A readable id from the book's folder: "Jane Austen/Emma" → "jane-austen-emma". */
static void make_id(const char *rel, char *out, size_t n)
{
    size_t j = 0;
    bool dash = false;
    for (const char *p = rel; *p && j + 1 < n && j < 100; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 128) {
            if (dash && j) out[j++] = '-';
            out[j++] = (char)tolower(c);
            dash = false;
        } else {
            dash = true;
        }
    }
    if (!j) j = (size_t)snprintf(out, n, "book");
    out[j] = '\0';
}

static const cli_option_t scan_options[] = {
    {"output", 'o', "MANIFEST", 'o',
     "the manifest to write (required): JSON Lines when it ends in .jsonl\n"
     "or .json, else TSV"},
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_catalog_scan = {
    "catalog scan",
    "LIBRARY -o MANIFEST",
    "Write a catalog manifest of a library folder: each folder holding audio (directly, or\n"
    "in disc folders such as \"CD 1\") and exactly one book is a book, as Audiobookshelf\n"
    "keeps them (Author/Title/). Each folder skipped is told, with the reason.",
    scan_options,
    NULL,
};

static int scan_option(void *ud, const cli_args_t *a, int id, const char *v)
{
    (void)a;
    (void)id;
    *(const char **)ud = v;
    return -1;
}

int catalog_scan(int argc, char **argv)
{
    const char *out = NULL;
    cli_args_t p;
    int r = cli_parse(&p, &cli_cmd_catalog_scan, argc, argv, scan_option, &out);
    if (r >= 0) return r;
    const char *library = p.npos == 1 ? p.pos[0] : NULL;
    int npos = p.npos;
    cli_args_free(&p);
    if (npos != 1) return cli_missing(&cli_cmd_catalog_scan, "which library folder?");
    if (!out) return cli_missing(&cli_cmd_catalog_scan, "-o MANIFEST is needed");
    char lib[PATH_MAX], outdir[PATH_MAX], outcopy[PATH_MAX];
    if (!realpath(library, lib)) {
        fprintf(stderr, "folio: error: %s: %s\n", library, strerror(errno));
        return EXIT_FAIL;
    }
    snprintf(outcopy, sizeof(outcopy), "%s", out);
    char *slash = strrchr(outcopy, '/');
    const char *odir = slash ? (slash == outcopy ? "/" : (*slash = '\0', outcopy)) : ".";
    if (!realpath(odir, outdir)) {
        fprintf(stderr, "folio: error: %s: the manifest's folder: %s\n", odir, strerror(errno));
        return EXIT_FAIL;
    }
    size_t ol = strlen(out);
    bool jsonl = (ol > 6 && strcmp(out + ol - 6, ".jsonl") == 0) ||
                 (ol > 5 && strcmp(out + ol - 5, ".json") == 0);

    scan_t *s = calloc(1, sizeof(*s));
    if (!s || walk(s, lib, "", 0) < 0) {
        fprintf(stderr, "folio: error: out of memory\n");
        free(s);
        return EXIT_FAIL;
    }
    /* Natural order of the folders: the manifest is the same for the same library. */
    size_t n = s->rel_dirs.len, *order = calloc(n ? n : 1, sizeof(size_t));
    char tmp[PATH_MAX + 32];
    FILE *f = order ? cli_output_open(out, tmp, sizeof(tmp)) : NULL;
    int status = EXIT_FAIL;
    if (!f) {
        fprintf(stderr, "folio: error: %s: %s\n", out, strerror(errno));
        goto done;
    }
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort: stable, and n is small */
        for (size_t j = i; j > 0 && cli_natural_cmp(s->rel_dirs.items[order[j - 1]],
                                                    s->rel_dirs.items[order[j]]) > 0;
             j--) {
            size_t t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    if (!jsonl) fputs("# folio catalog: docs/catalog.md\nid\tbook\toutput\taudio\n", f);
    strs_t ids = {0};
    size_t written = 0;
    for (size_t k = 0; k < n; k++) {
        size_t i = order[k];
        char id[128], uniq[140], book[PATH_MAX];
        make_id(s->rel_dirs.items[i], id, sizeof(id));
        snprintf(uniq, sizeof(uniq), "%s", id);
        for (int dup = 2;; dup++) {
            bool used = false;
            for (size_t j = 0; j < ids.len && !used; j++) used = strcmp(ids.items[j], uniq) == 0;
            if (!used) break;
            snprintf(uniq, sizeof(uniq), "%s-%d", id, dup);
        }
        relative(outdir, s->books.items[i], book, sizeof(book));
        if (strs_push(&ids, uniq) < 0) break;
        json_t *audio = json_array();
        char items[65536];
        snprintf(items, sizeof(items), "%s", s->audio.items[i]);
        for (char *a = strtok(items, "\t"); a; a = strtok(NULL, "\t")) {
            char rel[PATH_MAX];
            relative(outdir, a, rel, sizeof(rel));
            json_array_append_new(audio, json_string(rel));
        }
        if (jsonl) {
            json_t *line = json_pack("{s:s, s:s, s:O}", "id", uniq, "book", book, "audio", audio);
            char *text = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
            if (text) fprintf(f, "%s\n", text);
            free(text);
            json_decref(line);
        } else {
            fprintf(f, "%s\t%s\t", uniq, book);
            size_t j;
            json_t *v;
            json_array_foreach(audio, j, v) fprintf(f, "\t%s", json_string_value(v));
            fputc('\n', f);
        }
        json_decref(audio);
        written++;
    }
    strs_free(&ids);
    if (cli_output_close(f, out, tmp, !ferror(f)) < 0) {
        fprintf(stderr, "folio: error: %s: %s\n", out, strerror(errno));
        goto done;
    }
    fprintf(stderr, "folio: %s: %zu book%s (%zu folder%s skipped)\n", out, written,
            written == 1 ? "" : "s", s->skipped, s->skipped == 1 ? "" : "s");
    status = EXIT_OK;
done:
    free(order);
    strs_free(&s->rel_dirs);
    strs_free(&s->books);
    strs_free(&s->audio);
    free(s);
    return status;
}
