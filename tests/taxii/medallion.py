"""Run the OASIS reference TAXII server (medallion, memory backend) on loopback for tests.

Credentials are made up per run (never medallion's documented defaults).
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

API_ROOT = "trustgroup1"
TAXII = "application/taxii+json;version=2.1"


@dataclass(frozen=True)
class Medallion:
    url: str
    collection_id: str
    user: str
    password: str

    @property
    def collection_url(self) -> str:
        return f"{self.url}/{API_ROOT}/collections/{self.collection_id}/"

    def client(self) -> httpx.Client:
        return httpx.Client(auth=(self.user, self.password), timeout=600,
                            headers={"Accept": TAXII})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def medallion(workdir: Path, page_size: int = 100,
              session_timeout: int = 30) -> Iterator[Medallion]:
    """A medallion process on loopback with one empty, writable collection.

    ``session_timeout``: seconds medallion keeps a ``next`` token, counted from the start of
    the request that made it (30 by default in medallion).
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    collection = str(uuid.uuid4())
    user, password = "sync-test", secrets.token_urlsafe(12)
    data = {
        "/discovery": {"title": "medallion under test", "default": f"{base}/{API_ROOT}/",
                       "api_roots": [f"{base}/{API_ROOT}/"]},
        API_ROOT: {
            "information": {"title": "test root", "versions": [TAXII],
                            "max_content_length": 100 * 1024 * 1024},
            "status": [],
            "collections": [{"id": collection, "title": "test", "can_read": True,
                             "can_write": True, "media_types": ["application/stix+json;version=2.1"],
                             "objects": [], "manifest": []}],
        },
    }
    (workdir / "medallion-data.json").write_text(json.dumps(data))
    config = {"backend": {"module_class": "MemoryBackend",
                          "module": "medallion.backends.memory_backend",
                          "filename": str(workdir / "medallion-data.json"),
                          "session_timeout": session_timeout},
              "users": {user: password}, "taxii": {"max_page_size": page_size}}
    (workdir / "medallion.json").write_text(json.dumps(config))
    proc = subprocess.Popen([sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1",
                             "--port", str(port), str(workdir / "medallion.json")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Medallion(base, collection, user, password)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/taxii2/", auth=(user, password),
                             headers={"Accept": TAXII}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("medallion did not start: " + proc.stderr.read().decode()[-2000:]
                                   if proc.stderr else "medallion did not start")
            time.sleep(0.1)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
