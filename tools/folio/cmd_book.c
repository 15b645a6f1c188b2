/* folio book: what Folio reads in a book — a summary, the model as JSON, or the extracted text. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { OUT_SUMMARY, OUT_JSON, OUT_TEXT, OUT_TOKENS, OUT_PRONUNCIATIONS } output_t;

static const char *format_name(folio_book_format_t f)
{
    switch (f) {
    case FOLIO_BOOK_EPUB2:
        return "EPUB 2";
    case FOLIO_BOOK_EPUB3:
        return "EPUB 3";
    case FOLIO_BOOK_TXT:
        return "plain text";
    case FOLIO_BOOK_HTML:
        return "HTML";
    default:
        return "unknown";
    }
}

static int print_json(const folio_book_t *book)
{
    json_t *root = json_object(), *blocks = json_array(), *pages = json_array(),
           *chapters = json_array();
    if (!root || !blocks || !pages || !chapters) goto oom;
    json_object_set_new(root, "title", json_string(folio_book_meta(book, FOLIO_META_TITLE)));
    json_object_set_new(root, "author", json_string(folio_book_meta(book, FOLIO_META_AUTHOR)));
    json_object_set_new(root, "language", json_string(folio_book_meta(book, FOLIO_META_LANGUAGE)));
    json_object_set_new(root, "identifier",
                        json_string(folio_book_meta(book, FOLIO_META_IDENTIFIER)));
    json_object_set_new(root, "format", json_string(format_name(folio_book_format(book))));
    json_object_set_new(root, "text_length",
                        json_integer((json_int_t)folio_book_text_length(book)));
    json_object_set_new(root, "page_source",
                        json_string(folio_page_source_name(folio_book_page_source(book))));
    for (size_t i = 0; i < folio_book_n_pages(book); i++) {
        const folio_page_t *p = folio_book_page(book, i);
        json_t *o = json_pack("{s:I,s:s,s:I}", "ordinal", (json_int_t)p->ordinal, "label", p->label,
                              "start_char", (json_int_t)p->start_char);
        if (!o || json_array_append_new(pages, o) < 0) goto oom;
    }
    json_object_set_new(root, "pages", pages);
    pages = NULL;
    for (size_t i = 0; i < folio_book_n_blocks(book); i++) {
        const folio_block_t *b = folio_book_block(book, i);
        json_t *o =
            json_pack("{s:s,s:b,s:i,s:I,s:I,s:I}", "kind", folio_block_kind_name(b->kind), "read",
                      b->read, "level", b->level, "section", (json_int_t)b->section, "start_char",
                      (json_int_t)b->start_char, "end_char", (json_int_t)b->end_char);
        if (!o || json_array_append_new(blocks, o) < 0) goto oom;
    }
    json_object_set_new(root, "blocks", blocks);
    blocks = NULL;
    for (size_t i = 0; i < folio_book_n_chapters(book); i++) {
        const folio_chapter_t *c = folio_book_chapter(book, i);
        json_t *o = json_pack("{s:s,s:i,s:I}", "title", c->title, "level", c->level, "start_char",
                              (json_int_t)c->start_char);
        if (!o || json_array_append_new(chapters, o) < 0) goto oom;
    }
    json_object_set_new(root, "chapters", chapters);
    chapters = NULL;
    json_object_set_new(root, "sentence_count",
                        json_integer((json_int_t)folio_book_n_sentences(book)));
    /* A failed write is reported by cmd_book, which checks standard output at the end. */
    if (json_dumpf(root, stdout, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) < 0 &&
        !ferror(stdout))
        goto oom;
    putchar('\n');
    json_decref(root);
    return EXIT_OK;
oom:
    json_decref(root);
    json_decref(blocks);
    json_decref(pages);
    json_decref(chapters);
    fprintf(stderr, "folio: error: out of memory writing JSON\n");
    return EXIT_FAIL;
}

/* TSV, one spoken token a line: token, start_char, end_char, block kind, page label, read,
 * alternatives (the source word's other readings, "|"-separated). */
static int print_tokens(const folio_book_t *book)
{
    folio_str_buf_t alts = {0};
    int status = EXIT_OK;
    for (size_t i = 0; i < folio_book_n_tokens(book) && status == EXIT_OK; i++) {
        const folio_token_t *t = folio_book_token(book, i);
        const folio_word_t *w = folio_book_word(book, t->word);
        long page = folio_book_page_at(book, t->start_char);
        alts.len = 0;
        if (alts.data) alts.data[0] = '\0';
        for (size_t k = 0; k < w->n_alternatives && status == EXIT_OK; k++)
            if ((k && buf_append(&alts, "|") < 0) ||
                buf_append(&alts, folio_book_word_alternative(book, t->word, k)) < 0)
                status = EXIT_FAIL;
        printf("%s\t%zu\t%zu\t%s\t%s\t%d\t%s\n", t->text, t->start_char, t->end_char,
               folio_block_kind_name(folio_book_block(book, t->block)->kind),
               page >= 0 ? folio_book_page(book, (size_t)page)->label : "", t->read,
               alts.data ? alts.data : "");
    }
    free(alts.data);
    return status;
}

