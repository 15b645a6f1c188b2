/* Narration: each chapter becomes one audio file spoken by a flite voice, with the perturbations
 * of the definition, and every word's exact start and end from the utterance's segments. */
#include "mkcorpus.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>
#include <sndfile.h>
#include <soxr.h>
#include <unicode/ustring.h>
#include <unicode/utrans.h>

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

#define RATE 16000

typedef struct {
    int16_t *s;
    size_t n, cap;
} pcm_t;

static void pcm_add(pcm_t *p, const int16_t *s, size_t n)
{
    if (p->n + n > p->cap) {
        while (p->n + n > p->cap) p->cap = p->cap ? p->cap * 2 : (size_t)RATE * 60;
        p->s = xrealloc(p->s, p->cap * sizeof(int16_t));
    }
    if (s)
        memcpy(p->s + p->n, s, n * sizeof(int16_t));
    else
        memset(p->s + p->n, 0, n * sizeof(int16_t));
    p->n += n;
}

static cst_voice *voice(const char *name)
{
    static cst_voice *cache[4];
    static bool init;
    if (!init) {
        flite_init();
        init = true;
    }
    static const char *names[4] = {"slt", "rms", "awb", "kal16"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, names[i]) != 0) continue;
        if (!cache[i]) {
            cache[i] = i == 0   ? register_cmu_us_slt(NULL)
                       : i == 1 ? register_cmu_us_rms(NULL)
                       : i == 2 ? register_cmu_us_awb(NULL)
                                : register_cmu_us_kal16(NULL);
        }
        return cache[i];
    }
    die("unknown voice '%s' (slt, rms, awb, kal16)", name);
}

/* A word as flite should see it: ASCII, one whitespace token. */
static char *flite_word(const char *w)
{
    static const struct {
        const char *from, *to;
    } map[] = {{"\xe2\x80\x98", "'"},   {"\xe2\x80\x99", "'"},  {"\xe2\x80\x9c", "\""},
               {"\xe2\x80\x9d", "\""},  {"\xe2\x80\x94", "-"},  {"\xe2\x80\x93", "-"},
               {"\xe2\x80\xa6", "..."}, {"\xef\xac\x81", "fi"}, {"\xef\xac\x82", "fl"},
               {"\xc2\xad", ""},        {"\xc2\xa0", ""}};
    if (strcmp(w, "&") == 0) return xstrdup("and");
    char buf[1024];
    size_t o = 0;
    /* "£20" is said "twenty pounds": flite reads "20-pounds" that way. */
    const char *pound = strstr(w, "\xc2\xa3");
    for (const char *p = w; *p && o + 8 < sizeof(buf);) {
        if (p == pound) {
            p += 2;
            continue;
        }
        bool done = false;
        for (size_t k = 0; k < sizeof(map) / sizeof(map[0]) && !done; k++) {
            size_t l = strlen(map[k].from);
            if (strncmp(p, map[k].from, l) == 0) {
                memcpy(buf + o, map[k].to, strlen(map[k].to));
                o += strlen(map[k].to);
                p += l;
                done = true;
            }
        }
        if (!done) buf[o++] = *p++;
    }
    buf[o] = '\0';
    if (pound) {
        /* Keep trailing punctuation after the unit: "£20." -> "20-pounds." */
        size_t digits = 0;
        while (buf[digits] &&
               (isdigit((unsigned char)buf[digits]) || buf[digits] == ',' || buf[digits] == '.'))
            digits++;
        while (digits && !isdigit((unsigned char)buf[digits - 1])) digits--;
        char tail[256];
        xsnprintf(tail, sizeof(tail), "%s", buf + digits);
        snprintf(buf + digits, sizeof(buf) - digits, "-pounds%s", tail);
    }
    bool ascii = true;
    for (char *p = buf; *p; p++) ascii = ascii && (unsigned char)*p < 0x80;
    if (ascii) return xstrdup(buf);
    /* Anything else non-ASCII: ICU's Latin-ASCII transliteration. */
    UErrorCode e = U_ZERO_ERROR;
    static const UChar id[] = {'A', 'n', 'y', '-', 'L', 'a', 't', 'i', 'n', ';', ' ', 'L',
                               'a', 't', 'i', 'n', '-', 'A', 'S', 'C', 'I', 'I', 0};
    UTransliterator *t = utrans_openU(id, -1, UTRANS_FORWARD, NULL, 0, NULL, &e);
    UChar u[2048];
    int32_t len = 0;
    u_strFromUTF8(u, 1024, &len, buf, -1, &e);
    int32_t limit = len;
    utrans_transUChars(t, u, &len, 2048, 0, &limit, &e);
    utrans_close(t);
    size_t k = 0;
    for (int32_t i = 0; i < len && k + 1 < sizeof(buf); i++)
        if (u[i] < 0x80 && !isspace(u[i])) buf[k++] = (char)u[i];
    buf[k] = '\0';
    return xstrdup(k ? buf : "-");
}

