#!/usr/bin/env python3
"""The web page of `folio serve` in a real browser: headless Chromium driven by Selenium against a
server of the demo audiobook (mkcorpus corpora/demo, indexed) on a free loopback port, guarded by
a token. A wrong token is refused and the right one lets the reader in; the book list shows the
demo; choosing a page moves audio.currentTime to that page's time; photos tools/mkphotos makes
(truth from the page geometry and the synthesiser's word times) move the player within 2 s of the
truth and name the right page; setting the player's time updates the page indicator; a photo of
another book says so; "Where am I?" says which way to turn. Saves a screenshot (WORK/serve-page.png)
and prints the first load's time and how long playback takes to start after choosing a page.

usage: test_serve_browser.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
Skipped (77) without chromium, chromedriver or python3-selenium; the photo cases are skipped in
a build without OCR (FOLIO_OCR=0) or without mkphotos' tools.
"""
import json
import os
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_serve_web import start_server, stop_server  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:4] + [os.path.abspath(sys.argv[4])]
CORPUS = os.path.join(WORK, "demo")
INDEX = os.path.join(CORPUS, "demo.folio")  # beside its audio
PHOTOS = os.path.join(WORK, "photos")
OTHER = os.path.join(WORK, "other.epub")
TOKEN = "household-token-4711"

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    webdriver = None


def browser_missing():
    if webdriver is None:
        return "python3-selenium missing"
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            return tool + " missing"
    return None


TRUTH = PHOTO_TRUTH = SERVER = LOG = DRIVER = None
BASE = None


def make_photos():
    """mkphotos of the demo book and of another book; None when it cannot run here."""
    if os.environ.get("FOLIO_OCR", "1") == "0":
        return None
    from test_photos import make_other_epub  # the other book of the photo tests
    make_other_epub(OTHER)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mkphotos"), CORPUS, PHOTOS,
                        "--seed", "3", "--count", "8", "--other", OTHER, "--other-count", "1",
                        "--folio", FOLIO], capture_output=True, timeout=600)
    if r.returncode == 77:
        return None
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(PHOTOS, "truth.json")) as f:
        return json.load(f)


def setUpModule():
    global TRUTH, PHOTO_TRUTH
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    r = subprocess.run([MKCORPUS, os.path.join(ROOT, "corpora", "demo"), CORPUS],
                       capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(CORPUS, "truth.json")) as f:
        TRUTH = json.load(f)
    audio = [os.path.join(CORPUS, a["path"]) for a in TRUTH["audio"]]
    r = subprocess.run([FOLIO, "index", os.path.join(CORPUS, "book.epub"), *audio, "-o", INDEX,
                        "-q"], capture_output=True, timeout=900)
    assert r.returncode == 0, r.stderr.decode()
    PHOTO_TRUTH = make_photos()
    start()


def start():
    """folio serve of the demo index with a token, and the browser."""
    global SERVER, LOG, DRIVER, BASE
    token = os.path.join(WORK, "token")
    with open(token, "w") as f:
        f.write(TOKEN + "\n")
    LOG = open(os.path.join(WORK, "serve.log"), "w+")
    SERVER, port = start_server(LOG, "--token", token, "--ocr-threads", "1", INDEX)
    BASE = "http://127.0.0.1:%d" % port
    options = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--autoplay-policy=no-user-gesture-required", "--mute-audio",
              "--window-size=480,1800", "--disable-extensions", "--no-first-run"):
        options.add_argument(a)
    options.binary_location = shutil.which("chromium")
    service = Service(executable_path=shutil.which("chromedriver"))
    try:
        DRIVER = webdriver.Chrome(options=options, service=service)
    except Exception:
        tearDownModule()
        raise


def tearDownModule():
    if DRIVER:
        DRIVER.quit()
    if SERVER:
        stop_server(SERVER)
    if LOG:
        LOG.close()


def js(script, *args):
    return DRIVER.execute_script(script, *args)


def wait(condition, timeout=20, what=""):
    return WebDriverWait(DRIVER, timeout, poll_frequency=0.05).until(lambda d: condition(), what)


def player():
    """(the file being played, its currentTime)."""
    src, t = js("const a = document.getElementById('audio'); return [a.currentSrc, a.currentTime];")
    return (int(src.rsplit("/", 1)[1]) if src else None), t


def text(id_):
    return DRIVER.find_element(By.ID, id_).text


