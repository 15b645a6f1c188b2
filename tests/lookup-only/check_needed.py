#!/usr/bin/env python3
"""The lookup-only shared library needs SQLite and ICU and the C library, and none of the
indexing dependencies (pocketsphinx, sphinxbase, flite, FFmpeg, soxr, libsndfile, libxml2,
libzip). usage: check_needed.py LIBRARY.so"""
import re
import subprocess
import sys

out = subprocess.run(["readelf", "-d", sys.argv[1]], capture_output=True, text=True, check=True)
needed = re.findall(r"\(NEEDED\).*\[(.+?)\]", out.stdout)
print("NEEDED:", ", ".join(needed))
forbidden = ("pocketsphinx", "sphinxbase", "flite", "avformat", "avcodec", "avutil", "soxr",
             "sndfile", "xml2", "zip")
bad = [n for n in needed if any(f in n for f in forbidden)]
if bad:
    sys.exit(f"the lookup-only library needs {', '.join(bad)}")
if not any("sqlite3" in n for n in needed) or not any("icuuc" in n for n in needed):
    sys.exit("the lookup-only library should need SQLite and ICU")
