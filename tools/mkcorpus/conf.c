/* Corpus definitions: corpora/NAME/corpus.conf, "key = value" lines, "#" comments. */
#include "mkcorpus.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FOLIO_SOURCE_DIR
#define FOLIO_SOURCE_DIR "."
#endif

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static bool yes(const char *v)
{
    return strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

static int ints(const char *v, int *out, int max)
{
    int n = 0;
    char *copy = xstrdup(v), *save = NULL;
    for (char *t = strtok_r(copy, " ,", &save); t && n < max; t = strtok_r(NULL, " ,", &save))
        out[n++] = atoi(t);
    free(copy);
    return n;
}

/* "${FOLIO_CORPORA}/x" -> $FOLIO_CORPORA/x, default ../shared/corpora beside the source tree;
 * other relative paths are relative to the definition's folder. */
static void expand(const conf_t *c, const char *v, char *out, size_t n)
{
    const char *var = "${FOLIO_CORPORA}";
    if (strncmp(v, var, strlen(var)) == 0) {
        const char *env = getenv("FOLIO_CORPORA");
        if (env && *env)
            xsnprintf(out, n, "%s%s", env, v + strlen(var));
        else
            xsnprintf(out, n, "%s/../shared/corpora%s", FOLIO_SOURCE_DIR, v + strlen(var));
    } else if (v[0] == '/') {
        xsnprintf(out, n, "%s", v);
    } else {
        xsnprintf(out, n, "%s/%s", c->dir, v);
    }
}

int conf_load(const char *name, conf_t *c)
{
    memset(c, 0, sizeof(*c));
    c->words_per_page = 300;
    c->stretch = 1.0;
    c->seed = 1;
    c->jobs = 2;
    c->clips_per_paragraph = 1;
    c->gap_sec = 1.0;
    char path[1200];
    struct stat st;
    /* NAME is a folder with corpus.conf, a .conf file, or a name under corpora/. */
    if (stat(name, &st) == 0 && S_ISDIR(st.st_mode)) {
        xsnprintf(c->dir, sizeof(c->dir), "%s", name);
        xsnprintf(path, sizeof(path), "%s/corpus.conf", name);
    } else if (stat(name, &st) == 0) {
        xsnprintf(path, sizeof(path), "%s", name);
        xsnprintf(c->dir, sizeof(c->dir), "%s", name);
        char *slash = strrchr(c->dir, '/');
        if (slash)
            *slash = '\0';
        else
            snprintf(c->dir, sizeof(c->dir), ".");
    } else {
        xsnprintf(c->dir, sizeof(c->dir), "%s/corpora/%s", FOLIO_SOURCE_DIR, name);
        xsnprintf(path, sizeof(path), "%s/corpus.conf", c->dir);
    }
    FILE *f = fopen(path, "r");
    if (!f) die("%s: no corpus definition (looked for %s)", name, path);
    const char *base = strrchr(name, '/');
    xsnprintf(c->name, sizeof(c->name), "%s", base ? base + 1 : name);
    char line[2048];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *eq = strchr(line, '=');
        char *t = trim(line);
        if (!*t) continue;
        if (!eq) die("%s:%d: expected key = value", path, lineno);
        *eq = '\0';
        char *k = trim(line), *v = trim(eq + 1);
        int tmp[4];
        if (strcmp(k, "name") == 0)
            snprintf(c->name, sizeof(c->name), "%s", v);
        else if (strcmp(k, "source") == 0) {
            char *colon = strchr(v, ':');
            if (!colon) die("%s:%d: source is KIND:PATH", path, lineno);
            *colon = '\0';
            char p[1024];
            expand(c, colon + 1, p, sizeof(p));
            xsnprintf(c->source, sizeof(c->source), "%s:%s", v, p);
        } else if (strcmp(k, "chapters") == 0) {
            if (strcmp(v, "all") != 0 &&
                sscanf(v, "%d-%d", &c->first_chapter, &c->last_chapter) != 2)
                die("%s:%d: chapters is all or FIRST-LAST", path, lineno);
        } else if (strcmp(k, "voices") == 0) {
            char *save = NULL;
            for (char *tok = strtok_r(v, " ,", &save); tok && c->n_voices < 8;
                 tok = strtok_r(NULL, " ,", &save))
                snprintf(c->voices[c->n_voices++], 16, "%s", tok);
        } else if (strcmp(k, "words_per_page") == 0)
            c->words_per_page = atoi(v);
        else if (strcmp(k, "preamble") == 0)
            c->preamble = yes(v);
        else if (strcmp(k, "outro") == 0)
            c->outro = yes(v);
        else if (strcmp(k, "front_matter") == 0)
            c->front_matter = yes(v);
        else if (strcmp(k, "footnotes") == 0)
            c->footnotes = yes(v);
        else if (strcmp(k, "skip_paragraph") == 0) {
            if (ints(v, tmp, 2) != 2) die("%s:%d: skip_paragraph CHAPTER PARAGRAPH", path, lineno);
            c->skip_chapter = tmp[0], c->skip_para = tmp[1];
        } else if (strcmp(k, "add_sentence") == 0) {
            if (ints(v, tmp, 2) != 2) die("%s:%d: add_sentence CHAPTER PARAGRAPH", path, lineno);
            c->add_chapter = tmp[0], c->add_para = tmp[1];
        } else if (strcmp(k, "fast_files") == 0)
            c->n_fast = ints(v, c->fast_files, 16);
        else if (strcmp(k, "stretch") == 0)
            c->stretch = atof(v);
        else if (strcmp(k, "noise_snr_db") == 0)
            c->noise_snr_db = atof(v);
        else if (strcmp(k, "noise_files") == 0)
            c->n_noise = ints(v, c->noise_files, 16);
        else if (strcmp(k, "long_silence") == 0) {
            double sec;
            if (sscanf(v, "%d %d %lf", &c->silence_file, &c->silence_para, &sec) != 3)
                die("%s:%d: long_silence FILE PARAGRAPH SECONDS", path, lineno);
            c->silence_sec = sec;
        } else if (strcmp(k, "audio") == 0) {
            if (strcmp(v, "mp3") != 0 && strcmp(v, "wav") != 0 && strcmp(v, "m4b") != 0)
                die("%s:%d: audio is mp3, m4b or wav", path, lineno);
            c->mp3 = strcmp(v, "mp3") == 0;
            c->m4b = strcmp(v, "m4b") == 0;
        } else if (strcmp(k, "seed") == 0)
            c->seed = (unsigned)strtoul(v, NULL, 10);
        else if (strcmp(k, "frames") == 0)
            expand(c, v, c->frames, sizeof(c->frames));
        else if (strcmp(k, "clips_per_paragraph") == 0)
            c->clips_per_paragraph = atoi(v);
        else if (strcmp(k, "gap") == 0)
            c->gap_sec = atof(v);
        else if (strcmp(k, "title") == 0)
            xsnprintf(c->title, sizeof(c->title), "%s", v);
        else if (strcmp(k, "book") == 0)
            xsnprintf(c->book, sizeof(c->book), "%s", v);
        else if (strcmp(k, "truth") == 0)
            xsnprintf(c->truth, sizeof(c->truth), "%s", v);
        else if (strcmp(k, "files") == 0) {
            xsnprintf(c->files, sizeof(c->files), "%s", v);
            int nf = 0;
            char *copy = xstrdup(v), *save = NULL;
            for (char *tok = strtok_r(copy, " ", &save); tok && nf < 16;
                 tok = strtok_r(NULL, " ", &save), nf++) {
                char *a = strchr(tok, ':');
                c->smil_start[nf] = a ? atof(a + 1) : 0;
                char *b = a ? strchr(a + 1, ':') : NULL;
                c->smil_end[nf] = b ? atof(b + 1) : 1e12;
            }
            free(copy);
        } else
            die("%s:%d: unknown key '%s'", path, lineno, k);
    }
    fclose(f);
    if (!c->source[0]) die("%s: no source", path);
    if (!c->n_voices) snprintf(c->voices[c->n_voices++], 16, "slt");
    const char *src = strchr(c->source, ':') + 1;
    if (stat(src, &st) != 0) {
        fprintf(stderr, "mkcorpus: %s: source %s is absent (set FOLIO_CORPORA); skipped\n", c->name,
                src);
        return -1;
    }
    return 0;
}
