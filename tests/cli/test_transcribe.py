#!/usr/bin/env python3
"""CLI tests of `folio transcribe` on a small synthetic audiobook built by mkcorpus: words land
near their true times, any number of threads gives the same output, a killed run resumes without
decoding a finished chunk twice, changed inputs start afresh, folders and playlists expand in
natural order, and bad audio fails cleanly.

usage: test_transcribe.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")


def folio(*args, **kw):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=600, **kw)


def audio(truth):
    return [os.path.join(CORPUS, a["path"]) for a in truth["audio"]]


def rows(path):
    out = []
    for line in open(path, encoding="utf-8"):
        w, f, t, e, g, c = line.rstrip("\n").split("\t")
        out.append((w, int(f), float(t), float(e), float(g), float(c)))
    return out


class Transcribe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(CORPUS, ignore_errors=True)
        cls.truth = minicorpus.make(MKCORPUS, ROOT, CORPUS)
        cls.book = os.path.join(CORPUS, "book.epub")
        cls.out = os.path.join(WORK, "two.tsv")
        r = folio("transcribe", cls.book, *audio(cls.truth), "-o", cls.out, "--threads", "2", "-q")
        assert r.returncode == 0, r.stderr.decode()
        cls.words = rows(cls.out)

    def test_columns_and_times(self):
        self.assertGreater(len(self.words), 300)
        offsets = [a["offset"] for a in self.truth["audio"]]
        durations = [a["duration"] for a in self.truth["audio"]]
        last = {}
        for w, f, t, e, g, c in self.words:
            self.assertTrue(w and w == w.lower())
            self.assertLess(t, e)
            self.assertLessEqual(e, durations[f] + 0.01)
            self.assertAlmostEqual(g, offsets[f] + t, places=2)
            self.assertTrue(0 <= c <= 1)
            self.assertGreaterEqual(t, last.get(f, 0) - 1e-6)
            last[f] = t
        # No file is skipped: every file has words.
        self.assertEqual(set(f for _, f, *_ in self.words), set(range(len(durations))))

    def test_words_are_within_a_tenth_of_a_second_of_the_truth(self):
        # Match each read word of the truth to a recognised word that is one of the words said
        # for it and starts within 0.5 s; then the matched starts must sit within 0.1 s.
        by_file = {}
        for w, f, t, *_ in self.words:
            by_file.setdefault(f, []).append((t, w))
        used, errors, read = set(), [], 0
        for tw in self.truth["words"]:
            if not tw["read"]:
                continue
            read += 1
            said = set(tw["said"].split())
            for k, (t, w) in enumerate(by_file.get(tw["file"], [])):
                if (tw["file"], k) in used or w not in said or abs(t - tw["file_time"]) > 0.5:
                    continue
                used.add((tw["file"], k))
                errors.append(abs(t - tw["file_time"]))
                break
        self.assertGreater(len(errors) / read, 0.85)
        within = sum(e <= 0.1 for e in errors) / len(errors)
        self.assertGreater(within, 0.95, f"only {within:.3f} of matched words within 0.1 s")

    def test_one_thread_gives_the_same_output(self):
        out = os.path.join(WORK, "one.tsv")
        r = folio("transcribe", self.book, *audio(self.truth), "-o", out, "--threads", "1", "-q")
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out, "rb") as a, open(self.out, "rb") as b:
            self.assertEqual(a.read(), b.read())
        # Success removes the work file and its side files.
        self.assertFalse([n for n in os.listdir(WORK) if n.startswith("one.tsv.part")])

    def test_killed_run_resumes_without_decoding_a_chunk_twice(self):
        out = os.path.join(WORK, "killed.tsv")
        part = out + ".part"
        for path in (out, part, part + "-wal", part + "-shm", part + ".pcm"):
            if os.path.exists(path):
                os.remove(path)
        p = subprocess.Popen([FOLIO, "transcribe", self.book, *audio(self.truth), "-o", out, "-q",
                              "--threads", "1"])
        done = 0
        deadline = time.time() + 120
        while time.time() < deadline and done < 3:
            time.sleep(0.2)
            try:
                db = sqlite3.connect(f"file:{part}?mode=ro", uri=True, timeout=1)
                done = db.execute("SELECT count(*) FROM chunks WHERE words IS NOT NULL").fetchone()[0]
                db.close()
            except sqlite3.Error:
                pass
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertGreaterEqual(done, 3, "the run finished no chunk in time")
        self.assertFalse(os.path.exists(out))
        db = sqlite3.connect(part)
        before = db.execute("SELECT count(*) FROM chunks WHERE words IS NOT NULL").fetchone()[0]
        db.close()
        r = folio("transcribe", self.book, *audio(self.truth), "-o", out, "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        m = re.search(r"recognised (\d+) chunks in this run; (\d+) were finished by an earlier run",
                      r.stderr.decode())
        self.assertIsNotNone(m, r.stderr.decode()[-2000:])
        self.assertEqual(int(m.group(2)), before)
        self.assertGreater(before, 0)
        with open(out, "rb") as a, open(self.out, "rb") as b:
            self.assertEqual(a.read(), b.read())

    def test_changed_input_starts_afresh_and_restart_discards(self):
        out = os.path.join(WORK, "changed.tsv")
        part = out + ".part"
        # A finished part file from a run over other audio (just the first file).
        r = folio("transcribe", self.book, audio(self.truth)[0], "-o", out, "-q")
        self.assertEqual(r.returncode, 0)
        shutil.copy(os.path.join(ROOT, "tests", "corpora", "mini", "corpus.conf"), part)  # not ours
        r = folio("transcribe", self.book, audio(self.truth)[0], "-o", out, "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("were finished by an earlier run", r.stderr.decode())
        self.assertIn("; 0 were finished", r.stderr.decode())
        r = folio("transcribe", self.book, audio(self.truth)[0], "-o", out, "-v", "--restart")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("; 0 were finished", r.stderr.decode())

    def test_folders_and_playlists_expand_in_natural_order(self):
        d = os.path.join(WORK, "folder")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        a = audio(self.truth)
        os.symlink(a[1], os.path.join(d, "part 10.wav"))
        os.symlink(a[0], os.path.join(d, "part 2.wav"))
        with open(os.path.join(d, "list.m3u"), "w") as f:
            f.write("#EXTM3U\n# the playlist's own order\npart 10.wav\npart 2.wav\n")
        r = folio("transcribe", self.book, d, "-o", os.path.join(WORK, "folder.tsv"), "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertLess(err.index("part 2.wav"), err.index("part 10.wav"))
        r = folio("transcribe", self.book, os.path.join(d, "list.m3u"), "-o",
                  os.path.join(WORK, "list.tsv"), "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertLess(err.index("part 10.wav"), err.index("part 2.wav"))

    def test_m4b_with_chapter_atoms(self):
        out = os.path.join(WORK, "mini-m4b")
        shutil.rmtree(out, ignore_errors=True)
        r = subprocess.run([MKCORPUS, os.path.join(ROOT, "tests", "corpora", "mini-m4b"), out],
                           capture_output=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "truth.json")) as f:
            truth = json.load(f)
        self.assertEqual([a["path"] for a in truth["audio"]], ["book.m4b"])
        tsv = os.path.join(WORK, "m4b.tsv")
        r = folio("transcribe", os.path.join(out, "book.epub"), os.path.join(out, "book.m4b"),
                  "-o", tsv, "-v")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("(FFmpeg)", r.stderr.decode())
        words = rows(tsv)
        # The same accuracy as the WAV files: decoding honours AAC's encoder delay.
        starts = sorted(t for _, _, t, *_ in words)
        errors = []
        for tw in truth["words"]:
            if not tw["read"]:
                continue
            said = set(tw["said"].split())
            near = [t for w, f, t, *_ in words if w in said and abs(t - tw["file_time"]) < 0.5]
            if near:
                errors.append(min(abs(t - tw["file_time"]) for t in near))
        read = sum(1 for tw in truth["words"] if tw["read"])
        self.assertGreater(len(errors) / read, 0.85)
        self.assertGreater(sum(e <= 0.1 for e in errors) / len(errors), 0.95)
        self.assertTrue(starts)

    def test_bad_audio_fails_cleanly(self):
        out = os.path.join(WORK, "bad.tsv")
        missing = os.path.join(WORK, "absent.mp3")
        r = folio("transcribe", self.book, missing, "-o", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn(missing, r.stderr.decode())
        fake = os.path.join(WORK, "fake.mp3")
        with open(fake, "w") as f:
            f.write("not audio\n" * 100)
        r = folio("transcribe", self.book, fake, "-o", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("fake.mp3", r.stderr.decode())
        self.assertFalse(os.path.exists(out))
        r = folio("transcribe", self.book)
        self.assertEqual(r.returncode, 2)
        r = folio("transcribe", self.book, fake, "--threads", "0")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=[sys.argv[0]], verbosity=2)
