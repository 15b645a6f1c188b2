/* Internal interface of the audio module: any audiobook file decoded, down-mixed and resampled to
 * 16 kHz mono 16-bit samples, streamed in blocks (memory independent of the file's length). Only
 * this module touches libsndfile, FFmpeg and soxr; speech and the pipeline include this header. */
#ifndef FOLIO_AUDIO_H
#define FOLIO_AUDIO_H

#include "../core/core.h"

#define FOLIO_AUDIO_RATE 16000

typedef struct folio_audio_file folio_audio_file_t;

/* A chapter mark of an M4B/M4A file (seconds in the file). */
typedef struct {
    char *title;
    double start, end;
} folio_audio_chapter_t;

/* Open @path, choosing the decoder by content: FFmpeg for MP4 (M4B/M4A), AAC in ADTS frames and
 * MPEG audio (MP3); libsndfile for the rest (WAV, FLAC, OGG/Vorbis, Opus), then FFmpeg for what
 * libsndfile does not know. Without FFmpeg, MP3 goes to libsndfile and MP4/AAC is an error. */
folio_audio_file_t *folio__audio_open(folio_t *ctx, const char *path, int *err);

/* Read up to @n samples at 16 kHz mono into @out. Returns the number read, 0 at the end, or a
 * negative code. Damaged data is skipped (FFmpeg) or ends the stream (libsndfile), with a warning
 * naming the file and the position, so what was valid is kept. At the end, a stream well short of
 * the header's length gets a warning (a cut-off file). */
long folio__audio_read(folio_audio_file_t *f, int16_t *out, size_t n);

/* The file's length as its header says (0 if unknown): for progress estimates only. */
double folio__audio_estimated_seconds(const folio_audio_file_t *f);

/* What the file is: "mp3 44100 Hz 2 ch (libsndfile)". Borrowed until close. */
const char *folio__audio_describe(const folio_audio_file_t *f);

/* Chapter marks (M4B); borrowed until close. */
size_t folio__audio_n_chapters(const folio_audio_file_t *f);
const folio_audio_chapter_t *folio__audio_chapter(const folio_audio_file_t *f, size_t i);

/* Whether decoding stopped early at corrupt data (skipped damage does not count). */
bool folio__audio_truncated(const folio_audio_file_t *f);

void folio__audio_close(folio_audio_file_t *f);

/* Whether this build reads M4B/AAC through FFmpeg. */
bool folio__audio_has_ffmpeg(void);

#endif
