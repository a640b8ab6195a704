"""The analyst's pages: overview (with the live feed), report form, search, object view.

Each handler takes its caller from the session (``web/session.py``) and reads only through
``share.policy.visible`` (queries) or the stream's ``wants`` (live events): a page shows
exactly what an API key of the same organisation and role would read.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Connection, or_, select

from bayanihan.api.access import MEMBER, READ, WRITE
from bayanihan.api.reports import read_report
from bayanihan.api.stream import realtime_of, sse_frame
from bayanihan.correlate.campaign_views import CampaignFilter, alerts_for, list_campaigns
from bayanihan.correlate.campaigns import rules_for
from bayanihan.correlate.tables_campaigns import regional_alert
from bayanihan.hub import Caller
from bayanihan.ingest.observables.extract import extract
from bayanihan.model.stix import format_ms
from bayanihan.model.tlp import TLP
from bayanihan.share.exports import export_links
from bayanihan.share.policy import visible
from bayanihan.share.stream import Filters, Subscription
from bayanihan.store.reports import ReportFilter, list_reports
from bayanihan.store.schema import stix_objects
from bayanihan.web import figures
from bayanihan.web.cooperation import acknowledged_of
from bayanihan.web.render import page
from bayanihan.web.session import WebUser, web_user

router = APIRouter()

#: how each export is named on the pages (URLs from ``share.exports.export_links``)
EXPORT_LABELS: tuple[tuple[str, str], ...] = (
    ("stix", "STIX bundle"), ("suricata", "Suricata rules"), ("sigma", "Sigma rules"),
    ("rpz", "DNS RPZ zone"), ("csv", "CSV"), ("domains", "domains"), ("urls", "URLs"),
    ("ips", "IP addresses"), ("phones", "phone numbers"), ("misp", "MISP event"))


def defences(campaign: str) -> list[tuple[str, str]]:
    """(label, URL) of every export of ``campaign``: for blocking tools that hold a key
    (the API reads keys, never this session's cookie)."""
    links = export_links(campaign)
    return [(label, links[name]) for name, label in EXPORT_LABELS if name in links]


def _tlp_of(value: str | None) -> str:
    return value if value in {t.value for t in TLP} else TLP.AMBER.value


def _tenth_newest_alert(conn: Connection, org: str | None) -> int:
    """The position after which the organisation's ten newest alerts lie (0: all of them)."""
    found = conn.execute(select(regional_alert.c.pk).where(regional_alert.c.recipient == org)
                         .order_by(regional_alert.c.pk.desc()).limit(1).offset(10)).scalar()
    return int(found or 0)


@router.get("/", summary="Overview", include_in_schema=False)
async def overview(request: Request, user: Annotated[WebUser, Depends(web_user)],
                   who: Annotated[Caller, Depends(MEMBER)],
                   days: Annotated[int, Query(ge=1, le=365)] = 30) -> Response:
    hub = request.app.state.hub
    reader = who.reader
    window = days if days in figures.WINDOWS else 30
    cache = figures.cache_of(request.app, "overview")

    def read(conn: Connection) -> dict[str, Any]:
        rows = list_reports(conn, visible(reader), ReportFilter(limit=15))
        alerts = alerts_for(conn, reader, _tenth_newest_alert(conn, reader.org), 10)[::-1]
        made = figures.summary(conn, reader, window, cache)
        return {"reports": rows, "alerts": alerts, "tiles": made.tiles,
                "acknowledged": acknowledged_of(conn, reader.org),
                "vector_chart": figures.line_chart(f"Reports by vector, last {window} days",
                                                   made.span, made.by_vector),
                "language_chart": figures.line_chart(f"Reports by language, last {window} days",
                                                     made.span, made.by_language)}

    data = await hub.db.read(read)
    return page(request, "overview.html", days=window, windows=figures.WINDOWS,
                vectors=figures.vectors(), colours=figures.VECTOR_COLOURS,
                defences=defences, format_ms=format_ms, **data)


@router.get("/live", summary="Live events for the signed-in organisation (SSE)",
            include_in_schema=False)
async def live(request: Request, user: Annotated[WebUser, Depends(web_user)],
               who: Annotated[Caller, Depends(MEMBER)]) -> Response:
    """The API's stream, for a session: the same ``wants`` rule decides every event."""
    realtime = realtime_of(request.app)
    sub = Subscription(realtime.stream, who.reader, Filters(), None)

    async def frames() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n: ready\n\n"
        items = sub.items(15.0, True)
        try:
            async for item in items:
                yield sse_frame(item)
        finally:
            await items.aclose()

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/observables", summary="Observables found in a text (the form's preview)",
            include_in_schema=False)
async def observables(request: Request, user: Annotated[WebUser, Depends(web_user)],
                      who: Annotated[Caller, Depends(WRITE)],
                      text: Annotated[str, Query(max_length=20_000)] = "") -> Response:
    found = [{"type": o.kind, "value": o.value} for o in extract(text)][:200]
    return Response(orjson.dumps({"observables": found}), media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.get("/search", summary="Search reports, indicators and campaigns",
            include_in_schema=False)
async def search(request: Request, who: Annotated[Caller, Depends(READ)],
                 q: Annotated[str, Query(max_length=200)] = "") -> Response:
    hub = request.app.state.hub
    reader = who.reader
    text = q.strip()

    def read(conn: Connection) -> dict[str, Any]:
        if not text:
            return {"reports": [], "indicators": [], "campaigns": []}
        where = visible(reader)
        reports = list_reports(conn, where, ReportFilter(text=text, limit=50))
        like = f"%{text.replace('%', '').replace('_', '')}%"
        indicators = conn.execute(
            select(stix_objects.c.id, stix_objects.c.tlp, stix_objects.c.body)
            .where(stix_objects.c.type == "indicator", stix_objects.c.is_latest.is_(True),
                   where, or_(stix_objects.c.body.like(like)))
            .order_by(stix_objects.c.pk.desc()).limit(50)).all()
        campaigns = [c for c in list_campaigns(conn, reader, CampaignFilter(),
                                               rules_for(hub.settings))
                     if text.lower() in orjson.dumps(c).decode().lower()][:50]
        return {"reports": reports,
                "indicators": [(r.id, r.tlp, orjson.loads(r.body)) for r in indicators],
                "campaigns": campaigns}

    data = await hub.db.read(read)
    return page(request, "search.html", q=text, format_ms=format_ms, **data)


@router.get("/objects/{object_id}", summary="One object with its TLP banner",
            include_in_schema=False)
async def object_view(object_id: str, request: Request,
                      who: Annotated[Caller, Depends(READ)]) -> Response:
    hub = request.app.state.hub
    where = visible(who.reader)

    def read(conn: Connection) -> Any:
        if object_id.startswith("report--"):
            bodies, audience = read_report(conn, object_id, where)
            if bodies:
                row = conn.execute(select(stix_objects.c.tlp, stix_objects.c.author_org).where(
                    stix_objects.c.id == object_id, stix_objects.c.is_latest.is_(True),
                    where)).first()
                return row, [orjson.loads(b) for b in bodies], audience
            return None
        row = conn.execute(select(stix_objects.c.tlp, stix_objects.c.author_org,
                                  stix_objects.c.body, stix_objects.c.audience).where(
            stix_objects.c.id == object_id, stix_objects.c.is_latest.is_(True), where)
            .order_by(stix_objects.c.pk.desc()).limit(1)).first()
        if row is None:
            return None
        return row, [orjson.loads(row.body)], (orjson.loads(row.audience)
                                               if row.audience else None)

    found = await hub.db.read(read)
    if found is None:
        return page(request, "message.html", 404, title="Not found",
                    message=f"No object {object_id} that you may see.")
    row, bodies, audience = found
    related = [(b.get("id"), b.get("type"), b.get("name") or b.get("value")
                or b.get("pattern")) for b in bodies[1:]]
    return page(request, "object.html", obj=bodies[0], tlp=_tlp_of(row.tlp), author=row.author_org,
                audience=audience, related=related,
                pretty=orjson.dumps(bodies[0], option=orjson.OPT_INDENT_2).decode())
