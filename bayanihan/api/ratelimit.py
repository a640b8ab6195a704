"""Writes rate-limited per API key (ASGI middleware): one compromised member key cannot
flood the hub. A token bucket per key and per process (``write_requests_per_minute``, burst
of the same size); past it, 429 with ``Retry-After``. The first refusal of a key in each
minute is flagged to the operator: a WARNING log line and a ``key.throttled`` audit entry
naming the key id (never the key). Reads are not limited here (the public feed has its own
limit per address: api/exports.py)."""

from __future__ import annotations

import hashlib
import logging
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from bayanihan.api.errors import error_response
from bayanihan.api.exports import PublicLimiter
from bayanihan.errors import BayanihanError
from bayanihan.hub import Hub
from bayanihan.store import audit

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class KeyRateLimit:
    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub
        per_minute = hub.settings.write_requests_per_minute
        self.limiter = PublicLimiter(per_minute) if per_minute > 0 else None
        self.flagged: dict[str, float] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.limiter is None or scope["type"] != "http" or scope["method"] not in WRITES:
            await self.app(scope, receive, send)
            return
        header = next((v for k, v in scope.get("headers", []) if k == b"authorization"), None)
        if not header:
            await self.app(scope, receive, send)  # anonymous writes are refused anyway
            return
        bucket = hashlib.sha256(header).hexdigest()
        wait = self.limiter.wait(bucket)
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
