"""The HTTP application, made by a factory (no app object at import time)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import Depends, FastAPI
from fastapi.responses import Response

from bayanihan import __version__, web
from bayanihan.api import access, errors, metrics, redact
from bayanihan.api.admin import router as admin_router
from bayanihan.api.campaigns import router as campaigns_router
from bayanihan.api.check import router as check_router
from bayanihan.api.exports import router as exports_router
from bayanihan.api.limits import BodyLimit
from bayanihan.api.messages import router as messages_router
from bayanihan.api.objects import router as objects_router
from bayanihan.api.ratelimit import KeyRateLimit
from bayanihan.api.reports import router as reports_router
from bayanihan.api.responses import json_response
from bayanihan.api.sandbox import router as sandbox_router
from bayanihan.api.stream import router as stream_router
from bayanihan.api.strict_json import RefuseDuplicateKeys
from bayanihan.api.taxii import router as taxii_router
from bayanihan.config import Settings, load_settings
from bayanihan.hub import Hub
from bayanihan.pipeline import drain_forever


async def _refresh_statistics(hub: Hub, every: float = 3600.0) -> None:
    """Hourly, the SQLite planner's statistics follow the hub's growth (store/database.py)."""
    while True:
        await asyncio.sleep(every)
        try:
            await anyio.to_thread.run_sync(hub.db.refresh_statistics)
        except Exception:  # a busy or closing database: try again next hour
            logging.getLogger("bayanihan").warning("refreshing planner statistics failed",
                                                   exc_info=True)


def create_app(settings: Settings | None = None, hub: Hub | None = None) -> FastAPI:
    """A hub application. Pass ``hub`` to share one already opened (tests, CLI)."""
    settings = settings or (hub.settings if hub else load_settings())
    owned = hub is None
    the_hub = hub or Hub(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if owned:
            the_hub.open()
        the_hub.validation.allow()
        linker = asyncio.create_task(drain_forever(the_hub))  # the link queue (issue 12)
        statistics = asyncio.create_task(_refresh_statistics(the_hub))
        yield
        for task in (linker, statistics):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        the_hub.validation.close()
        if owned:
            the_hub.close()

    app = FastAPI(
        title="Bayanihan",
        version=__version__,
        summary="Regional hub for reporting, linking and warning about AI-driven attacks",
        lifespan=lifespan,
        docs_url=None,  # served by bayanihan.web from assets in the package (no CDN)
        redoc_url=None,
    )
    app.state.hub = the_hub
    redact.install()  # credentials never reach a log, at any level, from any library
    errors.install(app)
    app.add_middleware(RefuseDuplicateKeys)  # inside the size limit: reads what it admits
    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(KeyRateLimit, hub=the_hub)  # writes per key (api/ratelimit.py)
    metrics.install(app)  # outermost: counts every answer, refusals included (/metrics)

    @app.get("/healthz", tags=["health"], summary="Liveness and database reachability",
             dependencies=[Depends(access.PUBLIC.declare)])
    async def healthz() -> Response:
        from sqlalchemy import text

        await the_hub.db.read(lambda conn: conn.execute(text("SELECT 1")).scalar())
        return json_response({"status": "ok", "version": __version__,
                              "database": the_hub.db.dialect})

    app.include_router(objects_router)
    app.include_router(admin_router)
    # Feature routers: one line each, in the order features landed.
    app.include_router(sandbox_router)
    app.include_router(reports_router)
    app.include_router(stream_router)
    app.include_router(campaigns_router)
    app.include_router(taxii_router)
    app.include_router(exports_router)
    app.include_router(check_router)
    app.include_router(messages_router)
    web.install(app)  # pages, /docs, /redoc, static assets
    access.annotate(app)  # keep last: every route declares who may call it
    return app
