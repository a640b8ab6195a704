"""MISP fields without a STIX home, kept (issue 11): the event's threat level, analysis,
published flag and time, related events, and first_seen/last_seen of attributes, objects
and object attributes come back equal, compared with pymisp, on PyMISP's own test events."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymisp import MISPEvent, MISPObject
from stix2validator import ValidationOptions, validate_instance

from bayanihan.ingest.misp_meta import event_meta, seen_stamp
from tests.conftest import RunningHub

FILES = "misp/pymisp-tests"


def _load(shared_data: Path, name: str) -> MISPEvent:
    path = shared_data / FILES / name
    assert path.is_file(), f"{path} is missing from the shared data"
    ev = MISPEvent()
    ev.load(json.loads(path.read_bytes()))
    return ev


def _header(ev: MISPEvent) -> tuple[Any, ...]:
    return (ev.threat_level_id, ev.analysis, ev.published,
            int(ev.publish_timestamp.timestamp()) if hasattr(ev, "publish_timestamp") else None)


def _related(ev: MISPEvent) -> list[tuple[Any, ...]]:
    out = []
    for item in ev.RelatedEvent:
        rel: MISPEvent = item["Event"]  # type: ignore[index]
        out.append((rel.uuid, rel.info, rel.date.isoformat(), rel.threat_level_id, rel.analysis,
                    rel.published, int(rel.timestamp.timestamp()), rel.distribution,
                    rel.Orgc.name, rel.Orgc.uuid, rel.Org.name, rel.Org.uuid))
    return out


def _seen(ev: MISPEvent | MISPObject) -> dict[str, tuple[Any, Any]]:
    return {a.uuid: (getattr(a, "first_seen", None), getattr(a, "last_seen", None))
            for a in ev.attributes}


def _round_trip(rh: RunningHub, ev: MISPEvent) -> tuple[MISPEvent, list[dict[str, Any]]]:
    th = rh.client("TH")
    r = th.post("/api/v1/import/misp", content=ev.to_json())
    assert r.status_code == 201, r.text
    assert r.json()["refused"] == [], r.json()["refused"]
    report_id = r.json()["id"]
    bundle = th.get(f"/api/v1/reports/{report_id}").json()["objects"]
    back = MISPEvent()
    back.load(th.get(f"/api/v1/reports/{report_id}", params={"format": "misp"}).json())
    return back, bundle


def test_event_fields_and_related_events_come_back(
        report_hub: Callable[..., RunningHub], shared_data: Path) -> None:
    original = _load(shared_data, "existing_event.json")  # a CIRCL event: 20 RelatedEvent
    assert len(original.RelatedEvent) == 20
    back, bundle = _round_trip(report_hub(), original)
    assert _header(back) == _header(original)
    assert _related(back) == _related(original)
    report = next(o for o in bundle if o["type"] == "report")
    meta = report["x_misp_event"]
    assert meta["threat_level_id"] == 3 and meta["published"] is False
    assert set(meta["related_events"][0]) == {"uuid", "info", "date", "threat_level_id",
                                              "analysis", "published", "timestamp",
                                              "distribution", "org", "orgc"}
    result = validate_instance(report, ValidationOptions(version="2.1", strict=False))
    assert result.is_valid, [str(e) for e in result.errors]


def test_published_event_and_attribute_seen_times_come_back(
        report_hub: Callable[..., RunningHub], shared_data: Path) -> None:
    ev = _load(shared_data, "existing_event.json")
    ev.threat_level_id, ev.analysis = 1, 2
    ev.publish()
    ev.publish_timestamp = datetime(2017, 12, 22, 9, 30, tzinfo=UTC)
    by_type: dict[str, Any] = {}
    for a in ev.attributes:
        by_type.setdefault(a.type, a)
    # hub-mapped: a link (not to_ids) with both ends, a domain (to_ids) with first_seen only
    by_type["link"].first_seen = "2017-12-20T08:00:00.123456+00:00"
    by_type["link"].last_seen = "2017-12-21T10:30:00+07:00"
    by_type["domain"].first_seen = "2017-12-19T00:00:00+00:00"
    # carried by misp-stix: the text (x-misp-attribute), an observed filename, an indicator mutex
    by_type["text"].last_seen = "2017-12-22T00:00:00+00:00"
    ev.add_attribute("filename", "sednit.exe", to_ids=False,
                     first_seen="2017-12-01T00:00:00Z", last_seen="2017-12-02T00:00:00Z")
    ev.add_attribute("mutex", "Global\\sednit-7", to_ids=True,
                     first_seen="2017-12-03T12:00:00.5+00:00")
    obj = ev.objects[0]  # a MISP object (carried): only first_seen, and one attribute's
    obj.first_seen = "2017-12-01T00:00:00+00:00"
    obj.attributes[0].first_seen = "2017-12-02T00:00:00+00:00"
    obj.attributes[0].last_seen = "2017-12-03T00:00:00+00:00"
    back, bundle = _round_trip(report_hub(), ev)
    assert _header(back) == (1, 2, True, int(ev.publish_timestamp.timestamp()))
    same = next(o for o in back.objects if o.uuid == obj.uuid)
    assert (same.first_seen, getattr(same, "last_seen", None)) == (obj.first_seen, None)
    assert _seen(same) == _seen(obj)
    assert _related(back) == _related(ev)
    mine, theirs = _seen(ev), _seen(back)
    assert {k: v for k, v in mine.items() if v != (None, None)}.keys() == {
        by_type["link"].uuid, by_type["domain"].uuid, by_type["text"].uuid,
        *(a.uuid for a in ev.attributes if a.type in ("filename", "mutex"))}
    for key, value in mine.items():
        assert theirs[key] == value, (key, value, theirs[key])
    assert {k for k, v in _seen(same).items() if v != (None, None)} == {
        obj.attributes[0].uuid}
    observed = {o["id"]: o for o in bundle if o["type"] == "observed-data"}
    link = observed[f"observed-data--{by_type['link'].uuid}"]
    assert (link["first_observed"], link["last_observed"]) == (
        "2017-12-20T08:00:00.123456Z", "2017-12-21T03:30:00.000000Z")
    options = ValidationOptions(version="2.1", strict=False)
    for obj in bundle:
        if obj["type"] in ("observed-data", "indicator", "x-misp-attribute", "report"):
            result = validate_instance(obj, options)
            assert result.is_valid, (obj["id"], [str(e) for e in result.errors])


@pytest.mark.parametrize("name", ["event.json", "shadow.json", "malware.json", "attribute.json"])
def test_other_pymisp_events_keep_their_header(
        report_hub: Callable[..., RunningHub], shared_data: Path, name: str) -> None:
    original = _load(shared_data, name)
    if not getattr(original, "info", None):
        original.info = name
    back, _ = _round_trip(report_hub(), original)
    assert _header(back)[:3] == _header(original)[:3]
    if "publish_timestamp" in json.loads((shared_data / FILES / name).read_bytes()).get(
            "Event", {}):
        assert _header(back)[3] == _header(original)[3]


@given(st.one_of(st.none(), st.integers(-5, 10), st.text(max_size=6),
                 st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat())))
def test_meta_and_seen_never_raise(value: Any) -> None:
    meta = event_meta({"threat_level_id": value, "analysis": value, "published": value,
                       "publish_timestamp": value, "RelatedEvent": [{"Event": {"uuid": value}},
                                                                    value]})
    assert json.loads(json.dumps(meta)) == copy.deepcopy(meta)
    stamp = seen_stamp(value)
    assert stamp is None or (stamp.endswith("Z") and len(stamp) == 27)


def test_odd_header_fields_are_4xx_or_left_out(report_hub: Callable[..., RunningHub]) -> None:
    th = report_hub().client("TH")
    bad = th.post("/api/v1/import/misp", json={"Event": {"info": "x", "threat_level_id": "9"}})
    assert bad.status_code == 400 and "Event" in bad.json()["fields"], bad.text
    odd = {"Event": {"info": "x", "analysis": "1", "published": False,
                     "RelatedEvent": [{"Event": {"info": "no uuid"}}]}}
    r = th.post("/api/v1/import/misp", json=odd)
    assert r.status_code == 201, r.text
    report = next(o for o in th.get(f"/api/v1/reports/{r.json()['id']}").json()["objects"]
                  if o["type"] == "report")
    assert report["x_misp_event"] == {"analysis": 1, "published": False}
    back = th.get(f"/api/v1/reports/{r.json()['id']}", params={"format": "misp"})
    assert back.status_code == 200 and back.json()["Event"]["analysis"] == "1", back.text

