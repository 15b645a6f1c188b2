/* folio transcribe BOOK AUDIO... [-o OUT.tsv]: what is said in the audio, and when, recognised
 * with the book's language model. TSV: word, file, file_time, end_time, global_time, confidence. */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The work file of a run without -o: in $TMPDIR (else /tmp), named by a hash of the user and the
 * absolute paths of the book and the audio, so the same command run again finds and resumes it.
 * (The work file's own fingerprint decides whether its contents still apply.) */
static void default_work_path(const cli_book_audio_t *a, char *out, size_t n)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    char line[64];
    snprintf(line, sizeof(line), "uid %ld\n", (long)getuid());
    for (const char *p = line; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211u;
    for (size_t i = 0; i <= a->audio.len; i++) {
        const char *path = i == 0 ? a->book : a->audio.items[i - 1];
        char *abs = realpath(path, NULL);
        for (const char *p = abs ? abs : path; *p; p++)
            h = (h ^ (unsigned char)*p) * 1099511628211u;
        h = (h ^ '\n') * 1099511628211u;
        free(abs);
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(out, n, "%s/folio-transcribe-%016llx.part", tmp && *tmp ? tmp : "/tmp",
             (unsigned long long)h);
}

static int write_tsv(const folio_transcript_t *t, FILE *f)
{
    for (size_t i = 0; i < folio_transcript_n_words(t); i++) {
        const folio_heard_t *w = folio_transcript_word(t, i);
        fprintf(f, "%s\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\n", w->word, w->file, w->file_time, w->file_end,
                w->time, w->confidence);
    }
    return ferror(f) ? -1 : 0;
}

static const cli_option_t options[] = {
    {"output", 'o', "FILE", 'o', "write the TSV to FILE (default: standard output)"},
    CLI_RECOGNITION_OPTIONS,
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_transcribe = {
    "transcribe",
    "[OPTIONS] BOOK AUDIO... [-o OUT.tsv]",
    "What is said in the audio and when, recognised with the book's language model. TSV, a\n"
    "line a word: word, file, file_time, end_time, global_time, confidence.",
    options,
    "A killed run resumes: its work is kept in OUT.tsv.part (without -o, in $TMPDIR or /tmp,\n"
    "in a file named by the book's and audio's paths) and removed on success.\n"
    "AUDIO is files in order, a folder (its audio files in natural order) or an M3U playlist.",
};

int cmd_transcribe(int argc, char **argv)
{
    folio_transcribe_options_t topts;
    folio_transcribe_options_init(&topts);
    cli_book_audio_t args;
    int r = cli_parse_book_audio(&cli_cmd_transcribe, argc, argv, false, &topts, NULL, &args);
    if (r >= 0) return r;
    const char *out = args.out;
    folio_t *ctx = cli_context(&args.log);
    int status = EXIT_FAIL, rc;
    folio_book_t *book = NULL;
    folio_transcript_t *t = NULL;
    char work[4200], tmp[4200];
    if (!ctx) goto done;
    book = folio_book_open(ctx, args.book, NULL, &rc);
    if (!book) {
        cli_error(ctx, rc);
        goto done;
    }
    /* The work file lives next to the output, so a killed run resumes; without -o, in $TMPDIR. */
    if (out)
        snprintf(work, sizeof(work), "%s.part", out);
    else
        default_work_path(&args, work, sizeof(work));
    cli_progress_t prog;
    cli_progress_start(&prog, ctx, &args.log);
    t = folio_transcribe(ctx, book, (const char *const *)args.audio.items, args.audio.len, work,
                         &topts, &rc);
    cli_progress_end(&prog);
    if (!t) {
        cli_error(ctx, rc);
        if (rc != FOLIO_EINVAL && access(work, F_OK) == 0)
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
        FILE *f = cli_output_open(out, tmp, sizeof(tmp));
        if (!f || cli_output_close(f, out, tmp, write_tsv(t, f) == 0) < 0) {
            fprintf(stderr, "folio: error: %s: %s\n", out, strerror(errno));
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
    cli_book_audio_free(&args);
    return status;
}
