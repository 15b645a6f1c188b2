#!/usr/bin/env python3
"""CLI tests of `folio lookup` on a small synthetic audiobook (mkcorpus "mini") with expectations
from its truth.json (the synthesiser's word times, not Folio's): page to audio, audio to page,
OCR text to audio (snippets from tools/ocr-snippets), scan to read, and every invalid argument.

usage: test_lookup.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
INDEX = os.path.join(WORK, "mini.folio")


def folio(*args, **kw):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=300, **kw)


def lookup(*args):
    r = folio("lookup", INDEX, *args)
    return r.returncode, json.loads(r.stdout) if r.stdout.strip() else None, r.stderr.decode()


class Lookup(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(CORPUS, ignore_errors=True)
        os.makedirs(WORK, exist_ok=True)
        cls.truth = minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, INDEX)

    def test_page_to_audio(self):
        for i, p in enumerate(self.truth["pages"]):
            for how in (["--page", p["label"]], ["--ordinal", str(i + 1)]):
                code, doc, err = lookup(*how)
                self.assertEqual(code, 0, err)
                m = doc["match"]
                self.assertEqual(m["page"]["label"], p["label"])
                self.assertEqual(m["page"]["ordinal"], i + 1)
                if p["time"] is None:
                    self.assertIsNone(m["time"], f"page {p['label']} is not read")
                    continue
                self.assertEqual(m["file"], p["file"])
                self.assertEqual(m["audio"], self.truth["audio"][p["file"]]["path"])
                self.assertLess(abs(m["file_time"] - p["file_time"]), 0.5, p["label"])
                self.assertLess(abs(m["time"] - p["time"]), 0.5, p["label"])

    def test_unknown_page(self):
        n = len(self.truth["pages"])
        for how, message in ((["--page", "no-such-page"], 'no page labelled "no-such-page"'),
                             (["--ordinal", "9999"], f"no page 9999 (the book has {n})")):
            code, doc, _ = lookup(*how)
            self.assertEqual(code, 3)
            self.assertEqual(doc["error"], {"code": "not_found", "message": message})

    def test_audio_to_page(self):
        words = [w for w in self.truth["words"] if w["read"] and w["file_time"] is not None]
        self.assertGreater(len(words), 100)
        for w in words[::37]:
            mid = (w["file_time"] + w["end_file_time"]) / 2
            code, doc, err = lookup("--file", str(w["file"]), "--time", f"{mid:.3f}")
            self.assertEqual(code, 0, err)
            m = doc["match"]
            self.assertEqual(m["page"]["label"], w["page"], f"{w['text']} at {mid}")
            self.assertEqual(m["file"], w["file"])
            # The same moment on the global timeline, written as H:MM:SS.mmm.
            g = (w["time"] + w["end_time"]) / 2
            clock = f"{int(g // 3600)}:{int(g // 60 % 60):02d}:{g % 60:06.3f}"
            code, doc2, err = lookup("--time", clock)
            self.assertEqual(code, 0, err)
            self.assertEqual(doc2["match"]["page"]["label"], w["page"], clock)

    def test_bad_times(self):
        total = sum(a["duration"] for a in self.truth["audio"])
        for args in (["--time", str(total + 60)], ["--time", "-3"], ["--time", "1:75"],
                     ["--time", "abc"], ["--file", "7", "--time", "1"], ["--file", "0"]):
            code, doc, err = lookup(*args)
            self.assertEqual(code, 2, f"{args}: {err}")

    def snippets(self, cer, count, seed, foreign=None):
        args = [os.path.join(ROOT, "tools", "ocr-snippets"), os.path.join(CORPUS, "truth.json"),
                "--count", str(count), "--cer", str(cer), "--seed", str(seed)]
        if foreign:
            args += ["--foreign", foreign]
        r = subprocess.run(args, capture_output=True, timeout=60, check=True)
        rows = [line.split("\t") for line in r.stdout.decode().splitlines()[1:]]
        for row in rows:
            yield row[1], row[2], row[4].replace("\\n", "\n").replace("\\t", "\t")

    def test_text_to_audio(self):
        right = wrong = 0
        for file, t, text in self.snippets(0.05, 40, 7):
            code, doc, err = lookup("--text", text)
            self.assertEqual(code, 0, err)
            m = doc["match"]
            if m is None:
                continue
            if m["file"] == int(file) and abs(m["file_time"] - float(t)) <= 2:
                right += 1
            else:
                wrong += 1
        self.assertEqual(wrong, 0)
        self.assertGreaterEqual(right, 38)

    def test_foreign_text_is_no_match(self):
        foreign = os.path.join(WORK, "foreign.txt")
        with open(foreign, "w") as f:
            f.write("All human beings are born free and equal in dignity and rights. They are "
                    "endowed with reason and conscience and should act towards one another in a "
                    "spirit of brotherhood. Everyone is entitled to all the rights and freedoms "
                    "set forth in this Declaration, without distinction of any kind, such as "
                    "race, colour, sex, language, religion, political or other opinion, national "
                    "or social origin, property, birth or other status. " * 3)
        for _, _, text in self.snippets(0.05, 10, 3, foreign):
            code, doc, err = lookup("--text", text, "--candidates", "3")
            self.assertEqual(code, 0, err)
            self.assertIsNone(doc["match"], text)
            self.assertEqual(doc["candidates"], [])

    def test_text_from_a_file_and_bad_text(self):
        page = [w["text"] for w in self.truth["words"] if w["page"] == "3"]
        path = os.path.join(WORK, "page3.txt")
        with open(path, "w") as f:
            f.write(" ".join(page))
        code, doc, err = lookup("--text-file", path)
        self.assertEqual(code, 0, err)
        self.assertEqual(doc["match"]["page"]["label"], "3")
        with open(path, "wb") as f:
            f.write(b"The ledger was not his own \xff\xfe invention at all")
        code, doc, _ = lookup("--text-file", path)
        self.assertEqual(code, 1)
        self.assertEqual(doc["error"]["code"], "invalid_utf8")
        code, _, _ = lookup("--text-file", os.path.join(WORK, "missing.txt"))
        self.assertEqual(code, 1)
        code, doc, _ = lookup("--text", "too short")
        self.assertEqual(code, 0)
        self.assertIsNone(doc["match"])

    def test_scan_to_read(self):
        pages = [p for p in self.truth["pages"] if p["time"] is not None]
        words = self.truth["words"]
        # Scanning the page before the one being read: one page forward; the page itself: none;
        # the page after: one back.
        for k in range(1, len(pages) - 1):
            label = pages[k]["label"]
            text = " ".join(w["text"] for w in words if w["page"] == label)
            heard = [w for w in words if w["page"] == label and w["read"] and w["time"] is not None]
            t = heard[len(heard) // 4]["time"]
            for scanned, expect in ((pages[k - 1]["label"], 1), (label, 0),
                                    (pages[k + 1]["label"], -1)):
                text = " ".join(w["text"] for w in words if w["page"] == scanned)
                code, doc, err = lookup("--scan-to-read", f"{t:.3f}", "--text", text)
                self.assertEqual(code, 0, err)
                self.assertEqual(doc["heard"]["page"]["label"], label)
                self.assertEqual(doc["match"]["page"]["label"], scanned)
                self.assertIn(doc["pages_to_flip"], (expect - 1, expect, expect + 1) if expect
                              else (0,), f"scanned {scanned}, heard {label}")

    def test_usage_errors(self):
        for args in ([], ["--page"], ["--page", "1", "--ordinal", "2"], ["--ordinal", "0"],
                     ["--scan-to-read", "3"], ["--candidates", "0", "--text", "x"],
                     ["--bogus"]):
            r = folio("lookup", INDEX, *args)
            self.assertEqual(r.returncode, 2, args)
        missing = os.path.join(WORK, "missing.folio")
        r = folio("lookup", missing, "--page", "1")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{missing}: {os.strerror(2)}", r.stderr.decode())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
