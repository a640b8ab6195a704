"""Hubs served with the real-time router and tunable real-time settings.

``live_hub(**overrides)`` is ``make_hub`` plus the real-time settings of
``bayanihan.share.stream.REALTIME_SETTINGS`` (scaled down in tests: short backoff,
short keep-alive). It includes the real-time router when the app does not yet.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import field, fields, make_dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from bayanihan.api.app import create_app
from bayanihan.api.stream import router as stream_router
from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.share.stream import REALTIME_SETTINGS
from tests.conftest import RunningHub, _Server, seed
from tests.realtime.sse import Listener

TunedSettings = make_dataclass(
    "TunedSettings",
    [(name, type(default), field(default=default)) for name, (default, _) in REALTIME_SETTINGS.items()
     if not hasattr(Settings, name)],
    bases=(Settings,), frozen=True)


def serve_realtime(hub: Hub) -> tuple[_Server, threading.Thread, str]:
    app = create_app(hub.settings, hub)
    if not any(getattr(r, "path", "") == "/api/v1/stream" for r in app.routes):
        app.include_router(stream_router)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def live_hub(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    """``live_hub(seeded=True, **settings)`` -> a hub with streams and webhooks on loopback."""
    running: list[tuple[RunningHub, _Server, threading.Thread]] = []

    def factory(seeded: bool = True, **overrides: Any) -> RunningHub:
        values = {f.name: getattr(settings, f.name) for f in fields(settings)}
        values.update(webhook_allow_networks="127.0.0.0/8", stream_keepalive_seconds=0.25)
        values.update(overrides)
        the_hub = Hub(TunedSettings(**values))
        the_hub.open()
        if seeded:
            seed(the_hub)
        server, thread, url = serve_realtime(the_hub)
        rh = RunningHub(the_hub, url)
        running.append((rh, server, thread))
        return rh

    yield factory
    Listener.close_all()
    for rh, server, thread in running:
        rh.close()
        server.should_exit = True
        thread.join(timeout=10)
        rh.hub.close()
