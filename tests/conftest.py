"""Shared fixtures: every test that touches the database runs on SQLite and PostgreSQL.

PostgreSQL tests need ``BAYANIHAN_TEST_PG_URL`` (an admin-capable URL such as
``postgresql+psycopg://bayanihan:bayanihan@127.0.0.1:5432/postgres``); without it they
are skipped locally and fail under ``CI=true``. Each test gets its own database, made
from a migrated template. Servers run for real on loopback (uvicorn in a thread).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import uvicorn
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bayanihan.api.app import create_app
from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.model.members import OrgKind
from bayanihan.store import audit, keys
from bayanihan.store import organisations as orgs

IN_CI = os.environ.get("CI", "").lower() == "true"
# no property test may depend on the machine's speed (a loaded CI runner): no deadline
hypothesis.settings.register_profile("bayanihan", deadline=None)
hypothesis.settings.load_profile("bayanihan")
PG_URL = os.environ.get("BAYANIHAN_TEST_PG_URL", "")
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def need(component: str, present: bool) -> None:
    """Skip when a component is absent locally; fail in CI, where everything is installed."""
    if present:
        return
    if IN_CI:
        pytest.fail(f"{component} is required in CI (CI=true) but is not available")
    pytest.skip(f"{component} is not available here (with CI=true this fails instead)")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    need(f"the reference data at {SHARED_DATA}", SHARED_DATA.is_dir())
    return SHARED_DATA


# -- databases -------------------------------------------------------------------------
class PostgresDatabases:
    """Per-test databases cloned from one migrated template."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = make_url(admin_url)
        self.admin = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        self.template = f"bayanihan_tpl_{uuid.uuid4().hex[:8]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.template}"'))
        template_db = Hub(Settings(database_url=self.url_for(self.template))).db
        template_db.upgrade()
        template_db.close()

    def url_for(self, name: str) -> str:
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def create(self) -> tuple[str, str]:
        name = f"bayanihan_t_{uuid.uuid4().hex[:10]}"
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"'))
        return name, self.url_for(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        self.drop(self.template)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresDatabases | None]:
    if not PG_URL:
        yield None
        return
    pg = PostgresDatabases(PG_URL)
    yield pg
    pg.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 postgres: PostgresDatabases | None) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hub.db'}"
        return
    need("PostgreSQL (BAYANIHAN_TEST_PG_URL)", postgres is not None)
    assert postgres is not None
    name, url = postgres.create()
    yield url
    postgres.drop(name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, data_dir=str(tmp_path), key_cache_seconds=0.0)


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    the_hub = Hub(settings)
    the_hub.open()
    yield the_hub
    the_hub.close()


# -- organisations used across tests -----------------------------------------------------
#: (code, kind, parent): members TH, VN, SG… (all eleven), a partner, an observer, and
#: downstream organisations under TH (in a test's audience) and under VN (not).
EXTRA_ORGS: list[tuple[str, OrgKind, str | None]] = [
    ("JPCERT", OrgKind.PARTNER, None),
    ("OBS", OrgKind.OBSERVER, None),
    ("TH-BANK", OrgKind.DOWNSTREAM, "TH"),
    ("VN-SOC", OrgKind.DOWNSTREAM, "VN"),
]


def seed(hub: Hub) -> None:
    console = audit.Actor.console()
    hub.db.write_sync(orgs.seed_asean, console)
    for code, kind, parent in EXTRA_ORGS:
        hub.db.write_sync(orgs.add, console, code, f"{code} test organisation", kind, parent)


@dataclass
class RunningHub:
    """A hub served by uvicorn on loopback, with helpers to get keys and clients."""

    hub: Hub
    url: str
    _keys: dict[tuple[str, str], str] = field(default_factory=dict)
    _clients: list[httpx.Client] = field(default_factory=list)

    def key(self, org: str, role: str = "analyst") -> str:
        if (org, role) not in self._keys:
            key, _ = self.hub.db.write_sync(keys.create, audit.Actor.console(), org,
                                            keys.Role(role))
            self._keys[(org, role)] = key
        return self._keys[(org, role)]

    def client(self, org: str | None = None, role: str = "analyst", **kw: Any) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.key(org, role)}"} if org else {}
        c = httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)
        self._clients.append(c)
        return c

    def close(self) -> None:
        for c in self._clients:
            c.close()


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # running in a thread
        pass


def serve(hub: Hub) -> tuple[_Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(hub.settings, hub), log_level="warning", access_log=False,
                            lifespan="on")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def make_hub(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    """``make_hub(seeded=True, **settings)`` -> a hub served on loopback."""
    running: list[tuple[RunningHub, _Server, threading.Thread]] = []

    def factory(seeded: bool = True, **overrides: Any) -> RunningHub:
        the_hub = Hub(settings.replace(**overrides))
        the_hub.open()
        if seeded:
            seed(the_hub)
        server, thread, url = serve(the_hub)
        rh = RunningHub(the_hub, url)
        running.append((rh, server, thread))
        return rh

    yield factory
    for rh, server, thread in running:
        rh.close()
        server.should_exit = True
        thread.join(timeout=10)
        rh.hub.close()
