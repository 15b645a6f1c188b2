/* Unit tests of the formats package: EPUB 3/2, HTML and plain-text books read into text, blocks,
 * pages, chapters and metadata; every kind of bad input; and the seams the EPUB reader and the
 * Media Overlay writer share (hrefs, the archive's limits, the SMIL serialiser). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fixture.h"

/* The seams are internal to the package: their header is included as the package's own files do. */
#include "../../engine/formats/epub.h"

#include <zip.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The book's blocks are exactly @want: kind, read flag and text. */
typedef struct {
    folio_block_kind_t kind;
    int read;
    const char *text;
} want_block_t;

static void assert_blocks(const folio_book_t *b, const want_block_t *want, size_t n)
{
    assert_int_equal(folio_book_n_blocks(b), n);
    for (size_t i = 0; i < n; i++) {
        const folio_block_t *bl = folio_book_block(b, i);
        assert_int_equal(bl->kind, want[i].kind);
        assert_int_equal(bl->read, want[i].read);
        fx_assert_range(b, bl->start_char, bl->end_char, want[i].text);
    }
}

/* ---- EPUB content documents ---- */

static void extraction_collapses_space_and_skips_unread_inline(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {
        .chapters = {"<h1>  Chapter\n One </h1>\n"
                     "<p>A  line\tof\n text<br/>after   break.</p>"
                     "<p>Soft\xc2\xadhy\xc2\xadphen and cafe\xcc\x81 and "
                     "<span hidden=\"\">hidden</span><span aria-hidden=\"true\">aria</span>"
                     "<img alt=\"picture\" src=\"x.png\"/>note<a epub:type=\"noteref\" "
                     "href=\"#n1\">1</a> sup<sup>2</sup> <ruby>kanji<rt>reading</rt></ruby>"
                     " page<span epub:type=\"pagebreak\" id=\"p7\" title=\"7\">7</span>break "
                     "21<sup>st</sup> end.</p>"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("extract.epub", &e));
    assert_string_equal(fx_text(b), "Chapter One\n\nA line of text\nafter break.\n\n"
                                    "Softhyphen and caf\xc3\xa9 and note sup kanji pagebreak "
                                    "21st end.");
    /* Code points, not bytes: "é" is one character. */
    size_t n_bytes;
    folio_book_text(b, &n_bytes);
    assert_int_equal(folio_book_text_length(b), n_bytes - 1);
    folio_book_free(b);
    folio_free(ctx);
}

static void html_fallback_reads_named_entities(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {.chapters = {"<p>One&nbsp;two &amp; three&mdash;four</p>"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("nbsp.epub", &e));
    assert_string_equal(fx_text(b), "One\xc2\xa0two & three\xe2\x80\x94"
                                    "four");
    assert_true(fx_logged("not well-formed XML"));
    assert_true(fx_logged("HTML parser"));
    folio_book_free(b);
    folio_free(ctx);
}

static void xhtml11_doctype_entities_are_read(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* EPUB 2 documents declare the XHTML 1.1 DTD, which declares the HTML entities: the XML
     * parser accepts them without loading it (a warning, not an error), so the HTML fallback
     * never sees them. The title attribute's entity must not leave text before its paragraph. */
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.1//EN\" "
        "\"http://www.w3.org/TR/xhtml11/DTD/xhtml11.dtd\">\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>T&rsquo;</title></head>"
        "<body><h1 id=\"c1\">Caf&eacute; Chapter</h1>"
        "<p>I don&rsquo;t know&mdash;really. Caf&eacute; at 5&nbsp;p.m.</p>"
        "<p title=\"a&rsquo;b\">An &amp; and an &unknownthing; here.</p></body></html>";
    static const char ncx[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE ncx PUBLIC \"-//NISO//DTD ncx 2005-1//EN\" "
        "\"http://www.daisy.org/z3986/2005/ncx-2005-1.dtd\">\n"
        "<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\"><navMap>"
        "<navPoint id=\"a\"><navLabel><text>Caf&eacute; &amp; Chapter&nbsp;One</text></navLabel>"
        "<content src=\"ch1.xhtml#c1\"/></navPoint></navMap><pageList>"
        "<pageTarget type=\"normal\" value=\"1\"><navLabel><text>&sect;1</text></navLabel>"
        "<content src=\"ch1.xhtml#c1\"/></pageTarget></pageList></ncx>";
    fx_epub_t e = {.version = 2, .chapters = {doc}, .raw = {true}, .ncx = ncx, .ncx_raw = true};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("xhtml11.epub", &e));
    const char *para = "I don\xe2\x80\x99t know\xe2\x80\x94really. Caf\xc3\xa9 at 5\xc2\xa0p.m.";
    const char *last = "An & and an &unknownthing; here.";
    assert_string_equal(fx_text(b), "Caf\xc3\xa9 Chapter\n\n"
                                    "I don\xe2\x80\x99t know\xe2\x80\x94really. Caf\xc3\xa9 at "
                                    "5\xc2\xa0p.m.\n\n"
                                    "An & and an &unknownthing; here.");
    /* Offsets stay code points into that text: 12 + 2 + 35 + 2 + 32. */
    assert_int_equal(folio_book_text_length(b), 83);
    assert_int_equal(folio_book_n_blocks(b), 3);
    fx_assert_range(b, folio_book_block(b, 0)->start_char, folio_book_block(b, 0)->end_char,
                    "Caf\xc3\xa9 Chapter");
    assert_int_equal(folio_book_block(b, 1)->start_char, 14);
    assert_int_equal(folio_book_block(b, 1)->end_char, 49);
    fx_assert_range(b, 14, 49, para);
    assert_int_equal(folio_book_block(b, 2)->start_char, 51);
    fx_assert_range(b, 51, 83, last);
    /* The NCX's labels get their entities too. */
    assert_int_equal(folio_book_n_chapters(b), 1);
    assert_string_equal(folio_book_chapter(b, 0)->title, "Caf\xc3\xa9 & Chapter\xc2\xa0One");
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_NCX);
    assert_int_equal(folio_book_n_pages(b), 1);
    assert_string_equal(folio_book_page(b, 0)->label, "\xc2\xa7"
                                                      "1");
    assert_int_equal(folio_book_page(b, 0)->start_char, 0);
    /* An entity nobody declares is kept as written, with a warning naming file and entity. */
    assert_true(fx_logged("xhtml11.epub: OEBPS/ch1.xhtml: unknown entity &unknownthing;"));
    assert_false(fx_logged("not well-formed"));
    folio_book_free(b);
    folio_free(ctx);
}

static void html_fallback_skips_the_doctype_internal_subset(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* A billion laughs: the XML parser refuses it; the HTML parser, which ends a DOCTYPE at its
     * first '>', must not turn the rest of the internal subset into text, nor expand it. */
    static const char doc[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE html [\n"
        " <!ENTITY l0 \"lol\">\n"
        " <!ENTITY l1 \"&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;&l0;\">\n"
        " <!ENTITY l2 \"&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;&l1;\">\n"
        " <!ENTITY l3 \"&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;&l2;\">\n"
        " <!ENTITY l4 \"&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;&l3;\">\n"
        " <!-- a ']' or '>' in a comment: ]> --> <!ENTITY l5 \"]>&l4;&l4;&l4;&l4;&l4;\">\n"
        "]>\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>Laughs</title></head>"
        "<body><p>Before &l5; after.</p><p>Second&nbsp;one.</p></body></html>\n";
    fx_epub_t e = {.chapters = {doc}, .raw = {true}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("laughs.epub", &e));
    assert_true(fx_logged("HTML parser"));
    assert_string_equal(fx_text(b), "Before &l5; after.\n\nSecond\xc2\xa0one.");
    assert_int_equal(folio_book_n_blocks(b), 2);
    folio_book_free(b);
    folio_free(ctx);
}

static void entities_a_document_declares_are_never_expanded(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* Declarations the XML parser accepts (no loop, little growth), each of which libxml2's tree
     * functions would expand on reading: in the OPF's title and creator, and in a chapter's text
     * and attribute values. They stay as written; an HTML name keeps its HTML value. */
    static const char opf[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE package [ <!ENTITY t \"Secret Title\">"
        " <!ENTITY a0 \"ha\"> <!ENTITY a1 \"&a0;&a0;\">"
        " <!ENTITY a2 \"&a1;&a1;\"> ]>\n"
        "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\">"
        "<metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
        "<dc:title>&t;</dc:title><dc:creator>By &a2;</dc:creator></metadata><manifest>"
        "<item id=\"c\" href=\"ch.xhtml\" media-type=\"application/xhtml+xml\"/>"
        "</manifest><spine><itemref idref=\"c\"/></spine></package>";
    static const char ch[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<!DOCTYPE html [ <!ENTITY w \"expanded\"> <!ENTITY mdash \"--\"> ]>\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>c</title></head><body>"
        "<p id=\"&w;\">Word &w; here &mdash; and <span title=\"&w;\">&w;</span>.</p>"
        "</body></html>";
    fx_epub_t e = {.opf_override = opf, .extra = {{"OEBPS/ch.xhtml", ch}}};
    fx_log_clear();
    folio_book_t *b = fx_open_ok(ctx, fx_epub("declared.epub", &e));
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "&t;");
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "By &a2;");
    assert_string_equal(fx_text(b), "Word &w; here \xe2\x80\x94 and &w;.");
    assert_true(fx_logged("declared.epub: OEBPS/content.opf: its DTD declares 4 entities"));
    assert_true(fx_logged("declared.epub: OEBPS/ch.xhtml: its DTD declares 2 entities"));
    assert_false(fx_logged("HTML parser"));
    folio_book_free(b);
    folio_free(ctx);
}

static void blocks_have_kinds_and_read_flags(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {
        .nav = "<nav epub:type=\"toc\"><h2>Contents</h2><ol><li><a href=\"ch2.xhtml\">Go</a></li>"
               "</ol></nav>",
        .nav_in_spine = true,
        .chapters = {"<section epub:type=\"titlepage\"><h1>Big Title</h1></section>",
                     "<h2>Heading</h2><p>Body text.</p><aside epub:type=\"footnote\" id=\"n1\">"
                     "<p>A footnote.</p></aside><aside>Side note.</aside>"
                     "<section epub:type=\"endnotes\"><p>End note.</p></section>"
                     "<section role=\"doc-colophon\"><p>Colophon.</p></section>",
                     "<p>Appendix text.</p>"},
        .linear = {NULL, NULL, "no"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("kinds.epub", &e));
    const want_block_t want[] = {
        {FOLIO_BLOCK_TOC, 0, "Contents"},          {FOLIO_BLOCK_TOC, 0, "Go"},
        {FOLIO_BLOCK_FRONTMATTER, 0, "Big Title"}, {FOLIO_BLOCK_HEADING, 1, "Heading"},
        {FOLIO_BLOCK_PARAGRAPH, 1, "Body text."},  {FOLIO_BLOCK_FOOTNOTE, 0, "A footnote."},
        {FOLIO_BLOCK_ASIDE, 0, "Side note."},      {FOLIO_BLOCK_ENDNOTE, 0, "End note."},
        {FOLIO_BLOCK_BACKMATTER, 0, "Colophon."},  {FOLIO_BLOCK_PARAGRAPH, 0, "Appendix text."}};
    assert_blocks(b, want, sizeof(want) / sizeof(want[0]));
    assert_int_equal(folio_book_block(b, 3)->level, 2);
    assert_int_equal(folio_book_block(b, 4)->section, 2);
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "Test Book");
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "Ann Author, Bo Writer");
    assert_string_equal(folio_book_meta(b, FOLIO_META_LANGUAGE), "en");
    assert_string_equal(folio_book_meta(b, FOLIO_META_IDENTIFIER), "urn:test:kinds.epub");
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_EPUB3);
    folio_book_free(b);
    folio_free(ctx);
}

static void landmarks_mark_documents_before_bodymatter_as_front_matter(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {
        .nav = "<nav epub:type=\"landmarks\"><ol>"
               "<li><a epub:type=\"copyright-page\" href=\"ch2.xhtml\">C</a></li>"
               "<li><a epub:type=\"bodymatter\" href=\"ch3.xhtml#start\">B</a></li>"
               "</ol></nav>",
        .chapters = {"<p>Half title.</p>", "<p>Copyright 2026.</p>", "<p id=\"start\">Story.</p>"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("landmarks.epub", &e));
    assert_int_equal(folio_book_n_blocks(b), 3);
    assert_int_equal(folio_book_block(b, 0)->kind, FOLIO_BLOCK_FRONTMATTER);
    assert_int_equal(folio_book_block(b, 0)->read, 0);
    assert_int_equal(folio_book_block(b, 1)->kind, FOLIO_BLOCK_FRONTMATTER);
    assert_int_equal(folio_book_block(b, 2)->kind, FOLIO_BLOCK_PARAGRAPH);
    assert_int_equal(folio_book_block(b, 2)->read, 1);
    folio_book_free(b);
    folio_free(ctx);
}

static void epub2_guide_gives_document_kinds(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* EPUB 2 guide types name whole documents; documents before "text" are front matter. */
    fx_epub_t e = {.version = 2,
                   .guide = "<reference type=\"title-page\" href=\"ch2.xhtml\" title=\"T\"/>"
                            "<reference type=\"copyright-page\" href=\"ch3.xhtml\"/>"
                            "<reference type=\"text\" href=\"ch4.xhtml#start\"/>"
                            "<reference type=\"notes\" href=\"ch5.xhtml\"/>"
                            "<reference type=\"colophon\" href=\"ch6.xhtml\"/>"
                            "<reference type=\"toc\" href=\"ch7.xhtml\"/>"
                            "<reference type=\"other.ms-coverpage\" href=\"ch1.xhtml\"/>",
                   .chapters = {"<p>Cover.</p>", "<p>Title.</p>", "<p>Copyright.</p>",
                                "<p id=\"start\">Story.</p>", "<p>A note.</p>", "<p>Colophon.</p>",
                                "<p>Contents.</p>", "<p>After.</p>"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("guide.epub", &e));
    const want_block_t want[] = {
        {FOLIO_BLOCK_FRONTMATTER, 0, "Cover."},     {FOLIO_BLOCK_FRONTMATTER, 0, "Title."},
        {FOLIO_BLOCK_FRONTMATTER, 0, "Copyright."}, {FOLIO_BLOCK_PARAGRAPH, 1, "Story."},
        {FOLIO_BLOCK_ENDNOTE, 0, "A note."},        {FOLIO_BLOCK_BACKMATTER, 0, "Colophon."},
        {FOLIO_BLOCK_TOC, 0, "Contents."},          {FOLIO_BLOCK_PARAGRAPH, 1, "After."}};
    assert_blocks(b, want, sizeof(want) / sizeof(want[0]));
    folio_book_free(b);
    folio_free(ctx);
}

/* ---- EPUB navigation: pages and chapters ---- */

static void epub3_page_list_gives_labels_at_offsets(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {.nav = "<nav epub:type=\"page-list\" hidden=\"\"><ol>"
                          "<li><a href=\"ch1.xhtml#pg1\">i</a></li>"
                          "<li><a href=\"ch1.xhtml#pg2\">ii</a></li>"
                          "<li><a href=\"ch2.xhtml#pg3\">1</a></li>"
                          "<li><a href=\"ch2.xhtml#pg4\">2</a></li></ol></nav>"
                          "<nav epub:type=\"toc\"><ol><li><a href=\"ch1.xhtml\">One</a></li>"
                          "<li><a href=\"ch2.xhtml#two\">Two</a><ol><li><a "
                          "href=\"ch2.xhtml#pg4\">Two, part b</a></li></ol></li></ol></nav>",
                   .chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("pagelist.epub", &e));
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_PAGE_LIST);
    assert_int_equal(folio_book_n_pages(b), 4);
    fx_check_page(b, 0, "i", "Alpha");
    fx_check_page(b, 1, "ii", "epsilon");
    fx_check_page(b, 2, "1", "iota");
    fx_check_page(b, 3, "2", "Nu");
    /* The marker's own text ("4") is not in the extracted text. */
    assert_null(strstr(fx_text(b), "4"));
    /* Page lookup by position. */
    assert_int_equal(folio_book_page_at(b, fx_cp_offset(fx_text(b), "One")), -1);
    assert_int_equal(folio_book_page_at(b, fx_cp_offset(fx_text(b), "beta")), 0);
    assert_int_equal(folio_book_page_at(b, fx_cp_offset(fx_text(b), "zeta")), 1);
    assert_int_equal(folio_book_page_at(b, fx_cp_offset(fx_text(b), "Lambda")), 2);
    assert_int_equal(folio_book_page_at(b, folio_book_text_length(b) - 1), 3);
    assert_int_equal(folio_book_page_at(b, folio_book_text_length(b)), -1);
    /* Chapters from the nav toc, nested levels kept. */
    assert_int_equal(folio_book_n_chapters(b), 3);
    assert_string_equal(folio_book_chapter(b, 0)->title, "One");
    assert_int_equal(folio_book_chapter(b, 0)->start_char, 0);
    assert_string_equal(folio_book_chapter(b, 1)->title, "Two");
    assert_int_equal(folio_book_chapter(b, 1)->start_char, fx_cp_offset(fx_text(b), "Two"));
    assert_int_equal(folio_book_chapter(b, 2)->level, 2);
    assert_int_equal(folio_book_chapter(b, 2)->start_char, fx_cp_offset(fx_text(b), "Nu"));
    folio_book_free(b);
    folio_free(ctx);
}

static const char *ncx_pages =
    "<navMap><navPoint id=\"a\"><navLabel><text>First</text></navLabel><content "
    "src=\"ch1.xhtml\"/><navPoint id=\"b\"><navLabel><text>Inner</text></navLabel>"
    "<content src=\"ch1.xhtml#pg2\"/></navPoint></navPoint><navPoint id=\"c\"><navLabel>"
    "<text>Second</text></navLabel><content src=\"ch2.xhtml\"/></navPoint></navMap>"
    "<pageList><pageTarget type=\"normal\" value=\"10\"><navLabel><text>10</text></navLabel>"
    "<content src=\"ch1.xhtml#pg2\"/></pageTarget><pageTarget type=\"normal\" value=\"11\">"
    "<navLabel><text>11</text></navLabel><content src=\"ch2.xhtml#pg4\"/></pageTarget>"
    "</pageList>";

static const char *page_map_pages =
    "<page name=\"p-a\" href=\"ch1.xhtml#pg1\"/><page name=\"p-b\" href=\"ch2.xhtml#pg3\"/>";

static void page_sources_follow_precedence(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* NCX pageList beats page-map and markers. */
    fx_epub_t e = {.version = 2,
                   .ncx = ncx_pages,
                   .page_map = page_map_pages,
                   .chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("ncx.epub", &e));
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_EPUB2);
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_NCX);
    assert_int_equal(folio_book_n_pages(b), 2);
    fx_check_page(b, 0, "10", "epsilon");
    fx_check_page(b, 1, "11", "Nu");
    /* NCX navMap gives chapters when there is no nav document. */
    assert_int_equal(folio_book_n_chapters(b), 3);
    assert_string_equal(folio_book_chapter(b, 1)->title, "Inner");
    assert_int_equal(folio_book_chapter(b, 1)->level, 2);
    assert_int_equal(folio_book_chapter(b, 2)->start_char, fx_cp_offset(fx_text(b), "Two"));
    folio_book_free(b);

    /* The EPUB 3 page-list beats the NCX pageList (and page-map) of the same book. */
    fx_epub_t both = {.nav = "<nav epub:type=\"page-list\"><ol>"
                             "<li><a href=\"ch1.xhtml#pg1\">iv</a></li>"
                             "<li><a href=\"ch2.xhtml#pg3\">v</a></li></ol></nav>",
                      .ncx = ncx_pages,
                      .page_map = page_map_pages,
                      .chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    b = fx_open_ok(ctx, fx_epub("both.epub", &both));
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_EPUB3);
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_PAGE_LIST);
    assert_int_equal(folio_book_n_pages(b), 2);
    fx_check_page(b, 0, "iv", "Alpha");
    fx_check_page(b, 1, "v", "iota");
    folio_book_free(b);

    /* page-map beats markers. */
    fx_epub_t m = {.version = 2,
                   .page_map = page_map_pages,
                   .chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    b = fx_open_ok(ctx, fx_epub("pagemap.epub", &m));
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_PAGE_MAP);
    assert_int_equal(folio_book_n_pages(b), 2);
    fx_check_page(b, 0, "p-a", "Alpha");
    fx_check_page(b, 1, "p-b", "iota");
    /* Chapters fall back to headings. */
    assert_int_equal(folio_book_n_chapters(b), 2);
    assert_string_equal(folio_book_chapter(b, 1)->title, "Two");
    folio_book_free(b);

    /* Markers alone: labels from title, aria-label and text. */
    fx_epub_t k = {.chapters = {fx_paged_chapters[0], fx_paged_chapters[1]}};
    b = fx_open_ok(ctx, fx_epub("markers.epub", &k));
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_MARKERS);
    assert_int_equal(folio_book_n_pages(b), 4);
    fx_check_page(b, 0, "1", "Alpha");
    fx_check_page(b, 1, "2", "epsilon");
    fx_check_page(b, 2, "3", "iota");
    fx_check_page(b, 3, "4", "Nu");
    folio_book_free(b);
    folio_free(ctx);
}

