/* Language models built by the engine: trigram counts with fractional weights (unread text and
 * alternative readings count less), smoothed by interpolated Witten-Bell and written as a
 * back-off ARPA model. Needs no recogniser: pocketsphinx only ever reads the file. */
#include "speech.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An n-gram's key: word ids joined as text ("12 7 301"). */
typedef struct {
    folio_map_t index; /* key -> slot */
    VEC(double) count;
    VEC(uint32_t) last; /* the n-gram's last word */
    VEC(size_t) hist;   /* slot of its history (n-1 gram) in the lower table; SIZE_MAX for n=1 */
} table_t;

struct folio_lm {
    folio_map_t vocab; /* word -> id */
    VEC(char *) words;
    table_t t[3]; /* unigrams, bigrams, trigrams */
    /* computed by folio__lm_finish */
    bool finished;
    double *p1;                            /* unigram probabilities by id */
    double *hist_count[2], *hist_types[2]; /* per unigram / bigram slot as a history */
    double *p[3];                          /* interpolated probability per slot of each table */
    size_t bos, eos;
};

folio_lm_t *folio__lm_new(void)
{
    folio_lm_t *lm = calloc(1, sizeof(*lm));
    if (!lm) return NULL;
    if (folio__lm_word(lm, "<s>", &lm->bos) < 0 || folio__lm_word(lm, "</s>", &lm->eos) < 0) {
        folio__lm_free(lm);
        return NULL;
    }
    return lm;
}

static void table_free(table_t *t)
{
    folio__map_free(&t->index);
    VEC_FREE(t->count);
    VEC_FREE(t->last);
    VEC_FREE(t->hist);
}

void folio__lm_free(folio_lm_t *lm)
{
    if (!lm) return;
    folio__map_free(&lm->vocab);
    for (size_t i = 0; i < lm->words.len; i++) free(lm->words.items[i]);
    VEC_FREE(lm->words);
    for (int n = 0; n < 3; n++) {
        table_free(&lm->t[n]);
        free(lm->p[n]);
    }
    for (int n = 0; n < 2; n++) {
        free(lm->hist_count[n]);
        free(lm->hist_types[n]);
    }
    free(lm->p1);
    free(lm);
}

int folio__lm_word(folio_lm_t *lm, const char *word, size_t *id)
{
    if (folio__map_get(&lm->vocab, word, id)) return FOLIO_OK;
    char *copy = folio__strdup(word);
    if (!copy || VEC_PUSH(lm->words, copy) < 0) {
        free(copy);
        return FOLIO_ENOMEM;
    }
    *id = lm->words.len - 1;
    return folio__map_put(&lm->vocab, word, *id);
}

size_t folio__lm_vocab_size(const folio_lm_t *lm)
{
    return lm->words.len;
}

const char *folio__lm_vocab_word(const folio_lm_t *lm, size_t id)
{
    return id < lm->words.len ? lm->words.items[id] : NULL;
}

/* Add @w to the count of the n-gram ids[0..n), creating it (and its history) if new. Returns
 * the slot. */
static int bump(folio_lm_t *lm, const size_t *ids, int n, double w, size_t *slot)
{
    char key[96];
    int len = 0;
    for (int i = 0; i < n; i++)
        len += snprintf(key + len, sizeof(key) - (size_t)len, "%s%zu", i ? " " : "", ids[i]);
    table_t *t = &lm->t[n - 1];
    size_t s;
    if (!folio__map_get(&t->index, key, &s)) {
        size_t h = SIZE_MAX;
        if (n > 1) {
            int rc = bump(lm, ids, n - 1, 0, &h);
            if (rc < 0) return rc;
        }
        double zero = 0;
        uint32_t last = (uint32_t)ids[n - 1];
        s = t->count.len;
        if (VEC_PUSH(t->count, zero) < 0 || VEC_PUSH(t->last, last) < 0 ||
            VEC_PUSH(t->hist, h) < 0 || folio__map_put(&t->index, key, s) < 0)
            return FOLIO_ENOMEM;
    }
    t->count.items[s] += w;
    *slot = s;
    return FOLIO_OK;
}

int folio__lm_add(folio_lm_t *lm, const char *const *tokens, size_t n, double weight, bool bos,
                  bool eos)
{
    if (lm->finished) return FOLIO_EINVAL;
    size_t ids[3];
    size_t have = 0, slot;
    int rc;
    size_t total = n + (bos ? 1 : 0) + (eos ? 1 : 0);
    for (size_t i = 0; i < total; i++) {
        size_t id;
        if (bos && i == 0) {
            id = lm->bos;
        } else if (eos && i == total - 1) {
            id = lm->eos;
        } else if ((rc = folio__lm_word(lm, tokens[i - (bos ? 1 : 0)], &id)) < 0) {
            return rc;
        }
        if (have == 3) {
            ids[0] = ids[1];
            ids[1] = ids[2];
            have = 2;
        }
        ids[have++] = id;
        /* Every n-gram ending here; <s> is never predicted, so it has no unigram of its own. */
        for (size_t k = 1; k <= have; k++) {
            const size_t *g = ids + have - k;
            if (k == 1 && g[0] == lm->bos) continue;
            if ((rc = bump(lm, g, (int)k, weight, &slot)) < 0) return rc;
        }
    }
    return FOLIO_OK;
}

