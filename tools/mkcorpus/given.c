/* Real recordings whose truth is not word times: the book and the audio are used as they are
 * (audio files linked, an EPUB folder zipped), and the truth is what the material itself tells:
 *   stories:publication.json  which story each file holds (and where its text starts)
 *   smil:FILE                 a hand-made Media Overlay's clip times for text elements
 *   not-this-book             the audio is not this book (another language)
 */
#define _GNU_SOURCE
#include "mkcorpus.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

static void first_words(const char *text, int n, char *out, size_t cap)
{
    size_t o = 0;
    int words = 0;
    const char *p = text;
    while (*p && words < n) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        if (o && o + 1 < cap) out[o++] = ' ';
        while (*p && !isspace((unsigned char)*p)) {
            if (o + 1 < cap) out[o++] = *p;
            p++;
        }
        words++;
    }
    out[o] = '\0';
}

/* ---- the book ---- */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_files(const char *root, const char *rel, char ***out, size_t *n)
{
    char dir[4096];
    xsnprintf(dir, sizeof(dir), "%s%s%s", root, *rel ? "/" : "", rel);
    DIR *d = opendir(dir);
    if (!d) die("%s: cannot read", dir);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char child[4096], full[8192];
        xsnprintf(child, sizeof(child), "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        xsnprintf(full, sizeof(full), "%s/%s", root, child);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            list_files(root, child, out, n);
        } else {
            *out = xrealloc(*out, (*n + 1) * sizeof(char *));
            (*out)[(*n)++] = xstrdup(child);
        }
    }
    closedir(d);
}

/* Zip an EPUB folder: mimetype first (stored), a container.xml pointing at its package document if
 * the folder has none. */
static void zip_epub(const char *dir, const char *out)
{
    char **files = NULL, *opf = NULL;
    size_t n = 0;
    list_files(dir, "", &files, &n);
    qsort(files, n, sizeof(char *), cmp_names);
    bool has_container = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i], "META-INF/container.xml") == 0) has_container = true;
        const char *dot = strrchr(files[i], '.');
        if (dot && strcmp(dot, ".opf") == 0 && !opf) opf = files[i];
    }
    if (!has_container && !opf) die("%s: no package document (.opf)", dir);
    remove(out);
    int err;
    zip_t *z = zip_open(out, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) die("%s: cannot create", out);
    static const char mimetype[] = "application/epub+zip";
    zip_int64_t idx = zip_file_add(z, "mimetype", zip_source_buffer(z, mimetype, 20, 0), 0);
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    static char container[1024];
    if (!has_container) {
        xsnprintf(container, sizeof(container),
                  "<?xml version=\"1.0\"?>\n<container version=\"1.0\" "
                  "xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\"><rootfiles><rootfile "
                  "full-path=\"%s\" media-type=\"application/oebps-package+xml\"/></rootfiles>"
                  "</container>\n",
                  opf);
        zip_file_add(z, "META-INF/container.xml",
                     zip_source_buffer(z, container, strlen(container), 0), 0);
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(files[i], "mimetype") == 0) continue;
        char full[8192];
        xsnprintf(full, sizeof(full), "%s/%s", dir, files[i]);
        zip_file_add(z, files[i], zip_source_file(z, full, 0, -1), ZIP_FL_ENC_UTF_8);
    }
    if (zip_close(z) < 0) die("%s: %s", out, zip_strerror(z));
    for (size_t i = 0; i < n; i++) free(files[i]);
    free(files);
}

static void place_book(const conf_t *c, const char *outdir, char *name, size_t cap)
{
    char src[2048];
    xsnprintf(src, sizeof(src), "%s/%s", strchr(c->source, ':') + 1, c->book);
    struct stat st;
    if (stat(src, &st) != 0) die("%s: missing", src);
    char out[2048];
    if (S_ISDIR(st.st_mode)) {
        xsnprintf(name, cap, "book.epub");
        xsnprintf(out, sizeof(out), "%s/%s", outdir, name);
        zip_epub(src, out);
        return;
    }
    const char *dot = strrchr(c->book, '.');
    xsnprintf(name, cap, "book%s", dot ? dot : ".txt");
    xsnprintf(out, sizeof(out), "%s/%s", outdir, name);
    remove(out);
    if (symlink(src, out) != 0) die("%s: cannot link", out);
}

