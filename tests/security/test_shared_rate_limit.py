"""The per-key write limit holds across server processes on PostgreSQL: two hubs over one
database allow the limit, not twice it (issue 13, load: bayanihan/api/ratelimit.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.store import audit, keys
from tests.conftest import PostgresDatabases, need, seed, serve
from tests.stixgen import bundle, indicator


@pytest.fixture
def two_hubs(postgres: PostgresDatabases | None,
             tmp_path: Path) -> Iterator[tuple[Hub, list[str]]]:
    """Two hubs (as two ``bayanihan serve`` processes would be) over one PostgreSQL
    database, each served on loopback, with a write limit of 5 a minute."""
    need("PostgreSQL (BAYANIHAN_TEST_PG_URL)", postgres is not None)
    assert postgres is not None
    name, url = postgres.create()
    settings = Settings(database_url=url, data_dir=str(tmp_path), key_cache_seconds=0.0,
                        write_requests_per_minute=5)
    running: list[tuple[Hub, Any, Any, str]] = []
    try:
        for n in range(2):
            hub = Hub(settings)
            hub.open()
            if n == 0:
                seed(hub)
            running.append((hub, *serve(hub)))
        yield running[0][0], [base for _, _, _, base in running]
    finally:
        for hub, server, thread, _ in running:
            server.should_exit = True
            thread.join(timeout=10)
            hub.close()
        postgres.drop(name)


def test_two_processes_share_one_write_limit_per_key(two_hubs: tuple[Hub, list[str]]) -> None:
    hub, urls = two_hubs
    key, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.ANALYST)
    other, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "VN", keys.Role.ANALYST)
    clients = [httpx.Client(base_url=u, headers={"Authorization": f"Bearer {key}"}, timeout=30)
               for u in urls]
    try:
        codes = []
        for n in range(8):  # alternating between the two processes
            r = clients[n % 2].post("/api/v1/objects", json=bundle(indicator(n)))
            codes.append(r.status_code)
            if r.status_code == 429:
                assert int(r.headers["Retry-After"]) >= 1
        assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3  # 5 in all, not 5 each
        with httpx.Client(base_url=urls[1], timeout=30,
                          headers={"Authorization": f"Bearer {other}"}) as vn:
            assert vn.post("/api/v1/objects", json=bundle(indicator(99))).status_code == 200
    finally:
        for c in clients:
            c.close()
