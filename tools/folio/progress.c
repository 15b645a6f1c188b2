/* Progress for long commands: on a terminal a bar saying which stage runs and what it is doing,
 * with an ETA once the pace is known; otherwise a plain line every few percent or step; nothing
 * with --quiet. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The ETA waits for this much of the stage's work, and this many seconds, after the first
 * report: the start (loading models, the first chunks in flight) is slower than the rest. */
#define ETA_MIN_SHARE 0.05
#define ETA_MIN_SEC 5.0

static void clock_text(double sec, char *out, size_t n)
{
    if (sec < 0) sec = 0;
    long s = (long)(sec + 0.5);
    if (s >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, n, "%ld:%02ld", s / 60, s % 60);
}

/* What the aligner does after step @done of its three (align.c reports each as it ends). */
static const char *align_step(double done)
{
    if (done < 1) return "step 1 of 3: anchors from the recognised words";
    if (done < 2) return "step 2 of 3: forced alignment of the gaps";
    if (done < 3) return "step 3 of 3: order, interpolation, the report";
    return "aligned";
}

/* The ETA of the stage at report @p, or -1 while the pace is not known well enough. The pace is
 * the work done since the stage's first report over the time since: the start (loading models,
 * the first chunks in flight) does not count, and one slow or fast chunk moves it little. */
static double eta(cli_progress_t *c, const folio_progress_t *p)
{
    if (c->t0 < 0) {
        c->t0 = p->elapsed_sec;
        c->done0 = p->done;
        return -1;
    }
    double dt = p->elapsed_sec - c->t0, dd = p->done - c->done0;
    if (p->total <= 0 || dd < ETA_MIN_SHARE * p->total || dt < ETA_MIN_SEC) return -1;
    return (p->total - p->done) * dt / dd;
}

static int on_progress(void *ud, const folio_progress_t *p)
{
    cli_progress_t *c = ud;
    double frac = p->total > 0 ? p->done / p->total : 0;
    if (frac > 1) frac = 1;
    bool audio = strcmp(p->stage, "recognising") == 0;
    bool align = strcmp(p->stage, "aligning") == 0;
    /* A new stage starts its own count. */
    if (strncmp(c->stage, p->stage, sizeof(c->stage) - 1) != 0) {
        if (c->tty && c->shown) fputc('\n', stderr);
        snprintf(c->stage, sizeof(c->stage), "%s", p->stage);
        c->last_step = -1;
        c->shown = false;
        c->t0 = -1;
    }
    char what[160] = "";
    if (audio) {
        double left_sec = eta(c, p);
        char done[32], total[32], left[48] = "";
        clock_text(p->done, done, sizeof(done));
        clock_text(p->total, total, sizeof(total));
        if (left_sec >= 0) {
            char t[32];
            clock_text(left_sec, t, sizeof(t));
            snprintf(left, sizeof(left), ", ETA %s", t);
        }
        double speed = p->elapsed_sec > 0 ? p->done / p->elapsed_sec : 0;
        snprintf(what, sizeof(what), "%s of %s audio, %.0fx real time%s", done, total, speed, left);
    } else if (align) {
        snprintf(what, sizeof(what), "%s", align_step(p->done));
    } else if (strcmp(p->stage, "writing") == 0) {
        snprintf(what, sizeof(what), "%s", frac >= 1 ? "written" : "the output file");
    }
    if (c->tty) {
        /* Redraw at most ten times a second. */
        if (p->elapsed_sec - c->last < 0.1 && frac < 1 && c->shown) return 0;
        c->last = p->elapsed_sec;
        int width = 24, fill = (int)(frac * width);
        fprintf(stderr, "\r%-11s [%.*s%*s] %3.0f%%  %-58.58s", p->stage, fill,
                "########################", width - fill, "", frac * 100, what);
        c->shown = true;
    } else {
        /* Every 5 %; every step of the aligner. */
        int step = align ? (int)p->done : (int)(frac * 20);
        if (step <= c->last_step && !(frac >= 1 && c->last_step < step)) return 0;
        c->last_step = step;
        fprintf(stderr, "folio: %s %3.0f%%%s%s%s\n", p->stage, frac * 100, *what ? " (" : "", what,
                *what ? ")" : "");
    }
    /* Recognition done: say what comes next while the aligner works without reporting. */
    if (audio && frac >= 1 && c->then_align && !c->announced) {
        c->announced = true;
        folio_progress_t next = {
            .stage = "aligning", .done = 0, .total = 3, .elapsed_sec = p->elapsed_sec};
        on_progress(c, &next);
    }
    return 0;
}

void cli_progress_start(cli_progress_t *c, folio_t *ctx, const cli_log_t *log)
{
    memset(c, 0, sizeof(*c));
    if (log->verbosity < 0) return;
    c->tty = isatty(STDERR_FILENO);
    c->last_step = -1;
    c->t0 = -1;
    folio_set_progress(ctx, on_progress, c);
}

void cli_progress_end(cli_progress_t *c)
{
    if (c->tty && c->shown) fputc('\n', stderr);
    c->shown = false;
}
