"""STIX object versions: immutable, keyed by (id, version), ``date_added`` assigned here.

``date_added`` is microseconds since the epoch, strictly increasing across the whole
store (every write transaction holds the single write order, see store/database.py),
so a TAXII client paging by ``added_after`` never skips an object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, func, select, update

from bayanihan.model.stix import is_sco, now_us, parse_us, version_of
from bayanihan.model.tlp import DEFAULT_TLP, TLP, object_marking_refs, tlp_of
from bayanihan.store.bulk import insert_rows, select_where_in
from bayanihan.store.events import append_event_rows
from bayanihan.store.schema import object_audience, stix_objects

CHUNK = 500


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same version with the same content was stored before
    CONFLICT = "conflict"  # the same version with different content exists


@dataclass(slots=True)
class NewVersion:
    """One object version ready to store (validated, markings and author settled)."""

    obj: dict[str, Any]
    author_org: str | None
    tlp: TLP
    audience: list[str] | None = None
    submitted_key: str | None = None  # the API key that sent it (provenance)
    body: str = ""
    version_us: int = 0
    date_added: int = 0
    outcome: Outcome | None = None
    reason: str = ""
    id: str = ""
    type: str = ""
    version: str | None = None  # ``modified``, else ``created`` (TAXII's version)

    def __post_init__(self) -> None:
        if not self.body:
            self.body = orjson.dumps(self.obj).decode()
        self.version = version_of(self.obj)
        self.version_us = parse_us(self.version) if self.version else 0
        self.id = str(self.obj["id"])
        self.type = str(self.obj["type"])


def object_tlp(obj: dict[str, Any]) -> TLP:
    """The TLP an object carries; AMBER when it carries none."""
    return tlp_of(object_marking_refs(obj)) or DEFAULT_TLP  # granular markings count too


def last_date_added(conn: Connection) -> int:
    return conn.execute(select(func.max(stix_objects.c.date_added))).scalar() or 0


def _existing(conn: Connection, ids: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    columns = ("pk", "id", "version_us", "body", "is_latest", "is_first", "author_org", "tlp",
               "audience")
    for row in select_where_in(conn, stix_objects, columns, "id", ids, CHUNK):
        found.setdefault(row.id, []).append(row)
    return found


OBJECT_COLUMNS = ("id", "type", "spec_version", "version", "version_us", "date_added", "author_org",
                  "tlp", "audience", "is_latest", "is_first", "revoked", "body", "submitted_key")
VERSION_US, DATE_ADDED, AUTHOR, TLP_COL, AUDIENCE, IS_LATEST, IS_FIRST, BODY = (4, 5, 6, 7, 8, 9, 10, 12)
assert [OBJECT_COLUMNS[i] for i in (VERSION_US, DATE_ADDED, AUTHOR, TLP_COL, AUDIENCE, IS_LATEST, IS_FIRST,
                                    BODY)] == ["version_us", "date_added", "author_org", "tlp", "audience",
                                               "is_latest", "is_first", "body"]


def store_versions(conn: Connection, versions: Sequence[NewVersion],
                   event_kind: str = "object.stored") -> list[NewVersion]:
    """Store ``versions`` in the caller's write transaction; set each one's outcome.

    The same (id, version) with the same content is a duplicate (not stored twice);
    with different content it is a conflict (versions are immutable). Objects with no
    ``modified``/``created`` (observables) are one row per distinct content, reporter,
    TLP and audience: when two organisations report the same URL under different
    markings, each copy keeps its own distribution. A later version of an SDO/SRO must
    come from the organisation that submitted the first one; the same version with the
    same content from anyone is a duplicate -- the same JSON, whatever the order of its
    keys (a STIX 2.0 object upgraded and MITRE's 2.1 copy of it); see docs/architecture.md,
    "Authorship".
    """
    ids = list(dict.fromkeys(v.id for v in versions))
    existing = _existing(conn, ids)
    base = max(now_us(), last_date_added(conn) + 1)
    rows: list[list[Any]] = []
    batch: dict[str, list[list[Any]]] = {}  # id -> rows of this batch
    audiences: dict[tuple[str, ...], str] = {}  # audience -> its JSON, made once
    for v in versions:
        vid = v.id
        prior = existing.get(vid, ())
        mine = batch.get(vid, ())
        audience = None
        if v.audience is not None:  # a bundle names one audience: its JSON is made once
            key = tuple(v.audience)
            if (audience := audiences.get(key)) is None:
                audience = audiences[key] = orjson.dumps(v.audience).decode()
        if v.version_us == 0:  # no version timestamp: content and distribution decide
            same = (v.body, v.author_org, v.tlp.value, audience)
            if any((r.body, r.author_org, r.tlp, r.audience) == same for r in prior) or any(
                    (r[BODY], r[AUTHOR], r[TLP_COL], r[AUDIENCE]) == same for r in mine):
                v.outcome = Outcome.DUPLICATE
                continue
            v.version_us = base + len(rows)
        latest = first = True
        if prior or mine:  # other versions of this id: ownership, immutability, flags
            if not _settle(v, prior, mine):
                continue
            older = [r.version_us for r in prior] + [r[VERSION_US] for r in mine]
            latest, first = v.version_us > max(older), v.version_us < min(older)
            for r in mine:  # a version earlier in this batch loses its flag to this one
                r[IS_LATEST] = r[IS_LATEST] and not latest
                r[IS_FIRST] = r[IS_FIRST] and not first
        v.date_added = base + len(rows)
        v.outcome = Outcome.STORED
        obj = v.obj
        row = [vid, v.type, obj.get("spec_version", "2.1"), v.version, v.version_us,
               v.date_added, v.author_org, v.tlp.value, audience, latest, first,
               bool(obj.get("revoked", False)), v.body, v.submitted_key]
        if mine:
            mine.append(row)
        else:
            batch[vid] = [row]
        rows.append(row)
    if not rows:
        return list(versions)
    _demote(conn, existing, batch)
    insert_rows(conn, stix_objects, OBJECT_COLUMNS, rows)
    with_audience = [r for r in rows if r[AUDIENCE] is not None]
    if with_audience:
        added = [r[DATE_ADDED] for r in with_audience]
        pks = dict(conn.execute(
            select(stix_objects.c.date_added, stix_objects.c.pk)
            .where(stix_objects.c.date_added.between(min(added), max(added)))
        ).all())
        insert_rows(conn, object_audience, ("object_pk", "org"), [
            (pks[r[DATE_ADDED]], org) for r in with_audience for org in orjson.loads(r[AUDIENCE])
        ])
    stored = [v for v in versions if v.outcome is Outcome.STORED]
    append_event_rows(conn, [
        ("object.revoked" if v.obj.get("revoked") else event_kind, v.id, v.author_org,
         v.tlp.value, row[AUDIENCE],
         {"id": v.id, "type": v.type, "version": v.version, "date_added": v.date_added})
        for v, row in zip(stored, rows, strict=True)
    ])
    return list(versions)


def not_yours(object_id: str) -> str:
    """The one refusal of a version of an id another organisation submitted first (and of
    any version of an id the caller may not read: ingest/blind_refusals.py)."""
    return f"{object_id}: only the organisation that first submitted this id can add versions of it"


def _settle(v: NewVersion, prior: Sequence[Any], mine: Sequence[list[Any]]) -> bool:
    """False (with the outcome set) when ``v`` may not join the versions already known."""
    clash = next((r.body for r in prior if r.version_us == v.version_us), None)
    if clash is None:
        clash = next((r[BODY] for r in mine if r[VERSION_US] == v.version_us), None)
    if clash is None:
        if prior:
            first = min(prior, key=lambda r: r.version_us)
            owner = first.author_org or next((r.author_org for r in prior if r.author_org), None)
            if owner and v.author_org and owner != v.author_org and not is_sco(v.type):
                v.outcome = Outcome.CONFLICT
                # never name the owner: the caller may not be allowed to read the object
                v.reason = not_yours(v.id)
                return False
        return True
    if clash == v.body or orjson.loads(clash) == v.obj:  # JSON: key order is no difference
        v.outcome = Outcome.DUPLICATE
    else:
        v.outcome = Outcome.CONFLICT
        v.reason = "this version exists already with different content (versions are immutable)"
    return False


def _demote(conn: Connection, existing: dict[str, list[Any]],
            batch: dict[str, list[list[Any]]]) -> None:
    """Stored versions stop being latest/first when this batch brings a newer/older one."""
    latest_pks, first_pks = [], []
    for vid, rows in batch.items():
        for r in existing.get(vid, ()):
            if r.is_latest and any(n[IS_LATEST] for n in rows):
                latest_pks.append(r.pk)
            if r.is_first and any(n[IS_FIRST] for n in rows):
                first_pks.append(r.pk)
    if latest_pks:
        conn.execute(update(stix_objects).where(stix_objects.c.pk.in_(latest_pks)).values(is_latest=False))
    if first_pks:
        conn.execute(update(stix_objects).where(stix_objects.c.pk.in_(first_pks)).values(is_first=False))


def store_hub_object(conn: Connection, obj: dict[str, Any], author_org: str | None) -> NewVersion:
    """Store an object the hub itself made (identities, alerts) with its own TLP."""
    version = NewVersion(obj, author_org=author_org, tlp=object_tlp(obj))
    store_versions(conn, [version])
    return version


def versions_of(conn: Connection, object_id: str, where: ColumnElement[bool]) -> list[Any]:
    """All versions of ``object_id`` that satisfy ``where`` (the access policy), oldest first."""
    query = (select(stix_objects).where(and_(stix_objects.c.id == object_id, where))
             .order_by(stix_objects.c.version_us))
    return list(conn.execute(query))


def authors_of(conn: Connection, ids: Iterable[str]) -> dict[str, str | None]:
    """id -> author organisation, for ids that exist."""
    wanted = list(dict.fromkeys(ids))
    found: dict[str, str | None] = {}
    for start in range(0, len(wanted), CHUNK):
        rows = conn.execute(select(stix_objects.c.id, stix_objects.c.author_org)
                            .where(stix_objects.c.id.in_(wanted[start:start + CHUNK])))
        found.update({r.id: r.author_org for r in rows})
    return found