/* ---- plain text ---- */

static void text_pages_split_at_form_feeds(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char data[] = "\xef\xbb\xbf"
                        "First line of a para-\r\ngraph that wraps.\r\n\r\n"
                        "Second paragraph on page one.\fThird para\ngraph, page two,\n"
                        "and a well-\nknown word (well-known).\n\n\fPage three only.\n\f";
    const char *path = fx_file("paged.txt", data, sizeof(data) - 1);
    folio_book_t *b = fx_open_ok(ctx, path);
    /* A paragraph runs on across a form feed unless a blank line ends it. */
    assert_string_equal(fx_text(b),
                        "First line of a paragraph that wraps.\n\n"
                        "Second paragraph on page one. "
                        "Third para graph, page two, and a well-known word (well-known)."
                        "\n\nPage three only.");
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_TXT);
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_FORM_FEED);
    assert_int_equal(folio_book_n_pages(b), 3);
    fx_check_page(b, 0, "1", "First");
    fx_check_page(b, 1, "2", "Third");
    fx_check_page(b, 2, "3", "Page three");
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "paged");
    folio_book_free(b);

    folio_book_options_t o;
    folio_book_options_init(&o);
    o.first_page_label = 17;
    int err;
    b = folio_book_open(ctx, path, &o, &err);
    assert_non_null(b);
    assert_string_equal(folio_book_page(b, 0)->label, "17");
    assert_string_equal(folio_book_page(b, 2)->label, "19");
    folio_book_free(b);
    folio_free(ctx);
}

