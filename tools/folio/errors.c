/* What a library result means to the folio tool's users, in one table: for each FOLIO_* code,
 * the JSON error code `folio lookup` prints and `folio serve` answers with, serve's HTTP status
 * and lookup's exit status; and the one report of a failed write to standard output. */
#include "cli.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const cli_result_t results[] = {
    {FOLIO_OK, NULL, 200, EXIT_OK},
    /* The caller's mistake: a time past the audio's end, no such audio file, an empty query. */
    {FOLIO_EINVAL, "bad_parameter", 400, EXIT_USAGE},
    {FOLIO_ENOTFOUND, "not_found", 404, EXIT_NOTFOUND},
    /* Lookups answer "match": null instead (and so for a time lookup's FOLIO_ENOTFOUND: nothing
     * read); the row keeps the table whole. */
    {FOLIO_ENOMATCH, "no_match", 404, EXIT_NOTFOUND},
    {FOLIO_ELIMIT, "too_large", 413, EXIT_FAIL},
    {FOLIO_EENCODING, "invalid_utf8", 422, EXIT_FAIL},
    /* The server's side: its index, its memory. */
    {FOLIO_ENOMEM, "failed", 500, EXIT_FAIL},
    {FOLIO_EIO, "failed", 500, EXIT_FAIL},
    {FOLIO_EFORMAT, "failed", 500, EXIT_FAIL},
    {FOLIO_EDRM, "failed", 500, EXIT_FAIL},
    {FOLIO_EEMPTY, "failed", 500, EXIT_FAIL},
    {FOLIO_ECANCELLED, "failed", 500, EXIT_FAIL},
    {FOLIO_EAUDIO, "failed", 500, EXIT_FAIL},
};

const cli_result_t *cli_result(int rc)
{
    for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++)
        if (results[i].rc == rc) return &results[i];
    static const cli_result_t unknown = {0, "failed", 500, EXIT_FAIL};
    return &unknown;
}

int cli_stdout_finish(int write_errno)
{
    /* A write that failed earlier (a full disk, a closed pipe) left the error flag set, whether
     * it failed then or fails at this flush. */
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout) && !write_errno) return 0;
    if (errno) write_errno = errno;
    fprintf(stderr, "folio: error: writing to standard output failed: %s\n",
            strerror(write_errno ? write_errno : EIO));
    return -1;
}
