"""The campaign view: its reports, the evidence for each link, the border-crossing timeline
with the time the hub took to warn, the analyst's decisions, and the defences to deploy.
Reads through ``correlate.campaign_views`` (the reader's own view of the campaign)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from bayanihan.api.access import READ, WRITE
from bayanihan.correlate import decisions
from bayanihan.correlate.campaign_views import alerts_for, campaign_detail
from bayanihan.correlate.campaigns import rules_for
from bayanihan.errors import BayanihanError
from bayanihan.hub import Caller
from bayanihan.model.stix import parse_us
from bayanihan.web.pages import defences
from bayanihan.web.render import page
from bayanihan.web.session import WebUser, check_csrf, web_writer

router = APIRouter()


def _duration(us: int) -> str:
    minutes = max(0, us) // 60_000_000
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 72 else f"{hours // 24} days"


def timeline(detail: dict[str, Any], alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per country, in the order the campaign reached it; time to warn per alert."""
    rows: dict[str, dict[str, Any]] = {}
    for r in detail["report_list"]:
        for country in r["countries"] or ["—"]:
            if country not in rows:
                rows[country] = {"country": country, "first_seen": r["first_seen"],
                                 "report": r["id"], "author": r["author"]}
    first = min((parse_us(r["first_seen"]) for r in detail["report_list"]), default=None)
    warned = []
    for a in alerts:
        if a["campaign"] != detail.get("id"):
            continue
        delivered = parse_us(a["delivered"])
        warned.append({"id": a["id"], "delivered": a["delivered"],
                       "countries": a["countries"],
                       "after": _duration(delivered - first) if first else "—"})
    return [*rows.values()], warned  # type: ignore[return-value]


@router.get("/campaigns/{campaign_id}", summary="Campaign view", include_in_schema=False)
async def campaign_page(campaign_id: str, request: Request,
                        who: Annotated[Caller, Depends(READ)], error: str = "") -> Response:
    hub = request.app.state.hub

    def read(conn: Connection) -> Any:
        found = campaign_detail(conn, who.reader, campaign_id, rules_for(hub.settings))
        return found, alerts_for(conn, who.reader, 0, 1000) if found else []

    detail, alerts = await hub.db.read(read)
    if detail is None:
        return page(request, "message.html", 404, title="Not found",
                    message=f"No campaign {campaign_id} that you may see.")
    crossings, warned = timeline(detail, alerts)
    return page(request, "campaign.html", c=detail, campaign_id=campaign_id,
                crossings=crossings, warned=warned, defences=defences(detail.get("id") or campaign_id),
                error=error)


@router.post("/campaigns/{campaign_id}/decide", summary="Confirm, reject, merge or split",
             include_in_schema=False)
async def campaign_decide(campaign_id: str, request: Request,
                          user: Annotated[WebUser, Depends(web_writer)],
                          who: Annotated[Caller, Depends(WRITE)],
                          action: Annotated[str, Form(max_length=20)],
                          csrf: Annotated[str, Form(max_length=100)] = "",
                          other: Annotated[str, Form(max_length=300)] = "",
                          reports: Annotated[list[str] | None, Form()] = None,
                          reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    check_csrf(request, csrf)
    assert who.submitter is not None
    hub = request.app.state.hub
    actor, reader, rules = who.submitter.actor, who.reader, rules_for(hub.settings)
    picked = reports or []
    try:
        if action == "confirm":
            await hub.db.write(decisions.confirm_campaign, actor, reader, campaign_id)
        elif action == "merge":
            await hub.db.write(decisions.merge_campaigns, actor, reader, campaign_id, other,
                               reason, rules)
        elif action == "split":
            await hub.db.write(decisions.split_campaign, actor, reader, campaign_id, picked,
                               reason, rules)
        elif action in ("confirmed", "rejected"):
            await hub.db.write(decisions.decide_pair, actor, reader, picked, action, reason,
                               rules)
        else:
            raise BayanihanError("action: confirm, merge, split, confirmed or rejected",
                                 ["action"])
    except BayanihanError as exc:
        return await campaign_page(campaign_id, request, who, error=str(exc.detail))
    return RedirectResponse(f"/campaigns/{campaign_id}", 303)
