/* Transcription: the book's models, the audio decoded once into a 16 kHz cache and cut into
 * chunks, recognition by worker threads (one decoder each), and every finished chunk stored in the
 * work file as soon as it is done, by the calling thread.
 *
 * Chunks go to the workers in runs: an eighth of the book's estimated length (one to fifteen
 * minutes) of a file. A worker follows the narrator through its run (speech/guide.c): the run's
 * first chunk is recognised with the book's model, the next ones with a model of the text after the
 * place the previous chunk ended, and a chunk whose words do not fit that window again with the
 * book's. Where a run is cut depends on the audio alone, and what a worker does with a chunk on the
 * words of the run's earlier chunks alone (a resumed run replays those from the work file), so
 * results do not depend on the number of threads. */
#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#define READ_BLOCK 16000
/* A run ends after an eighth of the book's estimated length in its file, but at least one
 * minute and at most fifteen: short books still keep every core busy, and few runs start
 * unplaced (a run's first chunk, recognised with the whole book's model, costs twice another). */
#define RUN_SHARE 8
#define RUN_MIN_SEC 60
#define RUN_MAX_SEC 900

struct folio_transcript {
    VEC(folio_heard_t) words;
    folio_str_t pool;
    size_t n_files;
    double *duration, *offset;
};

void folio_transcribe_options_init(folio_transcribe_options_t *opts)
{
    if (!opts) return;
    memset(opts, 0, sizeof(*opts));
}

const char *folio_default_model_dir(void)
{
    return FOLIO_MODEL_DIR;
}

/* ---- work shared with the recognition threads ---- */

typedef struct {
    folio_part_chunk_t chunk;
    char *done; /* the words an earlier run found (TSV), or NULL: to recognise */
} run_chunk_t;

typedef VEC(run_chunk_t) run_chunks_t;

typedef struct {
    run_chunks_t chunks; /* speech chunks of one file, in order */
    uint64_t pcm_offset; /* samples before the file in the cache */
} job_t;

typedef struct {
    size_t file;
    uint64_t start, samples;
    char *tsv;
} result_t;

typedef struct {
    char *msg;
    folio_log_level_t level;
} msg_t;

typedef VEC(result_t) results_t;
typedef VEC(msg_t) msgs_t;

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t jobs_cv, results_cv;
    VEC(job_t) jobs;
    size_t job_head;
    results_t results;
    msgs_t msgs;
    size_t pending; /* jobs queued or being decoded */
    bool closing, cancel;
    int error;
    char errmsg[1024];
    int pcm_fd;
    const char *pcm_path; /* the audio cache's name, for messages */
    folio_decoder_config_t dcfg;
    int noisy_topn; /* Gaussians scored per codebook for noisy chunks */
    const folio_book_t *book;
    const folio_models_t *models;
    const folio_guide_t *guide;
    const char *work_path;
    size_t n_workers; /* numbers the workers' window model files */
} shared_t;

static void worker_log(void *ud, folio_log_level_t level, const char *msg)
{
    shared_t *sh = ud;
    msg_t m = {folio__strdup(msg), level};
    pthread_mutex_lock(&sh->lock);
    if (m.msg && VEC_PUSH(sh->msgs, m) < 0) free(m.msg);
    pthread_mutex_unlock(&sh->lock);
}

static int words_tsv(const folio_rec_words_t *w, folio_str_t *out)
{
    out->len = 0;
    for (size_t i = 0; i < w->len; i++) {
        const folio_rec_word_t *x = &w->items[i];
        if (folio__str_printf(out, "%s\t%d\t%d\t%.4f\t%d\t%d\n", x->word, x->start_frame,
                              x->end_frame, x->confidence, x->ascr, x->lback) < 0)
            return FOLIO_ENOMEM;
    }
    if (!out->data && folio__str_append(out, "", 0) < 0) return FOLIO_ENOMEM;
    return FOLIO_OK;
}

static void free_job(job_t *j)
{
    for (size_t i = 0; i < j->chunks.len; i++) free(j->chunks.items[i].done);
    VEC_FREE(j->chunks);
}

