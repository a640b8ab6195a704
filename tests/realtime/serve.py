"""Start ``bayanihan serve`` subprocesses that serve the real-time routes.

``python -m tests.realtime.serve serve --port P --database URL`` runs the real CLI with the
real-time router included in the app, for as long as ``create_app`` does not include it
itself (the lead wires it in ``bayanihan/api/app.py``); after that :func:`start` runs
``python -m bayanihan.cli`` directly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]


def stream_router_wired() -> bool:
    """Whether ``create_app`` already serves ``/api/v1/stream``."""
    from bayanihan.api.app import create_app
    from bayanihan.config import Settings

    app = create_app(Settings(database_url="sqlite:////nonexistent/never-opened.db"))
    return any(getattr(r, "path", "") == "/api/v1/stream" for r in app.routes)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(url: str, cwd: Path, count: int = 1, env: dict[str, str] | None = None,
          ) -> list[tuple[subprocess.Popen[bytes], str]]:
    """``count`` ``bayanihan serve`` processes on free loopback ports (started together);
    returns each process with its base URL once all answer ``/healthz``."""
    module = "bayanihan.cli" if stream_router_wired() else "tests.realtime.serve"
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


def with_router(create_app: Callable[..., Any]) -> Callable[..., Any]:
    """``create_app`` that also includes the real-time router when it does not yet."""
    from bayanihan.api.stream import router

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        app = create_app(*args, **kwargs)
        if not any(getattr(r, "path", "") == "/api/v1/stream" for r in app.routes):
            app.include_router(router)
        return app

    return wrapped


if __name__ == "__main__":
    import bayanihan.api.app as app_module
    from bayanihan.cli import main

    app_module.create_app = with_router(app_module.create_app)  # type: ignore[assignment]

    sys.exit(main())
