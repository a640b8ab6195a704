"""One answer for every write on an id the caller may read no version of.

The store decides a version's fate from what it holds: a new version of another
organisation's id is refused (only the first submitter adds versions), the same version
with the same content is a *duplicate*, with other content a *conflict*. Told apart, those
answers would let a caller that may not read an object test guesses of its content ("is
this its text? — duplicate") and learn which versions exist. So for a caller that may read
no version of the id, each of them becomes the same refusal, in the words of the ownership
rule (:func:`bayanihan.store.objects.not_yours`), the answer a caller also gets for an id it
may read but did not submit first. What remains visible is only that the id is taken: an id
nobody holds is simply stored (docs/security.md, F16).
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import Connection, select

from bayanihan.model.access import Reader, may_see
from bayanihan.store import organisations as orgs
from bayanihan.store.objects import NewVersion, Outcome, not_yours
from bayanihan.store.schema import stix_objects

__all__ = ["blind"]


def _reader(conn: Connection, org: str) -> Reader | None:
    found = orgs.get(conn, org)
    if found is None:
        return None
    parent = orgs.get(conn, found.parent) if found.parent else None
    return Reader(org=found.code, kind=found.kind, parent=found.parent,
                  parent_kind=parent.kind if parent else None)


def blind(conn: Connection, org: str | None, versions: Sequence[NewVersion]) -> None:
    """Turn the duplicates and conflicts of ``versions`` on ids ``org`` may read no version
    of into the one refusal (after :func:`~bayanihan.store.objects.store_versions`)."""
    settled = [v for v in versions if v.outcome in (Outcome.DUPLICATE, Outcome.CONFLICT)]
    if org is None or not settled:
        return
    reader = _reader(conn, org)
    if reader is None:
        return
    ids = sorted({v.id for v in settled})
    readable: set[str] = set()
    for start in range(0, len(ids), 500):
        for row in conn.execute(select(stix_objects.c.id, stix_objects.c.tlp,
                                       stix_objects.c.author_org, stix_objects.c.audience)
                                .where(stix_objects.c.id.in_(ids[start:start + 500]))):
            if row.id not in readable and may_see(
                    reader, row.tlp, row.author_org,
                    orjson.loads(row.audience) if row.audience else None):
                readable.add(row.id)
    for v in settled:
        if v.id not in readable:
            v.outcome, v.reason = Outcome.CONFLICT, not_yours(v.id)