/* The words of an earlier run's result (only their text matters to the guide). */
static int parse_words(const char *tsv, folio_rec_words_t *out)
{
    out->len = 0;
    for (const char *line = tsv; line && *line;) {
        const char *nl = strchr(line, '\n'), *tab = strchr(line, '\t');
        size_t len = tab && (!nl || tab < nl) ? (size_t)(tab - line) : 0;
        if (len) {
            folio_rec_word_t w = {0};
            if (len >= sizeof(w.word)) len = sizeof(w.word) - 1;
            memcpy(w.word, line, len);
            if (VEC_PUSH(*out, w) < 0) return FOLIO_ENOMEM;
        }
        line = nl ? nl + 1 : NULL;
    }
    return FOLIO_OK;
}

typedef struct {
    folio_t *ctx;
    shared_t *sh;
    char lm_path[4300];
    /* dec: window models; book: the book's model; careful: noisy chunks, either model (made when
     * the first one comes) */
    folio_decoder_t *dec, *book, *careful;
} worker_t;

/* Where the words @w of a chunk of @sec seconds leave the narrator: in the window after *@at if
 * they fit it, else wherever the whole book places them. Used on fresh words and on the words an
 * earlier run found alike, so a resumed run follows the same places. */
static void follow(const folio_guide_t *g, folio_guide_state_t *at, double sec,
                   const folio_rec_words_t *w)
{
    folio_guide_state_t next;
    if (folio__guide_in_window(g, at, sec, w, &next))
        *at = next;
    else
        folio__guide_locate(g, at, w, at);
}

/* Recognise @pcm with a model of the window after @at. */
static int run_window(worker_t *w, folio_decoder_t *d, const folio_guide_state_t *at,
                      const int16_t *pcm, size_t n, folio_rec_words_t *words)
{
    const shared_t *sh = w->sh;
    size_t from, to;
    folio__guide_window(sh->guide, at, (double)n / FOLIO_AUDIO_RATE, &from, &to, NULL, NULL);
    return folio__models_recognise_window(w->ctx, sh->models, sh->book, d, from, to, w->lm_path,
                                          pcm, n, words);
}

/* Recognise one chunk, following the narrator from *@at (updated). */
static int recognise(worker_t *w, int16_t *pcm, size_t n, folio_guide_state_t *at,
                     folio_rec_words_t *words)
{
    shared_t *sh = w->sh;
    int rc;
    bool noisy;
    if ((rc = folio__denoise(pcm, n, &noisy)) < 0) return rc;
    if (noisy && !w->careful) {
        folio_decoder_config_t c = sh->dcfg;
        c.topn = sh->noisy_topn;
        if (!(w->careful = folio__decoder_new(w->ctx, &c, &rc))) return rc;
    }
    folio_decoder_t *d = noisy ? w->careful : w->dec;
    double sec = (double)n / FOLIO_AUDIO_RATE;
    folio_guide_state_t next;
    if (at->known) {
        if ((rc = run_window(w, d, at, pcm, n, words)) < 0) return rc;
        if (folio__guide_in_window(sh->guide, at, sec, words, &next)) {
            *at = next;
            return FOLIO_OK;
        }
        folio__debug(w->ctx, "a chunk of %.1f s does not fit its window: the book's model", sec);
    }
    if (!noisy) d = w->book;
    if ((rc = folio__decoder_use_window(d, NULL)) < 0 ||
        (rc = folio__decoder_run(d, pcm, n, words)) < 0)
        return rc;
    follow(sh->guide, at, sec, words);
    folio__debug(w->ctx, "a chunk of %.1f s recognised with the book's model: %s", sec,
                 at->known ? "placed" : "not placed");
    return FOLIO_OK;
}

