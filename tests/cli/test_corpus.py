#!/usr/bin/env python3
"""The corpus suite: whole-pipeline accuracy on the demo audiobook (flite voices, every
perturbation, MP3) and on the pocketsphinx-testdata corpus (real LibriVox speech), with loose
tolerances: every page the truth says is read starts within 0.5 s of its true time in the right
file, and no page the truth says is unread gets a time; the demo's EPUB with Media Overlays
passes epubcheck and its clips start and end within 0.5 s of the truth; page lookups and OCR
snippets of its text find the truth's times. The benchmark
(tools/bench) reports the tight numbers.

usage: test_corpus.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import overlay_check  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]


def build_and_index(name):
    corpus = os.path.join(WORK, name)
    shutil.rmtree(corpus, ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    r = subprocess.run([MKCORPUS, os.path.join(ROOT, "corpora", name), corpus],
                       capture_output=True, timeout=900)
    if r.returncode != 0:
        return None, r.stderr.decode()
    with open(os.path.join(corpus, "truth.json")) as f:
        truth = json.load(f)
    audio = [os.path.join(corpus, a["path"]) for a in truth["audio"]]
    index = os.path.join(WORK, name + ".folio")
    r = subprocess.run([FOLIO, "index", os.path.join(corpus, "book.epub"), *audio, "-o", index,
                        "-q"], capture_output=True, timeout=1800)
    assert r.returncode == 0, r.stderr.decode()
    r = subprocess.run([FOLIO, "export", index], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return (truth, json.loads(r.stdout)), None


class Corpus(unittest.TestCase):
    def check_pages(self, truth, doc):
        self.assertEqual([p["label"] for p in doc["pages"]], [p["label"] for p in truth["pages"]])
        for t, got in zip(truth["pages"], doc["pages"]):
            if t["time"] is None:
                self.assertIsNone(got["start_time"], f"page {t['label']} is not read")
                continue
            self.assertIsNotNone(got["start_time"], f"page {t['label']} is read")
            self.assertEqual(got["file"], t["file"], f"page {t['label']}")
            self.assertLess(abs(got["start_time"] - t["time"]), 0.5,
                            f"page {t['label']}: {got['start_time']} s, truth {t['time']} s")

    def test_demo(self):
        got, why = build_and_index("demo")
        self.assertIsNotNone(got, why)
        self.check_pages(*got)
        # The book with Media Overlays, the MP3s inside and beside it.
        corpus = os.path.join(WORK, "demo")
        book = os.path.join(corpus, "book.epub")
        ran, _, why = overlay_check.epubcheck(book)
        if not ran:
            print(f"note: {why}; the EPUB export is checked without it", file=sys.stderr)
        for embed in (True, False):
            out = os.path.join(WORK, f"demo-{'inside' if embed else 'beside'}.epub")
            r = subprocess.run([FOLIO, "export", os.path.join(WORK, "demo.folio"), "--format",
                                "epub", "--book", book, "-o", out, "-q", "--granularity",
                                "paragraph"] +
                               (["--embed-audio"] if embed else ["--link-audio"]),
                               capture_output=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            overlay_check.check(self, out, book, got[0], corpus, embed)
        # The default export (a span a sentence, the audio inside) is a valid EPUB too.
        out = os.path.join(WORK, "demo-sentences.epub")
        r = subprocess.run([FOLIO, "export", os.path.join(WORK, "demo.folio"), "--format", "epub",
                            "--book", book, "-o", out, "-q"], capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        ran, ok, output = overlay_check.epubcheck(out)
        self.assertTrue(ok, output)
        self.check_lookups(got[0], os.path.join(WORK, "demo.folio"), corpus)

    def check_lookups(self, truth, index, corpus):
        """Page Match on the demo index: every page's audio, and OCR snippets of the text."""
        def lookup(*args):
            r = subprocess.run([FOLIO, "lookup", index, *args], capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            return json.loads(r.stdout)["match"]

        for p in truth["pages"]:
            m = lookup("--page", p["label"])
            if p["time"] is None:
                self.assertIsNone(m["time"], p["label"])
            else:
                self.assertEqual(m["file"], p["file"], p["label"])
                self.assertLess(abs(m["file_time"] - p["file_time"]), 0.5, p["label"])
        r = subprocess.run([os.path.join(ROOT, "tools", "ocr-snippets"),
                            os.path.join(corpus, "truth.json"), "--count", "30", "--cer", "0.05",
                            "--seed", "2"], capture_output=True, timeout=60, check=True)
        for row in r.stdout.decode().splitlines()[1:]:
            _, file, t, _, text = row.split("\t")
            m = lookup("--text", text.replace("\\n", "\n"))
            self.assertIsNotNone(m, text)
            self.assertEqual(m["file"], int(file), text)
            self.assertLess(abs(m["file_time"] - float(t)), 2, text)

    def test_testdata(self):
        got, why = build_and_index("testdata")
        if got is None and "pocketsphinx-testdata" in why:
            self.skipTest(why.strip())
        self.assertIsNotNone(got, why)
        self.check_pages(*got)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
