#!/usr/bin/env python3
"""CLI tests of hostile inputs on a small synthetic audiobook (mkcorpus "mini", indexed): index
files altered with plain SQLite (an audio name that is a path, a page in an audio file the index
does not have, an empty audio table, a timeline past the words) are refused with a message and
never crash a lookup or make an export write outside its folder; a FIFO as book or index is
refused instead of blocking; an audio folder without audio files is the right error; a full
standard output is a message and exit status 1, and so is a full disk under the audio cache,
named; a run stopped after writing its index and before renaming it resumes without recognition.

usage: test_hostile.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import glob
import os
import resource
import shutil
import signal
import stat
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
INDEX = os.path.join(WORK, "mini.folio")
# A FIFO blocks its reader until a writer comes: a hang must fail the test, not stall the suite.
TIMEOUT = 60
# Indexing the mini book (recognition and alignment) takes longer, most under the sanitizers.
INDEX_TIMEOUT = 600


def folio(*args, timeout=TIMEOUT, **kw):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=timeout, **kw)


def altered(name, sql):
    """A copy of the mini index named @name in WORK, with @sql run on it."""
    path = os.path.join(WORK, name)
    shutil.copyfile(INDEX, path)
    db = sqlite3.connect(path)
    db.executescript(sql)
    db.commit()
    db.close()
    return path


class Hostile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, INDEX)
        cls.book = os.path.join(CORPUS, "book.epub")

    def refused(self, r, path, what):
        """@r failed with exit status 1 (not a signal) and a message naming @path and @what."""
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 1, err)
        self.assertIn(path, err)
        self.assertIn(what, err)

    def test_vtt_export_never_writes_outside_its_folder(self):
        out = os.path.join(WORK, "vtt", "deep", "out")
        os.makedirs(out)
        for name in ("../../escaped.mp3", "../escaped.mp3", "..", "."):
            ix = altered("path.folio", f"UPDATE audio SET path = '{name}' WHERE idx = 0;")
            r = folio("export", ix, "--format", "vtt", "-o", out)
            self.refused(r, ix, "is not a file name")
            for d in (out, os.path.dirname(out), os.path.dirname(os.path.dirname(out)), WORK):
                self.assertFalse(os.path.exists(os.path.join(d, "escaped.vtt")), d)
        # The good index writes one file per audio file, in the folder and nowhere else.
        r = folio("export", INDEX, "--format", "vtt", "-o", out)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertTrue(os.listdir(out))
        self.assertEqual(os.listdir(os.path.dirname(out)), ["out"])

    def test_lookups_in_a_damaged_index_fail_with_a_message(self):
        cases = [
            ("nofile.folio", "UPDATE pages SET file = (SELECT count(*) FROM audio)"
             " WHERE start_time IS NOT NULL;", ["--page", "1"], "file is"),
            ("noaudio.folio", "DELETE FROM audio;", ["--ordinal", "1"], "the audio table is empty"),
            ("timeline.folio", "UPDATE lookup SET data = CAST(data || X'ffffff7f' AS BLOB)"
             " WHERE name = 'timeline';", ["--time", "1"], "\"timeline\""),
            ("view.folio", "DROP TABLE pages; CREATE VIEW pages(ordinal, label, start_char, "
             "start_time, end_time, file, file_time, confidence) AS WITH RECURSIVE n(x) AS "
             "(SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x, 'p', 0, NULL, NULL, NULL, NULL, 0 "
             "FROM n;", ["--page", "1"], "view"),
        ]
        for name, sql, how, what in cases:
            ix = altered(name, sql)
            self.refused(folio("lookup", ix, *how), ix, what)
            self.refused(folio("export", ix, "--format", "json"), ix, what)

    def test_a_fifo_is_refused_without_blocking(self):
        fifo = os.path.join(WORK, "fifo.epub")
        os.mkfifo(fifo)
        self.refused(folio("book", fifo, "--text"), fifo, "a FIFO, not a book file")
        self.refused(folio("book", fifo, "--format", "txt"), fifo, "a FIFO, not a book file")
        self.refused(folio("export", fifo, "--format", "json"), fifo, "a FIFO, not a Folio index")
        self.refused(folio("lookup", fifo, "--page", "1"), fifo, "a FIFO, not a Folio index")

    def test_an_audio_folder_without_audio_is_the_right_error(self):
        empty = os.path.join(WORK, "no-audio")
        os.makedirs(empty)
        with open(os.path.join(empty, "notes.txt"), "w") as f:
            f.write("not audio\n")
        r = folio("index", self.book, empty, "-o", os.path.join(WORK, "none.folio"))
        self.refused(r, empty, "no audio files in the folder")
        self.assertNotIn("runtime error", r.stderr.decode())  # UBSan, in sanitized builds

    def test_a_full_disk_while_the_audio_cache_is_written_names_the_file(self):
        # A file size limit (SIGXFSZ ignored, so writes past it fail with EFBIG) stands in for a
        # full disk: the work file and the models fit, the audio cache does not.
        def limit():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, 2 << 20))

        out = os.path.join(WORK, "full", "out.folio")
        os.makedirs(os.path.dirname(out))
        audio = sorted(glob.glob(os.path.join(CORPUS, "*.wav")))
        r = folio("index", self.book, *audio, "-o", out, preexec_fn=limit, timeout=INDEX_TIMEOUT)
        self.refused(r, out + ".part.pcm", "cannot write the audio cache")
        self.assertIn("File too large", r.stderr.decode())
        self.assertIn(audio[0], r.stderr.decode())
        self.assertFalse(os.path.exists(out))

    def test_a_run_stopped_before_the_rename_resumes_without_recognition(self):
        # The output name becomes a folder with a file in it once the run has started (the
        # output is checked before any work), so the final rename fails: the state of a run
        # killed after the index was written and before it was moved into place.
        out = os.path.join(WORK, "rename", "out.folio")
        os.makedirs(os.path.dirname(out))
        audio = sorted(glob.glob(os.path.join(CORPUS, "*.wav")))
        p = subprocess.Popen([FOLIO, "index", self.book, *audio, "-o", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        part = out + ".part"
        deadline = time.time() + INDEX_TIMEOUT
        while not os.path.exists(part) and p.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        os.makedirs(os.path.join(out, "in-the-way"))
        stdout, stderr = p.communicate(timeout=INDEX_TIMEOUT)
        r = subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr)
        self.refused(r, out, "will not replace it")
        shutil.rmtree(out)
        r = folio("index", self.book, *audio, "-o", out, "-v", timeout=INDEX_TIMEOUT)
        err = r.stderr.decode()
        self.assertEqual(r.returncode, 0, err)
        self.assertIn("resuming the work of an earlier run", err)
        self.assertRegex(err, r"recognised 0 chunks in this run; [1-9]\d* were finished")
        with open(out, "rb") as a, open(INDEX, "rb") as b:
            self.assertEqual(a.read(), b.read(), "the resumed run's index differs")
        self.assertEqual(sorted(os.listdir(os.path.dirname(out))), ["out.folio"])

    def test_an_output_that_is_a_device_is_written_and_never_replaced(self):
        # "-o /dev/null" must not turn /dev/null into a file: a device of our own stands in.
        dev = os.path.join(WORK, "null-device")
        if os.path.lexists(dev):
            os.remove(dev)
        try:
            os.mknod(dev, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            self.skipTest("cannot make a device node here")
        for args in (["export", INDEX, "--format", "json", "-o", dev],
                     ["export", INDEX, "--format", "csv", "-o", dev]):
            r = folio(*args)
            self.assertEqual(r.returncode, 0, (args, r.stderr.decode()))
            self.assertTrue(stat.S_ISCHR(os.stat(dev).st_mode), args)
        audio = sorted(glob.glob(os.path.join(CORPUS, "*.wav")))
        r = folio("export", INDEX, "--format", "epub", "--book", self.book, "-o", dev, "-q")
        self.refused(r, dev, "will not replace it")
        self.assertTrue(stat.S_ISCHR(os.stat(dev).st_mode))
        self.assertTrue(audio)
        self.assertFalse([n for n in os.listdir(WORK) if n.startswith("null-device.")])

    def test_a_full_standard_output_is_a_message_and_status_1(self):
        for args in (["book", self.book, "--text"], ["book", self.book, "--json"],
                     ["book", self.book], ["export", INDEX, "--format", "json"],
                     ["export", INDEX, "--format", "csv"], ["lookup", INDEX, "--page", "1"],
                     ["lookup", INDEX, "--time", "1.5"], ["lookup", INDEX, "--page", "no-such"]):
            with open("/dev/full", "wb") as full:
                r = subprocess.run([FOLIO, *args], stdout=full, stderr=subprocess.PIPE,
                                   timeout=TIMEOUT)
            err = r.stderr.decode()
            self.assertEqual(r.returncode, 1, args)
            self.assertIn("writing to standard output failed: No space left on device", err, args)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