static void *worker(void *arg)
{
    shared_t *sh = arg;
    worker_t w = {folio_new(), sh, "", NULL, NULL, NULL};
    if (w.ctx) folio_set_log(w.ctx, worker_log, sh, FOLIO_LOG_DEBUG);
    int rc;
    pthread_mutex_lock(&sh->lock);
    size_t me = sh->n_workers++;
    pthread_mutex_unlock(&sh->lock);
    folio__work_name(w.lm_path, sizeof(w.lm_path), sh->work_path, FOLIO_WORK_WINDOW_LM, me);
    folio_decoder_config_t wc;
    folio__models_window_config(sh->models, &wc);
    w.dec = folio__decoder_new(w.ctx, &wc, &rc);
    if (w.dec) w.book = folio__decoder_new(w.ctx, &sh->dcfg, &rc);
    int16_t *pcm = NULL;
    size_t pcm_cap = 0;
    folio_rec_words_t words = {0};
    folio_str_t tsv = {0};
    job_t job = {0};
    if (!w.dec || !w.book) goto fail;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        while (sh->job_head == sh->jobs.len && !sh->closing && !sh->cancel && !sh->error)
            pthread_cond_wait(&sh->jobs_cv, &sh->lock);
        if (sh->cancel || sh->error || sh->job_head == sh->jobs.len) {
            pthread_mutex_unlock(&sh->lock);
            break;
        }
        job = sh->jobs.items[sh->job_head];
        memset(&sh->jobs.items[sh->job_head++], 0, sizeof(job_t));
        pthread_mutex_unlock(&sh->lock);

        folio_guide_state_t at = {0, 0, false};
        for (size_t k = 0; k < job.chunks.len; k++) {
            const run_chunk_t *rk = &job.chunks.items[k];
            if (rk->done) { /* finished by an earlier run: follow its words */
                if ((rc = parse_words(rk->done, &words)) < 0) goto fail;
                follow(sh->guide, &at, (double)(rk->chunk.end - rk->chunk.start) / FOLIO_AUDIO_RATE,
                       &words);
                continue;
            }
            pthread_mutex_lock(&sh->lock);
            bool stop = sh->cancel || sh->error;
            pthread_mutex_unlock(&sh->lock);
            if (stop) goto done;
            size_t n = (size_t)(rk->chunk.end - rk->chunk.start);
            if (folio__grow((void **)&pcm, &pcm_cap, n, sizeof(int16_t)) < 0) {
                rc = folio__error(w.ctx, FOLIO_ENOMEM, "out of memory");
                goto fail;
            }
            off_t pos = (off_t)((job.pcm_offset + rk->chunk.start) * sizeof(int16_t));
            ssize_t got = pread(sh->pcm_fd, pcm, n * sizeof(int16_t), pos);
            if (got != (ssize_t)(n * sizeof(int16_t))) {
                rc = folio__error(w.ctx, FOLIO_EIO, "the audio cache is short: %s",
                                  got < 0 ? strerror(errno) : "truncated");
                goto fail;
            }
            if ((rc = recognise(&w, pcm, n, &at, &words)) < 0 || (rc = words_tsv(&words, &tsv)) < 0)
                goto fail;
#ifdef __GLIBC__
            /* Every window model builds and frees a search: give the freed memory back, or the
             * allocator's fragments make a long book's peak memory creep up. */
            malloc_trim(0);
#endif
            result_t r = {rk->chunk.file, rk->chunk.start, n, folio__str_take(&tsv)};
            pthread_mutex_lock(&sh->lock);
            if (!r.tsv || VEC_PUSH(sh->results, r) < 0) {
                free(r.tsv);
                sh->error = FOLIO_ENOMEM;
            }
            pthread_cond_signal(&sh->results_cv);
            pthread_mutex_unlock(&sh->lock);
        }
        free_job(&job);
    }
    goto done;
fail:
    pthread_mutex_lock(&sh->lock);
    if (!sh->error) {
        sh->error = rc < 0 ? rc : FOLIO_EAUDIO;
        snprintf(sh->errmsg, sizeof(sh->errmsg), "%s", folio_errmsg(w.ctx));
    }
    pthread_cond_broadcast(&sh->results_cv);
    pthread_cond_broadcast(&sh->jobs_cv);
    pthread_mutex_unlock(&sh->lock);
done:
    free_job(&job);
    folio__decoder_free(w.dec);
    folio__decoder_free(w.book);
    folio__decoder_free(w.careful);
    unlink(w.lm_path);
    free(pcm);
    VEC_FREE(words);
    folio__str_free(&tsv);
    folio_free(w.ctx);
    return NULL;
}

/* ---- the calling thread ---- */

typedef struct {
    folio_t *ctx;
    shared_t *sh;
    folio_part_t *part;
    double start_time;
    double done_sec, total_sec;
    size_t decoded_now, done_before; /* chunks recognised in this run, and found finished */
    job_t run;                       /* the run being gathered */
    size_t run_todo;                 /* its chunks to recognise */
    uint64_t run_samples;            /* how long runs are */
} run_t;

/* Store finished results, relay worker messages, report progress. With @wait, block until at
 * least one result arrives (or nothing is pending). */
