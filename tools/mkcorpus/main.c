/* mkcorpus NAME OUTDIR [-j N]: build the corpus defined in corpora/NAME/corpus.conf into OUTDIR:
 * book.epub, book.txt, one audio file per chapter and truth.json. Exit 77 (meson's "skipped")
 * when the definition's source is absent. */
#include "mkcorpus.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Children narrate chapters and hand their results back through a small text file each. */
static void save_chapter(const cbook_t *book, int ci, const cfile_t *f, const char *path)
{
    FILE *o = fopen(path, "w");
    if (!o) die("%s: cannot write", path);
    fprintf(o, "F\t%s\t%s\t%.6f\t%.6f\t%.6f\t%.6f\t%.6f\t%d\t%d\t%d\n", f->path, f->voice,
            f->stretch, f->duration, f->speech_sec, f->inserted_sec, f->lag_sec, f->sample_rate,
            f->channels, f->noise);
    for (int i = 0; i < f->n_ins; i++)
        fprintf(o, "I\t%s\t%.6f\t%.6f\t%s\n", f->ins[i].kind, f->ins[i].start, f->ins[i].end,
                f->ins[i].text ? f->ins[i].text : "");
    for (int i = 0; i < f->n_utt; i++)
        fprintf(o, "U\t%s\t%.6f\t%.6f\t%.6f\t%s\n", f->utt[i].kind, f->utt[i].start, f->utt[i].end,
                f->utt[i].seg_end, f->utt[i].text);
    const cchapter_t *ch = &book->ch[ci];
    for (size_t b = ch->first; b < ch->first + ch->count; b++)
        for (size_t k = 0; k < book->b[b].n; k++) {
            const cword_t *w = &book->b[b].w[k];
            if (w->read)
                fprintf(o, "W\t%zu\t%zu\t%.6f\t%.6f\t%s\n", b, k, w->start, w->end, w->said);
        }
    if (fclose(o) != 0) die("%s: write error", path);
}

static void load_chapter(cbook_t *book, int ci, cfile_t *f, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in) die("%s: missing (a narration process failed)", path);
    memset(f, 0, sizeof(*f));
    char line[8192];
    while (fgets(line, sizeof(line), in)) {
        line[strcspn(line, "\n")] = '\0';
        char *save = NULL, *tag = strtok_r(line, "\t", &save);
        if (!tag) continue;
        if (strcmp(tag, "F") == 0) {
            int noise;
            char *fields[10];
            for (int i = 0; i < 10; i++) fields[i] = strtok_r(NULL, "\t", &save);
            xsnprintf(f->path, sizeof(f->path), "%s", fields[0]);
            xsnprintf(f->voice, sizeof(f->voice), "%s", fields[1]);
            f->stretch = atof(fields[2]);
            f->duration = atof(fields[3]);
            f->speech_sec = atof(fields[4]);
            f->inserted_sec = atof(fields[5]);
            f->lag_sec = atof(fields[6]);
            f->sample_rate = atoi(fields[7]);
            f->channels = atoi(fields[8]);
            noise = atoi(fields[9]);
            f->noise = noise;
        } else if (strcmp(tag, "I") == 0 && f->n_ins < 16) {
            struct inserted *x = &f->ins[f->n_ins++];
            xsnprintf(x->kind, sizeof(x->kind), "%s", strtok_r(NULL, "\t", &save));
            x->start = atof(strtok_r(NULL, "\t", &save));
            x->end = atof(strtok_r(NULL, "\t", &save));
            char *t = strtok_r(NULL, "\t", &save);
            x->text = t && *t ? xstrdup(t) : NULL;
        } else if (strcmp(tag, "U") == 0) {
            char *kind = strtok_r(NULL, "\t", &save);
            double start = atof(strtok_r(NULL, "\t", &save));
            double end = atof(strtok_r(NULL, "\t", &save));
            double seg_end = atof(strtok_r(NULL, "\t", &save));
            char *text = strtok_r(NULL, "\t", &save);
            file_add_utterance(f, kind, start, end, seg_end, text ? text : "");
        } else if (strcmp(tag, "W") == 0) {
            size_t b = strtoul(strtok_r(NULL, "\t", &save), NULL, 10);
            size_t k = strtoul(strtok_r(NULL, "\t", &save), NULL, 10);
            cword_t *w = &book->b[b].w[k];
            w->read = true;
            w->timed = true;
            w->file = ci;
            w->start = atof(strtok_r(NULL, "\t", &save));
            w->end = atof(strtok_r(NULL, "\t", &save));
            char *said = strtok_r(NULL, "\t", &save);
            w->said = xstrdup(said ? said : "");
        }
    }
    fclose(in);
}

