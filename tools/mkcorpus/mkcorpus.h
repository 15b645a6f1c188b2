/* mkcorpus: builds a test audiobook with exact ground truth from a corpus definition. The book
 * model here is mkcorpus's own (whitespace words, its own XHTML walk): it does not use Folio's
 * text module, so the truth is independent of the code it measures. */
#ifndef MKCORPUS_H
#define MKCORPUS_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { K_HEADING, K_PARA, K_NOTE, K_FRONT, K_TOC } kind_t;

typedef struct {
    char *text;   /* as written in the book */
    char *page;   /* label of a page that starts at this word, or NULL */
    int note_ref; /* a note reference right after this word (1-based note number), or 0 */
    int clip;     /* clip corpora: the (1-based) recording that starts with this word, or 0 */
    /* truth, filled by synthesis */
    bool read;
    bool timed; /* read with a known time (clip corpora know only each clip's start) */
    int file;
    double start, end; /* seconds in the file */
    char *said;        /* the words flite said, space-separated */
} cword_t;

typedef struct {
    kind_t kind;
    cword_t *w;
    size_t n, cap;
    int chapter; /* -1 for front matter */
    int para;    /* 1-based among the chapter's paragraphs, 0 for others */
    int note;    /* for K_NOTE: its number */
    int level;   /* headings: 1 or 2 */
} cblock_t;

typedef struct {
    char *title;
    size_t first, count; /* blocks */
} cchapter_t;

typedef struct {
    char *title, *author;
    cblock_t *b;
    size_t nb, capb;
    cchapter_t *ch;
    size_t nch, capch;
    int n_notes;
    /* clip corpora: the recordings, and where each one's text starts */
    char **clip_path;
    size_t n_clips;
} cbook_t;

/* The corpus definition (corpus.conf). */
typedef struct {
    char name[128];
    char dir[1024];                  /* the definition's folder */
    char source[1024];               /* "epub:PATH" or "gutenberg:PATH", variables expanded */
    int first_chapter, last_chapter; /* 1-based, inclusive; 0 = all */
    char voices[8][16];
    int n_voices;
    int words_per_page;
    bool preamble, outro, front_matter, footnotes;
    int skip_chapter, skip_para;
    int add_chapter, add_para;
    int fast_files[16];
    int n_fast;
    double stretch;
    double noise_snr_db;
    int noise_files[16];
    int n_noise;
    int silence_file, silence_para;
    double silence_sec;
    bool mp3;
    bool m4b; /* one M4B with chapter atoms for the whole book */
    unsigned seed;
    int jobs;
    /* clip corpora */
    char frames[1024]; /* paragraphs written here, not read: one before the clips, then one
                          after each clip */
    int clips_per_paragraph;
    double gap_sec;
    char title[256];
    /* given corpora */
    char book[1024];  /* the book, relative to the source folder (file or EPUB folder) */
    char files[2048]; /* the audio files, in order: NAME[:START:END] (START/END: where
                         each file lies in the recording a SMIL times) */
    char truth[512];  /* stories:PUBLICATION.json | smil:FILE | not-this-book */
    double smil_start[16], smil_end[16];
} conf_t;

/* conf.c */
int conf_load(const char *name, conf_t *c);
/* Expand ${FOLIO_CORPORA}; returns 0, or -1 when the source is absent (printed). */

/* source.c */
int source_load(const conf_t *c, cbook_t *book);
void book_add_front_matter(const conf_t *c, cbook_t *book);
void book_paginate(const conf_t *c, cbook_t *book);
void book_add_notes(cbook_t *book);
void book_free(cbook_t *book);
cblock_t *book_block(cbook_t *book, kind_t kind, int chapter);
void block_add_words(cblock_t *b, const char *text);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* snprintf that dies rather than truncate. */
void xsnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* The whole file @path with its CRs dropped (CRLF text becomes LF); dies when it cannot. */
char *read_text_file(const char *path);

/* write.c */
void write_epub(const conf_t *c, const cbook_t *book, const char *path);
void write_txt(const cbook_t *book, const char *path);

/* synth.c */
struct utterance {
    char kind[16];     /* heading, paragraph, preamble, added, outro */
    double start, end; /* its samples' place in the file */
    double seg_end;    /* where its last Segment ends, by flite's own timing */
    char *text;        /* as flite was given it */
};

typedef struct {
    char path[256];
    char voice[16];
    double stretch;
    double duration;     /* of the final encoded file, decoded */
    double speech_sec;   /* flite utterances */
    double inserted_sec; /* silences and words not in the book */
    double lag_sec;      /* encoder delay corrected in the truth */
    int sample_rate, channels;
    bool noise;
    struct inserted {
        char kind[16]; /* preamble, added, silence, outro */
        double start, end;
        char *text;
    } ins[16];
    int n_ins;
    /* Every flite utterance in file order, so that a test can synthesise it again on its own
     * and find it in the audio. */
    struct utterance *utt;
    int n_utt, cap_utt;
} cfile_t;

/* Record an utterance in @f (text copied). */
void file_add_utterance(cfile_t *f, const char *kind, double start, double end, double seg_end,
                        const char *text);
/* Free @f's inserted texts and utterances. */
void file_free(cfile_t *f);

void synth_chapter(const conf_t *c, cbook_t *book, int chapter, const char *outdir, cfile_t *f);
/* given.c */
void given_build(const conf_t *c, const char *outdir);
void clips_build(const conf_t *c, cbook_t *book, const char *outdir, cfile_t *f);
/* Join the chapters' WAV files into one M4B with chapter atoms (Debian's ffmpeg); @files become
 * the one file. */
void m4b_assemble(const conf_t *c, cbook_t *book, cfile_t *files, int n, const char *outdir);
void write_truth(const conf_t *c, const cbook_t *book, const cfile_t *files, int n_files,
                 const char *path);

#endif
