"""TAXII collections: what each one holds for a reader, and the page queries over them.

==========  =============================================  ================================
collection  holds (always inside the access policy)        read / write
==========  =============================================  ================================
regional    everything the reader may see                  keys / members and partners
public      TLP:CLEAR objects                              anyone, no key / nobody
alerts      ``report`` and ``note`` objects labelled       anyone (policy applies) / nobody
            :data:`ALERT_LABEL` (published by the hub)
==========  =============================================  ================================

Every page is one index range scan: ``date_added > ? AND <version flag> AND <holds>
ORDER BY date_added LIMIT n + 1`` (the extra row says whether there is more).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)

from bayanihan.model.tlp import TLP
from bayanihan.share.policy import WRITER_KINDS, Reader, visible
from bayanihan.store import audit
from bayanihan.store.events import append_events
from bayanihan.store.schema import object_audience, stix_objects

#: Label that marks a report or note as a regional alert.
ALERT_LABEL = "bayanihan-alert"
ALERT_TYPES = ("report", "note")
NAMESPACE = uuid.UUID("0b7c5f0e-3d1a-5a55-9c47-2f6f0f1d8a31")
VERSION_WORDS = ("first", "last", "all")


@dataclass(frozen=True)
class Collection:
    alias: str
    title: str
    description: str
    holds: Callable[[Reader], ColumnElement[bool]]
    public: bool = False  # readable without a key
    writable: bool = False
    id: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", str(uuid.uuid5(NAMESPACE, self.alias)))

    def can_read(self, reader: Reader) -> bool:
        return self.public or reader.authenticated

    def can_write(self, reader: Reader, writer_key: bool) -> bool:
        return self.writable and writer_key and reader.kind in WRITER_KINDS

    def info(self, reader: Reader, writer_key: bool) -> dict[str, Any]:
        """The TAXII collection resource, for this reader."""
        return {"id": self.id, "title": self.title, "description": self.description,
                "alias": self.alias, "can_read": self.can_read(reader),
                "can_write": self.can_write(reader, writer_key),
                "media_types": ["application/stix+json;version=2.1"]}


def _alerts(reader: Reader) -> ColumnElement[bool]:
    return and_(visible(reader), stix_objects.c.type.in_(ALERT_TYPES),
                stix_objects.c.body.contains(f'"{ALERT_LABEL}"', autoescape=True))


COLLECTIONS: tuple[Collection, ...] = (
    Collection("regional", "Regional threat intelligence",
               "Every object shared through the hub that your organisation may see (TLP 2.0).",
               visible, writable=True),
    Collection("public", "Public (TLP:CLEAR)",
               "Objects marked TLP:CLEAR; readable without a key.",
               lambda _reader: stix_objects.c.tlp == TLP.CLEAR.value, public=True),
    Collection("alerts", "Regional alerts",
               f"Reports and notes labelled {ALERT_LABEL}: warnings the hub publishes when it "
               "links attacks across members.", _alerts, public=True),
)
BY_ID = {c.id: c for c in COLLECTIONS} | {c.alias: c for c in COLLECTIONS}


def listed(reader: Reader) -> list[Collection]:
    """The collections a reader is shown (those it can read)."""
    return [c for c in COLLECTIONS if c.can_read(reader)]


@dataclass(frozen=True)
class Filters:
    """TAXII filters, parsed: OR inside a field, AND between fields."""

    added_after: int | None = None
    ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()  # first | last | all, and version timestamps in µs as text
    spec_versions: tuple[str, ...] = ()

    def condition(self, default_version: str = "last", *, by_id: bool = False,
                  ) -> ColumnElement[bool]:
        """The filters as SQL. ``by_id``: keep date and flags out of index choice (SQLite
        without statistics would otherwise walk ``(is_latest, date_added)``, not look up the id)."""
        t = stix_objects.c
        parts: list[ColumnElement[bool]] = []
        if self.added_after is not None:
            parts.append(t.date_added > self.added_after)
        if self.ids:
            parts.append(t.id.in_(self.ids))
        if self.types:
            parts.append(t.type.in_(self.types))
        if self.spec_versions:
            parts.append(t.spec_version.in_(self.spec_versions))
        parts.append(version_condition(self.versions or (default_version,), by_id=by_id))
        return and_(*parts)


def version_condition(tokens: Sequence[str], *, by_id: bool = False) -> ColumnElement[bool]:
    if "all" in tokens:
        return true()
    t = stix_objects.c

    def flag(column: ColumnElement[bool]) -> ColumnElement[bool]:
        return func.coalesce(column, false()).is_(True) if by_id else column.is_(True)

    either: list[ColumnElement[bool]] = []
    if "last" in tokens:
        either.append(flag(t.is_latest))
    if "first" in tokens:
        either.append(flag(t.is_first))
    stamps = [int(s) for s in tokens if s not in VERSION_WORDS]
    if stamps:
        either.append(t.version_us.in_(stamps))
    return or_(*either)


OBJECT_COLUMNS = (stix_objects.c.date_added, stix_objects.c.body)
MANIFEST_COLUMNS = (stix_objects.c.date_added, stix_objects.c.id, stix_objects.c.version,
                    stix_objects.c.version_us, stix_objects.c.spec_version)
VERSION_COLUMNS = (stix_objects.c.date_added, stix_objects.c.version, stix_objects.c.version_us)


@lru_cache(maxsize=1024)
def _page_query(collection: Collection, reader: Reader, filters: Filters, default_version: str,
                by_id: bool, columns: tuple[Any, ...]) -> Select[Any]:
    """The page statement, built once per reader and filter shape (building costs ~2 ms)."""
    t = stix_objects.c
    lookup = by_id or bool(filters.ids)
    added: Any = t.date_added + 0 if lookup else t.date_added  # + 0: no index on it for lookups
    where = and_(filters.condition(default_version, by_id=lookup),
                 added > bindparam("after", type_=BigInteger()), collection.holds(reader))
    if by_id:
        where = and_(where, t.id == bindparam("object_id", type_=String()))
    return select(*columns).where(where).order_by(added).limit(bindparam("rows", type_=Integer()))


def page(conn: Connection, collection: Collection, reader: Reader, filters: Filters, after: int,
         limit: int, columns: tuple[Any, ...] = OBJECT_COLUMNS, object_id: str | None = None,
         default_version: str = "last") -> list[Any]:
    """Up to ``limit + 1`` rows added after ``after``, in ``date_added`` order.

    The extra row only says that there is more.
    """
    query = _page_query(collection, reader, replace(filters, added_after=None), default_version,
                        object_id is not None, columns)
    start = max(after, filters.added_after if filters.added_after is not None else -1)
    params: dict[str, Any] = {"after": start, "rows": limit + 1}
    if object_id is not None:
        params["object_id"] = object_id
    return list(conn.execute(query, params))


def exists_for(conn: Connection, collection: Collection, reader: Reader, object_id: str) -> bool:
    """Whether the reader sees any version of ``object_id`` in the collection."""
    query = select(stix_objects.c.pk).where(stix_objects.c.id == object_id,
                                            collection.holds(reader)).limit(1)
    return conn.execute(query).first() is not None


def delete_versions(conn: Connection, collection: Collection, reader: Reader, object_id: str,
                    versions: Sequence[str], spec_versions: Sequence[str],
                    actor: audit.Actor) -> int:
    """Delete the reader's own versions of ``object_id`` that match; audited. Returns how many."""
    t = stix_objects.c
    where = and_(t.id == object_id, collection.holds(reader), t.author_org == reader.org,
                 version_condition(versions or ("all",)))
    if spec_versions:
        where = and_(where, t.spec_version.in_(spec_versions))
    rows = list(conn.execute(select(t.pk, t.version, t.tlp, t.audience, t.author_org).where(where)))
    if not rows:
        return 0
    pks = [r.pk for r in rows]
    conn.execute(delete(object_audience).where(object_audience.c.object_pk.in_(pks)))
    conn.execute(delete(stix_objects).where(t.pk.in_(pks)))
    _reflag(conn, object_id)
    append_events(conn, [{"kind": "object.deleted", "object_id": object_id,
                          "author_org": r.author_org, "tlp": r.tlp,
                          "audience": None if r.audience is None else _names(r.audience),
                          "payload": {"id": object_id, "version": r.version}} for r in rows])
    audit.record(conn, actor, "objects.delete", [object_id],
                 {"versions": [r.version for r in rows], "via": "taxii"})
    return len(rows)


def _names(audience: str) -> list[str]:
    return list(orjson.loads(audience))


def _reflag(conn: Connection, object_id: str) -> None:
    """After a delete, the newest and oldest remaining versions carry the flags again."""
    t = stix_objects.c
    left = list(conn.execute(select(t.pk, t.version_us).where(t.id == object_id)
                             .order_by(t.version_us)))
    if not left:
        return
    conn.execute(update(stix_objects).where(t.id == object_id)
                 .values(is_latest=t.pk == left[-1].pk, is_first=t.pk == left[0].pk))
