"""``/api/v1/reports`` and ``/api/v1/import/misp``: AI-driven attacks reported, listed, read.

``POST /api/v1/reports`` takes the plain JSON report (``application/json``), or
``multipart/form-data`` with the report as the ``report`` field and a ``sample`` and/or
``media`` file. Every read goes through the access policy (``share.policy.visible``).
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import Connection, select
from starlette.datastructures import UploadFile

from bayanihan.api.access import READ, WRITE
from bayanihan.api.auth import hub_of
from bayanihan.api.objects import AudienceParam, parse_audience
from bayanihan.api.responses import INT64, json_response, render
from bayanihan.errors import InvalidInput, NotFound, UnsupportedMediaType
from bayanihan.hub import Caller
from bayanihan.ingest import misp
from bayanihan.ingest.reports import (
    CHANNELS,
    VECTORS,
    Report,
    country_code,
    language_code,
    parse_report,
)
from bayanihan.ingest.uploads import Upload, hash_upload
from bayanihan.model.atlas import is_technique_id, normalise_technique_id
from bayanihan.model.stix import format_ms, parse_us
from bayanihan.model.timing import Stages, server_timing
from bayanihan.pipeline import link, submit
from bayanihan.share.policy import visible
from bayanihan.store.reports import ReportFilter, facets_of, list_reports
from bayanihan.store.schema import stix_objects

router = APIRouter(prefix="/api/v1", tags=["reports"])



def _inline_schema() -> dict[str, Any]:
    """The report's JSON schema with its definitions inlined (OpenAPI has no ``$defs``)."""
    schema = Report.model_json_schema()
    defs = schema.pop("$defs", {})
    text = orjson.dumps(schema).decode()
    for name, body in defs.items():
        text = text.replace(f'{{"$ref":"#/$defs/{name}"}}', orjson.dumps(body).decode())
    loaded: dict[str, Any] = orjson.loads(text)
    return loaded


_REPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": _inline_schema()},
    "multipart/form-data": {"schema": {"type": "object", "required": ["report"], "properties": {
        "report": {"type": "string", "description": "the report as JSON text"},
        "sample": {"type": "string", "format": "binary"},
        "media": {"type": "string", "format": "binary"}}}}}}}


def _json(raw: bytes, where: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"{where} is not JSON (or not UTF-8): {exc}", [where]) from None


async def _upload(part: Any, where: str, limit: int, keep: bool) -> Upload:
    if not isinstance(part, UploadFile):
        raise InvalidInput(f"{where} must be a file part", [where])
    data = await part.read(limit + 1)
    return hash_upload(data, where=where, name=part.filename, mime_type=part.content_type,
                       max_bytes=limit, keep=keep)


async def _report_input(request: Request) -> tuple[Any, list[Upload]]:
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind in ("application/json", ""):
        return _json(await request.body(), "body"), []
    if kind != "multipart/form-data":
        raise UnsupportedMediaType("send application/json, or multipart/form-data with a "
                                   "report field and a sample or media file", ["Content-Type"])
    settings = hub_of(request).settings
    form = await request.form(max_files=2, max_fields=4, max_part_size=2 * 1024 * 1024)
    try:
        raw = form.get("report")
        if raw is None:
            raise InvalidInput("multipart report: the report field is missing", ["report"])
        data = raw.encode("utf-8") if isinstance(raw, str) else await raw.read(2 * 1024 * 1024)
        uploads = []
        for where, keep in (("sample", settings.store_samples), ("media", settings.store_media)):
            if form.get(where) is not None:
                uploads.append(await _upload(form.get(where), where, settings.max_upload_bytes,
                                             keep))
        return _json(data, "report"), uploads
    finally:
        await form.close()


@router.post("/reports", summary="Report an AI-driven attack", status_code=201,
             openapi_extra=_REPORT_BODY)
async def post_report(request: Request, who: Annotated[Caller, Depends(WRITE)]) -> Response:
    """Stored as STIX 2.1 in one transaction, then indexed, linked and alerted on
    (``bayanihan.pipeline``); 201 with the ids and ``Server-Timing`` per stage, or 4xx
    naming the field."""
    assert who.submitter is not None
    stages = Stages()
    with stages.stage("parse"):
        data, uploads = await _report_input(request)
        report = parse_report(data)
    done, _linked = await submit(hub_of(request), report, who.submitter, visible(who.reader),
                                uploads=uploads, stages=stages)
    body = done.as_dict()
    body["uploads"] = [{"field": u.field, "kind": u.kind, "size": u.size, "mime_type": u.mime_type,
                        "hashes": u.hashes, "stored": u.keep} for u in uploads]
    return json_response(body, 201, headers={"Server-Timing": server_timing(stages)})


@router.post("/import/misp", summary="Import MISP events (an event, a list, a search response)",
             status_code=201)
async def import_misp(request: Request, who: Annotated[Caller, Depends(WRITE)],
                      audience: AudienceParam = None, atomic: bool = False) -> Response:
    """Each event stored as a report; bad attributes left out and named in ``refused``
    (``?atomic=true``: refused whole instead). See docs/reporting.md, MISP."""
    assert who.submitter is not None
    done = await misp.import_events(hub_of(request), await request.body(), who.submitter,
                                    visible(who.reader), parse_audience(audience),
                                    atomic=atomic, link=link)
    return json_response(done.as_dict(), 201)


