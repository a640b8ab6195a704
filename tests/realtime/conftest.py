"""Hubs served with the real-time router and tunable real-time settings.

``live_hub(**overrides)`` is ``make_hub`` plus the real-time settings of
``bayanihan.share.stream.REALTIME_SETTINGS`` (scaled down in tests: short backoff,
short keep-alive). Until ``create_app`` includes the real-time router itself, the fixture
has ``tests.conftest.serve`` build apps that include it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import field, fields, make_dataclass
from typing import Any

import pytest

import tests.conftest
from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.share.stream import REALTIME_SETTINGS
from tests.conftest import RunningHub, _Server, seed, serve
from tests.realtime.serve import with_router
from tests.realtime.sse import Listener

TunedSettings = make_dataclass(
    "TunedSettings",
    [(name, type(default), field(default=default)) for name, (default, _) in REALTIME_SETTINGS.items()
     if not hasattr(Settings, name)],
    bases=(Settings,), frozen=True)


@pytest.fixture
def live_hub(settings: Settings, monkeypatch: pytest.MonkeyPatch,
             ) -> Iterator[Callable[..., RunningHub]]:
    """``live_hub(seeded=True, **settings)`` -> a hub with streams and webhooks on loopback."""
    monkeypatch.setattr(tests.conftest, "create_app", with_router(tests.conftest.create_app))
    running: list[tuple[RunningHub, _Server, threading.Thread]] = []

    def factory(seeded: bool = True, **overrides: Any) -> RunningHub:
        values = {f.name: getattr(settings, f.name) for f in fields(settings)}
        values.update(webhook_allow_networks="127.0.0.0/8", stream_keepalive_seconds=0.25)
        values.update(overrides)
        the_hub = Hub(TunedSettings(**values))
        the_hub.open()
        if seeded:
            seed(the_hub)
        server, thread, url = serve(the_hub)
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
