/* Forced alignment of windows: the gaps left between timed words, the ends of each file's stretch
 * of the book, and page and chapter starts are decoded with a grammar of just their words, in
 * parallel, and the words found take their times. */
#include "align_int.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A window forces tokens [a, b] (inclusive) in file @file between global times @t0 and @t1, and
 * gives the found times to tokens that have none (or, with @replace, that have only forced or
 * interpolated ones). @open says which end of the window no timed word holds (OPEN_LEFT,
 * OPEN_RIGHT, or 0): there, found words cut off from the rest by a long pause are not trusted
 * (the grammar may have put them on speech that is not the book's). */
#define OPEN_LEFT 1
#define OPEN_RIGHT 2
#define OPEN_SLOTS 8 /* slots an open end may leave unsaid */

void folio__align_wgram_free(wgram_t *g)
{
    VEC_FREE(g->words);
    VEC_FREE(g->slot);
    VEC_FREE(g->reading);
    VEC_FREE(g->tok);
    VEC_FREE(g->alt);
    for (size_t i = 0; i < g->owned.len; i++) free(g->owned.items[i]);
    VEC_FREE(g->owned);
}

static int wgram_push(wgram_t *g, const char *w, size_t reading, size_t tok, bool alt)
{
    if (VEC_PUSH(g->words, w) < 0 || VEC_PUSH(g->slot, g->n_slots) < 0 ||
        VEC_PUSH(g->reading, reading) < 0 || VEC_PUSH(g->tok, tok) < 0 || VEC_PUSH(g->alt, alt) < 0)
        return FOLIO_ENOMEM;
    return FOLIO_OK;
}

static bool pronounceable(const folio_lexicon_t *lex, const char *w)
{
    long li = folio_lexicon_find(lex, w);
    /* The decoder reports words of at most 63 bytes. */
    return li >= 0 && folio_lexicon_n_prons(lex, (size_t)li) && strlen(w) < 64;
}

/* The grammar of tokens [a, b]: the read tokens that have a pronunciation (text nobody reads
 * aloud, a table of contents say, must not take the time of the words it repeats), with the
 * alternative readings of whole words. */
int folio__align_window_grammar(aligner_t *A, size_t a, size_t b, wgram_t *g)
{
    const folio_lexicon_t *lex = A->in->lex;
    int rc = FOLIO_OK;
    for (size_t t = a; t <= b;) {
        const folio_token_t *tok = folio_book_token(A->book, t);
        const folio_word_t *w = folio_book_word(A->book, tok->word);
        size_t end = w->first_token + w->n_tokens;
        bool read = folio__align_read(A, t);
        if (!read || !w->n_alternatives || w->first_token != t || end - 1 > b) {
            if (read && pronounceable(lex, tok->text)) {
                TRY(wgram_push(g, tok->text, 0, t, false));
                g->n_slots++;
            }
            t++;
            continue;
        }
        size_t reading = 0;
        for (size_t q = t; q < end; q++)
            if (pronounceable(lex, folio_book_token(A->book, q)->text)) {
                TRY(wgram_push(g, folio_book_token(A->book, q)->text, 0, q, false));
                reading = 1;
            }
        for (size_t k = 0; k < w->n_alternatives; k++) {
            char buf[512];
            snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(A->book, tok->word, k));
            bool ok = *buf != '\0';
            char *save = NULL;
            for (char *x = strtok_r(buf, " ", &save); x && ok; x = strtok_r(NULL, " ", &save))
                ok = pronounceable(lex, x);
            if (!ok) continue;
            snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(A->book, tok->word, k));
            for (char *x = strtok_r(buf, " ", &save); x; x = strtok_r(NULL, " ", &save)) {
                char *copy = folio__strdup(x);
                if (!copy || VEC_PUSH(g->owned, copy) < 0) {
                    free(copy);
                    FAIL(NULL, FOLIO_ENOMEM, "oom");
                }
                TRY(wgram_push(g, copy, reading, t, true));
            }
            reading++;
        }
        if (reading) g->n_slots++;
        t = end;
    }
