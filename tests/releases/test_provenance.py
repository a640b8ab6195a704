"""OASIS-style objects authored by someone else: stored exactly as sent (issue 11).

The identities are the ones of the OASIS STIX 2.1 specification's examples; the
objects are written the way those examples are (a statement marking, a reference to an
identity that comes later in the bundle)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import select

from bayanihan.store import organisations as orgs
from bayanihan.store.schema import stix_objects
from tests.conftest import RunningHub
from tests.releases.conftest import compact, key, stored

MakeHub = Callable[..., RunningHub]
ACME = "identity--f431f809-377b-45e0-aa1c-6a4751cae5ff"  # the spec's "ACME Widgets, Inc."
STATEMENT = "marking-definition--2a1b7e1c-6c0b-4d1a-9a6e-3f5f2a9d0c11"


def acme() -> dict[str, Any]:
    return {"type": "identity", "spec_version": "2.1", "id": ACME,
            "created": "2016-04-06T20:03:00.000Z", "modified": "2016-04-06T20:03:00.000Z",
            "name": "ACME Widgets, Inc.", "identity_class": "organization"}


def statement() -> dict[str, Any]:
    return {"type": "marking-definition", "spec_version": "2.1", "id": STATEMENT,
            "created": "2017-01-20T00:00:00.000Z", "definition_type": "statement",
            "definition": {"statement": "Copyright 2019, Example Corp"}}


def indicator(n: int, **extra: Any) -> dict[str, Any]:
    return {"type": "indicator", "spec_version": "2.1",
            "id": f"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd{n:02d}",
            "created": "2016-04-06T20:03:48.000Z", "modified": "2016-04-06T20:03:48.000Z",
            "indicator_types": ["malicious-activity"], "name": "Poison Ivy Malware",
            "description": "This file is part of Poison Ivy",
            "pattern": "[ file:hashes.'SHA-256' = "
                       "'4bac27393bdd9777ce02453256c5577cd02275510b2227f473d03f533924f877' ]",
            "pattern_type": "stix", "valid_from": "2016-01-01T00:00:00Z", **extra}


def post(client: Any, *objects: dict[str, Any]) -> Any:
    return client.post("/api/v1/objects", content=orjson.dumps(list(objects)),
                       headers={"Content-Type": "application/json"})


def test_third_party_authors_kept_and_hub_identities_protected(make_hub: MakeHub) -> None:
    rh = make_hub()
    th, vn = rh.client("TH"), rh.client("VN")
    sg_identity = rh.hub.db.read_sync(orgs.require, "SG").identity_id
    th_identity = rh.hub.db.read_sync(orgs.require, "TH").identity_id
    by_acme = indicator(1, created_by_ref=ACME, object_marking_refs=[STATEMENT])
    unsigned = indicator(2)
    own = indicator(3, created_by_ref=th_identity)
    claims_sg = indicator(4, created_by_ref=sg_identity)
    # the author's identity and the marking-definition come after the objects using them
    r = post(th, by_acme, unsigned, own, claims_sg, acme(), statement())
    assert r.status_code == 207, r.text
    results = {x["id"]: x for x in r.json()["results"]}
    assert [results[o["id"]]["status"] for o in (by_acme, unsigned, own)] == ["accepted"] * 3
    refused = results[claims_sg["id"]]
    assert refused["status"] == "rejected"
    assert refused["errors"][0]["field"] == "objects[3].created_by_ref"
    assert "SG" in refused["errors"][0]["reason"]
    got = stored(rh.hub)
    for obj in (by_acme, unsigned, own, acme(), statement()):
        assert got[key(obj)] == compact(obj)  # nothing added, nothing replaced
    assert key(claims_sg) not in got
    # who submitted is metadata beside the object, never inside it
    entry = th.get(f"/api/v1/objects/{unsigned['id']}").json()["versions"][0]
    assert entry["submitted_by"]["org"] == "TH" and entry["object"] == unsigned
    # marked only with a statement (no TLP): distributed as AMBER, the marking kept
    t = stix_objects.c
    tlp = rh.hub.db.read_sync(lambda conn: conn.execute(
        select(t.tlp).where(t.id == by_acme["id"])).scalar())
    assert tlp == "amber"
    # another organisation: the same version, same content -> duplicate; a new version -> no
    again = post(vn, by_acme)
    assert again.json()["results"][0]["status"] == "duplicate", again.text
    newer = {**by_acme, "modified": "2017-01-01T00:00:00.000Z", "name": "Poison Ivy (VN)"}
    taken = post(vn, newer)
    assert taken.status_code == 422
    assert "only the organisation that first submitted" in taken.text
    # ... but the first submitter may add it, still in ACME's name
    mine = post(th, newer)
    assert mine.status_code == 200 and mine.json()["results"][0]["status"] == "accepted"
    assert stored(rh.hub)[key(newer)] == compact(newer)
