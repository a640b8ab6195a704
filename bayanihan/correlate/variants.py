"""Variant links for polymorphic malware: a TLSH nearest-neighbour index in database tables.

``VariantIndex.add`` stores a sample's digest with its band keys; ``VariantIndex.near`` reads,
in one SQL statement, the digests sharing a band key within the log-length window the distance
allows, checks each with ``tlsh.diff`` and returns them by distance with their link band.
Methods take the caller's ``Connection`` and never commit. Recall is not exact: see
``tlsh_bands`` for when a near digest can be missed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import tlsh
from sqlalchemy import Connection, Select, Table, and_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from bayanihan.correlate.tables_variants import KEY_COLUMNS, variant_digest, variant_object
from bayanihan.correlate.tlsh_bands import (
    ParsedDigest,
    VariantDigestError,
    digest_text,
    lvalue_window,
    parse_digest,
)

__all__ = ["VariantBands", "VariantDigestError", "VariantIndex", "VariantMatch"]

Band = Literal["auto", "review", "none"]
_CHUNK = 500
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class VariantBands:
    """TLSH distance bands (published TLSH results): link at or below ``auto_link``, ask an
    analyst up to ``review``, never link above ``never_above``."""

    auto_link: int = 30
    review: int = 70
    never_above: int = 100

    def __post_init__(self) -> None:
        if not 0 <= self.auto_link <= self.review <= self.never_above:
            raise ValueError(
                "variant bands: need 0 <= auto_link <= review <= never_above, got "
                f"{self.auto_link}, {self.review}, {self.never_above}"
            )

    def band(self, distance: int) -> Band:
        """The link band a TLSH distance falls in."""
        if distance <= self.auto_link:
            return "auto"
        return "review" if distance <= self.review else "none"


@dataclass(frozen=True, slots=True)
class VariantMatch:
    """A known object whose digest lies within the asked distance."""

    object_ref: str
    digest: str
    distance: int
    band: Band


def _near_statement(wrapped: bool) -> Select[tuple[int, bytes, str]]:
    """One SELECT: digests sharing any band key, inside the log-length window, with objects."""
    lo, hi, lv = bindparam("lo"), bindparam("hi"), variant_digest.c.lvalue
    window = or_(lv >= lo, lv <= hi) if wrapped else lv.between(lo, hi)
    match = or_(*(and_(variant_digest.c[k] == bindparam(k), window) for k in KEY_COLUMNS))
    return (
        select(variant_digest.c.id, variant_digest.c.digest, variant_object.c.object_ref)
        .join(variant_object, variant_object.c.digest_id == variant_digest.c.id)
        .where(match)
    )


_NEAR = _near_statement(False)
_NEAR_WRAPPED = _near_statement(True)


def _insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING for the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _chunks(items: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class VariantIndex:
    """Known TLSH digests, searchable by distance, kept in ``variant_digest``/``variant_object``.

    Holds no connection: every method works inside the caller's transaction.
    """

    def __init__(self, bands: VariantBands | None = None) -> None:
        self.bands = bands or VariantBands()

    def add(self, conn: Connection, object_ref: str, digest: str) -> None:
        """Record that ``object_ref`` has TLSH ``digest`` (idempotent)."""
        self.add_many(conn, [(object_ref, digest)])

    def add_many(self, conn: Connection, items: Iterable[tuple[str, str]]) -> None:
        """Record many ``(object_ref, digest)`` pairs; all are checked before anything is written.

        Raises ``VariantDigestError`` for a bad digest and ``ValueError`` when an object already
        has a different digest; nothing of the call is written then.
        """
        wanted: dict[str, ParsedDigest] = {}
        for n, (ref, value) in enumerate(items):
            if not isinstance(ref, str) or not ref.strip() or len(ref) > 255:
                raise ValueError(f"items[{n}].object_ref: {ref!r} must be 1-255 characters")
            parsed = parse_digest(value, field=f"items[{n}].digest ({ref})")
            if wanted.setdefault(ref, parsed).raw != parsed.raw:
                raise ValueError(f"items[{n}]: object {ref!r} is given two different digests")
        if not wanted:
            return
        self._check_known_objects(conn, wanted)
        distinct = {p.raw: p for p in wanted.values()}
        conn.execute(
            _insert(conn, variant_digest),
            [
                {"digest": p.raw, "lvalue": p.lvalue, **dict(zip(KEY_COLUMNS, p.keys, strict=True))}
                for p in distinct.values()
            ],
        )
        ids: dict[bytes, int] = {}
        for part in _chunks(list(distinct)):
            rows = conn.execute(
                select(variant_digest.c.digest, variant_digest.c.id).where(
                    variant_digest.c.digest.in_(part)
                )
            )
            ids.update((bytes(raw), id_) for raw, id_ in rows)
        conn.execute(
            _insert(conn, variant_object),
            [{"object_ref": ref, "digest_id": ids[p.raw]} for ref, p in wanted.items()],
        )

    def _check_known_objects(self, conn: Connection, wanted: dict[str, ParsedDigest]) -> None:
        """Refuse to re-point an object that already has another digest."""
        for part in _chunks(list(wanted)):
            rows = conn.execute(
                select(variant_object.c.object_ref, variant_digest.c.digest)
                .join(variant_digest, variant_digest.c.id == variant_object.c.digest_id)
                .where(variant_object.c.object_ref.in_(part))
            )
            for ref, raw in rows:
                if bytes(raw) != wanted[ref].raw:
                    raise ValueError(
                        f"object {ref!r} already has TLSH {digest_text(bytes(raw))}, "
                        f"not {wanted[ref].text}"
                    )

    def near(
        self, conn: Connection, digest: str, max_distance: int | None = None
    ) -> list[VariantMatch]:
        """Known objects whose digest is within ``max_distance`` (default: the review band)
        of ``digest``, nearest first, each with its band."""
        limit = self.bands.review if max_distance is None else max_distance
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"max_distance: {max_distance!r} must be a non-negative integer")
        if limit > self.bands.never_above:
            raise ValueError(
                f"max_distance: {limit} is above the never-link bound {self.bands.never_above}"
            )
        query = parse_digest(digest)
        width = lvalue_window(limit)
        lo, hi = (query.lvalue - width) % 256, (query.lvalue + width) % 256
        if width >= 128:  # every log-length is within reach
            lo, hi = 0, 255
        params = dict(zip(KEY_COLUMNS, query.keys, strict=True))
        params.update(lo=lo, hi=hi)
        statement = _NEAR if lo <= hi else _NEAR_WRAPPED
        checked: dict[int, tuple[str, int]] = {}
        matches: list[VariantMatch] = []
        for id_, raw, ref in conn.execute(statement, params):
            if id_ not in checked:
                text = digest_text(bytes(raw))
                checked[id_] = (text, tlsh.diff(query.text, text))
            text, distance = checked[id_]
            if distance <= limit:
                matches.append(VariantMatch(ref, text, distance, self.bands.band(distance)))
        matches.sort(key=lambda m: (m.distance, m.object_ref))
        return matches

