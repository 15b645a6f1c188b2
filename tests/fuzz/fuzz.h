/* What the fuzz targets share: libFuzzer's entry point, one temporary file per process that holds
 * the bytes of the input being run, and an index of the demo book for the targets that need one. */
#ifndef FOLIO_FUZZ_H
#define FOLIO_FUZZ_H

#include <folio.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional: set-up before the first input (libFuzzer calls it when a target defines it). */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Write @size bytes to this process's scratch file, named with @suffix (".epub", ".folio", ...),
 * and return its path (valid until the next call); NULL when it cannot be written. */
const char *fz_scratch(const uint8_t *data, size_t size, const char *suffix);

/* A folder of its own for this process (removed at exit). */
const char *fz_dir(void);

/* Write an index of the demo book (FZ_DEMO_EPUB, zipped at build time), or of its first
 * @max_words words, with made-up times (word i read from 0.3 i s), through the index module's
 * writer, to @path. Returns FOLIO_OK or an error. */
int fz_demo_index(const char *path, size_t max_words);

/* Abort (a finding) with @what when @cond is false: a broken promise of the API. */
#define FZ_CHECK(cond, what)                                                                       \
    do {                                                                                           \
        if (!(cond)) fz_fail(__FILE__, __LINE__, what);                                            \
    } while (0)
_Noreturn void fz_fail(const char *file, int line, const char *what);

#endif
