"""Stage timings: how long each step of a request took (for ``Server-Timing`` and profiles)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Stages", "server_timing"]


class Stages(dict[str, float]):
    """stage name -> milliseconds spent in it (summed when a stage runs twice)."""

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self[name] = self.get(name, 0.0) + (time.perf_counter() - start) * 1000


def server_timing(stages: dict[str, float]) -> str:
    """The ``Server-Timing`` header value: ``build;dur=1.2, store;dur=3.4``."""
    return ", ".join(f"{name};dur={ms:.1f}" for name, ms in stages.items())
