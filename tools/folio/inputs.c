/* Audio arguments: files as given, folders (their audio files in natural order: 2 before 10), and
 * M3U playlists (paths relative to the playlist). The engine only ever sees plain file paths. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int push(cli_paths_t *p, const char *path)
{
    if (p->len == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **n = realloc(p->items, cap * sizeof(char *));
        if (!n) return -1;
        p->items = n;
        p->cap = cap;
    }
    p->items[p->len] = strdup(path);
    return p->items[p->len++] ? 0 : -1;
}

/* Natural order: digit runs compare as numbers, the rest case-insensitively. */
int cli_natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0') a++;
            while (*b == '0') b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la])) la++;
            while (isdigit((unsigned char)b[lb])) lb++;
            if (la != lb) return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c) return c;
            a += la, b += lb;
            continue;
        }
        int ca = tolower((unsigned char)*a), cb = tolower((unsigned char)*b);
        if (ca != cb) return ca < cb ? -1 : 1;
        a++, b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int cmp_paths(const void *x, const void *y)
{
    return cli_natural_cmp(*(char *const *)x, *(char *const *)y);
}

bool cli_audio_name(const char *name)
{
    static const char *const exts[] = {".mp3", ".m4b",  ".m4a", ".aac",  ".mp4", ".flac", ".ogg",
                                       ".oga", ".opus", ".wav", ".wave", ".aif", ".aiff", NULL};
    const char *dot = strrchr(name, '.');
    if (!dot || name[0] == '.') return false;
    for (const char *const *e = exts; *e; e++)
        if (strcasecmp(dot, *e) == 0) return true;
    return false;
}

static bool playlist_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".m3u") == 0 || strcasecmp(dot, ".m3u8") == 0);
}

static int add_folder(cli_paths_t *out, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "folio: error: %s: cannot read the folder\n", dir);
        return -1;
    }
    cli_paths_t found = {0};
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) && rc == 0) {
        if (!cli_audio_name(e->d_name)) continue;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        rc = push(&found, path);
    }
    closedir(d);
    /* qsort must not be given NULL, even for no items. */
    if (found.len) qsort(found.items, found.len, sizeof(char *), cmp_paths);
    for (size_t i = 0; i < found.len && rc == 0; i++) rc = push(out, found.items[i]);
    if (rc == 0 && !found.len) {
        fprintf(stderr, "folio: error: %s: no audio files in the folder\n", dir);
        rc = -1;
    }
    cli_paths_free(&found);
    return rc;
}

static int add_playlist(cli_paths_t *out, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "folio: error: %s: cannot open the playlist\n", path);
        return -1;
    }
    char base[4096];
    snprintf(base, sizeof(base), "%s", path);
    char *slash = strrchr(base, '/');
    if (slash)
        slash[1] = '\0';
    else
        base[0] = '\0';
    char line[4096];
    int rc = 0;
    size_t before = out->len;
    while (fgets(line, sizeof(line), f) && rc == 0) {
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        if (strncmp(p, "\xef\xbb\xbf", 3) == 0) p += 3; /* a BOM */
        while (isspace((unsigned char)*p)) p++;
        if (!*p || *p == '#') continue;
        if (strncmp(p, "file://", 7) == 0) p += 7;
        char full[8192];
        if (p[0] == '/')
            snprintf(full, sizeof(full), "%s", p);
        else
            snprintf(full, sizeof(full), "%s%s", base, p);
        rc = push(out, full);
    }
    fclose(f);
    if (rc == 0 && out->len == before) {
        fprintf(stderr, "folio: error: %s: the playlist lists no files\n", path);
        rc = -1;
    }
    return rc;
}

