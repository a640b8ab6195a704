"""Start real ``bayanihan serve`` subprocesses (several hub processes on one database)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(url: str, cwd: Path, count: int = 1, env: dict[str, str] | None = None,
          ) -> list[tuple[subprocess.Popen[bytes], str]]:
    """``count`` ``bayanihan serve`` processes on free loopback ports (started together);
    returns each process with its base URL once all answer ``/healthz``."""
    module = "bayanihan.cli"
    started = []
    for _ in range(count):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", module, "serve", "--port", str(port), "--database", url],
            cwd=cwd, env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        started.append((proc, f"http://127.0.0.1:{port}"))
    deadline = time.monotonic() + 120
    for proc, base in started:
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                for p, _ in started:
                    p.kill()
                err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
                raise RuntimeError(f"serve did not start: {err}")
            time.sleep(0.1)
    return started


def stop(proc: subprocess.Popen[Any]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