static int drain(run_t *r, bool wait)
{
    shared_t *sh = r->sh;
    pthread_mutex_lock(&sh->lock);
    if (wait)
        while (!sh->results.len && sh->pending && !sh->error)
            pthread_cond_wait(&sh->results_cv, &sh->lock);
    results_t got = sh->results;
    msgs_t msgs = sh->msgs;
    memset(&sh->results, 0, sizeof(sh->results));
    memset(&sh->msgs, 0, sizeof(sh->msgs));
    sh->pending -= got.len;
    int error = sh->error;
    pthread_mutex_unlock(&sh->lock);
    for (size_t i = 0; i < msgs.len; i++) {
        folio__log(r->ctx, msgs.items[i].level, "%s", msgs.items[i].msg);
        free(msgs.items[i].msg);
    }
    VEC_FREE(msgs);
    int rc = FOLIO_OK;
    for (size_t i = 0; i < got.len; i++) {
        if (rc >= 0)
            rc = folio__part_chunk_done(r->part, got.items[i].file, got.items[i].start,
                                        got.items[i].tsv);
        r->decoded_now++;
        r->done_sec += (double)got.items[i].samples / FOLIO_AUDIO_RATE;
        free(got.items[i].tsv);
    }
    VEC_FREE(got);
    if (rc < 0) return rc;
    if (error) return folio__error(r->ctx, error, "recognition failed: %s", sh->errmsg);
    double total = r->total_sec > r->done_sec ? r->total_sec : r->done_sec;
    return folio__progress(r->ctx, "recognising", r->done_sec, total, r->start_time);
}

/* Hand the run gathered so far to the workers (if any of it is left to recognise). */
static int end_run(run_t *r)
{
    int rc = FOLIO_OK;
    if (r->run_todo) {
        pthread_mutex_lock(&r->sh->lock);
        rc = VEC_PUSH(r->sh->jobs, r->run);
        if (rc >= 0) r->sh->pending += r->run_todo;
        pthread_cond_signal(&r->sh->jobs_cv);
        pthread_mutex_unlock(&r->sh->lock);
    }
    if (rc < 0 || !r->run_todo) free_job(&r->run);
    memset(&r->run, 0, sizeof(r->run));
    r->run_todo = 0;
    return rc;
}

/* Add speech chunk @c of the file at @pcm_offset in the cache to the run; @done: an earlier run
 * recognised it. */
static int add_to_run(run_t *r, const folio_part_chunk_t *c, uint64_t pcm_offset, bool done)
{
    int rc;
    run_chunk_t rk = {*c, NULL};
    if (done && (rc = folio__part_chunk_result(r->part, c->file, c->start, &rk.done)) < 0)
        return rc;
    if (done && !rk.done) rk.done = folio__strdup("");
    if (!r->run.chunks.len) r->run.pcm_offset = pcm_offset;
    if ((done && !rk.done) || VEC_PUSH(r->run.chunks, rk) < 0) {
        free(rk.done);
        return FOLIO_ENOMEM;
    }
    r->run_todo += !done;
    if (c->end - r->run.chunks.items[0].chunk.start >= r->run_samples) return end_run(r);
    return FOLIO_OK;
}

/* Record the chunks the voice-activity chunker cut from file @i in the work file; queue those
 * with speech that no earlier run finished. */
static int take_chunks(run_t *r, const folio_chunks_t *chunks, size_t i, uint64_t offset,
                       bool *any_speech)
{
    int rc = FOLIO_OK;
    for (size_t k = 0; k < chunks->len && rc >= 0; k++) {
        const folio_chunk_t *v = &chunks->items[k];
        folio_part_chunk_t c = {i, v->start, v->end, v->keep_from, v->keep_to, v->speech};
        *any_speech |= c.speech;
        bool done;
        if ((rc = folio__part_add_chunk(r->part, &c, &done)) < 0) break;
        r->done_before += done && c.speech;
        if (done || !c.speech) r->done_sec += (double)(c.end - c.start) / FOLIO_AUDIO_RATE;
        if (c.speech) rc = add_to_run(r, &c, offset, done);
    }
    return rc;
}

/* Write all @n bytes of @buf at @at of @fd. A short write is retried, so that errno is the reason
 * that stopped it (ENOSPC, EIO, EFBIG), never a stale one. -1 on failure. */
