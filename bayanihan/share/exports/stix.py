"""A STIX 2.1 bundle of the indicators behind the exported values, as stored (each keeps
its own ``object_marking_refs``), streamed: the bundle's envelope, then each indicator's
stored JSON once."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from sqlalchemy import select

from bayanihan.share.exports.formats import Context, Format
from bayanihan.share.policy import visible
from bayanihan.store.schema import stix_objects

__all__ = ["stix_bundle"]


def _bodies(ctx: Context, ids: list[str]) -> list[str]:
    rows = ctx.conn.execute(  # is_latest/revoked checked here: as SQL terms, SQLite chose
        select(stix_objects.c.id, stix_objects.c.body, stix_objects.c.is_latest,  # their
               stix_objects.c.revoked)  # index and scanned every latest object
        .where(stix_objects.c.id.in_(ids), visible(ctx.reader, stix_objects))).all()
    found = {r.id: r.body for r in rows if r.is_latest and not r.revoked}
    return [found[i] for i in ids if i in found]


def stix_bundle(ctx: Context, fmt: Format) -> Iterator[str]:
    yield f'{{"type":"bundle","id":"bundle--{uuid.uuid4()}","objects":['
    emitted: set[str] = set()
    pending: list[str] = []
    first = True
    for row in ctx.fetch(ctx.scope):
        for ind in row.indicators:
            if ind not in emitted:
                emitted.add(ind)
                pending.append(ind)
        if len(pending) >= 500:
            for body in _bodies(ctx, pending):
                yield ("" if first else ",") + body
                first = False
            pending.clear()
    for body in _bodies(ctx, pending):
        yield ("" if first else ",") + body
        first = False
    yield "]}"
