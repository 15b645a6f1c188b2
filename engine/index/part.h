/* The work file's handle, private to engine/index: work.c makes it and keeps the run's work in
 * it; write.c writes the finished index through the same kind of handle. Only for engine/index
 * (it includes SQLite). */
#ifndef FOLIO_INDEX_PART_H
#define FOLIO_INDEX_PART_H

#include "index.h"

#include <sqlite3.h>

struct folio_part {
    folio_t *ctx;
    char *path;
    sqlite3 *db;
};

/* Record SQLite's last error on the context: "<path>: <what>: <SQLite's message>"; returns
 * FOLIO_EIO. */
int folio__part_sql_error(folio_part_t *p, const char *what);
/* Run @sql (several statements may follow each other); an error is recorded as above. */
int folio__part_exec(folio_part_t *p, const char *sql);

#endif
