"""Backups of a hub's database, and restores that prove the audit chain survived.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies a consistent snapshot
while the hub keeps serving (WAL: readers and the writer are not stopped), into a file
created owner-only; the copy is checked with ``PRAGMA integrity_check``.
PostgreSQL: ``pg_dump --format=custom`` (one snapshot transaction), restored with
``pg_restore`` into an empty database.

Beside every backup ``FILE`` a manifest ``FILE.manifest.json`` records the dialect, the time,
the number of stored object versions and the audit head (``SEQ:HASH``) the snapshot holds.
A restore verifies the whole chain of the restored database *against that head*, so an
altered, deleted, reordered or cut-off entry fails the restore (exit status 1) instead of
yielding a hub that silently lost history. The head is also printed: keep it elsewhere
(a ticket, a log shipper), since a manifest stored next to the backup can be edited with it.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from bayanihan.errors import BayanihanError, InvalidInput
from bayanihan.store import audit
from bayanihan.store.database import owner_only_file
from bayanihan.store.schema import stix_objects

MANIFEST_SUFFIX = ".manifest.json"


class BackupFailed(BayanihanError):
    """A backup or restore that could not be completed or did not verify."""

    error = "backup-failed"


@dataclass(frozen=True)
class Manifest:
    dialect: str
    created: str
    objects: int
    audit_head: str  # "SEQ:HASH"; "0:" for an empty log

    def head(self) -> tuple[int, str] | None:
        seq, _, digest = self.audit_head.partition(":")
        return (int(seq), digest) if int(seq) else None


def manifest_path(file: Path) -> Path:
    return file.with_name(file.name + MANIFEST_SUFFIX)


def read_manifest(file: Path) -> Manifest | None:
    path = manifest_path(file)
    if not path.is_file():
        return None
    return Manifest(**json.loads(path.read_text()))


def _state(url: str | URL) -> tuple[int, str]:
    """(object versions, audit head) of a database; raises when its chain is broken."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            problem = audit.verify(conn)
            if problem:
                raise BackupFailed(f"audit entry {problem.seq} {problem.reason}", ["audit"])
            count = conn.execute(select(func.count()).select_from(stix_objects)).scalar_one()
            seq, digest = audit.head(conn)
    finally:
        engine.dispose()
    return int(count), f"{seq}:{digest if seq else ''}"


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise InvalidInput("SQLite backups need a file database (sqlite:///PATH)", ["database"])
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Online backup of ``source`` into a fresh owner-only ``target``."""
    for stale in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    owner_only_file(str(target))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=4096)  # steps of 16 MiB: the hub's writer waits at most one step
        dst.execute("PRAGMA journal_mode=DELETE")  # a backup is one self-contained file
        ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if ok != "ok":
        raise BackupFailed(f"the copy failed PRAGMA integrity_check: {ok}", ["backup"])


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore; the password goes by environment only."""
    args = ["--dbname", url.database or "postgres"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = {**os.environ, "PGCONNECT_TIMEOUT": "30"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupFailed(f"{name} is not installed (PostgreSQL client tools are needed)", [name])
    return found


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupFailed(f"{Path(cmd[0]).name} failed: {done.stderr.strip()[-500:]}", ["database"])


def backup(database_url: str, target: Path) -> Manifest:
    """Write a consistent copy of the hub's database to ``target`` (+ its manifest)."""
    url = make_url(database_url)
    dialect = url.get_backend_name()
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    if dialect == "sqlite":
        _sqlite_copy(_sqlite_path(url), target)
        count, head = _state(f"sqlite:///{target}")
    elif dialect == "postgresql":
        count, head = _state(database_url)  # a head taken before the snapshot is in it
        args, env = _libpq(url)
        target.unlink(missing_ok=True)
        _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
              "--file", str(target), *args], env)
        os.chmod(target, 0o600)
    else:
        raise InvalidInput(f"no backup method for {dialect} databases", ["database"])
    manifest = Manifest(dialect, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), count, head)
    path = manifest_path(target)
    path.write_text(json.dumps(asdict(manifest), indent=2) + "\n")
    os.chmod(path, 0o600)
    return manifest


def _pg_is_empty(database_url: str) -> bool:
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return not conn.execute(text(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()


def restore(source: Path, database_url: str, *, head: tuple[int, str] | None = None,
            force: bool = False) -> Manifest:
    """Restore ``source`` into ``database_url`` (which must be new or empty unless ``force``)
    and verify the audit chain against ``head`` (default: the manifest's). The hub must not
    be running on the target. Returns what the restored database holds."""
    if not source.is_file():
        raise InvalidInput(f"{source} does not exist", ["backup"])
    written = read_manifest(source)
    expected = head or (written.head() if written else None)
    url = make_url(database_url)
    dialect = url.get_backend_name()
    if written and written.dialect != dialect:
        raise InvalidInput(f"the backup is of a {written.dialect} database, the target is "
                           f"{dialect}", ["database"])
    if dialect == "sqlite":
        path = _sqlite_path(url)
        if path.exists() and path.stat().st_size and not force:
            raise InvalidInput(f"{path} exists; restore into a new file or pass --force",
                               ["database"])
        _sqlite_copy(source, path)
    elif dialect == "postgresql":
        if not _pg_is_empty(database_url) and not force:
            raise InvalidInput("the target database is not empty; create an empty one or pass "
                               "--force", ["database"])
        args, env = _libpq(url)
        clean = ["--clean", "--if-exists"] if force else []
        _run([_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
              *clean, *args, str(source)], env)
    else:
        raise InvalidInput(f"no restore method for {dialect} databases", ["database"])
    count, got_head = _state(database_url)
    if expected:
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            with engine.connect() as conn:
                problem = audit.verify(conn, expected)
        finally:
            engine.dispose()
        if problem:
            raise BackupFailed(f"the restored audit log does not verify: entry {problem.seq} "
                               f"{problem.reason}", ["audit"])
    return Manifest(dialect, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), count, got_head)
