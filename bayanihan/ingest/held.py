"""Objects held until the marking-definition they name arrives (issue 11: order never matters).

A TAXII server may serve a marking-definition on its last page, after the objects that
use it; a member may post them in two requests. Such an object is valid and is kept in
``held_objects`` (status ``held`` in the ingest result) instead of being refused; when
the definition is stored, every object waiting for it is stored too, in the same
transaction, as its submitter sent it (same author, key and audience).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete, func, select, update

from bayanihan.model.stix import now_us
from bayanihan.model.tlp import is_tlp_marking
from bayanihan.store import audit
from bayanihan.store.objects import NewVersion, Outcome, object_tlp, store_versions
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_provenance import held_objects

__all__ = ["count_held", "hold", "release_held"]


def hold(conn: Connection, obj: dict[str, Any], waiting_for: str, author_org: str | None,
         key_id: str | None, audience_json: str | None) -> None:
    """Keep ``obj`` until the marking-definition ``waiting_for`` is stored."""
    conn.execute(held_objects.insert().values(
        object_id=obj["id"], waiting_for=waiting_for, author_org=author_org,
        submitted_key=key_id, audience=audience_json, held_us=now_us(),
        body=orjson.dumps(obj).decode()))


def _missing(conn: Connection, refs: set[str]) -> set[str]:
    if not refs:
        return set()
    found = conn.execute(select(stix_objects.c.id).where(stix_objects.c.id.in_(sorted(refs))))
    return refs - {r.id for r in found}


def release_held(conn: Connection, definitions: Sequence[str]) -> list[NewVersion]:
    """Store the held objects that ``definitions`` (just stored) were the last wait of."""
    rows = list(conn.execute(select(held_objects).where(
        held_objects.c.waiting_for.in_(list(definitions))).order_by(held_objects.c.pk)))
    if not rows:
        return []
    ready: list[tuple[Any, dict[str, Any]]] = []
    for row in rows:
        obj = orjson.loads(row.body)
        refs = {r for r in obj.get("object_marking_refs", ()) if not is_tlp_marking(r)}
        refs |= {g["marking_ref"] for g in obj.get("granular_markings", ()) if "marking_ref" in g
                 and not is_tlp_marking(g["marking_ref"])}
        missing = _missing(conn, refs)
        if missing:  # still waiting, for another definition
            conn.execute(update(held_objects).where(held_objects.c.pk == row.pk)
                         .values(waiting_for=min(missing)))
            continue
        ready.append((row, obj))
    versions = [NewVersion(obj, author_org=row.author_org, tlp=object_tlp(obj),
                           audience=orjson.loads(row.audience) if row.audience else None,
                           submitted_key=row.submitted_key, body=row.body)
                for row, obj in ready]
    store_versions(conn, versions)
    conn.execute(delete(held_objects).where(held_objects.c.pk.in_([row.pk for row, _ in ready])))
    stored = [v for v in versions if v.outcome is Outcome.STORED]
    if stored:
        audit.record(conn, audit.Actor.console(), "objects.released", [v.id for v in stored],
                     {"count": len(stored), "markings": sorted(definitions)})
    return stored


def count_held(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(held_objects)).scalar() or 0
