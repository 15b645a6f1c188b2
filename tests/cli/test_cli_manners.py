#!/usr/bin/env python3
"""CLI tests of how `folio` takes its command line: getopt_long conventions (--opt value,
--opt=value, -- ends the options), -h/--help on every command printing that command's usage and
options (and the options it prints are the ones it takes), options before the command, "did you
mean", audio given before the book, and -o checked before any work.

usage: test_cli_manners.py FOLIO DEMO_EPUB SOURCE_ROOT
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest

FOLIO, DEMO, ROOT = (os.path.abspath(a) for a in sys.argv[1:4])
COMMANDS = ["book", "transcribe", "index", "export", "lookup", "serve"]


def folio(*args, cwd=None):
    return subprocess.run([FOLIO, *args], capture_output=True, timeout=60, cwd=cwd)


def help_options(text):
    """The long options a help text lists: {name: takes_value}."""
    found = {}
    for m in re.finditer(r"^  (?:-\w, |    )--([a-z-]+)(=\S+)?", text, re.M):
        found[m.group(1)] = m.group(2) is not None
    return found


class Help(unittest.TestCase):
    def test_every_command_answers_help_with_its_own_usage(self):
        for cmd in COMMANDS:
            for flag in ("-h", "--help"):
                r = folio(cmd, flag)
                self.assertEqual(r.returncode, 0, (cmd, flag, r.stderr))
                out = r.stdout.decode()
                self.assertTrue(out.startswith(f"usage: folio {cmd} "), out[:80])
                self.assertIn("\noptions:\n", out)
                self.assertEqual(r.stderr, b"")
                # Only this command's usage: no other command's synopsis.
                for other in COMMANDS:
                    if other != cmd:
                        self.assertNotIn(f"folio {other} ", out, (cmd, other))

    def test_help_command_prints_the_same_as_dash_dash_help(self):
        for cmd in COMMANDS:
            self.assertEqual(folio("help", cmd).stdout, folio(cmd, "--help").stdout, cmd)

    def test_help_after_other_arguments_still_helps(self):
        r = folio("export", "some.folio", "--format", "csv", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith(b"usage: folio export "))

    def test_the_options_help_lists_are_the_options_the_command_takes(self):
        expected = {
            "book": {"json", "text", "tokens", "pronunciations", "format", "first-page-label",
                     "dict"},
            "transcribe": {"output", "threads", "restart", "search", "model", "dict"},
            "index": {"output", "force", "threads", "restart", "search", "model", "dict"},
            "export": {"format", "output", "book", "granularity", "embed-audio", "audio-url",
                       "link-audio", "audio"},
            "lookup": {"page", "ordinal", "time", "file", "text", "text-file", "image",
                       "scan-to-read", "candidates"},
        }
        common = {"quiet", "verbose", "help"}
        for cmd, names in expected.items():
            listed = help_options(folio(cmd, "--help").stdout.decode())
            self.assertEqual(set(listed), names | common, cmd)
            for name, takes_value in listed.items():
                if name == "help":
                    continue
                arg = f"--{name}=1" if takes_value else f"--{name}"
                err = folio(cmd, arg).stderr.decode()
                self.assertNotIn("unknown option", err, (cmd, arg))
                self.assertNotIn("did you mean", err, (cmd, arg))

    def test_top_level_help_and_version(self):
        for args in (["--help"], ["-h"], ["help"]):
            r = folio(*args)
            self.assertEqual(r.returncode, 0, args)
            out = r.stdout.decode()
            for cmd in COMMANDS:
                self.assertRegex(out, rf"\n  {cmd} ", (args, cmd))
        for args in (["--version"], ["version"]):
            r = folio(*args)
            self.assertEqual(r.returncode, 0)
            self.assertRegex(r.stdout.decode(), r"^folio \d+\.\d+")

    def test_no_command_is_a_usage_error(self):
        r = folio()
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"usage: folio", r.stderr)


class Conventions(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def test_equals_form_is_the_spaced_form(self):
        a = folio("book", DEMO, "--format", "epub", "--json")
        b = folio("book", DEMO, "--format=epub", "--json")
        self.assertEqual(a.returncode, 0, a.stderr)
        self.assertEqual(a.stdout, b.stdout)
        r = folio("book", DEMO, "--format=pdf")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--format takes auto, epub, html or txt, not 'pdf'", r.stderr.decode())

    def test_options_may_come_after_the_arguments(self):
        self.assertEqual(folio("book", "--text", DEMO).stdout, folio("book", DEMO, "--text").stdout)

    def test_double_dash_ends_the_options(self):
        shutil.copy(DEMO, os.path.join(self.tmp.name, "-demo.epub"))
        r = folio("book", "-demo.epub", cwd=self.tmp.name)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option", r.stderr.decode())
        r = folio("book", "--", "-demo.epub", cwd=self.tmp.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(b"The Lighthouse Ledger", r.stdout)
        # After "--", "--json" is an argument: a second book.
        r = folio("book", "--", DEMO, "--json")
        self.assertEqual(r.returncode, 2)
        self.assertIn("one book at a time", r.stderr.decode())

    def test_a_missing_value_is_named(self):
        r = folio("book", DEMO, "--format")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--format needs a value", r.stderr.decode())

    def test_quiet_and_verbose_before_the_command(self):
        r = folio("-v", "book", DEMO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("folio: info:", r.stderr.decode())
        r = folio("-q", "book", DEMO)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, b"")
        self.assertEqual(r.stdout, folio("book", DEMO).stdout)
        r = folio("--bogus", "book", DEMO)
        self.assertEqual(r.returncode, 2)
        self.assertIn("before the command", r.stderr.decode())

    def test_did_you_mean_a_command(self):
        r = folio("boook", DEMO)
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'boook'; did you mean 'book'?", r.stderr.decode())
        r = folio("expotr")
        self.assertIn("did you mean 'export'?", r.stderr.decode())
        r = folio("frobnicate")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown command 'frobnicate'", r.stderr.decode())
        self.assertNotIn("did you mean", r.stderr.decode())

    def test_did_you_mean_an_option(self):
        r = folio("book", DEMO, "--josn")
        self.assertEqual(r.returncode, 2)
        self.assertIn("unknown option '--josn'; did you mean '--json'?", r.stderr.decode())
        r = folio("export", "x.folio", "--granularty=word")
        self.assertIn("did you mean '--granularity'?", r.stderr.decode())
        r = folio("lookup", "x.folio", "--candidtaes", "3")
        self.assertIn("did you mean '--candidates'?", r.stderr.decode())
        r = folio("book", DEMO, "--zzzzzz")
        self.assertNotIn("did you mean", r.stderr.decode())


class BookAndAudio(unittest.TestCase):
    """index and transcribe: what they say about their arguments before doing any work."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        # An MP3's first bytes (an ID3v2 tag header), under a name that does not say so.
        self.audio = os.path.join(self.dir, "track-one.bin")
        with open(self.audio, "wb") as f:
            f.write(b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(64))
        self.named = os.path.join(self.dir, "001.mp3")
        shutil.copy(self.audio, self.named)

    def tearDown(self):
        self.tmp.cleanup()

    def fails(self, args, code, *needles):
        r = folio(*args)
        self.assertEqual(r.returncode, code, r.stderr)
        err = r.stderr.decode()
        for n in needles:
            self.assertIn(n, err)
        self.assertNotIn("NUL", err)
        return err

    def test_audio_before_the_book_says_book_comes_first(self):
        for cmd in ("index", "transcribe"):
            out = os.path.join(self.dir, "x.out")
            for first in (self.audio, self.named):
                self.fails([cmd, first, DEMO, "-o", out], 2, first, "BOOK comes first")
            # A folder of audio first.
            self.fails([cmd, self.dir, DEMO, "-o", out], 2, self.dir, "BOOK comes first")
            self.assertFalse(os.path.exists(out))

    def test_output_that_is_a_folder_fails_at_once(self):
        for cmd in ("index", "transcribe"):
            # The audio does not exist: the -o check comes before anything is opened.
            missing = os.path.join(self.dir, "absent.mp3")
            err = self.fails([cmd, DEMO, missing, "-o", self.dir], 1, self.dir, "is a folder")
            self.assertNotIn("absent.mp3", err)
        r = folio("export", "whatever.folio", "-o", self.dir)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"{self.dir}: is a folder", r.stderr.decode())

    def test_output_in_a_missing_folder_fails_at_once(self):
        target = os.path.join(self.dir, "no", "such", "x.folio")
        for cmd in ("index", "transcribe"):
            err = self.fails([cmd, DEMO, self.named, "-o", target], 1, target, "does not exist")
            self.assertNotIn(".part", err)
        r = folio("export", "whatever.folio", "--format", "csv", "-o", target)
        self.assertEqual(r.returncode, 1)
        self.assertIn(target, r.stderr.decode())
        self.assertFalse(os.path.exists(os.path.join(self.dir, "no")))

    def test_output_in_a_read_only_folder_fails_at_once(self):
        ro = os.path.join(self.dir, "ro")
        os.mkdir(ro)
        os.chmod(ro, stat.S_IRUSR | stat.S_IXUSR)
        mounted = False
        try:
            if os.access(ro, os.W_OK):
                # root may write into any folder, but not into a read-only mount.
                mounted = subprocess.run(["mount", "--bind", ro, ro],
                                         capture_output=True).returncode == 0
                if not mounted or subprocess.run(["mount", "-o", "remount,bind,ro", ro],
                                                 capture_output=True).returncode != 0:
                    self.skipTest("this user may write anywhere and cannot mount read-only")
            target = os.path.join(ro, "x.folio")
            for cmd in ("index", "transcribe"):
                self.fails([cmd, DEMO, self.named, "-o", target], 1, target, "cannot be written")
            r = folio("export", "whatever.folio", "-o", target)
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot be written", r.stderr.decode())
            self.assertEqual(os.listdir(ro), [])
        finally:
            if mounted:
                subprocess.run(["umount", ro], capture_output=True)
            os.chmod(ro, stat.S_IRWXU)

if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
