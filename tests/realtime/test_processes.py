"""Two real ``bayanihan serve`` processes on one PostgreSQL database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.store import audit, keys
from tests.conftest import PostgresDatabases, need, seed
from tests.realtime.serve import start, stop
from tests.realtime.sse import Listener
from tests.stixgen import bundle, indicator


@pytest.fixture
def pg_url(postgres: PostgresDatabases | None) -> Iterator[str]:
    need("PostgreSQL (BAYANIHAN_TEST_PG_URL)", postgres is not None)
    assert postgres is not None
    name, url = postgres.create()
    yield url
    postgres.drop(name)


@pytest.mark.slow
def test_an_event_committed_by_one_process_reaches_subscribers_of_another(
        pg_url: str, tmp_path: Path) -> None:
    hub = Hub(Settings(database_url=pg_url, data_dir=str(tmp_path)))
    hub.open()
    seed(hub)
    console = audit.Actor.console()
    th_key, _ = hub.db.write_sync(keys.create, console, "TH", keys.Role.ANALYST)
    vn_key, _ = hub.db.write_sync(keys.create, console, "VN", keys.Role.READER)
    hub.close()
    procs = start(pg_url, tmp_path, count=2)
    try:
        (_, a), (_, b) = procs
        on_b = Listener(b, vn_key)
        on_a = Listener(a, vn_key)
        for n, (target, listeners) in enumerate([(a, (on_b, on_a)), (b, (on_a, on_b))]):
            obj = indicator(n)
            posted = time.perf_counter()
            r = httpx.post(target + "/api/v1/objects", json=bundle(obj),
                           headers={"Authorization": f"Bearer {th_key}"})
            assert r.status_code == 200, r.text
            for listener in listeners:
                assert listener.wait_for_object(obj["id"], timeout=10)
                frame = next(f for f in listener.frames if f.data["object_id"] == obj["id"])
                assert frame.received - posted < 2.0  # woken by NOTIFY, not the 5 s poll
        for listener in (on_a, on_b):
            ids = [f.data["object_id"] for f in listener.events()]
            assert ids == [indicator(0)["id"], indicator(1)["id"]]
        # SIGTERM with streams open: the streams end and the processes stop promptly
        for proc, _ in procs:
            proc.terminate()
        for proc, _ in procs:
            proc.wait(10)
        on_a.wait_closed()
        on_b.wait_closed()
    finally:
        for proc, _ in procs:
            stop(proc)
