/* folio transcribe BOOK AUDIO... [-o OUT.tsv]: what is said in the audio, and when, recognised
 * with the book's language model. TSV: word, file, file_time, end_time, global_time, confidence. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_tsv(const folio_transcript_t *t, FILE *f)
{
    for (size_t i = 0; i < folio_transcript_n_words(t); i++) {
        const folio_heard_t *w = folio_transcript_word(t, i);
        fprintf(f, "%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\n", w->word, w->file, w->file_time, w->file_end,
                w->time, w->confidence);
    }
    return ferror(f) ? -1 : 0;
}

/* A usage error: free what the parser holds and return from cmd_transcribe. */
#define USAGE(...)                                                                                 \
    do {                                                                                           \
        free(pos);                                                                                 \
        return cli_usage_error(__VA_ARGS__);                                                       \
    } while (0)

int cmd_transcribe(int argc, char **argv)
{
    cli_log_t log = {0};
    const char *out = NULL;
    folio_transcribe_options_t topts;
    folio_transcribe_options_init(&topts);
    char **pos = calloc((size_t)argc, sizeof(char *));
    int npos = 0, r;
    if (!pos) return EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
            if (i + 1 >= argc) USAGE("transcribe", "-o takes a file name");
            out = argv[++i];
        } else if ((r = cli_recognition_option("transcribe", argc, argv, &i, &topts))) {
            if (r != 1) {
                free(pos);
                return r;
            }
        } else if (cli_log_option(a, &log)) {
        } else if (a[0] == '-' && a[1]) {
            USAGE("transcribe", "unknown option '%s'", a);
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos < 2) USAGE("transcribe", "usage: folio transcribe BOOK AUDIO... [-o OUT.tsv]");
    cli_paths_t audio = {0};
    if (cli_expand_audio(pos + 1, npos - 1, &audio) < 0) {
        free(pos);
        return EXIT_FAIL;
    }
    folio_t *ctx = cli_context(&log);
    int status = EXIT_FAIL, rc;
    folio_book_t *book = NULL;
    folio_transcript_t *t = NULL;
    char work[4200], tmp[4200];
    if (!ctx) goto done;
    book = folio_book_open(ctx, pos[0], NULL, &rc);
    if (!book) {
        cli_error(ctx, rc);
        goto done;
    }
    /* The work file lives next to the output, so a killed run resumes; without -o, in /tmp. */
    if (out)
        snprintf(work, sizeof(work), "%s.part", out);
    else
        snprintf(work, sizeof(work), "%s/folio-transcribe-%ld.part",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    cli_progress_t prog;
    cli_progress_start(&prog, ctx, &log);
    t = folio_transcribe(ctx, book, (const char *const *)audio.items, audio.len, work, &topts, &rc);
    cli_progress_end(&prog);
    if (!t) {
        cli_error(ctx, rc);
        if (out && rc != FOLIO_EINVAL)
            fprintf(stderr,
                    "folio: the finished work is kept in %s: run the same command again "
                    "to resume\n",
                    work);
        else
            folio_work_remove(work);
        goto done;
    }
    if (out) {
        /* Never a half-written file under the final name. */
        snprintf(tmp, sizeof(tmp), "%s.tmp", out);
        FILE *f = fopen(tmp, "w");
        if (!f || write_tsv(t, f) < 0 || fclose(f) != 0 || rename(tmp, out) != 0) {
            fprintf(stderr, "folio: error: %s: %s\n", out, strerror(errno));
            unlink(tmp);
            goto done;
        }
    } else if (write_tsv(t, stdout) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "folio: error: writing to standard output failed\n");
        goto done;
    }
    folio_work_remove(work);
    status = EXIT_OK;
done:
    folio_transcript_free(t);
    folio_book_free(book);
    folio_free(ctx);
    cli_paths_free(&audio);
    free(pos);
    return status;
}
