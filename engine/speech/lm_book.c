/* The book's language model (its spoken tokens, read and unread, with their alternative readings)
 * and the out-of-book phrases that audiobooks add. */
#include "speech.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const folio__out_of_book_phrases[] = {
    "this is a librivox recording",
    "all librivox recordings are in the public domain",
    "for more information or to volunteer please visit librivox dot org",
    "for more information or to volunteer please visit librivox org",
    "recording by",
    "read by",
    "this recording is in the public domain",
    "end of chapter",
    "end of section",
    "end of book",
    "end of part",
    "chapter one of",
    "section one of",
    "part one of",
    "by",
    "narrated by",
    "unabridged",
    "copyright",
    "all rights reserved",
    "published by",
    "audiobook",
    "this audiobook is",
    "this has been",
    "thank you for listening",
    "this concludes",
    "read for librivox dot org",
    "translated by",
    "dedicated to",
    "the end",
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen",
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety",
    "hundred first second third fourth fifth sixth seventh eighth ninth tenth",
    NULL};

/* Split a space-separated reading into tokens (pointers into @buf, which it modifies). */
static size_t split(char *buf, const char **toks, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
        toks[n++] = t;
    return n;
}

static bool pronounceable(const folio_lexicon_t *lex, const char *w)
{
    long i = folio_lexicon_find(lex, w);
    return i >= 0 && folio_lexicon_n_prons(lex, (size_t)i) > 0;
}

int folio__lm_add_phrases(folio_lm_t *lm, const folio_lexicon_t *lex, double weight)
{
    int rc = FOLIO_OK;
    for (const char *const *p = folio__out_of_book_phrases; *p && rc >= 0; p++) {
        char buf[256];
        snprintf(buf, sizeof(buf), "%s", *p);
        const char *toks[32];
        size_t n = split(buf, toks, 32), kept = 0;
        for (size_t i = 0; i < n; i++)
            if (pronounceable(lex, toks[i])) toks[kept++] = toks[i];
        if (kept) rc = folio__lm_add(lm, toks, kept, weight, true, true);
    }
    return rc;
}

folio_lm_t *folio__lm_from_book(const folio_book_t *book, const folio_lexicon_t *lex,
                                double unread_weight, double alt_weight, int *err)
{
    return folio__lm_from_tokens(book, lex, 0, folio_book_n_tokens(book), unread_weight, alt_weight,
                                 err);
}

folio_lm_t *folio__lm_from_tokens(const folio_book_t *book, const folio_lexicon_t *lex, size_t from,
                                  size_t to, double unread_weight, double alt_weight, int *err)
{
    int rc = FOLIO_OK;
    folio_lm_t *lm = folio__lm_new();
    VEC(const char *) sent = {0};
    VEC(size_t) sent_tok = {0}; /* token index of each entry of sent */
    if (!lm) {
        rc = FOLIO_ENOMEM;
        goto fail;
    }
    size_t nt = folio_book_n_tokens(book), ns = folio_book_n_sentences(book), si = 0;
    if (to > nt) to = nt;
    nt = to;
    if (from < nt) { /* the first sentence that ends after the window's first token */
        size_t lo = 0, hi = ns, c = folio_book_token(book, from)->start_char;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (folio_book_sentence(book, mid)->end_char <= c)
                lo = mid + 1;
            else
                hi = mid;
        }
        si = lo;
    }
    for (size_t i = from; i < nt;) {
        /* One LM sentence: the tokens of one book sentence (or of one block, if it has none). */
        const folio_token_t *t0 = folio_book_token(book, i);
        while (si < ns && folio_book_sentence(book, si)->end_char <= t0->start_char) si++;
        size_t end_char = si < ns && folio_book_sentence(book, si)->start_char <= t0->start_char
                              ? folio_book_sentence(book, si)->end_char
                              : folio_book_block(book, t0->block)->end_char;
        sent.len = sent_tok.len = 0;
        size_t j = i;
        for (; j < nt; j++) {
            const folio_token_t *t = folio_book_token(book, j);
            if (t->block != t0->block || t->start_char >= end_char) break;
            if (!pronounceable(lex, t->text)) continue;
            if (VEC_PUSH(sent, t->text) < 0 || VEC_PUSH(sent_tok, j) < 0) {
                rc = FOLIO_ENOMEM;
                goto fail;
            }
        }
        double w = t0->read ? 1.0 : unread_weight;
        if (sent.len && (rc = folio__lm_add(lm, sent.items, sent.len, w, true, true)) < 0)
            goto fail;
        /* Alternative readings, each between the two tokens before and after its word. */
        for (size_t k = 0; k < sent_tok.len; k++) {
            const folio_token_t *t = folio_book_token(book, sent_tok.items[k]);
            const folio_word_t *word = folio_book_word(book, t->word);
            if (!word->n_alternatives || word->first_token != sent_tok.items[k]) continue;
            size_t after = k;
            while (after < sent_tok.len &&
                   folio_book_token(book, sent_tok.items[after])->word == t->word)
                after++;
            for (size_t a = 0; a < word->n_alternatives; a++) {
                char buf[512];
                snprintf(buf, sizeof(buf), "%s", folio_book_word_alternative(book, t->word, a));
                const char *alt[64], *seq[72];
                size_t na = split(buf, alt, 64), n = 0;
                for (size_t b = k >= 2 ? k - 2 : 0; b < k; b++) seq[n++] = sent.items[b];
                bool ok = true;
                for (size_t b = 0; b < na; b++) {
                    ok = ok && pronounceable(lex, alt[b]);
                    seq[n++] = alt[b];
                }
                for (size_t b = after; b < after + 2 && b < sent.len; b++) seq[n++] = sent.items[b];
                if (!ok) continue;
                rc = folio__lm_add(lm, seq, n, w * alt_weight / (double)word->n_alternatives,
                                   k == 0, after >= sent.len);
                if (rc < 0) goto fail;
            }
        }
        i = j > i ? j : i + 1;
    }
    VEC_FREE(sent);
    VEC_FREE(sent_tok);
    if (err) *err = FOLIO_OK;
    return lm;
fail:
    VEC_FREE(sent);
    VEC_FREE(sent_tok);
    folio__lm_free(lm);
    if (err) *err = rc;
    return NULL;
}
