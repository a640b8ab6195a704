"""``/api/v1/stream`` (Server-Sent Events), ``/api/v1/ws`` (WebSocket), ``/api/v1/webhooks``.

The router carries its own lifespan: when the app starts it starts this process's event
log reader, the notifier (LISTEN/NOTIFY on PostgreSQL), the webhook worker and the
pruning job; they stop with the app.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, WebSocket
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from bayanihan.api.access import OWN, READ, WRITE_OWN
from bayanihan.api.auth import hub_of, key_from_header
from bayanihan.api.responses import json_response
from bayanihan.errors import BayanihanError, InvalidInput, NotAuthenticated
from bayanihan.hub import Caller, Hub
from bayanihan.share import webhooks
from bayanihan.share.notify import Notifier, notifier_for
from bayanihan.share.stream import (
    Event,
    Filters,
    Notice,
    StreamHub,
    Subscription,
    cutoff_us,
    prune_events,
    setting,
)
from bayanihan.store import audit

log = logging.getLogger("bayanihan.api.stream")


@dataclass
class Realtime:
    """This process's real-time machinery (one per app)."""

    hub: Hub
    stream: StreamHub
    notifier: Notifier
    worker: webhooks.WebhookWorker
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def for_hub(cls, hub: Hub) -> Realtime:
        s = hub.settings
        stream = StreamHub(hub.db.read, buffer=setting(s, "stream_buffer_events"),
                           poll_seconds=setting(s, "stream_poll_seconds"))
        return cls(hub, stream, notifier_for(hub.db), webhooks.WebhookWorker(hub.db, s, stream))

    async def start(self) -> None:
        # a revocation read from the log (any process) also ends the key's cached admission
        self.stream.on_revoked.append(lambda _key_id: self.hub.forget_keys())
        await self.stream.start()
        await anyio.to_thread.run_sync(self.notifier.start, self.stream.wake)
        await self.worker.start()
        self.tasks.append(asyncio.create_task(self._prune(), name="bayanihan-event-pruning"))

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.worker.stop()
        await anyio.to_thread.run_sync(self.notifier.stop)
        await self.stream.stop()

    async def _prune(self) -> None:
        every = setting(self.hub.settings, "event_prune_every_seconds")
        while True:
            try:
                gone = await self.hub.db.write(
                    prune_events, cutoff_us(self.hub.settings.event_retention_days))
                if gone:
                    log.info("pruned %d events older than %d days", gone,
                             self.hub.settings.event_retention_days)
            except Exception:
                log.exception("pruning the event log failed")
            await asyncio.sleep(every)


