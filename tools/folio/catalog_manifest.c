/* The catalog manifest (TSV or JSON Lines, one book a line), and each book's status record and
 * lock in the manifest's status folder. */
#define _GNU_SOURCE /* F_OFD_SETLK: a lock held by the open file, not the process */
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A manifest over this size is refused (a million books is ~200 MB of TSV). */
#define MAX_MANIFEST (512u << 20)

bool catalog_valid_id(const char *s)
{
    if (!s || !*s || strlen(s) > 128) return false;
    for (const char *p = s; *p; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || (p > s && (ch == '.' || ch == '_' || ch == '-'));
        if (!ok) return false;
    }
    return true;
}

/* @path resolved against @dir (absolute paths stay). */
static char *resolve(const char *dir, const char *path)
{
    if (path[0] == '/' || strcmp(dir, ".") == 0) return strdup(path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s", dir, path);
    return s;
}

static int set_problem(catalog_entry_t *e, const char *fmt, const char *arg)
{
    if (e->problem) return 0; /* the first problem is the one told */
    size_t n = strlen(fmt) + (arg ? strlen(arg) : 0) + 1;
    if (!(e->problem = malloc(n))) return -1;
    snprintf(e->problem, n, fmt, arg ? arg : "");
    return 0;
}

static int push_entry(catalog_t *c, size_t *cap)
{
    if (c->n == *cap) {
        size_t n = *cap ? *cap * 2 : 64;
        catalog_entry_t *e = realloc(c->entries, n * sizeof(*e));
        if (!e) return -1;
        c->entries = e;
        *cap = n;
    }
    memset(&c->entries[c->n], 0, sizeof(c->entries[0]));
    c->n++;
    return 0;
}

static int add_audio(catalog_entry_t *e, const char *dir, const char *path)
{
    char **a = realloc(e->audio, (e->n_audio + 1) * sizeof(char *));
    if (!a) return -1;
    e->audio = a;
    if (!(e->audio[e->n_audio] = resolve(dir, path))) return -1;
    e->n_audio++;
    return 0;
}

/* Fill @e from its fields (paths as written); a field's problem goes to e->problem. */
static int fill(catalog_t *c, catalog_entry_t *e, const char *id, const char *book,
                const char *output)
{
    if (!catalog_valid_id(id))
        return set_problem(e,
                           "the id '%s' is not a name of letters, digits, '.', '_' and '-' "
                           "(at most 128, starting with a letter or digit)",
                           id);
    if (!(e->id = strdup(id))) return -1;
    if (!book || !*book) return set_problem(e, "no book path", NULL);
    if (!(e->book = resolve(c->dir, book))) return -1;
    if (output && *output) {
        e->output = resolve(c->dir, output);
    } else {
        size_t n = strlen(c->dir) + strlen(id) + 32;
        if ((e->output = malloc(n))) snprintf(e->output, n, "%s/indexes/%s.folio", c->dir, id);
    }
    return e->output ? 0 : -1;
}

/* TSV: a header "id  book  output  audio", then id, book, output (may be empty), and one or more
 * audio columns. */
static int parse_tsv_line(catalog_t *c, catalog_entry_t *e, char *line)
{
    char *cols[4096];
    size_t n = 0;
    for (char *p = line;; p++) {
        char *tab = strchr(p, '\t');
        if (n == sizeof(cols) / sizeof(cols[0])) return set_problem(e, "too many columns", NULL);
        cols[n++] = p;
        if (!tab) break;
        *tab = '\0';
        p = tab;
    }
    if (n < 4)
        return set_problem(e, "a line needs id, book, output (may be empty) and audio", NULL);
    if (fill(c, e, cols[0], cols[1], cols[2]) < 0) return -1;
    for (size_t i = 3; i < n; i++) {
        if (!*cols[i]) continue;
        if (add_audio(e, c->dir, cols[i]) < 0) return -1;
    }
    if (!e->n_audio) return set_problem(e, "no audio", NULL);
    return 0;
}

/* JSON Lines: {"id": ..., "book": ..., "audio": "folder" or [...], "output": ...}. */
static int parse_json_line(catalog_t *c, catalog_entry_t *e, const char *line)
{
    json_error_t err;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(o)) {
        char msg[256];
        snprintf(msg, sizeof(msg), "not a JSON object (column %d: %s)", err.column, err.text);
        json_decref(o);
        return set_problem(e, "%s", msg);
    }
    int rc = 0;
    const char *id = json_string_value(json_object_get(o, "id"));
    const char *book = json_string_value(json_object_get(o, "book"));
    const char *output = json_string_value(json_object_get(o, "output"));
    json_t *audio = json_object_get(o, "audio");
    if (!id) {
        rc = set_problem(e, "no \"id\" string", NULL);
    } else if ((rc = fill(c, e, id, book, output)) == 0 && !e->problem) {
        if (json_is_string(audio)) {
            rc = add_audio(e, c->dir, json_string_value(audio));
        } else if (json_is_array(audio)) {
            size_t i;
            json_t *v;
            json_array_foreach(audio, i, v)
            {
                if (!json_is_string(v)) {
                    rc = set_problem(e, "\"audio\" holds something other than paths", NULL);
                    break;
                }
                if ((rc = add_audio(e, c->dir, json_string_value(v))) < 0) break;
            }
        }
        if (rc == 0 && !e->n_audio) rc = set_problem(e, "no \"audio\" path or list of paths", NULL);
    }
    json_decref(o);
    return rc;
}

