#!/usr/bin/env python3
"""HTTP tests of what `folio serve` gives a browser: the web page's own files, the page table,
audio streaming (Range requests compared byte for byte with the file as Python reads it, ETag and
Last-Modified against the file's stat, 304, 416), path tricks in audio requests (`../`, an
encoded NUL, absolute paths, numbers out of range, a missing file), the token (header, login form
and cookie; /healthz open), CORS only with --cors, the security headers on every kind of answer,
and the warning of --host 0.0.0.0. On the mini corpus (16 kHz WAV files), built with mkcorpus.

usage: test_serve_web.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
"""
import email.utils
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
BOOKS = os.path.join(WORK, "books")
TOKEN = "s3cret-Token-for-tests_0123"
TRUTH = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(log, *args):
    port = free_port()
    server = subprocess.Popen([FOLIO, "serve", "--port", str(port), *args],
                              stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.05)
    raise AssertionError("folio serve did not start")


def stop_server(server):
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def setUpModule():
    global TRUTH
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(BOOKS)
    TRUTH = minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, os.path.join(BOOKS, "mini.folio"))
    # The same index beside its audio (found without --audio-root).
    shutil.copy(os.path.join(BOOKS, "mini.folio"), os.path.join(CORPUS, "beside.folio"))
    with open(os.path.join(WORK, "token"), "w") as f:
        f.write(TOKEN + "\n")


