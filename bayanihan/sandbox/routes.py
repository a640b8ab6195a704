"""``/api/v1/sandbox/``: read suites, runs and report cards (auth is wired in by the app)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import HTMLResponse

from . import settings
from .errors import SandboxError
from .store import DirectoryStore, SandboxStore

router = APIRouter(prefix="/api/v1/sandbox", tags=["sandbox"])


def get_store() -> SandboxStore:
    """Dependency the app may override with the hub's database-backed store."""
    return DirectoryStore(settings.home())


def _http(exc: SandboxError) -> HTTPException:
    return HTTPException(exc.status, {"field": exc.field, "reason": exc.reason})


@router.get("/suites")
def list_suites(store: SandboxStore = Depends(get_store)) -> list[dict[str, Any]]:
    return store.list_suites()


@router.get("/runs")
def list_runs(store: SandboxStore = Depends(get_store)) -> list[dict[str, Any]]:
    return store.list_runs()


@router.get("/runs/{run_id}/card")
def get_card(run_id: str, store: SandboxStore = Depends(get_store)) -> dict[str, Any]:
    try:
        return store.get_card(run_id)
    except SandboxError as exc:
        raise _http(exc) from None


@router.get("/runs/{run_id}/card.html", response_class=HTMLResponse)
def get_card_html(run_id: str, store: SandboxStore = Depends(get_store)) -> str:
    try:
        return store.get_card_html(run_id)
    except SandboxError as exc:
        raise _http(exc) from None
