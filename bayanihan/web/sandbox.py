"""Sandbox pages for the hub operator: the stored runs, each run's report card, and
publishing a card to members at a chosen TLP (the same library calls as
``/api/v1/sandbox``). Members read published cards as reports (search, object view)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from bayanihan.api.sandbox import OPERATOR
from bayanihan.errors import BayanihanError
from bayanihan.hub import Caller
from bayanihan.sandbox.errors import SandboxError
from bayanihan.sandbox.hub_store import HubSandboxStore
from bayanihan.sandbox.publication import parse_tlp, publish
from bayanihan.web.render import page
from bayanihan.web.session import WebUser, check_csrf, web_operator

router = APIRouter()


def _store(request: Request, who: Caller) -> HubSandboxStore:
    assert who.submitter is not None
    return HubSandboxStore(request.app.state.hub.db, who.submitter.actor)


@router.get("/sandbox", summary="Sandbox runs and their grades", include_in_schema=False)
async def runs_page(request: Request, user: Annotated[WebUser, Depends(web_operator)],
                    who: Annotated[Caller, Depends(OPERATOR)]) -> Response:
    store = _store(request, who)
    runs, suites = await asyncio.to_thread(lambda: (store.list_runs(), store.list_suites()))
    return page(request, "sandbox.html", runs=runs[::-1], suites=suites)


def _rows(card: dict[str, Any]) -> dict[str, Any]:
    """The parts of a card the page shows, flattened for the template."""
    overall = card.get("metrics", {}).get("overall", {})
    measures = [(name, overall[name]) for name in ("precision", "recall", "f1", "fpr")
                if isinstance(overall.get(name), dict)]
    robustness = sorted((card.get("robustness") or {}).items())
    return {"measures": measures, "robustness": robustness,
            "criteria": card.get("criteria", []),
            "principles": sorted((card.get("principles") or {}).items())}


async def _card_page(request: Request, who: Caller, run_id: str, error: str | None = None,
                     status: int = 200, published: dict[str, Any] | None = None) -> Response:
    store = _store(request, who)
    try:
        card = await asyncio.to_thread(store.get_card, run_id)
    except SandboxError:
        return page(request, "message.html", 404, title="Not found",
                    message=f"No sandbox run {run_id}.")
    return page(request, "sandbox_card.html", status, card=card, run_id=run_id, error=error,
                published=published, **_rows(card))


@router.get("/sandbox/runs/{run_id}", summary="A sandbox report card", include_in_schema=False)
async def card_page(run_id: str, request: Request, user: Annotated[WebUser, Depends(web_operator)],
                    who: Annotated[Caller, Depends(OPERATOR)]) -> Response:
    return await _card_page(request, who, run_id)


@router.post("/sandbox/runs/{run_id}/publish", summary="Publish a report card to members",
             include_in_schema=False)
async def publish_card(run_id: str, request: Request,
                       user: Annotated[WebUser, Depends(web_operator)],
                       who: Annotated[Caller, Depends(OPERATOR)],
                       tlp: Annotated[str, Form(max_length=20)],
                       csrf: Annotated[str, Form(max_length=100)] = "",
                       audience: Annotated[str, Form(max_length=400)] = "") -> Response:
    check_csrf(request, csrf)
    assert who.submitter is not None
    try:
        names = [c.strip().upper() for c in audience.split(",") if c.strip()]
        done = await publish(request.app.state.hub, run_id, parse_tlp(tlp), names or None,
                             who.submitter)
    except BayanihanError as exc:
        return await _card_page(request, who, run_id, str(exc.detail), 400)
    return RedirectResponse(f"/objects/{done['id']}?submitted=1", 303)
