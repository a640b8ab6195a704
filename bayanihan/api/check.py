"""``POST /api/v1/check``: what the hub knows about up to 1,000 items (messages, URLs,
domains, IPs, phone numbers, SHA-256, TLSH), as the caller may see it."""

from __future__ import annotations

import time
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bayanihan.api.access import MEMBER
from bayanihan.api.auth import hub_of
from bayanihan.api.exports import fresh
from bayanihan.api.responses import json_response
from bayanihan.correlate.check import check, parse_items
from bayanihan.errors import InvalidInput
from bayanihan.hub import Caller

router = APIRouter(prefix="/api/v1", tags=["check"])


@router.post("/check", summary="Check messages, URLs, domains, IPs, phones, hashes and TLSH "
             "digests (up to 1,000 items) against what the caller may see")
async def check_items(request: Request, who: Annotated[Caller, Depends(MEMBER)]) -> Response:
    started = time.perf_counter()
    try:
        body = orjson.loads(await request.body() or b"null")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"body is not JSON: {exc}", ["body"]) from None
    items = parse_items(body)
    hub = hub_of(request)
    await fresh(hub)
    results = await hub.db.read(check, who.reader, items)
    took = (time.perf_counter() - started) * 1000
    return json_response({"results": results}, headers={"Server-Timing": f"check;dur={took:.2f}"})
