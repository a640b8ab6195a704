"""SIGKILL a real `bayanihan serve` while it takes message batches: after a restart every
acknowledged message is stored, folded and linked, and no batch is half-stored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.messages.tables import message_cluster, message_link, message_raw
from bayanihan.store import audit, keys
from tests.conftest import seed
from tests.messages.conftest import LURE, message
from tests.test_serve import free_port

BATCH = 200


def start(url: str, workdir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYANIHAN_")}
    proc = subprocess.Popen([sys.executable, "-m", "bayanihan", "serve", "--port", str(port),
                             "--database", url], cwd=workdir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300  # a guard against a hub that never starts
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.2)


def batch(n: int) -> list[dict[str, object]]:
    names = ("คุณสมชาย", "คุณวิภา", "คุณอนันต์", "คุณมาลี")
    return [message(f"เรียน{names[j % 4]} " + LURE.replace("24", str(j % 48)),
                    sender=f"08{(n * BATCH + j) % 10**8:08d}", reporter_ref=f"b{n}-{j}")
            for j in range(BATCH)]


@pytest.mark.timeout(1200)  # two starts and a load on a busy 2-core machine
def test_sigkill_during_intake_loses_no_acknowledged_message(
        database_url: str, tmp_path: Path) -> None:
    hub = Hub(Settings(database_url=database_url, data_dir=str(tmp_path)))
    hub.open()
    seed(hub)
    th, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "TH", keys.Role.ANALYST)
    vn, _ = hub.db.write_sync(keys.create, audit.Actor.console(), "VN", keys.Role.ANALYST)
    hub.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start(database_url, tmp_path, port)
    acked: list[int] = []
    try:
        made = httpx.post(base + "/api/v1/reports", timeout=60, headers={
            "Authorization": f"Bearer {vn}"}, json={
            "vector": "phishing", "channel": "sms", "title": "SCB suspension SMS",
            "lures": [LURE], "countries": ["TH"], "tlp": "green"})
        assert made.status_code == 201, made.text
        report_id = made.json()["id"]

        def load() -> None:
            with httpx.Client(base_url=base, timeout=60,
                              headers={"Authorization": f"Bearer {th}"}) as client:
                for n in range(10_000):
                    try:
                        r = client.post("/api/v1/messages", json=batch(n))
                    except httpx.HTTPError:
                        return  # the server died under us
                    if r.status_code != 200:
                        return
                    acked.append(n)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        deadline = time.monotonic() + 600  # however slow the machine: 5 acknowledged
        while len(acked) < 5 and time.monotonic() < deadline and loader.is_alive():
            time.sleep(0.05)
        assert len(acked) >= 5, "intake too slow or failing"
        time.sleep(0.137)  # somewhere inside a batch, most likely
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        loader.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    proc = start(database_url, tmp_path, port)  # the hub is back
    try:
        hub = Hub(Settings(database_url=database_url, data_dir=str(tmp_path)))
        try:
            def check(conn):  # type: ignore[no-untyped-def]
                refs = {r for (r,) in conn.execute(select(message_raw.c.reporter_ref))}
                total = conn.execute(select(func.sum(message_cluster.c.count))).scalar()
                unlinked = conn.execute(select(func.count()).select_from(message_raw).where(
                    message_raw.c.cluster_id.not_in(select(message_link.c.cluster_id).where(
                        message_link.c.report_id == report_id)))).scalar()
                return refs, total, unlinked
            refs, total, unlinked = hub.db.read_sync(check)
        finally:
            hub.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    wanted = {f"b{n}-{j}" for n in acked for j in range(BATCH)}
    assert wanted <= refs  # every acknowledged message is there
    assert len(refs) % BATCH == 0  # and no batch half-stored
    assert total == len(refs)  # cluster counts agree with the stored messages
    assert unlinked == 0  # each one linked to the report it copies
