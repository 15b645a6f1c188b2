/* bench_text BOOK [REPEAT]: how fast Folio reads a book — opening (extraction, sentences, spoken
 * form) and building its lexicon. Prints numbers; passes or fails nothing. */
#include <folio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_text BOOK [REPEAT]\n");
        return 2;
    }
    int repeat = argc > 2 ? atoi(argv[2]) : 5;
    if (repeat < 1) repeat = 1;
    folio_t *ctx = folio_new();
    double best_open = 1e9, best_lex = 1e9;
    size_t words = 0, tokens = 0, chars = 0, lts = 0, distinct = 0;
    for (int i = 0; i < repeat; i++) {
        int err;
        double t0 = now();
        folio_book_t *b = folio_book_open(ctx, argv[1], NULL, &err);
        double t1 = now();
        if (!b) {
            fprintf(stderr, "bench_text: %s\n", folio_errmsg(ctx));
            return 1;
        }
        folio_lexicon_t *lex = folio_lexicon_open(ctx, b, NULL, &err);
        double t2 = now();
        if (!lex) {
            fprintf(stderr, "bench_text: %s\n", folio_errmsg(ctx));
            return 1;
        }
        if (t1 - t0 < best_open) best_open = t1 - t0;
        if (t2 - t1 < best_lex) best_lex = t2 - t1;
        words = folio_book_n_words(b);
        tokens = folio_book_n_tokens(b);
        chars = folio_book_text_length(b);
        distinct = folio_lexicon_n_words(lex);
        lts = folio_lexicon_n_lts(lex);
        folio_lexicon_free(lex);
        folio_book_free(b);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("book            %s\n", argv[1]);
    printf("characters      %zu\n", chars);
    printf("source words    %zu\n", words);
    printf("spoken tokens   %zu\n", tokens);
    printf("open+tokenise   %.3f s (best of %d)  %.0f words/s\n", best_open, repeat,
           (double)words / best_open);
    printf("lexicon         %.3f s  %zu distinct words, %zu by letter-to-sound\n", best_lex,
           distinct, lts);
    printf("peak RSS        %.1f MB\n", (double)ru.ru_maxrss / 1024.0);
    folio_free(ctx);
    return 0;
}