static void text_with_lone_cr_line_endings(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* Classic Mac OS line endings: a lone CR is a line break, two make a blank line. */
    const char data[] = "First line of a para-\rgraph that wraps.\r\rSecond paragraph\ron two "
                        "lines.\r\r\fPage two.\r";
    folio_book_t *b = fx_open_ok(ctx, fx_file("mac.txt", data, sizeof(data) - 1));
    assert_string_equal(fx_text(b), "First line of a paragraph that wraps.\n\n"
                                    "Second paragraph on two lines.\n\nPage two.");
    assert_int_equal(folio_book_n_blocks(b), 3);
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_FORM_FEED);
    assert_int_equal(folio_book_n_pages(b), 2);
    fx_check_page(b, 0, "1", "First");
    fx_check_page(b, 1, "2", "Page two");
    folio_book_free(b);
    folio_free(ctx);
}

static void text_page_break_inside_a_hyphenated_word(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char data[] = "It was acknow-\n\fledged by all.\n";
    folio_book_t *b = fx_open_ok(ctx, fx_file("split.txt", data, sizeof(data) - 1));
    assert_string_equal(fx_text(b), "It was acknowledged by all.");
    fx_check_page(b, 0, "1", "It was");
    fx_check_page(b, 1, "2", "acknowledged");
    folio_book_free(b);
    folio_free(ctx);
}

