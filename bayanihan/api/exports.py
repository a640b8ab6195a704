"""``/api/v1/exports/{format}`` (and the MISP feed under ``/api/v1/exports/misp/``).

Every export is filtered by the TLP policy (``share/policy.py``) for the caller and by the
scope in the query. Without a key it is the public TLP:CLEAR feed (plain lists, CSV,
STIX only), rate-limited per client address (429 with ``Retry-After``). Responses stream;
``ETag``/``If-None-Match`` make an unchanged poll a 304 that costs a few indexed look-ups.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Connection

from bayanihan.api.access import READ
from bayanihan.api.auth import hub_of
from bayanihan.api.errors import error_response
from bayanihan.correlate import value_index
from bayanihan.correlate.value_rows import export_context
from bayanihan.errors import NotFound
from bayanihan.hub import Caller, Hub
from bayanihan.share import exports
from bayanihan.share.exports import FORMATS, Scope
from bayanihan.share.exports.formats import parse_scope
from bayanihan.share.policy import Reader

router = APIRouter(prefix="/api/v1", tags=["exports"])

#: requests a client address may make to the public feed per minute (token bucket)
PUBLIC_PER_MINUTE = 30


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class PublicLimiter:
    """A token bucket per client address; the answer is the seconds to wait (0: go)."""

    per_minute: int = PUBLIC_PER_MINUTE
    buckets: dict[str, _Bucket] = field(default_factory=dict)

    def wait(self, address: str, now: float | None = None) -> int:
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60
        b = self.buckets.setdefault(address, _Bucket(float(self.per_minute), now))
        b.tokens = min(float(self.per_minute), b.tokens + (now - b.at) * rate)
        b.at = now
        if b.tokens >= 1:
            b.tokens -= 1
            return 0
        if len(self.buckets) > 100_000:  # forget idle addresses
            self.buckets = {a: x for a, x in self.buckets.items() if now - x.at < 120}
        return max(1, int((1 - b.tokens) / rate + 0.999))


def _limiter(request: Request) -> PublicLimiter:
    state = request.app.state
    if not hasattr(state, "public_limiter"):
        state.public_limiter = PublicLimiter(
            getattr(hub_of(request).settings, "public_feed_per_minute", PUBLIC_PER_MINUTE))
    return state.public_limiter  # type: ignore[no-any-return]


async def fresh(hub: Hub) -> None:
    """Bring the value index up to date (two indexed look-ups when it is)."""
    if not await hub.db.read(value_index.is_fresh):
        await hub.db.write(value_index.catch_up)


def fresh_tag(conn: Connection, reader: Reader, scope: Scope, name: str) -> str | None:
    """The export's ETag, or None when the value index must catch up first."""
    return exports.etag(conn, reader, scope, name) if value_index.is_fresh(conn) else None


def open_export(conn: Connection, reader: Reader, name: str, scope: Scope) -> Iterator[str]:
    return exports.render(name, export_context(conn, reader, scope))


def open_misp(conn: Connection, reader: Reader, part: str, scope: Scope,
              ) -> Iterator[str] | None:
    return exports.misp_part(export_context(conn, reader, scope), part)


def _stream(hub: Hub, make: object, *args: object) -> Iterator[bytes]:
    with hub.db.read_engine.connect() as conn:
        try:
            chunks = make(conn, *args)  # type: ignore[operator]
            if chunks is None:
                return
            buffer: list[str] = []
            size = 0
            for chunk in chunks:
                buffer.append(chunk)
                size += len(chunk)
                if size >= 65_536:
                    yield "".join(buffer).encode()
                    buffer, size = [], 0
            yield "".join(buffer).encode()
        finally:
            conn.rollback()


