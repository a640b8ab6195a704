"""``/api/v1/messages``: bulk intake of reported messages (see docs/messages.md).

``POST /api/v1/messages`` takes a JSON array or JSON lines of up to 10,000 messages; the
batch is stored whole (200 with a summary) or not at all (4xx naming ``messages[i].field``).
Members read their clusters and drafts back, set their thresholds, and publish drafts.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from bayanihan.api.access import WRITE_OWN, allow
from bayanihan.api.auth import hub_of
from bayanihan.api.responses import INT64, json_response
from bayanihan.errors import Forbidden, InvalidInput
from bayanihan.hub import Caller
from bayanihan.messages import drafts, settings
from bayanihan.messages.service import member_of, service
from bayanihan.messages.views import list_clusters, list_drafts
from bayanihan.model.members import OrgKind
from bayanihan.share.policy import visible

router = APIRouter(prefix="/api/v1", tags=["messages"])

_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"type": "array", "maxItems": 10_000, "items": {
        "type": "object", "required": ["text", "channel", "sender", "country", "received"],
        "properties": {
            "text": {"type": "string", "maxLength": 10_000},
            "channel": {"enum": ["sms", "email", "chat", "voice"]},
            "sender": {"type": "string", "maxLength": 200},
            "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
            "received": {"type": "string", "format": "date-time"},
            "reporter_ref": {"type": "string", "maxLength": 200},
            "recipient": {"type": "object", "properties": {
                "number": {"type": "string"}, "name": {"type": "string"}}}}}}},
    "application/x-ndjson": {"schema": {"type": "string",
                                         "description": "one message object per line"}}}}}


#: Who may forward messages: a member's line (member, or the hub operator for itself) and the
#: member's downstream organisations (banks, telcos), whose messages join the member's lures.
FORWARD = allow(("analyst", "admin"), kinds=(OrgKind.MEMBER, OrgKind.DOWNSTREAM, OrgKind.HUB),
                reads="own")
#: Reading the caller's member's clusters, drafts and settings.
OWN_MEMBER = allow(("reader", "analyst", "admin"), reads="own")
#: Publishing the member's drafts (the one rule for writing reports).
PUBLISH = WRITE_OWN
#: Setting the member's thresholds: an admin key of the member (or the hub operator).
SET = allow(("admin",), kinds=(OrgKind.MEMBER, OrgKind.HUB), reads="own")
#: Purging raw messages now: the hub operator.
PURGE = allow(("admin",), kinds=(OrgKind.HUB,), reads="admin")


def _member(who: Caller, asked: str | None) -> str:
    """The member whose clusters are meant: the caller's, or any for the hub operator."""
    if asked and asked != member_of(who):
        if who.reader.kind is not OrgKind.HUB:
            raise Forbidden("only the hub operator may act for another member", ["member"])
        return asked.upper()
    return member_of(who)


@router.post("/messages", summary="Forward a batch of reported messages (≤ 10,000)",
             openapi_extra=_BODY)
async def post_messages(request: Request, who: Annotated[Caller, Depends(FORWARD)]) -> Response:
    """Stored, folded into lures and linked in one transaction; 200 with a summary."""
    result = await service(hub_of(request)).submit(who, await request.body())
    return json_response(result.as_dict())


@router.get("/messages/clusters", summary="Your clusters of reported messages")
async def get_clusters(
    request: Request, who: Annotated[Caller, Depends(OWN_MEMBER)],
    min_count: Annotated[int, Query(ge=1, le=INT64)] = 1,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=0, le=INT64,
                                        description="Paging cursor from `next`.")] = None,
    member_code: Annotated[str | None, Query(alias="member")] = None,
) -> Response:
    code = _member(who, member_code)
    rows = await hub_of(request).db.read(lambda conn: list_clusters(
        conn, code, visible(who.reader), min_count=min_count, limit=limit, before=before))
    nxt = rows[-1]["id"] if len(rows) == limit else None
    return json_response({"clusters": rows, "next": nxt})


@router.get("/messages/drafts", summary="Reports drafted from your clusters")
async def get_drafts(request: Request, who: Annotated[Caller, Depends(OWN_MEMBER)],
                     status: Annotated[str | None, Query(pattern="^(draft|queued|published)$")]
                     = None,
                     member_code: Annotated[str | None, Query(alias="member")] = None) -> Response:
    code = _member(who, member_code)
    rows = await hub_of(request).db.read(list_drafts, code, status)
    return json_response({"drafts": rows})


@router.post("/messages/drafts/{draft_id}/publish", summary="Publish a drafted report",
             status_code=201)
async def publish_draft(draft_id: Annotated[int, Path(ge=1, le=2**63 - 1)], request: Request,
                        who: Annotated[Caller, Depends(PUBLISH)]) -> Response:
    report_id = await drafts.publish(hub_of(request), draft_id, member_of(who))
    return json_response({"draft": draft_id, "report": report_id}, 201)


@router.get("/messages/settings", summary="Your intake thresholds and publishing choice")
async def get_settings(request: Request, who: Annotated[Caller, Depends(OWN_MEMBER)],
                       member_code: Annotated[str | None, Query(alias="member")] = None
                       ) -> Response:
    code = _member(who, member_code)
    found = await hub_of(request).db.read(settings.get, code)
    return json_response({"member": code, **found.as_dict()})


@router.put("/messages/settings", summary="Set intake thresholds (admin key)")
async def put_settings(request: Request, who: Annotated[Caller, Depends(SET)],
                       member_code: Annotated[str | None, Query(alias="member")] = None
                       ) -> Response:
    code = _member(who, member_code)
    try:
        data = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise InvalidInput("send a JSON object of settings", ["body"]) from None
    hub = hub_of(request)
    current = await hub.db.read(settings.get, code)
    new = settings.parse(data, current)
    await hub.db.write(settings.put, code, new)
    return json_response({"member": code, **new.as_dict()})


@router.post("/admin/messages/purge", summary="Purge raw messages past their retention now")
async def purge_now(request: Request, who: Annotated[Caller, Depends(PURGE)]) -> Response:
    gone = await service(hub_of(request)).purge()
    return json_response({"purged": gone})
