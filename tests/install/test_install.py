#!/usr/bin/env python3
"""`meson install` into a DESTDIR, then what a packager and a user of the staged install see:
folio.pc and folio-lookup.pc, programs compiled through `pkg-config --cflags --libs` against them,
shared and static (--static), versioned sonames, only folio_* symbols exported, the man pages,
the bash completion and the documentation.
usage: test_install.py MESON BUILD_DIR SOURCE_ROOT WORK_DIR VERSION full|lookup CC..."""
import os
import re
import shutil
import subprocess
import sys

meson, build, root, work, version, mode = sys.argv[1:7]
cc = sys.argv[7:]
here = os.path.join(root, "tests", "install")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, **kw)


shutil.rmtree(work, ignore_errors=True)
stage = os.path.join(work, "stage")
r = run([meson, "install", "-C", build, "--destdir", stage, "--no-rebuild", "--quiet"])
if r.returncode:
    sys.exit("meson install failed:\n" + r.stdout + r.stderr)

files = []
for d, _, names in os.walk(stage):
    files += [os.path.join(d, n) for n in names]
rel = sorted(os.path.relpath(f, stage) for f in files)


def staged(pattern):
    return [f for f in rel if re.search(pattern, f)]


pcs = staged(r"/pkgconfig/folio-lookup\.pc$")
if not pcs:
    sys.exit("no folio-lookup.pc installed; installed: " + ", ".join(rel))
pcdir = os.path.join(stage, os.path.dirname(pcs[0]))
libdir = os.path.dirname(pcdir)
env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=stage,
           LD_LIBRARY_PATH=libdir)

libs = ["folio", "folio-lookup"] if mode == "full" else ["folio-lookup"]

# Versioned sonames: libX.so -> libX.so.0 -> libX.so.0.x.y, and the soname is libX.so.0.
major = version.split(".")[0]
for lib in libs:
    real = os.path.join(libdir, f"lib{lib}.so.{version}")
    check(os.path.isfile(real) and not os.path.islink(real), f"lib{lib}.so.{version} installed")
    check(os.path.realpath(os.path.join(libdir, f"lib{lib}.so")) == os.path.realpath(real),
          f"lib{lib}.so links to lib{lib}.so.{version}")
    check(os.readlink(os.path.join(libdir, f"lib{lib}.so.{major}")) == f"lib{lib}.so.{version}",
          f"lib{lib}.so.{major} links to lib{lib}.so.{version}")
    soname = re.findall(r"\(SONAME\).*\[(.+?)\]", run(["readelf", "-d", real]).stdout)
    check(soname == [f"lib{lib}.so.{major}"], f"lib{lib}'s soname is lib{lib}.so.{major}: {soname}")
    check(os.path.isfile(os.path.join(libdir, f"lib{lib}.a")), f"lib{lib}.a installed")
    # Only the public API: every defined dynamic symbol is folio_ followed by a letter.
    syms = [l.split()[-1] for l in run(["nm", "-D", "--defined-only", real]).stdout.splitlines()]
    syms = [s.split("@")[0] for s in syms if not re.fullmatch(r"FOLIO_\d+", s.split("@")[0])]
    internal = [s for s in syms if s.startswith("folio__")]
    other = [s for s in syms if not re.match(r"folio_[a-z]", s)]
    check(not internal, f"lib{lib} exports no folio__ symbols ({len(internal)}: {internal[:3]})")
    check(not other, f"lib{lib} exports only folio_* symbols (others: {other[:5]})")
    check("folio_version" in syms and "folio_index_open" in syms,
          f"lib{lib} exports folio_version and folio_index_open ({len(syms)} symbols)")

# The pkg-config files: static links need the private dependencies.
pc = open(os.path.join(pcdir, "folio-lookup.pc")).read()
check(re.search(r"^Requires\.private:.*sqlite3", pc, re.M) is not None,
      "folio-lookup.pc lists sqlite3 in Requires.private")
check(re.search(r"^Requires\.private:.*icu-uc", pc, re.M) is not None,
      "folio-lookup.pc lists icu-uc in Requires.private")
check("pocketsphinx" not in pc and "xml" not in pc, "folio-lookup.pc needs nothing for indexing")
if mode == "full":
    pc = open(os.path.join(pcdir, "folio.pc")).read()
    for dep in ("pocketsphinx", "sqlite3", "libxml-2.0", "libzip", "icu-uc", "sndfile"):
        check(re.search(rf"^Requires\.private:.*\b{re.escape(dep)}\b", pc, re.M) is not None,
              f"folio.pc lists {dep} in Requires.private")
    check(re.search(r"^Libs\.private:.*-lflite\b", pc, re.M) is not None,
          "folio.pc lists flite in Libs.private")

# Programs compiled against the staged install, shared and static.
book = os.path.join(work, "book.txt")
with open(book, "w") as f:
    f.write("First page.\n\n\fSecond page.\n")
