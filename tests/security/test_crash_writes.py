"""SIGKILL a real ``bayanihan serve`` (two processes on one database on PostgreSQL) while
four kinds of writer hit it at once: object bundles on ``/api/v1/objects``, TAXII
envelopes, webhook registrations and sightings.
After a restart every acknowledged write is present exactly once, with its event in the log,
no bundle is half-stored, the audit chain verifies, and (SQLite) ``PRAGMA integrity_check``
passes. Reports and messages have their own crash tests (tests/reports, tests/messages)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.share.collections import BY_ID
from bayanihan.store import audit, keys
from bayanihan.store.schema import events, stix_objects
from bayanihan.store.tables_realtime import webhook_endpoints
from tests.conftest import seed
from tests.realtime.serve import start, stop
from tests.stixgen import bundle, indicator

TAXII = "application/taxii+json;version=2.1"
REGIONAL = BY_ID["regional"].id
PER_BUNDLE = 20
#: (kind, organisation): one poster thread each, all at once.
WRITERS = (("objects", "TH"), ("taxii", "VN"), ("webhooks", "PH"), ("sightings", "ID"))
#: a loopback port nobody listens on: deliveries fail and are retried, nothing leaves the host
HOOK_URL = "http://127.0.0.1:9/hook"


class Writes:
    """What the hub acknowledged, and every bundle sent (acknowledged or not)."""

    def __init__(self) -> None:
        self.acked: dict[str, list[str]] = {kind: [] for kind, _ in WRITERS}
        self.bundles: list[list[str]] = []
        self.lock = threading.Lock()

    def ack(self, kind: str, ids: list[str]) -> None:
        with self.lock:
            self.acked[kind].extend(ids)


def _one(kind: str, client: httpx.Client, n: int, writes: Writes, target: str) -> None:
    """One write of ``kind``; records what the answer acknowledged."""
    if kind in ("objects", "taxii"):
        objs = [indicator(n * PER_BUNDLE + i, seed=hash((kind, n, i))) for i in range(PER_BUNDLE)]
        with writes.lock:
            writes.bundles.append([o["id"] for o in objs])
        if kind == "objects":
            r = client.post("/api/v1/objects", json=bundle(*objs))
            if r.status_code == 200:
                writes.ack(kind, [x["id"] for x in r.json()["results"] if x["status"] != "rejected"])
        else:
            r = client.post(f"/taxii2/api/collections/{REGIONAL}/objects/",
                            json={"objects": objs},
                            headers={"Content-Type": TAXII, "Accept": TAXII})
            if r.status_code == 202:
                writes.ack(kind, [x["id"] for x in r.json().get("successes", [])])
    elif kind == "webhooks":
        r = client.post("/api/v1/webhooks", json={"url": f"{HOOK_URL}/{n}",
                                                  "filters": {"kinds": ["report"]}})
        if r.status_code == 201:
            writes.ack(kind, [r.json()["id"]])
    else:
        r = client.post("/api/v1/sightings", json={"indicator": target, "verdict": "seen",
                                                   "tlp": "green"})
        if r.status_code == 201:
            writes.ack(kind, [r.json()["id"]])


def _post_until_stopped(base: str, token: str, kind: str, writes: Writes, stop_at: threading.Event,
                        offset: int, target: str) -> None:
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as client:
        n = offset
        while not stop_at.is_set():
            n += 1
            try:
                _one(kind, client, n, writes, target)
            except httpx.HTTPError:
                return  # killed mid-request: not acknowledged


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (the server's validation worker and the like)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _round(db_url: str, cwd: Path, tokens: dict[str, str], writes: Writes, round_: int,
           seconds: float, target: dict[str, Any]) -> None:
    """Start the hub (two processes on one PostgreSQL database, one on SQLite), write from
    every writer at once, spread over the processes, and SIGKILL every process mid-load."""
    count = 1 if db_url.startswith("sqlite") else 2
    started = start(db_url, cwd, count=count,
                    env={"BAYANIHAN_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"})
    bases = [base for _, base in started]
    if round_ == 0:  # the indicator every sighting is of
        r = httpx.post(bases[0] + "/api/v1/objects", json=bundle(target), timeout=60,
                       headers={"Authorization": f"Bearer {tokens['objects']}"})
        assert r.status_code == 200, r.text
    stop_at = threading.Event()
    threads = [threading.Thread(target=_post_until_stopped, args=(
        bases[i % count], tokens[kind], kind, writes, stop_at, round_ * 100_000, target["id"]))
        for i, (kind, _) in enumerate(WRITERS)]
    children: list[int] = []
    try:
        for t in threads:
            t.start()
        before = {k: len(v) for k, v in writes.acked.items()}
        time.sleep(seconds)
        deadline = time.monotonic() + 120
        while (any(len(writes.acked[k]) == before[k] for k in before)
               and time.monotonic() < deadline):
            time.sleep(0.1)  # a slow machine: something of every kind acknowledged first
        for proc, _ in started:
            children += _children(proc.pid)
            proc.kill()  # SIGKILL: no shutdown of any kind
        for proc, _ in started:
            proc.wait(30)
    finally:
        stop_at.set()
        for t in threads:
            t.join(90)
        for proc, _ in started:
            if proc.poll() is None:
                stop(proc)
    for pid in children:  # the killed servers' own workers: ours to end
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three kill rounds and a restart on a busy 2-core machine
def test_sigkill_during_writes_loses_nothing_acknowledged(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=str(tmp_path))
    hub = Hub(settings)
    hub.open()
    seed(hub)
    console = audit.Actor.console()
    tokens = {kind: hub.db.write_sync(keys.create, console, org, keys.Role.ANALYST)[0]
              for kind, org in WRITERS}
    hub.close()
    target = indicator(0, seed=4242)
    writes = Writes()
    for round_ in range(3):
        _round(database_url, tmp_path, tokens, writes, round_, 0.5 + 0.7 * round_, target)
    assert all(writes.acked.values()), {k: len(v) for k, v in writes.acked.items()}

    check = Hub(settings)
    check.open()  # what a restart sees, with no operator action
    try:
        def counts(conn: object) -> tuple[Counter[str], set[str], set[str], object, str]:
            rows = Counter(conn.execute(select(stix_objects.c.id)).scalars())  # type: ignore[attr-defined]
            hooks = set(conn.execute(select(webhook_endpoints.c.id)).scalars())  # type: ignore[attr-defined]
            evented = set(conn.execute(select(events.c.object_id).where(  # type: ignore[attr-defined]
                events.c.object_id.is_not(None))).scalars())
            problem = audit.verify(conn)  # type: ignore[arg-type]
            integrity = "ok"
            if check.db.is_sqlite:
                integrity = conn.execute(text("PRAGMA integrity_check")).scalar_one()  # type: ignore[attr-defined]
            return rows, hooks, evented, problem, integrity

        rows, hooks, evented, problem, integrity = check.db.read_sync(counts)
        total = check.db.read_sync(lambda c: c.execute(
            select(func.count()).select_from(stix_objects)).scalar_one())
    finally:
        check.close()
    stored = [i for k in ("objects", "taxii", "sightings") for i in writes.acked[k]]
    assert [i for i in stored if rows[i] != 1] == []  # present, exactly once
    assert [i for i in stored if i not in evented] == []  # and announced in the event log
    assert set(writes.acked["webhooks"]) <= hooks
    # a bundle is one transaction: all of it or none of it, acknowledged or not
    assert [b for b in writes.bundles if sum(rows[i] > 0 for i in b) not in (0, len(b))] == []
    assert problem is None
    assert integrity == "ok"
    assert total == sum(rows.values())


def test_children_helper_reads_parent_ids() -> None:
    """The helper the crash test uses to end the killed server's workers reads /proc right."""
    assert os.getpid() not in _children(os.getpid())
    assert os.getpid() in _children(os.getppid())

