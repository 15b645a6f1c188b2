/* Reading a corpus source into mkcorpus's book model: an EPUB source folder (its spine's chapter
 * documents, with their page markers and footnotes) or a Project Gutenberg text; then front
 * matter, pages and notes as the definition asks. */
#include "mkcorpus.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mkcorpus: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) die("out of memory");
    return p;
}

void xsnprintf(char *buf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(buf, n, fmt, ap);
    va_end(ap);
    if (r < 0 || (size_t)r >= n) die("a path or text is too long: %.80s...", buf);
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) die("out of memory");
    return d;
}

cblock_t *book_block(cbook_t *book, kind_t kind, int chapter)
{
    if (book->nb == book->capb) {
        book->capb = book->capb ? book->capb * 2 : 64;
        book->b = xrealloc(book->b, book->capb * sizeof(cblock_t));
    }
    cblock_t *b = &book->b[book->nb++];
    memset(b, 0, sizeof(*b));
    b->kind = kind;
    b->chapter = chapter;
    return b;
}

static void add_word_span(cblock_t *b, const char *w, size_t n)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 32;
        b->w = xrealloc(b->w, b->cap * sizeof(cword_t));
    }
    cword_t *x = &b->w[b->n++];
    memset(x, 0, sizeof(*x));
    x->text = xmalloc(n + 1);
    memcpy(x->text, w, n);
    x->text[n] = '\0';
    x->file = -1;
}

void block_add_words(cblock_t *b, const char *text)
{
    const char *p = text;
    while (*p) {
        while (*p && isspace((unsigned char)*p)) p++;
        const char *q = p;
        while (*q && !isspace((unsigned char)*q)) q++;
        if (q > p) add_word_span(b, p, (size_t)(q - p));
        p = q;
    }
}

static cchapter_t *new_chapter(cbook_t *book)
{
    if (book->nch == book->capch) {
        book->capch = book->capch ? book->capch * 2 : 16;
        book->ch = xrealloc(book->ch, book->capch * sizeof(cchapter_t));
    }
    cchapter_t *c = &book->ch[book->nch++];
    memset(c, 0, sizeof(*c));
    c->first = book->nb;
    return c;
}

/* ---- EPUB source folder ---- */

typedef struct {
    cbook_t *book;
    int chapter;
    char *pending_page;
    int para;
    bool in_note;
} walk_t;

static bool has_type(xmlNodePtr n, const char *type)
{
    xmlChar *v =
        xmlGetNsProp(n, (const xmlChar *)"type", (const xmlChar *)"http://www.idpf.org/2007/ops");
    bool r = false;
    if (v) {
        char *save = NULL, *copy = xstrdup((const char *)v);
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
            r |= strcmp(t, type) == 0;
        free(copy);
        xmlFree(v);
    }
    return r;
}

static bool named(xmlNodePtr n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

/* Text of a block with events at byte positions: page markers and note references. */
typedef struct {
    char *buf;
    size_t len;
    struct {
        size_t pos;
        char *page; /* NULL for a note reference */
    } ev[64];
    int n_ev;
} gather_t;

static void gather(walk_t *w, xmlNodePtr n, gather_t *g)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type == XML_TEXT_NODE) {
            size_t l = strlen((const char *)c->content);
            g->buf = xrealloc(g->buf, g->len + l + 1);
            memcpy(g->buf + g->len, c->content, l + 1);
            g->len += l;
        } else if (c->type == XML_ELEMENT_NODE && g->n_ev < 64 &&
                   (has_type(c, "pagebreak") || has_type(c, "noteref"))) {
            char *label = NULL;
            if (has_type(c, "pagebreak")) {
                xmlChar *t = xmlGetProp(c, (const xmlChar *)"title");
                label = xstrdup(t ? (const char *)t : "?");
                xmlFree(t);
            }
            g->ev[g->n_ev].pos = g->len;
            g->ev[g->n_ev++].page = label;
        } else if (c->type == XML_ELEMENT_NODE) {
            gather(w, c, g);
        }
    }
}

