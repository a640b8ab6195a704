"""Writes rate-limited per API key (ASGI middleware): one compromised member key cannot
flood the hub. A token bucket per key (``write_requests_per_minute``, burst of the same
size); past it, 429 with ``Retry-After``. On PostgreSQL the bucket is a row of
``write_rate`` that every server process draws from (:class:`SharedLimiter`: one upsert per
write request, timed by the database's clock), so N processes allow the limit, not N times
it; on SQLite (one server process) it lives in the process. The first refusal of a key in each
minute is flagged to the operator: a WARNING log line and a ``key.throttled`` audit entry
naming the key id (never the key). Reads are not limited here (the public feed has its own
limit per address: api/exports.py)."""

from __future__ import annotations

import hashlib
import logging
import math
import time

import anyio.to_thread
from sqlalchemy import create_engine, text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bayanihan.api.errors import error_response
from bayanihan.api.exports import PublicLimiter
from bayanihan.errors import BayanihanError
from bayanihan.hub import Hub
from bayanihan.store import audit
from bayanihan.store.database import Database

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_NOW = "extract(epoch FROM statement_timestamp())"
_LEVEL = f"least(:cap, w.tokens + greatest(0, {_NOW} - w.at_s) * :rate)"
#: One statement: refill the key's bucket for the time passed (the database's clock, so
#: every process agrees), take a token when there is one, say whether there was.
_TAKE = text(f"""
INSERT INTO write_rate AS w (bucket, tokens, at_s, ok) VALUES (:bucket, :cap - 1, {_NOW}, 1)
ON CONFLICT (bucket) DO UPDATE SET
  tokens = CASE WHEN {_LEVEL} >= 1 THEN {_LEVEL} - 1 ELSE {_LEVEL} END,
  at_s = greatest(w.at_s, {_NOW}),
  ok = CASE WHEN {_LEVEL} >= 1 THEN 1 ELSE 0 END
RETURNING w.ok, w.tokens
""")
#: A bucket idle for two minutes is full again: its row is the same as no row.
_PRUNE = text(f"DELETE FROM write_rate WHERE at_s < {_NOW} - 120")


class SharedLimiter:
    """The per-key token bucket in ``write_rate``, shared by every process on the database."""

    def __init__(self, db: Database, per_minute: int) -> None:
        # a small pool of its own: autocommit, no ping per checkout (the hub's pool pings,
        # which doubled the cost); a dropped connection fails one check (see _wait), and the
        # pool replaces it
        self.engine = create_engine(db.url, pool_size=2, max_overflow=4,
                                    isolation_level="AUTOCOMMIT")
        self.per_minute = per_minute
        self._pruned = time.monotonic()

    def wait_sync(self, bucket: str) -> int:
        """Seconds to wait (0: go), taking a token when there is one."""
        rate = self.per_minute / 60
        with self.engine.connect() as conn:
            ok, tokens = conn.execute(_TAKE, {"bucket": bucket, "cap": float(self.per_minute),
                                              "rate": rate}).one()
            if time.monotonic() - self._pruned > 60:
                self._pruned = time.monotonic()
                conn.execute(_PRUNE)
        return 0 if ok else max(1, math.ceil((1 - tokens) / rate))

    async def wait(self, bucket: str) -> int:
        return await anyio.to_thread.run_sync(self.wait_sync, bucket)

    def close(self) -> None:
        self.engine.dispose()


class KeyRateLimit:
    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub
        per_minute = hub.settings.write_requests_per_minute
        self.limiter = PublicLimiter(per_minute) if per_minute > 0 else None
        self.shared = (SharedLimiter(hub.db, per_minute)
                       if self.limiter is not None and not hub.db.is_sqlite else None)
        self.flagged: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.shared is not None:
            shared = self.shared

            async def closing(message: Message) -> None:
                if message["type"] == "lifespan.shutdown.complete":
                    shared.close()  # the limiter's pool ends with the server
                await send(message)

            await self.app(scope, receive, closing)
            return
        if self.limiter is None or scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), None)
        if not header:
            await self.app(scope, receive, send)  # anonymous writes are refused anyway
            return
        bucket = hashlib.sha256(header).hexdigest()
        wait = await self._wait(bucket)
        if not wait:
            await self.app(scope, receive, send)
            return
        await self._flag(bucket, header.decode("latin-1"))
        path = scope.get("path", "")
        response = error_response(path, 429, "too-many-requests",
                                  f"this key sent more than {self.limiter.per_minute} writes a "
                                  f"minute; retry in {wait} s", ["Authorization"],
                                  {"Retry-After": str(wait)})
        await response(scope, receive, send)

    async def _wait(self, bucket: str) -> int:
        assert self.limiter is not None
        if self.shared is not None:
            try:
                return await self.shared.wait(bucket)
            except Exception:  # the database is unreachable: the write will fail there;
                log.warning("shared write limit unavailable; limiting in this process",
                            exc_info=True)  # meanwhile this process's own bucket holds
        return self.limiter.wait(bucket)

    async def _flag(self, bucket: str, header: str) -> None:
        """Tell the operator, once a minute per key."""
        now = time.monotonic()
        if now - self.flagged.get(bucket, -120.0) < 60:
            return
        self.flagged[bucket] = now
        if len(self.flagged) > 10_000:
            self.flagged = {b: t for b, t in self.flagged.items() if now - t < 60}
        from bayanihan.api.auth import key_from_header

        try:
            who = await self.hub.authenticate(key_from_header(header))
        except BayanihanError:
            return  # not a valid key: nothing to flag (it is refused 401 when it may pass)
        org, key_id = who.reader.org, who.reader.key_id
        log.warning("key %s of %s throttled: more than %d writes a minute", key_id, org,
                    self.limiter.per_minute if self.limiter else 0)
        await self.hub.db.write(audit.record, audit.Actor(org=org, key_id=key_id),
                                "key.throttled", [],
                                {"per_minute": self.limiter.per_minute if self.limiter else 0})
