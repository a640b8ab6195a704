"""Large writes: every row of a big bundle stored once, in order, with its audience."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from sqlalchemy import Connection, select

from bayanihan.hub import Hub
from bayanihan.model.tlp import TLP
from bayanihan.store import audit, keys
from bayanihan.store.bulk import SQLITE_ROWS, select_where_in
from bayanihan.store.schema import events, object_audience, stix_objects
from tests.conftest import seed
from tests.stixgen import bundle, indicator


def stored(conn: Connection) -> tuple[list[Any], list[Any], list[str]]:
    rows = conn.execute(select(stix_objects.c.pk, stix_objects.c.id, stix_objects.c.date_added)
                        .where(stix_objects.c.type == "indicator")
                        .order_by(stix_objects.c.date_added)).all()
    audience = conn.execute(select(object_audience)).all()
    announced = conn.execute(select(events.c.object_id).where(events.c.kind == "object.stored")
                             .where(events.c.object_id.like("indicator--%"))).scalars().all()
    return rows, audience, list(announced)


def test_a_bundle_larger_than_one_statement_is_stored_whole(hub: Hub) -> None:
    seed(hub)
    key, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.ANALYST)
    submitter = hub.db.read_sync(hub.caller_sync, key).submitter
    assert submitter is not None
    count = 2 * SQLITE_ROWS + 234  # three INSERT statements on SQLite, the last one short
    objects = [indicator(n, tlp=TLP.AMBER) for n in range(count)]
    result = asyncio.run(hub.ingest_bundle(orjson.dumps(bundle(*objects)), submitter, ["TH", "VN"]))
    assert result.accepted == count and result.rejected == 0

    rows, audience, announced = hub.db.read_sync(stored)
    assert [r.id for r in rows] == [o["id"] for o in objects]  # bundle order is date order
    assert len({r.date_added for r in rows}) == count
    assert sorted((r.object_pk, r.org) for r in audience) == sorted(
        (r.pk, org) for r in rows for org in ("TH", "VN"))
    assert sorted(announced) == sorted(o["id"] for o in objects)


def test_lookups_by_many_ids_find_exactly_those(hub: Hub) -> None:
    seed(hub)
    ids = hub.db.read_sync(lambda c: c.execute(select(stix_objects.c.id)).scalars().all())
    assert len(ids) > 6
    wanted = [*ids[::2], "indicator--00000000-0000-4000-8000-000000000000"]
    found = hub.db.read_sync(select_where_in, stix_objects, ("id", "type"), "id", wanted, 3)
    assert sorted(r.id for r in found) == sorted(ids[::2])