SECURITY = {
    "Content-Security-Policy": None,  # checked by its directives below
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class Client(unittest.TestCase):
    port = None

    def get(self, path, headers=None, method="GET", body=None):
        """(status, headers as a dict of lower-case names, body bytes)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def assertSecure(self, headers):
        self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertEqual(headers.get("referrer-policy"), "no-referrer")
        csp = [d.strip() for d in headers.get("content-security-policy", "").split(";")]
        self.assertIn("default-src 'self'", csp)
        self.assertIn("media-src 'self' blob:", csp)
        self.assertIn("img-src 'self' blob: data:", csp)

    def assertJsonError(self, status, headers, body, want):
        self.assertEqual(status, want, body)
        self.assertEqual(headers["content-type"], "application/json")
        doc = json.loads(body)
        self.assertTrue(doc["error"]["code"])
        self.assertTrue(doc["error"]["message"])
        return doc


class Audio(Client):
    """A server of mini.folio with --audio-root at the corpus, and of beside.folio (its index
    beside its audio) and broken-audio (an index whose audio is nowhere)."""

    @classmethod
    def setUpClass(cls):
        cls.log = open(os.path.join(WORK, "audio.log"), "w+")
        missing = os.path.join(WORK, "elsewhere")
        os.makedirs(missing, exist_ok=True)
        shutil.copy(os.path.join(BOOKS, "mini.folio"), os.path.join(missing, "lost.folio"))
        cls.server, cls.port = start_server(cls.log, "--audio-root", CORPUS,
                                            os.path.join(BOOKS, "mini.folio"))
        cls.server2, cls.port2 = start_server(cls.log, os.path.join(CORPUS, "beside.folio"),
                                              os.path.join(missing, "lost.folio"))
        cls.files = [os.path.join(CORPUS, a["path"]) for a in TRUTH["audio"]]

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.server)
        stop_server(cls.server2)
        cls.log.close()

    def data(self, n):
        with open(self.files[n], "rb") as f:
            return f.read()

    def test_whole_file_with_its_type_and_validators(self):
        for n in range(len(self.files)):
            status, h, body = self.get("/v1/books/mini/audio/%d" % n)
            self.assertEqual(status, 200)
            self.assertEqual(body, self.data(n))
            self.assertEqual(h["content-type"], "audio/wav")  # the files are .wav
            self.assertEqual(h["accept-ranges"], "bytes")
            self.assertEqual(int(h["content-length"]), os.path.getsize(self.files[n]))
            self.assertTrue(h["etag"].startswith('"') and h["etag"].endswith('"'))
            modified = email.utils.parsedate_to_datetime(h["last-modified"]).timestamp()
            self.assertEqual(modified, int(os.stat(self.files[n]).st_mtime))
            self.assertSecure(h)

    def test_head_sends_the_headers_only(self):
        status, h, body = self.get("/v1/books/mini/audio/0", method="HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(int(h["content-length"]), os.path.getsize(self.files[0]))

    def check_range(self, spec, first, last):
        data = self.data(1)
        status, h, body = self.get("/v1/books/mini/audio/1", {"Range": "bytes=" + spec})
        self.assertEqual(status, 206, spec)
        self.assertEqual(body, data[first:last + 1], spec)
        self.assertEqual(h["content-range"], "bytes %d-%d/%d" % (first, last, len(data)))
        self.assertEqual(int(h["content-length"]), last - first + 1)
        self.assertEqual(h["content-type"], "audio/wav")
        self.assertSecure(h)

    def test_ranges_answer_206_with_those_bytes(self):
        size = os.path.getsize(self.files[1])
        self.check_range("0-99", 0, 99)  # the first bytes
        self.check_range("0-0", 0, 0)
        self.check_range("%d-%d" % (size // 2, size // 2 + 4095), size // 2, size // 2 + 4095)
        self.check_range("-500", size - 500, size - 1)  # a suffix
        self.check_range("-%d" % (size * 3), 0, size - 1)  # a suffix longer than the file
        self.check_range("12345-", 12345, size - 1)  # open ended
        self.check_range("%d-%d" % (size - 10, size + 1000), size - 10, size - 1)  # past the end
        self.check_range("0-", 0, size - 1)

    def test_unsatisfiable_ranges_are_416_with_the_size(self):
        size = os.path.getsize(self.files[1])
        for spec in ("%d-" % size, "%d-%d" % (size + 5, size + 10), "-0"):
            status, h, body = self.get("/v1/books/mini/audio/1", {"Range": "bytes=" + spec})
            self.assertEqual(status, 416, spec)
            self.assertEqual(h["content-range"], "bytes */%d" % size)
            self.assertSecure(h)

    def test_several_ranges_or_a_malformed_one_send_the_whole_file(self):
        data = self.data(0)
        for spec in ("bytes=0-9,20-29", "bytes=9-2", "bytes=abc", "lines=0-9", "bytes=-"):
            status, h, body = self.get("/v1/books/mini/audio/0", {"Range": spec})
            self.assertEqual((status, body == data), (200, True), spec)

    def test_etag_revalidation_is_304_and_a_stale_if_range_sends_all(self):
        status, h, _ = self.get("/v1/books/mini/audio/1")
        etag = h["etag"]
        status, h2, body = self.get("/v1/books/mini/audio/1", {"If-None-Match": etag})
        self.assertEqual((status, body), (304, b""))
        self.assertEqual(h2["etag"], etag)
        status, _, body = self.get("/v1/books/mini/audio/1", {"If-None-Match": '"other", ' + etag})
        self.assertEqual(status, 304)
        status, _, body = self.get("/v1/books/mini/audio/1", {"If-None-Match": '"other"'})
        self.assertEqual((status, body), (200, self.data(1)))
        # The ETag of another file: another version, so the Range is not applied.
        other = self.get("/v1/books/mini/audio/0")[1]["etag"]
        status, _, body = self.get("/v1/books/mini/audio/1",
                                   {"Range": "bytes=0-9", "If-Range": other})
        self.assertEqual((status, body), (200, self.data(1)))
        status, _, body = self.get("/v1/books/mini/audio/1",
                                   {"Range": "bytes=0-9", "If-Range": etag})
        self.assertEqual((status, body), (206, self.data(1)[:10]))

    def test_path_tricks_never_reach_a_file(self):
        with open("/etc/passwd", "rb") as f:
            passwd = f.read()
        tricks = ["../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd",
                  "/etc/passwd", "0/../../etc/passwd", "0%2F..%2F..%2Fetc%2Fpasswd",
                  "2", "-1", "+1", "0x1", "1.0", "%201", "1%20", "99999999999999999999999",
                  "18446744073709551616", "", "001.wav", TRUTH["audio"][0]["path"]]
        for t in tricks:
            status, h, body = self.get("/v1/books/mini/audio/" + t)
            self.assertIn(status, (400, 404), t)
            self.assertNotIn(passwd[:40], body, t)
            self.assertJsonError(status, h, body, status)
            self.assertSecure(h)
        for t in ["0%00", "0%00/../../etc/passwd", "%00", "%2e%2e%00"]:
            status, h, body = self.get("/v1/books/mini/audio/" + t)
            self.assertJsonError(status, h, body, 400)
        # A book id of "..": no such book.
        status, h, body = self.get("/v1/books/..%2F..%2Fetc/audio/0")
        self.assertJsonError(status, h, body, 404)

    def test_audio_beside_the_index_and_a_missing_file(self):
        self.port, saved = self.port2, self.port
        try:
            status, h, body = self.get("/v1/books/beside/audio/0")
            self.assertEqual((status, body == self.data(0)), (200, True))
            status, h, body = self.get("/v1/books/lost/audio/0")
            doc = self.assertJsonError(status, h, body, 404)
            self.assertIn("not on the server", doc["error"]["message"])
            # The server goes on.
            self.assertEqual(self.get("/healthz")[0], 200)
        finally:
            self.port = saved

    def test_the_page_table_is_the_truths(self):
        status, h, body = self.get("/v1/books/mini/pages")
        self.assertEqual(status, 200)
        self.assertSecure(h)
        pages = json.loads(body)["pages"]
        self.assertEqual([p["label"] for p in pages], [p["label"] for p in TRUTH["pages"]])
        self.assertEqual([p["ordinal"] for p in pages], list(range(1, len(pages) + 1)))
        for got, want in zip(pages, TRUTH["pages"]):
            if want["time"] is None:
                self.assertIsNone(got["time"], got)
                continue
            self.assertEqual(got["file"], want["file"])
            self.assertLess(abs(got["file_time"] - want["file_time"]), 0.5, got)
            self.assertLess(abs(got["time"] - want["time"]), 0.5, got)
        read = [p for p in pages if p["time"] is not None]
        self.assertTrue(read[0]["chapter"].startswith("Chapter I"))

    def test_the_page_and_its_files_are_small_and_secured(self):
        total = 0
        for path, kind in (("/", "text/html"), ("/app.js", "text/javascript"),
                           ("/app.css", "text/css"), ("/login", "text/html")):
            status, h, body = self.get(path)
            self.assertEqual(status, 200, path)
            self.assertTrue(h["content-type"].startswith(kind), h["content-type"])
            self.assertSecure(h)
            total += len(body)
            # No request to another server: no URL with a host in the page's own files.
            self.assertNotIn(b"http://", body, path)
            self.assertNotIn(b"https://", body, path)
        self.assertLess(total, 100 * 1024)
        self.assertIn(b'capture="environment"', self.get("/")[2])
        # JSON answers and errors carry the headers too; no CORS header without --cors.
        for path in ("/healthz", "/v1/books", "/v1/books/mini", "/v1/books/nobody", "/nothing",
                     "/v1/books/mini/position?t=30"):
            status, h, body = self.get(path)
            self.assertSecure(h)
            self.assertNotIn("access-control-allow-origin", h)
        status, h, body = self.get("/", method="POST", body=b"x")
        self.assertEqual(status, 405)
        self.assertSecure(h)


class Token(Client):
    @classmethod
    def setUpClass(cls):
        cls.log = open(os.path.join(WORK, "token.log"), "w+")
        cls.server, cls.port = start_server(cls.log, "--token", os.path.join(WORK, "token"),
                                            "--audio-root", CORPUS, os.path.join(BOOKS, "mini.folio"))

    @classmethod
    def tearDownClass(cls):
        stop_server(cls.server)
        cls.log.close()

    GUARDED = ["/v1/books", "/v1/books/mini", "/v1/books/mini/pages", "/v1/books/mini/audio/0",
               "/v1/books/mini/position?t=30", "/v1/books/mini/pages/1", "/app.js", "/nothing"]

    def test_health_is_open(self):
        status, h, body = self.get("/healthz")
        self.assertEqual(status, 200)
        self.assertSecure(h)

    def test_missing_or_wrong_token_is_401(self):
        wrong = [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer " + TOKEN[:-1]},
                 {"Authorization": "Bearer " + TOKEN + "x"}, {"Authorization": "Basic " + TOKEN},
                 {"Authorization": TOKEN}, {"Cookie": "folio_token=" + TOKEN.upper()},
                 {"Cookie": "other=" + TOKEN}, {"Authorization": "Bearer "}]
        for path in self.GUARDED:
            for headers in wrong:
                status, h, body = self.get(path, headers)
                self.assertJsonError(status, h, body, 401)
                self.assertEqual(h["www-authenticate"], "Bearer")
                self.assertSecure(h)
        status, h, body = self.get("/v1/books/mini/match", method="POST", body=b"some text",
                                   headers={"Content-Type": "text/plain"})
        self.assertJsonError(status, h, body, 401)

    def test_the_right_token_is_let_in(self):
        for headers in ({"Authorization": "Bearer " + TOKEN}, {"Authorization": "bearer " + TOKEN},
                        {"Cookie": "a=b; folio_token=" + TOKEN + "; c=d"}):
            for path in self.GUARDED[:-2]:
                status, h, body = self.get(path, headers)
                self.assertIn(status, (200, 206), (path, headers))
            self.assertEqual(self.get("/nothing", headers)[0], 404)

    def test_the_page_sends_a_browser_to_the_login_form(self):
        status, h, body = self.get("/")
        self.assertEqual((status, h["location"]), (303, "/login"))
        self.assertSecure(h)
        status, h, body = self.get("/login")
        self.assertEqual(status, 200)
        self.assertIn(b'enctype="text/plain"', body)
        status, h, body = self.get("/app.css")  # the login form's style
        self.assertEqual(status, 200)

    def test_the_login_form_sets_the_cookie(self):
        form = {"Content-Type": "text/plain"}
        status, h, body = self.get("/login", form, "POST", b"token=wrong-token\r\n")
        self.assertEqual(status, 401)
        self.assertIn(b"not right", body)
        self.assertNotIn("set-cookie", h)
        status, h, body = self.get("/login", form, "POST", ("token=%s\r\n" % TOKEN).encode())
        self.assertEqual((status, h["location"]), (303, "/"))
        cookie = h["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        value = cookie.split(";")[0]
        status, h, body = self.get("/", {"Cookie": value})
        self.assertEqual(status, 200)
        self.assertIn(b"<audio", body)


class Options(Client):
    def run_briefly(self, *args):
        log = open(os.path.join(WORK, "options.log"), "w+")
        server, port = start_server(log, *args)
        return server, port, log

    def test_cors_only_with_the_option(self):
        origin = "http://reader.example:8080"
        server, self.port, log = self.run_briefly("--cors", origin, os.path.join(BOOKS, "mini.folio"))
        try:
            status, h, body = self.get("/v1/books")
            self.assertEqual(h["access-control-allow-origin"], origin)
            status, h, body = self.get("/v1/books/mini/match", {
                "Origin": origin, "Access-Control-Request-Method": "POST"}, "OPTIONS")
            self.assertEqual(status, 204)
            self.assertIn("POST", h["access-control-allow-methods"])
            self.assertIn("Authorization", h["access-control-allow-headers"])
        finally:
            stop_server(server)
            log.close()

    def test_listening_beyond_loopback_warns(self):
        server, self.port, log = self.run_briefly("--host", "0.0.0.0",
                                                  os.path.join(BOOKS, "mini.folio"))
        stop_server(server)
        log.seek(0)
        text = log.read()
        log.close()
        self.assertIn("warning", text)
        self.assertIn("--token", text)
        server, self.port, log = self.run_briefly(os.path.join(BOOKS, "mini.folio"))
        stop_server(server)
        log.seek(0)
        self.assertNotIn("warning", log.read())
        log.close()

    def test_bad_token_files_are_refused_naming_them(self):
        empty = os.path.join(WORK, "empty-token")
        spaced = os.path.join(WORK, "spaced-token")
        with open(empty, "w") as f:
            f.write("\n")
        with open(spaced, "w") as f:
            f.write("two words here\n")
        for path in (empty, spaced, os.path.join(WORK, "absent-token")):
            r = subprocess.run([FOLIO, "serve", "--port", "0", "--token", path,
                                os.path.join(BOOKS, "mini.folio")], capture_output=True, timeout=30)
            self.assertEqual(r.returncode, 1, path)
            self.assertIn(path, r.stderr.decode())
        for args in (["--token"], ["--audio-root"], ["--cors"]):
            r = subprocess.run([FOLIO, "serve", "--port", "0", *args], capture_output=True,
                               timeout=30)
            self.assertEqual(r.returncode, 2, args)


if __name__ == "__main__":
    r = unittest.main(argv=[sys.argv[0]], exit=False, verbosity=2).result
    sys.exit(0 if r.wasSuccessful() else 1)
