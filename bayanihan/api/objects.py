"""``/api/v1/objects``: STIX bundles in, object versions out (through the access policy)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from bayanihan.api.access import READ, WRITE
from bayanihan.api.auth import hub_of
from bayanihan.api.responses import json_response
from bayanihan.errors import NotFound
from bayanihan.hub import Caller
from bayanihan.share.policy import visible
from bayanihan.store.objects import versions_of

router = APIRouter(prefix="/api/v1", tags=["objects"])

AudienceParam = Annotated[
    str | None,
    Query(description="Comma-separated organisation codes: the AMBER audience or the TLP:RED "
                      "recipients. Default: every member organisation (RED needs names)."),
]


def parse_audience(audience: str | None) -> list[str] | None:
    if audience is None:
        return None
    return [c for c in (part.strip() for part in audience.split(",")) if c]


@router.post("/objects", summary="Submit a STIX 2.1 bundle")
async def post_objects(
    request: Request, who: Annotated[Caller, Depends(WRITE)], audience: AudienceParam = None,
    atomic: Annotated[bool, Query(description="Store the bundle whole or not at all.")] = False,
) -> Response:
    """Each object is validated and stored or rejected with reasons.

    200: all stored (or already there); 207: some rejected; 422: none stored.
    """
    assert who.submitter is not None
    raw = await request.body()
    started = time.perf_counter()
    result = await hub_of(request).ingest_bundle(raw, who.submitter, parse_audience(audience),
                                                 atomic=atomic)
    took_ms = (time.perf_counter() - started) * 1000
    status = 200 if result.rejected == 0 else (207 if result.accepted else 422)
    body = result.as_dict()
    if status == 422:
        fields = [e.field for r in result.results for e in r.errors]
        body = {"error": "rejected", "detail": "no object of the bundle was stored",
                "fields": fields, **body}
    return json_response(body, status, headers={"Server-Timing": f"ingest;dur={took_ms:.1f}"})


@router.get("/objects/{object_id}", summary="Every version of an object the caller may see")
async def get_object(object_id: str, request: Request,
                     who: Annotated[Caller, Depends(READ)]) -> Response:
    rows = await hub_of(request).db.read(versions_of, object_id, visible(who.reader))
    if not rows:
        raise NotFound(f"no object {object_id} that you may see", ["id"])
    return json_response({"id": object_id, "versions": [
        {"version": r.version, "date_added": r.date_added, "tlp": r.tlp,
         "submitted_by": _submitted_by(r, who), "object": r.body}
        for r in rows
    ]}, raw_keys=("object",))


def _submitted_by(row: Any, who: Caller) -> dict[str, Any]:
    """Who submitted a version (provenance, beside the object, never inside it); the key
    is shown to its own organisation only."""
    out: dict[str, Any] = {"org": row.author_org}
    if row.submitted_key and who.reader.org == row.author_org:
        out["key"] = row.submitted_key
    return out
