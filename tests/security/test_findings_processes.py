"""Issue 13: after ``kill -9`` of the server its validation worker and the multiprocessing
resource tracker lived on forever (18 orphans, 1.2 GB after 9 kills). They now end with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

import bayanihan
from tests.conftest import need
from tests.stixgen import bundle, indicator
from tests.test_serve import free_port


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_no_worker_outlives_a_killed_server(tmp_path: Path) -> None:
    # one core: the hub starts no validation worker, so there is nothing to orphan; in CI
    # (CI=true) a missing /proc or a single core fails instead of skipping
    need("/proc and two cores (the validation worker starts only with two)",
         Path("/proc").is_dir() and (os.cpu_count() or 1) >= 2)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYANIHAN_")}
    env["BAYANIHAN_VALIDATION_PROCESSES"] = "1"
    env["PYTHONPATH"] = str(Path(bayanihan.__file__).resolve().parents[1])  # this code
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "bayanihan", "serve", "--port", str(port)],
                              cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 90
        while True:  # up, with its worker (and the resource tracker) started
            workers = descendants(server.pid)
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                up = False
            if up and workers:
                break
            assert server.poll() is None and time.monotonic() < deadline, (
                (tmp_path / "serve.log").read_text()[-2000:])
            time.sleep(0.2)
        # a bundle over 64 KiB goes to the worker: afterwards it is up, idle, waiting for more
        key = (tmp_path / "bayanihan-admin.key").read_text().strip()
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/objects", timeout=120,
                       json=bundle(*(indicator(i) for i in range(300))),
                       headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200, r.text
        workers = descendants(server.pid)
        assert len(workers) >= 2, workers  # the worker and the resource tracker
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
        deadline = time.monotonic() + 60
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in workers if alive(p)], "processes outlived the killed server"
    finally:
        log.close()
        if server.poll() is None:
            server.kill()
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
