"""A validator (``ETag``) for an export, cheap enough for a device polling every minute."""

from __future__ import annotations

import hashlib

from sqlalchemy import Connection, func, select

from bayanihan.model.stix import now_us
from bayanihan.share.exports.formats import Scope
from bayanihan.share.policy import Reader
from bayanihan.store.schema import events

__all__ = ["etag"]


def etag(conn: Connection, reader: Reader, scope: Scope, fmt: str, *,
         at_us: int | None = None) -> str:
    """The outbox high-water mark (one indexed query), the reader, the scope, the format and
    the hour (decay moves values out over time): any change anywhere gives a new tag, so a
    tag is never stale; an unchanged hub answers 304."""
    high = conn.execute(select(func.max(events.c.position))).scalar() or 0
    hour = (at_us or now_us()) // (3600 * 1_000_000)
    raw = f"{high}|{reader.org}|{reader.kind}|{reader.parent}|{scope.key()}|{fmt}|{hour}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'
