"""``GET /metrics``: the hub's figures for Prometheus (``prometheus-client``).

Two kinds of figure:

- **this process** — HTTP requests by route template, method and status; request latency
  by route; the report pipeline's stages (parse, build, validate, store, index, link,
  campaign, alert), read from the ``Server-Timing`` header the report routes already send;
  live-stream subscribers. Each ``bayanihan serve`` process counts its own: scrape each.
- **the hub** — read from the database at scrape time, the same from every process:
  objects and reports stored, active campaigns, regional alerts, the event log's position,
  webhook deliveries pending and dead-lettered, TAXII sync refusals.

Only keys of the hub operator may read it (a ``reader`` key is enough: give Prometheus one
of those, never an admin key). Route templates, not paths, label the figures, so ids never
become label values.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from sqlalchemy import Connection, func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bayanihan.api.access import ROLES, allow
from bayanihan.correlate.tables_campaigns import campaigns, linked_report, regional_alert
from bayanihan.hub import Caller, Hub
from bayanihan.model.members import OrgKind
from bayanihan.store.schema import events, stix_objects
from bayanihan.store.tables_provenance import sync_refusals
from bayanihan.store.tables_realtime import webhook_deliveries

#: the hub operator's keys, any role (Prometheus gets a reader key)
OPERATOR_READ = allow(ROLES[1:], kinds=(OrgKind.HUB,), reads="admin")
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

router = APIRouter(tags=["operations"])


class Metrics:
    """One application's registry (tests make many applications in one process)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("bayanihan_http_requests", "HTTP requests answered.",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("bayanihan_http_request_seconds",
                                 "Time to the response's first byte.", ["route"],
                                 buckets=_BUCKETS, registry=self.registry)
        self.stages = Histogram("bayanihan_pipeline_stage_seconds",
                                "Report pipeline stages (from Server-Timing).",
                                ["route", "stage"], buckets=_BUCKETS, registry=self.registry)


class HubFigures(Collector):
    """Figures read from the database (and this process's stream) at scrape time."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        hub: Hub = self.app.state.hub
        counts = hub.db.read_sync(_counts)
        for name, help_text, value in counts:
            yield GaugeMetricFamily(f"bayanihan_{name}", help_text, value=value)
        realtime = getattr(self.app.state, "realtime", None)
        if realtime is not None:
            yield GaugeMetricFamily("bayanihan_stream_subscribers",
                                    "Live-stream subscribers (SSE and WebSocket) of this "
                                    "process.", value=len(realtime.stream.subscribers))


def _counts(conn: Connection) -> list[tuple[str, str, float]]:
    def one(query: Any) -> float:
        return float(conn.execute(query).scalar() or 0)

    pending = dict(conn.execute(select(webhook_deliveries.c.state, func.count())
                                .group_by(webhook_deliveries.c.state)).all())
    return [
        ("objects", "STIX object versions stored.", one(select(func.count()).select_from(
            stix_objects))),
        ("reports", "Reports known to the linker.", one(select(func.count()).select_from(
            linked_report))),
        ("campaigns", "Active campaigns.", one(select(func.count()).select_from(campaigns)
                                               .where(campaigns.c.state == "active"))),
        ("regional_alerts", "Regional alerts issued.", one(select(func.count()).select_from(
            regional_alert))),
        ("event_log_position", "Position of the newest event in the outbox.",
         one(select(func.max(events.c.position)))),
        ("webhook_deliveries_pending", "Webhook deliveries waiting or retrying.",
         float(pending.get("pending", 0))),
        ("webhook_deliveries_dead", "Webhook deliveries dead-lettered.",
         float(pending.get("dead", 0))),
        ("sync_refusals", "Objects a TAXII sync pull refused and kept for a retry.",
         one(select(func.count()).select_from(sync_refusals))),
    ]


class MetricsMiddleware:
    """Pure ASGI (streams pass straight through): counts and times every HTTP request."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, timing = 500, ""

        async def sending(message: Message) -> None:
            nonlocal status, timing
            if message["type"] == "http.response.start":
                status = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"server-timing":
                        timing = value.decode("latin-1")
                self._observe(scope, status, time.perf_counter() - start, timing)
            await send(message)

        await self.app(scope, receive, sending)

    def _observe(self, scope: Scope, status: int, seconds: float, timing: str) -> None:
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.metrics.requests.labels(scope["method"], route, str(status)).inc()
        self.metrics.latency.labels(route).observe(seconds)
        for part in timing.split(","):
            stage, _, rest = part.strip().partition(";dur=")
            try:
                self.metrics.stages.labels(route, stage).observe(float(rest) / 1000)
            except ValueError:
                continue


def install(app: FastAPI) -> None:
    metrics = Metrics()
    metrics.registry.register(HubFigures(app))
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.include_router(router)


@router.get("/metrics", summary="Figures for Prometheus (hub operator keys)",
            response_class=Response)
async def metrics_page(request: Request,
                       who: Annotated[Caller, Depends(OPERATOR_READ)]) -> Response:
    registry: CollectorRegistry = request.app.state.metrics.registry
    body = await anyio.to_thread.run_sync(generate_latest, registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
