#!/usr/bin/env python3
"""The benchmark's scorer on hand-made truth/prediction pairs whose answers were worked out by
hand (in the comments).

usage: test_bench.py SOURCE_ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import wave

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

    def test_chapters(self):
        # Two read headings in the truth: "CHAPTER 1" (words at 1.0 s of file 0) and "CHAPTER 2"
        # (2.0 s of file 1); the contents' "CHAPTER 1" is not read and does not count.
        truth = json.loads(json.dumps(TRUTH))
        heads = [w("CHAPTER", False, "i"), w("1", False, "i"),
                 w("CHAPTER", True, "1", 0, 1.0, 1.4), w("1", True, "1", 0, 1.5, 1.8),
                 w("Alpha", True, "1", 0, 2.0, 2.4),
                 w("CHAPTER", True, "3", 1, 2.0, 2.4), w("2", True, "3", 1, 2.5, 2.8)]
        for h in heads:
            h["kind"] = "heading"
        heads[0]["kind"] = heads[1]["kind"] = "toc"
        heads[4]["kind"] = "paragraph"
        truth["words"] = heads
        pred = json.loads(json.dumps(PRED))
        # Found 0.3 s late, and 2.5 s early (in the announcement): median 1.4, max 2.5.
        pred["chapters"] = [
            {"title": "CHAPTER 1", "start_char": 0, "start_time": 1.3, "file": 0, "file_time": 1.3},
            {"title": "CHAPTER 2", "start_char": 9, "start_time": 9.5, "file": 0, "file_time": 9.5}]
        s = self.score(truth, pred)
        self.assertEqual(s["chapters_truth"], 2)
        self.assertEqual(s["chapters_missed"], 0)
        self.assertEqual(s["chapters_wrong_file"], 1)
        self.assertAlmostEqual(s["chapter_start"]["median"], 1.4)
        self.assertAlmostEqual(s["chapter_start"]["max"], 2.5)
        # A chapter not timed is missed.
        pred["chapters"][1]["start_time"] = pred["chapters"][1]["file"] = None
        pred["chapters"][1]["file_time"] = None
        s = self.score(truth, pred)
        self.assertEqual(s["chapters_missed"], 1)
        self.assertAlmostEqual(s["chapter_start"]["max"], 0.3)

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
        self.assertEqual(s["wrong_file"], 0)
        self.assertAlmostEqual(s["start"]["max"], 0.9)
        self.assertAlmostEqual(s["start"]["within_0_5"], 0.5)
        # Compared per file: a prediction whose own timeline puts file 1 32 ms later (it decoded
        # file 0 as 10.032 s) has the same errors.
        pred = json.loads(json.dumps(PRED))
        for x in pred["words"]:
            if x["file"] == 1:
                x["start_time"] += 0.032
        s = self.score(truth, pred)
        self.assertAlmostEqual(s["start"]["max"], 0.9)
        self.assertAlmostEqual(s["start"]["median"], 0.65)
        # Found in the wrong file: "gamma" is in file 0 at 6.1 s (6.1 s on the truth's timeline),
        # the truth has it in file 1 at 0.0 s (10.0 s): 3.9 s off.
        truth["sentences"].append({"first_words": "gamma", "file": 1, "file_time": 0.0})
        s = self.score(truth, PRED)
        self.assertEqual(s["wrong_file"], 1)
        self.assertAlmostEqual(s["start"]["max"], 3.9)
        self.assertAlmostEqual(s["start"]["within_0_5"], 1 / 3)


# A stand-in for the folio tool: what tools/bench asks of it, answered with TRUTH's book and PRED.
FAKE_FOLIO = """#!/usr/bin/env python3
import json, sys
a = sys.argv[1:]
text = "Contents\\fAlpha beta\\fwell-known gamma. Note\\fdelta 1455"
if a[0] == "help":
    print("commands:\\n  index BOOK AUDIO... -o BOOK.folio")
elif a[0] == "index":
    open(a[a.index("-o") + 1], "w").write("index")
elif a[0] == "export":
    json.dump(json.loads(%r), open(a[a.index("-o") + 1], "w"))
elif a[0] == "book" and "--text" in a:
    sys.stdout.write(text)