static void text_drops_page_numbers_and_running_heads(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char data[] = "THE BOOK TITLE\n\nOne fish swam.\n\n- 1 -\n\f"
                        "THE BOOK TITLE\n\nTwo fish swam.\n\n- 2 -\n\f"
                        "THE BOOK TITLE\n\nRed fish swam.\n\n- 3 -\n\f"
                        "THE BOOK TITLE\n\nBlue fish swam.\n\n- 4 -\n";
    folio_book_t *b = fx_open_ok(ctx, fx_file("furniture.txt", data, sizeof(data) - 1));
    assert_string_equal(fx_text(b), "One fish swam.\n\nTwo fish swam.\n\nRed fish swam.\n\n"
                                    "Blue fish swam.");
    assert_int_equal(folio_book_n_pages(b), 4);
    fx_check_page(b, 3, "4", "Blue");
    assert_true(fx_logged("4 page-number line(s) and 4 running head(s)"));
    folio_book_free(b);
    folio_free(ctx);
}

static void text_gutenberg_header_and_chapters(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char data[] = "The Project Gutenberg EBook of Tiny\n\nTitle: Tiny Tales\n\n"
                        "Author: A. Writer\n\nLanguage: English\n\n"
                        "*** START OF THIS PROJECT GUTENBERG EBOOK TINY ***\n\n"
                        "CONTENTS\n\nCHAPTER I. Dawn\n\nCHAPTER II. Dusk\n\n\n"
                        "CHAPTER I. Dawn\n\nThe sun rose over the\nhills.\n\n"
                        "CHAPTER II. Dusk\n\nThe sun set.\n\n"
                        "*** END OF THIS PROJECT GUTENBERG EBOOK TINY ***\n\nLicence text.\n";
    folio_book_t *b = fx_open_ok(ctx, fx_file("tiny.txt", data, sizeof(data) - 1));
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "Tiny Tales");
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "A. Writer");
    assert_string_equal(folio_book_meta(b, FOLIO_META_LANGUAGE), "en");
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_SYNTHETIC);
    /* Header, contents and licence are kept but not read. */
    size_t n = folio_book_n_blocks(b);
    assert_int_equal(folio_book_block(b, 0)->kind, FOLIO_BLOCK_FRONTMATTER);
    assert_int_equal(folio_book_block(b, 0)->read, 0);
    assert_int_equal(folio_book_block(b, n - 1)->kind, FOLIO_BLOCK_BACKMATTER);
    assert_int_equal(folio_book_block(b, n - 1)->read, 0);
    size_t contents = 0, headings = 0;
    for (size_t i = 0; i < n; i++) {
        if (folio_book_block(b, i)->kind == FOLIO_BLOCK_TOC) contents++;
        if (folio_book_block(b, i)->kind == FOLIO_BLOCK_HEADING) headings++;
    }
    assert_int_equal(contents, 3);
    assert_int_equal(headings, 2);
    assert_int_equal(folio_book_n_chapters(b), 2);
    assert_string_equal(folio_book_chapter(b, 1)->title, "CHAPTER II. Dusk");
    assert_int_equal(folio_book_chapter(b, 1)->start_char,
                     fx_cp_offset(fx_text(b), "CHAPTER II. Dusk\n\nThe sun set"));
    assert_non_null(strstr(fx_text(b), "The sun rose over the hills."));
    folio_book_free(b);
    folio_free(ctx);
}

static void text_utf16_with_bom_is_converted(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const unsigned char le[] = {0xFF, 0xFE, 'H', 0, 'i', 0, ' ', 0, 0xE9, 0, '!', 0};
    folio_book_t *b = fx_open_ok(ctx, fx_file("utf16.txt", le, sizeof(le)));
    assert_string_equal(fx_text(b), "Hi \xc3\xa9!");
    assert_int_equal(folio_book_text_length(b), 5);
    folio_book_free(b);
    folio_free(ctx);
}

static void text_utf32_with_bom_is_converted_not_read_as_utf16(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* "Hi é😀" (U+1F600 outside the BMP) in both byte orders. */
    const unsigned char le[] = {0xFF, 0xFE, 0, 0, 'H',  0, 0, 0, 'i',  0,    0,    0,
                                ' ',  0,    0, 0, 0xE9, 0, 0, 0, 0x00, 0xF6, 0x01, 0};
    const unsigned char be[] = {0, 0, 0xFE, 0xFF, 0, 0, 0, 'H',  0, 0,    0,    'i',
                                0, 0, 0,    ' ',  0, 0, 0, 0xE9, 0, 0x01, 0xF6, 0x00};
    const char *names[] = {"utf32le.txt", "utf32be.txt"};
    const unsigned char *data[] = {le, be};
    for (int k = 0; k < 2; k++) {
        folio_book_t *b = fx_open_ok(ctx, fx_file(names[k], data[k], sizeof(le)));
        assert_string_equal(fx_text(b), "Hi \xc3\xa9\xf0\x9f\x98\x80");
        assert_int_equal(folio_book_text_length(b), 5);
        folio_book_free(b);
    }
    /* A unit past U+10FFFF, a half unit at the end: refused with the byte offset. */
    const unsigned char big[] = {0xFF, 0xFE, 0, 0, 'a', 0, 0, 0, 0, 0, 0x11, 0};
    assert_int_equal(fx_open_fail(ctx, fx_file("big32.txt", big, sizeof(big)), NULL),
                     FOLIO_EENCODING);
    assert_non_null(strstr(folio_errmsg(ctx), "big32.txt: invalid UTF-32 at byte 8"));
    assert_int_equal(fx_open_fail(ctx, fx_file("odd32.txt", le, sizeof(le) - 1), NULL),
                     FOLIO_EENCODING);
    assert_non_null(strstr(folio_errmsg(ctx), "odd32.txt: UTF-32 text"));
    folio_free(ctx);
}

static void text_utf16_errors_name_the_byte(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* "ab", then a high surrogate followed by 'c' instead of a low one. */
    const unsigned char lone[] = {0xFF, 0xFE, 'a', 0, 'b', 0, 0x3D, 0xD8, 'c', 0};
    assert_int_equal(fx_open_fail(ctx, fx_file("lone.txt", lone, sizeof(lone)), NULL),
                     FOLIO_EENCODING);
    assert_non_null(strstr(folio_errmsg(ctx), "lone.txt: invalid UTF-16 at byte 6"));
    /* A surrogate pair is one character. */
    const unsigned char pair[] = {0xFE, 0xFF, 0, 'a', 0xD8, 0x3D, 0xDE, 0x00};
    folio_book_t *b = fx_open_ok(ctx, fx_file("pair.txt", pair, sizeof(pair)));
    assert_string_equal(fx_text(b), "a\xf0\x9f\x98\x80");
    folio_book_free(b);
    folio_free(ctx);
}

static void text_with_one_paragraph_a_line(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    char data[1200];
    memset(data, 0, sizeof(data));
    for (int i = 0; i < 3; i++) {
        strcat(data, "This long line is a whole paragraph of unwrapped text, as many editors "
                     "save it, with no blank line between it and the next paragraph of the "
                     "same book, which Folio must still read as paragraphs.\n");
    }
    folio_book_t *b = fx_open_ok(ctx, fx_file("lines.txt", data, strlen(data)));
    assert_int_equal(folio_book_n_blocks(b), 3);
    folio_book_free(b);
    folio_free(ctx);
}

/* ---- bad input ---- */

static void bad_input_missing_file_and_directory(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    char missing[512];
    snprintf(missing, sizeof(missing), "%s/no-such-book.epub", fx_dir());
    assert_int_equal(fx_open_fail(ctx, missing, NULL), FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "No such file"));
    assert_int_equal(fx_open_fail(ctx, fx_dir(), NULL), FOLIO_EIO);
    assert_non_null(strstr(folio_errmsg(ctx), "directory"));
    folio_free(ctx);
}

