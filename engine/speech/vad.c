/* Voice activity chunking: 10 ms frame energies against a tracked noise floor decide speech and
 * silence; chunks are cut in silences (long ones early, shorter ones once a chunk is long), never
 * longer than the maximum; where no silence exists (music, noise), at the quietest frame with an
 * overlap on each side, and words are later kept only on their side of the cut. Deterministic:
 * the same samples give the same chunks. */
#include "speech.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FRAME 160           /* 10 ms at 16 kHz */
#define SPEECH_ABOVE_DB 9.0 /* over the noise floor */
#define MIN_SPEECH_DB 28.0  /* absolute: below this nothing is speech */
#define FLOOR_RISE_DB 0.004 /* per frame: the floor follows rising noise slowly */
#define LEAD_FRAMES 25      /* silence kept before a chunk's first speech */
#define TRAIL_FRAMES 35     /* and after its last */

typedef struct {
    size_t start, len; /* frames from the chunk start */
} run_t;

struct folio_vad {
    size_t max_frames, overlap_frames;
    size_t file;
    bool started;
    uint64_t chunk_start; /* samples in the file */
    uint64_t keep_from;   /* words before this belong to the previous chunk */
    int16_t frame[FRAME];
    size_t fill;
    double floor_db;
    bool floor_set;
    VEC(float) energy; /* per frame since chunk_start */
    VEC(bool) speech;
    VEC(run_t) silences; /* finished silence runs since chunk_start */
    size_t run_start, run_len;
};

folio_vad_t *folio__vad_new(double max_sec, double overlap_sec)
{
    folio_vad_t *v = calloc(1, sizeof(*v));
    if (!v) return NULL;
    v->max_frames = (size_t)(max_sec * 100);
    v->overlap_frames = (size_t)(overlap_sec * 100);
    return v;
}

void folio__vad_free(folio_vad_t *v)
{
    if (!v) return;
    VEC_FREE(v->energy);
    VEC_FREE(v->speech);
    VEC_FREE(v->silences);
    free(v);
}

static bool any_speech(const folio_vad_t *v, size_t from, size_t to)
{
    for (size_t i = from; i < to && i < v->speech.len; i++)
        if (v->speech.items[i]) return true;
    return false;
}

/* Emit the chunk [chunk_start, chunk_start + @end frames) and start the next one at frame @next
 * (<= end when the two overlap); words are split at frame @split. */
/* The chunk [chunk_start + from, chunk_start + end) frames without its silent edges: speech from
 * its first to its last speech frame, with a little silence kept on either side. */
static folio_chunk_t trimmed(const folio_vad_t *v, size_t end, uint64_t keep_to, uint64_t extra)
{
    folio_chunk_t c = {v->file,      v->chunk_start, v->chunk_start + (uint64_t)end * FRAME + extra,
                       v->keep_from, keep_to,        false};
    size_t first = SIZE_MAX, last = 0;
    for (size_t i = 0; i < end && i < v->speech.len; i++)
        if (v->speech.items[i]) {
            if (first == SIZE_MAX) first = i;
            last = i;
        }
    if (first == SIZE_MAX) return c;
    c.speech = true;
    size_t lo = first > LEAD_FRAMES ? first - LEAD_FRAMES : 0;
    size_t hi = last + 1 + TRAIL_FRAMES;
    c.start = v->chunk_start + (uint64_t)lo * FRAME;
    if (hi < end) c.end = v->chunk_start + (uint64_t)hi * FRAME;
    return c;
}

static int cut(folio_vad_t *v, size_t end, size_t next, size_t split, folio_chunks_t *out)
{
    folio_chunk_t c = trimmed(v, end, v->chunk_start + (uint64_t)split * FRAME, 0);
    if (VEC_PUSH(*out, c) < 0) return FOLIO_ENOMEM;
    v->keep_from = c.keep_to;
    v->chunk_start += (uint64_t)next * FRAME;
    /* Re-base the frame history on the new start. */
    size_t keep = v->energy.len - next;
    memmove(v->energy.items, v->energy.items + next, keep * sizeof(float));
    memmove(v->speech.items, v->speech.items + next, keep * sizeof(bool));
    v->energy.len = v->speech.len = keep;
    size_t o = 0;
    for (size_t i = 0; i < v->silences.len; i++) {
        run_t r = v->silences.items[i];
        if (r.start + r.len <= next) continue;
        if (r.start < next) r.len -= next - r.start, r.start = next;
        r.start -= next;
        v->silences.items[o++] = r;
    }
    v->silences.len = o;
    if (v->run_len) {
        if (v->run_start < next) {
            size_t drop = next - v->run_start;
            v->run_len = v->run_len > drop ? v->run_len - drop : 0;
            v->run_start = next;
        }
        v->run_start -= next;
    }
    return FOLIO_OK;
}

