"""Waking the readers of the event log when new events are committed.

In one process a commit wakes the :class:`~bayanihan.share.stream.StreamHub` through
``Database.after_commit``. With PostgreSQL, processes also tell each other: right after
each write transaction that added events runs ``pg_notify`` on the channel
``bayanihan_events`` with nothing but the newest position (inside the transaction, just
before it commits: PostgreSQL sends it on commit, never for a rollback); a listener thread (its own
psycopg 3 connection, ``LISTEN``) in every process wakes that process's reader. The
payload is only a hint: readers always read the log itself, and poll it slowly too, so
a lost notification delays an event by at most the poll interval and never loses it.

With SQLite, other processes (the command line revoking a key, quarantining one) have no
NOTIFY; a watcher thread reads ``PRAGMA data_version`` every :data:`SQLITE_WATCH_SECONDS`
on its own connection. The number changes whenever another connection, in any process, has
committed; reading it touches only the shared-memory WAL index (a few microseconds, no
disk), so a revocation from another process ends its streams within about a quarter of a
second instead of at the reader's next safety poll.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import Protocol

import psycopg
from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url

from bayanihan.store.database import Database

log = logging.getLogger("bayanihan.notify")

CHANNEL = "bayanihan_events"
#: Seconds between two reads of SQLite's ``data_version`` (commits of other processes).
SQLITE_WATCH_SECONDS = 0.25
#: The select list runs only for the row that passes WHERE: no NOTIFY when nothing is new.
NOTIFY_SQL = ("SELECT m, pg_notify(%s, m::text) FROM (SELECT max(position) AS m FROM events) s "
              "WHERE m > %s")
Wake = Callable[[int | None], None]


class Notifier(Protocol):
    """Calls ``wake(position or None)`` whenever new events may be in the log."""

    def start(self, wake: Wake) -> None: ...

    def stop(self) -> None: ...


class LocalNotifier:
    """Wakes on commits of this process (SQLite, or PostgreSQL with one process)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._wake: Wake | None = None

    def _committed(self) -> None:
        if self._wake is not None:
            self._wake(None)

    def start(self, wake: Wake) -> None:
        self._wake = wake
        self.db.after_commit.append(self._committed)

    def stop(self) -> None:
        if self._committed in self.db.after_commit:
            self.db.after_commit.remove(self._committed)
        self._wake = None


class _WatchingNotifier(LocalNotifier):
    """Local wake-ups plus a thread that watches for other processes' commits: the
    thread's life (start, ready, stop) is here; :meth:`_run` is the watching."""

    thread_name = "bayanihan-watch"

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()  # set once watching (or once it has failed)

    def start(self, wake: Wake) -> None:
        super().start(wake)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        super().stop()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _deliver(self, position: int | None) -> None:
        if self._wake is not None:
            self._wake(position)

    def _run(self) -> None:
        raise NotImplementedError


class PostgresNotifier(_WatchingNotifier):
    """Local wake-ups plus LISTEN/NOTIFY between every process on the database."""

    thread_name = "bayanihan-pg-listen"

    def __init__(self, db: Database, retry_seconds: float = 1.0) -> None:
        super().__init__(db)
        self.conninfo = make_url(db.url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self.retry_seconds = retry_seconds
        self._sent = 0  # guarded by the write lock: commits happen one at a time

    def _before_commit(self, conn: Connection) -> None:
        """In the write transaction: NOTIFY the newest position if it moved (sent at commit)."""
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(NOTIFY_SQL, (CHANNEL, self._sent))
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is not None:
            self._sent = row[0]

    def start(self, wake: Wake) -> None:
        event.listen(self.db.write_engine, "commit", self._before_commit)
        super().start(wake)

    def stop(self) -> None:
        if event.contains(self.db.write_engine, "commit", self._before_commit):
            event.remove(self.db.write_engine, "commit", self._before_commit)
        super().stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    self._deliver(None)  # anything missed while (re)connecting
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=0.5):
                            self._deliver(int(note.payload) if note.payload.isdigit() else None)
            except Exception:
                if self._stop.is_set():
                    return
                log.warning("LISTEN connection lost; reconnecting", exc_info=True)
                self._ready.set()
                self._stop.wait(self.retry_seconds)


class SqliteNotifier(_WatchingNotifier):
    """Local wake-ups plus commits of other processes, seen through ``data_version``."""

    thread_name = "bayanihan-sqlite-watch"

    def __init__(self, db: Database, every: float = SQLITE_WATCH_SECONDS) -> None:
        super().__init__(db)
        self.path = make_url(db.url).database or ""
        self.every = every

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                       check_same_thread=False)
                try:
                    seen = conn.execute("PRAGMA data_version").fetchone()[0]
                    self._ready.set()
                    while not self._stop.wait(self.every):
                        now = conn.execute("PRAGMA data_version").fetchone()[0]
                        if now != seen:
                            seen = now
                            self._deliver(None)
                finally:
                    conn.close()
            except sqlite3.Error:
                log.warning("watching the SQLite file for other processes' commits failed; "
                            "retrying", exc_info=True)
                self._ready.set()
                self._stop.wait(1.0)


def notifier_for(db: Database) -> Notifier:
    return SqliteNotifier(db) if db.is_sqlite else PostgresNotifier(db)