static void text_block(walk_t *w, xmlNodePtr n, kind_t kind, int level)
{
    cblock_t *b = book_block(w->book, kind, w->chapter);
    b->level = level;
    if (kind == K_PARA) b->para = ++w->para;
    gather_t g = {xmalloc(1), 0, {{0, NULL}}, 0};
    g.buf[0] = '\0';
    gather(w, n, &g);
    /* Split into words, remembering where each starts and ends. */
    size_t starts[4096], ends[4096], nw = 0;
    for (size_t i = 0; i < g.len && nw < 4096;) {
        while (i < g.len && isspace((unsigned char)g.buf[i])) i++;
        if (i >= g.len) break;
        starts[nw] = i;
        while (i < g.len && !isspace((unsigned char)g.buf[i])) i++;
        ends[nw++] = i;
    }
    for (size_t k = 0; k < nw; k++) {
        add_word_span(b, g.buf + starts[k], ends[k] - starts[k]);
        if (w->pending_page) {
            b->w[b->n - 1].page = w->pending_page;
            w->pending_page = NULL;
        }
    }
    for (int e = 0; e < g.n_ev; e++) {
        /* A page starts at the first word beginning at or after its marker; a note reference
         * belongs to the last word that began before it. */
        size_t pos = g.ev[e].pos, k = 0;
        if (g.ev[e].page) {
            while (k < nw && starts[k] < pos) k++;
            if (k < nw) {
                free(b->w[k].page);
                b->w[k].page = g.ev[e].page;
            } else {
                free(w->pending_page);
                w->pending_page = g.ev[e].page;
            }
        } else {
            while (k < nw && starts[k] < pos) k++;
            if (k > 0) b->w[k - 1].note_ref = ++w->book->n_notes;
        }
    }
    free(g.buf);
    if (!b->n) w->book->nb--; /* empty */
}

static void walk(walk_t *w, xmlNodePtr n)
{
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (has_type(c, "pagebreak")) {
            xmlChar *t = xmlGetProp(c, (const xmlChar *)"title");
            free(w->pending_page);
            w->pending_page = xstrdup(t ? (const char *)t : "?");
            xmlFree(t);
        } else if (named(c, "h1") || named(c, "h2") || named(c, "h3")) {
            text_block(w, c, K_HEADING, c->name[1] == '1' ? 1 : 2);
        } else if (named(c, "p")) {
            text_block(w, c, w->in_note ? K_NOTE : K_PARA, 0);
            if (w->in_note) w->book->b[w->book->nb - 1].note = w->book->n_notes;
        } else if (named(c, "aside") && has_type(c, "footnote")) {
            w->in_note = true;
            walk(w, c);
            w->in_note = false;
        } else {
            walk(w, c);
        }
    }
}

static bool front_document(xmlNodePtr n)
{
    for (xmlNodePtr c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (named(c, "nav") || has_type(c, "titlepage") || has_type(c, "copyright-page") ||
            has_type(c, "toc") || has_type(c, "frontmatter"))
            return true;
        if (front_document(c->children)) return true;
    }
    return false;
}

static xmlNodePtr find(xmlNodePtr n, const char *name)
{
    for (xmlNodePtr c = n; c; c = c->next) {
        if (named(c, name)) return c;
        xmlNodePtr d = find(c->children, name);
        if (d) return d;
    }
    return NULL;
}