static json_t *num_or_null(bool ok, double v)
{
    return ok ? json_real(v) : json_null();
}

void write_truth(const conf_t *c, const cbook_t *book, const cfile_t *files, int n_files,
                 const char *path)
{
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("folio-truth"));
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "corpus", json_string(c->name));
    json_object_set_new(root, "book",
                        json_pack("{s:s,s:s,s:s,s:s}", "title", book->title, "author", book->author,
                                  "epub", "book.epub", "txt", "book.txt"));
    json_t *p = json_object();
    json_object_set_new(p, "preamble", json_boolean(c->preamble));
    json_object_set_new(p, "outro", json_boolean(c->outro));
    json_object_set_new(p, "front_matter", json_boolean(c->front_matter));
    json_object_set_new(p, "footnotes", json_integer(book->n_notes));
    json_object_set_new(p, "skip_paragraph", json_pack("[i,i]", c->skip_chapter, c->skip_para));
    json_object_set_new(p, "add_sentence", json_pack("[i,i]", c->add_chapter, c->add_para));
    json_object_set_new(p, "stretch", json_real(c->stretch));
    json_object_set_new(p, "noise_snr_db", json_real(c->noise_snr_db));
    json_object_set_new(p, "long_silence",
                        json_pack("[i,i,f]", c->silence_file, c->silence_para, c->silence_sec));
    json_object_set_new(p, "audio",
                        json_string(c->mp3 ? "mp3 44.1 kHz stereo" : "wav 16 kHz mono"));
    json_object_set_new(root, "perturbations", p);

    json_t *audio = json_array(), *inserted = json_array();
    double offset = 0;
    double *offsets = xmalloc((size_t)n_files * sizeof(double));
    for (int i = 0; i < n_files; i++) {
        const cfile_t *f = &files[i];
        offsets[i] = offset;
        json_array_append_new(audio, json_pack("{s:i,s:s,s:f,s:f,s:s,s:f,s:i,s:i,s:f,s:f,s:f,s:b}",
                                               "index", i, "path", f->path, "duration", f->duration,
                                               "offset", offset, "voice", f->voice, "stretch",
                                               f->stretch, "sample_rate", f->sample_rate,
                                               "channels", f->channels, "speech_seconds",
                                               f->speech_sec, "inserted_seconds", f->inserted_sec,
                                               "encoder_lag", f->lag_sec, "noise", f->noise));
        for (int k = 0; k < f->n_ins; k++)
            json_array_append_new(inserted,
                                  json_pack("{s:i,s:s,s:f,s:f,s:s?}", "file", i, "kind",
                                            f->ins[k].kind, "start", f->ins[k].start, "end",
                                            f->ins[k].end, "text", f->ins[k].text));
        offset += f->duration;
    }
    json_object_set_new(root, "audio", audio);
    json_object_set_new(root, "inserted", inserted);
    json_t *utterances = json_array();
    for (int i = 0; i < n_files; i++)
        for (int k = 0; k < files[i].n_utt; k++) {
            const struct utterance *u = &files[i].utt[k];
            json_array_append_new(utterances,
                                  json_pack("{s:i,s:s,s:f,s:f,s:f,s:s}", "file", i, "kind", u->kind,
                                            "start", u->start, "end", u->end, "segments_end",
                                            u->seg_end, "text", u->text));
        }
    json_object_set_new(root, "utterances", utterances);

    json_t *pages = json_array(), *words = json_array();
    const char *page = "";
    int ordinal = 0, in_page = 0;
    json_t *cur_page = NULL;
    bool all_timed = true, page_has_read = false;
    for (size_t b = 0; b < book->nb; b++) {
        const cblock_t *blk = &book->b[b];
        static const char *kinds[] = {"heading", "paragraph", "footnote", "frontmatter", "toc"};
        for (size_t k = 0; k < blk->n; k++) {
            const cword_t *w = &blk->w[k];
            if (w->page) {
                page = w->page;
                in_page = 0;
                cur_page = json_pack("{s:i,s:s,s:n,s:n,s:n}", "ordinal", ++ordinal, "label", page,
                                     "file", "file_time", "time");
                json_array_append_new(pages, cur_page);
                page_has_read = false;
            }
            bool r = w->read, timed = w->read && w->timed;
            all_timed = all_timed && (!w->read || w->timed);
            json_array_append_new(
                words,
                json_pack("{s:s,s:i,s:s,s:s,s:b,s:s?,s:o,s:o,s:o,s:o,s:o}", "page", page, "ordinal",
                          in_page++, "text", w->text, "kind", kinds[blk->kind], "read", r, "said",
                          w->said, "file", timed ? json_integer(w->file) : json_null(), "file_time",
                          num_or_null(timed, w->start), "end_file_time", num_or_null(timed, w->end),
                          "time", num_or_null(timed, timed ? offsets[w->file] + w->start : 0),
                          "end_time", num_or_null(timed, timed ? offsets[w->file] + w->end : 0)));
            if (r && !page_has_read && cur_page) {
                page_has_read = true;
                if (!timed) continue; /* a read page whose start is not known: left null */
                json_object_set_new(cur_page, "file", json_integer(w->file));
                json_object_set_new(cur_page, "file_time", json_real(w->start));
                json_object_set_new(cur_page, "time", json_real(offsets[w->file] + w->start));
            }
        }
    }
    json_object_set_new(root, "pages", pages);
    json_object_set_new(root, "word_times", json_boolean(all_timed));
    json_object_set_new(root, "words", words);
    char tmp[2048];
    xsnprintf(tmp, sizeof(tmp), "%s.part", path);
    if (json_dump_file(root, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12)) !=
        0)
        die("%s: cannot write", tmp);
    if (rename(tmp, path) != 0) die("%s: rename", path);
    json_decref(root);
    free(offsets);
}

