#!/usr/bin/env python3
"""The benchmark's scorer on hand-made truth/prediction pairs whose answers were worked out by
hand (in the comments).

usage: test_bench.py SOURCE_ROOT
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BENCH = os.path.join(sys.argv[1], "tools", "bench")


def w(text, read, page, file=None, t=None, end=None, said=None):
    offset = 10.0 if file == 1 else 0.0
    return {"page": page, "ordinal": 0, "text": text, "read": read, "said": said or text.lower(),
            "file": file, "file_time": t, "end_file_time": end,
            "time": None if t is None else offset + t, "end_time": None if end is None else offset + end}


TRUTH = {
    "corpus": "hand", "audio": [{"index": 0, "path": "a.wav", "duration": 10.0, "offset": 0.0},
                                {"index": 1, "path": "b.wav", "duration": 10.0, "offset": 10.0}],
    "pages": [{"ordinal": 1, "label": "i", "file": None, "file_time": None, "time": None},
              {"ordinal": 2, "label": "1", "file": 0, "file_time": 1.0, "time": 1.0},
              {"ordinal": 3, "label": "2", "file": 0, "file_time": 5.0, "time": 5.0},
              {"ordinal": 4, "label": "3", "file": 1, "file_time": 2.0, "time": 12.0}],
    "words": [w("Contents", False, "i"), w("Alpha", True, "1", 0, 1.0, 1.5), w("beta", True, "1", 0, 1.6, 2.0),
              w("well-known", True, "2", 0, 5.0, 5.8, "well known"), w("gamma.", True, "2", 0, 6.0, 6.5, "gamma"),
              w("Note", False, "2"), w("delta", True, "3", 1, 2.0, 2.4),
              w("1455", True, "3", 1, 3.0, 4.0, "one thousand four hundred fifty five")],
}


def page(o, label, f, ft):
    return {"ordinal": o, "label": label, "start_char": 0, "start_time": None if f is None else f * 10.0 + ft,
            "end_time": None if f is None else f * 10.0 + ft + 1, "file": f, "file_time": ft, "confidence": 0.9}


def pw(text, f, ft):
    return {"text": text, "start_char": 0, "end_char": 0, "start_time": None if f is None else f * 10.0 + ft,
            "end_time": None if f is None else f * 10.0 + ft + 0.2, "file": f, "file_time": ft, "confidence": 0.9}


PRED = {
    # Page errors 0.2, 1.0, 3.0 s: median 1.0, p95 3.0, max 3.0; 1/3 within 0.5 s, 2/3 within 2 s.
    "pages": [page(1, "i", None, None), page(2, "1", 0, 1.2), page(3, "2", 0, 6.0), page(4, "3", 1, 5.0)],
    # Words as Folio splits them. "beta" is missed; "Note" (unread) is given a time. Word errors:
    # Alpha 0.1, well-known 0.0 (its first part), gamma 0.1, delta 0.0, 1455 0.5: median 0.1.
    "words": [pw("Contents", None, None), pw("Alpha", 0, 1.1), pw("beta", None, None), pw("well", 0, 5.0),
              pw("known", 0, 5.3), pw("gamma", 0, 6.1), pw("Note", 0, 7.0), pw("delta", 1, 2.0),
              pw("1455", 1, 3.5)],
}


class Scorer(unittest.TestCase):
    def run_bench(self, *args):
        r = subprocess.run([sys.executable, BENCH, *args], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def score(self, truth, pred):
        with tempfile.TemporaryDirectory() as d:
            t, p, o = (os.path.join(d, n) for n in ("t.json", "p.json", "o.json"))
            json.dump(truth, open(t, "w"))
            json.dump(pred, open(p, "w"))
            self.run_bench("score", t, p, "--out", o)
            return json.load(open(o))["score"]

    def test_page_and_word_errors(self):
        s = self.score(TRUTH, PRED)
        ps = s["page_start"]
        self.assertEqual(ps["n"], 3)
        self.assertAlmostEqual(ps["median"], 1.0)
        self.assertAlmostEqual(ps["p95"], 3.0)
        self.assertAlmostEqual(ps["max"], 3.0)
        self.assertAlmostEqual(ps["within_0_5"], 1 / 3)
        self.assertAlmostEqual(ps["within_2"], 2 / 3)
        self.assertEqual(s["pages_missed"], 0)
        self.assertEqual(s["unread_pages_given_a_time"], 0)
        self.assertEqual(s["words_read_truth"], 6)
        self.assertEqual(s["read_words_missed"], 1)
        self.assertAlmostEqual(s["word_start"]["median"], 0.1)
        self.assertAlmostEqual(s["word_start"]["max"], 0.5)
        self.assertEqual(s["unread_words_given_a_time"], 1)

    def test_missed_wrong_file_and_unread_pages(self):
        pred = json.loads(json.dumps(PRED))
        pred["pages"][0] = page(1, "i", 0, 0.5)   # an unread page given a time
        pred["pages"][2] = page(3, "2", 1, 0.0)   # file 1 at 0 s = 10 s globally: 5 s off
        pred["pages"][3] = page(4, "3", None, None)  # missed
        s = self.score(TRUTH, pred)
        self.assertEqual(s["unread_pages_given_a_time"], 1)
        self.assertEqual(s["pages_missed"], 1)
        self.assertEqual(s["pages_wrong_file"], 1)
        self.assertEqual(s["page_start"]["n"], 2)
        self.assertAlmostEqual(s["page_start"]["max"], 5.0)
        self.assertAlmostEqual(s["page_start"]["within_0_5"], 0.5)

    def test_score_words(self):
        # Recognised words (no "beta", one word not in the book): found 5 of 6 read words;
        # start errors alpha 0.05, well 0.1, gamma 0.2, delta 0.05, one 0.0: median 0.05.
        rows = [("this", 0, 0.2), ("alpha", 0, 1.05), ("well", 0, 5.1), ("known", 0, 5.4),
                ("gamma", 0, 6.2), ("delta", 1, 2.05), ("one", 1, 3.0), ("thousand", 1, 3.3)]
        with tempfile.TemporaryDirectory() as d:
            t, tsv, o = (os.path.join(d, n) for n in ("t.json", "r.tsv", "o.json"))
            json.dump(TRUTH, open(t, "w"))
            with open(tsv, "w") as f:
                for word, file, ft in rows:
                    f.write(f"{word}\t{file}\t{ft}\t{ft + 0.2}\t{file * 10 + ft}\t0.9\n")
            self.run_bench("score-words", t, tsv, "--out", o)
            r = json.load(open(o))
        self.assertEqual(r["read_words"], 6)
        self.assertEqual(r["found"], 5)
        self.assertAlmostEqual(r["read_words_missed_share"], 1 / 6)
        self.assertEqual(r["recognised_words"], 8)
        self.assertEqual(r["recognised_not_matched"], 3)
        self.assertAlmostEqual(r["word_start"]["median"], 0.05)


class Kinds(unittest.TestCase):
    def score(self, truth, pred):
        with tempfile.TemporaryDirectory() as d:
            t, p, o = (os.path.join(d, n) for n in ("t.json", "p.json", "o.json"))
            json.dump(truth, open(t, "w"))
            json.dump(pred, open(p, "w"))
            r = subprocess.run([sys.executable, BENCH, "score", t, p, "--out", o], capture_output=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            return json.load(open(o))["score"]

    def test_stories(self):
        truth = {"audio": TRUTH["audio"], "stories": [
            {"file": 0, "title": "A", "first_words": "Alpha beta", "within": 45.0},
            {"file": 1, "title": "B", "first_words": "delta 1455", "within": 45.0},
            {"file": 1, "title": "C", "first_words": "not in the book", "within": 45.0}]}
        # "Alpha beta" starts at 1.1 s in file 0: right. "delta 1455" starts in file 1 at 2.0 s:
        # right. The third is nowhere.
        s = self.score(truth, PRED)
        self.assertEqual(s["stories"], 3)
        self.assertEqual(s["right_file_and_early"], 2)
        truth["stories"][1]["within"] = 1.5  # 2.0 s is too late now
        self.assertEqual(self.score(truth, PRED)["right_file_and_early"], 1)

    def test_sentences(self):
        truth = {"audio": TRUTH["audio"], "sentences": [
            {"first_words": "well known gamma", "file": 0, "file_time": 4.6},   # 5.0: 0.4 off
            {"first_words": "delta", "file": 1, "file_time": 2.9},              # 2.0: 0.9 off
            {"first_words": "beta well", "file": 0, "file_time": 1.6}]}         # beta untimed
        s = self.score(truth, PRED)
        self.assertEqual(s["missed"], 1)
        self.assertAlmostEqual(s["start"]["max"], 0.9)
        self.assertAlmostEqual(s["start"]["within_0_5"], 0.5)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
