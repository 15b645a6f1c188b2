/* Recognition with pocketsphinx 5prealpha: one decoder per thread, each chunk decoded as a whole
 * utterance with batch cepstral mean normalisation, and Folio's own word confidence. The only
 * file of the engine that includes pocketsphinx or sphinxbase. */
#include "speech.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/fsg_model.h>
#include <sphinxbase/ngram_model.h>

struct folio_decoder {
    folio_t *ctx;
    cmd_ln_t *config;
    ps_decoder_t *ps;
    bool has_lm;        /* alignment decoders have none */
    ngram_model_t *oob; /* the out-of-book model (a reference of our own), or NULL */
    float32 oob_weight;
    const char *search; /* the search in use: "book", or one of two window searches */
};

/* ---- sphinxbase's log, routed per thread ---- */

static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static _Thread_local folio_t *log_ctx;
static _Thread_local char log_line[1024];
static _Thread_local size_t log_len;

static void log_hook(void *ud, err_lvl_t lvl, const char *fmt, ...)
{
    (void)ud;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (n < 0 || !log_ctx) return;
    /* sphinxbase writes lines in pieces (E_INFOCONT); gather them until the newline. */
    for (const char *p = buf; *p; p++) {
        if (*p == '\n' || log_len + 1 >= sizeof(log_line)) {
            log_line[log_len] = '\0';
            if (log_len) {
                folio_log_level_t level = lvl >= ERR_ERROR ? FOLIO_LOG_WARN : FOLIO_LOG_DEBUG;
                /* A grammar that does not reach its end is an answer (FOLIO_ENOMATCH). */
                if (strstr(log_line, "does not match the grammar")) level = FOLIO_LOG_DEBUG;
                folio__log(log_ctx, level, "pocketsphinx: %s", log_line);
            }
            log_len = 0;
            if (*p == '\n') continue;
        }
        log_line[log_len++] = *p;
    }
}

static void install_log_hook(void)
{
    err_set_logfp(NULL);
    err_set_callback(log_hook, NULL);
}

void folio__speech_log_to(folio_t *ctx)
{
    pthread_once(&log_once, install_log_hook);
    log_ctx = ctx;
    log_len = 0;
}

/* ---- configuration ---- */

void folio__decoder_config_init(folio_decoder_config_t *c, const char *model_dir)
{
    memset(c, 0, sizeof(*c));
    c->model_dir = model_dir;
    /* The fast first pass: wide enough to find anchors, narrow enough for speed. */
    c->beam = 1e-40;
    c->wbeam = 1e-30;
    c->pbeam = 1e-40;
    c->maxhmmpf = 5000;
    c->ds = 2;
    c->topn = 1;
    c->maxwpf = -1;
    c->lw = 6.5;
    c->pl_window = 5;
    c->oob_weight = 0.05;
}

int folio__decoder_config_string(const folio_decoder_config_t *c, folio_str_t *out)
{
    return folio__str_printf(out,
                             "beam=%g wbeam=%g pbeam=%g maxhmmpf=%d ds=%d topn=%d maxwpf=%d lw=%g "
                             "pl_window=%d fwdflat=%d bestpath=%d oob=%g cmn=batch",
                             c->beam, c->wbeam, c->pbeam, c->maxhmmpf, c->ds, c->topn, c->maxwpf,
                             c->lw, c->pl_window, c->fwdflat, c->bestpath,
                             c->oob_path ? c->oob_weight : 0.0);
}

static bool readable(const char *path)
{
    struct stat st;
    return path && stat(path, &st) == 0;
}

