#!/usr/bin/env python3
"""The export contract: the JSON Schema is itself valid, the hand-written example validates, and
documents that break the contract (missing fields, a half-null time, confidence out of range,
paths with folders) do not.

usage: test_schema.py SOURCE_ROOT
"""
import copy
import json
import os
import sys
import unittest

import jsonschema

ROOT = sys.argv[1]
SCHEMA = json.load(open(os.path.join(ROOT, "docs", "folio-index.schema.json")))
EXAMPLE = json.load(open(os.path.join(ROOT, "docs", "example-index.json")))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


class Contract(unittest.TestCase):
    def assert_invalid(self, doc):
        errors = list(VALIDATOR.iter_errors(doc))
        self.assertTrue(errors, "a broken document validated")

    def test_schema_is_valid(self):
        jsonschema.Draft202012Validator.check_schema(SCHEMA)

    def test_example_validates(self):
        VALIDATOR.validate(EXAMPLE)

    def test_example_is_consistent(self):
        # start_time == audio[file].offset + file_time, and offsets add up.
        audio = EXAMPLE["audio"]
        for a, b in zip(audio, audio[1:]):
            self.assertAlmostEqual(b["offset"], a["offset"] + a["duration"])
        for item in EXAMPLE["pages"] + EXAMPLE["words"] + EXAMPLE["chapters"]:
            if item["start_time"] is not None:
                self.assertAlmostEqual(item["start_time"],
                                       audio[item["file"]]["offset"] + item["file_time"])

    def test_missing_top_level_field(self):
        for key in EXAMPLE:
            doc = copy.deepcopy(EXAMPLE)
            del doc[key]
            self.assert_invalid(doc)

    def test_half_null_times(self):
        doc = copy.deepcopy(EXAMPLE)
        doc["pages"][1]["file"] = None
        self.assert_invalid(doc)
        doc = copy.deepcopy(EXAMPLE)
        doc["words"][0]["file_time"] = 1.0
        self.assert_invalid(doc)
        doc = copy.deepcopy(EXAMPLE)
        doc["chapters"][0]["file"] = None
        self.assert_invalid(doc)

    def test_out_of_range_values(self):
        for path, value in [(("pages", 1, "confidence"), 1.5), (("words", 1, "confidence"), -0.1),
                            (("pages", 0, "ordinal"), 0), (("book", "text_sha256"), "xyz"),
                            (("audio", 0, "path"), "dir/file.mp3"), (("version",), 2),
                            (("book", "page_source"), "guess"), (("words", 1, "start_time"), -1)]:
            doc = copy.deepcopy(EXAMPLE)
            target = doc
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            self.assert_invalid(doc)

    def test_unknown_fields_rejected_except_in_report(self):
        doc = copy.deepcopy(EXAMPLE)
        doc["pages"][0]["extra"] = 1
        self.assert_invalid(doc)
        doc = copy.deepcopy(EXAMPLE)
        doc["report"]["future_field"] = {"anything": True}
        VALIDATOR.validate(doc)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)
