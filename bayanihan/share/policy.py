"""The access policy: who may read what, under TLP 2.0. Every path out goes through here.

=============  ==================================================================
TLP            who reads it (the author organisation always reads its own)
=============  ==================================================================
CLEAR          anyone, unauthenticated readers included
GREEN          every authenticated organisation of the hub
AMBER          the audience and the downstream organisations of audience members;
               the default audience is every member organisation
AMBER+STRICT   the audience only (default: every member organisation), no downstream
RED            only the organisations the author named; never downstream, never public
=============  ==================================================================

:func:`may_see` decides for one object (events, derived data); :func:`visible` is the
same rule as a SQL condition for queries. ``tests/share/test_policy_matrix.py`` holds
both to the table above.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select, true

from bayanihan.model.members import OrgKind
from bayanihan.model.tlp import TLP
from bayanihan.store.schema import object_audience, stix_objects


@dataclass(frozen=True)
class Reader:
    """Who is asking: an organisation (with its kind and parent), or the public."""

    org: str | None = None
    kind: OrgKind | None = None
    parent: str | None = None
    parent_kind: OrgKind | None = None
    role: str | None = None
    key_id: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.org is not None

    @property
    def in_default_amber(self) -> bool:
        """Members, and downstream organisations of members."""
        return self.kind is OrgKind.MEMBER or (
            self.kind is OrgKind.DOWNSTREAM and self.parent_kind is OrgKind.MEMBER
        )

    @property
    def in_default_strict(self) -> bool:
        return self.kind is OrgKind.MEMBER

    def amber_names(self) -> list[str]:
        """Audience entries that admit this reader to AMBER: itself and its parent."""
        names = [self.org] if self.org else []
        if self.kind is OrgKind.DOWNSTREAM and self.parent:
            names.append(self.parent)
        return names


PUBLIC = Reader()

#: The one rule for writing, on every path (JSON API, reports, TAXII, campaigns, webhooks):
#: an analyst or admin key of a member, partner or the hub operator. Downstream and
#: observer organisations consume; they report through their member CERT.
WRITER_ROLES = ("analyst", "admin")
WRITER_KINDS = (OrgKind.MEMBER, OrgKind.PARTNER, OrgKind.HUB)


def may_write(reader: Reader, role: str | None) -> bool:
    """Whether a key of ``role`` held by ``reader``'s organisation may write."""
    return role in WRITER_ROLES and reader.kind in WRITER_KINDS


def may_see(reader: Reader, tlp: str, author_org: str | None,
            audience: Sequence[str] | None) -> bool:
    """Whether ``reader`` may see an object (or anything derived from it)."""
    level = TLP(tlp)
    if level is TLP.CLEAR:
        return True
    if not reader.authenticated:
        return False
    if author_org is not None and author_org == reader.org:
        return True
    if level is TLP.GREEN:
        return True
    if level is TLP.AMBER:
        if audience is None:
            return reader.in_default_amber
        return any(name in audience for name in reader.amber_names())
    if level is TLP.AMBER_STRICT:
        return reader.in_default_strict if audience is None else reader.org in audience
    # RED
    return audience is not None and reader.org in audience and reader.kind is not OrgKind.DOWNSTREAM


def visible(reader: Reader, table: Table = stix_objects) -> ColumnElement[bool]:
    """SQL condition true for the rows of ``table`` that ``reader`` may see.

    ``table`` has the columns ``tlp``, ``author_org``, ``audience`` and ``pk`` of
    :data:`bayanihan.store.schema.stix_objects`. The condition depends on nothing but
    ``reader`` (a frozen value) and ``table``, so it is built once per pair and kept
    (building it took about 0.5 ms, several times per check call).
    """
    return _visible(reader, table)


@lru_cache(maxsize=1024)
def _visible(reader: Reader, table: Table) -> ColumnElement[bool]:
    tlp = table.c.tlp
    if not reader.authenticated:
        return tlp == TLP.CLEAR.value

    def named(names: list[str]) -> ColumnElement[bool]:
        if not names:
            return false()
        return exists(
            select(object_audience.c.org).where(
                object_audience.c.object_pk == table.c.pk, object_audience.c.org.in_(names)
            )
        )

    default = table.c.audience.is_(None)
    amber = and_(
        tlp == TLP.AMBER.value,
        or_(and_(default, true() if reader.in_default_amber else false()),
            and_(~default, named(reader.amber_names()))),
    )
    strict = and_(
        tlp == TLP.AMBER_STRICT.value,
        or_(and_(default, true() if reader.in_default_strict else false()),
            and_(~default, named([reader.org] if reader.org else []))),
    )
    clauses = [tlp.in_([TLP.CLEAR.value, TLP.GREEN.value]), table.c.author_org == reader.org,
               amber, strict]
    if reader.kind is not OrgKind.DOWNSTREAM:
        clauses.append(and_(tlp == TLP.RED.value, ~default, named([reader.org or ""])))
    return or_(*clauses)
