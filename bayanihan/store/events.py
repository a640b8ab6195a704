"""The outbox: events written in the same transaction as the change they announce.

``position`` increases with every event; a subscriber resumes after the last
position it saw. Readers of the log filter by the access policy (share/policy.py)
using each event's ``tlp``, ``author_org`` and ``audience``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.model.stix import now_us
from bayanihan.store.bulk import insert_rows
from bayanihan.store.schema import events

COLUMNS = ("kind", "at_us", "object_id", "author_org", "tlp", "audience", "payload")


def append_events(conn: Connection, items: Sequence[dict[str, Any]]) -> None:
    """Append events: dicts with kind, object_id, author_org, tlp, audience, payload."""
    append_event_rows(conn, [
        (e["kind"], e.get("object_id"), e.get("author_org"), e["tlp"],
         orjson.dumps(e["audience"]).decode() if e.get("audience") is not None else None,
         e.get("payload", {}))
        for e in items
    ])


def append_event_rows(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append events given as (kind, object_id, author_org, tlp, audience JSON, payload)."""
    if not rows:
        return
    at = now_us()
    dumps = orjson.dumps
    insert_rows(conn, events, COLUMNS, [
        (kind, at, object_id, author, tlp, audience, dumps(payload).decode())
        for kind, object_id, author, tlp, audience, payload in rows
    ])


def read_after(conn: Connection, position: int, limit: int = 1000) -> list[Any]:
    """Events after ``position``, oldest first (unfiltered: apply the policy)."""
    return list(conn.execute(
        select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
    ))


def last_position(conn: Connection) -> int:
    row = conn.execute(select(events.c.position).order_by(events.c.position.desc()).limit(1)).first()
    return row.position if row else 0
