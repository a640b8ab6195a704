"""The one object that owns the database.

Handlers never touch a connection: they pass a function to :meth:`Database.read` or
:meth:`Database.write`. On SQLite every write runs on one writer thread inside
``BEGIN IMMEDIATE`` (SQLite allows one writer; queueing on purpose beats retrying on
``database is locked``), reads run concurrently on their own connections (WAL).
On PostgreSQL writes run on pooled connections from any thread or process; each write
transaction takes one advisory lock so that ``date_added`` and the audit chain keep a
single total order across every ``bayanihan serve`` process.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import NullPool

from bayanihan.store import migrate

T = TypeVar("T")

#: Advisory lock key that orders writes on PostgreSQL ("BAYANIHN" in ASCII).
WRITE_LOCK_KEY = 0x42_41_59_41_4E_49_48_4E
#: SQLite: every this many write transactions, see whether the store has grown enough since
#: the last ``ANALYZE`` (doubled, and by at least :data:`ANALYSE_MIN_GROWTH` versions) to
#: take the statistics again.
ANALYSE_CHECK_EVERY = 256
ANALYSE_MIN_GROWTH = 2000


def owner_only_file(path: str) -> None:
    """Create the SQLite file (and its folder) readable by the owner only, before SQLite
    opens it: SQLite gives ``-wal``, ``-shm`` and journals the main file's permissions,
    and the file holds RED bodies, webhook secrets and the TAXII paging secret."""
    file = Path(path)
    if not file.parent.exists():
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))


def _sqlite_engine(url: str, *, writer: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=1 if writer else 8,
        max_overflow=0 if writer else 16,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        # page cache per connection: 64 MiB for the one writer, 8 MiB for each of up to 24
        # pooled readers (the operating system caches the file for all of them); readers at
        # 64 MiB each let a busy server's memory climb for minutes under load (docs/benchmarks.md)
        cur.execute(f"PRAGMA cache_size={-65536 if writer else -8192}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.execute("PRAGMA wal_autocheckpoint=16384")  # 64 MiB: fewer, larger checkpoints
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")

    return engine


class Database:
    """Engine(s), the SQLite writer thread, and read/write entry points."""

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        self.is_sqlite = self.dialect == "sqlite"
        if self.is_sqlite:
            if parsed.database in (None, "", ":memory:"):
                raise ValueError("SQLite needs a file path: sqlite:///PATH (WAL needs a file)")
            owner_only_file(parsed.database)
            self.read_engine = _sqlite_engine(url, writer=False)
            self.write_engine = _sqlite_engine(url, writer=True)
            event.listen(self.read_engine, "checkout", self._fresh_statistics)
            self._writer: ThreadPoolExecutor | None = ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="sqlite-writer"
            )
        else:
            self.read_engine = self.write_engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True
            )
            self._writer = None
        self._closed = threading.Event()
        self._writes = 0
        self._analysed_at = 0  # object versions stored when statistics were last taken
        self._statistics = 0  # how many times they were taken (read connections follow)
        #: Called (with no arguments, on the writing thread) after every committed write:
        #: the real-time layer uses it to wake stream readers of the event log.
        self.after_commit: list[Callable[[], None]] = []

    # -- lifecycle -----------------------------------------------------------------
    def upgrade(self) -> None:
        """Create or upgrade the schema (Alembic, every feature branch)."""
        if self.is_sqlite:
            engine = create_engine(self.url, poolclass=NullPool)
            migrate.upgrade(engine)
            engine.dispose()
        else:
            migrate.upgrade(self.write_engine)

    def refresh_statistics(self) -> None:
        """SQLite: ``ANALYZE``, so the query planner knows how big each table and index is.

        Without statistics SQLite guesses, and at 100,000 reports it picked an index that made
        the overview's latest-reports and alerts queries scan every object version (overview
        p50 2.1 s; 13 ms after a full ``ANALYZE``, docs/benchmarks.md). A sampled one
        (``analysis_limit=400``) was tried and left the overview at 440 ms, so indexes are
        read whole: 0.2 s on a 243 MB hub, taken under the write lock at start and hourly.
        PostgreSQL's autovacuum keeps its own statistics: nothing to do there.
        """
        if self.is_sqlite:
            self.write_sync(self._analyse)

    def _analyse(self, conn: Connection) -> None:
        conn.exec_driver_sql("PRAGMA analysis_limit=0")  # whole indexes: see above
        conn.exec_driver_sql("ANALYZE")
        self._analysed_at = _stored_versions(conn)
        self._statistics += 1

    def _fresh_statistics(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        """A pooled read connection keeps the statistics it loaded when it opened: reload
        them (``ANALYZE sqlite_schema`` reads ``sqlite_stat1``, it does not re-analyse)
        when they were taken again since."""
        if record.info.get("statistics", 0) != self._statistics:
            dbapi_conn.execute("ANALYZE sqlite_schema")
            record.info["statistics"] = self._statistics

    def _analyse_if_grown(self) -> None:
        """On the writer thread: ``ANALYZE`` again once the store has doubled since the last
        time. A hub started empty otherwise keeps statistics of empty tables until the hourly
        refresh, and SQLite then answered ``id IN (…) AND is_latest`` by walking every latest
        object (a report's link step grew from 2 ms to 15 ms over its first 600 reports)."""
        with self.write_engine.begin() as conn:
            if _stored_versions(conn) >= max(2 * self._analysed_at,
                                             self._analysed_at + ANALYSE_MIN_GROWTH):
                self._analyse(conn)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()

    # -- synchronous API (CLI, writer thread, tests) ---------------------------------
    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        with self.read_engine.connect() as conn:
            try:
                return fn(conn, *args)
            finally:
                conn.rollback()

    def _write_now(self, fn: Callable[..., T], *args: Any) -> T:
        with self.write_engine.begin() as conn:
            if not self.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            result = fn(conn, *args)
        for callback in self.after_commit:
            callback()
        if self.is_sqlite:
            self._writes += 1
            if self._writes % ANALYSE_CHECK_EVERY == 0:
                self._analyse_if_grown()
        return result

    def write_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` in one write transaction; committed when it returns."""
        if self._writer is not None:
            return self._writer.submit(self._write_now, fn, *args).result()
        return self._write_now(fn, *args)

    # -- asynchronous API (request handlers) -----------------------------------------
    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(self.read_sync, fn, *args)

    async def write(self, fn: Callable[..., T], *args: Any) -> T:
        if self._writer is not None:
            return await asyncio.wrap_future(self._writer.submit(self._write_now, fn, *args))
        return await anyio.to_thread.run_sync(self._write_now, fn, *args)


def _stored_versions(conn: Connection) -> int:
    """Object versions stored so far (the largest key: one index step, not a count)."""
    return int(conn.exec_driver_sql("SELECT coalesce(max(pk), 0) FROM stix_objects")
               .scalar() or 0)