/* ---- audio ---- */

/* A file's length as decoding it gives (Debian's ffmpeg, down-mixed to 16 kHz as Folio's audio
 * module reads it), not the container's stated duration: an MP3's may count the encoder's delay and
 * padding that decoders drop (Moby-Dick's first file says 88.033 s and decodes to 88.000 s), and
 * the truth's offsets must add up what Folio decodes. */
static double decoded_seconds(const char *path)
{
    char cmd[4300];
    xsnprintf(cmd, sizeof(cmd), "ffmpeg -v error -i '%s' -f s16le -ac 1 -ar 16000 -", path);
    FILE *p = popen(cmd, "r");
    if (!p) die("cannot run ffmpeg");
    static int16_t buf[1 << 16];
    size_t got, n = 0;
    while ((got = fread(buf, sizeof(buf[0]), sizeof(buf) / sizeof(buf[0]), p)) > 0) n += got;
    if (pclose(p) != 0 || n == 0) die("ffmpeg could not decode %s", path);
    return (double)n / 16000;
}

/* ---- truth ---- */

/* Case-insensitive edit distance of two short strings (capped at 9). */
static int edits(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > 120 || nb > 120) return 9;
    int d[121][121];
    for (size_t i = 0; i <= na; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            int sub = d[i - 1][j - 1] +
                      (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            int del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
            d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
    return d[na][nb];
}

/* The first words of a story: the paragraph that follows its title line in a text book. The
 * line may differ from the recording's title by two letters (the Gutenberg text of the Crimson
 * Fairy Book heads "Motikatika" as "Motiratika"). */
static bool story_start(const char *text, const char *title, char *out, size_t cap)
{
    size_t tl = strlen(title);
    for (const char *p = text; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
        const char *eol = strchr(p, '\n');
        if (!eol) break;
        const char *a = p, *b = eol;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        if (b == a || edits(a, (size_t)(b - a), title, tl) > (tl >= 6 ? 2 : 0)) continue;
        const char *after = eol;
        /* The next paragraph: skip blank lines; a real story opens with a long one. */
        const char *q = after;
        while (*q && isspace((unsigned char)*q)) q++;
        const char *end = strstr(q, "\n\n");
        if (!end) end = q + strlen(q);
        int words = 0, lines = 1;
        for (const char *r = q; r < end; r++) {
            if (isspace((unsigned char)*r) && !isspace((unsigned char)r[1])) words++;
            lines += *r == '\n';
        }
        /* Prose, not the contents list: many words on long lines. */
        if (words < 20 || (end - q) / lines < 45) continue;
        first_words(q, 10, out, cap);
        return true;
    }
    return false;
}

static json_t *stories_truth(const conf_t *c, const char *src, char **paths, size_t n)
{
    char pub[2048];
    xsnprintf(pub, sizeof(pub), "%s/%s", src, strchr(c->truth, ':') + 1);
    json_error_t je;
    json_t *root = json_load_file(pub, 0, &je);
    if (!root) die("%s: %s", pub, je.text);
    char bookpath[2048];
    xsnprintf(bookpath, sizeof(bookpath), "%s/%s", src, c->book);
    char *text = read_text_file(bookpath); /* CRs dropped: blank lines are "\n\n" */
    json_t *stories = json_array();
    json_t *order = json_object_get(root, "readingOrder");
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(paths[i], '/') ? strrchr(paths[i], '/') + 1 : paths[i];
        const char *name = NULL;
        size_t k;
        json_t *item;
        json_array_foreach(order, k, item)
        {
            const char *url = json_string_value(json_object_get(item, "url"));
            if (url && strcmp(url, base) == 0)
                name = json_string_value(json_object_get(item, "name"));
        }
        if (!name) die("%s: not in %s", base, pub);
        /* "06 - The Language of Beasts": the title after the number. */
        const char *title = strstr(name, " - ") ? strstr(name, " - ") + 3 : name;
        char words[512] = "";
        bool found = story_start(text, title, words, sizeof(words));
        json_array_append_new(stories,
                              json_pack("{s:i,s:s,s:s?,s:f}", "file", (int)i, "title", title,
                                        "first_words", found ? words : NULL, "within", 45.0));
        if (!found)
            fprintf(stderr, "mkcorpus: %s: cannot find where \"%s\" starts\n", c->name, title);
    }
    free(text);
    json_decref(root);
    return stories;
}

