"""``bayanihan backup`` / ``bayanihan restore`` on SQLite and PostgreSQL: a backup taken while
the hub serves writes, restored into a new database, serves the same objects and its audit
chain verifies; a tampered or cut-off backup fails the restore."""

from __future__ import annotations

import stat
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from bayanihan.cli.main import app
from bayanihan.config import Settings
from bayanihan.hub import Hub
from bayanihan.store import audit
from bayanihan.store.backup import read_manifest
from bayanihan.store.schema import audit_log, stix_objects
from tests.conftest import PostgresDatabases, RunningHub, serve
from tests.stixgen import bundle, indicator

runner = CliRunner()


@pytest.fixture
def empty_target(database_url: str, tmp_path: Path,
                 postgres: PostgresDatabases | None) -> Iterator[str]:
    """A new, empty database of the same kind as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'hub.db'}"
        return
    assert postgres is not None
    name = f"bayanihan_r_{uuid.uuid4().hex[:10]}"
    with postgres.admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres.url_for(name)
    postgres.drop(name)


def _objects(url: str) -> set[tuple[str, int, str]]:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = {(r.id, r.version, r.body) for r in conn.execute(
            select(stix_objects.c.id, stix_objects.c.version, stix_objects.c.body))}
    engine.dispose()
    return rows


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_a_restored_hub_serves_the_same_objects_and_its_chain_verifies(
        make_hub: Callable[..., RunningHub], database_url: str, empty_target: str,
        tmp_path: Path) -> None:
    running = make_hub()
    th = running.client("TH")
    sent = [indicator(i) for i in range(40)]
    assert th.post("/api/v1/objects", json=bundle(*sent[:20])).status_code == 200
    file = tmp_path / "backups" / "hub.backup"
    code, output = _cli("backup", str(file), "--database", database_url)  # the hub is serving
    assert code == 0, output
    assert th.post("/api/v1/objects", json=bundle(*sent[20:])).status_code == 200  # still serving
    manifest = read_manifest(file)
    assert manifest is not None and manifest.objects >= 20
    assert stat.S_IMODE(file.stat().st_mode) == 0o600  # RED bodies, webhook secrets
    code, output = _cli("restore", str(file), "--database", empty_target)
    assert code == 0, output
    assert "verified" in output
    restored = _objects(empty_target)
    assert {i for i, _, _ in restored} >= {o["id"] for o in sent[:20]}
    assert not {i for i, _, _ in restored} & {o["id"] for o in sent[20:]}  # after the backup
    assert restored <= _objects(database_url)  # byte for byte what the hub stored
    again = Hub(Settings(database_url=empty_target, data_dir=str(tmp_path / "restored"),
                         key_cache_seconds=0.0))
    again.open()  # migrations run on the restored copy as on any start
    server, thread, url = serve(again)
    try:
        back = RunningHub(again, url)
        reader = back.client("TH")  # keys made after the restore work
        for obj in sent[:20]:
            got = reader.get(f"/api/v1/objects/{obj['id']}")
            assert got.status_code == 200, got.text
            assert got.json()["versions"][0]["object"] == obj
        assert again.db.read_sync(audit.verify) is None
        back.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        again.close()


def _forge(url: str, seq: int) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.seq == seq).values(actor_org="XX"))
    engine.dispose()


def test_a_tampered_backup_fails_the_restore(
        make_hub: Callable[..., RunningHub], database_url: str, empty_target: str,
        tmp_path: Path) -> None:
    running = make_hub()
    assert running.client("TH").post("/api/v1/objects",
                                     json=bundle(indicator(1))).status_code == 200
    file = tmp_path / "hub.backup"
    assert _cli("backup", str(file), "--database", database_url)[0] == 0
    if database_url.startswith("sqlite"):  # alter one audit entry inside the backup file
        _forge(f"sqlite:///{file}", 2)
        code, output = _cli("restore", str(file), "--database", empty_target)
        assert code == 1, output
        assert "entry 2" in output and "altered" in output
    # a hub whose chain is already broken is not backed up as if it were sound
    _forge(database_url, 2)
    code, output = _cli("backup", str(tmp_path / "second.backup"), "--database", database_url)
    assert code == 2 and "entry 2" in output, output


def test_restore_refuses_a_database_that_is_not_empty(
        make_hub: Callable[..., RunningHub], database_url: str, tmp_path: Path) -> None:
    make_hub()
    file = tmp_path / "hub.backup"
    assert _cli("backup", str(file), "--database", database_url)[0] == 0
    code, output = _cli("restore", str(file), "--database", database_url)
    assert code == 2 and "--force" in output


def test_restore_checks_a_head_kept_elsewhere(
        make_hub: Callable[..., RunningHub], database_url: str, empty_target: str,
        tmp_path: Path) -> None:
    running = make_hub()
    assert running.client("TH").post("/api/v1/objects",
                                     json=bundle(indicator(2))).status_code == 200
    file = tmp_path / "hub.backup"
    assert _cli("backup", str(file), "--database", database_url)[0] == 0
    manifest = read_manifest(file)
    assert manifest is not None
    seq, digest = manifest.audit_head.split(":")
    later = f"{int(seq) + 5}:{digest}"  # a head the backup never reached: history cut off
    code, output = _cli("restore", str(file), "--database", empty_target, "--head", later)
    assert code == 1 and "recorded head" in output
