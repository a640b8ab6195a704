"""TAXII 2.1 content negotiation: ``Accept`` (406) and ``Content-Type`` (415), and responses.

Every TAXII response, errors included, is ``application/taxii+json;version=2.1``. A
request may accept the bare ``application/taxii+json`` (the newest version, 2.1) or a
wildcard; a request body must be ``application/taxii+json`` (version 2.1 or none given).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from bayanihan.errors import NotAcceptable, UnsupportedMediaType

TAXII_MEDIA = "application/taxii+json;version=2.1"
TAXII_TYPE = "application/taxii+json"
STIX_MEDIA = "application/stix+json;version=2.1"
VERSION = "2.1"


def _ranges(header: str) -> list[tuple[str, dict[str, str]]]:
    """Media ranges of an Accept or Content-Type header: (type, parameters)."""
    out = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params = {}
        for p in parts[1:]:
            name, _, value = p.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        out.append((parts[0].lower(), params))
    return out


def _is_taxii21(kind: str, params: dict[str, str]) -> bool:
    return kind == TAXII_TYPE and params.get("version", VERSION) == VERSION


def acceptable(header: str | None) -> bool:
    """Whether an Accept header admits TAXII 2.1 (no header admits anything)."""
    if not header or not header.strip():
        return True
    for kind, params in _ranges(header):
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if _is_taxii21(kind, params) or kind in ("*/*", "application/*"):
            return True
    return False


async def accepts_taxii(request: Request) -> None:
    """Dependency: 406 unless the client accepts ``application/taxii+json;version=2.1``."""
    accept = request.headers.get("accept")
    if not acceptable(accept):
        raise NotAcceptable(f"this TAXII server answers only {TAXII_MEDIA}; Accept was {accept!r}",
                            ["Accept"])


def require_taxii_body(request: Request) -> None:
    """415 unless the request body is declared as TAXII 2.1 JSON."""
    declared = request.headers.get("content-type", "")
    found = _ranges(declared)
    if len(found) != 1 or not _is_taxii21(*found[0]):
        raise UnsupportedMediaType(
            f"send the envelope as Content-Type: {TAXII_MEDIA} (got {declared or 'none'!r})",
            ["Content-Type"])


def taxii_response(body: bytes, status: int = 200,
                   headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, media_type=TAXII_MEDIA, headers=headers)
