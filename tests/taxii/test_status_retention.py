"""Status resources are kept at least ``taxii_status_hours`` (never under 24 h), then dropped."""

from __future__ import annotations

from sqlalchemy import Connection, select

from bayanihan.hub import Hub
from bayanihan.model.stix import now_us
from bayanihan.store.tables_taxii import load_status, save_status, taxii_status

HOUR_US = 3600 * 1_000_000


def test_old_status_resources_are_dropped_young_ones_kept(hub: Hub) -> None:
    def backdate(conn: Connection, status_id: str, hours: float) -> None:
        conn.execute(taxii_status.insert().values(id=status_id, org="HUB", body="{}",
                                                  created_us=now_us() - int(hours * HOUR_US)))

    hub.db.write_sync(backdate, "day-old", 23.5)
    hub.db.write_sync(backdate, "stale", 24.5)
    hub.db.write_sync(save_status, "new", "HUB", '{"id": "new"}', 24)
    ids = hub.db.read_sync(lambda conn: set(conn.execute(select(taxii_status.c.id)).scalars()))
    assert ids == {"day-old", "new"}
    assert hub.db.read_sync(load_status, "new", "HUB") == '{"id": "new"}'
    assert hub.db.read_sync(load_status, "new", "SG") is None  # only the poster's organisation
