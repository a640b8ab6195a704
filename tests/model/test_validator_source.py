"""What the fast path reads from stix2-validator and jsonschema without importing them is the
same as what they hold: the timestamp expression, the enumerations, the format checks and JSON
equality; and importing the hub no longer imports either (1 s of every command's start-up)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema._utils import equal
from stix2validator.v21 import enums as oasis_enums
from stix2validator.v21.musts import TIMESTAMP_FORMAT_RE
from stix2validator.validator import EMAIL_RE

from bayanihan.model import validator_source as source
from bayanihan.model.stix import parse_us
from bayanihan.model.validation_checks import format_check, remembered_flat
from bayanihan.model.validation_schema import schema_paths

FORMATS = ("uri", "email", "idn-hostname", "idn-email")
TEXT_SAMPLES = [
    "https://attack.mitre.org/techniques/T1566", "http://x.example/a b", "mailto:a@b.example",
    "urn:isbn:0451450523", "//no-scheme.example/", "https://[::1]:80/", "https://[zz]/",
    "https://example.com/%zz", "a@b", "nobody", "", " ", "xn--bcher-kva.example", "bücher.example",
    "ex ample.com", "a" * 64 + ".example", "-bad.example", "good-.example", "\u0000", "\udcff",
    "https://ex.example/päth", "ftp://a/b?c#d", "http://a:b@c.example:99999/",
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3, allow_nan=False)
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                 max_size=3),
    max_leaves=8)


def test_timestamp_and_email_expressions_are_the_validators() -> None:
    assert source.TIMESTAMP_FORMAT_RE.pattern == TIMESTAMP_FORMAT_RE.pattern
    assert source.EMAIL_RE.pattern == EMAIL_RE.pattern


def test_enumerations_and_schema_folder_are_the_validators() -> None:
    mine = source.enums()
    for name in ("LANG_CODES", "TIMESTAMP_PROPERTIES", "TIMESTAMP_COMPARE", "OBSERVABLE_TYPES",
                 "OBSERVABLE_PROPERTIES"):
        assert getattr(mine, name) == getattr(oasis_enums, name), name
    assert "relationship" in schema_paths() and "core" in schema_paths()


def _jsonschema_conforms(name: str, value: Any) -> bool:
    """The verdict of the format checker stix2validator validates with (it has replaced
    ``email`` on it by now: imported above)."""
    return bool(Draft202012Validator.FORMAT_CHECKER.conforms(value, name))


def test_format_checks_agree_with_jsonschema_on_samples() -> None:
    for name in FORMATS:
        check = format_check(name)
        for value in [*TEXT_SAMPLES, 1, None, ["x"]]:
            assert check(value) == _jsonschema_conforms(name, value), (name, value)


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(FORMATS),
       value=st.text(alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "S", "Z"]),
                     max_size=30)
       | st.from_regex(r"[a-z]{1,6}:(//)?[a-z0-9.@:\[\]%-]{0,20}(/[a-z0-9%?#=&.-]{0,10})?",
                       fullmatch=True))
def test_format_checks_agree_with_jsonschema(name: str, value: str) -> None:
    assert format_check(name)(value) == _jsonschema_conforms(name, value)


@settings(max_examples=500, deadline=None)
@given(one=json_values, two=json_values)
def test_json_equality_is_jsonschemas(one: Any, two: Any) -> None:
    assert source.json_equal(one, two) == bool(equal(one, two))
    assert source.json_equal(one, one) == bool(equal(one, one))


def test_true_is_not_one() -> None:
    assert not source.json_equal(True, 1) and not source.json_equal([False], [0])
    assert source.json_equal({"a": [1, "x"]}, {"a": [1.0, "x"]})


@settings(max_examples=300, deadline=None)
@given(st.datetimes(), st.integers(0, 999))
def test_the_common_timestamp_form_reads_as_the_general_one(moment: Any, millis: int) -> None:
    stamp = f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}"
    common = f"{stamp}.{millis:03d}Z"
    general = f"{stamp}.{millis:03d}000+00:00"  # other digits, an offset: the general path
    assert parse_us(common) == parse_us(general)


def test_importing_the_hub_imports_neither_the_validator_nor_jsonschema() -> None:
    code = ("import sys, bayanihan.hub, bayanihan.ingest.bundles, bayanihan.model.validation;"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('jsonschema', 'stix2validator', 'rfc3987_syntax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_flat_memo_remembers_only_objects_of_strings() -> None:
    calls: list[Any] = []

    def check(v: Any) -> bool:
        calls.append(v)
        return all(type(x) is str for x in v.values())

    recall = remembered_flat(check)
    flat = {"source_name": "x", "url": "https://x.example/"}
    assert recall(flat) and recall(dict(flat)) and len(calls) == 1  # the second from memory
    assert not recall({"source_name": "x", "url": True}) and not recall({"source_name": "x",
                                                                        "url": True})
    assert len(calls) == 3  # a boolean is never remembered, so never confused with 1
    assert not recall({"source_name": "x", "url": ["a"]}) and len(calls) == 4  # unhashable
    assert recall({"url": "https://x.example/", "source_name": "x"})  # another order: checked
    assert len(calls) == 5
