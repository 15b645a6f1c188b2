#!/usr/bin/env python3
"""Write the C file that builds the web page's files into `folio serve`: one byte array each
(NUL-terminated, the NUL not counted) and the table serve_assets (tools/folio/serve_web.h).

usage: embed.py OUT.c FILE...
"""
import os
import sys

TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


def main():
    out, files = sys.argv[1], sys.argv[2:]
    lines = ["/* Made by tools/folio/web/embed.py from tools/folio/web/: do not edit. */",
             '#include "serve_web.h"', ""]
    rows = []
    for i, path in enumerate(files):
        name = os.path.basename(path)
        ext = os.path.splitext(name)[1]
        if ext not in TYPES:
            sys.exit("embed.py: %s: no Content-Type known for %s files" % (path, ext))
        with open(path, "rb") as f:
            data = f.read()
        body = ",".join(str(b) for b in data + b"\0")
        lines.append("static const unsigned char file%d[] = {%s};" % (i, body))
        rows.append('    {"%s", "%s", file%d, %d},' % (name, TYPES[ext], i, len(data)))
    lines.append("const serve_asset_t serve_assets[] = {")
    lines += rows
    lines.append("};")
    lines.append("const size_t serve_n_assets = %d;" % len(files))
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, out)


if __name__ == "__main__":
    main()
