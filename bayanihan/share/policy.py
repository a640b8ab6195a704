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

from functools import lru_cache

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select, true

from bayanihan.model.access import (
    PUBLIC,
    WRITER_KINDS,
    WRITER_ROLES,
    Reader,
    may_see,
    may_write,
)
from bayanihan.model.members import OrgKind
from bayanihan.model.tlp import TLP
from bayanihan.store.schema import object_audience, stix_objects

__all__ = ["PUBLIC", "WRITER_KINDS", "WRITER_ROLES", "Reader", "may_see", "may_write",
           "visible"]


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
