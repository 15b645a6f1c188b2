/* Progress for long commands: a bar with an ETA on a terminal, a plain line every few percent
 * otherwise, nothing with --quiet. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void clock_text(double sec, char *out, size_t n)
{
    if (sec < 0) sec = 0;
    long s = (long)(sec + 0.5);
    if (s >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, n, "%ld:%02ld", s / 60, s % 60);
}

static int on_progress(void *ud, const folio_progress_t *p)
{
    cli_progress_t *c = ud;
    double frac = p->total > 0 ? p->done / p->total : 0;
    if (frac > 1) frac = 1;
    /* A new stage starts its own count. */
    if (strncmp(c->stage, p->stage, sizeof(c->stage) - 1) != 0) {
        if (c->tty && c->shown) fputc('\n', stderr);
        snprintf(c->stage, sizeof(c->stage), "%s", p->stage);
        c->last_step = -1;
        c->shown = false;
    }
    /* Recognition counts seconds of audio; the later stages count steps. */
    bool audio = strcmp(p->stage, "recognising") == 0;
    char done[32], total[32], eta[48] = "", what[160] = "";
    clock_text(p->done, done, sizeof(done));
    clock_text(p->total, total, sizeof(total));
    if (audio && frac > 0.01 && p->elapsed_sec > 2) {
        char t[32];
        clock_text(p->elapsed_sec * (1 - frac) / frac, t, sizeof(t));
        snprintf(eta, sizeof(eta), ", ETA %s", t);
    }
    double speed = p->elapsed_sec > 0 ? p->done / p->elapsed_sec : 0;
    if (audio)
        snprintf(what, sizeof(what), "%s of %s audio, %.0fx real time%s", done, total, speed, eta);
    if (c->tty) {
        /* Redraw at most ten times a second. */
        if (p->elapsed_sec - c->last < 0.1 && frac < 1) return 0;
        c->last = p->elapsed_sec;
        int width = 30, fill = (int)(frac * width);
        fprintf(stderr, "\r%-12s [%.*s%*s] %3.0f%%  %s   ", p->stage, fill,
                "##############################", width - fill, "", frac * 100, what);
        c->shown = true;
    } else {
        int step = (int)(frac * 20); /* every 5 % */
        if (step <= c->last_step && !(frac >= 1 && c->last_step < 20)) return 0;
        c->last_step = step;
        fprintf(stderr, "folio: %s %3.0f%%%s%s%s\n", p->stage, frac * 100, *what ? " (" : "", what,
                *what ? ")" : "");
    }
    return 0;
}

void cli_progress_start(cli_progress_t *c, folio_t *ctx, const cli_log_t *log)
{
    memset(c, 0, sizeof(*c));
    if (log->verbosity < 0) return;
    c->tty = isatty(STDERR_FILENO);
    c->last_step = -1;
    folio_set_progress(ctx, on_progress, c);
}

void cli_progress_end(cli_progress_t *c)
{
    if (c->tty && c->shown) fputc('\n', stderr);
    c->shown = false;
}
