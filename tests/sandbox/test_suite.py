"""Suites: parsing with clear errors, content hashes, versioned storage that is never half-done."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bayanihan.sandbox import SandboxError, load_suite
from bayanihan.sandbox.store import DirectoryStore
from bayanihan.sandbox.suite import Case, Suite, dump_cases, parse_lines, shipped_suite

text = st.text(min_size=1, max_size=80)
cases = st.lists(
    st.builds(Case, id=st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=12),
              label=st.sampled_from(["scam", "ham"]), text=text,
              language=st.none() | st.sampled_from(["en", "tl", "th"])),
    min_size=1, max_size=20, unique_by=lambda c: c.id)


@given(cases)
def test_dump_then_parse_gives_the_same_cases_and_hash(items):
    again = parse_lines(b"".join(dump_cases(items)).splitlines(), "mem")
    assert again == items
    assert Suite("s", "text", tuple(again)).sha256 == Suite("s", "text", tuple(items)).sha256


def test_hash_changes_with_any_case_content():
    suite = shipped_suite()
    first = suite.cases[0]
    changed = Suite(suite.name, suite.kind,
                    (Case(first.id, "ham", text=first.text, language=first.language),
                     *suite.cases[1:]))
    assert changed.sha256 != suite.sha256


@pytest.mark.parametrize(("line", "reason"), [
    (b'{"id": "a", "label": "scam"}', "exactly one of 'text' or 'path'"),
    (b'{"id": "a", "text": "x"}', "'label' must be a non-empty string"),
    (b'{"id": "a", "text": "x", "label": "scam", "lang": "en"}', "unknown field"),
    (b'{"id": "a", "text": "x", "label": "scam", "split": "dev"}', "'split'"),
    (b'not json', "not valid JSON"),
])
def test_bad_line_error_names_file_and_line(tmp_path, line, reason):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"id": "ok", "text": "fine", "label": "ham"}\n' + line + b"\n")
    with pytest.raises(SandboxError) as err:
        load_suite(path)
    assert err.value.field == f"{path}:2"
    assert reason in err.value.reason


def test_duplicate_ids_are_refused(tmp_path):
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"id":"a","text":"x","label":"ham"}\n{"id":"a","text":"y","label":"ham"}\n')
    with pytest.raises(SandboxError, match="duplicate id"):
        load_suite(path)


def test_store_versions_on_change_and_is_idempotent(tmp_path):
    store = DirectoryStore(tmp_path)
    suite = shipped_suite()
    assert store.add_suite(suite)["version"] == 1
    assert store.add_suite(suite)["version"] == 1  # same content: no new version
    smaller = Suite(suite.name, suite.kind, suite.cases[:5])
    assert store.add_suite(smaller)["version"] == 2
    assert store.get_suite(suite.name).sha256 == smaller.sha256
    assert store.get_suite(suite.name, 1).sha256 == suite.sha256
    assert [m["version"] for m in store.list_suites()] == [1, 2]


def test_tampered_stored_suite_is_detected(tmp_path):
    store = DirectoryStore(tmp_path)
    store.add_suite(shipped_suite())
    path = tmp_path / "suites" / "tiny-text" / "v1.jsonl"
    lines = path.read_bytes().splitlines()
    obj = orjson.loads(lines[0])
    obj["label"] = "ham"
    path.write_bytes(b"\n".join([orjson.dumps(obj), *lines[1:]]) + b"\n")
    with pytest.raises(SandboxError, match="does not match its hash"):
        store.get_suite("tiny-text")


def test_split_is_stable_and_roughly_eighty_twenty():
    suite = Suite("s", "text", tuple(Case(f"id{i}", "ham", text="x") for i in range(2000)))
    train = suite.select("train")
    assert 0.75 < len(train) / 2000 < 0.85
    assert train == suite.select("train")
    assert {c.id for c in train}.isdisjoint(c.id for c in suite.select("test"))
