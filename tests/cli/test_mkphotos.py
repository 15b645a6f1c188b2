#!/usr/bin/env python3
"""tools/mkphotos's truth on a small hand-made book: which line is the first whole one in a photo,
its first word and that word's time. The expectations come from the page itself, found here
without the generator's code: the rendered page's rows of ink give each printed line's band, the
PDF's plain text gives the words of a wrapped paragraph's second line, and the words' times are
the ones this test wrote into the corpus's truth.

usage: test_mkphotos.py SOURCE_ROOT WORK_DIR
Skipped (77) when groff, pdftoppm, pdftotext or the generator's Python modules are missing.
"""
import json
import math
import os
import shutil
import subprocess
import sys
import unittest
import zipfile

ROOT = sys.argv[1] if len(sys.argv) > 1 else "."
WORK = sys.argv[2] if len(sys.argv) > 2 else "mkphotos-work"
MKPHOTOS = os.path.join(ROOT, "tools", "mkphotos")
DPI = 100

# One line each (short enough for any edition's measure); paragraph 5 is skipped by the narrator.
SHORT = ["Amber foxes crossed the meadow.", "Brown owls watched the barn.",
         "Copper kettles sang all day.", "Dusty maps covered the desk.",
         "Emerald waves broke on the wall.", "Frosty panes glittered at dawn.",
         "Golden bells rang in the valley.", "Hollow drums echoed far away."]
LONG = ("Nine lanterns swung above the dock while the sailors sang and the gulls called over "
        "the grey water and the wind pushed the small boats against the posts until the tide "
        "turned and the night came down upon the town with rain and fog and the bells fell "
        "silent at last.")
NOTE = "Quiet notes are never read."
CH2 = ["Later the rain stopped and the harbour woke."]


def xhtml(body):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3'
            '.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>t</title>'
            '</head><body><section epub:type="chapter">%s</section></body></html>\n' % body)


def make_corpus(d):
    """book.epub and truth.json; returns the truth's words."""
    os.makedirs(d, exist_ok=True)
    ch1 = "<h1>Chapter One</h1>"
    for k, p in enumerate(SHORT):
        if k == 2:  # the footnote's mark after "sang"
            p = p.replace("sang", 'sang<a epub:type="noteref" href="#n1">1</a>')
        ch1 += "<p>%s</p>" % p
    ch1 += "<p>%s</p>" % LONG
    ch1 += '<aside epub:type="footnote" id="n1"><p>1 %s</p></aside>' % NOTE
    ch2 = "<h1>Chapter Two</h1>" + "".join("<p>%s</p>" % p for p in CH2)
    opf = ('<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
           '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Harbour Lights'
           '</dc:title></metadata><manifest><item id="c1" href="c1.xhtml" media-type="application'
           '/xhtml+xml"/><item id="c2" href="c2.xhtml" media-type="application/xhtml+xml"/>'
           '</manifest><spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>')
    with zipfile.ZipFile(os.path.join(d, "book.epub"), "w") as z:
        z.writestr("mimetype", "application/epub+zip")
        z.writestr("META-INF/container.xml",
                   '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:'
                   'container" version="1.0"><rootfiles><rootfile full-path="OEBPS/content.opf" '
                   'media-type="application/oebps-package+xml"/></rootfiles></container>')
        z.writestr("OEBPS/content.opf", opf)
        z.writestr("OEBPS/c1.xhtml", xhtml(ch1))
        z.writestr("OEBPS/c2.xhtml", xhtml(ch2))
    words = []

    def add(text, kind, read):
        for t in text.split():
            words.append({"text": t, "kind": kind, "read": read, "page": "1"})

    add("Chapter One", "heading", True)
    for k, p in enumerate(SHORT):
        add(p, "paragraph", k != 4)
    add(LONG, "paragraph", True)
    add("1 " + NOTE, "footnote", False)
    add("Chapter Two", "heading", True)
    add(CH2[0], "paragraph", True)
    for i, w in enumerate(words):  # word i is said at 10 + 2i seconds, in one file
        t = 10.0 + 2 * i if w["read"] else None
        w.update(time=t, file=0 if t is not None else None, file_time=t)
    with open(os.path.join(d, "truth.json"), "w") as f:
        json.dump({"format": "folio-truth", "corpus": "harbour", "words": words}, f)
    return words


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5"
    w, h = int(fields[1]), int(fields[2])
    pix = data[pos + 1:pos + 1 + w * h]
    return w, h, [pix[r * w:(r + 1) * w] for r in range(h)]