/* Probability of @w after the bigram-table history slot @h (or unigram if none). */
static double prob2(const folio_lm_t *lm, size_t v, size_t w);

int folio__lm_finish(folio_lm_t *lm)
{
    if (lm->finished) return FOLIO_OK;
    size_t V = lm->words.len;
    table_t *t1 = &lm->t[0], *t2 = &lm->t[1], *t3 = &lm->t[2];
    lm->p1 = calloc(V, sizeof(double));
    for (int n = 0; n < 2; n++) {
        size_t slots = lm->t[n].count.len + 1;
        lm->hist_count[n] = calloc(slots, sizeof(double));
        lm->hist_types[n] = calloc(slots, sizeof(double));
        if (!lm->hist_count[n] || !lm->hist_types[n]) return FOLIO_ENOMEM;
    }
    for (int n = 0; n < 3; n++)
        if (!(lm->p[n] = calloc(lm->t[n].count.len + 1, sizeof(double)))) return FOLIO_ENOMEM;
    if (!lm->p1) return FOLIO_ENOMEM;
    /* History totals and continuation types. */
    for (int n = 1; n < 3; n++) {
        table_t *t = &lm->t[n];
        for (size_t s = 0; s < t->count.len; s++) {
            if (t->count.items[s] <= 0) continue;
            lm->hist_count[n - 1][t->hist.items[s]] += t->count.items[s];
            lm->hist_types[n - 1][t->hist.items[s]] += 1;
        }
    }
    /* Unigrams: Witten-Bell against a uniform distribution over the predictable words. */
    double N = 0, T = 0;
    size_t predictable = V - 1; /* all but <s> */
    for (size_t s = 0; s < t1->count.len; s++)
        if (t1->count.items[s] > 0) N += t1->count.items[s], T += 1;
    double uniform = 1.0 / (double)predictable;
    double lambda_num = N, lambda_den = N + T;
    for (size_t id = 0; id < V; id++) {
        if (id == lm->bos) continue;
        char key[24];
        snprintf(key, sizeof(key), "%zu", id);
        size_t s;
        double c = folio__map_get(&t1->index, key, &s) ? t1->count.items[s] : 0;
        lm->p1[id] = lambda_den > 0 ? (c + T * uniform) / lambda_den : uniform;
    }
    (void)lambda_num;
    for (size_t s = 0; s < t1->count.len; s++) lm->p[0][s] = lm->p1[t1->last.items[s]];
    /* Bigrams and trigrams: interpolated with the order below. */
    for (size_t s = 0; s < t2->count.len; s++) {
        size_t h = t2->hist.items[s];
        double ch = lm->hist_count[0][h], th = lm->hist_types[0][h];
        lm->p[1][s] = (t2->count.items[s] + th * lm->p1[t2->last.items[s]]) / (ch + th);
    }
    lm->finished = true; /* prob2 needs the bigram probabilities */
    for (size_t s = 0; s < t3->count.len; s++) {
        size_t h = t3->hist.items[s];
        double ch = lm->hist_count[1][h], th = lm->hist_types[1][h];
        size_t v = t2->last.items[h], w = t3->last.items[s];
        lm->p[2][s] = (t3->count.items[s] + th * prob2(lm, v, w)) / (ch + th);
    }
    return FOLIO_OK;
}

static bool slot_of(const folio_lm_t *lm, int n, const size_t *ids, size_t *slot)
{
    char key[96];
    int len = 0;
    for (int i = 0; i < n; i++)
        len += snprintf(key + len, sizeof(key) - (size_t)len, "%s%zu", i ? " " : "", ids[i]);
    return folio__map_get(&lm->t[n - 1].index, key, slot);
}

/* Back-off weight of a history slot: the probability mass left for unseen continuations. */
static double bow(const folio_lm_t *lm, int order, size_t hslot)
{
    double ch = lm->hist_count[order - 1][hslot], th = lm->hist_types[order - 1][hslot];
    return ch + th > 0 ? th / (ch + th) : 1.0;
}

