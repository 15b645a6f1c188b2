/* mkepub SRC_DIR OUT.epub: pack an EPUB source folder into an EPUB container — "mimetype" first
 * and stored uncompressed, then every other file deflated, in sorted order with fixed timestamps
 * so the result is byte-for-byte reproducible. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

typedef struct {
    char **paths;
    size_t len, cap;
} list_t;

static int push(list_t *l, const char *p)
{
    if (l->len == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **n = realloc(l->paths, ncap * sizeof(*n));
        if (!n) return -1;
        l->paths = n;
        l->cap = ncap;
    }
    l->paths[l->len] = strdup(p);
    return l->paths[l->len++] ? 0 : -1;
}

/* Collect files under root/rel, as paths relative to root. */
static int walk(const char *root, const char *rel, list_t *out)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char child[2048], full[4096];
        if ((size_t)snprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", e->d_name) >=
            sizeof(child)) {
            fprintf(stderr, "mkepub: path too long under %s\n", dir);
            rc = -1;
            break;
        }
        snprintf(full, sizeof(full), "%s/%s", root, child);
        struct stat st;
        if (stat(full, &st) != 0) {
            perror(full);
            rc = -1;
        } else if (S_ISDIR(st.st_mode)) {
            rc = walk(root, child, out);
        } else {
            rc = push(out, child);
        }
    }
    closedir(d);
    return rc;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add(zip_t *z, const char *root, const char *rel, int store)
{
    char full[4096];
    snprintf(full, sizeof(full), "%s/%s", root, rel);
    zip_source_t *src = zip_source_file(z, full, 0, -1);
    if (!src) return -1;
    zip_int64_t idx = zip_file_add(z, rel, src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
        zip_source_free(src);
        return -1;
    }
    if (zip_set_file_compression(z, (zip_uint64_t)idx, store ? ZIP_CM_STORE : ZIP_CM_DEFLATE, 9) <
        0)
        return -1;
    /* 2000-01-01: a fixed date keeps the archive reproducible. */
    return zip_file_set_mtime(z, (zip_uint64_t)idx, 946684800, 0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: mkepub SRC_DIR OUT.epub\n");
        return 2;
    }
    const char *root = argv[1], *out = argv[2];
    list_t files = {0};
    if (walk(root, "", &files) < 0) return 1;
    qsort(files.paths, files.len, sizeof(char *), cmp);
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.part", out);
    remove(tmp);
    int err;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) {
        fprintf(stderr, "mkepub: cannot create %s\n", tmp);
        return 1;
    }
    int rc = 0;
    int has_mimetype = 0;
    for (size_t i = 0; i < files.len; i++) has_mimetype |= strcmp(files.paths[i], "mimetype") == 0;
    if (!has_mimetype) {
        fprintf(stderr, "mkepub: %s has no mimetype file\n", root);
        rc = -1;
    }
    if (rc == 0) rc = add(z, root, "mimetype", 1);
    for (size_t i = 0; i < files.len && rc == 0; i++)
        if (strcmp(files.paths[i], "mimetype") != 0) rc = add(z, root, files.paths[i], 0);
    if (rc < 0) {
        fprintf(stderr, "mkepub: %s\n", zip_strerror(z));
        zip_discard(z);
        remove(tmp);
        return 1;
    }
    if (zip_close(z) < 0) {
        fprintf(stderr, "mkepub: writing %s: %s\n", tmp, zip_strerror(z));
        zip_discard(z);
        remove(tmp);
        return 1;
    }
    if (rename(tmp, out) != 0) {
        perror(out);
        return 1;
    }
    for (size_t i = 0; i < files.len; i++) free(files.paths[i]);
    free(files.paths);
    return 0;
}
