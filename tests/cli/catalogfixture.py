"""A mini catalog for the catalog suites: a library folder laid out as Audiobookshelf keeps one
(Author/Title/ with the book and its audio, or its audio in disc folders), built from the mini
corpus: two good books (the EPUB with its files; the paged text with its files in "CD 1"/"CD 2"),
a broken EPUB, an audiobook of another book, and a folder with a book but no audio."""
import os
import shutil
import subprocess

import minicorpus

# Written here: a text that shares no passage with the mini corpus's book.
OTHER_BOOK = """The Keeping of Bees in a Small Garden

A hive wants a sheltered corner, morning sun and a clear line of flight. Set it on a stand a hand's
breadth above the soil so that damp and toads stay out, and tilt it a little forward so rain runs
from the entrance.

The colony works by season. In the cold months the bees cluster around their queen and eat the
honey they stored, shivering their wing muscles to keep the heart of the cluster warm. When the
willows flower they fly again, and the first fresh pollen comes in on their legs in pellets of
yellow and grey.

A keeper opens the hive on a warm still afternoon, when most foragers are out. Smoke at the
entrance makes the guards retreat and gorge on honey; a calm colony can then be handled frame by
frame. Look for eggs standing upright in the cells, for capped brood in a tight pattern, and for
queen cells along the lower edges of the combs, which mean the colony is thinking of swarming.

Honey is taken late in summer, leaving the bees enough for winter. The frames are uncapped with a
warm knife, spun in an extractor, and the honey strained through cloth into jars.
"""

# The books the scan finds, in the manifest's order (natural order of their folders), with the id
# the scan gives each and what a run of it ends in.
BOOKS = [
    ("ada-byrne-the-mini-book", "done", None),
    ("ada-byrne-the-mini-book-in-text", "done", None),
    ("broken-a-bad-epub", "failed", "bad_book"),
    ("other-bees", "failed", "not_this_book"),
]


def build_library(mkcorpus, root, work):
    """Make the mini corpus in @work/mini and the library in @work/library; return the truth and
    the library's path."""
    os.makedirs(work, exist_ok=True)
    corpus = os.path.join(work, "mini")
    if not os.path.exists(os.path.join(corpus, "truth.json")):
        minicorpus.make(mkcorpus, root, corpus)
    import json
    with open(os.path.join(corpus, "truth.json")) as f:
        truth = json.load(f)
    lib = os.path.join(work, "library")
    shutil.rmtree(lib, ignore_errors=True)
    audio = [a["path"] for a in truth["audio"]]
    one = os.path.join(lib, "Ada Byrne", "The Mini Book")
    os.makedirs(one)
    shutil.copy(os.path.join(corpus, "book.epub"), one)
    for a in audio:
        shutil.copy(os.path.join(corpus, a), one)
    with open(os.path.join(one, "desc.txt"), "w") as f:
        f.write("A description, as Audiobookshelf keeps one: not a book.\n")
    two = os.path.join(lib, "Ada Byrne", "The Mini Book in Text")
    for i, a in enumerate(audio):
        os.makedirs(os.path.join(two, "CD %d" % (i + 1)))
        shutil.copy(os.path.join(corpus, a), os.path.join(two, "CD %d" % (i + 1)))
    shutil.copy(os.path.join(corpus, "book.txt"), two)
    bad = os.path.join(lib, "Broken", "A Bad EPUB")
    os.makedirs(bad)
    with open(os.path.join(corpus, "book.epub"), "rb") as f:
        data = f.read()
    with open(os.path.join(bad, "book.epub"), "wb") as f:
        f.write(data[: len(data) // 3])  # cut: the zip's directory is gone
    shutil.copy(os.path.join(corpus, audio[0]), bad)
    other = os.path.join(lib, "Other", "Bees")
    os.makedirs(other)
    with open(os.path.join(other, "bees.txt"), "w") as f:
        f.write(OTHER_BOOK)
    for a in audio:
        shutil.copy(os.path.join(corpus, a), other)
    noaudio = os.path.join(lib, "Other", "No Audio")
    os.makedirs(noaudio)
    shutil.copy(os.path.join(corpus, "book.epub"), noaudio)
    return truth, lib


def plain_exports(folio, lib, work):
    """Index the two good books with plain `folio index` and return their JSON exports by id."""
    out = {}
    books = {
        BOOKS[0][0]: (os.path.join(lib, "Ada Byrne", "The Mini Book", "book.epub"),
                      [os.path.join(lib, "Ada Byrne", "The Mini Book")]),
        BOOKS[1][0]: (os.path.join(lib, "Ada Byrne", "The Mini Book in Text", "book.txt"),
                      [os.path.join(lib, "Ada Byrne", "The Mini Book in Text", d)
                       for d in ("CD 1", "CD 2")]),
    }
    for id_, (book, audio) in books.items():
        index = os.path.join(work, "plain-" + id_ + ".folio")
        if not os.path.exists(index):
            r = subprocess.run([folio, "index", book, *audio, "-o", index, "-q", "--threads", "2"],
                               capture_output=True, timeout=900)
            assert r.returncode == 0, r.stderr.decode()
        out[id_] = export(folio, index)
    return out


def export(folio, index):
    r = subprocess.run([folio, "export", index, "--format", "json"], capture_output=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout
