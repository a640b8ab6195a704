"""``/api/v1/objects``: what a client sees when it posts good and bad bundles."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import orjson
import pytest
from sqlalchemy import select

from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import PUBLIC, visible
from bayanihan.store import organisations as orgs
from bayanihan.store.objects import versions_of
from bayanihan.store.schema import stix_objects
from tests.conftest import RunningHub, seed
from tests.stixgen import bundle, indicator


def stored_ids(hub: RunningHub) -> set[str]:
    return set(hub.hub.db.read_sync(
        lambda c: c.execute(select(stix_objects.c.id).where(stix_objects.c.type == "indicator"))
        .scalars().all()))


def test_a_bundle_is_stored_and_read_back_with_server_fields(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    th = hub.client("TH")
    objs = [indicator(i) for i in range(3)]
    r = th.post("/api/v1/objects", json=bundle(*objs))
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 3
    got = th.get(f"/api/v1/objects/{objs[0]['id']}").json()
    (version,) = got["versions"]
    assert version["object"] == objs[0]  # stored exactly as sent: nothing added
    assert version["submitted_by"]["org"] == "TH"  # provenance beside the object
    assert version["object"]["pattern"] == objs[0]["pattern"]
    assert version["tlp"] == "green"
    again = th.post("/api/v1/objects", json=bundle(*objs))
    assert [x["status"] for x in again.json()["results"]] == ["duplicate"] * 3


def test_versions_are_immutable_and_revocation_is_a_new_version(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    th = hub.client("TH")
    first = indicator(1)
    assert th.post("/api/v1/objects", json=bundle(first)).status_code == 200
    changed = {**first, "name": "changed without a new modified"}
    r = th.post("/api/v1/objects", json=bundle(changed))
    assert r.status_code == 422
    assert r.json()["fields"] == ["objects[0].id"]
    revoked = {**first, "modified": "2026-11-02T00:00:00.000Z", "revoked": True}
    assert th.post("/api/v1/objects", json=bundle(revoked)).status_code == 200
    versions = th.get(f"/api/v1/objects/{first['id']}").json()["versions"]
    assert [v["object"].get("revoked", False) for v in versions] == [False, True]
    assert versions[0]["date_added"] < versions[1]["date_added"]


def test_another_organisation_cannot_add_a_version(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    obj = indicator(2)
    assert hub.client("TH").post("/api/v1/objects", json=bundle(obj)).status_code == 200
    newer = {**obj, "modified": "2026-11-05T00:00:00.000Z"}
    newer.pop("created_by_ref", None)
    r = hub.client("VN").post("/api/v1/objects", json=bundle(newer))
    assert r.status_code == 422
    assert "only the organisation that first submitted" in r.text
    assert "TH" not in r.json()["results"][0]["errors"][0]["reason"]  # the owner is not named
    # the same version with the same content from anyone is a duplicate, not a conflict
    same = hub.client("VN").post("/api/v1/objects", json=bundle(obj))
    assert same.json()["results"][0]["status"] == "duplicate"


def test_date_added_is_strictly_increasing(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    th = hub.client("TH")
    for start in range(0, 40, 10):
        th.post("/api/v1/objects", json=bundle(*[indicator(i) for i in range(start, start + 10)]))
    query = select(stix_objects.c.date_added).order_by(stix_objects.c.pk)
    added = hub.hub.db.read_sync(lambda c: c.execute(query).scalars().all())
    assert added == sorted(added) and len(set(added)) == len(added)


BAD_OBJECTS = {
    "bad id": ({"id": "indicator--not-a-uuid"}, "objects[0].id"),
    "bad timestamp": ({"created": "yesterday"}, "objects[0].created"),
    "invalid pattern": ({"pattern": "[url:value = 'x'"}, "objects[0].pattern"),
}


@pytest.mark.parametrize("case", list(BAD_OBJECTS))
def test_an_invalid_object_is_rejected_naming_the_field(
        make_hub: Callable[..., RunningHub], case: str) -> None:
    hub = make_hub()
    change, field = BAD_OBJECTS[case]
    bad = {**indicator(7), **change}
    good = indicator(8)
    r = hub.client("TH").post("/api/v1/objects", json=bundle(bad, good))
    assert r.status_code == 207, r.text
    results = r.json()["results"]
    assert results[0]["status"] == "rejected"
    assert any(e["field"].startswith(field) for e in results[0]["errors"]), results[0]
    assert results[1]["status"] == "accepted"
    assert stored_ids(hub) == {good["id"]}


BAD_BODIES = {
    "not json": (b"{this is not json", "body"),
    "not a bundle": (orjson.dumps({"objects": []}), "type"),
    "objects not a list": (orjson.dumps({"type": "bundle", "objects": {}}), "objects"),
    "invalid utf-8": (b'{"type": "bundle", "objects": ["\xff\xfe"]}', "body"),
    "json number": (b"42", "body"),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_a_malformed_body_gets_a_4xx_and_the_server_keeps_serving(
        make_hub: Callable[..., RunningHub], case: str) -> None:
    hub = make_hub()
    body, field = BAD_BODIES[case]
    th = hub.client("TH")
    r = th.post("/api/v1/objects", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.json()["fields"] == [field]
    assert set(r.json()) == {"error", "detail", "fields"}
    assert th.get("/healthz").status_code == 200
    assert stored_ids(hub) == set()


def test_a_body_over_the_limit_gets_413(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub(max_request_bytes=10_000)
    th = hub.client("TH")
    big = bundle(*[indicator(i) for i in range(100)])
    r = th.post("/api/v1/objects", json=big)
    assert r.status_code == 413
    assert r.json()["fields"] == ["body"]

    def chunks():  # no Content-Length: the limit holds on the streamed body too
        data = orjson.dumps(big)
        for i in range(0, len(data), 1000):
            yield data[i:i + 1000]

    r = th.post("/api/v1/objects", content=chunks())
    assert r.status_code == 413
    assert stored_ids(hub) == set()
    assert th.post("/api/v1/objects", json=bundle(indicator(1))).status_code == 200


def test_red_needs_named_recipients(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    th = hub.client("TH")
    red = indicator(3, tlp=TLP.RED)
    r = th.post("/api/v1/objects", json=bundle(red))
    assert r.status_code == 422 and r.json()["fields"] == ["audience"]
    r = th.post("/api/v1/objects", json=bundle(red), params={"audience": "TH-BANK"})
    assert r.status_code == 422 and "downstream" in r.text
    r = th.post("/api/v1/objects", json=bundle(red), params={"audience": "XX"})
    assert r.status_code == 400 and r.json()["fields"] == ["audience"]
    assert th.post("/api/v1/objects", json=bundle(red), params={"audience": "VN"}).status_code == 200


def test_keys_decide_who_may_do_what(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    r = hub.client().post("/api/v1/objects", json=bundle(indicator(1)))
    assert r.status_code == 401 and "Bearer" in r.headers["www-authenticate"]
    r = hub.client("TH", "reader").post("/api/v1/objects", json=bundle(indicator(1)))
    assert r.status_code == 403
    bad = httpx.get(hub.url + "/api/v1/objects/x", headers={"Authorization": "Bearer bh_nope_x"})
    assert bad.status_code == 401 and "bh_nope_x" not in bad.text
    basic = httpx.post(hub.url + "/api/v1/objects", json=bundle(indicator(4)),
                       auth=("anyone", hub.key("TH")))
    assert basic.status_code == 200
    assert hub.client("HUB", "admin").get(
        f"/api/v1/objects/{indicator(4)['id']}").status_code in (200, 404)


def test_unmarked_objects_are_amber(hub: Hub) -> None:
    seed(hub)
    th = hub.db.read_sync(orgs.require, "TH")
    obj = indicator(5, tlp=None)
    result = asyncio.run(hub.ingest_objects([obj], Submitter("TH", th.identity_id, th.kind), None))
    assert result.stored[0].tlp is TLP.AMBER
    assert hub.db.read_sync(versions_of, obj["id"], visible(PUBLIC)) == []


def test_an_atomic_bundle_is_stored_whole_or_not_at_all(make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    good, bad = indicator(11), {**indicator(12), "created": "yesterday"}
    r = hub.client("TH").post("/api/v1/objects", json=bundle(good, bad), params={"atomic": "true"})
    assert r.status_code == 422
    assert [x["status"] for x in r.json()["results"]] == ["rejected", "rejected"]
    assert stored_ids(hub) == set()


def test_the_same_observable_keeps_each_reporters_distribution(
        make_hub: Callable[..., RunningHub]) -> None:
    hub = make_hub()
    url = {"type": "url", "spec_version": "2.1", "value": "http://thaipost-parcel.example/x",
           "id": "url--4a1f7c4e-2f40-5a45-8b1c-2f3f9a3c8c11",
           "object_marking_refs": [TLP.RED.marking_id]}
    assert hub.client("TH").post("/api/v1/objects", json=bundle(url),
                                 params={"audience": "SG"}).status_code == 200
    green = {**url, "object_marking_refs": [TLP.GREEN.marking_id]}
    r = hub.client("VN").post("/api/v1/objects", json=bundle(green))
    assert r.json()["results"][0]["status"] == "accepted"
    seen_by_my = hub.client("MY").get(f"/api/v1/objects/{url['id']}").json()["versions"]
    assert [v["tlp"] for v in seen_by_my] == ["green"]  # VN's copy, never TH's RED one
    assert len(hub.client("SG").get(f"/api/v1/objects/{url['id']}").json()["versions"]) == 2