static char *read_all(const char *path, size_t *len, int *err)
{
    *err = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = errno;
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        *err = fstat(fd, &st) != 0 ? errno : EINVAL;
    } else if ((size_t)st.st_size > MAX_MANIFEST) {
        *err = EFBIG;
    } else if ((buf = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        while (got < (size_t)st.st_size) {
            ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
            if (r < 0 && errno == EINTR) continue;
            if (r <= 0) break;
            got += (size_t)r;
        }
        buf[got] = '\0';
        *len = got;
        if (got < (size_t)st.st_size) { /* a read error, or the file shrank: not the manifest */
            *err = EIO;
            free(buf);
            buf = NULL;
        }
    } else {
        *err = ENOMEM;
    }
    close(fd);
    return buf;
}

int catalog_load(const char *path, catalog_t *c)
{
    memset(c, 0, sizeof(*c));
    size_t len = 0;
    int err;
    char *text = read_all(path, &len, &err);
    if (!text) {
        fprintf(stderr, "folio: error: %s: %s\n", path,
                err == EINVAL ? "not a regular file" : strerror(err));
        return err == ENOENT || err == EINVAL || err == EFBIG ? CATALOG_EXIT_PERMANENT
                                                              : CATALOG_EXIT_RETRY;
    }
    int status = CATALOG_EXIT_PERMANENT;
    char *copy = strdup(path), *copy2 = strdup(path);
    if (!copy || !copy2) goto oom;
    c->path = strdup(path);
    c->dir = strdup(dirname(copy));
    char *base = basename(copy2), *dot = strrchr(base, '.');
    if (dot && dot != base) *dot = '\0';
    size_t n = strlen(c->dir) + strlen(base) + 16;
    if (!c->path || !c->dir || !(c->state_dir = malloc(n))) goto oom;
    snprintf(c->state_dir, n, "%s/%s.status", c->dir, base);
    if (memchr(text, '\0', len)) {
        fprintf(stderr, "folio: error: %s: contains NUL bytes: not a catalog manifest\n", path);
        goto done;
    }
    bool json = false, header = false;
    size_t cap = 0, lineno = 0;
    for (char *line = text, *next; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r') line[--l] = '\0';
        if (lineno == 1 && strncmp(line, "\xef\xbb\xbf", 3) == 0) line += 3;
        const char *p = line;
        while (*p == ' ') p++;
        if (!*p || *p == '#') continue;
        if (!header && !json) {
            if (*p == '{') {
                json = true;
            } else if (strncmp(line, "id\tbook\toutput\taudio", 20) == 0) {
                header = true;
                continue;
            } else {
                fprintf(stderr,
                        "folio: error: %s:%zu: not a catalog manifest: a TSV manifest starts with "
                        "the header \"id<TAB>book<TAB>output<TAB>audio\", a JSON Lines one with "
                        "an object (docs/catalog.md)\n",
                        path, lineno);
                goto done;
            }
        }
        if (push_entry(c, &cap) < 0) goto oom;
        catalog_entry_t *e = &c->entries[c->n - 1];
        e->line = lineno;
        if ((json ? parse_json_line(c, e, line) : parse_tsv_line(c, e, line)) < 0) goto oom;
    }
    /* Two entries with one id would write one index: both are refused. */
    for (size_t i = 0; i < c->n; i++)
        for (size_t j = i + 1; j < c->n && c->entries[i].id; j++)
            if (c->entries[j].id && strcmp(c->entries[i].id, c->entries[j].id) == 0) {
                if (set_problem(&c->entries[i], "the id '%s' is used twice", c->entries[i].id) <
                        0 ||
                    set_problem(&c->entries[j], "the id '%s' is used twice", c->entries[j].id) < 0)
                    goto oom;
            }
    status = 0;
    goto done;
oom:
    fprintf(stderr, "folio: error: out of memory\n");
    status = CATALOG_EXIT_RETRY;
done:
    free(copy);
    free(copy2);
    free(text);
    if (status) catalog_free(c);
    return status;
}

