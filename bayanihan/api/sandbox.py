"""``/api/v1/sandbox/``: suites, runs, report cards, publishing a card to members.

In the hub every route needs an admin key of the hub operator (``HUB``), and the store is the
hub database (:class:`HubSandboxStore`, writes audited as that key). Mounted on an app
without a hub, the router reads the directory store under ``sandbox_home`` (no auth).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from bayanihan.api.access import allow
from bayanihan.hub import Caller
from bayanihan.sandbox import settings
from bayanihan.sandbox.hub_store import HubSandboxStore
from bayanihan.sandbox.publication import parse_tlp, publish
from bayanihan.sandbox.store import DirectoryStore, SandboxStore
from bayanihan.store.organisations import HUB_CODE

#: an admin key of the hub operator: the only callers who run and publish sandbox cards
OPERATOR = allow(("admin",), orgs=(HUB_CODE,), reads="admin")
router = APIRouter(prefix="/api/v1/sandbox", tags=["sandbox"],
                   dependencies=[Depends(OPERATOR.declare)])


async def operator(request: Request) -> Caller:
    return await OPERATOR(request)


async def get_store(request: Request) -> SandboxStore:
    """The hub's database store for an operator; the directory store when there is no hub."""
    hub = getattr(request.app.state, "hub", None)
    if hub is None:
        return DirectoryStore(settings.home())
    found = await operator(request)
    assert found.submitter is not None
    return HubSandboxStore(hub.db, found.submitter.actor)


@router.get("/suites")
def list_suites(store: SandboxStore = Depends(get_store)) -> list[dict[str, Any]]:
    return store.list_suites()


@router.get("/runs")
def list_runs(store: SandboxStore = Depends(get_store)) -> list[dict[str, Any]]:
    return store.list_runs()


@router.get("/runs/{run_id}/card")
def get_card(run_id: str, store: SandboxStore = Depends(get_store)) -> dict[str, Any]:
    return store.get_card(run_id)


@router.get("/runs/{run_id}/card.html", response_class=HTMLResponse)
def get_card_html(run_id: str, store: SandboxStore = Depends(get_store)) -> str:
    return store.get_card_html(run_id)


class Publication(BaseModel):
    """``tlp``: clear, green, amber, amber+strict or red; ``audience``: org codes (RED needs it)."""

    tlp: str
    audience: list[str] | None = None


@router.post("/runs/{run_id}/publish", status_code=201)
async def publish_card(run_id: str, body: Publication, request: Request,
                       found: Caller = Depends(operator)) -> dict[str, Any]:
    """Publish the run's card to members as a STIX report at the chosen TLP."""
    assert found.submitter is not None
    return await publish(request.app.state.hub, run_id, parse_tlp(body.tlp), body.audience,
                         found.submitter)
