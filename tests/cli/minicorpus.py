"""The small synthetic audiobook the CLI suites share: mkcorpus "mini" (the demo
book's first two chapters, two voices, preamble, outro, footnotes, a skipped paragraph), indexed."""
import json
import os
import subprocess


def make(mkcorpus, root, corpus):
    """Build the corpus into @corpus; return its truth."""
    r = subprocess.run([mkcorpus, os.path.join(root, "tests", "corpora", "mini"), corpus],
                       capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(corpus, "truth.json")) as f:
        return json.load(f)


def build(mkcorpus, folio, root, corpus, index):
    """Build the corpus into @corpus and its index at @index; return its truth."""
    truth = make(mkcorpus, root, corpus)
    audio = [os.path.join(corpus, a["path"]) for a in truth["audio"]]
    r = subprocess.run([folio, "index", os.path.join(corpus, "book.epub"), *audio, "-o", index,
                        "-q"], capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    return truth
