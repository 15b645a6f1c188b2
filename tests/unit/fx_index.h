/* Test fixture: a small finished index, written by the index module without audio. */
#ifndef FOLIO_TEST_FX_INDEX_H
#define FOLIO_TEST_FX_INDEX_H

#include <folio.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Write the index @name in the test folder, as folio_index_build() writes one but without audio,
 * and return its path (a static buffer per call, or NULL if it could not be written). The text is
 * "One two three four five six seven eight." and the audio one 10-second file, "small.wav".
 * When @read, word i (0-based) is read from i s to i + 0.8 s, page "1" starts at "One" (0 s) and
 * page "2" at "five" (code point 19, 4 s); otherwise nothing is read. One chapter, "Chapter", and
 * one sentence cover the text. Its title is "Small".
 */
const char *fx_small_index(const char *name, bool read);

/* The same index, read, but for words @skip_from to @skip_to - 1 (0-based), which the narrator
 * skipped: the others keep their times (word i at i s). */
const char *fx_small_index_skipping(const char *name, size_t skip_from, size_t skip_to);

#endif
