/* Shared by the writers of `folio export` (cmd_export.c: JSON, CSV, word TSV; export_cues.c: a
 * cue per sentence as WebVTT, SRT or Audacity labels): walking the index's text by code points. */
#ifndef FOLIO_EXPORT_H
#define FOLIO_EXPORT_H

#include <folio.h>
#include <stdio.h>

/* Walks the text forward, turning code point offsets into byte offsets. */
typedef struct {
    const char *text;
    size_t bytes, cp, at; /* current code point and its byte offset */
} export_cursor_t;

/* The byte offset of code point @cp (the text's length when past its end). */
size_t export_byte_of(export_cursor_t *c, size_t cp);

/* A writer of one file per audio file: the cues of audio file @file. Returns 0 or -1 (a write
 * error, in ferror(f)). */
typedef int (*export_cue_fn)(const folio_index_t *ix, size_t file, FILE *f);

int export_vtt(const folio_index_t *ix, size_t file, FILE *f);
int export_srt(const folio_index_t *ix, size_t file, FILE *f);
int export_audacity(const folio_index_t *ix, size_t file, FILE *f);

#endif
