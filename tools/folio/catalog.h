/* folio catalog: many books indexed as independent tasks of a scheduler (a Slurm job array, a
 * Kubernetes Indexed Job, GNU parallel). The manifest (one book a line), each book's status
 * record and lock, shared by `catalog scan`, `catalog run` and `catalog status`. */
#ifndef FOLIO_CATALOG_H
#define FOLIO_CATALOG_H

#include "cli.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Exit statuses of `folio catalog run` a scheduler acts on (sysexits.h values). */
enum {
    CATALOG_EXIT_PERMANENT = 65, /* EX_DATAERR: this book cannot be indexed as given */
    CATALOG_EXIT_RETRY = 75,     /* EX_TEMPFAIL: try again later (I/O, memory, killed, lock) */
};

/* One book of a manifest; paths are resolved against the manifest's folder. */
typedef struct {
    char *id;     /* names the index and the status files: [A-Za-z0-9][A-Za-z0-9._-]* */
    char *book;   /* the EPUB or text */
    char **audio; /* files, folders or playlists, as folio index takes them */
    size_t n_audio;
    char *output;  /* the index to write */
    size_t line;   /* the manifest line it came from (from 1) */
    char *problem; /* NULL, or why this entry cannot be run (malformed, duplicate id) */
} catalog_entry_t;

typedef struct {
    char *path;      /* the manifest as given */
    char *dir;       /* its folder: relative paths in it start there */
    char *state_dir; /* status records and locks: MANIFEST's name without extension + ".status" */
    catalog_entry_t *entries;
    size_t n;
} catalog_t;

/* Read the manifest @path (TSV or JSON Lines, docs/catalog.md). Entries with a problem are kept
 * (with ->problem set) so task numbers stay those of the file. Returns 0, or prints
 * "folio: error: PATH: ..." and returns CATALOG_EXIT_RETRY (cannot read it) or
 * CATALOG_EXIT_PERMANENT (not a manifest). */
int catalog_load(const char *path, catalog_t *c);
void catalog_free(catalog_t *c);

/* The status record of an entry: @c->state_dir/ID.json, and its lock: ID.lock. */
char *catalog_state_path(const catalog_t *c, const catalog_entry_t *e, const char *ext);

/* Read a status record (NULL when there is none or it cannot be parsed). */
json_t *catalog_read_status(const catalog_t *c, const catalog_entry_t *e);

/* Write a status record atomically (a temporary file renamed over it). Returns 0 or -1 (errno). */
int catalog_write_status(const catalog_t *c, const catalog_entry_t *e, json_t *record);

/* Whether another process holds the entry's lock (a task is working on it now). */
bool catalog_locked(const catalog_t *c, const catalog_entry_t *e);

/* The inputs of an entry as a JSON array of {path, size, mtime_ns}, the book first, then the audio
 * expanded (folders in natural order, playlists to their files), paths as seen from the
 * manifest's folder; or NULL with *why set (a missing input). Two runs over the same inputs give
 * equal arrays, from any working folder. @audio (may be NULL) receives the audio files' paths as
 * this process opens them. */
json_t *catalog_inputs(const catalog_t *c, const catalog_entry_t *e, cli_paths_t *audio,
                       char **why);

/* Whether @s is a valid id. */
bool catalog_valid_id(const char *s);

extern const cli_command_t cli_cmd_catalog, cli_cmd_catalog_scan, cli_cmd_catalog_run,
    cli_cmd_catalog_status, cli_cmd_catalog_tasks;

int catalog_scan(int argc, char **argv);
int catalog_run(int argc, char **argv);
int catalog_status(int argc, char **argv);

#endif
