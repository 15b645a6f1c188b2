#!/usr/bin/env python3
"""CLI tests of `folio lookup INDEX --image PHOTO` on a small synthetic audiobook (mkcorpus "mini")
photographed by tools/mkphotos as another edition: answers within 2 s of the photos' truth (worked
out from the page geometry and the synthesiser's word times, not by Folio), photos of another book
never matched, and bad images (not an image, a truncated JPEG, a PNG header claiming 30000 x 30000
pixels) refused with the documented exit status and a message naming the file.

usage: test_photos.py FOLIO MKCORPUS SOURCE_ROOT WORKDIR
Skipped (77) when the build has no OCR, or groff, poppler-utils, PIL or NumPy are missing.
"""
import html
import json
import os
import shutil
import struct
import subprocess
import sys
import unittest
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minicorpus  # noqa: E402

FOLIO, MKCORPUS, ROOT, WORK = sys.argv[1:5]
CORPUS = os.path.join(WORK, "mini")
INDEX = os.path.join(WORK, "mini.folio")
PHOTOS = os.path.join(WORK, "photos")
OTHER = os.path.join(WORK, "other.epub")
EXIT_FAIL = 1  # README: the exit status of a failed lookup (FOLIO_EFORMAT, FOLIO_ELIMIT)

# Another book: invented prose, no sentence of which is in the demo book.
OTHER_TEXT = [
    "The orchard behind the mill had not been pruned for eleven winters, and the apple trees "
    "leaned together like old men sharing a secret about the weather and the price of flour.",
    "Martha counted the baskets twice before she believed the number, then sat down on the "
    "upturned cart and laughed until the miller's dog came to see what was the matter with her.",
    "Nobody in the valley remembered who had planted the first row, though everybody had an "
    "opinion, and most of the opinions involved a travelling bishop and a wager about pears.",
    "By October the cider press was running from dawn until the lamps were lit, and the whole "
    "village smelled of bruised fruit, woodsmoke and the vinegar of last year's mistakes.",
]


def make_other_epub(path):
    z = zipfile.ZipFile(path, "w")
    z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
    z.writestr("META-INF/container.xml",
               '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:'
               'opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" '
               'media-type="application/oebps-package+xml"/></rootfiles></container>')
    body = "".join("<p>%s</p>" % html.escape(p) for p in OTHER_TEXT * 6)
    z.writestr("OEBPS/c1.xhtml",
               '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
               "<head><title>The Orchard</title></head><body><h1>The Orchard</h1>%s</body></html>"
               % body)
    z.writestr("OEBPS/nav.xhtml",
               '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
               'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>Contents</title></head>'
               '<body><nav epub:type="toc"><ol><li><a href="c1.xhtml">The Orchard</a></li></ol>'
               "</nav></body></html>")
    z.writestr("OEBPS/content.opf",
               '<?xml version="1.0" encoding="utf-8"?><package xmlns="http://www.idpf.org/2007/opf"'
               ' version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/'
               'elements/1.1/"><dc:identifier id="id">orchard</dc:identifier><dc:title>The Orchard'
               '</dc:title><dc:language>en</dc:language><meta property="dcterms:modified">'
               "2020-01-01T00:00:00Z</meta></metadata><manifest><item id=\"nav\" href=\"nav.xhtml\""
               ' media-type="application/xhtml+xml" properties="nav"/><item id="c1" href='
               '"c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref '
               'idref="c1"/></spine></package>')
    z.close()


def lookup_image(photo):
    r = subprocess.run([FOLIO, "lookup", INDEX, "--image", photo], capture_output=True,
                       timeout=120)
    out = json.loads(r.stdout) if r.stdout.strip() else None
    return r.returncode, out, r.stderr.decode()


def has_ocr():
    """meson says whether the build has OCR (FOLIO_OCR=0: built without)."""
    return os.environ.get("FOLIO_OCR", "1") != "0"


class Photos(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(WORK)
        minicorpus.build(MKCORPUS, FOLIO, ROOT, CORPUS, INDEX)
        make_other_epub(OTHER)
        r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "mkphotos"), CORPUS,
                            PHOTOS, "--seed", "3", "--count", "8", "--other", OTHER,
                            "--other-count", "3", "--folio", FOLIO], capture_output=True,
                           timeout=600)
        if r.returncode == 77:
            raise unittest.SkipTest("mkphotos: " + r.stderr.decode().strip())
        assert r.returncode == 0, r.stderr.decode()
        with open(os.path.join(PHOTOS, "truth.json")) as f:
            cls.truth = json.load(f)

    def answers(self, book):
        for p in self.truth["photos"]:
            if p["book"] == book:
                status, out, err = lookup_image(os.path.join(PHOTOS, p["file"]))
                self.assertEqual(status, 0, err)
                yield p, out

    def test_photos_of_the_book_answer_within_2_s_of_their_first_whole_line(self):
        right = total = 0
        for p, out in self.answers("this"):
            if p["expect"] != "match":
                continue
            total += 1
            m = out["match"]
            self.assertIn("timing", out)
            if m is None or m["time"] is None:
                continue
            ok = [abs(m["time"] - t["time"]) <= 2.0 for t in (p["word"], p["sentence"])
                  if t and t["time"] is not None]
            right += any(ok)
        # The benchmark measures the rate; here most must be right.
        self.assertGreaterEqual(total, 6)
        self.assertGreaterEqual(right, total * 2 // 3, "%d of %d right" % (right, total))

    def test_photos_of_another_book_are_never_matched(self):
        n = 0
        for p, out in self.answers("other"):
            n += 1
            self.assertIsNone(out["match"], p["file"])
        self.assertEqual(n, 3)

    def bad(self, name, data):
        path = os.path.join(WORK, name)
        with open(path, "wb") as f:
            f.write(data)
        status, out, err = lookup_image(path)
        self.assertEqual(status, EXIT_FAIL, err)
        self.assertIn(name, err)
        self.assertIn("error", out)
        return out, err

    def test_a_file_that_is_not_an_image_is_refused_naming_it(self):
        self.bad("notes.jpg", b"Just some text, not a photo of a page.\n" * 20)

    def test_a_truncated_jpeg_is_refused_naming_it(self):
        photo = os.path.join(PHOTOS, self.truth["photos"][0]["file"])
        with open(photo, "rb") as f:
            data = f.read()
        self.bad("truncated.jpg", data[: len(data) // 3])

    def test_a_png_claiming_30000_by_30000_pixels_is_refused_before_decoding(self):
        def chunk(kind, body):
            return (struct.pack(">I", len(body)) + kind + body +
                    struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))
        ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)
        png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
               chunk(b"IDAT", zlib.compress(b"\0" * 30001)) + chunk(b"IEND", b""))
        out, err = self.bad("huge.png", png)
        self.assertEqual(out["error"]["code"], "too_large")

    def test_a_missing_photo_is_an_error_naming_it(self):
        status, out, err = lookup_image(os.path.join(WORK, "absent.jpg"))
        self.assertEqual(status, EXIT_FAIL)
        self.assertIn("absent.jpg", err)


if __name__ == "__main__":
    if not has_ocr():
        print("skipped: built without OCR")
        sys.exit(77)
    r = unittest.main(argv=[sys.argv[0]], exit=False, verbosity=2).result
    if r.skipped and not (r.failures or r.errors) and len(r.skipped) >= r.testsRun:
        sys.exit(77)
    sys.exit(0 if r.wasSuccessful() else 1)
