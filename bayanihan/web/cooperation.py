"""Cooperation figures per member state, from the hub's own records, and the recipient's
acknowledgement of a regional alert.

Per member state over a window: reports contributed (first versions stored by its
organisation), the median time from first seen to reported (time to share), regional
alerts received and acknowledged, and sightings returned. The figures are counts of the
hub's records, never their content; they are shown to organisations of the community
(not downstream organisations, which see only what their member passes on).

*No ranking:* the members stay in one fixed order (by name), nothing is sorted by a
figure, medians of fewer than :data:`MIN_FOR_MEDIAN` reports are not shown, and the page
says why the numbers differ between countries for reasons that are not performance.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, func, select

from bayanihan.api.access import WRITE, allow
from bayanihan.correlate.tables_campaigns import indicator_sighting, regional_alert
from bayanihan.hub import Caller
from bayanihan.model.members import MEMBER_STATES, OrgKind
from bayanihan.model.stix import now_us
from bayanihan.store import audit
from bayanihan.store.schema import audit_log, stix_objects
from bayanihan.store.tables_reports import report_index
from bayanihan.web.figures import DAY_US, WINDOWS, cache_of
from bayanihan.web.render import page
from bayanihan.web.session import WebUser, check_csrf, web_user, web_writer

router = APIRouter()
#: signed-in users of the community's organisations (not downstream ones)
COMMUNITY = allow(("reader", "analyst", "admin"),
                  kinds=(OrgKind.HUB, OrgKind.MEMBER, OrgKind.PARTNER, OrgKind.OBSERVER))
ACK = "alert.acknowledged"
#: the figures are the same for every reader: computed at most once in this long per window
CACHE_SECONDS = 60.0
MIN_FOR_MEDIAN = 5


@dataclass(frozen=True)
class Figures:
    code: str
    name: str
    reports: int
    median_share_us: int | None  # None: fewer than MIN_FOR_MEDIAN reports
    alerts: int
    acknowledged: int
    sightings: int


def duration(us: int | None) -> str:
    if us is None:
        return "too few reports to say"
    minutes = us // 60_000_000
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 72 else f"{hours // 24} days"


def acknowledged_ids(conn: Connection, org: str | None = None) -> dict[str, set[str]]:
    """org -> ids of the alerts its people acknowledged (from the audit log)."""
    query = select(audit_log.c.actor_org, audit_log.c.object_ids).where(audit_log.c.action == ACK)
    if org:
        query = query.where(audit_log.c.actor_org == org)
    found: dict[str, set[str]] = {}
    for who, ids in conn.execute(query):
        found.setdefault(who or "", set()).update(orjson.loads(ids))
    return found


def cooperation(conn: Connection, days: int) -> list[Figures]:
    """The figures of the eleven member states over the last ``days`` days."""
    since = now_us() - days * DAY_US
    codes = list(MEMBER_STATES)
    delays: dict[str, list[int]] = {c: [] for c in codes}
    for org, first_seen, added in conn.execute(
            select(stix_objects.c.author_org, report_index.c.first_seen_us,
                   stix_objects.c.date_added)
            .join(report_index, report_index.c.object_pk == stix_objects.c.pk)
            .where(stix_objects.c.is_first.is_(True), stix_objects.c.date_added >= since,
                   stix_objects.c.author_org.in_(codes))):
        delays[org].append(max(0, added - first_seen))
    alerts: dict[str, set[str]] = {c: set() for c in codes}
    for recipient, alert_id in conn.execute(
            select(regional_alert.c.recipient, regional_alert.c.alert_id)
            .where(regional_alert.c.delivered_us >= since,
                   regional_alert.c.recipient.in_(codes))):
        alerts[recipient].add(alert_id)
    acks = acknowledged_ids(conn)
    sightings = dict(conn.execute(
        select(indicator_sighting.c.org, func.count())
        .where(indicator_sighting.c.seen_us >= since, indicator_sighting.c.org.in_(codes))
        .group_by(indicator_sighting.c.org)).all())
    return [Figures(code, MEMBER_STATES[code][0], len(delays[code]),
                    int(statistics.median(delays[code]))
                    if len(delays[code]) >= MIN_FOR_MEDIAN else None,
                    len(alerts[code]), len(alerts[code] & acks.get(code, set())),
                    int(sightings.get(code, 0)))
            for code in codes]


@router.get("/cooperation", summary="Cooperation figures per member state",
            include_in_schema=False)
async def cooperation_page(request: Request, user: Annotated[WebUser, Depends(web_user)],
                           who: Annotated[Caller, Depends(COMMUNITY)],
                           days: Annotated[int, Query(ge=1, le=365)] = 90) -> Response:
    window = days if days in WINDOWS else 90
    cache = cache_of(request.app, "cooperation")
    hit = cache.get(window)
    if hit is not None and hit[0] > time.monotonic():
        rows = hit[1]
    else:
        rows = await request.app.state.hub.db.read(cooperation, window)
        cache[window] = (time.monotonic() + CACHE_SECONDS, rows)
    return page(request, "cooperation.html", rows=rows, days=window, windows=WINDOWS,
                duration=duration, min_for_median=MIN_FOR_MEDIAN)


@router.post("/alerts/{alert_id}/acknowledge", summary="Acknowledge a regional alert",
             include_in_schema=False)
async def acknowledge(alert_id: str, request: Request,
                      user: Annotated[WebUser, Depends(web_writer)],
                      who: Annotated[Caller, Depends(WRITE)],
                      csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """The recipient's analyst says the alert was read and acted upon (audited once)."""
    check_csrf(request, csrf)
    org = who.reader.org

    def ack(conn: Connection) -> bool:
        mine = conn.execute(select(regional_alert.c.alert_id).where(
            regional_alert.c.alert_id == alert_id, regional_alert.c.recipient == org)).first()
        if mine is None:
            return False
        if alert_id not in acknowledged_ids(conn, org).get(org or "", set()):
            audit.record(conn, audit.Actor(org, who.reader.key_id), ACK, [alert_id],
                         {"by": user.session.username})
        return True

    cache_of(request.app, "cooperation").clear()  # the figures count acknowledgements
    if not await request.app.state.hub.db.write(ack):
        return page(request, "message.html", 404, title="Not found",
                    message=f"No alert {alert_id} sent to your organisation.")
    return RedirectResponse("/#alerts-h", 303)


def acknowledged_of(conn: Connection, org: str | None) -> set[str]:
    """The alerts ``org`` acknowledged (for the overview's alert cards)."""
    return acknowledged_ids(conn, org).get(org or "", set()) if org else set()
