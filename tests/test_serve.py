"""`bayanihan serve` with no database option: SQLite in the current directory, first start."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_starts_on_sqlite_in_the_current_directory(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BAYANIHAN_")}
    proc = subprocess.Popen([sys.executable, "-m", "bayanihan", "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert proc.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        assert health.json()["database"] == "sqlite"
        assert (tmp_path / "bayanihan.db").is_file()
        key_file = tmp_path / "bayanihan-admin.key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text().strip()
        orgs = httpx.get(f"http://127.0.0.1:{port}/api/v1/admin/orgs",
                         headers={"Authorization": f"Bearer {key}"}).json()["orgs"]
        assert [o["code"] for o in orgs] == ["HUB"]
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert key not in out.decode()  # the key is in the file, never in the log
    assert "bayanihan-admin.key" in out.decode()