fail:
    return rc;
}

/* Whether token @t may take a forced time: it has none, or (with @replace) only a weaker one. */
static bool may_time(aligner_t *A, size_t t, bool replace)
{
    return A->t_start[t] < 0 || (replace && A->t_how[t] != FOLIO_HOW_MATCH);
}

static void force_time(aligner_t *A, size_t t, size_t file, double ws, double we, float conf)
{
    A->t_start[t] = ws;
    A->t_end[t] = we;
    A->t_file[t] = file;
    A->t_conf[t] = conf;
    A->t_how[t] = FOLIO_HOW_FORCED;
}

/* ---- forced windows, decoded in parallel ---- */

/* A window to force: tokens [a, b] of @file between global times t0 and t1, planned on the main
 * thread (its grammar and its bounds in the file), decoded by any alignment decoder, then
 * applied on the main thread in the order planned, as if one after the other. */
typedef struct {
    size_t a, b, file;
    bool replace;
    int open;
    size_t boundary; /* a boundary window: the token trusted less if the window confirms nothing;
                        else SIZE_MAX */
    bool skip;       /* nothing to decode (no audio, or too little or too much of it) */
    double s, e;     /* seconds in the file */
    wgram_t g;
    folio_rec_words_t got;
    int rc;
    char err[256]; /* the decoder's message when rc is an error */
} force_job_t;

typedef VEC(force_job_t) force_jobs_t;

static void force_jobs_free(force_jobs_t *jobs)
{
    for (size_t i = 0; i < jobs->len; i++) {
        folio__align_wgram_free(&jobs->items[i].g);
        VEC_FREE(jobs->items[i].got);
    }
    VEC_FREE(*jobs);
}

/* Plan a window (see force_job_t). Returns FOLIO_OK, 1 when the same gap window was decoded
 * before (nothing planned), or an error. */
static int force_plan(aligner_t *A, force_jobs_t *jobs, size_t a, size_t b, size_t file, double t0,
                      double t1, bool replace, int open, size_t boundary)
{
    const folio_align_input_t *in = A->in;
    force_job_t j = {.a = a,
                     .b = b,
                     .file = file,
                     .replace = replace,
                     .open = open,
                     .boundary = boundary,
                     .skip = !in->n_aligners || !in->read_pcm || b < a};
    if (boundary == SIZE_MAX) { /* a gap's window that did not fit once will not fit again */
        int seen = folio__align_tried_before(
            A, ((uint64_t)a * 0x9E3779B97F4A7C15u) ^ ((uint64_t)b << 20) ^ file ^
                   ((uint64_t)llround(t0 * 100) << 40) ^ (uint64_t)llround(t1 * 100));
        if (seen) return seen;
    }
    double off = in->offset[file];
    j.s = t0 - off;
    j.e = t1 - off;
    if (j.s < 0) j.s = 0;
    if (j.e > in->duration[file]) j.e = in->duration[file];
    if (j.e - j.s < 0.3 || j.e - j.s > 120) j.skip = true;
    int rc = j.skip ? FOLIO_OK : folio__align_window_grammar(A, a, b, &j.g);
    if (rc < 0 || VEC_PUSH(*jobs, j) < 0) {
        folio__align_wgram_free(&j.g);
        return rc < 0 ? rc : FOLIO_ENOMEM;
    }
    return FOLIO_OK;
}

typedef struct {
    const folio_align_input_t *in;
    force_jobs_t *jobs;
    size_t next; /* the next job to take (under lock) */
    pthread_mutex_t lock;
} force_run_t;

