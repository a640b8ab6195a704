"""Hubs with real-time settings scaled down for tests (short keep-alive, loopback webhooks).

``live_hub(**overrides)`` is ``make_hub`` with those settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import RunningHub
from tests.realtime.sse import Listener


@pytest.fixture
def live_hub(make_hub: Callable[..., RunningHub]) -> Iterator[Callable[..., RunningHub]]:
    """``live_hub(seeded=True, **settings)`` -> a hub with streams and webhooks on loopback."""

    def factory(seeded: bool = True, **overrides: Any) -> RunningHub:
        values: dict[str, Any] = {"webhook_allow_networks": "127.0.0.0/8",
                                  "stream_keepalive_seconds": 0.25}
        values.update(overrides)
        return make_hub(seeded=seeded, **values)

    yield factory
    Listener.close_all()
