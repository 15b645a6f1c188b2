/* Internal interface of the index module: the work file <out>.part that makes indexing resumable
 * (inputs, their fingerprint, cached audio files, chunks and finished recognition results; the
 * names of its side files), and the finished index, written beside it and renamed into place. Only
 * this module includes SQLite; any module downstream of speech may include this header. */
#ifndef FOLIO_INDEX_H
#define FOLIO_INDEX_H

#include "../core/core.h"

#define FOLIO_PART_SCHEMA 1

/* The work file and the side files that share its name. */
typedef enum {
    FOLIO_WORK_PART,     /* of an output path: its work file, "<out>.part" */
    FOLIO_WORK_WAL,      /* the rest of a work file: "-wal", SQLite's write-ahead log */
    FOLIO_WORK_SHM,      /* "-shm", SQLite's shared-memory index */
    FOLIO_WORK_PCM,      /* ".pcm", the audio cache (16 kHz) */
    FOLIO_WORK_LM,       /* ".lm", the book's language model */
    FOLIO_WORK_OOB_LM,   /* ".oob.lm", the out-of-book model */
    FOLIO_WORK_DICT,     /* ".dict", the decoder's dictionary */
    FOLIO_WORK_GAPS_LM,  /* ".gaps.lm", the window model of gaps recognised again */
    FOLIO_WORK_INDEX,    /* ".index", the finished index before its rename */
    FOLIO_WORK_WINDOW_LM /* ".window<k>.lm", recognition worker k's window model */
} folio_work_file_t;

/* The name of @which for @path (an output path for FOLIO_WORK_PART, else a work file; @k numbers
 * the worker of FOLIO_WORK_WINDOW_LM) into @out of @size bytes. The one place those names are
 * made. Returns FOLIO_OK, or FOLIO_EINVAL when the name does not fit (it is then cut short). */
int folio__work_name(char *out, size_t size, const char *path, folio_work_file_t which, size_t k);
/* Delete the work file @work_path and all its side files (those that exist). */
void folio__work_remove(const char *work_path);

/* What a run's fingerprint covers: anything changed and the work file starts afresh. */
typedef struct {
    const char *text_sha256; /* the book's text (64 hex digits) */
    const char *config;      /* everything about recognition that changes results, */
    size_t config_len;       /* in this many bytes */
    const char *model_dir;   /* the acoustic model's folder: its files' size, head and tail */
    const char *const *made; /* files made from the inputs (models, dictionary): the same */
    size_t n_made;
    const char *const *audio; /* the audio files: the same */
    size_t n_audio;
} folio_work_inputs_t;

/* The fingerprint of @in (hex SHA-256, with Folio's version and the work file's schema). Returns
 * FOLIO_OK, or FOLIO_EIO when a file cannot be read (message on @ctx). */
int folio__work_fingerprint(folio_t *ctx, const folio_work_inputs_t *in, char out[65]);

typedef struct folio_part folio_part_t;

/* Open the work file @path. When it exists with the same @fingerprint (and not @restart), its
 * finished work is kept and *@resumed is true; otherwise it is created afresh. */
folio_part_t *folio__part_open(folio_t *ctx, const char *path, const char *fingerprint,
                               bool restart, bool *resumed, int *err);
/* Close (keeping the file). */
void folio__part_close(folio_part_t *p);
/* Close and delete the file. */
void folio__part_discard(folio_part_t *p);

/* A chunk of a file's audio (samples at 16 kHz). */
typedef struct {
    size_t file;
    uint64_t start, end, keep_from, keep_to;
    bool speech;
} folio_part_chunk_t;
typedef VEC(folio_part_chunk_t) folio_part_chunks_t;

/* Record a chunk (chunking is deterministic, so a resumed run finds the same ones). Sets *@done
 * when its result is already stored. */
int folio__part_add_chunk(folio_part_t *p, const folio_part_chunk_t *c, bool *done);
/* Whether file @file's samples are complete in the audio cache, and how many there are. */
int folio__part_file_samples(folio_part_t *p, size_t file, uint64_t *n_samples, bool *cached);
/* Record file @file as complete in the cache, with @n_samples samples. */
int folio__part_file_cached(folio_part_t *p, size_t file, const char *path, uint64_t n_samples);
/* All chunks in order (file, start), with whether each is done. */
int folio__part_chunks(folio_part_t *p, folio_part_chunks_t *out, folio_bools_t *done);
/* Store the recognition result of the chunk that starts at (@file, @start) (words as TSV). */
int folio__part_chunk_done(folio_part_t *p, size_t file, uint64_t start, const char *tsv);
/* The stored result of that chunk; NULL in *tsv when not done. Caller frees *tsv. */
int folio__part_chunk_result(folio_part_t *p, size_t file, uint64_t start, char **tsv);

/* ---- the finished index ---- */

#define FOLIO_INDEX_SCHEMA 3                  /* written; 3 added the audio_marks table */
#define FOLIO_INDEX_SCHEMA_MIN 2              /* the oldest read (without audio marks) */
#define FOLIO_INDEX_APPLICATION_ID 0x466f6c69 /* "Foli" */
/* The "words" blob of the lookup table: per word start_char, end_char, start_ms, end_ms, file,
 * confidence (thousandths), int32 each, as in the words table. */
#define WORD_FIELDS 6

/* A page, chapter (label = title), sentence or word with its time. */
typedef struct {
    const char *label;
    int level;
    size_t start_char, end_char;
    double start, end; /* global seconds; start < 0 when not read */
    size_t file;
    double file_time;
    float confidence;
} folio_index_item_t;

/* A named table of bytes the lookup module builds at index time and reads back (the index
 * stores it and does not look inside). */
typedef struct {
    const char *name;
    const void *data;
    size_t len;
} folio_index_blob_t;

/* Everything the index holds. */
typedef struct {
    const char *(*meta)[2]; /* key, value */
    size_t n_meta;
    const char *text;
    size_t text_bytes;
    const char *const *paths;
    const double *duration, *offset;
    size_t n_files;
    const folio_index_item_t *pages, *chapters, *sentences, *words;
    size_t n_pages, n_chapters, n_sentences, n_words;
    const folio_index_audio_mark_t *marks; /* start_time unused: the audio table places them */
    size_t n_marks;
    const char *report_json;
    const folio_index_blob_t *blobs;
    size_t n_blobs;
} folio_index_data_t;

/* Write the finished index to @tmp_path (replacing any file there: one a killed run left), in one
 * transaction, compact it, and rename it to @final_path: the last step, so that until it is done
 * the work file keeps everything a rerun needs. On failure @tmp_path is removed and the message
 * (on @ctx) names the file. */
int folio__index_write(folio_t *ctx, const char *tmp_path, const folio_index_data_t *d,
                       const char *final_path);
/* The first word of @ix whose start is at or after code point @c (n_words if none). */
size_t folio__index_first_word_at(const folio_index_t *ix, size_t c);

/* The blob @name of an open index (borrowed, 8-byte aligned), or NULL with *@len 0. */
const void *folio__index_blob(const folio_index_t *ix, const char *name, size_t *len);

#endif