static int pwrite_all(int fd, const void *buf, size_t n, off_t at)
{
    const char *p = buf;
    while (n) {
        ssize_t w = pwrite(fd, p, n, at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

/* Decode file @i into the cache, chunk it, and queue its chunks. */
static int cache_file(run_t *r, const char *path, size_t i, uint64_t offset, uint64_t *n_samples)
{
    int rc;
    folio_audio_file_t *f = NULL;
    folio_vad_t *vad = folio__vad_new(30.0, 0.5);
    folio_chunks_t chunks = {0};
    int16_t *buf = malloc(READ_BLOCK * sizeof(int16_t));
    uint64_t n = 0;
    bool any_speech = false;
    if (!vad || !buf) FAIL(r->ctx, FOLIO_ENOMEM, "out of memory");
    if (ftruncate(r->sh->pcm_fd, (off_t)(offset * sizeof(int16_t))) != 0)
        FAIL(r->ctx, FOLIO_EIO, "%s: cannot write the audio cache: %s", r->sh->pcm_path,
             strerror(errno));
    f = folio__audio_open(r->ctx, path, &rc);
    if (!f) goto fail;
    folio__info(r->ctx, "%s: %s", path, folio__audio_describe(f));
    for (size_t k = 0; k < folio__audio_n_chapters(f); k++) {
        const folio_audio_chapter_t *c = folio__audio_chapter(f, k);
        folio__info(r->ctx, "%s: chapter mark %zu at %.3f s: %s", path, k + 1, c->start, c->title);
    }
    for (;;) {
        long got = folio__audio_read(f, buf, READ_BLOCK);
        if (got < 0) FAIL(r->ctx, (int)got, "%s: decoding failed", path);
        if (got == 0) break;
        off_t at = (off_t)((offset + n) * sizeof(int16_t));
        if (pwrite_all(r->sh->pcm_fd, buf, (size_t)got * sizeof(int16_t), at) < 0)
            FAIL(r->ctx, FOLIO_EIO, "%s: cannot write the audio cache (decoding %s at %.1f s): %s",
                 r->sh->pcm_path, path, (double)n / FOLIO_AUDIO_RATE, strerror(errno));
        n += (uint64_t)got;
        chunks.len = 0;
        TRY(folio__vad_feed(vad, i, buf, (size_t)got, &chunks));
        TRY(take_chunks(r, &chunks, i, offset, &any_speech));
        TRY(drain(r, false));
    }
    if (n == 0) FAIL(r->ctx, FOLIO_EAUDIO, "%s: no audio could be decoded", path);
    chunks.len = 0;
    TRY(folio__vad_end_file(vad, &chunks));
    TRY(take_chunks(r, &chunks, i, offset, &any_speech));
    TRY(end_run(r));
    TRY(folio__part_file_cached(r->part, i, path, n));
    if (!any_speech)
        folio__warn(r->ctx, "%s: no speech found in %.1f s of audio", path,
                    (double)n / FOLIO_AUDIO_RATE);
    *n_samples = n;
fail:
    folio__audio_close(f);
    folio__vad_free(vad);
    VEC_FREE(chunks);
    free(buf);
    return rc;
}

/* Queue the unfinished chunks of an already cached file. */
static int queue_cached(run_t *r, size_t file, uint64_t offset, const folio_part_chunks_t *all,
                        const folio_bools_t *done)
{
    int rc = FOLIO_OK;
    for (size_t k = 0; k < all->len && rc >= 0; k++) {
        const folio_part_chunk_t *c = &all->items[k];
        if (c->file != file) continue;
        r->done_before += done->items[k] && c->speech;
        if (done->items[k] || !c->speech)
            r->done_sec += (double)(c->end - c->start) / FOLIO_AUDIO_RATE;
        if (c->speech) rc = add_to_run(r, c, offset, done->items[k]);
    }
    return rc < 0 ? rc : end_run(r);
}

/* ---- the transcript ---- */

static int build_transcript(folio_t *ctx, folio_part_t *part, const uint64_t *samples,
                            size_t n_files, folio_transcript_t **out)
{
    int rc = FOLIO_OK;
    folio_transcript_t *t = calloc(1, sizeof(*t));
    folio_part_chunks_t chunks = {0};
    VEC(size_t) offs = {0};
    if (!t) return FOLIO_ENOMEM;
    t->n_files = n_files;
    t->duration = calloc(n_files ? n_files : 1, sizeof(double));
    t->offset = calloc(n_files ? n_files : 1, sizeof(double));
    if (!t->duration || !t->offset) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    double at = 0;
    for (size_t i = 0; i < n_files; i++) {
        t->duration[i] = (double)samples[i] / FOLIO_AUDIO_RATE;
        t->offset[i] = at;
        at += t->duration[i];
    }
    TRY(folio__part_chunks(part, &chunks, NULL));
    for (size_t k = 0; k < chunks.len; k++) {
        const folio_part_chunk_t *c = &chunks.items[k];
        if (!c->speech || c->file >= n_files) continue;
        char *tsv = NULL;
        TRY(folio__part_chunk_result(part, c->file, c->start, &tsv));
        if (!tsv) FAIL(ctx, FOLIO_EIO, "a chunk of file %zu has no result", c->file);
        char *save = NULL;
        for (char *line = strtok_r(tsv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char word[64];
            int sf, ef;
            float conf;
            if (sscanf(line, "%63[^\t]\t%d\t%d\t%f", word, &sf, &ef, &conf) != 4) continue;
            uint64_t s = c->start + (uint64_t)sf * 160, e = c->start + (uint64_t)(ef + 1) * 160;
            uint64_t mid = (s + e) / 2;
            if (mid < c->keep_from || mid >= c->keep_to) continue; /* the other chunk has it */
            size_t off = t->pool.len;
            if (folio__str_append(&t->pool, word, strlen(word) + 1) < 0 ||
                VEC_PUSH(offs, off) < 0) {
                free(tsv);
                FAIL(ctx, FOLIO_ENOMEM, "out of memory");
            }
            folio_heard_t h = {
                NULL, c->file, (double)s / FOLIO_AUDIO_RATE, (double)e / FOLIO_AUDIO_RATE, 0, conf};
            h.time = t->offset[c->file] + h.file_time;
            if (VEC_PUSH(t->words, h) < 0) {
                free(tsv);
                FAIL(ctx, FOLIO_ENOMEM, "out of memory");
            }
        }
        free(tsv);
    }
    for (size_t i = 0; i < t->words.len; i++) t->words.items[i].word = t->pool.data + offs.items[i];
    *out = t;
    t = NULL;
fail:
    VEC_FREE(chunks);
    VEC_FREE(offs);
    folio_transcript_free(t);
    return rc;
}

void folio_transcript_free(folio_transcript_t *t)
{
    if (!t) return;
    VEC_FREE(t->words);
    folio__str_free(&t->pool);
    free(t->duration);
    free(t->offset);
    free(t);
}

size_t folio_transcript_n_words(const folio_transcript_t *t)
{
    return t ? t->words.len : 0;
}

const folio_heard_t *folio_transcript_word(const folio_transcript_t *t, size_t i)
{
    return t && i < t->words.len ? &t->words.items[i] : NULL;
}

size_t folio_transcript_n_files(const folio_transcript_t *t)
{
    return t ? t->n_files : 0;
}

double folio_transcript_file_duration(const folio_transcript_t *t, size_t i)
{
    return t && i < t->n_files ? t->duration[i] : 0;
}

double folio_transcript_file_offset(const folio_transcript_t *t, size_t i)
{
    return t && i < t->n_files ? t->offset[i] : 0;
}

int folio_work_remove(const char *work_path)
{
    if (!work_path) return FOLIO_EINVAL;
    folio__work_remove(work_path);
    return FOLIO_OK;
}

int folio__transcribe_fingerprint(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                                  size_t n_audio, const char *model_dir, const folio_models_t *m,
                                  char out[65])
{
    const char *const made[] = {m->lm_path, m->oob_path, m->dict_path};
    folio_work_inputs_t in = {.text_sha256 = folio_book_text_sha256(book),
                              .config = m->config.data,
                              .config_len = m->config.len,
                              .model_dir = model_dir,
                              .made = made,
                              .n_made = sizeof(made) / sizeof(made[0]),
                              .audio = audio,
                              .n_audio = n_audio};
    return folio__work_fingerprint(ctx, &in, out);
}

/* ---- the whole run ---- */

int folio__transcribe_run(folio_t *ctx, const folio_book_t *book, const char *const *audio,
                          size_t n_audio, const char *work_path,
                          const folio_transcribe_options_t *opts, folio_models_t *keep_models,
                          folio_transcript_t **out)
{
    int rc = FOLIO_OK;
    folio_transcribe_options_t o;
    folio_transcribe_options_init(&o);
    if (opts) o = *opts;
    folio_transcript_t *result = NULL;
    *out = NULL;
    folio_models_t models = {0};
    folio_part_t *part = NULL;
    shared_t sh = {.pcm_fd = -1};
    pthread_t *threads = NULL;
    size_t n_threads = 0;
    uint64_t *samples = NULL;
    folio_part_chunks_t chunks = {0};
    folio_bools_t done = {0};
    bool sync_init = false;
    folio_guide_t *guide = NULL;
    run_t r = {0};
    if (!book || !audio || !n_audio || !work_path || !*work_path)
        FAIL(ctx, FOLIO_EINVAL, "a book, audio files and a work path are needed");
    for (size_t i = 0; i < n_audio; i++)
        if (!audio[i]) FAIL(ctx, FOLIO_EINVAL, "folio_transcribe: audio file %zu is NULL", i);
    if (o.threads < 0) FAIL(ctx, FOLIO_EINVAL, "folio_transcribe: threads must not be negative");
    if ((int)o.search < FOLIO_SEARCH_BALANCED || o.search > FOLIO_SEARCH_ACCURATE)
        FAIL(ctx, FOLIO_EINVAL, "folio_transcribe: unknown search preset %d", (int)o.search);
    const char *model_dir = o.model_dir ? o.model_dir : folio_default_model_dir();
    double start = folio__now();

    /* Check every file before the long work, and estimate the total for progress. */
    double total = 0;
    for (size_t i = 0; i < n_audio; i++) {
        folio_audio_file_t *f = folio__audio_open(ctx, audio[i], &rc);
        if (!f) goto fail;
        total += folio__audio_estimated_seconds(f);
        folio__audio_close(f);
    }

    /* The models, written beside the work file. */
    char lm_path[4200], oob_path[4200], dict_path[4200];
    folio__work_name(lm_path, sizeof(lm_path), work_path, FOLIO_WORK_LM, 0);
    folio__work_name(oob_path, sizeof(oob_path), work_path, FOLIO_WORK_OOB_LM, 0);
    folio__work_name(dict_path, sizeof(dict_path), work_path, FOLIO_WORK_DICT, 0);
    const folio_models_files_t files = {lm_path, oob_path, dict_path};
    TRY(folio__models_build(ctx, book, model_dir, o.dict_path, &files, o.search, &models));
    char fp[65];
    TRY(folio__transcribe_fingerprint(ctx, book, audio, n_audio, model_dir, &models, fp));
    bool resumed;
    part = folio__part_open(ctx, work_path, fp, o.restart, &resumed, &rc);
    if (!part) goto fail;
    if (resumed) folio__info(ctx, "%s: resuming the work of an earlier run", work_path);

    char pcm_path[4200];
    folio__work_name(pcm_path, sizeof(pcm_path), work_path, FOLIO_WORK_PCM, 0);
    sh.pcm_fd = open(pcm_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    sh.pcm_path = pcm_path;
    if (sh.pcm_fd < 0) FAIL(ctx, FOLIO_EIO, "%s: %s", pcm_path, strerror(errno));
    struct stat pst;
    fstat(sh.pcm_fd, &pst);
    uint64_t cache_samples = (uint64_t)pst.st_size / sizeof(int16_t);

    pthread_mutex_init(&sh.lock, NULL);
    pthread_cond_init(&sh.jobs_cv, NULL);
    pthread_cond_init(&sh.results_cv, NULL);
    sync_init = true;
    sh.dcfg = models.decoder;
    sh.noisy_topn = models.noisy_topn;
    if (!(guide = folio__guide_new(book, models.lex, &rc))) FAIL(ctx, rc, "out of memory");
    sh.book = book;
    sh.models = &models;
    sh.guide = guide;
    sh.work_path = work_path;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    n_threads = o.threads ? (size_t)o.threads : (size_t)(cores > 0 ? cores : 1);
    threads = calloc(n_threads, sizeof(pthread_t));
    if (!threads) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    for (size_t i = 0; i < n_threads; i++)
        if (pthread_create(&threads[i], NULL, worker, &sh) != 0) {
            n_threads = i;
            FAIL(ctx, FOLIO_ENOMEM, "cannot start recognition threads");
        }

    r = (run_t){.ctx = ctx, .sh = &sh, .part = part, .start_time = start, .total_sec = total};
    double run_sec = total / RUN_SHARE;
    run_sec = run_sec < RUN_MIN_SEC ? RUN_MIN_SEC : run_sec > RUN_MAX_SEC ? RUN_MAX_SEC : run_sec;
    r.run_samples = (uint64_t)(run_sec * FOLIO_AUDIO_RATE);
    samples = calloc(n_audio, sizeof(uint64_t));
    if (!samples) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    TRY(folio__part_chunks(part, &chunks, &done));
    uint64_t offset = 0;
    bool cache_valid = true;
    for (size_t i = 0; i < n_audio; i++) {
        uint64_t n;
        bool cached;
        TRY(folio__part_file_samples(part, i, &n, &cached));
        /* A cached file counts only if the cache holds all of it, and all files before it did. */
        if (cached && cache_valid && offset + n <= cache_samples) {
            TRY(queue_cached(&r, i, offset, &chunks, &done));
        } else {
            cache_valid = false;
            TRY(cache_file(&r, audio[i], i, offset, &n));
        }
        samples[i] = n;
        offset += n;
        TRY(drain(&r, false));
    }
    r.total_sec = (double)offset / FOLIO_AUDIO_RATE;
    pthread_mutex_lock(&sh.lock);
    sh.closing = true;
    pthread_cond_broadcast(&sh.jobs_cv);
    pthread_mutex_unlock(&sh.lock);
    for (;;) {
        pthread_mutex_lock(&sh.lock);
        bool more = sh.pending > 0 && !sh.error;
        pthread_mutex_unlock(&sh.lock);
        TRY(drain(&r, more));
        if (!more) break;
    }
    TRY(drain(&r, false));
    /* Done counts the chunks' spans, not the silence between them: the last report is whole. */
    TRY(folio__progress(ctx, "recognising", r.total_sec, r.total_sec, start));
    folio__info(ctx, "recognised %zu chunks in this run; %zu were finished by an earlier run",
                r.decoded_now, r.done_before);
    TRY(build_transcript(ctx, part, samples, n_audio, &result));
fail:
    if (sync_init) {
        pthread_mutex_lock(&sh.lock);
        sh.closing = true;
        if (rc < 0) sh.cancel = true;
        pthread_cond_broadcast(&sh.jobs_cv);
        pthread_mutex_unlock(&sh.lock);
    }
    for (size_t i = 0; i < n_threads; i++) pthread_join(threads[i], NULL);
    if (sync_init && rc < 0 && part) {
        /* Keep what the workers finished while we were stopping. */
        for (size_t i = 0; i < sh.results.len; i++)
            folio__part_chunk_done(part, sh.results.items[i].file, sh.results.items[i].start,
                                   sh.results.items[i].tsv);
    }
    if (sync_init) {
        for (size_t i = 0; i < sh.results.len; i++) free(sh.results.items[i].tsv);
        for (size_t i = 0; i < sh.msgs.len; i++) free(sh.msgs.items[i].msg);
        for (size_t i = 0; i < sh.jobs.len; i++) free_job(&sh.jobs.items[i]);
        VEC_FREE(sh.results);
        VEC_FREE(sh.msgs);
        VEC_FREE(sh.jobs);
        pthread_mutex_destroy(&sh.lock);
        pthread_cond_destroy(&sh.jobs_cv);
        pthread_cond_destroy(&sh.results_cv);
    }
    free(threads);
    free_job(&r.run);
    folio__guide_free(guide);
    if (sh.pcm_fd >= 0) close(sh.pcm_fd);
    folio__part_close(part);
    if (rc >= 0 && keep_models) {
        /* The decoder configuration points into the struct: re-point it at the copy. */
        *keep_models = models;
        keep_models->decoder.model_dir = keep_models->model_dir;
        keep_models->decoder.dict_path = keep_models->dict_path;
        keep_models->decoder.lm_path = keep_models->lm_path;
        keep_models->decoder.oob_path = keep_models->oob_path;
        memset(&models, 0, sizeof(models));
    }
    folio__models_free(&models);
    free(samples);
    VEC_FREE(chunks);
    VEC_FREE(done);
    if (rc == FOLIO_ENOMEM && ctx && !*folio_errmsg(ctx)) folio__error(ctx, rc, "out of memory");
    *out = rc < 0 ? NULL : result;
    return rc;
}

folio_transcript_t *folio_transcribe(folio_t *ctx, const folio_book_t *book,
                                     const char *const *audio, size_t n_audio,
                                     const char *work_path, const folio_transcribe_options_t *opts,
                                     int *err)
{
    folio_transcript_t *t;
    int rc = folio__transcribe_run(ctx, book, audio, n_audio, work_path, opts, NULL, &t);
    if (err) *err = rc;
    return t;
}
