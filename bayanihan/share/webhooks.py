"""Webhooks: endpoints per organisation, signed deliveries, a persistent queue, dead letters.

Each endpoint has a cursor into the event log. The delivery worker copies the events the
endpoint's organisation may see and its filters want into ``webhook_deliveries``
(persistent, so a restart loses nothing), then posts them one at a time per endpoint in
position order. A failed post is retried with exponential backoff and jitter; after the
retry budget it becomes a dead letter and the next event goes. Signatures follow the
Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``):
HMAC-SHA256 with the endpoint secret over ``{webhook-id}.{timestamp}.{body}``.
``webhook-id`` (``{endpoint}.{position}``) is also the idempotency key.
With several processes one of them leads delivery (a lease in ``realtime_marks``).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import logging
import os
import random
import secrets
import socket
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
import httpx
import orjson
from sqlalchemy import Connection, and_, func, or_, select, update

from bayanihan import __version__
from bayanihan.errors import BayanihanError, NotFound
from bayanihan.model.stix import format_us, now_us
from bayanihan.share.policy import Reader
from bayanihan.share.stream import (
    Filters,
    StreamHub,
    read_window,
    set_mark,
    setting,
    wants,
    woken,
)
from bayanihan.share.webhook_targets import Target, check_target
from bayanihan.store import audit
from bayanihan.store import organisations as orgs
from bayanihan.store.database import Database
from bayanihan.store.events import last_position
from bayanihan.store.schema import api_keys
from bayanihan.store.tables_realtime import realtime_marks, webhook_deliveries, webhook_endpoints

log = logging.getLogger("bayanihan.webhooks")

LEADER_MARK = "webhook_leader"
LEASE_US = 15 * 1_000_000
PENDING, DEAD = "pending", "dead"


# -- signing ---------------------------------------------------------------------------
def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256 over "{msg_id}.{timestamp}.{body}">`` (Standard Webhooks)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def delivery_headers(endpoint_id: str, secret: str, position: int, kind: str,
                     body: bytes, timestamp: int | None = None) -> dict[str, str]:
    msg_id = f"{endpoint_id}.{position}"
    ts = int(time.time()) if timestamp is None else timestamp
    return {"content-type": "application/json", "user-agent": f"Bayanihan-Webhooks/{__version__}",
            "webhook-id": msg_id, "idempotency-key": msg_id, "webhook-timestamp": str(ts),
            "webhook-signature": sign(secret, msg_id, ts, body),
            "bayanihan-event-kind": kind, "bayanihan-event-position": str(position)}


# -- where deliveries may go: share/webhook_targets.py ---------------------------------
# -- endpoints (functions run inside Database.read / Database.write) -----------------------
def key_active(at_us: int) -> Any:
    """SQL: the endpoint's creating key is neither revoked nor expired (endpoints made
    before keys were recorded have none and stay as they were)."""
    live = select(api_keys.c.key_id).where(
        api_keys.c.key_id == webhook_endpoints.c.key_id, api_keys.c.revoked_us.is_(None),
        or_(api_keys.c.expires_us.is_(None), api_keys.c.expires_us > at_us))
    return or_(webhook_endpoints.c.key_id.is_(None), live.exists())


def _public(row: Any) -> dict[str, Any]:
    return {"id": row.id, "org": row.org, "url": row.url, "filters": orjson.loads(row.filters),
            "description": row.description, "active": row.active, "cursor": row.cursor,
            "created": format_us(row.created_us)}


def create_endpoint(conn: Connection, actor: audit.Actor, org: str, url: str, filters: Filters,
                    description: str | None) -> dict[str, Any]:
    """A new endpoint, delivering events committed from now on; its secret is returned once.
    It delivers only while the key that created it (``actor.key_id``) is active."""
    secret = new_secret()
    endpoint_id = "wh_" + uuid.uuid4().hex
    row = {"id": endpoint_id, "org": org, "url": url, "secret": secret,
           "filters": orjson.dumps(filters.as_dict()).decode(), "description": description,
           "active": True, "cursor": last_position(conn), "created_us": now_us(),
           "key_id": actor.key_id}
    conn.execute(webhook_endpoints.insert().values(**row))
    host = urlsplit(url).hostname  # not the whole URL: receivers put tokens in paths
    audit.record(conn, actor, "webhook.create", [endpoint_id], {"host": host, "org": org})
    return {**_public(get_endpoint(conn, org, endpoint_id)), "secret": secret}


def list_endpoints(conn: Connection, org: str) -> list[dict[str, Any]]:
    rows = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.org == org)
                        .order_by(webhook_endpoints.c.created_us))
    return [_public(r) for r in rows]


def get_endpoint(conn: Connection, org: str, endpoint_id: str) -> Any:
    row = conn.execute(select(webhook_endpoints).where(
        webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.org == org)).first()
    if row is None:
        raise NotFound(f"no webhook {endpoint_id} of organisation {org}", ["id"])
    return row


def describe_endpoint(conn: Connection, org: str, endpoint_id: str) -> dict[str, Any]:
    row = get_endpoint(conn, org, endpoint_id)
    counts: dict[str, int] = dict(conn.execute(
        select(webhook_deliveries.c.state, func.count()).where(
            webhook_deliveries.c.endpoint_id == endpoint_id).group_by(webhook_deliveries.c.state)
    ).all())
    return {**_public(row), "pending": counts.get(PENDING, 0), "dead": counts.get(DEAD, 0)}


def set_active(conn: Connection, actor: audit.Actor, org: str, endpoint_id: str,
               active: bool) -> dict[str, Any]:
    get_endpoint(conn, org, endpoint_id)
    conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
                 .values(active=active))
    audit.record(conn, actor, "webhook.activate" if active else "webhook.pause", [endpoint_id])
    return describe_endpoint(conn, org, endpoint_id)


def delete_endpoint(conn: Connection, actor: audit.Actor, org: str, endpoint_id: str) -> None:
    get_endpoint(conn, org, endpoint_id)
    conn.execute(webhook_deliveries.delete().where(webhook_deliveries.c.endpoint_id == endpoint_id))
    conn.execute(webhook_endpoints.delete().where(webhook_endpoints.c.id == endpoint_id))
    audit.record(conn, actor, "webhook.delete", [endpoint_id])


def dead_letters(conn: Connection, org: str, endpoint_id: str, limit: int) -> list[dict[str, Any]]:
    get_endpoint(conn, org, endpoint_id)
    rows = conn.execute(select(webhook_deliveries).where(
        webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.state == DEAD)
        .order_by(webhook_deliveries.c.position).limit(limit))
    return [{"position": r.position, "kind": r.kind, "attempts": r.attempts,
             "last_status": r.last_status, "last_error": r.last_error,
             "dead_since": format_us(r.dead_us) if r.dead_us else None, "event": r.body}
            for r in rows]


def replay(conn: Connection, actor: audit.Actor, org: str, endpoint_id: str,
           positions: Sequence[int] | None) -> int:
    """Put dead letters (all, or those at ``positions``) back in the queue; returns how many."""
    get_endpoint(conn, org, endpoint_id)
    where = [webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.state == DEAD]
    if positions is not None:
        where.append(webhook_deliveries.c.position.in_(list(positions)))
    count = conn.execute(update(webhook_deliveries).where(*where).values(
        state=PENDING, attempts=0, next_us=now_us(), dead_us=None)).rowcount
    audit.record(conn, actor, "webhook.replay", [endpoint_id],
                 {"count": count, "positions": list(positions) if positions is not None else "all"})
    return count


# -- the queue ---------------------------------------------------------------------------
def _reader_of(conn: Connection, code: str) -> Reader:
    org = orgs.require(conn, code)
    parent = orgs.get(conn, org.parent) if org.parent else None
    return Reader(org=org.code, kind=org.kind, parent=org.parent,
                  parent_kind=parent.kind if parent else None)


def behind(conn: Connection, position: int) -> bool:
    return conn.execute(select(webhook_endpoints.c.id).where(
        webhook_endpoints.c.active, webhook_endpoints.c.cursor < position,
        key_active(now_us())).limit(1)).first() is not None


def enqueue(conn: Connection, pages: int = 20) -> bool:
    """Copy new events into each active endpoint's queue (a write, at most ``pages`` pages
    per endpoint); True when some endpoint has more to queue."""
    more = False
    at = now_us()
    for ep in conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.active,
                                                           key_active(at))).all():
        reader, filters = _reader_of(conn, ep.org), Filters.from_dict(orjson.loads(ep.filters))
        cursor = ep.cursor
        for _ in range(pages):
            batch = read_window(conn, cursor, None)
            if not batch:
                break
            rows = [{"endpoint_id": ep.id, "position": e.position, "kind": e.kind,
                     "body": e.data.decode(), "state": PENDING, "attempts": 0, "next_us": at,
                     "queued_us": at} for e in batch if wants(reader, filters, e)]
            if rows:
                conn.execute(webhook_deliveries.insert(), rows)
            cursor = batch[-1].position
        else:
            more = True
        if cursor != ep.cursor:
            conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.id == ep.id)
                         .values(cursor=cursor))
    return more


def heads(conn: Connection) -> list[Any]:
    """The oldest pending delivery of each endpoint, with the endpoint's URL and secret."""
    first = (select(webhook_deliveries.c.endpoint_id,
                    func.min(webhook_deliveries.c.position).label("position"))
             .where(webhook_deliveries.c.state == PENDING)
             .group_by(webhook_deliveries.c.endpoint_id).subquery())
    d, e = webhook_deliveries, webhook_endpoints
    return list(conn.execute(
        select(d, e.c.url, e.c.secret)
        .join(first, and_(d.c.endpoint_id == first.c.endpoint_id, d.c.position == first.c.position))
        .join(e, e.c.id == d.c.endpoint_id).where(e.c.active, key_active(now_us()))))


