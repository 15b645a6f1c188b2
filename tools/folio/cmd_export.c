/* folio export INDEX --format json|csv|vtt|epub [-o OUT]: the index in other shapes. JSON follows
 * docs/export.md; CSV is its page fields; WebVTT is one file per audio file, a cue per sentence;
 * EPUB is the book itself with Media Overlays (folio_export_epub).
 * Output is streamed (a 30-hour book has hundreds of thousands of words) and written under a
 * temporary name, then renamed. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- text by code points ---- */

/* Walks the text forward, turning code point offsets into byte offsets. */
typedef struct {
    const char *text;
    size_t bytes, cp, at; /* current code point and its byte offset */
} cursor_t;

static size_t byte_of(cursor_t *c, size_t cp)
{
    if (cp < c->cp) c->cp = c->at = 0; /* only backwards jumps restart */
    while (c->cp < cp && c->at < c->bytes) {
        unsigned char b = (unsigned char)c->text[c->at];
        c->at += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        c->cp++;
    }
    return c->at < c->bytes ? c->at : c->bytes;
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_time(FILE *f, double t, bool read)
{
    if (read)
        fprintf(f, "%.3f", t < 0 ? 0 : t);
    else
        fputs("null", f);
}

static void json_file(FILE *f, long file)
{
    if (file >= 0)
        fprintf(f, "%ld", file);
    else
        fputs("null", f);
}

/* The fields saying when an item is read: start_time, end_time (when @end is given), file and
 * file_time; null when it is not read (@file < 0). */
static void json_when(FILE *f, double start, const double *end, long file, double file_time)
{
    bool read = file >= 0;
    fputs(", \"start_time\": ", f);
    json_time(f, start, read);
    if (end) {
        fputs(", \"end_time\": ", f);
        json_time(f, *end, read);
    }
    fputs(", \"file\": ", f);
    json_file(f, file);
    fputs(", \"file_time\": ", f);
    json_time(f, file_time, read);
}

static void meta_str(FILE *f, const folio_index_t *ix, const char *key)
{
    const char *v = folio_index_meta(ix, key);
    json_str(f, v, strlen(v));
}

static int write_json(const folio_index_t *ix, FILE *f)
{
    fputs("{\"format\": \"folio-index\", \"version\": 1,\n \"book\": {\"title\": ", f);
    meta_str(f, ix, "title");
    fputs(", \"author\": ", f);
    meta_str(f, ix, "author");
    fputs(", \"language\": ", f);
    meta_str(f, ix, "language");
    fprintf(f, ", \"text_length\": %zu, \"text_sha256\": ", folio_index_text_length(ix));
    meta_str(f, ix, "text_sha256");
    fputs(", \"page_source\": ", f);
    meta_str(f, ix, "page_source");
    fputs("},\n \"audio\": [", f);
    for (size_t i = 0; i < folio_index_n_files(ix); i++) {
        const folio_index_file_t *a = folio_index_file(ix, i);
        fprintf(f, "%s\n  {\"index\": %zu, \"path\": ", i ? "," : "", i);
        json_str(f, a->path, strlen(a->path));
        fprintf(f, ", \"duration\": %.3f, \"offset\": %.3f}", a->duration, a->offset);
    }
    fputs("],\n \"pages\": [", f);
    for (size_t i = 0; i < folio_index_n_pages(ix); i++) {
        const folio_index_page_t *p = folio_index_page(ix, i);
        bool read = p->file >= 0;
        fprintf(f, "%s\n  {\"ordinal\": %zu, \"label\": ", i ? "," : "", p->ordinal);
        json_str(f, p->label, strlen(p->label));
        fprintf(f, ", \"start_char\": %zu", p->start_char);
        json_when(f, p->start_time, &p->end_time, p->file, p->file_time);
        fprintf(f, ", \"confidence\": %.3f}", read ? p->confidence : 0.0);
    }
    fputs("],\n \"chapters\": [", f);
    for (size_t i = 0; i < folio_index_n_chapters(ix); i++) {
        const folio_index_chapter_t *c = folio_index_chapter(ix, i);
        fprintf(f, "%s\n  {\"title\": ", i ? "," : "");
        json_str(f, c->title, strlen(c->title));
        fprintf(f, ", \"start_char\": %zu", c->start_char);
        json_when(f, c->start_time, NULL, c->file, c->file_time);
        fputs("}", f);
    }
    fputs("],\n \"audio_marks\": [", f);
    for (size_t i = 0; i < folio_index_n_audio_marks(ix); i++) {
        const folio_index_audio_mark_t *m = folio_index_audio_mark(ix, i);
        fprintf(f, "%s\n  {\"kind\": \"%s\", \"title\": ", i ? "," : "",
                m->file_start ? "file" : "chapter");
        json_str(f, m->title, strlen(m->title));
        json_when(f, m->start_time, NULL, m->file, m->file_time);
        fputs(", \"chapter\": ", f);
        json_file(f, m->chapter);
        fputs("}", f);
    }
    fputs("],\n \"words\": [", f);
    size_t bytes;
    const char *text = folio_index_text(ix, &bytes);
    cursor_t cur = {text, bytes, 0, 0};
    for (size_t i = 0; i < folio_index_n_words(ix); i++) {
        const folio_index_word_t *w = folio_index_word(ix, i);
        bool read = w->file >= 0;
        size_t a = byte_of(&cur, w->start_char), b = byte_of(&cur, w->end_char);
        fprintf(f, "%s\n  {\"text\": ", i ? "," : "");
        json_str(f, text + a, b > a ? b - a : 0);
        fprintf(f, ", \"start_char\": %zu, \"end_char\": %zu", w->start_char, w->end_char);
        json_when(f, w->start_time, &w->end_time, w->file, w->file_time);
        fprintf(f, ", \"confidence\": %.3f}", read ? w->confidence : 0.0);
    }
    fprintf(f, "],\n \"report\": %s}\n", folio_index_report(ix));
    return ferror(f) ? -1 : 0;
}

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(const folio_index_t *ix, FILE *f)
{
    fputs("ordinal,label,start_char,start_time,end_time,file,file_time,confidence\n", f);
    for (size_t i = 0; i < folio_index_n_pages(ix); i++) {
        const folio_index_page_t *p = folio_index_page(ix, i);
        fprintf(f, "%zu,", p->ordinal);
        csv_field(f, p->label);
        if (p->file >= 0)
            fprintf(f, ",%zu,%.3f,%.3f,%ld,%.3f,%.3f\n", p->start_char, p->start_time, p->end_time,
                    p->file, p->file_time, p->confidence);
        else
            fprintf(f, ",%zu,,,,,0\n", p->start_char);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- WebVTT ---- */

static void vtt_time(FILE *f, double t)
{
    if (t < 0) t = 0;
    long ms = (long)(t * 1000 + 0.5);
    fprintf(f, "%02ld:%02ld:%02ld.%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

/* Cue text: one line, with the characters WebVTT reserves escaped. */
static void vtt_text(FILE *f, const char *s, size_t n)
{
    bool space = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
            space = true;
            continue;
        }
        if (space) fputc(' ', f);
        space = false;
        if (c == '&')
            fputs("&amp;", f);
        else if (c == '<')
            fputs("&lt;", f);
        else if (c == '>')
            fputs("&gt;", f);
        else
            fputc(c, f);
    }
}

static int write_vtt(const folio_index_t *ix, size_t file, FILE *f)
{
    const folio_index_file_t *a = folio_index_file(ix, file);
    size_t bytes;
    const char *text = folio_index_text(ix, &bytes);
    cursor_t cur = {text, bytes, 0, 0};
    fputs("WEBVTT\n", f);
    size_t cue = 0;
    for (size_t i = 0; i < folio_index_n_sentences(ix); i++) {
        const folio_index_sentence_t *s = folio_index_sentence(ix, i);
        if (s->file != (long)file) continue;
        double start = s->file_time, end = s->end_time - a->offset;
        if (end > a->duration) end = a->duration;
        if (end <= start) end = start + 0.01;
        size_t b0 = byte_of(&cur, s->start_char), b1 = byte_of(&cur, s->end_char);
        fprintf(f, "\n%zu\n", ++cue);
        vtt_time(f, start);
        fputs(" --> ", f);
        vtt_time(f, end);
        fputc('\n', f);
        vtt_text(f, text + b0, b1 > b0 ? b1 - b0 : 0);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- files ---- */

typedef int (*writer_fn)(const folio_index_t *ix, FILE *f);

/* Write @path through @path.tmp and rename; NULL @path: standard output. */
static int write_to(const char *path, const folio_index_t *ix, writer_fn fn, size_t file)
{
    if (!path) {
        errno = 0;
        int r = fn ? fn(ix, stdout) : write_vtt(ix, file, stdout);
        int e = errno;
        if (fflush(stdout) != 0 || ferror(stdout)) r = -1, e = errno ? errno : e;
        if (r < 0) {
            fprintf(stderr, "folio: error: writing to standard output failed: %s\n",
                    strerror(e ? e : EIO));
            return -1;
        }
        return 0;
    }
    char tmp[4200];
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        fprintf(stderr, "folio: error: %s: %s\n", tmp, strerror(errno));
        return -1;
    }
    int r = fn ? fn(ix, f) : write_vtt(ix, file, f);
    int e = errno;
    if (fclose(f) != 0 && r == 0) r = -1, e = errno;
    if (r == 0 && rename(tmp, path) != 0) r = -1, e = errno;
    if (r < 0) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(e ? e : EIO));
        unlink(tmp);
    }
    return r;
}

/* The WebVTT file name for audio file @name in folder @dir: its last path component with the
 * extension replaced, so that nothing is written outside @dir whatever the index says. False
 * when that is no file name ("", ".", ".."). */
static bool vtt_name(const char *dir, const char *name, char *out, size_t cap)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) return false;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%s/%.*s.vtt", dir, stem, base);
    return true;
}