static void force_decode(const folio_align_input_t *in, folio_decoder_t *d, force_job_t *j)
{
    uint64_t first = (uint64_t)(j->s * FOLIO_SPEECH_RATE);
    size_t n = (size_t)((j->e - j->s) * FOLIO_SPEECH_RATE);
    int16_t *pcm = malloc(n * sizeof(int16_t));
    if (!pcm)
        j->rc = FOLIO_ENOMEM;
    else if ((j->rc = in->read_pcm(in->pcm_ud, j->file, first, n, pcm)) < 0)
        snprintf(j->err, sizeof(j->err), "cannot read the audio of file %zu at %.2f s", j->file,
                 j->s);
    else {
        /* At an open end the window's audio may not hold the first (or last) slots' words. */
        size_t open = j->g.n_slots / 3 < OPEN_SLOTS ? j->g.n_slots / 3 : OPEN_SLOTS;
        folio_grammar_t grammar = {j->g.words.items,
                                   j->g.slot.items,
                                   j->g.reading.items,
                                   j->g.words.len,
                                   j->open & OPEN_LEFT ? open : 0,
                                   j->open & OPEN_RIGHT ? open : 0};
        j->rc = folio__decoder_align(d, pcm, n, &grammar, &j->got);
        if (j->rc < 0 && j->rc != FOLIO_ENOMATCH)
            snprintf(j->err, sizeof(j->err), "%s", folio_errmsg(folio__decoder_context(d)));
    }
    free(pcm);
}

typedef struct {
    force_run_t *run;
    folio_decoder_t *d;
} force_worker_t;

static void *force_worker(void *arg)
{
    force_worker_t *w = arg;
    force_run_t *r = w->run;
    for (;;) {
        pthread_mutex_lock(&r->lock);
        size_t i = r->next++;
        pthread_mutex_unlock(&r->lock);
        if (i >= r->jobs->len) break;
        if (!r->jobs->items[i].skip) force_decode(r->in, w->d, &r->jobs->items[i]);
    }
    return NULL;
}

/* Decode every planned window, with as many threads as there are alignment decoders. */
static void force_decode_all(aligner_t *A, force_jobs_t *jobs)
{
    const folio_align_input_t *in = A->in;
    force_run_t r = {.in = in, .jobs = jobs};
    size_t todo = 0;
    for (size_t i = 0; i < jobs->len; i++) todo += !jobs->items[i].skip;
    size_t n = in->n_aligners < todo ? in->n_aligners : todo;
    pthread_t threads[FOLIO_ALIGN_MAX_THREADS];
    force_worker_t workers[FOLIO_ALIGN_MAX_THREADS];
    if (n > FOLIO_ALIGN_MAX_THREADS) n = FOLIO_ALIGN_MAX_THREADS;
    pthread_mutex_init(&r.lock, NULL);
    size_t started = 0;
    for (size_t k = 1; k < n; k++) { /* the calling thread is the first worker */
        workers[k] = (force_worker_t){&r, in->aligners[k]};
        if (pthread_create(&threads[k], NULL, force_worker, &workers[k]) != 0) break;
        started = k;
    }
    if (n) {
        workers[0] = (force_worker_t){&r, in->aligners[0]};
        force_worker(&workers[0]);
    }
    for (size_t k = 1; k <= started; k++) pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&r.lock);
}

/* Use a decoded window: returns 1 when the grammar fitted and its times were used, 0 when not,
 * or an error. */