static void bad_input_not_a_zip_and_corrupt_zip(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char junk[] = "this is not a zip at all";
    folio_book_options_t o;
    folio_book_options_init(&o);
    o.format = FOLIO_FORMAT_EPUB;
    assert_int_equal(fx_open_fail(ctx, fx_file("junk.bin", junk, sizeof(junk)), &o), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "not a zip"));
    /* By its name, a .epub is read as one even when the format is left to Folio. */
    assert_int_equal(fx_open_fail(ctx, fx_file("junk.epub", junk, sizeof(junk)), NULL),
                     FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "not a zip"));

    /* A real EPUB cut in half. */
    fx_epub_t e = {.chapters = {"<p>Hello there.</p>"}};
    const char *full = fx_epub("whole.epub", &e);
    FILE *f = fopen(full, "rb");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    assert_int_equal(fx_open_fail(ctx, fx_file("half.epub", buf, n / 2), NULL), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "truncated"));

    const char pdf[] = "%PDF-1.7\n...";
    assert_int_equal(fx_open_fail(ctx, fx_file("book.pdf", pdf, sizeof(pdf)), NULL), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "pdftotext"));
    folio_free(ctx);
}

static void bad_input_broken_package(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t nc = {.no_container = true, .chapters = {"<p>x</p>"}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("nocontainer.epub", &nc), NULL), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "container.xml"));

    fx_epub_t bad = {.opf_override = "<package><metadata></package>", .chapters = {"<p>x</p>"}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("badopf.epub", &bad), NULL), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "OEBPS/content.opf is not well-formed XML (line"));

    fx_epub_t nospine = {.opf_override = "<package xmlns=\"http://www.idpf.org/2007/opf\">"
                                         "<manifest/></package>"};
    assert_int_equal(fx_open_fail(ctx, fx_epub("nospine.epub", &nospine), NULL), FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "no spine"));
    folio_free(ctx);
}

static void missing_resources_warn_and_empty_books_fail(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    fx_epub_t e = {.chapters = {"<p>Kept.</p>", "<p>Lost.</p>"},
                   .missing = {"ch2.xhtml", "images/cover.png"}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("missing.epub", &e));
    assert_string_equal(fx_text(b), "Kept.");
    assert_true(
        fx_logged("1 spine item(s) missing from the archive were skipped: OEBPS/ch2.xhtml"));
    assert_true(fx_logged("missing from the archive, e.g. OEBPS/images/cover.png"));
    folio_book_free(b);

    fx_epub_t all = {.chapters = {"<p>Lost.</p>"}, .missing = {"ch1.xhtml"}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("allmissing.epub", &all), NULL), FOLIO_EEMPTY);
    fx_epub_t empty = {.chapters = {"<p>  </p><img src=\"x.png\" alt=\"only an image\"/>"}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("empty.epub", &empty), NULL), FOLIO_EEMPTY);
    assert_int_equal(fx_open_fail(ctx, fx_file("empty.txt", "", 0), NULL), FOLIO_EEMPTY);
    assert_int_equal(fx_open_fail(ctx, fx_file("blank.txt", " \n\n \f\n", 6), NULL), FOLIO_EEMPTY);
    folio_free(ctx);
}

static void drm_is_detected_and_font_obfuscation_is_not(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    static const char enc_fmt[] =
        "<encryption xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\" "
        "xmlns:enc=\"http://www.w3.org/2001/04/xmlenc#\"><enc:EncryptedData>"
        "<enc:EncryptionMethod Algorithm=\"%s\"/><enc:CipherData><enc:CipherReference "
        "URI=\"%s\"/></enc:CipherData></enc:EncryptedData></encryption>";
    char aes[1024], font[1024];
    snprintf(aes, sizeof(aes), enc_fmt, "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
             "OEBPS/ch1.xhtml");
    snprintf(font, sizeof(font), enc_fmt, "http://www.idpf.org/2008/embedding",
             "OEBPS/fonts/a.otf");
    fx_epub_t e = {.chapters = {"<p>Secret.</p>"}, .extra = {{"META-INF/encryption.xml", aes}}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("aes.epub", &e), NULL), FOLIO_EDRM);
    assert_non_null(strstr(folio_errmsg(ctx), "aes128-cbc"));

    const char *files[][2] = {{"META-INF/rights.xml", "Adobe ADEPT"},
                              {"META-INF/license.lcpl", "Readium LCP"},
                              {"META-INF/sinf.xml", "Apple FairPlay"}};
    for (int i = 0; i < 3; i++) {
        fx_epub_t d = {.chapters = {"<p>Secret.</p>"}, .extra = {{files[i][0], "<x/>"}}};
        assert_int_equal(fx_open_fail(ctx, fx_epub("drm.epub", &d), NULL), FOLIO_EDRM);
        assert_non_null(strstr(folio_errmsg(ctx), files[i][1]));
    }

    fx_log_clear();
    fx_epub_t ok = {.chapters = {"<p>Open.</p>"}, .extra = {{"META-INF/encryption.xml", font}}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("fonts.epub", &ok));
    assert_string_equal(fx_text(b), "Open.");
    assert_false(fx_logged("encrypted"));
    folio_book_free(b);

    /* Adobe's font obfuscation is fine too. */
    char adobe[1024];
    snprintf(adobe, sizeof(adobe), enc_fmt, "http://ns.adobe.com/pdf/enc#RC", "OEBPS/fonts/a.otf");
    fx_epub_t ad = {.chapters = {"<p>Open.</p>"}, .extra = {{"META-INF/encryption.xml", adobe}}};
    b = fx_open_ok(ctx, fx_epub("adobefonts.epub", &ad));
    assert_string_equal(fx_text(b), "Open.");
    assert_false(fx_logged("encrypted"));
    folio_book_free(b);

    /* Encrypted resources that are not text (an image) only warn. */
    char image[1024];
    snprintf(image, sizeof(image), enc_fmt, "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
             "OEBPS/images/cover.png");
    fx_epub_t im = {.chapters = {"<p>Open.</p>"}, .extra = {{"META-INF/encryption.xml", image}}};
    b = fx_open_ok(ctx, fx_epub("image.epub", &im));
    assert_string_equal(fx_text(b), "Open.");
    assert_true(fx_logged("1 non-text resource(s) are encrypted"));
    folio_book_free(b);

    /* An encrypted navigation document or NCX is DRM, even outside the spine. */
    char nav[1024], ncx[1024];
    snprintf(nav, sizeof(nav), enc_fmt, "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
             "OEBPS/nav.xhtml");
    snprintf(ncx, sizeof(ncx), enc_fmt, "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
             "OEBPS/toc.ncx");
    fx_epub_t en = {.nav = "<nav epub:type=\"toc\"><ol><li><a href=\"ch1.xhtml\">One</a></li>"
                           "</ol></nav>",
                    .chapters = {"<p>Open.</p>"},
                    .extra = {{"META-INF/encryption.xml", nav}}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("encnav.epub", &en), NULL), FOLIO_EDRM);
    assert_non_null(strstr(folio_errmsg(ctx), "OEBPS/nav.xhtml is encrypted"));
    fx_epub_t ex = {.version = 2,
                    .ncx = "<navMap><navPoint id=\"a\"><navLabel><text>One</text></navLabel>"
                           "<content src=\"ch1.xhtml\"/></navPoint></navMap>",
                    .chapters = {"<p>Open.</p>"},
                    .extra = {{"META-INF/encryption.xml", ncx}}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("encncx.epub", &ex), NULL), FOLIO_EDRM);
    assert_non_null(strstr(folio_errmsg(ctx), "OEBPS/toc.ncx is encrypted"));

    /* The DRM schemes' files count only in META-INF/: elsewhere they are the book's own. */
    fx_epub_t own = {.chapters = {"<p>Open.</p>"},
                     .extra = {{"OEBPS/rights.xml", "<x/>"},
                               {"OEBPS/license.lcpl", "{}"},
                               {"OEBPS/META-INF/sinf.xml", "<x/>"}}};
    b = fx_open_ok(ctx, fx_epub("notdrm.epub", &own));
    assert_string_equal(fx_text(b), "Open.");
    folio_book_free(b);
    folio_free(ctx);
}

