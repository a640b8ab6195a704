"""A Server-Sent Events subscriber on a thread (httpx streaming), for tests and benchmarks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
import orjson


@dataclass(frozen=True)
class Frame:
    id: int | None
    event: str
    data: dict[str, Any]
    received: float  # time.perf_counter() when the frame was complete


class Listener:
    """Reads ``GET /api/v1/stream`` until closed; frames land in ``frames`` in order."""

    opened: ClassVar[set[Listener]] = set()

    def __init__(self, base_url: str, key: str | None = None, params: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None,
                 on_frame: Callable[[Frame], None] | None = None) -> None:
        self.url = base_url + "/api/v1/stream"
        self.headers = dict(headers or {})
        if key:
            self.headers["Authorization"] = f"Bearer {key}"
        self.params = params or {}
        self.on_frame = on_frame
        self.frames: list[Frame] = []
        self.comments: list[str] = []
        self.status: int | None = None
        self.error: bytes = b""
        self.ready = threading.Event()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        Listener.opened.add(self)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self.ready.wait(10):
            raise RuntimeError("stream did not open")

    def _run(self) -> None:
        try:
            self._read()
        except (httpx.HTTPError, OSError, RuntimeError, ValueError):
            if not self._stop.is_set():
                raise
        finally:
            self.ready.set()

    def _read(self) -> None:
        timeout = httpx.Timeout(10, read=30)
        with httpx.Client(timeout=timeout) as client, client.stream(
                "GET", self.url, params=self.params, headers=self.headers) as response:
            self.status = response.status_code
            if response.status_code != 200:
                self.error = response.read()
                self.ready.set()
                return
            fields: dict[str, str] = {}
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    with self._cond:
                        self.comments.append(line[1:].strip())
                        self._cond.notify_all()
                    if line.startswith(": ready"):
                        self.ready.set()
                elif line == "":
                    if "data" in fields:
                        self._add(Frame(int(fields["id"]) if "id" in fields else None,
                                        fields.get("event", "message"),
                                        orjson.loads(fields["data"]), time.perf_counter()))
                    fields = {}
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value

    def _add(self, frame: Frame) -> None:
        with self._cond:
            self.frames.append(frame)
            self._cond.notify_all()
        if self.on_frame:
            self.on_frame(frame)

    def events(self) -> list[Frame]:
        return [f for f in self.frames if f.id is not None]

    def wait_for(self, predicate: Callable[[list[Frame]], bool], timeout: float = 10) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.frames), timeout)

    def wait_for_object(self, object_id: str, timeout: float = 10) -> bool:
        return self.wait_for(lambda fs: any(f.data.get("object_id") == object_id for f in fs),
                             timeout)

    def wait_closed(self, timeout: float = 10) -> None:
        """Wait until the server ends the stream (``follow=false``)."""
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the stream did not end"

    def stop(self) -> None:
        """Ask the reading thread to end (it notices at the next line or keep-alive)."""
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self._thread.join(timeout=5)
        Listener.opened.discard(self)

    @classmethod
    def close_all(cls) -> None:
        for listener in list(cls.opened):
            listener.stop()
        for listener in list(cls.opened):
            listener.close()


def read_stream(client: httpx.Client, ids: dict[str, str]) -> set[str]:
    """Policy-matrix read path: ``/api/v1/stream?after=0&follow=false`` -> cases seen."""
    r = client.get("/api/v1/stream", params={"after": 0, "follow": "false"})
    assert r.status_code == 200, r.text
    seen_ids = {orjson.loads(line[5:])["object_id"] for line in r.text.splitlines()
                if line.startswith("data:")}
    return {case for case, oid in ids.items() if oid in seen_ids}
