/* folio index BOOK AUDIO... -o BOOK.folio: recognise, align and write the page index, then print
 * a summary of what was read. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void summary(const char *path, double seconds)
{
    int rc;
    folio_index_t *ix = folio_index_open(NULL, path, &rc);
    if (!ix) return;
    size_t np = folio_index_n_pages(ix), read = 0, low = 0;
    for (size_t i = 0; i < np; i++) {
        const folio_index_page_t *p = folio_index_page(ix, i);
        if (p->file < 0) continue;
        read++;
        low += p->confidence < 0.5f;
    }
    size_t nw = folio_index_n_words(ix), wread = 0;
    for (size_t i = 0; i < nw; i++) wread += folio_index_word(ix, i)->file >= 0;
    double audio = 0;
    for (size_t i = 0; i < folio_index_n_files(ix); i++) audio += folio_index_file(ix, i)->duration;
    const char *title = folio_index_meta(ix, "title");
    fprintf(stderr,
            "folio: %s%s%s: %zu of %zu pages read (%zu with low confidence), %zu of %zu words; "
            "%.1f h of audio in %.0f s (%.0fx real time)\n",
            path, *title ? " - " : "", title, read, np, low, wread, nw, audio / 3600, seconds,
            seconds > 0 ? audio / seconds : 0);
    folio_index_free(ix);
}

static const cli_option_t options[] = {
    {"output", 'o', "FILE", 'o',
     "the index to write (required; its work is kept in FILE.part\n"
     "while it runs, so a killed run resumes)"},
    {"force", 0, NULL, 'f', "index even audio that is plainly not this book"},
    CLI_RECOGNITION_OPTIONS,
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_index = {
    "index",
    "[OPTIONS] BOOK AUDIO... -o BOOK.folio",
    "Recognise the audio, align it with the book and write the page index (SQLite;\n"
    "docs/index.md), then print what was read. A killed run resumes from BOOK.folio.part.",
    options,
    "AUDIO is files in order, a folder (its audio files in natural order) or an M3U playlist.",
};

int cmd_index(int argc, char **argv)
{
    folio_index_options_t opts;
    folio_index_options_init(&opts);
    cli_book_audio_t args;
    int r = cli_parse_book_audio(&cli_cmd_index, argc, argv, true, &opts.transcribe, &opts.force,
                                 &args);
    if (r >= 0) return r;
    const char *out = args.out;
    folio_t *ctx = cli_context(&args.log);
    int status = EXIT_FAIL, rc;
    folio_book_t *book = NULL;
    if (!ctx) goto done;
    double t0 = now();
    book = folio_book_open(ctx, args.book, NULL, &rc);
    if (!book) {
        cli_error(ctx, rc);
        goto done;
    }
    cli_progress_t prog;
    cli_progress_start(&prog, ctx, &args.log);
    prog.then_align = true;
    rc = folio_index_build(ctx, book, (const char *const *)args.audio.items, args.audio.len, out,
                           &opts);
    cli_progress_end(&prog);
    if (rc < 0) {
        cli_error(ctx, rc);
        if (rc == FOLIO_ENOMATCH) fprintf(stderr, "folio: give --force to index it anyway\n");
        char part[4200];
        snprintf(part, sizeof(part), "%s.part", out);
        if (rc != FOLIO_EINVAL && access(part, F_OK) == 0)
            fprintf(stderr,
                    "folio: the finished work is kept in %s.part: run the same command again "
                    "to resume\n",
                    out);
        goto done;
    }
    if (args.log.verbosity >= 0) summary(out, now() - t0);
    status = EXIT_OK;
done:
    folio_book_free(book);
    folio_free(ctx);
    cli_book_audio_free(&args);
    return status;
}