static int force_apply(aligner_t *A, force_job_t *j)
{
    if (j->skip) return 0;
    const folio_align_input_t *in = A->in;
    double off = in->offset[j->file], s = j->s, e = j->e;
    size_t file = j->file;
    wgram_t *g = &j->g;
    folio_rec_words_t *got = &j->got;
    folio__log(A->ctx, FOLIO_LOG_DEBUG,
               "forced alignment of %zu words in %zu slots (\"%s\"...) in file %zu at %.2f-%.2f "
               "s: %s, %zu found",
               g->words.len, g->n_slots, g->words.len ? g->words.items[0] : "", file, s, e,
               j->rc == FOLIO_ENOMATCH ? "no match" : "ok", got->len);
    if (j->rc == FOLIO_ENOMATCH) return 0; /* the grammar did not fit: keep the first pass */
    if (j->rc < 0)
        return folio__error(A->ctx, j->rc, "%s", j->err[0] ? j->err : folio_strerror(j->rc));
    if (folio__logs(A->ctx, FOLIO_LOG_DEBUG)) {
        folio_str_t l = {0};
        for (size_t k = 0; k < got->len; k++)
            folio__str_printf(&l, " %s@%.2f-%.2f", got->items[k].word,
                              off + s + got->items[k].start_frame * 0.01,
                              off + s + (got->items[k].end_frame + 1) * 0.01);
        folio__log(A->ctx, FOLIO_LOG_DEBUG, "  found:%s", l.data ? l.data : "");
        folio__str_free(&l);
    }
    /* A grammar forced onto audio that does not hold its words stretches some words over seconds
     * and squeezes others into a frame or two: when many are like that, keep the first pass. */
    size_t odd = 0;
    for (size_t k = 0; k < got->len; k++) {
        double dur = (got->items[k].end_frame + 1 - got->items[k].start_frame) * 0.01;
        if (dur < 0.04 || dur > 2 * (0.6 + 0.12 * (double)strlen(got->items[k].word))) odd++;
    }
    if (got->len >= 3 && odd * 4 > got->len) {
        folio__log(A->ctx, FOLIO_LOG_DEBUG,
                   "forced alignment in file %zu at %.2f-%.2f s: %zu of %zu words implausible; "
                   "kept the first pass",
                   file, s, e, odd, got->len);
        return 0;
    }
    size_t lo = 0, hi = got->len;
    for (size_t k = got->len; (j->open & OPEN_LEFT) && k > 1; k--)
        if ((got->items[k - 1].start_frame - got->items[k - 2].end_frame) * 0.01 > 1.5) {
            lo = k - 1;
            break;
        }
    for (size_t k = lo + 1; (j->open & OPEN_RIGHT) && k < hi; k++)
        if ((got->items[k].start_frame - got->items[k - 1].end_frame) * 0.01 > 1.5) {
            hi = k;
            break;
        }
    /* Each found word is the grammar word the decoder says; the words of an alternative reading
     * together time their source word, spread evenly over its tokens. */
    for (size_t k = lo; k < hi; k++) {
        long gi = got->items[k].gram;
        if (gi < 0) continue;
        size_t k2 = k;
        if (g->alt.items[gi])
            while (k2 + 1 < hi && got->items[k2 + 1].gram >= 0 &&
                   g->slot.items[got->items[k2 + 1].gram] == g->slot.items[gi] &&
                   g->reading.items[got->items[k2 + 1].gram] == g->reading.items[gi])
                k2++;
        double ws = off + s + got->items[k].start_frame * 0.01;
        double we = off + s + (got->items[k2].end_frame + 1) * 0.01;
        float conf = 0;
        for (size_t q = k; q <= k2; q++) conf += got->items[q].confidence;
        conf = 0.55f + 0.4f * conf / (float)(k2 - k + 1);
        /* A word far longer than it could be said swallowed speech or silence before it
         * (grammars do that with what they cannot explain): it starts at most that long before
         * its end. */
        double first_end = off + s + (got->items[k].end_frame + 1) * 0.01;
        double longest = 0.6 + 0.12 * (double)strlen(got->items[k].word);
        if (first_end - ws > 2 * longest) {
            ws = first_end - longest;
            conf = 0.35f;
        }
        size_t t = g->tok.items[gi];
        if (!g->alt.items[gi]) {
            if (may_time(A, t, j->replace)) force_time(A, t, file, ws, we, conf);
        } else {
            const folio_word_t *w = folio_book_word(A->book, folio_book_token(A->book, t)->word);
            bool all = true;
            for (size_t q = 0; q < w->n_tokens && all; q++)
                all = may_time(A, w->first_token + q, j->replace);
            double piece = (we - ws) / (double)w->n_tokens;
            for (size_t q = 0; q < w->n_tokens && all; q++)
                force_time(A, w->first_token + q, file, ws + piece * (double)q,
                           ws + piece * (double)(q + 1), conf);
        }
        k = k2;
    }
    return 1;
}

/* Decode the planned windows and apply them in order; a boundary window that confirms nothing
 * leaves the first pass's time standing, trusted less. */