int main(int argc, char **argv)
{
    const char *name = NULL, *outdir = NULL;
    int jobs = 2;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-j") == 0 && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (!name)
            name = argv[i];
        else if (!outdir)
            outdir = argv[i];
        else
            name = NULL, i = argc;
    }
    if (!name || !outdir || jobs < 1) {
        fprintf(stderr, "usage: mkcorpus NAME OUTDIR [-j JOBS]\n"
                        "  NAME: a corpus under corpora/ (demo, hour, tenhour, ...), or a folder "
                        "or file holding a corpus.conf\n");
        return 2;
    }
    conf_t c;
    if (conf_load(name, &c) < 0) return 77;
    if (mkdir(outdir, 0777) != 0 && errno != EEXIST) die("%s: %s", outdir, strerror(errno));
    if (strncmp(c.source, "given:", 6) == 0) {
        given_build(&c, outdir);
        return 0;
    }
    cbook_t book;
    source_load(&c, &book);
    if (c.footnotes) book_add_notes(&book);
    book_paginate(&c, &book);
    book_add_front_matter(&c, &book);
    char path[2048];
    xsnprintf(path, sizeof(path), "%s/book.epub", outdir);
    write_epub(&c, &book, path);
    xsnprintf(path, sizeof(path), "%s/book.txt", outdir);
    write_txt(&book, path);

    int n = (int)book.nch;
    cfile_t *files = xmalloc((size_t)n * sizeof(cfile_t));
    if (book.n_clips) {
        /* Recordings, not narration: one file of all the clips in order. */
        clips_build(&c, &book, outdir, &files[0]);
        n = 1;
        goto truth;
    }
    /* Narrate chapters in @jobs processes (flite keeps global state: processes, not threads). */
    int running = 0, next = 0, failed = 0;
    while (next < n || running) {
        if (next < n && running < jobs) {
            int ci = next++;
            fflush(NULL);
            pid_t pid = fork();
            if (pid < 0) die("fork: %s", strerror(errno));
            if (pid == 0) {
                cfile_t f;
                synth_chapter(&c, &book, ci, outdir, &f);
                xsnprintf(path, sizeof(path), "%s/.chapter%03d.tsv", outdir, ci + 1);
                save_chapter(&book, ci, &f, path);
                _exit(0);
            }
            running++;
            continue;
        }
        int status;
        if (wait(&status) > 0) {
            running--;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
        }
    }
    if (failed) die("%d narration process(es) failed", failed);
    for (int ci = 0; ci < n; ci++) {
        xsnprintf(path, sizeof(path), "%s/.chapter%03d.tsv", outdir, ci + 1);
        load_chapter(&book, ci, &files[ci], path);
        remove(path);
    }
    if (c.m4b) {
        m4b_assemble(&c, &book, files, n, outdir);
        n = 1;
    }
truth:
    xsnprintf(path, sizeof(path), "%s/truth.json", outdir);
    write_truth(&c, &book, files, n, path);
    double total = 0;
    for (int i = 0; i < n; i++) total += files[i].duration;
    size_t words = 0, read = 0;
    for (size_t b = 0; b < book.nb; b++)
        for (size_t k = 0; k < book.b[b].n; k++) words++, read += book.b[b].w[k].read;
    printf("mkcorpus: %s: %d files, %.1f min of audio, %zu words (%zu read) -> %s\n", c.name, n,
           total / 60, words, read, outdir);
    for (int i = 0; i < n; i++) file_free(&files[i]);
    free(files);
    book_free(&book);
    return 0;
}