static const char *source_name(folio_pron_source_t s)
{
    return s == FOLIO_PRON_DICT ? "dict" : s == FOLIO_PRON_LTS ? "lts" : "none";
}

/* TSV, one pronunciation a line: word, source (dict, lts or none), phones. */
static void print_pronunciations(const folio_lexicon_t *lex)
{
    for (size_t i = 0; i < folio_lexicon_n_words(lex); i++) {
        size_t n = folio_lexicon_n_prons(lex, i);
        const char *src = source_name(folio_lexicon_source(lex, i));
        if (!n) printf("%s\t%s\t\n", folio_lexicon_word(lex, i), src);
        for (size_t k = 0; k < n; k++)
            printf("%s\t%s\t%s\n", folio_lexicon_word(lex, i), src, folio_lexicon_pron(lex, i, k));
    }
}

static void print_summary(const folio_book_t *book, const char *path, const folio_lexicon_t *lex,
                          const char *lex_error)
{
    printf("Book:       %s\n", path);
    printf("Title:      %s\n", folio_book_meta(book, FOLIO_META_TITLE));
    printf("Author:     %s\n", folio_book_meta(book, FOLIO_META_AUTHOR));
    printf("Language:   %s\n", folio_book_meta(book, FOLIO_META_LANGUAGE));
    printf("Format:     %s\n", format_name(folio_book_format(book)));
    printf("Text:       %zu characters, %zu sentences\n", folio_book_text_length(book),
           folio_book_n_sentences(book));

    size_t count[FOLIO_BLOCK_KIND_COUNT] = {0}, unread = 0, unread_chars = 0;
    for (size_t i = 0; i < folio_book_n_blocks(book); i++) {
        const folio_block_t *b = folio_book_block(book, i);
        count[b->kind]++;
        if (!b->read) {
            unread++;
            unread_chars += b->end_char - b->start_char;
        }
    }
    printf("Blocks:     %zu (", folio_book_n_blocks(book));
    const char *sep = "";
    for (int k = 0; k < FOLIO_BLOCK_KIND_COUNT; k++) {
        if (!count[k]) continue;
        printf("%s%zu %s", sep, count[k], folio_block_kind_name((folio_block_kind_t)k));
        sep = ", ";
    }
    printf("); %zu not usually read (%zu characters)\n", unread, unread_chars);

    size_t np = folio_book_n_pages(book);
    printf("Pages:      %zu from %s", np, folio_page_source_name(folio_book_page_source(book)));
    if (np)
        printf(" (\"%s\" to \"%s\")", folio_book_page(book, 0)->label,
               folio_book_page(book, np - 1)->label);
    printf("\n");
    size_t with_alts = 0, unread_tokens = 0;
    for (size_t i = 0; i < folio_book_n_words(book); i++)
        with_alts += folio_book_word(book, i)->n_alternatives > 0;
    for (size_t i = 0; i < folio_book_n_tokens(book); i++)
        unread_tokens += !folio_book_token(book, i)->read;
    printf("Spoken:     %zu words, %zu spoken tokens (%zu in blocks not usually read); %zu words "
           "with alternative readings\n",
           folio_book_n_words(book), folio_book_n_tokens(book), unread_tokens, with_alts);
    if (lex) {
        size_t none = 0;
        for (size_t i = 0; i < folio_lexicon_n_words(lex); i++)
            none += folio_lexicon_source(lex, i) == FOLIO_PRON_NONE;
        printf("Lexicon:    %zu distinct words, %zu by letter-to-sound, %zu unpronounceable\n",
               folio_lexicon_n_words(lex), folio_lexicon_n_lts(lex), none);
    } else {
        printf("Lexicon:    unavailable: %s\n", lex_error);
    }
    size_t nc = folio_book_n_chapters(book);
    printf("Chapters:   %zu\n", nc);
    for (size_t i = 0; i < nc; i++) {
        const folio_chapter_t *c = folio_book_chapter(book, i);
        long page = folio_book_page_at(book, c->start_char);
        printf("  %*s%-*.*s  char %-8zu page %s\n", 2 * (c->level - 1), "", 50 - 2 * (c->level - 1),
               50 - 2 * (c->level - 1), c->title, c->start_char,
               page >= 0 ? folio_book_page(book, (size_t)page)->label : "-");
    }
}

enum { O_JSON = 1, O_TEXT, O_TOKENS, O_PRONUNCIATIONS, O_FORMAT, O_FIRST_PAGE };