void file_add_utterance(cfile_t *f, const char *kind, double start, double end, double seg_end,
                        const char *text)
{
    if (f->n_utt == f->cap_utt) {
        f->cap_utt = f->cap_utt ? f->cap_utt * 2 : 64;
        f->utt = xrealloc(f->utt, (size_t)f->cap_utt * sizeof(*f->utt));
    }
    struct utterance *u = &f->utt[f->n_utt++];
    xsnprintf(u->kind, sizeof(u->kind), "%s", kind);
    u->start = start;
    u->end = end;
    u->seg_end = seg_end;
    u->text = xstrdup(text);
}

void file_free(cfile_t *f)
{
    for (int k = 0; k < f->n_ins; k++) free(f->ins[k].text);
    for (int k = 0; k < f->n_utt; k++) free(f->utt[k].text);
    free(f->utt);
    f->utt = NULL;
    f->n_ins = f->n_utt = f->cap_utt = 0;
}

/* Speak @text and record it in @f as an utterance of @kind; if @blk is given, its words get their
 * times (offset by the current length of @pcm). Returns the utterance's length in seconds. */
static double speak(pcm_t *pcm, cst_voice *v, const char *text, cblock_t *blk, int file, cfile_t *f,
                    const char *kind)
{
    cst_utterance *u = flite_synth_text(text, v);
    cst_wave *w = utt_wave(u);
    if (cst_wave_sample_rate(w) != RATE)
        die("voice sample rate %d, expected %d", cst_wave_sample_rate(w), RATE);
    double offset = (double)pcm->n / RATE;
    size_t k = 0;
    for (cst_item *t = relation_head(utt_relation(u, "Token")); t; t = item_next(t), k++) {
        if (!blk) continue;
        if (k >= blk->n) die("flite made more tokens than words in \"%.60s\"", text);
        cword_t *word = &blk->w[k];
        double start = -1, end = -1;
        char said[1024] = "";
        size_t sl = 0;
        for (cst_item *wd = item_daughter(t); wd; wd = item_next(wd)) {
            cst_item *ss = item_as(wd, "SylStructure");
            cst_item *syl = ss ? item_daughter(ss) : NULL;
            cst_item *first = syl ? item_daughter(syl) : NULL;
            cst_item *lastsyl = ss ? item_last_daughter(ss) : NULL;
            cst_item *last = lastsyl ? item_last_daughter(lastsyl) : NULL;
            if (!first || !last) continue; /* a word with no sounds ("&" read as nothing) */
            cst_item *prev = item_prev(item_as(first, "Segment"));
            double s = prev ? ffeature_float(prev, "end") : 0.0;
            double e = ffeature_float(last, "end");
            if (start < 0) start = s;
            end = e;
            sl += (size_t)snprintf(said + sl, sizeof(said) - sl, "%s%s", sl ? " " : "",
                                   item_feat_string(wd, "name"));
        }
        if (start >= 0) {
            word->read = true;
            word->timed = true;
            word->file = file;
            word->start = offset + start;
            word->end = offset + end;
            word->said = xstrdup(said);
        }
    }
    if (blk && k != blk->n)
        die("flite made %zu tokens for %zu words in \"%.60s\"", k, blk->n, text);
    size_t n = (size_t)cst_wave_num_samples(w);
    cst_item *last_seg = relation_tail(utt_relation(u, "Segment"));
    double seg_end = last_seg ? ffeature_float(last_seg, "end") : 0.0;
    file_add_utterance(f, kind, offset, offset + (double)n / RATE, offset + seg_end, text);
    pcm_add(pcm, w->samples, n);
    delete_utterance(u);
    return (double)n / RATE;
}

