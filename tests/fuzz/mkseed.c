/* Writes the index target's seed: an index of the demo book's first words (argv[2], default 120)
 * with made-up times, to argv[1]. Run `sqlite3 FILE 'PRAGMA page_size=512; VACUUM'` on it to keep
 * the committed seed small. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_mkseed OUT.folio [WORDS]\n");
        return 2;
    }
    long words = argc > 2 ? strtol(argv[2], NULL, 10) : 120;
    int err = fz_demo_index(argv[1], words > 0 ? (size_t)words : 120);
    if (err != FOLIO_OK) fprintf(stderr, "fuzz_mkseed: %s\n", folio_strerror(err));
    return err == FOLIO_OK ? 0 : 1;
}
