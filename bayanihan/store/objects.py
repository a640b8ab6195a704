"""STIX object versions: immutable, keyed by (id, version), ``date_added`` assigned here.

``date_added`` is microseconds since the epoch, strictly increasing across the whole
store (every write transaction holds the single write order, see store/database.py),
so a TAXII client paging by ``added_after`` never skips an object.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, ColumnElement, and_, bindparam, func, select, update

from bayanihan.model.stix import is_sco, now_us, parse_us, version_of
from bayanihan.model.tlp import TLP, tlp_of, DEFAULT_TLP
from bayanihan.store.events import append_events
from bayanihan.store.schema import object_audience, stix_objects

CHUNK = 500


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # the same version with the same content was stored before
    CONFLICT = "conflict"  # the same version with different content exists


@dataclass
class NewVersion:
    """One object version ready to store (validated, markings and author settled)."""

    obj: dict[str, Any]
    author_org: str | None
    tlp: TLP
    audience: list[str] | None = None
    body: str = ""
    version_us: int = 0
    date_added: int = 0
    outcome: Outcome | None = None
    reason: str = ""
    extra_events: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.body:
            self.body = orjson.dumps(self.obj).decode()
        stamp = version_of(self.obj)
        self.version_us = parse_us(stamp) if stamp else 0

    @property
    def id(self) -> str:
        return str(self.obj["id"])

    @property
    def type(self) -> str:
        return str(self.obj["type"])


def object_tlp(obj: dict[str, Any]) -> TLP:
    """The TLP an object carries; AMBER when it carries none."""
    refs = obj.get("object_marking_refs")
    return tlp_of(refs if isinstance(refs, list) else None) or DEFAULT_TLP


def last_date_added(conn: Connection) -> int:
    return conn.execute(select(func.max(stix_objects.c.date_added))).scalar() or 0


def _existing(conn: Connection, ids: Sequence[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    cols = (stix_objects.c.pk, stix_objects.c.id, stix_objects.c.version_us, stix_objects.c.body,
            stix_objects.c.is_latest, stix_objects.c.is_first, stix_objects.c.author_org)
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(select(*cols).where(stix_objects.c.id.in_(ids[start:start + CHUNK])))
        for row in rows:
            found.setdefault(row.id, []).append(row)
    return found


def store_versions(conn: Connection, versions: Sequence[NewVersion], event_kind: str = "object.stored",
                   ) -> list[NewVersion]:
    """Store ``versions`` in the caller's write transaction; set each one's outcome.

    The same (id, version) with the same content is a duplicate (not stored twice);
    with different content it is a conflict (versions are immutable). Objects with no
    ``modified``/``created`` (observables) get a new version only when their content
    changes.
    """
    ids = list(dict.fromkeys(v.id for v in versions))
    existing = _existing(conn, ids)
    base = max(now_us(), last_date_added(conn) + 1)
    rows: list[dict[str, Any]] = []
    newest: dict[str, int] = {}
    oldest: dict[str, int] = {}
    seen_in_batch: dict[tuple[str, int], NewVersion] = {}
    bodies: dict[str, set[str]] = {}
    for v in versions:
        prior = existing.get(v.id, [])
        if v.version_us == 0:  # no version timestamp: content decides
            known = bodies.setdefault(v.id, {r.body for r in prior})
            if v.body in known:
                v.outcome = Outcome.DUPLICATE
                continue
            known.add(v.body)
            v.version_us = base + len(rows)
        owner = next((r.author_org for r in prior if r.author_org), None)
        if owner and v.author_org and owner != v.author_org and not is_sco(v.type):
            v.outcome = Outcome.CONFLICT
            v.reason = f"{v.id} belongs to organisation {owner}; only it can add versions"
            continue
        key = (v.id, v.version_us)
        clash = next((r for r in prior if r.version_us == v.version_us), None) or seen_in_batch.get(key)
        if clash is not None:
            if clash.body == v.body:
                v.outcome = Outcome.DUPLICATE
            else:
                v.outcome = Outcome.CONFLICT
                v.reason = "this version exists already with different content (versions are immutable)"
            continue
        seen_in_batch[key] = v
        v.date_added = base + len(rows)
        v.outcome = Outcome.STORED
        top = max([r.version_us for r in prior] + [newest.get(v.id, -1)])
        bottom = min([r.version_us for r in prior] + [oldest.get(v.id, 1 << 62)])
        rows.append({
            "id": v.id, "type": v.type, "spec_version": str(v.obj.get("spec_version", "2.1")),
            "version": version_of(v.obj), "version_us": v.version_us, "date_added": v.date_added,
            "author_org": v.author_org, "tlp": v.tlp.value,
            "audience": orjson.dumps(v.audience).decode() if v.audience is not None else None,
            "is_latest": v.version_us > top, "is_first": v.version_us < bottom,
            "revoked": bool(v.obj.get("revoked", False)), "body": v.body,
        })
        newest[v.id] = max(newest.get(v.id, -1), v.version_us)
        oldest[v.id] = min(oldest.get(v.id, 1 << 62), v.version_us)
    if not rows:
        return list(versions)
    _fix_flags(rows)
    _demote(conn, existing, newest, oldest)
    with_audience = [r for r in rows if r["audience"] is not None]
    conn.execute(stix_objects.insert(), rows)
    if with_audience:
        added = {r["date_added"] for r in with_audience}
        pks = dict(conn.execute(
            select(stix_objects.c.date_added, stix_objects.c.pk)
            .where(stix_objects.c.date_added.in_(sorted(added)))
        ).all())
        conn.execute(object_audience.insert(), [
            {"object_pk": pks[r["date_added"]], "org": org}
            for r in with_audience for org in orjson.loads(r["audience"])
        ])
    stored = [v for v in versions if v.outcome is Outcome.STORED]
    append_events(conn, [
        {"kind": "object.revoked" if v.obj.get("revoked") else event_kind, "object_id": v.id,
         "author_org": v.author_org, "tlp": v.tlp.value, "audience": v.audience,
         "payload": {"id": v.id, "type": v.type, "version": version_of(v.obj),
                     "date_added": v.date_added}}
        for v in stored
    ])
    return list(versions)


def _fix_flags(rows: list[dict[str, Any]]) -> None:
    """Within one batch only the newest/oldest version of an id keeps the flag."""
    best: dict[str, dict[str, Any]] = {}
    first: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["is_latest"]:
            if r["id"] in best and best[r["id"]]["version_us"] > r["version_us"]:
                r["is_latest"] = False
            else:
                if r["id"] in best:
                    best[r["id"]]["is_latest"] = False
                best[r["id"]] = r
        if r["is_first"]:
            if r["id"] in first and first[r["id"]]["version_us"] < r["version_us"]:
                r["is_first"] = False
            else:
                if r["id"] in first:
                    first[r["id"]]["is_first"] = False
                first[r["id"]] = r


def _demote(conn: Connection, existing: dict[str, list[Any]], newest: dict[str, int],
            oldest: dict[str, int]) -> None:
    latest_pks = [r.pk for i, top in newest.items() for r in existing.get(i, ())
                  if r.is_latest and r.version_us < top]
    first_pks = [r.pk for i, low in oldest.items() for r in existing.get(i, ())
                 if r.is_first and r.version_us > low]
    if latest_pks:
        conn.execute(update(stix_objects).where(stix_objects.c.pk == bindparam("p"))
                     .values(is_latest=False), [{"p": p} for p in latest_pks])
    if first_pks:
        conn.execute(update(stix_objects).where(stix_objects.c.pk == bindparam("p"))
                     .values(is_first=False), [{"p": p} for p in first_pks])


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