static double prob2(const folio_lm_t *lm, size_t v, size_t w)
{
    size_t ids[2] = {v, w}, s, h;
    if (slot_of(lm, 2, ids, &s) && lm->t[1].count.items[s] > 0) return lm->p[1][s];
    double b = slot_of(lm, 1, ids, &h) && lm->hist_count[0][h] > 0 ? bow(lm, 1, h) : 1.0;
    if (v == lm->bos && !slot_of(lm, 1, ids, &h)) b = 1.0;
    return b * lm->p1[w];
}

double folio__lm_prob(const folio_lm_t *lm, const char *u, const char *v, const char *w)
{
    size_t iu = 0, iv = 0, iw;
    if (!lm->finished || !folio__map_get(&lm->vocab, w, &iw)) return 0;
    if (v && !folio__map_get(&lm->vocab, v, &iv)) v = NULL;
    if (u && (!v || !folio__map_get(&lm->vocab, u, &iu))) u = NULL;
    if (!v) return iw == lm->bos ? 0 : lm->p1[iw];
    if (!u) return prob2(lm, iv, iw);
    size_t ids[3] = {iu, iv, iw}, s, h;
    if (slot_of(lm, 3, ids, &s) && lm->t[2].count.items[s] > 0) return lm->p[2][s];
    double b = slot_of(lm, 2, ids, &h) && lm->hist_count[1][h] > 0 ? bow(lm, 2, h) : 1.0;
    return b * prob2(lm, iv, iw);
}

/* The history slot of a bigram/unigram slot, as used for back-off weights. */
static int write_ngrams(const folio_lm_t *lm, FILE *f, int n)
{
    const table_t *t = &lm->t[n - 1];
    fprintf(f, "\n\\%d-grams:\n", n);
    for (size_t s = 0; s < t->count.len; s++) {
        if (n > 1 && t->count.items[s] <= 0) continue;
        /* The words, from the chain of histories. */
        size_t ids[3], slot = s;
        for (int k = n - 1; k >= 0; k--) {
            ids[k] = lm->t[k].last.items[slot];
            slot = lm->t[k].hist.items[slot];
        }
        double p = n == 1 ? (ids[0] == lm->bos ? 0 : lm->p1[ids[0]]) : lm->p[n - 1][s];
        fprintf(f, "%.6f", p > 0 ? log10(p) : -99.0);
        for (int k = 0; k < n; k++) fprintf(f, " %s", lm->words.items[ids[k]]);
        if (n < 3) {
            double ch = lm->hist_count[n - 1][s];
            if (ch > 0) fprintf(f, " %.6f", log10(bow(lm, n, s)));
        }
        fputc('\n', f);
    }
    return ferror(f) ? FOLIO_EIO : FOLIO_OK;
}

int folio__lm_write_arpa(folio_lm_t *lm, const char *path)
{
    int rc = folio__lm_finish(lm);
    if (rc < 0) return rc;
    /* Words never seen as unigrams (vocabulary added without counts) still need an entry. */
    size_t slot;
    for (size_t id = 0; id < lm->words.len; id++) {
        size_t ids[1] = {id};
        if (!slot_of(lm, 1, ids, &slot)) {
            char key[24];
            snprintf(key, sizeof(key), "%zu", id);
            double zero = 0;
            uint32_t last = (uint32_t)id;
            size_t h = SIZE_MAX;
            table_t *t = &lm->t[0];
            if (VEC_PUSH(t->count, zero) < 0 || VEC_PUSH(t->last, last) < 0 ||
                VEC_PUSH(t->hist, h) < 0 || folio__map_put(&t->index, key, t->count.len - 1) < 0)
                return FOLIO_ENOMEM;
            double *hc = realloc(lm->hist_count[0], (t->count.len + 1) * sizeof(double));
            double *ht = realloc(lm->hist_types[0], (t->count.len + 1) * sizeof(double));
            if (hc) lm->hist_count[0] = hc;
            if (ht) lm->hist_types[0] = ht;
            if (!hc || !ht) return FOLIO_ENOMEM;
            lm->hist_count[0][t->count.len - 1] = 0;
            lm->hist_types[0][t->count.len - 1] = 0;
        }
    }
    FILE *f = fopen(path, "w");
    if (!f) return FOLIO_EIO;
    size_t counts[3] = {lm->t[0].count.len, 0, 0};
    for (int n = 1; n < 3; n++)
        for (size_t s = 0; s < lm->t[n].count.len; s++) counts[n] += lm->t[n].count.items[s] > 0;
    fprintf(f, "\\data\\\nngram 1=%zu\nngram 2=%zu\nngram 3=%zu\n", counts[0], counts[1],
            counts[2]);
    for (int n = 1; n <= 3 && rc >= 0; n++) rc = write_ngrams(lm, f, n);
    fprintf(f, "\n\\end\\\n");
    if (fclose(f) != 0 && rc >= 0) rc = FOLIO_EIO;
    return rc;
}
