#!/usr/bin/env python3
"""Tests of `folio serve` through a real socket on 127.0.0.1: every endpoint against the mini
corpus's truth, percent-encoded paths, every error status (400, 404, 405, 413, 415, 422, 500),
many requests at once, the access log, and a graceful stop on SIGTERM.

usage: test_serve.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
BOOKS = os.path.join(WORK, "books")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(BOOKS)
        index = os.path.join(BOOKS, "mini.folio")
        cls.truth = minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, index)
        # A second book id for the same index, with a space and a non-ASCII letter.
        shutil.copy(index, os.path.join(BOOKS, "mini copy é.folio"))
        # A book whose index cannot be opened.
        with open(os.path.join(BOOKS, "broken.folio"), "wb") as f:
            f.write(b"not an index at all\n" * 100)
        cls.port = free_port()
        cls.log = open(os.path.join(WORK, "access.log"), "w+")
        cls.server = subprocess.Popen([FOLIO, "serve", "--port", str(cls.port), "--threads", "4",
                                       "--cache", "1", BOOKS], stderr=cls.log)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", cls.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        if cls.server.poll() is None:
            cls.server.kill()
            cls.server.wait(timeout=10)
        cls.log.close()

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        doc = json.loads(data) if data else None
        if data:
            self.assertEqual(r.getheader("Content-Type"), "application/json")
        return r.status, doc

    def test_health_and_books(self):
        self.assertEqual(self.request("GET", "/healthz"), (200, {"status": "ok", "books": 3}))
        status, doc = self.request("GET", "/v1/books")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(b["id"] for b in doc["books"]), ["broken", "mini", "mini copy é"])
        status, doc = self.request("GET", "/v1/books/mini")
        self.assertEqual(status, 200)
        self.assertEqual(doc["pages"], len(self.truth["pages"]))
        self.assertEqual([a["path"] for a in doc["audio"]],
                         [a["path"] for a in self.truth["audio"]])
        status, doc = self.request("GET", "/v1/books/" + urllib.parse.quote("mini copy é"))
        self.assertEqual(status, 200)

    def test_pages(self):
        for p in self.truth["pages"]:
            status, doc = self.request("GET", "/v1/books/mini/pages/" +
                                       urllib.parse.quote(p["label"]))
            self.assertEqual(status, 200)
            m = doc["match"]
            self.assertEqual(m["page"]["label"], p["label"])
            if p["time"] is None:
                self.assertIsNone(m["time"])
            else:
                self.assertEqual(m["file"], p["file"])
                self.assertLess(abs(m["file_time"] - p["file_time"]), 0.5)

    def test_percent_encoded_paths(self):
        # Every byte of the label escaped, in upper and lower case hex: the same page.
        label = self.truth["pages"][2]["label"]
        for hexdigits in ("%%%02X", "%%%02x"):
            path = "".join(hexdigits % b for b in label.encode())
            status, doc = self.request("GET", "/v1/books/mini/pages/" + path)
            self.assertEqual(status, 200, path)
            self.assertEqual(doc["match"]["page"]["label"], label)
        # Decoded once: "%2533" is the label "%33", not "3"; a '+' is a plus, not a space.
        for raw, label in (("%2533", "%33"), ("3+", "3+"), ("3%2B", "3+"), ("3%20", "3 ")):
            status, doc = self.request("GET", "/v1/books/mini/pages/" + raw)
            self.assertEqual(status, 404, raw)
            self.assertEqual(doc["error"]["message"], f'no page labelled "{label}"')
        # Malformed escapes and an escaped NUL, in the label or the book id.
        for path in ("/v1/books/mini/pages/%zz", "/v1/books/mini/pages/3%4",
                     "/v1/books/mini/pages/%", "/v1/books/mini/pages/%:0",
                     "/v1/books/mini/pages/3%00", "/v1/books/mini%2/pages/3"):
            status, doc = self.request("GET", path)
            self.assertEqual(status, 400, path)
            self.assertEqual(doc["error"], {"code": "bad_parameter",
                                            "message": "bad percent-encoding"}, path)

    def test_position(self):
        words = [w for w in self.truth["words"] if w["read"] and w["file_time"] is not None]
        for w in words[::101]:
            t = (w["time"] + w["end_time"]) / 2
            status, doc = self.request("GET", f"/v1/books/mini/position?t={t:.3f}")
            self.assertEqual(status, 200)
            self.assertEqual(doc["match"]["page"]["label"], w["page"])
            ft = (w["file_time"] + w["end_file_time"]) / 2
            status, doc = self.request("GET", f"/v1/books/mini/position?file={w['file']}&t={ft}")
            self.assertEqual(status, 200)
            self.assertEqual(doc["match"]["page"]["label"], w["page"])

    def test_match(self):
        page = [w for w in self.truth["words"] if w["page"] == "3"]
        text = " ".join(w["text"] for w in page)
        first = next(w for w in page if w["read"])
        status, doc = self.request("POST", "/v1/books/mini/match", text.encode(),
                                   {"Content-Type": "text/plain; charset=utf-8"})
        self.assertEqual(status, 200)
        self.assertEqual(doc["match"]["page"]["label"], "3")
        self.assertLess(abs(doc["match"]["file_time"] - first["file_time"]), 2)
        body = json.dumps({"text": text, "current_time": first["time"]})
        status, doc = self.request("POST", "/v1/books/mini/match", body.encode(),
                                   {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual(doc["pages_to_flip"], 0)
        status, doc = self.request("POST", "/v1/books/mini/match",
                                   b"Colourless green ideas sleep furiously while the quick "
                                   b"brown fox jumps over the lazy dog again and again",
                                   {"Content-Type": "text/plain"})
        self.assertEqual(status, 200)
        self.assertIsNone(doc["match"])

    def test_errors(self):
        cases = [
            ("GET", "/nope", None, {}, 404),
            ("GET", "/v1/books/nope", None, {}, 404),
            ("GET", "/v1/books/mini/pages/no-such-page", None, {}, 404),
            ("GET", "/v1/books/mini/position", None, {}, 400),
            ("GET", "/v1/books/mini/position?t=abc", None, {}, 400),
            ("GET", "/v1/books/mini/position?t=99999", None, {}, 400),
            ("GET", "/v1/books/mini/position?t=1&file=9", None, {}, 400),
            ("DELETE", "/v1/books/mini", None, {}, 405),
            ("POST", "/healthz", b"x", {"Content-Type": "text/plain"}, 405),
            ("GET", "/v1/books/mini/match", None, {}, 405),
            ("POST", "/v1/books/mini/match", b"x" * (65 * 1024), {"Content-Type": "text/plain"},
             413),
            ("POST", "/v1/books/mini/match", b"\x89PNG", {"Content-Type": "image/png"}, 415),
            ("POST", "/v1/books/mini/match", b"The ledger was \xff\xfe not his own invention",
             {"Content-Type": "text/plain"}, 422),
            ("POST", "/v1/books/mini/match", b'{"txt": 1}', {"Content-Type": "application/json"},
             400),
            ("POST", "/v1/books/mini/match", b"{not json", {"Content-Type": "application/json"},
             400),
            ("GET", "/v1/books/broken", None, {}, 500),
            ("GET", "/v1/books/broken/pages/3", None, {}, 500),
        ]
        for method, path, body, headers, expect in cases:
            status, doc = self.request(method, path, body, headers)
            self.assertEqual(status, expect, f"{method} {path}")
            self.assertIn("error", doc, f"{method} {path}")
            self.assertTrue(doc["error"]["message"])

    def test_many_requests_at_once(self):
        # Two books through a cache of one index: handles open and close under load.
        results = []

        def worker(k):
            book = "mini" if k % 2 else urllib.parse.quote("mini copy é")
            for _ in range(10):
                results.append(self.request("GET", f"/v1/books/{book}/pages/3")[0])

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 160)

    def test_zz_access_log_and_graceful_stop(self):
        self.assertEqual(self.request("GET", "/healthz")[0], 200)
        self.server.send_signal(signal.SIGTERM)
        self.assertEqual(self.server.wait(timeout=20), 0)
        self.log.seek(0)
        lines = self.log.read().splitlines()
        self.assertTrue(any(" GET /healthz 200 " in line for line in lines), lines[-5:])
        self.assertTrue(any(" DELETE /v1/books/mini 405 " in line for line in lines))
        # Why an index cannot be opened goes to the log (it names the server's file), not to
        # the client.
        self.assertTrue(any("broken.folio: not a Folio index" in line for line in lines))
        # Requests still completing when the signal came may log after "stopping"; nothing logs
        # after "stopped".
        self.assertTrue(any("stopping" in line for line in lines), lines[-5:])
        self.assertIn("stopped", lines[-1])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