def end_streams_on_exit(stream: StreamHub) -> Callable[[], None]:
    """uvicorn finishes open responses before it stops, and streams never finish: chain its
    SIGINT/SIGTERM handlers so that streams end first. Returns the undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    loop = asyncio.get_running_loop()
    installed: dict[int, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)
        if not callable(previous):
            continue

        def handler(signum: int, frame: Any, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(stream.close_all)
            previous(signum, frame)

        signal.signal(sig, handler)
        installed[sig] = (handler, previous)

    def undo() -> None:
        for sig, (handler, previous) in installed.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, previous)

    return undo


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    realtime = Realtime.for_hub(app.state.hub)
    await realtime.start()
    app.state.realtime = realtime
    undo = end_streams_on_exit(realtime.stream)
    try:
        yield
    finally:
        undo()
        realtime.stream.close_all()
        await realtime.stop()


router = APIRouter(prefix="/api/v1", tags=["real-time"], lifespan=lifespan)


def realtime_of(app: Any) -> Realtime:
    return app.state.realtime  # type: ignore[no-any-return]


def _split(value: str | None) -> list[str]:
    return [p for p in (part.strip() for part in (value or "").split(",")) if p]


def _position(value: str | None, name: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    if not value.strip().isdigit():
        raise InvalidInput(f"{name} must be an event position (a non-negative integer)", [name])
    return int(value)


def subscription(realtime: Realtime, who: Caller, after: str | None, last_event_id: str | None,
                 kinds: str | None, vectors: str | None, countries: str | None,
                 min_confidence: int | None) -> Subscription:
    """``Last-Event-ID`` wins over ``?after=`` (a reconnecting EventSource sends both)."""
    start = _position(last_event_id, "Last-Event-ID")
    if start is None:
        start = _position(after, "after")
    filters = Filters.parse(_split(kinds), _split(vectors), _split(countries), min_confidence)
    return Subscription(realtime.stream, who.reader, filters, start)


Kinds = Annotated[str | None, Query(description="Comma-separated event kinds; `object.*` "
                                                "matches a prefix.")]
Vectors = Annotated[str | None, Query(description="Comma-separated threat vectors "
                                                  "(payload.vector / payload.vectors).")]
Countries = Annotated[str | None, Query(description="Comma-separated country codes "
                                                    "(payload.countries or the author).")]
MinConfidence = Annotated[int | None, Query(ge=0, le=100,
                                            description="Minimum payload.confidence (0-100).")]
After = Annotated[str | None, Query(description="Resume after this event position (0: from the "
                                                "oldest kept). Default: only new events.")]


class KeyWatch:
    """Re-checks a stream's key every ``every`` seconds, in the background (never delaying an
    event): a revoked or expired key ends the stream."""

    def __init__(self, hub: Hub, key: str | None, every: float) -> None:
        self.hub, self.key, self.every = hub, key, every
        self.revoked = False
        self._last = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def poke(self) -> None:
        if self.key is None or self._task is not None or time.monotonic() - self._last < self.every:
            return
        self._task = asyncio.create_task(self._check())

    async def _check(self) -> None:
        assert self.key is not None
        try:
            await self.hub.authenticate(self.key)
        except NotAuthenticated:
            self.revoked = True
        except Exception:
            log.warning("could not re-check a stream's key; trying again later", exc_info=True)
        self._last = time.monotonic()
        self._task = None

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


def sse_frame(item: Event | Notice | None) -> bytes:
    if item is None:
        return b": keep-alive\n\n"
    if isinstance(item, Notice):
        return b"event: " + item.kind.encode() + b"\ndata: " + item.data + b"\n\n"
    return (b"id: " + str(item.position).encode() + b"\nevent: " + item.kind.encode()
            + b"\ndata: " + item.data + b"\n\n")


@router.get("/stream", summary="Live events (Server-Sent Events), resumable")
async def stream(request: Request, who: Annotated[Caller, Depends(READ)],
                 after: After = None, kinds: Kinds = None, vectors: Vectors = None,
                 countries: Countries = None, min_confidence: MinConfidence = None,
                 follow: Annotated[bool, Query(description="false: send what is already in the "
                                                           "log, then close.")] = True,
                 last_event_id: Annotated[str | None, Header()] = None) -> Response:
    """Each event: ``id`` = position, ``event`` = kind, ``data`` = the event JSON."""
    realtime = realtime_of(request.app)
    sub = subscription(realtime, who, after, last_event_id, kinds, vectors, countries,
                       min_confidence)
    keepalive = setting(realtime.hub.settings, "stream_keepalive_seconds")

    key = key_from_header(request.headers.get("authorization"))

    async def frames() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n: ready " + str(sub.after if sub.after is not None
                                            else realtime.stream.position).encode() + b"\n\n"
        items = sub.items(keepalive, follow)
        watch = KeyWatch(realtime.hub, key, keepalive)
        try:
            async for item in items:
                if watch.revoked:
                    yield sse_frame(Notice("closed", {"reason": "API key revoked or expired",
                                                      "resume_after": sub.after}))
                    return
                yield sse_frame(item)
                watch.poke()
        finally:
            watch.cancel()
            await items.aclose()

    return StreamingResponse(frames(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.websocket("/ws", dependencies=[Depends(READ.declare)])
async def websocket(ws: WebSocket, after: After = None, kinds: Kinds = None,
                    vectors: Vectors = None, countries: Countries = None,
                    min_confidence: MinConfidence = None) -> None:
    """The stream's events as JSON text frames; notices as ``{"notice": …}``."""
    realtime = realtime_of(ws.app)
    keepalive = setting(realtime.hub.settings, "stream_keepalive_seconds")
    try:
        key = key_from_header(ws.headers.get("authorization"))
        who = READ.check(await realtime.hub.authenticate(key))
        sub = subscription(realtime, who, after, None, kinds, vectors, countries, min_confidence)
    except BayanihanError as exc:
        await ws.close(code=1008, reason=exc.detail[:120])
        return
    await ws.accept()

    async def send() -> None:
        items = sub.items(keepalive)
        watch = KeyWatch(realtime.hub, key, keepalive)
        try:
            async for item in items:
                if watch.revoked or (isinstance(item, Notice) and item.kind == "closed"):
                    await ws.close(code=1008, reason="API key revoked or expired")
                    return
                if item is not None:
                    await ws.send_text(item.data.decode())
                watch.poke()
        finally:
            watch.cancel()
            await items.aclose()

    async def receive() -> None:  # notices a closed connection while the stream is idle
        while (await ws.receive())["type"] != "websocket.disconnect":
            pass

    tasks = [asyncio.create_task(send()), asyncio.create_task(receive())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with suppress(RuntimeError):
            await ws.close()


# -- webhooks ------------------------------------------------------------------------
class FiltersIn(BaseModel):
    kinds: list[str] = Field(default_factory=list)
    vectors: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)
    min_confidence: int | None = None