void catalog_free(catalog_t *c)
{
    for (size_t i = 0; i < c->n; i++) {
        catalog_entry_t *e = &c->entries[i];
        free(e->id);
        free(e->book);
        for (size_t j = 0; j < e->n_audio; j++) free(e->audio[j]);
        free(e->audio);
        free(e->output);
        free(e->problem);
    }
    free(c->entries);
    free(c->path);
    free(c->dir);
    free(c->state_dir);
    memset(c, 0, sizeof(*c));
}

char *catalog_state_path(const catalog_t *c, const catalog_entry_t *e, const char *ext)
{
    /* An entry without a valid id has its records under its line number. */
    char line[32];
    snprintf(line, sizeof(line), "_line-%zu", e->line); /* never an id: ids start alphanumeric */
    const char *name = e->id ? e->id : line;
    size_t n = strlen(c->state_dir) + strlen(name) + strlen(ext) + 3;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s/%s%s", c->state_dir, name, ext);
    return s;
}

json_t *catalog_read_status(const catalog_t *c, const catalog_entry_t *e)
{
    char *path = catalog_state_path(c, e, ".json");
    if (!path) return NULL;
    json_t *r = json_load_file(path, 0, NULL);
    free(path);
    if (r && !json_is_object(r)) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

int catalog_write_status(const catalog_t *c, const catalog_entry_t *e, json_t *record)
{
    char *path = catalog_state_path(c, e, ".json");
    if (!path) return -1;
    size_t n = strlen(path) + 32;
    char *tmp = malloc(n);
    int rc = -1;
    if (tmp) {
        snprintf(tmp, n, "%s.%ld.tmp", path, (long)getpid());
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        char *text = json_dumps(record, JSON_INDENT(1) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
        if (fd >= 0 && text) {
            size_t len = strlen(text), off = 0;
            ssize_t w = 0;
            while (off < len && ((w = write(fd, text + off, len - off)) > 0 || errno == EINTR))
                if (w > 0) off += (size_t)w;
            bool ok = off == len && write(fd, "\n", 1) == 1 && fsync(fd) == 0;
            ok = close(fd) == 0 && ok;
            fd = -1;
            rc = ok && rename(tmp, path) == 0 ? 0 : -1;
        }
        int saved = errno;
        if (fd >= 0) close(fd);
        if (rc < 0) unlink(tmp);
        free(text);
        errno = saved;
    }
    free(tmp);
    free(path);
    return rc;
}

bool catalog_locked(const catalog_t *c, const catalog_entry_t *e)
{
    char *path = catalog_state_path(c, e, ".lock");
    if (!path) return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    free(path);
    if (fd < 0) return false;
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    bool held = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
    close(fd);
    return held;
}

json_t *catalog_inputs(const catalog_t *c, const catalog_entry_t *e, cli_paths_t *files, char **why)
{
    *why = NULL;
    cli_paths_t audio = {0};
    size_t dl = strlen(c->dir);
    bool strip = strcmp(c->dir, ".") != 0;
    json_t *list = json_array();
    if (!list || cli_expand_audio(e->audio, (int)e->n_audio, &audio) < 0) goto bad;
    for (size_t i = 0; i <= audio.len; i++) {
        const char *p = i == 0 ? e->book : audio.items[i - 1];
        struct stat st;
        if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
            size_t n = strlen(p) + 64;
            if ((*why = malloc(n)))
                snprintf(*why, n, "%s: %s", p,
                         stat(p, &st) != 0 ? strerror(errno) : "not a regular file");
            goto bad;
        }
        const char *shown = strip && strncmp(p, c->dir, dl) == 0 && p[dl] == '/' ? p + dl + 1 : p;
        json_t *o =
            json_pack("{s:s, s:I, s:I}", "path", shown, "size", (json_int_t)st.st_size, "mtime_ns",
                      (json_int_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec);
        if (!o || json_array_append_new(list, o) < 0) goto bad;
    }
    if (files)
        *files = audio;
    else
        cli_paths_free(&audio);
    return list;
bad:
    if (!*why) *why = strdup("the audio could not be listed (see above)");
    cli_paths_free(&audio);
    json_decref(list);
    return NULL;
}
