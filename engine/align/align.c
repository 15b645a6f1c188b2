/* The aligner's driver: folio__align runs the stages one after the other on the shared state
 * (align_int.h), each stage in a file of its own. */
#include "align_int.h"

#include <stdlib.h>
#include <string.h>

#define FORCE_PASSES 3 /* passes at most: an edge grows by up to 90 tokens */
#define GAP_ROUNDS 3   /* rounds of recognition and forcing at most */

/* Long-form alignment. Anchors are word trigrams rare in the book (three times at most) that the
 * recogniser heard; anchors that agree (book and audio advancing together) form chains, so that
 * chapters read out of order, front matter read last or chapters not read at all each find their
 * own stretch of audio; the heaviest chains that do not overlap are kept, and inside each run of
 * them a longest increasing subsequence removes stray matches. Between anchors, dynamic
 * programming with a phonetic word similarity aligns the rest; gaps that stay unaligned but have
 * audio are forced-aligned with a grammar of just their words, and so are page and chapter starts
 * that the recogniser did not hear exactly. Words inside a sentence whose ends are timed are
 * interpolated; everything else is not read. */
int folio__align(folio_t *ctx, const folio_align_input_t *in, folio_alignment_t *out)
{
    int rc = FOLIO_OK;
    aligner_t A;
    cands_t cands = {0};
    chains_t chains = {0};
    memset(out, 0, sizeof(*out));
    out->n_words = folio_book_n_words(in->book);
    out->words = calloc(out->n_words ? out->n_words : 1, sizeof(folio_timing_t));
    TRY(folio__align_state_init(&A, ctx, in));
    if (!out->words) FAIL(ctx, FOLIO_ENOMEM, "out of memory");

    /* The first pass: anchors, chains, and the runs of chains aligned word by word. */
    TRY(folio__align_build_ngrams(&A));
    TRY(folio__align_find_anchors(&A, &cands, &chains));
    TRY(folio__align_select_chains(&cands, &chains));
    TRY(folio__align_runs(&A, &cands, &chains));
    size_t accepted = 0;
    for (size_t i = 0; i < chains.len; i++) accepted += chains.items[i].accepted;
    folio__info(ctx, "alignment: %zu anchors in %zu chains, %zu kept", cands.len, chains.len,
                accepted);
    TRY(folio__progress(ctx, "aligning", 1, 3, in->start_time));

    /* Repairs of what the first pass found. */
    folio__align_fix_alternatives(&A);
    folio__align_fix_headings(&A);
    folio__align_heed_marks(&A);
    folio__align_drop_crowded(&A);
    folio__align_drop_reversed(&A);
    folio__align_drop_unread_matter(&A);
    TRY(folio__align_drop_announced(&A));

    /* Gaps forced, then recognised again. Each pass can give the next its timed sides (a long
     * stretch at a file's start is forced EDGE_MAX tokens at a time). */
    for (int round = 0; round < GAP_ROUNDS; round++) {
        for (int pass = 0; pass < FORCE_PASSES; pass++) {
            size_t before = 0, after = 0;
            for (size_t t = 0; t < A.n_tok; t++) before += A.t_start[t] >= 0;
            TRY(folio__align_force_gaps(&A, round == 0)); /* edges grow in the first round only */
            for (size_t t = 0; t < A.n_tok; t++) after += A.t_start[t] >= 0;
            if (after == before) break;
        }
        size_t gained = 0;
        TRY(folio__align_redecode_gaps(&A, &gained));
        if (!gained) break;
    }
    TRY(folio__align_force_boundaries(&A));
    TRY(folio__progress(ctx, "aligning", 2, 3, in->start_time));

    /* The result. */
    folio__align_enforce_order(&A);
    folio__align_interpolate(&A);
    folio__align_drop_unread_matter(&A);
    TRY(folio__align_report(&A, out));
    TRY(folio__progress(ctx, "aligning", 3, 3, in->start_time));
fail:
    folio__align_gaps_free(&A);
    folio__align_state_free(&A);
    VEC_FREE(cands);
    VEC_FREE(chains);
    if (rc < 0) folio__alignment_free(out);
    return rc;
}
