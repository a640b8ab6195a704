"""The report index: filled from stored ``report`` objects, queried under a policy condition.

:func:`index_pending` indexes every stored report version that carries the AI-threat
extension and has no index row yet, whatever path stored it (report API, MISP import,
TAXII, ``bayanihan ingest``); it is idempotent and runs after each report write, so a
crash between the store and the index is repaired by the next write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, exists, select

from bayanihan.model.extension import EXTENSION_ID, ai_properties
from bayanihan.model.stix import parse_us
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_reports import report_facets, report_index

__all__ = ["ReportFilter", "facets_of", "index_pending", "list_reports", "row_for"]

_BATCH = 500


@dataclass(frozen=True)
class ReportFilter:
    vector: str | None = None
    channel: str | None = None
    country: str | None = None
    language: str | None = None
    technique: str | None = None
    since_us: int | None = None  # reports whose last_seen is at or after
    until_us: int | None = None  # reports whose first_seen is at or before
    text: str | None = None
    limit: int = 100
    before_pk: int | None = None  # paging: rows with object_pk below this


def _us(value: Any, fallback: int) -> int:
    try:
        return parse_us(value) if isinstance(value, str) else fallback
    except ValueError:
        return fallback


def row_for(pk: int, obj: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The index row and facet rows of one stored report version; None without the extension."""
    props = ai_properties(obj)
    if props is None or not isinstance(props.get("vector"), str):
        return None
    published = _us(obj.get("published") or obj.get("created"), 0)
    first = _us(props.get("first_seen"), published)
    last = _us(props.get("last_seen"), max(first, published) if props.get("first_seen") is None
               else first)
    lures = [str(p.get("text", "")) for p in props.get("lure_fingerprints") or ()
             if isinstance(p, dict)]
    text = " \n".join([str(obj.get("name", "")), str(obj.get("description", "")), *lures])
    row = {"object_pk": pk, "id": obj["id"], "vector": props["vector"][:32],
           "channel": (props.get("channel") or None), "first_seen_us": first,
           "last_seen_us": max(first, last), "title": str(obj.get("name", ""))[:300],
           "search_text": text.casefold()}
    facets: set[tuple[str, str]] = set()
    for facet, key in (("country", "targeted_countries"), ("language", "languages"),
                       ("sector", "targeted_sectors")):
        facets |= {(facet, str(v)[:40]) for v in props.get(key) or () if isinstance(v, str)}
    ai = props.get("ai_involvement") or {}
    facets |= {("technique", str(v)[:40]) for v in ai.get("techniques") or () if isinstance(v, str)}
    return row, [{"object_pk": pk, "facet": f, "value": v} for f, v in sorted(facets)]


def index_pending(conn: Connection) -> int:
    """Index stored report versions that have no index row yet; returns how many."""
    done, after = 0, 0
    marker = f'%"{EXTENSION_ID}"%'
    while True:
        rows = conn.execute(
            select(stix_objects.c.pk, stix_objects.c.body)
            .where(stix_objects.c.type == "report", stix_objects.c.pk > after,
                   stix_objects.c.body.like(marker),
                   ~exists(select(report_index.c.object_pk)
                           .where(report_index.c.object_pk == stix_objects.c.pk)))
            .order_by(stix_objects.c.pk).limit(_BATCH)).all()
        entries: list[dict[str, Any]] = []
        facets: list[dict[str, Any]] = []
        for r in rows:
            made = row_for(r.pk, orjson.loads(r.body))
            if made is not None:
                entries.append(made[0])
                facets += made[1]
        if entries:
            conn.execute(report_index.insert(), entries)
        if facets:
            conn.execute(report_facets.insert(), facets)
        done += len(entries)
        if len(rows) < _BATCH:
            return done
        after = rows[-1].pk


def _facet(name: str, value: str) -> ColumnElement[bool]:
    return exists(select(report_facets.c.object_pk).where(
        report_facets.c.object_pk == report_index.c.object_pk,
        report_facets.c.facet == name, report_facets.c.value == value))


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_reports(conn: Connection, where: ColumnElement[bool], f: ReportFilter) -> Sequence[Any]:
    """Latest visible report versions matching ``f``, newest first (by store order)."""
    conds: list[ColumnElement[bool]] = [where, stix_objects.c.is_latest.is_(True)]
    if f.vector:
        conds.append(report_index.c.vector == f.vector)
    if f.channel:
        conds.append(report_index.c.channel == f.channel)
    for name, value in (("country", f.country), ("language", f.language),
                        ("technique", f.technique)):
        if value:
            conds.append(_facet(name, value))
    if f.since_us is not None:
        conds.append(report_index.c.last_seen_us >= f.since_us)
    if f.until_us is not None:
        conds.append(report_index.c.first_seen_us <= f.until_us)
    if f.text:
        words = [w for w in f.text.casefold().split() if w][:10]
        conds += [report_index.c.search_text.like(f"%{_like_escape(w)}%", escape="\\")
                  for w in words]
    if f.before_pk is not None:
        conds.append(report_index.c.object_pk < f.before_pk)
    query = (select(report_index, stix_objects.c.tlp, stix_objects.c.author_org,
                    stix_objects.c.date_added, stix_objects.c.body)
             .join(stix_objects, stix_objects.c.pk == report_index.c.object_pk)
             .where(and_(*conds)).order_by(report_index.c.object_pk.desc()).limit(f.limit))
    return conn.execute(query).all()


def facets_of(conn: Connection, pks: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    out: dict[int, dict[str, list[str]]] = {}
    if not pks:
        return out
    rows = conn.execute(select(report_facets).where(report_facets.c.object_pk.in_(list(pks))))
    for r in rows:
        out.setdefault(r.object_pk, {}).setdefault(r.facet, []).append(r.value)
    return out