static void silence(pcm_t *pcm, double sec)
{
    pcm_add(pcm, NULL, (size_t)(sec * RATE + 0.5));
}

static void record(cfile_t *f, const char *kind, double start, double end, const char *text)
{
    if (f->n_ins >= 16) die("too many inserted stretches in one file");
    struct inserted *in = &f->ins[f->n_ins++];
    xsnprintf(in->kind, sizeof(in->kind), "%s", kind);
    in->start = start;
    in->end = end;
    in->text = text ? xstrdup(text) : NULL;
}

static bool in_list(const int *list, int n, int v)
{
    for (int i = 0; i < n; i++)
        if (list[i] == v) return true;
    return false;
}

/* Inserted speech: say it and record it as not in the book. */
static void insert_speech(pcm_t *pcm, cst_voice *v, cfile_t *f, const char *kind, const char *text,
                          int file, double *inserted)
{
    double start = (double)pcm->n / RATE;
    double len = speak(pcm, v, text, NULL, file, f, kind);
    record(f, kind, start, start + len, text);
    *inserted += len;
}

static uint64_t rng_state;
static double gauss(void)
{
    /* xorshift64* and Box-Muller: deterministic noise for a given seed. */
    double u[2];
    for (int i = 0; i < 2; i++) {
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        u[i] = ((double)((rng_state * 2685821657736338717ull) >> 11) + 0.5) / 9007199254740992.0;
    }
    return sqrt(-2.0 * log(u[0])) * cos(2.0 * M_PI * u[1]);
}

