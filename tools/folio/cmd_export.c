/* folio export INDEX [--format FORMAT] [-o OUT]: the index in other shapes (docs/export.md). JSON
 * is the contract; CSV its page fields; TSV its words; WebVTT, SRT and Audacity labels a cue per
 * sentence, a file per audio file (export_cues.c); EPUB the book itself with Media Overlays
 * (folio_export_epub).
 * Output is streamed (a 30-hour book has hundreds of thousands of words) and written under a
 * temporary name, then renamed. */
#include "cli.h"
#include "export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    export_cursor_t cur = {text, bytes, 0, 0};
    for (size_t i = 0; i < folio_index_n_words(ix); i++) {
        const folio_index_word_t *w = folio_index_word(ix, i);
        bool read = w->file >= 0;
        size_t a = export_byte_of(&cur, w->start_char), b = export_byte_of(&cur, w->end_char);
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

/* ---- TSV: the words ---- */

/* One line a source word, with a header line: the fields of the JSON export's words. */
static int write_tsv(const folio_index_t *ix, FILE *f)
{
    fputs("text\tstart_char\tend_char\tstart_time\tend_time\tfile\tfile_time\tconfidence\n", f);
    size_t bytes;
    const char *text = folio_index_text(ix, &bytes);
    export_cursor_t cur = {text, bytes, 0, 0};
    for (size_t i = 0; i < folio_index_n_words(ix); i++) {
        const folio_index_word_t *w = folio_index_word(ix, i);
        size_t a = export_byte_of(&cur, w->start_char), b = export_byte_of(&cur, w->end_char);
        /* A word holds no white space; should one, it must not break the columns. */
        for (size_t k = a; k < b; k++) {
            char c = text[k];
            fputc(c == '\t' || c == '\n' || c == '\r' ? ' ' : c, f);
        }
        fprintf(f, "\t%zu\t%zu", w->start_char, w->end_char);
        if (w->file >= 0)
            fprintf(f, "\t%.3f\t%.3f\t%ld\t%.3f\t%.3f\n", w->start_time < 0 ? 0 : w->start_time,
                    w->end_time, w->file, w->file_time, w->confidence);
        else
            fputs("\t\t\t\t\t0\n", f);
    }
    return ferror(f) ? -1 : 0;
}

/* ---- files ---- */

/* What writes one export file: the whole index, or the cues of one audio file. */
typedef struct {
    int (*whole)(const folio_index_t *ix, FILE *f);
    export_cue_fn cues;
    size_t file;
} writer_t;

static int run_writer(const writer_t *w, const folio_index_t *ix, FILE *f)
{
    return w->whole ? w->whole(ix, f) : w->cues(ix, w->file, f);
}

/* Write @path through a temporary file beside it, then rename; NULL @path: standard output.
 * Messages name @path, never the temporary file. */
static int write_to(const char *path, const folio_index_t *ix, const writer_t *w)
{
    if (!path) {
        errno = 0;
        int r = run_writer(w, ix, stdout);
        int e = errno;
        return cli_stdout_finish(r < 0 ? (e ? e : EIO) : 0);
    }
    char tmp[4200];
    FILE *f = cli_output_open(path, tmp, sizeof(tmp));
    if (!f) {
        fprintf(stderr, "folio: error: %s: cannot write: %s\n", path, strerror(errno));
        return -1;
    }
    errno = 0;
    int r = run_writer(w, ix, f);
    if (cli_output_close(f, path, tmp, r == 0) < 0) {
        fprintf(stderr, "folio: error: %s: %s\n", path, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* The cue file name for audio file @name in folder @dir: its last path component with the
 * extension replaced by @ext, so that nothing is written outside @dir whatever the index says.
 * False when that is no file name ("", ".", ".."). */
static bool cue_name(const char *dir, const char *name, const char *ext, char *out, size_t cap)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0) return false;
    const char *dot = strrchr(base, '.');
    int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    snprintf(out, cap, "%s/%.*s.%s", dir, stem, base, ext);
    return true;
}

/* One cue file per audio file, in the folder @out (made if needed; NULL: standard output, for
 * an index of one audio file). */
static int write_cue_files(const folio_index_t *ix, const char *index_path, const char *out,
                           export_cue_fn fn, const char *ext)
{
    if (!out && folio_index_n_files(ix) > 1)
        return cli_usage_error("export", "%s writes a file per audio file: -o names the folder",
                               ext);
    if (out && mkdir(out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "folio: error: %s: %s\n", out, strerror(errno));
        return EXIT_FAIL;
    }
    for (size_t i = 0; i < folio_index_n_files(ix); i++) {
        char name[4200];
        const char *audio = folio_index_file(ix, i)->path;
        if (out && !cue_name(out, audio, ext, name, sizeof(name))) {
            fprintf(stderr, "folio: error: %s: audio file %zu is named \"%s\", not a file name\n",
                    index_path, i, audio);
            return EXIT_FAIL;
        }
        writer_t w = {NULL, fn, i};
        if (write_to(out ? name : NULL, ix, &w) < 0) return EXIT_FAIL;
    }
    return EXIT_OK;
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

/* ---- the command line ---- */

enum { O_BOOK = 1, O_AUDIO, O_AUDIO_URL, O_EMBED, O_LINK, O_GRANULARITY };

static const cli_option_t options[] = {
    {"format", 'f', "FORMAT", 'f',
     "json (the default), csv, tsv, vtt, srt, aud or epub:\n"
     "  json  the whole index (docs/export.md)\n"
     "  csv   the pages\n"
     "  tsv   the words, with a header line\n"
     "  vtt   WebVTT subtitles, a cue per sentence  \\\n"
     "  srt   SubRip subtitles, a cue per sentence   } a file per audio file\n"
     "  aud   Audacity labels, a label per sentence /  (-o names their folder)\n"
     "  epub  the EPUB 3 book with Media Overlays (needs --book and -o)"},
    {"output", 'o', "OUT", 'o',
     "the file (or, for vtt, srt and aud, the folder) to write\n"
     "(default: standard output)"},
    {"book", 0, "BOOK.epub", O_BOOK, "epub: the EPUB 3 book the index was made from"},
    {"granularity", 0, "paragraph|sentence|word", O_GRANULARITY,
     "epub: what is highlighted as it is read (default: sentence)"},
    {"embed-audio", 0, NULL, O_EMBED,
     "epub: put the audio inside the EPUB (the default: the book\n"
     "plays anywhere)"},
    {"audio-url", 0, "URL", O_AUDIO_URL,
     "epub: leave the audio out, published under URL (the file\n"
     "names appended)"},
    {"link-audio", 0, NULL, O_LINK,
     "epub: leave the audio out, linked by file: URLs (the book\n"
     "plays only on this computer)"},
    {"audio", 0, "DIR", O_AUDIO, "epub: where the audio files are (default: the book's folder)"},
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_export = {
    "export",
    "INDEX [--format json|csv|tsv] [-o OUT]\n"
    "INDEX --format vtt|srt|aud [-o FOLDER]\n"
    "INDEX --format epub --book BOOK.epub -o OUT.epub [--granularity G] [OPTIONS]",
    "The index in other shapes: JSON, pages as CSV, words as TSV, a cue per sentence as\n"
    "WebVTT, SRT or Audacity labels, or the book as an EPUB 3 with Media Overlays, whose\n"
    "reading systems highlight the text as the audio plays (docs/export.md).",
    options,
    NULL,
};

typedef struct {
    const char *out, *format, *book;
    folio_overlay_options_t ov;
    bool embed, link, granularity;
} export_args_t;

static int option(void *ud, const cli_args_t *a, int id, const char *v)
{
    export_args_t *e = ud;
    switch (id) {
    case 'o':
        e->out = v;
        break;
    case 'f':
        e->format = v;
        break;
    case O_BOOK:
        e->book = v;
        break;
    case O_AUDIO:
        e->ov.audio_dir = v;
        break;
    case O_AUDIO_URL:
        e->ov.audio_base = v;
        break;
    case O_EMBED:
        e->embed = true;
        break;
    case O_LINK:
        e->link = true;
        break;
    case O_GRANULARITY:
        e->granularity = true;
        if (strcmp(v, "paragraph") == 0)
            e->ov.granularity = FOLIO_OVERLAY_PARAGRAPH;
        else if (strcmp(v, "sentence") == 0)
            e->ov.granularity = FOLIO_OVERLAY_SENTENCE;
        else if (strcmp(v, "word") == 0)
            e->ov.granularity = FOLIO_OVERLAY_WORD;
        else
            return cli_bad_value(a, id, v, "paragraph, sentence or word");
        break;
    }
    return -1;
}

int cmd_export(int argc, char **argv)
{
    export_args_t e = {NULL, "json", NULL, {0}, false, false, false};
    folio_overlay_options_init(&e.ov);
    cli_args_t p;
    int r = cli_parse(&p, &cli_cmd_export, argc, argv, option, &e);
    if (r >= 0) return r;
    if (p.npos > 1) r = cli_usage_error("export", "one index at a time");
    if (p.npos == 0) r = cli_missing(&cli_cmd_export, "which index?");
    cli_log_t log = p.log;
    const char *path = p.npos ? p.pos[0] : NULL, *out = e.out, *format = e.format, *book = e.book;
    folio_overlay_options_t ov = e.ov;
    bool embed = e.embed, link = e.link, granularity = e.granularity;
    cli_args_free(&p);
    if (r >= 0) return r;

    static const struct {
        const char *name;
        int (*whole)(const folio_index_t *, FILE *);
        export_cue_fn cues;
    } formats[] = {{"json", write_json, NULL}, {"csv", write_csv, NULL},
                   {"tsv", write_tsv, NULL},   {"vtt", NULL, export_vtt},
                   {"srt", NULL, export_srt},  {"aud", NULL, export_audacity},
                   {"epub", NULL, NULL}};
    size_t fmt = 0, n_formats = sizeof(formats) / sizeof(formats[0]);
    while (fmt < n_formats && strcmp(format, formats[fmt].name) != 0) fmt++;
    if (fmt == n_formats)
        return cli_usage_error("export",
                               "unknown format '%s' (json, csv, tsv, vtt, srt, aud or "
                               "epub)",
                               format);
    bool epub = strcmp(format, "epub") == 0;
    if (epub && (!book || !out))
        return cli_usage_error("export", "--format epub needs --book BOOK.epub and -o OUT.epub");
    if (!epub && (book || ov.audio_dir || ov.audio_base || embed || link || granularity))
        return cli_usage_error("export", "--book, --audio, --audio-url, --embed-audio, "
                                         "--link-audio and --granularity are for --format epub");
    if (embed + link + !!ov.audio_base > 1)
        return cli_usage_error("export", "--embed-audio, --audio-url and --link-audio exclude "
                                         "each other");
    /* The audio goes inside unless it is published elsewhere or linked on purpose. */
    ov.embed_audio = !link && !ov.audio_base;
    if (out && (epub || !formats[fmt].cues) && !cli_check_output(out)) return EXIT_FAIL;
    folio_index_t *ix = cli_open_index(path);
    if (!ix) return EXIT_FAIL;
    int status;
    if (epub) {
        status = export_epub(ix, out, book, &ov, &log);
    } else if (formats[fmt].whole) {
        writer_t w = {formats[fmt].whole, NULL, 0};
        status = write_to(out, ix, &w) < 0 ? EXIT_FAIL : EXIT_OK;
    } else {
        status = write_cue_files(ix, path, out, formats[fmt].cues, format);
    }
    folio_index_free(ix);
    return status;
}
