/* A cue per read sentence of one audio file, in the three shapes `folio export` writes them:
 * WebVTT, SubRip (SRT) and Audacity labels (as aeneas's "aud" writes them). Times are in the
 * file, so each audio file gets its own cue file. */
#include "export.h"

#include <stdbool.h>
#include <string.h>

size_t export_byte_of(export_cursor_t *c, size_t cp)
{
    if (cp < c->cp) c->cp = c->at = 0; /* only backwards jumps restart */
    while (c->cp < cp && c->at < c->bytes) {
        unsigned char b = (unsigned char)c->text[c->at];
        c->at += b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
        c->cp++;
    }
    return c->at < c->bytes ? c->at : c->bytes;
}

typedef enum { CUE_VTT, CUE_SRT, CUE_AUD } cue_style_t;

/* "HH:MM:SS.mmm" (WebVTT) or "HH:MM:SS,mmm" (SRT). */
static void clock_time(FILE *f, double t, char sep)
{
    if (t < 0) t = 0;
    long ms = (long)(t * 1000 + 0.5);
    fprintf(f, "%02ld:%02ld:%02ld%c%03ld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, sep,
            ms % 1000);
}

/* Cue text: one line (runs of white space become one space); WebVTT's reserved characters
 * escaped. */
static void cue_text(FILE *f, const char *s, size_t n, cue_style_t style)
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
        if (style == CUE_VTT && c == '&')
            fputs("&amp;", f);
        else if (style == CUE_VTT && c == '<')
            fputs("&lt;", f);
        else if (style == CUE_VTT && c == '>')
            fputs("&gt;", f);
        else
            fputc(c, f);
    }
}

static int write_cues(const folio_index_t *ix, size_t file, FILE *f, cue_style_t style)
{
    const folio_index_file_t *a = folio_index_file(ix, file);
    size_t bytes;
    const char *text = folio_index_text(ix, &bytes);
    export_cursor_t cur = {text, bytes, 0, 0};
    if (style == CUE_VTT) fputs("WEBVTT\n", f);
    size_t cue = 0;
    for (size_t i = 0; i < folio_index_n_sentences(ix); i++) {
        const folio_index_sentence_t *s = folio_index_sentence(ix, i);
        if (s->file != (long)file) continue;
        double start = s->file_time, end = s->end_time - a->offset;
        if (end > a->duration) end = a->duration;
        if (end <= start) end = start + 0.01;
        size_t b0 = export_byte_of(&cur, s->start_char), b1 = export_byte_of(&cur, s->end_char);
        ++cue;
        if (style == CUE_AUD) {
            fprintf(f, "%.6f\t%.6f\t", start < 0 ? 0 : start, end);
        } else {
            /* WebVTT: a blank line after the header and between cues; SRT: between cues. */
            fprintf(f, style == CUE_VTT || cue > 1 ? "\n%zu\n" : "%zu\n", cue);
            clock_time(f, start, style == CUE_VTT ? '.' : ',');
            fputs(" --> ", f);
            clock_time(f, end, style == CUE_VTT ? '.' : ',');
            fputc('\n', f);
        }
        cue_text(f, text + b0, b1 > b0 ? b1 - b0 : 0, style);
        fputc('\n', f);
    }
    return ferror(f) ? -1 : 0;
}

int export_vtt(const folio_index_t *ix, size_t file, FILE *f)
{
    return write_cues(ix, file, f, CUE_VTT);
}

int export_srt(const folio_index_t *ix, size_t file, FILE *f)
{
    return write_cues(ix, file, f, CUE_SRT);
}

int export_audacity(const folio_index_t *ix, size_t file, FILE *f)
{
    return write_cues(ix, file, f, CUE_AUD);
}
