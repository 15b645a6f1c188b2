#!/usr/bin/env python3
"""CLI tests of `folio book`: run the real binary and check its output against values computed
here, independently of the library (the demo EPUB's own XHTML is parsed with Python's XML parser).

usage: test_cli.py FOLIO DEMO_EPUB SOURCE_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest
import xml.etree.ElementTree as ET

FOLIO, DEMO, ROOT = sys.argv[1:4]
DEMO_SRC = os.path.join(ROOT, "corpora", "demo", "epub", "OEBPS")
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUB_TYPE = "{http://www.idpf.org/2007/ops}type"


def folio(*args, input_bytes=None):
    return subprocess.run([FOLIO, *args], capture_output=True, input=input_bytes, timeout=60)


def spine_documents():
    """Spine documents of the demo, in order, from its OPF."""
    opf = ET.parse(os.path.join(DEMO_SRC, "content.opf")).getroot()
    ns = "{http://www.idpf.org/2007/opf}"
    hrefs = {i.get("id"): i.get("href") for i in opf.iter(ns + "item")}
    return [hrefs[r.get("idref")] for r in opf.iter(ns + "itemref")]


def events(el, skip=("head", "title", "script", "style")):
    """Document-order events: ('start', el), ('text', str)."""
    if el.tag.replace(XHTML, "") in skip:
        return
    yield ("start", el)
    if el.text:
        yield ("text", el.text)
    for child in el:
        yield from events(child, skip)
        if child.tail:
            yield ("text", child.tail)


def marker_words():
    """For each page-break marker in the demo's spine: (label, first word after it)."""
    out = []
    for doc in spine_documents():
        root = ET.parse(os.path.join(DEMO_SRC, doc)).getroot()
        pending = []
        inside_marker = None
        for kind, val in events(root):
            if kind == "start":
                types = (val.get(EPUB_TYPE) or "").split()
                if "pagebreak" in types:
                    pending.append(val.get("title") or val.get("aria-label") or "".join(val.itertext()).strip())
                    inside_marker = val
                continue
            if inside_marker is not None and val in "".join(inside_marker.itertext()):
                continue
            words = val.split()
            if words and pending:
                for label in pending:
                    out.append((label, words[0]))
                pending = []
    return out


class DemoBook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = folio("book", DEMO, "--json")
        assert r.returncode == 0, r.stderr.decode()
        cls.model = json.loads(r.stdout)
        r = folio("book", DEMO, "--text")
        assert r.returncode == 0, r.stderr.decode()
        cls.text = r.stdout.decode("utf-8")

    def test_text_length_is_in_code_points(self):
        self.assertEqual(self.model["text_length"], len(self.text))
        self.assertIn("é", "".join(ch for ch in self.text if ord(ch) > 127) + "é")

    def test_page_list_labels_land_on_the_marked_words(self):
        self.assertEqual(self.model["page_source"], "page-list")
        expected = marker_words()
        pages = self.model["pages"]
        self.assertGreaterEqual(len(pages), 10)
        self.assertEqual([p["label"] for p in pages], [label for label, _ in expected])
        self.assertEqual([p["ordinal"] for p in pages], list(range(1, len(pages) + 1)))
        for page, (label, word) in zip(pages, expected):
            at = self.text[page["start_char"]:]
            # The extracted text has no soft hyphens, ligatures are kept as written.
            self.assertTrue(at.startswith(word.replace("\u00ad", "")),
                            f"page {label} starts at {at[:30]!r}, expected {word!r}")

    def test_page_list_matches_nav_document(self):
        nav = ET.parse(os.path.join(DEMO_SRC, "nav.xhtml")).getroot()
        for n in nav.iter(XHTML + "nav"):
            if "page-list" in (n.get(EPUB_TYPE) or "").split():
                labels = ["".join(a.itertext()).strip() for a in n.iter(XHTML + "a")]
        self.assertEqual(labels, [p["label"] for p in self.model["pages"]])

    def test_blocks_chapters_and_metadata(self):
        m = self.model
        self.assertEqual(m["title"], "The Lighthouse Ledger")
        self.assertEqual(m["language"], "en")
        kinds = {b["kind"] for b in m["blocks"]}
        self.assertTrue({"heading", "paragraph", "footnote", "frontmatter", "toc"} <= kinds, kinds)
        for b in m["blocks"]:
            if b["kind"] in ("footnote", "toc"):
                self.assertFalse(b["read"], b)
            if b["kind"] in ("heading", "paragraph"):
                self.assertTrue(b["read"], b)
            self.assertLessEqual(b["start_char"], b["end_char"])
        self.assertEqual(len(m["chapters"]), 3)
        for c in m["chapters"]:
            # Each chapter starts at its heading's text.
            self.assertTrue(self.text[c["start_char"]:].startswith("Chapter"), c)
        self.assertGreater(m["sentence_count"], 50)

    def test_unread_inline_content_is_absent(self):
        # The noteref's marker digit follows a word directly in the source; in the text the
        # footnote body is present (as a block) but the reference is not.
        self.assertNotIn("\u00ad", self.text)
        self.assertNotIn("The Lighthouse Ledger</title>", self.text)

    def test_summary_names_pages_and_chapters(self):
        r = folio("book", DEMO)
        self.assertEqual(r.returncode, 0)
        out = r.stdout.decode()
        self.assertIn("Title:      The Lighthouse Ledger", out)
        self.assertIn("from page-list", out)
        self.assertIn("Chapters:   3", out)


