"""The report model: every problem is an InvalidInput naming the field; never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bayanihan.errors import InvalidInput
from bayanihan.ingest.report_stix import lure_fingerprint
from bayanihan.ingest.reports import parse_report
from tests.reports.reportgen import report

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
FIELDS = ["vector", "channel", "title", "narrative", "first_seen", "last_seen", "lures",
          "observables", "countries", "sectors", "languages", "tlp", "audience",
          "ai_involvement", "deepfake_media", "reporting_country"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), JSON)
def test_any_value_in_any_field_is_accepted_or_named(field: str, value: Any) -> None:
    doc = report(0)
    doc[field] = value
    try:
        parse_report(doc)
    except InvalidInput as exc:
        assert exc.fields and all(f.split(".")[0].split("[")[0] in (field, "channel", "audience",
                                                                     "last_seen", "deepfake_media")
                                  for f in exc.fields), (field, exc.fields, exc.detail)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=200), st.integers(0, 3))
def test_lures_of_any_script_are_kept_unless_they_hold_binary(text: str, where: int) -> None:
    lures = [*["สวัสดี", "Selamat pagi", "Kumusta", "Xin chào"][:where], text]
    doc = report(1, lures=lures)
    try:
        kept = parse_report(doc).lures[where]
    except InvalidInput as exc:
        assert exc.fields == [f"lures[{where}]"]
        assert not text.strip() or any(_binary(c) for c in text) or text.count("\ufffd") > 1
    else:
        assert kept and kept in text and not any(_binary(c) for c in kept)


def _binary(c: str) -> bool:
    point = ord(c)
    return ((point < 32 and c not in "\t\n\r") or 0x7F <= point <= 0x9F
            or 0xD800 <= point <= 0xDFFF or point & 0xFFFE == 0xFFFE or 0xFDD0 <= point <= 0xFDEF)


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.just(" "),
               max_size=60))
def test_lure_fingerprint_ignores_case_width_and_spacing(text: str) -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c != " " else "\u3000\t" for c in text.upper())
    assert lure_fingerprint(text) == lure_fingerprint(f"  {fullwidth}\n")
    assert lure_fingerprint(text) != lure_fingerprint(text + " x")


def test_a_document_that_is_not_an_object() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_report(["vector", "phishing"])
    assert caught.value.fields == ["body"]
