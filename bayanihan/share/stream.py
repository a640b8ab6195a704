"""The live stream: one reader of the event log per process, fanned out to subscribers.

The :class:`StreamHub` reads ``events`` after the last position it dispatched whenever it
is woken (a commit in this process, a PostgreSQL notification from another, or a slow
safety poll) and offers each event to every :class:`Subscription` whose organisation may
see it (:func:`bayanihan.share.policy.may_see`) and whose :class:`Filters` match.
Subscriber buffers are bounded: a subscriber that falls behind is detached, told
``lagged`` and catches up from the log itself, so the hub never waits for anyone.
Positions are written under the write lock, so position order is commit order and
"everything after position N" is exact: no gap, no duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, delete, select

from bayanihan.errors import InvalidInput
from bayanihan.model.stix import format_us, now_us
from bayanihan.model.tlp import TLP
from bayanihan.share.policy import Reader, may_see
from bayanihan.store.events import last_position
from bayanihan.store.keys import KEY_REVOKED
from bayanihan.store.schema import events
from bayanihan.store.tables_realtime import realtime_marks

log = logging.getLogger("bayanihan.stream")

#: Real-time settings: name -> (default, help). Read with :func:`setting`, which prefers
#: a field of the same name on :class:`bayanihan.config.Settings` when there is one.

PAGE = 500
#: events for the hub's own processes, never sent out
INTERNAL_KINDS = frozenset({KEY_REVOKED})
PRUNED_MARK = "events_pruned_through"
KIND_RE = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*(\.\*)?$")
TOKEN_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
COUNTRY_RE = re.compile(r"^[A-Z][A-Z0-9-]{1,31}$")


def setting(settings: object, name: str) -> Any:
    """A real-time setting (declared in bayanihan/config.py)."""
    return getattr(settings, name)


# -- events --------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Event:
    """One event of the log, with its public JSON encoded once for every subscriber."""

    position: int
    kind: str
    at_us: int
    object_id: str | None
    author_org: str | None
    tlp: str
    audience: tuple[str, ...] | None
    payload: dict[str, Any]
    data: bytes = field(repr=False)

    @classmethod
    def from_row(cls, row: Any) -> Event:
        """The event of a log row; an unreadable row becomes visible to its author only."""
        tlp = row.tlp
        try:
            payload = orjson.loads(row.payload)
            audience = tuple(orjson.loads(row.audience)) if row.audience is not None else None
            TLP(tlp)
        except (orjson.JSONDecodeError, TypeError, ValueError):
            log.error("event %s is malformed; only its author will see it", row.position)
            payload, audience, tlp = {"error": "malformed event"}, (), TLP.RED.value
        public = {"position": row.position, "kind": row.kind, "at": format_us(row.at_us),
                  "object_id": row.object_id, "author_org": row.author_org, "tlp": tlp,
                  "payload": payload}
        return cls(row.position, row.kind, row.at_us, row.object_id, row.author_org, tlp,
                   audience, payload, orjson.dumps(public))

    def visible_to(self, reader: Reader) -> bool:
        return may_see(reader, self.tlp, self.author_org, self.audience)


@dataclass(frozen=True)
class Notice:
    """Not an event: ``lagged`` (resuming from the log) or ``gap`` (events were pruned)."""

    kind: str
    detail: dict[str, Any]

    @property
    def data(self) -> bytes:
        return orjson.dumps({"notice": self.kind, **self.detail})


def _payload_set(payload: dict[str, Any], one: str, many: str) -> set[str]:
    found: set[str] = set()
    if isinstance(payload.get(one), str):
        found.add(payload[one])
    if isinstance(payload.get(many), list):
        found.update(v for v in payload[many] if isinstance(v, str))
    return found


@dataclass(frozen=True)
class Filters:
    """A subscriber's own filters; an empty filter lets everything through.

    Read from each event: ``kind``; ``payload.vector`` / ``payload.vectors`` (vector
    names); ``payload.countries`` (country codes) and the author organisation;
    ``payload.confidence`` (0-100). An event lacking a key never matches a filter on it.
    """

    kinds: frozenset[str] = frozenset()
    vectors: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()
    min_confidence: int | None = None

    @classmethod
    def parse(cls, kinds: Iterable[str] = (), vectors: Iterable[str] = (),
              countries: Iterable[str] = (), min_confidence: int | None = None,
              where: str = "") -> Filters:
        """Validated filters; errors name the field (prefixed with ``where``)."""
        def clean(values: Iterable[str], name: str, pattern: re.Pattern[str],
                  norm: Callable[[str], str]) -> frozenset[str]:
            out = set()
            for i, raw in enumerate(values):
                value = norm(str(raw).strip())
                if not pattern.match(value):
                    raise InvalidInput(f"{name}[{i}]: {raw!r} is not a valid value",
                                       [f"{where}{name}[{i}]"])
                out.add(value)
            return frozenset(out)

        if min_confidence is not None and not 0 <= min_confidence <= 100:
            raise InvalidInput("min_confidence must be between 0 and 100",
                               [f"{where}min_confidence"])
        return cls(clean(kinds, "kinds", KIND_RE, str.lower),
                   clean(vectors, "vectors", TOKEN_RE, str.lower),
                   clean(countries, "countries", COUNTRY_RE, str.upper), min_confidence)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Filters:
        return cls.parse(raw.get("kinds") or (), raw.get("vectors") or (),
                         raw.get("countries") or (), raw.get("min_confidence"))

    def as_dict(self) -> dict[str, Any]:
        return {"kinds": sorted(self.kinds), "vectors": sorted(self.vectors),
                "countries": sorted(self.countries), "min_confidence": self.min_confidence}

    def matches(self, event: Event) -> bool:
        if self.kinds and not any(
                event.kind == k or (k.endswith(".*") and event.kind.startswith(k[:-1]))
                for k in self.kinds):
            return False
        payload = event.payload
        if self.vectors and not self.vectors & {
                v.lower() for v in _payload_set(payload, "vector", "vectors")}:
            return False
        if self.countries:
            countries = {c.upper() for c in _payload_set(payload, "country", "countries")}
            if event.author_org:
                countries.add(event.author_org)
            if not self.countries & countries:
                return False
        if self.min_confidence is not None:
            confidence = payload.get("confidence")
            if not isinstance(confidence, int | float) or confidence < self.min_confidence:
                return False
        return True


def wants(reader: Reader, filters: Filters, event: Event) -> bool:
    """The one rule for every way out (stream, WebSocket, webhooks); internal events
    (a key's revocation) go to no one."""
    return event.kind not in INTERNAL_KINDS and event.visible_to(reader) and filters.matches(event)


# -- reading the log -----------------------------------------------------------------
def read_window(conn: Connection, after: int, upto: int | None, limit: int = PAGE) -> list[Event]:
    query = select(events).where(events.c.position > after)
    if upto is not None:
        query = query.where(events.c.position <= upto)
    return [Event.from_row(r) for r in
            conn.execute(query.order_by(events.c.position).limit(limit))]


def pruned_through(conn: Connection) -> int:
    row = conn.execute(select(realtime_marks.c.value)
                       .where(realtime_marks.c.name == PRUNED_MARK)).first()
    return row.value if row else 0


def set_mark(conn: Connection, name: str, value: int, owner: str | None = None,
             until_us: int | None = None) -> None:
    values = {"value": value, "owner": owner, "until_us": until_us}
    if conn.execute(realtime_marks.update().where(realtime_marks.c.name == name)
                    .values(**values)).rowcount == 0:
        conn.execute(realtime_marks.insert().values(name=name, **values))


def prune_events(conn: Connection, before_us: int) -> int:
    """Delete events older than ``before_us`` (a write); returns how many went."""
    row = conn.execute(select(events.c.position).where(events.c.at_us < before_us)
                       .order_by(events.c.position.desc()).limit(1)).first()
    if row is None:
        return 0
    gone = conn.execute(delete(events).where(events.c.position <= row.position)).rowcount
    set_mark(conn, PRUNED_MARK, max(row.position, pruned_through(conn)))
    return gone


# -- fan-out -------------------------------------------------------------------------
_LAGGED = object()
_CLOSED = object()
_REVOKED = object()


class Subscription:
    """One subscriber: its reader, filters, last position delivered, bounded buffer."""

    def __init__(self, hub: StreamHub, reader: Reader, filters: Filters, after: int | None) -> None:
        self.hub = hub
        self.reader = reader
        self.filters = filters
        self.after = after
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def offer(self, event: Event) -> bool:
        """Buffer ``event`` if wanted; False when the buffer is full (then detached)."""
        if not wants(self.reader, self.filters, event):
            return True
        if self.queue.qsize() >= self.hub.buffer:
            self.queue.put_nowait(_LAGGED)
            return False
        self.queue.put_nowait(event)
        return True

    async def items(self, keepalive: float | None = None,
                    follow: bool = True) -> AsyncGenerator[Event | Notice | None, None]:
        """Events after ``after`` in order, then live ones; ``None`` marks a keep-alive."""
        if self.after is None:
            self.after = self.hub.position
        try:
            while not self.hub.closing:
                self.queue = asyncio.Queue()
                live_from = self.hub.attach(self)
                async for item in self.hub.replay(self, live_from):
                    yield item
                if not follow or self.hub.closing:
                    return
                self.after = max(self.after, live_from)
                while True:
                    try:
                        queued = await asyncio.wait_for(self.queue.get(), keepalive)
                    except TimeoutError:
                        yield None
                        continue
                    if queued is _CLOSED:
                        return
                    if queued is _REVOKED:
                        yield Notice("closed", {"reason": "API key revoked",
                                                "resume_after": self.after})
                        return
                    if queued is _LAGGED:
                        yield Notice("lagged", {"resume_after": self.after})
                        break
                    if queued.position > self.after:
                        self.after = queued.position
                        yield queued
        finally:
            self.hub.detach(self)


class StreamHub:
    """The per-process reader of the event log and its subscribers."""

    def __init__(self, read: Callable[..., Any], *, buffer: int = 1000,
                 poll_seconds: float = 5.0) -> None:
        self._read = read
        self.buffer = buffer
        self.poll_seconds = poll_seconds
        self.position = 0
        self.subscribers: set[Subscription] = set()
        #: Called (in the event loop) after new events were dispatched: webhooks listen here.
        self.on_advance: list[Callable[[int], None]] = []
        #: Called with the key id of each revocation read from the log (key caches).
        self.on_revoked: list[Callable[[str], None]] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.closing = False

    def close_all(self) -> None:
        """End every subscription (the server is stopping; clients resume elsewhere)."""
        self.closing = True
        for sub in list(self.subscribers):
            sub.queue.put_nowait(_CLOSED)
        self.subscribers.clear()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.position = await self._read(last_position)
        self._task = asyncio.create_task(self._run(), name="bayanihan-stream-reader")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def wake(self, hint: int | None = None) -> None:
        """Thread-safe: new events may be committed (``hint``: the newest position)."""
        if self._loop is None or self._wake is None:
            return
        if hint is not None and hint <= self.position:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self._loop.call_soon_threadsafe(self._wake.set)

    def attach(self, sub: Subscription) -> int:
        """Start buffering for ``sub``; returns the position live delivery starts after."""
        self.subscribers.add(sub)
        return self.position

    def detach(self, sub: Subscription) -> None:
        self.subscribers.discard(sub)

    async def replay(self, sub: Subscription, upto: int) -> AsyncIterator[Event | Notice]:
        """What ``sub`` wants after its position up to ``upto``, from the log."""
        assert sub.after is not None
        gone = await self._read(pruned_through)
        if sub.after < gone:
            yield Notice("gap", {"after": sub.after, "resume_after": gone})
            sub.after = gone
        while sub.after < upto:
            batch = await self._read(read_window, sub.after, upto)
            if not batch:
                break
            for event in batch:
                if wants(sub.reader, sub.filters, event):
                    yield event
                sub.after = event.position

    def _revoked(self, event: Event) -> None:
        """A key was revoked (in any process): end its streams now."""
        key_id = event.payload.get("key_id")
        if not isinstance(key_id, str):
            return
        for callback in self.on_revoked:
            callback(key_id)
        for sub in list(self.subscribers):
            if sub.reader.key_id == key_id:
                self.subscribers.discard(sub)
                sub.queue.put_nowait(_REVOKED)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await woken(self._wake, self.poll_seconds)
            try:
                await self._advance()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reading the event log failed; retrying")
                await asyncio.sleep(1.0)

    async def _advance(self) -> None:
        if not self.subscribers:  # nobody listening: skip the events, keep the position
            last = await self._read(last_position)
            if not self.subscribers:  # still nobody after the await (one loop, no race)
                if last > self.position:
                    self.position = last
                    for callback in self.on_advance:
                        callback(self.position)
                return
        page = min(PAGE, self.buffer)  # a live subscriber can always take one page
        while True:
            batch = await self._read(read_window, self.position, None, page)
            for event in batch:
                self.position = event.position
                if event.kind == KEY_REVOKED:
                    self._revoked(event)
                    continue
                for sub in list(self.subscribers):
                    if not sub.offer(event):
                        self.subscribers.discard(sub)
            if batch:
                for callback in self.on_advance:
                    callback(self.position)
            if len(batch) < page:
                return


async def woken(flag: asyncio.Event, timeout: float) -> None:
    """Wait until ``flag`` is set or ``timeout`` passes, then clear it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(flag.wait(), max(0.0, timeout))
    flag.clear()


def cutoff_us(retention_days: int) -> int:
    return now_us() - retention_days * 86_400 * 1_000_000
