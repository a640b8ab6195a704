"""``/taxii2/api/status/{id}/``: the outcome of an object POST, kept ``taxii_status_hours``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bayanihan.api.access import OWN
from bayanihan.api.auth import hub_of
from bayanihan.api.taxii.media import taxii_response
from bayanihan.errors import NotFound
from bayanihan.hub import Caller
from bayanihan.ingest.bundles import IngestResult
from bayanihan.store.tables_taxii import load_status

router = APIRouter()


def status_resource(status_id: str, requested: str, result: IngestResult) -> dict[str, Any]:
    """The TAXII status resource of one ingest (it completes before the POST answers).

    Every status-details entry has the ``version`` TAXII 2.1 requires; an object rejected
    before its version could be read (no valid ``modified``/``created``) carries the
    request's timestamp."""
    successes, failures = [], []
    for r in result.results:
        detail: dict[str, Any] = {"id": r.id or f"objects[{r.index}]",
                                  "version": r.version or requested}
        if r.status == "rejected":
            detail["message"] = "; ".join(f"{e.field}: {e.reason}" for e in r.errors)
            failures.append(detail)
        else:
            if r.status == "duplicate":
                detail["message"] = "already stored (no new version)"
            elif r.status == "held":  # valid, kept until its marking-definition arrives
                detail["message"] = r.note or "held until its marking-definition arrives"
            successes.append(detail)
    body: dict[str, Any] = {
        "id": status_id, "status": "complete", "request_timestamp": requested,
        "total_count": len(result.results), "success_count": len(successes),
        "failure_count": len(failures), "pending_count": 0,
    }
    if successes:
        body["successes"] = successes
    if failures:
        body["failures"] = failures
    return body


@router.get("/api/status/{status_id}/", summary="TAXII: status of an object POST")
@router.get("/api/status/{status_id}", include_in_schema=False)
async def get_status(status_id: str, request: Request,
                     who: Annotated[Caller, Depends(OWN)]) -> Response:
    assert who.reader.org is not None
    body = await hub_of(request).db.read(load_status, status_id, who.reader.org)
    if body is None:
        raise NotFound(f"no status {status_id} for your organisation (kept "
                       f"{hub_of(request).settings.taxii_status_hours} h)", ["status_id"])
    return taxii_response(body.encode())
