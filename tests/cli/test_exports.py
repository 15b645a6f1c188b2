#!/usr/bin/env python3
"""CLI tests of the exports beside JSON: SRT, Audacity labels and the word TSV, each parsed here
and compared with the JSON export of the same index (the mini corpus, indexed); and the EPUB
with Media Overlays at each granularity, checked against the corpus's truth.

usage: test_exports.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import json
import os
import re
import shutil
import subprocess
import sys
import unittest
import xml.etree.ElementTree as ET
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402
import overlay_check  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
SMIL = "{http://www.w3.org/ns/SMIL}"
TSV_HEADER = "text\tstart_char\tend_char\tstart_time\tend_time\tfile\tfile_time\tconfidence"


def folio(*args):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=600)


def norm(text):
    return "".join(c for c in text.lower() if c.isalnum())


def srt_cues(body):
    """[(number, start, end, text)] of a SubRip file, parsed by the format's own rules: blocks
    separated by blank lines, a number, a time line with comma decimals, text lines."""
    cues = []
    for block in body.strip("\n").split("\n\n"):
        lines = block.split("\n")
        m = re.fullmatch(r"(\d\d):(\d\d):(\d\d),(\d\d\d) --> (\d\d):(\d\d):(\d\d),(\d\d\d)",
                         lines[1])
        assert m, block
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        cues.append((int(lines[0]), start, end, "\n".join(lines[2:])))
    return cues


class Exports(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        cls.index = os.path.join(WORK, "mini.folio")
        cls.truth = minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, cls.index)
        cls.book = os.path.join(CORPUS, "book.epub")
        r = folio("export", cls.index, "--format", "json")
        assert r.returncode == 0, r.stderr.decode()
        cls.doc = json.loads(r.stdout)

    def cue_files(self, fmt):
        out = os.path.join(WORK, fmt)
        shutil.rmtree(out, ignore_errors=True)
        r = folio("export", self.index, f"--format={fmt}", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        names = [os.path.splitext(a["path"])[0] + "." + fmt for a in self.doc["audio"]]
        self.assertEqual(sorted(os.listdir(out)), sorted(names))
        bodies = []
        for name in names:
            with open(os.path.join(out, name), encoding="utf-8") as f:
                bodies.append(f.read())
        return bodies

    def check_cues_against_words(self, file, cues):
        """Each cue's text is a run of the JSON's words, in order; it starts when the first
        read word of the run starts and ends when its last read word in this file ends."""
        words = self.doc["words"]
        stream, owner = [], []
        for i, w in enumerate(words):
            for c in norm(w["text"]):
                stream.append(c)
                owner.append(i)
        stream = "".join(stream)
        duration = self.doc["audio"][file]["duration"]
        at = 0
        self.assertGreater(len(cues), 3)
        for start, end, text in cues:
            key = norm(text)
            # The first place from here where the text is read in this file (a heading is in
            # the table of contents too, unread).
            pos, read = stream.find(key, at), []
            while pos >= 0 and not read:
                run = range(owner[pos], owner[pos + len(key) - 1] + 1)
                read = [words[i] for i in run if words[i]["file"] == file]
                at = pos + len(key)
                pos = stream.find(key, pos + 1) if not read else pos
            self.assertTrue(read, f"cue text not read in file {file}: {text!r}")
            self.assertAlmostEqual(start, read[0]["file_time"], delta=0.0011, msg=text)
            last = read[-1]
            last_end = last["file_time"] + last["end_time"] - last["start_time"]
            self.assertAlmostEqual(end, min(last_end, duration), delta=0.0021, msg=text)

    def test_srt_is_a_cue_per_sentence_timed_by_its_words(self):
        for file, body in enumerate(self.cue_files("srt")):
            self.assertFalse(body.startswith("WEBVTT"))
            cues = srt_cues(body)
            self.assertEqual([c[0] for c in cues], list(range(1, len(cues) + 1)))
            for _, start, end, text in cues:
                self.assertLess(start, end)
                self.assertNotIn("\n", text)
            self.check_cues_against_words(file, [c[1:] for c in cues])

    def test_audacity_labels_are_the_srt_cues_in_seconds(self):
        srt = [srt_cues(b) for b in self.cue_files("srt")]
        for file, body in enumerate(self.cue_files("aud")):
            labels = []
            for line in body.splitlines():
                m = re.fullmatch(r"(\d+\.\d{6})\t(\d+\.\d{6})\t([^\t]+)", line)
                self.assertIsNotNone(m, line)
                labels.append((float(m.group(1)), float(m.group(2)), m.group(3)))
            self.check_cues_against_words(file, labels)
            self.assertEqual([t for _, _, t in labels], [c[3] for c in srt[file]])
            for (s, e, _), c in zip(labels, srt[file]):
                self.assertAlmostEqual(s, c[1], delta=0.0006)
                self.assertAlmostEqual(e, c[2], delta=0.0006)

    def test_word_tsv_is_the_json_words(self):
        path = os.path.join(WORK, "words.tsv")
        r = folio("export", self.index, "--format", "tsv", "-o", path)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        self.assertEqual(lines[0], TSV_HEADER)
        self.assertEqual(lines[-1], "")
        rows = [line.split("\t") for line in lines[1:-1]]
        self.assertEqual(len(rows), len(self.doc["words"]))
        for row, w in zip(rows, self.doc["words"]):
            self.assertEqual(len(row), 8, row)
            self.assertEqual(row[0], w["text"])
            self.assertEqual((int(row[1]), int(row[2])), (w["start_char"], w["end_char"]))
            if w["start_time"] is None:
                self.assertEqual(row[3:7], ["", "", "", ""])
                self.assertEqual(float(row[7]), 0)
                continue
            self.assertAlmostEqual(float(row[3]), w["start_time"], delta=0.0006)
            self.assertAlmostEqual(float(row[4]), w["end_time"], delta=0.0006)
            self.assertEqual(int(row[5]), w["file"])
            self.assertAlmostEqual(float(row[6]), w["file_time"], delta=0.0006)
            self.assertAlmostEqual(float(row[7]), w["confidence"], delta=0.0006)
        # The header's documentation is the header.
        with open(os.path.join(ROOT, "docs", "export.md")) as f:
            self.assertIn(TSV_HEADER.replace("\t", "\\t"), f.read())

    def test_cue_formats_to_standard_output_need_one_audio_file(self):
        r = folio("export", self.index, "--format", "srt")
        self.assertEqual(r.returncode, 2)
        self.assertIn("-o names the folder", r.stderr.decode())

    def test_unknown_format_lists_the_formats(self):
        r = folio("export", self.index, "--format", "docx")
        self.assertEqual(r.returncode, 2)
        for name in ("json", "csv", "tsv", "vtt", "srt", "aud", "epub"):
            self.assertIn(name, r.stderr.decode())


    def export_epub(self, name, *extra):
        out = os.path.join(WORK, name)
        r = folio("export", self.index, "--format", "epub", "--book", self.book, "-o", out,
                  "--audio", CORPUS, "-q", *extra)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return out

    def pars(self, epub):
        """[(document path, fragment, clipBegin seconds, element text)] of every <par>."""
        z = zipfile.ZipFile(epub)
        out = []
        for name in sorted(n for n in z.namelist() if n.endswith(".smil")):
            doc_path = None
            for par in ET.fromstring(z.read(name)).iter(SMIL + "par"):
                target, frag = par.find(SMIL + "text").get("src").split("#")
                doc_path = os.path.join(os.path.dirname(name), target)
                doc = ET.fromstring(z.read(doc_path))
                el = next(e for e in doc.iter() if e.get("id") == frag)
                begin = overlay_check.clock(par.find(SMIL + "audio").get("clipBegin"))
                out.append((doc_path, frag, begin, "".join(el.itertext())))
        return out

    def test_epub_by_default_highlights_sentences_with_the_audio_inside(self):
        out = self.export_epub("default.epub")
        n = overlay_check.check(self, out, self.book, self.truth, CORPUS, True,
                                run_epubcheck=False)
        pars = self.pars(out)
        self.assertEqual(n, len(pars))
        sentences = [p for p in pars if re.fullmatch(r"folio-s\d+", p[1])]
        # A sentence whose ends are inside different elements shows its element instead.
        self.assertGreaterEqual(len(sentences), 0.95 * len(pars))
        # More than one sentence a paragraph, on the whole.
        paragraphs = self.pars(self.export_epub("paragraph.epub", "--granularity=paragraph"))
        self.assertGreater(len(pars), len(paragraphs))
        z = zipfile.ZipFile(out)
        self.assertTrue(any(i.filename.startswith("OEBPS/audio/") for i in z.infolist()))

    def test_epub_by_paragraph_only_adds_ids(self):
        out = self.export_epub("paragraph.epub", "--granularity", "paragraph", "--link-audio")
        overlay_check.check(self, out, self.book, self.truth, CORPUS, False, run_epubcheck=False)
        z, src = zipfile.ZipFile(out), zipfile.ZipFile(self.book)
        for name in src.namelist():
            if name.endswith(".xhtml"):
                self.assertEqual(re.sub(rb' id="folio-[0-9-]+"', b"", z.read(name)),
                                 src.read(name), name)
        for _, frag, _, _ in self.pars(out):
            self.assertNotRegex(frag, r"^folio-[sw]")

    def test_epub_by_word_shows_each_json_word_at_its_time(self):
        out = self.export_epub("word.epub", "--granularity", "word", "--link-audio")
        words = self.doc["words"]
        pars = self.pars(out)
        timed = [w for w in words if w["file"] is not None]
        self.assertGreaterEqual(len(pars), 0.95 * len(timed))
        last = -1
        for doc, frag, begin, text in pars:
            m = re.fullmatch(r"folio-w(\d+)", frag)
            if not m:
                continue
            k = int(m.group(1))
            self.assertGreater(k, last, "words in reading order")
            last = k
            # The book's text leaves out the soft hyphens the document has.
            self.assertEqual(text.replace("\u00ad", ""), words[k]["text"], frag)
            self.assertAlmostEqual(begin, words[k]["file_time"], delta=0.0011, msg=frag)

    def test_epub_options_that_exclude_each_other(self):
        for extra in (["--embed-audio", "--link-audio"], ["--link-audio", "--audio-url", "x/"],
                      ["--granularity", "line"]):
            r = folio("export", self.index, "--format", "epub", "--book", self.book, "-o",
                      os.path.join(WORK, "never.epub"), *extra)
            self.assertEqual(r.returncode, 2, extra)
        self.assertFalse(os.path.exists(os.path.join(WORK, "never.epub")))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
