"""Grid templates are data: labelled in both languages, valid, and never edited once published."""

from __future__ import annotations

import hashlib

from app.grid.templates import BUILT_IN, GridTemplates

# A published version never changes (submissions are validated against it):
# a new grid is a new file, v2.json.
V1_SHA256 = "82d8dfc5a821f44eeb734242f905404337260456f3d1b7736787e5ecc1dd2862"


def test_version_1_is_unchanged():
    assert hashlib.sha256((BUILT_IN / "v1.json").read_bytes()).hexdigest() == V1_SHA256


def _walk(schema: dict, path: str = ""):
    yield path, schema
    for name, child in schema.get("properties", {}).items():
        yield from _walk(child, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        yield from _walk(schema["items"], f"{path}[]")


def test_every_field_and_answer_has_a_french_and_an_english_label():
    for version in GridTemplates([BUILT_IN]).versions():
        document = GridTemplates([BUILT_IN]).get(version).document
        assert set(document["title"]) == {"fr", "en"}
        for path, schema in _walk(document["schema"]):
            if not path:
                continue
            if "x-labels" in schema or not path.endswith("[]"):
                assert set(schema.get("x-labels", {})) == {"fr", "en"}, path
            if "enum" in schema:
                labels = schema["x-enum-labels"]
                assert set(labels) == set(schema["enum"]), path
                assert all(set(label) == {"fr", "en"} and all(label.values()) for label in labels.values()), path
        for rule in document["flag_rules"]:
            assert set(rule["x-labels"]) == {"fr", "en"}