def _time(value: str | None, name: str) -> int | None:
    if not value:
        return None
    text = value if "T" in value else value + "T00:00:00Z"
    try:
        return parse_us(text)
    except ValueError:
        raise InvalidInput(f"{name}: not a timestamp (2026-11-20 or 2026-11-20T08:00:00Z)",
                           [name]) from None


def _checked(value: str | None, name: str, check: Any) -> str | None:
    if not value:
        return None
    try:
        return str(check(value))
    except ValueError as exc:
        raise InvalidInput(f"{name}: {exc}", [name]) from None


def _choice(value: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if value and value not in allowed:
        raise InvalidInput(f"{name}: one of {', '.join(allowed)}", [name])
    return value


def _technique(value: str) -> str:
    if not is_technique_id(value):
        raise ValueError(f"{value!r} is not an ATLAS or ATT&CK technique id")
    return normalise_technique_id(value)


@router.get("/reports", summary="List the reports you may see, newest first")
async def get_reports(
    request: Request, who: Annotated[Caller, Depends(READ)],
    vector: Annotated[str | None, Query(description=", ".join(VECTORS))] = None,
    channel: Annotated[str | None, Query(description=", ".join(CHANNELS))] = None,
    country: Annotated[str | None, Query(description="Targeted country (ISO 3166-1).")] = None,
    language: Annotated[str | None, Query(description="Language (ISO 639-1).")] = None,
    technique: Annotated[str | None, Query(description="ATLAS/ATT&CK id, e.g. AML.T0052.")]
    = None,
    since: Annotated[str | None, Query(description="Seen at or after (last_seen).")] = None,
    until: Annotated[str | None, Query(description="Seen at or before (first_seen).")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Words in title, narrative "
                                   "or lures (all must occur).")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(ge=0, le=INT64,
                                        description="Paging cursor from `next`.")] = None,
) -> Response:
    f = ReportFilter(
        vector=_choice(vector, "vector", VECTORS), channel=_choice(channel, "channel", CHANNELS),
        country=_checked(country, "country", country_code),
        language=_checked(language, "language", language_code),
        technique=_checked(technique, "technique", _technique),
        since_us=_time(since, "since"), until_us=_time(until, "until"), text=q, limit=limit,
        before_pk=before)
    where = visible(who.reader)

    def read(conn: Connection) -> tuple[Any, Any]:
        rows = list_reports(conn, where, f)
        return rows, facets_of(conn, [r.object_pk for r in rows])

    rows, facets = await hub_of(request).db.read(read)
    items = [{
        "id": r.id, "title": r.title, "vector": r.vector, "channel": r.channel,
        "first_seen": format_ms(r.first_seen_us), "last_seen": format_ms(r.last_seen_us),
        "tlp": r.tlp, "author": r.author_org,
        "countries": sorted(facets.get(r.object_pk, {}).get("country", [])),
        "languages": sorted(facets.get(r.object_pk, {}).get("language", [])),
        "techniques": sorted(facets.get(r.object_pk, {}).get("technique", [])),
        "sectors": sorted(facets.get(r.object_pk, {}).get("sector", [])),
    } for r in rows]
    nxt = rows[-1].object_pk if len(rows) == limit else None
    return json_response({"reports": items, "next": nxt})


def read_report(conn: Connection, report_id: str, where: Any) -> tuple[list[str], Any]:
    """Bodies of the latest visible report version and of the objects it refers to (the
    newest version of each the reader may see), and the report's named audience."""
    row = conn.execute(select(stix_objects.c.body, stix_objects.c.audience).where(
        stix_objects.c.id == report_id, stix_objects.c.type == "report",
        stix_objects.c.is_latest.is_(True), where)).first()
    if row is None:
        return [], None
    refs = [r for r in orjson.loads(row.body).get("object_refs", []) if isinstance(r, str)]
    newest: dict[str, tuple[int, str]] = {}
    for start in range(0, len(refs), 500):
        found = conn.execute(select(stix_objects.c.id, stix_objects.c.version_us,
                                    stix_objects.c.body)
                             .where(stix_objects.c.id.in_(refs[start:start + 500]), where))
        for r in found:
            if r.id not in newest or r.version_us > newest[r.id][0]:
                newest[r.id] = (r.version_us, r.body)
    bodies = [row.body] + [newest[i][1] for i in dict.fromkeys(refs) if i in newest]
    return bodies, orjson.loads(row.audience) if row.audience else None


@router.get("/reports/{report_id}", summary="A report and the objects it refers to")
async def get_report(
    report_id: str, request: Request, who: Annotated[Caller, Depends(READ)],
    format: Annotated[str, Query(description="stix (a bundle) or misp (a MISP event)")] = "stix",
) -> Response:
    if format not in ("stix", "misp"):
        raise InvalidInput("format: stix or misp", ["format"])
    bodies, audience = await hub_of(request).db.read(read_report, report_id,
                                                     visible(who.reader))
    if not bodies:
        raise NotFound(f"no report {report_id} that you may see", ["id"])
    if format == "misp":
        event = misp.report_to_event([orjson.loads(b) for b in bodies], audience)
        return Response(render(event), media_type="application/json")
    head = orjson.dumps({"type": "bundle", "id": "bundle--" + report_id.split("--", 1)[1]})
    return Response(head[:-1] + b',"objects":[' + ",".join(bodies).encode() + b"]}",
                    media_type="application/json")