int cli_expand_audio(char **args, int n, cli_paths_t *out)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        int rc;
        if (stat(args[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc = add_folder(out, args[i]);
        else if (playlist_name(args[i]))
            rc = add_playlist(out, args[i]);
        else
            rc = push(out, args[i]);
        if (rc < 0) return -1;
    }
    return 0;
}

void cli_paths_free(cli_paths_t *p)
{
    for (size_t i = 0; i < p->len; i++) free(p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

/* The first bytes of the audio formats Folio reads (and of a book, to tell them apart). */
static bool audio_magic(const unsigned char *b, size_t n)
{
    if (n >= 3 && memcmp(b, "ID3", 3) == 0) return true; /* MP3, ID3v2 */
    if (n >= 2 && b[0] == 0xFF && (b[1] & 0xE0) == 0xE0 && (b[1] & 0x06)) return true; /* MPEG */
    if (n >= 8 && memcmp(b + 4, "ftyp", 4) == 0) return true; /* MP4, M4A, M4B */
    if (n >= 4 && (memcmp(b, "fLaC", 4) == 0 || memcmp(b, "OggS", 4) == 0)) return true;
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WAVE", 4) == 0) return true;
    if (n >= 12 && memcmp(b, "FORM", 4) == 0 && memcmp(b + 8, "AIF", 3) == 0) return true;
    return false;
}

bool cli_looks_like_audio(const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return false;
    if (cli_audio_name(path) || playlist_name(path)) return true;
    FILE *f = fopen(path, "rb");
    if (!f) return false;
    unsigned char head[16];
    size_t n = fread(head, 1, sizeof(head), f);
    fclose(f);
    return audio_magic(head, n);
}

/* Whether the folder @path (a folder of audio, maybe) holds an audio file and no book. */
static bool audio_folder(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return false;
    DIR *d = opendir(path);
    if (!d) return false;
    struct dirent *e;
    bool audio = false;
    while ((e = readdir(d)))
        if (cli_audio_name(e->d_name)) audio = true;
    closedir(d);
    return audio;
}

FILE *cli_output_open(const char *path, char *tmp, size_t n)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
        /* /dev/null, a FIFO, a terminal: written directly, never replaced by a rename. */
        tmp[0] = '\0';
        return fopen(path, "w");
    }
    if ((size_t)snprintf(tmp, n, "%s.tmp", path) >= n) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    return fopen(tmp, "w");
}

int cli_output_close(FILE *f, const char *path, const char *tmp, bool ok)
{
    int e = errno;
    if (fclose(f) != 0 && ok) ok = false, e = errno;
    if (ok && tmp[0] && rename(tmp, path) != 0) ok = false, e = errno;
    if (!ok && tmp[0]) unlink(tmp);
    errno = e;
    return ok ? 0 : -1;
}

bool cli_check_output(const char *path)
{
    struct stat st;
    if (!*path) {
        fprintf(stderr, "folio: error: -o names no file\n");
        return false;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "folio: error: %s: is a folder; -o names the file to write\n", path);
        return false;
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        snprintf(dir, sizeof(dir), ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "folio: error: %s: the folder %s does not exist\n", path, dir);
        return false;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "folio: error: %s: the folder %s cannot be written (%s)\n", path, dir,
                strerror(errno));
        return false;
    }
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0 && errno == EROFS) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

typedef struct {
    cli_book_audio_t *a;
    folio_transcribe_options_t *topts;
    int *force;
} book_audio_args_t;

static int book_audio_option(void *ud, const cli_args_t *p, int id, const char *value)
{
    book_audio_args_t *b = ud;
    int r;
    if (id == 'o')
        b->a->out = value;
    else if (id == 'f' && b->force)
        *b->force = 1;
    else if ((r = cli_recognition_option(p, id, value, b->topts)) == EXIT_USAGE)
        return r;
    return -1;
}

int cli_parse_book_audio(const cli_command_t *cmd, int argc, char **argv, bool need_out,
                         folio_transcribe_options_t *topts, int *force, cli_book_audio_t *a)
{
    memset(a, 0, sizeof(*a));
    cli_args_t p;
    book_audio_args_t b = {a, topts, force};
    int r = cli_parse(&p, cmd, argc, argv, book_audio_option, &b);
    if (r >= 0) return r;
    a->log = p.log;
    if (r < 0 && p.npos > 0 && cli_looks_like_audio(p.pos[0]))
        r = cli_usage_error(cmd->name,
                            "%s is audio, and the BOOK comes first: folio %s BOOK AUDIO...",
                            p.pos[0], cmd->name);
    else if (r < 0 && p.npos > 0 && audio_folder(p.pos[0]))
        r = cli_usage_error(cmd->name,
                            "%s is a folder of audio, and the BOOK comes first: folio %s BOOK "
                            "AUDIO...",
                            p.pos[0], cmd->name);
    else if (r < 0 && p.npos < 2)
        r = cli_missing(cmd, p.npos ? "which audio?" : "which book?");
    else if (r < 0 && need_out && !a->out)
        r = cli_missing(cmd, "-o names the file to write");
    if (r < 0 && a->out && !cli_check_output(a->out)) r = EXIT_FAIL;
    if (r < 0 && cli_expand_audio(p.pos + 1, p.npos - 1, &a->audio) < 0) r = EXIT_FAIL;
    if (r < 0)
        a->book = p.pos[0];
    else
        cli_paths_free(&a->audio);
    cli_args_free(&p);
    return r;
}

void cli_book_audio_free(cli_book_audio_t *a)
{
    cli_paths_free(&a->audio);
}
