"""The values alone, fast: what the plain lists and RPZ need (issue 15: a million values in
seconds, not the 24 µs each that a :class:`~bayanihan.share.exports.formats.Row` per value
costs).

The same rules as :func:`bayanihan.correlate.value_rows.rows` — the same query
(``_current``: policy, latest and unrevoked versions, kinds, vectors, since, TLP levels) —
with the cheap rules moved into SQL (expiry, quarantined keys) and the rest done on plain
tuples: one statement per keyset page of ``_PAGE`` rows (value, object_pk, vector,
confidence, valid_from), fetched through the DB-API cursor. Decay is a comparison: for
each (vector, confidence) the oldest ``valid_from`` that still decays to at least the
minimum confidence is found once (decay is monotonic in age, so a binary search over the
age gives the exact cut). Indicators with sightings the reader may see (or flags of its
own) take the full rule of ``rows``; protected values are tested by suffix look-ups.
``tests/exports/test_value_pages.py`` holds the two paths to the same output.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, and_, bindparam, or_, select

from bayanihan.correlate.guard import Guard
from bayanihan.correlate.sightings import DAY_US, decay_of, decayed
from bayanihan.correlate.tables_values import indicator_value
from bayanihan.correlate.value_rows import _current, _sightings
from bayanihan.model.stix import now_us
from bayanihan.share.exports.formats import Scope
from bayanihan.share.policy import Reader
from bayanihan.store.schema import stix_objects

__all__ = ["value_pages"]

_PAGE = 20_000
_DECAY_KIND = {"sha256": "file", "tlsh": "file"}


def _oldest(kind: str, vector: str | None, confidence: int, minimum: int, now: int) -> float:
    """The oldest ``valid_from`` at which an indicator without sightings still has
    ``minimum`` confidence (``inf``: never)."""
    lifetime, speed = decay_of(vector, _DECAY_KIND.get(kind, kind))
    score = max(0, min(100, confidence))
    if decayed(score, 0, lifetime, speed) < minimum:
        return float("inf")
    good, bad = 0, int(lifetime * DAY_US) + 1  # decayed() is 0 at the lifetime
    while bad - good > 1:
        mid = (good + bad) // 2
        if decayed(score, mid, lifetime, speed) >= minimum:
            good = mid
        else:
            bad = mid
    return now - good


def _statement(conn: Connection, reader: Reader, scope: Scope, kind: str, now: int,
               quarantined: set[str], after: bool) -> Any:
    """The compiled statement of one page (``after``: the pages after the first)."""
    c, so = indicator_value.c, stix_objects.c
    query = _current(conn, reader, scope).with_only_columns(
        c.value, c.object_pk, c.vector, c.confidence, c.valid_from_us,
        maintain_column_froms=True).where(
        c.kind == kind, or_(c.valid_until_us.is_(None), c.valid_until_us > now))
    if quarantined:
        query = query.where(or_(so.submitted_key.is_(None),
                                so.submitted_key.not_in(sorted(quarantined))))
    if after:
        v, pk = bindparam("after_value", ""), bindparam("after_pk", 0)
        query = query.where(c.value >= v, or_(c.value > v, and_(c.value == v, c.object_pk > pk)))
    return query.order_by(c.value, c.object_pk).limit(_PAGE).compile(dialect=conn.dialect)


def _run(conn: Connection, compiled: Any, values: dict[str, Any]) -> list[tuple[Any, ...]]:
    """One page as plain tuples, through the DB-API cursor (no Row objects)."""
    state = compiled.construct_expanded_state(values)  # IN lists written out
    args = state.positional_parameters if compiled.positional else state.parameters
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(state.statement, args)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def value_pages(conn: Connection, reader: Reader, scope: Scope, kind: str, *,
                at_us: int | None = None) -> Iterator[list[str]]:
    """The distinct values of ``kind`` that ``reader`` may see within ``scope`` (no campaign
    or country scope: those go through ``rows``), in value order, a page at a time."""
    now = at_us or now_us()
    minimum = max(1, scope.min_confidence)
    if conn.dialect.name == "postgresql":
        # the planner's cost of a page crosses the JIT thresholds, and compiling each page's
        # statement with inlining took longer than running it (200k values: 2.4 s against 0.3)
        conn.exec_driver_sql("SET LOCAL jit = off")
    guard = Guard.load(conn, reader)
    marks = _sightings(conn, reader, guard)
    marked = _pks(conn, marks)
    held = guard.value_test(kind)
    flagged = {v for k, v in guard.flagged if k == kind}
    cuts: dict[tuple[str | None, int], float] = {}
    first = _statement(conn, reader, scope, kind, now, guard.quarantined_keys, False)
    then = None
    after: tuple[str, int] | None = None
    last = None
    while True:
        if after is None:
            batch = _run(conn, first, {})
        else:
            then = then or _statement(conn, reader, scope, kind, now, guard.quarantined_keys,
                                      True)
            batch = _run(conn, then, {"after_value": after[0], "after_pk": after[1]})
        out: list[str] = []
        for value, pk, vector, confidence, valid_from in batch:
            if value == last:
                continue
            if pk in marked:
                seen_by, wrong_by, last_seen = marked[pk]
                if wrong_by:
                    continue
                lifetime, speed = decay_of(vector, _DECAY_KIND.get(kind, kind))
                anchor = max(valid_from, last_seen)
                if decayed(max(0, min(100, confidence + 10 * seen_by)), now - anchor,
                           lifetime, speed) < minimum:
                    continue
            else:
                cut = cuts.get((vector, confidence))
                if cut is None:
                    cut = cuts[(vector, confidence)] = _oldest(kind, vector, confidence,
                                                               minimum, now)
                if valid_from < cut:
                    continue
            if (held is not None and held(value)) or value in flagged:
                continue
            out.append(value)
            last = value
        if out:
            yield out
        if len(batch) < _PAGE:
            return
        after = (batch[-1][0], batch[-1][1])


def _pks(conn: Connection, marks: dict[str, tuple[int, int, int]],
         ) -> dict[int, tuple[int, int, int]]:
    """The sighting marks of ``marks`` (by indicator id) by the index rows' object_pk."""
    out: dict[int, tuple[int, int, int]] = {}
    ids = sorted(marks)
    for start in range(0, len(ids), 500):
        for pk, ind in conn.execute(select(indicator_value.c.object_pk,
                                           indicator_value.c.indicator_id).where(
                indicator_value.c.indicator_id.in_(ids[start:start + 500]))):
            out[pk] = marks[ind]
    return out
