"""POST/GET /api/v1/reports: a report becomes valid STIX in one transaction, or nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import stix2
from sqlalchemy import func, select
from stix2validator import ValidationOptions, validate_instance

from bayanihan.model.extension import EXTENSION_ID, ai_properties, property_problems
from bayanihan.share.collections import BY_ID
from bayanihan.store.schema import stix_objects
from tests.conftest import RunningHub
from tests.reports.reportgen import report

OPTIONS = ValidationOptions(version="2.1")


def count_objects(rh: RunningHub) -> int:
    return rh.hub.db.read_sync(
        lambda c: c.execute(select(func.count()).select_from(stix_objects)).scalar())


def bundle_of(client: Any, report_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/reports/{report_id}")
    assert r.status_code == 200, r.text
    return r.json()


def test_a_thai_sms_report_becomes_linked_stix(report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    doc = {
        "vector": "phishing", "channel": "sms", "title": "Fake SCB suspension SMS",
        "narrative": "Thousands of SMS in fluent Thai within an hour.",
        "first_seen": "2026-11-20T08:00:00Z", "last_seen": "2026-11-21T10:30:00+07:00",
        "ai_involvement": {"assessment": "suspected", "confidence": 70,
                           "evidence": "Perfect grammar, many variants",
                           "techniques": ["AML.T0052", "T1566"]},
        "lures": ["ธนาคารแจ้ง บัญชีของท่านถูกระงับ ยืนยันที่ hxxps://scb-verify[.]com/th "
                  "หรือโทร 081-234-5678"],
        "observables": "payment to TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW",
        "countries": ["th", "KH"], "sectors": ["financial-services"], "tlp": "green",
    }
    r = rh.client("TH").post("/api/v1/reports", json=doc)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["languages"] == ["th"]
    assert {(o["type"], o["value"]) for o in made["observables"]} == {
        ("url", "https://scb-verify.com/th"), ("phone-number", "+66812345678"),
        ("crypto-wallet", "TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW")}
    objects = bundle_of(rh.client("VN", "reader"), made["id"])["objects"]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for obj in objects:
        by_type.setdefault(obj["type"], []).append(obj)
    rep = by_type["report"][0]
    props = ai_properties(rep)
    assert props is not None
    assert props["vector"] == "phishing" and props["channel"] == "sms"
    assert props["targeted_countries"] == ["TH", "KH"]
    assert props["ai_involvement"]["techniques"] == ["AML.T0052", "T1566"]
    assert props["last_seen"] == "2026-11-21T03:30:00.000Z"
    patterns = {o["pattern"] for o in by_type["indicator"]}
    assert "[bayanihan-phone-number:value = '+66812345678']" in patterns
    assert "[url:value = 'https://scb-verify.com/th']" in patterns
    targets = {o["target_ref"] for o in by_type["relationship"] if o["relationship_type"] == "uses"}
    names = {o["name"] for o in by_type["attack-pattern"] if o["id"] in targets}
    assert names == {"Phishing"} and len(targets) == 2  # ATLAS AML.T0052 and ATT&CK T1566
    for obj in objects:
        result = validate_instance(obj, OPTIONS)
        assert result.is_valid, (obj["type"], [e.message for e in result.errors])


def test_listing_filters_and_respects_tlp(report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    th = rh.client("TH")
    posted = {}
    for n in range(10):
        r = th.post("/api/v1/reports", json=report(n))
        assert r.status_code == 201, r.text
        posted[n] = r.json()["id"]
    listing = th.get("/api/v1/reports").json()["reports"]
    assert {i["id"] for i in listing} == set(posted.values())  # the author sees all its own
    malware = th.get("/api/v1/reports", params={"vector": "malware"}).json()["reports"]
    assert {i["id"] for i in malware} == {posted[1], posted[6]}
    kh = th.get("/api/v1/reports", params={"country": "kh"}).json()["reports"]
    assert {i["id"] for i in kh} == {posted[n] for n in (0, 3, 6, 9)}
    lang = th.get("/api/v1/reports", params={"language": "id"}).json()["reports"]
    assert {i["id"] for i in lang} == {posted[1], posted[7]}
    text = th.get("/api/v1/reports", params={"q": "REPORT 4:"}).json()["reports"]
    assert [i["id"] for i in text] == [posted[4]]
    window = th.get("/api/v1/reports", params={"since": "2026-11-09", "until": "2026-11-10"})
    assert {i["id"] for i in window.json()["reports"]} == {posted[7], posted[8]}
    page = th.get("/api/v1/reports", params={"limit": 4}).json()
    rest = th.get("/api/v1/reports", params={"limit": 10, "before": page["next"]}).json()
    assert len(page["reports"]) == 4 and len(rest["reports"]) == 6
    public = rh.client().get("/api/v1/reports").json()["reports"]
    assert {i["id"] for i in public} == {posted[0], posted[5]}  # TLP:CLEAR only
    assert all(i["tlp"] == "clear" for i in public)
    r = rh.client().get(f"/api/v1/reports/{posted[2]}")  # AMBER: not for the public
    assert r.status_code == 404
    assert th.get("/api/v1/reports", params={"country": "XX"}).json()["fields"] == ["country"]


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("missing title", {"title": None}, "title"),
    ("unknown vector", {"vector": "smishing-ai"}, "vector"),
    ("invalid country", {"countries": ["TH", "XX"]}, "countries[1]"),
    ("invalid language", {"languages": ["th", "thai"]}, "languages[1]"),
    ("red without recipients", {"tlp": "red", "audience": []}, "audience"),
    ("binary garbage in a lure", {"lures": ["ok", "MZ\x90\x00\x03\x00\x00\x00\x04"]}, "lures[1]"),
    ("unknown technique", {"ai_involvement": {"techniques": ["AML.T0052", "AML.T9999"]}},
     "ai_involvement.techniques[1]"),
    ("malformed technique", {"ai_involvement": {"techniques": ["phishing"]}},
     "ai_involvement.techniques[0]"),
    ("confidence over 100", {"ai_involvement": {"confidence": 101}}, "ai_involvement.confidence"),
    ("phishing without channel", {"vector": "phishing", "channel": None}, "channel"),
    ("last before first", {"first_seen": "2026-11-02T00:00:00Z",
                           "last_seen": "2026-11-01T00:00:00Z"}, "last_seen"),
    ("time without zone", {"first_seen": "2026-11-02T00:00:00"}, "first_seen"),
    ("unknown field", {"severity": "high"}, "severity"),
    ("unknown sector", {"sectors": ["banks"]}, "sectors[0]"),
    ("unknown audience", {"tlp": "amber", "audience": ["TH", "NOPE"]}, "audience"),
    ("red to downstream", {"tlp": "red", "audience": ["TH-BANK"]}, "audience"),
]


def test_bad_input_names_the_field_and_stores_nothing(
        report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    client = rh.client("TH")
    assert client.post("/api/v1/reports", json=report(5)).status_code == 201  # one good one
    before = count_objects(rh)
    for case, change, field in BAD:
        doc = report(0, lures=["โทร 081-234-5678 hxxps://scb-verify[.]com/th"])
        doc.update({k: v for k, v in change.items() if v is not None})
        for key in [k for k, v in change.items() if v is None]:
            doc.pop(key)
        r = client.post("/api/v1/reports", json=doc)
        assert 400 <= r.status_code < 500, (case, r.text)
        assert field in r.json()["fields"], (case, r.json())
        assert count_objects(rh) == before, case  # not one object of the report stored
    assert len(client.get("/api/v1/reports").json()["reports"]) == 1


def test_not_json_and_wrong_media_type(report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    client = rh.client("TH")
    r = client.post("/api/v1/reports", content=b"\xff\xfe{", headers={"content-type":
                                                                       "application/json"})
    assert r.status_code == 400 and r.json()["fields"] == ["body"]
    r = client.post("/api/v1/reports", content=b"vector=phishing",
                    headers={"content-type": "text/plain"})
    assert r.status_code == 415
    assert rh.client("TH", "reader").post("/api/v1/reports", json=report(1)).status_code == 403
    assert rh.client().post("/api/v1/reports", json=report(1)).status_code == 401


def test_extension_survives_stix2_and_the_objects_api(
        report_hub: Callable[..., RunningHub]) -> None:
    rh = report_hub()
    client = rh.client("SG")
    made = client.post("/api/v1/reports", json=report(7)).json()
    for object_id in made["objects"]:
        r = client.get(f"/api/v1/objects/{object_id}")
        assert r.status_code == 200, r.text
        stored = r.json()["versions"][-1]["object"]
        parsed = stix2.parse(stored, allow_custom=True)
        again = stix2.parse(parsed.serialize(), allow_custom=True)
        if stored["type"] in ("report", "incident", "indicator"):
            assert dict(again["extensions"][EXTENSION_ID]) == stored["extensions"][EXTENSION_ID]
        assert json.loads(again.serialize()) == stored
        props = ai_properties(stored)
        if props is not None:
            assert property_problems({"extension_type": "property-extension", **props}) == []
    regional = BY_ID["regional"].id  # the same objects through TAXII
    taxii = {"Accept": "application/taxii+json;version=2.1"}
    for object_id in made["objects"][:3]:
        r = client.get(f"/taxii2/api/collections/{regional}/objects/{object_id}/", headers=taxii)
        assert r.status_code == 200, r.text
        (served,) = r.json()["objects"]
        direct = client.get(f"/api/v1/objects/{object_id}").json()["versions"][-1]["object"]
        assert served == direct and EXTENSION_ID in served["extensions"]
    definition = client.get(f"/api/v1/objects/{EXTENSION_ID}").json()["versions"][0]["object"]
    assert definition["extension_types"] == ["property-extension"]
    assert validate_instance(definition, OPTIONS).is_valid
