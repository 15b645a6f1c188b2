"""Checks of an EPUB with Media Overlays written by `folio export --format epub`, against the
source EPUB and a corpus's truth.json (times from the synthesiser, not from Folio):

- the archive: "mimetype" first and stored; every entry of the source is there, byte for byte,
  except the OPF and content documents that only gained id="folio-..." attributes, or spans
  around sentences or words (then the same elements and text once those are taken away);
- each <par>: its text element exists; its clip starts within @tol of the truth's first read word
  of that element and ends within @tol of its last, in the right audio file;
- no element whose words nobody reads has a clip, and the clipped elements cover the read words;
- media:duration of each SMIL document is the sum of its clips, the total their sum;
- the audio is inside (byte-identical) or referenced where it is;
- epubcheck, when installed, finds no error.
"""
import os
import posixpath
import re
import shutil
import subprocess
import unicodedata
import urllib.parse
import xml.etree.ElementTree as ET
import zipfile

OPF = "{http://www.idpf.org/2007/opf}"
SMIL = "{http://www.w3.org/ns/SMIL}"
XHTML = "{http://www.w3.org/1999/xhtml}"
EPUBCHECK = "/usr/share/java/epubcheck.jar"


def norm(text):
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def clock(value):
    """Seconds of a SMIL clock value: "12.5s", "0:01:02.250", "01:02.5"."""
    if value.endswith("s") and not value.endswith("ms"):
        return float(value[:-1])
    parts = [float(p) for p in value.split(":")]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return seconds


def epubcheck(path):
    """(ran, ok, output): whether epubcheck could run, and whether it found no error."""
    java = shutil.which("java")
    if not java or not os.path.exists(EPUBCHECK):
        return False, True, "epubcheck is not installed"
    r = subprocess.run([java, "-jar", EPUBCHECK, path], capture_output=True, timeout=600)
    out = (r.stdout + r.stderr).decode(errors="replace")
    return True, r.returncode == 0 and "0 errors" in out, out


def content(xml):
    """A document's elements (with their attributes but the ids Folio adds), and its text, in
    order, with the <span>s Folio wraps sentences and words in taken away."""
    out = []

    def walk(el):
        added = re.fullmatch(r"folio-[0-9sw-]+", el.get("id") or "")
        if not (added and el.tag == XHTML + "span" and el.get("id")[6] in "sw"):
            attrs = sorted((k, v) for k, v in el.attrib.items() if not (k == "id" and added))
            out.append(("start", el.tag, attrs))
        out.append(("text", el.text or ""))
        for child in el:
            walk(child)
            out.append(("text", child.tail or ""))
        if not (added and el.tag == XHTML + "span" and el.get("id")[6] in "sw"):
            out.append(("end", el.tag))

    walk(ET.fromstring(xml))
    merged = []
    for e in out:
        if e[0] == "text" and merged and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + e[1])
        else:
            merged.append(e)
    return [e for e in merged if e != ("text", "")]


def truth_stream(truth):
    """The truth's words as one string of normalised characters, and each character's word."""
    chars, owner = [], []
    for i, w in enumerate(truth["words"]):
        for c in norm(w["text"]):
            chars.append(c)
            owner.append(i)
    return "".join(chars), owner


