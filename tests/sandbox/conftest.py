"""Fixtures for sandbox tests: the real SMS sets, a loopback listener, the bad tool."""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
BAD_TOOL = HERE / "badtool.py"


@pytest.fixture(scope="session")
def sms_data(shared_data: Path) -> Path:
    """The real SMS sets (skip when absent, fail under CI=true: see ``shared_data``)."""
    return shared_data / "sms"


class Listener:
    """A TCP listener on 127.0.0.1 (host namespace) that counts accepted connections."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def bad_tool_cmd() -> str:
    return f"cmd:{sys.executable} {BAD_TOOL}"


@pytest.fixture
def http_tool() -> Iterator[str]:
    """A JSON Lines HTTP tool on loopback that answers 500 when a case says CRASH."""
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            cases = [json.loads(line) for line in body.splitlines()]
            if any("CRASH" in (c.get("text") or "") for c in cases):
                self.send_response(500)
                self.end_headers()
                return
            out = "".join(json.dumps({"id": c["id"], "label": "scam" if "http" in c["text"]
                                      else "ham", "score": 0.5}) + "\n" for c in cases)
            data = out.encode()
            self.send_response(200)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/classify"
    server.shutdown()
    server.server_close()


@pytest.fixture
def serve_app() -> Iterator[Callable[[Any], str]]:
    """Serve an ASGI app with uvicorn on loopback in a thread; returns its base URL."""
    import time

    import uvicorn

    class Server(uvicorn.Server):
        def install_signal_handlers(self) -> None:  # running in a thread
            pass

    servers: list[tuple[Server, threading.Thread]] = []

    def start(app: Any) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = Server(uvicorn.Config(app, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        servers.append((server, thread))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(10)
