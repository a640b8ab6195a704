"""The OASIS client (taxii2-client) works unchanged against the hub, with the access policy."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from taxii2client.common import TokenAuth
from taxii2client.exceptions import AccessError
from taxii2client.v21 import ApiRoot, Collection, Server, as_pages

from bayanihan.model.tlp import TLP
from tests.conftest import RunningHub
from tests.stixgen import indicator

MakeHub = Callable[..., RunningHub]


def regional(server: Server) -> Collection:
    root: ApiRoot = server.default
    return next(c for c in root.collections if c.title.startswith("Regional threat"))


def test_discover_add_page_versions_manifest_delete(make_hub: MakeHub) -> None:
    hub = make_hub()
    server = Server(f"{hub.url}/taxii2/", auth=TokenAuth(hub.key("SG")))
    assert server.title and len(server.api_roots) == 1
    root = server.api_roots[0]
    assert root.versions == ["application/taxii+json;version=2.1"]
    assert {c.title for c in root.collections} >= {"Regional threat intelligence",
                                                   "Public (TLP:CLEAR)", "Regional alerts"}
    collection = regional(server)
    assert collection.can_read and collection.can_write
    objs = [indicator(i, tlp=TLP.GREEN) for i in range(7)]
    revised = indicator(0, tlp=TLP.GREEN, modified="2026-11-05T00:00:00.000Z")
    status = collection.add_objects({"objects": [*objs, revised]}, poll_interval=0.1, timeout=10)
    assert status.status == "complete" and status.success_count == 8 and status.failure_count == 0
    polled = root.get_status(status.id)
    assert polled.success_count == 8
    seen: list[str] = []
    pages = 0
    for envelope in as_pages(collection.get_objects, per_request=3, type="indicator"):
        seen += [o["id"] for o in envelope.get("objects", [])]
        pages += 1
    assert sorted(seen) == sorted(o["id"] for o in objs) and pages == 3
    versions = collection.object_versions(objs[0]["id"])
    assert versions["versions"] == [objs[0]["modified"], revised["modified"]]
    latest = collection.get_object(objs[0]["id"])["objects"]
    assert [o["modified"] for o in latest] == [revised["modified"]]
    manifest = [e for page in as_pages(collection.get_manifest, per_request=2, type="indicator")
                for e in page.get("objects", [])]
    assert len(manifest) == 7 and {e["id"] for e in manifest} == set(seen)
    collection.delete_object(objs[1]["id"])
    left = collection.get_objects(type="indicator")["objects"]
    assert objs[1]["id"] not in {o["id"] for o in left} and len(left) == 6


def test_http_basic_and_policy_through_the_client(make_hub: MakeHub) -> None:
    hub = make_hub()
    author = Server(f"{hub.url}/taxii2/", user="sg", password=hub.key("SG"))
    posted = {level: indicator(40 + n, tlp=level) for n, level in enumerate(TLP) if level is not TLP.RED}
    status = regional(author).add_objects({"objects": list(posted.values())}, poll_interval=0.1)
    assert status.success_count == len(posted)
    bank = regional(Server(f"{hub.url}/taxii2/", auth=TokenAuth(hub.key("TH-BANK", "reader"))))
    assert bank.can_read and not bank.can_write
    received = {o["id"] for page in as_pages(bank.get_objects, per_request=2, type="indicator")
                for o in page.get("objects", [])}
    assert posted[TLP.AMBER_STRICT]["id"] not in received
    assert received == {posted[level]["id"] for level in (TLP.CLEAR, TLP.GREEN, TLP.AMBER)}
    with pytest.raises(AccessError):
        bank.add_objects({"objects": [indicator(99)]})