static void load_epub_dir(const conf_t *c, const char *dir, cbook_t *book)
{
    char path[2048];
    xsnprintf(path, sizeof(path), "%s/META-INF/container.xml", dir);
    xmlDocPtr cont = xmlReadFile(path, NULL, XML_PARSE_NONET);
    if (!cont) die("%s: cannot read", path);
    xmlNodePtr rf = find(xmlDocGetRootElement(cont), "rootfile");
    xmlChar *full = rf ? xmlGetProp(rf, (const xmlChar *)"full-path") : NULL;
    if (!full) die("%s: no rootfile", path);
    char opf[2048], opfdir[2048];
    xsnprintf(opf, sizeof(opf), "%s/%s", dir, (const char *)full);
    xsnprintf(opfdir, sizeof(opfdir), "%s", opf);
    *strrchr(opfdir, '/') = '\0';
    xmlFree(full);
    xmlFreeDoc(cont);
    xmlDocPtr pkg = xmlReadFile(opf, NULL, XML_PARSE_NONET);
    if (!pkg) die("%s: cannot read", opf);
    xmlNodePtr root = xmlDocGetRootElement(pkg);
    xmlNodePtr t = find(root, "title"), a = find(root, "creator");
    xmlChar *tv = t ? xmlNodeGetContent(t) : NULL, *av = a ? xmlNodeGetContent(a) : NULL;
    book->title = xstrdup(tv ? (const char *)tv : c->name);
    book->author = xstrdup(av ? (const char *)av : "Unknown");
    xmlFree(tv);
    xmlFree(av);
    xmlNodePtr spine = find(root, "spine"), manifest = find(root, "manifest");
    int n_chapter = 0;
    for (xmlNodePtr ir = spine ? spine->children : NULL; ir; ir = ir->next) {
        if (!named(ir, "itemref")) continue;
        xmlChar *idref = xmlGetProp(ir, (const xmlChar *)"idref");
        xmlChar *href = NULL;
        for (xmlNodePtr it = manifest->children; it && !href; it = it->next) {
            if (!named(it, "item")) continue;
            xmlChar *id = xmlGetProp(it, (const xmlChar *)"id");
            if (id && idref && strcmp((const char *)id, (const char *)idref) == 0)
                href = xmlGetProp(it, (const xmlChar *)"href");
            xmlFree(id);
        }
        xmlFree(idref);
        if (!href) continue;
        char doc[2048];
        xsnprintf(doc, sizeof(doc), "%s/%s", opfdir, (const char *)href);
        xmlFree(href);
        xmlDocPtr d = xmlReadFile(doc, NULL, XML_PARSE_NONET);
        if (!d) die("%s: not well-formed", doc);
        xmlNodePtr body = find(xmlDocGetRootElement(d), "body");
        if (body && !front_document(body->children)) {
            n_chapter++;
            if (!c->first_chapter ||
                (n_chapter >= c->first_chapter && n_chapter <= c->last_chapter)) {
                cchapter_t *ch = new_chapter(book);
                walk_t w = {book, (int)book->nch - 1, NULL, 0, false};
                walk(&w, body);
                free(w.pending_page);
                ch = &book->ch[book->nch - 1];
                ch->count = book->nb - ch->first;
            }
        }
        xmlFreeDoc(d);
    }
    xmlFreeDoc(pkg);
}

/* ---- Project Gutenberg text ---- */

