"""What issue 11 found lost on MISP import, kept: odd attributes no longer refuse the event;
attribute types without a hub mapping, to_ids, comments, tags, sightings, UUIDs survive."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pymisp import MISPEvent, MISPObject
from stix2validator import ValidationOptions, validate_instance

from bayanihan.ingest.misp_read import prepare, read_events
from tests.conftest import RunningHub

ORG = {"uuid": "0b7c3a51-7f0e-4a8e-9d61-2b8f4c1e0a77", "name": "CERT-PH"}


def _event() -> MISPEvent:
    ev = MISPEvent()
    ev.info = "OSINT - odd but real attributes"
    ev.distribution = 1
    ev.set_date("2026-11-20")
    ev.add_tag("tlp:green")
    ev.add_tag('osint:source-type="blog-post"')
    ev.add_tag('misp-galaxy:mitre-attack-pattern="Made Up - T9999"')  # unknown technique
    ev.add_attribute("url", "evil.example.com/login.php", comment="no scheme")
    ev.add_attribute("hostname", "www.evil.example.com", to_ids=True)
    ev.add_attribute("text", "A" * 12_000, comment="too long for a lure")
    ev.add_attribute("filename", "invoice.pdf.exe", to_ids=False, comment="attachment")
    ev.add_attribute("regkey", r"HKLM\Software\Microsoft\Windows\CurrentVersion\Run\upd")
    ev.add_attribute("ip-dst|port", "203.0.113.7|8443")
    mutex = ev.add_attribute("mutex", "Global\\qwerty-7", to_ids=True)
    mutex.add_sighting({"type": "0", "date_sighting": "1763800000", "Organisation": ORG,
                        "uuid": "2e8f1b7c-4d3a-4f9e-8b6c-1a0d9e7f5c32"})
    seen = ev.add_attribute("domain", "gcash-rewards.ph", to_ids=True, comment="c2")
    seen.add_tag('kill-chain:"Command and Control"')
    seen.add_sighting({"type": "0", "source": "dns sensor", "date_sighting": "1763600000",
                       "uuid": "4c2f7e0e-5a0b-4e57-a4a2-9a7e3f1d2b10", "Organisation": ORG})
    seen.add_sighting({"type": "1", "date_sighting": "1763700000", "Organisation": ORG,
                       "uuid": "9d1c6a53-2f4e-4b8a-8c0e-5f7a2d3b4c61"})  # a false positive
    ev.add_attribute("ip-src", "198.51.100.4", to_ids=False, comment="scanner")
    obj = MISPObject("domain-ip")
    obj.comment = "landing infrastructure"
    obj.add_attribute("domain", value="landing.example.net")
    obj.add_attribute("ip", value="192.0.2.55")
    ev.add_object(obj)
    file_obj = MISPObject("file")
    file_obj.add_attribute("filename", value="dropper.bin")
    file_obj.add_attribute("sha256", value="a" * 64)
    file_obj.add_reference(obj.uuid, "communicates-with")
    ev.add_object(file_obj)
    return ev


def _attrs(ev: MISPEvent) -> dict[str, tuple[Any, ...]]:
    return {a.uuid: (a.type, str(a.value), bool(a.to_ids), a.category,
                     getattr(a, "comment", "") or "", sorted(t.name for t in a.tags),
                     sorted((s.uuid, str(s.type)) for s in getattr(a, "sightings", ())))
            for a in ev.attributes}


def _objects(ev: MISPEvent) -> dict[str, tuple[Any, ...]]:
    return {o.uuid: (o.name, getattr(o, "comment", "") or "",
                     sorted((a.object_relation, a.type, str(a.value), a.uuid)
                            for a in o.attributes),
                     sorted((r.referenced_uuid, r.relationship_type) for r in o.references))
            for o in ev.objects}


def test_odd_attributes_are_kept_and_come_back(report_hub: Callable[..., RunningHub]) -> None:
    original = _event()
    rh = report_hub()
    th = rh.client("TH")
    r = th.post("/api/v1/import/misp", content=original.to_json())
    assert r.status_code == 201, r.text
    body = r.json()
    # only the unknown technique is named; its tag is kept as a label, the rest stored
    assert [f["field"] for f in body["refused"]] == ["Event.Tag"], body["refused"]
    assert "T9999" in body["refused"][0]["reason"]
    ids = set(body["objects"])
    by_type = {a.type: a.uuid for a in original.attributes}
    # to_ids: an indicator (the hub's, canonical) and observed-data; else observed-data only
    assert f"indicator--{by_type['domain']}" in ids
    assert f"observed-data--{by_type['ip-src']}" in ids
    assert f"indicator--{by_type['ip-src']}" not in ids
    for kind in ("regkey", "ip-dst|port", "mutex"):
        assert f"indicator--{by_type[kind]}" in ids, kind
    for kind in ("filename", "mutex"):
        assert f"observed-data--{by_type[kind]}" in ids, kind
    assert f"x-misp-attribute--{by_type['text']}" in ids
    bundle = th.get(f"/api/v1/reports/{body['id']}").json()["objects"]
    objects = {o["id"]: o for o in bundle}
    assert {"sighting", "opinion"} <= {o["type"] for o in bundle}
    assert 'osint:source-type="blog-post"' in objects[body["id"]]["labels"]
    options = ValidationOptions(version="2.1", strict=False)
    for obj in bundle:
        if obj["type"] in ("identity", "attack-pattern") and obj["id"] not in ids:
            continue  # technique objects the hub holds
        result = validate_instance(obj, options)
        assert result.is_valid, (obj["id"], [str(e) for e in result.errors])
    back = MISPEvent()
    back.load(th.get(f"/api/v1/reports/{body['id']}", params={"format": "misp"}).json())
    assert back.uuid == original.uuid
    theirs = _attrs(back)
    for a in original.attributes:  # STIX 2.1 writes the registry hive in full
        if a.type == "regkey":
            a.value = a.value.replace("HKLM\\", "HKEY_LOCAL_MACHINE\\", 1)
    for key, attr in _attrs(original).items():
        assert key in theirs, attr
        assert theirs[key] == attr, (attr, theirs[key])
    assert _objects(original).items() <= _objects(back).items()
    names = {t.name for t in back.tags}
    assert {'osint:source-type="blog-post"', 'misp-galaxy:mitre-attack-pattern="Made Up - T9999"',
            "tlp:green"} <= names


def test_a_red_attribute_in_a_green_event(report_hub: Callable[..., RunningHub]) -> None:
    ev = MISPEvent()
    ev.info = "mixed markings"
    ev.add_tag("tlp:green")
    ev.add_attribute("domain", "shared.example.org")
    secret = ev.add_attribute("mutex", "only-for-us")
    secret.add_tag("tlp:amber")
    rh = report_hub()
    r = rh.client("TH").post("/api/v1/import/misp", content=ev.to_json())
    assert r.status_code == 201, r.text
    jp = rh.client("JPCERT")  # a partner: sees GREEN, not AMBER
    seen = {o["id"] for o in jp.get(f"/api/v1/reports/{r.json()['id']}").json()["objects"]}
    assert f"observed-data--{secret.uuid}" not in seen
    assert any(i.startswith("observed-data--") for i in seen)


EVENTS = st.fixed_dictionaries({
    "info": st.text(min_size=1, max_size=20),
    "Attribute": st.lists(st.fixed_dictionaries({
        "type": st.sampled_from(["domain", "text", "mutex", "md5"]),
        "value": st.text(min_size=1, max_size=12)}), max_size=4),
    "Object": st.lists(st.fixed_dictionaries({
        "name": st.sampled_from(["file", "domain-ip"]),
        "Attribute": st.lists(st.fixed_dictionaries({
            "type": st.just("text"), "object_relation": st.just("text"),
            "value": st.text(min_size=1, max_size=8)}), max_size=2)}), max_size=2),
})


@given(EVENTS, st.sampled_from(["bare", "wrapped", "list", "response"]))
def test_every_shape_reads_and_prepare_is_deterministic(event: dict[str, Any], shape: str) -> None:
    doc: Any = {"bare": event, "wrapped": {"Event": event}, "list": [{"Event": event}, event],
                "response": {"response": [{"Event": event}]}}[shape]
    read = read_events(json.dumps(doc).encode())
    assert all(e == event for _, e in read)
    once, twice = prepare(event), prepare(copy.deepcopy(event))
    assert once == twice and prepare(once) == once
    uuids = [once["uuid"], *(a["uuid"] for a in once["Attribute"]),
             *(o["uuid"] for o in once["Object"]),
             *(a["uuid"] for o in once["Object"] for a in o["Attribute"])]
    assert all(str(uuid.UUID(u)) == u for u in uuids)


def test_values_reach_the_hubs_misp_feed(report_hub: Callable[..., RunningHub]) -> None:
    """Round trip through the MISP feed (share/exports/misp.py): per value, not per event."""
    ev = MISPEvent()
    ev.info = "feed round trip"
    ev.add_tag("tlp:green")
    ev.set_date("2026-11-30")
    ev.add_attribute("domain", "feed-check.example.org", to_ids=True)
    ev.add_attribute("url", "https://feed-check.example.org/otp", to_ids=True)
    ev.add_attribute("domain", "not-for-ids.example.org", to_ids=False)
    rh = report_hub()
    r = rh.client("TH").post("/api/v1/import/misp", content=ev.to_json())
    assert r.status_code == 201, r.text
    sg = rh.client("SG")  # another member reads GREEN
    manifest = sg.get("/api/v1/exports/misp/manifest.json")
    assert manifest.status_code == 200, manifest.text
    values: set[str] = set()
    for event_uuid in manifest.json():
        feed = MISPEvent()
        feed.load(sg.get(f"/api/v1/exports/misp/{event_uuid}.json").json())
        values |= {str(a.value) for a in feed.attributes}
    assert {"feed-check.example.org", "https://feed-check.example.org/otp"} <= values
    assert "not-for-ids.example.org" not in values  # not to_ids: no indicator, not exported


MALFORMED: list[tuple[Any, int, list[str] | None]] = [
    ({"Event": {"info": "x", "Attribute": "not a list"}}, 400, None),
    ({"Event": {"info": "x", "Object": [{"name": "file", "Attribute": [
        {"type": "md5", "object_relation": "md5", "value": "zz-not-a-hash"}]}]}}, 201,
     []),  # misp-stix carries what it cannot map as x-misp-object: kept, not refused
    ({"Event": {"info": "x", "Attribute": [{"type": "no-such-type", "value": "1"}]}}, 400, None),
    ({"Event": {"info": "x", "Galaxy": [{"name": "g", "type": "tool",
                                         "GalaxyCluster": [{"value": "v"}]}]}}, 201, []),
    ({"Event": {"info": "x", "timestamp": "yesterday", "date": "not a date",
                "Attribute": [{"type": "domain", "value": "ok.example.com"}]}}, 400, None),
    ({"Event": {"info": "x", "timestamp": "yesterday",
                "Attribute": [{"type": "domain", "value": "ok.example.com"}]}}, 201, []),
    ({"response": {"Event": {"info": "one, not a list"}}}, 201, None),
    ({"Event": {"info": "", "Attribute": []}}, 201, []),
    ([{"Event": {"info": "good"}}, {"Event": {"no-info": 1}}], 400, None),
]


def test_malformed_events_are_4xx_or_named(report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    th = rh.client("TH")
    for doc, status, refused in MALFORMED:
        r = th.post("/api/v1/import/misp", json=doc)
        assert r.status_code == status, (doc, r.text)
        if status == 201 and refused is not None:
            assert [f["field"] for f in r.json()["refused"]] == refused, (doc, r.json())
