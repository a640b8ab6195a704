"""SQLite's query planner gets table statistics at every start (a sampled ANALYZE): without
them it picked an index that scanned every object version for the overview's lists."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.store import audit
from bayanihan.store import organisations as orgs


def test_a_restarted_hub_has_planner_statistics(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'hub.db'}", data_dir=str(tmp_path))
    hub = Hub(settings)
    hub.open()
    hub.db.write_sync(orgs.seed_asean, audit.Actor.console())  # identities, audit entries
    hub.close()

    hub = Hub(settings)
    hub.open()
    hub.close()
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        analysed = {row[0]: row[1] for row in conn.execute("SELECT tbl, stat FROM sqlite_stat1")}
    assert {"stix_objects", "organisations", "audit_log"} <= set(analysed)
    assert int(analysed["organisations"].split()[0]) >= 12  # the hub and the eleven members