static void zip_bombs_are_stopped_while_inflating(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* 4 MiB of one character deflates about 1000:1. */
    size_t n = (size_t)4 << 20;
    char *big = malloc(n + 64);
    strcpy(big, "<p>");
    memset(big + 3, 'z', n);
    strcpy(big + 3 + n, "</p>");
    fx_epub_t e = {.chapters = {big}};
    const char *path = fx_epub("bomb.epub", &e);
    assert_int_equal(fx_open_fail(ctx, path, NULL), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(ctx), "zip bomb"));

    /* With a high ratio allowed, the total cap still stops it. */
    folio_book_options_t o;
    folio_book_options_init(&o);
    o.max_ratio = 1000000;
    o.max_archive_bytes = (uint64_t)2 << 20;
    assert_int_equal(fx_open_fail(ctx, path, &o), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(ctx), "passes the limit"));

    /* A central directory (and local header) that understates the size: patch every size field
     * of the chapter entry to 100 bytes. libzip inflates past the stated size; Folio counts what
     * is inflated, not what the directory says, and stops at its limits. */
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *zipbuf = malloc((size_t)len);
    assert_int_equal(fread(zipbuf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    zip_t *za = zip_open(path, ZIP_RDONLY, NULL);
    zip_stat_t zs;
    assert_int_equal(zip_stat(za, "OEBPS/ch1.xhtml", 0, &zs), 0);
    uint32_t real = (uint32_t)zs.size;
    zip_discard(za);
    int patched = 0;
    for (long i = 0; i + 4 <= len; i++) {
        if (zipbuf[i] == (real & 0xFF) && zipbuf[i + 1] == ((real >> 8) & 0xFF) &&
            zipbuf[i + 2] == ((real >> 16) & 0xFF) && zipbuf[i + 3] == (real >> 24)) {
            zipbuf[i] = 100;
            zipbuf[i + 1] = zipbuf[i + 2] = zipbuf[i + 3] = 0;
            patched++;
        }
    }
    assert_true(patched >= 2);
    const char *liar = fx_file("liar.epub", zipbuf, (size_t)len);
    assert_int_equal(fx_open_fail(ctx, liar, NULL), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(ctx), "OEBPS/ch1.xhtml inflates more than 200 times"));
    assert_int_equal(fx_open_fail(ctx, liar, &o), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(ctx), "passes the limit of 2097152 bytes"));
    free(zipbuf);
    free(big);
    folio_free(ctx);
}

static void invalid_utf8_in_text_names_the_byte(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    const char bad[] = "Good text, then \xc3\x28 bad.";
    assert_int_equal(fx_open_fail(ctx, fx_file("bad.txt", bad, sizeof(bad) - 1), NULL),
                     FOLIO_EENCODING);
    assert_non_null(strstr(folio_errmsg(ctx), "invalid UTF-8 at byte 16"));
    const char overlong[] = "\xc0\xaf";
    assert_int_equal(fx_open_fail(ctx, fx_file("overlong.txt", overlong, 2), NULL),
                     FOLIO_EENCODING);
    const char nul[] = "text\0with nul";
    assert_int_equal(fx_open_fail(ctx, fx_file("nul.txt", nul, sizeof(nul)), NULL), FOLIO_EFORMAT);
    folio_free(ctx);
}

static void invalid_utf8_in_a_chapter_names_book_entry_and_byte(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    static const char bad[] =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>c</title></head><body>"
        "<p>Good words here.</p><p>Then a bad \xc3\x28 byte.</p></body></html>";
    fx_epub_t e = {.chapters = {"<p>First chapter.</p>", bad}, .raw = {false, true}};
    assert_int_equal(fx_open_fail(ctx, fx_epub("badbyte.epub", &e), NULL), FOLIO_EENCODING);
    char want[128];
    snprintf(want, sizeof(want), "badbyte.epub: OEBPS/ch2.xhtml: invalid UTF-8 at byte %zu",
             (size_t)(strstr(bad, "\xc3\x28") - bad));
    assert_non_null(strstr(folio_errmsg(ctx), want));
    /* A document that declares another encoding is converted by the parser, not refused. */
    static const char latin1[] =
        "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n"
        "<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><title>c</title></head><body>"
        "<p>Caf\xe9 au lait.</p></body></html>";
    fx_epub_t l = {.chapters = {latin1}, .raw = {true}};
    folio_book_t *b = fx_open_ok(ctx, fx_epub("latin1.epub", &l));
    assert_string_equal(fx_text(b), "Caf\xc3\xa9 au lait.");
    folio_book_free(b);
    folio_free(ctx);
}

/* ---- seams shared by the EPUB reader and the Media Overlay writer ---- */

static void assert_resolves(const char *base, const char *href, const char *want)
{
    char *got = folio__epub_resolve_href(base, href);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void hrefs_with_percent_escapes_resolve_to_their_entries(void **state)
{
    (void)state;
    assert_resolves("OEBPS/", "chapter%20one.xhtml", "OEBPS/chapter one.xhtml");
    assert_resolves("OEBPS", "Text/caf%C3%A9.xhtml#note%2d1",
                    "OEBPS/Text/caf\xc3\xa9.xhtml#note-1");
    assert_resolves("OEBPS/Text/", "../Images/a%2Bb.png", "OEBPS/Images/a+b.png");
    assert_resolves("", "x%41", "xA"); /* an escape that ends the href */
    assert_null(folio__epub_resolve_href("OEBPS/", "http://example.com/a%20b"));

    /* A book whose manifest, spine and page list name documents with escapes. */
#define DOC(body)                                                                                  \
    "<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" "                       \
    "xmlns:epub=\"http://www.idpf.org/2007/ops\"><head><title>t</title></head><body>" body         \
    "</body></html>"
    folio_t *ctx = fx_context();
    fx_epub_t e = {
        .opf_override =
            "<?xml version=\"1.0\"?>\n<package xmlns=\"http://www.idpf.org/2007/opf\" "
            "version=\"3.0\"><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
            "<dc:title>Escapes</dc:title></metadata><manifest>"
            "<item id=\"nav\" href=\"nav.xhtml\" media-type=\"application/xhtml+xml\" "
            "properties=\"nav\"/>"
            "<item id=\"a\" href=\"chapter%20one.xhtml\" media-type=\"application/xhtml+xml\"/>"
            "<item id=\"b\" href=\"100%.xhtml\" media-type=\"application/xhtml+xml\"/>"
            "</manifest><spine><itemref idref=\"a\"/><itemref idref=\"b\"/></spine></package>",
        .extra = {{"OEBPS/nav.xhtml", DOC("<nav epub:type=\"page-list\"><ol>"
                                          "<li><a href=\"chapter%20one.xhtml\">1</a></li>"
                                          "<li><a href=\"chapter%20one.xhtml#page%2D2\">2</a></li>"
                                          "<li><a href=\"100%.xhtml\">3</a></li></ol></nav>")},
                  {"OEBPS/chapter one.xhtml",
                   DOC("<p>First words.</p><p id=\"page-2\">Second words.</p>")},
                  {"OEBPS/100%.xhtml", DOC("<p>Third words.</p>")}}};
#undef DOC
    fx_log_clear();
    folio_book_t *b = fx_open_ok(ctx, fx_epub("escapes.epub", &e));
    assert_string_equal(fx_text(b), "First words.\n\nSecond words.\n\nThird words.");
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_PAGE_LIST);
    assert_int_equal(folio_book_n_pages(b), 3);
    fx_check_page(b, 0, "1", "First");
    fx_check_page(b, 1, "2", "Second"); /* the fragment is decoded too */
    fx_check_page(b, 2, "3", "Third");
    assert_false(fx_logged("missing"));
    assert_false(fx_logged("does not exist"));
    folio_book_free(b);
    folio_free(ctx);
}

static void a_malformed_percent_escape_is_kept_as_written(void **state)
{
    (void)state;
    /* A '%' not followed by two hex digits is not an escape: the name keeps it. */
    assert_resolves("OEBPS/", "100%.xhtml", "OEBPS/100%.xhtml");
    assert_resolves("", "a%zzb.xhtml", "a%zzb.xhtml");
    assert_resolves("", "a%2", "a%2");
    assert_resolves("", "a%g1%41", "a%g1A");
    assert_resolves("OEBPS/", "c.xhtml#x%4", "OEBPS/c.xhtml#x%4");
}