folio_decoder_t *folio__decoder_new(folio_t *ctx, const folio_decoder_config_t *c, int *err)
{
    int rc = FOLIO_OK;
    folio_decoder_t *d = calloc(1, sizeof(*d));
    char hmm[1024], beam[32], wbeam[32], pbeam[32], maxhmmpf[16], ds[16], topn[16], maxwpf[16],
        lw[32], plw[16];
    ngram_model_t *models[2] = {NULL, NULL};
    if (!d) FAIL(ctx, FOLIO_ENOMEM, "out of memory");
    d->ctx = ctx;
    snprintf(hmm, sizeof(hmm), "%s/en-us", c->model_dir);
    /* pocketsphinx ends the process on some bad inputs: check files before handing them over. */
    char mdef[1100];
    snprintf(mdef, sizeof(mdef), "%s/mdef", hmm);
    if (!readable(mdef))
        FAIL(ctx, FOLIO_EIO,
             "%s: the acoustic model is missing (Debian package pocketsphinx-en-us)", hmm);
    if (!readable(c->dict_path))
        FAIL(ctx, FOLIO_EIO, "%s: the dictionary is missing", c->dict_path);
    if (c->lm_path && !readable(c->lm_path))
        FAIL(ctx, FOLIO_EIO, "%s: the language model is missing", c->lm_path);
    snprintf(beam, sizeof(beam), "%g", c->beam);
    snprintf(wbeam, sizeof(wbeam), "%g", c->wbeam);
    snprintf(pbeam, sizeof(pbeam), "%g", c->pbeam);
    snprintf(maxhmmpf, sizeof(maxhmmpf), "%d", c->maxhmmpf);
    snprintf(ds, sizeof(ds), "%d", c->ds);
    snprintf(topn, sizeof(topn), "%d", c->topn);
    snprintf(maxwpf, sizeof(maxwpf), "%d", c->maxwpf);
    snprintf(lw, sizeof(lw), "%g", c->lw);
    snprintf(plw, sizeof(plw), "%d", c->pl_window);
    folio__speech_log_to(ctx);
    d->config = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", hmm, "-dict", c->dict_path, "-beam",
                            beam, "-wbeam", wbeam, "-pbeam", pbeam, "-maxhmmpf", maxhmmpf, "-ds",
                            ds, "-topn", topn, "-maxwpf", maxwpf, "-lw", lw, "-pl_window", plw,
                            "-fwdflat", c->fwdflat ? "yes" : "no", "-bestpath",
                            c->bestpath ? "yes" : "no", "-cmn", "batch", "-remove_silence", "no",
                            "-remove_noise", "no", "-samprate", "16000", NULL);
    if (!d->config) FAIL(ctx, FOLIO_EINVAL, "pocketsphinx rejected the decoder configuration");
    d->ps = ps_init(d->config);
    if (!d->ps) FAIL(ctx, FOLIO_EFORMAT, "%s: pocketsphinx could not load the model", hmm);
    if (!c->lm_path) goto ready; /* an alignment decoder: grammars only */
    logmath_t *lmath = ps_get_logmath(d->ps);
    models[0] = ngram_model_read(d->config, c->lm_path, NGRAM_AUTO, lmath);
    if (!models[0]) FAIL(ctx, FOLIO_EFORMAT, "%s: not a language model", c->lm_path);
    ngram_model_t *lm = models[0];
    if (c->oob_path) {
        models[1] = ngram_model_read(d->config, c->oob_path, NGRAM_AUTO, lmath);
        if (!models[1]) FAIL(ctx, FOLIO_EFORMAT, "%s: not a language model", c->oob_path);
        const char *names[2] = {"book", "oob"};
        float32 weights[2] = {(float32)(1.0 - c->oob_weight), (float32)c->oob_weight};
        lm = ngram_model_set_init(d->config, models, (char **)names, weights, 2);
        if (!lm) FAIL(ctx, FOLIO_EFORMAT, "cannot combine the language models");
        /* The set holds its own references to its members; we keep ours to the out-of-book
         * model for the window models. */
        ngram_model_free(models[0]);
        d->oob = models[1];
        d->oob_weight = weights[1];
        models[0] = models[1] = NULL;
    }
    if (ps_set_lm(d->ps, "book", lm) < 0 || ps_set_search(d->ps, "book") < 0) {
        ngram_model_free(lm);
        FAIL(ctx, FOLIO_EFORMAT, "pocketsphinx could not use the language model");
    }
    /* ps_set_lm keeps its own reference. */
    ngram_model_free(lm);
    d->has_lm = true;
    d->search = "book";