def check(tc, out_epub, src_epub, truth, corpus_dir, embedded, tol=0.5, run_epubcheck=True):
    """Run every check with unittest.TestCase @tc. Returns the number of <par>s."""
    z = zipfile.ZipFile(out_epub)
    src = zipfile.ZipFile(src_epub)
    first = z.infolist()[0]
    tc.assertEqual(first.filename, "mimetype")
    tc.assertEqual(first.compress_type, zipfile.ZIP_STORED)
    tc.assertEqual(z.read("mimetype"), b"application/epub+zip")

    container = ET.fromstring(z.read("META-INF/container.xml"))
    opf_path = container.find(".//{urn:oasis:names:tc:opendocument:xmlns:container}rootfile")
    opf_path = opf_path.get("full-path")
    opf_dir = posixpath.dirname(opf_path)
    names = set(z.namelist())
    for name in src.namelist():
        tc.assertIn(name, names)
        if name == opf_path:
            continue
        a, b = src.read(name), z.read(name)
        if a != b and re.sub(rb' id="folio-[0-9-]+"', b"", b) != a:
            # Sentences and words are wrapped in spans and the document written again: the
            # same elements, attributes and text once the spans are taken away.
            tc.assertEqual(content(b), content(a), f"{name} changed")

    opf = ET.fromstring(z.read(opf_path))
    items = {it.get("id"): it for it in opf.iter(OPF + "item")}
    spine = [items[r.get("idref")] for r in opf.iter(OPF + "itemref")]
    durations = {}
    total = None
    for m in opf.iter(OPF + "meta"):
        if m.get("property") == "media:duration":
            if m.get("refines"):
                durations[m.get("refines")[1:]] = clock(m.text)
            else:
                total = clock(m.text)

    def resolve(base_dir, href):
        return posixpath.normpath(posixpath.join(base_dir, urllib.parse.unquote(href)))

    audio_names = [a["path"] for a in truth["audio"]]
    stream, owner = truth_stream(truth)
    words = truth["words"]
    covered = set()
    at = 0
    n_pars = 0
    sum_all = 0.0
    for item in spine:
        mo = item.get("media-overlay")
        if not mo:
            continue
        smil_item = items[mo]
        tc.assertEqual(smil_item.get("media-type"), "application/smil+xml")
        smil_path = resolve(opf_dir, smil_item.get("href"))
        smil_dir = posixpath.dirname(smil_path)
        smil = ET.fromstring(z.read(smil_path))
        doc_path = resolve(opf_dir, item.get("href"))
        doc = ET.fromstring(z.read(doc_path))
        by_id = {el.get("id"): el for el in doc.iter() if el.get("id")}
        clips = 0.0
        for par in smil.iter(SMIL + "par"):
            n_pars += 1
            text, audio = par.find(SMIL + "text"), par.find(SMIL + "audio")
            target, frag = text.get("src").split("#")
            tc.assertEqual(resolve(smil_dir, target), doc_path)
            tc.assertIn(frag, by_id, f"{doc_path}#{frag}")
            begin, end = clock(audio.get("clipBegin")), clock(audio.get("clipEnd"))
            tc.assertLess(begin, end)
            clips += end - begin
            url = audio.get("src")
            if embedded:
                apath = resolve(smil_dir, url)
                tc.assertIn(apath, names)
                fname = posixpath.basename(apath)
            else:
                parsed = urllib.parse.urlparse(url)
                fname = posixpath.basename(urllib.parse.unquote(parsed.path))
                if parsed.scheme == "file":
                    tc.assertTrue(os.path.samefile(urllib.parse.unquote(parsed.path),
                                                   os.path.join(corpus_dir, fname)))
            tc.assertIn(fname, audio_names)
            file = audio_names.index(fname)

            # The element's words in the truth: its text found in the truth's text.
            el_text = norm("".join(by_id[frag].itertext()))
            # (The same text may come earlier unread, as a heading does in the table of
            # contents: the first occurrence with read words is the one.)
            pos, read = stream.find(el_text[:24], at), []
            tc.assertGreaterEqual(pos, 0, f"{doc_path}#{frag}: text not in the truth")
            while pos >= 0 and not read:
                # The element's end: where its last characters are (note markers inside it
                # are not words of the truth).
                tail = el_text[-24:]
                last = stream.find(tail, pos + max(0, len(el_text) - 40)) + len(tail) - 1
                if last < pos:
                    last = min(pos + len(el_text), len(owner)) - 1
                span = range(owner[pos], owner[last] + 1)
                read = [i for i in span if words[i]["read"] and words[i]["time"] is not None]
                at = pos + 1
                pos = stream.find(el_text[:24], at)
            tc.assertTrue(read, f"{doc_path}#{frag} is not read but has a clip")
            covered.update(read)
            first_w = words[read[0]]
            tc.assertEqual(first_w["file"], file, f"{doc_path}#{frag}")
            tc.assertLess(abs(begin - first_w["file_time"]), tol,
                          f"{doc_path}#{frag}: clip starts {begin}, truth {first_w['file_time']}")
            same_file = [i for i in read if words[i]["file"] == file]
            truth_end = words[same_file[-1]]["end_file_time"]
            tc.assertLess(abs(end - truth_end), tol,
                          f"{doc_path}#{frag}: clip ends {end}, truth {truth_end}")
        tc.assertAlmostEqual(durations[mo], clips, delta=0.01)
        sum_all += clips
    tc.assertIsNotNone(total)
    tc.assertAlmostEqual(total, sum_all, delta=0.01)
    all_read = [i for i, w in enumerate(words) if w["read"] and w["time"] is not None]
    missed = len(set(all_read) - covered)
    tc.assertLessEqual(missed, 0.02 * len(all_read), f"{missed} read words in no clip")

    for it in items.values():
        if not it.get("media-type", "").startswith("audio/"):
            continue
        href = it.get("href")
        if embedded:
            name = resolve(opf_dir, href)
            with open(os.path.join(corpus_dir, posixpath.basename(name)), "rb") as f:
                tc.assertEqual(z.read(name), f.read(), name)
            tc.assertEqual(z.getinfo(name).compress_type, zipfile.ZIP_STORED)
        else:
            tc.assertRegex(href, r"^[a-z]+://")

    if run_epubcheck:
        ran, ok, output = epubcheck(out_epub)
        tc.assertTrue(ok, output)
    return n_pars