char *read_text_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("%s: cannot open", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = xmalloc((size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n) die("%s: read error", path);
    s[n] = '\0';
    fclose(f);
    size_t o = 0;
    for (long i = 0; i < n; i++)
        if (s[i] != '\r') s[o++] = s[i];
    s[o] = '\0';
    return s;
}

static bool chapter_line(const char *l)
{
    if (strncmp(l, "CHAPTER ", 8) != 0) return false;
    for (const char *p = l + 8; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.') return false;
    return true;
}

static void load_gutenberg(const conf_t *c, const char *path, cbook_t *book)
{
    char *s = read_text_file(path);
    char *start = strstr(s, "*** START OF");
    char *end = strstr(s, "*** END OF");
    if (!start || !end) die("%s: no Project Gutenberg START/END markers", path);
    *end = '\0';
    char *title = strstr(s, "Title: "), *author = strstr(s, "Author: ");
    book->title = xstrdup(title ? strtok(title + 7, "\n") : c->name);
    book->author = xstrdup(author ? strtok(author + 8, "\n") : "Unknown");
    char *body = strchr(start, '\n');
    int n_chapter = 0;
    bool in_chapter = false;
    cblock_t *para = NULL;
    int para_n = 0;
    char *save = NULL;
    char *line = strtok_r(body, "\n", &save);
    /* strtok_r drops empty lines; paragraphs are found by tracking line positions instead. */
    char *prev_end = body;
    for (; line; line = strtok_r(NULL, "\n", &save)) {
        bool blank_before = line > prev_end + 1;
        prev_end = line + strlen(line);
        if (chapter_line(line)) {
            n_chapter++;
            in_chapter = !c->first_chapter ||
                         (n_chapter >= c->first_chapter && n_chapter <= c->last_chapter);
            if (book->nch) book->ch[book->nch - 1].count = book->nb - book->ch[book->nch - 1].first;
            para = NULL;
            if (!in_chapter) continue;
            new_chapter(book);
            cblock_t *h = book_block(book, K_HEADING, (int)book->nch - 1);
            h->level = 1;
            block_add_words(h, line);
            para_n = 0;
            continue;
        }
        if (!in_chapter) continue;
        bool blank = true;
        for (char *p = line; *p; p++) blank = blank && isspace((unsigned char)*p);
        if (blank) {
            para = NULL;
            continue;
        }
        if (blank_before) para = NULL;
        if (!para) {
            para = book_block(book, K_PARA, (int)book->nch - 1);
            para->para = ++para_n;
        }
        /* Gutenberg marks italics with underscores. */
        for (char *p = line; *p; p++)
            if (*p == '_') *p = ' ';
        block_add_words(para, line);
    }
    if (book->nch) book->ch[book->nch - 1].count = book->nb - book->ch[book->nch - 1].first;
    free(s);
}

/* ---- clips: recordings with their texts ---- */

static void add_clip(cbook_t *book, const char *path)
{
    book->clip_path = xrealloc(book->clip_path, (book->n_clips + 1) * sizeof(char *));
    book->clip_path[book->n_clips++] = xstrdup(path);
}

static void load_clips(const conf_t *c, const char *dir, cbook_t *book)
{
    book->title = xstrdup(c->title[0] ? c->title : c->name);
    book->author = xstrdup("Various readers");
    /* Texts: LJ Speech's metadata.csv (id|text|...) or pocketsphinx's fileids + transcription. */
    char path[2048], line[8192];
    char **texts = NULL, **files = NULL;
    size_t n = 0;
    xsnprintf(path, sizeof(path), "%s/metadata.csv", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        while (fgets(line, sizeof(line), f)) {
            line[strcspn(line, "\r\n")] = '\0';
            char *bar = strchr(line, '|');
            if (!bar) continue;
            *bar = '\0';
            char *text = bar + 1, *bar2 = strchr(text, '|');
            if (bar2) *bar2 = '\0';
            texts = xrealloc(texts, (n + 1) * sizeof(char *));
            files = xrealloc(files, (n + 1) * sizeof(char *));
            texts[n] = xstrdup(text);
            xsnprintf(path, sizeof(path), "%s/clips/%s.flac", dir, line);
            files[n++] = xstrdup(path);
        }
        fclose(f);
    } else {
        xsnprintf(path, sizeof(path), "%s/transcription", dir);
        f = fopen(path, "r");
        if (!f) die("%s: neither metadata.csv nor transcription", dir);
        while (fgets(line, sizeof(line), f)) {
            char *open = strrchr(line, '(');
            if (!open) continue;
            char *close = strchr(open, ')');
            if (!close) continue;
            *close = '\0';
            *open = '\0';
            char *text = line;
            if (strncmp(text, "<s>", 3) == 0) text += 3;
            char *end = strstr(text, "</s>");
            if (end) *end = '\0';
            texts = xrealloc(texts, (n + 1) * sizeof(char *));
            files = xrealloc(files, (n + 1) * sizeof(char *));
            texts[n] = xstrdup(text);
            xsnprintf(path, sizeof(path), "%s/%s.wav", dir, open + 1);
            files[n++] = xstrdup(path);
        }
        fclose(f);
    }
    if (!n) die("%s: no clips", dir);
    /* Framing paragraphs, one a line. */
    char **frames = NULL;
    size_t n_frames = 0;
    if (c->frames[0]) {
        FILE *ff = fopen(c->frames, "r");
        if (!ff) die("%s: cannot open", c->frames);
        while (fgets(line, sizeof(line), ff)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (!line[0] || line[0] == '#') continue;
            frames = xrealloc(frames, (n_frames + 1) * sizeof(char *));
            frames[n_frames++] = xstrdup(line);
        }
        fclose(ff);
    }
    new_chapter(book);
    cblock_t *h = book_block(book, K_HEADING, 0);
    h->level = 1;
    block_add_words(h, book->title);
    if (n_frames) block_add_words(book_block(book, K_PARA, 0), frames[0]);
    cblock_t *para = NULL;
    int para_n = 0;
    for (size_t i = 0; i < n; i++) {
        if (!para || i % (size_t)c->clips_per_paragraph == 0) {
            para = book_block(book, K_PARA, 0);
            para->para = ++para_n;
        }
        size_t first = para->n;
        block_add_words(para, texts[i]);
        if (para->n == first) die("clip %s has no text", files[i]);
        char label[16];
        xsnprintf(label, sizeof(label), "%zu", i + 1);
        para->w[first].page = xstrdup(label);
        add_clip(book, files[i]);
        para->w[first].clip = (int)book->n_clips;
        if (i + 1 < n_frames) {
            cblock_t *fr = book_block(book, K_PARA, 0);
            block_add_words(fr, frames[i + 1]);
            fr->para = -1; /* a frame: not read */
            para = NULL;
        }
        free(texts[i]);
        free(files[i]);
    }
    free(texts);
    free(files);
    for (size_t i = 0; i < n_frames; i++) free(frames[i]);
    free(frames);
    book->ch[0].count = book->nb - book->ch[0].first;
}

int source_load(const conf_t *c, cbook_t *book)
{
    memset(book, 0, sizeof(*book));
    const char *colon = strchr(c->source, ':');
    size_t kl = (size_t)(colon - c->source);
    if (kl == 4 && strncmp(c->source, "epub", 4) == 0)
        load_epub_dir(c, colon + 1, book);
    else if (kl == 9 && strncmp(c->source, "gutenberg", 9) == 0)
        load_gutenberg(c, colon + 1, book);
    else if (kl == 5 && strncmp(c->source, "clips", 5) == 0)
        load_clips(c, colon + 1, book);
    else
        die("%s: unknown source kind (epub, gutenberg or clips)", c->source);
    if (!book->nch) die("%s: no chapters", c->source);
    /* Chapter titles from their headings. */
    for (size_t i = 0; i < book->nch; i++) {
        cchapter_t *ch = &book->ch[i];
        size_t len = 0;
        char *title = xmalloc(1);
        title[0] = '\0';
        for (size_t b = ch->first; b < ch->first + ch->count && book->b[b].kind == K_HEADING; b++)
            for (size_t k = 0; k < book->b[b].n; k++) {
                const char *w = book->b[b].w[k].text;
                title = xrealloc(title, len + strlen(w) + 3);
                len += (size_t)sprintf(title + len, "%s%s", len ? (k == 0 ? ": " : " ") : "", w);
            }
        ch->title = title;
    }
    return 0;
}

/* Front matter: a title page (i), a copyright page (ii) and a contents page (iii), none read. */
void book_add_front_matter(const conf_t *c, cbook_t *book)
{
    if (!c->front_matter) return;
    size_t old_nb = book->nb;
    cblock_t *old = book->b;
    book->b = NULL;
    book->nb = book->capb = 0;
    cblock_t *b = book_block(book, K_FRONT, -1);
    block_add_words(b, book->title);
    b->w[0].page = xstrdup("i");
    b = book_block(book, K_FRONT, -1);
    char by[512];
    xsnprintf(by, sizeof(by), "by %s", book->author);
    block_add_words(b, by);
    b = book_block(book, K_FRONT, -1);
    block_add_words(b, book->n_clips
                           ? "This edition was put together by Folio's corpus builder around "
                             "recordings by volunteers. Its page timings come from the recordings."
                           : "This edition was generated by Folio's corpus builder for measuring "
                             "alignment. Its narration is synthetic and its timings are exact.");
    b->w[0].page = xstrdup("ii");
    b = book_block(book, K_TOC, -1);
    block_add_words(b, "Contents");
    b->w[0].page = xstrdup("iii");
    for (size_t i = 0; i < book->nch; i++) {
        b = book_block(book, K_TOC, -1);
        block_add_words(b, book->ch[i].title);
    }
    size_t shift = book->nb;
    for (size_t i = 0; i < old_nb; i++) {
        cblock_t *nb = book_block(book, old[i].kind, old[i].chapter);
        *nb = old[i];
    }
    free(old);
    for (size_t i = 0; i < book->nch; i++) book->ch[i].first += shift;
}

/* Pages for sources without them: a new page at each chapter and every words_per_page words. */
void book_paginate(const conf_t *c, cbook_t *book)
{
    bool has = false;
    for (size_t i = 0; i < book->nb && !has; i++)
        for (size_t k = 0; k < book->b[i].n && !has; k++)
            has = book->b[i].w[k].page && book->b[i].chapter >= 0;
    if (has) return;
    int label = 0, count = 0;
    for (size_t ci = 0; ci < book->nch; ci++) {
        const cchapter_t *ch = &book->ch[ci];
        count = 0;
        for (size_t b = ch->first; b < ch->first + ch->count; b++)
            for (size_t k = 0; k < book->b[b].n; k++) {
                if (count == 0 || count >= c->words_per_page) {
                    char l[16];
                    xsnprintf(l, sizeof(l), "%d", ++label);
                    book->b[b].w[k].page = xstrdup(l);
                    count = 0;
                }
                count++;
            }
    }
}

/* @n (from 1) in words: "seven", "forty-two", "one hundred and five"; digits from 1000. */
static void spell_number(int n, char *out, size_t cap)
{
    static const char *const ones[] = {"zero",    "one",     "two",       "three",    "four",
                                       "five",    "six",     "seven",     "eight",    "nine",
                                       "ten",     "eleven",  "twelve",    "thirteen", "fourteen",
                                       "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"};
    static const char *const tens[] = {"",      "",      "twenty",  "thirty", "forty",
                                       "fifty", "sixty", "seventy", "eighty", "ninety"};
    if (n < 1 || n > 999) {
        xsnprintf(out, cap, "%d", n);
        return;
    }
    char rest[64] = "";
    int r = n % 100;
    if (r >= 20)
        xsnprintf(rest, sizeof(rest), "%s%s%s", tens[r / 10], r % 10 ? "-" : "",
                  r % 10 ? ones[r % 10] : "");
    else if (r > 0)
        xsnprintf(rest, sizeof(rest), "%s", ones[r]);
    if (n >= 100)
        xsnprintf(out, cap, "%s hundred%s%s", ones[n / 100], r ? " and " : "", rest);
    else
        xsnprintf(out, cap, "%s", rest);
}

/* The wording of the note added to chapter @chapter (from 1), numbered @note: different for every
 * chapter, because repeated text makes anchors ambiguous. Each slot takes its word from its own
 * list, the lists' lengths being distinct primes, so the words of any two neighbouring slots come
 * back together only after 29 x 31 = 899 chapters, and no run of four words is in two notes of a
 * book of up to 99 chapters (whose numbers are spelled as one word). */
static void note_text(int note, int chapter, char *out, size_t cap)
{
    static const char *const who[] = {
        "One printer",          "A careful proofreader",  "The first editor",
        "An early reviewer",    "A later publisher",      "One compositor",
        "The author's niece",   "A village schoolmaster", "An American reprint",
        "The second edition",   "A circulating library",  "One Victorian critic",
        "A French translator",  "The manuscript",         "A pencilled hand",
        "An unknown owner",     "The annotated text",     "A Dublin printing",
        "One cautious scholar", "The errata slip",        "A bookseller's catalogue",
        "An Edinburgh journal", "The family's copy",      "A schoolroom abridgement",
        "One cheap reprint",    "A German scholar",       "The serial version",
        "A London reviewer",    "The corrected proofs"};
    static const char *const how[] = {
        "quietly",  "wrongly", "silently", "boldly",    "carelessly", "deliberately", "briefly",
        "sharply",  "gently",  "oddly",    "rightly",   "plainly",    "hastily",      "wisely",
        "clumsily", "neatly",  "freely",   "gravely",   "warmly",     "coolly",       "firmly",
        "lightly",  "openly",  "loosely",  "strangely", "kindly",     "coldly",       "fairly",
        "barely",   "slyly",   "aptly"};
    static const char *const did[] = {
        "altered",    "dropped",     "questioned", "reprinted", "softened",   "shortened",
        "doubled",    "praised",     "mocked",     "reworded",  "italicised", "misquoted",
        "explained",  "underlined",  "corrected",  "restored",  "omitted",    "glossed",
        "queried",    "rearranged",  "defended",   "moved",     "translated", "trimmed",
        "blotted",    "capitalised", "annotated",  "revised",   "disputed",   "challenged",
        "simplified", "modernised",  "bracketed",  "condensed", "expanded",   "censored",
        "admired"};
    static const char *const what_like[] = {
        "closing",  "opening",  "second",   "final",   "longest",  "shortest", "quoted",
        "borrowed", "awkward",  "famous",   "curious", "gentle",   "bitter",   "hurried",
        "doubtful", "measured", "quiet",    "lively",  "solemn",   "tangled",  "plain",
        "ornate",   "careful",  "sudden",   "broken",  "elegant",  "clumsy",   "tender",
        "formal",   "homely",   "mannered", "heavy",   "ironic",   "pointed",  "stately",
        "rambling", "cheerful", "mournful", "stiff",   "graceful", "hopeful"};
    static const char *const what[] = {
        "phrase",   "clause",      "sentence",   "remark",   "reply",    "speech",
        "line",     "passage",     "letter",     "toast",    "greeting", "complaint",
        "promise",  "compliment",  "apology",    "joke",     "question", "answer",
        "proverb",  "description", "list",       "argument", "aside",    "exclamation",
        "farewell", "confession",  "rebuke",     "sigh",     "verse",    "anecdote",
        "proposal", "warning",     "boast",      "report",   "rumour",   "summary",
        "vow",      "quarrel",     "invitation", "refusal",  "riddle",   "lament",
        "retort"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
    _Static_assert(COUNT(who) == 29 && COUNT(how) == 31 && COUNT(did) == 37 &&
                       COUNT(what_like) == 41 && COUNT(what) == 43,
                   "the lists' lengths are distinct primes");
    size_t c = (size_t)chapter;
    char number[96];
    spell_number(chapter, number, sizeof(number));
    xsnprintf(out, cap, "Note %d. %s %s %s the %s %s in chapter %s.", note, who[c % COUNT(who)],
              how[c % COUNT(how)], did[c % COUNT(did)], what_like[c % COUNT(what_like)],
              what[c % COUNT(what)], number);
#undef COUNT
}

/* Notes for sources without them: one per chapter, after its second paragraph's last word. */
void book_add_notes(cbook_t *book)
{
    if (book->n_notes) return;
    cblock_t *old = book->b;
    size_t old_nb = book->nb;
    book->b = NULL;
    book->nb = book->capb = 0;
    for (size_t ci = 0; ci < book->nch; ci++) book->ch[ci].count = 0;
    size_t chapter_of_next = 0;
    for (size_t i = 0; i < old_nb; i++) {
        int ch = old[i].chapter;
        if (ch >= 0 && (size_t)ch >= chapter_of_next) {
            book->ch[ch].first = book->nb;
            chapter_of_next = (size_t)ch + 1;
        }
        cblock_t *nb = book_block(book, old[i].kind, ch);
        *nb = old[i];
        if (ch >= 0) book->ch[ch].count++;
        bool last_of_chapter = ch >= 0 && (i + 1 == old_nb || old[i + 1].chapter != ch);
        if (last_of_chapter) {
            /* Find paragraph 2 of this chapter and give it a note. */
            for (size_t b = book->ch[ch].first; b < book->nb; b++) {
                if (book->b[b].kind != K_PARA || book->b[b].para != 2) continue;
                int note = ++book->n_notes;
                book->b[b].w[book->b[b].n - 1].note_ref = note;
                cblock_t *n = book_block(book, K_NOTE, ch);
                n->note = note;
                char text[512];
                note_text(note, ch + 1, text, sizeof(text));
                block_add_words(n, text);
                book->ch[ch].count++;
                break;
            }
        }
    }
    free(old);
}

void book_free(cbook_t *book)
{
    for (size_t b = 0; b < book->nb; b++) {
        for (size_t k = 0; k < book->b[b].n; k++) {
            free(book->b[b].w[k].text);
            free(book->b[b].w[k].page);
            free(book->b[b].w[k].said);
        }
        free(book->b[b].w);
    }
    free(book->b);
    for (size_t i = 0; i < book->nch; i++) free(book->ch[i].title);
    free(book->ch);
    for (size_t i = 0; i < book->n_clips; i++) free(book->clip_path[i]);
    free(book->clip_path);
    free(book->title);
    free(book->author);
    memset(book, 0, sizeof(*book));
}
