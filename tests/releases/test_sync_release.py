"""``bayanihan sync pull`` from the OASIS reference TAXII server (medallion) holding ATT&CK
Mobile 17.1 objects, its marking-definition on the last page: the puller is SIGKILLed in the
middle, runs again, and nothing is lost, nothing doubled; a refused object is listed by
``sync status`` and tried again by ``sync pull --retry``. Medallion's memory backend takes
time quadratic in the collection (125 s a page at 2,148 objects, 3.4 s at 400 on the test
machine), so it holds the first 400 objects of the release; the whole release is pulled
from a second Bayanihan hub."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bayanihan.cli.sync import sync_app
from bayanihan.ingest.held import count_held
from bayanihan.model.tlp import TLP
from bayanihan.share.sync import Remote, pull, refusals
from bayanihan.store.schema import stix_objects
from bayanihan.store.tables_taxii import get_cursor
from tests.conftest import RunningHub
from tests.releases.conftest import compact, key, stored
from tests.stixgen import indicator
from tests.taxii.conftest import REGIONAL, TAXII
from tests.taxii.medallion import Medallion, medallion

MakeHub = Callable[..., RunningHub]
PAGE = 50
PASS_PAGES = 3  # the gate lets this many pages through, then holds the next request
MEDALLION_OBJECTS = 400


class Gate:
    """A loopback proxy in front of medallion that can hold a page request forever, so the
    puller can be killed at a known point (its previous page committed, the next not)."""

    def __init__(self, target: str, pass_pages: int | None) -> None:
        self.target = target
        self.pass_pages = pass_pages
        self.pages = 0
        self.holding = threading.Event()
        self.release = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        gate: Gate = self.server.gate  # type: ignore[attr-defined]
        if "/objects/" in self.path:
            gate.pages += 1
            if gate.pass_pages is not None and gate.pages > gate.pass_pages:
                gate.holding.set()
                gate.release.wait(600)
                self.send_error(503)
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "authorization")}
        r = httpx.get(gate.target + self.path, headers=headers, timeout=120)
        self.send_response(r.status_code)
        for name, value in r.headers.items():
            if name.lower() in ("content-type", "x-taxii-date-added-first",
                                "x-taxii-date-added-last"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(r.content)))
        self.end_headers()
        self.wfile.write(r.content)


@contextmanager
def gated(server: Medallion, pass_pages: int | None) -> Iterator[tuple[str, Gate]]:
    gate = Gate(server.url, pass_pages)
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    proxy.gate = gate  # type: ignore[attr-defined]
    proxy.daemon_threads = True
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        url = server.collection_url.replace(server.url, f"http://127.0.0.1:{proxy.server_port}")
        yield url, gate
    finally:
        gate.release.set()
        proxy.shutdown()
        proxy.server_close()


def post(server: Medallion, objects: list[dict[str, Any]]) -> None:
    with server.client() as client:
        r = client.post(server.collection_url + "objects/", headers={"Content-Type": TAXII},
                        content=orjson.dumps({"objects": objects}))
        assert r.status_code == 202, r.text[:300]
        assert r.json()["success_count"] == len(objects), r.text[:300]


def versions(hub: RunningHub) -> int:
    return int(hub.hub.db.read_sync(lambda conn: conn.execute(
        select(func.count()).select_from(stix_objects)).scalar()))


@pytest.mark.slow
def test_pull_attack_mobile_from_medallion_killed_midway(
        make_hub: MakeHub, tmp_path: Path, mobile: list[dict[str, Any]]) -> None:
    node = make_hub()
    database = node.hub.settings.database()
    before = stored(node.hub)
    red = indicator(900, tlp=TLP.RED)  # valid STIX; refused on pull: RED names no recipients
    definitions = [o for o in mobile if o["type"] in ("marking-definition", "identity")]
    rest = [o for o in mobile if o["type"] not in ("marking-definition", "identity")]
    rest = rest[:MEDALLION_OBJECTS - len(definitions)]
    sent = rest + definitions
    assert len(definitions) == 2 and len(rest) > PAGE * (PASS_PAGES + 2)
    with medallion(tmp_path, page_size=PAGE, session_timeout=3600) as server:
        post(server, [*rest, red])
        post(server, definitions)  # a later date_added: on the last page
        env = {**os.environ, "BAYANIHAN_SYNC_PASSWORD": server.password}
        with gated(server, PASS_PAGES) as (url, gate):
            args = ["sync", "pull", url, "--source-org", "JPCERT", "--user", server.user,
                    "--database", database, "--page-size", str(PAGE)]
            proc = subprocess.Popen([sys.executable, "-m", "bayanihan", *args], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                while not gate.holding.wait(0.2):  # the pull reaches the held page
                    assert proc.poll() is None, proc.stderr.read().decode()[-3000:]  # type: ignore[union-attr]
                proc.send_signal(signal.SIGKILL)
                proc.wait(30)
            finally:
                if proc.poll() is None:
                    proc.kill()
            assert proc.returncode == -signal.SIGKILL
            # killed: the pages before it are in, the cursor with them; nothing half-stored
            cursor = node.hub.db.read_sync(get_cursor, url, "pull")
            assert cursor is not None and cursor[1] == PASS_PAGES * PAGE
            assert node.hub.db.read_sync(count_held) == PASS_PAGES * PAGE  # all wait for
            assert stored(node.hub) == before  # MITRE's marking-definition, still to come
            gate.pass_pages = None  # the next run goes through
            runner = CliRunner()
            again = runner.invoke(sync_app, args[1:], env=env)
            assert again.exit_code == 0, again.output
            assert "1 rejected" in again.output
            got = stored(node.hub)
            want = {key(o): o for o in sent}
            # every object as medallion served it (medallion re-serialises with sorted keys)
            assert {k: orjson.loads(got[k]) for k in want} == want
            assert versions(node) == len(before) + len(sent)  # nothing doubled
            assert node.hub.db.read_sync(count_held) == 0
            refused = node.hub.db.read_sync(refusals)
            assert [(r.object_id, r.remote) for r in refused] == [(red["id"], url)]
            assert "TLP:RED" in refused[0].reason
            status = runner.invoke(sync_app, ["status", "--database", database])
            assert status.exit_code == 0, status.output
            assert red["id"][:20] in status.output and "1 refused" in status.output
            retried = runner.invoke(sync_app, [*args[1:], "--retry"], env=env)
            assert retried.exit_code == 0, retried.output
            assert "retry all remotes" not in retried.output and "1 rejected" in retried.output
            assert len(node.hub.db.read_sync(refusals)) == 1  # still refused, listed once
            assert versions(node) == len(before) + len(sent)


@pytest.mark.slow
def test_pull_the_whole_mobile_release_from_another_bayanihan_hub(
        second_database_url: str, make_hub: MakeHub, tmp_path: Path,
        mobile: list[dict[str, Any]]) -> None:
    # second_database_url first: fixtures end in reverse order, so the node stops first
    regional = make_hub()
    node = make_hub(database_url=second_database_url, data_dir=str(tmp_path / "node"))
    before = stored(node.hub)
    r = regional.client("TH").post("/api/v1/objects", content=orjson.dumps(mobile),
                                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == len(mobile), r.text[:300]
    remote = Remote(f"{regional.url}/taxii2/api/collections/{REGIONAL}/",
                    key=regional.key("VN", "reader"))
    first = pull(node.hub.db, remote, "JPCERT", page_size=500, max_pages=2)  # interrupted
    # the regional hub serves its TLP definitions and identities first, then the release,
    # whose objects wait for MITRE's marking-definition (last)
    assert first.objects == 1000 and first.held > 900 and first.rejected == 0
    assert node.hub.db.read_sync(count_held) == first.held
    rest = pull(node.hub.db, remote, "JPCERT", page_size=500)
    assert rest.rejected == 0 and node.hub.db.read_sync(count_held) == 0
    got = stored(node.hub)
    assert {k: got[k] for k in (key(o) for o in mobile)} == {key(o): compact(o) for o in mobile}
    ids = {o["id"] for o in mobile}
    assert sum(k.split("@")[0] in ids for k in got) == len(mobile)  # one version each
    assert set(before) <= set(got)  # (the regional hub's own identities come as versions)
    authors = node.hub.db.read_sync(lambda conn: {r.author_org for r in conn.execute(
        select(stix_objects.c.author_org).where(stix_objects.c.id.in_([o["id"] for o in mobile])))})
    assert authors == {"JPCERT"}  # MITRE is no hub organisation: the source organisation