def record_outcome(conn: Connection, endpoint_id: str, position: int, status: int | None,
                   error: str | None, next_us: int | None) -> None:
    """Delivered (``error`` None): drop the row; failed: retry at ``next_us`` or dead-letter."""
    key = and_(webhook_deliveries.c.endpoint_id == endpoint_id,
               webhook_deliveries.c.position == position)
    if error is None:
        conn.execute(webhook_deliveries.delete().where(key))
        return
    values: dict[str, Any] = {"attempts": webhook_deliveries.c.attempts + 1, "last_status": status,
                              "last_error": error[:500]}
    if next_us is None:
        values.update(state=DEAD, dead_us=now_us())
    else:
        values["next_us"] = next_us
    conn.execute(update(webhook_deliveries).where(key).values(**values))


def claim_lead(conn: Connection, owner: str, at: int) -> bool:
    row = conn.execute(select(realtime_marks).where(realtime_marks.c.name == LEADER_MARK)
                       .with_for_update()).first()
    if row is not None and row.owner != owner and (row.until_us or 0) > at:
        return False
    set_mark(conn, LEADER_MARK, 0, owner, at + LEASE_US)
    return True


def release_lead(conn: Connection, owner: str) -> None:
    conn.execute(update(realtime_marks).where(realtime_marks.c.name == LEADER_MARK,
                                              realtime_marks.c.owner == owner).values(until_us=0))


