"""What a sender sees: invalid STIX named by field, valid STIX accepted, at ingest speed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from bayanihan.model.validation import Problem, validate
from tests.model.conftest import indicator

BROKEN: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("missing pattern", lambda o: o.pop("pattern"), "pattern"),
    ("missing id", lambda o: o.pop("id"), "id"),
    ("id not a UUID", lambda o: o.update(id="indicator--not-a-uuid"), "id"),
    ("id of another type",
     lambda o: o.update(id="malware--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f"), "id"),
    ("30 February", lambda o: o.update(created="2026-02-30T00:00:00.000Z"), "created"),
    ("created without milliseconds", lambda o: o.update(created="2026-11-20T08:15:00Z"),
     "created"),
    ("modified before created", lambda o: o.update(modified="2026-11-19T08:15:00.000Z"),
     "modified"),
    ("unterminated pattern", lambda o: o.update(pattern="[url:value = 'x'"), "pattern"),
    ("bad SHA-256 in pattern", lambda o: o.update(pattern="[file:hashes.'SHA-256' = 'ab']"),
     "pattern"),
    ("marking ref not an id", lambda o: o.update(object_marking_refs=["tlp-amber"]),
     "object_marking_refs[0]"),
    ("confidence above 100", lambda o: o.update(confidence=101), "confidence"),
    ("reference without source_name",
     lambda o: o.update(external_references=[{"url": "https://a.example"}]),
     "external_references[0]"),
    ("CVE reference with a bad id", lambda o: o["external_references"].append(
        {"source_name": "cve", "external_id": "CVE-1"}), "external_references[1]"),
    ("null custom property", lambda o: o.update(x_bad=None), "x_bad"),
    ("unknown language", lambda o: o.update(lang="xx"), "lang"),
    ("spec_version 2.2", lambda o: o.update(spec_version="2.2"), "spec_version"),
    ("label not a string", lambda o: o.update(labels=[1]), "labels[0]"),
    ("valid_until not after valid_from",
     lambda o: o.update(valid_until="2026-11-20T08:15:00Z"), "valid_until"),
]  # fmt: skip


def test_typical_indicator_is_valid(valid_indicator: dict[str, Any]) -> None:
    assert validate(valid_indicator) == []


@pytest.mark.parametrize(("case", "breaks", "path"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_object_is_rejected_naming_the_field(
    valid_indicator: dict[str, Any], case: str, breaks: Callable[[dict[str, Any]], Any], path: str
) -> None:
    breaks(valid_indicator)
    problems = validate(valid_indicator)
    assert path in [p.path for p in problems], problems
    assert all(p.reason for p in problems)


@pytest.mark.parametrize("value", [None, [1], "indicator", 3])
def test_non_objects_are_rejected_not_crashed_on(value: Any) -> None:
    assert validate(value) == [Problem("", "a STIX object must be a JSON object")]


def test_problem_is_a_small_frozen_value() -> None:
    problem = Problem("created", "not a timestamp")
    with pytest.raises(dataclasses.FrozenInstanceError):
        problem.path = "modified"  # type: ignore[misc]
    assert problem == Problem("created", "not a timestamp")


def test_hub_extension_properties_and_custom_properties_are_accepted() -> None:
    from bayanihan.model import extension

    props = {"vector": "phishing", "languages": ["th", "en"], "targeted_countries": ["TH"]}
    obj = extension.with_ai_properties(indicator(1), props) | {"x_bayanihan_score": 3}
    assert validate(obj) == []
    empty = extension.with_ai_properties(indicator(1), {"languages": []})
    assert [p.path for p in validate(empty)] == [f"extensions.{extension.EXTENSION_ID}.languages"]


def test_observables_go_through_the_validator_itself() -> None:
    url = {"type": "url", "spec_version": "2.1", "value": "http://x.example/",
           "id": "url--c1477287-23ac-5971-a010-5c287877fa60"}  # fmt: skip
    assert validate(url) == []
    process = {"type": "process", "spec_version": "2.1", "pid": 1,
               "id": "process--f52a906a-0dfc-50c1-a85e-4b3f5e5d6e3a"}  # fmt: skip
    assert [p.reason for p in validate(process)] == ["A process object must use UUIDv4 for its id"]