async def _answer(request: Request, who: Caller, name: str, scope: Scope, media: str,
                  make: object, *args: object, filename: str) -> Response:
    started = time.perf_counter()
    hub = hub_of(request)
    reader: Reader = who.reader
    if not reader.authenticated:
        address = request.client.host if request.client else "?"
        wait = _limiter(request).wait(address)
        if wait:
            return error_response(request.url.path, 429, "too-many-requests",
                                  f"the public feed allows {_limiter(request).per_minute} "
                                  "requests a minute per address", [],
                                  {"Retry-After": str(wait)})
    tag = await hub.db.read(fresh_tag, reader, scope, name + filename)  # one hop when fresh
    if tag is None:
        await hub.db.write(value_index.catch_up)
        tag = await hub.db.read(exports.etag, reader, scope, name + filename)
    headers = {"ETag": tag, "Cache-Control": "private, no-cache",
               "Content-Disposition": f'inline; filename="{filename}"'}
    match = request.headers.get("if-none-match")
    headers["Server-Timing"] = f"export;dur={(time.perf_counter() - started) * 1000:.2f}"
    if match and tag in {m.strip() for m in match.split(",")}:
        return Response(status_code=304, headers=headers)
    return StreamingResponse(_stream(hub, make, reader, *args), media_type=media,
                             headers=headers)


Since = Annotated[str | None, Query(description="Only values whose indicator was added or "
                                    "changed after this time (delta updates)")]
Vector = Annotated[str | None, Query(description="Comma-separated threat vectors")]
Country = Annotated[str | None, Query(description="Comma-separated member states (ISO alpha-2) "
                                      "of the reports behind the values")]
Campaign = Annotated[str | None, Query(description="Only the values of this campaign")]
MinConfidence = Annotated[int | None, Query(description="Minimum current confidence (0-100)")]
_EXT = {"csv": "csv", "rpz": "rpz", "suricata": "rules", "sigma": "yml", "stix": "json"}


@router.get("/exports/misp/{part}", summary="The MISP feed: manifest.json, hashes.csv, "
            "one <event uuid>.json per event (a MISP instance subscribes to /exports/misp/)")
async def misp_feed(request: Request, part: str, who: Annotated[Caller, Depends(READ)],
                    since: Since = None, vector: Vector = None, country: Country = None,
                    campaign: Campaign = None, min_confidence: MinConfidence = None) -> Response:
    scope = parse_scope(since, vector, country, campaign, min_confidence)
    if not who.reader.authenticated:
        raise NotFound("the public feed offers domains, urls, ips, phones, sha256, tlsh, csv "
                       "and stix; the MISP feed needs a key", ["format"])
    if part not in ("manifest.json", "hashes.csv") and not part.endswith(".json"):
        raise NotFound(f"no {part} in the MISP feed", ["part"])
    if part.endswith(".json") and part != "manifest.json":
        async def exists() -> bool:
            return await hub_of(request).db.read(
                lambda conn: open_misp(conn, who.reader, part, scope) is not None)
        await fresh(hub_of(request))
        if not await exists():
            raise NotFound(f"no event {part} that you may see", ["part"])
    media = "text/csv; charset=utf-8" if part.endswith(".csv") else "application/json"
    return await _answer(request, who, "misp", scope, media, open_misp, part, scope,
                         filename=part)


@router.get("/exports/{fmt}", summary="An export: plain lists (domains, urls, ips, phones, "
            "sha256, tlsh), csv, rpz, suricata, sigma, stix (misp: see /exports/misp/)")
async def export(request: Request, fmt: str, who: Annotated[Caller, Depends(READ)],
                 since: Since = None, vector: Vector = None, country: Country = None,
                 campaign: Campaign = None, min_confidence: MinConfidence = None) -> Response:
    spec = FORMATS.get(fmt)
    if spec is None or fmt == "misp":
        raise NotFound(f"format: one of {', '.join(FORMATS)} (misp at /exports/misp/)",
                       ["format"])
    if not who.reader.authenticated and not spec.public:
        raise NotFound(f"format: the public feed offers "
                       f"{', '.join(n for n, f in FORMATS.items() if f.public)}; {fmt} needs "
                       "a key", ["format"])
    scope = parse_scope(since, vector, country, campaign, min_confidence)
    return await _answer(request, who, fmt, scope, spec.media_type, open_export, fmt,
                         scope, filename=f"bayanihan-{fmt}.{_EXT.get(fmt, 'txt')}")