not_index = os.path.join(work, "not-an-index.folio")
with open(not_index, "w") as f:
    f.write("This is not a Folio index, only some text.\n" * 20)
programs = {"folio": (["-DFOLIO_FULL"], book), "folio-lookup": ([], not_index)}
src = "use_folio.c"
for lib in libs:
    defines, arg = programs[lib]
    cflags = run(["pkg-config", "--cflags", lib], env=env).stdout.split()
    check(any(f.startswith("-I" + stage) for f in cflags),
          f"pkg-config --cflags {lib} points into the staged install: {cflags}")
    for how in ("shared", "static"):
        args = ["pkg-config", "--libs", lib]
        if how == "static" and lib == "folio":
            # The archive with what folio.pc says it needs (its Libs.private, and its
            # Requires.private packages as shared libraries): a fully static closure would also
            # need FFmpeg's and tesseract's own private libraries, some 150 of them.
            args += ["--static", "--maximum-traverse-depth=2"]
        elif how == "static":
            args += ["--static"]
        q = run(args, env=env)
        check(q.returncode == 0, f"{' '.join(args)} ({how}) {q.stderr.strip()}")
        flags = q.stdout.split()
        if how == "static":
            check(f"-l{lib}" in flags, f"pkg-config --static --libs {lib} names -l{lib}")
            flags = [f"-l:lib{lib}.a" if f == f"-l{lib}" else f for f in flags]
            if lib == "folio":
                req = run(["pkg-config", "--print-requires-private", lib], env=env).stdout.split("\n")
                req = [r.split()[0] for r in req if r.strip()]
                flags += run(["pkg-config", "--libs"] + req, env=env).stdout.split()
        exe = os.path.join(work, f"use_{lib}_{how}")
        c = run(cc + ["-std=c11", "-Wall", "-Werror", "-o", exe, os.path.join(here, src)] +
                defines + cflags + flags)
        check(c.returncode == 0, f"{src} compiles and links {how} against {lib}: " +
              (c.stderr.strip()[-800:] if c.returncode else " ".join(flags)))
        if c.returncode:
            continue
        needed = re.findall(r"\(NEEDED\).*\[(.+?)\]", run(["readelf", "-d", exe]).stdout)
        wants = f"lib{lib}.so.{major}" in needed
        check(wants == (how == "shared"),
              f"the {how} program {'needs' if how == 'shared' else 'does not need'} "
              f"lib{lib}.so.{major}: {needed}")
        p = run([exe, version, arg], env=env)
        check(p.returncode == 0, f"the {how} {lib} program runs: {p.stdout.strip()} "
              f"{p.stderr.strip()}")

if mode == "full":
    check("bin/folio" in [re.sub(r"^.*?/bin/", "bin/", f) for f in rel], "bin/folio installed")
    check(bool(staged(r"include/folio\.h$")), "include/folio.h installed")
    for name in ("folio", "folio-book", "folio-transcribe", "folio-index", "folio-export",
                 "folio-lookup", "folio-serve"):
        man = staged(rf"share/man/man1/{name}\.1$")
        check(bool(man), f"man page {name}(1) installed")
        if man and shutil.which("groff"):
            g = run(["groff", "-man", "-ww", "-z", os.path.join(stage, man[0])])
            check(g.returncode == 0 and not g.stderr, f"{name}(1) renders without warnings "
                  f"{g.stderr.strip()}")
    for doc in ("LICENSE", "README.md", "folio-index.schema.json", "export.md", "index.md"):
        check(bool(staged(rf"share/doc/folio/{re.escape(doc)}$")), f"share/doc/folio/{doc}")
    comp = staged(r"share/bash-completion/completions/folio$")
    check(bool(comp), "bash completion installed")
    if comp and shutil.which("bash"):
        # bash-completion's helpers stubbed: _filedir offers the extension pattern it was asked
        # for, so the test sees which files each position completes.
        script = f"""
_init_completion() {{ cur=${{COMP_WORDS[COMP_CWORD]}}; prev=${{COMP_WORDS[COMP_CWORD-1]}};
  words=("${{COMP_WORDS[@]}}"); cword=$COMP_CWORD; }}
_filedir() {{ COMPREPLY=("files:$*"); }}
. '{os.path.join(stage, comp[0])}'
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _folio; echo "${{COMPREPLY[*]}}"; }}
t folio in
t folio book --for
t folio book --format h
t folio export x.folio --format ''
t folio index ''
t folio index b.epub ''
t folio lookup ''
"""
        out = run(["bash", "-c", script]).stdout.splitlines()
        want = ["index", "--format", "html", "json csv vtt epub",
                "files:@(epub|html|htm|xhtml|txt)", "files:@(mp3|m4b|m4a|aac|wav|flac|ogg|opus|m3u|m3u8)",
                "files:folio"]
        check(out == want, f"bash completion completes commands, options and files: {out}")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