elif a[0] == "book" and "--json" in a:
    starts = [0, 9, 20, 45]
    print(json.dumps({"pages": [{"ordinal": i + 1, "label": l, "start_char": s}
                                for i, (l, s) in enumerate(zip(["i", "1", "2", "3"], starts))]}))
""" % json.dumps(PRED)

# A stand-in for echogarden ("align WAV TEXT OUT ..."), misbehaving as FAKE_PEER says.
FAKE_PEER = """#!/usr/bin/env python3
import json, os, re, sys
mode = os.environ["FAKE_PEER"]
_, wav, text, out = sys.argv[1:5]
if mode == "fail":
    sys.exit("fake echogarden: out of cheese")
if mode == "bad-json":
    open(out, "w").write("{not json")
    sys.exit(0)
words = [{"type": "word", "text": m.group(), "startOffsetUtf16": m.start(),
          "endOffsetUtf16": m.end(), "startTime": 1.0 + i, "endTime": 1.5 + i}
         for i, m in enumerate(re.finditer(r"\\S+", open(text).read()))]
if mode == "negative":
    words[2]["startTime"] = -1.0
if mode == "no-times":
    del words[1]["startTime"]
json.dump({"timeline": [{"type": "sentence", "timeline": words}]}, open(out, "w"))
"""


@unittest.skipUnless(shutil.which("ffmpeg"), "ffmpeg is not on PATH (the peer run joins the audio)")
class Peer(unittest.TestCase):
    """tools/bench with a peer that fails in every way it can: the benchmark never stops, says
    "peer unavailable" with the reason, and keeps folio's results."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.corpus = os.path.join(cls.tmp.name, "corpus")
        os.makedirs(d)
        with open(os.path.join(d, "truth.json"), "w") as f:
            json.dump(TRUTH, f)
        open(os.path.join(d, "book.epub"), "w").close()
        for a in TRUTH["audio"]:
            with wave.open(os.path.join(d, a["path"]), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                w.writeframes(b"\0\0" * int(a["duration"] * 16000))
        for name, text in (("folio", FAKE_FOLIO), ("echogarden", FAKE_PEER)):
            path = os.path.join(cls.tmp.name, name)
            with open(path, "w") as f:
                f.write(text)
            os.chmod(path, 0o755)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def bench(self, mode):
        out = os.path.join(self.tmp.name, mode + ".json")
        env = dict(os.environ, FAKE_PEER=mode,
                   FOLIO_ECHOGARDEN=os.path.join(self.tmp.name, "echogarden"))
        r = subprocess.run([sys.executable, BENCH, self.corpus, "--peer", "echogarden", "--folio",
                            os.path.join(self.tmp.name, "folio"), "--out", out],
                           capture_output=True, env=env, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertNotIn(b"Traceback", r.stderr)
        with open(out) as f:
            res = json.load(f)
        # Folio's results are there whatever the peer did: PRED's page errors (see above).
        self.assertAlmostEqual(res["systems"]["folio"]["score"]["page_start"]["median"], 1.0)
        return r.stdout.decode(), res["systems"]["echogarden"]

    def check_unavailable(self, mode, reason):
        out, peer = self.bench(mode)
        self.assertIn("echogarden: peer unavailable: ", out)
        self.assertIn(reason, peer.get("unavailable", ""), out)
        self.assertIn(reason, out)

    def test_peer_that_exits_with_an_error(self):
        self.check_unavailable("fail", "out of cheese")

    def test_peer_that_writes_bad_json(self):
        self.check_unavailable("bad-json", "JSON that cannot be read")

    def test_peer_that_gives_a_negative_time(self):
        self.check_unavailable("negative", "the time -1.0")

    def test_peer_whose_output_raises_inside_the_bench(self):
        self.check_unavailable("no-times", "KeyError")

    def test_peer_that_works_is_scored(self):
        # The fake is the one run (not "not installed"): words one a second from 1.0 s.
        out, peer = self.bench("ok")
        self.assertNotIn("unavailable", peer)
        self.assertEqual(peer["score"]["words_read_truth"], 6)
        self.assertNotIn("peer unavailable", out)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