/* Decide after each frame whether to cut. */
static int consider(folio_vad_t *v, folio_chunks_t *out)
{
    size_t len = v->energy.len;
    /* A long silence ends a chunk early; a shorter one once the chunk is long enough. */
    if (v->run_len > 0 && any_speech(v, 0, v->run_start)) {
        size_t need = len >= 1000 ? 40 : len >= 200 ? 100 : 0;
        if (need && v->run_len == need) {
            size_t at = v->run_start + need / 2;
            return cut(v, at, at, at, out);
        }
    }
    if (len < v->max_frames) return FOLIO_OK;
    /* At the maximum: the longest silence in its last two thirds, else the quietest frame. */
    size_t lo = v->max_frames / 3, best_len = 0, best_at = 0;
    for (size_t i = 0; i < v->silences.len; i++) {
        run_t r = v->silences.items[i];
        if (r.start + r.len / 2 >= lo && r.len >= 15 && r.len > best_len)
            best_len = r.len, best_at = r.start + r.len / 2;
    }
    if (v->run_len >= 15 && v->run_start + v->run_len / 2 >= lo && v->run_len > best_len)
        best_len = v->run_len, best_at = v->run_start + v->run_len / 2;
    if (best_len) return cut(v, best_at, best_at, best_at, out);
    size_t q = len * 2 / 3;
    for (size_t i = len * 2 / 3; i + v->overlap_frames < len; i++)
        if (v->energy.items[i] < v->energy.items[q]) q = i;
    size_t end = q + v->overlap_frames < len ? q + v->overlap_frames : len;
    size_t next = q > v->overlap_frames ? q - v->overlap_frames : 0;
    return cut(v, end, next, q, out);
}

static int frame_done(folio_vad_t *v, folio_chunks_t *out)
{
    double sum = 0;
    for (int i = 0; i < FRAME; i++) sum += (double)v->frame[i] * v->frame[i];
    float e = (float)(10.0 * log10(sum / FRAME + 1.0));
    /* The floor starts low and rises slowly: a file that opens straight into speech must not take
     * that speech for its noise. Calling noise speech costs a little decoding; the reverse loses
     * words. */
    if (!v->floor_set) {
        v->floor_db = MIN_SPEECH_DB - SPEECH_ABOVE_DB;
        v->floor_set = true;
    }
    if (e < v->floor_db)
        v->floor_db = e;
    else
        v->floor_db += FLOOR_RISE_DB;
    bool speech = e > MIN_SPEECH_DB && e > v->floor_db + SPEECH_ABOVE_DB;
    if (VEC_PUSH(v->energy, e) < 0 || VEC_PUSH(v->speech, speech) < 0) return FOLIO_ENOMEM;
    size_t idx = v->energy.len - 1;
    if (!speech) {
        if (!v->run_len) v->run_start = idx;
        v->run_len++;
    } else if (v->run_len) {
        run_t r = {v->run_start, v->run_len};
        if (VEC_PUSH(v->silences, r) < 0) return FOLIO_ENOMEM;
        v->run_len = 0;
    }
    return consider(v, out);
}

int folio__vad_feed(folio_vad_t *v, size_t file, const int16_t *s, size_t n, folio_chunks_t *out)
{
    if (!v->started || v->file != file) {
        v->started = true;
        v->file = file;
        v->chunk_start = v->keep_from = 0;
        v->fill = 0;
        v->energy.len = v->speech.len = v->silences.len = 0;
        v->run_len = 0;
        v->floor_set = false;
    }
    int rc = FOLIO_OK;
    for (size_t i = 0; i < n && rc >= 0; i++) {
        v->frame[v->fill++] = s[i];
        if (v->fill == FRAME) {
            v->fill = 0;
            rc = frame_done(v, out);
        }
    }
    return rc;
}

int folio__vad_end_file(folio_vad_t *v, folio_chunks_t *out)
{
    if (!v->started) return FOLIO_OK;
    /* The last chunk runs to the file's last sample, partial frame included. */
    folio_chunk_t c = trimmed(v, v->energy.len, UINT64_MAX, v->fill);
    v->started = false;
    if (c.end <= c.start) return FOLIO_OK;
    return VEC_PUSH(*out, c);
}