static double clock_value(const char *s)
{
    /* "0:01:27.850", "87.85s", "1:27.85" */
    double parts[3] = {0, 0, 0};
    int n = 0;
    const char *p = s;
    while (*p && n < 3) {
        parts[n++] = strtod(p, (char **)&p);
        if (*p == ':')
            p++;
        else
            break;
    }
    if (n == 3) return parts[0] * 3600 + parts[1] * 60 + parts[2];
    if (n == 2) return parts[0] * 60 + parts[1];
    return parts[0];
}

static xmlNodePtr by_id(xmlNodePtr n, const char *id)
{
    for (xmlNodePtr c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        xmlChar *v = xmlGetProp(c, (const xmlChar *)"id");
        bool hit = v && strcmp((const char *)v, id) == 0;
        xmlFree(v);
        if (hit) return c;
        xmlNodePtr d = by_id(c->children, id);
        if (d) return d;
    }
    return NULL;
}

/* A hand-made Media Overlay: each <par> times a text element in one long recording, which the
 * corpus has as several files (smil_files: FILE:START[:END] each). */
static json_t *smil_truth(const conf_t *c, const char *src, size_t n_files)
{
    char smil[2048];
    xsnprintf(smil, sizeof(smil), "%s/%s", src, strchr(c->truth, ':') + 1);
    xmlDocPtr doc = xmlReadFile(smil, NULL, XML_PARSE_NONET);
    if (!doc) die("%s: cannot read", smil);
    char smil_dir[2048];
    xsnprintf(smil_dir, sizeof(smil_dir), "%s", smil);
    *strrchr(smil_dir, '/') = '\0';
    json_t *out = json_array();
    xmlDocPtr text_doc = NULL;
    char text_path[4200] = "";
    for (xmlNodePtr par = xmlDocGetRootElement(doc); par;) {
        /* Depth-first over the elements. */
        if (par->type == XML_ELEMENT_NODE && strcmp((const char *)par->name, "par") == 0) {
            xmlNodePtr t = NULL, a = NULL;
            for (xmlNodePtr k = par->children; k; k = k->next) {
                if (k->type != XML_ELEMENT_NODE) continue;
                if (strcmp((const char *)k->name, "text") == 0) t = k;
                if (strcmp((const char *)k->name, "audio") == 0) a = k;
            }
            xmlChar *tsrc = t ? xmlGetProp(t, (const xmlChar *)"src") : NULL;
            xmlChar *b = a ? xmlGetProp(a, (const xmlChar *)"clipBegin") : NULL;
            xmlChar *e = a ? xmlGetProp(a, (const xmlChar *)"clipEnd") : NULL;
            if (tsrc && b && e && strchr((const char *)tsrc, '#')) {
                char *hash = strchr((char *)tsrc, '#');
                *hash = '\0';
                char path[4200];
                xsnprintf(path, sizeof(path), "%s/%s", smil_dir, (const char *)tsrc);
                if (strcmp(path, text_path) != 0) {
                    if (text_doc) xmlFreeDoc(text_doc);
                    text_doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
                    xsnprintf(text_path, sizeof(text_path), "%s", path);
                }
                xmlNodePtr el = text_doc ? by_id(xmlDocGetRootElement(text_doc), hash + 1) : NULL;
                double tb = clock_value((const char *)b), te = clock_value((const char *)e);
                /* The file that holds the whole clip. */
                int file = -1;
                double ft = 0;
                for (size_t f = 0; f < n_files && f < 16; f++)
                    if (tb >= c->smil_start[f] && te <= c->smil_end[f] + 0.001) {
                        file = (int)f;
                        ft = tb - c->smil_start[f];
                        break;
                    }
                if (el && file >= 0) {
                    xmlChar *content = xmlNodeGetContent(el);
                    char words[512];
                    first_words((const char *)content, 8, words, sizeof(words));
                    json_array_append_new(out,
                                          json_pack("{s:s,s:s,s:i,s:f,s:f}", "id", hash + 1,
                                                    "first_words", words, "file", file, "file_time",
                                                    ft, "end_file_time", te - c->smil_start[file]));
                    xmlFree(content);
                }
            }
            xmlFree(tsrc);
            xmlFree(b);
            xmlFree(e);
        }
        if (par->children && par->type == XML_ELEMENT_NODE) {
            par = par->children;
            continue;
        }
        while (par && !par->next) par = par->parent;
        if (par) par = par->next;
    }
    if (text_doc) xmlFreeDoc(text_doc);
    xmlFreeDoc(doc);
    return out;
}

