/* The EPUB container, shared by the reader and the Media Overlay writer: archive paths and hrefs,
 * and the zip archive read entry by entry within the limits (a zip bomb stops while it inflates).
 */
#include "epub.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/uri.h>

#define MAX_ENTRIES 100000
#define RATIO_FLOOR ((uint64_t)1 << 20) /* the ratio cap applies once an entry passes 1 MiB */

/* ---- paths ---- */

/* @s with its %XX escapes decoded by libxml2 (a '%' not followed by two hex digits stays as
 * written); caller frees. NULL on ENOMEM. */
static char *unescape(const char *s)
{
    size_t n = strlen(s);
    char *out = n < INT_MAX ? malloc(n + 1) : NULL;
    if (!out) return NULL;
    out[0] = '\0';
    if (n && !xmlURIUnescapeString(s, (int)n, out)) {
        free(out);
        return NULL;
    }
    return out;
}

char *folio__epub_resolve_href(const char *base_dir, const char *href)
{
    if (!href) return NULL;
    while (*href == ' ' || *href == '\t' || *href == '\n') href++;
    const char *colon = strchr(href, ':'), *slash = strchr(href, '/'), *hash = strchr(href, '#');
    if (colon && (!slash || colon < slash) && (!hash || colon < hash)) return NULL; /* a URL */
    size_t plen = hash ? (size_t)(hash - href) : strlen(href);
    folio_str_t joined = {0}, out = {0};
    char *path = NULL, *decoded = NULL;
    size_t bl = strlen(base_dir);
    if (plen == 0 || href[0] == '/') {
        if (folio__str_append(&joined, href[0] == '/' ? href + 1 : "", plen ? plen - 1 : 0) < 0)
            goto fail;
        if (plen == 0 && folio__str_append(&joined, base_dir, bl) < 0) goto fail;
    } else {
        if (bl &&
            folio__str_printf(&joined, "%s%s", base_dir, base_dir[bl - 1] == '/' ? "" : "/") < 0)
            goto fail;
        if (folio__str_append(&joined, href, plen) < 0) goto fail;
    }
    if (!joined.data || !(decoded = unescape(joined.data))) goto fail;
    /* Normalise "." and ".." segments. */
    char *save = NULL;
    VEC(const char *) segs = {0};
    for (char *seg = strtok_r(decoded, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        if (strcmp(seg, ".") == 0) continue;
        if (strcmp(seg, "..") == 0) {
            if (segs.len) segs.len--;
            continue;
        }
        if (VEC_PUSH(segs, seg) < 0) {
            VEC_FREE(segs);
            goto fail;
        }
    }
    bool ok = true;
    for (size_t i = 0; i < segs.len && ok; i++)
        ok = (i == 0 || folio__str_appendc(&out, '/') == 0) &&
             folio__str_append(&out, segs.items[i], strlen(segs.items[i])) == 0;
    VEC_FREE(segs);
    if (!ok) goto fail;
    if (hash && hash[1]) {
        char *frag = unescape(hash + 1);
        if (!frag) goto fail;
        ok = folio__str_printf(&out, "#%s", frag) == 0;
        free(frag);
        if (!ok) goto fail;
    }
    path = out.len ? folio__str_take(&out) : NULL;
fail:
    free(decoded);
    folio__str_free(&joined);
    folio__str_free(&out);
    return path;
}

char *folio__epub_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return folio__strndup(path, slash ? (size_t)(slash - path + 1) : 0);
}

size_t folio__epub_path_len(const char *target)
{
    const char *hash = strchr(target, '#');
    return hash ? (size_t)(hash - target) : strlen(target);
}

/* ---- archive access with limits ---- */

zip_int64_t folio__epub_zip_locate(const folio_epub_zip_t *z, const char *name)
{
    zip_int64_t idx = zip_name_locate(z->za, name, 0);
    if (idx < 0) idx = zip_name_locate(z->za, name, ZIP_FL_NOCASE);
    return idx;
}