static void add_noise(pcm_t *pcm, double snr_db, unsigned seed, int file)
{
    double sum = 0;
    size_t voiced = 0;
    for (size_t i = 0; i < pcm->n; i++)
        if (abs(pcm->s[i]) > 64) sum += (double)pcm->s[i] * pcm->s[i], voiced++;
    double rms = voiced ? sqrt(sum / (double)voiced) : 1000.0;
    double sd = rms / pow(10.0, snr_db / 20.0);
    rng_state = 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32) ^ (uint64_t)(file + 1);
    for (size_t i = 0; i < pcm->n; i++) {
        double v = pcm->s[i] + sd * gauss();
        pcm->s[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}

/* The encoder delay left in a decoded file: the lag (in 16 kHz samples) that best matches the
 * decoded audio to the original over the first 20 s. */
static double measure_lag(const pcm_t *orig, const float *dec16, size_t n16)
{
    size_t win = orig->n < 20 * RATE ? orig->n : 20 * RATE;
    if (n16 < win) win = n16;
    int best = 0;
    double best_v = -1e300;
    for (int lag = -800; lag <= 800; lag++) {
        double v = 0;
        for (size_t i = 1000; i + 1000 < win; i += 2) {
            long j = (long)i + lag;
            if (j < 0 || (size_t)j >= n16) continue;
            v += orig->s[i] * (double)dec16[j];
        }
        if (v > best_v) best_v = v, best = lag;
    }
    return (double)best / RATE;
}

static void write_audio(const conf_t *c, const pcm_t *pcm, const char *path, cfile_t *f)
{
    SF_INFO info = {0};
    info.channels = c->mp3 ? 2 : 1;
    info.samplerate = c->mp3 ? 44100 : RATE;
    info.format =
        c->mp3 ? (SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III) : (SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    char tmp[2048];
    xsnprintf(tmp, sizeof(tmp), "%s.part", path);
    SNDFILE *sf = sf_open(tmp, SFM_WRITE, &info);
    if (!sf) die("%s: %s", tmp, sf_strerror(NULL));
    if (!c->mp3) {
        if (sf_write_short(sf, pcm->s, (sf_count_t)pcm->n) != (sf_count_t)pcm->n)
            die("%s: write", tmp);
    } else {
        /* 44.1 kHz stereo, as MP3 audiobooks come. */
        float *in = xmalloc(pcm->n * sizeof(float));
        for (size_t i = 0; i < pcm->n; i++) in[i] = pcm->s[i] / 32768.0f;
        size_t olen = (size_t)((double)pcm->n * 44100 / RATE) + 64;
        float *out = xmalloc(olen * sizeof(float));
        size_t done = 0;
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        soxr_error_t e =
            soxr_oneshot(RATE, 44100, 1, in, pcm->n, NULL, out, olen, &done, NULL, &q, NULL);
        if (e) die("soxr: %s", e);
        float *st = xmalloc(done * 2 * sizeof(float));
        for (size_t i = 0; i < done; i++) st[2 * i] = st[2 * i + 1] = out[i] * 0.9f;
        if (sf_writef_float(sf, st, (sf_count_t)done) != (sf_count_t)done) die("%s: write", tmp);
        free(in);
        free(out);
        free(st);
    }
    sf_close(sf);
    if (rename(tmp, path) != 0) die("%s: rename", path);

    /* The truth is about the file as a decoder sees it: measure that. */
    SF_INFO ri = {0};
    SNDFILE *rf = sf_open(path, SFM_READ, &ri);
    if (!rf) die("%s: cannot read back: %s", path, sf_strerror(NULL));
    f->sample_rate = ri.samplerate;
    f->channels = ri.channels;
    float *all = xmalloc((size_t)ri.frames * (size_t)ri.channels * sizeof(float) + 16);
    sf_count_t got = sf_readf_float(rf, all, ri.frames);
    sf_close(rf);
    f->duration = (double)got / ri.samplerate;
    f->lag_sec = 0;
    if (c->mp3) {
        float *mono = xmalloc((size_t)got * sizeof(float));
        for (sf_count_t i = 0; i < got; i++) mono[i] = all[i * ri.channels];
        size_t olen = (size_t)((double)got * RATE / ri.samplerate) + 64, done = 0;
        float *d16 = xmalloc(olen * sizeof(float));
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
        soxr_oneshot(ri.samplerate, RATE, 1, mono, (size_t)got, NULL, d16, olen, &done, NULL, &q,
                     NULL);
        f->lag_sec = measure_lag(pcm, d16, done);
        free(mono);
        free(d16);
    }
    free(all);
}

void synth_chapter(const conf_t *c, cbook_t *book, int ci, const char *outdir, cfile_t *f)
{
    const cchapter_t *ch = &book->ch[ci];
    memset(f, 0, sizeof(*f));
    xsnprintf(f->voice, sizeof(f->voice), "%s", c->voices[ci % c->n_voices]);
    f->stretch = in_list(c->fast_files, c->n_fast, ci + 1) ? c->stretch : 1.0;
    f->noise = c->noise_snr_db > 0 && in_list(c->noise_files, c->n_noise, ci + 1);
    xsnprintf(f->path, sizeof(f->path), "%03d.%s", ci + 1, c->mp3 ? "mp3" : "wav");
    cst_voice *v = voice(f->voice);
    feat_set_float(v->features, "duration_stretch", (float)f->stretch);

    pcm_t pcm = {0};
    double inserted = 0, speech = 0;
    silence(&pcm, 0.5);
    inserted += 0.5;
    char text[1024];
    if (c->preamble) {
        xsnprintf(text, sizeof(text),
                  "Chapter %d of %s. This is a Folio corpus recording, read by "
                  "a synthetic voice for measuring alignment.",
                  ci + 1, book->title);
        insert_speech(&pcm, v, f, "preamble", text, ci, &inserted);
        silence(&pcm, 1.0);
        inserted += 1.0;
    }
    for (size_t b = ch->first; b < ch->first + ch->count; b++) {
        cblock_t *blk = &book->b[b];
        if (blk->kind == K_NOTE) continue;
        if (blk->kind == K_PARA && ci + 1 == c->skip_chapter && blk->para == c->skip_para)
            continue; /* the paragraph the narrator skips */
        size_t len = 0;
        char *in = xmalloc(1);
        in[0] = '\0';
        for (size_t k = 0; k < blk->n; k++) {
            char *fw = flite_word(blk->w[k].text);
            in = xrealloc(in, len + strlen(fw) + 2);
            len += (size_t)sprintf(in + len, "%s%s", k ? " " : "", fw);
            free(fw);
        }
        speech += speak(&pcm, v, in, blk, ci, f, blk->kind == K_HEADING ? "heading" : "paragraph");
        free(in);
        double gap = blk->kind == K_HEADING ? 1.0 : 0.6;
        silence(&pcm, gap);
        inserted += gap;
        if (blk->kind == K_PARA && ci + 1 == c->add_chapter && blk->para == c->add_para) {
            insert_speech(&pcm, v, f, "added",
                          "And here, if you will forgive me, I must add a word of my own about "
                          "the weather on the day this was recorded.",
                          ci, &inserted);
            silence(&pcm, 0.6);
            inserted += 0.6;
        }
        if (blk->kind == K_PARA && ci + 1 == c->silence_file && blk->para == c->silence_para) {
            double start = (double)pcm.n / RATE;
            silence(&pcm, c->silence_sec);
            inserted += c->silence_sec;
            record(f, "silence", start, start + c->silence_sec, NULL);
        }
    }
    if (c->outro) {
        xsnprintf(text, sizeof(text), "End of chapter %d.", ci + 1);
        insert_speech(&pcm, v, f, "outro", text, ci, &inserted);
    }
    silence(&pcm, 1.0);
    inserted += 1.0;
    if (f->noise) add_noise(&pcm, c->noise_snr_db, c->seed, ci);
    f->speech_sec = speech;
    f->inserted_sec = inserted;
    char path[2048];
    xsnprintf(path, sizeof(path), "%s/%s", outdir, f->path);
    write_audio(c, &pcm, path, f);
    /* Times in the truth are for the decoded file: shift by any encoder delay left in it. */
    if (f->lag_sec != 0)
        for (size_t b = ch->first; b < ch->first + ch->count; b++)
            for (size_t k = 0; k < book->b[b].n; k++)
                if (book->b[b].w[k].read) {
                    book->b[b].w[k].start += f->lag_sec;
                    book->b[b].w[k].end += f->lag_sec;
                }
    for (int i = 0; i < f->n_ins; i++) {
        f->ins[i].start += f->lag_sec;
        f->ins[i].end += f->lag_sec;
    }
    for (int i = 0; i < f->n_utt; i++) {
        f->utt[i].start += f->lag_sec;
        f->utt[i].end += f->lag_sec;
        f->utt[i].seg_end += f->lag_sec;
    }
    free(pcm.s);
}

/* Speech starts in a recording: the first 10 ms frame whose RMS reaches a tenth of the loudest
 * frame's. */
static double onset(const int16_t *s, size_t n)
{
    size_t frame = RATE / 100, nf = n / frame;
    double max = 0, first = -1;
    double *e = xmalloc((nf ? nf : 1) * sizeof(double));
    for (size_t i = 0; i < nf; i++) {
        double sum = 0;
        for (size_t k = 0; k < frame; k++) sum += (double)s[i * frame + k] * s[i * frame + k];
        e[i] = sqrt(sum / (double)frame);
        if (e[i] > max) max = e[i];
    }
    for (size_t i = 0; i < nf && first < 0; i++)
        if (e[i] >= 0.1 * max) first = (double)(i * frame) / RATE;
    free(e);
    return first < 0 ? 0 : first;
}

void clips_build(const conf_t *c, cbook_t *book, const char *outdir, cfile_t *f)
{
    memset(f, 0, sizeof(*f));
    xsnprintf(f->path, sizeof(f->path), "001.wav");
    xsnprintf(f->voice, sizeof(f->voice), "recording");
    f->stretch = 1.0;
    pcm_t pcm = {0};
    silence(&pcm, 0.5);
    double inserted = 0.5, speech = 0;
    for (size_t k = 0; k < book->n_clips; k++) {
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(book->clip_path[k], SFM_READ, &info);
        if (!sf) die("%s: %s", book->clip_path[k], sf_strerror(NULL));
        float *in = xmalloc((size_t)info.frames * (size_t)info.channels * sizeof(float) + 16);
        sf_count_t got = sf_readf_float(sf, in, info.frames);
        sf_close(sf);
        for (sf_count_t i = 0; i < got; i++) {
            double sum = 0;
            for (int ch = 0; ch < info.channels; ch++) sum += in[i * info.channels + ch];
            in[i] = (float)(sum / info.channels);
        }
        size_t olen = (size_t)((double)got * RATE / info.samplerate) + 64, done = 0;
        float *out = xmalloc(olen * sizeof(float));
        soxr_quality_spec_t q = soxr_quality_spec(SOXR_VHQ, 0);
        soxr_error_t e = soxr_oneshot(info.samplerate, RATE, 1, in, (size_t)got, NULL, out, olen,
                                      &done, NULL, &q, NULL);
        if (e) die("soxr: %s", e);
        int16_t *s16 = xmalloc(done * sizeof(int16_t) + 2);
        for (size_t i = 0; i < done; i++) {
            double v = out[i] * 32768.0;
            s16[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
        }
        double start = (double)pcm.n / RATE, len = (double)done / RATE;
        double on = onset(s16, done);
        for (size_t b = 0; b < book->nb; b++)
            for (size_t w = 0; w < book->b[b].n; w++) {
                cword_t *word = &book->b[b].w[w];
                if (word->clip != (int)k + 1) continue;
                word->timed = true;
                word->start = start + on;
                word->end = start + len;
            }
        pcm_add(&pcm, s16, done);
        speech += len;
        silence(&pcm, c->gap_sec);
        inserted += c->gap_sec;
        free(in);
        free(out);
        free(s16);
    }
    /* Every clip paragraph is read; the heading and the framing paragraphs are not. */
    for (size_t b = 0; b < book->nb; b++)
        for (size_t w = 0; w < book->b[b].n; w++) {
            cword_t *word = &book->b[b].w[w];
            word->read =
                book->b[b].kind == K_PARA && book->b[b].para > 0 && book->b[b].chapter >= 0;
            word->file = word->read ? 0 : -1;
            if (!word->read) word->timed = false;
        }
    f->speech_sec = speech;
    f->inserted_sec = inserted;
    char path[2048];
    xsnprintf(path, sizeof(path), "%s/%s", outdir, f->path);
    write_audio(c, &pcm, path, f);
    free(pcm.s);
}

/* Decode @path with Debian's ffmpeg into 16 kHz mono samples. */
static int16_t *ffmpeg_decode(const char *path, size_t *n)
{
    char cmd[4300];
    xsnprintf(cmd, sizeof(cmd), "ffmpeg -v error -i '%s' -f s16le -ac 1 -ar 16000 -", path);
    FILE *p = popen(cmd, "r");
    if (!p) die("cannot run ffmpeg");
    size_t cap = 1 << 22, len = 0;
    int16_t *s = xmalloc(cap * sizeof(int16_t));
    size_t got;
    while ((got = fread(s + len, sizeof(int16_t), cap - len, p)) > 0) {
        len += got;
        if (len == cap) s = xrealloc(s, (cap *= 2) * sizeof(int16_t));
    }
    if (pclose(p) != 0) die("ffmpeg could not decode %s", path);
    *n = len;
    return s;
}

void m4b_assemble(const conf_t *c, cbook_t *book, cfile_t *files, int n, const char *outdir)
{
    (void)c;
    char list[2048], meta[2048], out[2048], cmd[8192];
    xsnprintf(list, sizeof(list), "%s/.files.txt", outdir);
    xsnprintf(meta, sizeof(meta), "%s/.chapters.txt", outdir);
    xsnprintf(out, sizeof(out), "%s/book.m4b", outdir);
    FILE *l = fopen(list, "w"), *m = fopen(meta, "w");
    if (!l || !m) die("%s: cannot write", outdir);
    fprintf(m, ";FFMETADATA1\ntitle=%s\nartist=%s\n", book->title, book->author);
    double at = 0;
    pcm_t all = {0};
    double *offsets = xmalloc((size_t)n * sizeof(double));
    for (int i = 0; i < n; i++) {
        char wav[2100];
        xsnprintf(wav, sizeof(wav), "%s/%s", outdir, files[i].path);
        fprintf(l, "file '%s'\n", files[i].path);
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(wav, SFM_READ, &info);
        if (!sf) die("%s: %s", wav, sf_strerror(NULL));
        int16_t *s = xmalloc((size_t)info.frames * sizeof(int16_t) + 2);
        sf_count_t got = sf_read_short(sf, s, info.frames);
        sf_close(sf);
        pcm_add(&all, s, (size_t)got);
        free(s);
        offsets[i] = at;
        double len = (double)got / RATE;
        /* Chapter titles must not break the metadata syntax. */
        char title[512];
        size_t k = 0;
        const char *t = book->ch[i].title;
        for (; *t && k + 2 < sizeof(title); t++)
            if (*t != '\n' && *t != '=' && *t != ';' && *t != '#' && *t != '\\') title[k++] = *t;
        title[k] = '\0';
        fprintf(m, "[CHAPTER]\nTIMEBASE=1/1000\nSTART=%ld\nEND=%ld\ntitle=%s\n", lrint(at * 1000),
                lrint((at + len) * 1000), title);
        at += len;
    }
    fclose(l);
    fclose(m);
    xsnprintf(cmd, sizeof(cmd),
              "cd '%s' && ffmpeg -v error -y -f concat -safe 0 -i .files.txt -i .chapters.txt "
              "-map_metadata 1 -map_chapters 1 -c:a aac -b:a 64k -movflags +faststart book.m4b",
              outdir);
    if (system(cmd) != 0) die("ffmpeg could not make %s", out);
    /* The truth is about the file as a decoder sees it. */
    size_t dn;
    int16_t *dec = ffmpeg_decode(out, &dn);
    float *df = xmalloc(dn * sizeof(float) + 4);
    for (size_t i = 0; i < dn; i++) df[i] = dec[i] / 32768.0f;
    double lag = measure_lag(&all, df, dn);
    free(dec);
    free(df);
    for (size_t b = 0; b < book->nb; b++)
        for (size_t k = 0; k < book->b[b].n; k++) {
            cword_t *w = &book->b[b].w[k];
            if (!w->read) continue;
            w->start += offsets[w->file] + lag;
            w->end += offsets[w->file] + lag;
            w->file = 0;
        }
    cfile_t one = files[0];
    xsnprintf(one.path, sizeof(one.path), "book.m4b");
    one.duration = (double)dn / RATE;
    one.lag_sec = lag;
    one.sample_rate = 44100;
    one.channels = 1;
    one.speech_sec = one.inserted_sec = 0;
    one.n_ins = 0;
    one.utt = NULL;
    one.n_utt = one.cap_utt = 0;
    for (int i = 0; i < n; i++) {
        one.speech_sec += files[i].speech_sec;
        one.inserted_sec += files[i].inserted_sec;
        for (int k = 0; k < files[i].n_ins && one.n_ins < 16; k++) {
            struct inserted x = files[i].ins[k];
            x.start += offsets[i] + lag;
            x.end += offsets[i] + lag;
            one.ins[one.n_ins++] = x;
        }
        for (int k = 0; k < files[i].n_utt; k++) {
            const struct utterance *u = &files[i].utt[k];
            double shift = offsets[i] + lag;
            file_add_utterance(&one, u->kind, u->start + shift, u->end + shift, u->seg_end + shift,
                               u->text);
            free(u->text);
        }
        free(files[i].utt);
        char wav[2100];
        xsnprintf(wav, sizeof(wav), "%s/%s", outdir, files[i].path);
        remove(wav);
    }
    if (n > 1) xsnprintf(one.voice, sizeof(one.voice), "mixed");
    files[0] = one;
    remove(list);
    remove(meta);
    free(all.s);
    free(offsets);
}