def ink_bands(rows, w):
    """Printed lines as (top, bottom, left, right) of their ink, top to bottom."""
    bands, cur = [], None
    for y, row in enumerate(rows):
        xs = [x for x in range(w) if row[x] < 140]
        if xs:
            if cur is None:
                cur = [y, y, min(xs), max(xs)]
            else:
                cur[1], cur[2], cur[3] = y, min(cur[2], min(xs)), max(cur[3], max(xs))
        elif cur is not None:
            bands.append(tuple(cur))
            cur = None
    if cur is not None:
        bands.append(tuple(cur))
    # A descender's tip can come apart from its line by a pale row: join bands 2 px apart.
    joined = []
    for b in bands:
        if joined and b[0] - joined[-1][1] <= 3:
            p = joined.pop()
            b = (p[0], b[1], min(p[2], b[2]), max(p[3], b[3]))
        joined.append(b)
    return joined


def index_of(words, text, start=0):
    return next(i for i in range(start, len(words)) if words[i]["text"] == text)


class FirstWholeLine(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("groff", "pdftoppm", "pdftotext"):
            if not shutil.which(tool):
                raise unittest.SkipTest(tool + " missing")
        shutil.rmtree(WORK, ignore_errors=True)
        corpus = os.path.join(WORK, "corpus")
        cls.words = make_corpus(corpus)
        first = os.path.join(WORK, "edition")
        r = subprocess.run([MKPHOTOS, corpus, first, "--count", "0", "--keep-pdf", "--dpi",
                            str(DPI), "--seed", "3", "--folio", "/nonexistent"],
                           capture_output=True, text=True)
        if r.returncode == 77:
            raise unittest.SkipTest(r.stderr.strip())
        assert r.returncode == 0, r.stderr
        pdf = os.path.join(first, "book.pdf")
        subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-f", "1", "-l", "1", "-singlefile",
                        pdf, os.path.join(WORK, "page1")], check=True)
        cls.w, cls.h, rows = read_pgm(os.path.join(WORK, "page1.pgm"))
        cls.bands = ink_bands(rows, cls.w)
        cls.text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", pdf, "-"], check=True,
                                  capture_output=True, text=True).stdout
        # The layout this test relies on: heading, the eight one-line paragraphs, the long one.
        lines = [ln for ln in cls.text.splitlines() if ln.strip()]
        assert lines[0] == "Chapter One", lines[:3]
        for k, p in enumerate(SHORT):
            assert lines[1 + k].replace("1", "") == p, (lines[1 + k], p)
        assert len(cls.bands) >= 12, cls.bands
        # Bands: 0 heading, 1-8 the short paragraphs, 9.. the long one.
        cls.spec = []
        cls.expect = {}
        b = cls.bands
        left, right = min(x[2] for x in b[1:10]) - 25, max(x[3] for x in b[1:10]) + 25

        def mid(k):
            return (b[k][0] + b[k][1]) / 2

        def add(name, rect, **kw):
            cls.spec.append(dict({"name": name, "page": 1, "rect": rect, "crop": "lines"}, **kw))

        # The top edge cuts "Copper kettles ...": the answer is the next line's first word.
        add("cut", [left, mid(3), right, b[6][1] + 3])
        # The top edge cuts the line before the skipped paragraph: that paragraph's first word,
        # timed at the next read word, not read.
        add("skipped", [left, mid(4), right, b[7][1] + 3])
        # Turned 2.5 degrees: worked out below from the ink boxes.
        add("turned", [left, mid(6), right, b[9][1] + 3], rotation_deg=2.5)
        # The top edge cuts the long paragraph's first line: its second line's first word, and
        # the sentence starts at "Nine".
        add("wrapped", [left, mid(9), right, b[11][1] + 3])
        # Only the footnote at the page's foot (below its rule, above the page number).
        note = [k for k in range(len(b)) if b[k][1] - b[k][0] >= 4][-2]
        add("footnote", [left, (b[note - 1][1] + b[note][0]) / 2, right, b[note][1] + 3])
        # The empty head of the chapter page, and a nearly black photo of text.
        add("blank", [left, 5, right, b[0][0] - 15])
        add("dark", [left, mid(1), right, b[4][1] + 3], light=0.04)
        with open(os.path.join(WORK, "spec.json"), "w") as f:
            json.dump(cls.spec, f)
        out = os.path.join(WORK, "photos")
        r = subprocess.run([MKPHOTOS, corpus, out, "--spec", os.path.join(WORK, "spec.json"),
                            "--dpi", str(DPI), "--seed", "3", "--folio", "/nonexistent"],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open(os.path.join(out, "truth.json"), encoding="utf-8") as f:
            cls.truth = {p["file"][:-4]: p for p in json.load(f)["photos"]}
        cls.out = out

    def word_at(self, name):
        return self.truth[name]["word"]

    def test_a_line_cut_by_the_top_edge_is_skipped_for_the_next_whole_line(self):
        w = self.word_at("cut")
        i = index_of(self.words, "Dusty")
        self.assertEqual(w["index"], i)
        self.assertEqual(w["text"], "Dusty")
        self.assertEqual(w["time"], 10.0 + 2 * i)
        self.assertTrue(w["read"])
        self.assertEqual(self.truth["cut"]["sentence"]["index"], i)
        self.assertEqual(self.truth["cut"]["cut_above"], 1)

    def test_a_skipped_paragraph_answers_the_next_read_word_not_read(self):
        w = self.word_at("skipped")
        self.assertEqual(w["text"], "Emerald")
        self.assertFalse(w["read"])
        self.assertEqual(w["time"], 10.0 + 2 * index_of(self.words, "Frosty"))

    def test_a_turned_photo_names_the_first_line_whose_ink_is_all_inside(self):
        spec = next(s for s in self.spec if s["name"] == "turned")
        x0, y0, x1, y1 = spec["rect"]
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        a = math.radians(spec["rotation_deg"])

        def inside(x, y):  # page point -> the unturned crop's frame
            dx, dy = x - cx, y - cy
            u = dx * math.cos(a) + dy * math.sin(a)
            v = -dx * math.sin(a) + dy * math.cos(a)
            return abs(u) <= (x1 - x0) / 2 and abs(v) <= (y1 - y0) / 2

        first = next(k for k in range(1, 9) if all(
            inside(x, y) for x in (self.bands[k][2], self.bands[k][3])
            for y in (self.bands[k][0], self.bands[k][1])))
        self.assertGreater(first, 6)  # the turn must not make the cut line whole
        expected = SHORT[first - 1].split()[0]
        self.assertEqual(self.word_at("turned")["text"], expected)

    def test_a_wrapped_paragraph_names_its_second_line_and_its_sentence_start(self):
        lines = [ln for ln in self.text.splitlines() if ln.strip()]
        first = lines.index(next(ln for ln in lines if ln.startswith("Nine")))
        on_first = lines[first].split()
        n = len(on_first) - (1 if on_first[-1].endswith("-") else 0)
        start = index_of(self.words, "Nine")
        w = self.word_at("wrapped")
        self.assertEqual(w["index"], start + n)
        self.assertEqual(w["time"], 10.0 + 2 * (start + n))
        s = self.truth["wrapped"]["sentence"]
        self.assertEqual(s["index"], start)
        self.assertEqual(s["time"], 10.0 + 2 * start)

    def test_a_footnote_at_the_page_foot_answers_the_next_read_word(self):
        w = self.word_at("footnote")
        self.assertEqual(w["kind"], "footnote")
        self.assertFalse(w["read"])
        self.assertEqual(w["time"], 10.0 + 2 * index_of(self.words, "Chapter", 20))

    def test_a_photo_without_a_whole_line_expects_no_match(self):
        self.assertEqual(self.truth["blank"]["expect"], "no match")
        self.assertIsNone(self.truth["blank"]["word"])
        self.assertEqual(self.truth["blank"]["whole_lines"], 0)

    def test_photos_are_jpegs_of_the_asked_size(self):
        for s in self.spec:
            with open(os.path.join(self.out, s["name"] + ".jpg"), "rb") as f:
                self.assertEqual(f.read(2), b"\xff\xd8")
            w = round(s["rect"][2] - s["rect"][0])
            self.assertEqual(self.truth[s["name"]]["transform"]["size"][0], w)


if __name__ == "__main__":
    r = unittest.main(argv=sys.argv[:1], exit=False).result
    if r.skipped and not (r.failures or r.errors) and len(r.skipped) >= r.testsRun:
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)
