"""Campaigns as reports arrive: a report that links two campaigns merges them (the larger
keeps its id), the published STIX follows (relationships to the kept campaign, those to the
merged one revoked), and a report re-correlated changes nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from sqlalchemy import select

from bayanihan import pipeline
from bayanihan.correlate.campaign_publish import relationship_id
from bayanihan.correlate.campaigns import correlate_report
from bayanihan.correlate.tables_campaigns import campaigns, linked_report
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.reports import parse_report
from bayanihan.share.policy import Reader, visible
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import stix_objects
from tests.conftest import seed


def _post(hub: Hub, org: str, title: str, urls: list[str]) -> str:
    found = hub.db.read_sync(orgs.require, org)
    sub = Submitter(found.code, found.identity_id, found.kind)
    doc = parse_report({"vector": "phishing", "channel": "sms", "title": title, "tlp": "green",
                        "observables": urls, "ai_involvement": {"assessment": "suspected"}})
    done, _ = asyncio.run(pipeline.submit(hub, doc, sub, visible(Reader(org=org,
                                                                          kind=found.kind))))
    return done.report_id


def _campaign_of(hub: Hub) -> dict[str, str | None]:
    return hub.db.read_sync(lambda c: dict(c.execute(select(
        linked_report.c.report_id, linked_report.c.campaign_id)).all()))


def _latest(hub: Hub, object_id: str) -> dict[str, Any] | None:
    body = hub.db.read_sync(lambda c: c.execute(select(stix_objects.c.body).where(
        stix_objects.c.id == object_id, stix_objects.c.is_latest.is_(True))).scalar())
    return orjson.loads(body) if body else None


def _versions(hub: Hub) -> int:
    return len(hub.db.read_sync(lambda c: c.execute(select(stix_objects.c.pk).where(
        stix_objects.c.type.in_(("campaign", "relationship")))).all()))


def test_a_bridging_report_merges_two_campaigns_and_the_stix_follows(hub: Hub) -> None:
    seed(hub)
    u = [f"https://merge-{i}.example/pay" for i in range(5)]
    # campaign X: three reports chained by u0, u1; campaign Y: two reports sharing u3
    x = [_post(hub, "TH", "x1", [u[0]]), _post(hub, "VN", "x2", [u[0], u[1]]),
         _post(hub, "ID", "x3", [u[1]])]
    y = [_post(hub, "PH", "y1", [u[3]]), _post(hub, "MY", "y2", [u[3]])]
    before = _campaign_of(hub)
    cx, cy = before[x[0]], before[y[0]]
    assert cx and cy and cx != cy
    assert {before[r] for r in x} == {cx} and {before[r] for r in y} == {cy}
    for r in y:
        assert _latest(hub, relationship_id(cy, r))["target_ref"] == cy  # type: ignore[index]
    # a report sharing u1 with X and u3 with Y joins them: X is larger and keeps its id
    bridge = _post(hub, "SG", "bridge", [u[1], u[3]])
    after = _campaign_of(hub)
    assert {after[r] for r in [*x, *y, bridge]} == {cx}
    state = hub.db.read_sync(lambda c: {r.id: (r.state, r.merged_into) for r in c.execute(
        select(campaigns.c.id, campaigns.c.state, campaigns.c.merged_into))})
    assert state[cx] == ("active", None) and state[cy] == ("merged", cx)
    for r in [*x, *y, bridge]:
        rel = _latest(hub, relationship_id(cx, r))
        assert rel is not None and rel["target_ref"] == cx and not rel.get("revoked"), r
    for r in y:
        assert _latest(hub, relationship_id(cy, r))["revoked"] is True  # type: ignore[index]
    # correlating a member again publishes nothing new and moves nothing
    versions = _versions(hub)
    hub.db.write_sync(correlate_report, y[0])
    assert _campaign_of(hub) == after and _versions(hub) == versions
    # a report linked to nothing stays alone; one linked to a single member just joins
    lone = _post(hub, "KH", "lone", [u[4]])
    joined = _post(hub, "LA", "joins", [u[0]])
    final = _campaign_of(hub)
    assert final[lone] is None and final[joined] == cx


def test_a_report_re_marked_red_leaves_the_campaigns_of_those_it_no_longer_admits(
        hub: Hub) -> None:
    """TH re-marks its GREEN report RED (a new version, TH alone): the link queue picks the
    new version up, so SG's view of the campaign no longer holds it — campaigns never go on
    reading a report under a marking it no longer has."""
    from bayanihan.correlate.campaign_views import visible_members
    from bayanihan.model.members import OrgKind
    from bayanihan.model.tlp import TLP

    seed(hub)
    shared = "https://remarked.example/pay"
    a = _post(hub, "TH", "a", [shared])
    b = _post(hub, "PH", "b", [shared])
    c = _post(hub, "VN", "c", [shared])
    sg = Reader(org="SG", kind=OrgKind.MEMBER)

    def seen_by_sg() -> set[str]:
        views = hub.db.read_sync(visible_members, sg)
        return {m.report_id for ms in views.values() for m in ms}

    assert seen_by_sg() == {a, b, c}
    body = _latest(hub, a)
    assert body is not None
    body = {**body, "modified": "2099-01-01T00:00:00.000Z",
            "object_marking_refs": [TLP.RED.marking_id]}
    th = hub.db.read_sync(orgs.require, "TH")
    stored = asyncio.run(hub.ingest_objects([body], Submitter(th.code, th.identity_id, th.kind),
                                            ["TH"]))
    assert stored.rejected == 0
    asyncio.run(pipeline.drain(hub))
    assert seen_by_sg() == {b, c}
    th_reader = Reader(org="TH", kind=OrgKind.MEMBER)
    assert {m.report_id for ms in hub.db.read_sync(visible_members, th_reader).values()
            for m in ms} == {a, b, c}