static const cli_option_t options[] = {
    {"json", 0, NULL, O_JSON, "the book's model as JSON: pages, blocks, chapters"},
    {"text", 0, NULL, O_TEXT, "the extracted text (what start_char counts in)"},
    {"tokens", 0, NULL, O_TOKENS,
     "the spoken tokens (TSV: token, start_char, end_char, block\n"
     "kind, page, read, alternatives)"},
    {"pronunciations", 0, NULL, O_PRONUNCIATIONS, "the pronunciations (TSV: word, source, phones)"},
    {"format", 0, "auto|epub|html|txt", O_FORMAT, "how to read BOOK (default: by its content)"},
    {"first-page-label", 0, "N", O_FIRST_PAGE, "text books: label of the first form-feed page"},
    {"dict", 0, "FILE", CLI_OPT_DICT, "pronouncing dictionary (default: the model's)"},
    {NULL, 0, NULL, 0, NULL},
};

const cli_command_t cli_cmd_book = {
    "book",
    "BOOK [--json | --text | --tokens | --pronunciations] [OPTIONS]",
    "What Folio reads in an EPUB or text book: a summary (the default), the model as JSON,\n"
    "the extracted text, the spoken tokens or the pronunciations.",
    options,
    NULL,
};

typedef struct {
    output_t out;
    const char *dict;
    folio_book_options_t opts;
} book_args_t;

static int option(void *ud, const cli_args_t *a, int id, const char *v)
{
    book_args_t *b = ud;
    switch (id) {
    case O_JSON:
    case O_TEXT:
    case O_TOKENS:
    case O_PRONUNCIATIONS:
        b->out = id == O_JSON     ? OUT_JSON
                 : id == O_TEXT   ? OUT_TEXT
                 : id == O_TOKENS ? OUT_TOKENS
                                  : OUT_PRONUNCIATIONS;
        break;
    case CLI_OPT_DICT:
        b->dict = v;
        break;
    case O_FORMAT:
        if (strcmp(v, "auto") == 0)
            b->opts.format = FOLIO_FORMAT_AUTO;
        else if (strcmp(v, "epub") == 0)
            b->opts.format = FOLIO_FORMAT_EPUB;
        else if (strcmp(v, "txt") == 0 || strcmp(v, "text") == 0)
            b->opts.format = FOLIO_FORMAT_TXT;
        else if (strcmp(v, "html") == 0)
            b->opts.format = FOLIO_FORMAT_HTML;
        else
            return cli_bad_value(a, id, v, "auto, epub, html or txt");
        break;
    case O_FIRST_PAGE:
        if (!cli_parse_long(v, &b->opts.first_page_label))
            return cli_bad_value(a, id, v, "a whole number");
        break;
    }
    return -1;
}

int cmd_book(int argc, char **argv)
{
    book_args_t args = {OUT_SUMMARY, NULL, {0}};
    folio_book_options_init(&args.opts);
    cli_args_t p;
    int r = cli_parse(&p, &cli_cmd_book, argc, argv, option, &args);
    if (r >= 0) return r;
    if (p.npos > 1)
        r = cli_usage_error("book", "one book at a time ('%s' and '%s')", p.pos[0], p.pos[1]);
    else if (p.npos == 0)
        r = cli_missing(&cli_cmd_book, "which book?");
    cli_log_t log = p.log;
    const char *path = p.npos ? p.pos[0] : NULL, *dict = args.dict;
    output_t out = args.out;
    folio_book_options_t opts = args.opts;
    cli_args_free(&p);
    if (r >= 0) return r;

    folio_t *ctx = cli_context(&log);
    if (!ctx) return EXIT_FAIL;
    int rc;
    folio_book_t *book = folio_book_open(ctx, path, &opts, &rc);
    if (!book) {
        cli_error(ctx, rc);
        folio_free(ctx);
        return EXIT_FAIL;
    }
    int status = EXIT_OK, write_errno = 0;
    folio_lexicon_t *lex = NULL;
    if (out == OUT_PRONUNCIATIONS || out == OUT_SUMMARY) {
        lex = folio_lexicon_open(ctx, book, dict, &rc);
        if (!lex && out == OUT_PRONUNCIATIONS) {
            cli_error(ctx, rc);
            status = EXIT_FAIL;
        }
    }
    if (out == OUT_TEXT) {
        size_t n;
        const char *text = folio_book_text(book, &n);
        if (fwrite(text, 1, n, stdout) != n) write_errno = errno; /* reported below */
    } else if (out == OUT_JSON) {
        status = print_json(book);
    } else if (out == OUT_TOKENS) {
        status = print_tokens(book);
    } else if (out == OUT_PRONUNCIATIONS) {
        if (lex) print_pronunciations(lex);
    } else {
        print_summary(book, path, lex, folio_errmsg(ctx));
    }
    folio_lexicon_free(lex);
    /* Every output above goes through stdout's buffer. */
    if (cli_stdout_finish(write_errno) < 0) status = EXIT_FAIL;
    folio_book_free(book);
    folio_free(ctx);
    return status;
}
