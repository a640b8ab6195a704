"""Report an incident: the form behind ``POST /api/v1/reports`` (same parser, same
``submit_report``), with the observables found in the text shown before submitting."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection, select
from starlette.datastructures import UploadFile

from bayanihan.api.access import WRITE
from bayanihan.errors import BayanihanError
from bayanihan.hub import Caller
from bayanihan.ingest.report_submit import submit_report
from bayanihan.ingest.reports import CHANNELS, VECTORS, parse_report
from bayanihan.ingest.uploads import Upload, hash_upload
from bayanihan.model.members import MEMBER_STATES
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import visible
from bayanihan.store.schema import organisations
from bayanihan.web.render import page
from bayanihan.web.session import WebUser, check_csrf, web_writer

router = APIRouter()
TLP_CHOICES = [t.value for t in TLP]


async def _orgs(request: Request) -> list[tuple[str, str, str]]:
    def read(conn: Connection) -> list[tuple[str, str, str]]:
        return [(r.code, r.name, r.kind) for r in conn.execute(
            select(organisations.c.code, organisations.c.name, organisations.c.kind)
            .where(organisations.c.kind != "hub").order_by(organisations.c.code))]
    return await request.app.state.hub.db.read(read)  # type: ignore[no-any-return]


async def _form(request: Request, values: dict[str, Any], error: BayanihanError | None = None,
                status: int = 200) -> Response:
    return page(request, "report.html", status, values=values, vectors=VECTORS,
                channels=CHANNELS, tlps=TLP_CHOICES, members=MEMBER_STATES,
                orgs=await _orgs(request), error=error)


@router.get("/report", summary="Report an incident", include_in_schema=False)
async def report_page(request: Request, user: Annotated[WebUser, Depends(web_writer)],
                      who: Annotated[Caller, Depends(WRITE)]) -> Response:
    return await _form(request, {"tlp": "amber", "countries": [user.session.org]
                                 if user.session.org in MEMBER_STATES else []})


def _report_data(form: Any) -> dict[str, Any]:
    tlp = str(form.get("tlp") or "amber")
    data: dict[str, Any] = {
        "vector": form.get("vector") or "", "title": form.get("title") or "",
        "narrative": form.get("narrative") or "", "tlp": tlp,
        "countries": form.getlist("countries"),
        "languages": [x.strip() for x in str(form.get("languages") or "").split(",")
                      if x.strip()],
        "observables": str(form.get("observables") or ""),
        "lures": [x.strip() for x in str(form.get("lures") or "").split("\n\n") if x.strip()],
        "deepfake_media": form.getlist("deepfake_media"),
    }
    if form.get("channel"):
        data["channel"] = form.get("channel")
    if tlp == "red":
        data["audience"] = form.getlist("recipients")
    elif tlp in ("amber", "amber+strict") and form.getlist("audience"):
        data["audience"] = form.getlist("audience")
    return data


async def _uploads(request: Request, form: Any) -> list[Upload]:
    settings = request.app.state.hub.settings
    out = []
    for where, keep in (("sample", settings.store_samples), ("media", settings.store_media)):
        part = form.get(where)
        if isinstance(part, UploadFile) and part.filename:
            data = await part.read(settings.max_upload_bytes + 1)
            if data:
                out.append(hash_upload(data, where=where, name=part.filename,
                                       mime_type=part.content_type,
                                       max_bytes=settings.max_upload_bytes, keep=keep))
    return out


@router.post("/report", summary="Submit the report form", include_in_schema=False)
async def report_submit(request: Request, user: Annotated[WebUser, Depends(web_writer)],
                        who: Annotated[Caller, Depends(WRITE)]) -> Response:
    assert who.submitter is not None
    form = await request.form(max_files=2, max_fields=200, max_part_size=2 * 1024 * 1024)
    try:
        check_csrf(request, str(form.get("csrf") or ""))
        data = _report_data(form)
        try:
            report = parse_report(data)
            uploads = await _uploads(request, form)
            done = await submit_report(request.app.state.hub, report, who.submitter,
                                       visible(who.reader), uploads=uploads)
        except BayanihanError as exc:
            values = {**data, "lures": "\n\n".join(data["lures"]),
                      "languages": ", ".join(data["languages"])}
            return await _form(request, values, exc, exc.status)
    finally:
        await form.close()
    return RedirectResponse(f"/objects/{done.report_id}?submitted=1", 303)
