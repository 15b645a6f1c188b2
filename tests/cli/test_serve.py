#!/usr/bin/env python3
"""Tests of `folio serve` through a real socket on 127.0.0.1: every endpoint against the mini
corpus's truth, percent-encoded paths, every error status (400, 404, 405, 413, 415, 422, 500),
many requests at once, the access log, and a graceful stop on SIGTERM; the match endpoint's forms
(multipart and urlencoded) and photos: a page typeset with groff from the truth's words and
rasterised with pdftoppm must answer its first word's time, bad images their 4xx, a full OCR
queue 503 at once while other lookups go on. The photo cases are skipped without groff and
pdftoppm or in a build without OCR.

usage: test_serve.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import decimal
import http.client
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
BOOKS = os.path.join(WORK, "books")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TRUTH = None


def setUpModule():
    global TRUTH
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(BOOKS)
    index = os.path.join(BOOKS, "mini.folio")
    TRUTH = minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, index)
    # A second book id for the same index, with a space and a non-ASCII letter.
    shutil.copy(index, os.path.join(BOOKS, "mini copy é.folio"))
    # A book whose index cannot be opened.
    with open(os.path.join(BOOKS, "broken.folio"), "wb") as f:
        f.write(b"not an index at all\n" * 100)


def start_server(log, *options):
    port = free_port()
    server = subprocess.Popen([FOLIO, "serve", "--port", str(port), *options, BOOKS], stderr=log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    return server, port


def multipart(fields):
    """A multipart/form-data body of @fields [(name, filename or None, content type, bytes)]."""
    boundary = "folio-test-boundary-7d1f"
    out = b""
    for name, filename, ctype, data in fields:
        out += b"--%s\r\n" % boundary.encode()
        disp = 'form-data; name="%s"' % name
        if filename is not None:
            disp += '; filename="%s"' % filename
        out += b"Content-Disposition: %s\r\n" % disp.encode()
        if ctype:
            out += b"Content-Type: %s\r\n" % ctype.encode()
        out += b"\r\n" + data + b"\r\n"
    out += b"--%s--\r\n" % boundary.encode()
    return out, "multipart/form-data; boundary=" + boundary


def sentence_on_page(truth, label):
    """The index of the first read word on page @label that starts a sentence (the word before it
    ends one), so that a photo starting there has one right answer: that word."""
    words = truth["words"]
    return next(i for i, w in enumerate(words) if w["page"] == label and i > 0 and w["read"]
                and words[i - 1]["text"].rstrip("\u201d\"'")[-1:] in ".!?")


def png_bytes(width, height, depth=8, rows=None):
    """A grayscale PNG written here: white rows of @width, or only the header's claim when @rows
    is 0 (a decompression bomb's header)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = (b"\0" + b"\xff" * width) * (height if rows is None else rows)
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


class Server(unittest.TestCase):
    """Requests to the server at self.port: (status, the JSON answer or None)."""

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        doc = json.loads(data) if data else None
        if data:
            self.assertEqual(r.getheader("Content-Type"), "application/json")
        return r.status, doc


class Photos(Server):
    """A server with one OCR worker and a queue of one."""

    @classmethod
    def setUpClass(cls):
        for tool in ("groff", "pdftoppm"):
            if not shutil.which(tool):
                raise unittest.SkipTest(tool + " missing")
        cls.truth = TRUTH
        words = TRUTH["words"]
        cls.k = sentence_on_page(TRUTH, "3")
        # Seven lines of the page, typeset with a 5-inch measure and a margin all round.
        d = os.path.join(WORK, "photos")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "page.tr"), "w", encoding="utf-8") as f:
            f.write(".ll 5i\n.nh\n.ad l\n.ps 12\n.vs 16\n.sp 0.4i\n" +
                    " ".join(w["text"] for w in words[cls.k:cls.k + 70]) + "\n")
        with open(os.path.join(d, "page.pdf"), "wb") as f:
            subprocess.run(["groff", "-k", "-Tpdf", os.path.join(d, "page.tr")], stdout=f,
                           check=True)
        cls.photo = {}
        for fmt in ("jpeg", "png"):
            subprocess.run(["pdftoppm", "-r", "150", "-W", "1000", "-H", "480", "-singlefile",
                            "-" + fmt, os.path.join(d, "page.pdf"), os.path.join(d, "page")],
                           check=True)
            with open(os.path.join(d, "page." + ("jpg" if fmt == "jpeg" else fmt)), "rb") as f:
                cls.photo[fmt] = f.read()
        cls.log = open(os.path.join(WORK, "photos.log"), "w+")
        cls.server, cls.port = start_server(cls.log, "--threads", "2", "--ocr-threads", "1",
                                            "--ocr-queue", "1")
        c = http.client.HTTPConnection("127.0.0.1", cls.port, timeout=120)
        c.request("POST", "/v1/books/mini/match", cls.photo["png"], {"Content-Type": "image/png"})
        r = c.getresponse()
        probe = r.read()
        c.close()
        if r.status == 415 and b"without OCR" in probe:
            cls.tearDownClass()
            raise unittest.SkipTest("built without OCR")

    @classmethod
    def tearDownClass(cls):
        if cls.server.poll() is None:
            cls.server.send_signal(signal.SIGTERM)
        status = cls.server.wait(timeout=60)
        cls.log.close()
        # Stopped gracefully, without a sanitizer's report.
        assert status == 0, "folio serve exited with %d" % status

    def check_answer(self, doc, what):
        want = self.truth["words"][self.k]
        m = doc["match"]
        self.assertIsNotNone(m, what)
        self.assertEqual(m["page"]["label"], "3", what)
        self.assertTrue(m["read"], what)
        self.assertLess(abs(m["time"] - want["time"]), 2, (what, m["time"], want))
        self.assertEqual(set(doc), {"match", "candidates", "timing"}, what)

    def test_photo_answers_its_first_line(self):
        status, doc = self.request("POST", "/v1/books/mini/match", self.photo["jpeg"],
                                   {"Content-Type": "image/jpeg"})
        self.assertEqual(status, 200)
        self.check_answer(doc, "image/jpeg")
        # In a browser's form: a file field of any name, with or without a text field beside.
        for name in ("photo", "image", "file"):
            body, ctype = multipart([(name, "page.png", "image/png", self.photo["png"]),
                                     ("text", None, None, b"")])
            status, doc = self.request("POST", "/v1/books/mini/match", body,
                                       {"Content-Type": ctype})
            self.assertEqual(status, 200, name)
            self.check_answer(doc, name)

    def test_bad_images(self):
        jpeg = self.photo["jpeg"]
        cases = [(b"this is not an image at all", "image/jpeg", 422, "bad_image"),
                 (jpeg[:len(jpeg) // 3], "image/jpeg", 422, "bad_image"),
                 (b"\x89PNG", "image/png", 422, "bad_image"),
                 # 30000 x 30000 by its header, a few rows of data: refused before decoding.
                 (png_bytes(30000, 30000, rows=2), "image/png", 413, "too_large")]
        for body, ctype, want, code in cases:
            status, doc = self.request("POST", "/v1/books/mini/match", body,
                                       {"Content-Type": ctype})
            self.assertEqual((status, doc["error"]["code"]), (want, code), body[:20])
            self.assertTrue(doc["error"]["message"])
        # Readable as an image, nothing to read on it.
        status, doc = self.request("POST", "/v1/books/mini/match", png_bytes(400, 300),
                                   {"Content-Type": "image/png"})
        self.assertEqual(status, 200)
        self.assertIsNone(doc["match"])
        # The server is still there.
        self.assertEqual(self.request("GET", "/healthz")[0], 200)

    def test_full_queue_is_503_at_once_while_lookups_go_on(self):
        # One worker and a queue of one: of eight photos at once, at most two are taken; the
        # others are turned away (503, Retry-After) before the taken ones are answered, and
        # /healthz and a page lookup answer while photos are being read.
        events, lock = [], threading.Lock()

        def post():
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            c.request("POST", "/v1/books/mini/match", self.photo["jpeg"],
                      {"Content-Type": "image/jpeg"})
            r = c.getresponse()
            r.read()
            with lock:
                events.append(("photo", r.status, r.getheader("Retry-After")))
            c.close()

        threads = [threading.Thread(target=post) for _ in range(8)]
        for t in threads:
            t.start()
        time.sleep(0.05)
        for path in ("/healthz", "/v1/books/mini/pages/3"):
            status, _ = self.request("GET", path)
            with lock:
                events.append((path, status, None))
        for t in threads:
            t.join(timeout=120)
            self.assertFalse(t.is_alive())
        photos = [e for e in events if e[0] == "photo"]
        ok = [e for e in photos if e[1] == 200]
        busy = [e for e in photos if e[1] == 503]
        self.assertEqual(len(ok) + len(busy), 8, events)
        self.assertGreaterEqual(len(busy), 1, events)
        self.assertTrue(all(e[2] == "1" for e in busy), events)
        self.assertGreaterEqual(len(ok), 1, events)
        # The last photo read is answered after every 503 and after both lookups.
        last_ok = max(i for i, e in enumerate(events) if e[0] == "photo" and e[1] == 200)
        first_busy = min(i for i, e in enumerate(events) if e[0] == "photo" and e[1] == 503)
        self.assertLess(first_busy, last_ok, events)
        for path in ("/healthz", "/v1/books/mini/pages/3"):
            i = next(i for i, e in enumerate(events) if e[0] == path)
            self.assertEqual(events[i][1], 200)
            self.assertLess(i, last_ok, events)


class Serve(Server):
    @classmethod
    def setUpClass(cls):
        cls.truth = TRUTH
        cls.log = open(os.path.join(WORK, "access.log"), "w+")
        cls.server, cls.port = start_server(cls.log, "--threads", "4", "--cache", "1")

    @classmethod
    def tearDownClass(cls):
        if cls.server.poll() is None:
            cls.server.kill()
            cls.server.wait(timeout=10)
        cls.log.close()

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
            ("POST", "/v1/books/mini/match", b"GIF89a", {"Content-Type": "image/gif"}, 415),
            ("POST", "/v1/books/mini/match", b"<p>x</p>", {"Content-Type": "text/html"}, 415),
            ("POST", "/v1/books/mini/match", b"", {"Content-Type": "image/png"}, 400),
            ("POST", "/v1/books/mini/match", b"x", {"Content-Type": "multipart/form-data"}, 400),
            ("POST", "/v1/books/mini/match", b"other=1",
             {"Content-Type": "application/x-www-form-urlencoded"}, 400),
            ("POST", "/v1/books/mini/match", b"text=x&current_time=soon",
             {"Content-Type": "application/x-www-form-urlencoded"}, 400),
            ("POST", "/v1/books/mini/match", b"text=" + b"x" * (65 * 1024),
             {"Content-Type": "application/x-www-form-urlencoded"}, 413),
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

    def test_match_from_forms(self):
        k = sentence_on_page(self.truth, "3")
        words = self.truth["words"]
        text = " ".join(w["text"] for w in words[k:k + 40])
        want = words[k]
        # A browser's form: multipart with a text field (and an empty file field beside it), and
        # urlencoded ('+' for spaces, escapes for the rest).
        body, ctype = multipart([("photo", "", "application/octet-stream", b""),
                                 ("text", None, None, text.encode())])
        urlencoded = urllib.parse.urlencode({"text": text}).encode()
        for body, ctype in ((body, ctype), (urlencoded, "application/x-www-form-urlencoded")):
            status, doc = self.request("POST", "/v1/books/mini/match", body,
                                       {"Content-Type": ctype})
            self.assertEqual(status, 200, ctype)
            self.assertEqual(doc["match"]["page"]["label"], "3", ctype)
            self.assertLess(abs(doc["match"]["time"] - want["time"]), 2, ctype)
            self.assertTrue(doc["match"]["read"])
            self.assertIn("candidates", doc)
        # current_time makes it scan to read, as in JSON.
        body = urllib.parse.urlencode({"text": text, "current_time": want["time"]}).encode()
        status, doc = self.request("POST", "/v1/books/mini/match", body,
                                   {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        self.assertEqual(doc["pages_to_flip"], 0)

    def test_body_over_16_mib_is_refused_before_it_comes(self):
        # Only the headers are sent: the 413 must come without the body.
        for ctype in ("image/jpeg", "multipart/form-data; boundary=x", "text/plain"):
            with socket.create_connection(("127.0.0.1", self.port), timeout=20) as s:
                s.sendall(b"POST /v1/books/mini/match HTTP/1.1\r\nHost: localhost\r\n"
                          b"Content-Type: %s\r\nContent-Length: %d\r\n\r\n"
                          % (ctype.encode(), 17 << 20))
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 413 "), (ctype, data[:80]))

    def test_streamed_photo_over_16_mib_is_413(self):
        # Chunked, with no length to go by: read to its end, dropped, and refused.
        def chunks():
            for _ in range(17):
                yield b"\0" * (1 << 20)

        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("POST", "/v1/books/mini/match", body=chunks(),
                  headers={"Content-Type": "image/jpeg"}, encode_chunked=True)
        r = c.getresponse()
        doc = json.loads(r.read())
        c.close()
        self.assertEqual(r.status, 413)
        self.assertEqual(doc["error"]["code"], "too_large")

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


def serve_folder(folder, log, *options):
    """`folio serve` of @folder with @options on a free port, once it accepts connections."""
    port = free_port()
    server = subprocess.Popen([FOLIO, "serve", "--port", str(port), *options, folder],
                              stderr=log)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    return server, port


def stop(server):
    """SIGTERM, and the exit status (a sanitizer's report would make it non-zero)."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
    return server.wait(timeout=60)


def raw_get(port, path, source="127.0.0.1", timeout=5):
    """GET @path on a new connection from the address @source: (status, body bytes), or
    (None, b"") when the server closes it without an answer."""
    with socket.socket() as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n" % path.encode())
        data = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
    if not data:
        return None, b""
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def slow_client(port, source="127.0.0.1"):
    """A connection from @source that has sent a request line and one header, and no end."""
    s = socket.socket()
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")
    return s


def closed_by_server(s):
    """Whether the server has closed @s (without waiting)."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


class SlowClients(unittest.TestCase):
    """Clients that send a little at a time: cut at the request deadline whatever they send,
    refused past the per-address limit, and never keeping others out."""

    def test_slow_client_is_cut_at_the_deadline_though_it_keeps_sending(self):
        log = open(os.path.join(WORK, "slow.log"), "w+")
        server, port = serve_folder(BOOKS, log, "--request-timeout", "2")
        try:
            s = slow_client(port)
            start = time.monotonic()
            got = b""
            s.settimeout(0.3)
            # A header line every 0.3 s: each resets an idle timeout, none the deadline.
            while time.monotonic() - start < 10:
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    got += chunk
                except socket.timeout:
                    continue
                except OSError:
                    break
            elapsed = time.monotonic() - start
            s.close()
            self.assertEqual(got, b"")
            self.assertGreater(elapsed, 1.5)
            self.assertLess(elapsed, 5)
            # A client asking one request after another on one connection for longer than the
            # deadline is answered every time: each answer starts its next request's time.
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            start = time.monotonic()
            n = 0
            while time.monotonic() - start < 3.5:
                c.request("GET", "/v1/books/mini/pages/1")
                r = c.getresponse()
                r.read()
                self.assertEqual(r.status, 200)
                n += 1
                time.sleep(0.25)
            c.close()
            self.assertGreater(n, 8)
        finally:
            self.assertEqual(stop(server), 0)
            log.close()

    def test_per_address_limit_refuses_the_next_connection_and_others_are_answered(self):
        log = open(os.path.join(WORK, "per-ip.log"), "w+")
        server, port = serve_folder(BOOKS, log, "--max-per-ip", "3")
        try:
            # Four from 127.0.0.1, none finished: one of them (the one MHD counts last) is
            # closed unanswered, the other three are held and answered when they finish.
            conns = []
            for _ in range(4):
                conns.append(slow_client(port))
                time.sleep(0.1)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                refused = [s for s in conns if closed_by_server(s)]
                if refused:
                    break
                time.sleep(0.1)
            time.sleep(0.3)
            refused = [s for s in conns if closed_by_server(s)]
            held = [s for s in conns if s not in refused]
            self.assertEqual((len(refused), len(held)), (1, 3))
            # So is a fifth; another address is answered meanwhile.
            self.assertEqual(raw_get(port, "/healthz"), (None, b""))
            status, body = raw_get(port, "/healthz", source="127.0.0.2")
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(body)["status"], "ok")
            for s in held:
                s.settimeout(5)
                s.sendall(b"\r\n")
                self.assertTrue(s.recv(4096).startswith(b"HTTP/1.1 200 "))
            for s in conns:
                s.close()
        finally:
            self.assertEqual(stop(server), 0)
            log.close()

    def test_health_answers_while_1100_slow_clients_hold_connections(self):
        # With the default limits: 1,100 slow clients from 22 addresses (50 each), a header line
        # a second, as in a slowloris attack.
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < 1300:
            if hard != resource.RLIM_INFINITY and hard < 1300:
                raise unittest.SkipTest("the open-files limit is under 1300")
            resource.setrlimit(resource.RLIMIT_NOFILE, (1300, hard))
        log = open(os.path.join(WORK, "slowloris.log"), "w+")
        server, port = serve_folder(BOOKS, log)
        slow, stop_sending = [], threading.Event()

        def keep_sending():
            while not stop_sending.wait(1):
                for s in slow:
                    try:
                        s.sendall(b"X-Slow: 1\r\n")
                    except OSError:
                        pass

        sender = threading.Thread(target=keep_sending)
        try:
            for k in range(1100):
                slow.append(slow_client(port, source="127.0.0.%d" % (10 + k // 50)))
            sender.start()
            for _ in range(5):
                start = time.monotonic()
                status, body = raw_get(port, "/healthz", timeout=5)
                self.assertEqual(status, 200)
                self.assertLess(time.monotonic() - start, 3)
                status, body = raw_get(port, "/v1/books/mini/pages/1", timeout=5)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(body)["match"]["page"]["label"], "1")
                time.sleep(1)
            # They were held all along, not refused.
            self.assertEqual(sum(closed_by_server(s) for s in slow), 0)
        finally:
            stop_sending.set()
            if sender.is_alive():
                sender.join()
            for s in slow:
                s.close()
            self.assertEqual(stop(server), 0)
            log.close()


def make_view_index(src, dst):
    """A copy of the index @src whose pages table is a view of another table."""
    shutil.copy(src, dst)
    db = sqlite3.connect(dst)
    db.executescript("ALTER TABLE pages RENAME TO pages_data;"
                     "CREATE VIEW pages AS SELECT * FROM pages_data;")
    db.commit()
    db.close()


class HostileRequests(Server):
    """Paths that are not UTF-8, indexes that cannot be opened, and the format of numbers."""

    @classmethod
    def setUpClass(cls):
        cls.folder = os.path.join(WORK, "hostile-books")
        os.makedirs(cls.folder, exist_ok=True)
        mini = os.path.join(BOOKS, "mini.folio")
        shutil.copy(mini, os.path.join(cls.folder, "mini.folio"))
        make_view_index(mini, os.path.join(cls.folder, "view.folio"))
        with open(os.path.join(cls.folder, "garbage.folio"), "wb") as f:
            f.write(b"\0" * 8192)
        cls.log = open(os.path.join(WORK, "hostile.log"), "w+")
        cls.server, cls.port = serve_folder(cls.folder, cls.log)

    @classmethod
    def tearDownClass(cls):
        assert stop(cls.server) == 0
        cls.log.close()

    def test_label_or_book_id_not_utf8_is_400_with_a_json_error(self):
        for path in ("/v1/books/mini/pages/%ff", "/v1/books/mini/pages/%c3%28",
                     "/v1/books/mini/pages/%e2%82", "/v1/books/mini/pages/a%c0%80",
                     "/v1/books/%ff/pages/1", "/v1/books/mini%fe"):
            status, doc = self.request("GET", path)
            self.assertEqual(status, 400, path)
            self.assertEqual(doc["error"]["code"], "invalid_utf8", path)
        # UTF-8 that names no page is a 404.
        status, doc = self.request("GET", "/v1/books/mini/pages/%c3%a9")
        self.assertEqual((status, doc["error"]["code"]), (404, "not_found"))

    def test_bad_index_fails_its_own_requests_only_and_is_opened_once(self):
        results = []

        def hammer(book):
            for _ in range(5):
                results.append((book, self.request("GET", "/v1/books/%s/pages/1" % book)[0]))

        threads = [threading.Thread(target=hammer, args=(b,)) for b in ("view", "garbage") * 3]
        for t in threads:
            t.start()
        for _ in range(5):
            self.assertEqual(self.request("GET", "/healthz")[0], 200)
            status, doc = self.request("GET", "/v1/books/mini/pages/1")
            self.assertEqual(status, 200)
            self.assertEqual(doc["match"]["page"]["label"], "1")
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(len(results), 30)
        self.assertTrue(all(status == 500 for _, status in results), results)
        status, doc = self.request("GET", "/v1/books/view")
        self.assertEqual((status, doc["error"]["code"]), (500, "failed"))
        # Each bad index was opened once: one line in the log says why.
        self.log.flush()
        with open(self.log.name) as f:
            lines = f.read().splitlines()
        for book in ("view", "garbage"):
            self.assertEqual(sum("error: book '%s'" % book in line for line in lines), 1,
                             [line for line in lines if "error:" in line])
        # Replaced by a good index, the book is opened again.
        good = os.path.join(self.folder, "view.folio.new")
        shutil.copy(os.path.join(BOOKS, "mini.folio"), good)
        os.replace(good, os.path.join(self.folder, "view.folio"))
        status, doc = self.request("GET", "/v1/books/view/pages/1")
        self.assertEqual(status, 200)
        self.assertEqual(doc["match"]["page"]["label"], "1")

    def test_numbers_print_as_export_prints_them(self):
        exported = subprocess.run([FOLIO, "export", os.path.join(self.folder, "mini.folio")],
                                  capture_output=True, check=True).stdout
        export = json.loads(exported, parse_float=decimal.Decimal)
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request("GET", "/v1/books/mini")
        raw = c.getresponse().read()
        c.close()
        info = json.loads(raw, parse_float=decimal.Decimal)
        self.assertEqual([a["duration"] for a in info["audio"]],
                         [a["duration"] for a in export["audio"]])
        # Every time is in milliseconds, written shortest: no run of digits past the third
        # decimal (223.925, never 223.92500000000001).
        for number in re.findall(rb"[-0-9.eE+]+", raw.split(b'"report"')[0]):
            if b"." in number:
                self.assertLessEqual(len(number.split(b".")[1]), 3, number)
        last = export["audio"][-1]
        self.assertLessEqual(abs(info["duration"] - (last["offset"] + last["duration"])),
                             decimal.Decimal("0.001"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