static int force_run(aligner_t *A, force_jobs_t *jobs)
{
    force_decode_all(A, jobs);
    int rc = FOLIO_OK;
    for (size_t i = 0; i < jobs->len && rc >= 0; i++) {
        force_job_t *j = &jobs->items[i];
        rc = force_apply(A, j);
        if (rc == 0 && j->boundary != SIZE_MAX) A->t_conf[j->boundary] *= 0.7f;
    }
    force_jobs_free(jobs);
    return rc < 0 ? rc : FOLIO_OK;
}

#define EDGE_MAX 30     /* tokens forced at a file's start or end */
#define OPEN_MARGIN 1.5 /* seconds an open window reaches past the heard words */

#define SEC_PER_TOKEN 0.4 /* audio allowed per token when only one end is known */

/* Whether tokens @a and @b lie in one sentence of the book. */
static bool same_sentence(aligner_t *A, size_t a, size_t b)
{
    size_t ca = folio_book_token(A->book, a)->start_char,
           cb = folio_book_token(A->book, b)->start_char;
    size_t lo = 0, hi = folio_book_n_sentences(A->book);
    while (lo < hi) { /* the last sentence starting at or before ca */
        size_t mid = (lo + hi) / 2;
        if (folio_book_sentence(A->book, mid)->start_char <= ca)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo) return false;
    const folio_sentence_t *s = folio_book_sentence(A->book, lo - 1);
    return ca >= s->start_char && cb < s->end_char;
}

