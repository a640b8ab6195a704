"""``POST /api/v1/check``: what the hub knows about up to 1,000 items (messages, URLs,
domains, IPs, phone numbers, SHA-256, TLSH), as the caller may see it."""

from __future__ import annotations

import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import Connection

from bayanihan.api.access import MEMBER
from bayanihan.api.auth import hub_of
from bayanihan.api.responses import json_response
from bayanihan.correlate import value_index
from bayanihan.correlate.check import check, parse_items
from bayanihan.errors import InvalidInput
from bayanihan.hub import Caller
from bayanihan.model.timing import Stages, server_timing

router = APIRouter(prefix="/api/v1", tags=["check"])


@router.post("/check", summary="Check messages, URLs, domains, IPs, phones, hashes and TLSH "
             "digests (up to 1,000 items) against what the caller may see")
async def check_items(request: Request, who: Annotated[Caller, Depends(MEMBER)]) -> Response:
    started, stages = time.perf_counter(), Stages()
    raw = await request.body()
    cpu = time.thread_time()  # of this thread while nothing else runs in it: no await
    with stages.stage("parse"):
        try:
            body = orjson.loads(raw or b"null")
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"body is not JSON: {exc}", ["body"]) from None
        items = parse_items(body)
    cpu = time.thread_time() - cpu
    hub = hub_of(request)

    def run(conn: Connection, known_fresh: bool = False) -> list[dict[str, Any]] | None:
        """The answers, or None when the value index must catch up first (one read, not
        two, in the common case: the index is fresh)."""
        nonlocal cpu
        begun = time.thread_time()
        try:
            with stages.stage("fresh"):
                if not known_fresh and not value_index.is_fresh(conn):
                    return None
            return check(conn, who.reader, items, stages=stages)
        finally:
            cpu += time.thread_time() - begun

    results = await hub.db.read(run)
    if results is None:  # new indicators or reports since the index last read
        with stages.stage("fresh"):
            await hub.db.write(value_index.catch_up)
        results = await hub.db.read(run, True)
    took = (time.perf_counter() - started) * 1000
    # the whole call first, then its steps, and the CPU time of parsing and checking
    timing = server_timing({"check": took, **stages, "cpu": cpu * 1000})
    return json_response({"results": results}, headers={"Server-Timing": timing})