void given_build(const conf_t *c, const char *outdir)
{
    const char *src = strchr(c->source, ':') + 1;
    char book[64];
    place_book(c, outdir, book, sizeof(book));
    /* The audio files, as the definition lists them, in that order. */
    char **paths = NULL;
    size_t n = 0;
    char list[1024];
    xsnprintf(list, sizeof(list), "%s", c->files);
    char *save = NULL;
    for (char *t = strtok_r(list, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char *colon = strchr(t, ':');
        if (colon) *colon = '\0';
        paths = xrealloc(paths, (n + 1) * sizeof(char *));
        char full[2048];
        xsnprintf(full, sizeof(full), "%s/%s", src, t);
        paths[n++] = xstrdup(full);
    }
    if (!n) die("%s: no files listed", c->name);
    json_t *audio = json_array();
    double offset = 0;
    for (size_t i = 0; i < n; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        char link[2048];
        xsnprintf(link, sizeof(link), "%s/%s", outdir, base);
        remove(link);
        if (symlink(paths[i], link) != 0) die("%s: cannot link", link);
        double d = decoded_seconds(paths[i]);
        json_array_append_new(audio, json_pack("{s:i,s:s,s:f,s:f}", "index", (int)i, "path", base,
                                               "duration", d, "offset", offset));
        offset += d;
    }
    json_t *root =
        json_pack("{s:s,s:i,s:s,s:{s:s},s:o}", "format", "folio-truth", "version", 1, "corpus",
                  c->name, "book", book[5] == 'e' ? "epub" : "txt", book, "audio", audio);
    const char *kind = c->truth;
    if (strncmp(kind, "stories:", 8) == 0)
        json_object_set_new(root, "stories", stories_truth(c, src, paths, n));
    else if (strncmp(kind, "smil:", 5) == 0)
        json_object_set_new(root, "sentences", smil_truth(c, src, n));
    else if (strcmp(kind, "not-this-book") == 0)
        json_object_set_new(root, "expect", json_string("not-this-book"));
    else
        die("%s: unknown truth kind '%s'", c->name, kind);
    char path[2048];
    xsnprintf(path, sizeof(path), "%s/truth.json", outdir);
    if (json_dump_file(root, path,
                       JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) != 0)
        die("%s: cannot write", path);
    json_decref(root);
    printf("mkcorpus: %s: %zu files, %.1f min of audio, truth: %s -> %s\n", c->name, n, offset / 60,
           kind, outdir);
    for (size_t i = 0; i < n; i++) free(paths[i]);
    free(paths);
}
