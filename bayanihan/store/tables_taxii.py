"""TAXII state: status resources of object POSTs, the paging secret, and sync cursors.

``taxii_status`` keeps each POST's status resource (the TAXII JSON, as served) for at
least ``taxii_status_hours``; ``taxii_secret`` holds the per-hub key that signs ``next``
tokens (made on first use, never shown); ``taxii_sync_cursor`` remembers how far a
``bayanihan sync`` got with each remote collection, per direction.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, Index, Integer, String, Table, Text, delete, select

from bayanihan.model.stix import now_us
from bayanihan.store.schema import metadata

taxii_status = Table(
    "taxii_status",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("org", String(32), nullable=False),  # the organisation that posted
    Column("created_us", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
)
Index("ix_taxii_status_created_us", taxii_status.c.created_us)

taxii_secret = Table(
    "taxii_secret",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("secret", String(128), nullable=False),
)

taxii_sync_cursor = Table(
    "taxii_sync_cursor",
    metadata,
    Column("remote", String(1000), primary_key=True),  # the remote collection's URL
    Column("direction", String(8), primary_key=True),  # pull | push
    Column("cursor", String(64), nullable=False),
    Column("objects", BigInteger, nullable=False),  # objects moved so far (for display)
    Column("updated_us", BigInteger, nullable=False),
)


# -- status resources -------------------------------------------------------------------
def save_status(conn: Connection, status_id: str, org: str, body: str, keep_hours: int) -> None:
    """Store a status resource and drop the ones older than ``keep_hours``."""
    at = now_us()
    conn.execute(taxii_status.insert().values(id=status_id, org=org, created_us=at, body=body))
    conn.execute(delete(taxii_status).where(
        taxii_status.c.created_us < at - keep_hours * 3600 * 1_000_000))


def load_status(conn: Connection, status_id: str, org: str) -> str | None:
    """The status body, only for the organisation that made the request."""
    return conn.execute(select(taxii_status.c.body).where(
        taxii_status.c.id == status_id, taxii_status.c.org == org)).scalar()


# -- the paging secret --------------------------------------------------------------------
def paging_secret(conn: Connection) -> str | None:
    return conn.execute(select(taxii_secret.c.secret).where(taxii_secret.c.id == 1)).scalar()


def make_paging_secret(conn: Connection) -> str:
    """The hub's paging secret, created on first use (in a write transaction)."""
    found = paging_secret(conn)
    if found:
        return found
    value = secrets.token_hex(32)
    conn.execute(taxii_secret.insert().values(id=1, secret=value))
    return value


# -- sync cursors -------------------------------------------------------------------------
def get_cursor(conn: Connection, remote: str, direction: str) -> tuple[str, int] | None:
    row = conn.execute(select(taxii_sync_cursor.c.cursor, taxii_sync_cursor.c.objects).where(
        taxii_sync_cursor.c.remote == remote, taxii_sync_cursor.c.direction == direction)).first()
    return (row.cursor, row.objects) if row else None


def set_cursor(conn: Connection, remote: str, direction: str, cursor: str, moved: int) -> None:
    """Save how far a sync got; ``moved`` objects are added to the running count."""
    before = get_cursor(conn, remote, direction)
    values: dict[str, Any] = {"cursor": cursor, "updated_us": now_us(),
                              "objects": (before[1] if before else 0) + moved}
    if before is None:
        conn.execute(taxii_sync_cursor.insert().values(remote=remote, direction=direction, **values))
    else:
        conn.execute(taxii_sync_cursor.update().where(
            taxii_sync_cursor.c.remote == remote, taxii_sync_cursor.c.direction == direction,
        ).values(**values))


def all_cursors(conn: Connection) -> list[Any]:
    return list(conn.execute(select(taxii_sync_cursor).order_by(
        taxii_sync_cursor.c.remote, taxii_sync_cursor.c.direction)))
