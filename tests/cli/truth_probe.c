/* The truth tests' own view of the audio, written apart from mkcorpus so that its truth can be
 * checked against something it did not compute:
 *
 *   truth_probe say VOICE STRETCH SAMPLES.raw < TEXTS
 *       synthesise each line of TEXTS with libflite (VOICE: slt, rms, awb, kal16; STRETCH: flite's
 *       duration_stretch) and append its 16-bit samples to SAMPLES.raw; print per line
 *         U SAMPLES LAST_SEGMENT_END
 *       and then, for each token that has sounds, in order,
 *         T START END SAID...
 *       START being where the segment before its first segment ends (0 for the first), END where
 *       its last segment ends. The tokens are found from the Segment relation upwards (segment ->
 *       syllable -> word -> token), the opposite way to mkcorpus's walk.
 *   truth_probe frames FILE...
 *       decode each FILE with libsndfile (Folio's decoder for WAV and MP3) and print
 *         FRAMES RATE CHANNELS
 *       counting the frames actually decoded, not the header's figure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flite/flite.h>
#include <sndfile.h>

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);

static int usage(void)
{
    fprintf(stderr, "usage: truth_probe say VOICE STRETCH SAMPLES.raw < TEXTS\n"
                    "       truth_probe frames FILE...\n");
    return 2;
}

static cst_voice *voice(const char *name)
{
    if (strcmp(name, "slt") == 0) return register_cmu_us_slt(NULL);
    if (strcmp(name, "rms") == 0) return register_cmu_us_rms(NULL);
    if (strcmp(name, "awb") == 0) return register_cmu_us_awb(NULL);
    if (strcmp(name, "kal16") == 0) return register_cmu_us_kal16(NULL);
    return NULL;
}

/* The token a segment belongs to, or NULL for a pause. */
static cst_item *token_of(cst_item *seg)
{
    cst_item *in_syl = item_as(seg, "SylStructure");
    cst_item *word = in_syl ? item_parent(item_parent(in_syl)) : NULL;
    cst_item *in_tok = word ? item_as(word, "Token") : NULL;
    return in_tok ? item_parent(in_tok) : NULL;
}

static void say_one(cst_voice *v, const char *text, FILE *raw)
{
    cst_utterance *u = flite_synth_text(text, v);
    cst_wave *w = utt_wave(u);
    cst_item *segs = relation_head(utt_relation(u, "Segment"));
    cst_item *last = relation_tail(utt_relation(u, "Segment"));
    printf("U %d %.6f\n", cst_wave_num_samples(w), last ? ffeature_float(last, "end") : 0.0);
    cst_item *tok = NULL, *word = NULL;
    double prev_end = 0, start = 0, end = 0;
    char said[2048] = "";
    size_t sl = 0;
    for (cst_item *s = segs;; s = item_next(s)) {
        cst_item *t = s ? token_of(s) : NULL;
        if (tok && t != tok && (t || !s)) {
            /* A new token (or the end): the last one is complete. Pauses inside a token's span
             * cannot happen, so a pause ends nothing. */
            printf("T %.6f %.6f %s\n", start, end, said);
            tok = NULL;
        }
        if (!s) break;
        double e = ffeature_float(s, "end");
        if (t) {
            cst_item *wd = item_parent(item_parent(item_as(s, "SylStructure")));
            if (t != tok) {
                tok = t;
                start = prev_end;
                sl = 0;
                said[0] = '\0';
                word = NULL;
            }
            if (!word || !item_equal(wd, word)) {
                word = wd;
                sl += (size_t)snprintf(said + sl, sizeof(said) - sl, "%s%s", sl ? " " : "",
                                       item_feat_string(wd, "name"));
                if (sl >= sizeof(said)) sl = sizeof(said) - 1;
            }
            end = e;
        }
        prev_end = e;
    }
    fwrite(w->samples, sizeof(short), (size_t)cst_wave_num_samples(w), raw);
    delete_utterance(u);
}

static int say(const char *name, const char *stretch, const char *raw_path)
{
    flite_init();
    cst_voice *v = voice(name);
    if (!v) return usage();
    feat_set_float(v->features, "duration_stretch", (float)atof(stretch));
    FILE *raw = fopen(raw_path, "wb");
    if (!raw) {
        perror(raw_path);
        return 1;
    }
    static char line[1 << 16];
    while (fgets(line, sizeof(line), stdin)) {
        line[strcspn(line, "\n")] = '\0';
        say_one(v, line, raw);
    }
    return fclose(raw) == 0 ? 0 : 1;
}

static int frames(int n, char **paths)
{
    for (int i = 0; i < n; i++) {
        SF_INFO info = {0};
        SNDFILE *sf = sf_open(paths[i], SFM_READ, &info);
        if (!sf) {
            fprintf(stderr, "%s: %s\n", paths[i], sf_strerror(NULL));
            return 1;
        }
        static float buf[1 << 16];
        sf_count_t got, total = 0, cap = (sf_count_t)(sizeof(buf) / sizeof(buf[0])) / info.channels;
        while ((got = sf_readf_float(sf, buf, cap)) > 0) total += got;
        sf_close(sf);
        printf("%lld %d %d\n", (long long)total, info.samplerate, info.channels);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "say") == 0) return say(argv[2], argv[3], argv[4]);
    if (argc >= 3 && strcmp(argv[1], "frames") == 0) return frames(argc - 2, argv + 2);
    return usage();
}