ready:
    folio__speech_log_to(NULL);
    if (err) *err = FOLIO_OK;
    return d;
fail:
    for (int i = 0; i < 2; i++)
        if (models[i]) ngram_model_free(models[i]);
    folio__speech_log_to(NULL);
    folio__decoder_free(d);
    if (err) *err = rc;
    return NULL;
}

void folio__decoder_free(folio_decoder_t *d)
{
    if (!d) return;
    if (d->ps) ps_free(d->ps);
    if (d->oob) ngram_model_free(d->oob);
    if (d->config) cmd_ln_free_r(d->config);
    free(d);
}

folio_t *folio__decoder_context(const folio_decoder_t *d)
{
    return d->ctx;
}

int folio__decoder_use_window(folio_decoder_t *d, const char *lm_path)
{
    if (!d->has_lm) return FOLIO_EINVAL;
    folio__speech_log_to(d->ctx);
    int rc = FOLIO_OK;
    if (!lm_path) {
        if (ps_set_search(d->ps, "book") < 0)
            rc = folio__error(d->ctx, FOLIO_EFORMAT, "pocketsphinx could not switch searches");
        else
            d->search = "book";
        goto done;
    }
    ngram_model_t *win = ngram_model_read(d->config, lm_path, NGRAM_ARPA, ps_get_logmath(d->ps));
    if (!win) {
        rc = folio__error(d->ctx, FOLIO_EFORMAT, "%s: not a language model", lm_path);
        goto done;
    }
    ngram_model_t *lm = win;
    /* Replacing a search frees the old one: never replace the one in use. */
    const char *name = strcmp(d->search, "window-a") == 0 ? "window-b" : "window-a";
    if (ps_set_lm(d->ps, name, lm) < 0 || ps_set_search(d->ps, name) < 0)
        rc = folio__error(d->ctx, FOLIO_EFORMAT, "pocketsphinx could not use a window model");
    else
        d->search = name;
    ngram_model_free(lm);
done:
    folio__speech_log_to(NULL);
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Folio's confidence: how a word's acoustic score per frame compares with the chunk's other
 * words (in median absolute deviations), plus how much language-model context supported it. */
static void confidences(folio_rec_words_t *w)
{
    if (!w->len) return;
    float *a = malloc(w->len * sizeof(float)), *dev = malloc(w->len * sizeof(float));
    if (!a || !dev) {
        free(a);
        free(dev);
        for (size_t i = 0; i < w->len; i++) w->items[i].confidence = 0.5f;
        return;
    }
    for (size_t i = 0; i < w->len; i++) {
        int frames = w->items[i].end_frame - w->items[i].start_frame + 1;
        a[i] = (float)w->items[i].ascr / (float)(frames > 0 ? frames : 1);
    }
    float *sorted = dev;
    memcpy(sorted, a, w->len * sizeof(float));
    qsort(sorted, w->len, sizeof(float), cmp_float);
    float median = sorted[w->len / 2];
    for (size_t i = 0; i < w->len; i++) dev[i] = fabsf(a[i] - median);
    qsort(dev, w->len, sizeof(float), cmp_float);
    float mad = dev[w->len / 2];
    if (mad < 1.0f) mad = 1.0f;
    for (size_t i = 0; i < w->len; i++) {
        float z = (a[i] - median) / mad;
        float x = z + 0.75f * (float)(w->items[i].lback - 2);
        w->items[i].confidence = 1.0f / (1.0f + expf(-x));
    }
    free(a);
    free(dev);
}

/* Decode @pcm (@n samples) as one utterance. pocketsphinx keeps a little state from one
 * utterance to the next (its noise estimate, which is off, and short-lived acoustic scoring
 * state), so a chunk's result would depend on which chunk the decoder saw before. Decoding the
 * chunk's own first 0.3 s first makes that state a function of the chunk alone: the same result
 * in any thread, in any order. */
static bool decode_utt(folio_decoder_t *d, const int16_t *pcm, size_t n)
{
    size_t warm = n < 4800 ? n : 4800;
    return ps_start_utt(d->ps) >= 0 && ps_process_raw(d->ps, pcm, warm, FALSE, TRUE) >= 0 &&
           ps_end_utt(d->ps) >= 0 && ps_start_utt(d->ps) >= 0 &&
           ps_process_raw(d->ps, pcm, n, FALSE, TRUE) >= 0 && ps_end_utt(d->ps) >= 0;
}

/* The words of the last utterance into @out (silences and fillers left out), with their
 * confidences. @lback >= 0 replaces each word's language-model back-off order (a grammar has
 * none). */
static int collect_words(folio_decoder_t *d, int lback, folio_rec_words_t *out)
{
    for (ps_seg_t *seg = ps_seg_iter(d->ps); seg; seg = ps_seg_next(seg)) {
        const char *word = ps_seg_word(seg);
        if (!word || word[0] == '<' || word[0] == '[') continue;
        folio_rec_word_t w = {0};
        w.gram = -1;
        size_t len = strcspn(word, "(");
        if (len >= sizeof(w.word)) len = sizeof(w.word) - 1;
        memcpy(w.word, word, len);
        ps_seg_frames(seg, &w.start_frame, &w.end_frame);
        int32 ascr = 0, lscr = 0, back = 0;
        ps_seg_prob(seg, &ascr, &lscr, &back);
        w.ascr = ascr;
        w.lscr = lscr;
        w.lback = lback >= 0 ? lback : back;
        if (VEC_PUSH(*out, w) < 0) {
            ps_seg_free(seg);
            return FOLIO_ENOMEM;
        }
    }
    confidences(out);
    return FOLIO_OK;
}

int folio__decoder_run(folio_decoder_t *d, const int16_t *pcm, size_t n, folio_rec_words_t *out)
{
    out->len = 0;
    if (n < 1600) return FOLIO_OK; /* under 0.1 s: nothing to recognise */
    folio__speech_log_to(d->ctx);
    int rc = decode_utt(d, pcm, n)
                 ? collect_words(d, -1, out)
                 : folio__error(d->ctx, FOLIO_EAUDIO, "pocketsphinx failed to decode a chunk");
    folio__speech_log_to(NULL);
    return rc;
}

void folio__decoder_config_align(folio_decoder_config_t *c)
{
    /* Forced alignment searches a tiny grammar: the beams can be wide (the facts measured on
     * this machine: 1e-100/1e-80 placed every word of a 20 s window within tens of ms). */
    c->beam = 1e-100;
    c->wbeam = 1e-80;
    c->pbeam = 1e-100;
    c->maxhmmpf = -1;
    c->ds = 1;
    c->topn = 2;
}

/* The grammar as states and arcs. States 0 .. n_slots are the slot boundaries (slot u from state
 * u to u + 1); a reading of more than one word has states of its own between its words. */
typedef struct {
    int32 from, to;
    size_t word; /* index in the grammar's words */
} arc_t;

typedef struct {
    size_t slot, first, len; /* its words: first .. first + len - 1 */
    int32 inner;             /* state after its first word when len > 1 */
} path_t;

typedef struct {
    VEC(path_t) paths;
    size_t *slot_first; /* per slot (and one past the last): its first path */
    size_t n_slots;
    int32 n_states;
    VEC(arc_t) arcs;
} lattice_t;

static void lattice_free(lattice_t *L)
{
    VEC_FREE(L->paths);
    VEC_FREE(L->arcs);
    free(L->slot_first);
}

/* The state a path reaches after its first word. */
static int32 path_entry(const path_t *p)
{
    return p->len > 1 ? p->inner : (int32)p->slot + 1;
}

static int lattice_build(const folio_grammar_t *g, lattice_t *L)
{
    memset(L, 0, sizeof(*L));
    for (size_t k = 0; k < g->n_words; k++) {
        bool start = !k || g->slot[k] != g->slot[k - 1] || g->reading[k] != g->reading[k - 1];
        if (start) {
            path_t p = {g->slot[k], k, 0, 0};
            if (VEC_PUSH(L->paths, p) < 0) return FOLIO_ENOMEM;
        }
        L->paths.items[L->paths.len - 1].len++;
    }
    L->n_slots = g->n_words ? g->slot[g->n_words - 1] + 1 : 0;
    L->slot_first = calloc(L->n_slots + 1, sizeof(size_t));
    if (!L->slot_first) return FOLIO_ENOMEM;
    L->n_states = (int32)L->n_slots + 1;
    for (size_t i = L->paths.len; i-- > 0;) L->slot_first[L->paths.items[i].slot] = i;
    L->slot_first[L->n_slots] = L->paths.len;
    for (size_t i = 0; i < L->paths.len; i++) {
        path_t *p = &L->paths.items[i];
        if (p->len > 1) {
            p->inner = L->n_states;
            L->n_states += (int32)(p->len - 1);
        }
    }
    return FOLIO_OK;
}

/* Add an arc to @fsg and remember it. */
static int arc_add(fsg_model_t *fsg, lattice_t *L, const folio_grammar_t *g, int32 from, int32 to,
                   size_t word, int32 logp)
{
    fsg_model_trans_add(fsg, from, to, logp, fsg_model_word_add(fsg, g->words[word]));
    arc_t a = {from, to, word};
    return VEC_PUSH(L->arcs, a) < 0 ? FOLIO_ENOMEM : FOLIO_OK;
}

/* Which grammar word each found word was: the path through the lattice that spells them (the
 * decoder reached the final state, so one does). Segments without a word (pocketsphinx reports
 * the null transition into the final state as one) are no grammar word. False when no path
 * spells the words. */
static bool parse_found(const lattice_t *L, const folio_grammar_t *g, folio_rec_words_t *out)
{
    size_t S = (size_t)L->n_states, m = 0;
    int32 final = (int32)L->n_slots;
    size_t *at = malloc((out->len + 1) * sizeof(size_t)); /* the found words that are words */
    if (!at) return false;
    for (size_t k = 0; k < out->len; k++)
        if (out->items[k].word[0]) at[m++] = k;
    /* back[k * S + s]: how state s was reached after k words: an arc, -3 the start (or a null
     * arc from it), NULL_FROM - u the null arc from state u into the final state, -1 not at all. */
    enum { NULL_FROM = -10 };
    long *back = malloc((m + 1) * S * sizeof(long));
    if (!back) {
        free(at);
        return false;
    }
    for (size_t i = 0; i < (m + 1) * S; i++) back[i] = -1;
    back[0] = -3;
    for (size_t u = 1; u <= g->open_start && u < L->n_slots; u++) back[u] = -3;
    size_t exits = g->open_end > 1 ? g->open_end : 1; /* slots that may be missing at the end */
    for (size_t k = 0; k <= m; k++) {
        long *row = back + k * S;
        for (size_t e = 1; e <= exits && (int32)e <= final; e++)
            if (row[final - (int32)e] != -1 && row[final] == -1)
                row[final] = NULL_FROM - (long)(final - (int32)e);
        if (k == m) break;
        const char *word = out->items[at[k]].word;
        for (size_t a = 0; a < L->arcs.len; a++) {
            const arc_t *arc = &L->arcs.items[a];
            if (row[arc->from] == -1 || back[(k + 1) * S + (size_t)arc->to] != -1) continue;
            if (strncmp(g->words[arc->word], word, sizeof(out->items[0].word) - 1) != 0) continue;
            back[(k + 1) * S + (size_t)arc->to] = (long)a;
        }
    }
    bool ok = back[m * S + (size_t) final] != -1;
    int32 state = final;
    for (size_t k = m; ok && k > 0;) {
        long how = back[k * S + (size_t)state];
        if (how <= NULL_FROM) {
            state = (int32)(NULL_FROM - how);
            continue;
        }
        const arc_t *arc = &L->arcs.items[how];
        out->items[at[k - 1]].gram = (long)arc->word;
        state = arc->from;
        k--;
    }
    free(back);
    free(at);
    return ok;
}

int folio__decoder_align(folio_decoder_t *d, const int16_t *pcm, size_t n, const folio_grammar_t *g,
                         folio_rec_words_t *out)
{
    out->len = 0;
    if (!g->n_words || n < 1600) return FOLIO_ENOMATCH;
    folio__speech_log_to(d->ctx);
    int rc = FOLIO_OK;
    lattice_t L;
    fsg_model_t *fsg = NULL;
    if ((rc = lattice_build(g, &L)) < 0) goto done;
    logmath_t *lmath = ps_get_logmath(d->ps);
    float32 lw = (float32)cmd_ln_float32_r(d->config, "-lw");
    fsg = fsg_model_init("align", lmath, lw, L.n_states);
    if (!fsg) {
        rc = FOLIO_ENOMEM;
        goto done;
    }
    fsg->start_state = 0;
    fsg->final_state = (int32)L.n_slots;
    int32 p_next = logmath_log(lmath, 0.98), p_skip1 = logmath_log(lmath, 0.015),
          p_skip2 = logmath_log(lmath, 0.005);
    for (size_t u = 0; u < L.n_slots && rc == FOLIO_OK; u++) {
        /* Each reading of slot u, from state u to u + 1 through its own states. */
        for (size_t i = L.slot_first[u]; i < L.slot_first[u + 1] && rc == FOLIO_OK; i++) {
            const path_t *p = &L.paths.items[i];
            rc = arc_add(fsg, &L, g, (int32)u, path_entry(p), p->first, p_next);
            for (size_t k = 1; k < p->len && rc == FOLIO_OK; k++)
                rc = arc_add(fsg, &L, g, p->inner + (int32)k - 1,
                             k + 1 < p->len ? p->inner + (int32)k : (int32)u + 1, p->first + k, 0);
        }
        /* Skipping slot u (saying a reading of u + 1 straight away), or slots u and u + 1. */
        for (size_t skip = 1; skip <= 2 && u + skip < L.n_slots && rc == FOLIO_OK; skip++)
            for (size_t i = L.slot_first[u + skip];
                 i < L.slot_first[u + skip + 1] && rc == FOLIO_OK; i++) {
                const path_t *p = &L.paths.items[i];
                rc = arc_add(fsg, &L, g, (int32)u, path_entry(p), p->first,
                             skip == 1 ? p_skip1 : p_skip2);
            }
    }
    if (rc < 0) goto done;
    /* The last slot may be missing too; at an open end, more of them. */
    fsg_model_null_trans_add(fsg, (int32)L.n_slots - 1, (int32)L.n_slots, p_skip1);
    int32 p_open = logmath_log(lmath, 0.002);
    for (size_t u = 1; u <= g->open_start && u < L.n_slots; u++)
        fsg_model_null_trans_add(fsg, 0, (int32)u, p_open);
    for (size_t k = 2; k <= g->open_end && k < L.n_slots; k++)
        fsg_model_null_trans_add(fsg, (int32)(L.n_slots - k), (int32)L.n_slots, p_open);
    fsg_model_add_silence(fsg, "<sil>", -1, 0.5f);
    fsg_model_add_silence(fsg, "[NOISE]", -1, 0.02f);
    /* Speech that is not in the window's text, before its first word and after its last (a
     * narrator's announcement before a chapter): absorbed by the model's spoken-noise filler. */
    fsg_model_add_silence(fsg, "[SPEECH]", 0, 0.05f);
    fsg_model_add_silence(fsg, "[SPEECH]", (int32)L.n_slots, 0.05f);
    if (ps_set_fsg(d->ps, "align", fsg) < 0 || ps_set_search(d->ps, "align") < 0) {
        rc = folio__error(d->ctx, FOLIO_EFORMAT, "pocketsphinx rejected an alignment grammar");
        goto done;
    }
    fsg_model_free(fsg); /* the search holds it */
    fsg = NULL;
    if (!decode_utt(d, pcm, n)) {
        rc = folio__error(d->ctx, FOLIO_EAUDIO, "pocketsphinx failed to align a window");
        goto restore;
    }
    int32 score;
    if (!ps_get_hyp(d->ps, &score)) {
        rc = FOLIO_ENOMATCH; /* the final state was not reached */
        goto restore;
    }
    /* Every word of a grammar is as expected as a trigram. */
    if ((rc = collect_words(d, 3, out)) < 0) goto restore;
    if (!parse_found(&L, g, out)) {
        folio__log(d->ctx, FOLIO_LOG_DEBUG, "the words found do not follow the grammar");
        out->len = 0;
        rc = FOLIO_ENOMATCH;
    }
restore:
    /* A recognition decoder goes back to its language model; "align" is replaced next time. */
    if (d->has_lm) ps_set_search(d->ps, "book");
done:
    if (fsg) fsg_model_free(fsg);
    lattice_free(&L);
    folio__speech_log_to(NULL);
    return rc;
}

typedef struct {
    int32 score;
    int32 wid;
} uni_t;

static int cmp_uni(const void *a, const void *b)
{
    const uni_t *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->wid > y->wid) - (x->wid < y->wid);
}