# -- the worker --------------------------------------------------------------------------
class WebhookWorker:
    """Queues and posts webhook deliveries; runs in every ``bayanihan serve``, one leads."""

    def __init__(self, db: Database, settings: object, stream: StreamHub) -> None:
        self.db = db
        self.stream = stream
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.backoff = setting(settings, "webhook_backoff_seconds")
        self.backoff_max = setting(settings, "webhook_backoff_max_seconds")
        self.budget = setting(settings, "webhook_retry_budget")
        self.allow = setting(settings, "webhook_allow_networks")
        self.timeout = setting(settings, "webhook_timeout_seconds")
        self.poll = setting(settings, "stream_poll_seconds")
        self._wake = asyncio.Event()
        self._lead_until = 0
        self._next_claim = 0
        self._busy: dict[str, asyncio.Task[None]] = {}
        self._finished: dict[str, int] = {}  # attempts completed per endpoint
        self._held: dict[str, float] = {}  # endpoint -> monotonic time it may go again
        self._task: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None

    def wake(self, _position: int | None = None) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False)
        self.stream.on_advance.append(self.wake)
        self._task = asyncio.create_task(self._run(), name="bayanihan-webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._busy.values()) if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.wake in self.stream.on_advance:
            self.stream.on_advance.remove(self.wake)
        if self._client is not None:
            await self._client.aclose()
        if self._lead_until:
            await self.db.write(release_lead, self.owner)

    def delay(self, attempts: int) -> float:
        """Exponential backoff with jitter before attempt ``attempts + 1``."""
        full = min(self.backoff_max, self.backoff * 2 ** max(0, attempts - 1))
        return full / 2 + random.uniform(0, full / 2)

    async def _run(self) -> None:
        due_in = 0.0
        while True:
            await woken(self._wake, min(due_in, self.poll))
            try:
                due_in = await self._cycle()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery cycle failed; retrying")
                due_in = 1.0

    async def _cycle(self) -> float:
        at = now_us()
        if self._lead_until - at < LEASE_US * 2 // 3 and at >= self._next_claim:
            self._next_claim = at + LEASE_US // 3
            self._lead_until = at + LEASE_US if await self.db.write(
                claim_lead, self.owner, at) else 0
        if self._lead_until <= at:
            return self.poll
        waiting = self.poll
        if await self.db.read(behind, self.stream.position) and await self.db.write(enqueue):
            waiting = 0.0  # more to queue
        finished = dict(self._finished)
        for head in await self.db.read(heads):
            held = self._held.get(head.endpoint_id, 0.0) - time.monotonic()
            if held > 0:
                waiting = min(waiting, held)
                continue
            if head.endpoint_id in self._busy or (
                    self._finished.get(head.endpoint_id) != finished.get(head.endpoint_id)):
                continue  # an attempt ended while we read: this head may be stale
            wait_s = (head.next_us - now_us()) / 1e6
            if wait_s > 0:
                waiting = min(waiting, wait_s)
                continue
            task = asyncio.create_task(self._deliver(head))
            self._busy[head.endpoint_id] = task
            task.add_done_callback(functools.partial(self._done, head.endpoint_id))
        return waiting

    def _done(self, endpoint_id: str, task: asyncio.Task[None]) -> None:
        self._busy.pop(endpoint_id, None)
        if not task.cancelled() and task.exception() is not None:
            # the outcome could not even be recorded: hold this endpoint back a while
            log.warning("webhook %s: recording a delivery failed (%s); holding it back",
                        endpoint_id, type(task.exception()).__name__)
            self._held[endpoint_id] = time.monotonic() + self.backoff
        self._finished[endpoint_id] = self._finished.get(endpoint_id, 0) + 1
        self._wake.set()

    async def post(self, target: Target, headers: dict[str, str], body: bytes) -> int:
        """POST to the address the check approved (no second DNS lookup), naming the URL's
        host in ``Host`` and, over TLS, in SNI and the certificate check."""
        assert self._client is not None
        extensions = {"sni_hostname": target.host} if target.https else {}
        response = await self._client.post(target.pinned_url, content=body,
                                           headers={**headers, "host": target.host_header},
                                           extensions=extensions)
        return response.status_code

    async def _deliver(self, head: Any) -> None:
        body = head.body.encode()
        status: int | None = None
        try:
            target = await anyio.to_thread.run_sync(check_target, head.url, self.allow)
            status = await self.post(target, delivery_headers(
                head.endpoint_id, head.secret, head.position, head.kind, body), body)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except asyncio.CancelledError:
            raise
        except BayanihanError as exc:
            error = exc.detail
        except Exception as exc:  # any failure is one failed attempt, never a tight retry loop
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        attempts = head.attempts + 1
        retry_at = None if error is None or attempts >= self.budget else (
            now_us() + int(self.delay(attempts) * 1e6))
        await self.db.write(record_outcome, head.endpoint_id, head.position, status, error,
                            retry_at)
