"""``/taxii2/`` (server discovery) and ``/taxii2/api/`` (the one API root)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bayanihan.api.access import PUBLIC
from bayanihan.api.auth import hub_of
from bayanihan.api.taxii.media import TAXII_MEDIA, taxii_response
from bayanihan.hub import Caller

router = APIRouter()
API_ROOT = "api"


def api_root_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + f"/taxii2/{API_ROOT}/"


@router.get("/", summary="TAXII: server discovery")
async def discovery(request: Request, _who: Annotated[Caller, Depends(PUBLIC)]) -> Response:
    hub = hub_of(request)
    root = api_root_url(request)
    return taxii_response(orjson.dumps({
        "title": hub.settings.hub_name,
        "description": "TAXII 2.1 server of the Bayanihan regional threat-intelligence hub.",
        "default": root,
        "api_roots": [root],
    }))


@router.get(f"/{API_ROOT}/", summary="TAXII: API root information")
async def api_root(request: Request, _who: Annotated[Caller, Depends(PUBLIC)]) -> Response:
    hub = hub_of(request)
    return taxii_response(orjson.dumps({
        "title": f"{hub.settings.hub_name}: shared threat intelligence",
        "description": "Regional, public and alert collections, under the TLP 2.0 access policy.",
        "versions": [TAXII_MEDIA],
        "max_content_length": hub.settings.max_request_bytes,
    }))
