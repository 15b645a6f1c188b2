/* Noise reduction for chunks recorded over steady background noise: a Wiener gain per frequency
 * (decision-directed a-priori SNR, 32 ms frames, half overlap, square-root Hann windows) against
 * the noise spectrum of the chunk's quietest frames. Chunks whose speech stands well clear of
 * their noise are left untouched, so clean recordings never meet its artefacts. */
#include "speech.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 512
#define H 256
#define BINS (N / 2 + 1)
#define CLEAN_DB 28.0 /* speech this far above the noise: leave it alone */
#define SMOOTH 0.98   /* decision-directed smoothing */
#define GAIN_FLOOR 0.1

typedef struct {
    double re, im;
} cpx_t;

/* In-place iterative radix-2 FFT of size N (inverse when @inv). */
static void fft(cpx_t *a, bool inv)
{
    for (int i = 1, j = 0; i < N; i++) {
        int bit = N >> 1;
        for (; j & bit; bit >>= 1) j ^= bit;
        j ^= bit;
        if (i < j) {
            cpx_t t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
    for (int len = 2; len <= N; len <<= 1) {
        double ang = 2 * M_PI / len * (inv ? 1 : -1);
        cpx_t wl = {cos(ang), sin(ang)};
        for (int i = 0; i < N; i += len) {
            cpx_t w = {1, 0};
            for (int k = 0; k < len / 2; k++) {
                cpx_t u = a[i + k], v = a[i + k + len / 2];
                cpx_t t = {v.re * w.re - v.im * w.im, v.re * w.im + v.im * w.re};
                a[i + k] = (cpx_t){u.re + t.re, u.im + t.im};
                a[i + k + len / 2] = (cpx_t){u.re - t.re, u.im - t.im};
                w = (cpx_t){w.re * wl.re - w.im * wl.im, w.re * wl.im + w.im * wl.re};
            }
        }
    }
    if (inv)
        for (int i = 0; i < N; i++) a[i].re /= N, a[i].im /= N;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int folio__denoise(int16_t *pcm, size_t n, bool *applied)
{
    *applied = false;
    if (n < 4 * N) return FOLIO_OK;
    size_t frames = (n - N) / H + 1;
    double *power = NULL, *out = NULL;
    double *energy = malloc(frames * sizeof(double)), *sorted = malloc(frames * sizeof(double));
    cpx_t *spec = NULL;
    cpx_t buf[N];
    double win[N], noise[BINS] = {0}, gain[BINS], prev[BINS] = {0};
    int rc = FOLIO_OK;
    if (!energy || !sorted) {
        rc = FOLIO_ENOMEM;
        goto done;
    }
    for (int i = 0; i < N; i++) win[i] = sqrt(0.5 - 0.5 * cos(2 * M_PI * i / N));
    /* Frame energies (the power of the half spectrum, bins 0 to N/2) in the time domain, so
     * clean chunks (most) never need a transform: by Parseval's theorem and the symmetry of a
     * real signal's spectrum, that power is (N * sum x^2 + X[0]^2 + X[N/2]^2) / 2, where X[0] is
     * the sum of the samples and X[N/2] their sum with alternating signs. */
    for (size_t f = 0; f < frames; f++) {
        double e = 0, dc = 0, nyquist = 0;
        for (int i = 0; i < N; i++) {
            double x = win[i] * pcm[f * H + i];
            e += x * x;
            dc += x;
            nyquist += (i & 1) ? -x : x;
        }
        e = (N * e + dc * dc + nyquist * nyquist) / 2;
        energy[f] = 10 * log10(e / N + 1);
        sorted[f] = energy[f];
    }
    qsort(sorted, frames, sizeof(double), cmp_double);
    double quiet = sorted[frames / 10], loud = sorted[frames * 9 / 10];
    if (loud - quiet >= CLEAN_DB) goto done;
    power = malloc(frames * BINS * sizeof(double));
    out = calloc(n, sizeof(double));
    spec = malloc(frames * BINS * sizeof(cpx_t));
    if (!power || !out || !spec) {
        rc = FOLIO_ENOMEM;
        goto done;
    }
    for (size_t f = 0; f < frames; f++) {
        for (int i = 0; i < N; i++) buf[i] = (cpx_t){win[i] * pcm[f * H + i], 0};
        fft(buf, false);
        for (int k = 0; k < BINS; k++) {
            spec[f * BINS + k] = buf[k];
            power[f * BINS + k] = buf[k].re * buf[k].re + buf[k].im * buf[k].im;
        }
    }
    /* The noise spectrum: the mean of the quietest tenth of the frames. */
    size_t used = 0;
    for (size_t f = 0; f < frames; f++) {
        if (energy[f] > quiet) continue;
        for (int k = 0; k < BINS; k++) noise[k] += power[f * BINS + k];
        used++;
    }
    for (int k = 0; k < BINS; k++) {
        noise[k] = used ? noise[k] / (double)used : 1;
        if (noise[k] < 1e-9) noise[k] = 1e-9;
        gain[k] = 1;
    }
    for (size_t f = 0; f < frames; f++) {
        for (int k = 0; k < BINS; k++) {
            double p = power[f * BINS + k];
            double post = p / noise[k];
            double prior = SMOOTH * gain[k] * gain[k] * prev[k] / noise[k] +
                           (1 - SMOOTH) * (post > 1 ? post - 1 : 0);
            double g = prior / (1 + prior);
            gain[k] = g < GAIN_FLOOR ? GAIN_FLOOR : g;
            prev[k] = p;
            buf[k] = (cpx_t){spec[f * BINS + k].re * gain[k], spec[f * BINS + k].im * gain[k]};
            if (k > 0 && k < N / 2) buf[N - k] = (cpx_t){buf[k].re, -buf[k].im};
        }
        fft(buf, true);
        for (int i = 0; i < N; i++) out[f * H + i] += win[i] * buf[i].re;
    }
    /* Samples the frames do not cover (the very ends) keep their input. */
    size_t covered = (frames - 1) * H + N;
    for (size_t i = 0; i < n; i++) {
        double v = (i < H || i >= covered - H) ? pcm[i] : out[i];
        long s = lrint(v);
        pcm[i] = (int16_t)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
    }
    *applied = true;
done:
    free(power);
    free(energy);
    free(sorted);
    free(out);
    free(spec);
    return rc;
}
