"""MISP events nobody here wrote (PyMISP's own test files, incl. a real CIRCL OSINT event):
stored with their objects, galaxies, tags, UUIDs and sightings, and back out with pymisp."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent

from tests.conftest import RunningHub

FILES = "misp/pymisp-tests"


def _events(shared_data: Path, name: str) -> Any:
    path = shared_data / FILES / name
    assert path.is_file(), f"{path} is missing from the shared data"
    return json.loads(path.read_bytes())


def _misp(doc: dict[str, Any]) -> MISPEvent:
    ev = MISPEvent()
    ev.load(copy.deepcopy(doc))  # pymisp takes the dicts it reads apart
    return ev


def _attrs(ev: MISPEvent) -> dict[str, tuple[Any, ...]]:
    return {a.uuid: (a.type, str(a.value), bool(a.to_ids), a.category,
                     getattr(a, "comment", "") or "", sorted(t.name for t in a.tags))
            for a in ev.attributes}


def _objects(ev: MISPEvent) -> dict[str, tuple[Any, ...]]:
    return {o.uuid: (o.name, getattr(o, "comment", "") or "",
                     sorted((a.object_relation, a.type, str(a.value), a.uuid) for a in o.attributes),
                     sorted((r.referenced_uuid, r.relationship_type) for r in o.references))
            for o in ev.objects}


def _clusters(ev: MISPEvent) -> set[tuple[str, str]]:
    return {(g.type, c.value) for g in ev.galaxies for c in g.clusters}


def test_circl_osint_event_is_kept_and_comes_back(
        report_hub: Callable[..., RunningHub], shared_data: Path) -> None:
    doc = _events(shared_data, "existing_event.json")
    original = _misp(doc)
    rh = report_hub()
    th = rh.client("TH")
    r = th.post("/api/v1/import/misp", json={"Event": doc})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == f"report--{original.uuid}" and body["event_uuid"] == original.uuid
    assert body["refused"] == []
    ids = set(body["objects"])
    # every MISP object (49) kept under its uuid, as observed-data or its own indicator
    for obj in original.objects:
        assert {f"observed-data--{obj.uuid}", f"indicator--{obj.uuid}",
                f"x-misp-object--{obj.uuid}"} & ids, obj.name
    # attributes: hub-mapped (domains, link) and carried (the long text)
    for attr in original.attributes:
        assert {f"observed-data--{attr.uuid}", f"indicator--{attr.uuid}",
                f"x-misp-attribute--{attr.uuid}"} & ids, attr.type
    bundle = th.get(f"/api/v1/reports/{body['id']}").json()
    objects = {o["id"]: o for o in bundle["objects"]}
    report = objects[body["id"]]
    tags = {t.name for t in original.tags} - {"tlp:white"}
    assert tags <= set(report["labels"])
    kinds = {o["type"] for o in objects.values()}
    assert {"threat-actor", "malware", "tool", "relationship", "identity"} <= kinds
    named = {(o["type"], o.get("name")) for o in objects.values()}
    assert ("threat-actor", "Sofacy") in named
    assert {("malware", n) for n in ("JHUHUGIT", "XTunnel", "CHOPSTICK", "Downdelph")} <= named
    incident = next(o for o in objects.values() if o["type"] == "incident")
    links = {(o["relationship_type"], objects[o["target_ref"]]["name"]) for o in objects.values()
             if o["type"] == "relationship" and o["source_ref"] == incident["id"]
             and o["target_ref"] in objects and "name" in objects[o["target_ref"]]}
    assert ("attributed-to", "Sofacy") in links and ("uses", "CHOPSTICK") in links
    # MISP object references became relationships between the objects
    refs = sum(len(o.references) for o in original.objects)
    between = [o for o in objects.values() if o["type"] == "relationship"
               and o["relationship_type"] not in ("based-on", "uses", "attributed-to",
                                                  "related-to", "indicates")]
    assert len(between) == refs
    # back out as MISP
    back = _misp(th.get(f"/api/v1/reports/{body['id']}", params={"format": "misp"}).json())
    assert back.uuid == original.uuid and back.info == original.info
    tlp2 = {"tlp:white": "tlp:clear"}  # written as TLP 2.0
    assert {tlp2.get(t.name, t.name) for t in original.tags} <= {t.name for t in back.tags}
    mine, theirs = _attrs(original), _attrs(back)
    for uuid, attr in mine.items():
        assert uuid in theirs, attr
        assert theirs[uuid] == attr, (attr, theirs[uuid])
    assert _clusters(original) <= _clusters(back)
    src, out = _objects(original), _objects(back)
    assert set(src) <= set(out)
    for uuid, obj in src.items():
        assert out[uuid] == obj, (obj, out[uuid])


def test_importing_an_event_again_updates_it(
        report_hub: Callable[..., RunningHub], shared_data: Path) -> None:
    doc = _events(shared_data, "existing_event.json")
    edited = _events(shared_data, "existing_event_edited.json")
    rh = report_hub()
    th = rh.client("TH")
    first = th.post("/api/v1/import/misp", json=doc)
    assert first.status_code == 201, first.text
    again = th.post("/api/v1/import/misp", json=doc)
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"] and again.json()["stored"] == 0
    third = th.post("/api/v1/import/misp", json=edited)
    assert third.status_code == 201, third.text
    assert third.json()["id"] == first.json()["id"]
    listed = th.get("/api/v1/reports").json()["reports"]
    assert [i["id"] for i in listed] == [first.json()["id"]]


def test_search_response_and_lists_are_accepted(
        report_hub: Callable[..., RunningHub], shared_data: Path) -> None:
    doc = _events(shared_data, "malware_exist.json")
    assert isinstance(doc, dict) and "response" in doc
    rh = report_hub()
    th = rh.client("TH")
    r = th.post("/api/v1/import/misp", json=doc)
    assert r.status_code == 201, r.text
    events = r.json()["events"]
    assert len(events) == len(doc["response"]) and r.json()["errors"] == []
    first = doc["response"][0].get("Event", doc["response"][0])
    assert events[0]["event_uuid"] == first["uuid"]
    objects = first["Object"]
    assert all({f"observed-data--{o['uuid']}", f"indicator--{o['uuid']}",
                f"x-misp-object--{o['uuid']}"} & set(events[0]["objects"]) for o in objects)
    many = [_events(shared_data, n) for n in ("event.json", "event_tags.json", "malware.json",
                                              "shadow.json", "misp_custom_obj.json")]
    r = th.post("/api/v1/import/misp", json=many)
    assert r.status_code == 201, r.text
    assert len(r.json()["events"]) == len(many), r.json()


@pytest.mark.parametrize("name", ["attribute.json", "def_param.json", "event_obj_attr_tag.json",
                                  "event_obj_def_param.json", "event_obj_tag.json",
                                  "proposals.json", "attribute_del.json"])
def test_every_pymisp_event_file_is_stored(
        report_hub: Callable[..., RunningHub], shared_data: Path, name: str) -> None:
    doc = _events(shared_data, name)
    if "info" not in doc:
        doc = {**doc, "info": name}  # fragments PyMISP's tests complete before loading
    rh = report_hub()
    r = rh.client("TH").post("/api/v1/import/misp", json=doc)
    assert r.status_code == 201, r.text
    assert r.json()["refused"] == []