class EndpointIn(BaseModel):
    url: str = Field(max_length=2000)
    filters: FiltersIn = Field(default_factory=FiltersIn)
    description: str | None = Field(default=None, max_length=200)


class EndpointPatch(BaseModel):
    active: bool


class ReplayIn(BaseModel):
    positions: list[int] | None = None


def _actor(who: Caller) -> audit.Actor:
    return audit.Actor(who.reader.org, who.reader.key_id)


def _org(who: Caller) -> str:
    assert who.reader.org is not None
    return who.reader.org


@router.post("/webhooks", summary="Register a webhook endpoint (the secret is shown once)",
             status_code=201)
async def create_webhook(request: Request, body: EndpointIn,
                         who: Annotated[Caller, Depends(WRITE_OWN)]) -> Response:
    hub = hub_of(request)
    filters = Filters.parse(body.filters.kinds, body.filters.vectors, body.filters.countries,
                            body.filters.min_confidence, where="filters.")
    await anyio.to_thread.run_sync(webhooks.check_target, body.url,
                                   setting(hub.settings, "webhook_allow_networks"))
    created = await hub.db.write(webhooks.create_endpoint, _actor(who), _org(who), body.url,
                                 filters, body.description)
    return json_response(created, 201)


@router.get("/webhooks", summary="This organisation's webhook endpoints")
async def list_webhooks(request: Request, who: Annotated[Caller, Depends(OWN)]) -> Response:
    return json_response({"webhooks": await hub_of(request).db.read(
        webhooks.list_endpoints, _org(who))})


@router.get("/webhooks/{endpoint_id}", summary="One endpoint with its queue counts")
async def get_webhook(endpoint_id: str, request: Request,
                      who: Annotated[Caller, Depends(OWN)]) -> Response:
    return json_response(await hub_of(request).db.read(
        webhooks.describe_endpoint, _org(who), endpoint_id))


@router.patch("/webhooks/{endpoint_id}", summary="Pause or resume an endpoint")
async def patch_webhook(endpoint_id: str, body: EndpointPatch, request: Request,
                        who: Annotated[Caller, Depends(WRITE_OWN)]) -> Response:
    return json_response(await hub_of(request).db.write(
        webhooks.set_active, _actor(who), _org(who), endpoint_id, body.active))


@router.delete("/webhooks/{endpoint_id}", summary="Delete an endpoint and its queue",
               status_code=204)
async def delete_webhook(endpoint_id: str, request: Request,
                         who: Annotated[Caller, Depends(WRITE_OWN)]) -> Response:
    await hub_of(request).db.write(webhooks.delete_endpoint, _actor(who), _org(who), endpoint_id)
    return Response(status_code=204)


@router.get("/webhooks/{endpoint_id}/dead-letters", summary="Deliveries given up on")
async def list_dead_letters(endpoint_id: str, request: Request,
                            who: Annotated[Caller, Depends(OWN)],
                            limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    rows = await hub_of(request).db.read(webhooks.dead_letters, _org(who), endpoint_id, limit)
    return json_response({"dead_letters": rows}, raw_keys=("event",))


@router.post("/webhooks/{endpoint_id}/dead-letters/replay",
             summary="Queue dead letters again (all, or the given positions)")
async def replay_dead_letters(endpoint_id: str, request: Request,
                              who: Annotated[Caller, Depends(WRITE_OWN)],
                              body: ReplayIn | None = None) -> Response:
    count = await hub_of(request).db.write(webhooks.replay, _actor(who), _org(who), endpoint_id,
                                           body.positions if body else None)
    realtime_of(request.app).worker.wake()
    return json_response({"replayed": count})
