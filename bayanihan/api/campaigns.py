"""``/api/v1/campaigns``, ``/api/v1/links/decisions``, ``/api/v1/alerts``, ``/api/v1/sightings``.

Campaigns and alerts are derived data: each reader sees them only as far as it may see the
reports behind them (``bayanihan.correlate.campaign_views``). Analysts (keys that may write)
confirm, reject, merge and split; every decision is audit-logged.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from bayanihan.api.access import OWN, READ, WRITE
from bayanihan.api.auth import hub_of
from bayanihan.api.objects import AudienceParam, parse_audience
from bayanihan.api.responses import INT64, json_response
from bayanihan.correlate import decisions, sightings
from bayanihan.correlate.campaign_views import (
    CampaignFilter,
    alerts_for,
    campaign_detail,
    list_campaigns,
)
from bayanihan.correlate.campaigns import rules_for
from bayanihan.errors import InvalidInput, NotFound
from bayanihan.hub import Caller
from bayanihan.ingest.bundles import check_objects
from bayanihan.ingest.reports import VECTORS, country_code
from bayanihan.model.stix import parse_us

router = APIRouter(prefix="/api/v1", tags=["campaigns"])


def _time(value: str | None, name: str) -> int | None:
    if not value:
        return None
    try:
        return parse_us(value if "T" in value else value + "T00:00:00Z")
    except ValueError:
        raise InvalidInput(f"{name}: not a timestamp (2026-11-20 or 2026-11-20T08:00:00Z)",
                           [name]) from None


async def _body(request: Request) -> dict[str, Any]:
    try:
        data = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not JSON: {exc}", ["body"]) from None
    if not isinstance(data, dict):
        raise InvalidInput("body: a JSON object", ["body"])
    return data


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        raise InvalidInput(f"{name}: a string", [name])
    return value


def _ids(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput(f"{name}: a list of report ids", [name])
    return value


@router.get("/campaigns", summary="Campaigns you may see (as far as you may see their reports)")
async def get_campaigns(
    request: Request, who: Annotated[Caller, Depends(READ)],
    country: Annotated[str | None, Query(description="Member state hit (ISO 3166-1).")] = None,
    vector: Annotated[str | None, Query(description=", ".join(VECTORS))] = None,
    since: Annotated[str | None, Query(description="Active at or after.")] = None,
    until: Annotated[str | None, Query(description="Started at or before.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    if vector and vector not in VECTORS:
        raise InvalidInput(f"vector: one of {', '.join(VECTORS)}", ["vector"])
    try:
        code = country_code(country) if country else None
    except ValueError as exc:
        raise InvalidInput(f"country: {exc}", ["country"]) from None
    f = CampaignFilter(code, vector, _time(since, "since"), _time(until, "until"), limit)
    hub = hub_of(request)
    found = await hub.db.read(list_campaigns, who.reader, f, rules_for(hub.settings))
    return json_response({"campaigns": found})


@router.get("/campaigns/{campaign_id}", summary="A campaign: reports, links and evidence")
async def get_campaign(campaign_id: str, request: Request,
                       who: Annotated[Caller, Depends(READ)]) -> Response:
    hub = hub_of(request)
    found = await hub.db.read(campaign_detail, who.reader, campaign_id, rules_for(hub.settings))
    if found is None:
        raise NotFound(f"no campaign {campaign_id} that you may see", ["id"])
    return json_response(found)


@router.post("/campaigns/{campaign_id}/confirm", summary="Confirm a campaign (analysts)")
async def confirm(campaign_id: str, request: Request,
                  who: Annotated[Caller, Depends(WRITE)]) -> Response:
    assert who.submitter is not None
    done = await hub_of(request).db.write(decisions.confirm_campaign, who.submitter.actor,
                                          who.reader, campaign_id)
    return json_response(done)


@router.post("/campaigns/{campaign_id}/merge",
             summary='Merge another campaign into this one: {"with": id, "reason": text}')
async def merge(campaign_id: str, request: Request,
                who: Annotated[Caller, Depends(WRITE)]) -> Response:
    assert who.submitter is not None
    data = await _body(request)
    other = _text(data, "with")
    if not other:
        raise InvalidInput("with: the id of the campaign to merge", ["with"])
    hub = hub_of(request)
    done = await hub.db.write(decisions.merge_campaigns, who.submitter.actor, who.reader,
                              campaign_id, other, _text(data, "reason"), rules_for(hub.settings))
    return json_response(done)


@router.post("/campaigns/{campaign_id}/split",
             summary='Split reports off a campaign: {"reports": [ids], "reason": text}')
async def split(campaign_id: str, request: Request,
                who: Annotated[Caller, Depends(WRITE)]) -> Response:
    assert who.submitter is not None
    data = await _body(request)
    hub = hub_of(request)
    done = await hub.db.write(decisions.split_campaign, who.submitter.actor, who.reader,
                              campaign_id, _ids(data, "reports"), _text(data, "reason"),
                              rules_for(hub.settings))
    return json_response(done)


@router.post("/links/decisions", summary='Confirm or reject the link between two reports: '
             '{"reports": [a, b], "decision": "confirmed"|"rejected", "reason": text}')
async def decide(request: Request, who: Annotated[Caller, Depends(WRITE)]) -> Response:
    assert who.submitter is not None
    data = await _body(request)
    hub = hub_of(request)
    done = await hub.db.write(decisions.decide_pair, who.submitter.actor, who.reader,
                              _ids(data, "reports"), _text(data, "decision"),
                              _text(data, "reason"), rules_for(hub.settings))
    return json_response(done)


@router.get("/alerts", summary="Regional alerts your organisation received")
async def get_alerts(request: Request, who: Annotated[Caller, Depends(OWN)],
                     after: Annotated[int, Query(ge=0, le=INT64)] = 0,
                     limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    found = await hub_of(request).db.read(alerts_for, who.reader, after, limit)
    return json_response({"alerts": found, "next": found[-1]["position"] if found else None})


@router.post("/sightings", status_code=201, summary='Report a sighting: {"indicator": id, '
             '"verdict": "seen"|"false-positive", "count"?, "first_seen"?, "last_seen"?, '
             '"tlp"?}')
async def post_sighting(request: Request, who: Annotated[Caller, Depends(WRITE)],
                        audience: AudienceParam = None) -> Response:
    assert who.submitter is not None
    obj = sightings.sighting_object(await _body(request), who.submitter)
    results, good = await anyio.to_thread.run_sync(check_objects, [obj], who.submitter)
    problems = [e for r in results for e in r.errors]
    if problems:
        raise InvalidInput("; ".join(e.reason for e in problems), [e.field for e in problems])
    hub = hub_of(request)
    result = await hub.db.write(sightings.record_sightings, results, good, who.submitter,
                                who.reader, parse_audience(audience))
    if result.rejected:
        errs = [e for r in result.results for e in r.errors]
        raise InvalidInput("; ".join(e.reason for e in errs), [e.field for e in errs])
    now = await hub.db.read(sightings.confidence, who.reader, obj["sighting_of_ref"])
    return json_response({"id": obj["id"], "sighting": obj,
                          "confidence": now.as_dict() if now else None}, 201)


@router.get("/indicators/{indicator_id}/confidence",
            summary="An indicator's confidence now: sightings and decay")
async def get_confidence(indicator_id: str, request: Request,
                         who: Annotated[Caller, Depends(READ)]) -> Response:
    found = await hub_of(request).db.read(sightings.confidence, who.reader, indicator_id)
    if found is None:
        raise NotFound(f"no indicator {indicator_id} that you may see", ["id"])
    return json_response(found.as_dict())
