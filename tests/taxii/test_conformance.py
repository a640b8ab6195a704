"""TAXII 2.1 conformance, walked endpoint by endpoint with raw HTTP (httpx), no client library.

Order follows the specification: media types and errors, server discovery, API root,
collections, objects (filters and pagination), add objects and status, get an object,
delete an object, object versions, manifest.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
from sqlalchemy import select

from bayanihan.model.tlp import TLP
from bayanihan.store import organisations as orgs
from bayanihan.store.audit import verify
from bayanihan.store.schema import audit_log
from tests.conftest import RunningHub
from tests.stixgen import indicator
from tests.taxii.conftest import (
    ALERTS,
    PUBLIC,
    REGIONAL,
    TAXII,
    objects_url,
    post_envelope,
)

ERROR_KEYS = {"title", "http_status"}
MakeHub = Callable[..., RunningHub]


def taxii(hub: RunningHub, org: str | None = None, role: str = "analyst") -> httpx.Client:
    client = hub.client(org, role) if org else hub.client()
    client.headers["Accept"] = TAXII
    return client


def is_taxii_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == TAXII
    body = r.json()
    assert body.keys() >= ERROR_KEYS and body["http_status"] == str(status)


def ids_of(r: httpx.Response) -> list[str]:
    return [o["id"] for o in r.json().get("objects", [])]


# -- media types, content negotiation, errors ---------------------------------------------------
def test_media_types_and_negotiation(make_hub: MakeHub) -> None:
    hub = make_hub()
    raw = hub.client("SG")
    for accept in (TAXII, "application/taxii+json", "application/taxii+json; version=2.1", None):
        headers = {"Accept": accept} if accept else {}
        r = raw.get("/taxii2/", headers=headers)
        assert r.status_code == 200 and r.headers["content-type"] == TAXII, accept
    for accept in ("application/json", "application/taxii+json;version=2.0", "text/html"):
        is_taxii_error(raw.get("/taxii2/api/collections/", headers={"Accept": accept}), 406)
    body = orjson.dumps({"objects": [indicator(1)]})
    r = raw.post(objects_url(), content=body,
                 headers={"Accept": TAXII, "Content-Type": "application/json"})
    is_taxii_error(r, 415)
    r = raw.post(objects_url(), content=body,
                 headers={"Accept": TAXII, "Content-Type": "application/taxii+json"})
    assert r.status_code == 202 and r.headers["content-type"] == TAXII
    is_taxii_error(raw.get("/taxii2/api/collections/no-such/", headers={"Accept": TAXII}), 404)
    is_taxii_error(raw.put(objects_url(), headers={"Accept": TAXII}), 405)


def test_errors_authentication_and_limits(make_hub: MakeHub) -> None:
    hub = make_hub(max_request_bytes=4000)
    anonymous = taxii(hub)
    r = anonymous.get(objects_url(REGIONAL))
    is_taxii_error(r, 401)
    assert "WWW-Authenticate" in r.headers
    bad = httpx.get(hub.url + objects_url(), headers={"Accept": TAXII,
                                                      "Authorization": "Token not-a-key"})
    is_taxii_error(bad, 401)
    assert "Basic" in bad.headers["WWW-Authenticate"]
    is_taxii_error(post_envelope(taxii(hub, "SG", "reader"), indicator(1)), 403)
    is_taxii_error(post_envelope(taxii(hub, "SG"), indicator(1), collection=PUBLIC), 403)
    is_taxii_error(post_envelope(taxii(hub, "OBS"), indicator(1)), 403)
    is_taxii_error(post_envelope(taxii(hub, "SG"), *[indicator(i) for i in range(20)]), 413)
    sg = taxii(hub, "SG")
    headers = {"Content-Type": TAXII}
    is_taxii_error(sg.post(objects_url(), content=b"{not json", headers=headers), 400)
    is_taxii_error(sg.post(objects_url(), content=b'{"objects": 5}', headers=headers), 422)
    for params in ({"limit": "0"}, {"limit": "many"}, {"added_after": "yesterday"},
                   {"match[version]": "2026-13-45"}):
        r = sg.get(objects_url(), params=params)
        is_taxii_error(r, 400)
        assert r.json()["details"]["fields"] == [next(iter(params))]


# -- discovery, API root, collections -------------------------------------------------------------
def test_discovery_api_root_and_collections(make_hub: MakeHub) -> None:
    hub = make_hub()
    sg = taxii(hub, "SG")
    disc = sg.get("/taxii2/").json()
    assert disc["api_roots"] == [f"{hub.url}/taxii2/api/"] and disc["default"] == disc["api_roots"][0]
    root = sg.get("/taxii2/api/").json()
    assert root["versions"] == [TAXII] and root["max_content_length"] > 0

    def collections(client: httpx.Client) -> dict[str, tuple[bool, bool]]:
        found = client.get("/taxii2/api/collections/").json().get("collections", [])
        return {c["alias"]: (c["can_read"], c["can_write"]) for c in found}

    assert collections(sg) == {"regional": (True, True), "public": (True, False),
                               "alerts": (True, False)}
    assert collections(taxii(hub, "SG", "reader"))["regional"] == (True, False)
    assert collections(taxii(hub, "JPCERT"))["regional"] == (True, True)
    assert collections(taxii(hub, "TH-BANK"))["regional"] == (True, False)
    assert collections(taxii(hub)) == {"public": (True, False), "alerts": (True, False)}
    one = sg.get(f"/taxii2/api/collections/{REGIONAL}/").json()
    assert one["id"] == REGIONAL and one["media_types"] == ["application/stix+json;version=2.1"]
    assert sg.get("/taxii2/api/collections/regional/").json()["id"] == REGIONAL


# -- get objects: pagination ------------------------------------------------------------------------
def _seed(hub: RunningHub, n: int, org: str = "SG") -> list[str]:
    objs = [indicator(100 + i, tlp=TLP.GREEN) for i in range(n)]
    assert post_envelope(taxii(hub, org), *objs).json()["success_count"] == n
    return [o["id"] for o in objs]


def test_paging_limit_one_walks_everything_once(make_hub: MakeHub) -> None:
    hub = make_hub()
    ids = _seed(hub, 5)
    sg = taxii(hub, "SG")
    params = {"match[type]": "indicator", "limit": "1"}
    seen: list[str] = []
    lasts: list[str] = []
    r = sg.get(objects_url(), params=params)
    while True:
        body = r.json()
        seen += ids_of(r)
        assert r.headers["X-TAXII-Date-Added-First"] == r.headers["X-TAXII-Date-Added-Last"]
        lasts.append(r.headers["X-TAXII-Date-Added-Last"])
        if not body["more"]:
            assert "next" not in body
            break
        r = sg.get(objects_url(), params={**params, "next": body["next"]})
    assert seen == ids and lasts == sorted(set(lasts))
    # the same walk by added_after and the date header never skips nor repeats
    by_date: list[str] = []
    after: str | None = None
    while True:
        r = sg.get(objects_url(), params={**params, **({"added_after": after} if after else {})})
        by_date += ids_of(r)
        if not r.json()["more"]:
            break
        after = r.headers["X-TAXII-Date-Added-Last"]
    assert by_date == ids
    # a page that ends exactly at the last object says there is no more
    full = sg.get(objects_url(), params={"match[type]": "indicator", "limit": "5"}).json()
    assert full["more"] is False and "next" not in full and len(full["objects"]) == 5


def test_next_is_bound_to_filters_endpoint_and_caller(make_hub: MakeHub) -> None:
    hub = make_hub()
    _seed(hub, 4)
    sg = taxii(hub, "SG")
    params = {"match[type]": "indicator", "limit": "2"}
    token = sg.get(objects_url(), params=params).json()["next"]
    assert sg.get(objects_url(), params={**params, "next": token}).status_code == 200
    assert sg.get(objects_url(), params={**params, "limit": "1", "next": token}).status_code == 200
    other_filters = {"match[type]": "indicator,identity", "limit": "2", "next": token}
    is_taxii_error(sg.get(objects_url(), params=other_filters), 400)
    is_taxii_error(taxii(hub, "TH").get(objects_url(), params={**params, "next": token}), 400)
    is_taxii_error(taxii(hub, "SG", "reader").get(objects_url(), params={**params, "next": token}),
                   400)
    manifest = f"/taxii2/api/collections/{REGIONAL}/manifest/"
    is_taxii_error(sg.get(manifest, params={**params, "next": token}), 400)
    is_taxii_error(sg.get(objects_url(), params={**params, "next": token[:-2] + "xx"}), 400)
    is_taxii_error(sg.get(objects_url(), params={**params, "next": "garbage"}), 400)


def test_more_then_an_empty_page(make_hub: MakeHub) -> None:
    hub = make_hub()
    ids = _seed(hub, 3)
    sg = taxii(hub, "SG")
    params = {"match[type]": "indicator", "limit": "2"}
    first = sg.get(objects_url(), params=params).json()
    assert first["more"] is True
    assert sg.delete(f"{objects_url()}{ids[2]}/").status_code == 200
    r = sg.get(objects_url(), params={**params, "next": first["next"]})
    assert r.status_code == 200 and r.json() == {"more": False}
    assert "X-TAXII-Date-Added-First" not in r.headers
    empty = sg.get(objects_url(ALERTS))
    assert empty.status_code == 200 and empty.json() == {"more": False}


# -- get objects: filters -----------------------------------------------------------------------------
def test_filters_or_within_and_between_fields(make_hub: MakeHub) -> None:
    hub = make_hub(taxii_page_max=3)
    sg = taxii(hub, "SG")
    v1 = indicator(7, modified="2026-11-01T00:00:00.000Z")
    v2 = indicator(7, modified="2026-11-02T00:00:00.000Z", name="Phishing URL 7 (revised)")
    other = indicator(8)
    assert post_envelope(sg, v1, v2, other).json()["success_count"] == 3
    get = lambda **p: sg.get(objects_url(), params=p)  # noqa: E731

    def versions_of(r: httpx.Response) -> list[tuple[str, str]]:
        return [(o["id"], o["modified"]) for o in r.json().get("objects", [])]

    assert versions_of(get(**{"match[id]": v1["id"]})) == [(v1["id"], v2["modified"])]
    assert versions_of(get(**{"match[id]": v1["id"], "match[version]": "first"})) == [
        (v1["id"], v1["modified"])]
    assert len(versions_of(get(**{"match[id]": v1["id"], "match[version]": "all"}))) == 2
    assert len(versions_of(get(**{"match[id]": v1["id"], "match[version]": "first,last"}))) == 2
    assert versions_of(get(**{"match[version]": v1["modified"], "match[id]": v1["id"]})) == [
        (v1["id"], v1["modified"])]
    both = get(**{"match[id]": f"{v1['id']},{other['id']}"})
    assert sorted(ids_of(both)) == sorted([v1["id"], other["id"]])
    assert ids_of(get(**{"match[id]": other["id"], "match[type]": "identity"})) == []
    assert ids_of(get(**{"match[id]": other["id"], "match[type]": "identity,indicator"})) == [
        other["id"]]
    assert ids_of(get(**{"match[spec_version]": "2.0", "match[type]": "indicator"})) == []
    assert len(ids_of(get(**{"match[type]": "identity"}))) == 3  # taxii_page_max caps the page
    assert len(ids_of(get(**{"match[type]": "identity", "limit": "50"}))) == 3
    head = get(**{"match[type]": "indicator"})
    after = head.headers["X-TAXII-Date-Added-First"]
    assert ids_of(get(**{"match[type]": "indicator", "added_after": after})) == [other["id"]]


# -- add objects and status ---------------------------------------------------------------------------
def test_add_objects_reports_each_object_in_a_status(make_hub: MakeHub) -> None:
    hub = make_hub()
    sg = taxii(hub, "SG")
    broken = {**indicator(2), "pattern": "[url:value = "}
    th_identity = hub.hub.db.read_sync(orgs.require, "TH").identity_id
    foreign = indicator(3, created_by_ref=th_identity)  # another hub organisation's identity
    r = post_envelope(sg, indicator(1), broken, foreign, "not an object")  # type: ignore[arg-type]
    assert r.status_code == 202
    status = r.json()
    assert (status["status"], status["total_count"], status["success_count"],
            status["failure_count"], status["pending_count"]) == ("complete", 4, 1, 3, 0)
    messages = {f["id"]: f["message"] for f in status["failures"]}
    assert "pattern" in messages[broken["id"]] and "created_by_ref" in messages[foreign["id"]]
    assert messages["objects[3]"]
    again = sg.get(f"/taxii2/api/status/{status['id']}/")
    assert again.status_code == 200 and again.json() == status
    assert sg.get(f"/taxii2/api/status/{status['id']}").status_code == 200
    is_taxii_error(taxii(hub, "TH").get(f"/taxii2/api/status/{status['id']}/"), 404)
    repeat = post_envelope(sg, indicator(1)).json()
    assert repeat["success_count"] == 1 and "already stored" in repeat["successes"][0]["message"]
    named = post_envelope(sg, indicator(4, tlp=TLP.AMBER), audience="SG,TH").json()
    assert named["success_count"] == 1
    assert ids_of(taxii(hub, "VN").get(objects_url(), params={"match[id]": indicator(4)["id"]})) == []


# -- get an object, versions, manifest, delete ---------------------------------------------------------
def test_object_versions_and_manifest(make_hub: MakeHub) -> None:
    hub = make_hub()
    sg = taxii(hub, "SG")
    v1, v2 = indicator(9), indicator(9, modified="2026-11-03T00:00:00.000Z")
    strict = indicator(10, tlp=TLP.AMBER_STRICT)
    post_envelope(sg, v1, v2, strict)
    one = sg.get(f"{objects_url()}{v1['id']}/")
    assert [o["modified"] for o in one.json()["objects"]] == [v2["modified"]]
    every = sg.get(f"{objects_url()}{v1['id']}/", params={"match[version]": "all"})
    assert len(every.json()["objects"]) == 2
    versions = sg.get(f"{objects_url()}{v1['id']}/versions/")
    assert versions.json() == {"more": False, "versions": [v1["modified"], v2["modified"]]}
    paged = sg.get(f"{objects_url()}{v1['id']}/versions/", params={"limit": "1"}).json()
    assert paged["more"] is True and paged["versions"] == [v1["modified"]]
    rest = sg.get(f"{objects_url()}{v1['id']}/versions/",
                  params={"limit": "1", "next": paged["next"]}).json()
    assert rest == {"more": False, "versions": [v2["modified"]]}
    manifest = sg.get(f"/taxii2/api/collections/{REGIONAL}/manifest/",
                      params={"match[type]": "indicator"})
    entries = manifest.json()["objects"]
    assert [(e["id"], e["version"]) for e in entries] == [(v2["id"], v2["modified"]),
                                                          (strict["id"], strict["modified"])]
    assert entries[0]["media_type"] == "application/stix+json;version=2.1"
    assert manifest.headers["X-TAXII-Date-Added-Last"] == entries[-1]["date_added"]
    bank = taxii(hub, "TH-BANK")
    is_taxii_error(bank.get(f"{objects_url()}{strict['id']}/"), 404)
    is_taxii_error(bank.get(f"{objects_url()}{strict['id']}/versions/"), 404)
    is_taxii_error(sg.get(f"{objects_url()}indicator--00000000-0000-4000-8000-000000000000/"), 404)


def test_delete_only_by_the_author_and_audited(make_hub: MakeHub) -> None:
    hub = make_hub()
    sg = taxii(hub, "SG")
    v1, v2 = indicator(11), indicator(11, modified="2026-11-04T00:00:00.000Z")
    post_envelope(sg, v1, v2)
    url = f"{objects_url()}{v1['id']}/"
    is_taxii_error(taxii(hub, "TH").delete(url), 403)
    is_taxii_error(taxii(hub, "SG", "reader").delete(url), 403)
    r = sg.delete(url, params={"match[version]": "first"})
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    assert sg.get(f"{url}versions/").json()["versions"] == [v2["modified"]]
    assert sg.get(url, params={"match[version]": "first"}).json()["objects"][0]["modified"] == \
        v2["modified"]
    assert sg.delete(url).status_code == 200
    is_taxii_error(sg.get(url), 404)
    is_taxii_error(sg.delete(url), 404)
    actions = hub.hub.db.read_sync(
        lambda conn: [row.action for row in conn.execute(select(audit_log.c.action))])
    assert actions.count("objects.delete") == 2
    assert hub.hub.db.read_sync(verify) is None


def test_public_and_alert_collections(make_hub: MakeHub) -> None:
    hub = make_hub()
    sg = taxii(hub, "SG")
    clear, green = indicator(20, tlp=TLP.CLEAR), indicator(21, tlp=TLP.GREEN)
    alert = {"type": "report", "spec_version": "2.1", "id": "report--6f8e8f0a-3c55-4d6a-9a0e-1d2b3c4d5e6f",
             "created": "2026-11-02T00:00:00.000Z", "modified": "2026-11-02T00:00:00.000Z",
             "name": "Regional alert: smishing wave", "report_types": ["threat-report"],
             "published": "2026-11-02T00:00:00.000Z", "labels": ["bayanihan-alert"],
             "object_refs": [clear["id"]], "object_marking_refs": [TLP.GREEN.marking_id]}
    plain = {**alert, "id": "report--7f8e8f0a-3c55-4d6a-9a0e-1d2b3c4d5e6f", "labels": ["other"]}
    assert post_envelope(sg, clear, green, alert, plain).json()["success_count"] == 4
    public = taxii(hub).get(objects_url(PUBLIC), params={"match[type]": "indicator"})
    assert ids_of(public) == [clear["id"]]
    assert ids_of(taxii(hub, "TH").get(objects_url(ALERTS))) == [alert["id"]]
    assert ids_of(taxii(hub).get(objects_url(ALERTS))) == []  # GREEN: not for the public