static void smil_escapes_ampersands_angle_brackets_and_quotes(void **state)
{
    (void)state;
    const folio_smil_par_t pars[] = {
        {"ch%201.xhtml#a&b<c\"d>e", "http://host/a.mp3?x=1&y=\"2\"<", 1.5, 2.25},
        {"ch.xhtml#caf\xc3\xa9", "../audio/a.mp3", 0, 0.05}};
    char *smil = NULL;
    size_t len = 0;
    assert_int_equal(folio__epub_smil(pars, 2, &smil, &len), FOLIO_OK);
    const char *want =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<smil xmlns=\"http://www.w3.org/ns/SMIL\" xmlns:epub=\"http://www.idpf.org/2007/ops\" "
        "version=\"3.0\">\n"
        "<body>\n"
        "<par id=\"par1\"><text src=\"ch%201.xhtml#a&amp;b&lt;c&quot;d&gt;e\"/>"
        "<audio src=\"http://host/a.mp3?x=1&amp;y=&quot;2&quot;&lt;\" clipBegin=\"1.500s\" "
        "clipEnd=\"2.250s\"/></par>\n"
        "<par id=\"par2\"><text src=\"ch.xhtml#caf\xc3\xa9\"/>"
        "<audio src=\"../audio/a.mp3\" clipBegin=\"0.000s\" clipEnd=\"0.050s\"/></par>\n"
        "</body>\n"
        "</smil>\n";
    assert_string_equal(smil, want);
    assert_int_equal(len, strlen(want));
    free(smil);
}

static void the_writers_archive_reads_stop_at_the_limits_with_a_clear_error(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* 2 MiB of one character: about 1000:1. */
    size_t n = (size_t)2 << 20;
    char *big = malloc(n + 16);
    strcpy(big, "<p>");
    memset(big + 3, 'z', n);
    strcpy(big + 3 + n, "</p>");
    fx_epub_t e = {.chapters = {"<p>Small.</p>", big}};
    const char *path = fx_epub("writer-limits.epub", &e);
    free(big);

    folio_book_options_t o;
    folio_book_options_init(&o);
    folio_epub_zip_t z;
    assert_int_equal(folio__epub_zip_open(&z, ctx, path, &o), FOLIO_OK);
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(folio__epub_zip_read(&z, "mimetype", &buf, &len), FOLIO_OK);
    assert_string_equal(buf, "application/epub+zip");
    assert_int_equal(len, 20);
    free(buf);
    assert_int_equal(folio__epub_zip_read(&z, "OEBPS/none.xhtml", &buf, &len), FOLIO_ENOTFOUND);
    assert_null(buf);
    assert_int_equal(folio__epub_zip_read(&z, "OEBPS/ch2.xhtml", &buf, &len), FOLIO_ELIMIT);
    assert_null(buf);
    assert_non_null(strstr(folio_errmsg(ctx), "writer-limits.epub: OEBPS/ch2.xhtml inflates "
                                              "more than 200 times its compressed size"));
    folio__epub_zip_close(&z);

    /* With any ratio allowed, the cap on all bytes inflated still stops it. */
    o.max_ratio = 1000000;
    o.max_archive_bytes = (uint64_t)1 << 20;
    assert_int_equal(folio__epub_zip_open(&z, ctx, path, &o), FOLIO_OK);
    assert_int_equal(folio__epub_zip_read(&z, "OEBPS/ch1.xhtml", &buf, &len), FOLIO_OK);
    free(buf);
    assert_int_equal(folio__epub_zip_read(&z, "OEBPS/ch2.xhtml", &buf, &len), FOLIO_ELIMIT);
    assert_non_null(strstr(folio_errmsg(ctx), "inflating the archive passes the limit of 1048576 "
                                              "bytes at OEBPS/ch2.xhtml"));
    folio__epub_zip_close(&z);
    folio_free(ctx);
}

/* ---- one-file HTML books ---- */

/* A committed test file under tests/data/html (FOLIO_SOURCE_ROOT names the source tree). */
static const char *html_data(const char *name)
{
    static char path[4096];
    const char *root = getenv("FOLIO_SOURCE_ROOT");
    snprintf(path, sizeof(path), "%s/tests/data/html/%s", root ? root : ".", name);
    return path;
}

static void html_gutenberg_book_gives_chapters_pages_and_unread_boilerplate(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    folio_book_t *b = fx_open_ok(ctx, html_data("lighthouse.html"));
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_HTML);
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "The Lighthouse Cat");
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "Mara Quill");
    assert_string_equal(folio_book_meta(b, FOLIO_META_LANGUAGE), "en");
    const char *start = "*** START OF THE PROJECT GUTENBERG EBOOK THE LIGHTHOUSE CAT ***",
               *end = "*** END OF THE PROJECT GUTENBERG EBOOK THE LIGHTHOUSE CAT ***";
    const want_block_t want[] = {
        {FOLIO_BLOCK_FRONTMATTER, 0, "The Project Gutenberg eBook of The Lighthouse Cat"},
        {FOLIO_BLOCK_FRONTMATTER, 0, "A test book for Folio, laid out as a Gutenberg edition is."},
        {FOLIO_BLOCK_FRONTMATTER, 0, start},
        {FOLIO_BLOCK_HEADING, 1, "The Lighthouse Cat"},
        /* Table cells of nothing but links into the book, and their heading: contents. The
         * page-number links ("2") read as note references do: left out. */
        {FOLIO_BLOCK_TOC, 0, "CONTENTS"},
        {FOLIO_BLOCK_TOC, 0, "CHAPTER I."},
        {FOLIO_BLOCK_TOC, 0, "CHAPTER II."},
        {FOLIO_BLOCK_HEADING, 1, "CHAPTER I. THE STORM"},
        /* The page number's "[Pg 2]" is not read; the footnote anchor "[1]" neither. */
        {FOLIO_BLOCK_PARAGRAPH, 1,
         "The wind came & went all night. Tom the cat slept by the lamp."},
        {FOLIO_BLOCK_PARAGRAPH, 1, "Morning found the sea calm."},
        {FOLIO_BLOCK_HEADING, 1, "CHAPTER II. THE BOAT"},
        {FOLIO_BLOCK_PARAGRAPH, 1, "A small boat rowed in at noon."},
        {FOLIO_BLOCK_PARAGRAPH, 1, "The keeper waved."},
        {FOLIO_BLOCK_BACKMATTER, 0, end},
        {FOLIO_BLOCK_BACKMATTER, 0, "Whoever copies this test file may do so freely."},
    };
    assert_blocks(b, want, sizeof(want) / sizeof(want[0]));
    /* Headings make the chapters, the title's <h1> one level above the <h2> chapters; the
     * header's own heading and the contents' are not read and make none. */
    assert_int_equal(folio_book_n_chapters(b), 3);
    assert_string_equal(folio_book_chapter(b, 0)->title, "The Lighthouse Cat");
    assert_int_equal(folio_book_chapter(b, 0)->level, 1);
    assert_string_equal(folio_book_chapter(b, 2)->title, "CHAPTER II. THE BOAT");
    assert_int_equal(folio_book_chapter(b, 2)->level, 2);
    assert_int_equal(folio_book_chapter(b, 2)->start_char,
                     fx_cp_offset(fx_text(b), "CHAPTER II. THE BOAT"));
    /* <span class="pagenum">[Pg 2]</span> is a page break labelled 2 before the next word. */
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_MARKERS);
    assert_int_equal(folio_book_n_pages(b), 2);
    fx_check_page(b, 0, "2", "Tom the cat");
    fx_check_page(b, 1, "3", "A small boat");
    folio_book_free(b);
    folio_free(ctx);
}