class Page(unittest.TestCase):
    """In order: the login (a_), then the page (b_...); each step leaves the page where the next
    expects it."""

    def test_a_wrong_token_is_refused_and_the_right_one_lets_in(self):
        DRIVER.get(BASE + "/")
        wait(lambda: DRIVER.current_url.endswith("/login"), what="sent to the login form")
        field = DRIVER.find_element(By.ID, "token")
        field.send_keys("not-the-token")
        field.submit()
        wait(lambda: "not right" in text("login-result"), what="the wrong token refused")
        status = js("return fetch('/v1/books').then(r => r.status);")
        self.assertEqual(status, 401)
        field = DRIVER.find_element(By.ID, "token")
        field.send_keys(TOKEN)
        field.submit()
        wait(lambda: DRIVER.current_url == BASE + "/", what="the page after logging in")

    def test_b_the_book_list_shows_the_demo(self):
        wait(lambda: TRUTH["book"]["title"] in text("books"), what="the demo book listed")
        listed = text("books")
        self.assertIn(TRUTH["book"]["author"], listed)
        self.assertIn("%d pages" % len(TRUTH["pages"]), listed)
        minutes = round(sum(a["duration"] for a in TRUTH["audio"]) / 60)
        self.assertIn("%d minutes" % minutes, listed)
        # The only book opens by itself.
        wait(lambda: DRIVER.find_element(By.ID, "book").is_displayed(), what="the book shown")
        # The first load's time, measured (printed, never asserted) on fresh loads of the page:
        # the navigation until the load event, and until the book list and book are shown.
        loads = []
        for _ in range(5):
            js("sessionStorage.clear();")
            DRIVER.get(BASE + "/")
            wait(lambda: DRIVER.find_element(By.ID, "book").is_displayed() and
                 DRIVER.find_elements(By.CSS_SELECTOR, "#pages button"))
            loads.append(js(
                "const n = performance.getEntriesByType('navigation')[0];"
                "const api = performance.getEntriesByType('resource')"
                "  .filter(r => r.name.includes('/v1/') && !r.name.includes('/audio/'));"
                "return [n.loadEventEnd - n.startTime,"
                " Math.max(...api.map(r => r.responseEnd)), api.length];"))
        loads.sort()
        print("\nfirst load on loopback (5 loads, median): load event %.0f ms, the book list and "
              "page table (%d requests) in by %.0f ms" % (loads[2][0], loads[2][2], loads[2][1]),
              file=sys.stderr)

    def choose_page(self, label):
        button = DRIVER.find_element(By.CSS_SELECTOR, "#pages button[aria-label^='Page %s,']"
                                     % label)
        start = time.monotonic()
        js("const a = document.getElementById('audio'); a.pause();"
           "window.playingAt = null; a.addEventListener('playing',"
           " () => { window.playingAt = performance.now(); }, {once: true});"
           "window.clickedAt = performance.now();")
        button.click()
        return start

    def test_c_choosing_a_page_moves_the_player_to_its_time(self):
        table = {p["label"]: p for p in js(
            "return fetch('/v1/books/demo/pages').then(r => r.json()).then(d => d.pages);")}
        read = [p for p in TRUTH["pages"] if p["time"] is not None]
        # A page of the second file (a file switch), then one of the first.
        chosen = [next(p for p in read if p["file"] == 1), next(p for p in read if p["file"] == 0)]
        starts = []
        for p in chosen:
            self.choose_page(p["label"])
            want = table[p["label"]]
            wait(lambda: player()[0] == p["file"] and
                 abs(player()[1] - want["file_time"]) <= 0.1, what="page " + p["label"])
            self.assertLess(abs(player()[1] - p["file_time"]), 0.5)  # and the truth's time
            wait(lambda: js("return window.playingAt !== null;"), what="playback started")
            starts.append(js("return window.playingAt - window.clickedAt;"))
            current = DRIVER.find_element(By.CSS_SELECTOR, "#pages button[aria-current='page']")
            self.assertTrue(current.get_attribute("aria-label").startswith("Page " + p["label"]))
        print("playback started %s ms after choosing a page"
              % ", ".join("%.0f" % s for s in starts), file=sys.stderr)

    def test_d_setting_the_players_time_updates_the_page_indicator(self):
        words = TRUTH["words"]
        for label in ("2", "5"):
            on_page = [w for w in words if w["page"] == label and w["read"] and
                       w["kind"] == "paragraph"]
            w = on_page[len(on_page) // 2]
            Select(DRIVER.find_element(By.ID, "file")).select_by_value(str(w["file"]))
            wait(lambda: player()[0] == w["file"] and
                 js("return document.getElementById('audio').readyState;") >= 1,
                 what="file %d loaded" % w["file"])
            js("const a = document.getElementById('audio'); a.pause(); a.currentTime = arguments[0];",
               w["file_time"] + 0.05)
            wait(lambda: text("now").startswith("page %s · Chapter" % label),
                 what="indicator on page " + label)

    def scan(self, photo):
        DRIVER.find_element(By.ID, "scan-photo").send_keys(photo)
        js("document.getElementById('scan-result').textContent = '';")
        DRIVER.find_element(By.CSS_SELECTOR, "#scan button").click()
        wait(lambda: text("scan-result") not in ("", "Looking…"), 60, "the scan's answer")
        return text("scan-result")

    def photos(self, book):
        if PHOTO_TRUTH is None:
            self.skipTest("no OCR or no photo generator here")
        return [p for p in PHOTO_TRUTH["photos"] if p["book"] == book]

    def test_e_a_photo_of_a_page_moves_the_player_there(self):
        # A photo is right when the page names the truth's page and the player goes within 2 s
        # of the truth's time (its first whole line's first word, or its sentence's). The photo
        # benchmark measures the rate; here at least half must be right.
        right, total = [], 0
        for p in self.photos("this"):
            if p["expect"] != "match":
                continue
            total += 1
            said = self.scan(os.path.join(PHOTOS, p["file"]))
            self.assertTrue(said.startswith("Found page ") or said == "Not in this book.", said)
            places = [t for t in (p["word"], p["sentence"]) if t and t["time"] is not None]
            labels = {TRUTH["words"][t["index"]]["page"] for t in places}
            if not any(said.startswith("Found page %s ·" % label) for label in labels):
                continue

            def near():
                f, t = player()
                return any(f == w["file"] and abs(t - w["file_time"]) <= 2.0 for w in places)
            try:
                wait(near, 5)
                right.append(p["file"])
            except Exception:
                pass
        self.assertGreaterEqual(total, 6)
        self.assertGreaterEqual(len(right), max(3, total // 2), right)
        print("photos right in the browser: %d of %d" % (len(right), total), file=sys.stderr)

    def test_f_a_photo_of_another_book_says_so(self):
        before = player()
        others = self.photos("other")
        self.assertTrue(others)
        for p in others:
            self.assertEqual(self.scan(os.path.join(PHOTOS, p["file"])), "Not in this book.")
        self.assertEqual(player()[0], before[0])

    def test_g_where_am_i_says_which_way_to_turn(self):
        # Listening on page 5 while holding page 1: forward.
        w = next(w for w in TRUTH["words"] if w["page"] == "5" and w["read"])
        Select(DRIVER.find_element(By.ID, "file")).select_by_value(str(w["file"]))
        wait(lambda: js("return document.getElementById('audio').readyState;") >= 1)
        js("const a = document.getElementById('audio'); a.pause(); a.currentTime = arguments[0];",
           w["file_time"] + 1)
        wait(lambda: text("now").startswith("page 5 ·"))
        line = " ".join(x["text"] for x in TRUTH["words"] if x["page"] == "1")[:400]
        DRIVER.find_element(By.ID, "where-text").send_keys(line)
        DRIVER.find_element(By.CSS_SELECTOR, "#where button").click()
        wait(lambda: text("where-result").startswith("Turn"), 30, "the answer")
        self.assertIn("forward", text("where-result"))
        self.assertIn("page 5", text("where-result"))

    def test_z_screenshot(self):
        js("window.scrollTo(0, 0);")
        path = os.path.join(WORK, "serve-page.png")
        self.assertTrue(DRIVER.save_screenshot(path))
        print("screenshot: " + path, file=sys.stderr)


if __name__ == "__main__":
    # Debian's python3-selenium is the system Python's: run under it when this one lacks it.
    system = "/usr/bin/python3"
    if webdriver is None and os.path.realpath(sys.executable) != os.path.realpath(system) and \
            os.access(system, os.X_OK) and not os.environ.get("FOLIO_BROWSER_REEXEC"):
        os.environ["FOLIO_BROWSER_REEXEC"] = "1"
        os.execv(system, [system, *sys.argv])
    why = browser_missing()
    if why:
        print("skipped: " + why)
        sys.exit(77)
    r = unittest.main(argv=[sys.argv[0]], exit=False, verbosity=2, failfast=True).result
    sys.exit(0 if r.wasSuccessful() else 1)