int folio__epub_zip_read(folio_epub_zip_t *z, const char *name, char **out, size_t *out_len)
{
    int rc = FOLIO_OK;
    *out = NULL;
    zip_int64_t idx = folio__epub_zip_locate(z, name);
    if (idx < 0) return FOLIO_ENOTFOUND;
    zip_stat_t st;
    zip_stat_init(&st);
    uint64_t comp = 0;
    if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st) == 0 && (st.valid & ZIP_STAT_COMP_SIZE))
        comp = st.comp_size;
    zip_file_t *zf = zip_fopen_index(z->za, (zip_uint64_t)idx, 0);
    folio_str_t buf = {0};
    if (!zf) {
        zip_error_t *ze = zip_get_error(z->za);
        int code = zip_error_code_zip(ze);
        if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_WRONGPASSWD || code == ZIP_ER_ENCRNOTSUPP)
            FAIL(z->ctx, FOLIO_EDRM, "%s: %s is encrypted inside the zip (password protection)",
                 z->name, name);
        FAIL(z->ctx, FOLIO_EFORMAT, "%s: cannot open %s in the archive: %s", z->name, name,
             zip_error_strerror(ze));
    }
    char chunk[65536];
    uint64_t total = 0;
    for (;;) {
        zip_int64_t n = zip_fread(zf, chunk, sizeof(chunk));
        if (n < 0)
            FAIL(z->ctx, FOLIO_EFORMAT, "%s: %s is corrupt: %s", z->name, name,
                 zip_file_strerror(zf));
        if (n == 0) break;
        total += (uint64_t)n;
        z->inflated += (uint64_t)n;
        if (z->inflated > z->max_bytes)
            FAIL(z->ctx, FOLIO_ELIMIT,
                 "%s: inflating the archive passes the limit of %llu bytes at %s (a zip bomb?)",
                 z->name, (unsigned long long)z->max_bytes, name);
        if (total > RATIO_FLOOR && total / (comp ? comp : 1) > z->max_ratio)
            FAIL(z->ctx, FOLIO_ELIMIT,
                 "%s: %s inflates more than %u times its compressed size (a zip bomb?)", z->name,
                 name, (unsigned)z->max_ratio);
        if (folio__str_append(&buf, chunk, (size_t)n) < 0)
            FAIL(z->ctx, FOLIO_ENOMEM, "%s: out of memory reading %s", z->name, name);
    }
    if (!buf.data && folio__str_append(&buf, "", 0) < 0)
        FAIL(z->ctx, FOLIO_ENOMEM, "out of memory");
    *out_len = buf.len;
    *out = folio__str_take(&buf);
fail:
    if (zf) zip_fclose(zf);
    folio__str_free(&buf);
    return rc;
}

int folio__epub_zip_open(folio_epub_zip_t *z, folio_t *ctx, const char *path,
                         const folio_book_options_t *opts)
{
    *z = (folio_epub_zip_t){.ctx = ctx,
                            .name = path,
                            .max_bytes = opts->max_archive_bytes,
                            .max_ratio = opts->max_ratio};
    int zerr = 0;
    z->za = zip_open(z->name, ZIP_RDONLY, &zerr);
    if (!z->za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int code = zerr == ZIP_ER_OPEN || zerr == ZIP_ER_READ ? FOLIO_EIO : FOLIO_EFORMAT;
        /* libzip says "not a zip" for a zip whose end was cut off: tell them apart. */
        unsigned char magic[4] = {0};
        FILE *f = fopen(z->name, "rb");
        bool pk = f && fread(magic, 1, 4, f) == 4 && memcmp(magic, "PK\x03\x04", 4) == 0;
        if (f) fclose(f);
        const char *what = zerr == ZIP_ER_NOZIP && pk ? "corrupt or truncated zip archive (its "
                                                        "central directory is missing)"
                           : zerr == ZIP_ER_NOZIP     ? "not a zip archive (an EPUB is a zip)"
                                                      : zip_error_strerror(&ze);
        int rc = folio__error(z->ctx, code, "%s: %s", z->name, what);
        zip_error_fini(&ze);
        return rc;
    }
    zip_int64_t n = zip_get_num_entries(z->za, 0);
    if (n <= 0) return folio__error(z->ctx, FOLIO_EFORMAT, "%s: the zip archive is empty", z->name);
    if (n > MAX_ENTRIES)
        return folio__error(z->ctx, FOLIO_ELIMIT, "%s: the archive has %lld entries (limit %d)",
                            z->name, (long long)n, MAX_ENTRIES);
    return FOLIO_OK;
}

void folio__epub_zip_close(folio_epub_zip_t *z)
{
    if (z->za) zip_discard(z->za);
    z->za = NULL;
}

/* ---- what the reader keeps for the writer ---- */

void folio__epub_source_free(struct folio_book_source *src)
{
    if (!src) return;
    VEC_FREE(src->block_element);
    for (size_t i = 0; i < src->spine_path.len; i++) free(src->spine_path.items[i]);
    VEC_FREE(src->spine_path);
    free(src->opf_path);
    free(src);
}
