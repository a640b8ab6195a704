"""The one row source every export, the check API and the alert links read (the renderers
in :mod:`bayanihan.share.exports` take it as a function: they know nothing of correlation).

A :class:`Scope` says what to export (kinds, since, vectors, countries, campaign, minimum
confidence); :func:`rows` yields the values one reader may see, in a stable order
(kind, value), in chunks (keyset paging: never the whole set in memory), one
:class:`Row` per distinct value. A value is left out when its indicator is revoked or not
the latest version, expired (``valid_until``), decayed to confidence 0, below the scope's
minimum confidence, flagged as a false positive by a sighting the reader may see (that
indicator's values) or by the reader's own organisation (the value, whichever indicator names
it: ``Guard.flagged``), or held by the poisoning guard. The plain lists and RPZ read the same
values faster through :mod:`bayanihan.correlate.value_pages` (``Context.pages``).
:func:`lookup` applies the same rules to the values a check call asks about, with a
bounded number of statements whatever the number of values asked or stored.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select, tuple_

from bayanihan.correlate.guard import Guard
from bayanihan.correlate.sightings import DAY_US, decay_of, decayed
from bayanihan.correlate.tables_campaigns import indicator_sighting, linked_report
from bayanihan.correlate.tables_values import indicator_report, indicator_value
from bayanihan.model.stix import now_us
from bayanihan.model.tlp import TLP
from bayanihan.share.exports.formats import KINDS, Context, Row, Scope
from bayanihan.share.policy import Reader, visible
from bayanihan.store.schema import stix_objects

__all__ = ["context_of", "export_context", "lookup", "rows"]

_CHUNK = 5000
_DECAY_KIND = {"sha256": "file", "tlsh": "file"}
_TLP_ORDER = [t.value for t in TLP]


def _sightings(conn: Connection, reader: Reader, guard: Guard,
               indicators: Collection[str] | None = None) -> dict[str, tuple[int, int, int]]:
    """indicator id -> (seen-by, false-positive-by, latest seen) from visible sightings
    (but those of quarantined keys, correlate/guard.py); only of ``indicators`` if given."""
    query = (select(indicator_sighting.c.indicator_id, indicator_sighting.c.org,
                    indicator_sighting.c.verdict, indicator_sighting.c.seen_us,
                    stix_objects.c.submitted_key)
             .join(stix_objects, stix_objects.c.pk == indicator_sighting.c.object_pk)
             .where(visible(reader)))
    if indicators is not None:
        query = query.where(indicator_sighting.c.indicator_id.in_(sorted(indicators)))
    found: dict[str, tuple[set[str], set[str], int]] = {}
    for ind, org, verdict, seen, key in conn.execute(query):
        if key in guard.quarantined_keys:
            continue
        seen_by, wrong_by, last = found.setdefault(ind, (set(), set(), 0))
        (wrong_by if verdict == "false-positive" else seen_by).add(org)
        if verdict != "false-positive":
            found[ind] = (seen_by, wrong_by, max(last, seen))
    return {k: (len(s), len(w), t) for k, (s, w, t) in found.items()}


def context_of(conn: Connection, reader: Reader, campaign: str | None = None,
               indicators: Collection[str] | None = None) -> dict[str, tuple[set[str], set[str]]]:
    """indicator id -> (campaigns, countries) through the reports the reader may see."""
    query = (select(indicator_report.c.indicator_id, linked_report.c.campaign_id,
                    linked_report.c.countries)
             .join(linked_report, linked_report.c.report_id == indicator_report.c.report_id)
             .join(stix_objects, stix_objects.c.pk == linked_report.c.object_pk)
             .where(visible(reader)))
    if campaign is not None:
        query = query.where(linked_report.c.campaign_id == campaign)
    if indicators is not None:
        query = query.where(indicator_report.c.indicator_id.in_(sorted(indicators)))
    out: dict[str, tuple[set[str], set[str]]] = {}
    for ind, campaign_id, countries in conn.execute(query):
        camps, places = out.setdefault(ind, (set(), set()))
        if campaign_id:
            camps.add(campaign_id)
        places.update(orjson.loads(countries or "[]"))
    return out


def _current(conn: Connection, reader: Reader, scope: Scope) -> Any:
    query = (select(indicator_value.c.kind, indicator_value.c.value, indicator_value.c.skeleton,
                    indicator_value.c.indicator_id, indicator_value.c.vector,
                    indicator_value.c.confidence, indicator_value.c.valid_from_us,
                    indicator_value.c.valid_until_us, indicator_value.c.version_us,
                    indicator_value.c.object_pk, stix_objects.c.tlp, stix_objects.c.date_added,
                    stix_objects.c.submitted_key)
             .join(stix_objects, stix_objects.c.pk == indicator_value.c.object_pk)
             .where(stix_objects.c.is_latest.is_(True), stix_objects.c.revoked.is_(False),
                    visible(reader)))
    if scope.kinds:
        query = query.where(indicator_value.c.kind.in_(scope.kinds))
    if scope.vectors:
        query = query.where(indicator_value.c.vector.in_(scope.vectors))
    if scope.since_us is not None:
        query = query.where(stix_objects.c.date_added > scope.since_us)
    if scope.tlps:
        query = query.where(stix_objects.c.tlp.in_(scope.tlps))
    return query


def rows(conn: Connection, reader: Reader, scope: Scope, *, context: bool = False,
         at_us: int | None = None) -> Iterator[Row]:
    """The values ``reader`` may see within ``scope``, ordered by (kind, value)."""
    guard = Guard.load(conn, reader)  # protected, quarantined, own false positives
    marks = _sightings(conn, reader, guard)
    wanted = None
    ctx: dict[str, tuple[set[str], set[str]]] = {}
    if context or scope.campaign or scope.countries:
        ctx = context_of(conn, reader, scope.campaign)
    if scope.campaign or scope.countries:
        if scope.campaign:
            wanted = set(ctx)
        if scope.countries:
            chosen = set(scope.countries)
            wanted = {i for i in (wanted if wanted is not None else ctx) if ctx[i][1] & chosen}
    base = _current(conn, reader, scope)
    if wanted is not None and len(wanted) <= 500:
        base = base.where(indicator_value.c.indicator_id.in_(sorted(wanted)))
    found = _pages(conn, base, sorted(scope.kinds) if scope.kinds else sorted(KINDS))
    if wanted is not None:
        found = (r for r in found if r.indicator_id in wanted)
    yield from _merged(found, guard, marks, ctx, at_us or now_us(), scope.min_confidence)


def lookup(conn: Connection, reader: Reader, pairs: Collection[tuple[str, str]],
           skeletons: Collection[str] = (), at_us: int | None = None) -> list[Row]:
    """The values (``pairs`` of kind and value) and the domains with one of ``skeletons``
    that ``reader`` may see, with their campaigns and countries, by the rules of
    :func:`rows` (whole hub scope), ordered by (kind, value); a few values besides those
    asked may come back (kinds IN and values IN). Five statements whatever the number of
    values: the index rows with their objects, the guard's tables, sightings and reports
    of the indicators found."""
    c = indicator_value.c
    terms = []
    if pairs:  # kinds IN and values IN: an index search on both columns (a tuple IN is not)
        terms.append(and_(c.kind.in_(sorted({k for k, _ in pairs})),
                          c.value.in_(sorted({v for _, v in pairs}))))
    if skeletons:
        terms.append(c.skeleton.in_(sorted(set(skeletons))))
    if not terms:
        return []
    found = [r for r in conn.execute(  # is_latest/revoked checked here, not in SQL: as SQL
        select(c.kind, c.value, c.skeleton, c.indicator_id, c.vector,  # terms SQLite chose
               c.confidence, c.valid_from_us, c.valid_until_us,  # the is_latest index and
               c.version_us, c.object_pk, stix_objects.c.tlp,  # scanned every latest object
               stix_objects.c.date_added, stix_objects.c.submitted_key,
               stix_objects.c.is_latest, stix_objects.c.revoked)
        .join(stix_objects, stix_objects.c.pk == c.object_pk)
        .where(or_(*terms), visible(reader))) if r.is_latest and not r.revoked]
    if not found:
        return []
    found.sort(key=lambda r: (r.kind, r.value, r.object_pk))
    ids = {r.indicator_id for r in found}
    guard = Guard.load(conn, reader)
    marks = _sightings(conn, reader, guard, ids)
    ctx = context_of(conn, reader, None, ids)
    return list(_merged(found, guard, marks, ctx, at_us or now_us(), 1))


def _merged(found: Iterable[Any], guard: Guard, marks: dict[str, tuple[int, int, int]],
            ctx: dict[str, tuple[set[str], set[str]]], now: int,
            min_confidence: int) -> Iterator[Row]:
    """One :class:`Row` per distinct value of ``found`` (index rows in (kind, value) order)
    that is not held, flagged, expired or decayed below ``min_confidence``."""
    pending: Row | None = None
    for r in found:
        if guard.holds(r):
            continue
        seen_by, wrong_by, last_seen = marks.get(r.indicator_id, (0, 0, 0))
        if wrong_by or (r.valid_until_us is not None and r.valid_until_us <= now):
            continue
        lifetime, speed = decay_of(r.vector, _DECAY_KIND.get(r.kind, r.kind))
        anchor = max(r.valid_from_us, last_seen)
        score = decayed(max(0, min(100, r.confidence + 10 * seen_by)), now - anchor,
                        lifetime, speed)
        if score < max(1, min_confidence):
            continue
        if pending is not None and (pending.kind, pending.value) == (r.kind, r.value):
            _merge(pending, r, score, ctx)
            continue
        if pending is not None:
            yield pending
        pending = Row(r.kind, r.value, r.skeleton, r.tlp, score, anchor,
                      anchor + int(lifetime * DAY_US), r.version_us)
        _merge(pending, r, score, ctx, first=True)
    if pending is not None:
        yield pending


def _pages(conn: Connection, base: Any, kinds: list[str]) -> Iterator[Any]:
    """``base``'s rows kind by kind, each in (value, object_pk) order, in keyset pages: one
    kind at a time, so the (kind, value) index gives the order (with ``kind IN (…)`` SQLite
    sorted every matching row again for each page)."""
    c = indicator_value.c
    for kind in kinds:
        of_kind = base.where(c.kind == kind)
        after: tuple[str, int] | None = None
        while True:
            query = of_kind if after is None else of_kind.where(
                tuple_(c.value, c.object_pk) > tuple_(*after))
            batch = conn.execute(query.order_by(c.value, c.object_pk).limit(_CHUNK)).all()
            yield from batch
            if len(batch) < _CHUNK:
                break
            after = (batch[-1].value, batch[-1].object_pk)


def _merge(row: Row, r: Any, score: int, ctx: dict[str, tuple[set[str], set[str]]],
           first: bool = False) -> None:
    if not first:
        if _TLP_ORDER.index(r.tlp) > _TLP_ORDER.index(row.tlp):
            row.tlp = r.tlp
        row.confidence = max(row.confidence, score)
        row.first_seen_us = min(row.first_seen_us, r.valid_from_us)
        row.version_us = max(row.version_us, r.version_us)
    row.indicators.append(r.indicator_id)
    camps, places = ctx.get(r.indicator_id, (set(), set()))
    row.campaigns = sorted(set(row.campaigns) | camps)
    row.countries = sorted(set(row.countries) | places)


def export_context(conn: Connection, reader: Reader, scope: Scope,
                   at_us: int | None = None) -> Context:
    """What a renderer of :mod:`bayanihan.share.exports` needs: this hub's rows for
    ``reader`` (and the campaigns it may see) at ``at_us``."""
    def fetch(s: Scope, context: bool = False) -> Iterator[Row]:
        return rows(conn, reader, s, context=context, at_us=at_us)

    def campaigns() -> set[str]:
        return {c for camps, _ in context_of(conn, reader).values() for c in camps}

    def pages(s: Scope, kind: str) -> Iterator[list[str]]:
        from bayanihan.correlate.value_pages import value_pages  # it reads this module

        if s.campaign or s.countries:  # scoped through the reports: the full row source
            return (page for row in rows(conn, reader, s, at_us=at_us) for page in [[row.value]])
        return value_pages(conn, reader, s, kind, at_us=at_us)

    return Context(conn, reader, scope, fetch, at_us or now_us(), campaigns, pages)
