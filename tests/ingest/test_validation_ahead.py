"""Validation ahead in a worker process (``bayanihan ingest`` of whole files): the verdicts, and
so the per-object results, are those of validation in the caller, whether the worker takes
every slice, some of them, none, or dies on the way."""

from __future__ import annotations

import os
import signal
from typing import Any

import orjson
import pytest

from bayanihan.hub import Hub
from bayanihan.ingest.ahead import SLICE, ValidationAhead
from bayanihan.ingest.bundles import Submitter, check_objects
from bayanihan.ingest.releases import AHEAD_FROM, ingest_release
from bayanihan.ingest.verdicts import slice_verdicts, verdicts
from bayanihan.model.validation import MAX_DEPTH
from bayanihan.store import organisations as orgs

MITRE = "identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5"
MARKING = "marking-definition--fa42a846-8d90-4e51-bc29-71d5b4802168"


def technique(n: int, *, stix20: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "attack-pattern", "id": f"attack-pattern--{n:08x}-0000-4000-8000-000000000000",
        "created": "2020-01-01T00:00:00.000Z", "modified": "2021-06-01T12:00:00.000Z",
        "created_by_ref": MITRE, "name": f"Technique {n}",
        "external_references": [{"source_name": "mitre-attack", "external_id": f"T{n}",
                                 "url": f"https://attack.mitre.org/techniques/T{n}"},
                                {"source_name": "Shared citation", "description": "cited often",
                                 "url": "https://example.org/report.pdf"}],
        "x_mitre_version": "1.0", "x_mitre_domains": ["enterprise-attack"],
    }
    if not stix20:
        obj = {"type": obj.pop("type"), "spec_version": "2.1", **obj}
    return obj


def nested(levels: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


def release(count: int) -> tuple[list[Any], set[int]]:
    """``count`` techniques (every third in STIX 2.0) with bad objects spread over slices."""
    objects: list[Any] = [technique(n, stix20=n % 3 == 0) for n in range(count)]
    bad = {
        5: {**technique(5), "modified": "2019-01-01T00:00:00.000Z"},  # before created
        SLICE + 1: {**technique(SLICE + 1), "created": "2020-02-30T00:00:00.000Z"},
        SLICE + 2: "not an object",
        2 * SLICE + 7: {k: v for k, v in technique(2 * SLICE + 7).items() if k != "name"},
        2 * SLICE + 8: {**technique(2 * SLICE + 8), "external_references": [
            {"source_name": "mitre-attack", "url": True}]},  # a boolean where a URL goes
        count - 1: {**technique(count - 1), "x_deep": nested(MAX_DEPTH + 1)},
    }
    for at, obj in bad.items():
        objects[at] = obj
    return objects, set(bad)


def results(objects: list[Any], shares: Any) -> list[dict[str, Any]]:
    out: dict[int, Any] = {}
    for first, last, known in shares:
        out[first] = check_objects(objects[first:last], None, known, first)[0]
    return [r.as_dict() for first in sorted(out) for r in out[first]]


def test_the_worker_gives_the_verdicts_of_the_caller() -> None:
    objects, bad = release(3 * SLICE + 10)
    here = [r.as_dict() for r in check_objects(objects, None)[0]]
    assert {r["index"] for r in here if r["status"] == "rejected"} == bad
    assert slice_verdicts(orjson.dumps(objects)) == verdicts(objects)
    with ValidationAhead(objects) as ahead:
        ahead.start(min_idle=0)  # whatever the machine's load
        assert ahead.ready(120)
        there = results(objects, ahead.shares(0, len(objects), take_back=False))
        assert ahead.offloaded == len(objects)  # every slice, by the worker
    assert there == here


def test_slices_taken_back_or_after_the_worker_died_are_validated_here() -> None:
    objects, _ = release(3 * SLICE + 10)
    here = [r.as_dict() for r in check_objects(objects, None)[0]]
    with ValidationAhead(objects) as ahead:
        ahead.start(min_idle=0)  # whatever the machine's load
        assert ahead.ready(120)
        assert results(objects, ahead.shares(0, 2 * SLICE)) == here[:2 * SLICE]  # some taken back
        for pid in ahead.worker_pids():
            os.kill(pid, signal.SIGKILL)
        assert results(objects, ahead.shares(2 * SLICE, len(objects))) == here[2 * SLICE:]
    with ValidationAhead(objects) as never_started:
        assert not never_started.ready(0)
        assert results(objects, never_started.shares(0, len(objects))) == here


@pytest.mark.parametrize("worker", [False, True])
def test_a_large_file_is_stored_with_the_same_results_either_way(hub: Hub, worker: bool) -> None:
    objects, bad = release(AHEAD_FROM + SLICE)
    org = hub.db.read_sync(orgs.require, orgs.HUB_CODE)
    with ValidationAhead() as ahead:
        if worker:
            ahead.start(min_idle=0)
            assert ahead.ready(120)
        summary = ingest_release(hub, objects, Submitter(org.code, org.identity_id, org.kind),
                                 ahead=ahead)
    assert (summary.objects, summary.stored, summary.rejected) == (
        len(objects), len(objects) - len(bad), len(bad))
    assert summary.upgraded == len([n for n in range(len(objects))
                                    if n % 3 == 0 and n not in bad])
    assert summary.offloaded == 0 or worker
