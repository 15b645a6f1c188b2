#!/usr/bin/env python3
"""CLI tests of `folio index` and `folio export` on a small synthetic audiobook built by mkcorpus
(preamble, outro, front matter, a footnote, a skipped paragraph, an added sentence, a long
silence): the export follows the contract, pages start where the truth says (within 0.5 s),
nothing unread gets a time, one thread gives the same index as two, the index opens from a
read-only folder, no work files are left, CSV and WebVTT agree with the JSON, the EPUB with Media
Overlays is the book with clips where the truth says, and audio that is not the book fails
cleanly.

usage: test_index.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import csv
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import unittest
import zipfile

import jsonschema

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402
import overlay_check  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
OUT = os.path.join(WORK, "out")
LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox"


def folio(*args, **kw):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=600, **kw)


def audio(truth):
    return [os.path.join(CORPUS, a["path"]) for a in truth["audio"]]


class Index(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(CORPUS, ignore_errors=True)
        shutil.rmtree(OUT, ignore_errors=True)
        os.makedirs(OUT)
        cls.truth = minicorpus.make(MKCORPUS, ROOT, CORPUS)
        cls.book = os.path.join(CORPUS, "book.epub")
        cls.index = os.path.join(OUT, "mini.folio")
        r = folio("index", cls.book, *audio(cls.truth), "-o", cls.index, "--threads", "2")
        assert r.returncode == 0, r.stderr.decode()
        cls.summary = r.stderr.decode()
        cls.json_path = os.path.join(WORK, "mini.json")
        r = folio("export", cls.index, "--format", "json", "-o", cls.json_path)
        assert r.returncode == 0, r.stderr.decode()
        with open(cls.json_path) as f:
            cls.doc = json.load(f)
        r = folio("book", cls.book, "--text")
        assert r.returncode == 0
        cls.text = r.stdout.decode()

    def test_one_thread_gives_the_same_index(self):
        """Recognition and forced alignment both share their work among threads (forced windows
        are planned first and applied in order): one thread must give the same export."""
        one = os.path.join(WORK, "mini-one-thread.folio")
        for p in (one, one + ".part"):
            if os.path.exists(p):
                os.remove(p)
        r = folio("index", self.book, *audio(self.truth), "-o", one, "--threads", "1", "-q")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        r = folio("export", one, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(json.loads(r.stdout), self.doc)

    def test_no_work_files_left(self):
        self.assertEqual(os.listdir(OUT), ["mini.folio"])

    def test_summary_says_what_was_read(self):
        read = sum(1 for p in self.truth["pages"] if p["time"] is not None)
        m = re.search(r"(\d+) of (\d+) pages read", self.summary)
        self.assertIsNotNone(m, self.summary)
        self.assertEqual(int(m.group(2)), len(self.truth["pages"]))
        self.assertEqual(int(m.group(1)), read)

    def test_each_file_start_is_an_audio_mark_beside_its_chapter(self):
        """Each file of the mini corpus is a chapter: its start is a mark of kind "file" at 0 s,
        matched to the book's chapter that its file reads (the truth's heading in that file)."""
        marks = self.doc["audio_marks"]
        self.assertEqual([(m["kind"], m["file"], m["file_time"]) for m in marks],
                         [("file", i, 0.0) for i in range(len(self.truth["audio"]))])
        for m in marks:
            c = m["chapter"]
            self.assertIsNotNone(c, m)
            self.assertEqual(self.doc["chapters"][c]["file"], m["file"])

    def test_export_follows_the_contract(self):
        with open(os.path.join(ROOT, "docs", "folio-index.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator(schema).validate(self.doc)

    def test_sqlite_schema(self):
        db = sqlite3.connect(f"file:{self.index}?mode=ro", uri=True)
        self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], 3)
        self.assertEqual(db.execute("PRAGMA journal_mode").fetchone()[0], "delete")
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        self.assertTrue({"book", "text", "audio", "pages", "chapters", "sentences", "words",
                         "report", "lookup", "audio_marks"} <= tables, tables)
        self.assertFalse({"chunks", "files", "meta"} & tables)
        # The lookup tables as docs/index.md describes them: one symbol and one code point per
        # letter or digit of the text, a gram per run of six, a timeline entry per read word.
        blobs = dict(db.execute("SELECT name, data FROM lookup"))
        self.assertEqual(set(blobs), {"stream", "cp", "grams", "timeline", "words"})
        # The packed words are the words table, int32 little-endian.
        rows = db.execute("SELECT start_char, end_char, start_ms, end_ms, file, confidence "
                          "FROM words ORDER BY idx").fetchall()
        packed = struct.unpack(f"<{6 * len(rows)}i", blobs["words"])
        self.assertEqual([tuple(packed[i:i + 6]) for i in range(0, len(packed), 6)], rows)
        letters = sum(1 for c in self.text if c.isalnum())
        self.assertGreater(len(blobs["stream"]), 0.95 * letters)
        self.assertLess(len(blobs["stream"]), 1.05 * letters)
        self.assertEqual(len(blobs["cp"]), 4 * len(blobs["stream"]))
        self.assertEqual(len(blobs["grams"]), 8 * (len(blobs["stream"]) - 5))
        timed = db.execute("SELECT count(*) FROM words WHERE start_ms >= 0").fetchone()[0]
        self.assertEqual(len(blobs["timeline"]), 4 * timed)
        db.close()

    def test_book_and_audio(self):
        b = self.doc["book"]
        self.assertEqual(b["text_length"], len(self.text))
        import hashlib
        self.assertEqual(b["text_sha256"], hashlib.sha256(self.text.encode()).hexdigest())
        self.assertEqual([a["path"] for a in self.doc["audio"]],
                         [a["path"] for a in self.truth["audio"]])
        for got, want in zip(self.doc["audio"], self.truth["audio"]):
            self.assertAlmostEqual(got["duration"], want["duration"], delta=0.01)
            self.assertAlmostEqual(got["offset"], want["offset"], delta=0.02)

    def test_times_are_consistent(self):
        offsets = [a["offset"] for a in self.doc["audio"]]
        for kind in ("pages", "chapters", "words"):
            for x in self.doc[kind]:
                if x["start_time"] is None:
                    continue
                self.assertAlmostEqual(x["start_time"], offsets[x["file"]] + x["file_time"],
                                       delta=0.002, msg=(kind, x))
                if "end_time" in x:
                    self.assertGreaterEqual(x["end_time"], x["start_time"], (kind, x))

    def test_words_are_the_texts_words(self):
        for w in self.doc["words"]:
            self.assertEqual(w["text"], self.text[w["start_char"]:w["end_char"]])

    def test_page_starts_match_the_truth(self):
        by_label = {p["label"]: p for p in self.doc["pages"]}
        self.assertEqual(len(self.doc["pages"]), len(self.truth["pages"]))
        for t in self.truth["pages"]:
            got = by_label[t["label"]]
            if t["time"] is None:
                self.assertIsNone(got["start_time"], f"page {t['label']} is not read")
            else:
                self.assertIsNotNone(got["start_time"], f"page {t['label']} is read")
                self.assertEqual(got["file"], t["file"], t["label"])
                self.assertLess(abs(got["start_time"] - t["time"]), 0.5,
                                f"page {t['label']}: {got['start_time']} vs {t['time']}")

    def test_words_scored_by_the_bench(self):
        out = os.path.join(WORK, "score.json")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench"), "score",
                            os.path.join(CORPUS, "truth.json"), self.json_path, "--out", out],
                           capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(out) as f:
            s = json.load(f)["score"]
        self.assertEqual(s["unread_pages_given_a_time"], 0)
        self.assertLessEqual(s["read_words_missed_share"], 0.05)
        self.assertLessEqual(s["unread_words_given_a_time"], 3)
        self.assertLessEqual(s["word_start"]["median"], 0.1)

    def test_report(self):
        r = self.doc["report"]
        timed = sum(1 for w in self.doc["words"] if w["start_time"] is not None)
        self.assertEqual(r["words_read"], timed)
        self.assertTrue(timed <= r["words_total"] <= len(self.doc["words"]))
        self.assertAlmostEqual(r["read_share"], timed / r["words_total"], delta=0.001)
        self.assertGreater(r["aligned_speech_share"], 0.7)
        # The preamble of the first file is speech that is not in the book.
        pre = [i for i in self.truth["inserted"] if i["kind"] == "preamble"][0]
        self.assertTrue(any(u["file"] == pre["file"] and u["start"] < pre["end"] and
                            u["end"] > pre["start"] for u in r["unaligned_audio"]),
                        r["unaligned_audio"])
        # The front matter is text nobody read.
        kinds = {u["kind"] for u in r["unread_text"]}
        self.assertIn("frontmatter", kinds)

    def test_csv_matches_json(self):
        out = os.path.join(WORK, "pages.csv")
        r = folio("export", self.index, "--format", "csv", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(out, newline="") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), len(self.doc["pages"]))
        for row, p in zip(rows, self.doc["pages"]):
            self.assertEqual(row["label"], p["label"])
            self.assertEqual(int(row["start_char"]), p["start_char"])
            if p["start_time"] is None:
                self.assertEqual(row["start_time"], "")
            else:
                self.assertAlmostEqual(float(row["start_time"]), p["start_time"], delta=0.001)
                self.assertEqual(int(row["file"]), p["file"])

    def test_vtt_per_audio_file(self):
        out = os.path.join(WORK, "vtt")
        shutil.rmtree(out, ignore_errors=True)
        r = folio("export", self.index, "--format", "vtt", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        names = sorted(os.listdir(out))
        self.assertEqual(names, sorted(os.path.splitext(a["path"])[0] + ".vtt"
                                       for a in self.truth["audio"]))
        flat = re.sub(r"\s+", " ", self.text)
        for a in self.truth["audio"]:
            with open(os.path.join(out, os.path.splitext(a["path"])[0] + ".vtt")) as f:
                body = f.read()
            self.assertTrue(body.startswith("WEBVTT\n"))
            cues = re.findall(r"\n\d+\n(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> "
                              r"(\d\d):(\d\d):(\d\d)\.(\d\d\d)\n([^\n]+)\n", body)
            self.assertGreater(len(cues), 3)
            last = -1
            for c in cues:
                s = int(c[0]) * 3600 + int(c[1]) * 60 + int(c[2]) + int(c[3]) / 1000
                e = int(c[4]) * 3600 + int(c[5]) * 60 + int(c[6]) + int(c[7]) / 1000
                self.assertLess(s, e)
                self.assertLessEqual(e, a["duration"] + 0.01)
                self.assertGreaterEqual(s, last - 0.5)
                last = s
                text = c[8].replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                self.assertIn(text, flat)

    def test_opens_from_a_read_only_folder(self):
        src = os.path.join(WORK, "ro-src")
        mnt = os.path.join(WORK, "ro-mnt")
        shutil.rmtree(src, ignore_errors=True)
        os.makedirs(src)
        os.makedirs(mnt, exist_ok=True)
        shutil.copy(self.index, src)
        if subprocess.run(["mount", "--bind", src, mnt], capture_output=True).returncode != 0:
            self.skipTest("cannot bind-mount here")
        try:
            if subprocess.run(["mount", "-o", "remount,bind,ro", mnt],
                              capture_output=True).returncode != 0:
                self.skipTest("cannot remount read-only here")
            r = folio("export", os.path.join(mnt, "mini.folio"), "--format", "json")
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertEqual(json.loads(r.stdout), self.doc)
        finally:
            subprocess.run(["umount", mnt], capture_output=True)

    def test_export_of_bad_files(self):
        missing = os.path.join(WORK, "missing.folio")
        r = folio("export", missing)
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr.decode())
        junk = os.path.join(WORK, "junk.folio")
        with open(junk, "wb") as f:
            f.write(b"not an index at all\n" * 100)
        r = folio("export", junk)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a Folio index", r.stderr.decode())
        db = os.path.join(WORK, "other.sqlite")
        if os.path.exists(db):
            os.unlink(db)
        c = sqlite3.connect(db)
        c.execute("CREATE TABLE t(x)")
        c.commit()
        c.close()
        r = folio("export", db)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a Folio index", r.stderr.decode())
        r = folio("export", self.index, "--format", "docx")
        self.assertEqual(r.returncode, 2)

    def export_epub(self, target, *extra, book=None):
        return folio("export", self.index, "--format", "epub", "--book", book or self.book, "-o",
                     target, "-q", *extra)

    def test_epub_media_overlays(self):
        out = os.path.join(WORK, "epub")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        # WAV is no EPUB core audio type, so epubcheck would object; the corpus suite runs it on
        # the MP3 demo.
        for embed in (True, False):
            target = os.path.join(out, f"mini-{'inside' if embed else 'beside'}.epub")
            r = self.export_epub(target, "--embed-audio" if embed else "--link-audio")
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            n = overlay_check.check(self, target, self.book, self.truth, CORPUS, embed,
                                    run_epubcheck=False)
            self.assertGreater(n, 10)
        # Markup the tag counting must see through, and an id the book already has: the text is
        # the same, so the same index applies, and each element still gets its own clip.
        def tricky(name, data):
            if not name.endswith("chapter001.xhtml"):
                return data
            data = data.replace(b"<p>", b'<p title="a > b &lt;p&gt;">', 1)
            data = data.replace(b"<p>", b'<p id="mine">', 1)
            data = data.replace(b"<!DOCTYPE html>", b'<!DOCTYPE html [ <!ENTITY x "]>"> ]>', 1)
            data = data.replace(b"<body>", b"<body><!-- <p>a comment</p> --><?folio <p>?>", 1)
            return data.replace(b"</h1>", b"<![CDATA[]]></h1>", 1)

        variant = os.path.join(out, "tricky.epub")
        with zipfile.ZipFile(self.book) as src, zipfile.ZipFile(variant, "w") as dst:
            for info in src.infolist():
                dst.writestr(info, tricky(info.filename, src.read(info.filename)))
        target = os.path.join(out, "mini-tricky.epub")
        r = self.export_epub(target, "--audio", CORPUS, "--granularity", "paragraph",
                             "--link-audio", book=variant)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        overlay_check.check(self, target, variant, self.truth, CORPUS, False, run_epubcheck=False)
        self.assertIn(b"#mine", zipfile.ZipFile(target).read("OEBPS/chapter001.smil"))

        target = os.path.join(out, "mini-url.epub")
        r = self.export_epub(target, "--audio-url", "https://example.org/books/mini/")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        z = zipfile.ZipFile(target)
        smil = z.read("OEBPS/chapter001.smil").decode()
        self.assertIn('src="https://example.org/books/mini/001.wav"', smil)
        self.assertIn('properties="remote-resources"', z.read("OEBPS/content.opf").decode())
        self.assertEqual(sorted(os.listdir(out)), ["mini-beside.epub", "mini-inside.epub",
                                                   "mini-tricky.epub", "mini-url.epub",
                                                   "tricky.epub"])

    def test_epub_export_of_bad_input(self):
        out = os.path.join(WORK, "epub-bad")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        target = os.path.join(out, "x.epub")
        # The EPUB needs --book and -o.
        r = folio("export", self.index, "--format", "epub", "-o", target)
        self.assertEqual(r.returncode, 2)
        r = folio("export", self.index, "--format", "json", "--embed-audio")
        self.assertEqual(r.returncode, 2)

        def variant(name, change):
            path = os.path.join(out, name)
            with zipfile.ZipFile(self.book) as src, zipfile.ZipFile(path, "w") as dst:
                for info in src.infolist():
                    data = change(info.filename, src.read(info.filename))
                    dst.writestr(info, data)
            return path

        # Another book (one word changed), an EPUB 2 book, plain text, audio that is not there.
        other = variant("other.epub", lambda n, d: d.replace(b"lighthouse", b"lamphouse", 1)
                        if n.endswith("chapter001.xhtml") else d)
        epub2 = variant("epub2.epub", lambda n, d: d.replace(b'version="3.0"', b'version="2.0"')
                        if n.endswith(".opf") else d)
        cases = [(other, [], "is not the book the index was made from"),
                 (epub2, [], "EPUB 2"),
                 (os.path.join(CORPUS, "book.txt"), [], "need an EPUB"),
                 (self.book, ["--audio", os.path.join(WORK, "no-such-folder")], "001.wav")]
        for book, extra, message in cases:
            r = self.export_epub(target, *extra, book=book)
            self.assertEqual(r.returncode, 1, r.stderr.decode())
            self.assertIn(message, r.stderr.decode())
            self.assertIn("error", r.stderr.decode())
        self.assertEqual(sorted(os.listdir(out)), ["epub2.epub", "other.epub"])

    def test_missing_audio_fails_cleanly(self):
        out = os.path.join(WORK, "bad-out")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        missing = os.path.join(CORPUS, "nope.wav")
        r = folio("index", self.book, missing, "-o", os.path.join(out, "x.folio"), "-q")
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr.decode())
        self.assertEqual(os.listdir(out), [])

    @unittest.skipUnless(os.path.isdir(LIBRIVOX), "pocketsphinx-testdata is not installed")
    def test_audio_of_another_book_fails_cleanly(self):
        out = os.path.join(WORK, "other-out")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        clips = sorted(os.path.join(LIBRIVOX, n) for n in os.listdir(LIBRIVOX) if n.endswith(".wav"))
        target = os.path.join(out, "x.folio")
        r = folio("index", self.book, *clips, "-o", target, "-q")
        self.assertEqual(r.returncode, 1, r.stderr.decode())
        msg = r.stderr.decode()
        self.assertIn("does not seem to be this book", msg)
        self.assertNotIn("Traceback", msg)
        self.assertEqual(os.listdir(out), [])
        # --force indexes it anyway, and the report says how little matched.
        r = folio("index", self.book, *clips, "-o", target, "-q", "--force")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        r = folio("export", target)
        doc = json.loads(r.stdout)
        self.assertLess(doc["report"]["aligned_speech_share"], 0.3)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
