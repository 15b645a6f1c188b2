#!/usr/bin/env python3
"""CLI tests of `folio transcribe` on a small synthetic audiobook built by mkcorpus: words land
near their true times, any number of threads gives the same output, a killed run resumes without
decoding a finished chunk twice, changed inputs start afresh, folders and playlists expand in
natural order, M4B chapter marks are read, a run without -o resumes from a work file named by its
inputs, and bad audio fails cleanly or is decoded around the damage with a warning.

usage: test_transcribe.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import struct
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


def has_ffmpeg_cli():
    return shutil.which("ffmpeg") is not None


def rows(path):
    out = []
    for line in open(path, encoding="utf-8"):
        w, f, t, e, g, c = line.rstrip("\n").split("\t")
        out.append((w, int(f), float(t), float(e), float(g), float(c)))
    return out



def finished_chunks(part, otherwise):
    """How many chunks a running transcription's work file holds finished (@otherwise while it
    cannot be read)."""
    try:
        db = sqlite3.connect(f"file:{part}?mode=ro", uri=True, timeout=1)
        n = db.execute("SELECT count(*) FROM chunks WHERE words IS NOT NULL").fetchone()[0]
        db.close()
        return n
    except sqlite3.Error:
        return otherwise

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
        # Whether this folio reads MP4 (and MP3) through FFmpeg: a file that is an MP4 by content
        # gets a message saying so when it does not.
        probe = os.path.join(WORK, "probe.m4b")
        with open(probe, "wb") as f:
            f.write(b"\0\0\0\x20ftypM4B \0\0\0\0" + bytes(64))
        r = folio("transcribe", cls.book, probe, "-o", os.path.join(WORK, "probe.tsv"))
        cls.ffmpeg = b"built without FFmpeg" not in r.stderr

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
            done = finished_chunks(part, done)
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
        if not self.ffmpeg:
            self.assertIn(b"built without FFmpeg", r.stderr)
            self.skipTest("folio is built without FFmpeg")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertIn("(FFmpeg)", err)
        # The chapter marks (one per chapter of the corpus, the first at the start) are read.
        marks = re.findall(r"book\.m4b: chapter mark (\d+) at ([0-9.]+) s: (.+)", err)
        self.assertEqual([int(m[0]) for m in marks], [1, 2], err[-2000:])
        self.assertEqual(float(marks[0][1]), 0.0)
        self.assertGreater(float(marks[1][1]), 10.0)
        self.assertTrue(all(m[2].strip() for m in marks))
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
        # It failed before any work: no word of a work file that does not exist.
        self.assertNotIn("kept in", r.stderr.decode())
        self.assertFalse(os.path.exists(out + ".part"))
        # A WAV in a codec nobody decodes (format tag 0x1234).
        odd = os.path.join(WORK, "odd-codec.wav")
        with open(odd, "wb") as f:
            data = bytes(3200)
            fmt = struct.pack("<HHIIHH", 0x1234, 1, 16000, 32000, 2, 16)
            body = b"WAVEfmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + \
                struct.pack("<I", len(data)) + data
            f.write(b"RIFF" + struct.pack("<I", len(body)) + body)
        r = folio("transcribe", self.book, odd, "-o", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("odd-codec.wav", r.stderr.decode())
        if self.ffmpeg:
            self.assertIn("unsupported audio codec", r.stderr.decode())
        # A file this user may not read (root may read anything).
        if os.geteuid() != 0:
            locked = os.path.join(WORK, "locked.wav")
            shutil.copy(audio(self.truth)[0], locked)
            os.chmod(locked, 0)
            r = folio("transcribe", self.book, locked, "-o", out)
            os.chmod(locked, 0o644)
            self.assertEqual(r.returncode, 1)
            self.assertIn("locked.wav", r.stderr.decode())
            self.assertIn("ermission denied", r.stderr.decode())
        r = folio("transcribe", self.book)
        self.assertEqual(r.returncode, 2)
        r = folio("transcribe", self.book, fake, "--threads", "0")
        self.assertEqual(r.returncode, 2)

    def test_silence_gives_a_warning_and_no_words(self):
        import wave
        silence = os.path.join(WORK, "silence.wav")
        with wave.open(silence, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(bytes(2 * 16000 * 4))
        out = os.path.join(WORK, "silence.tsv")
        r = folio("transcribe", self.book, silence, "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("silence.wav: no speech found", r.stderr.decode())
        self.assertEqual(os.path.getsize(out), 0)

    def test_damaged_mp3_keeps_the_audio_after_the_damage_quietly(self):
        if not has_ffmpeg_cli():
            self.skipTest("no ffmpeg to make an MP3")
        src = audio(self.truth)[0]
        mp3 = os.path.join(WORK, "whole.mp3")
        r = subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", src, "-c:a", "libmp3lame",
                            "-b:a", "64k", mp3], capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(mp3, "rb") as f:
            data = f.read()
        rnd = random.Random(5)
        garbage = bytes(rnd.randrange(256) for _ in range(4000))
        damaged = os.path.join(WORK, "damaged.mp3")
        with open(damaged, "wb") as f:
            f.write(data[:len(data) // 2] + garbage + data[len(data) // 2:])
        out = os.path.join(WORK, "damaged.tsv")
        # Quiet: nothing on stderr but Folio's own lines (neither FFmpeg nor mpg123 print).
        r = folio("transcribe", self.book, damaged, "-o", out, "-q", "--threads", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        if not self.ffmpeg:
            # libsndfile's mpg123 stops at the damage (and prints): a warning is all we ask.
            r = folio("transcribe", self.book, damaged, "-o", out, "--threads", "2")
            self.assertRegex(r.stderr.decode(), r"folio: warning: .*damaged\.mp3: ")
            self.skipTest("folio is built without FFmpeg")
        stray = [ln for ln in r.stderr.decode().splitlines() if not ln.startswith("folio:")]
        self.assertEqual(stray, [])
        duration = self.truth["audio"][0]["duration"]
        words = rows(out)
        self.assertGreater(max(t for _, _, t, *_ in words), 0.8 * duration)
        # Words after the damage are where they belong: those of the undamaged file's run, within
        # the few frames the damage took with it.
        clean = os.path.join(WORK, "clean.tsv")
        r = folio("transcribe", self.book, mp3, "-o", clean, "-q", "--threads", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        late = [(w, t) for w, _, t, *_ in rows(clean) if t > 0.6 * duration]
        found = sum(any(w2 == w and abs(t2 - t) < 0.15 for w2, _, t2, *_ in words)
                    for w, t in late)
        self.assertGreater(found / len(late), 0.8)
        # Not quiet: a warning naming the file and where the damage is.
        r = folio("transcribe", self.book, damaged, "-o", out, "--threads", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        self.assertRegex(err, r"folio: warning: .*damaged\.mp3: (damaged|corrupt) audio at \d")
        # Cut in half: a warning that the file ends before its header says.
        half = os.path.join(WORK, "half.mp3")
        with open(half, "wb") as f:
            f.write(data[:len(data) // 2])
        r = folio("transcribe", self.book, half, "-o", out, "--threads", "2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stderr.decode(), r"folio: warning: .*half\.mp3: .*truncated")

    def test_without_output_the_work_file_is_found_again_and_removed(self):
        tmp = os.path.join(WORK, "tmpdir")
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        env = dict(os.environ, TMPDIR=tmp)
        first = audio(self.truth)[0]
        p = subprocess.Popen([FOLIO, "transcribe", self.book, first, "-q", "--threads", "1"],
                             env=env, stdout=subprocess.DEVNULL)
        done, part = 0, None
        deadline = time.time() + 120
        while time.time() < deadline and done < 2:
            time.sleep(0.2)
            parts = [n for n in os.listdir(tmp) if n.endswith(".part")]
            if not parts:
                continue
            part = os.path.join(tmp, parts[0])
            done = finished_chunks(part, done)
        p.send_signal(signal.SIGKILL)
        p.wait()
        self.assertGreaterEqual(done, 2, "the run finished no chunk in time")
        # The same command again (from another folder, by a relative path) resumes that work,
        # reports progress to the end, and removes the work file when done.
        rel = os.path.relpath(first, WORK)
        r = subprocess.run([FOLIO, "transcribe", self.book, rel, "-v", "--threads", "1"],
                           env=env, cwd=WORK, capture_output=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr)
        err = r.stderr.decode()
        m = re.search(r"; (\d+) were finished by an earlier run", err)
        self.assertIsNotNone(m, err[-2000:])
        self.assertGreaterEqual(int(m.group(1)), 2)
        self.assertIn("folio: recognising 100%", err)
        self.assertEqual(os.listdir(tmp), [])
        self.assertGreater(len(r.stdout.splitlines()), 20)


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=[sys.argv[0]], verbosity=2)