static void html_older_gutenberg_edition_in_a_declared_charset(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    folio_book_t *b = fx_open_ok(ctx, html_data("older-edition.htm"));
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_HTML);
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "The Orchard Wall");
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "Ned Parry");
    /* The header and licence are in <pre> blocks: the markers in their text flag them. */
    assert_int_equal(folio_book_n_blocks(b), 5);
    const folio_block_t *first = folio_book_block(b, 0), *last = folio_book_block(b, 4);
    assert_int_equal(first->kind, FOLIO_BLOCK_FRONTMATTER);
    assert_int_equal(first->read, 0);
    assert_true(first->start_char <= fx_cp_offset(fx_text(b), "*** START OF THIS") &&
                fx_cp_offset(fx_text(b), "*** START OF THIS") < first->end_char);
    assert_int_equal(last->kind, FOLIO_BLOCK_BACKMATTER);
    assert_int_equal(last->read, 0);
    const want_block_t body[] = {
        {FOLIO_BLOCK_HEADING, 1, "CHAPTER I"},
        /* ISO-8859-1 as its <meta> says: the byte E9 is "é". */
        {FOLIO_BLOCK_PARAGRAPH, 1, "Pears hung over the wall, and Ren\xc3\xa9 reached for one."},
        {FOLIO_BLOCK_PARAGRAPH, 1, "His sister laughed."},
    };
    for (size_t i = 0; i < 3; i++) {
        const folio_block_t *bl = folio_book_block(b, i + 1);
        assert_int_equal(bl->kind, body[i].kind);
        assert_int_equal(bl->read, body[i].read);
        fx_assert_range(b, bl->start_char, bl->end_char, body[i].text);
    }
    assert_int_equal(folio_book_n_chapters(b), 1);
    assert_int_equal(folio_book_page_source(b), FOLIO_PAGES_SYNTHETIC);
    folio_book_free(b);
    folio_free(ctx);
}

static void html_is_recognised_by_content_and_anything_else_is_refused(void **state)
{
    (void)state;
    folio_t *ctx = fx_context();
    /* Content decides: a DOCTYPE after a comment, in a file named .txt. */
    const char doc[] = "\xef\xbb\xbf<!-- a comment -->\n<!doctype HTML><title>T</title>"
                       "<p>Only <b>one</b> line.</p>";
    folio_book_t *b = fx_open_ok(ctx, fx_file("named.txt", doc, sizeof(doc) - 1));
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_HTML);
    assert_string_equal(fx_text(b), "Only one line.");
    folio_book_free(b);
    folio_book_options_t o;
    folio_book_options_init(&o);
    o.format = FOLIO_FORMAT_HTML;
    /* --format html on plain text, and a .html file that holds plain text. */
    const char text[] = "Just <some> words.\n";
    assert_int_equal(fx_open_fail(ctx, fx_file("plain.txt", text, sizeof(text) - 1), &o),
                     FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "not an HTML document"));
    assert_int_equal(fx_open_fail(ctx, fx_file("plain.html", text, sizeof(text) - 1), NULL),
                     FOLIO_EFORMAT);
    const char latin1[] = "<html><body><p>caf\xe9</p></body></html>";
    assert_int_equal(fx_open_fail(ctx, fx_file("latin1.html", latin1, sizeof(latin1) - 1), NULL),
                     FOLIO_EENCODING);
    assert_non_null(strstr(folio_errmsg(ctx), "byte 18 and no charset declared"));
    const char frames[] = "<!DOCTYPE html><html><frameset><frame src=\"a.html\"></frameset></html>";
    assert_int_equal(fx_open_fail(ctx, fx_file("frames.html", frames, sizeof(frames) - 1), NULL),
                     FOLIO_EFORMAT);
    assert_non_null(strstr(folio_errmsg(ctx), "no <body>"));
    const char empty[] = "<html><body><p> </p><img src=\"x.png\" alt=\"x\"></body></html>";
    assert_int_equal(fx_open_fail(ctx, fx_file("empty.html", empty, sizeof(empty) - 1), NULL),
                     FOLIO_EEMPTY);
    const char nul[] = "<html><body>a\0b</body></html>";
    assert_int_equal(fx_open_fail(ctx, fx_file("nul.html", nul, sizeof(nul) - 1), NULL),
                     FOLIO_EFORMAT);
    folio_free(ctx);
}

/* Project Gutenberg's HTML edition of The Crimson Fairy Book, from the shared corpora (skipped
 * without them): 1 <h1> and 39 <h2> headings, all between the START and END markers. */
static void html_real_gutenberg_edition_reads_its_headings_as_chapters(void **state)
{
    (void)state;
    char path[4096];
    const char *corpora = getenv("FOLIO_CORPORA"), *root = getenv("FOLIO_SOURCE_ROOT");
    if (corpora)
        snprintf(path, sizeof(path), "%s/crimson-fairy-book/gutenberg-2435/2435-h.htm", corpora);
    else
        snprintf(path, sizeof(path),
                 "%s/../shared/corpora/crimson-fairy-book/gutenberg-2435/2435-h.htm",
                 root ? root : ".");
    FILE *f = fopen(path, "rb");
    if (!f) skip();
    fclose(f);
    folio_t *ctx = fx_context();
    folio_book_t *b = fx_open_ok(ctx, path);
    assert_int_equal(folio_book_format(b), FOLIO_BOOK_HTML);
    assert_string_equal(folio_book_meta(b, FOLIO_META_TITLE), "The Crimson Fairy Book");
    assert_string_equal(folio_book_meta(b, FOLIO_META_AUTHOR), "Various");
    assert_int_equal(folio_book_n_chapters(b), 40);
    assert_string_equal(folio_book_chapter(b, 0)->title, "THE CRIMSON FAIRY BOOK");
    assert_null(strstr(fx_text(b), "<p>"));
    const folio_block_t *first = folio_book_block(b, 0),
                        *last = folio_book_block(b, folio_book_n_blocks(b) - 1);
    assert_int_equal(first->read, 0);
    assert_true(fx_cp_offset(fx_text(b), "*** START OF THIS") < first->end_char);
    assert_int_equal(last->read, 0);
    assert_int_equal(last->kind, FOLIO_BLOCK_BACKMATTER);
    folio_book_free(b);
    folio_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(extraction_collapses_space_and_skips_unread_inline),
        cmocka_unit_test(html_fallback_reads_named_entities),
        cmocka_unit_test(xhtml11_doctype_entities_are_read),
        cmocka_unit_test(html_fallback_skips_the_doctype_internal_subset),
        cmocka_unit_test(entities_a_document_declares_are_never_expanded),
        cmocka_unit_test(blocks_have_kinds_and_read_flags),
        cmocka_unit_test(landmarks_mark_documents_before_bodymatter_as_front_matter),
        cmocka_unit_test(epub2_guide_gives_document_kinds),
        cmocka_unit_test(epub3_page_list_gives_labels_at_offsets),
        cmocka_unit_test(page_sources_follow_precedence),
        cmocka_unit_test(text_pages_split_at_form_feeds),
        cmocka_unit_test(text_with_lone_cr_line_endings),
        cmocka_unit_test(text_page_break_inside_a_hyphenated_word),
        cmocka_unit_test(text_drops_page_numbers_and_running_heads),
        cmocka_unit_test(text_gutenberg_header_and_chapters),
        cmocka_unit_test(text_utf16_with_bom_is_converted),
        cmocka_unit_test(text_utf32_with_bom_is_converted_not_read_as_utf16),
        cmocka_unit_test(text_utf16_errors_name_the_byte),
        cmocka_unit_test(text_with_one_paragraph_a_line),
        cmocka_unit_test(html_gutenberg_book_gives_chapters_pages_and_unread_boilerplate),
        cmocka_unit_test(html_older_gutenberg_edition_in_a_declared_charset),
        cmocka_unit_test(html_is_recognised_by_content_and_anything_else_is_refused),
        cmocka_unit_test(html_real_gutenberg_edition_reads_its_headings_as_chapters),
        cmocka_unit_test(bad_input_missing_file_and_directory),
        cmocka_unit_test(bad_input_not_a_zip_and_corrupt_zip),
        cmocka_unit_test(bad_input_broken_package),
        cmocka_unit_test(missing_resources_warn_and_empty_books_fail),
        cmocka_unit_test(drm_is_detected_and_font_obfuscation_is_not),
        cmocka_unit_test(zip_bombs_are_stopped_while_inflating),
        cmocka_unit_test(invalid_utf8_in_text_names_the_byte),
        cmocka_unit_test(invalid_utf8_in_a_chapter_names_book_entry_and_byte),
        cmocka_unit_test(hrefs_with_percent_escapes_resolve_to_their_entries),
        cmocka_unit_test(a_malformed_percent_escape_is_kept_as_written),
        cmocka_unit_test(smil_escapes_ampersands_angle_brackets_and_quotes),
        cmocka_unit_test(the_writers_archive_reads_stop_at_the_limits_with_a_clear_error),
    };
    return cmocka_run_group_tests_name("formats", tests, NULL, fx_teardown);
}
