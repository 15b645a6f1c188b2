#!/usr/bin/env python3
"""The corpus builder's ground truth, checked independently of the builder: against the audio
files themselves (length, energy where words start, silence where nothing is said), against the
book it wrote (as Folio reads it), and for internal consistency.

The WAV corpora (mini, mini-slow) are rebuilt utterance by utterance by the probe
(tests/cli/truth_probe.c), a separate program that synthesises the same texts with libflite and
decodes with libsndfile. The MP3 corpus (mini-mp3, 44.1 kHz stereo like the real corpora) is
decoded by Debian's ffmpeg and compared with mini's WAV for the encoder's delay. Real recordings'
durations are compared with libsndfile's decode.

usage: test_truth.py MKCORPUS FOLIO SOURCE_ROOT WORKDIR PROBE
"""
import array
import json
import math
import operator
import os
import shutil
import subprocess
import sys
import unittest
import wave

MKCORPUS, FOLIO, ROOT, WORK, PROBE = sys.argv[1:6]
DEFS = os.path.join(ROOT, "tests", "corpora")


def build(name, into=None):
    out = os.path.join(WORK, into or name)
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([MKCORPUS, os.path.join(DEFS, name), out], capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(out, "truth.json")) as f:
        return out, json.load(f)


def flite_say(voice, stretch, texts):
    """The probe's own synthesis of @texts: per text, its samples (16 kHz), where flite's last
    segment ends, and its sounding tokens as (start, end, said) in seconds from its start."""
    raw = os.path.join(WORK, "probe.raw")
    r = subprocess.run([PROBE, "say", voice, repr(stretch), raw],
                       input="".join(t + "\n" for t in texts).encode(), capture_output=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    pcm = array.array("h")
    with open(raw, "rb") as f:
        pcm.frombytes(f.read())
    out, at = [], 0
    for line in r.stdout.decode().splitlines():
        parts = line.split(" ")
        if parts[0] == "U":
            n = int(parts[1])
            out.append({"pcm": pcm[at:at + n], "seg_end": float(parts[2]), "tokens": []})
            at += n
        else:
            out[-1]["tokens"].append((float(parts[1]), float(parts[2]), " ".join(parts[3:])))
    assert at == len(pcm) and len(out) == len(texts)
    return out


def ffmpeg_samples(path, rate=None):
    """@path decoded by ffmpeg, down-mixed to mono 16-bit (at @rate, else the file's own)."""
    cmd = ["ffmpeg", "-v", "error", "-i", path, "-f", "s16le", "-ac", "1"]
    r = subprocess.run(cmd + (["-ar", str(rate)] if rate else []) + ["-"], capture_output=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    data = array.array("h")
    data.frombytes(r.stdout)
    return data


def samples(path):
    with wave.open(path) as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        rate = w.getframerate()
        data = array.array("h", w.readframes(w.getnframes()))
    return rate, data


def rms(data, rate, start, end):
    a, b = int(start * rate), int(end * rate)
    seg = data[a:b]
    return math.sqrt(sum(x * x for x in seg) / len(seg)) if len(seg) else 0.0


def check_word_times(test, truth):
    """Read words' times lie inside their file, in order, on the global timeline; unread words
    have none. Returns how many read words there are."""
    durations = [a["duration"] for a in truth["audio"]]
    last, n = {}, 0
    for w in truth["words"]:
        if not w["read"]:
            test.assertIsNone(w["file_time"])
            test.assertIsNone(w["time"])
            continue
        f = w["file"]
        test.assertLessEqual(0, w["file_time"])
        test.assertLess(w["file_time"], w["end_file_time"])
        test.assertLessEqual(w["end_file_time"], durations[f])
        test.assertGreaterEqual(w["file_time"], last.get(f, 0.0) - 1e-6)
        last[f] = w["end_file_time"]
        test.assertAlmostEqual(w["time"], truth["audio"][f]["offset"] + w["file_time"], places=4)
        n += 1
    return n


class Truth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir, cls.truth = build("mini")
        cls.slow_dir, cls.slow = build("mini-slow")

    def test_file_lengths_and_offsets_are_the_wav_lengths(self):
        offset = 0.0
        for a in self.truth["audio"]:
            rate, data = samples(os.path.join(self.dir, a["path"]))
            self.assertAlmostEqual(a["duration"], len(data) / rate, places=4)
            self.assertAlmostEqual(a["offset"], offset, places=4)
            offset += a["duration"]

    def test_files_are_flite_utterances_and_silence_and_words_are_their_segments(self):
        """Each file is rebuilt from flite on its own. The probe synthesises every utterance
        the truth lists (its text, the file's voice and stretch) and the test finds those exact
        samples in the WAV by searching for them, not by trusting the truth's offsets: the
        utterances must follow one another in order with nothing but digital silence between
        them, so a file's length is its utterances' samples plus silence. Each utterance's
        place found this way plus the probe's own segment times (walked from the Segment
        relation upwards, the opposite way to mkcorpus) gives every read word's start and end,
        and these must be the truth's: a word put in the wrong utterance or at a wrong offset
        fails here. flite's segment timing itself is checked against its audio: the last
        segment ends within a short final pause of the utterance's samples. The truth's
        speech_seconds and inserted_seconds must be what was found."""
        for folder, truth in ((self.dir, self.truth), (self.slow_dir, self.slow)):
            for f, a in enumerate(truth["audio"]):
                with self.subTest(corpus=truth["corpus"], file=f):
                    self.check_file_rebuilt(folder, truth, f, a)

    def check_file_rebuilt(self, folder, truth, f, a):
        rate, data = samples(os.path.join(folder, a["path"]))
        raw = data.tobytes()
        utts = [u for u in truth["utterances"] if u["file"] == f]
        said = flite_say(a["voice"], a["stretch"], [u["text"] for u in utts])
        pos = silent = speech = added = 0
        expected, inserted = [], []
        for u, p in zip(utts, said):
            n = len(p["pcm"])
            at = raw.find(p["pcm"].tobytes(), 2 * pos)
            while at > 0 and at % 2:
                at = raw.find(p["pcm"].tobytes(), at + 1)
            self.assertGreaterEqual(at, 0, f"not in the audio: {u['text'][:60]}")
            at //= 2
            self.assertFalse(any(data[pos:at]), "only silence between utterances")
            silent += at - pos
            start = at / rate
            self.assertAlmostEqual(u["start"], start, places=5)
            self.assertAlmostEqual(u["end"], (at + n) / rate, places=5)
            self.assertAlmostEqual(u["segments_end"], start + p["seg_end"], places=5)
            self.assertLess(abs(p["seg_end"] - n / rate), 0.15, u["text"][:60])
            if u["kind"] in ("heading", "paragraph"):
                speech += n
                expected += [(start + s, start + e, w) for s, e, w in p["tokens"]]
            else:
                added += n
                inserted.append((u["kind"], start, (at + n) / rate, u["text"]))
            pos = at + n
        self.assertFalse(any(data[pos:]), "only silence after the last utterance")
        silent += len(data) - pos
        self.assertEqual(speech + added + silent, len(data))
        self.assertAlmostEqual(a["speech_seconds"], speech / rate, places=3)
        self.assertAlmostEqual(a["inserted_seconds"], (added + silent) / rate, places=3)
        got = [(i["kind"], i["start"], i["end"], i["text"]) for i in truth["inserted"]
               if i["file"] == f and i["kind"] != "silence"]
        self.assertEqual(len(got), len(inserted))
        for g, e in zip(got, inserted):
            self.assertEqual((g[0], g[3]), (e[0], e[3]))
            self.assertAlmostEqual(g[1], e[1], places=5)
            self.assertAlmostEqual(g[2], e[2], places=5)
        words = [w for w in truth["words"] if w["read"] and w["file"] == f]
        self.assertEqual(len(words), len(expected))
        for w, (s, e, sd) in zip(words, expected):
            self.assertEqual(w["said"], sd, w)
            self.assertAlmostEqual(w["file_time"], s, delta=2e-5, msg=w)
            self.assertAlmostEqual(w["end_file_time"], e, delta=2e-5, msg=w)

    def test_word_times_are_monotonic_and_inside_their_file(self):
        check_word_times(self, self.truth)

    def test_words_start_where_there_is_sound(self):
        # Independent of flite's segment times: the audio itself must carry energy in the 150 ms
        # after most word starts, and none in the builder's inserted silences.
        loud = total = 0
        cache = {}
        for w in self.truth["words"]:
            if not w["read"]:
                continue
            f = w["file"]
            if f not in cache:
                cache[f] = samples(os.path.join(self.dir, self.truth["audio"][f]["path"]))
            rate, data = cache[f]
            total += 1
            loud += rms(data, rate, w["file_time"], min(w["end_file_time"], w["file_time"] + 0.15)) > 300
        self.assertGreater(total, 500)
        self.assertGreater(loud / total, 0.97)
        silences = [i for i in self.truth["inserted"] if i["kind"] == "silence"]
        self.assertEqual(len(silences), 1)
        s = silences[0]
        rate, data = cache[s["file"]]
        self.assertAlmostEqual(s["end"] - s["start"], 6.0, places=3)
        self.assertLess(rms(data, rate, s["start"] + 0.05, s["end"] - 0.05), 1.0)

    def test_unread_pages_are_null_and_read_pages_start_at_their_first_read_word(self):
        first = {}
        for w in self.truth["words"]:
            if w["read"] and w["page"] not in first:
                first[w["page"]] = w
        nulls = 0
        for p in self.truth["pages"]:
            w = first.get(p["label"])
            if w is None:
                self.assertIsNone(p["file"])
                self.assertIsNone(p["time"])
                nulls += 1
            else:
                self.assertEqual(p["file"], w["file"])
                self.assertAlmostEqual(p["file_time"], w["file_time"], places=4)
        self.assertEqual(nulls, 3)  # title page, copyright page, contents

    def test_perturbations_leave_their_words_unread(self):
        kinds = {w["kind"] for w in self.truth["words"] if not w["read"]}
        self.assertTrue({"frontmatter", "toc", "footnote", "paragraph"} <= kinds, kinds)
        inserted = {i["kind"] for i in self.truth["inserted"]}
        self.assertEqual(inserted, {"preamble", "outro", "added", "silence"})

    def test_stretched_file_matches_its_duration(self):
        fast, slow = self.truth["audio"][1], self.slow["audio"][1]
        self.assertEqual(fast["stretch"], 0.8)
        self.assertEqual(slow["stretch"], 1.0)
        ratio = fast["speech_seconds"] / slow["speech_seconds"]
        self.assertGreater(ratio, 0.72)
        self.assertLess(ratio, 0.88)
        rate, data = samples(os.path.join(self.dir, fast["path"]))
        last = max(w["end_file_time"] for w in self.truth["words"] if w["read"] and w["file"] == 1)
        outro = [i for i in self.truth["inserted"] if i["file"] == 1 and i["kind"] == "outro"][0]
        self.assertLess(last, outro["start"])
        self.assertAlmostEqual(outro["end"] + 1.0, len(data) / rate, delta=0.01)

    def test_book_pages_match_the_truth(self):
        for name in ("book.epub", "book.txt"):
            r = subprocess.run([FOLIO, "book", os.path.join(self.dir, name), "--json"],
                               capture_output=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
            pages = json.loads(r.stdout)["pages"]
            self.assertEqual(len(pages), len(self.truth["pages"]))
            if name == "book.epub":
                self.assertEqual([p["label"] for p in pages], [p["label"] for p in self.truth["pages"]])

    def test_builds_are_deterministic(self):
        again, truth = build("mini")
        self.assertEqual(truth, self.truth)
        for a in self.truth["audio"]:
            with open(os.path.join(self.dir, a["path"]), "rb") as x, open(os.path.join(again, a["path"]), "rb") as y:
                self.assertEqual(x.read(), y.read())


def best_lag(ref, dec, start, length=4000, max_lag=800):
    """The lag (in samples) at which @dec best matches @ref's @length samples from @start:
    normalised cross-correlation over +-@max_lag."""
    seg = ref[start:start + length]
    best, best_v = 0, -2.0
    for lag in range(-max_lag, max_lag + 1):
        d = dec[start + lag:start + lag + length]
        energy = sum(map(operator.mul, d, d))
        if len(d) < length or not energy:
            continue
        v = sum(map(operator.mul, seg, d)) / math.sqrt(energy)
        if v > best_v:
            best, best_v = lag, v
    return best


class Mp3(unittest.TestCase):
    """The mini corpus as MP3, 44.1 kHz stereo (mini-mp3: the same narration as mini, so the same
    samples before encoding), checked against ffmpeg's decode of the files."""

    @classmethod
    def setUpClass(cls):
        cls.dir, cls.truth = build("mini-mp3")
        cls.wav_dir, cls.wav = build("mini", "mini-mp3-reference")
        cls.decoded = [ffmpeg_samples(os.path.join(cls.dir, a["path"]), 16000)
                       for a in cls.truth["audio"]]

    def test_durations_are_the_decoded_lengths(self):
        offset = 0.0
        for a in self.truth["audio"]:
            path = os.path.join(self.dir, a["path"])
            r = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                                "stream=sample_rate,channels", "-of", "json", path],
                               capture_output=True, timeout=60)
            stream = json.loads(r.stdout)["streams"][0]
            self.assertEqual((int(stream["sample_rate"]), stream["channels"]), (44100, 2))
            self.assertEqual((a["sample_rate"], a["channels"]), (44100, 2))
            n = len(ffmpeg_samples(path))  # at the file's own rate
            self.assertAlmostEqual(a["duration"], n / 44100, places=4, msg=a["path"])
            self.assertAlmostEqual(a["offset"], offset, places=4)
            offset += a["duration"]

    def test_word_times_are_monotonic_and_inside_their_file(self):
        self.assertGreater(check_word_times(self, self.truth), 1000)

    def test_words_start_where_there_is_sound(self):
        # Speech energy within 50 ms after a word's start: a 10 ms frame there reaching 1% of the
        # file's loud speech (its 95th-percentile frame), far above the decoded silence between
        # utterances. Words opening with a stop's closure may be quiet longer: 95% must pass.
        # A truth 50 ms early fails (about 85% pass).
        rate = 16000
        for f, a in enumerate(self.truth["audio"]):
            data = self.decoded[f]
            frames = sorted(rms(data, rate, k / 100, (k + 1) / 100) for k in range(len(data) // 160))
            floor = 0.01 * frames[int(0.95 * len(frames))]
            words = [w for w in self.truth["words"] if w["read"] and w["file"] == f]
            loud = sum(max(rms(data, rate, w["file_time"] + k * 0.005, w["file_time"] + k * 0.005 +
                               0.01) for k in range(5)) > floor for w in words)
            self.assertGreater(loud / len(words), 0.95, a["path"])
            for s in self.truth["inserted"]:
                if s["kind"] == "silence" and s["file"] == f:
                    self.assertLess(rms(data, rate, s["start"] + 0.05, s["end"] - 0.05), floor)

    def test_encoder_lag_is_measured_and_the_times_follow_it(self):
        # The lag between the narration before encoding (mini's WAV: same voices, same texts) and
        # ffmpeg's decode of the MP3, found by cross-correlation here, must be the truth's
        # encoder_lag, and every word must be where it is in the WAV plus that lag.
        wav_words = [w for w in self.wav["words"] if w["read"]]
        mp3_words = [w for w in self.truth["words"] if w["read"]]
        self.assertEqual([w["text"] for w in wav_words], [w["text"] for w in mp3_words])
        for f, a in enumerate(self.truth["audio"]):
            rate, ref = samples(os.path.join(self.wav_dir, self.wav["audio"][f]["path"]))
            first = next(i for i, x in enumerate(ref) if abs(x) > 100)
            lag = best_lag(ref, self.decoded[f], first + rate // 4) / rate
            self.assertAlmostEqual(a["encoder_lag"], lag, delta=0.001, msg=a["path"])
            for w, m in zip(wav_words, mp3_words):
                if w["file"] == f:
                    self.assertAlmostEqual(m["file_time"], w["file_time"] + lag, delta=0.001)
                    self.assertAlmostEqual(m["end_file_time"], w["end_file_time"] + lag,
                                           delta=0.001)


class GeneratedNotes(unittest.TestCase):
    def test_added_notes_never_repeat_their_wording(self):
        # A Gutenberg-style book of 55 tiny chapters (more than the 10-hour book's 50), made here,
        # gets a note per chapter from the builder: no two may share a run of four words.
        folder = os.path.join(WORK, "notes-def")
        os.makedirs(folder, exist_ok=True)
        numbers = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        with open(os.path.join(folder, "book.txt"), "w") as f:
            f.write("Title: Fifty-five Rooms\nAuthor: Nobody\n\n*** START OF THE BOOK ***\n\n")
            for c in range(1, 56):
                digits = " ".join(numbers[int(d)] for d in str(c))
                f.write(f"CHAPTER {c}\n\nRoom {digits} is empty.\n\nIts door is {digits}.\n\n")
            f.write("*** END OF THE BOOK ***\n")
        with open(os.path.join(folder, "corpus.conf"), "w") as f:
            f.write(f"source = gutenberg:{folder}/book.txt\nvoices = kal16\nfootnotes = yes\n"
                    "audio = wav\n")
        out = os.path.join(WORK, "notes")
        shutil.rmtree(out, ignore_errors=True)
        r = subprocess.run([MKCORPUS, folder, out], capture_output=True, timeout=600)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        with open(os.path.join(out, "truth.json")) as f:
            truth = json.load(f)
        notes, run = [], None
        for w in truth["words"]:
            if w["kind"] != "footnote":
                run = None
                continue
            self.assertFalse(w["read"])
            if run is None:
                run = []
                notes.append(run)
            run.append("".join(ch for ch in w["text"].lower() if ch.isalnum() or ch == "-"))
        self.assertEqual(len(notes), 55)
        seen = {}
        for i, words in enumerate(notes):
            self.assertEqual(words[:2], ["note", str(i + 1)])
            for k in range(len(words) - 3):
                gram = tuple(words[k:k + 4])
                self.assertNotIn(gram, seen, f"note {i + 1} repeats note {seen.get(gram, 0) + 1}")
                seen[gram] = i


class RealSpeech(unittest.TestCase):
    def test_testdata_pages_start_at_speech_onsets(self):
        out = os.path.join(WORK, "testdata")
        shutil.rmtree(out, ignore_errors=True)
        r = subprocess.run([MKCORPUS, "testdata", out], capture_output=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "truth.json")) as f:
            truth = json.load(f)
        self.assertFalse(truth["word_times"])
        rate, data = samples(os.path.join(out, truth["audio"][0]["path"]))
        self.assertAlmostEqual(truth["audio"][0]["duration"], len(data) / rate, places=4)
        timed = [p for p in truth["pages"] if p["time"] is not None]
        self.assertEqual(len(timed), 5)
        def peak(a, b):
            return max(rms(data, rate, a + k / 100, a + (k + 1) / 100) for k in range(int((b - a) * 100)))
        for p in timed:
            t = p["file_time"]
            # Quiet just before the onset, speech just after it. The clips are quiet and their
            # levels differ: compare with the loudest 10 ms of the two seconds that follow.
            loud = peak(t, t + 2.0)
            before = rms(data, rate, max(0, t - 0.08), t - 0.02)
            self.assertGreater(peak(t, t + 0.1), 3 * before, p)
            self.assertGreater(peak(t, t + 0.1), 0.1 * loud, p)
            self.assertLess(before, 0.1 * loud, p)
        # The framing paragraphs are in the book and never read.
        unread = [w for w in truth["words"] if not w["read"] and w["kind"] == "paragraph"]
        self.assertGreater(len(unread), 100)

    def test_given_recordings_durations_are_their_decoded_lengths(self):
        # Moby-Dick's MP3s state 88.033 s and 18.547 s in their headers but decode to 88.000 s
        # and 18.500 s: the truth must have what a decoder gives (here libsndfile, through the
        # probe, as Folio reads MP3), or every later file's offset is off.
        out = os.path.join(WORK, "mobydick")
        shutil.rmtree(out, ignore_errors=True)
        r = subprocess.run([MKCORPUS, "mobydick", out], capture_output=True, timeout=300)
        if r.returncode == 77:
            self.skipTest(r.stderr.decode().strip())
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "truth.json")) as f:
            truth = json.load(f)
        paths = [os.path.join(out, a["path"]) for a in truth["audio"]]
        r = subprocess.run([PROBE, "frames", *paths], capture_output=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        offset = 0.0
        for a, line in zip(truth["audio"], r.stdout.decode().splitlines()):
            frames, rate, _ = map(int, line.split())
            self.assertAlmostEqual(a["duration"], frames / rate, delta=0.001, msg=a["path"])
            self.assertAlmostEqual(a["offset"], offset, places=6)
            offset += a["duration"]
        self.assertEqual(len(truth["audio"]), 2)

    def test_absent_source_is_skipped(self):
        env = dict(os.environ, FOLIO_CORPORA="/nonexistent-corpora")
        r = subprocess.run([MKCORPUS, "hour", os.path.join(WORK, "absent")], capture_output=True,
                           env=env, timeout=60)
        self.assertEqual(r.returncode, 77)
        self.assertIn(b"absent", r.stderr)


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=[sys.argv[0]], verbosity=2)