class SpokenForm(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        r = folio("book", DEMO, "--tokens")
        assert r.returncode == 0, r.stderr.decode()
        cls.rows = [line.split("\t") for line in r.stdout.decode("utf-8").splitlines()]
        cls.model = json.loads(folio("book", DEMO, "--json").stdout)
        cls.text = folio("book", DEMO, "--text").stdout.decode("utf-8")

    def page_at(self, char):
        label = ""
        for p in self.model["pages"]:
            if p["start_char"] <= char:
                label = p["label"]
        return label

    def block_at(self, char):
        for b in self.model["blocks"]:
            if b["start_char"] <= char < b["end_char"]:
                return b
        return None

    def test_columns_agree_with_the_book_model(self):
        self.assertGreater(len(self.rows), 1500)
        for token, start, end, kind, page, read, alts in self.rows:
            start, end = int(start), int(end)
            self.assertTrue(token and token == token.lower(), token)
            self.assertLess(start, end)
            block = self.block_at(start)
            self.assertIsNotNone(block)
            self.assertLessEqual(end, block["end_char"])
            self.assertEqual(kind, block["kind"])
            self.assertEqual(read, "1" if block["read"] else "0")
            self.assertEqual(page, self.page_at(start))

    def test_plain_words_are_their_own_text(self):
        # A token from an ASCII letters-only word reads as that word, lower-cased.
        checked = 0
        for token, start, end, kind, *_ in self.rows:
            src = self.text[int(start):int(end)]
            if kind in ("heading", "toc"):
                continue  # "Chapter II" reads "chapter two"
            if src.isascii() and src.isalpha() and src.lower() not in ("mr", "dr", "st", "no"):
                if src.isupper() and len(src) > 1:
                    continue  # acronyms may be spelled out
                self.assertEqual(token, src.lower())
                checked += 1
        self.assertGreater(checked, 1500)

    def test_numbers_are_read_with_alternatives(self):
        def reading(source):
            at = self.text.index(source)
            toks = [r for r in self.rows if int(r[1]) == at]
            return " ".join(r[0] for r in toks), toks[0][6].split("|")
        primary, alts = reading("1455")
        self.assertEqual(primary, "fourteen fifty five")
        self.assertIn("one thousand four hundred fifty five", alts)
        self.assertEqual(reading("$5")[0], "five dollars")
        self.assertEqual(reading("21st")[0], "twenty first")
        self.assertEqual(reading("Mr.")[0], "mister")

    def test_pronunciations(self):
        r = folio("book", DEMO, "--pronunciations")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = [l.split("\t") for l in r.stdout.decode().splitlines()]
        words = {w for w, *_ in rows}
        self.assertEqual(words, {t[0] for t in self.rows} | {w for t in self.rows for a in t[6].split("|") for w in a.split()} - {""})
        for word, source, phones in rows:
            self.assertIn(source, ("dict", "lts"))
            self.assertRegex(phones, r"^[A-Z]{1,2}( [A-Z]{1,2})*$")
        r = folio("book", DEMO, "--pronunciations", "--dict", "/nonexistent.dict")
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent.dict", r.stderr.decode())


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def assert_fails(self, args, needle, code=1):
        r = folio(*args)
        self.assertEqual(r.returncode, code, r.stderr)
        self.assertEqual(r.stdout, b"")
        self.assertIn(needle, r.stderr.decode())
        return r.stderr.decode()

    def test_missing_file(self):
        path = os.path.join(self.tmp.name, "absent.epub")
        err = self.assert_fails(["book", path], path)
        self.assertIn("folio: error:", err)

    def test_not_a_zip(self):
        path = self.write("fake.epub", b"hello, I am not a zip")
        self.assert_fails(["book", path], "not a zip archive")

    def test_invalid_utf8(self):
        path = self.write("bad.txt", b"ok ok \xff bad")
        self.assert_fails(["book", path, "--text"], "invalid UTF-8 at byte 6")

    def test_truncated_demo(self):
        with open(DEMO, "rb") as f:
            data = f.read()
        path = self.write("cut.epub", data[: len(data) // 3])
        self.assert_fails(["book", path], "cut.epub")

    def test_usage_errors(self):
        self.assert_fails(["book"], "which book", code=2)
        self.assert_fails(["book", DEMO, "--bogus"], "unknown option", code=2)
        self.assert_fails(["book", DEMO, DEMO], "one book at a time", code=2)
        self.assert_fails(["book", DEMO, "--format", "pdf"], "--format", code=2)
        self.assert_fails(["book", DEMO, "--first-page-label", "x"], "whole number", code=2)
        self.assert_fails(["frobnicate"], "unknown command", code=2)
        r = folio("help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("book BOOK", r.stdout.decode())

    def test_text_book_with_form_feeds(self):
        path = self.write("paged.txt", "Page one text.\n\fPage two text.\n\fPage three.\n".encode())
        r = folio("book", path, "--json", "--first-page-label", "41")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.loads(r.stdout)
        self.assertEqual(m["page_source"], "form-feed")
        self.assertEqual([p["label"] for p in m["pages"]], ["41", "42", "43"])
        text = folio("book", path, "--text").stdout.decode()
        # No blank line before a form feed: the paragraph runs on across the page break.
        self.assertEqual(text, "Page one text. Page two text. Page three.")
        self.assertEqual([text[p["start_char"]:][:10] for p in m["pages"]],
                         ["Page one t", "Page two t", "Page three"])

    def test_warnings_go_to_stderr_and_quiet_silences_them(self):
        path = self.write("nbsp.epub", b"")
        os.remove(path)
        # Build a tiny EPUB whose chapter needs the HTML parser.
        import zipfile
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            z.writestr("META-INF/container.xml",
                       '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
                       '<rootfiles><rootfile full-path="a.opf" media-type="application/oebps-package+xml"/>'
                       "</rootfiles></container>")
            z.writestr("a.opf", '<package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
                       '<metadata/><manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>'
                       '</manifest><spine><itemref idref="c"/></spine></package>')
            z.writestr("c.xhtml", "<html><body><p>A&nbsp;B</p></body></html>")
        r = folio("book", path, "--text")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout.decode(), "A\u00a0B")
        self.assertIn("folio: warning:", r.stderr.decode())
        r = folio("book", path, "--text", "--quiet")
        self.assertEqual(r.stderr, b"")


class HtmlBook(unittest.TestCase):
    def test_gutenberg_html_book(self):
        # A hand-written Gutenberg-style HTML book (tests/data/html): its chapters, pages and
        # unread header, contents and licence, as written in the file.
        path = os.path.join(ROOT, "tests", "data", "html", "lighthouse.html")
        r = folio("book", path, "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = json.loads(r.stdout)
        text = folio("book", path, "--text").stdout.decode()
        self.assertEqual((m["format"], m["title"], m["author"]), ("HTML", "The Lighthouse Cat", "Mara Quill"))
        self.assertEqual([c["title"] for c in m["chapters"]],
                         ["The Lighthouse Cat", "CHAPTER I. THE STORM", "CHAPTER II. THE BOAT"])
        self.assertEqual(m["page_source"], "markers")
        self.assertEqual([(p["label"], text[p["start_char"]:][:11]) for p in m["pages"]],
                         [("2", "Tom the cat"), ("3", "A small boa")])
        read = [text[b["start_char"]:b["end_char"]] for b in m["blocks"] if b["read"]]
        self.assertEqual(read[0], "The Lighthouse Cat")
        self.assertEqual(read[-1], "The keeper waved.")
        self.assertNotIn("<", text)
        self.assertNotIn("[Pg", text)
        with tempfile.TemporaryDirectory() as tmp:
            plain = os.path.join(tmp, "plain.txt")
            with open(plain, "w") as f:
                f.write("Only words here.\n")
            r = folio("book", plain, "--format", "html")
            self.assertEqual((r.returncode, r.stdout), (1, b""))
            self.assertIn("plain.txt: not an HTML document", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
