"""A webhook receiver on loopback that can refuse for a while, recording every request."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    accepted: bool


class Receiver:
    """``refuse_until`` (monotonic time) or ``refuse_all``: answer 503 instead of 204."""

    def __init__(self) -> None:
        self.requests: list[Delivery] = []
        self.refuse_until = 0.0
        self.refuse_all = False
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                ok = not receiver.refuse_all and time.monotonic() >= receiver.refuse_until
                self.send_response(204 if ok else 503)
                self.end_headers()
                with receiver._cond:
                    receiver.requests.append(Delivery(
                        {k.lower(): v for k, v in self.headers.items()}, body, ok))
                    receiver._cond.notify_all()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def accepted(self) -> list[Delivery]:
        with self._cond:
            return [d for d in self.requests if d.accepted]

    def wait_accepted(self, count: int, timeout: float = 15) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: sum(d.accepted for d in self.requests) >= count, timeout)

    def wait_requests(self, count: int, timeout: float = 15) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