/* The first heard word that starts at or after global time @time. */
static size_t heard_at(aligner_t *A, double time)
{
    size_t lo = 0, hi = A->n_rec;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (A->in->heard[mid].time < time - 0.005)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where a window should open for @n untimed tokens said just before timed token @t: back across
 * the heard words nothing explains yet, as long as speech goes on (no pause over 1.2 s) and
 * within what @n tokens could take, and OPEN_MARGIN more (a heading before a pause must not be
 * squeezed onto the sentence after it: the grammar's fillers take what is not its words); with
 * none, a guess from the speaking rate. */
static double open_start(aligner_t *A, size_t t, size_t n)
{
    double budget = 0.6 * (double)n + 1.0, guess = A->t_start[t] - SEC_PER_TOKEN * (double)n - 0.5;
    size_t j = heard_at(A, A->t_start[t]), first = SIZE_MAX;
    const folio_heard_t *h = A->in->heard;
    while (j > 0 && !A->rec_used[j - 1] && h[j - 1].file == A->t_file[t] &&
           A->t_start[t] - h[j - 1].time <= budget &&
           (first == SIZE_MAX ? A->t_start[t] : h[first].time) -
                   (h[j - 1].time + h[j - 1].file_end - h[j - 1].file_time) <
               1.2) {
        first = j - 1;
        j--;
    }
    return first == SIZE_MAX ? guess : h[first].time - 0.3 - OPEN_MARGIN;
}

/* The same after timed token @prev, for @n untimed tokens said after it. */
static double open_end(aligner_t *A, size_t prev, size_t n)
{
    double budget = 0.6 * (double)n + 1.0, guess = A->t_end[prev] + SEC_PER_TOKEN * (double)n + 0.5;
    size_t j = heard_at(A, A->t_end[prev] - 0.05), last = SIZE_MAX;
    const folio_heard_t *h = A->in->heard;
    double at = A->t_end[prev];
    while (j < A->n_rec && !A->rec_used[j] && h[j].file == A->t_file[prev] &&
           h[j].time - A->t_end[prev] <= budget && h[j].time - at < 1.2) {
        last = j;
        at = h[j].time + h[j].file_end - h[j].file_time;
        j++;
    }
    return last == SIZE_MAX ? guess : at + 0.3 + OPEN_MARGIN;
}

/* Read tokens after timed token @prev, up to (not including) @limit: how many untimed ones of its
 * chapter follow it without a break (at most EDGE_MAX). */
static size_t read_run_after(aligner_t *A, size_t prev, size_t limit)
{
    size_t k = prev + 1;
    while (k < limit && k - prev <= EDGE_MAX && folio__align_read(A, k) &&
           A->chapters_to[k] == A->chapters_to[prev] && A->t_start[k] < 0)
        k++;
    return k - prev - 1;
}

/* The same before timed token @next, back to (not including) @limit. */
static size_t read_run_before(aligner_t *A, size_t next, size_t limit)
{
    size_t k = next;
    while (k > 0 && (limit == SIZE_MAX || k - 1 > limit) && next - k < EDGE_MAX &&
           folio__align_read(A, k - 1) && A->chapters_to[k - 1] == A->chapters_to[next] &&
           A->t_start[k - 1] < 0)
        k--;
    return next - k;
}

/* Gaps: stretches of read tokens left without time between timed tokens of the same file, with
 * audio enough for them; and read tokens left at the end of a file's stretch of the book (before
 * the next file, or where the book moves elsewhere) or at the start of one. A gap longer than a
 * window (90 s) and the ends of a file's stretch grow from their timed sides, EDGE_MAX tokens of
 * the same chapter a pass: each pass's found words are the next one's timed sides. Only a few
 * passes: forced alignment finds its words in any speech, so an edge must stay near what the
 * recogniser heard (audio in another language would otherwise be "explained" pass by pass). A
 * window once decoded is not decoded again. */
/* Plan the windows that grow the timed tokens @prev forward and @next backward (either may be
 * SIZE_MAX: none) into the untimed ones between them. */
static int force_edges(aligner_t *A, force_jobs_t *jobs, size_t prev, size_t next)
{
    int rc = FOLIO_OK;
    size_t after = 0;
    bool planned = false; /* the window after @prev is decoded in this pass */
    if (prev != SIZE_MAX) {
        after = read_run_after(A, prev, next == SIZE_MAX ? A->n_tok : next);
        if (after) {
            rc = force_plan(A, jobs, prev, prev + after, A->t_file[prev], A->t_start[prev] - 0.1,
                            open_end(A, prev, after), false, OPEN_RIGHT, SIZE_MAX);
            planned = rc == FOLIO_OK;
        }
    }
    if (rc >= 0 && next != SIZE_MAX) {
        size_t n = read_run_before(A, next, prev);
        /* Both windows are planned from the same state: when they would meet, the one after
         * @prev goes first and the next pass plans this one over what it left. */
        if (n && planned && prev + after >= next - n) n = 0;
        if (n)
            rc = force_plan(A, jobs, next - n, next, A->t_file[next], open_start(A, next, n),
                            A->t_end[next] + 0.1, false, OPEN_LEFT, SIZE_MAX);
    }
    return rc < 0 ? rc : FOLIO_OK;
}

int folio__align_force_gaps(aligner_t *A, bool edges)
{
    int rc = FOLIO_OK;
    force_jobs_t jobs = {0};
    size_t prev = SIZE_MAX;
    for (size_t t = 0; t <= A->n_tok && rc >= 0; t++) {
        if (t < A->n_tok && A->t_start[t] < 0) continue;
        if (prev != SIZE_MAX && t < A->n_tok && t > prev + 1 && A->t_file[t] == A->t_file[prev] &&
            A->t_start[t] > A->t_end[prev]) {
            size_t missing = t - prev - 1, read = 0;
            for (size_t q = prev + 1; q < t; q++) read += folio__align_read(A, q);
            double room = A->t_start[t] - A->t_end[prev];
            /* A word or two inside one sentence is left to interpolation: forcing every small
             * gap would re-decode a sixth of the audio for little. */
            bool small = missing <= 2 && same_sentence(A, prev, t);
            if (!small && read * 2 >= missing && room >= 0.12 * (double)missing && room < 90)
                rc = force_plan(A, &jobs, prev, t, A->t_file[t], A->t_end[prev] - 0.3,
                                A->t_start[t] + 0.3, false, 0, SIZE_MAX);
            else if (edges && room >= 90 && missing > 2 * EDGE_MAX)
                rc = force_edges(A, &jobs, prev, t);
        } else if (edges && t > (prev == SIZE_MAX ? 0 : prev + 1) &&
                   (prev == SIZE_MAX || t == A->n_tok || A->t_file[t] != A->t_file[prev])) {
            /* The two sides are in different files (or one is missing). */
            rc = force_edges(A, &jobs, prev, t < A->n_tok ? t : SIZE_MAX);
        }
        prev = t;
    }
    if (rc < 0) {
        force_jobs_free(&jobs);
        return rc;
    }
    return force_run(A, &jobs);
}

/* Page and chapter starts the recogniser did not hear exactly: force-align the words from up to
 * two timed tokens before the boundary (in the same file, close by) to two timed tokens after it.
 * The window runs from the first timed word's start to the last one's end, a little either side:
 * a grammar must be able to explain all the speech in its window, or it squeezes its words into
 * the wrong place. With no timed word before the boundary, the window opens earlier and the
 * grammar's leading filler takes what is not its words. */
static int force_boundary(aligner_t *A, force_jobs_t *jobs, size_t char_off)
{
    size_t first = folio__align_first_token_at(A, char_off);
    if (first == SIZE_MAX) return FOLIO_OK;
    size_t t = first;
    while (t < A->n_tok && t < first + 12 && A->t_start[t] < 0) t++;
    if (t >= A->n_tok || A->t_start[t] < 0) return FOLIO_OK;
    if (t == first && A->t_how[t] == FOLIO_HOW_MATCH) return FOLIO_OK;
    size_t file = A->t_file[t];
    /* Back: up to two timed tokens before @first, close by, in this file. */
    size_t a = first, lead = SIZE_MAX, seen = 0;
    for (size_t q = first; q > 0 && seen < 2 && first - q < 8; q--) {
        size_t p = q - 1;
        if (A->t_start[p] < 0) continue;
        if (A->t_file[p] != file || A->t_start[t] - A->t_start[p] > 15 ||
            A->t_start[p] > A->t_start[t])
            break;
        a = lead = p;
        seen += A->t_how[p] == FOLIO_HOW_MATCH; /* heard words bound a window best */
    }
    /* Forward: up to two timed tokens after @t, in this file and in time order. */
    size_t b = t, heard = t; /* time order is checked against heard words: a forced word's end
                                 may have swallowed the next word */
    seen = 0;
    for (size_t q = t + 1; q < A->n_tok && seen < 2 && q - t <= 8; q++) {
        if (A->t_start[q] < 0) continue;
        if (A->t_file[q] != file || A->t_start[q] < A->t_end[heard] - 0.05 ||
            A->t_start[q] - A->t_end[t] > 15)
            break;
        b = q;
        if (A->t_how[q] == FOLIO_HOW_MATCH) heard = q, seen++;
    }
    if (A->t_end[b] < A->t_end[heard]) b = heard;
    double t0 = lead != SIZE_MAX ? A->t_start[lead] - 0.15 : open_start(A, t, t - a);
    /* A chapter that starts a page has one window. */
    for (size_t i = 0; i < jobs->len; i++)
        if (jobs->items[i].boundary == t && jobs->items[i].a == a && jobs->items[i].b == b)
            return FOLIO_OK;
    return force_plan(A, jobs, a, b, file, t0, A->t_end[b] + 0.15, true,
                      lead == SIZE_MAX ? OPEN_LEFT : 0, t);
}

int folio__align_force_boundaries(aligner_t *A)
{
    const folio_book_t *book = A->book;
    int rc = FOLIO_OK;
    /* Boundaries are far apart: their windows are planned at once and decoded in parallel. */
    force_jobs_t bounds = {0};
    for (size_t p = 0; p < folio_book_n_pages(book) && rc >= 0; p++)
        rc = force_boundary(A, &bounds, folio_book_page(book, p)->start_char);
    for (size_t c = 0; c < folio_book_n_chapters(book) && rc >= 0; c++)
        rc = force_boundary(A, &bounds, folio_book_chapter(book, c)->start_char);
    if (rc < 0) {
        force_jobs_free(&bounds);
        return rc;
    }
    return force_run(A, &bounds);
}
