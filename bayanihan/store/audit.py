"""The audit log: append-only, each entry chained to the one before by SHA-256.

``hash = sha256(canonical JSON of {seq, at, actor_org, actor_key, action, object_ids,
detail, prev_hash})``. Editing, deleting or swapping a row breaks the chain at that row;
cutting rows off the end is caught by comparing with a head recorded elsewhere
(``bayanihan audit head``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.model.stix import format_us, now_us
from bayanihan.store.schema import audit_log

GENESIS = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who did something: an organisation and the key it used (None for the console)."""

    org: str | None
    key_id: str | None = None

    @classmethod
    def console(cls) -> Actor:
        return cls(org=None, key_id=None)


def _canonical(entry: dict[str, Any]) -> bytes:
    return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)


def entry_hash(entry: dict[str, Any]) -> str:
    fields = {k: entry[k] for k in _CHAINED}
    return hashlib.sha256(_canonical(fields)).hexdigest()


_CHAINED = ("seq", "at", "actor_org", "actor_key", "action", "object_ids", "detail", "prev_hash")


def head(conn: Connection) -> tuple[int, str]:
    """(seq, hash) of the newest entry; (0, GENESIS) when the log is empty."""
    row = conn.execute(
        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS)


def record(
    conn: Connection,
    actor: Actor,
    action: str,
    object_ids: Sequence[str] = (),
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one entry inside the caller's write transaction; returns its seq."""
    seq, prev = head(conn)
    entry = {
        "seq": seq + 1,
        "at": format_us(now_us()),
        "actor_org": actor.org,
        "actor_key": actor.key_id,
        "action": action,
        "object_ids": orjson.dumps(list(object_ids)).decode(),
        "detail": orjson.dumps(detail or {}, option=orjson.OPT_SORT_KEYS).decode(),
        "prev_hash": prev,
    }
    entry["hash"] = entry_hash(entry)
    conn.execute(audit_log.insert().values(**entry))
    return seq + 1


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    reason: str


def entries(conn: Connection, after: int = 0, limit: int | None = None) -> Iterator[Any]:
    query = select(audit_log).where(audit_log.c.seq > after).order_by(audit_log.c.seq)
    if limit:
        query = query.limit(limit)
    yield from conn.execute(query)


def verify(conn: Connection, expected_head: tuple[int, str] | None = None) -> AuditProblem | None:
    """The first entry that was altered, deleted or reordered; None when the chain holds."""
    return verify_rows(entries(conn), expected_head)


def verify_rows(
    rows: Iterable[Any], expected_head: tuple[int, str] | None = None
) -> AuditProblem | None:
    prev, expected_seq = GENESIS, 1
    for row in rows:
        entry = dict(row._mapping)
        if entry["seq"] != expected_seq:
            return AuditProblem(expected_seq, f"entry {expected_seq} is missing (next is {entry['seq']})")
        if entry["prev_hash"] != prev:
            return AuditProblem(entry["seq"], "does not follow the entry before it (deleted or reordered)")
        if entry_hash(entry) != entry["hash"]:
            return AuditProblem(entry["seq"], "content was altered after it was written")
        if expected_head and entry["seq"] == expected_head[0] and entry["hash"] != expected_head[1]:
            return AuditProblem(entry["seq"], "differs from the head recorded earlier")
        prev, expected_seq = entry["hash"], expected_seq + 1
    if expected_head is not None:
        seq, _digest = expected_head
        if expected_seq - 1 < seq:
            return AuditProblem(expected_seq, f"log ends at {expected_seq - 1}; the recorded head is {seq}")
    return None