static int export_epub(const folio_index_t *ix, const char *out, const char *book,
                       const folio_overlay_options_t *ov, cli_log_t *log)
{
    folio_t *ctx = cli_context(log);
    if (!ctx) return EXIT_FAIL;
    cli_progress_t prog;
    cli_progress_start(&prog, ctx, log);
    int rc = folio_export_epub(ctx, ix, book, out, ov);
    cli_progress_end(&prog);
    if (rc < 0) cli_error(ctx, rc);
    folio_free(ctx);
    return rc < 0 ? EXIT_FAIL : EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
    const char *out = NULL, *format = NULL, *path = NULL, *book = NULL;
    folio_overlay_options_t ov;
    folio_overlay_options_init(&ov);
    cli_log_t log = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) return cli_usage_error("export", "-o takes a name");
            out = argv[++i];
        } else if (strcmp(a, "--format") == 0 || strcmp(a, "-f") == 0) {
            if (i + 1 >= argc)
                return cli_usage_error("export", "--format takes json, csv, vtt or epub");
            format = argv[++i];
        } else if (strcmp(a, "--book") == 0) {
            if (i + 1 >= argc) return cli_usage_error("export", "--book takes the EPUB");
            book = argv[++i];
        } else if (strcmp(a, "--audio") == 0) {
            if (i + 1 >= argc) return cli_usage_error("export", "--audio takes a folder");
            ov.audio_dir = argv[++i];
        } else if (strcmp(a, "--audio-url") == 0) {
            if (i + 1 >= argc) return cli_usage_error("export", "--audio-url takes a URL");
            ov.audio_base = argv[++i];
        } else if (strcmp(a, "--embed-audio") == 0) {
            ov.embed_audio = 1;
        } else if (cli_log_option(a, &log)) {
        } else if (a[0] == '-' && a[1]) {
            return cli_usage_error("export", "unknown option '%s'", a);
        } else if (!path) {
            path = a;
        } else {
            return cli_usage_error("export", "one index at a time");
        }
    }
    if (!path)
        return cli_usage_error("export",
                               "usage: folio export INDEX --format json|csv|vtt [-o OUT]\n"
                               "       folio export INDEX --format epub --book BOOK.epub "
                               "-o OUT.epub [--embed-audio] [--audio DIR]");
    if (!format) format = "json";
    bool vtt = strcmp(format, "vtt") == 0, epub = strcmp(format, "epub") == 0;
    if (epub && (!book || !out))
        return cli_usage_error("export", "--format epub needs --book BOOK.epub and -o OUT.epub");
    if (!epub && (book || ov.audio_dir || ov.audio_base || ov.embed_audio))
        return cli_usage_error("export", "--book, --audio, --audio-url and --embed-audio are for "
                                         "--format epub");
    if (ov.embed_audio && ov.audio_base)
        return cli_usage_error("export", "--embed-audio and --audio-url exclude each other");
    writer_fn fn = strcmp(format, "json") == 0  ? write_json
                   : strcmp(format, "csv") == 0 ? write_csv
                                                : NULL;
    if (!fn && !vtt && !epub)
        return cli_usage_error("export", "unknown format '%s' (json, csv, vtt or epub)", format);
    folio_index_t *ix = cli_open_index(path);
    if (!ix) return EXIT_FAIL;
    int status = EXIT_OK;
    if (epub) {
        status = export_epub(ix, out, book, &ov, &log);
    } else if (!vtt) {
        if (write_to(out, ix, fn, 0) < 0) status = EXIT_FAIL;
    } else {
        /* One file per audio file, in the folder -o names (made if needed). */
        if (!out && folio_index_n_files(ix) > 1) {
            folio_index_free(ix);
            return cli_usage_error("export",
                                   "vtt writes a file per audio file: -o names the folder");
        }
        if (out && mkdir(out, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "folio: error: %s: %s\n", out, strerror(errno));
            status = EXIT_FAIL;
        }
        for (size_t i = 0; i < folio_index_n_files(ix) && status == EXIT_OK; i++) {
            char name[4200];
            const char *audio = folio_index_file(ix, i)->path;
            if (out && !vtt_name(out, audio, name, sizeof(name))) {
                fprintf(stderr,
                        "folio: error: %s: audio file %zu is named \"%s\", not a file name\n", path,
                        i, audio);
                status = EXIT_FAIL;
                break;
            }
            if (write_to(out ? name : NULL, ix, NULL, i) < 0) status = EXIT_FAIL;
        }
    }
    folio_index_free(ix);
    return status;
}
