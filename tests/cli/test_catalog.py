#!/usr/bin/env python3
"""CLI tests of `folio catalog` without a cluster: a library folder scanned into a manifest (the
folders skipped are told), every book of it indexed through GNU parallel, each index identical to
a plain `folio index` of that book, the broken and the foreign books failed permanently with their
class, a second run doing nothing, `catalog status` saying all of it; a task whose book another
task holds is told to retry; a manifest's bad lines fail only themselves; the Kubernetes Indexed
Job's command run as its pods would run it.

usage: test_catalog.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import catalogfixture as fx  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
RETRY, PERMANENT = 75, 65


def folio(*args, **kw):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=900, **kw)


def status(manifest):
    r = folio("catalog", "status", manifest, "--json")
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


class Catalog(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        os.makedirs(WORK, exist_ok=True)
        cls.truth, cls.lib = fx.build_library(MKCORPUS, ROOT, WORK)
        cls.plain = fx.plain_exports(FOLIO, cls.lib, WORK)

    def scan(self, name):
        d = os.path.join(WORK, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        manifest = os.path.join(d, "catalog.tsv")
        r = folio("catalog", "scan", self.lib, "-o", manifest)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        return manifest, r.stderr.decode()

    def test_scan_lists_each_book_folder_and_tells_what_it_skipped(self):
        manifest, err = self.scan("scan")
        with open(manifest) as f:
            rows = [line.rstrip("\n").split("\t") for line in f if not line.startswith("#")]
        self.assertEqual(rows[0], ["id", "book", "output", "audio"])
        self.assertEqual([r[0] for r in rows[1:]], [b[0] for b in fx.BOOKS])
        # Paths are relative to the manifest's folder; the disc folders in order.
        text = rows[2]
        self.assertEqual(text[1], "../library/Ada Byrne/The Mini Book in Text/book.txt")
        self.assertEqual(text[3:], ["../library/Ada Byrne/The Mini Book in Text/CD 1",
                                    "../library/Ada Byrne/The Mini Book in Text/CD 2"])
        self.assertEqual(rows[1][3:], ["../library/Ada Byrne/The Mini Book"])
        self.assertIn("Other/No Audio: a book but no audio", err)
        self.assertIn("4 books (1 folder skipped)", err)
        # JSON Lines as well, with the same books.
        jl = os.path.join(WORK, "scan", "catalog.jsonl")
        r = folio("catalog", "scan", self.lib, "-o", jl)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(jl) as f:
            lines = [json.loads(line) for line in f]
        self.assertEqual([x["id"] for x in lines], [b[0] for b in fx.BOOKS])
        self.assertEqual(lines[1]["audio"], text[3:])

    def test_gnu_parallel_indexes_the_catalog_once_and_a_second_run_does_nothing(self):
        if not shutil.which("parallel"):
            self.skipTest("GNU parallel is not installed")
        manifest, _ = self.scan("parallel")
        line = "%s catalog tasks %s | parallel -j 2 %s catalog run %s --task {} -q" % (
            FOLIO, manifest, FOLIO, manifest)
        r = subprocess.run(line, shell=True, capture_output=True, timeout=1800)
        # GNU parallel exits with the number of failed tasks: the broken and the foreign book.
        self.assertEqual(r.returncode, 2, r.stderr.decode())
        st = status(manifest)
        states = {b["id"]: (b["state"], b.get("class")) for b in st["book_states"]}
        self.assertEqual(states, {b[0]: (b[1], b[2]) for b in fx.BOOKS})
        self.assertEqual(st["counts"]["done"], 2)
        self.assertEqual(st["failed"], {"bad_book": 1, "not_this_book": 1})
        for b in st["book_states"]:
            self.assertEqual(b["exit"], 0 if b["state"] == "done" else PERMANENT)
            self.assertEqual(b["needs_person"], b["state"] == "failed")
        outdir = os.path.join(os.path.dirname(manifest), "indexes")
        self.assertEqual(sorted(os.listdir(outdir)), sorted(b[0] + ".folio" for b in fx.BOOKS[:2]))
        for id_ in (fx.BOOKS[0][0], fx.BOOKS[1][0]):
            self.assertEqual(fx.export(FOLIO, os.path.join(outdir, id_ + ".folio")),
                             self.plain[id_], id_)
        # The record has what an operator needs.
        done = [b for b in st["book_states"] if b["state"] == "done"][0]
        audio_hours = sum(a["duration"] for a in self.truth["audio"]) / 3600
        self.assertAlmostEqual(done["audio_hours"], audio_hours, delta=0.01)
        for k in ("wall_seconds", "cpu_seconds", "peak_rss_mb", "x_real_time"):
            self.assertGreater(done[k], 0, k)
        self.assertGreater(done["report"]["words_read"], 0)
        self.assertAlmostEqual(st["audio_hours"], 2 * audio_hours, delta=0.02)
        # Again: nothing to do, nothing written.
        mtimes = {n: os.stat(os.path.join(outdir, n)).st_mtime_ns for n in os.listdir(outdir)}
        for t in (0, 1):
            r = folio("catalog", "run", manifest, "--task", str(t))
            self.assertEqual(r.returncode, 0, r.stderr.decode())
            self.assertIn("already indexed from these inputs", r.stderr.decode())
        self.assertEqual(mtimes, {n: os.stat(os.path.join(outdir, n)).st_mtime_ns
                                  for n in os.listdir(outdir)})
        # A changed input makes the book pending again.
        book = os.path.join(self.lib, "Ada Byrne", "The Mini Book in Text", "book.txt")
        os.utime(book)
        self.assertEqual([b["state"] for b in status(manifest)["book_states"]][:2],
                         ["done", "pending"])
        table = folio("catalog", "status", manifest)
        self.assertEqual(table.returncode, 0)
        self.assertIn("needs a person", table.stdout.decode())
        self.assertIn("bad_book", table.stdout.decode())

    def test_a_book_another_task_holds_is_left_to_retry(self):
        manifest, _ = self.scan("locked")
        state = os.path.join(os.path.dirname(manifest), "catalog.status")
        os.makedirs(state)
        with open(os.path.join(state, fx.BOOKS[0][0] + ".lock"), "w") as f:
            fcntl.fcntl(f, getattr(fcntl, "F_OFD_SETLK", 37),
                        b"\x01\x00" + b"\x00" * 30)  # F_WRLCK, whole file (struct flock)
            r = folio("catalog", "run", manifest, "--task", "0")
            self.assertEqual(r.returncode, RETRY, r.stderr.decode())
            self.assertIn("another task is indexing this book now", r.stderr.decode())
            self.assertEqual(status(manifest)["book_states"][0]["state"], "running")
        self.assertFalse(os.path.exists(os.path.join(os.path.dirname(manifest), "indexes",
                                                     fx.BOOKS[0][0] + ".folio")))

    def test_bad_manifest_lines_fail_only_themselves(self):
        d = os.path.join(WORK, "badlines")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        manifest = os.path.join(d, "catalog.tsv")
        with open(manifest, "w") as f:
            f.write("id\tbook\toutput\taudio\n"
                    "twice\ta.epub\t\ta\n"
                    "bad/id\ta.epub\t\ta\n"
                    "twice\tb.epub\t\tb\n"
                    "gone\tnowhere.epub\t\tnowhere\n"
                    "short\ta.epub\n")
        expect = [(0, "the id 'twice' is used twice"), (1, "the id 'bad/id' is not a name"),
                  (2, "the id 'twice' is used twice"), (3, "nowhere"),
                  (4, "a line needs id, book, output")]
        for task, msg in expect:
            r = folio("catalog", "run", manifest, "--task", str(task))
            self.assertEqual(r.returncode, PERMANENT, (task, r.stderr.decode()))
            self.assertIn(msg, r.stderr.decode())
        st = status(manifest)
        self.assertEqual(st["counts"]["failed"], 5)
        self.assertEqual(st["failed"], {"manifest": 4, "missing_input": 1})
        r = folio("catalog", "run", manifest, "--task", "5")
        self.assertEqual(r.returncode, 2)
        self.assertIn("tasks 0 to 4", r.stderr.decode())
        not_manifest = os.path.join(d, "notes.tsv")
        with open(not_manifest, "w") as f:
            f.write("these are my notes\n")
        r = folio("catalog", "run", not_manifest, "--task", "0")
        self.assertEqual(r.returncode, PERMANENT)
        self.assertIn("notes.tsv:1: not a catalog manifest", r.stderr.decode())

    def test_task_number_comes_from_the_scheduler(self):
        manifest, _ = self.scan("env")
        env = dict(os.environ)
        env.pop("SLURM_ARRAY_TASK_ID", None)
        env.pop("JOB_COMPLETION_INDEX", None)
        r = folio("catalog", "run", manifest, env=env)
        self.assertEqual(r.returncode, 2)
        self.assertIn("give --task N", r.stderr.decode())
        # The Kubernetes Indexed Job's own command, as a pod of index 2 runs it (the broken book).
        with open(os.path.join(ROOT, "tools", "catalog", "folio-catalog-job.yaml")) as f:
            job = yaml.safe_load(f)
        self.assertEqual(job["spec"]["completionMode"], "Indexed")
        rules = job["spec"]["podFailurePolicy"]["rules"]
        self.assertIn(PERMANENT, rules[0]["onExitCodes"]["values"])
        command = job["spec"]["template"]["spec"]["containers"][0]["command"]
        self.assertEqual(command[:3], ["folio", "catalog", "run"])
        args = [FOLIO] + [manifest if a.endswith("catalog.tsv") else a for a in command[1:]]
        r = subprocess.run(args, capture_output=True, timeout=600,
                           env=dict(env, JOB_COMPLETION_INDEX="2"))
        self.assertEqual(r.returncode, PERMANENT, r.stderr.decode())
        self.assertEqual(status(manifest)["book_states"][2]["class"], "bad_book")
        r = subprocess.run(args, capture_output=True, timeout=600,
                           env=dict(env, SLURM_ARRAY_TASK_ID="x"))
        self.assertEqual(r.returncode, 2)

    def test_slurm_options_come_from_the_longest_book(self):
        manifest, _ = self.scan("plan")
        r = folio("catalog", "tasks", manifest, "--slurm", "--throttle", "3", "--threads", "2")
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        opts = r.stdout.decode().split()
        self.assertEqual(opts[0], "--array=0-3%3")
        self.assertIn("--cpus-per-task=2", opts)
        # WAV: its header's byte rate gives its length: well under an hour, so the floor values.
        self.assertIn("--mem=512M", opts)
        self.assertIn("--time=16", opts)
        r = folio("catalog", "tasks", manifest)
        self.assertEqual(r.stdout.decode().split(), ["0", "1", "2", "3"])


class ServeCatalog(unittest.TestCase):
    """folio serve over a growing catalog: indexes that appear are found, the list is paged."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(WORK, exist_ok=True)
        _, lib = fx.build_library(MKCORPUS, ROOT, WORK)
        cls.plain = fx.plain_exports(FOLIO, lib, WORK)

    def get(self, port, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def test_new_indexes_are_served_and_the_book_list_is_paged(self):
        d = os.path.join(WORK, "served")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        index = os.path.join(WORK, "plain-" + fx.BOOKS[0][0] + ".folio")
        shutil.copy(index, os.path.join(d, "a.folio"))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        p = subprocess.Popen([FOLIO, "serve", "--port", str(port), d], stderr=subprocess.PIPE)
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if self.get(port, "/healthz")[0] == 200:
                        break
                except OSError:
                    time.sleep(0.2)
            self.assertEqual(self.get(port, "/v1/books")[1]["total"], 1)
            # An index copied in after the start is found by the first request for it.
            shutil.copy(index, os.path.join(d, "b.folio.tmp"))
            os.rename(os.path.join(d, "b.folio.tmp"), os.path.join(d, "b.folio"))
            st, body = self.get(port, "/v1/books/b/pages/1")
            self.assertEqual(st, 200, body)
            # SIGHUP: looked for at once.
            for name in ("c", "d", "e"):
                shutil.copy(index, os.path.join(d, name + ".folio"))
            p.send_signal(signal.SIGHUP)
            deadline = time.time() + 30
            while time.time() < deadline and self.get(port, "/healthz")[1]["books"] < 5:
                time.sleep(0.2)
            st, body = self.get(port, "/v1/books?limit=2")
            self.assertEqual(st, 200)
            self.assertEqual(([b["id"] for b in body["books"]], body["total"], body["next"]),
                             (["a", "b"], 5, 2))
            st, body = self.get(port, "/v1/books?offset=4&limit=2")
            self.assertEqual(([b["id"] for b in body["books"]], body["next"]), (["e"], None))
            self.assertEqual(self.get(port, "/v1/books?limit=0")[0], 400)
            self.assertEqual(self.get(port, "/v1/books?offset=-1")[0], 400)
            self.assertEqual(self.get(port, "/v1/books/nothere")[0], 404)
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err.decode()[-2000:])
        self.assertIn("SIGHUP: 3 new books, 5 in all", err.decode())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