int folio__generic_top_words(folio_t *ctx, const char *model_dir, size_t n, folio_strs_t *out)
{
    char path[1100];
    snprintf(path, sizeof(path), "%s/en-us.lm.bin", model_dir);
    if (!readable(path))
        return folio__error(ctx, FOLIO_EIO, "%s: the generic language model is missing", path);
    folio__speech_log_to(ctx);
    cmd_ln_t *config = cmd_ln_init(NULL, ps_args(), TRUE, NULL);
    logmath_t *lmath = logmath_init(1.0001, 0, 0);
    ngram_model_t *lm = config && lmath ? ngram_model_read(config, path, NGRAM_AUTO, lmath) : NULL;
    int rc = FOLIO_OK;
    if (!lm) {
        rc = folio__error(ctx, FOLIO_EFORMAT, "%s: cannot read the generic language model", path);
        goto done;
    }
    /* Keep the @n most probable unigrams. */
    VEC(uni_t) all = {0};
    /* Debian's sphinxbase exports no n-gram iterator: score every word as a unigram. The number
     * of words is the count of 1-grams (ngram_model_get_size() is the model's order). */
    const uint32 *counts = ngram_model_get_counts(lm);
    int32 size = counts ? (int32)counts[0] : 0;
    for (int32 wid = 0; wid < size; wid++) {
        int32 used = 0;
        uni_t u = {ngram_ng_score(lm, wid, NULL, 0, &used), wid};
        if (VEC_PUSH(all, u) < 0) {
            rc = FOLIO_ENOMEM;
            goto done;
        }
    }
    /* By score, ties by word id: deterministic. */
    if (all.len) qsort(all.items, all.len, sizeof(uni_t), cmp_uni);
    for (size_t k = 0; k < all.len && out->len < n; k++) {
        const char *w = ngram_word(lm, all.items[k].wid);
        if (!w || w[0] == '<') continue;
        char *copy = folio__strdup(w);
        if (!copy || VEC_PUSH(*out, copy) < 0) {
            free(copy);
            rc = FOLIO_ENOMEM;
            break;
        }
    }
    VEC_FREE(all);
done:
    if (lm) ngram_model_free(lm);
    if (lmath) logmath_free(lmath);
    if (config) cmd_ln_free_r(config);
    folio__speech_log_to(NULL);
    return rc;
}
