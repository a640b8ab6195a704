"""The incremental campaign path gives exactly what the full recomputation gives.

The same random sequence of reports (members posting CLEAR, GREEN, AMBER and RED reports
that share URLs from a small pool, so campaigns form, grow and merge) goes into two hubs:
one keeps campaigns up to date incrementally (``campaign_growth.grow``), the other with it
switched off, so every report goes through ``recluster``. Afterwards both hubs must hold
the same campaigns (as sets of report titles), the same campaign and relationship objects
with the same markings, the same ``campaign.linked`` and ``alert`` events in the same order,
the same regional alerts, and the same campaign shape columns. The incremental path must
have been taken for most reports, or the comparison proves nothing.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from bayanihan import pipeline
from bayanihan.config import Settings
from bayanihan.correlate import campaign_growth
from bayanihan.correlate.tables_campaigns import campaigns, linked_report, regional_alert
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.reports import parse_report
from bayanihan.share.policy import Reader, visible
from bayanihan.store import organisations as orgs
from bayanihan.store.schema import events, stix_objects
from tests.conftest import PostgresDatabases, need, seed

POSTERS = ("TH", "PH", "VN", "ID", "MY", "SG", "KH")
#: scam waves, each with its own URLs and TLP mix: uniform GREEN and CLEAR waves (what the
#: incremental path is for), a GREEN wave with AMBER and RED reports in it (the full path)
WAVES = (("green",), ("green",), ("clear",), ("green", "green", "green", "amber", "red"))


def _reports(seed_no: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed_no)
    pools = [[f"https://wave{w}-{seed_no}-{i}.example/pay" for i in range(4)]
             for w in range(len(WAVES))]
    out = []
    for i in range(n):
        org = rng.choice(POSTERS)
        wave = rng.randrange(len(WAVES))
        tlp = rng.choice(WAVES[wave])
        urls = rng.sample(pools[wave], rng.choice((1, 1, 2)))
        if wave < 2 and rng.random() < 0.08:  # now and then a report joins the GREEN waves
            urls.append(rng.choice(pools[1 - wave]))
        if i == n - 5:  # and one joins the CLEAR wave to the mixed one
            urls = [pools[2][0], pools[3][0]]
        doc: dict[str, Any] = {
            "vector": "phishing", "channel": "sms", "title": f"r{i:03d}", "tlp": tlp,
            "observables": sorted(set(urls)), "countries": [org],
            "ai_involvement": {"assessment": "suspected"}}
        if tlp == "red":
            doc["audience"] = sorted({org, rng.choice(POSTERS)})
        out.append({"org": org, "doc": doc})
    return out


def _post(hub: Hub, org: str, doc: dict[str, Any]) -> None:
    found = hub.db.read_sync(orgs.require, org)
    sub = Submitter(found.code, found.identity_id, found.kind)
    asyncio.run(pipeline.submit(hub, parse_report(doc), sub,
                                visible(Reader(org=org, kind=found.kind))))


def _snapshot(hub: Hub) -> dict[str, Any]:
    """Everything the campaigns produced, with random ids replaced by report titles."""
    def read(conn: Any) -> dict[str, Any]:
        title = {r.id: orjson.loads(r.body)["name"] for r in conn.execute(select(
            stix_objects.c.id, stix_objects.c.body).where(
            stix_objects.c.type == "report", stix_objects.c.is_latest.is_(True),
            stix_objects.c.author_org != orgs.HUB_CODE))}
        groups: dict[str, set[str]] = {}
        for rid, cid in conn.execute(select(linked_report.c.report_id,
                                            linked_report.c.campaign_id)):
            if cid:
                groups.setdefault(cid, set()).add(title[rid])
        name = {cid: ",".join(sorted(ts)) for cid, ts in groups.items()}

        def named(cid: str) -> str:
            return name.get(cid, "dead")  # a campaign merged away

        objects = Counter()
        for r in conn.execute(select(stix_objects.c.body, stix_objects.c.tlp,
                                     stix_objects.c.audience).where(
                stix_objects.c.type.in_(("campaign", "relationship")),
                stix_objects.c.author_org == orgs.HUB_CODE, stix_objects.c.is_latest.is_(True))):
            body = orjson.loads(r.body)
            what = (named(body["id"]) if body["type"] == "campaign" else
                    f"{title[body['source_ref']]}->{named(body['target_ref'])}")
            objects[(body["type"], what, r.tlp, r.audience, bool(body.get("revoked")))] += 1
        evs = []
        for e in conn.execute(select(events).where(events.c.kind.in_(
                ("campaign.linked", "alert"))).order_by(events.c.position)):
            payload = orjson.loads(e.payload)
            payload.pop("id", None)
            payload["campaign"] = named(payload.get("campaign") or e.object_id)
            payload.pop("exports", None)
            evs.append((e.kind, e.tlp, e.audience, payload))
        alerts = [(a.recipient, a.countries, title[a.first_report], title[a.trigger_report])
                  for a in conn.execute(select(regional_alert).order_by(regional_alert.c.pk))]
        shape = {named(c.id): (c.size, c.visibility, c.countries, c.languages, c.vectors)
                 for c in conn.execute(select(campaigns).where(campaigns.c.state == "active"))}
        best = {title[r.report_id]: r.best_score for r in conn.execute(select(
            linked_report.c.report_id, linked_report.c.best_score, linked_report.c.campaign_id))
            if r.campaign_id}
        return {"campaigns": sorted(name.values()), "objects": objects, "events": evs,
                "alerts": alerts, "shape": shape, "best": best}
    return hub.db.read_sync(read)


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path,
             postgres: PostgresDatabases | None) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
        return
    need("PostgreSQL (BAYANIHAN_TEST_PG_URL)", postgres is not None)
    assert postgres is not None
    (a, url_a), (b, url_b) = postgres.create(), postgres.create()
    yield url_a, url_b
    postgres.drop(a)
    postgres.drop(b)


@pytest.mark.parametrize("seed_no", [1, 2])
def test_incremental_campaigns_match_the_full_recomputation(
        two_urls: tuple[str, str], tmp_path: Path, seed_no: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    taken = Counter()
    real = campaign_growth._join

    def counting(*args: Any, **kw: Any) -> Any:
        taken["grow"] += 1
        return real(*args, **kw)

    monkeypatch.setattr(campaign_growth, "_join", counting)
    reports = _reports(seed_no, 60)
    snaps = []
    for url, incremental in zip(two_urls, (True, False), strict=True):
        monkeypatch.setattr(campaign_growth, "ENABLED", incremental)
        (tmp_path / str(incremental)).mkdir()
        hub = Hub(Settings(database_url=url, data_dir=str(tmp_path / str(incremental)),
                           key_cache_seconds=0.0))
        hub.open()
        try:
            seed(hub)
            for r in reports:
                _post(hub, r["org"], r["doc"])
            snaps.append(_snapshot(hub))
        finally:
            hub.close()
    fast, full = snaps
    # the scenario is rich enough to mean something
    assert len(full["campaigns"]) >= 2 and any(len(c.split(",")) >= 4 for c in full["campaigns"])
    assert any(e[0] == "alert" for e in full["events"]) and full["alerts"]
    for part in ("campaigns", "objects", "events", "alerts", "shape", "best"):
        assert fast[part] == full[part], part
    assert taken["grow"] >= 15, taken
