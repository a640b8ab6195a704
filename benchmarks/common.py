"""Shared helpers for benchmark scripts: machine description, a hub process, timing."""

from __future__ import annotations

import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str, env: dict[str, str] | None = None) -> str:
    out = subprocess.run([sys.executable, "-m", "bayanihan.cli", *args], check=True,
                         capture_output=True, text=True, env=env)
    return out.stdout


@contextmanager
def hub_process(database_url: str, workdir: Path, port: int | None = None,
                extra_env: dict[str, str] | None = None) -> Iterator[str]:
    """`bayanihan serve` in a subprocess on loopback; yields its base URL."""
    port = port or free_port()
    env = {**os.environ, "BAYANIHAN_DATA_DIR": str(workdir), **(extra_env or {})}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bayanihan.cli", "serve", "--port", str(port), "--database",
         database_url], cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # a busy machine starts it slowly
    try:
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()  # else reading its stderr waits for a live hub forever
                raise RuntimeError("hub did not start: " + (proc.stderr.read().decode()
                                                            if proc.stderr else ""))
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def postgres_url(name: str) -> str | None:
    """A fresh PostgreSQL database for a benchmark, or None when none is configured.

    Uses BAYANIHAN_BENCH_PG_URL (admin-capable, e.g. …/postgres) or BAYANIHAN_TEST_PG_URL.
    """
    admin = os.environ.get("BAYANIHAN_BENCH_PG_URL") or os.environ.get("BAYANIHAN_TEST_PG_URL")
    if not admin:
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)
