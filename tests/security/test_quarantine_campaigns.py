"""A quarantined key's reports count in no campaign and raise no alert; lifting the
quarantine puts them back (issue 13, poisoning: bayanihan/correlate/guard_links.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from bayanihan.correlate import guard
from bayanihan.correlate.campaigns import correlate_report
from bayanihan.correlate.tables_campaigns import linked_report, regional_alert, report_link
from bayanihan.hub import Hub
from bayanihan.ingest.bundles import Submitter
from bayanihan.ingest.report_stix import build
from bayanihan.ingest.report_submit import ensure_published
from bayanihan.ingest.reports import parse_report
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs
from tests.conftest import RunningHub, seed
from tests.correlate.linking import alerts_of, campaigns_of, post_report

ADMIN = audit.Actor.console()
PARCEL = "https://parcel-fee-q13.example/pay"
BANK = "https://bank-unlock-q13.example/login"


def _phish(title: str, lure: str) -> dict[str, Any]:
    return {"vector": "phishing", "channel": "sms", "title": title, "lures": [lure]}


def _key_id(hub: Hub, key: str) -> str:
    info = hub.db.read_sync(keys.lookup, key)
    assert info is not None
    return info.key_id


def _reports_of(client: Any, campaign_id: str) -> set[str]:
    r = client.get(f"/api/v1/campaigns/{campaign_id}")
    assert r.status_code == 200, r.text
    return {x["id"] for x in r.json()["report_list"]}


def test_a_campaign_held_together_by_a_quarantined_keys_report_falls_apart(
        make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    th, vn, ph, sg = rh.client("TH"), rh.client("VN"), rh.client("PH"), rh.client("SG")
    a = post_report(th, _phish("Parcel fee", f"Your parcel is held. Pay the fee at {PARCEL} "
                               "today or it goes back."))
    c = post_report(vn, _phish("Bank lock", f"Tai khoan cua ban bi khoa. Mo lai tai {BANK} "
                               "ngay hom nay."))
    assert campaigns_of(sg) == []
    # a stolen PH key reports both: its report alone links TH's and VN's
    q = post_report(ph, _phish("Both", f"Held parcel {PARCEL} and locked account {BANK}"))
    (camp,) = campaigns_of(sg)
    assert _reports_of(sg, camp["id"]) == {a, q, c}
    alerted = alerts_of(sg)
    assert alerted  # SG was told of the campaign in TH, VN and PH

    key_id = _key_id(rh.hub, rh.key("PH"))
    rh.hub.db.write_sync(guard.quarantine, ADMIN, key_id, "stolen key")
    assert campaigns_of(sg) == [] and campaigns_of(th) == [] and campaigns_of(vn) == []
    assert rh.hub.db.read_sync(lambda conn: conn.execute(select(func.count()).select_from(
        report_link).where((report_link.c.report_a == q) | (report_link.c.report_b == q)))
        .scalar()) == 0  # set aside, not counted
    assert alerts_of(sg) == alerted  # nothing new

    rh.hub.db.write_sync(guard.release, ADMIN, key_id)
    (back,) = campaigns_of(sg)
    assert _reports_of(sg, back["id"]) == {a, q, c}
    assert alerts_of(sg) == alerted  # the same campaign: no second alert about TH, VN, PH


def test_a_quarantined_keys_report_raises_no_alert(make_hub: Callable[..., RunningHub]) -> None:
    rh = make_hub()
    stolen, vn, sg = rh.client("TH"), rh.client("VN"), rh.client("SG")
    q = post_report(stolen, _phish("Parcel fee", f"Your parcel is held. Pay at {PARCEL} now."))
    key_id = _key_id(rh.hub, rh.key("TH"))
    rh.hub.db.write_sync(guard.quarantine, ADMIN, key_id, "stolen key")
    # VN reports the same link: without the quarantine, TH + VN is a campaign crossing a
    # border and SG is alerted
    c = post_report(vn, _phish("Parcel", f"Buu kien cua ban bi giu. Thanh toan tai {PARCEL}."))
    assert campaigns_of(vn) == [] and campaigns_of(sg) == []
    assert alerts_of(sg) == [] and alerts_of(vn) == []

    rh.hub.db.write_sync(guard.release, ADMIN, key_id)
    (camp,) = campaigns_of(sg)
    assert _reports_of(sg, camp["id"]) == {q, c}
    assert len(alerts_of(sg)) == 1  # the campaign is real again: now SG is told


def _store(hub: Hub, org: str, lure: str, key: str | None) -> str:
    found = hub.db.read_sync(orgs.require, org)
    built = build(parse_report(_phish(f"{org} SMS", lure)), author=found.identity_id,
                  country=org, techniques={})
    who = Submitter(found.code, found.identity_id, found.kind,
                    _key_id(hub, key) if key else None)
    assert asyncio.run(hub.ingest_objects(built.objects, who, None)).rejected == 0
    return built.report_id


def test_a_report_sent_before_the_quarantine_and_linked_after_links_nothing(hub: Hub) -> None:
    """The report was stored with the key, then the key was quarantined before the linker
    reached it (a crash, the link queue): it joins nothing and alerts no one."""
    seed(hub)
    asyncio.run(ensure_published(hub))
    vn = _store(hub, "VN", f"Buu kien bi giu, tra phi tai {PARCEL}", None)
    assert hub.db.write_sync(correlate_report, vn).campaign_id is None
    key, _ = hub.db.write_sync(keys.create, ADMIN, "TH", keys.Role("analyst"))
    q = _store(hub, "TH", f"Parcel held, pay at {PARCEL}", key)
    hub.db.write_sync(guard.quarantine, ADMIN, _key_id(hub, key), "stolen key")
    done = hub.db.write_sync(correlate_report, q)
    assert done.links == [] and done.campaign_id is None and done.alerts == []

    def alerts(conn: Any) -> int:
        return int(conn.execute(select(func.count()).select_from(regional_alert)).scalar() or 0)

    assert hub.db.read_sync(alerts) == 0
    hub.db.write_sync(guard.release, ADMIN, _key_id(hub, key))
    camps = hub.db.read_sync(lambda conn: set(conn.execute(select(linked_report.c.campaign_id)
                             .where(linked_report.c.report_id.in_([q, vn]))).scalars()))
    assert len(camps) == 1 and None not in camps
    assert hub.db.read_sync(alerts) > 0
